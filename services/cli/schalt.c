/*  schalt - the command-line client of Schaltstelle, for organisers and admins.

    schalt [--config FILE] [--json] COMMAND ...   (schalt --help lists them)

    Times are typed and shown in the installation's time zone. Exit codes:
    0 done, 1 refused by a daemon (its message printed), 2 usage error,
    3 no answer (after retrying with the same request id).
*/
#include "cli.h"

//  What one invocation knows: the configuration and the output mode.
typedef struct {
    schalt_config_t *config;
    const char *zone;
    bool json;
    bool id_only; //  --id: print only the id of the object shown
    bool csv;     //  --csv: a table as CSV for spreadsheets
    int status;   //  the reply's status, for the printer
    int argc;     //  arguments after the command words
    char **argv;
} cli_t;

//  One option of a command: --name VALUE (or a flag), how it goes on the wire.
typedef enum { OPT_TEXT, OPT_TIME, OPT_INTEGER, OPT_LIST, OPT_FLAG, OPT_CSV } option_kind_t;

typedef struct {
    const char *name;  //  "title" for --title
    const char *field; //  the request's field
    option_kind_t kind;
    bool required;
    const char *help;
} option_t;

//  A command: its words, the daemon and wire command, its options.
typedef struct {
    const char *noun, *verb; //  "event", "create"; verb "" for one-word commands
    const char *service;     //  "scheduler"
    const char *command;     //  "event.create"
    const char *positional;  //  the field an ID argument fills, or NULL
    const option_t *options;
    const char *help;
    int (*print) (cli_t *cli, json_t *body); //  how a success is shown
} command_t;

//  The words of a command as typed ("event create", "register").
static const char *
s_name (const command_t *command)
{
    static char name[48];
    snprintf (name, sizeof (name), "%s%s%s", command->noun, *command->verb ? " " : "",
              command->verb);
    return name;
}

//  --------------------------------------------------------------------------
//  Printing replies

static void
s_print_event (cli_t *cli, json_t *event)
{
    char start[32], end[32];
    printf ("Event %s (%s)\n", json_string_value (json_object_get (event, "id")),
            json_string_value (json_object_get (event, "status")));
    cli_print_field (stdout, "Title:", json_string_value (json_object_get (event, "title")));
    cli_print_field (stdout, "Kind:", json_string_value (json_object_get (event, "kind")));
    cli_print_field (
        stdout, "Start:",
        cli_local_time (json_string_value (json_object_get (event, "start")), cli->zone, start));
    cli_print_field (
        stdout, "End:",
        cli_local_time (json_string_value (json_object_get (event, "end")), cli->zone, end));
    cli_print_field (stdout, "Place:", json_string_value (json_object_get (event, "place")));
    cli_print_field (stdout,
                     "Description:", json_string_value (json_object_get (event, "description")));
    cli_print_field (stdout, "Reason:", json_string_value (json_object_get (event, "reason")));
}

//  Joins the strings of an array with ", " into buffer.
static const char *
s_join (json_t *array, char *buffer, size_t size)
{
    buffer[0] = 0;
    size_t index;
    json_t *item;
    json_array_foreach (array, index, item)
    {
        size_t used = strlen (buffer);
        snprintf (buffer + used, size - used, "%s%s", index ? ", " : "", json_string_value (item));
    }
    return buffer;
}

static void
s_print_session (cli_t *cli, json_t *session)
{
    char start[32], end[32], topics[256], capacity[24];
    printf ("Session %s (%s)\n", json_string_value (json_object_get (session, "id")),
            json_string_value (json_object_get (session, "status")));
    cli_print_field (stdout, "Title:", json_string_value (json_object_get (session, "title")));
    cli_print_field (stdout, "Event:", json_string_value (json_object_get (session, "event")));
    cli_print_field (stdout, "Room:", json_string_value (json_object_get (session, "room")));
    cli_print_field (
        stdout, "Start:",
        cli_local_time (json_string_value (json_object_get (session, "start")), cli->zone, start));
    cli_print_field (
        stdout, "End:",
        cli_local_time (json_string_value (json_object_get (session, "end")), cli->zone, end));
    snprintf (capacity, sizeof (capacity), "%lld",
              (long long)json_integer_value (json_object_get (session, "capacity")));
    cli_print_field (stdout, "Capacity:", capacity);
    cli_print_field (
        stdout, "Topics:", s_join (json_object_get (session, "topics"), topics, sizeof (topics)));
    cli_print_field (stdout, "Reason:", json_string_value (json_object_get (session, "reason")));
}

//  --json prints the object itself (or the list); people get text.
static int
s_print_json (json_t *value)
{
    char *text = json_dumps (value, JSON_INDENT (2));
    printf ("%s\n", text);
    free (text);
    return CLI_DONE;
}

