/*  notifier_selftest - runs the self-test of one notifier class, or of all.
    Usage: notifier_selftest [-v] [class ...]   (class: mail, calendar, template, smtp, delivery,
   store) The daemon as a whole is tested end to end: tests/e2e/test_notifier.py.
*/
#include "notifier_delivery.h"
#include "notifier_calendar.h"
#include "notifier_mail.h"
#include "notifier_smtp.h"
#include "notifier_store.h"
#include "notifier_template.h"

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} test_t;

static const test_t s_tests[] = {{"mail", notifier_mail_test},
                                 {"calendar", notifier_calendar_test},
                                 {"template", notifier_template_test},
                                 {"smtp", notifier_smtp_test},
                                 {"delivery", notifier_delivery_test},
                                 {"store", notifier_store_test},
                                 {NULL, NULL}};

int
main (int argc, char **argv)
{
    bool verbose = argc > 1 && streq (argv[1], "-v");
    int first = verbose ? 2 : 1;
    for (int index = first; index < argc; index++) {
        bool known = false;
        for (const test_t *test = s_tests; test->name; test++)
            known = known || streq (argv[index], test->name);
        if (!known) {
            fprintf (stderr, "notifier_selftest: no class '%s'\n", argv[index]);
            return 2;
        }
    }
    zsys_init ();
    zsys_set_logstream (stderr);
    for (const test_t *test = s_tests; test->name; test++) {
        bool selected = first >= argc;
        for (int index = first; index < argc; index++)
            selected = selected || streq (argv[index], test->name);
        if (selected)
            test->test (verbose);
    }
    schalt_log_stop ();
    return 0;
}
