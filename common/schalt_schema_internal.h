/*  schalt_schema_internal - what the schema files share; private to them.

    Only schalt_schema.c (compiling, self test), schalt_schema_check.c
    (validating), schalt_schema_format.c (string formats) and
    schalt_schema_set.c (schema sets) include this header. Everything else
    uses schalt_schema.h, whose API this does not change.
*/
#ifndef SCHALT_SCHEMA_INTERNAL_H_INCLUDED
#define SCHALT_SCHEMA_INTERNAL_H_INCLUDED

#include "schalt_schema.h"

#include <czmq.h>
#include <locale.h>
#include <regex.h>

//  Type bits, in the order of schalt_schema_types (null is 1 << 6)
enum { T_STRING = 1, T_INTEGER = 2, T_NUMBER = 4, T_BOOLEAN = 8, T_OBJECT = 16, T_ARRAY = 32 };
#define TYPE_COUNT 7
typedef struct {
    const char *name; //  as written in a schema
    const char *noun; //  as written in a message
} schema_type_t;

//  The type names and nouns, defined in schalt_schema.c
extern const schema_type_t schalt_schema_types[TYPE_COUNT];

//  Indexes of the count limits and numeric bounds of a node
enum { MIN_LENGTH, MAX_LENGTH, MIN_ITEMS, MAX_ITEMS, LIMIT_COUNT };
enum { MINIMUM, MAXIMUM, BOUND_COUNT };
typedef enum { FORMAT_NONE, FORMAT_EMAIL, FORMAT_DATE_TIME } schema_format_t;

typedef struct _schema_node_t schema_node_t;
typedef struct {
    const char *name; //  borrowed from the schema copy
    size_t length;
    schema_node_t *schema;
} schema_property_t;

//  One compiled (sub)schema. json_t pointers are borrowed from the copy.
struct _schema_node_t {
    bool is_boolean; //  a boolean schema: true accepts all, false nothing
    bool accepts;
    unsigned types;                //  T_* bits (null is 1 << 6); 0 means any type
    schema_property_t *properties; //  sorted by schalt_schema_property_compare
    size_t property_count;
    schema_node_t *additional; //  additionalProperties; NULL accepts any
    json_t *required;          //  array of names, or NULL
    json_t *enum_values;
    json_t *const_value;
    size_t limits[LIMIT_COUNT];
    bool has_limit[LIMIT_COUNT];
    json_t *bounds[BOUND_COUNT];
    regex_t pattern;
    bool has_pattern;
    bool pattern_cntrl; //  the pattern excludes [:cntrl:]: C1 controls count too
    const char *rule;   //  a description that starts "must ", said when the pattern fails
    schema_format_t format;
    schema_node_t *items;
};

struct _schalt_schema_t {
    json_t *source;      //  our copy of the schema
    schema_node_t *root; //  compiled tree
    locale_t locale;     //  the C locale, for regcomp and regexec
};

//  State of one compilation or validation: where we are, where errors go
typedef struct {
    char path[256]; //  JSON pointer of the current location
    size_t length;
    schalt_schema_error_t *error;
    locale_t locale;
} schema_ctx_t;

//  -------------------------------------------------------------------------
//  Helpers, in schalt_schema_check.c

//  Appends "/" and an escaped segment to the path; returns the old length
size_t schalt_schema_path_push (schema_ctx_t *ctx, const char *segment, size_t length);

//  Cuts the path back to a length that schalt_schema_path_push returned
void schalt_schema_path_pop (schema_ctx_t *ctx, size_t saved);

//  Records a failure at the current path (if errors are wanted); returns -1
int schalt_schema_fail (schema_ctx_t *ctx, const char *format, ...);

//  True if the (finite) double has no fraction
bool schalt_schema_is_integral (double value);

//  True if a and b are equal as JSON Schema sees it (numbers by value)
bool schalt_schema_equal (json_t *a, json_t *b);

//  Orders properties by name length, then bytes (for qsort and bsearch);
//  returns <0, 0 or >0
int schalt_schema_property_compare (const void *a, const void *b);

//  -------------------------------------------------------------------------
//  String formats, in schalt_schema_format.c

//  True if text is an RFC 3339 date-time (second 60 only at 23:59 UTC)
bool schalt_schema_is_date_time (const char *text, size_t length);

//  True if text is a practical e-mail address
bool schalt_schema_is_email (const char *text, size_t length);

//  -------------------------------------------------------------------------
//  Parts of schalt_schema_test that live with the code they test

//  Checks the formats against valid and invalid values; asserts
void schalt_schema_test_format (void);

//  Loads schema sets from a temporary folder; asserts
void schalt_schema_test_set (void);

#endif
