/*  schalt_time - instants on the wire and wall-clock times people read.
    See schalt_time.h. Calendar arithmetic in UTC uses timegm; zones use libical.
*/
#include "schalt_time.h"

#include <czmq.h>
#include <ctype.h>
#include <libical/ical.h>
#include <stdio.h>
#include <string.h>

//  The first and last instants RFC 3339 can write: 0001-01-01T00:00:00Z
//  and 9999-12-31T23:59:59Z, in UTC seconds
#define S_FIRST_INSTANT ((time_t)-62135596800LL)
#define S_LAST_INSTANT ((time_t)253402300799LL)

//  Reads exactly `digits` decimal digits at text; returns the value or -1.
static int
s_number (const char *text, int digits)
{
    int value = 0;
    for (int index = 0; index < digits; index++) {
        if (!isdigit ((unsigned char)text[index]))
            return -1;
        value = value * 10 + (text[index] - '0');
    }
    return value;
}

//  True if the calendar date exists.
static bool
s_valid_date (int year, int month, int day)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || month < 1 || month > 12 || day < 1)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days[month - 1] + (month == 2 && leap ? 1 : 0);
}

//  Parses "YYYY-MM-DD?HH:MM[:SS]" where ? is T, t or space. Sets the fields
//  and *rest to what follows. Returns 0 or -1. Seconds are optional only if
//  allow_short.
static int
s_parse_wall (const char *text, bool allow_short, struct tm *fields, const char **rest)
{
    memset (fields, 0, sizeof (*fields));
    if (strlen (text) < 16 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':')
        return -1;
    int year = s_number (text, 4), month = s_number (text + 5, 2), day = s_number (text + 8, 2);
    int hour = s_number (text + 11, 2), minute = s_number (text + 14, 2), second = 0;
    const char *cursor = text + 16;
    if (*cursor == ':') {
        second = s_number (cursor + 1, 2);
        cursor += 3;
    } else if (!allow_short)
        return -1;
    if (!s_valid_date (year, month, day) || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 60)
        return -1;
    fields->tm_year = year - 1900;
    fields->tm_mon = month - 1;
    fields->tm_mday = day;
    fields->tm_hour = hour;
    fields->tm_min = minute;
    fields->tm_sec = second == 60 ? 59 : second; //  a leap second is read as :59
    *rest = cursor;
    return 0;
}

int
schalt_time_parse_instant (const char *text, time_t *utc)
{
    struct tm fields;
    const char *rest;
    if (!text || s_parse_wall (text, false, &fields, &rest) != 0 || text[10] == ' ')
        return -1;
    if (*rest == '.') { //  fraction: at least one digit, then dropped
        rest++;
        if (!isdigit ((unsigned char)*rest))
            return -1;
        while (isdigit ((unsigned char)*rest))
            rest++;
    }
    long offset = 0;
    if ((*rest == 'Z' || *rest == 'z') && rest[1] == 0)
        offset = 0;
    else if ((*rest == '+' || *rest == '-') && strlen (rest) == 6 && rest[3] == ':') {
        int hours = s_number (rest + 1, 2), minutes = s_number (rest + 4, 2);
        if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59)
            return -1;
        offset = (hours * 60L + minutes) * 60L * (*rest == '-' ? -1 : 1);
    } else
        return -1;
    //  RFC 3339 has four-digit years: an offset may not carry the instant
    //  itself outside 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, or its
    //  UTC form could not be written (nor read back)
    time_t instant = timegm (&fields) - offset;
    if (instant < S_FIRST_INSTANT || instant > S_LAST_INSTANT)
        return -1;
    *utc = instant;
    return 0;
}

char *
schalt_time_format_instant (time_t utc, char buffer[32])
{
    //  Not strftime's %Y: it drops the leading zeros of years before 1000
    //  (an instant parsed here always has four; the wider buffer keeps any other whole)
    struct tm fields;
    gmtime_r (&utc, &fields);
    char text[96];
    snprintf (text, sizeof (text), "%04d-%02d-%02dT%02d:%02d:%02dZ", fields.tm_year + 1900,
              fields.tm_mon + 1, fields.tm_mday, fields.tm_hour, fields.tm_min, fields.tm_sec);
    snprintf (buffer, 32, "%.31s", text);
    return buffer;
}

