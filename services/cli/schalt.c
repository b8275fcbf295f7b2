/*  schalt - the command-line client of Schaltstelle, for organisers and admins.

    schalt [--config FILE] [--json] COMMAND ...   (schalt --help lists them)

    This file reads the command line, builds the request from a command's
    row (each noun's rows are in cli_<noun>.c), sends it and prints the
    reply with the row's printer.

    Times are typed and shown in the installation's time zone. Exit codes:
    0 done, 1 refused by a daemon (its message printed), 2 usage error,
    3 no answer (after retrying with the same request id).
*/
#include "cli.h"

//  The words of a command as typed ("event create", "register").
static const char *
s_name (const cli_command_t *command)
{
    static char name[48];
    snprintf (name, sizeof (name), "%s%s%s", command->noun, *command->verb ? " " : "",
              command->verb);
    return name;
}

//  --------------------------------------------------------------------------
//  The commands

//  Options more than one command takes.
const cli_option_t cli_reason_options[] = {
    {"reason", "reason", OPT_TEXT, false, "why (shown to organisers, later to participants)"},
    {NULL, NULL, 0, false, NULL}};
const cli_option_t cli_no_options[] = {{NULL, NULL, 0, false, NULL}};

//  Every noun's commands.
static const cli_command_t *const s_tables[] = {cli_event_commands,        cli_session_commands,
                                                cli_registration_commands, cli_notice_commands,
                                                cli_user_commands,         NULL};

//  --------------------------------------------------------------------------
//  Usage

//  The option that can stand in for the command's ID (a link's --token, a
//  check-in --code), or NULL.
static const cli_option_t *
s_id_alternative (const cli_command_t *command)
{
    for (const cli_option_t *option = command->options; option->name; option++)
        if (option->field && (streq (option->field, "token") || streq (option->field, "code")))
            return option;
    return NULL;
}

//  " ID", " [ID]" (if --token can stand in for it) or "" for a usage line.
static const char *
s_id_word (const cli_command_t *command)
{
    return !command->positional ? "" : s_id_alternative (command) ? " [ID]" : " ID";
}

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
    for (const cli_command_t *const *table = s_tables; *table; table++)
        for (const cli_command_t *command = *table; command->noun; command++) {
            char words[64];
            snprintf (words, sizeof (words), "%s%s", s_name (command), s_id_word (command));
            fprintf (out, "  %-25s %s\n", words, command->help);
        }
    fprintf (out, "  %-25s %s\n", "status", "show each daemon's state");
    fprintf (out, "  %-25s %s\n", "key create NAME", "make a key pair (--role ROLE)");
    fprintf (out, "  %-25s %s\n", "key list", "the keys that may connect");
    fprintf (out, "  %-25s %s\n", "user add NAME",
             "an account for the dashboard (--role organiser|admin)");
    fprintf (out, "  %-25s %s\n", "audit", "who changed what (--since, --who, --object)");
    fprintf (out, "  %-25s %s\n", "settings", "print the reference of every setting (Markdown)");
    fprintf (out, "  %-25s %s\n", "logs -f",
             "follow the daemons' log lines live "
             "(--service NAME, --level LEVEL)");
    fprintf (out, "\nTimes are typed and shown in the installation's time zone.\n"
                  "schalt COMMAND --help shows a command's options. Exit codes: 0 done,\n"
                  "1 refused by a daemon, 2 usage error, 3 no answer.\n");
}

static void
s_command_usage (FILE *out, const cli_command_t *command)
{
    fprintf (out, "usage: schalt %s%s", s_name (command), s_id_word (command));
    for (const cli_option_t *option = command->options; option->name; option++)
        fprintf (out, option->required ? " --%s %s" : " [--%s%s]", option->name,
                 option->kind == OPT_FLAG || option->kind == OPT_CSV
                     ? ""
                     : (option->required ? "VALUE" : " VALUE"));
    fprintf (out, "\n%s\n", command->help);
    for (const cli_option_t *option = command->options; option->name; option++)
        fprintf (out, "  --%-16s %s\n", option->name, option->help);
}

//  --------------------------------------------------------------------------
//  Building a request from the command line

