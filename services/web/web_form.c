/*  web_form - a form as a browser sends it, checked (see web_form.h). */
#include "web_form.h"
#include "schalt.h"

typedef struct {
    char *name;
    char *value;
} s_field_t;

struct _web_form_t {
    s_field_t fields[WEB_FORM_FIELDS_MAX];
    size_t size;
};

static int
s_hex (char digit)
{
    if (digit >= '0' && digit <= '9')
        return digit - '0';
    if (digit >= 'a' && digit <= 'f')
        return digit - 'a' + 10;
    if (digit >= 'A' && digit <= 'F')
        return digit - 'A' + 10;
    return -1;
}

//  Decodes length octets of text (+ and %XX) into a new string; NULL if an
//  escape is broken. *decoded is its length (it may hold a NUL, which the
//  caller refuses as a control character).
static char *
s_decode (const char *text, size_t length, size_t *decoded)
{
    char *out = (char *)malloc (length + 1);
    assert (out);
    size_t used = 0;
    size_t index = 0;
    while (index < length) {
        char c = text[index++];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            int high = index < length ? s_hex (text[index]) : -1;
            int low = index + 1 < length ? s_hex (text[index + 1]) : -1;
            if (high < 0 || low < 0) {
                free (out);
                return NULL;
            }
            c = (char)(high * 16 + low);
            index += 2;
        }
        out[used++] = c;
    }
    out[used] = 0;
    *decoded = used;
    return out;
}

static bool
s_listed (const char **names, const char *name)
{
    for (; names && *names; names++)
        if (streq (*names, name))
            return true;
    return false;
}

size_t
web_form_characters (const char *text)
{
    size_t count = 0;
    for (; *text; text++)
        count += ((unsigned char)*text & 0xc0) != 0x80;
    return count;
}

bool
web_form_line_valid (const char *text)
{
    size_t length = strlen (text);
    if (!schalt_text_utf8_valid (text, length))
        return false;
    for (size_t index = 0; index < length; index++) {
        unsigned char c = (unsigned char)text[index];
        if (c < 0x20 || c == 0x7f || (c == 0xc2 && (unsigned char)text[index + 1] < 0xa0))
            return false;
    }
    return true;
}

//  Checks a decoded value: UTF-8, no control characters (CR LF and LF and
//  tab where multiline, CR LF then becoming LF in place). Returns NULL or
//  what is wrong.
static const char *
s_check_value (char *value, size_t *length, bool multiline)
{
    if (!schalt_text_utf8_valid (value, *length))
        return "is not valid UTF-8 text";
    size_t used = 0;
    for (size_t index = 0; index < *length; index++) {
        unsigned char c = (unsigned char)value[index];
        if (multiline && c == '\r' && index + 1 < *length && value[index + 1] == '\n')
            continue;
        bool control = c < 0x20 || c == 0x7f;
        if (control && !(multiline && (c == '\n' || c == '\t')))
            return multiline ? "holds a control character (only line breaks and tabs may be in it)"
                             : "holds a control character (a line break, a tab or another); "
                               "it must be one line of text";
        //  U+0080 to U+009F, the C1 controls (C2 80 to C2 9F)
        if (c == 0xc2 && index + 1 < *length && (unsigned char)value[index + 1] < 0xa0)
            return "holds a control character (U+0080 to U+009F)";
        value[used++] = value[index];
    }
    value[used] = 0;
    *length = used;
    return NULL;
}

web_form_t *
web_form_parse (const char *body, size_t length, const char **multiline, char *field,
                size_t field_size, char *error, size_t size)
{
    web_form_t *self = (web_form_t *)zmalloc (sizeof (web_form_t));
    assert (self);
    field[0] = 0;
    size_t start = 0;
    while (start < length) {
        const char *pair = body + start;
        const char *end = (const char *)memchr (pair, '&', length - start);
        size_t pair_length = end ? (size_t)(end - pair) : length - start;
        start += pair_length + 1;
        if (pair_length == 0)
            continue; //  "a=1&&b=2": browsers never send it, but it is harmless
        field[0] = 0;
        if (self->size == WEB_FORM_FIELDS_MAX) {
            snprintf (error, size, "the form has more than %d fields", WEB_FORM_FIELDS_MAX);
            web_form_destroy (&self);
            return NULL;
        }
        const char *equals = (const char *)memchr (pair, '=', pair_length);
        size_t name_length = equals ? (size_t)(equals - pair) : pair_length;
        size_t decoded = 0, value_length = 0;
        char *name = s_decode (pair, name_length, &decoded);
        if (!name || decoded == 0 || decoded > WEB_FORM_NAME_MAX || strlen (name) != decoded ||
            s_check_value (name, &decoded, false)) {
            snprintf (error, size,
                      "a field's name is empty, longer than %d characters, or not "
                      "text",
                      WEB_FORM_NAME_MAX);
            free (name);
            web_form_destroy (&self);
            return NULL;
        }
        snprintf (field, field_size, "%s", name);
        char *value = equals ? s_decode (equals + 1, pair_length - name_length - 1, &value_length)
                             : strdup ("");
        const char *wrong = value ? s_check_value (value, &value_length, s_listed (multiline, name))
                                  : "has a broken escape (% must be followed by two hex digits)";
        if (wrong) {
            snprintf (error, size, "%s %s", name, wrong);
            free (name);
            free (value);
            web_form_destroy (&self);
            return NULL;
        }
        self->fields[self->size].name = name;
        self->fields[self->size].value = value;
        self->size++;
    }
    field[0] = 0;
    return self;
}

