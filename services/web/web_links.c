/*  web_links - the pages behind the links in e-mails: cancel a seat, leave
    the waitlist (decline), take an offered seat (accept).

    Opening a link changes nothing (mail scanners and link previews open
    every link): the page shows what the link is about and what its button
    will do (registration.show), and only the button, a POST, does it. A
    link that can no longer do its work (expired, used, cut off or changed)
    says so in plain words and names whom to contact. The button's form
    carries the token, a request id and the form's signature: a double
    click is one request.
*/
#include "web_internal.h"

static const char *
s_string (json_t *object, const char *name)
{
    return json_string_value (json_object_get (object, name));
}

//  The command of a link's action.
static const char *
s_command (const char *action)
{
    if (streq (action, "cancel"))
        return "registration.cancel";
    if (streq (action, "decline"))
        return "registration.decline";
    return "registration.accept";
}

//  True if token could be one (the registry checks it).
static bool
s_token_plausible (const char *token)
{
    size_t length = token ? strlen (token) : 0;
    if (length == 0 || length > 160)
        return false;
    for (size_t index = 0; index < length; index++)
        if (!isalnum ((unsigned char)token[index]) && token[index] != '-' && token[index] != '_')
            return false;
    return true;
}

//  The words for a link that cannot do its work: the text link_<code> of
//  de.json/en.json, else link_other.
static json_t *
s_problem (web_t *self, int language, const char *code)
{
    char name[64];
    snprintf (name, sizeof (name), "link_%s", code ? code : "other");
    const char *words = web_text (self, language, name);
    return json_pack ("{s:s}", "text", words ? words : web_text (self, language, "link_other"));
}

//  The link's page from registration.show's reply (shown), with its
//  button unless it would be refused; error (or NULL) above it.
static enum MHD_Result
s_show (web_t *self, web_request_t *request, unsigned int status, const char *action,
        const char *token, json_t *shown, const char *keep, json_t *error)
{
    int language = request->language;
    json_t *session = json_object_get (shown, "session");
    json_t *registration = json_object_get (shown, "registration");
    char date[16], start[8], end_date[16], end[8], offer_date[16], offer_time[8];
    web_local (self, s_string (session, "start"), language, date, start);
    web_local (self, s_string (session, "end"), language, end_date, end);
    web_local (self, s_string (registration, "offer_until"), language, offer_date, offer_time);
    const char *state = s_string (registration, "status");
    json_t *context = json_pack (
        "{s:b, s:b, s:b, s:O, s:{s:O, s:O, s:s, s:s, s:s}, s:O, s:{s:s, s:s}, s:b, s:b}",
        "action_cancel", streq (action, "cancel"), "action_decline", streq (action, "decline"),
        "action_accept", streq (action, "accept"), "registration", registration, "session", "title",
        json_object_get (session, "title"), "room", json_object_get (session, "room"), "date", date,
        "start", start, "end", end, "event", json_object_get (shown, "event"), "offer", "date",
        offer_date, "time", offer_time, "confirmed", state && streq (state, "confirmed"),
        "waitlisted", state && (streq (state, "waitlisted") || streq (state, "offered")));
    assert (context);
    json_t *contact = json_object_get (shown, "contact");
    if (s_string (contact, "email"))
        json_object_set (context, "contact", contact);
    json_t *refusal = json_object_get (shown, "refusal");
    if (refusal)
        json_object_set_new (context, "problem",
                             s_problem (self, language, s_string (refusal, "code")));
    else {
        json_object_set_new (context, "token", json_string (token));
        web_form_fields (self, context, keep);
    }
    if (error)
        json_object_set_new (context, "error", error);
    enum MHD_Result rc = web_page (self, request, status, WEB_PAGE_LINK, context);
    json_decref (context);
    return rc;
}

//  A link whose token names nothing that can be shown: why, in words.
static enum MHD_Result
s_broken (web_t *self, web_request_t *request, unsigned int status, const char *code)
{
    json_t *context = json_pack ("{s:o}", "problem", s_problem (self, request->language, code));
    enum MHD_Result rc = web_page (self, request, status, WEB_PAGE_LINK, context);
    json_decref (context);
    return rc;
}

//  Asks registration.show and shows the page (or why it cannot).
static enum MHD_Result
s_open (web_t *self, web_request_t *request, const char *action, const char *token,
        const char *keep, json_t *error)
{
    json_t *ask = json_pack ("{s:s}", "token", token);
    web_answer_t answer = web_ask (self, self->registry, "registration.show", NULL, ask);
    json_decref (ask);
    enum MHD_Result rc;
    if (answer.status == 0) {
        rc = web_unavailable (self, request);
        json_decref (error);
    } else if (answer.status != 200) {
        rc = s_broken (self, request, (unsigned int)answer.status,
                       s_string (json_object_get (answer.body, "error"), "code"));
        json_decref (error);
    } else if (!streq (s_string (answer.body, "action"), action)) {
        //  A link of another action under this path (changed by hand)
        rc = s_broken (self, request, MHD_HTTP_FORBIDDEN, "token_wrong_action");
        json_decref (error);
    } else
        rc = s_show (self, request, MHD_HTTP_OK, action, token, answer.body, keep, error);
    json_decref (answer.body);
    return rc;
}

enum MHD_Result
web_link (web_t *self, web_request_t *request, const char *action)
{
    if (!request->post) {
        const char *token =
            MHD_lookup_connection_value (request->connection, MHD_GET_ARGUMENT_KIND, "token");
        if (!s_token_plausible (token))
            return s_broken (self, request, MHD_HTTP_BAD_REQUEST, "invalid");
        return s_open (self, request, action, token, NULL, NULL);
    }
    int checked = web_form_check (self, request);
    if (checked < 0)
        return MHD_YES;
    const char *token = web_form_value (request->form, "token", 0);
    if (!s_token_plausible (token))
        return s_broken (self, request, MHD_HTTP_BAD_REQUEST, "invalid");
    if (checked == 1)
        return s_open (
            self, request, action, token, NULL,
            json_pack ("{s:s}", "text", web_text (self, request->language, "error_form_expired")));
    const char *request_id = web_form_value (request->form, "request", 0);
    json_t *body = json_pack ("{s:s}", "token", token);
    web_answer_t answer = web_ask (self, self->registry, s_command (action), request_id, body);
    json_decref (body);
    enum MHD_Result rc;
    if (answer.status == 200) {
        json_t *registration = json_object_get (answer.body, "registration");
        json_t *context =
            json_pack ("{s:b, s:b, s:b, s:O}", "action_cancel", streq (action, "cancel"),
                       "action_decline", streq (action, "decline"), "action_accept",
                       streq (action, "accept"), "registration", registration);
        rc = web_page (self, request, MHD_HTTP_OK, WEB_PAGE_LINK_DONE, context);
        json_decref (context);
    } else if (answer.status == 0)
        //  Not answered: the same request id when the button is pressed again
        rc = s_open (
            self, request, action, token, request_id,
            json_pack ("{s:s}", "text", web_text (self, request->language, "error_unavailable")));
    else {
        schalt_log_info ("web: link refused action=%s status=%d code=%s", action, answer.status,
                         s_string (json_object_get (answer.body, "error"), "code"));
        //  The page again, which now says why (registration.show's refusal)
        rc = s_open (self, request, action, token, NULL, NULL);
    }
    json_decref (answer.body);
    return rc;
}
