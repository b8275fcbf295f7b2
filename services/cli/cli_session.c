/*  cli_session - schalt's session commands: create, get, list, update, cancel.
    One row a command (words, daemon, wire command, options, printer); the
    parsing and sending are schalt.c's.
*/
#include "cli.h"

#define TOPICS "familie-kita, kita-grundschule, grundschule-sek1, schule-beruf, aelter-werden"

static void
s_print_session (cli_t *cli, json_t *session)
{
    char start[32], end[32], topics[256], capacity[24], cancel_until[32];
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
    json_t *promotion = json_object_get (session, "promotion");
    if (promotion && streq (json_string_value (promotion), "offer")) {
        char offer[64];
        snprintf (offer, sizeof (offer), "offered, held %lld h",
                  (long long)json_integer_value (json_object_get (session, "hold_hours")));
        cli_print_field (stdout, "Free seats:", offer);
    }
    json_t *deadline = json_object_get (session, "cancel_until");
    if (deadline)
        cli_print_field (stdout, "Cancel until:",
                         cli_local_time (json_string_value (deadline), cli->zone, cancel_until));
    cli_print_field (
        stdout, "Topics:", cli_join (json_object_get (session, "topics"), topics, sizeof (topics)));
    cli_print_field (stdout, "Reason:", json_string_value (json_object_get (session, "reason")));
}

static int
s_show_session (cli_t *cli, json_t *body)
{
    json_t *session = json_object_get (body, "session");
    if (cli_print_for_scripts (cli, session))
        return CLI_DONE;
    s_print_session (cli, session);
    return CLI_DONE;
}

static int
s_show_sessions (cli_t *cli, json_t *body)
{
    json_t *sessions = json_object_get (body, "sessions");
    if (cli_print_for_scripts (cli, sessions))
        return CLI_DONE;
    if (json_array_size (sessions) == 0) {
        printf ("No sessions in event %s.\n", json_string_value (json_object_get (body, "event")));
        return CLI_DONE;
    }
    cli_table_t *table = cli_table_new (8);
    const char *header[] = {"ID", "START", "END", "ROOM", "CAPACITY", "STATUS", "TITLE", "TOPICS"};
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
            cli_join (json_object_get (session, "topics"), topics, sizeof (topics))};
        cli_table_row (table, row);
    }
    cli_table_print (table, stdout);
    cli_table_destroy (&table);
    return CLI_DONE;
}

//  --------------------------------------------------------------------------
//  The commands

static const cli_option_t s_session_create_options[] = {
    {"event", "event", OPT_TEXT, true, "the event's id"},
    {"title", "title", OPT_TEXT, true, "the session's title"},
    {"room", "room", OPT_TEXT, true, "the room, e.g. A101"},
    {"start", "start", OPT_TIME, true, "when it begins, YYYY-MM-DDTHH:MM local time"},
    {"end", "end", OPT_TIME, true, "when it ends, YYYY-MM-DDTHH:MM local time"},
    {"capacity", "capacity", OPT_INTEGER, true, "number of seats"},
    {"topic", "topics", OPT_LIST, false, "a topic, repeatable: " TOPICS},
    {"cancel-until", "cancel_until", OPT_TIME, false,
     "until when people may cancel themselves (default: the start)"},
    {"promotion", "promotion", OPT_TEXT, false,
     "a freed seat goes to the first waiting: auto (at once, default) or offer (to accept)"},
    {"hold-hours", "hold_hours", OPT_INTEGER, false,
     "hours an offered seat is held for its person (default 48, never past the start)"},
    {NULL, NULL, 0, false, NULL}};
static const cli_option_t s_session_update_options[] = {
    {"title", "title", OPT_TEXT, false, "the session's title"},
    {"room", "room", OPT_TEXT, false, "the room"},
    {"start", "start", OPT_TIME, false, "when it begins, YYYY-MM-DDTHH:MM local time"},
    {"end", "end", OPT_TIME, false, "when it ends, YYYY-MM-DDTHH:MM local time"},
    {"capacity", "capacity", OPT_INTEGER, false, "number of seats"},
    {"topic", "topics", OPT_LIST, false, "a topic, repeatable (replaces the list): " TOPICS},
    {"cancel-until", "cancel_until", OPT_TIME, false, "until when people may cancel themselves"},
    {"promotion", "promotion", OPT_TEXT, false, "auto or offer (how a freed seat is given)"},
    {"hold-hours", "hold_hours", OPT_INTEGER, false, "hours an offered seat is held"},
    {NULL, NULL, 0, false, NULL}};
static const cli_option_t s_session_list_options[] = {
    {"event", "event", OPT_TEXT, true, "the event's id"},
    {"all", "include_cancelled", OPT_FLAG, false, "include cancelled sessions"},
    {NULL, NULL, 0, false, NULL}};

const cli_command_t cli_session_commands[] = {
    {"session", "create", "scheduler", "session.create", NULL, s_session_create_options,
     "add a session to an event", s_show_session},
    {"session", "get", "scheduler", "session.get", "id", cli_no_options, "show one session",
     s_show_session},
    {"session", "list", "scheduler", "session.list", NULL, s_session_list_options,
     "list an event's sessions", s_show_sessions},
    {"session", "update", "scheduler", "session.update", "id", s_session_update_options,
     "change a session", s_show_session},
    {"session", "cancel", "scheduler", "session.cancel", "id", cli_reason_options,
     "cancel a session", s_show_session},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
