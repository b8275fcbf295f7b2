/*  notifier_template - the text of a notice, from a template file an office can edit.

    A template is <folder>/<language>/<name>.txt, UTF-8: its first line is
    "Subject: ...", then a blank line, then the body. Placeholders {{name}}
    are replaced by:

      recipient_name   the recipient's name
      office_contact   the office's contact line (notifier/office/contact)
      date             the local date of the variable `start` (an RFC 3339
                       instant) in the installation's zone and the notice's
                       language: "Samstag, 13. März 2027", "Saturday, 13 March 2027"
      start_time       the local time of `start`: "10:00"
      end_time         the local time of the variable `end`
      anything else    the notice's variable of that name (event_title,
                       session_title, room, place, position, ...)

    A line of the body that starts with {{?name}} is kept (without that
    marker) only if the notice has a variable name that is not empty: for
    what a notice may or may not say ("Grund: {{reason}}").

    A template that is missing, unreadable, not UTF-8 or malformed, and a
    placeholder whose value the notice lacks, are failures with a reason
    that says what to fix; no text is made from them.
*/
#ifndef NOTIFIER_TEMPLATE_H_INCLUDED
#define NOTIFIER_TEMPLATE_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

//  Where templates are and what fills the placeholders that are not variables.
typedef struct {
    const char *folder;         //  notifier/templates
    const char *timezone;       //  schaltstelle/timezone
    const char *office_contact; //  notifier/office/contact
} notifier_template_config_t;

//  What one notice asks for.
typedef struct {
    const char *name;           //  "registration-confirmed"
    const char *language;       //  "de", "en"
    const char *recipient_name; //  the recipient's name
    json_t *variables;          //  object of strings, borrowed
} notifier_template_request_t;

//  Renders a notice's subject and body. Returns 0 and sets *subject_p and
//  *body_p (the caller frees both); or -1 with a reason in reason[size].
int notifier_template_render (const notifier_template_config_t *config,
                              const notifier_template_request_t *request, char **subject_p,
                              char **body_p, char *reason, size_t size);

//  Checks every template of every notice the registry sends, in both
//  languages: it must be readable, and name only placeholders those notices
//  carry. Logs each problem (the file and the placeholder) and returns how
//  many there are; the notifier runs it at start, so that a typo is found
//  then and not with the first e-mail that fails.
int notifier_template_check (const notifier_template_config_t *config);

//  Self test: the shipped templates and every kind of failure.
void notifier_template_test (bool verbose);

#endif
