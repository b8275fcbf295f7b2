/*  schalt_schema - JSON Schema (draft 7) validation of every inbound message.

    A schema is compiled once into a tree of nodes: every keyword is checked
    there, patterns become regex_t, and a keyword this validator does not
    implement refuses the whole schema (message "unsupported ..."), so a
    schema can never check less than it says. Validation then only walks the
    nodes. Patterns are POSIX extended regular expressions applied to the
    UTF-8 bytes in the C locale, whatever locale the process has set.

    This file compiles schemas and holds the self test. Validating is in
    schalt_schema_check.c, the string formats are in schalt_schema_format.c,
    schema sets in schalt_schema_set.c; schalt_schema_internal.h declares
    what they share.
*/

#include "schalt_schema_internal.h"

#include <sys/stat.h>

//  The type names, in the order of the T_* bits
const schema_type_t schalt_schema_types[TYPE_COUNT] = {
    {"string", "a string"},   {"integer", "an integer"}, {"number", "a number"},
    {"boolean", "a boolean"}, {"object", "an object"},   {"array", "an array"},
    {"null", "null"}};

//  True if the JSON string is exactly the literal (no hidden NUL bytes)
static bool
s_text_is (json_t *string, const char *literal)
{
    return json_string_length (string) == strlen (literal) &&
           memcmp (json_string_value (string), literal, strlen (literal)) == 0;
}

//  -------------------------------------------------------------------------
//  Compiling

static schema_node_t *s_compile (json_t *schema, schema_ctx_t *ctx);

//  Frees a node and everything below it; clears the pointer
static void
s_node_destroy (schema_node_t **node_p)
{
    schema_node_t *node = *node_p;
    if (!node)
        return;
    for (size_t index = 0; index < node->property_count; index++)
        s_node_destroy (&node->properties[index].schema);
    free (node->properties);
    s_node_destroy (&node->additional);
    s_node_destroy (&node->items);
    if (node->has_pattern)
        regfree (&node->pattern);
    free (node);
    *node_p = NULL;
}

//  Each keyword handler stores value in node; returns 0, or -1 via schalt_schema_fail
typedef int (keyword_fn) (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg);

static int
s_keyword_type (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    (void)arg;
    json_t *single = json_array ();
    json_t *names = json_is_string (value) ? single : value;
    if (json_is_string (value))
        json_array_append (single, value);
    size_t index;
    json_t *name;
    int rc = json_is_array (names) && json_array_size (names) > 0 ? 0 : -1;
    json_array_foreach (names, index, name)
    {
        unsigned bit = 0;
        for (size_t type = 0; type < TYPE_COUNT && json_is_string (name); type++)
            if (s_text_is (name, schalt_schema_types[type].name))
                bit = 1u << type;
        if (bit == 0 || (node->types & bit))
            rc = -1;
        node->types |= bit;
    }
    json_decref (single);
    return rc ? schalt_schema_fail (ctx, "must be a type name or an array of distinct type names")
              : 0;
}

static int
s_keyword_properties (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    (void)arg;
    if (!json_is_object (value))
        return schalt_schema_fail (ctx, "must be an object of schemas");
    node->properties = calloc (json_object_size (value) + 1, sizeof (schema_property_t));
    assert (node->properties);
    const char *key;
    size_t key_length;
    json_t *schema;
    json_object_keylen_foreach (value, key, key_length, schema)
    {
        size_t saved = schalt_schema_path_push (ctx, key, key_length);
        schema_node_t *child = s_compile (schema, ctx);
        schalt_schema_path_pop (ctx, saved);
        if (!child)
            return -1;
        node->properties[node->property_count++] = (schema_property_t){key, key_length, child};
    }
    qsort (node->properties, node->property_count, sizeof (schema_property_t),
           schalt_schema_property_compare);
    return 0;
}

//  additionalProperties (arg 0) and items (arg 1): one schema
static int
s_keyword_schema (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    if (arg == 1 && json_is_array (value))
        return schalt_schema_fail (ctx, "unsupported: items as an array of schemas");
    schema_node_t **target = arg == 0 ? &node->additional : &node->items;
    *target = s_compile (value, ctx);
    return *target ? 0 : -1;
}

