/*  schalt_config - the installation's configuration: one ZPL file (zconfig).

    A configuration holds one value for every row of schalt_settings[]: the
    environment variable if set, else the file's value if given, else the
    default. Loading checks the defaults, every node of the file and every
    SCHALT_ variable against the table and reports all errors at once.

    The file is read once into memory and first scanned line by line
    (schalt_config_scan.c) with the rules of czmq's ZPL parser, which gives
    each syntax error and each node its line, then parsed by zconfig. Each
    value is checked by schalt_config_check.c; schalt_config_internal.h
    declares what these files share.
*/
#include "schalt_config_internal.h"

#include <czmq.h>
#include <libical/ical.h>

#include <ctype.h>
#include <errno.h>
#include <unistd.h>

//  Where the configuration lives when SCHALT_CONFIG does not say
#define SCHALT_CONFIG_FILE "/etc/schaltstelle/schaltstelle.cfg"
//  The largest file we read
#define SCHALT_CONFIG_SIZE_MAX (1024 * 1024)

struct _schalt_config_t {
    char *filename; //  the file that was loaded, or NULL
    size_t count;   //  rows in schalt_settings[]
    char **values;  //  the value of each row, in table order
    long *integers; //  the parsed value of each integer row
};

//  The state of one load: where errors go, and what the file said where
typedef struct {
    const char *filename; //  the file being loaded, for messages
    FILE *errors;         //  where errors are written; may be NULL
    int error_count;      //  errors reported so far
    int *lines;           //  line of each named file node, in file order
    size_t line_count;    //  entries in lines
    size_t next_node;     //  index into lines of the next node walked
    int *file_lines;      //  per setting: line where the file set it, or 0
    schalt_config_t *config;
} s_loader_t;

//  --------------------------------------------------------------------------
//  The table

//  Returns the number of rows in schalt_settings[].
static size_t
s_count (void)
{
    size_t count = 0;
    while (schalt_settings[count].path)
        count++;
    return count;
}

//  Returns the row index of a setting path, or -1 if it is not in the table.
static int
s_index (const char *path)
{
    for (int index = 0; schalt_settings[index].path; index++)
        if (streq (schalt_settings[index].path, path))
            return index;
    return -1;
}

//  Returns true if path is a section: a proper prefix of some setting path.
static bool
s_is_section (const char *path)
{
    size_t length = strlen (path);
    for (int index = 0; schalt_settings[index].path; index++) {
        const char *candidate = schalt_settings[index].path;
        if (strncmp (candidate, path, length) == 0 && candidate[length] == '/')
            return true;
    }
    return false;
}

//  Writes a setting's environment variable name into buffer (SCHALT_ + the
//  path in upper case, '/' as '_'); returns buffer.
static char *
s_env_name (const char *path, char *buffer, size_t size)
{
    int length = snprintf (buffer, size, "SCHALT_%s", path);
    assert (length > 0 && (size_t)length < size);
    for (char *scan = buffer; *scan; scan++)
        *scan = *scan == '/' ? '_' : (char)toupper ((unsigned char)*scan);
    return buffer;
}

//  Writes "known here: a, b, c" into buffer: the distinct names that may
//  follow prefix ("" for the top level, else "scheduler/redis/"); returns buffer.
static char *
s_known_names (const char *prefix, char *buffer, size_t size)
{
    size_t prefix_length = strlen (prefix);
    size_t used = (size_t)snprintf (buffer, size, "known here:");
    const char *separator = " ";
    for (int index = 0; schalt_settings[index].path; index++) {
        const char *path = schalt_settings[index].path;
        if (strncmp (path, prefix, prefix_length) != 0)
            continue;
        const char *name = path + prefix_length;
        size_t name_length = strcspn (name, "/");
        //  Skip a name that an earlier row already listed
        bool listed = false;
        for (int earlier = 0; earlier < index && !listed; earlier++) {
            const char *other = schalt_settings[earlier].path;
            listed = strncmp (other, prefix, prefix_length) == 0 &&
                     strncmp (other + prefix_length, name, name_length) == 0 &&
                     (other[prefix_length + name_length] == '/' ||
                      other[prefix_length + name_length] == '\0');
        }
        if (!listed && used < size)
            used += (size_t)snprintf (buffer + used, size - used, "%s%.*s", separator,
                                      (int)name_length, name);
        separator = listed ? separator : ", ";
    }
    return buffer;
}

