/*  cli_registration - schalt's registration commands: register, registrations
    (a table, or CSV for spreadsheets), registration get, cancel and
    decline. One row a command; the parsing and sending are schalt.c's.
*/
#include "cli.h"

//  One registration's line: "confirmed (registration reg-…)", or
//  "waitlisted (position 2, registration reg-…)"; prefix before it.
static void
s_print_registration (json_t *registration, const char *prefix)
{
    const char *status = json_string_value (json_object_get (registration, "status"));
    const char *id = json_string_value (json_object_get (registration, "id"));
    json_t *position = json_object_get (registration, "position");
    if (position)
        printf ("%s%s (position %lld, registration %s)\n", prefix, status,
                (long long)json_integer_value (position), id);
    else
        printf ("%s%s (registration %s)\n", prefix, status, id);
}

static int
s_show_registration (cli_t *cli, json_t *body)
{
    json_t *registrations = json_object_get (body, "registrations");
    json_t *registration = json_object_get (body, "registration");
    if (cli_print_for_scripts (cli, registrations ? registrations : registration))
        return CLI_DONE;
    const char *again = cli->status == 200 ? "already registered: " : "";
    if (!registrations) {
        s_print_registration (registration, again);
        return CLI_DONE;
    }
    size_t index;
    json_array_foreach (registrations, index, registration)
    {
        char prefix[96];
        snprintf (prefix, sizeof (prefix), "%s: %s",
                  json_string_value (json_object_get (registration, "session")), again);
        s_print_registration (registration, prefix);
    }
    return CLI_DONE;
}

static int
s_show_registrations (cli_t *cli, json_t *body)
{
    if (cli->id_only) {
        cli_print_ids (json_object_get (body, "confirmed"));
        cli_print_ids (json_object_get (body, "offered"));
        return cli_print_ids (json_object_get (body, "waitlist"));
    }
    if (cli->json)
        return cli_print_json (body);
    const char *header[] = {"#", "STATUS", "NAME", "E-MAIL", "INSTITUTION", "LANG", "REGISTERED"};
    const int columns = 7;
    cli_table_t *table = cli_table_new (columns);
    if (cli->csv)
        fputs ("\xEF\xBB\xBF", stdout); //  a BOM, so that spreadsheets read UTF-8
    if (cli->csv)
        for (int column = 0; column < columns; column++)
            cli_csv_cell (stdout, header[column], column == columns - 1);
    else
        cli_table_row (table, header);
    const char *lists[] = {"confirmed", "offered", "waitlist"};
    size_t count = 0;
    for (int list = 0; list < 3; list++) {
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
                    cli_csv_cell (stdout, row[column], column == columns - 1);
            else
                cli_table_row (table, row);
            count++;
        }
    }
    if (!cli->csv) {
        json_t *session = json_object_get (body, "session");
        size_t offered = json_array_size (json_object_get (body, "offered"));
        char held[64] = "";
        if (offered)
            snprintf (held, sizeof (held), " (%zu of them offered, not yet taken)", offered);
        printf ("%s: %zu of %lld seats taken%s, %zu waiting\n",
                json_string_value (json_object_get (session, "title")),
                json_array_size (json_object_get (body, "confirmed")) + offered,
                (long long)json_integer_value (json_object_get (session, "capacity")), held,
                json_array_size (json_object_get (body, "waitlist")));
        json_int_t over = json_integer_value (json_object_get (session, "over_capacity"));
        if (over > 0)
            printf ("over-full by %lld: the capacity was lowered; nobody new gets a seat until "
                    "fewer than %lld hold one\n",
                    (long long)over,
                    (long long)json_integer_value (json_object_get (session, "capacity")));
        if (count > 0)
            cli_table_print (table, stdout);
    }
    cli_table_destroy (&table);
    return CLI_DONE;
}