bool
schalt_time_zone_known (const char *zone)
{
    return zone && icaltimezone_get_builtin_timezone (zone) != NULL;
}

int
schalt_time_parse_local (const char *text, const char *zone, time_t *utc)
{
    if (!text)
        return -1;
    if (schalt_time_parse_instant (text, utc) == 0)
        return 0;
    icaltimezone *ical_zone = icaltimezone_get_builtin_timezone (zone);
    struct tm fields;
    const char *rest;
    if (!ical_zone || s_parse_wall (text, true, &fields, &rest) != 0 || *rest)
        return -1;

    struct icaltimetype wall = icaltime_null_time ();
    wall.year = fields.tm_year + 1900;
    wall.month = fields.tm_mon + 1;
    wall.day = fields.tm_mday;
    wall.hour = fields.tm_hour;
    wall.minute = fields.tm_min;
    wall.second = fields.tm_sec;
    wall.zone = ical_zone;
    time_t candidate = icaltime_as_timet_with_zone (wall, ical_zone);

    //  Convert back: a wall time skipped by a DST change does not survive
    struct icaltimetype back = icaltime_from_timet_with_zone (candidate, 0, ical_zone);
    if (back.year != wall.year || back.month != wall.month || back.day != wall.day ||
        back.hour != wall.hour || back.minute != wall.minute)
        return -1;
    //  A repeated hour: libical may give either; take the earlier instant
    struct icaltimetype earlier = icaltime_from_timet_with_zone (candidate - 3600, 0, ical_zone);
    if (earlier.hour == wall.hour && earlier.minute == wall.minute && earlier.day == wall.day)
        candidate -= 3600;
    *utc = candidate;
    return 0;
}

char *
schalt_time_format_clock (time_t utc, const char *zone, const char *language, char buffer[32])
{
    icaltimezone *ical_zone = icaltimezone_get_builtin_timezone (zone);
    if (!ical_zone)
        return NULL;
    struct icaltimetype wall = icaltime_from_timet_with_zone (utc, 0, ical_zone);
    snprintf (buffer, 32, "%02d:%02d", wall.hour, wall.minute);
    //  The same wall time an hour before or after: the repeated hour
    bool twice = false;
    for (int sign = -1; sign <= 1; sign += 2) {
        struct icaltimetype other = icaltime_from_timet_with_zone (utc + sign * 3600, 0, ical_zone);
        twice |= other.day == wall.day && other.hour == wall.hour && other.minute == wall.minute;
    }
    if (!twice)
        return buffer;
    struct icaltimetype instant =
        icaltime_from_timet_with_zone (utc, 0, icaltimezone_get_utc_timezone ());
    int daylight = 0;
    icaltimezone_get_utc_offset_of_utc_time (ical_zone, &instant, &daylight);
    //  "CET/CEST": the standard name, then the daylight one
    char names[64];
    snprintf (names, sizeof (names), "%s", icaltimezone_get_tznames (ical_zone) ?: "");
    char *slash = strchr (names, '/');
    const char *name = daylight && slash ? slash + 1 : names;
    if (slash)
        *slash = 0;
    static const char *german[][2] = {{"CET", "MEZ"},   {"CEST", "MESZ"}, {"WET", "WEZ"},
                                      {"WEST", "WESZ"}, {"EET", "OEZ"},   {"EEST", "OESZ"}};
    if (language && streq (language, "de"))
        for (size_t index = 0; index < sizeof (german) / sizeof (german[0]); index++)
            if (streq (name, german[index][0]))
                name = german[index][1];
    if (*name)
        snprintf (buffer, 32, "%02d:%02d %.16s", wall.hour, wall.minute, name);
    return buffer;
}

