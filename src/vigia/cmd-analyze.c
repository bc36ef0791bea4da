#include "commands.h"
/* placeholder: being written */
int cmd_analyze(int argc, char **argv) { (void)argc; (void)argv; return VG_EXIT_FATAL; }
