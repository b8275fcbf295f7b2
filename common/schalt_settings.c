/*  schalt_settings - the one table of every setting of every Schaltstelle program.

    Each row is a path in the configuration file (sections joined with '/'),
    its type, its default (as text), its bounds or choices and one line of
    help. schalt_config checks every file and environment value against this
    table, checks the defaults themselves when it loads, and prints the table
    as the reference in docs/configuration.md.

    To add a setting, add a row (keep rows of one section together) and then
    regenerate docs/configuration.md and deploy/schaltstelle.cfg.example.
    Paths use only a-z, 0-9, '_' and '/', so that every setting has an
    environment variable (SCHALT_ + the path in upper case, '/' as '_').
*/
#include "schalt_config.h"

//  The build points this at the schemas/ folder (-DSCHALT_SCHEMA_DIR="...");
//  an installation without that define finds them where Debian would put them.
#ifndef SCHALT_SCHEMA_DIR
#define SCHALT_SCHEMA_DIR "/usr/share/schaltstelle/schemas"
#endif

const schalt_setting_t schalt_settings[] = {
    //  Settings that every program shares
    {.path = "schaltstelle/timezone",
     .type = SCHALT_SETTING_TIMEZONE,
     .fallback = "Europe/Berlin",
     .help = "zone of every wall-clock time people type or read (instants are stored in UTC)"},
    {.path = "schaltstelle/schemas",
     .type = SCHALT_SETTING_PATH,
     .fallback = SCHALT_SCHEMA_DIR,
     .help = "folder of the JSON Schemas that every inbound message is checked against"},
    {.path = "schaltstelle/max_message_size",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "262144",
     .min = 1024,
     .max = 16777216,
     .help = "largest request a daemon accepts, in bytes (ZMQ_MAXMSGSIZE); "
             "a bigger one disconnects that peer"},
    {.path = "schaltstelle/request_ttl",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "604800",
     .min = 60,
     .max = 31536000,
     .help = "seconds a request id and its reply are remembered, so that a retry "
             "gets the first reply"},
    {.path = "schaltstelle/log_level",
     .type = SCHALT_SETTING_ENUM,
     .fallback = "info",
     .choices = "error|warning|notice|info|debug",
     .help = "least severe log message that is still written"},

    //  The scheduler daemon
    {.path = "scheduler/endpoint",
     .type = SCHALT_SETTING_ENDPOINT,
     .fallback = "tcp://127.0.0.1:7310",
     .help = "ROUTER socket where the scheduler takes requests"},
    {.path = "scheduler/events",
     .type = SCHALT_SETTING_ENDPOINT,
     .fallback = "tcp://127.0.0.1:7311",
     .help = "PUB socket where the scheduler publishes events and logs"},
    {.path = "scheduler/redis/host",
     .type = SCHALT_SETTING_STRING,
     .fallback = "127.0.0.1",
     .max = 255,
     .help = "host name or address of the scheduler's Redis"},
    {.path = "scheduler/redis/port",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "7379",
     .min = 1,
     .max = 65535,
     .help = "TCP port of the scheduler's Redis"},
    {.path = "scheduler/redis/timeout",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "1000",
     .min = 10,
     .max = 60000,
     .help = "milliseconds allowed for connecting to Redis and for each command"},
    {.path = "scheduler/heartbeat",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "1000",
     .min = 50,
     .max = 60000,
     .help = "milliseconds between Redis health checks (and reconnect attempts)"},

    //  The registry daemon (people, registrations, waitlists)
    {.path = "registry/endpoint",
     .type = SCHALT_SETTING_ENDPOINT,
     .fallback = "tcp://127.0.0.1:7320",
     .help = "ROUTER socket where the registry takes requests (and other daemons deliver)"},
    {.path = "registry/events",
     .type = SCHALT_SETTING_ENDPOINT,
     .fallback = "tcp://127.0.0.1:7321",
     .help = "PUB socket where the registry publishes events and logs"},
    {.path = "registry/redis/host",
     .type = SCHALT_SETTING_STRING,
     .fallback = "127.0.0.1",
     .max = 255,
     .help = "host name or address of the registry's Redis"},
    {.path = "registry/redis/port",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "7379",
     .min = 1,
     .max = 65535,
     .help = "TCP port of the registry's Redis"},
    {.path = "registry/redis/timeout",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "1000",
     .min = 10,
     .max = 60000,
     .help = "milliseconds allowed for connecting to Redis and for each command"},
    {.path = "registry/heartbeat",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "1000",
     .min = 50,
     .max = 60000,
     .help = "milliseconds between Redis health checks (and reconnect attempts)"},

    //  The notifier daemon (e-mail)
    {.path = "notifier/endpoint",
     .type = SCHALT_SETTING_ENDPOINT,
     .fallback = "tcp://127.0.0.1:7330",
     .help = "ROUTER socket where the notifier takes requests (and other daemons deliver)"},
    {.path = "notifier/events",
     .type = SCHALT_SETTING_ENDPOINT,
     .fallback = "tcp://127.0.0.1:7331",
     .help = "PUB socket where the notifier publishes events and logs"},
    {.path = "notifier/redis/host",
     .type = SCHALT_SETTING_STRING,
     .fallback = "127.0.0.1",
     .max = 255,
     .help = "host name or address of the notifier's Redis"},
    {.path = "notifier/redis/port",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "7379",
     .min = 1,
     .max = 65535,
     .help = "TCP port of the notifier's Redis"},
    {.path = "notifier/redis/timeout",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "1000",
     .min = 10,
     .max = 60000,
     .help = "milliseconds allowed for connecting to Redis and for each command"},
    {.path = "notifier/heartbeat",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "1000",
     .min = 50,
     .max = 60000,
     .help = "milliseconds between Redis health checks (and reconnect attempts)"},

    //  The schalt command-line client
    {.path = "cli/timeout",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "2000",
     .min = 100,
     .max = 600000,
     .help = "milliseconds the client waits for a reply before it sends the request again"},
    {.path = "cli/retries",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "3",
     .min = 1,
     .max = 100,
     .help = "how many times the client sends a request (same id) before it gives up "
             "(exit status 3)"},

    //  End of the table
    {.path = NULL}};
