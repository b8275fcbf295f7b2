/*  schalt_schema - JSON Schema (draft 7) validation of every inbound message.

    A schema is compiled once into a tree of nodes: every keyword is checked
    there, patterns become regex_t, and a keyword this validator does not
    implement refuses the whole schema (message "unsupported ..."), so a
    schema can never check less than it says. Validation then only walks the
    nodes. Patterns are POSIX extended regular expressions applied to the
    UTF-8 bytes in the C locale, whatever locale the process has set.

    The error reported is the first violation in document order: first what
    is wrong with a value itself (type, const, enum, length, pattern, format,
    bounds, item count), then its members or items in the order they appear,
    then the required members that are missing.
*/

#include "schalt_schema.h"

#include <czmq.h>
#include <dirent.h>
#include <locale.h>
#include <regex.h>
#include <sys/stat.h>

//  Type bits, in the order of s_types
enum { T_STRING = 1, T_INTEGER = 2, T_NUMBER = 4, T_BOOLEAN = 8, T_OBJECT = 16, T_ARRAY = 32 };
static const struct {
    const char *name; //  as written in a schema
    const char *noun; //  as written in a message
} s_types[] = {{"string", "a string"},   {"integer", "an integer"}, {"number", "a number"},
               {"boolean", "a boolean"}, {"object", "an object"},   {"array", "an array"},
               {"null", "null"}};
#define TYPE_COUNT (sizeof (s_types) / sizeof (s_types[0]))

//  Indexes of the count limits and numeric bounds of a node
enum { MIN_LENGTH, MAX_LENGTH, MIN_ITEMS, MAX_ITEMS, LIMIT_COUNT };
enum { MINIMUM, MAXIMUM, BOUND_COUNT };
typedef enum { FORMAT_NONE, FORMAT_EMAIL, FORMAT_DATE_TIME } format_t;

typedef struct _node_t node_t;
typedef struct {
    const char *name; //  borrowed from the schema copy
    size_t length;
    node_t *schema;
} property_t;

//  One compiled (sub)schema. json_t pointers are borrowed from the copy.
struct _node_t {
    bool is_boolean; //  a boolean schema: true accepts all, false nothing
    bool accepts;
    unsigned types;         //  T_* bits (null is 1 << 6); 0 means any type
    property_t *properties; //  sorted by s_property_compare
    size_t property_count;
    node_t *additional; //  additionalProperties; NULL accepts any
    json_t *required;   //  array of names, or NULL
    json_t *enum_values;
    json_t *const_value;
    size_t limits[LIMIT_COUNT];
    bool has_limit[LIMIT_COUNT];
    json_t *bounds[BOUND_COUNT];
    regex_t pattern;
    bool has_pattern;
    const char *rule; //  a description that starts "must ", said when the pattern fails
    format_t format;
    node_t *items;
};

struct _schalt_schema_t {
    json_t *source;  //  our copy of the schema
    node_t *root;    //  compiled tree
    locale_t locale; //  the C locale, for regcomp and regexec
};

struct _schalt_schema_set_t {
    zhashx_t *schemas; //  name -> schalt_schema_t
};

//  State of one compilation or validation: where we are, where errors go
typedef struct {
    char path[256]; //  JSON pointer of the current location
    size_t length;
    schalt_schema_error_t *error;
    locale_t locale;
} s_ctx_t;

//  -------------------------------------------------------------------------
//  Text helpers

//  Cuts an incomplete UTF-8 sequence off the end of text; returns the length
static size_t
s_utf8_trim (char *text, size_t length)
{
    if (length == 0)
        return 0;
    size_t lead = length - 1;
    while (lead > 0 && length - lead < 4 && ((unsigned char)text[lead] & 0xC0) == 0x80)
        lead--;
    unsigned char c = (unsigned char)text[lead];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (length - lead < need)
        length = lead;
    text[length] = 0;
    return length;
}

//  Appends text to buffer; returns -1 (keeping what fits) if it did not fit
static int
s_append (char *buffer, size_t size, size_t *length, const char *text, size_t text_length)
{
    size_t room = size - 1 - *length;
    size_t count = text_length < room ? text_length : room;
    memcpy (buffer + *length, text, count);
    *length += count;
    buffer[*length] = 0;
    return count < text_length ? -1 : 0;
}

//  Appends "/" and an escaped segment to the path; returns the old length
static size_t
s_path_push (s_ctx_t *ctx, const char *segment, size_t length)
{
    size_t saved = ctx->length;
    int rc = s_append (ctx->path, sizeof ctx->path, &ctx->length, "/", 1);
    for (size_t index = 0; index < length && rc == 0; index++) {
        const char *piece = segment[index] == '~'   ? "~0"
                            : segment[index] == '/' ? "~1"
                                                    : segment + index;
        size_t size = piece == segment + index ? 1 : 2;
        if (sizeof ctx->path - 1 - ctx->length < size)
            break; //  never half an escape
        rc = s_append (ctx->path, sizeof ctx->path, &ctx->length, piece, size);
    }
    //  A path too long for the buffer stays a (valid UTF-8) prefix
    ctx->length = s_utf8_trim (ctx->path, ctx->length);
    return saved;
}