static int
s_keyword_required (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    (void)arg;
    size_t index, other;
    json_t *name;
    if (!json_is_array (value))
        return schalt_schema_fail (ctx, "must be an array of distinct strings");
    json_array_foreach (value, index, name)
    {
        if (!json_is_string (name))
            return schalt_schema_fail (ctx, "must be an array of distinct strings");
        for (other = 0; other < index; other++)
            if (schalt_schema_equal (name, json_array_get (value, other)))
                return schalt_schema_fail (ctx, "must be an array of distinct strings");
    }
    node->required = value;
    return 0;
}

//  enum (arg 0) must be an array; const (arg 1) may be any value
static int
s_keyword_values (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    if (arg == 0 && !json_is_array (value))
        return schalt_schema_fail (ctx, "must be an array");
    *(arg == 0 ? &node->enum_values : &node->const_value) = value;
    return 0;
}

//  minLength, maxLength, minItems, maxItems (arg: limit index)
static int
s_keyword_limit (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    if (json_is_integer (value) && json_integer_value (value) >= 0)
        node->limits[arg] = (uintmax_t)json_integer_value (value) > SIZE_MAX
                                ? SIZE_MAX
                                : (size_t)json_integer_value (value);
    else if (json_is_real (value) && json_real_value (value) >= 0 &&
             schalt_schema_is_integral (json_real_value (value)))
        node->limits[arg] = json_real_value (value) >= (double)SIZE_MAX
                                ? SIZE_MAX
                                : (size_t)json_real_value (value);
    else
        return schalt_schema_fail (ctx, "must be a non-negative integer");
    node->has_limit[arg] = true;
    return 0;
}

//  minimum, maximum (arg: bound index)
static int
s_keyword_bound (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    if (!json_is_number (value))
        return schalt_schema_fail (ctx, "must be a number");
    node->bounds[arg] = value;
    return 0;
}

//  How large a pattern may be: its length, and the parts glibc's regcomp
//  expands it to (a repetition copies what it repeats: a{10} is ten a's, and
//  nested repetitions multiply, so a short pattern can take gigabytes).
#define PATTERN_LENGTH_MAX 1024
#define PATTERN_PARTS_MAX 10000

static size_t s_pattern_alternatives (const char **cursor, const char *end, int depth);

//  At most PATTERN_PARTS_MAX + 1, so that sums and products cannot overflow.
static size_t
s_pattern_cap (size_t parts)
{
    return parts > PATTERN_PARTS_MAX ? PATTERN_PARTS_MAX + 1 : parts;
}

//  Reads a decimal count at *cursor (advancing it); -1 if there is none.
static long
s_pattern_count (const char **cursor, const char *end)
{
    long count = -1;
    while (*cursor < end && **cursor >= '0' && **cursor <= '9') {
        count = (count < 0 ? 0 : count) * 10 + (**cursor - '0');
        if (count > 100000)
            count = 100000;
        (*cursor)++;
    }
    return count;
}

//  The parts of one atom at *cursor: a group, a bracket expression, an
//  escaped or a plain character. Advances the cursor past it.
static size_t
s_pattern_atom (const char **cursor, const char *end, int depth)
{
    char first = *(*cursor)++;
    if (first == '\\') {
        if (*cursor < end)
            (*cursor)++;
        return 1;
    }
    if (first == '(') {
        size_t inner = s_pattern_alternatives (cursor, end, depth + 1);
        if (*cursor < end && **cursor == ')')
            (*cursor)++;
        return s_pattern_cap (inner + 1);
    }
    if (first == '[') {
        //  To the closing ], which may come first (after ^) as a member, and
        //  past [:class:], [=x=] and [.x.]
        if (*cursor < end && **cursor == '^')
            (*cursor)++;
        if (*cursor < end && **cursor == ']')
            (*cursor)++;
        while (*cursor < end && **cursor != ']') {
            if (**cursor == '[' && *cursor + 1 < end && strchr (":=.", (*cursor)[1])) {
                char kind = (*cursor)[1];
                *cursor += 2;
                while (*cursor + 1 < end && !((*cursor)[0] == kind && (*cursor)[1] == ']'))
                    (*cursor)++;
                *cursor += *cursor + 1 < end ? 2 : end - *cursor;
            } else
                (*cursor)++;
        }
        if (*cursor < end)
            (*cursor)++;
    }
    return 1;
}