//  Adds one option's value to body. Returns 0 or CLI_USAGE (printed).
static int
s_take_option (cli_t *cli, const cli_command_t *command, const cli_option_t *option,
               const char *value, json_t *body)
{
    time_t utc;
    char instant[32];
    char *end = NULL;
    switch (option->kind) {
        case OPT_TIME:
            if (schalt_time_parse_local (value, cli->zone, &utc) != 0) {
                //  Well-formed (as UTC would take it), then the zone skips it
                if (schalt_time_parse_local (value, "UTC", &utc) == 0)
                    fprintf (stderr,
                             "schalt %s: --%s '%s' does not exist in %s (the clocks skip it "
                             "when summer time begins)\n",
                             s_name (command), option->name, value, cli->zone);
                else
                    fprintf (stderr,
                             "schalt %s: --%s '%s' is not a date and time: write it as "
                             "YYYY-MM-DDTHH:MM, e.g. 2027-03-13T09:30\n",
                             s_name (command), option->name, value);
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
        case OPT_ONE_OR_MORE: {
            char plural[64];
            snprintf (plural, sizeof (plural), "%ss", option->field);
            json_t *one = json_object_get (body, option->field);
            json_t *list = json_object_get (body, plural);
            if (one) {
                json_object_set_new (body, plural, list = json_pack ("[O]", one));
                json_object_del (body, option->field);
            }
            if (list)
                json_array_append_new (list, json_string (value));
            else
                json_object_set_new (body, option->field, json_string (value));
            break;
        }
        case OPT_FLAG:
            json_object_set_new (body, option->field, json_true ());
            break;
        case OPT_CSV:
            cli->csv = true; //  how to print, not what to ask
            break;
        default:
            //  A whole link pasted for --token: its token is what counts
            if (streq (option->field, "token") && strstr (value, "token=") &&
                strncmp (value, "http", 4) == 0)
                value = strstr (value, "token=") + 6;
            json_object_set_new (body, option->field, json_string (value));
            break;
    }
    return 0;
}

//  True if body has the list field + "s".
static bool
s_plural_in (json_t *body, const char *field)
{
    char plural[64];
    snprintf (plural, sizeof (plural), "%ss", field);
    return json_object_get (body, plural) != NULL;
}

//  Builds the request body from argv. Returns 0 or CLI_USAGE (printed);
//  *help is set if --help was asked for.
static int
s_build_body (cli_t *cli, const cli_command_t *command, json_t *body, bool *help)
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
        const cli_option_t *option = command->options;
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
    //  A link's token or a check-in code names the registration itself
    const cli_option_t *alternative = s_id_alternative (command);
    if (command->positional && !json_object_get (body, command->positional) &&
        !(alternative && json_object_get (body, alternative->field))) {
        fprintf (stderr, "schalt %s: the %s ID is missing%s%s%s\n", s_name (command), command->noun,
                 alternative ? " (or give --" : "", alternative ? alternative->name : "",
                 alternative ? ")" : "");
        return CLI_USAGE;
    }
    for (const cli_option_t *option = command->options; option->name; option++)
        if (option->required && !json_object_get (body, option->field) &&
            !(option->kind == OPT_ONE_OR_MORE && s_plural_in (body, option->field))) {
            fprintf (stderr, "schalt %s: --%s is required\n", s_name (command), option->name);
            return CLI_USAGE;
        }
    return 0;
}

//  The setting <service>/<key>.
const char *
cli_service_setting (cli_t *cli, const char *service, const char *key)
{
    char path[96];
    snprintf (path, sizeof (path), "%s/%s", service, key);
    return schalt_config_string (cli->config, path);
}

//  What the person typed for the field a refusal names: "--lang" for
//  /language, "--topic" for /topics/0, "the ID" for the positional one.
//  Returns option (written into, size octets), or NULL if none is known.
static const char *
s_option_of (const cli_command_t *command, schalt_envelope_t *reply, char *option, size_t size)
{
    json_t *error = json_object_get (schalt_envelope_body (reply), "error");
    const char *field = json_string_value (json_object_get (error, "field"));
    if (!field || field[0] != '/')
        return NULL;
    //  The body's member is the pointer's first part
    size_t length = strcspn (field + 1, "/");
    if (command->positional && strlen (command->positional) == length &&
        strncmp (field + 1, command->positional, length) == 0) {
        snprintf (option, size, "the %s ID", command->noun);
        return option;
    }
    for (const cli_option_t *entry = command->options; entry->name; entry++)
        if (entry->field &&
            ((strlen (entry->field) == length && strncmp (field + 1, entry->field, length) == 0) ||
             (entry->kind == OPT_ONE_OR_MORE && strlen (entry->field) + 1 == length &&
              strncmp (field + 1, entry->field, length - 1) == 0 && field[length] == 's'))) {
            snprintf (option, size, "--%s", entry->name);
            return option;
        }
    return NULL;
}