//  A registration that ended, and who got the seat it freed.
static int
s_show_ended (cli_t *cli, json_t *body)
{
    json_t *registration = json_object_get (body, "registration");
    if (cli_print_for_scripts (cli, registration))
        return CLI_DONE;
    const char *status = json_string_value (json_object_get (registration, "status"));
    printf ("%s (registration %s%s)\n", status,
            json_string_value (json_object_get (registration, "id")),
            json_is_true (json_object_get (registration, "late")) ? ", after the deadline" : "");
    size_t index;
    json_t *promoted;
    json_array_foreach (json_object_get (body, "promoted"), index, promoted)
        printf ("promoted from the waitlist: %s\n", json_string_value (promoted));
    return CLI_DONE;
}

//  An offer taken: the registration holds its seat now.
static int
s_show_accepted (cli_t *cli, json_t *body)
{
    json_t *registration = json_object_get (body, "registration");
    if (cli_print_for_scripts (cli, registration))
        return CLI_DONE;
    s_print_registration (registration, "");
    return CLI_DONE;
}

//  A check-in: the person and when.
static int
s_show_checkin (cli_t *cli, json_t *body)
{
    json_t *registration = json_object_get (body, "registration");
    if (cli_print_for_scripts (cli, registration))
        return CLI_DONE;
    char when[32];
    printf ("%s: %s, checked in %s%s\n", json_string_value (json_object_get (registration, "id")),
            json_string_value (json_object_get (registration, "name")),
            cli_local_time (json_string_value (json_object_get (registration, "checked_in")),
                            cli->zone, when),
            json_is_true (json_object_get (body, "again")) ? " (already then)" : "");
    return CLI_DONE;
}

//  The words people read for an attendance value.
static const char *
s_attendance_word (const char *attendance)
{
    static const char *words[][2] = {{"present", "present"},
                                     {"expected", "expected"},
                                     {"no_show", "no-show"},
                                     {"cancelled", "cancelled"},
                                     {"cancelled_late", "cancelled late"},
                                     {"left", "left waitlist"},
                                     {"waitlisted", "waitlisted"}};
    for (size_t index = 0; index < sizeof (words) / sizeof (words[0]); index++)
        if (attendance && streq (attendance, words[index][0]))
            return words[index][1];
    return attendance ? attendance : "";
}

static int
s_show_attendance (cli_t *cli, json_t *body)
{
    json_t *rows = json_object_get (body, "registrations");
    if (cli->id_only)
        return cli_print_ids (rows);
    if (cli->json)
        return cli_print_json (body);
    const char *header[] = {"#", "ATTENDANCE", "NAME", "E-MAIL", "INSTITUTION", "CHECKED IN"};
    const int columns = 6;
    cli_table_t *table = cli_table_new (columns);
    if (cli->csv) {
        fputs ("\xEF\xBB\xBF", stdout); //  a BOM, so that spreadsheets read UTF-8
        for (int column = 0; column < columns; column++)
            cli_csv_cell (stdout, header[column], column == columns - 1);
    } else
        cli_table_row (table, header);
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row)
    {
        char number[24], checked[32] = "";
        snprintf (number, sizeof (number), "%zu", index + 1);
        const char *when = json_string_value (json_object_get (row, "checked_in"));
        if (when)
            cli_local_time (when, cli->zone, checked);
        const char *cells[] = {
            number,
            s_attendance_word (json_string_value (json_object_get (row, "attendance"))),
            json_string_value (json_object_get (row, "name")),
            json_string_value (json_object_get (row, "email")),
            json_string_value (json_object_get (row, "institution")),
            checked};
        if (cli->csv)
            for (int column = 0; column < columns; column++)
                cli_csv_cell (stdout, cells[column], column == columns - 1);
        else
            cli_table_row (table, cells);
    }
    if (!cli->csv) {
        json_t *counts = json_object_get (body, "counts");
        json_t *no_shows = json_object_get (counts, "no_shows");
        char shows[48] = "no-shows once it is over";
        if (json_is_integer (no_shows))
            snprintf (shows, sizeof (shows), "%lld no-shows",
                      (long long)json_integer_value (no_shows));
        printf ("%s: %lld confirmed, %lld present, %s; %lld cancelled (%lld late), %lld left "
                "the waitlist, %lld waiting\n",
                json_string_value (json_object_get (json_object_get (body, "session"), "title")),
                (long long)json_integer_value (json_object_get (counts, "confirmed")),
                (long long)json_integer_value (json_object_get (counts, "present")), shows,
                (long long)json_integer_value (json_object_get (counts, "cancelled")),
                (long long)json_integer_value (json_object_get (counts, "cancelled_late")),
                (long long)json_integer_value (json_object_get (counts, "left")),
                (long long)json_integer_value (json_object_get (counts, "waitlisted")));
        if (json_array_size (rows) > 0)
            cli_table_print (table, stdout);
    }
    cli_table_destroy (&table);
    return CLI_DONE;
}

