/*  schalt_daemon - the main() of every daemon. See schalt_daemon.h. */
#include "schalt_daemon.h"
#include "schalt_log.h"

#include <signal.h>

//  Prints the usage line of the daemon to out.
static void
s_usage (FILE *out, const char *name)
{
    fprintf (
        out,
        "usage: schalt-%s [-c FILE]\n"
        "  -c FILE   configuration file (default: $SCHALT_CONFIG, else\n"
        "            /etc/schaltstelle/schaltstelle.cfg if it exists, else built-in defaults)\n"
        "  --version print the version\n"
        "Settings: docs/configuration.md; every setting can be overridden by SCHALT_<PATH>.\n",
        name);
}

int
schalt_daemon_main (int argc, char **argv, const schalt_service_t *service)
{
    const char *filename = NULL;
    for (int index = 1; index < argc; index++) {
        if (streq (argv[index], "-c") && index + 1 < argc)
            filename = argv[++index];
        else if (streq (argv[index], "--help") || streq (argv[index], "-h")) {
            s_usage (stdout, service->name);
            return 0;
        } else if (streq (argv[index], "--version")) {
            printf ("schalt-%s %s\n", service->name, SCHALT_VERSION);
            return 0;
        } else {
            s_usage (stderr, service->name);
            return 2;
        }
    }
    if (!filename)
        filename = schalt_config_default_file ();

    schalt_config_t *config = schalt_config_new (filename, stderr);
    if (!config)
        return 1;
    signal (SIGPIPE, SIG_IGN);
    schalt_log_start (service->name);
    schalt_log_set_level (schalt_config_string (config, "schaltstelle/log_level"));

    schalt_server_args_t args = {service, config, -1};
    zactor_t *server = zactor_new (schalt_server_actor, &args);
    int status = 1;
    if (server && args.started == 0) {
        status = 0;
        //  Wait for SIGINT or SIGTERM (zsys catches both); the actor keeps
        //  serving until it gets $TERM, then stops after the batch in hand.
        zpoller_t *poller = zpoller_new (server, NULL);
        while (!zsys_interrupted) {
            if (zpoller_wait (poller, 1000) == server) {
                schalt_log_error ("daemon: server actor ended service=%s", service->name);
                status = 1;
                break;
            }
        }
        zpoller_destroy (&poller);
    }
    zactor_destroy (&server);
    schalt_config_destroy (&config);
    schalt_log_stop ();
    return status;
}