//  --id prints only the id, for scripts: EVENT=$(schalt --id event create ...)
static int
s_print_id (json_t *object)
{
    printf ("%s\n", json_string_value (json_object_get (object, "id")));
    return CLI_DONE;
}

//  --id on a list prints one id a line, in the list's order.
static int
s_print_ids (json_t *list)
{
    size_t index;
    json_t *item;
    json_array_foreach (list, index, item) s_print_id (item);
    return CLI_DONE;
}

static int
s_show_event (cli_t *cli, json_t *body)
{
    json_t *event = json_object_get (body, "event");
    if (cli->id_only)
        return s_print_id (event);
    if (cli->json)
        return s_print_json (event);
    s_print_event (cli, event);
    return CLI_DONE;
}

static int
s_show_session (cli_t *cli, json_t *body)
{
    json_t *session = json_object_get (body, "session");
    if (cli->id_only)
        return s_print_id (session);
    if (cli->json)
        return s_print_json (session);
    s_print_session (cli, session);
    return CLI_DONE;
}

static int
s_show_events (cli_t *cli, json_t *body)
{
    json_t *events = json_object_get (body, "events");
    if (cli->id_only)
        return s_print_ids (events);
    if (cli->json)
        return s_print_json (events);
    if (json_array_size (events) == 0) {
        printf ("No events.\n");
        return CLI_DONE;
    }
    cli_table_t *table = cli_table_new (7);
    const char *header[] = {"ID", "KIND", "START", "END", "STATUS", "TITLE", "PLACE"};
    cli_table_row (table, header);
    size_t index;
    json_t *event;
    json_array_foreach (events, index, event)
    {
        char start[32], end[32];
        const char *row[] = {
            json_string_value (json_object_get (event, "id")),
            json_string_value (json_object_get (event, "kind")),
            cli_local_time (json_string_value (json_object_get (event, "start")), cli->zone, start),
            cli_local_time (json_string_value (json_object_get (event, "end")), cli->zone, end),
            json_string_value (json_object_get (event, "status")),
            json_string_value (json_object_get (event, "title")),
            json_string_value (json_object_get (event, "place"))};
        cli_table_row (table, row);
    }
    cli_table_print (table, stdout);
    cli_table_destroy (&table);
    return CLI_DONE;
}

static int
s_show_sessions (cli_t *cli, json_t *body)
{
    json_t *sessions = json_object_get (body, "sessions");
    if (cli->id_only)
        return s_print_ids (sessions);
    if (cli->json)
        return s_print_json (sessions);
    if (json_array_size (sessions) == 0) {
        printf ("No sessions in event %s.\n", json_string_value (json_object_get (body, "event")));
        return CLI_DONE;
    }
    cli_table_t *table = cli_table_new (8);
    const char *header[] = {"ID", "START", "END", "ROOM", "SEATS", "STATUS", "TITLE", "TOPICS"};
    cli_table_row (table, header);
    size_t index;
    json_t *session;
    json_array_foreach (sessions, index, session)
    {
        char start[32], end[32], capacity[24], topics[256];
        snprintf (capacity, sizeof (capacity), "%lld",
                  (long long)json_integer_value (json_object_get (session, "capacity")));
        const char *row[] = {
            json_string_value (json_object_get (session, "id")),
            cli_local_time (json_string_value (json_object_get (session, "start")), cli->zone,
                            start),
            cli_local_time (json_string_value (json_object_get (session, "end")), cli->zone, end),
            json_string_value (json_object_get (session, "room")),
            capacity,
            json_string_value (json_object_get (session, "status")),
            json_string_value (json_object_get (session, "title")),
            s_join (json_object_get (session, "topics"), topics, sizeof (topics))};
        cli_table_row (table, row);
    }
    cli_table_print (table, stdout);
    cli_table_destroy (&table);
    return CLI_DONE;
}

static int
s_show_registration (cli_t *cli, json_t *body)
{
    json_t *registration = json_object_get (body, "registration");
    if (cli->id_only)
        return s_print_id (registration);
    if (cli->json)
        return s_print_json (registration);
    const char *status = json_string_value (json_object_get (registration, "status"));
    const char *id = json_string_value (json_object_get (registration, "id"));
    json_t *position = json_object_get (registration, "position");
    printf ("%s", cli->status == 200 ? "already registered: " : "");
    if (position)
        printf ("%s (position %lld, registration %s)\n", status,
                (long long)json_integer_value (position), id);
    else
        printf ("%s (registration %s)\n", status, id);
    return CLI_DONE;
}