//  --------------------------------------------------------------------------
//  The commands

static const cli_option_t s_register_options[] = {
    {"session", "session", OPT_ONE_OR_MORE, true,
     "the session's id; repeat it to book several sessions of one event, all or nothing"},
    {"name", "name", OPT_TEXT, true, "the person's name"},
    {"email", "email", OPT_TEXT, true, "the person's e-mail address"},
    {"institution", "institution", OPT_TEXT, false, "e.g. Kita Sonnenschein"},
    {"lang", "language", OPT_TEXT, false, "language of the e-mails: de (default) or en"},
    {NULL, NULL, 0, false, NULL}};
static const cli_option_t s_registrations_options[] = {
    {"session", "session", OPT_TEXT, true, "the session's id"},
    {"csv", NULL, OPT_CSV, false, "CSV for spreadsheets: UTF-8 with BOM, ';'-separated"},
    {NULL, NULL, 0, false, NULL}};

static const cli_option_t s_cancel_options[] = {
    {"token", "token", OPT_TEXT, false, "the token of the person's link, instead of the ID"},
    {"reason", "reason", OPT_TEXT, false, "why (the person reads it in the e-mail)"},
    {NULL, NULL, 0, false, NULL}};
static const cli_option_t s_decline_options[] = {
    {"token", "token", OPT_TEXT, true, "the token of the link in the person's e-mail"},
    {NULL, NULL, 0, false, NULL}};

static const cli_option_t s_checkin_options[] = {
    {"session", "session", OPT_TEXT, true, "the session's id"},
    {"code", "code", OPT_TEXT, false, "the check-in code of the confirmation, instead of the ID"},
    {NULL, NULL, 0, false, NULL}};
static const cli_option_t s_attendance_options[] = {
    {"session", "session", OPT_TEXT, true, "the session's id"},
    {"csv", NULL, OPT_CSV, false, "CSV for spreadsheets: UTF-8 with BOM, ';'-separated"},
    {NULL, NULL, 0, false, NULL}};

const cli_command_t cli_registration_commands[] = {
    {"register", "", "registry", "registration.create", NULL, s_register_options,
     "register a person for one or more sessions", s_show_registration},
    {"registrations", "", "registry", "registration.list", NULL, s_registrations_options,
     "list a session's registrations: confirmed, then the waitlist", s_show_registrations},
    {"registration", "cancel", "registry", "registration.cancel", "id", s_cancel_options,
     "end a registration; its seat goes to the first waiting", s_show_ended},
    {"registration", "decline", "registry", "registration.decline", NULL, s_decline_options,
     "leave the waitlist or decline an offer, as the link does", s_show_ended},
    {"registration", "accept", "registry", "registration.accept", NULL, s_decline_options,
     "take an offered seat, as the accept link does", s_show_accepted},
    {"checkin", "", "registry", "registration.checkin", "id", s_checkin_options,
     "mark a confirmed person present (by ID or --code; twice is once)", s_show_checkin},
    {"attendance", "", "registry", "registration.attendance", NULL, s_attendance_options,
     "who came, who did not, who cancelled (late), with counts", s_show_attendance},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
