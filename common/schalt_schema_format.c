/*  schalt_schema_format - the string formats a schema may ask for.

    "date-time" is RFC 3339 (a leap second only where UTC has one), "email"
    a practical address: a dot-atom local part and a domain of at least two
    labels. schalt_schema_check.c calls these for a node with a format; the
    self test of schalt_schema.c runs this file's cases.
*/

#include "schalt_schema_internal.h"

//  Reads count decimal digits at text; returns the value, or -1
static int
s_digits (const char *text, int count)
{
    int value = 0;
    for (int index = 0; index < count; index++) {
        if (text[index] < '0' || text[index] > '9')
            return -1;
        value = value * 10 + (text[index] - '0');
    }
    return value;
}

//  True if text is an RFC 3339 date-time (second 60 only at 23:59 UTC)
bool
schalt_schema_is_date_time (const char *text, size_t length)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (length < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
        text[13] != ':' || text[16] != ':')
        return false;
    int year = s_digits (text, 4), month = s_digits (text + 5, 2), day = s_digits (text + 8, 2);
    int hour = s_digits (text + 11, 2), minute = s_digits (text + 14, 2);
    int second = s_digits (text + 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > days[month - 1] + (month == 2 && leap))
        return false;
    size_t at = 19;
    if (text[at] == '.') { //  fraction: at least one digit
        size_t start = ++at;
        while (at < length && text[at] >= '0' && text[at] <= '9')
            at++;
        if (at == start)
            return false;
    }
    int offset = 0; //  minutes east of UTC
    if (at + 1 == length && (text[at] == 'Z' || text[at] == 'z'))
        offset = 0;
    else if (at + 6 == length && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
        int offset_hour = s_digits (text + at + 1, 2), offset_minute = s_digits (text + at + 4, 2);
        if (offset_hour < 0 || offset_hour > 23 || offset_minute < 0 || offset_minute > 59)
            return false;
        offset = (offset_hour * 60 + offset_minute) * (text[at] == '-' ? -1 : 1);
    } else
        return false;
    //  A leap second is inserted at the end of a UTC day only
    int utc_minute = ((hour * 60 + minute - offset) % 1440 + 1440) % 1440;
    return second < 60 || utc_minute == 23 * 60 + 59;
}

//  True if text is a practical e-mail address: dot-atom local part, then
//  a domain of at least two labels of letters, digits and inner hyphens
bool
schalt_schema_is_email (const char *text, size_t length)
{
    const char *at = memchr (text, '@', length);
    if (!at || length > 254 || memchr (at + 1, '@', length - (size_t)(at - text) - 1))
        return false;
    size_t local = (size_t)(at - text);
    if (local == 0 || local > 64 || text[0] == '.' || text[local - 1] == '.')
        return false;
    for (size_t index = 0; index < local; index++) {
        unsigned char c = (unsigned char)text[index];
        if (c <= ' ' || c >= 0x7F || strchr ("<>()[],;:\"\\", c) ||
            (c == '.' && text[index + 1] == '.'))
            return false;
    }
    size_t labels = 0, label = 0; //  label count, current label length
    for (const char *p = at + 1; p <= text + length; p++) {
        if (p == text + length || *p == '.') {
            //  (p - label: the label's first character; p[-label] would negate a size_t)
            if (label == 0 || label > 63 || p[-1] == '-' || *(p - label) == '-')
                return false;
            labels++;
            label = 0;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '-')
            label++;
        else
            return false;
    }
    return labels >= 2;
}

//  -------------------------------------------------------------------------
//  Self test (called by schalt_schema_test)

static const char *s_date_times[] = {"2024-02-29T10:00:00Z",
                                     "2000-02-29t00:00:00.5z",
                                     "1998-12-31T23:59:60Z",
                                     "1998-12-31T15:59:60.123-08:00",
                                     "1999-01-01T00:59:60+01:00",
                                     "0000-01-01T00:00:00+23:59",
                                     NULL, //  the rest are invalid
                                     "2023-02-29T10:00:00Z",
                                     "1900-02-29T10:00:00Z",
                                     "2024-04-31T10:00:00Z",
                                     "2024-13-01T10:00:00Z",
                                     "2024-01-01 10:00:00Z",
                                     "2024-01-01T10:00:00",
                                     "2024-01-01T10:00:00.Z",
                                     "2024-01-01T24:00:00Z",
                                     "2024-01-01T10:00:00+01:60",
                                     "2024-01-01T10:00:00+24:00",
                                     "1998-12-31T22:59:60Z",
                                     "1998-12-31T23:59:61Z",
                                     "2024-1-01T10:00:00Z",
                                     "2024-01-01T10:00:00Zz",
                                     "2024-01-01T10:00:00+0100",
                                     "2013-350T01:01:01Z",
                                     ""};

static const char *s_emails[] = {"joe.bloggs@example.com",
                                 "te~st@sub.example-1.org",
                                 "a+b@x.co",
                                 "a@b.cd",
                                 NULL,
                                 "2962",
                                 "a@b",
                                 ".a@example.com",
                                 "a.@example.com",
                                 "a..b@example.com",
                                 "a b@example.com",
                                 "a@@example.com",
                                 "a@b@example.com",
                                 "a@-x.com",
                                 "a@x-.com",
                                 "a@x..com",
                                 "a@x.com.",
                                 "\"a\"@x.com",
                                 "a@x_y.com",
                                 "@example.com",
                                 "\xc3\xbc@example.com",
                                 ""};

//  Checks a list of strings (valid ones, NULL, invalid ones) against a format
static void
s_test_format (const char *format, const char **values, size_t count)
{
    json_t *json = json_pack ("{ss}", "format", format);
    schalt_schema_t *schema = schalt_schema_new (json, NULL);
    assert (schema);
    bool expected = true;
    for (size_t index = 0; index < count; index++) {
        if (!values[index]) {
            expected = false;
            continue;
        }
        json_t *value = json_string (values[index]);
        if (schalt_schema_validate (schema, value, NULL) != expected)
            fprintf (stderr, "schema test: FAIL %s %s\n", format, values[index]);
        assert (schalt_schema_validate (schema, value, NULL) == expected);
        json_decref (value);
    }
    schalt_schema_destroy (&schema);
    json_decref (json);
}

//  Checks the formats against valid and invalid values; asserts
void
schalt_schema_test_format (void)
{
    s_test_format ("date-time", s_date_times, sizeof s_date_times / sizeof s_date_times[0]);
    s_test_format ("email", s_emails, sizeof s_emails / sizeof s_emails[0]);
}
