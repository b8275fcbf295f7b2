/*  fuzz_html - libFuzzer target: the web front's template parser and
    renderer (web_html).

    The input is cut at 0xFF into a template text and a JSON context. The
    template may include "part" (the third field, if any) and itself.

    Asserts, besides "no crash, no leak, no undefined behaviour":
    - a template is either parsed, or refused with an error that names the
      template ("page.html:" or "part:") and a line;
    - a render either succeeds or fails naming a placeholder ("{{");
    - values never add markup: the page rendered from the context has as many
      < > " ' characters as the page rendered from the same context with
      every non-empty string replaced by "x" (escaping leaves none of them);
    - rendering is repeatable: the same context gives the same page.
*/
#include "fuzz_util.h"
#include "web_html.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static char *s_part;

static char *
s_load (void *arg, const char *name, char *error, size_t size)
{
    (void)arg;
    if (strcmp (name, "part") == 0)
        return strdup (s_part);
    snprintf (error, size, "no template %s", name);
    return NULL;
}

//  A copy of value with every non-empty string replaced by "x".
static json_t *
s_plain (json_t *value)
{
    if (json_is_string (value))
        return json_string (json_string_length (value) ? "x" : "");
    if (json_is_array (value)) {
        json_t *copy = json_array ();
        size_t index;
        json_t *item;
        json_array_foreach (value, index, item) json_array_append_new (copy, s_plain (item));
        return copy;
    }
    if (json_is_object (value)) {
        json_t *copy = json_object ();
        const char *key;
        json_t *item;
        json_object_foreach (value, key, item) json_object_set_new (copy, key, s_plain (item));
        return copy;
    }
    return json_copy (value);
}

static void
s_count (const char *page, size_t counts[4])
{
    const char *markup = "<>\"'";
    memset (counts, 0, 4 * sizeof (size_t));
    for (const char *at = page; *at; at++)
        for (int which = 0; which < 4; which++)
            if (*at == markup[which])
                counts[which]++;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    fuzz_field_t fields[3];
    size_t count = fuzz_split (data, size, fields, 3);
    char *text = fuzz_string (fields, count, 0);
    char *json = fuzz_string (fields, count, 1);
    s_part = fuzz_string (fields, count, 2);
    char error[512] = "";
    web_html_t *page = web_html_parse (text, "page.html", s_load, NULL, error, sizeof error);
    if (!page)
        assert (strstr (error, "page.html:") == error || strstr (error, "part:") == error ||
                strstr (error, "page.html: larger") == error);
    json_t *context = json_loads (json, 0, NULL);
    if (page && json_is_object (context)) {
        char *html = web_html_render (page, context, error, sizeof error);
        if (html) {
            char *again = web_html_render (page, context, error, sizeof error);
            assert (again && strcmp (again, html) == 0);
            free (again);
            json_t *plain = s_plain (context);
            char *reference = web_html_render (page, plain, error, sizeof error);
            assert (reference);
            size_t counts[4], expected[4];
            s_count (html, counts);
            s_count (reference, expected);
            assert (memcmp (counts, expected, sizeof counts) == 0);
            free (reference);
            json_decref (plain);
            free (html);
        } else
            assert (strstr (error, "{{"));
    }
    json_decref (context);
    web_html_destroy (&page);
    free (text);
    free (json);
    free (s_part);
    return 0;
}
