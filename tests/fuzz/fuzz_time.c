/*  fuzz_time - libFuzzer target: the time parser and formatter (schalt_time).

    The input is one text (cut at its first NUL, as a C string would be). It
    is parsed as an RFC 3339 instant, and as a wall-clock time in
    Europe/Berlin the way `schalt` reads what a person types.

    Asserts, besides "no crash, no leak, no undefined behaviour":
    - an accepted instant formats as "YYYY-MM-DDTHH:MM:SSZ" (four-digit year,
      for every year the parser accepts), and parsing that text gives the
      same instant again (format -> parse round trip);
    - every text the schema's date-time format accepts (the check each
      request passes before a handler parses it) with a year from 0001 on
      and an instant in the years 0001 to 9999 UTC, the instant parser
      accepts too, and both agree with an instant computed here from the
      fields (days from the civil date, offset, a leap second read as :59,
      fractions dropped), without timegm or libical;
    - a wall-clock time "YYYY-MM-DD HH:MM" that parses in Europe/Berlin
      formats back to the same wall-clock time;
    - the text read as reminder offsets (schalt_offsets, what --reminders
      and the configuration give): accepted ones are at most 8, each more
      than 0 and at most 60 days, none twice, latest first, and their text
      reads back as the same offsets; a refusal always says why. An offset
      in days before an accepted instant keeps its wall-clock time (unless
      the change of summer time skipped it), one in hours is exact.
*/
#include "fuzz_util.h"
#include "schalt.h"
#include "schalt_schema_internal.h"

#define ZONE "Europe/Berlin"
//  The instants RFC 3339 can write in UTC: 0001-01-01T00:00:00Z to
//  9999-12-31T23:59:59Z (one an offset carries outside may be refused)
#define FIRST_INSTANT ((time_t)-62135596800LL)
#define LAST_INSTANT ((time_t)253402300799LL)

//  Reads count digits at text; returns the value, or -1.
static int
s_digits (const char *text, int count)
{
    int value = 0;
    for (int at = 0; at < count; at++) {
        if (text[at] < '0' || text[at] > '9')
            return -1;
        value = value * 10 + text[at] - '0';
    }
    return value;
}

//  The instant of a date-time the schema accepted, computed from its fields.
static time_t
s_instant (const char *text)
{
    int64_t days =
        fuzz_days_from_civil (s_digits (text, 4), s_digits (text + 5, 2), s_digits (text + 8, 2));
    int second = s_digits (text + 17, 2);
    int64_t utc = days * 86400 + s_digits (text + 11, 2) * 3600 + s_digits (text + 14, 2) * 60 +
                  (second == 60 ? 59 : second);
    const char *zone = text + 19;
    if (*zone == '.')
        zone += 1 + strspn (zone + 1, "0123456789");
    if (*zone == '+' || *zone == '-')
        utc -=
            (*zone == '-' ? -1 : 1) * (s_digits (zone + 1, 2) * 3600 + s_digits (zone + 4, 2) * 60);
    return (time_t)utc;
}

//  True if text is exactly "YYYY-MM-DDTHH:MM:SSZ".
static bool
s_formatted (const char *text)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen (text) != strlen (shape))
        return false;
    for (size_t at = 0; shape[at]; at++)
        if (shape[at] == 'd' ? text[at] < '0' || text[at] > '9' : text[at] != shape[at])
            return false;
    return true;
}

//  Checks the round trip of an accepted instant.
static void
s_check_round_trip (const char *text, time_t utc)
{
    char buffer[32];
    schalt_time_format_instant (utc, buffer);
    time_t again;
    if (!s_formatted (buffer) || schalt_time_parse_instant (buffer, &again) != 0 || again != utc) {
        fprintf (stderr, "fuzz_time: \"%s\" is %lld, formatted \"%s\", which does not read back\n",
                 text, (long long)utc, buffer);
        abort ();
    }
}

//  Checks a wall-clock time that parsed in the zone formats back to itself.
static void
s_check_local (const char *text, time_t utc)
{
    //  Only "YYYY-MM-DD?HH:MM" alone: with seconds or an offset it is not
    //  what the formatter writes
    if (strlen (text) != 16)
        return;
    char buffer[32];
    assert (schalt_time_format_local (utc, ZONE, buffer));
    if (memcmp (buffer, text, 10) != 0 || memcmp (buffer + 11, text + 11, 5) != 0) {
        fprintf (stderr, "fuzz_time: \"%s\" in %s is %lld, formatted back \"%s\"\n", text, ZONE,
                 (long long)utc, buffer);
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = strndup ((const char *)data, size);
    assert (text);
    time_t utc;
    bool instant = schalt_time_parse_instant (text, &utc) == 0;
    if (instant)
        s_check_round_trip (text, utc);

    //  What the schema lets through, the handler can read: the same instant
    //  (The year 0000 is RFC 3339's but not the parser's: handlers answer 400)
    if (schalt_schema_is_date_time (text, strlen (text)) && s_digits (text, 4) >= 1 &&
        s_instant (text) >= FIRST_INSTANT && s_instant (text) <= LAST_INSTANT) {
        if (!instant || utc != s_instant (text)) {
            fprintf (stderr,
                     "fuzz_time: the schema accepts \"%s\"; parsed: %s %lld, expected %lld\n", text,
                     instant ? "yes" : "no", instant ? (long long)utc : 0LL,
                     (long long)s_instant (text));
            abort ();
        }
    }

    schalt_offsets_t offsets, again;
    char error[160] = "", written[96];
    if (schalt_offsets_parse (text, &offsets, error, sizeof (error)) == 0) {
        assert (offsets.count <= SCHALT_OFFSETS_MAX);
        for (size_t index = 0; index < offsets.count; index++) {
            long seconds = schalt_offset_seconds (&offsets.offsets[index]);
            assert (seconds > 0 && seconds <= 60L * 86400);
            assert (index == 0 || seconds < schalt_offset_seconds (&offsets.offsets[index - 1]));
        }
        schalt_offsets_format (&offsets, written, sizeof (written));
        assert (schalt_offsets_parse (written, &again, error, sizeof (error)) == 0);
        assert (again.count == offsets.count);
        for (size_t index = 0; index < offsets.count; index++)
            assert (streq (again.offsets[index].text, offsets.offsets[index].text));
        if (instant && offsets.count > 0 && utc > FIRST_INSTANT + 61L * 86400) {
            time_t due;
            assert (schalt_offset_before (&offsets.offsets[0], utc, ZONE, &due) == 0);
            char wall[32], due_wall[32];
            schalt_time_format_local (utc, ZONE, wall);
            schalt_time_format_local (due, ZONE, due_wall);
            if (offsets.offsets[0].unit != 'd')
                assert (due == utc - schalt_offset_seconds (&offsets.offsets[0]));
            else if (streq (due_wall + 11, wall + 11) == false) {
                //  Only where the change skipped that wall time: an hour apart at most
                assert (labs ((long)(due - (utc - schalt_offset_seconds (&offsets.offsets[0])))) <=
                        7200);
            }
        }
    } else
        assert (error[0]);

    time_t local;
    if (schalt_time_parse_local (text, ZONE, &local) == 0) {
        if (instant)
            assert (local == utc); //  an instant means itself in any zone
        else
            s_check_local (text, local);
    }
    free (text);
    return 0;
}
