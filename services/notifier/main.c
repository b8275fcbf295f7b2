/*  schalt-notifier - the daemon that turns notices into e-mails.
    Wiring only: the work is in notifier.c, the keys in notifier_store.c.
*/
#include "notifier.h"

int
main (int argc, char **argv)
{
    return schalt_daemon_main (argc, argv, &notifier_service);
}
