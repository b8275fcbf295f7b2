/*  web_feed - the catalogue as iCalendar feeds that calendar programs
    subscribe to: every upcoming session (/kalender.ics), or those of one
    transition (/kalender/<topic>.ics); ?lang=en for English texts.

    A published calendar (RFC 5545, no METHOD): one VEVENT per session,
    UID the session's id at the web front's host (so that a moved session
    moves in every subscribed calendar and a cancelled one leaves it),
    times in the installation's zone with its VTIMEZONE, SUMMARY the
    session's title, LOCATION place and room, DESCRIPTION the event, its
    provider and where to register, URL the event's page, CATEGORIES the
    transitions, LAST-MODIFIED the session's last change, TRANSP
    TRANSPARENT (an offer in a listing does not make anyone busy). An event
    without sessions yet is one VEVENT of its own. The calendar's name and
    a refresh interval of an hour (RFC 7986) come along. Nothing of any
    person is in it.
*/
#include "schalt_ical.h"
#include "web_internal.h"

static const char *
s_string (json_t *object, const char *name)
{
    return json_string_value (json_object_get (object, name));
}

//  The host of base_url ("bildung.example.org" of
//  "https://bildung.example.org:8443/path"), for the UIDs.
static void
s_host (const char *base_url, char *host, size_t size)
{
    const char *start = strstr (base_url, "://");
    start = start ? start + 3 : base_url;
    size_t length = strcspn (start, ":/");
    snprintf (host, size, "%.*s", (int)length, start);
}

//  One VEVENT: of a session (event: its event) or, with session NULL, of
//  the event itself; from and until grow to take in its times. NULL if it
//  has none.
static icalcomponent *
s_entry (web_t *self, int language, json_t *event, json_t *session, const char *host,
         icaltimezone *zone, time_t now, time_t *from, time_t *until)
{
    json_t *what = session ? session : event;
    time_t start, end, updated;
    if (schalt_time_parse_instant (s_string (what, "start"), &start) != 0 ||
        schalt_time_parse_instant (s_string (what, "end"), &end) != 0)
        return NULL;
    *from = !*from || start < *from ? start : *from;
    *until = end > *until ? end : *until;
    icalcomponent *entry = icalcomponent_new_vevent ();
    char *text = zsys_sprintf ("%s@%s", s_string (what, "id"), host);
    icalcomponent_add_property (entry, icalproperty_new_uid (text));
    zstr_free (&text);
    icaltimezone *utc = icaltimezone_get_utc_timezone ();
    icalcomponent_add_property (
        entry, icalproperty_new_dtstamp (icaltime_from_timet_with_zone (now, 0, utc)));
    if (schalt_time_parse_instant (s_string (what, "updated"), &updated) == 0)
        icalcomponent_add_property (
            entry, icalproperty_new_lastmodified (icaltime_from_timet_with_zone (updated, 0, utc)));
    icalcomponent_add_property (
        entry, schalt_ical_time (icalproperty_new_dtstart, start, zone, self->zone));
    icalcomponent_add_property (entry,
                                schalt_ical_time (icalproperty_new_dtend, end, zone, self->zone));
    icalcomponent_add_property (entry, icalproperty_new_summary (s_string (what, "title")));
    if (session)
        text = zsys_sprintf ("%s, %s %s", s_string (event, "place"),
                             web_text (self, language, "room"), s_string (session, "room"));
    else
        text = zsys_sprintf ("%s", s_string (event, "place"));
    icalcomponent_add_property (entry, icalproperty_new_location (text));
    zstr_free (&text);
    //  The event, its provider, and the page to register on
    const char *provider = s_string (event, "provider");
    char *url = zsys_sprintf ("%s/veranstaltung/%s", self->base_url, s_string (event, "id"));
    char *offered = provider
                        ? zsys_sprintf ("%s: %s\n", web_text (self, language, "provider"), provider)
                        : strdup ("");
    text = zsys_sprintf ("%s\n%s%s: %s", s_string (event, "title"), offered,
                         web_text (self, language, "feed_register"), url);
    zstr_free (&offered);
    icalcomponent_add_property (entry, icalproperty_new_description (text));
    zstr_free (&text);
    icalcomponent_add_property (entry, icalproperty_new_url (url));
    zstr_free (&url);
    size_t index;
    json_t *topic;
    json_array_foreach (json_object_get (session, "topics"), index, topic)
    {
        char name[64];
        snprintf (name, sizeof (name), "topic_%s", json_string_value (topic));
        const char *label = web_text (self, language, name);
        if (label)
            icalcomponent_add_property (entry, icalproperty_new_categories (label));
    }
    icalcomponent_add_property (entry, icalproperty_new_status (ICAL_STATUS_CONFIRMED));
    icalcomponent_add_property (entry, icalproperty_new_transp (ICAL_TRANSP_TRANSPARENT));
    return entry;
}

