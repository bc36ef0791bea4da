/* vigia-test-db-top: the database's top 10 of every analyze view, as JSON
 * shaped like `vigia analyze --json`'s .categories[].top, for the golden
 * tests to compare (db_top of src/lib/db.h).
 *
 *   vigia-test-db-top DB [FROM TO [SENSOR_ID]]     (epoch seconds) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "an-report.h"
#include "db.h"

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s DB [FROM TO [SENSOR_ID]]\n", argv[0]);
		return 1;
	}
	struct db_range r = {INT64_MIN, INT64_MAX, 0};
	if (argc >= 4) {
		r.from = strtoll(argv[2], NULL, 10);
		r.to = strtoll(argv[3], NULL, 10);
	}
	if (argc == 5)
		r.sensor_id = (uint32_t)strtoul(argv[4], NULL, 10);
	struct db *db;
	struct vg_err err = {0};
	if (db_open(&db, argv[1], &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 3;
	}
	printf("{");
	for (size_t v = 0; v < an_nviews; v++) {
		const struct an_view *view = &an_views[v];
		struct db_top t;
		if (db_top(db, &r, (enum db_category)view->cat, view->os_filter, view->measure,
			   AN_TOP_N, &t, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			db_close(db);
			return 3;
		}
		printf("%s\"%s\":[", v ? "," : "", view->name);
		for (size_t i = 0; i <= t.n; i++) {
			const struct db_top_entry *e = i < t.n ? &t.e[i] : &t.others;
			/* keys are ports, country codes and p0f labels: no quotes
			 * or backslashes to escape */
			printf("%s{\"key\":\"%s\",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
			       i ? "," : "", e->key, e->packets, e->bytes);
		}
		printf("]");
	}
	printf("}\n");
	db_close(db);
	return 0;
}
