/*  fuzz_config - libFuzzer target: the configuration reader (schalt_config:
    the ZPL line scanner, zconfig, the check of every setting).

    The input is the whole configuration file. It is written to a memory
    file (memfd) and loaded by name (/proc/self/fd/N), exactly as a daemon
    loads its -c FILE, with every SCHALT_ variable removed from the
    environment first (so only the file counts).

    Asserts, besides "no crash, no leak, no undefined behaviour" (an assert
    in the reader on anything a file says is a finding too):
    - a file is refused exactly when at least one error is written, and each
      error line is "FILE[:LINE]: message", LINE within the file, never about
      a default;
    - an accepted file gives every setting a value that passes the setting's
      own check again (integers with the same number), and that value is the
      one the file gives that setting, as zconfig reads the file and a walk
      here joins its names into paths, or else the setting's default.
*/
#include "fuzz_util.h"
#include "schalt.h"
#include "schalt_config_internal.h"

#include <sys/mman.h>

static int s_fd = -1;
static char s_path[64];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    //  Only the file counts: take away every SCHALT_ variable
    for (bool found = true; found;) {
        found = false;
        for (char **variable = environ; *variable && !found; variable++)
            if (strncmp (*variable, "SCHALT_", 7) == 0) {
                char *name = strndup (*variable, strcspn (*variable, "="));
                assert (name && unsetenv (name) == 0);
                free (name);
                found = true;
            }
    }
    s_fd = memfd_create ("fuzz_config.cfg", 0);
    assert (s_fd >= 0);
    snprintf (s_path, sizeof s_path, "/proc/self/fd/%d", s_fd);
    return 0;
}

//  Counts the lines of the file as the reader numbers them.
static long
s_lines (const uint8_t *data, size_t size)
{
    long lines = 0;
    for (size_t at = 0; at < size; at++)
        lines += data[at] == '\n';
    return lines + (size > 0 && data[size - 1] != '\n');
}

//  Checks the error lines written for a refused file.
static void
s_check_errors (const char *errors, size_t size, long lines)
{
    assert (size > 0 && errors[size - 1] == '\n');
    size_t prefix = strlen (s_path);
    for (const char *line = errors; *line; line = strchr (line, '\n') + 1) {
        //  Every error is about the file: FILE: or FILE:LINE:
        if (strncmp (line, s_path, prefix) != 0) {
            fprintf (stderr, "fuzz_config: error not about the file: %.200s\n", line);
            abort ();
        }
        const char *after = line + prefix;
        if (*after == ':' && after[1] >= '0' && after[1] <= '9') {
            char *end;
            long number = strtol (after + 1, &end, 10);
            assert (number >= 1 && number <= lines && *end == ':');
            after = end;
        }
        assert (after[0] == ':' && after[1] == ' ' && after[2] != '\n');
    }
}

//  Adds every node below parent to values as "path" -> value (NULL for none).
static void
s_walk (zconfig_t *parent, const char *prefix, zhashx_t *values)
{
    for (zconfig_t *node = zconfig_child (parent); node; node = zconfig_next (node)) {
        char *path = prefix ? zsys_sprintf ("%s/%s", prefix, zconfig_name (node))
                            : strdup (zconfig_name (node));
        assert (path);
        //  A path given twice is refused by the reader; keep the first
        zhashx_insert (values, path, zconfig_value (node) ? zconfig_value (node) : (char *)"");
        s_walk (node, path, values);
        free (path);
    }
}

//  Checks the values of an accepted file against zconfig's reading of it.
static void
s_check_values (schalt_config_t *config, const uint8_t *data, size_t size)
{
    char *text = strndup ((const char *)data, size);
    assert (text);
    zconfig_t *root = zconfig_str_load (text);
    assert (root); //  the reader accepted it
    zhashx_t *values = zhashx_new ();
    s_walk (root, NULL, values);
    for (int index = 0; schalt_settings[index].path; index++) {
        const schalt_setting_t *setting = &schalt_settings[index];
        const char *value = schalt_config_string (config, setting->path);
        const char *expected = (const char *)zhashx_lookup (values, setting->path);
        if (!streq (value, expected ? expected : setting->fallback)) {
            fprintf (stderr, "fuzz_config: %s is \"%s\", the file says \"%s\"\n", setting->path,
                     value, expected ? expected : "(nothing)");
            abort ();
        }
        long integer = 0;
        char buffer[256];
        assert (schalt_config_check (setting, value, &integer, buffer, sizeof buffer) == NULL);
        if (setting->type == SCHALT_SETTING_INTEGER) {
            assert (schalt_config_integer (config, setting->path) == integer);
            assert (integer >= setting->min && integer <= setting->max);
        }
    }
    zhashx_destroy (&values);
    zconfig_destroy (&root);
    free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    assert (ftruncate (s_fd, 0) == 0);
    assert (pwrite (s_fd, data, size, 0) == (ssize_t)size);
    char *errors = NULL;
    size_t errors_size = 0;
    FILE *stream = open_memstream (&errors, &errors_size);
    assert (stream);
    schalt_config_t *config = schalt_config_new (s_path, stream);
    fclose (stream);
    if (config) {
        assert (errors_size == 0);
        assert (streq (schalt_config_filename (config), s_path));
        s_check_values (config, data, size);
        schalt_config_destroy (&config);
    } else
        s_check_errors (errors, errors_size, s_lines (data, size));
    free (errors);
    return 0;
}
