/*  fuzz_util - what the fuzz targets of tests/fuzz share. See fuzz_util.h. */
#include "fuzz_util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

size_t
fuzz_split (const uint8_t *data, size_t size, fuzz_field_t *fields, size_t max)
{
    assert (max > 0);
    size_t count = 0, start = 0;
    for (size_t at = 0; at < size && count + 1 < max; at++)
        if (data[at] == FUZZ_SEPARATOR) {
            fields[count++] = (fuzz_field_t){data + start, at - start};
            start = at + 1;
        }
    fields[count++] = (fuzz_field_t){data + start, size - start};
    return count;
}

char *
fuzz_string (const fuzz_field_t *fields, size_t count, size_t index)
{
    if (index >= count)
        return strdup ("");
    char *text = strndup ((const char *)fields[index].data, fields[index].size);
    assert (text);
    return text;
}

bool
fuzz_utf8_valid (const char *text, size_t size)
{
    const unsigned char *bytes = (const unsigned char *)text;
    for (size_t at = 0; at < size;) {
        unsigned char lead = bytes[at];
        size_t length;
        unsigned long point, least;
        if (lead < 0x80) {
            at++;
            continue;
        } else if ((lead & 0xE0) == 0xC0)
            length = 2, point = lead & 0x1F, least = 0x80;
        else if ((lead & 0xF0) == 0xE0)
            length = 3, point = lead & 0x0F, least = 0x800;
        else if ((lead & 0xF8) == 0xF0)
            length = 4, point = lead & 0x07, least = 0x10000;
        else
            return false;
        if (size - at < length)
            return false;
        for (size_t index = 1; index < length; index++) {
            if ((bytes[at + index] & 0xC0) != 0x80)
                return false;
            point = point << 6 | (bytes[at + index] & 0x3F);
        }
        if (point < least || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF))
            return false;
        at += length;
    }
    return true;
}

size_t
fuzz_utf8_length (const char *text, size_t size)
{
    size_t count = 0;
    for (size_t at = 0; at < size; at++)
        count += ((unsigned char)text[at] & 0xC0) != 0x80;
    return count;
}

int64_t
fuzz_days_from_civil (int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}
