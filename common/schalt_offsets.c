/*  schalt_offsets - when before a date its reminders go out. See schalt_offsets.h.
 */
#include "schalt.h"

#include <libical/ical.h>

#define MAX_SECONDS (60L * 86400L)

long
schalt_offset_seconds (const schalt_offset_t *offset)
{
    long unit = offset->unit == 'd' ? 86400 : offset->unit == 'h' ? 3600 : 60;
    return offset->amount * unit;
}

//  Sorts the latest reminder (the largest offset) first.
static int
s_compare (const void *left, const void *right)
{
    long a = schalt_offset_seconds ((const schalt_offset_t *)left);
    long b = schalt_offset_seconds ((const schalt_offset_t *)right);
    return a < b ? 1 : a > b ? -1 : 0;
}

int
schalt_offsets_parse (const char *text, schalt_offsets_t *offsets, char *error, size_t size)
{
    memset (offsets, 0, sizeof (*offsets));
    const char *cursor = text ? text : "";
    while (*cursor == ' ')
        cursor++;
    if (streq (cursor, "none") || (strncmp (cursor, "none", 4) == 0 && cursor[4] == ' ' &&
                                   strspn (cursor + 4, " ") == strlen (cursor + 4)))
        return 0;
    while (*cursor) {
        size_t length = strcspn (cursor, " ");
        char word[32];
        snprintf (word, sizeof (word), "%.*s", (int)(length < 31 ? length : 31), cursor);
        size_t digits = strspn (word, "0123456789");
        char unit = word[digits];
        if (length > 8 || digits == 0 || digits > 5 || !strchr ("dhm", unit) || !unit ||
            word[digits + 1]) {
            snprintf (error, size,
                      "'%s' is not an offset: a whole number and d, h or m, as in 7d, 2h or 30m "
                      "(or the word none)",
                      word);
            return -1;
        }
        if (offsets->count == SCHALT_OFFSETS_MAX) {
            snprintf (error, size, "at most %d offsets", SCHALT_OFFSETS_MAX);
            return -1;
        }
        schalt_offset_t offset = {atoi (word), unit, ""};
        snprintf (offset.text, sizeof (offset.text), "%d%c", offset.amount, unit);
        long seconds = schalt_offset_seconds (&offset);
        if (seconds <= 0 || seconds > MAX_SECONDS) {
            snprintf (error, size, "'%s' must be more than 0 and at most 60 days before", word);
            return -1;
        }
        for (size_t index = 0; index < offsets->count; index++)
            if (schalt_offset_seconds (&offsets->offsets[index]) == seconds) {
                snprintf (error, size, "'%s' is the same offset as '%s': give each once", word,
                          offsets->offsets[index].text);
                return -1;
            }
        offsets->offsets[offsets->count++] = offset;
        cursor += length;
        while (*cursor == ' ')
            cursor++;
    }
    if (offsets->count == 0) {
        snprintf (error, size, "give offsets such as \"7d 1d\" or \"2h\", or the word none");
        return -1;
    }
    qsort (offsets->offsets, offsets->count, sizeof (schalt_offset_t), s_compare);
    return 0;
}

char *
schalt_offsets_format (const schalt_offsets_t *offsets, char *buffer, size_t size)
{
    buffer[0] = 0;
    if (offsets->count == 0)
        snprintf (buffer, size, "none");
    for (size_t index = 0; index < offsets->count; index++)
        snprintf (buffer + strlen (buffer), size - strlen (buffer), "%s%s", index ? " " : "",
                  offsets->offsets[index].text);
    return buffer;
}

//  The zone's offset from UTC at utc, in seconds.
static long
s_utc_offset (icaltimezone *zone, time_t utc)
{
    struct icaltimetype wall = icaltime_from_timet_with_zone (utc, 0, zone);
    return (long)(icaltime_as_timet (wall) - utc); //  the wall time read as UTC, less the instant
}