//  The parts of the alternatives at *cursor, up to a ')' or the end, as
//  regcomp expands them. A syntax error is left to regcomp to report.
static size_t
s_pattern_alternatives (const char **cursor, const char *end, int depth)
{
    size_t total = 0;
    if (depth > 100)
        return PATTERN_PARTS_MAX + 1;
    while (*cursor < end && **cursor != ')') {
        if (**cursor == '|') {
            (*cursor)++;
            total = s_pattern_cap (total + 1);
            continue;
        }
        size_t piece = s_pattern_atom (cursor, end, depth);
        while (*cursor < end) {
            char quantifier = **cursor;
            if (quantifier == '*' || quantifier == '?')
                piece = piece + 1;
            else if (quantifier == '+')
                piece = 2 * piece + 1; //  x+ is x x*
            else if (quantifier == '{') {
                //  x{m}, x{m,}, x{m,n}, and x{,n}, which glibc reads as x{0,n}
                const char *at = *cursor + 1;
                long low = at < end && *at == ',' ? 0 : s_pattern_count (&at, end), high = low;
                if (low < 0)
                    break;
                if (at < end && *at == ',') {
                    at++;
                    high = s_pattern_count (&at, end);
                    if (high < 0)
                        high = low + 1; //  x{m,} is m copies and a star
                }
                if (at >= end || *at != '}')
                    break;
                *cursor = at;
                piece = piece * (size_t)(high > low ? high : low) + 1;
            } else
                break;
            (*cursor)++;
            piece = s_pattern_cap (piece);
        }
        total = s_pattern_cap (total + piece);
    }
    return total;
}

//  True if the pattern is small enough to compile: at most
//  PATTERN_LENGTH_MAX octets that expand to at most PATTERN_PARTS_MAX parts.
static bool
s_pattern_small (const char *pattern)
{
    size_t length = strlen (pattern);
    if (length > PATTERN_LENGTH_MAX)
        return false;
    const char *cursor = pattern, *end = pattern + length;
    size_t parts = 0;
    //  A ')' without its '(' ends the alternatives: go on after it
    while (cursor < end) {
        parts = s_pattern_cap (parts + s_pattern_alternatives (&cursor, end, 0));
        if (cursor < end)
            cursor++;
    }
    return parts <= PATTERN_PARTS_MAX;
}

static int
s_keyword_pattern (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    (void)arg;
    if (!json_is_string (value) || strlen (json_string_value (value)) != json_string_length (value))
        return schalt_schema_fail (ctx, "must be a regular expression");
    //  Checked before regcomp, which has no limit of its own
    if (!s_pattern_small (json_string_value (value)))
        return schalt_schema_fail (ctx,
                                   "is too large to compile: '%.80s' is longer than %d octets or "
                                   "its repetitions expand to more than %d parts",
                                   json_string_value (value), PATTERN_LENGTH_MAX,
                                   PATTERN_PARTS_MAX);
    locale_t previous = uselocale (ctx->locale);
    int rc = regcomp (&node->pattern, json_string_value (value), REG_EXTENDED | REG_NOSUB);
    uselocale (previous);
    if (rc) {
        char reason[128];
        regerror (rc, NULL, reason, sizeof reason);
        return schalt_schema_fail (ctx, "is not a POSIX extended regular expression: %s", reason);
    }
    node->has_pattern = true;
    node->pattern_cntrl = strstr (json_string_value (value), "[^[:cntrl:]") != NULL;
    return 0;
}

static int
s_keyword_format (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    (void)arg;
    if (!json_is_string (value))
        return schalt_schema_fail (ctx, "must be a string");
    node->format = s_text_is (value, "email")       ? FORMAT_EMAIL
                   : s_text_is (value, "date-time") ? FORMAT_DATE_TIME
                                                    : FORMAT_NONE;
    if (node->format == FORMAT_NONE)
        return schalt_schema_fail (ctx, "unsupported format: %s", json_string_value (value));
    return 0;
}

