/*  schalt-registry - the daemon that owns people's registrations and waitlists.
    Wiring only: the work is in registry.c, the keys in registry_store.c.
*/
#include "registry.h"

int
main (int argc, char **argv)
{
    return schalt_daemon_main (argc, argv, &registry_service);
}