static icalproperty *
s_x (const char *name, const char *value)
{
    icalproperty *property = icalproperty_new_x (value);
    icalproperty_set_x_name (property, name);
    return property;
}

enum MHD_Result
web_feed (web_t *self, web_request_t *request, const char *topic)
{
    int language = request->language;
    json_t *upcoming = web_upcoming (self);
    if (!upcoming)
        return web_unavailable (self, request);
    icaltimezone *zone = icaltimezone_get_builtin_timezone (self->zone);
    char host[256];
    s_host (self->base_url, host, sizeof (host));
    time_t now = schalt_clock_now ();
    icalcomponent *root = schalt_ical_calendar (ICAL_METHOD_NONE);
    char name[300];
    char label[64];
    snprintf (label, sizeof (label), "topic_%s", topic ? topic : "");
    if (topic)
        snprintf (name, sizeof (name), "%s: %s – %s", web_text (self, language, "catalogue_title"),
                  web_text (self, language, label), web_text (self, language, "office"));
    else
        snprintf (name, sizeof (name), "%s – %s", web_text (self, language, "catalogue_title"),
                  web_text (self, language, "office"));
    icalcomponent_add_property (root, icalproperty_new_name (name));
    icalcomponent_add_property (root, s_x ("X-WR-CALNAME", name));
    icalcomponent_add_property (root, s_x ("X-WR-TIMEZONE", self->zone));
    icalproperty *refresh = icalproperty_new_refreshinterval (icaldurationtype_from_int (3600));
    icalproperty_add_parameter (refresh, icalparameter_new_value (ICAL_VALUE_DURATION));
    icalcomponent_add_property (root, refresh);
    icalcomponent_add_property (root, s_x ("X-PUBLISHED-TTL", "PT1H"));
    //  The entries, and the span the zone must cover
    zlist_t *entries = zlist_new ();
    time_t from = 0, until = 0;
    size_t index;
    json_t *item;
    json_array_foreach (upcoming, index, item)
    {
        json_t *event = json_object_get (item, "event");
        json_t *sessions = json_object_get (item, "sessions");
        size_t at;
        json_t *session;
        json_array_foreach (sessions, at, session)
        {
            bool about = !topic;
            size_t which;
            json_t *its;
            json_array_foreach (json_object_get (session, "topics"), which, its)
            {
                about = about || streq (json_string_value (its), topic);
            }
            icalcomponent *entry =
                about ? s_entry (self, language, event, session, host, zone, now, &from, &until)
                      : NULL;
            if (entry)
                zlist_append (entries, entry);
        }
        if (!topic && json_array_size (sessions) == 0) {
            icalcomponent *entry =
                s_entry (self, language, event, NULL, host, zone, now, &from, &until);
            if (entry)
                zlist_append (entries, entry);
        }
    }
    if (zlist_size (entries))
        icalcomponent_add_component (root, schalt_ical_timezone (zone, self->zone, from, until));
    for (icalcomponent *entry = (icalcomponent *)zlist_first (entries); entry;
         entry = (icalcomponent *)zlist_next (entries))
        icalcomponent_add_component (root, entry);
    zlist_destroy (&entries);
    json_decref (upcoming);
    char *text = schalt_ical_text (root);
    icalcomponent_free (root);
    return web_send (self, request, MHD_HTTP_OK, text, strlen (text),
                     "text/calendar; charset=utf-8");
}
