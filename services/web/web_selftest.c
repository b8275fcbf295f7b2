/*  web_selftest - runs the self-test of one class of the web front, or of all.
    Usage: web_selftest [-v] [class ...]   (class: html, form)
*/
#include "web_form.h"
#include "web_html.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*test) (bool verbose);
} test_t;

static const test_t s_tests[] = {{"html", web_html_test}, {"form", web_form_test}, {NULL, NULL}};

int
main (int argc, char **argv)
{
    bool verbose = argc > 1 && strcmp (argv[1], "-v") == 0;
    int first = verbose ? 2 : 1;
    for (int index = first; index < argc; index++) {
        bool known = false;
        for (const test_t *test = s_tests; test->name; test++)
            known = known || strcmp (argv[index], test->name) == 0;
        if (!known) {
            fprintf (stderr, "web_selftest: no class '%s'\n", argv[index]);
            return 2;
        }
    }
    for (const test_t *test = s_tests; test->name; test++) {
        bool selected = first >= argc;
        for (int index = first; index < argc; index++)
            selected = selected || strcmp (argv[index], test->name) == 0;
        if (selected)
            test->test (verbose);
    }
    return 0;
}
