/*  schalt-registry - the daemon that owns people's registrations and waitlists.
    Wiring only: the work is in registry.c and lua/, the keys in lua/common.lua.
*/
#include "registry.h"

int
main (int argc, char **argv)
{
    return schalt_daemon_main (argc, argv, &registry_service);
}
