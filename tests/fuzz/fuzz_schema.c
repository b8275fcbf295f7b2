/*  fuzz_schema - libFuzzer target: the JSON Schema validator (schalt_schema)
    over the real schemas of schemas/ (requests, replies and events).

    The input is a schema name, 0xFF, then a JSON document: "request/event.create",
    0xFF, {"kind": ...}. A name that is not a schema picks one by its bytes,
    so every input checks something. The schemas are loaded once, both as
    the validator compiles them and as plain JSON for the checks here.

    Asserts, besides "no crash, no leak, no undefined behaviour":
    - the answer is the same with and without an error record;
    - an accepted document satisfies its schema as an independent walk with
      jansson reads it: holds only the properties its schema allows (with
      additionalProperties false or a schema), has every required member,
      and each value has its type, enum or const value, length in code
      points, item count and numeric bounds (pattern and format are left to
      the validator);
    - a refusal names a message and a field that is a JSON pointer to a value
      of the document or, for "is required", to the missing member of an
      object in it.
*/
#include "fuzz_util.h"
#include "schalt.h"

#include <dirent.h>
#include <math.h>

#define SCHEMAS_MAX 128

typedef struct {
    char name[64];          //  "request/event.create"
    schalt_schema_t *check; //  as compiled by the validator, borrowed from the set
    json_t *json;           //  the schema as JSON
} schema_t;

static schalt_schema_set_t *s_set;
static schema_t s_schemas[SCHEMAS_MAX];
static size_t s_count;

//  Loads every schema of one folder of schemas/ ("request").
static void
s_load_folder (const char *folder)
{
    char *path = zsys_sprintf ("%s/%s", SCHALT_SCHEMA_DIR, folder);
    struct dirent **entries;
    int count = scandir (path, &entries, NULL, alphasort);
    assert (count > 0);
    for (int index = 0; index < count; index++) {
        const char *file = entries[index]->d_name;
        size_t length = strlen (file);
        if (file[0] != '.' && length > 5 && streq (file + length - 5, ".json")) {
            assert (s_count < SCHEMAS_MAX);
            schema_t *schema = &s_schemas[s_count++];
            snprintf (schema->name, sizeof schema->name, "%s/%.*s", folder, (int)(length - 5),
                      file);
            char *file_path = zsys_sprintf ("%s/%s", path, file);
            schema->json = json_load_file (file_path, 0, NULL);
            schema->check = schalt_schema_set_lookup (s_set, schema->name);
            assert (schema->json && schema->check);
            free (file_path);
        }
        free (entries[index]);
    }
    free (entries);
    free (path);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_set = schalt_schema_set_new (SCHALT_SCHEMA_DIR);
    assert (s_set);
    //  Every folder of schemas/ (request, reply, event); the set must agree
    struct dirent **entries;
    int count = scandir (SCHALT_SCHEMA_DIR, &entries, NULL, alphasort);
    assert (count > 0);
    for (int index = 0; index < count; index++) {
        if (entries[index]->d_name[0] != '.' && entries[index]->d_type == DT_DIR)
            s_load_folder (entries[index]->d_name);
        free (entries[index]);
    }
    free (entries);
    assert (s_count == schalt_schema_set_size (s_set));
    return 0;
}

//  --------------------------------------------------------------------------
//  The independent walk

//  True if value has the JSON Schema type named name.
static bool
s_has_type (json_t *value, const char *name)
{
    if (streq (name, "integer"))
        return json_is_integer (value) ||
               (json_is_real (value) && json_real_value (value) == floor (json_real_value (value)));
    if (streq (name, "number"))
        return json_is_number (value);
    if (streq (name, "string"))
        return json_is_string (value);
    if (streq (name, "boolean"))
        return json_is_boolean (value);
    if (streq (name, "object"))
        return json_is_object (value);
    if (streq (name, "array"))
        return json_is_array (value);
    return streq (name, "null") && json_is_null (value);
}

//  True if a and b are equal, numbers by value (lenient where doubles round).
static bool
s_equal (json_t *a, json_t *b)
{
    if (json_is_number (a) && json_is_number (b))
        return json_number_value (a) == json_number_value (b);
    return json_equal (a, b);
}

//  The value as a double, and whether value is below (-1), at (0) or above
//  (1) the bound; integers compare exactly.
static int
s_compare (json_t *value, json_t *bound)
{
    if (json_is_integer (value) && json_is_integer (bound))
        return (json_integer_value (value) > json_integer_value (bound)) -
               (json_integer_value (value) < json_integer_value (bound));
    double a = json_number_value (value), b = json_number_value (bound);
    return (a > b) - (a < b);
}

//  True if the count is within the schema's keywords min and max.
static bool
s_count_ok (json_t *schema, const char *min, const char *max, size_t count)
{
    json_t *low = json_object_get (schema, min), *high = json_object_get (schema, max);
    return (!low || (json_int_t)count >= json_integer_value (low)) &&
           (!high || (json_int_t)count <= json_integer_value (high));
}

static bool s_satisfies (json_t *schema, json_t *value);

//  True if the object has only allowed members, each one valid, and every
//  required member.
static bool
s_object_ok (json_t *schema, json_t *object)
{
    json_t *properties = json_object_get (schema, "properties");
    json_t *additional = json_object_get (schema, "additionalProperties");
    const char *key;
    json_t *member;
    json_object_foreach (object, key, member)
    {
        json_t *property = json_object_get (properties, key);
        if (property ? !s_satisfies (property, member)
                     : additional && !s_satisfies (additional, member))
            return false;
    }
    size_t index;
    json_t *name;
    json_array_foreach (json_object_get (schema, "required"), index,
                        name) if (!json_object_get (object, json_string_value (name))) return false;
    return true;
}

