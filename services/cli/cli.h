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
//  cli_client: requests with retries

//  Sends command with body (a JSON object, borrowed) to the endpoint and
//  returns the reply, or NULL if none came after every retry (a message
//  has been printed then). timeout_ms and attempts come from the config.
schalt_envelope_t *cli_request (const char *endpoint, const char *command, json_t *body,
                                long timeout_ms, long attempts, bool quiet);

//  Prints a refusal ("schalt: refused (409 room_taken): ... [field /room]")
//  to stderr, with every UTC instant in the message shown in zone.
void cli_print_refusal (schalt_envelope_t *reply, const char *zone);

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

#endif