//  --------------------------------------------------------------------------
//  Loading

//  Reports one error as "WHERE[:LINE]: [PATH: ]message" and counts it.
static void
s_error (s_loader_t *self, const char *where, int line, const char *path, const char *format, ...)
{
    self->error_count++;
    if (!self->errors)
        return;
    fprintf (self->errors, "%s", where);
    if (line > 0)
        fprintf (self->errors, ":%d", line);
    fprintf (self->errors, ": ");
    if (path)
        fprintf (self->errors, "%s: ", path);
    va_list args;
    va_start (args, format);
    vfprintf (self->errors, format, args);
    va_end (args);
    fprintf (self->errors, "\n");
}

//  Checks value for row index and, if valid, makes it the setting's value.
//  Returns the error message, or NULL if the value was taken.
static const char *
s_take (s_loader_t *self, int index, const char *value, char *buffer, size_t size)
{
    long integer = 0;
    const char *message =
        schalt_config_check (&schalt_settings[index], value, &integer, buffer, size);
    if (message)
        return message;
    free (self->config->values[index]);
    self->config->values[index] = strdup (value);
    assert (self->config->values[index]);
    self->config->integers[index] = integer;
    return NULL;
}

//  Reads the whole file into a NUL-terminated buffer. Returns the buffer
//  (caller frees) and its size in *size_p, or NULL after reporting why not.
static char *
s_read_file (s_loader_t *self, size_t *size_p)
{
    FILE *file = fopen (self->filename, "r");
    if (!file) {
        s_error (self, self->filename, 0, NULL, "cannot open: %s", strerror (errno));
        return NULL;
    }
    char *text = malloc (SCHALT_CONFIG_SIZE_MAX + 1);
    assert (text);
    size_t size = fread (text, 1, SCHALT_CONFIG_SIZE_MAX + 1, file);
    int error = ferror (file) ? errno : 0;
    fclose (file);
    if (error || size > SCHALT_CONFIG_SIZE_MAX) {
        if (error)
            s_error (self, self->filename, 0, NULL, "cannot read: %s", strerror (error));
        else
            s_error (self, self->filename, 0, NULL, "is larger than 1 MiB");
        free (text);
        return NULL;
    }
    text[size] = '\0';
    *size_p = size;
    return text;
}

//  Scans the file text line by line with zconfig's rules. Returns 0 and
//  fills self->lines with the line of every name, or -1 after reporting the
//  first syntax error (zconfig, too, stops at the first).
static int
s_scan (s_loader_t *self, const char *text, size_t size)
{
    const char *end = text + size;
    int lineno = 0, depth = -1;
    for (const char *line = text; line < end;) {
        const char *newline = memchr (line, '\n', (size_t)(end - line));
        size_t length = (size_t)((newline ? newline : end) - line);
        bool named;
        lineno++;
        const char *message = schalt_config_scan_line (line, length, &depth, &named);
        if (message) {
            s_error (self, self->filename, lineno, NULL, "%s", message);
            return -1;
        }
        if (named) {
            self->lines = realloc (self->lines, (self->line_count + 1) * sizeof (int));
            assert (self->lines);
            self->lines[self->line_count++] = lineno;
        }
        line = newline ? newline + 1 : end;
    }
    return 0;
}

