/*  web_form - a form as a browser sends it (application/x-www-form-urlencoded),
    checked before any of it is used.

    A body is name=value pairs joined by &, each percent-encoded, + for a
    space. It is refused, naming the field, if an escape is broken, a name
    or value is not UTF-8, a value holds a control character (a line break
    only where the form has a text area: the names in multiline, where CR LF
    becomes LF), a name is empty or longer than WEB_FORM_NAME_MAX, or the
    body has more than WEB_FORM_FIELDS_MAX fields. A name may come several
    times (a box ticked for each of several sessions).
*/
#ifndef WEB_FORM_H_INCLUDED
#define WEB_FORM_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define WEB_FORM_FIELDS_MAX 64
#define WEB_FORM_NAME_MAX 32

typedef struct _web_form_t web_form_t;

//  Parses length octets of body. Returns the form, or NULL with the field's
//  name in field[field_size] ("" if the fault is in no one field) and what is
//  wrong in error[size].
web_form_t *web_form_parse (const char *body, size_t length, const char **multiline, char *field,
                            size_t field_size, char *error, size_t size);

void web_form_destroy (web_form_t **self_p);

//  The nth value (from 0) given for name, or NULL.
const char *web_form_value (web_form_t *self, const char *name, size_t nth);

//  How many values name has.
size_t web_form_count (web_form_t *self, const char *name);

//  True if text (from a query string, say) is one line of valid UTF-8
//  without control characters, as a form's one-line value must be.
bool web_form_line_valid (const char *text);

//  Characters (code points) of valid UTF-8 text, as a form's limits count.
size_t web_form_characters (const char *text);

//  Self test.
void web_form_test (bool verbose);

#endif