//  Annotations are ignored but must have their type: arg 1 string, 2 array,
//  3 a description (a string).
//  A string that starts with "must " (a description) states the rule a
//  pattern enforces, and becomes the message when the pattern fails.
static int
s_keyword_annotation (schema_node_t *node, json_t *value, schema_ctx_t *ctx, int arg)
{
    if ((arg == 1 || arg == 3) && !json_is_string (value))
        return schalt_schema_fail (ctx, "must be a string");
    if (arg == 3 && strncmp (json_string_value (value), "must ", 5) == 0)
        node->rule = json_string_value (value);
    if (arg == 2 && !json_is_array (value))
        return schalt_schema_fail (ctx, "must be an array");
    return 0;
}

static const struct {
    const char *name;
    keyword_fn *compile;
    int arg;
} s_keywords[] = {
    {"type", s_keyword_type, 0},
    {"properties", s_keyword_properties, 0},
    {"additionalProperties", s_keyword_schema, 0},
    {"items", s_keyword_schema, 1},
    {"required", s_keyword_required, 0},
    {"enum", s_keyword_values, 0},
    {"const", s_keyword_values, 1},
    {"minLength", s_keyword_limit, MIN_LENGTH},
    {"maxLength", s_keyword_limit, MAX_LENGTH},
    {"minItems", s_keyword_limit, MIN_ITEMS},
    {"maxItems", s_keyword_limit, MAX_ITEMS},
    {"minimum", s_keyword_bound, MINIMUM},
    {"maximum", s_keyword_bound, MAXIMUM},
    {"pattern", s_keyword_pattern, 0},
    {"format", s_keyword_format, 0},
    {"$schema", s_keyword_annotation, 1},
    {"$id", s_keyword_annotation, 1},
    {"title", s_keyword_annotation, 1},
    {"description", s_keyword_annotation, 3},
    {"$comment", s_keyword_annotation, 1},
    {"default", s_keyword_annotation, 0},
    {"examples", s_keyword_annotation, 2},
};

//  Compiles one (sub)schema; returns the node, or NULL after schalt_schema_fail
static schema_node_t *
s_compile (json_t *schema, schema_ctx_t *ctx)
{
    schema_node_t *node = calloc (1, sizeof (schema_node_t));
    assert (node);
    if (json_is_boolean (schema)) {
        node->is_boolean = true;
        node->accepts = json_is_true (schema);
        return node;
    }
    if (!json_is_object (schema)) {
        schalt_schema_fail (ctx, "must be a schema (an object or a boolean)");
        free (node);
        return NULL;
    }
    const char *key;
    size_t key_length;
    json_t *value;
    json_object_keylen_foreach (schema, key, key_length, value)
    {
        size_t saved = schalt_schema_path_push (ctx, key, key_length);
        size_t index = 0;
        while (index < sizeof s_keywords / sizeof s_keywords[0] &&
               (strlen (s_keywords[index].name) != key_length ||
                memcmp (s_keywords[index].name, key, key_length) != 0))
            index++;
        int rc = index < sizeof s_keywords / sizeof s_keywords[0]
                     ? s_keywords[index].compile (node, value, ctx, s_keywords[index].arg)
                     : schalt_schema_fail (ctx, "unsupported keyword");
        schalt_schema_path_pop (ctx, saved);
        if (rc) {
            s_node_destroy (&node);
            return NULL;
        }
    }
    return node;
}

schalt_schema_t *
schalt_schema_new (json_t *schema, schalt_schema_error_t *error)
{
    assert (schema);
    schalt_schema_t *self = calloc (1, sizeof (schalt_schema_t));
    assert (self);
    self->source = json_deep_copy (schema);
    self->locale = newlocale (LC_ALL_MASK, "C", (locale_t)0);
    assert (self->source && self->locale);
    schema_ctx_t ctx = {.error = error, .locale = self->locale};
    self->root = s_compile (self->source, &ctx);
    if (!self->root)
        schalt_schema_destroy (&self);
    return self;
}

void
schalt_schema_destroy (schalt_schema_t **self_p)
{
    assert (self_p);
    schalt_schema_t *self = *self_p;
    if (self) {
        s_node_destroy (&self->root);
        json_decref (self->source);
        freelocale (self->locale);
        free (self);
        *self_p = NULL;
    }
}

//  -------------------------------------------------------------------------
//  Self test

#define SUITE "/usr/share/json-schema-test-suite/tests/draft7"

