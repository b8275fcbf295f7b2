/*  cli_registration - schalt's registration commands: register, registrations
    (a table, or CSV for spreadsheets), registration get, cancel and
    decline. One row a command; the parsing and sending are schalt.c's.
*/
#include "cli.h"

static int
s_show_registration (cli_t *cli, json_t *body)
{
    json_t *registration = json_object_get (body, "registration");
    if (cli_print_for_scripts (cli, registration))
        return CLI_DONE;
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

static int
s_show_registrations (cli_t *cli, json_t *body)
{
    if (cli->id_only) {
        cli_print_ids (json_object_get (body, "confirmed"));
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
                    cli_csv_cell (stdout, row[column], column == columns - 1);
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

//  --------------------------------------------------------------------------
//  The commands

static const cli_option_t s_register_options[] = {
    {"session", "session", OPT_TEXT, true, "the session's id"},
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

const cli_command_t cli_registration_commands[] = {
    {"register", "", "registry", "registration.create", NULL, s_register_options,
     "register a person for a session: confirmed, or waitlisted", s_show_registration},
    {"registrations", "", "registry", "registration.list", NULL, s_registrations_options,
     "list a session's registrations: confirmed, then the waitlist", s_show_registrations},
    {"registration", "cancel", "registry", "registration.cancel", "id", s_cancel_options,
     "cancel a registration (its seat goes to the first waiting), or take it off the waitlist",
     s_show_ended},
    {"registration", "decline", "registry", "registration.decline", NULL, s_decline_options,
     "leave the waitlist, as the link in the person's e-mail does", s_show_ended},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