int
schalt_offset_before (const schalt_offset_t *offset, time_t start, const char *zone, time_t *due)
{
    icaltimezone *ical_zone = icaltimezone_get_builtin_timezone (zone);
    if (!ical_zone)
        return -1;
    if (offset->unit != 'd') {
        *due = start - schalt_offset_seconds (offset);
        return 0;
    }
    //  The same wall-clock time, days earlier: as UTC arithmetic on the wall
    //  time, then back into the zone with the offset in force there
    time_t wall = start + s_utc_offset (ical_zone, start) - (time_t)offset->amount * 86400;
    long before = s_utc_offset (ical_zone, wall - 43200),
         after = s_utc_offset (ical_zone, wall + 43200);
    time_t first = wall - before, second = wall - after;
    bool first_ok = s_utc_offset (ical_zone, first) == before;
    bool second_ok = s_utc_offset (ical_zone, second) == after;
    //  A wall time that exists twice is the first of the two (the earlier
    //  instant); one that the change skipped is read with the offset before
    //  it, as Python's zoneinfo does (fold 0)
    if (first_ok && second_ok)
        *due = first < second ? first : second;
    else if (second_ok && !first_ok)
        *due = second;
    else
        *due = first;
    return 0;
}

void
schalt_offsets_test (bool verbose)
{
    printf (" * schalt_offsets: ");
    if (verbose)
        printf ("\n");
    schalt_offsets_t offsets;
    char error[160], text[64];
    assert (schalt_offsets_parse ("1d 7d", &offsets, error, sizeof (error)) == 0);
    assert (offsets.count == 2 &&
            streq (schalt_offsets_format (&offsets, text, sizeof (text)), "7d 1d"));
    assert (schalt_offsets_parse ("  2h 1d  ", &offsets, error, sizeof (error)) == 0);
    assert (streq (schalt_offsets_format (&offsets, text, sizeof (text)), "1d 2h"));
    assert (schalt_offsets_parse ("none", &offsets, error, sizeof (error)) == 0 &&
            offsets.count == 0);
    assert (streq (schalt_offsets_format (&offsets, text, sizeof (text)), "none"));
    assert (schalt_offsets_parse ("60d 30m", &offsets, error, sizeof (error)) == 0);
    const char *bad[] = {
        "",       "0d",    "61d", "1441h",   "3x",  "d",     "1.5h",
        "1d 24h", "2h 2h", "-1d", "1d none", "1 d", "1d,2h", "1d 2h 3h 4h 5h 6h 7h 8h 9h",
        "123456m"};
    for (size_t index = 0; index < sizeof (bad) / sizeof (bad[0]); index++) {
        error[0] = 0;
        assert (schalt_offsets_parse (bad[index], &offsets, error, sizeof (error)) == -1);
        assert (error[0]);
    }
    assert (schalt_offsets_parse ("1d 24h", &offsets, error, sizeof (error)) == -1);
    assert (strstr (error, "same offset"));

    //  Days keep the wall-clock time across both changes of 2027 in Berlin
    const char *berlin = "Europe/Berlin";
    schalt_offset_t day = {1, 'd', "1d"}, hours = {2, 'h', "2h"};
    time_t start, due;
    char instant[32];
    assert (schalt_time_parse_instant ("2027-03-28T08:00:00Z", &start) == 0); //  10:00 CEST
    assert (schalt_offset_before (&day, start, berlin, &due) == 0);
    assert (streq (schalt_time_format_instant (due, instant), "2027-03-27T09:00:00Z"));
    assert (schalt_offset_before (&hours, start, berlin, &due) == 0);
    assert (streq (schalt_time_format_instant (due, instant), "2027-03-28T06:00:00Z"));
    assert (schalt_time_parse_instant ("2027-10-31T09:00:00Z", &start) == 0); //  10:00 CET
    assert (schalt_offset_before (&day, start, berlin, &due) == 0);
    assert (streq (schalt_time_format_instant (due, instant), "2027-10-30T08:00:00Z"));
    //  The day before is 02:30 that the spring change skips: read at +01:00
    assert (schalt_time_parse_instant ("2027-03-29T00:30:00Z", &start) == 0);
    assert (schalt_offset_before (&day, start, berlin, &due) == 0);
    assert (streq (schalt_time_format_instant (due, instant), "2027-03-28T01:30:00Z"));
    //  The day before is 02:30 that exists twice in October: the first
    assert (schalt_time_parse_instant ("2027-11-01T01:30:00Z", &start) == 0);
    assert (schalt_offset_before (&day, start, berlin, &due) == 0);
    assert (streq (schalt_time_format_instant (due, instant), "2027-10-31T00:30:00Z"));
    assert (schalt_offset_before (&day, start, "Mars/Olympus", &due) == -1);
    printf ("OK\n");
}
