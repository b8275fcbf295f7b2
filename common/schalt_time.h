/*  schalt_time - instants on the wire and wall-clock times people read.

    Instants travel as RFC 3339 text and are stored as UTC seconds. A time a
    person types ("2027-03-13T09:00") or reads is a wall-clock time in the
    installation's zone (default Europe/Berlin), converted with libical's
    zone data. A wall-clock time that does not exist (the hour skipped when
    daylight-saving time begins) is refused; one that exists twice (the hour
    repeated when it ends) means the first.
*/
#ifndef SCHALT_TIME_H_INCLUDED
#define SCHALT_TIME_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

//  Parse an RFC 3339 date-time with offset ("2027-03-13T09:00:00+01:00",
//  "...Z"); fractions of a second are dropped. Returns 0 and sets *utc, or -1.
int schalt_time_parse_instant (const char *text, time_t *utc);

//  Format seconds as RFC 3339 in UTC: "2027-03-13T08:00:00Z". Returns buffer.
char *schalt_time_format_instant (time_t utc, char buffer[32]);

//  Parse a wall-clock time in zone: "YYYY-MM-DDTHH:MM[:SS]" or with a space
//  instead of T. A full RFC 3339 instant (with offset) is accepted as well.
//  Returns 0 and sets *utc; -1 if malformed, unknown zone, or nonexistent.
int schalt_time_parse_local (const char *text, const char *zone, time_t *utc);

//  Format seconds as wall-clock "YYYY-MM-DD HH:MM" in zone. Returns buffer,
//  or NULL for an unknown zone.
char *schalt_time_format_local (time_t utc, const char *zone, char buffer[32]);

//  The local day in zone that utc falls on, as UTC seconds: its first
//  instant and the first of the next day. Returns 0, or -1 for an unknown zone.
int schalt_time_local_day (time_t utc, const char *zone, time_t *day_start, time_t *day_end);

//  Formats the wall-clock time of utc in zone as "HH:MM", or, in the hour
//  that occurs twice when daylight-saving time ends, with the zone's name
//  for it: "02:30 MESZ" and "02:30 MEZ" (language "de"), "02:30 CEST" and
//  "02:30 CET" (otherwise). Returns buffer, or NULL for an unknown zone.
char *schalt_time_format_clock (time_t utc, const char *zone, const char *language,
                                char buffer[32]);

//  True if libical knows the zone.
bool schalt_time_zone_known (const char *zone);

//  Self test.
void schalt_time_test (bool verbose);

#endif
