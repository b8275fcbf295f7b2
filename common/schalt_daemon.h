/*  schalt_daemon - the main() of every daemon, so each main.c is one line of wiring.

    It reads `-c FILE` (else $SCHALT_CONFIG, else /etc/schaltstelle/schaltstelle.cfg
    if it exists, else the built-in defaults), checks the whole configuration,
    starts logging, ignores SIGPIPE, runs the service's server actor until
    SIGINT or SIGTERM, and stops it cleanly.
*/
#ifndef SCHALT_DAEMON_H_INCLUDED
#define SCHALT_DAEMON_H_INCLUDED

#include "schalt_server.h"

//  Returns the process's exit code: 0 after a clean stop, 1 if the
//  configuration or the start failed, 2 for a usage error.
int schalt_daemon_main (int argc, char **argv, const schalt_service_t *service);

#endif