int
schalt_time_local_day (time_t utc, const char *zone, time_t *day_start, time_t *day_end)
{
    icaltimezone *ical_zone = icaltimezone_get_builtin_timezone (zone);
    if (!ical_zone)
        return -1;
    struct icaltimetype wall = icaltime_from_timet_with_zone (utc, 0, ical_zone);
    //  Midnight of that day and of the next, each as the zone has it there
    //  (no zone of ours skips midnight)
    struct icaltimetype midnight = icaltime_null_time ();
    midnight.year = wall.year;
    midnight.month = wall.month;
    midnight.day = wall.day;
    midnight.zone = ical_zone;
    *day_start = icaltime_as_timet_with_zone (midnight, ical_zone);
    icaltime_adjust (&midnight, 1, 0, 0, 0);
    *day_end = icaltime_as_timet_with_zone (midnight, ical_zone);
    return 0;
}

char *
schalt_time_format_local (time_t utc, const char *zone, char buffer[32])
{
    icaltimezone *ical_zone = icaltimezone_get_builtin_timezone (zone);
    if (!ical_zone)
        return NULL;
    struct icaltimetype wall = icaltime_from_timet_with_zone (utc, 0, ical_zone);
    snprintf (buffer, 32, "%04d-%02d-%02d %02d:%02d", wall.year, wall.month, wall.day, wall.hour,
              wall.minute);
    return buffer;
}

