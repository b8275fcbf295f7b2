/*  cli_user - schalt user add|list|remove|unlock: the accounts of the
    organisers' dashboard, kept by schalt-web (role admin).

    schalt user add NAME --role organiser|admin [--password-stdin]
        asks for the password twice on the terminal (without echo), or
        reads one line from standard input with --password-stdin (for
        scripts), and sends only its Argon2id hash (libsodium's
        crypto_pwhash_str): the password never leaves this process.
    schalt user list | remove NAME | unlock NAME
        rows of the command table (cli_user_commands).
*/
#include "cli.h"

#include <sodium.h>
#include <termios.h>

#define PASSWORD_MIN 10
#define PASSWORD_MAX 1024

static int
s_usage (FILE *out)
{
    fprintf (out,
             "usage: schalt user add NAME --role organiser|admin [--password-stdin]\n"
             "       schalt user list | remove NAME | unlock NAME\n"
             "add asks for the password (at least %d characters) on the terminal, or\n"
             "reads it from standard input with --password-stdin.\n",
             PASSWORD_MIN);
    return out == stdout ? CLI_DONE : CLI_USAGE;
}

//  One line from file into buffer, without its line end; echo off when file
//  is a terminal. Returns 0, or -1 at end of input or if it is too long.
static int
s_read_line (FILE *file, bool terminal, const char *prompt, char *buffer, size_t size)
{
    struct termios saved, quiet;
    if (terminal) {
        fprintf (stderr, "%s", prompt);
        tcgetattr (fileno (file), &saved);
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr (fileno (file), TCSAFLUSH, &quiet);
    }
    char *got = fgets (buffer, (int)size, file);
    if (terminal) {
        tcsetattr (fileno (file), TCSAFLUSH, &saved);
        fprintf (stderr, "\n");
    }
    if (!got)
        return -1;
    size_t length = strlen (buffer);
    if (length && buffer[length - 1] == '\n')
        buffer[--length] = 0;
    else if (length == size - 1)
        return -1;
    if (length && buffer[length - 1] == '\r')
        buffer[--length] = 0;
    return 0;
}