//  Returns the number of nodes below node.
static size_t
s_descendants (zconfig_t *node)
{
    size_t count = 0;
    for (zconfig_t *child = zconfig_child (node); child; child = zconfig_next (child))
        count += 1 + s_descendants (child);
    return count;
}

//  Checks every child of parent (whose path is prefix, NULL at the top)
//  against the table: a setting's value is taken, a section is walked, and
//  anything else is reported.
static void
s_walk (s_loader_t *self, zconfig_t *parent, const char *prefix)
{
    for (zconfig_t *node = zconfig_child (parent); node; node = zconfig_next (node)) {
        //  Nodes come in file order, so the scan's lines follow them one by one
        int line = self->next_node < self->line_count ? self->lines[self->next_node] : 0;
        self->next_node++;
        char *path = prefix ? zsys_sprintf ("%s/%s", prefix, zconfig_name (node))
                            : strdup (zconfig_name (node));
        assert (path);
        const char *value = zconfig_value (node) ? zconfig_value (node) : "";
        int index = s_index (path);
        char buffer[256];

        if (index >= 0 && zconfig_child (node))
            s_error (self, self->filename, line, path, "is a setting, not a section");
        else if (index >= 0 && self->file_lines[index])
            s_error (self, self->filename, line, path, "is set more than once (first on line %d)",
                     self->file_lines[index]);
        else if (index >= 0) {
            self->file_lines[index] = line > 0 ? line : -1;
            const char *message = s_take (self, index, value, buffer, sizeof buffer);
            if (message)
                s_error (self, self->filename, line, path, "%s", message);
        } else if (s_is_section (path)) {
            if (*value)
                s_error (self, self->filename, line, path, "is a section, it cannot have a value");
            s_walk (self, node, path);
            free (path);
            continue;
        } else {
            char *here = prefix ? zsys_sprintf ("%s/", prefix) : strdup ("");
            assert (here);
            s_error (self, self->filename, line, path, "unknown %s; %s",
                     zconfig_child (node) ? "section" : "setting",
                     s_known_names (here, buffer, sizeof buffer));
            free (here);
        }
        //  A subtree we did not walk still used its lines
        self->next_node += s_descendants (node);
        free (path);
    }
}

//  Loads the file into the configuration, reporting every error.
static void
s_load_file (s_loader_t *self)
{
    size_t size = 0;
    char *text = s_read_file (self, &size);
    if (!text)
        return;
    if (s_scan (self, text, size) == 0) {
        zconfig_t *root = zconfig_str_load (text);
        if (!root)
            s_error (self, self->filename, 0, NULL, "cannot parse as ZPL");
        else {
            //  The scan and zconfig must agree on the nodes, else lines would lie
            if (s_descendants (root) != self->line_count)
                self->line_count = 0;
            s_walk (self, root, NULL);
            zconfig_destroy (&root);
        }
    }
    free (text);
}

//  Applies every SCHALT_ variable that names a setting, and reports one that
//  starts like a setting's variable (SCHALT_ + a top section + '_') but is
//  none. Other SCHALT_ variables (SCHALT_CONFIG, tooling's) are left alone.
static void
s_load_environment (s_loader_t *self)
{
    char name[256], buffer[256];
    for (int index = 0; schalt_settings[index].path; index++) {
        const char *value = getenv (s_env_name (schalt_settings[index].path, name, sizeof name));
        const char *message = value ? s_take (self, index, value, buffer, sizeof buffer) : NULL;
        if (message)
            s_error (self, name, 0, NULL, "%s", message);
    }
    for (char **variable = environ; *variable; variable++) {
        size_t length = strcspn (*variable, "=");
        if (strncmp (*variable, "SCHALT_", 7) != 0 || length >= sizeof name)
            continue;
        //  Is it a setting's variable, or in a setting's section?
        bool known = false, section = false;
        for (int index = 0; schalt_settings[index].path && !known; index++) {
            s_env_name (schalt_settings[index].path, buffer, sizeof buffer);
            known = strlen (buffer) == length && memcmp (buffer, *variable, length) == 0;
            //  The variable's prefix for the setting's top section: SCHALT_CLI_
            size_t top = 7 + strcspn (schalt_settings[index].path, "/") + 1;
            section = section || (length > top && memcmp (buffer, *variable, top) == 0);
        }
        if (section && !known) {
            memcpy (name, *variable, length);
            name[length] = '\0';
            s_error (self, name, 0, NULL, "unknown setting");
        }
    }
}

