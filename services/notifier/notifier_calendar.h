/*  notifier_calendar - the calendar entry an e-mail about a date carries.

    A notice's calendar ({method, events}, made by the registry) becomes an
    iCalendar object (RFC 5545) as iMIP (RFC 6047) sends it: METHOD REQUEST
    adds an entry to the reader's calendar or updates it, CANCEL removes it.
    Each event is one VEVENT: UID the registration id at the sender's
    domain (the same for the registration's whole life, so that a move
    updates the entry and a cancellation removes it), SEQUENCE the
    session's revision, DTSTART and DTEND in the installation's zone with
    its VTIMEZONE, SUMMARY the session's title, LOCATION place and room,
    DESCRIPTION the event's title, ORGANIZER the office's address, ATTENDEE
    the recipient; STATUS CANCELLED with CANCEL. Written with libical,
    which escapes the text and folds the lines.
*/
#ifndef NOTIFIER_CALENDAR_H_INCLUDED
#define NOTIFIER_CALENDAR_H_INCLUDED

#include "schalt.h"

//  Who and where the entry is for.
typedef struct {
    const char *zone;         //  "Europe/Berlin"
    const char *from_address; //  the organiser (and the UIDs' domain)
    const char *from_name;
    const char *to_address; //  the attendee
    const char *to_name;
    const char *language; //  "de" or "en": "Raum" or "room" in LOCATION
} notifier_calendar_context_t;

//  Renders calendar (the notice's {method, events}) at now. Returns the
//  iCalendar text (CRLF line ends) that the caller frees, and the method
//  in *method ("REQUEST" or "CANCEL", static); or NULL with a reason.
char *notifier_calendar_render (json_t *calendar, const notifier_calendar_context_t *context,
                                time_t now, const char **method, char *reason, size_t size);

//  Self test.
void notifier_calendar_test (bool verbose);

#endif
