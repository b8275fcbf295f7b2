/*  cli_notice - schalt's notice commands: notices, with their delivery state
    and the mail server's last reply. One row a command; the parsing and
    sending are schalt.c's.
*/
#include "cli.h"

static int
s_show_notices (cli_t *cli, json_t *body)
{
    json_t *notices = json_object_get (body, "notices");
    if (cli_print_for_scripts (cli, notices))
        return CLI_DONE;
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
        schalt_text_utf8_repair (reply); //  cut to the column, maybe inside a character
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

static const cli_option_t s_notices_options[] = {
    {"state", "state", OPT_TEXT, false, "queued, sending, sent, deferred or failed"},
    {"to", "to", OPT_TEXT, false, "only notices to this address"},
    {NULL, NULL, 0, false, NULL}};

const cli_command_t cli_notice_commands[] = {
    {"notices", "", "notifier", "notice.list", NULL, s_notices_options,
     "list e-mail notices and how their delivery went", s_show_notices},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