void
web_form_destroy (web_form_t **self_p)
{
    web_form_t *self = *self_p;
    if (!self)
        return;
    for (size_t index = 0; index < self->size; index++) {
        free (self->fields[index].name);
        free (self->fields[index].value);
    }
    free (self);
    *self_p = NULL;
}

const char *
web_form_value (web_form_t *self, const char *name, size_t nth)
{
    for (size_t index = 0; index < self->size; index++)
        if (streq (self->fields[index].name, name) && nth-- == 0)
            return self->fields[index].value;
    return NULL;
}

size_t
web_form_count (web_form_t *self, const char *name)
{
    size_t count = 0;
    for (size_t index = 0; index < self->size; index++)
        count += streq (self->fields[index].name, name);
    return count;
}

//  --------------------------------------------------------------------------
//  Self test

static void
s_refused (const char *body, const char *expected_field, const char *expected_error)
{
    char field[64], error[256];
    web_form_t *form =
        web_form_parse (body, strlen (body), NULL, field, sizeof (field), error, sizeof (error));
    assert (!form);
    assert (streq (field, expected_field));
    assert (strstr (error, expected_error));
}

void
web_form_test (bool verbose)
{
    printf (" * web_form: ");
    if (verbose)
        printf ("\n");
    assert (web_form_characters ("Erika M\xc3\xbcller") == 12);
    assert (web_form_line_valid ("Erika M\xc3\xbcller"));
    assert (web_form_line_valid (""));
    assert (!web_form_line_valid ("a\nb"));
    assert (!web_form_line_valid ("a\x7f"));
    assert (!web_form_line_valid ("a\xc2\x85"));
    assert (!web_form_line_valid ("\xff"));
    char field[64], error[256];
    const char *body = "session=ses-a&name=Erika+M%C3%BCller&session=ses-b&empty=&flag&"
                       "note=line+1%0D%0Aline+2";
    const char *multiline[] = {"note", NULL};
    web_form_t *form = web_form_parse (body, strlen (body), multiline, field, sizeof (field), error,
                                       sizeof (error));
    assert (form);
    assert (web_form_count (form, "session") == 2);
    assert (streq (web_form_value (form, "session", 0), "ses-a"));
    assert (streq (web_form_value (form, "session", 1), "ses-b"));
    assert (web_form_value (form, "session", 2) == NULL);
    assert (streq (web_form_value (form, "name", 0), "Erika Müller"));
    assert (streq (web_form_value (form, "empty", 0), ""));
    assert (streq (web_form_value (form, "flag", 0), ""));
    assert (streq (web_form_value (form, "note", 0), "line 1\nline 2"));
    assert (web_form_value (form, "missing", 0) == NULL);
    web_form_destroy (&form);

    //  The same line break where the form has no text area
    s_refused ("name=a%0Ab", "name", "control character");
    s_refused ("name=a%00b", "name", "control character");
    s_refused ("name=a%C2%85b", "name", "U+0080");
    s_refused ("name=%FF", "name", "UTF-8");
    s_refused ("name=%C3", "name", "UTF-8");
    s_refused ("name=%ED%A0%80", "name", "UTF-8"); //  a surrogate
    s_refused ("name=a%2", "name", "broken escape");
    s_refused ("name=a%zz", "name", "broken escape");
    s_refused ("name=a%", "name", "broken escape");
    s_refused ("=x", "", "name");
    s_refused ("a%00b=x", "", "name");
    s_refused ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=x", "", "name");
    //  Too many fields
    char many[WEB_FORM_FIELDS_MAX * 4 + 8] = "";
    for (int index = 0; index <= WEB_FORM_FIELDS_MAX; index++)
        strcat (many, "a=1&");
    s_refused (many, "", "more than");
    //  An empty body is an empty form
    form = web_form_parse ("", 0, NULL, field, sizeof (field), error, sizeof (error));
    assert (form && web_form_count (form, "a") == 0);
    web_form_destroy (&form);
    printf ("OK\n");
}
