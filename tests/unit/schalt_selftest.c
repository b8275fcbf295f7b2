/*  schalt_selftest - runs the self-test of one common class, or of all.
    Usage: schalt_selftest [-v] [class ...]   (class: envelope, schema, ...)
*/
#include "schalt.h"
#include "schalt_ical.h"

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} test_t;

static const test_t s_tests[] = {{"envelope", schalt_envelope_test},
                                 {"schema", schalt_schema_test},
                                 {"config", schalt_config_test},
                                 {"redis", schalt_redis_test},
                                 {"time", schalt_time_test},
                                 {"offsets", schalt_offsets_test},
                                 {"text", schalt_text_test},
                                 {"token", schalt_token_test},
                                 {"keys", schalt_keys_test},
                                 {"curve", schalt_curve_test},
                                 {"client", schalt_client_test},
                                 {"id", schalt_id_test},
                                 {"log", schalt_log_test},
                                 {"outbox", schalt_outbox_test},
                                 {"server", schalt_server_test},
                                 {"worker", schalt_worker_test},
                                 {"testutil", schalt_testutil_test},
                                 {"ical", schalt_ical_test},
                                 {NULL, NULL}};

int
main (int argc, char **argv)
{
    bool verbose = false;
    int first = 1;
    if (argc > 1 && streq (argv[1], "-v")) {
        verbose = true;
        first = 2;
    }
    zsys_init ();
    zsys_set_logstream (stderr);
    for (const test_t *test = s_tests; test->name; test++) {
        bool selected = first >= argc;
        for (int index = first; index < argc; index++)
            if (streq (argv[index], test->name))
                selected = true;
        if (selected)
            test->test (verbose);
    }
    schalt_log_stop ();
    for (int index = first; index < argc; index++) {
        bool known = false;
        for (const test_t *test = s_tests; test->name; test++)
            known = known || streq (argv[index], test->name);
        if (!known) {
            fprintf (stderr, "schalt_selftest: no class '%s'\n", argv[index]);
            return 2;
        }
    }
    return 0;
}