void
schalt_time_test (bool verbose)
{
    printf (" * schalt_time: ");
    if (verbose)
        printf ("\n");
    time_t utc;
    char buffer[32];

    assert (schalt_time_parse_instant ("2027-03-13T09:00:00+01:00", &utc) == 0);
    assert (streq (schalt_time_format_instant (utc, buffer), "2027-03-13T08:00:00Z"));
    assert (schalt_time_parse_instant ("2027-03-13T08:00:00.250Z", &utc) == 0);
    assert (streq (schalt_time_format_instant (utc, buffer), "2027-03-13T08:00:00Z"));
    assert (schalt_time_parse_instant ("2027-03-13T08:00:00", &utc) == -1);
    assert (schalt_time_parse_instant ("2027-02-29T08:00:00Z", &utc) == -1);
    assert (schalt_time_parse_instant ("2028-02-29T08:00:00Z", &utc) == 0);
    assert (schalt_time_parse_instant ("2027-03-13T24:00:00Z", &utc) == -1);
    assert (schalt_time_parse_instant ("2027-03-13T08:00:00+1:00", &utc) == -1);
    assert (schalt_time_parse_instant ("2027-03-13T08:00:00Zjunk", &utc) == -1);

    //  Every year from 0001 on comes back as it went in, with four digits,
    //  and reads back as the same instant
    for (int year = 1; year <= 9999; year++) {
        const char *forms[] = {"%04d-01-01T00:00:00Z", "%04d-12-31T23:59:59Z",
                               "%04d-06-15T12:30:00+02:00"};
        for (size_t form = 0; form < sizeof forms / sizeof forms[0]; form++) {
            char text[40], again[32];
            time_t back;
            snprintf (text, sizeof (text), forms[form], year);
            assert (schalt_time_parse_instant (text, &utc) == 0);
            schalt_time_format_instant (utc, again);
            assert (strlen (again) == 20);
            assert (form == 2 || streq (again, text));
            assert (schalt_time_parse_instant (again, &back) == 0 && back == utc);
        }
    }
    assert (schalt_time_parse_instant ("0999-01-01T00:00:00Z", &utc) == 0);
    assert (streq (schalt_time_format_instant (utc, buffer), "0999-01-01T00:00:00Z"));
    assert (schalt_time_parse_instant ("0001-01-01T00:00:00Z", &utc) == 0 &&
            utc == S_FIRST_INSTANT);
    assert (schalt_time_parse_instant ("9999-12-31T23:59:59Z", &utc) == 0 && utc == S_LAST_INSTANT);
    //  An offset that carries the instant outside the four-digit years
    assert (schalt_time_parse_instant ("0001-01-01T00:30:00+01:00", &utc) == -1);
    assert (schalt_time_parse_instant ("9999-12-31T23:30:00-01:00", &utc) == -1);
    assert (schalt_time_parse_instant ("0000-06-01T00:00:00Z", &utc) == -1);

    //  Wall-clock times in Berlin: winter (+1), summer (+2)
    const char *berlin = "Europe/Berlin";
    assert (schalt_time_zone_known (berlin));
    assert (!schalt_time_zone_known ("Mars/Olympus"));
    assert (schalt_time_parse_local ("2027-03-13T09:00", berlin, &utc) == 0);
    assert (streq (schalt_time_format_instant (utc, buffer), "2027-03-13T08:00:00Z"));
    assert (streq (schalt_time_format_local (utc, berlin, buffer), "2027-03-13 09:00"));
    assert (schalt_time_parse_local ("2027-06-01 18:00", berlin, &utc) == 0);
    assert (streq (schalt_time_format_instant (utc, buffer), "2027-06-01T16:00:00Z"));
    //  28 March 2027, 02:30 does not exist in Berlin; 31 October 02:30 exists twice
    assert (schalt_time_parse_local ("2027-03-28T02:30", berlin, &utc) == -1);
    assert (schalt_time_parse_local ("2027-10-31T02:30", berlin, &utc) == 0);
    assert (streq (schalt_time_format_instant (utc, buffer), "2027-10-31T00:30:00Z"));
    assert (schalt_time_parse_local ("2027-13-01T10:00", berlin, &utc) == -1);
    assert (schalt_time_parse_local ("tomorrow", berlin, &utc) == -1);
    assert (schalt_time_parse_local ("2027-03-13T09:00Z", berlin, &utc) == -1);
    assert (schalt_time_parse_local ("2027-03-13T09:00:00Z", berlin, &utc) == 0);
    assert (schalt_time_format_local (utc, "Mars/Olympus", buffer) == NULL);
    //  The hour that occurs twice names its zone; every other time is as ever
    assert (schalt_time_parse_instant ("2027-10-31T00:30:00Z", &utc) == 0);
    assert (streq (schalt_time_format_clock (utc, berlin, "de", buffer), "02:30 MESZ"));
    assert (streq (schalt_time_format_clock (utc, berlin, "en", buffer), "02:30 CEST"));
    assert (streq (schalt_time_format_clock (utc + 3600, berlin, "de", buffer), "02:30 MEZ"));
    assert (streq (schalt_time_format_clock (utc + 3600, berlin, "en", buffer), "02:30 CET"));
    assert (streq (schalt_time_format_clock (utc + 7200, berlin, "de", buffer), "03:30"));
    assert (streq (schalt_time_format_clock (utc - 3600, berlin, "de", buffer), "01:30"));
    assert (schalt_time_parse_instant ("2027-03-28T01:30:00Z", &utc) == 0);
    assert (streq (schalt_time_format_clock (utc, berlin, "de", buffer), "03:30"));
    assert (schalt_time_format_clock (utc, "Mars/Olympus", "de", buffer) == NULL);
    //  Local days: 23 hours on the day summer time begins, 25 when it ends
    time_t day_start, day_end;
    assert (schalt_time_parse_instant ("2027-03-28T10:00:00Z", &utc) == 0);
    assert (schalt_time_local_day (utc, berlin, &day_start, &day_end) == 0);
    assert (streq (schalt_time_format_instant (day_start, buffer), "2027-03-27T23:00:00Z"));
    assert (day_end - day_start == 23 * 3600);
    assert (schalt_time_parse_instant ("2027-10-30T22:30:00Z", &utc) == 0); //  00:30 local
    assert (schalt_time_local_day (utc, berlin, &day_start, &day_end) == 0);
    assert (streq (schalt_time_format_instant (day_start, buffer), "2027-10-30T22:00:00Z"));
    assert (day_end - day_start == 25 * 3600);
    assert (schalt_time_local_day (utc, "Mars/Olympus", &day_start, &day_end) == -1);
    printf ("OK\n");
}
