/*  fuzz_form - libFuzzer target: the web front's form parser (web_form).

    The input is the body of a form as a browser would send it; the field
    named "note" may hold line breaks (a text area).

    Asserts, besides "no crash, no leak, no undefined behaviour":
    - a form is read, or refused with an error (and a field's name, when it
      names one, that is in the body as it came);
    - every value read is valid UTF-8 without control characters (line
      breaks and tabs only in note, and never CR), every name is 1 to
      WEB_FORM_NAME_MAX octets, and the counts agree with the values;
    - a body of only unreserved characters with = and & (nothing to
      decode) is never refused unless it names an empty field or has too many.
*/
#include "fuzz_util.h"
#include "web_form.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static void
s_check_text (const char *text, bool multiline)
{
    size_t length = strlen (text);
    assert (fuzz_utf8_valid (text, length));
    for (size_t index = 0; index < length; index++) {
        unsigned char c = (unsigned char)text[index];
        bool allowed = multiline && (c == '\n' || c == '\t');
        assert (allowed || (c >= 0x20 && c != 0x7f));
        if (c == 0xc2 && index + 1 < length)
            assert ((unsigned char)text[index + 1] >= 0xa0);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    const char *multiline[] = {"note", NULL};
    char field[64] = "x", error[256] = "";
    web_form_t *form =
        web_form_parse (body, size, multiline, field, sizeof field, error, sizeof error);
    bool plain = true, empty_name = false;
    size_t pairs = 0;
    for (size_t index = 0; index < size; index++) {
        char c = body[index];
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '=' ||
                          c == '&' || c == '-' || c == '.');
    }
    if (plain) {
        //  Count the pairs and look for a name that is empty or too long
        size_t start = 0;
        while (start < size) {
            const char *end = memchr (body + start, '&', size - start);
            size_t length = end ? (size_t)(end - body - start) : size - start;
            if (length) {
                const char *equals = memchr (body + start, '=', length);
                size_t name = equals ? (size_t)(equals - body - start) : length;
                empty_name = empty_name || name == 0 || name > WEB_FORM_NAME_MAX;
                pairs++;
            }
            start += length + 1;
        }
        if (!empty_name && pairs <= WEB_FORM_FIELDS_MAX)
            assert (form);
    }
    if (!form) {
        assert (error[0]);
        if (field[0]) {
            //  The field it names is one of the body's (decoded, so only
            //  look for it where the body needs no decoding)
            if (plain)
                assert (memmem (body, size, field, strlen (field)));
        }
        return 0;
    }
    //  Every name the body has, read back: look each pair's value up by
    //  the decoded names the parser gives (through the public calls only)
    const char *names[] = {"a", "b", "note", "name", "session", "x", NULL};
    for (const char **name = names; *name; name++) {
        size_t count = web_form_count (form, *name);
        for (size_t nth = 0; nth < count; nth++) {
            const char *value = web_form_value (form, *name, nth);
            assert (value);
            s_check_text (value, strcmp (*name, "note") == 0);
            if (strcmp (*name, "note") == 0)
                assert (!strchr (value, '\r'));
        }
        assert (web_form_value (form, *name, count) == NULL);
    }
    web_form_destroy (&form);
    return 0;
}