//  Writes one CSV cell: quoted if it holds ; " or a line break; a leading
//  = + - @ is defused with ' so that a spreadsheet never runs it as a formula.
static void
s_csv_cell (FILE *out, const char *text, bool last)
{
    text = text ? text : "";
    bool formula = strchr ("=+-@", text[0]) && text[0];
    bool quote = formula || strpbrk (text, ";\"\r\n");
    if (quote)
        fputc ('"', out);
    if (formula)
        fputc ('\'', out);
    for (const char *cursor = text; *cursor; cursor++) {
        if (*cursor == '"')
            fputc ('"', out);
        fputc (*cursor, out);
    }
    if (quote)
        fputc ('"', out);
    fputs (last ? "\r\n" : ";", out);
}

static int
s_show_registrations (cli_t *cli, json_t *body)
{
    if (cli->id_only) {
        s_print_ids (json_object_get (body, "confirmed"));
        return s_print_ids (json_object_get (body, "waitlist"));
    }
    if (cli->json)
        return s_print_json (body);
    const char *header[] = {"#", "STATUS", "NAME", "E-MAIL", "INSTITUTION", "LANG", "REGISTERED"};
    const int columns = 7;
    cli_table_t *table = cli_table_new (columns);
    if (cli->csv)
        fputs ("\xEF\xBB\xBF", stdout); //  a BOM, so that spreadsheets read UTF-8
    if (cli->csv)
        for (int column = 0; column < columns; column++)
            s_csv_cell (stdout, header[column], column == columns - 1);
    else
        cli_table_row (table, header);
    const char *lists[] = {"confirmed", "waitlist"};
    size_t count = 0;
    for (int list = 0; list < 2; list++) {
        size_t index;
        json_t *registration;
        json_array_foreach (json_object_get (body, lists[list]), index, registration)
        {
            char number[24], created[32];
            snprintf (number, sizeof (number), "%zu", index + 1);
            const char *row[] = {
                number,
                json_string_value (json_object_get (registration, "status")),
                json_string_value (json_object_get (registration, "name")),
                json_string_value (json_object_get (registration, "email")),
                json_string_value (json_object_get (registration, "institution")),
                json_string_value (json_object_get (registration, "language")),
                cli_local_time (json_string_value (json_object_get (registration, "created")),
                                cli->zone, created)};
            if (cli->csv)
                for (int column = 0; column < columns; column++)
                    s_csv_cell (stdout, row[column], column == columns - 1);
            else
                cli_table_row (table, row);
            count++;
        }
    }
    if (!cli->csv) {
        json_t *session = json_object_get (body, "session");
        printf ("%s: %zu of %lld seats taken, %zu waiting\n",
                json_string_value (json_object_get (session, "title")),
                json_array_size (json_object_get (body, "confirmed")),
                (long long)json_integer_value (json_object_get (session, "capacity")),
                json_array_size (json_object_get (body, "waitlist")));
        if (count > 0)
            cli_table_print (table, stdout);
    }
    cli_table_destroy (&table);
    return CLI_DONE;
}

static int
s_show_notices (cli_t *cli, json_t *body)
{
    json_t *notices = json_object_get (body, "notices");
    if (cli->id_only)
        return s_print_ids (notices);
    if (cli->json)
        return s_print_json (notices);
    if (json_array_size (notices) == 0) {
        printf ("No notices.\n");
        return CLI_DONE;
    }
    cli_table_t *table = cli_table_new (7);
    const char *header[] = {"ID", "STATE", "TEMPLATE", "TO", "ATTEMPTS", "UPDATED", "LAST REPLY"};
    cli_table_row (table, header);
    size_t index;
    json_t *notice;
    json_array_foreach (notices, index, notice)
    {
        json_t *attempts = json_object_get (notice, "attempts");
        json_t *last = json_array_get (attempts, json_array_size (attempts) - 1);
        json_t *reason = json_object_get (notice, "reason");
        char count[24], updated[32], reply[160];
        snprintf (count, sizeof (count), "%zu", json_array_size (attempts));
        if (last)
            snprintf (reply, sizeof (reply), "%lld %s",
                      (long long)json_integer_value (json_object_get (last, "smtp")),
                      json_string_value (json_object_get (last, "reply")));
        else
            snprintf (reply, sizeof (reply), "%s", reason ? json_string_value (reason) : "");
        const char *row[] = {
            json_string_value (json_object_get (notice, "id")),
            json_string_value (json_object_get (notice, "state")),
            json_string_value (json_object_get (notice, "template")),
            json_string_value (json_object_get (json_object_get (notice, "recipient"), "email")),
            count,
            cli_local_time (json_string_value (json_object_get (notice, "updated")), cli->zone,
                            updated),
            reply};
        cli_table_row (table, row);
    }
    cli_table_print (table, stdout);
    cli_table_destroy (&table);
    return CLI_DONE;
}

