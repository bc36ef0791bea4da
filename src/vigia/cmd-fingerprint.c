#include "commands.h"
/* placeholder: being written */
int cmd_fingerprint(int argc, char **argv) { (void)argc; (void)argv; return VG_EXIT_FATAL; }
