/*  schalt_ical - what every iCalendar object Schaltstelle writes shares.
    See schalt_ical.h.
*/
#include "schalt.h"
#include "schalt_ical.h"

icalcomponent *
schalt_ical_calendar (icalproperty_method method)
{
    icalcomponent *root = icalcomponent_new_vcalendar ();
    icalcomponent_add_property (root,
                                icalproperty_new_prodid ("-//Schaltstelle//Bildungsbuero//DE"));
    icalcomponent_add_property (root, icalproperty_new_version ("2.0"));
    icalcomponent_add_property (root, icalproperty_new_calscale ("GREGORIAN"));
    if (method != ICAL_METHOD_NONE)
        icalcomponent_add_property (root, icalproperty_new_method (method));
    return root;
}

char *
schalt_ical_parameter_text (const char *text)
{
    char *copy = strdup (text ? text : "");
    assert (copy);
    for (char *cursor = copy; *cursor; cursor++)
        if (*cursor == '"' || (unsigned char)*cursor < 0x20 || *cursor == 0x7f)
            *cursor = '\'';
    return copy;
}

icalproperty *
schalt_ical_time (icalproperty *(*make) (struct icaltimetype), time_t utc, icaltimezone *zone,
                  const char *name)
{
    struct icaltimetype wall = icaltime_from_timet_with_zone (utc, 0, zone);
    wall.zone = NULL; //  written as the wall-clock time; TZID names its zone
    icalproperty *property = make (wall);
    icalproperty_add_parameter (property, icalparameter_new_tzid (name));
    return property;
}

//  The first and the last onset of an observance (STANDARD or DAYLIGHT) of a
//  VTIMEZONE, as seconds of its wall-clock times read as UTC (near enough to
//  compare with instants a year apart); last is "forever" for a rule
//  without an end.
static void
s_onsets (icalcomponent *observance, time_t *first, time_t *last)
{
    icalproperty *start = icalcomponent_get_first_property (observance, ICAL_DTSTART_PROPERTY);
    *first = *last = start ? icaltime_as_timet (icalproperty_get_dtstart (start)) : 0;
    icalproperty *rule = icalcomponent_get_first_property (observance, ICAL_RRULE_PROPERTY);
    if (rule) {
        struct icalrecurrencetype recurrence = icalproperty_get_rrule (rule);
        *last = icaltime_is_null_time (recurrence.until) ? (time_t)253402300799LL
                                                         : icaltime_as_timet (recurrence.until);
    }
    for (icalproperty *date = icalcomponent_get_first_property (observance, ICAL_RDATE_PROPERTY);
         date; date = icalcomponent_get_next_property (observance, ICAL_RDATE_PROPERTY)) {
        time_t onset = icaltime_as_timet (icalproperty_get_rdate (date).time);
        if (onset > *last)
            *last = onset;
    }
}

icalcomponent *
schalt_ical_timezone (icaltimezone *zone, const char *name, time_t from, time_t until)
{
    icalcomponent *timezone = icalcomponent_new_clone (icaltimezone_get_component (zone));
    icalproperty *tzid = icalcomponent_get_first_property (timezone, ICAL_TZID_PROPERTY);
    if (tzid)
        icalproperty_set_tzid (tzid, name);
    time_t low = from - 366 * 86400;
    icalcomponent *before = NULL; //  the observance whose last onset is the latest before low
    time_t before_last = 0;
    zlist_t *dropped = zlist_new ();
    for (icalcomponent *observance =
             icalcomponent_get_first_component (timezone, ICAL_ANY_COMPONENT);
         observance; observance = icalcomponent_get_next_component (timezone, ICAL_ANY_COMPONENT)) {
        time_t first, last;
        s_onsets (observance, &first, &last);
        if (last >= low && first <= until)
            continue; //  kept
        zlist_append (dropped, observance);
        if (last < low && (!before || last > before_last)) {
            before = observance;
            before_last = last;
        }
    }
    for (icalcomponent *observance = (icalcomponent *)zlist_first (dropped); observance;
         observance = (icalcomponent *)zlist_next (dropped))
        if (observance != before) {
            icalcomponent_remove_component (timezone, observance);
            icalcomponent_free (observance);
        }
    zlist_destroy (&dropped);
    return timezone;
}

char *
schalt_ical_text (icalcomponent *root)
{
    char *text = icalcomponent_as_ical_string_r (root);
    //  CRLF line ends, whatever libical wrote
    zchunk_t *out = zchunk_new (NULL, strlen (text) + 256);
    for (const char *cursor = text; *cursor; cursor++) {
        if (*cursor == '\r')
            continue;
        if (*cursor == '\n')
            zchunk_extend (out, "\r", 1);
        zchunk_extend (out, cursor, 1);
    }
    free (text);
    char *result = strndup ((const char *)zchunk_data (out), zchunk_size (out));
    zchunk_destroy (&out);
    return result;
}

void
schalt_ical_test (bool verbose)
{
    printf (" * schalt_ical: ");
    if (verbose)
        printf ("\n");
    icalcomponent *root = schalt_ical_calendar (ICAL_METHOD_NONE);
    icaltimezone *zone = icaltimezone_get_builtin_timezone ("Europe/Berlin");
    assert (zone);
    //  13 March 2027, 09:00 UTC is 10:00 in Berlin (winter time)
    icalcomponent_add_component (
        root, schalt_ical_timezone (zone, "Europe/Berlin", 1804928400, 1804933800));
    icalcomponent *event = icalcomponent_new_vevent ();
    icalcomponent_add_property (
        event, schalt_ical_time (icalproperty_new_dtstart, 1804928400, zone, "Europe/Berlin"));
    char *name = schalt_ical_parameter_text ("Bildungsbüro \"Pulheim\"\n");
    assert (streq (name, "Bildungsbüro 'Pulheim''"));
    free (name);
    icalcomponent_add_property (event, icalproperty_new_summary ("Übergang, Kita; Schule"));
    icalcomponent_add_component (root, event);
    char *text = schalt_ical_text (root);
    icalcomponent_free (root);
    if (verbose)
        printf ("%s", text);
    assert (strstr (text, "PRODID:-//Schaltstelle//Bildungsbuero//DE\r\n"));
    assert (!strstr (text, "METHOD:"));
    assert (strstr (text, "DTSTART;TZID=Europe/Berlin:20270313T100000\r\n"));
    assert (strstr (text, "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
    assert (!strstr (text, "DTSTART:1893"));
    assert (strstr (text, "SUMMARY:Übergang\\, Kita\\; Schule\r\n"));
    for (const char *line = text; *line;) {
        const char *end = strstr (line, "\r\n");
        assert (end && end - line <= 75);
        line = end + 2;
    }
    free (text);
    printf ("OK\n");
}
