/*  schalt-scheduler - the daemon that owns events, sessions and rooms.
    Wiring only: the work is in scheduler.c, the keys in scheduler_store.c.
*/
#include "scheduler.h"

int
main (int argc, char **argv)
{
    return schalt_daemon_main (argc, argv, &scheduler_service);
}