//  True if value satisfies schema in everything but pattern and format.
static bool
s_satisfies (json_t *schema, json_t *value)
{
    if (json_is_boolean (schema))
        return json_is_true (schema);
    json_t *type = json_object_get (schema, "type");
    if (json_is_string (type) && !s_has_type (value, json_string_value (type)))
        return false;
    if (json_is_array (type)) {
        bool any = false;
        size_t index;
        json_t *name;
        json_array_foreach (type, index, name) any =
            any || s_has_type (value, json_string_value (name));
        if (!any)
            return false;
    }
    json_t *choices = json_object_get (schema, "enum");
    if (choices) {
        bool any = false;
        size_t index;
        json_t *choice;
        json_array_foreach (choices, index, choice) any = any || s_equal (choice, value);
        if (!any)
            return false;
    }
    json_t *constant = json_object_get (schema, "const");
    if (constant && !s_equal (constant, value))
        return false;
    if (json_is_string (value) &&
        !s_count_ok (schema, "minLength", "maxLength",
                     fuzz_utf8_length (json_string_value (value), json_string_length (value))))
        return false;
    json_t *minimum = json_object_get (schema, "minimum");
    json_t *maximum = json_object_get (schema, "maximum");
    if (json_is_number (value) && ((minimum && s_compare (value, minimum) < 0) ||
                                   (maximum && s_compare (value, maximum) > 0)))
        return false;
    if (json_is_array (value)) {
        if (!s_count_ok (schema, "minItems", "maxItems", json_array_size (value)))
            return false;
        json_t *items = json_object_get (schema, "items");
        size_t index;
        json_t *item;
        json_array_foreach (value, index,
                            item) if (items && !s_satisfies (items, item)) return false;
    }
    return !json_is_object (value) || s_object_ok (schema, value);
}

//  --------------------------------------------------------------------------
//  Error fields

//  The value a JSON pointer names in document, or NULL; sets *parent to the
//  value that holds it and *last to its last segment (unescaped).
static json_t *
s_resolve (json_t *document, const char *pointer, json_t **parent, char *last, size_t size)
{
    json_t *value = document;
    *parent = NULL;
    last[0] = '\0';
    while (*pointer == '/') {
        pointer++;
        size_t length = 0;
        while (*pointer && *pointer != '/' && length + 1 < size) {
            if (pointer[0] == '~' && (pointer[1] == '0' || pointer[1] == '1')) {
                last[length++] = pointer[1] == '0' ? '~' : '/';
                pointer += 2;
            } else
                last[length++] = *pointer++;
        }
        last[length] = '\0';
        *parent = value;
        if (json_is_object (value))
            value = json_object_get (value, last);
        else if (json_is_array (value)) {
            char *end;
            unsigned long index = strtoul (last, &end, 10);
            value = *last && !*end ? json_array_get (value, index) : NULL;
        } else
            value = NULL;
        if (!value && *pointer)
            *parent = NULL; //  not even the parent exists
        if (!value)
            return NULL;
    }
    return value;
}

//  Checks the field of a refusal against the document.
static void
s_check_refusal (json_t *document, const schalt_schema_error_t *error)
{
    assert (error->message[0]);
    assert (error->field[0] == '\0' || error->field[0] == '/');
    if (strlen (error->field) >= sizeof error->field - 8)
        return; //  a long path is cut short, and then names nothing
    json_t *parent;
    char last[sizeof error->field];
    json_t *value = s_resolve (document, error->field, &parent, last, sizeof last);
    if (!value) {
        //  Only a required member may be missing, from an object that exists
        assert (strstr (error->message, "required"));
        assert (json_is_object (parent) && !json_object_get (parent, last));
    }
}

//  --------------------------------------------------------------------------
//  The target

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_field_t fields[2];
    if (fuzz_split (data, size, fields, 2) != 2)
        return 0;
    schema_t *schema = NULL;
    unsigned pick = 0;
    for (size_t index = 0; index < s_count && !schema; index++)
        if (fields[0].size == strlen (s_schemas[index].name) &&
            memcmp (fields[0].data, s_schemas[index].name, fields[0].size) == 0)
            schema = &s_schemas[index];
    for (size_t at = 0; at < fields[0].size; at++)
        pick = pick * 31 + fields[0].data[at];
    if (!schema)
        schema = &s_schemas[pick % s_count];

    //  What the envelope lets through: JSON without duplicate keys or NUL
    json_t *document = json_loadb ((const char *)fields[1].data, fields[1].size,
                                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (!document)
        return 0;
    schalt_schema_error_t error = {"unset", ""};
    bool valid = schalt_schema_validate (schema->check, document, &error);
    assert (valid == schalt_schema_validate (schema->check, document, NULL));
    if (valid) {
        if (!s_satisfies (schema->json, document)) {
            char *text = json_dumps (document, JSON_ENCODE_ANY);
            fprintf (stderr, "fuzz_schema: %s accepted what it forbids: %s\n", schema->name, text);
            free (text);
            abort ();
        }
    } else
        s_check_refusal (document, &error);
    json_decref (document);
    return 0;
}