//  --------------------------------------------------------------------------
//  The commands

#define KINDS "day-of-education, meeting, counselling or other"
#define TOPICS "familie-kita, kita-grundschule, grundschule-sek1, schule-beruf, aelter-werden"

static const option_t s_event_create_options[] = {
    {"kind", "kind", OPT_TEXT, true, KINDS},
    {"title", "title", OPT_TEXT, true, "the event's title"},
    {"start", "start", OPT_TIME, true, "when it begins, YYYY-MM-DDTHH:MM local time"},
    {"end", "end", OPT_TIME, true, "when it ends, YYYY-MM-DDTHH:MM local time"},
    {"place", "place", OPT_TEXT, true, "where it takes place"},
    {"description", "description", OPT_TEXT, false, "free text"},
    {NULL, NULL, 0, false, NULL}};
static const option_t s_event_update_options[] = {
    {"kind", "kind", OPT_TEXT, false, KINDS},
    {"title", "title", OPT_TEXT, false, "the event's title"},
    {"start", "start", OPT_TIME, false, "when it begins, YYYY-MM-DDTHH:MM local time"},
    {"end", "end", OPT_TIME, false, "when it ends, YYYY-MM-DDTHH:MM local time"},
    {"place", "place", OPT_TEXT, false, "where it takes place"},
    {"description", "description", OPT_TEXT, false, "free text"},
    {NULL, NULL, 0, false, NULL}};
static const option_t s_event_list_options[] = {
    {"from", "from", OPT_TIME, false, "only events that end after this"},
    {"to", "to", OPT_TIME, false, "only events that start before this"},
    {"all", "include_cancelled", OPT_FLAG, false, "include cancelled events"},
    {NULL, NULL, 0, false, NULL}};
static const option_t s_cancel_options[] = {
    {"reason", "reason", OPT_TEXT, false, "why (shown to organisers, later to participants)"},
    {NULL, NULL, 0, false, NULL}};
static const option_t s_no_options[] = {{NULL, NULL, 0, false, NULL}};
static const option_t s_session_create_options[] = {
    {"event", "event", OPT_TEXT, true, "the event's id"},
    {"title", "title", OPT_TEXT, true, "the session's title"},
    {"room", "room", OPT_TEXT, true, "the room, e.g. A101"},
    {"start", "start", OPT_TIME, true, "when it begins, YYYY-MM-DDTHH:MM local time"},
    {"end", "end", OPT_TIME, true, "when it ends, YYYY-MM-DDTHH:MM local time"},
    {"capacity", "capacity", OPT_INTEGER, true, "number of seats"},
    {"topic", "topics", OPT_LIST, false, "a topic, repeatable: " TOPICS},
    {NULL, NULL, 0, false, NULL}};
static const option_t s_session_update_options[] = {
    {"title", "title", OPT_TEXT, false, "the session's title"},
    {"room", "room", OPT_TEXT, false, "the room"},
    {"start", "start", OPT_TIME, false, "when it begins, YYYY-MM-DDTHH:MM local time"},
    {"end", "end", OPT_TIME, false, "when it ends, YYYY-MM-DDTHH:MM local time"},
    {"capacity", "capacity", OPT_INTEGER, false, "number of seats"},
    {"topic", "topics", OPT_LIST, false, "a topic, repeatable (replaces the list): " TOPICS},
    {NULL, NULL, 0, false, NULL}};
static const option_t s_session_list_options[] = {
    {"event", "event", OPT_TEXT, true, "the event's id"},
    {"all", "include_cancelled", OPT_FLAG, false, "include cancelled sessions"},
    {NULL, NULL, 0, false, NULL}};

static const option_t s_register_options[] = {
    {"session", "session", OPT_TEXT, true, "the session's id"},
    {"name", "name", OPT_TEXT, true, "the person's name"},
    {"email", "email", OPT_TEXT, true, "the person's e-mail address"},
    {"institution", "institution", OPT_TEXT, false, "e.g. Kita Sonnenschein"},
    {"lang", "language", OPT_TEXT, false, "language of the e-mails: de (default) or en"},
    {NULL, NULL, 0, false, NULL}};
static const option_t s_registrations_options[] = {
    {"session", "session", OPT_TEXT, true, "the session's id"},
    {"csv", NULL, OPT_CSV, false, "CSV for spreadsheets: UTF-8 with BOM, ';'-separated"},
    {NULL, NULL, 0, false, NULL}};