static int
s_add (cli_t *cli)
{
    const char *name = NULL, *role = NULL;
    bool from_stdin = false;
    for (int index = 1; index < cli->argc; index++) {
        const char *arg = cli->argv[index];
        if (streq (arg, "--role") && index + 1 < cli->argc)
            role = cli->argv[++index];
        else if (streq (arg, "--password-stdin"))
            from_stdin = true;
        else if (streq (arg, "--help") || streq (arg, "-h"))
            return s_usage (stdout);
        else if (arg[0] != '-' && !name)
            name = arg;
        else {
            fprintf (stderr, "schalt user add: unknown or incomplete option '%s'\n", arg);
            return s_usage (stderr);
        }
    }
    if (!name || !role) {
        fprintf (stderr, "schalt user add: %s is missing\n", !name ? "NAME" : "--role ROLE");
        return s_usage (stderr);
    }
    if (!streq (role, "organiser") && !streq (role, "admin")) {
        fprintf (stderr, "schalt user add: --role must be organiser or admin, not '%s'\n", role);
        return CLI_USAGE;
    }
    char password[PASSWORD_MAX + 2], again[PASSWORD_MAX + 2];
    FILE *input = stdin;
    bool terminal = false;
    if (!from_stdin) {
        input = fopen ("/dev/tty", "r+");
        terminal = input != NULL;
        if (!input) {
            fprintf (stderr, "schalt user add: no terminal to ask for the password on; "
                             "use --password-stdin\n");
            return CLI_USAGE;
        }
    }
    int rc = s_read_line (input, terminal, "Password: ", password, sizeof (password));
    if (rc == 0 && terminal)
        rc = s_read_line (input, terminal, "Again: ", again, sizeof (again)) == 0 &&
                     streq (password, again)
                 ? 0
                 : -2;
    if (terminal)
        fclose (input);
    sodium_memzero (again, sizeof (again));
    size_t characters = 0;
    for (const char *at = password; rc == 0 && *at; at++)
        characters += ((unsigned char)*at & 0xc0) != 0x80;
    const char *why = rc == -2 ? "the two passwords differ"
                      : rc < 0 ? "no password was given (or it is longer than 1024 octets)"
                      : !schalt_text_utf8_valid (password, strlen (password))
                          ? "the password is not valid UTF-8"
                      : characters < PASSWORD_MIN ? "the password must have at least 10 characters"
                                                  : NULL;
    if (why) {
        sodium_memzero (password, sizeof (password));
        fprintf (stderr, "schalt user add: %s; nothing was changed\n", why);
        return CLI_USAGE;
    }
    char hash[crypto_pwhash_STRBYTES];
    int hashed =
        crypto_pwhash_str (hash, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_memzero (password, sizeof (password));
    if (hashed != 0) {
        fprintf (stderr, "schalt user add: out of memory for the password's hash\n");
        return CLI_REFUSED;
    }
    json_t *body = json_pack ("{s:s, s:s, s:s}", "name", name, "role", role, "hash", hash);
    schalt_envelope_t *reply = cli_request (
        cli, "web", "user.add", body, schalt_config_integer (cli->config, "cli/retries"), false);
    json_decref (body);
    if (!reply)
        return CLI_NO_ANSWER;
    rc = CLI_DONE;
    if (schalt_envelope_status (reply) >= 400) {
        cli_print_refusal (reply, cli->zone, NULL);
        rc = CLI_REFUSED;
    } else if (cli->json)
        cli_print_json (json_object_get (schalt_envelope_body (reply), "user"));
    else
        printf ("made the account %s (role %s): it logs in at /verwaltung\n", name, role);
    schalt_envelope_destroy (&reply);
    return rc;
}

int
cli_user_add (cli_t *cli)
{
    if (cli->argc >= 1 && (streq (cli->argv[0], "--help") || streq (cli->argv[0], "-h")))
        return s_usage (stdout);
    return s_add (cli);
}

//  --------------------------------------------------------------------------
//  The table's commands

static int
s_show_users (cli_t *cli, json_t *body)
{
    json_t *users = json_object_get (body, "users");
    if (cli->json)
        return cli_print_json (users);
    if (json_array_size (users) == 0) {
        printf ("No accounts (schalt user add NAME --role organiser makes one).\n");
        return CLI_DONE;
    }
    cli_table_t *table = cli_table_new (4);
    const char *header[] = {"NAME", "ROLE", "MADE", "STATE"};
    cli_table_row (table, header);
    size_t index;
    json_t *user;
    json_array_foreach (users, index, user)
    {
        char made[32];
        const char *row[] = {
            json_string_value (json_object_get (user, "name")),
            json_string_value (json_object_get (user, "role")),
            cli_local_time (json_string_value (json_object_get (user, "created")), cli->zone, made),
            json_is_true (json_object_get (user, "locked")) ? "locked (failed logins)" : "active"};
        cli_table_row (table, row);
    }
    cli_table_print (table, stdout);
    cli_table_destroy (&table);
    return CLI_DONE;
}

static int
s_show_user (cli_t *cli, json_t *body)
{
    json_t *user = json_object_get (body, "user");
    if (cli->json)
        return cli_print_json (user);
    printf ("%s (role %s): done\n", json_string_value (json_object_get (user, "name")),
            json_string_value (json_object_get (user, "role")));
    return CLI_DONE;
}

const cli_command_t cli_user_commands[] = {
    {"user", "list", "web", "user.list", NULL, cli_no_options,
     "the accounts of the organisers' dashboard", s_show_users},
    {"user", "remove", "web", "user.remove", "name", cli_no_options,
     "delete an account and end its logins", s_show_user},
    {"user", "unlock", "web", "user.unlock", "name", cli_no_options,
     "let a locked account log in again", s_show_user},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};