//  Parses JSON written with ' for " (keeps the tables readable); asserts
static json_t *
s_test_json (const char *text)
{
    char *copy = strdup (text);
    for (char *p = copy; *p; p++)
        *p = *p == '\'' ? '"' : *p;
    json_error_t json_error;
    json_t *json = json_loads (copy, JSON_DECODE_ANY | JSON_ALLOW_NUL, &json_error);
    if (!json)
        fprintf (stderr, "bad test json: %s: %s\n", copy, json_error.text);
    assert (json);
    free (copy);
    return json;
}

//  Runs one file of the official suite; returns the number of failures
static int
s_test_suite_file (const char *file, bool verbose, int *ran, int *skipped)
{
    char *path = zsys_sprintf ("%s/%s.json", SUITE, file);
    json_error_t json_error;
    json_t *groups = json_load_file (path, JSON_ALLOW_NUL, &json_error);
    if (!groups)
        fprintf (stderr, "schema test: cannot load %s: %s\n", path, json_error.text);
    assert (groups);
    int failed = 0;
    size_t index, test_index;
    json_t *group, *test;
    json_array_foreach (groups, index, group)
    {
        const char *description = json_string_value (json_object_get (group, "description"));
        schalt_schema_error_t error;
        schalt_schema_t *schema = schalt_schema_new (json_object_get (group, "schema"), &error);
        if (!schema) {
            //  Only a keyword we do not implement may refuse a group
            if (verbose)
                printf (" skip %s: %s (%s %s)\n", file, description, error.field, error.message);
            assert (strncmp (error.message, "unsupported", 11) == 0);
            (*skipped)++;
            continue;
        }
        json_array_foreach (json_object_get (group, "tests"), test_index, test)
        {
            bool expected = json_is_true (json_object_get (test, "valid"));
            error.message[0] = 0;
            bool valid = schalt_schema_validate (schema, json_object_get (test, "data"), &error);
            if (valid != expected) {
                fprintf (stderr, "schema test: FAIL %s: %s: %s\n", file, description,
                         json_string_value (json_object_get (test, "description")));
                failed++;
            }
            assert (valid || *error.message);
            (*ran)++;
        }
        schalt_schema_destroy (&schema);
    }
    json_decref (groups);
    free (path);
    return failed;
}

//  Runs the keywords' files of the official JSON Schema Test Suite
static void
s_test_suite (bool verbose)
{
    static const char *files[] = {"type",
                                  "properties",
                                  "required",
                                  "additionalProperties",
                                  "enum",
                                  "const",
                                  "minLength",
                                  "maxLength",
                                  "pattern",
                                  "minimum",
                                  "maximum",
                                  "items",
                                  "minItems",
                                  "maxItems",
                                  "boolean_schema",
                                  "optional/format/date-time",
                                  "optional/format/email"};
    struct stat status;
    if (stat (SUITE, &status) || !S_ISDIR (status.st_mode))
        fprintf (stderr, "schema test: %s missing: apt-get install json-schema-test-suite\n",
                 SUITE);
    assert (stat (SUITE, &status) == 0 && S_ISDIR (status.st_mode));
    int ran = 0, skipped = 0, failed = 0;
    for (size_t index = 0; index < sizeof files / sizeof files[0]; index++) {
        char *path = zsys_sprintf ("%s/%s.json", SUITE, files[index]);
        bool optional = strncmp (files[index], "optional/", 9) == 0;
        if (!optional || stat (path, &status) == 0)
            failed += s_test_suite_file (files[index], verbose, &ran, &skipped);
        else if (verbose)
            printf (" skip %s: not in this version of the suite\n", files[index]);
        free (path);
    }
    if (verbose)
        printf (" official suite: %d cases ran, %d failed, %d groups skipped\n", ran, failed,
                skipped);
    assert (failed == 0);
    assert (ran >= 150);
}

//  A message schema like ours, for the error cases
#define S_MESSAGE                                                                                  \
    "{'type':'object','additionalProperties':false,'required':['title','topics'],"                 \
    "'properties':{'title':{'type':'string','minLength':1,'maxLength':200,"                        \
    "'pattern':'^[^[:cntrl:]]*$'},'lang':{'enum':['de','en']},"                                    \
    "'topics':{'type':'array','maxItems':3,'items':{'type':'object','required':['name'],"          \
    "'properties':{'name':{'type':'string','maxLength':8},"                                        \
    "'a/b~c':{'type':'integer','minimum':0,'maximum':10}}}},"                                      \
    "'when':{'type':'string','format':'date-time'},"                                               \
    "'mail':{'type':['string','null'],'format':'email'}}}"