//  --------------------------------------------------------------------------
//  Public API

//  Load the configuration; returns NULL (after writing every error to
//  errors, which may be NULL) if the defaults, the file or the environment
//  hold any error.
schalt_config_t *
schalt_config_new (const char *filename, FILE *errors)
{
    schalt_config_t *self = (schalt_config_t *)zmalloc (sizeof (schalt_config_t));
    assert (self);
    self->count = s_count ();
    self->values = (char **)zmalloc (self->count * sizeof (char *));
    self->integers = (long *)zmalloc (self->count * sizeof (long));
    assert (self->values && self->integers);
    if (filename) {
        self->filename = strdup (filename);
        assert (self->filename);
    }
    s_loader_t loader = {.filename = filename, .errors = errors, .config = self};
    loader.file_lines = (int *)zmalloc (self->count * sizeof (int));
    assert (loader.file_lines);

    //  The defaults first: a bad one is a bug in the table, caught by the self test
    char buffer[256];
    for (size_t index = 0; index < self->count; index++) {
        const char *message =
            s_take (&loader, (int)index, schalt_settings[index].fallback, buffer, sizeof buffer);
        if (message)
            s_error (&loader, "default", 0, schalt_settings[index].path, "%s", message);
    }
    if (filename)
        s_load_file (&loader);
    s_load_environment (&loader);

    free (loader.lines);
    free (loader.file_lines);
    if (loader.error_count)
        schalt_config_destroy (&self);
    return self;
}

//  Destroy; safe to call twice, clears the caller's pointer.
void
schalt_config_destroy (schalt_config_t **self_p)
{
    assert (self_p);
    schalt_config_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->count; index++)
        free (self->values[index]);
    free (self->values);
    free (self->integers);
    free (self->filename);
    free (self);
    *self_p = NULL;
}

//  Returns the value of a setting, borrowed; asserts the path is in the table.
const char *
schalt_config_string (schalt_config_t *self, const char *path)
{
    assert (self);
    int index = s_index (path);
    assert (index >= 0);
    return self->values[index];
}

//  Returns the value of an integer setting; asserts it is one.
long
schalt_config_integer (schalt_config_t *self, const char *path)
{
    assert (self);
    int index = s_index (path);
    assert (index >= 0);
    assert (schalt_settings[index].type == SCHALT_SETTING_INTEGER);
    return self->integers[index];
}

//  Returns the file that was loaded, or NULL if none; borrowed.
const char *
schalt_config_filename (schalt_config_t *self)
{
    assert (self);
    return self->filename;
}

//  Returns $SCHALT_CONFIG if set and not empty, NULL if set but empty (no
//  file at all), else /etc/schaltstelle/schaltstelle.cfg if it exists, else NULL.
const char *
schalt_config_default_file (void)
{
    const char *variable = getenv ("SCHALT_CONFIG");
    if (variable)
        return *variable ? variable : NULL;
    return access (SCHALT_CONFIG_FILE, F_OK) == 0 ? SCHALT_CONFIG_FILE : NULL;
}

//  Writes text to out with every '|' escaped, for a Markdown table cell.
static void
s_print_cell (FILE *out, const char *text)
{
    for (; *text; text++) {
        if (*text == '|')
            fputc ('\\', out);
        fputc (*text, out);
    }
}

