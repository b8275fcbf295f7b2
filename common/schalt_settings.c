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
//  Likewise the notifier's e-mail templates (-DSCHALT_TEMPLATE_DIR="...").
#ifndef SCHALT_TEMPLATE_DIR
#define SCHALT_TEMPLATE_DIR "/usr/share/schaltstelle/templates"
#endif
//  And the CURVE keys: a build in a checkout finds those deploy/up made in
//  its var/ (-DSCHALT_KEYS_DIR, -DSCHALT_SECRET_DIR), an installation in /etc.
#ifndef SCHALT_KEYS_DIR
#define SCHALT_KEYS_DIR "/etc/schaltstelle/keys"
#endif
#ifndef SCHALT_SECRET_DIR
#define SCHALT_SECRET_DIR "/etc/schaltstelle/secret"
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
     .help = "largest request a daemon accepts, in bytes, its four frames together; "
             "a bigger one, or one of more frames, is dropped unanswered"},
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
    {.path = "schaltstelle/token_keys",
     .type = SCHALT_SETTING_PATH,
     .fallback = "/etc/schaltstelle/token.keys",
     .help = "file of the keys that sign the links in e-mails (made by deploy/up; "
             "readable by its owner only): the first signs, all are accepted"},
    {.path = "schaltstelle/keys",
     .type = SCHALT_SETTING_PATH,
     .fallback = SCHALT_KEYS_DIR,
     .help = "folder of the public keys that may connect, one NAME.cert each with its name "
             "and role (schalt key create; docs/security.md); a daemon re-reads it on SIGHUP"},
    {.path = "schaltstelle/curve",
     .type = SCHALT_SETTING_ENUM,
     .fallback = "on",
     .choices = "on|off",
     .help = "off makes plain sockets that anyone may use: only for the benchmark's figures, "
             "and refused unless test_clock is settable"},
    {.path = "schaltstelle/audit_days",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "400",
     .min = 1,
     .max = 3650,
     .help = "days each daemon keeps the entries of its audit log (who changed what)"},
    {.path = "schaltstelle/test_clock",
     .type = SCHALT_SETTING_ENUM,
     .fallback = "off",
     .choices = "off|settable",
     .help = "for test configurations only: settable lets the clock.set command move the "
             "daemon's clock; deploy/up refuses to start daemons with it"},

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
    {.path = "scheduler/certificate",
     .type = SCHALT_SETTING_PATH,
     .fallback = SCHALT_SECRET_DIR "/scheduler.key",
     .help = "the scheduler's own key pair (its public half is scheduler.cert in the keys "
             "folder); readable by its owner only"},
    {.path = "scheduler/heartbeat",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "1000",
     .min = 50,
     .max = 60000,
     .help = "milliseconds between Redis health checks (and reconnect attempts)"},
    {.path = "scheduler/reminders/day_of_education",
     .type = SCHALT_SETTING_OFFSETS,
     .fallback = "7d 1d",
     .help = "when before each session of a day-of-education event its reminders go out "
             "(days keep the wall-clock time, hours are exact); an event may set its own"},
    {.path = "scheduler/reminders/meeting",
     .type = SCHALT_SETTING_OFFSETS,
     .fallback = "2d",
     .help = "when before a meeting its reminders go out"},
    {.path = "scheduler/reminders/counselling",
     .type = SCHALT_SETTING_OFFSETS,
     .fallback = "1d 2h",
     .help = "when before a counselling appointment its reminders go out"},
    {.path = "scheduler/reminders/other",
     .type = SCHALT_SETTING_OFFSETS,
     .fallback = "none",
     .help = "when before a session of an event of kind other its reminders go out "
             "(none: such events have no reminders, and may not set any)"},

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
    {.path = "registry/certificate",
     .type = SCHALT_SETTING_PATH,
     .fallback = SCHALT_SECRET_DIR "/registry.key",
     .help = "the registry's own key pair (its public half is registry.cert in the keys "
             "folder); readable by its owner only"},
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
    {.path = "notifier/certificate",
     .type = SCHALT_SETTING_PATH,
     .fallback = SCHALT_SECRET_DIR "/notifier.key",
     .help = "the notifier's own key pair (its public half is notifier.cert in the keys "
             "folder); readable by its owner only"},
    {.path = "notifier/heartbeat",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "1000",
     .min = 50,
     .max = 60000,
     .help = "milliseconds between Redis health checks (and reconnect attempts)"},
    {.path = "notifier/smtp/host",
     .type = SCHALT_SETTING_STRING,
     .fallback = "127.0.0.1",
     .max = 255,
     .help = "host name or address of the SMTP relay that the notifier hands every e-mail to"},
    {.path = "notifier/smtp/port",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "2525",
     .min = 1,
     .max = 65535,
     .help = "TCP port of the SMTP relay (25 or 587 for a real one)"},
    {.path = "notifier/smtp/starttls",
     .type = SCHALT_SETTING_ENUM,
     .fallback = "opportunistic",
     .choices = "none|opportunistic|required",
     .help = "STARTTLS: never, when the relay offers it (any certificate), or always "
             "(a certificate the system trusts, else no delivery)"},
    {.path = "notifier/smtp/auth_file",
     .type = SCHALT_SETTING_PATH,
     .fallback = "none",
     .help = "file holding the relay's user name and password (two lines), "
             "or none for no SMTP AUTH"},
    {.path = "notifier/smtp/timeout",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "30000",
     .min = 100,
     .max = 600000,
     .help = "milliseconds the notifier waits for each reply of the SMTP relay"},
    {.path = "notifier/from/address",
     .type = SCHALT_SETTING_STRING,
     .fallback = "bildungsbuero@example.org",
     .max = 254,
     .help = "sender address of every e-mail; its domain also names each Message-ID"},
    {.path = "notifier/from/name",
     .type = SCHALT_SETTING_STRING,
     .fallback = "Bildungsbüro",
     .max = 200,
     .help = "sender name shown with the sender address"},
    {.path = "notifier/office/contact",
     .type = SCHALT_SETTING_STRING,
     .fallback = "Bildungsbüro, Tel. 02238 808-0, bildungsbuero@example.org",
     .max = 500,
     .help = "one line of the office's contact details, {{office_contact}} in templates"},
    {.path = "notifier/templates",
     .type = SCHALT_SETTING_PATH,
     .fallback = SCHALT_TEMPLATE_DIR,
     .help = "folder of the e-mail templates: <language>/<template>.txt"},
    {.path = "notifier/batch",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "50",
     .min = 1,
     .max = 1000,
     .help = "most e-mails handed to the SMTP relay in one session"},
    {.path = "notifier/retry/first",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "60",
     .min = 1,
     .max = 3600,
     .help = "seconds before the first retry of a deferred e-mail; each further wait "
             "doubles, up to an hour"},
    {.path = "notifier/retry/give_up",
     .type = SCHALT_SETTING_INTEGER,
     .fallback = "172800",
     .min = 60,
     .max = 2592000,
     .help = "seconds after which an e-mail the relay keeps deferring is given up as failed"},

    //  The web front (the pages behind the links in e-mails)
    {.path = "web/base_url",
     .type = SCHALT_SETTING_STRING,
     .fallback = "http://127.0.0.1:8080",
     .max = 200,
     .help = "address of the web front as people's browsers reach it (http:// or "
             "https://, no trailing /): the start of every link in an e-mail"},

    //  The schalt command-line client
    {.path = "cli/key",
     .type = SCHALT_SETTING_PATH,
     .fallback = SCHALT_SECRET_DIR "/admin.key",
     .help = "the key pair schalt uses (schalt key create NAME --role ROLE makes one); "
             "the daemons know it by its public half in the keys folder"},
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
