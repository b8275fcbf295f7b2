/*  cli_event - schalt's event commands: create, get, list, update, cancel.
    One row a command (words, daemon, wire command, options, printer); the
    parsing and sending are schalt.c's.
*/
#include "cli.h"

#define KINDS "day-of-education, meeting, counselling or other"

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
    cli_print_field (stdout, "Provider:", json_string_value (json_object_get (event, "provider")));
    const char *organiser = json_string_value (json_object_get (event, "organiser_email"));
    if (organiser) {
        char line[512];
        snprintf (line, sizeof (line), "%s <%s>",
                  json_string_value (json_object_get (event, "organiser_name")) ?: "", organiser);
        cli_print_field (stdout, "Organiser:", line);
    }
    cli_print_field (stdout, "Reminders:",
                     json_string_value (json_object_get (event, "reminders"))
                         ?: "as configured for its kind (schalt reminders shows them)");
    cli_print_field (stdout,
                     "Description:", json_string_value (json_object_get (event, "description")));
    cli_print_field (stdout, "Reason:", json_string_value (json_object_get (event, "reason")));
}

static int
s_show_event (cli_t *cli, json_t *body)
{
    json_t *event = json_object_get (body, "event");
    if (cli_print_for_scripts (cli, event))
        return CLI_DONE;
    s_print_event (cli, event);
    return CLI_DONE;
}

static int
s_show_events (cli_t *cli, json_t *body)
{
    json_t *events = json_object_get (body, "events");
    if (cli_print_for_scripts (cli, events))
        return CLI_DONE;
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

//  The reminders planned: when each goes out, for which session and revision.
static int
s_show_reminders (cli_t *cli, json_t *body)
{
    json_t *reminders = json_object_get (body, "reminders");
    if (cli_print_for_scripts (cli, reminders))
        return CLI_DONE;
    if (json_array_size (reminders) == 0)
        printf ("No reminders planned.\n");
    else {
        cli_table_t *table = cli_table_new (6);
        const char *header[] = {"DUE", "OFFSET", "SESSION", "REVISION", "STARTS", "TITLE"};
        cli_table_row (table, header);
        size_t index;
        json_t *reminder;
        json_array_foreach (reminders, index, reminder)
        {
            char due[32], start[32] = "", revision[24];
            snprintf (revision, sizeof (revision), "%lld",
                      (long long)json_integer_value (json_object_get (reminder, "revision")));
            const char *starts = json_string_value (json_object_get (reminder, "start"));
            const char *row[] = {
                cli_local_time (json_string_value (json_object_get (reminder, "due")), cli->zone,
                                due),
                json_string_value (json_object_get (reminder, "offset")),
                json_string_value (json_object_get (reminder, "session")),
                revision,
                starts ? cli_local_time (starts, cli->zone, start) : "",
                json_string_value (json_object_get (reminder, "title")) ?: ""};
            cli_table_row (table, row);
        }
        cli_table_print (table, stdout);
        cli_table_destroy (&table);
    }
    long long waiting = json_integer_value (json_object_get (body, "to_plan"));
    printf ("%lld planned in all%s",
            (long long)json_integer_value (json_object_get (body, "planned")),
            waiting ? "" : ".\n");
    if (waiting)
        printf ("; %lld session%s changed just now, planned within a second.\n", waiting,
                waiting == 1 ? "" : "s");
    return CLI_DONE;
}

//  --------------------------------------------------------------------------
//  The commands

//  The options of create and update both: who offers it, who gets the capacity alerts
// clang-format off
#define ORGANISER_OPTIONS \
    {"provider", "provider", OPT_TEXT, false, \
     "who offers it: a school, day-care centre, adult-education centre, counselling service"}, \
    {"organiser-name", "organiser_name", OPT_TEXT, false, "who organises it (capacity alerts)"}, \
    {"organiser-email", "organiser_email", OPT_TEXT, false, \
     "where capacity alerts go (80 %, 100 %, a long waitlist)"}, \
    {"waitlist-alert", "waitlist_alert", OPT_INTEGER, false, \
     "alert when a waitlist grows past this length (default 10)"}, \
    {"reminders", "reminders", OPT_TEXT, false, \
     "when before each session reminders go out: \"7d 1d\", \"3d 2h\" or none " \
     "(default: the configured ones of its kind)"}
// clang-format on

static const cli_option_t s_event_create_options[] = {
    {"kind", "kind", OPT_TEXT, true, KINDS},
    {"title", "title", OPT_TEXT, true, "the event's title"},
    {"start", "start", OPT_TIME, true, "when it begins, YYYY-MM-DDTHH:MM local time"},
    {"end", "end", OPT_TIME, true, "when it ends, YYYY-MM-DDTHH:MM local time"},
    {"place", "place", OPT_TEXT, true, "where it takes place"},
    {"description", "description", OPT_TEXT, false, "free text"},
    ORGANISER_OPTIONS,
    {NULL, NULL, 0, false, NULL}};
static const cli_option_t s_event_update_options[] = {
    {"kind", "kind", OPT_TEXT, false, KINDS},
    {"title", "title", OPT_TEXT, false, "the event's title"},
    {"start", "start", OPT_TIME, false, "when it begins, YYYY-MM-DDTHH:MM local time"},
    {"end", "end", OPT_TIME, false, "when it ends, YYYY-MM-DDTHH:MM local time"},
    {"place", "place", OPT_TEXT, false, "where it takes place"},
    {"description", "description", OPT_TEXT, false, "free text"},
    ORGANISER_OPTIONS,
    {NULL, NULL, 0, false, NULL}};
static const cli_option_t s_event_list_options[] = {
    {"from", "from", OPT_TIME, false, "only events that end after this"},
    {"to", "to", OPT_TIME, false, "only events that start before this"},
    {"all", "include_cancelled", OPT_FLAG, false, "include cancelled events"},
    {NULL, NULL, 0, false, NULL}};

static const cli_option_t s_reminders_options[] = {
    {"session", "session", OPT_TEXT, false, "only this session's"},
    {"due-before", "due_before", OPT_TIME, false, "only those due before this, local time"},
    {NULL, NULL, 0, false, NULL}};

const cli_command_t cli_event_commands[] = {
    {"event", "create", "scheduler", "event.create", NULL, s_event_create_options,
     "schedule an event", s_show_event},
    {"event", "get", "scheduler", "event.get", "id", cli_no_options, "show one event",
     s_show_event},
    {"event", "list", "scheduler", "event.list", NULL, s_event_list_options,
     "list events in start order", s_show_events},
    {"event", "update", "scheduler", "event.update", "id", s_event_update_options,
     "change an event", s_show_event},
    {"event", "cancel", "scheduler", "event.cancel", "id", cli_reason_options,
     "cancel an event and all its sessions", s_show_event},
    {"reminders", "", "scheduler", "reminder.list", NULL, s_reminders_options,
     "list the reminders planned: when, for which session and revision", s_show_reminders},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