//  Schema, document, and the error expected (field NULL: valid)
static const struct {
    const char *schema, *document, *field, *message;
} s_cases[] = {
    {S_MESSAGE,
     "{'title':'Übergang','topics':[{'name':'Übergang','a/b~c':10.0}],'lang':'de','mail':null}",
     NULL, NULL},
    {S_MESSAGE, "{'topics':[]}", "/title", "is required"},
    {S_MESSAGE, "{'title':'x','topics':[],'extra':1}", "/extra", "is not allowed"},
    {S_MESSAGE, "{'extra':1,'title':5,'topics':[]}", "/extra", "is not allowed"},
    {S_MESSAGE, "{'title':5,'extra':1}", "/title", "must be a string"},
    {S_MESSAGE, "{'title':'','topics':[]}", "/title", "must be at least 1 character"},
    {S_MESSAGE, "{'title':'a\\rb','topics':[]}", "/title", "does not match the required pattern"},
    {S_MESSAGE, "{'title':'a\\u0000b','topics':[]}", "/title",
     "does not match the required pattern"},
    {S_MESSAGE, "{'title':'x','topics':[{'name':'Übergänge'}]}", "/topics/0/name",
     "must be at most 8 characters"},
    {S_MESSAGE, "{'title':'x','topics':[{},{'name':1}]}", "/topics/0/name", "is required"},
    {S_MESSAGE, "{'title':'x','topics':[{'name':'a'},{'name':1}]}", "/topics/1/name",
     "must be a string"},
    {S_MESSAGE, "{'title':'x','topics':[{'name':'a','a/b~c':1.5}]}", "/topics/0/a~1b~0c",
     "must be an integer"},
    {S_MESSAGE, "{'title':'x','topics':[{'name':'a','a/b~c':-1}]}", "/topics/0/a~1b~0c",
     "must be at least 0"},
    {S_MESSAGE, "{'title':'x','topics':[{'name':'a','a/b~c':11}]}", "/topics/0/a~1b~0c",
     "must be at most 10"},
    {S_MESSAGE, "{'title':'x','topics':[{'name':'a'},{'name':'b'},{'name':'c'},{'name':'d'}]}",
     "/topics", "must have at most 3 items"},
    {S_MESSAGE, "{'title':'x','topics':{}}", "/topics", "must be an array"},
    {S_MESSAGE, "{'title':'x','topics':[],'lang':'fr'}", "/lang", "must be one of: de, en"},
    {S_MESSAGE, "{'title':'x','topics':[],'mail':5}", "/mail", "must be a string or null"},
    {S_MESSAGE, "{'title':'x','topics':[],'mail':'a@b'}", "/mail",
     "must be a valid e-mail address"},
    {S_MESSAGE, "{'title':'x','topics':[],'when':'2024-02-30T10:00:00Z'}", "/when",
     "must be an RFC 3339 date-time"},
    {S_MESSAGE, "[]", "", "must be an object"},
    //  Numbers by value, types kept apart
    {"{'enum':[1.0]}", "1", NULL, NULL},
    {"{'const':1}", "1.0", NULL, NULL},
    {"{'const':{'a':[1]}}", "{'a':[1.0]}", NULL, NULL},
    {"{'const':9007199254740992}", "9007199254740991", "", "must be 9007199254740992"},
    {"{'const':9007199254740992}", "9007199254740992.0", NULL, NULL},
    {"{'enum':[false]}", "0", "", "must be one of: false"},
    {"{'enum':[[false]]}", "[0]", "", "must be one of: [false]"},
    {"{'const':0}", "false", "", "must be 0"},
    {"{'const':'a\\u0000b'}", "'a\\u0000b'", NULL, NULL},
    {"{'const':'a\\u0000b'}", "'a\\u0000c'", "", "must be a"},
    {"{'type':'integer'}", "1.0", NULL, NULL},
    {"{'type':['integer','boolean','null']}", "1.5", "", "must be an integer, a boolean or null"},
    {"{'minimum':-1.5}", "-2", "", "must be at least -1.5"},
    {"{'minimum':-1.5}", "-1", NULL, NULL},
    {"{'maximum':9007199254740993}", "9007199254740992.0", NULL, NULL},
    {"{'maximum':1}", "1.0000001", "", "must be at most 1"},
    {"{'minItems':1.0}", "[]", "", "must have at least 1 item"},
    {"{'items':{'type':'integer'}}", "[1,'x']", "/1", "must be an integer"},
    {"{'properties':{'a':false}}", "{'a':1}", "/a", "is not allowed"},
    {"{'additionalProperties':{'type':'boolean'}}", "{'a':true,'b':1}", "/b", "must be a boolean"},
    {"{'maxLength':1,'minLength':1}", "'\\u00fc'", NULL, NULL},
    {"{'format':'email'}", "5", NULL, NULL},
    {"{'$schema':'http://json-schema.org/draft-07/schema#','$id':'x','title':'t',"
     "'description':'d','default':1,'examples':[1],'$comment':'c','type':'integer'}",
     "1", NULL, NULL},
};

