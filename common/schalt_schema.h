/*  schalt_schema - JSON Schema validation of every inbound message.

    Debian has no C JSON Schema library, so this is a compact validator for the
    keywords our schemas use (draft 7 semantics): type, properties, required,
    additionalProperties (boolean or schema), enum, const, minLength, maxLength
    (in Unicode code points), pattern (POSIX extended regex, unanchored as in
    JSON Schema), format "email" and "date-time" (RFC 3339), minimum, maximum,
    items (one schema), minItems, maxItems. A schema that uses any other keyword
    (other than the annotations $schema, $id, title, description, default,
    examples, $comment) is refused when loaded, so a schema can never silently
    check less than it says.

    A schema set loads every `*.json` file below a folder once, at start; a
    schema is named by its path relative to that folder without ".json",
    e.g. "scheduler/event.create".
*/
#ifndef SCHALT_SCHEMA_H_INCLUDED
#define SCHALT_SCHEMA_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

typedef struct _schalt_schema_t schalt_schema_t;
typedef struct _schalt_schema_set_t schalt_schema_set_t;

//  What went wrong, for the error reply: a JSON pointer to the offending
//  value ("/title", "" for the whole document, "/topics/2") and a message
//  in English that names the rule ("must be at most 200 characters").
typedef struct {
    char field[256];
    char message[256];
} schalt_schema_error_t;

//  Compile a schema from a JSON value (the value is copied). Returns NULL
//  and fills error (field = the schema path of the problem) when the schema
//  is malformed or uses a keyword this validator does not implement.
schalt_schema_t *schalt_schema_new (json_t *schema, schalt_schema_error_t *error);

//  Destroy a schema; safe to call twice, clears the caller's pointer.
void schalt_schema_destroy (schalt_schema_t **self_p);

//  Validate a document. Returns true if valid; else false, with the first
//  violation (in document order) in error when error is not NULL.
bool schalt_schema_validate (schalt_schema_t *self, json_t *document, schalt_schema_error_t *error);

//  Load every *.json file below folder (recursively). Returns NULL after
//  logging each bad file with its path and the problem.
schalt_schema_set_t *schalt_schema_set_new (const char *folder);

//  Destroy a schema set; safe to call twice.
void schalt_schema_set_destroy (schalt_schema_set_t **self_p);

//  The schema of that name ("scheduler/event.create"), borrowed; NULL if none.
schalt_schema_t *schalt_schema_set_lookup (schalt_schema_set_t *self, const char *name);

//  Number of schemas loaded.
size_t schalt_schema_set_size (schalt_schema_set_t *self);

//  Self test: the official JSON Schema Test Suite (Debian's
//  json-schema-test-suite, draft7) for the keywords above, plus our own cases.
void schalt_schema_test (bool verbose);

#endif
