/*  schalt-web - the web front's daemon: reads the configuration, starts the
    web server (web.c) and stops it on SIGINT or SIGTERM.
*/
#include "web.h"

#include <signal.h>

int
main (int argc, char **argv)
{
    const char *filename = NULL;
    for (int index = 1; index < argc; index++) {
        if (streq (argv[index], "-c") && index + 1 < argc)
            filename = argv[++index];
        else if (streq (argv[index], "--version")) {
            printf ("schalt-web %s\n", SCHALT_VERSION);
            return 0;
        } else {
            fprintf (stderr, "usage: schalt-web [-c FILE]\n"
                             "  -c FILE   configuration file (default: $SCHALT_CONFIG, else\n"
                             "            /etc/schaltstelle/schaltstelle.cfg if it exists)\n");
            return streq (argv[index], "--help") || streq (argv[index], "-h") ? 0 : 2;
        }
    }
    schalt_config_t *config =
        schalt_config_new (filename ? filename : schalt_config_default_file (), stderr);
    if (!config)
        return 1;
    signal (SIGPIPE, SIG_IGN);
    schalt_log_start ("web");
    schalt_log_set_level (schalt_config_string (config, "schaltstelle/log_level"));
    web_t *web = web_new (config);
    int status = web ? 0 : 1;
    while (web && !zsys_interrupted)
        zclock_sleep (200);
    web_destroy (&web);
    schalt_config_destroy (&config);
    schalt_log_stop ();
    return status;
}
