#!/bin/bash
# Issue 10: the sample configuration shipped in etc/ loads (so it never
# rots), names the sensors and members it declares, and the same check
# refuses a broken copy with the file and line at fault.
source "$(dirname "$0")/lib.sh"
SAMPLE=$S/etc/vigia.conf.sample
out=$("$VIGIA" check-config --config "$SAMPLE" 2>&1) && ok "etc/vigia.conf.sample loads" ||
	fail "etc/vigia.conf.sample does not load: $out"
echo "$out"
want_sensors=$(grep -c '^sensor ' "$SAMPLE")
want_members=$(grep -c '^member ' "$SAMPLE")
echo "$out" | grep -q "$want_sensors sensor(s)" && ok "$want_sensors sensors reported" ||
	fail "expected $want_sensors sensors"
echo "$out" | grep -q "$want_members member(s)" && ok "$want_members members reported" ||
	fail "expected $want_members members"
for s in $(awk '$1 == "sensor" {print $2}' "$SAMPLE"); do
	echo "$out" | grep -q "^sensor $s " && ok "sensor $s listed" || fail "sensor $s not listed"
done

# a broken copy: an out-of-range port on a known line
line=$(grep -n '^  port ' "$SAMPLE" | head -1 | cut -d: -f1)
sed "${line}s/port .*/port 70000/" "$SAMPLE" > "$T/broken.conf"
rc=0
err=$("$VIGIA" check-config --config "$T/broken.conf" 2>&1) || rc=$?
[ $rc -eq 2 ] && ok "a broken copy exits 2" || fail "broken copy: exit status $rc"
echo "$err" | grep -q "broken.conf:$line:" && ok "the error names the line ($line): $err" ||
	fail "the error does not name line $line: $err"
finish
