/*  schalt_schema_check - validating a document against a compiled schema.

    Walks the nodes that schalt_schema.c compiled and reports the first
    violation in document order: first what is wrong with a value itself
    (type, const, enum, length, pattern, format, bounds, item count), then
    its members or items in the order they appear, then the required members
    that are missing. Also holds the helpers compiling shares with it: JSON
    pointer paths, failure messages, and comparing JSON values as JSON Schema
    does (numbers by value).
*/

#include "schalt_schema_internal.h"

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
size_t
schalt_schema_path_push (schema_ctx_t *ctx, const char *segment, size_t length)
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
s_path_push_index (schema_ctx_t *ctx, size_t index)
{
    char text[32];
    int length = snprintf (text, sizeof text, "%zu", index);
    return schalt_schema_path_push (ctx, text, (size_t)length);
}

//  Cuts the path back to a length that schalt_schema_path_push returned
void
schalt_schema_path_pop (schema_ctx_t *ctx, size_t saved)
{
    ctx->length = saved;
    ctx->path[saved] = 0;
}

//  Records a failure at the current path (if errors are wanted); returns -1
int
schalt_schema_fail (schema_ctx_t *ctx, const char *format, ...)
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

//  -------------------------------------------------------------------------
//  Numbers and equality

//  True if the (finite) double has no fraction
bool
schalt_schema_is_integral (double value)
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
bool
schalt_schema_equal (json_t *a, json_t *b)
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
            if (!schalt_schema_equal (json_array_get (a, index), json_array_get (b, index)))
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
            if (!other || !schalt_schema_equal (value, other))
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

//  Orders properties by name length, then bytes (for bsearch)
int
schalt_schema_property_compare (const void *a, const void *b)
{
    const schema_property_t *left = a, *right = b;
    if (left->length != right->length)
        return left->length < right->length ? -1 : 1;
    return memcmp (left->name, right->name, left->length);
}

//  -------------------------------------------------------------------------
//  Validating

static int s_check (schema_node_t *node, json_t *value, schema_ctx_t *ctx);

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
                   ((types & T_INTEGER) && schalt_schema_is_integral (json_real_value (value)));
        case JSON_TRUE:
        case JSON_FALSE:
            return types & T_BOOLEAN;
        default:
            return types & (1u << (TYPE_COUNT - 1));
    }
}

//  Fails with "must be a string, an integer or null"; returns -1
static int
s_fail_type (schema_ctx_t *ctx, unsigned types)
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
            s_append (text, sizeof text, &length, schalt_schema_types[type].noun,
                      strlen (schalt_schema_types[type].noun));
            seen++;
        }
    return schalt_schema_fail (ctx, "%s", text);
}

//  Fails with prefix and the values listed (strings as they are); returns -1
static int
s_fail_values (schema_ctx_t *ctx, const char *prefix, json_t *values)
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
    return schalt_schema_fail (ctx, "%s", text);
}

static int
s_check_string (schema_node_t *node, json_t *value, schema_ctx_t *ctx)
{
    const char *text = json_string_value (value);
    size_t size = json_string_length (value), chars = 0;
    for (size_t index = 0; index < size; index++)
        chars += ((unsigned char)text[index] & 0xC0) != 0x80; //  code points
    size_t limit = node->limits[MIN_LENGTH];
    if (node->has_limit[MIN_LENGTH] && chars < limit)
        return schalt_schema_fail (ctx, "must be at least %zu character%s", limit,
                                   limit == 1 ? "" : "s");
    limit = node->limits[MAX_LENGTH];
    if (node->has_limit[MAX_LENGTH] && chars > limit)
        return schalt_schema_fail (ctx, "must be at most %zu character%s", limit,
                                   limit == 1 ? "" : "s");
    if (node->has_pattern) {
        if (size > INT_MAX) //  beyond what regoff_t may hold
            return schalt_schema_fail (ctx, "does not match the required pattern");
        //  REG_STARTEND: match all bytes, even past a NUL
        regmatch_t range = {.rm_so = 0, .rm_eo = (regoff_t)size};
        locale_t previous = uselocale (ctx->locale);
        int rc = regexec (&node->pattern, text, 1, &range, REG_STARTEND);
        uselocale (previous);
        //  Matched on bytes, [:cntrl:] misses the C1 controls U+0080..U+009F
        //  (UTF-8 C2 80..C2 9F); a pattern that refuses control characters
        //  refuses those too, as Unicode's category Cc does
        if (rc == 0 && node->pattern_cntrl)
            for (size_t index = 0; index + 1 < size; index++)
                if ((unsigned char)text[index] == 0xC2 && (unsigned char)text[index + 1] >= 0x80 &&
                    (unsigned char)text[index + 1] <= 0x9F)
                    rc = REG_NOMATCH;
        if (rc != 0)
            return schalt_schema_fail (
                ctx, "%s", node->rule ? node->rule : "does not match the required pattern");
    }
    if (node->format == FORMAT_EMAIL && !schalt_schema_is_email (text, size))
        return schalt_schema_fail (ctx, "must be a valid e-mail address");
    if (node->format == FORMAT_DATE_TIME && !schalt_schema_is_date_time (text, size))
        return schalt_schema_fail (ctx, "must be an RFC 3339 date-time");
    return 0;
}