//  Writes the reference of every setting as a Markdown table to out.
void
schalt_config_print_reference (FILE *out)
{
    static const char *types[] = {"string",   "integer", "enum",   "endpoint",
                                  "timezone", "path",    "offsets"};
    char name[256], list[256];
    fprintf (out, "| setting | environment variable | type | default | range or choices | "
                  "meaning |\n|---|---|---|---|---|---|\n");
    for (int index = 0; schalt_settings[index].path; index++) {
        const schalt_setting_t *setting = &schalt_settings[index];
        assert ((size_t)setting->type < sizeof types / sizeof *types);
        fprintf (out, "| `%s` | `%s` | %s | `", setting->path,
                 s_env_name (setting->path, name, sizeof name), types[setting->type]);
        s_print_cell (out, setting->fallback);
        fprintf (out, "` | ");
        switch (setting->type) {
            case SCHALT_SETTING_INTEGER:
                fprintf (out, "%ld to %ld", setting->min, setting->max);
                break;
            case SCHALT_SETTING_STRING:
                if (setting->max > 0)
                    fprintf (out, "1 to %ld characters", setting->max);
                else
                    fprintf (out, "not empty");
                break;
            case SCHALT_SETTING_ENUM:
                fprintf (out, "%s",
                         schalt_config_choices (setting->choices, "`", list, sizeof list));
                break;
            case SCHALT_SETTING_ENDPOINT:
                fprintf (out, "`tcp://HOST:PORT`, `ipc://PATH`, `inproc://NAME`");
                break;
            case SCHALT_SETTING_TIMEZONE:
                fprintf (out, "IANA zone name known to libical");
                break;
            case SCHALT_SETTING_PATH:
                fprintf (out, "not empty (existence not checked)");
                break;
            case SCHALT_SETTING_OFFSETS:
                fprintf (out, "offsets such as `7d 1d`, `2h`, `30m` (each > 0, at most 60 days), "
                              "or `none`");
                break;
        }
        fprintf (out, " | ");
        s_print_cell (out, setting->help);
        fprintf (out, " |\n");
    }
}

//  --------------------------------------------------------------------------
//  Self test

//  Replaces the contents of the file filename with text.
static void
s_test_write (const char *filename, const char *text)
{
    FILE *file = fopen (filename, "w");
    assert (file);
    fputs (text, file);
    fclose (file);
}

//  Loads filename (may be NULL) and returns the errors written (caller
//  frees); the configuration, or NULL, goes to *config_p.
static char *
s_test_load (const char *filename, schalt_config_t **config_p, bool verbose)
{
    char *text = NULL;
    size_t size = 0;
    FILE *errors = open_memstream (&text, &size);
    assert (errors);
    *config_p = schalt_config_new (filename, errors);
    fclose (errors);
    if (verbose)
        printf ("%s", text);
    return text;
}

//  Returns the number of lines in text.
static int
s_test_lines (const char *text)
{
    int lines = 0;
    for (; *text; text++)
        lines += *text == '\n';
    return lines;
}

//  Asserts that text contains the formatted string.
static void
s_test_expect (const char *text, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *wanted = zsys_vprintf (format, args);
    va_end (args);
    if (!strstr (text, wanted))
        fprintf (stderr, "expected '%s' in:\n%s", wanted, text);
    assert (strstr (text, wanted));
    free (wanted);
}

//  Checks the table itself and the check of each type of value.
static void
s_test_table_and_types (void)
{
    char name[256], other[256];
    for (int index = 0; schalt_settings[index].path; index++) {
        const schalt_setting_t *setting = &schalt_settings[index];
        //  A path is lower-case words joined by single '/', and no section
        const char *path = setting->path;
        assert (strspn (path, "abcdefghijklmnopqrstuvwxyz0123456789_/") == strlen (path));
        assert (path[0] != '/' && path[strlen (path) - 1] != '/' && !strstr (path, "//"));
        assert (!s_is_section (path));
        assert (setting->fallback && setting->help && *setting->help);
        assert (setting->type != SCHALT_SETTING_ENUM || setting->choices);
        assert (setting->type != SCHALT_SETTING_INTEGER || setting->min <= setting->max);
        //  Paths and their variables are unique ("a/b_c" and "a_b/c" would clash)
        s_env_name (path, name, sizeof name);
        for (int earlier = 0; earlier < index; earlier++)
            assert (!streq (s_env_name (schalt_settings[earlier].path, other, sizeof other), name));
    }
    schalt_config_test_check ();
}

