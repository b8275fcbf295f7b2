/*  web_html - the web front's pages, from template files an office can edit.

    A template is HTML with placeholders in a small subset of Mustache:

      {{name}}            the value of name (a string or number), escaped
                          for HTML: & < > " ' become entities, so a value
                          is text in an element or a quoted attribute and
                          never markup. There is no unescaped form.
      {{a.b}}             a member of a member
      {{.}}               the current item of a list (a list of strings)
      {{#name}}...{{/name}}  the part for each item of a list, once for an
                          object (its members then come first in lookups),
                          or once if the value is true, a non-empty string
                          or a non-zero number; not at all otherwise
      {{^name}}...{{/name}}  the part once if name is missing, false, null,
                          empty, 0 or an empty list
      {{>name}}           another template of the folder (the page's
                          layout, a form), at most 8 deep

    A name is found in the innermost section's item first, then outwards, up
    to the page's context. A placeholder whose value is missing, or is a list
    or object where text belongs, is a failure that names the template and
    the placeholder: a typo shows on the first render, not as an empty spot.

    Templates are parsed once into a tree and rendered many times; a
    template larger than WEB_HTML_TEMPLATE_MAX, nested deeper than
    WEB_HTML_DEPTH_MAX, or with an unclosed or mismatched section, is refused
    with the line it is on.
*/
#ifndef WEB_HTML_H_INCLUDED
#define WEB_HTML_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define WEB_HTML_TEMPLATE_MAX (256 * 1024) //  octets of one template file
#define WEB_HTML_DEPTH_MAX 32              //  sections within sections
#define WEB_HTML_PARTIAL_DEPTH 8           //  templates within templates
#define WEB_HTML_NAME_MAX 64               //  a placeholder's name

typedef struct _web_html_t web_html_t;

//  Loads the text of the template named name for {{>name}} (the caller
//  frees it); NULL with error if there is none.
typedef char *(web_html_loader_fn)(void *arg, const char *name, char *error, size_t size);

//  Parses text, the template named name (for errors). load may be NULL if
//  the template includes none. Returns NULL with error (name, line, what).
web_html_t *web_html_parse (const char *text, const char *name, web_html_loader_fn *load, void *arg,
                            char *error, size_t size);

void web_html_destroy (web_html_t **self_p);

//  Renders the template with context (a JSON object, borrowed). Returns the
//  page (the caller frees it), or NULL with error naming the placeholder.
char *web_html_render (web_html_t *self, json_t *context, char *error, size_t size);

//  Appends text (length octets), escaped for HTML, to out (a
//  NUL-terminated buffer of *size octets that grows as needed).
void web_html_escape (char **out, size_t *used, size_t *size, const char *text, size_t length);

//  Self test.
void web_html_test (bool verbose);

#endif
