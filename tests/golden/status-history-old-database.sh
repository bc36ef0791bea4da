#!/bin/bash
# health_check is a migration of the database (schema version 6); before
# it, `vigia status` created the table by itself.  Databases of that time
# must upgrade with their rows: one that only status ever wrote (schema
# version 0), and one of schema version 5 whose health_check status made.
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 not installed"; exit 77; }
HC_VERSION=6
mkdir -p "$T/archive"
conf() { printf 'archive %s\ndatabase %s\n' "$T/archive" "$1" > "$T/vigia.conf"; }
# The exact statements the old `vigia status` ran on every open.
OLD_DDL="CREATE TABLE IF NOT EXISTS health_check ( time REAL NOT NULL, sensor TEXT NOT NULL,
 check_name TEXT NOT NULL, state INTEGER NOT NULL, value REAL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS health_check_by_sensor ON health_check(sensor, check_name, time);"
ROWS="INSERT INTO health_check VALUES (1700000000, 's1', 'sensord', 0, NULL, 'running');
INSERT INTO health_check VALUES (1700000300, 's1', 'sensord', 2, NULL, 'not running');
INSERT INTO health_check VALUES (1700000300, 's2', 'disk', 1, 85.5, 'spool 85% full');"
history_ok() { # DB LABEL: the old rows come back as changes of state
	"$VIGIA" status --history --config "$T/vigia.conf" > "$T/hist" 2> "$T/err" ||
		{ fail "$2: --history failed: $(cat "$T/err")"; return; }
	grep -qE '^2023-11-14T22:13:20Z +s1 +sensord +OK +running$' "$T/hist" &&
	grep -qE '^2023-11-14T22:18:20Z +s1 +sensord +OK -> CRIT +not running$' "$T/hist" &&
	grep -qE '^2023-11-14T22:18:20Z +s2 +disk +WARN +spool 85% full$' "$T/hist" &&
		ok "$2: history lists the stored checks" || { fail "$2: history"; cat "$T/hist" "$T/err"; }
}
latest=

# 1. A database only the old status wrote: no vigia schema at all.
conf "$T/status-only.db"
sqlite3 "$T/status-only.db" "$OLD_DDL $ROWS"
history_ok "$T/status-only.db" "status-only database"
latest=$(sqlite3 "$T/status-only.db" 'PRAGMA user_version')
[ "$latest" -ge "$HC_VERSION" ] && ok "status-only database migrated to version $latest" ||
	fail "status-only database left at version $latest"
n=$(sqlite3 "$T/status-only.db" 'SELECT count(*) FROM health_check')
[ "$n" = 3 ] && ok "its 3 rows kept" || fail "$n rows, expected 3"
n=$(sqlite3 "$T/status-only.db" "SELECT count(*) FROM sqlite_master WHERE name IN ('meta', 'bin', 'ew_alert')")
[ "$n" = 3 ] && ok "the rest of the schema created" || fail "$n of meta, bin, ew_alert exist"
"$VIGIA" ingest --config "$T/vigia.conf" --no-p0f --quiet 2> "$T/err" &&
	ok "ingest opens it afterwards" || fail "ingest on the upgraded database: $(cat "$T/err")"

# 2. A database of the version before health_check's migration, made as
# the previous vigia left it: every table but health_check.  Only while
# that migration is the last one can this database be built by removing
# it from a new one (a later migration would run again on its tables).
if [ "$latest" -ne "$HC_VERSION" ]; then
	echo "SKIP part 2: migrations after version $HC_VERSION; build a version $((HC_VERSION - 1)) database another way"
else
	conf "$T/v5.db"
	"$VIGIA" status --history --config "$T/vigia.conf" > /dev/null || fail "creating a new database"
	sqlite3 "$T/v5.db" "DROP TABLE health_check; PRAGMA user_version = $((HC_VERSION - 1));"
	cp "$T/v5.db" "$T/v5-never-status.db"
	# 2a. status had stored checks in it
	sqlite3 "$T/v5.db" "$OLD_DDL $ROWS"
	history_ok "$T/v5.db" "version $((HC_VERSION - 1)) database with health_check"
	v=$(sqlite3 "$T/v5.db" 'PRAGMA user_version')
	[ "$v" = "$HC_VERSION" ] && ok "it moved to version $v" || fail "it is at version $v"
	n=$(sqlite3 "$T/v5.db" 'SELECT count(*) FROM health_check')
	[ "$n" = 3 ] && ok "its 3 rows kept" || fail "$n rows, expected 3"
	# 2b. status had never run on it: the table and its index appear
	conf "$T/v5-never-status.db"
	"$VIGIA" status --history --config "$T/vigia.conf" > "$T/hist" || fail "--history on a version 5 database"
	n=$(sqlite3 "$T/v5-never-status.db" "SELECT count(*) FROM sqlite_master WHERE name IN ('health_check', 'health_check_by_sensor')")
	v=$(sqlite3 "$T/v5-never-status.db" 'PRAGMA user_version')
	[ "$n" = 2 ] && [ "$v" = "$HC_VERSION" ] && ok "health_check and its index created, version $v" ||
		fail "$n of health_check and its index, version $v"
	[ "$(wc -l < "$T/hist")" = 1 ] && ok "empty history" || { fail "history not empty"; cat "$T/hist"; }
fi
finish