//  Schemas refused at compile time: schema, field, start of message
static const struct {
    const char *schema, *field, *message;
} s_refused[] = {
    {"{'patternProperties':{}}", "/patternProperties", "unsupported keyword"},
    {"{'properties':{'a/b':{'minLenght':1}}}", "/properties/a~1b/minLenght", "unsupported"},
    {"{'$ref':'#'}", "/$ref", "unsupported keyword"},
    {"{'format':'uri'}", "/format", "unsupported format: uri"},
    {"{'items':[{}]}", "/items", "unsupported: items as an array"},
    {"{'maxLength':-1}", "/maxLength", "must be a non-negative integer"},
    {"{'minItems':1.5}", "/minItems", "must be a non-negative integer"},
    {"{'type':'strin'}", "/type", "must be a type name"},
    {"{'type':['string','string']}", "/type", "must be a type name"},
    {"{'type':[]}", "/type", "must be a type name"},
    {"{'pattern':'('}", "/pattern", "is not a POSIX extended regular expression"},
    {"{'pattern':'a++++++++++++++++++++{10}'}", "/pattern", "is too large to compile"},
    {"{'pattern':'((a{100}){100}){100}'}", "/pattern", "is too large to compile"},
    {"{'pattern':'[a{]{1000}x{1000}(b|c){9000}'}", "/pattern", "is too large to compile"},
    {"{'pattern':'(a{32767}'}", "/pattern", "is too large to compile"},
    {"{'pattern':'((a{,100}){,100}){,100}'}", "/pattern", "is too large to compile"},
    {"{'pattern':'((a{,30}){,30}){,30}'}", "/pattern", "is too large to compile"},
    {"{'required':['a','a']}", "/required", "must be an array of distinct strings"},
    {"{'enum':1}", "/enum", "must be an array"},
    {"{'minimum':'1'}", "/minimum", "must be a number"},
    {"{'title':5}", "/title", "must be a string"},
    {"{'items':{'properties':{'x':5}}}", "/items/properties/x", "must be a schema"},
    {"5", "", "must be a schema"},
};

//  Checks our own cases: error fields and messages, refusals, limits
static void
s_test_cases (void)
{
    schalt_schema_error_t error;
    for (size_t index = 0; index < sizeof s_cases / sizeof s_cases[0]; index++) {
        json_t *json = s_test_json (s_cases[index].schema);
        json_t *document = s_test_json (s_cases[index].document);
        schalt_schema_t *schema = schalt_schema_new (json, &error);
        assert (schema);
        bool valid = schalt_schema_validate (schema, document, &error);
        if (valid != !s_cases[index].field ||
            (!valid && (strneq (error.field, s_cases[index].field) ||
                        strneq (error.message, s_cases[index].message))))
            fprintf (stderr, "schema test: FAIL %s: got '%s' '%s'\n", s_cases[index].document,
                     valid ? "valid" : error.field, valid ? "" : error.message);
        assert (valid == !s_cases[index].field);
        assert (valid || streq (error.field, s_cases[index].field));
        assert (valid || streq (error.message, s_cases[index].message));
        schalt_schema_destroy (&schema);
        schalt_schema_destroy (&schema);
        json_decref (json);
        json_decref (document);
    }
    for (size_t index = 0; index < sizeof s_refused / sizeof s_refused[0]; index++) {
        json_t *json = s_test_json (s_refused[index].schema);
        assert (schalt_schema_new (json, NULL) == NULL);
        assert (schalt_schema_new (json, &error) == NULL);
        if (strneq (error.field, s_refused[index].field) ||
            strncmp (error.message, s_refused[index].message, strlen (s_refused[index].message)))
            fprintf (stderr, "schema test: FAIL %s: got '%s' '%s'\n", s_refused[index].schema,
                     error.field, error.message);
        assert (streq (error.field, s_refused[index].field));
        assert (strncmp (error.message, s_refused[index].message,
                         strlen (s_refused[index].message)) == 0);
        json_decref (json);
    }
    schalt_schema_test_format ();
}

