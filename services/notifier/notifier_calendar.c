/*  notifier_calendar - the calendar entry an e-mail about a date carries.
    See notifier_calendar.h.
*/
#include "notifier_calendar.h"
#include "schalt_ical.h"

//  The VEVENT of one entry, or NULL with a reason.
static icalcomponent *
s_event (json_t *entry, const notifier_calendar_context_t *context, icaltimezone *zone,
         const char *domain, bool cancel, time_t now, char *reason, size_t size)
{
    time_t start, end;
    const char *uid = json_string_value (json_object_get (entry, "uid"));
    const char *title = json_string_value (json_object_get (entry, "title"));
    const char *room = json_string_value (json_object_get (entry, "room"));
    const char *place = json_string_value (json_object_get (entry, "place"));
    const char *event_title = json_string_value (json_object_get (entry, "event_title"));
    if (!uid || !title || !room || !place || !event_title ||
        schalt_time_parse_instant (json_string_value (json_object_get (entry, "start")), &start) ||
        schalt_time_parse_instant (json_string_value (json_object_get (entry, "end")), &end)) {
        snprintf (reason, size, "a calendar entry of the notice lacks a field or a time");
        return NULL;
    }
    icalcomponent *event = icalcomponent_new_vevent ();
    char *text = zsys_sprintf ("%s@%s", uid, domain);
    icalcomponent_add_property (event, icalproperty_new_uid (text));
    zstr_free (&text);
    icalcomponent_add_property (event, icalproperty_new_sequence ((int)json_integer_value (
                                           json_object_get (entry, "sequence"))));
    icalcomponent_add_property (event, icalproperty_new_dtstamp (icaltime_from_timet_with_zone (
                                           now, 0, icaltimezone_get_utc_timezone ())));
    icalcomponent_add_property (
        event, schalt_ical_time (icalproperty_new_dtstart, start, zone, context->zone));
    icalcomponent_add_property (
        event, schalt_ical_time (icalproperty_new_dtend, end, zone, context->zone));
    icalcomponent_add_property (event, icalproperty_new_summary (title));
    text =
        zsys_sprintf ("%s, %s %s", place, streq (context->language, "en") ? "room" : "Raum", room);
    icalcomponent_add_property (event, icalproperty_new_location (text));
    zstr_free (&text);
    icalcomponent_add_property (event, icalproperty_new_description (event_title));
    char *name = schalt_ical_parameter_text (context->from_name);
    text = zsys_sprintf ("mailto:%s", context->from_address);
    icalproperty *organiser = icalproperty_new_organizer (text);
    icalproperty_add_parameter (organiser, icalparameter_new_cn (name));
    icalcomponent_add_property (event, organiser);
    zstr_free (&text);
    free (name);
    name = schalt_ical_parameter_text (context->to_name);
    text = zsys_sprintf ("mailto:%s", context->to_address);
    icalproperty *attendee = icalproperty_new_attendee (text);
    icalproperty_add_parameter (attendee, icalparameter_new_cn (name));
    icalproperty_add_parameter (attendee, icalparameter_new_role (ICAL_ROLE_REQPARTICIPANT));
    icalproperty_add_parameter (
        attendee,
        icalparameter_new_partstat (cancel ? ICAL_PARTSTAT_DECLINED : ICAL_PARTSTAT_ACCEPTED));
    icalproperty_add_parameter (attendee, icalparameter_new_rsvp (ICAL_RSVP_FALSE));
    icalcomponent_add_property (event, attendee);
    zstr_free (&text);
    free (name);
    icalcomponent_add_property (
        event, icalproperty_new_status (cancel ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
    icalcomponent_add_property (event, icalproperty_new_transp (ICAL_TRANSP_OPAQUE));
    return event;
}

char *
notifier_calendar_render (json_t *calendar, const notifier_calendar_context_t *context, time_t now,
                          const char **method, char *reason, size_t size)
{
    const char *wanted = json_string_value (json_object_get (calendar, "method"));
    json_t *entries = json_object_get (calendar, "events");
    icaltimezone *zone = icaltimezone_get_builtin_timezone (context->zone);
    const char *domain = strchr (context->from_address, '@');
    if (!wanted || (!streq (wanted, "REQUEST") && !streq (wanted, "CANCEL")) ||
        json_array_size (entries) == 0 || !zone || !domain) {
        snprintf (reason, size, "the notice's calendar is not usable (method, events, zone)");
        return NULL;
    }
    bool cancel = streq (wanted, "CANCEL");
    *method = cancel ? "CANCEL" : "REQUEST";
    icalcomponent *root = schalt_ical_calendar (cancel ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST);
    //  The zone, for the span of the entries
    size_t index;
    json_t *entry;
    time_t from = 0, until = 0;
    json_array_foreach (entries, index, entry)
    {
        time_t start, end;
        if (schalt_time_parse_instant (json_string_value (json_object_get (entry, "start")),
                                       &start) == 0 &&
            schalt_time_parse_instant (json_string_value (json_object_get (entry, "end")), &end) ==
                0) {
            from = index == 0 || start < from ? start : from;
            until = index == 0 || end > until ? end : until;
        }
    }
    icalcomponent_add_component (root, schalt_ical_timezone (zone, context->zone, from, until));
    json_array_foreach (entries, index, entry)
    {
        icalcomponent *event =
            s_event (entry, context, zone, domain + 1, cancel, now, reason, size);
        if (!event) {
            icalcomponent_free (root);
            return NULL;
        }
        icalcomponent_add_component (root, event);
    }
    char *text = schalt_ical_text (root);
    icalcomponent_free (root);
    return text;
}

void
notifier_calendar_test (bool verbose)
{
    printf (" * notifier_calendar: ");
    if (verbose)
        printf ("\n");
    json_t *calendar = json_pack (
        "{s:s, s:[{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s}]}", "method", "REQUEST", "events", "uid",
        "reg-7k3m9q2xbd-4h8n2p6r1c", "sequence", 3, "start", "2027-03-13T09:00:00Z", "end",
        "2027-03-13T10:30:00Z", "title", "Übergang, Kita; \"Schule\"", "room", "A 101", "place",
        "Rathaus Pulheim", "event_title", "Tag der Bildung");
    notifier_calendar_context_t context = {
        "Europe/Berlin",    "bildung@example.org", "Bildungsbüro \"Pulheim\"",
        "anna@example.org", "Anna Acker",          "de"};
    const char *method = NULL;
    char reason[160];
    char *text =
        notifier_calendar_render (calendar, &context, 1800000000, &method, reason, sizeof (reason));
    assert (text && streq (method, "REQUEST"));
    if (verbose)
        printf ("%s", text), fflush (stdout);
    assert (strstr (text, "METHOD:REQUEST\r\n"));
    assert (strstr (text, "UID:reg-7k3m9q2xbd-4h8n2p6r1c@example.org\r\n"));
    assert (strstr (text, "SEQUENCE:3\r\n"));
    assert (strstr (text, "DTSTART;TZID=Europe/Berlin:20270313T100000\r\n"));
    assert (strstr (text, "DTEND;TZID=Europe/Berlin:20270313T113000\r\n"));
    assert (strstr (text, "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
    //  Only the rules around the date (since 1996, last Sunday of March and
    //  October), not every change since 1893
    assert (strstr (text, "RRULE:FREQ=YEARLY;UNTIL=20361026T010000Z;BYDAY=-1SU;BYMONTH=10\r\n"));
    assert (strstr (text, "BYDAY=-1SU;BYMONTH=3\r\n"));
    assert (!strstr (text, "DTSTART:1893") && !strstr (text, "TZNAME:CEMT"));
    assert (strstr (text, "SUMMARY:Übergang\\, Kita\\; \"Schule\"\r\n"));
    assert (strstr (text, "LOCATION:Rathaus Pulheim\\, Raum A 101\r\n"));
    assert (strstr (text, "CN=Bildungsbüro 'Pulheim'"));
    assert (strstr (text, "STATUS:CONFIRMED\r\n"));
    //  Every line ends in CRLF and none is longer than 75 octets
    for (const char *line = text; *line;) {
        const char *end = strstr (line, "\r\n");
        assert (end && end - line <= 75);
        line = end + 2;
    }
    free (text);
    json_object_set_new (calendar, "method", json_string ("CANCEL"));
    text =
        notifier_calendar_render (calendar, &context, 1800000000, &method, reason, sizeof (reason));
    assert (text && streq (method, "CANCEL"));
    assert (strstr (text, "METHOD:CANCEL\r\n") && strstr (text, "STATUS:CANCELLED\r\n"));
    free (text);
    //  Refusals: an unknown method, an entry without its times
    json_object_set_new (calendar, "method", json_string ("PUBLISH"));
    assert (!notifier_calendar_render (calendar, &context, 0, &method, reason, sizeof (reason)));
    json_object_set_new (calendar, "method", json_string ("REQUEST"));
    json_object_del (json_array_get (json_object_get (calendar, "events"), 0), "start");
    assert (!notifier_calendar_render (calendar, &context, 0, &method, reason, sizeof (reason)));
    json_decref (calendar);
    printf ("OK\n");
}