static int
s_check_number (schema_node_t *node, json_t *value, schema_ctx_t *ctx)
{
    char text[64];
    json_t *bound = node->bounds[MINIMUM];
    if (bound && s_compare_numbers (value, bound) < 0) {
        s_number_text (bound, text, sizeof text);
        return schalt_schema_fail (ctx, "must be at least %s", text);
    }
    bound = node->bounds[MAXIMUM];
    if (bound && s_compare_numbers (value, bound) > 0) {
        s_number_text (bound, text, sizeof text);
        return schalt_schema_fail (ctx, "must be at most %s", text);
    }
    return 0;
}

static int
s_check_object (schema_node_t *node, json_t *value, schema_ctx_t *ctx)
{
    const char *key;
    size_t key_length, index;
    json_t *member, *name;
    json_object_keylen_foreach (value, key, key_length, member)
    {
        schema_property_t wanted = {key, key_length, NULL};
        schema_property_t *property =
            node->property_count
                ? bsearch (&wanted, node->properties, node->property_count,
                           sizeof (schema_property_t), schalt_schema_property_compare)
                : NULL;
        schema_node_t *schema = property ? property->schema : node->additional;
        size_t saved = schalt_schema_path_push (ctx, key, key_length);
        int rc = schema ? s_check (schema, member, ctx) : 0;
        schalt_schema_path_pop (ctx, saved);
        if (rc)
            return -1;
    }
    json_array_foreach (node->required, index, name)
    {
        const char *text = json_string_value (name);
        if (!json_object_getn (value, text, json_string_length (name))) {
            size_t saved = schalt_schema_path_push (ctx, text, json_string_length (name));
            schalt_schema_fail (ctx, "is required");
            schalt_schema_path_pop (ctx, saved);
            return -1;
        }
    }
    return 0;
}

static int
s_check_array (schema_node_t *node, json_t *value, schema_ctx_t *ctx)
{
    size_t size = json_array_size (value), limit = node->limits[MIN_ITEMS], index;
    if (node->has_limit[MIN_ITEMS] && size < limit)
        return schalt_schema_fail (ctx, "must have at least %zu item%s", limit,
                                   limit == 1 ? "" : "s");
    limit = node->limits[MAX_ITEMS];
    if (node->has_limit[MAX_ITEMS] && size > limit)
        return schalt_schema_fail (ctx, "must have at most %zu item%s", limit,
                                   limit == 1 ? "" : "s");
    json_t *item;
    json_array_foreach (value, index, item)
    {
        size_t saved = s_path_push_index (ctx, index);
        int rc = node->items ? s_check (node->items, item, ctx) : 0;
        schalt_schema_path_pop (ctx, saved);
        if (rc)
            return -1;
    }
    return 0;
}

//  Checks a value against a node; returns 0, or -1 after schalt_schema_fail
static int
s_check (schema_node_t *node, json_t *value, schema_ctx_t *ctx)
{
    if (node->is_boolean)
        return node->accepts ? 0 : schalt_schema_fail (ctx, "is not allowed");
    if (node->types && !s_type_matches (node->types, value))
        return s_fail_type (ctx, node->types);
    if (node->const_value && !schalt_schema_equal (value, node->const_value)) {
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
            found || schalt_schema_equal (value, allowed);
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
    schema_ctx_t ctx = {.error = error, .locale = self->locale};
    return s_check (self->root, document, &ctx) == 0;
}
