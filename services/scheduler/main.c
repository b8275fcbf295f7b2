/*  schalt-scheduler - the daemon that owns events, sessions and rooms.
    Wiring only: the work is in scheduler.c and lua/, the keys in lua/common.lua.
*/
#include "scheduler.h"

int
main (int argc, char **argv)
{
    return schalt_daemon_main (argc, argv, &scheduler_service);
}