static const option_t s_notices_options[] = {
    {"state", "state", OPT_TEXT, false, "queued, sending, sent, deferred or failed"},
    {"to", "to", OPT_TEXT, false, "only notices to this address"},
    {NULL, NULL, 0, false, NULL}};

static const command_t s_commands[] = {
    {"event", "create", "scheduler", "event.create", NULL, s_event_create_options,
     "schedule an event", s_show_event},
    {"event", "get", "scheduler", "event.get", "id", s_no_options, "show one event", s_show_event},
    {"event", "list", "scheduler", "event.list", NULL, s_event_list_options,
     "list events in start order", s_show_events},
    {"event", "update", "scheduler", "event.update", "id", s_event_update_options,
     "change an event", s_show_event},
    {"event", "cancel", "scheduler", "event.cancel", "id", s_cancel_options,
     "cancel an event and all its sessions", s_show_event},
    {"session", "create", "scheduler", "session.create", NULL, s_session_create_options,
     "add a session to an event", s_show_session},
    {"session", "get", "scheduler", "session.get", "id", s_no_options, "show one session",
     s_show_session},
    {"session", "list", "scheduler", "session.list", NULL, s_session_list_options,
     "list an event's sessions", s_show_sessions},
    {"session", "update", "scheduler", "session.update", "id", s_session_update_options,
     "change a session", s_show_session},
    {"session", "cancel", "scheduler", "session.cancel", "id", s_cancel_options, "cancel a session",
     s_show_session},
    {"register", "", "registry", "registration.create", NULL, s_register_options,
     "register a person for a session: confirmed, or waitlisted", s_show_registration},
    {"registrations", "", "registry", "registration.list", NULL, s_registrations_options,
     "list a session's registrations: confirmed, then the waitlist", s_show_registrations},
    {"notices", "", "notifier", "notice.list", NULL, s_notices_options,
     "list e-mail notices and how their delivery went", s_show_notices},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};

//  The daemons `status` and `logs` talk to.
static const char *s_services[] = {"scheduler", "registry", "notifier", NULL};

//  --------------------------------------------------------------------------
//  Usage

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: schalt [--config FILE] [--json | --id] COMMAND [ARGS]\n\n"
        "  --config FILE  configuration (default: $SCHALT_CONFIG, else\n"
        "                 /etc/schaltstelle/schaltstelle.cfg if it exists, else built-in)\n"
        "  --json         print the reply's object or list as JSON, for scripts\n"
        "  --id           print only the id of the object created or shown (lists: one a line)\n\n"
        "Commands:\n");
    for (const command_t *command = s_commands; command->noun; command++) {
        char words[64];
        snprintf (words, sizeof (words), "%s%s", s_name (command),
                  command->positional ? " ID" : "");
        fprintf (out, "  %-20s %s\n", words, command->help);
    }
    fprintf (out, "  %-20s %s\n", "status", "show each daemon's state");
    fprintf (out, "  %-20s %s\n", "settings", "print the reference of every setting (Markdown)");
    fprintf (out, "  %-20s %s\n", "logs -f",
             "follow the daemons' log lines live "
             "(--service NAME, --level LEVEL)");
    fprintf (out, "\nTimes are typed and shown in the installation's time zone.\n"
                  "schalt COMMAND --help shows a command's options. Exit codes: 0 done,\n"
                  "1 refused by a daemon, 2 usage error, 3 no answer.\n");
}

static void
s_command_usage (FILE *out, const command_t *command)
{
    fprintf (out, "usage: schalt %s%s", s_name (command), command->positional ? " ID" : "");
    for (const option_t *option = command->options; option->name; option++)
        fprintf (out, option->required ? " --%s %s" : " [--%s%s]", option->name,
                 option->kind == OPT_FLAG || option->kind == OPT_CSV
                     ? ""
                     : (option->required ? "VALUE" : " VALUE"));
    fprintf (out, "\n%s\n", command->help);
    for (const option_t *option = command->options; option->name; option++)
        fprintf (out, "  --%-13s %s\n", option->name, option->help);
}

//  --------------------------------------------------------------------------
//  Building a request from the command line