//  Appends an array index to the path; returns the old length
static size_t
s_path_push_index (s_ctx_t *ctx, size_t index)
{
    char text[32];
    int length = snprintf (text, sizeof text, "%zu", index);
    return s_path_push (ctx, text, (size_t)length);
}

static void
s_path_pop (s_ctx_t *ctx, size_t saved)
{
    ctx->length = saved;
    ctx->path[saved] = 0;
}

//  Records a failure at the current path (if errors are wanted); returns -1
static int
s_fail (s_ctx_t *ctx, const char *format, ...)
{
    if (ctx->error) {
        snprintf (ctx->error->field, sizeof ctx->error->field, "%s", ctx->path);
        va_list args;
        va_start (args, format);
        int length = vsnprintf (ctx->error->message, sizeof ctx->error->message, format, args);
        va_end (args);
        if (length >= (int)sizeof ctx->error->message)
            s_utf8_trim (ctx->error->message, sizeof ctx->error->message - 1);
    }
    return -1;
}

//  True if the JSON string is exactly the literal (no hidden NUL bytes)
static bool
s_text_is (json_t *string, const char *literal)
{
    return json_string_length (string) == strlen (literal) &&
           memcmp (json_string_value (string), literal, strlen (literal)) == 0;
}

//  -------------------------------------------------------------------------
//  Numbers and equality

//  True if the (finite) double has no fraction
static bool
s_is_integral (double value)
{
    if (value >= 0x1p63 || value < -0x1p63)
        return true; //  doubles that large have no fraction bits
    return (double)(long long)value == value;
}

//  Compares an integer with a real exactly; returns -1, 0 or 1
static int
s_compare_int_real (json_int_t integer, double real)
{
    if (real >= 0x1p63)
        return -1;
    if (real < -0x1p63)
        return 1;
    long long whole = (long long)real; //  truncated toward zero
    if ((double)whole > real)
        whole--; //  now the floor of real
    if (integer != whole)
        return integer < whole ? -1 : 1;
    return (double)whole == real ? 0 : -1;
}

//  Compares two JSON numbers by value (1 equals 1.0); returns -1, 0 or 1
static int
s_compare_numbers (json_t *a, json_t *b)
{
    if (json_is_integer (a) && json_is_integer (b))
        return (json_integer_value (a) > json_integer_value (b)) -
               (json_integer_value (a) < json_integer_value (b));
    if (json_is_real (a) && json_is_real (b))
        return (json_real_value (a) > json_real_value (b)) -
               (json_real_value (a) < json_real_value (b));
    if (json_is_integer (a))
        return s_compare_int_real (json_integer_value (a), json_real_value (b));
    return -s_compare_int_real (json_integer_value (b), json_real_value (a));
}

//  True if a and b are equal as JSON Schema sees it (numbers by value)
static bool
s_equal (json_t *a, json_t *b)
{
    if (json_is_number (a) && json_is_number (b))
        return s_compare_numbers (a, b) == 0;
    if (json_typeof (a) != json_typeof (b))
        return false;
    if (json_is_string (a))
        return json_string_length (a) == json_string_length (b) &&
               memcmp (json_string_value (a), json_string_value (b), json_string_length (a)) == 0;
    if (json_is_array (a)) {
        if (json_array_size (a) != json_array_size (b))
            return false;
        for (size_t index = 0; index < json_array_size (a); index++)
            if (!s_equal (json_array_get (a, index), json_array_get (b, index)))
                return false;
        return true;
    }
    if (json_is_object (a)) {
        if (json_object_size (a) != json_object_size (b))
            return false;
        const char *key;
        size_t key_length;
        json_t *value;
        json_object_keylen_foreach (a, key, key_length, value)
        {
            json_t *other = json_object_getn (b, key, key_length);
            if (!other || !s_equal (value, other))
                return false;
        }
    }
    return true; //  true, false, null, or equal objects
}

//  Writes a number as a message shows it
static void
s_number_text (json_t *number, char *text, size_t size)
{
    if (json_is_integer (number))
        snprintf (text, size, "%" JSON_INTEGER_FORMAT, json_integer_value (number));
    else {
        //  Shortest of the usual precisions that reads back exactly
        snprintf (text, size, "%.15g", json_real_value (number));
        if (strtod (text, NULL) != json_real_value (number))
            snprintf (text, size, "%.17g", json_real_value (number));
    }
}

//  -------------------------------------------------------------------------
//  Formats

