/*  schalt_schema_set - every schema of a folder, loaded once at start.

    Walks the folder (sorted, hidden entries skipped, at most 16 levels
    deep), compiles every *.json file with schalt_schema_new, and names each
    schema by its path relative to the folder without ".json". One bad file
    refuses the whole set, after every bad file has been logged.
*/

#include "schalt_schema_internal.h"
#include "schalt_testutil.h"

#include <dirent.h>
#include <sys/stat.h>

struct _schalt_schema_set_t {
    zhashx_t *schemas; //  name -> schalt_schema_t
};

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
//  Self test (called by schalt_schema_test)

//  Writes text, with ' for ", to folder/name (schalt_test_write)
static void
s_test_write (const char *folder, const char *name, const char *text)
{
    char *json = strdup (text);
    assert (json);
    for (char *quote = strchr (json, '\''); quote; quote = strchr (quote, '\''))
        *quote = '"';
    schalt_test_write (folder, name, json);
    free (json);
}

//  Loads schema sets from a temporary folder; asserts
void
schalt_schema_test_set (void)
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
