/*  cli - the parts of the schalt client: talking to daemons and printing.

    The client sends one request to one daemon and waits for its reply,
    sending the same request (same id) again after each timeout, so a lost
    message or a restarting daemon costs time, never a duplicate change.
*/
#ifndef CLI_H_INCLUDED
#define CLI_H_INCLUDED

#include "schalt.h"

//  Exit codes of schalt.
#define CLI_DONE 0
#define CLI_REFUSED 1
#define CLI_USAGE 2
#define CLI_NO_ANSWER 3

//  Largest reply or published message the client accepts, in bytes.
#define CLI_REPLY_MAX (64 * 1024 * 1024)

//  --------------------------------------------------------------------------
//  Commands: one row each, in the noun's file (cli_event.c, cli_session.c,
//  cli_registration.c, cli_notice.c); schalt.c parses and sends them

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
    schalt_curve_t *curve; //  this client's key and the daemons' (cli_curve makes it)
    bool key_refused;      //  the last request's daemon refused this client's key
} cli_t;

//  The client's keys (cli/key, schaltstelle/keys), loaded on first use;
//  NULL after printing why they cannot be used.
schalt_curve_t *cli_curve (cli_t *cli);

//  One option of a command: --name VALUE (or a flag), how it goes on the wire.
//  OPT_ONE_OR_MORE: repeatable; one value goes as the field, several as a
//  list in the field + "s" ("session", "sessions").
typedef enum {
    OPT_TEXT,
    OPT_TIME,
    OPT_INTEGER,
    OPT_LIST,
    OPT_ONE_OR_MORE,
    OPT_FLAG,
    OPT_CSV
} cli_option_kind_t;

typedef struct {
    const char *name;  //  "title" for --title
    const char *field; //  the request's field
    cli_option_kind_t kind;
    bool required;
    const char *help;
} cli_option_t;

//  A command: its words, the daemon and wire command, its options.
typedef struct {
    const char *noun, *verb; //  "event", "create"; verb "" for one-word commands
    const char *service;     //  "scheduler"
    const char *command;     //  "event.create"
    const char *positional;  //  the field an ID argument fills, or NULL
    const cli_option_t *options;
    const char *help;
    int (*print) (cli_t *cli, json_t *body); //  how a success is shown
} cli_command_t;

extern const cli_command_t cli_event_commands[], cli_session_commands[],
    cli_registration_commands[], cli_notice_commands[], cli_user_commands[];

//  schalt user add: asks for the password and sends its hash (cli_user.c).
//  Returns an exit code.
int cli_user_add (cli_t *cli);

//  Options several commands take: --reason; none.
extern const cli_option_t cli_reason_options[], cli_no_options[];

//  The setting <service>/<key> ("scheduler", "endpoint").
const char *cli_service_setting (cli_t *cli, const char *service, const char *key);

//  --------------------------------------------------------------------------
//  cli_daemon: status and logs -f

//  The daemons, in the order status shows them.
extern const char *cli_services[];

//  schalt audit: the daemons' audit logs, newest first. Returns an exit code.
int cli_audit (cli_t *cli);

//  schalt key create|list: the keys that may connect. Returns an exit code.
int cli_key (cli_t *cli);

//  schalt status: each daemon's state in one table. Returns an exit code.
int cli_status (cli_t *cli);

//  schalt logs -f: every daemon's log lines, live, until Ctrl-C.
int cli_logs (cli_t *cli);

//  --------------------------------------------------------------------------
//  cli_client: requests with retries

//  Sends command with body (a JSON object, borrowed) to the service's
//  endpoint and returns the reply, or NULL if none came after every retry,
//  or the daemon refused this client's key (cli->key_refused; a message has
//  been printed then, unless quiet). The timeout is cli/timeout.
schalt_envelope_t *cli_request (cli_t *cli, const char *service, const char *command, json_t *body,
                                long attempts, bool quiet);

//  Prints a refusal ("schalt: refused (409 room_taken): ... [--room, field
//  /room]") to stderr, with every UTC instant in the message shown in zone;
//  option is what the person typed for the field ("--room", "the ID"), or NULL.
void cli_print_refusal (schalt_envelope_t *reply, const char *zone, const char *option);

//  --------------------------------------------------------------------------
//  cli_output: tables and records for people

//  A table: add a header row, then rows; print pads each column to its
//  widest cell (counted in characters, not bytes).
typedef struct _cli_table_t cli_table_t;

cli_table_t *cli_table_new (int columns);
void cli_table_destroy (cli_table_t **self_p);
//  Adds a row of `columns` cells (copied; NULL prints as "").
void cli_table_row (cli_table_t *self, const char **cells);
void cli_table_print (cli_table_t *self, FILE *out);

//  Formats an RFC 3339 instant as local wall-clock time in zone; returns
//  buffer (the text unchanged if it cannot be read).
const char *cli_local_time (const char *instant, const char *zone, char buffer[32]);

//  Prints "  Label:  value" lines, aligned.
void cli_print_field (FILE *out, const char *label, const char *value);

//  Number of characters (code points) in UTF-8 text.
size_t cli_text_width (const char *text);

//  Output for scripts: with --id prints the value's id (a list's, one a line),
//  with --json the value as JSON. Returns true if it printed (the printer is
//  done), false if the output is for people.
bool cli_print_for_scripts (cli_t *cli, json_t *value);

//  --json: prints the value as indented JSON. Returns CLI_DONE.
int cli_print_json (json_t *value);

//  --id: prints the object's id; of a list, one id a line. Return CLI_DONE.
int cli_print_id (json_t *object);
int cli_print_ids (json_t *list);

//  Joins the strings of an array with ", " into buffer; returns buffer.
const char *cli_join (json_t *array, char *buffer, size_t size);

//  Writes one CSV cell and its separator (';', or CRLF after the last):
//  quoted if it holds ; " or a line break; a leading = + - @ is defused
//  with ' so that a spreadsheet never runs it as a formula.
void cli_csv_cell (FILE *out, const char *text, bool last);

#endif
