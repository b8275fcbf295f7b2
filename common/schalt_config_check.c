/*  schalt_config_check - checking one configuration value against its row.

    Every value, whether a default, from the file or from the environment,
    passes schalt_config_check before it is taken: no value may be empty or
    hold a control character, and each type of setting (integer, string,
    enum, endpoint, time zone, path) has its own rule. A failed check returns
    a message that names the rule, for the loader to report with the path.
*/

#include "schalt_config_internal.h"
#include "schalt_offsets.h"
#include "schalt_text.h"

#include <czmq.h>
#include <libical/ical.h>

#include <ctype.h>
#include <errno.h>

//  The longest ipc:// path libzmq accepts (sizeof sun_path - 1)
#define SCHALT_CONFIG_IPC_MAX 107

//  Returns true if text has a control character (which no setting allows).
static bool
s_has_control (const char *text)
{
    for (const unsigned char *scan = (const unsigned char *)text; *scan; scan++)
        if (*scan < 0x20 || *scan == 0x7f)
            return true;
    return false;
}

//  Writes the choices "a|b|c" as "a, b, c", each between quote marks, into
//  buffer; returns buffer.
char *
schalt_config_choices (const char *choices, const char *quote, char *buffer, size_t size)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (const char *choice = choices; *choice && used < size;) {
        size_t length = strcspn (choice, "|");
        used += (size_t)snprintf (buffer + used, size - used, "%s%s%.*s%s", used ? ", " : "", quote,
                                  (int)length, choice, quote);
        choice += length + (choice[length] == '|');
    }
    return buffer;
}

//  Returns NULL if value is a tcp://, ipc:// or inproc:// endpoint, else why not.
static const char *
s_check_endpoint (const char *value)
{
    static const char *usage = "must be tcp://HOST:PORT, ipc://PATH or inproc://NAME";
    if (strchr (value, ' '))
        return usage;
    if (strncmp (value, "tcp://", 6) == 0) {
        const char *host = value + 6;
        const char *colon = strrchr (host, ':');
        if (!colon || colon == host)
            return "must be tcp://HOST:PORT (host and port are both needed)";
        //  An IPv6 address needs brackets, or its last ':' would read as the port
        size_t host_length = (size_t)(colon - host);
        if (host[0] == '[' ? host_length < 3 || host[host_length - 1] != ']'
                           : memchr (host, ':', host_length) != NULL)
            return "must be tcp://HOST:PORT (write an IPv6 address in brackets: [::1])";
        const char *port = colon + 1;
        if (streq (port, "*"))
            return NULL;
        char *end;
        errno = 0;
        long number = strtol (port, &end, 10);
        if (!isdigit ((unsigned char)*port) || *end || errno || number < 1 || number > 65535)
            return "must be tcp://HOST:PORT with a port between 1 and 65535 (or *)";
        return NULL;
    }
    if (strncmp (value, "ipc://", 6) == 0) {
        if (value[6] == '\0')
            return "must be ipc://PATH with a path";
        if (strlen (value + 6) > SCHALT_CONFIG_IPC_MAX)
            return "must be ipc://PATH with a path of at most 107 characters";
        return NULL;
    }
    if (strncmp (value, "inproc://", 9) == 0)
        return value[9] ? NULL : "must be inproc://NAME with a name";
    return usage;
}