//  Adds one option's value to body. Returns 0 or CLI_USAGE (printed).
static int
s_take_option (cli_t *cli, const command_t *command, const option_t *option, const char *value,
               json_t *body)
{
    time_t utc;
    char instant[32];
    char *end = NULL;
    switch (option->kind) {
        case OPT_TIME:
            if (schalt_time_parse_local (value, cli->zone, &utc) != 0) {
                fprintf (stderr,
                         "schalt %s: --%s '%s' is not a date and time that exists in %s "
                         "(YYYY-MM-DDTHH:MM)\n",
                         s_name (command), option->name, value, cli->zone);
                return CLI_USAGE;
            }
            json_object_set_new (body, option->field,
                                 json_string (schalt_time_format_instant (utc, instant)));
            break;
        case OPT_INTEGER: {
            errno = 0;
            long long number = strtoll (value, &end, 10);
            if (!*value || *end || errno) {
                fprintf (stderr, "schalt %s: --%s '%s' is not a whole number\n", s_name (command),
                         option->name, value);
                return CLI_USAGE;
            }
            json_object_set_new (body, option->field, json_integer (number));
            break;
        }
        case OPT_LIST: {
            json_t *list = json_object_get (body, option->field);
            if (!list)
                json_object_set_new (body, option->field, list = json_array ());
            json_array_append_new (list, json_string (value));
            break;
        }
        case OPT_FLAG:
            json_object_set_new (body, option->field, json_true ());
            break;
        case OPT_CSV:
            cli->csv = true; //  how to print, not what to ask
            break;
        default:
            json_object_set_new (body, option->field, json_string (value));
            break;
    }
    return 0;
}

//  Builds the request body from argv. Returns 0 or CLI_USAGE (printed);
//  *help is set if --help was asked for.
static int
s_build_body (cli_t *cli, const command_t *command, json_t *body, bool *help)
{
    for (int index = 0; index < cli->argc; index++) {
        const char *arg = cli->argv[index];
        if (streq (arg, "--help") || streq (arg, "-h")) {
            *help = true;
            return 0;
        }
        if (strncmp (arg, "--", 2) != 0) {
            if (command->positional && !json_object_get (body, command->positional)) {
                json_object_set_new (body, command->positional, json_string (arg));
                continue;
            }
            fprintf (stderr, "schalt %s: unexpected argument '%s'\n", s_name (command), arg);
            return CLI_USAGE;
        }
        const option_t *option = command->options;
        while (option->name && !streq (option->name, arg + 2))
            option++;
        if (!option->name) {
            fprintf (stderr, "schalt %s: unknown option %s (see --help)\n", s_name (command), arg);
            return CLI_USAGE;
        }
        const char *value = NULL;
        if (option->kind != OPT_FLAG && option->kind != OPT_CSV) {
            if (index + 1 >= cli->argc) {
                fprintf (stderr, "schalt %s: %s needs a value\n", s_name (command), arg);
                return CLI_USAGE;
            }
            value = cli->argv[++index];
        }
        if (s_take_option (cli, command, option, value, body) != 0)
            return CLI_USAGE;
    }
    if (command->positional && !json_object_get (body, command->positional)) {
        fprintf (stderr, "schalt %s: the %s ID is missing\n", s_name (command), command->noun);
        return CLI_USAGE;
    }
    for (const option_t *option = command->options; option->name; option++)
        if (option->required && !json_object_get (body, option->field)) {
            fprintf (stderr, "schalt %s: --%s is required\n", s_name (command), option->name);
            return CLI_USAGE;
        }
    return 0;
}

//  The setting <service>/<key>.
static const char *
s_service_setting (cli_t *cli, const char *service, const char *key)
{
    char path[96];
    snprintf (path, sizeof (path), "%s/%s", service, key);
    return schalt_config_string (cli->config, path);
}

static int
s_run_command (cli_t *cli, const command_t *command)
{
    json_t *body = json_object ();
    bool help = false;
    int rc = s_build_body (cli, command, body, &help);
    if (rc == 0 && help)
        s_command_usage (stdout, command);
    else if (rc == 0) {
        schalt_envelope_t *reply =
            cli_request (s_service_setting (cli, command->service, "endpoint"), command->command,
                         body, schalt_config_integer (cli->config, "cli/timeout"),
                         schalt_config_integer (cli->config, "cli/retries"), false);
        if (!reply)
            rc = CLI_NO_ANSWER;
        else if (schalt_envelope_status (reply) >= 400) {
            cli_print_refusal (reply, cli->zone);
            rc = CLI_REFUSED;
        } else {
            cli->status = schalt_envelope_status (reply);
            rc = command->print (cli, schalt_envelope_body (reply));
        }
        schalt_envelope_destroy (&reply);
    }
    json_decref (body);
    return rc;
}

//  --------------------------------------------------------------------------
//  status and logs