//  Checks limits of the error buffers: long titles, paths and enum lists
static void
s_test_long (void)
{
    schalt_schema_error_t error;
    json_t *json = s_test_json (S_MESSAGE);
    schalt_schema_t *schema = schalt_schema_new (json, &error);
    assert (schema);
    char title[404] = "";
    for (int index = 0; index < 200; index++)
        strcat (title, "ü"); //  200 characters in 400 bytes
    json_t *document = json_pack ("{s[]ss}", "topics", "title", title);
    assert (schalt_schema_validate (schema, document, &error));
    strcat (title, "x");
    json_object_set_new (document, "title", json_string (title));
    assert (!schalt_schema_validate (schema, document, &error));
    assert (streq (error.field, "/title"));
    assert (streq (error.message, "must be at most 200 characters"));
    //  A 402-byte key is cut to a prefix that is still valid UTF-8
    char key[404] = "a";
    strcat (key, title);
    json_object_set_new (document, "title", json_string ("x"));
    json_object_set_new (document, key, json_true ());
    assert (!schalt_schema_validate (schema, document, &error));
    assert (strlen (error.field) == 254 && strncmp (error.field, "/aü", 4) == 0);
    json_t *reply = json_string (error.field); //  NULL if not valid UTF-8
    assert (reply);
    json_decref (reply);
    json_decref (document);
    schalt_schema_destroy (&schema);
    json_decref (json);
    //  An enum list too long for the message ends in "..."
    json = json_pack ("{s[sssss]}", "enum", title, title, title, title, title);
    schema = schalt_schema_new (json, &error);
    assert (schema);
    document = json_string ("no");
    assert (!schalt_schema_validate (schema, document, &error));
    assert (strlen (error.message) <= 255 && strstr (error.message, "...") != NULL);
    reply = json_string (error.message);
    assert (reply);
    json_decref (reply);
    json_decref (document);
    schalt_schema_destroy (&schema);
    json_decref (json);
    //  Patterns see bytes, whatever locale the process has chosen
    char *locale = strdup (setlocale (LC_ALL, NULL));
    if (setlocale (LC_ALL, "C.UTF-8")) {
        json = s_test_json ("{'pattern':'^.{9}$'}");
        schema = schalt_schema_new (json, NULL);
        document = json_string ("Übergang"); //  9 bytes
        assert (schema && schalt_schema_validate (schema, document, NULL));
        json_decref (document);
        schalt_schema_destroy (&schema);
        json_decref (json);
        setlocale (LC_ALL, locale);
    }
    free (locale);
}

void
schalt_schema_test (bool verbose)
{
    printf (" * schalt_schema: ");
    if (verbose)
        printf ("\n");
    s_test_suite (verbose);
    s_test_cases ();
    s_test_long ();
    schalt_schema_test_set ();

    //  A pattern that refuses [:cntrl:] refuses the C1 controls too, not
    //  other characters of two bytes
    json_t *line = json_pack ("{s:s}", "pattern", "^[^[:cntrl:]]*$");
    schalt_schema_t *schema = schalt_schema_new (line, NULL);
    assert (schema);
    const char *texts[] = {"Ida\xc2\x85Klein", "Ida\xc2\x9bKlein",
                           ("Übergang \xc2\xa0"
                            "A")};
    const bool valid[] = {false, false, true};
    for (int index = 0; index < 3; index++) {
        json_t *text = json_string (texts[index]);
        assert (schalt_schema_validate (schema, text, NULL) == valid[index]);
        json_decref (text);
    }
    schalt_schema_destroy (&schema);
    json_decref (line);
    printf ("OK\n");
}
