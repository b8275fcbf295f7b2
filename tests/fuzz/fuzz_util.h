/*  fuzz_util - what the fuzz targets of tests/fuzz share: cutting one input
    into several fields, and the checks of text that more than one target asks.

    A target that needs several strings from one input cuts it at every 0xFF
    byte. 0xFF never occurs in UTF-8, so no valid frame, name, value or JSON
    text needs one, and libFuzzer's mutations can move, grow and drop fields
    freely. These helpers are for the fuzz targets only.
*/
#ifndef FUZZ_UTIL_H_INCLUDED
#define FUZZ_UTIL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_SEPARATOR 0xFF

//  One field of an input: borrowed bytes, not NUL-terminated.
typedef struct {
    const uint8_t *data;
    size_t size;
} fuzz_field_t;

//  Cuts data at every 0xFF into at most max fields (the last one keeps the
//  rest, separators included). Returns the number of fields, at least 1.
size_t fuzz_split (const uint8_t *data, size_t size, fuzz_field_t *fields, size_t max);

//  The field as a NUL-terminated string, cut at its first NUL if it has
//  one; the caller frees it. An index past count gives "".
char *fuzz_string (const fuzz_field_t *fields, size_t count, size_t index);

//  True if the size bytes at text are valid UTF-8 (no overlong forms, no
//  surrogates, nothing past U+10FFFF); written apart from the code under test.
bool fuzz_utf8_valid (const char *text, size_t size);

//  The number of Unicode code points in valid UTF-8 text.
size_t fuzz_utf8_length (const char *text, size_t size);

//  Days since 1970-01-01 of a date of the proleptic Gregorian calendar
//  (any year, month 1..12, day 1..31): the usual civil-from-days algorithm,
//  so that instants are computed without timegm or libical.
int64_t fuzz_days_from_civil (int64_t year, int month, int day);

#endif