//  Reads count decimal digits at text; returns the value, or -1
static int
s_digits (const char *text, int count)
{
    int value = 0;
    for (int index = 0; index < count; index++) {
        if (text[index] < '0' || text[index] > '9')
            return -1;
        value = value * 10 + (text[index] - '0');
    }
    return value;
}

//  True if text is an RFC 3339 date-time (second 60 only at 23:59 UTC)
static bool
s_is_date_time (const char *text, size_t length)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (length < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
        text[13] != ':' || text[16] != ':')
        return false;
    int year = s_digits (text, 4), month = s_digits (text + 5, 2), day = s_digits (text + 8, 2);
    int hour = s_digits (text + 11, 2), minute = s_digits (text + 14, 2);
    int second = s_digits (text + 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > days[month - 1] + (month == 2 && leap))
        return false;
    size_t at = 19;
    if (text[at] == '.') { //  fraction: at least one digit
        size_t start = ++at;
        while (at < length && text[at] >= '0' && text[at] <= '9')
            at++;
        if (at == start)
            return false;
    }
    int offset = 0; //  minutes east of UTC
    if (at + 1 == length && (text[at] == 'Z' || text[at] == 'z'))
        offset = 0;
    else if (at + 6 == length && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
        int offset_hour = s_digits (text + at + 1, 2), offset_minute = s_digits (text + at + 4, 2);
        if (offset_hour < 0 || offset_hour > 23 || offset_minute < 0 || offset_minute > 59)
            return false;
        offset = (offset_hour * 60 + offset_minute) * (text[at] == '-' ? -1 : 1);
    } else
        return false;
    //  A leap second is inserted at the end of a UTC day only
    int utc_minute = ((hour * 60 + minute - offset) % 1440 + 1440) % 1440;
    return second < 60 || utc_minute == 23 * 60 + 59;
}

//  True if text is a practical e-mail address: dot-atom local part, then
//  a domain of at least two labels of letters, digits and inner hyphens
static bool
s_is_email (const char *text, size_t length)
{
    const char *at = memchr (text, '@', length);
    if (!at || length > 254 || memchr (at + 1, '@', length - (size_t)(at - text) - 1))
        return false;
    size_t local = (size_t)(at - text);
    if (local == 0 || local > 64 || text[0] == '.' || text[local - 1] == '.')
        return false;
    for (size_t index = 0; index < local; index++) {
        unsigned char c = (unsigned char)text[index];
        if (c <= ' ' || c >= 0x7F || strchr ("<>()[],;:\"\\", c) ||
            (c == '.' && text[index + 1] == '.'))
            return false;
    }
    size_t labels = 0, label = 0; //  label count, current label length
    for (const char *p = at + 1; p <= text + length; p++) {
        if (p == text + length || *p == '.') {
            if (label == 0 || label > 63 || p[-1] == '-' || p[-label] == '-')
                return false;
            labels++;
            label = 0;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '-')
            label++;
        else
            return false;
    }
    return labels >= 2;
}

//  -------------------------------------------------------------------------
//  Compiling

static node_t *s_compile (json_t *schema, s_ctx_t *ctx);

//  Frees a node and everything below it; clears the pointer
static void
s_node_destroy (node_t **node_p)
{
    node_t *node = *node_p;
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

//  Orders properties by name length, then bytes (for bsearch)
static int
s_property_compare (const void *a, const void *b)
{
    const property_t *left = a, *right = b;
    if (left->length != right->length)
        return left->length < right->length ? -1 : 1;
    return memcmp (left->name, right->name, left->length);
}

//  Each keyword handler stores value in node; returns 0, or -1 via s_fail
typedef int (keyword_fn) (node_t *node, json_t *value, s_ctx_t *ctx, int arg);

static int
s_keyword_type (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
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
            if (s_text_is (name, s_types[type].name))
                bit = 1u << type;
        if (bit == 0 || (node->types & bit))
            rc = -1;
        node->types |= bit;
    }
    json_decref (single);
    return rc ? s_fail (ctx, "must be a type name or an array of distinct type names") : 0;
}