//  Self test.
void
schalt_config_test (bool verbose)
{
    printf (" * schalt_config: ");
    if (verbose)
        printf ("\n");

    //  The test owns the environment: set every SCHALT_ variable aside
    zlist_t *saved = zlist_new ();
    assert (saved);
    zlist_autofree (saved);
    for (char **variable = environ; *variable; variable++)
        if (strncmp (*variable, "SCHALT_", 7) == 0)
            zlist_append (saved, *variable);
    for (char *entry = zlist_first (saved); entry; entry = zlist_next (saved)) {
        char *name = strndup (entry, strcspn (entry, "="));
        unsetenv (name);
        free (name);
    }
    s_test_table_and_types ();

    //  No file, no variables: every default is valid and is the value
    schalt_config_t *config;
    char *errors = s_test_load (NULL, &config, verbose);
    if (*errors)
        fprintf (stderr, "%s", errors); //  a bad row in schalt_settings[]
    assert (config && streq (errors, ""));
    free (errors);
    assert (schalt_config_filename (config) == NULL);
    for (int index = 0; schalt_settings[index].path; index++)
        assert (streq (schalt_config_string (config, schalt_settings[index].path),
                       schalt_settings[index].fallback));
    assert (schalt_config_integer (config, "scheduler/redis/port") == 7379);
    assert (schalt_config_integer (config, "schaltstelle/max_message_size") == 262144);
    schalt_config_destroy (&config);
    schalt_config_destroy (&config);
    assert (config == NULL);

    //  A good file: sections, a path as a name, quotes, comments
    char filename[] = "/tmp/schalt-config-test-XXXXXX";
    int handle = mkstemp (filename);
    assert (handle >= 0);
    close (handle);
    s_test_write (filename, "#   A test configuration\n"
                            "schaltstelle\n"
                            "    timezone = \"America/New_York\"   #  quoted\n"
                            "    log_level = debug\n"
                            "\n"
                            "scheduler\n"
                            "    endpoint = tcp://*:17310\n"
                            "    redis\n"
                            "        # the test's Redis\n"
                            "        host = 'redis.example.org'\n"
                            "        port = 6379 # not the default\n"
                            "    heartbeat = 250\n"
                            "cli/retries = 5\n");
    errors = s_test_load (filename, &config, verbose);
    assert (config && streq (errors, ""));
    free (errors);
    assert (streq (schalt_config_filename (config), filename));
    assert (streq (schalt_config_string (config, "schaltstelle/timezone"), "America/New_York"));
    assert (streq (schalt_config_string (config, "schaltstelle/log_level"), "debug"));
    assert (streq (schalt_config_string (config, "scheduler/endpoint"), "tcp://*:17310"));
    assert (streq (schalt_config_string (config, "scheduler/redis/host"), "redis.example.org"));
    assert (schalt_config_integer (config, "scheduler/redis/port") == 6379);
    assert (streq (schalt_config_string (config, "scheduler/redis/port"), "6379"));
    assert (schalt_config_integer (config, "scheduler/heartbeat") == 250);
    assert (schalt_config_integer (config, "cli/retries") == 5);
    assert (schalt_config_integer (config, "cli/timeout") == 2000);
    schalt_config_destroy (&config);

    //  The environment beats the file; SCHALT_ variables of no section are ignored
    setenv ("SCHALT_SCHEDULER_REDIS_PORT", "6390", 1);
    setenv ("SCHALT_SCHALTSTELLE_LOG_LEVEL", "warning", 1);
    setenv ("SCHALT_CONFIG", "/nowhere.cfg", 1);
    setenv ("SCHALT_BIN", "/usr/bin", 1);
    errors = s_test_load (filename, &config, verbose);
    assert (config && streq (errors, ""));
    free (errors);
    assert (schalt_config_integer (config, "scheduler/redis/port") == 6390);
    assert (streq (schalt_config_string (config, "schaltstelle/log_level"), "warning"));
    assert (streq (schalt_config_string (config, "scheduler/redis/host"), "redis.example.org"));
    schalt_config_destroy (&config);

    //  A bad or unknown variable of a setting's section is an error
    setenv ("SCHALT_SCHEDULER_REDIS_PORT", "0", 1);
    setenv ("SCHALT_CLI_TIMEOUT", "2s", 1);
    setenv ("SCHALT_SCHEDULER_REDIS_PROT", "1", 1);
    errors = s_test_load (NULL, &config, verbose);
    assert (config == NULL && s_test_lines (errors) == 3);
    s_test_expect (errors, "SCHALT_SCHEDULER_REDIS_PORT: must be between 1 and 65535\n");
    s_test_expect (errors, "SCHALT_CLI_TIMEOUT: must be an integer\n");
    s_test_expect (errors, "SCHALT_SCHEDULER_REDIS_PROT: unknown setting\n");
    free (errors);
    const char *variables[] = {"SCHALT_SCHEDULER_REDIS_PORT",
                               "SCHALT_SCHALTSTELLE_LOG_LEVEL",
                               "SCHALT_CONFIG",
                               "SCHALT_BIN",
                               "SCHALT_CLI_TIMEOUT",
                               "SCHALT_SCHEDULER_REDIS_PROT"};
    for (size_t index = 0; index < sizeof variables / sizeof *variables; index++)
        unsetenv (variables[index]);

    //  Every error in a file is reported, each with its line
    s_test_write (filename, "schaltstelle\n"
                            "    timezone = Europe/Nowhere\n"
                            "    log_level = loud\n"
                            "scheduler\n"
                            "    endpoint = tcp://127.0.0.1\n"
                            "    events = udp://127.0.0.1:7311\n"
                            "    redis\n"
                            "        prot = 7379\n"
                            "        port = 70000\n"
                            "        timeout = 1s\n"
                            "        host = ''\n"
                            "    heartbeat\n"
                            "        every = 5\n"
                            "    redis = x\n"
                            "cli\n"
                            "    retries = 3\n"
                            "    retries = 4\n"
                            "mailer\n"
                            "    endpoint = tcp://*:7320\n"
                            "notifier\n"
                            "    from\n"
                            "        name = Bildungsb\xfcro\n");
    errors = s_test_load (filename, &config, verbose);
    assert (config == NULL && s_test_lines (errors) == 13);
    const char *expected[] = {
        ":2: schaltstelle/timezone: is not a time zone known to libical",
        ":3: schaltstelle/log_level: must be one of: error, warning, notice, info, debug\n",
        ":5: scheduler/endpoint: must be tcp://HOST:PORT (host and port are both needed)\n",
        ":6: scheduler/events: must be tcp://HOST:PORT, ipc://PATH or inproc://NAME\n",
        ":8: scheduler/redis/prot: unknown setting; known here: host, port, timeout\n",
        ":9: scheduler/redis/port: must be between 1 and 65535\n",
        ":10: scheduler/redis/timeout: must be an integer\n",
        ":11: scheduler/redis/host: must not be empty\n",
        ":12: scheduler/heartbeat: is a setting, not a section\n",
        ":14: scheduler/redis: is a section, it cannot have a value\n",
        ":17: cli/retries: is set more than once (first on line 16)\n",
        (":18: mailer: unknown section; known here: schaltstelle, scheduler, registry, "
         "notifier, web, cli\n"),
        ":22: notifier/from/name: must be valid UTF-8 (was the file saved as Latin-1?)\n"};
    for (size_t index = 0; index < sizeof expected / sizeof *expected; index++)
        s_test_expect (errors, "%s%s", filename, expected[index]);
    free (errors);

    //  A syntax error is one error with its line; so is a file that cannot be read
    char long_line[1100] = "cli/timeout = ";
    memset (long_line + 14, '1', sizeof long_line - 15);
    const char *syntax[][2] = {
        {"cli\n  retries = 3\n", ":2: indent by a multiple of 4 spaces\n"},
        {"cli\n        retries = 3\n", ":2: indented more than one level below its section\n"},
        {"\n\ncli\n    retries = \"3\n", ":4: missing closing \"\n"},
        {"cli\n    retries = '3' 4\n", ":2: unexpected text after the closing quote\n"},
        {"cli\n    retries = # none\n", ":2: value missing"},
        {"cli\n    retries 3\n", ":2: expected '=' after the name\n"},
        {"\tcli\n", ":1: expected 'name = value', a section name or a comment\n"},
        {"cli/ = 3\n", ":1: a name cannot start or end with '/'\n"},
        {long_line, ":1: line is longer than 1024 characters\n"}};
    for (size_t index = 0; index < sizeof syntax / sizeof *syntax; index++) {
        s_test_write (filename, syntax[index][0]);
        errors = s_test_load (filename, &config, verbose);
        assert (config == NULL && s_test_lines (errors) == 1);
        s_test_expect (errors, "%s%s", filename, syntax[index][1]);
        free (errors);
    }
    errors = s_test_load ("/nonexistent/schaltstelle.cfg", &config, verbose);
    assert (config == NULL);
    assert (streq (errors, "/nonexistent/schaltstelle.cfg: cannot open: No such file or "
                           "directory\n"));
    free (errors);
    errors = s_test_load ("/tmp", &config, verbose);
    assert (config == NULL && streq (errors, "/tmp: cannot read: Is a directory\n"));
    free (errors);
    assert (schalt_config_new ("/nonexistent/schaltstelle.cfg", NULL) == NULL);

    //  The default file
    setenv ("SCHALT_CONFIG", filename, 1);
    assert (streq (schalt_config_default_file (), filename));
    setenv ("SCHALT_CONFIG", "", 1);
    assert (schalt_config_default_file () == NULL);
    unsetenv ("SCHALT_CONFIG");
    const char *fallback = schalt_config_default_file ();
    assert (!fallback || streq (fallback, SCHALT_CONFIG_FILE));

    //  The reference names every setting and its variable
    char *reference = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&reference, &size);
    assert (out);
    schalt_config_print_reference (out);
    fclose (out);
    if (verbose)
        printf ("%s", reference);
    assert (s_test_lines (reference) == (int)s_count () + 2);
    s_test_expect (reference, "| `scheduler/redis/port` | `SCHALT_SCHEDULER_REDIS_PORT` | "
                              "integer | `7379` | 1 to 65535 | ");
    s_test_expect (reference, "| `schaltstelle/log_level` | `SCHALT_SCHALTSTELLE_LOG_LEVEL` | "
                              "enum | `info` | `error`, `warning`, `notice`, `info`, `debug` | ");
    free (reference);

    //  Clean up: the file, the environment, libical's cache of zones
    unlink (filename);
    for (char *entry = zlist_first (saved); entry; entry = zlist_next (saved)) {
        char *name = strndup (entry, strcspn (entry, "="));
        setenv (name, entry + strlen (name) + 1, 1);
        free (name);
    }
    zlist_destroy (&saved);
    icaltimezone_free_builtin_timezones ();
    printf ("OK\n");
}