//  Writes what a daemon's outboxes hold as "notifier 15" (messages not yet
//  acknowledged, per peer), "notifier ?" while it cannot count (Redis down),
//  or "-" for a daemon without one. Returns buffer.
static char *
s_outbox_text (json_t *outboxes, char *buffer, size_t size)
{
    snprintf (buffer, size, "-");
    const char *peer;
    json_t *outbox;
    size_t used = 0;
    json_object_foreach (outboxes, peer, outbox)
    {
        json_t *depth = json_object_get (outbox, "depth");
        char count[24] = "?";
        if (json_is_integer (depth))
            snprintf (count, sizeof (count), "%lld", (long long)json_integer_value (depth));
        int written =
            snprintf (buffer + used, size - used, "%s%s %s", used ? ", " : "", peer, count);
        if (written < 0 || (size_t)written >= size - used)
            break;
        used += (size_t)written;
    }
    return buffer;
}

static int
s_status (cli_t *cli)
{
    json_t *all = json_array ();
    cli_table_t *table = cli_table_new (8);
    const char *header[] = {"SERVICE",  "STATE",  "UPTIME", "REDIS",
                            "REQUESTS", "ERRORS", "OUTBOX", "LAST ERROR"};
    cli_table_row (table, header);
    int rc = CLI_DONE;
    for (const char **service = s_services; *service; service++) {
        json_t *empty = json_object ();
        const char *endpoint = s_service_setting (cli, *service, "endpoint");
        schalt_envelope_t *reply = cli_request (
            endpoint, "status", empty, schalt_config_integer (cli->config, "cli/timeout"), 1, true);
        json_decref (empty);
        if (!reply || schalt_envelope_status (reply) != 200) {
            const char *row[] = {*service, "no answer", "", "", "", "", "", endpoint};
            cli_table_row (table, row);
            json_array_append_new (
                all, json_pack ("{s:s, s:s}", "service", *service, "state", "no answer"));
            rc = CLI_NO_ANSWER;
            schalt_envelope_destroy (&reply);
            continue;
        }
        json_t *status = schalt_envelope_body (reply);
        json_t *redis = json_object_get (status, "redis");
        json_t *requests = json_object_get (status, "requests");
        json_t *last = json_object_get (status, "last_error");
        char uptime[32], redis_text[64], total[24], errors[24];
        long long seconds = json_integer_value (json_object_get (status, "uptime"));
        snprintf (uptime, sizeof (uptime), "%lldd %02lld:%02lld:%02lld", seconds / 86400,
                  seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
        snprintf (redis_text, sizeof (redis_text), "%s (%s:%lld)",
                  json_string_value (json_object_get (redis, "state")),
                  json_string_value (json_object_get (redis, "host")),
                  (long long)json_integer_value (json_object_get (redis, "port")));
        snprintf (total, sizeof (total), "%lld",
                  (long long)json_integer_value (json_object_get (requests, "total")));
        snprintf (errors, sizeof (errors), "%lld",
                  (long long)json_integer_value (json_object_get (requests, "server_errors")));
        char outboxes[160];
        s_outbox_text (json_object_get (status, "outboxes"), outboxes, sizeof (outboxes));
        const char *row[] = {
            *service,
            "running",
            uptime,
            redis_text,
            total,
            errors,
            outboxes,
            json_is_object (last) ? json_string_value (json_object_get (last, "message")) : ""};
        cli_table_row (table, row);
        json_array_append (all, status);
        schalt_envelope_destroy (&reply);
    }
    if (cli->json)
        s_print_json (all);
    else
        cli_table_print (table, stdout);
    cli_table_destroy (&table);
    json_decref (all);
    return rc;
}

//  Index of a level name in severity order (error = 0), or -1.
static int
s_level_rank (const char *name)
{
    const char *levels[] = {"error", "warning", "notice", "info", "debug"};
    for (int index = 0; index < 5; index++)
        if (streq (levels[index], name))
            return index;
    return -1;
}

static int
s_logs (cli_t *cli)
{
    const char *only = NULL;
    int threshold = s_level_rank ("debug");
    for (int index = 0; index < cli->argc; index++) {
        const char *arg = cli->argv[index];
        if (streq (arg, "-f") || streq (arg, "--follow"))
            continue;
        else if (streq (arg, "--service") && index + 1 < cli->argc)
            only = cli->argv[++index];
        else if (streq (arg, "--level") && index + 1 < cli->argc &&
                 s_level_rank (cli->argv[index + 1]) >= 0)
            threshold = s_level_rank (cli->argv[++index]);
        else if (streq (arg, "--help") || streq (arg, "-h")) {
            printf ("usage: schalt logs -f [--service NAME] [--level LEVEL]\n"
                    "Follows the log lines of every daemon (or one) live, until Ctrl-C.\n"
                    "LEVEL shows that level and above: error, warning, notice, info, debug.\n"
                    "Earlier lines are in each daemon's log file (var/log/ with deploy/up).\n");
            return CLI_DONE;
        } else {
            fprintf (stderr, "schalt logs: unknown or incomplete option '%s' (see --help)\n", arg);
            return CLI_USAGE;
        }
    }
    zsock_t *subscriber = zsock_new (ZMQ_SUB);
    zsock_set_maxmsgsize (subscriber, CLI_REPLY_MAX);
    int services = 0;
    for (const char **service = s_services; *service; service++)
        if (!only || streq (only, *service)) {
            zsock_connect (subscriber, "%s", s_service_setting (cli, *service, "events"));
            services++;
        }
    if (services == 0) {
        fprintf (stderr, "schalt logs: no service '%s'\n", only);
        zsock_destroy (&subscriber);
        return CLI_USAGE;
    }
    zsock_set_subscribe (subscriber, "log.");
    zsock_set_rcvtimeo (subscriber, 500);
    while (!zsys_interrupted) {
        char *topic = NULL, *id = NULL, *json = NULL;
        if (zsock_recv (subscriber, "sss", &topic, &id, &json) == 0 && json) {
            json_t *line = json_loads (json, 0, NULL);
            const char *level = json_string_value (json_object_get (line, "level"));
            if (line && level && s_level_rank (level) <= threshold) {
                char when[32];
                printf ("%s %-9s %-7s %s\n",
                        cli_local_time (json_string_value (json_object_get (line, "time")),
                                        cli->zone, when),
                        json_string_value (json_object_get (line, "service")), level,
                        json_string_value (json_object_get (line, "message")));
                fflush (stdout);
            }
            json_decref (line);
        }
        zstr_free (&topic);
        zstr_free (&id);
        zstr_free (&json);
    }
    zsock_destroy (&subscriber);
    return CLI_DONE;
}

//  --------------------------------------------------------------------------
//  main

//  Finds the command for the words at argv; returns it and sets *used.
static const command_t *
s_find (int argc, char **argv, int *used)
{
    for (const command_t *command = s_commands; command->noun; command++)
        if (!*command->verb && argc >= 1 && streq (argv[0], command->noun)) {
            *used = 1;
            return command;
        } else if (argc >= 2 && streq (argv[0], command->noun) && streq (argv[1], command->verb)) {
            *used = 2;
            return command;
        }
    return NULL;
}

int
main (int argc, char **argv)
{
    //  The client is quiet: no zsys log lines on the terminal
    zsys_init ();
    zsys_set_logstream (NULL);
    const char *filename = NULL;
    bool json = false, id_only = false;
    int first = 1;
    //  Global options come before the command; --json may come anywhere
    while (first < argc && argv[first][0] == '-') {
        if (streq (argv[first], "--config") && first + 1 < argc)
            filename = argv[++first];
        else if (streq (argv[first], "--json"))
            json = true;
        else if (streq (argv[first], "--id"))
            id_only = true;
        else if (streq (argv[first], "--help") || streq (argv[first], "-h")) {
            s_usage (stdout);
            return CLI_DONE;
        } else if (streq (argv[first], "--version")) {
            printf ("schalt %s\n", SCHALT_VERSION);
            return CLI_DONE;
        } else {
            fprintf (stderr, "schalt: unknown option %s\n", argv[first]);
            s_usage (stderr);
            return CLI_USAGE;
        }
        first++;
    }
    if (first >= argc) {
        s_usage (stderr);
        return CLI_USAGE;
    }
    //  Take --json out wherever it stands
    int kept = first;
    for (int index = first; index < argc; index++)
        if (streq (argv[index], "--json"))
            json = true;
        else
            argv[kept++] = argv[index];
    argc = kept;

    schalt_config_t *config =
        schalt_config_new (filename ? filename : schalt_config_default_file (), stderr);
    if (!config)
        return CLI_USAGE;
    cli_t cli = {
        config, schalt_config_string (config, "schaltstelle/timezone"), json, id_only, false, 0, 0,
        NULL};
    int used = 0, rc;
    const command_t *command = s_find (argc - first, argv + first, &used);
    cli.argc = argc - first - (command ? used : 1);
    cli.argv = argv + first + (command ? used : 1);
    if (command)
        rc = s_run_command (&cli, command);
    else if (streq (argv[first], "status"))
        rc = s_status (&cli);
    else if (streq (argv[first], "logs"))
        rc = s_logs (&cli);
    else if (streq (argv[first], "settings")) {
        schalt_config_print_reference (stdout);
        rc = CLI_DONE;
    } else {
        fprintf (stderr, "schalt: unknown command '%s%s%s' (see schalt --help)\n", argv[first],
                 first + 1 < argc ? " " : "", first + 1 < argc ? argv[first + 1] : "");
        rc = CLI_USAGE;
    }
    schalt_config_destroy (&config);
    return rc;
}