static int
s_keyword_properties (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
{
    (void)arg;
    if (!json_is_object (value))
        return s_fail (ctx, "must be an object of schemas");
    node->properties = calloc (json_object_size (value) + 1, sizeof (property_t));
    assert (node->properties);
    const char *key;
    size_t key_length;
    json_t *schema;
    json_object_keylen_foreach (value, key, key_length, schema)
    {
        size_t saved = s_path_push (ctx, key, key_length);
        node_t *child = s_compile (schema, ctx);
        s_path_pop (ctx, saved);
        if (!child)
            return -1;
        node->properties[node->property_count++] = (property_t){key, key_length, child};
    }
    qsort (node->properties, node->property_count, sizeof (property_t), s_property_compare);
    return 0;
}

//  additionalProperties (arg 0) and items (arg 1): one schema
static int
s_keyword_schema (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
{
    if (arg == 1 && json_is_array (value))
        return s_fail (ctx, "unsupported: items as an array of schemas");
    node_t **target = arg == 0 ? &node->additional : &node->items;
    *target = s_compile (value, ctx);
    return *target ? 0 : -1;
}

static int
s_keyword_required (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
{
    (void)arg;
    size_t index, other;
    json_t *name;
    if (!json_is_array (value))
        return s_fail (ctx, "must be an array of distinct strings");
    json_array_foreach (value, index, name)
    {
        if (!json_is_string (name))
            return s_fail (ctx, "must be an array of distinct strings");
        for (other = 0; other < index; other++)
            if (s_equal (name, json_array_get (value, other)))
                return s_fail (ctx, "must be an array of distinct strings");
    }
    node->required = value;
    return 0;
}

//  enum (arg 0) must be an array; const (arg 1) may be any value
static int
s_keyword_values (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
{
    if (arg == 0 && !json_is_array (value))
        return s_fail (ctx, "must be an array");
    *(arg == 0 ? &node->enum_values : &node->const_value) = value;
    return 0;
}

//  minLength, maxLength, minItems, maxItems (arg: limit index)
static int
s_keyword_limit (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
{
    if (json_is_integer (value) && json_integer_value (value) >= 0)
        node->limits[arg] = (uintmax_t)json_integer_value (value) > SIZE_MAX
                                ? SIZE_MAX
                                : (size_t)json_integer_value (value);
    else if (json_is_real (value) && json_real_value (value) >= 0 &&
             s_is_integral (json_real_value (value)))
        node->limits[arg] = json_real_value (value) >= (double)SIZE_MAX
                                ? SIZE_MAX
                                : (size_t)json_real_value (value);
    else
        return s_fail (ctx, "must be a non-negative integer");
    node->has_limit[arg] = true;
    return 0;
}

//  minimum, maximum (arg: bound index)
static int
s_keyword_bound (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
{
    if (!json_is_number (value))
        return s_fail (ctx, "must be a number");
    node->bounds[arg] = value;
    return 0;
}

static int
s_keyword_pattern (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
{
    (void)arg;
    if (!json_is_string (value) || strlen (json_string_value (value)) != json_string_length (value))
        return s_fail (ctx, "must be a regular expression");
    locale_t previous = uselocale (ctx->locale);
    int rc = regcomp (&node->pattern, json_string_value (value), REG_EXTENDED | REG_NOSUB);
    uselocale (previous);
    if (rc) {
        char reason[128];
        regerror (rc, NULL, reason, sizeof reason);
        return s_fail (ctx, "is not a POSIX extended regular expression: %s", reason);
    }
    node->has_pattern = true;
    return 0;
}

static int
s_keyword_format (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
{
    (void)arg;
    if (!json_is_string (value))
        return s_fail (ctx, "must be a string");
    node->format = s_text_is (value, "email")       ? FORMAT_EMAIL
                   : s_text_is (value, "date-time") ? FORMAT_DATE_TIME
                                                    : FORMAT_NONE;
    if (node->format == FORMAT_NONE)
        return s_fail (ctx, "unsupported format: %s", json_string_value (value));
    return 0;
}

//  Annotations are ignored but must have their type: arg 1 string, 2 array,
//  3 a description (a string).
//  A string that starts with "must " (a description) states the rule a
//  pattern enforces, and becomes the message when the pattern fails.
static int
s_keyword_annotation (node_t *node, json_t *value, s_ctx_t *ctx, int arg)
{
    if ((arg == 1 || arg == 3) && !json_is_string (value))
        return s_fail (ctx, "must be a string");
    if (arg == 3 && strncmp (json_string_value (value), "must ", 5) == 0)
        node->rule = json_string_value (value);
    if (arg == 2 && !json_is_array (value))
        return s_fail (ctx, "must be an array");
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

//  Compiles one (sub)schema; returns the node, or NULL after s_fail
static node_t *
s_compile (json_t *schema, s_ctx_t *ctx)
{
    node_t *node = calloc (1, sizeof (node_t));
    assert (node);
    if (json_is_boolean (schema)) {
        node->is_boolean = true;
        node->accepts = json_is_true (schema);
        return node;
    }
    if (!json_is_object (schema)) {
        s_fail (ctx, "must be a schema (an object or a boolean)");
        free (node);
        return NULL;
    }
    const char *key;
    size_t key_length;
    json_t *value;
    json_object_keylen_foreach (schema, key, key_length, value)
    {
        size_t saved = s_path_push (ctx, key, key_length);
        size_t index = 0;
        while (index < sizeof s_keywords / sizeof s_keywords[0] &&
               (strlen (s_keywords[index].name) != key_length ||
                memcmp (s_keywords[index].name, key, key_length) != 0))
            index++;
        int rc = index < sizeof s_keywords / sizeof s_keywords[0]
                     ? s_keywords[index].compile (node, value, ctx, s_keywords[index].arg)
                     : s_fail (ctx, "unsupported keyword");
        s_path_pop (ctx, saved);
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
    s_ctx_t ctx = {.error = error, .locale = self->locale};
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
//  Validating

static int s_check (node_t *node, json_t *value, s_ctx_t *ctx);

//  True if the value is of one of the types (a whole real is an integer)
static bool
s_type_matches (unsigned types, json_t *value)
{
    switch (json_typeof (value)) {
        case JSON_OBJECT:
            return types & T_OBJECT;
        case JSON_ARRAY:
            return types & T_ARRAY;
        case JSON_STRING:
            return types & T_STRING;
        case JSON_INTEGER:
            return types & (T_INTEGER | T_NUMBER);
        case JSON_REAL:
            return (types & T_NUMBER) ||
                   ((types & T_INTEGER) && s_is_integral (json_real_value (value)));
        case JSON_TRUE:
        case JSON_FALSE:
            return types & T_BOOLEAN;
        default:
            return types & (1u << (TYPE_COUNT - 1));
    }
}

//  Fails with "must be a string, an integer or null"; returns -1
static int
s_fail_type (s_ctx_t *ctx, unsigned types)
{
    if (!ctx->error)
        return -1;
    char text[256] = "must be";
    size_t length = strlen (text), count = 0, seen = 0;
    for (size_t type = 0; type < TYPE_COUNT; type++)
        count += (types >> type) & 1;
    for (size_t type = 0; type < TYPE_COUNT; type++)
        if (types & (1u << type)) {
            const char *joint = seen == 0 ? " " : seen == count - 1 ? " or " : ", ";
            s_append (text, sizeof text, &length, joint, strlen (joint));
            s_append (text, sizeof text, &length, s_types[type].noun, strlen (s_types[type].noun));
            seen++;
        }
    return s_fail (ctx, "%s", text);
}

//  Fails with prefix and the values listed (strings as they are); returns -1
static int
s_fail_values (s_ctx_t *ctx, const char *prefix, json_t *values)
{
    if (!ctx->error)
        return -1;
    char text[256];
    size_t length = 0, index;
    json_t *value;
    int rc = s_append (text, sizeof text, &length, prefix, strlen (prefix));
    json_array_foreach (values, index, value)
    {
        if (index > 0 && rc == 0)
            rc = s_append (text, sizeof text, &length, ", ", 2);
        char *dump =
            json_is_string (value) ? NULL : json_dumps (value, JSON_ENCODE_ANY | JSON_COMPACT);
        const char *shown = dump ? dump : json_is_string (value) ? json_string_value (value) : "?";
        if (rc == 0)
            rc = s_append (text, sizeof text, &length, shown, strlen (shown));
        free (dump);
    }
    if (rc) { //  did not fit: end with "..." on a character boundary
        length = s_utf8_trim (text, length - 3);
        s_append (text, sizeof text, &length, "...", 3);
    }
    return s_fail (ctx, "%s", text);
}

static int
s_check_string (node_t *node, json_t *value, s_ctx_t *ctx)
{
    const char *text = json_string_value (value);
    size_t size = json_string_length (value), chars = 0;
    for (size_t index = 0; index < size; index++)
        chars += ((unsigned char)text[index] & 0xC0) != 0x80; //  code points
    size_t limit = node->limits[MIN_LENGTH];
    if (node->has_limit[MIN_LENGTH] && chars < limit)
        return s_fail (ctx, "must be at least %zu character%s", limit, limit == 1 ? "" : "s");
    limit = node->limits[MAX_LENGTH];
    if (node->has_limit[MAX_LENGTH] && chars > limit)
        return s_fail (ctx, "must be at most %zu character%s", limit, limit == 1 ? "" : "s");
    if (node->has_pattern) {
        if (size > INT_MAX) //  beyond what regoff_t may hold
            return s_fail (ctx, "does not match the required pattern");
        //  REG_STARTEND: match all bytes, even past a NUL
        regmatch_t range = {.rm_so = 0, .rm_eo = (regoff_t)size};
        locale_t previous = uselocale (ctx->locale);
        int rc = regexec (&node->pattern, text, 1, &range, REG_STARTEND);
        uselocale (previous);
        if (rc != 0)
            return s_fail (ctx, "%s", node->rule ? node->rule : "does not match the required pattern");
    }
    if (node->format == FORMAT_EMAIL && !s_is_email (text, size))
        return s_fail (ctx, "must be a valid e-mail address");
    if (node->format == FORMAT_DATE_TIME && !s_is_date_time (text, size))
        return s_fail (ctx, "must be an RFC 3339 date-time");
    return 0;
}

static int
s_check_number (node_t *node, json_t *value, s_ctx_t *ctx)
{
    char text[64];
    json_t *bound = node->bounds[MINIMUM];
    if (bound && s_compare_numbers (value, bound) < 0) {
        s_number_text (bound, text, sizeof text);
        return s_fail (ctx, "must be at least %s", text);
    }
    bound = node->bounds[MAXIMUM];
    if (bound && s_compare_numbers (value, bound) > 0) {
        s_number_text (bound, text, sizeof text);
        return s_fail (ctx, "must be at most %s", text);
    }
    return 0;
}

static int
s_check_object (node_t *node, json_t *value, s_ctx_t *ctx)
{
    const char *key;
    size_t key_length, index;
    json_t *member, *name;
    json_object_keylen_foreach (value, key, key_length, member)
    {
        property_t wanted = {key, key_length, NULL};
        property_t *property = node->property_count
                                   ? bsearch (&wanted, node->properties, node->property_count,
                                              sizeof (property_t), s_property_compare)
                                   : NULL;
        node_t *schema = property ? property->schema : node->additional;
        size_t saved = s_path_push (ctx, key, key_length);
        int rc = schema ? s_check (schema, member, ctx) : 0;
        s_path_pop (ctx, saved);
        if (rc)
            return -1;
    }
    json_array_foreach (node->required, index, name)
    {
        const char *text = json_string_value (name);
        if (!json_object_getn (value, text, json_string_length (name))) {
            size_t saved = s_path_push (ctx, text, json_string_length (name));
            s_fail (ctx, "is required");
            s_path_pop (ctx, saved);
            return -1;
        }
    }
    return 0;
}

static int
s_check_array (node_t *node, json_t *value, s_ctx_t *ctx)
{
    size_t size = json_array_size (value), limit = node->limits[MIN_ITEMS], index;
    if (node->has_limit[MIN_ITEMS] && size < limit)
        return s_fail (ctx, "must have at least %zu item%s", limit, limit == 1 ? "" : "s");
    limit = node->limits[MAX_ITEMS];
    if (node->has_limit[MAX_ITEMS] && size > limit)
        return s_fail (ctx, "must have at most %zu item%s", limit, limit == 1 ? "" : "s");
    json_t *item;
    json_array_foreach (value, index, item)
    {
        size_t saved = s_path_push_index (ctx, index);
        int rc = node->items ? s_check (node->items, item, ctx) : 0;
        s_path_pop (ctx, saved);
        if (rc)
            return -1;
    }
    return 0;
}

//  Checks a value against a node; returns 0, or -1 after s_fail
static int
s_check (node_t *node, json_t *value, s_ctx_t *ctx)
{
    if (node->is_boolean)
        return node->accepts ? 0 : s_fail (ctx, "is not allowed");
    if (node->types && !s_type_matches (node->types, value))
        return s_fail_type (ctx, node->types);
    if (node->const_value && !s_equal (value, node->const_value)) {
        if (!ctx->error)
            return -1;
        json_t *single = json_pack ("[O]", node->const_value);
        s_fail_values (ctx, "must be ", single);
        json_decref (single);
        return -1;
    }
    if (node->enum_values) {
        size_t index;
        json_t *allowed;
        bool found = false;
        json_array_foreach (node->enum_values, index, allowed) found =
            found || s_equal (value, allowed);
        if (!found)
            return s_fail_values (ctx, "must be one of: ", node->enum_values);
    }
    switch (json_typeof (value)) {
        case JSON_STRING:
            return s_check_string (node, value, ctx);
        case JSON_INTEGER:
        case JSON_REAL:
            return s_check_number (node, value, ctx);
        case JSON_OBJECT:
            return s_check_object (node, value, ctx);
        case JSON_ARRAY:
            return s_check_array (node, value, ctx);
        default:
            return 0;
    }
}

bool
schalt_schema_validate (schalt_schema_t *self, json_t *document, schalt_schema_error_t *error)
{
    assert (self);
    assert (document);
    s_ctx_t ctx = {.error = error, .locale = self->locale};
    return s_check (self->root, document, &ctx) == 0;
}

//  -------------------------------------------------------------------------
//  Schema sets

static int s_set_load (zhashx_t *schemas, const char *root, const char *relative, int depth);

static void
s_set_item_destroy (void **item)
{
    schalt_schema_destroy ((schalt_schema_t **)item);
}

//  Loads one file as schema `name` (relative path, ".json" is cut off
//  here); returns 0, or 1 after logging why the file is bad
static int
s_set_load_file (zhashx_t *schemas, const char *path, char *name)
{
    json_error_t json_error;
    json_t *json = json_load_file (path, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &json_error);
    if (!json) {
        zsys_error ("schema: bad json path=%s line=%d error=%s", path, json_error.line,
                    json_error.text);
        return 1;
    }
    schalt_schema_error_t error;
    schalt_schema_t *schema = schalt_schema_new (json, &error);
    json_decref (json);
    if (!schema) {
        zsys_error ("schema: refused path=%s field=%s error=%s", path, error.field, error.message);
        return 1;
    }
    name[strlen (name) - strlen (".json")] = 0;
    if (zhashx_insert (schemas, name, schema) == 0)
        return 0;
    zsys_error ("schema: duplicate name=%s path=%s", name, path);
    schalt_schema_destroy (&schema);
    return 1;
}

//  Loads one folder entry (root/relative/entry); returns the bad file count
static int
s_set_load_entry (zhashx_t *schemas, const char *root, const char *relative, const char *entry,
                  int depth)
{
    char *name = *relative ? zsys_sprintf ("%s/%s", relative, entry) : strdup (entry);
    char *path = zsys_sprintf ("%s/%s", root, name);
    assert (name && path);
    size_t length = strlen (name);
    struct stat status;
    int bad = 0;
    if (stat (path, &status)) {
        zsys_error ("schema: cannot read path=%s error=%s", path, strerror (errno));
        bad = 1;
    } else if (S_ISDIR (status.st_mode) && depth >= 16) {
        zsys_error ("schema: folders nested too deep path=%s", path);
        bad = 1;
    } else if (S_ISDIR (status.st_mode))
        bad = s_set_load (schemas, root, name, depth + 1);
    else if (S_ISREG (status.st_mode) && length > 5 && streq (name + length - 5, ".json"))
        bad = s_set_load_file (schemas, path, name);
    free (name);
    free (path);
    return bad;
}

//  Loads the folder root/relative (sorted, hidden entries skipped);
//  returns the number of bad files and folders
static int
s_set_load (zhashx_t *schemas, const char *root, const char *relative, int depth)
{
    char *folder = *relative ? zsys_sprintf ("%s/%s", root, relative) : strdup (root);
    assert (folder);
    struct dirent **entries;
    int count = scandir (folder, &entries, NULL, alphasort), bad = 0;
    if (count < 0) {
        zsys_error ("schema: cannot read folder path=%s error=%s", folder, strerror (errno));
        bad = 1;
    }
    for (int index = 0; index < count; index++) {
        if (entries[index]->d_name[0] != '.')
            bad += s_set_load_entry (schemas, root, relative, entries[index]->d_name, depth);
        free (entries[index]);
    }
    if (count >= 0)
        free (entries);
    free (folder);
    return bad;
}

schalt_schema_set_t *
schalt_schema_set_new (const char *folder)
{
    assert (folder);
    schalt_schema_set_t *self = calloc (1, sizeof (schalt_schema_set_t));
    assert (self);
    self->schemas = zhashx_new ();
    assert (self->schemas);
    zhashx_set_destructor (self->schemas, s_set_item_destroy);
    int bad = s_set_load (self->schemas, folder, "", 0);
    if (bad) {
        zsys_error ("schema: not loaded folder=%s bad=%d", folder, bad);
        schalt_schema_set_destroy (&self);
    }
    return self;
}

void
schalt_schema_set_destroy (schalt_schema_set_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zhashx_destroy (&(*self_p)->schemas);
        free (*self_p);
        *self_p = NULL;
    }
}

schalt_schema_t *
schalt_schema_set_lookup (schalt_schema_set_t *self, const char *name)
{
    assert (self);
    assert (name);
    return (schalt_schema_t *)zhashx_lookup (self->schemas, name);
}

size_t
schalt_schema_set_size (schalt_schema_set_t *self)
{
    assert (self);
    return zhashx_size (self->schemas);
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
    {"{'required':['a','a']}", "/required", "must be an array of distinct strings"},
    {"{'enum':1}", "/enum", "must be an array"},
    {"{'minimum':'1'}", "/minimum", "must be a number"},
    {"{'title':5}", "/title", "must be a string"},
    {"{'items':{'properties':{'x':5}}}", "/items/properties/x", "must be a schema"},
    {"5", "", "must be a schema"},
};

static const char *s_date_times[] = {"2024-02-29T10:00:00Z",
                                     "2000-02-29t00:00:00.5z",
                                     "1998-12-31T23:59:60Z",
                                     "1998-12-31T15:59:60.123-08:00",
                                     "1999-01-01T00:59:60+01:00",
                                     "0000-01-01T00:00:00+23:59",
                                     NULL, //  the rest are invalid
                                     "2023-02-29T10:00:00Z",
                                     "1900-02-29T10:00:00Z",
                                     "2024-04-31T10:00:00Z",
                                     "2024-13-01T10:00:00Z",
                                     "2024-01-01 10:00:00Z",
                                     "2024-01-01T10:00:00",
                                     "2024-01-01T10:00:00.Z",
                                     "2024-01-01T24:00:00Z",
                                     "2024-01-01T10:00:00+01:60",
                                     "2024-01-01T10:00:00+24:00",
                                     "1998-12-31T22:59:60Z",
                                     "1998-12-31T23:59:61Z",
                                     "2024-1-01T10:00:00Z",
                                     "2024-01-01T10:00:00Zz",
                                     "2024-01-01T10:00:00+0100",
                                     "2013-350T01:01:01Z",
                                     ""};

static const char *s_emails[] = {"joe.bloggs@example.com",
                                 "te~st@sub.example-1.org",
                                 "a+b@x.co",
                                 NULL,
                                 "2962",
                                 "a@b",
                                 ".a@example.com",
                                 "a.@example.com",
                                 "a..b@example.com",
                                 "a b@example.com",
                                 "a@@example.com",
                                 "a@b@example.com",
                                 "a@-x.com",
                                 "a@x-.com",
                                 "a@x..com",
                                 "a@x.com.",
                                 "\"a\"@x.com",
                                 "a@x_y.com",
                                 "@example.com",
                                 "\xc3\xbc@example.com",
                                 ""};

//  Checks a list of strings (valid ones, NULL, invalid ones) against a format
static void
s_test_format (const char *format, const char **values, size_t count)
{
    json_t *json = json_pack ("{ss}", "format", format);
    schalt_schema_t *schema = schalt_schema_new (json, NULL);
    assert (schema);
    bool expected = true;
    for (size_t index = 0; index < count; index++) {
        if (!values[index]) {
            expected = false;
            continue;
        }
        json_t *value = json_string (values[index]);
        if (schalt_schema_validate (schema, value, NULL) != expected)
            fprintf (stderr, "schema test: FAIL %s %s\n", format, values[index]);
        assert (schalt_schema_validate (schema, value, NULL) == expected);
        json_decref (value);
    }
    schalt_schema_destroy (&schema);
    json_decref (json);
}

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
    s_test_format ("date-time", s_date_times, sizeof s_date_times / sizeof s_date_times[0]);
    s_test_format ("email", s_emails, sizeof s_emails / sizeof s_emails[0]);
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

//  Writes text (with ' for ") to folder/name, making parent folders
static void
s_test_write (const char *folder, const char *name, const char *text)
{
    char *path = zsys_sprintf ("%s/%s", folder, name);
    for (char *slash = strchr (path + strlen (folder) + 1, '/'); slash;
         slash = strchr (slash + 1, '/')) {
        *slash = 0;
        mkdir (path, 0700);
        *slash = '/';
    }
    FILE *file = fopen (path, "w");
    assert (file);
    for (const char *p = text; *p; p++)
        fputc (*p == '\'' ? '"' : *p, file);
    fclose (file);
    free (path);
}

//  Loads schema sets from a temporary folder
static void
s_test_set (void)
{
    char folder[] = "/tmp/schalt-schema-XXXXXX";
    assert (mkdtemp (folder));
    s_test_write (folder, "scheduler/event.create.json", "{'type':'object','required':['title']}");
    s_test_write (folder, "registry/deep/ping.json", "true");
    s_test_write (folder, "notes.txt", "not json, not loaded");
    s_test_write (folder, ".hidden.json", "{ hidden and skipped");
    schalt_schema_set_t *set = schalt_schema_set_new (folder);
    assert (set);
    assert (schalt_schema_set_size (set) == 2);
    schalt_schema_t *schema = schalt_schema_set_lookup (set, "scheduler/event.create");
    assert (schema);
    schalt_schema_error_t error;
    json_t *document = json_object ();
    assert (!schalt_schema_validate (schema, document, &error));
    assert (streq (error.field, "/title") && streq (error.message, "is required"));
    json_decref (document);
    assert (schalt_schema_set_lookup (set, "registry/deep/ping"));
    assert (!schalt_schema_set_lookup (set, "scheduler/event.create.json"));
    assert (!schalt_schema_set_lookup (set, "notes"));
    schalt_schema_set_destroy (&set);
    schalt_schema_set_destroy (&set);
    //  One refused schema or one bad JSON file refuses the set
    s_test_write (folder, "registry/bad.json", "{'minLenght':1}");
    assert (schalt_schema_set_new (folder) == NULL);
    s_test_write (folder, "registry/bad.json", "{'type':");
    assert (schalt_schema_set_new (folder) == NULL);
    static const char *made[] = {
        "scheduler/event.create.json", "registry/deep/ping.json", "notes.txt", ".hidden.json",
        "registry/bad.json",           "registry/deep",           "registry",  "scheduler"};
    for (size_t index = 0; index < sizeof made / sizeof made[0]; index++) {
        char *path = zsys_sprintf ("%s/%s", folder, made[index]);
        assert (remove (path) == 0);
        free (path);
    }
    assert (rmdir (folder) == 0);
    assert (schalt_schema_set_new (folder) == NULL);
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
    s_test_set ();
    printf ("OK\n");
}
