/*  schalt_ical - what every iCalendar object Schaltstelle writes shares
    (RFC 5545, written with libical): the VCALENDAR with its product id,
    times in the installation's zone with its VTIMEZONE cut to the span
    that matters, and the text with CRLF line ends.

    The notifier's calendar entries in e-mails (notifier_calendar.h, iMIP)
    and the web front's feeds (web_feed.c, a published calendar) are made
    of these.
*/
#ifndef SCHALT_ICAL_H_INCLUDED
#define SCHALT_ICAL_H_INCLUDED

#include <libical/ical.h>
#include <stdbool.h>
#include <time.h>

//  A new VCALENDAR (PRODID, VERSION 2.0, CALSCALE GREGORIAN) with METHOD
//  method unless it is ICAL_METHOD_NONE.
icalcomponent *schalt_ical_calendar (icalproperty_method method);

//  The zone's VTIMEZONE, named name, with only the observances that matter
//  from a year before from to until (libical's holds every change since
//  1893, hundreds of lines): those with an onset in that span, and the last
//  one before it, which holds at its beginning.
icalcomponent *schalt_ical_timezone (icaltimezone *zone, const char *name, time_t from,
                                     time_t until);

//  A time property (made by make: icalproperty_new_dtstart, _dtend) of the
//  instant utc as the wall-clock time of zone, with the TZID parameter
//  name.
icalproperty *schalt_ical_time (icalproperty *(*make) (struct icaltimetype), time_t utc,
                                icaltimezone *zone, const char *name);

//  A parameter value (CN) as RFC 5545 can quote it: a copy (the caller
//  frees it) without DQUOTE and control characters, each written as '.
char *schalt_ical_parameter_text (const char *text);

//  The object's text with CRLF line ends (libical escapes the values and
//  folds the lines); the caller frees it. Frees nothing of root.
char *schalt_ical_text (icalcomponent *root);

//  Self test.
void schalt_ical_test (bool verbose);

#endif