static int
s_run_command (cli_t *cli, const cli_command_t *command)
{
    json_t *body = json_object ();
    bool help = false;
    int rc = s_build_body (cli, command, body, &help);
    if (rc == 0 && help)
        s_command_usage (stdout, command);
    else if (rc == 0) {
        schalt_envelope_t *reply =
            cli_request (cli, command->service, command->command, body,
                         schalt_config_integer (cli->config, "cli/retries"), false);
        if (!reply)
            rc = CLI_NO_ANSWER;
        else if (schalt_envelope_status (reply) >= 400) {
            char option[48];
            cli_print_refusal (reply, cli->zone, s_option_of (command, reply, option, 48));
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
//  main

//  Finds the command for the words at argv; returns it and sets *used.
static const cli_command_t *
s_find (int argc, char **argv, int *used)
{
    for (const cli_command_t *const *table = s_tables; *table; table++)
        for (const cli_command_t *command = *table; command->noun; command++)
            if (!*command->verb && argc >= 1 && streq (argv[0], command->noun)) {
                *used = 1;
                return command;
            } else if (argc >= 2 && streq (argv[0], command->noun) &&
                       streq (argv[1], command->verb)) {
                *used = 2;
                return command;
            }
    return NULL;
}

//  A noun typed without a verb it has ("schalt event", "schalt event frob"):
//  prints the noun's commands to stderr and returns true; false if no
//  command has that noun.
static bool
s_verbs (const char *noun, const char *verb)
{
    bool known = false;
    for (const cli_command_t *const *table = s_tables; *table; table++)
        for (const cli_command_t *command = *table; command->noun; command++)
            if (streq (command->noun, noun) && *command->verb) {
                if (!known)
                    fprintf (stderr, "schalt %s: %s%s%s; its commands are:\n", noun,
                             verb ? "no command '" : "a command is missing", verb ? verb : "",
                             verb ? "'" : "");
                known = true;
                fprintf (stderr, "  schalt %-18s %s\n", s_name (command), command->help);
            }
    return known;
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
    cli_t cli = {config, schalt_config_string (config, "schaltstelle/timezone"),
                 json,   id_only,
                 false,  0,
                 0,      NULL,
                 NULL,   false};
    int used = 0, rc;
    const cli_command_t *command = s_find (argc - first, argv + first, &used);
    cli.argc = argc - first - (command ? used : 1);
    cli.argv = argv + first + (command ? used : 1);
    if (command)
        rc = s_run_command (&cli, command);
    else if ((streq (argv[first], "status") || streq (argv[first], "settings")) && cli.argc > 0) {
        fprintf (stderr, "schalt %s: takes no arguments, not '%s'\n", argv[first], cli.argv[0]);
        rc = CLI_USAGE;
    } else if (streq (argv[first], "status"))
        rc = cli_status (&cli);
    else if (streq (argv[first], "logs"))
        rc = cli_logs (&cli);
    else if (streq (argv[first], "key"))
        rc = cli_key (&cli);
    else if (streq (argv[first], "user") && cli.argc >= 1 && streq (cli.argv[0], "add"))
        rc = cli_user_add (&cli);
    else if (streq (argv[first], "audit"))
        rc = cli_audit (&cli);
    else if (streq (argv[first], "settings")) {
        schalt_config_print_reference (stdout);
        rc = CLI_DONE;
    } else if (s_verbs (argv[first], first + 1 < argc ? argv[first + 1] : NULL))
        rc = CLI_USAGE;
    else {
        fprintf (stderr, "schalt: unknown command '%s%s%s' (see schalt --help)\n", argv[first],
                 first + 1 < argc ? " " : "", first + 1 < argc ? argv[first + 1] : "");
        rc = CLI_USAGE;
    }
    schalt_curve_destroy (&cli.curve);
    schalt_config_destroy (&config);
    return rc;
}