//  Returns NULL if value is a time zone libical knows, else why not.
static const char *
s_check_timezone (const char *value)
{
    static const char *usage = "must be an IANA time zone name such as Europe/Berlin";
    //  libical looks unknown names up as files below its zone folder, so
    //  allow only zone-name characters and no "." or ".." component
    if (value[0] == '/' || strspn (value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789_+-/.") != strlen (value))
        return usage;
    if (strstr (value, "/.") || value[0] == '.')
        return usage;
    if (!icaltimezone_get_builtin_timezone (value))
        return "is not a time zone known to libical (use an IANA name such as Europe/Berlin)";
    return NULL;
}

//  Checks value against a setting's type and bounds. Returns NULL if it is
//  valid (and stores an integer's value in *integer), else a message that
//  names the rule, possibly written into buffer.
const char *
schalt_config_check (const schalt_setting_t *setting, const char *value, long *integer,
                     char *buffer, size_t size)
{
    if (*value == '\0')
        return "must not be empty";
    if (s_has_control (value))
        return "must not contain control characters";
    //  Values go into e-mails, status replies and logs, all UTF-8
    if (!schalt_text_utf8_valid (value, strlen (value)))
        return "must be valid UTF-8 (was the file saved as Latin-1?)";

    switch (setting->type) {
        case SCHALT_SETTING_INTEGER: {
            //  Strict decimal: optional '-', digits, nothing else
            const char *digits = value + (*value == '-');
            char *end;
            errno = 0;
            long number = strtol (value, &end, 10);
            if (!isdigit ((unsigned char)*digits) || *end)
                return "must be an integer";
            if (errno == ERANGE || number < setting->min || number > setting->max) {
                snprintf (buffer, size, "must be between %ld and %ld", setting->min, setting->max);
                return buffer;
            }
            *integer = number;
            return NULL;
        }
        case SCHALT_SETTING_STRING: {
            //  Count characters, not bytes: skip UTF-8 continuation bytes
            long length = 0;
            for (const unsigned char *scan = (const unsigned char *)value; *scan; scan++)
                length += (*scan & 0xC0) != 0x80;
            if (setting->max > 0 && length > setting->max) {
                snprintf (buffer, size, "must be at most %ld characters", setting->max);
                return buffer;
            }
            return NULL;
        }
        case SCHALT_SETTING_ENUM: {
            assert (setting->choices);
            size_t length = strlen (value);
            for (const char *choice = setting->choices; *choice;) {
                size_t choice_length = strcspn (choice, "|");
                if (choice_length == length && memcmp (choice, value, length) == 0)
                    return NULL;
                choice += choice_length + (choice[choice_length] == '|');
            }
            char list[200];
            snprintf (buffer, size, "must be one of: %s",
                      schalt_config_choices (setting->choices, "", list, sizeof list));
            return buffer;
        }
        case SCHALT_SETTING_ENDPOINT:
            return s_check_endpoint (value);
        case SCHALT_SETTING_TIMEZONE:
            return s_check_timezone (value);
        case SCHALT_SETTING_PATH:
            return NULL;
        case SCHALT_SETTING_OFFSETS: {
            schalt_offsets_t offsets;
            char error[160];
            return schalt_offsets_parse (value, &offsets, error, sizeof (error)) == 0
                       ? NULL
                       : "must be reminder offsets such as \"7d 1d\" or \"2h\" (whole numbers "
                         "with d, h or m; each more than 0 and at most 60 days; none twice), or "
                         "none";
        }
    }
    return "has an unknown type"; //  not reached: the switch covers every type
}

//  --------------------------------------------------------------------------
//  Self test (called by schalt_config_test)

//  Checks each type of value as a setting of that type; asserts
void
schalt_config_test_check (void)
{
    //  Each value is checked as a setting of its type; '+' marks a valid one, '-' not
    const schalt_setting_t settings[] = {
        {.type = SCHALT_SETTING_INTEGER, .min = -5, .max = 100},
        {.type = SCHALT_SETTING_STRING, .max = 5},
        {.type = SCHALT_SETTING_ENUM, .choices = "error|info|debug"},
        {.type = SCHALT_SETTING_ENDPOINT},
        {.type = SCHALT_SETTING_TIMEZONE},
        {.type = SCHALT_SETTING_PATH},
        {.type = SCHALT_SETTING_OFFSETS}};
    const char *cases[][16] = {
        {"+0", "+-5", "+100", "+42", "-101", "--6", "-12x", "- 12", "-+12", "-", "--", "-1e3",
         "-0x10", "-99999999999999999999999", NULL},
        {"+abc", "+\xc3\xa4\xc3\xb6\xc3\xbc", "+a b", "-abcdef", "-a\tb", "-", NULL},
        {"+info", "+error", "+debug", "-Info", "-inf", "-infos", "-error|info", "-", NULL},
        {"+tcp://127.0.0.1:7310", "+tcp://*:7310", "+tcp://localhost:*", "+tcp://[::1]:7310",
         "+ipc:///tmp/s.sock", "+inproc://x", "-tcp://::1:7310", "-tcp://[]:1", "-tcp://host",
         "-tcp://:1", "-tcp://host:0", "-tcp://host:65536", "-tcp://host:12a", "-tcp://a b:1",
         "-ipc://", NULL},
        {"+Europe/Berlin", "+UTC", "+America/Argentina/Buenos_Aires", "+Etc/GMT+1",
         "-Europe/Nowhere", "-europe/berlin", "-../../etc/passwd", "-/etc/localtime",
         "-Europe/../Europe/Berlin", "-Europe/Berlin ", NULL},
        {"+/usr/share/schaltstelle/schemas", "+schemas", "-", "-a\nb", NULL},
        {"+7d 1d", "+2h", "+none", "+30m 1d", "-", "-0d", "-61d", "-1d 24h", "-7 d", "-1w", NULL}};
    char buffer[256];
    long integer = 0;
    for (size_t type = 0; type < sizeof settings / sizeof *settings; type++)
        for (int index = 0; cases[type][index]; index++) {
            bool valid = cases[type][index][0] == '+';
            const char *value = cases[type][index] + 1;
            const char *message =
                schalt_config_check (&settings[type], value, &integer, buffer, sizeof buffer);
            if (!message != valid)
                fprintf (stderr, "type %zu value '%s': %s\n", type, value, message);
            assert (!message == valid);
        }
    //  Other cases: too long an ipc path, the integer's value
    char ipc[128] = "ipc://";
    memset (ipc + 6, 'x', 108);
    assert (schalt_config_check (&settings[3], ipc, &integer, buffer, sizeof buffer));
    assert (!schalt_config_check (&settings[0], "-5", &integer, buffer, sizeof buffer) &&
            integer == -5);
    assert (streq (schalt_config_check (&settings[0], "101", &integer, buffer, sizeof buffer),
                   "must be between -5 and 100"));
    assert (streq (schalt_config_check (&settings[2], "x", &integer, buffer, sizeof buffer),
                   "must be one of: error, info, debug"));
}
