/* commands.h: the subcommands of the central program `vigia`.
 * Each returns the process exit status (see docs/exit-status in vigia(1)):
 *   0 success, 1 usage error, 2 input was bad (some files or packets were
 *   skipped), 3 fatal error (nothing useful was produced). */
#ifndef VIGIA_COMMANDS_H
#define VIGIA_COMMANDS_H

enum vg_exit {
	VG_EXIT_OK = 0,
	VG_EXIT_USAGE = 1,
	VG_EXIT_BADINPUT = 2,
	VG_EXIT_FATAL = 3,
};

int cmd_analyze(int argc, char **argv);
int cmd_fingerprint(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_collect(int argc, char **argv);
/* Returns the Nagios plug-in status (0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN). */
int cmd_status(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_summary(int argc, char **argv);

int cmd_incidents(int argc, char **argv);  /* issue 8 */
int cmd_export(int argc, char **argv);     /* issue 8 */
int cmd_notify(int argc, char **argv);     /* issue 8 */
int cmd_check_config(int argc, char **argv);  /* issue 10 */

int cmd_watch(int argc, char **argv);      /* issue 9 */

#endif
