/*  notifier - the notifier service's handlers and start. See notifier.h. */
#include "notifier.h"
#include "notifier_delivery.h"
#include "notifier_mail.h"
#include "notifier_store.h"
#include "notifier_template.h"

#include <sys/stat.h>

extern const char notifier_lua_common[];
extern const schalt_script_t notifier_lua_scripts[];

typedef struct {
    schalt_token_keys_t *keys; //  sign the links in notices
    const char *base_url;      //  web/base_url, borrowed from the configuration
} notifier_t;

#define LINKS_MAX 20 //  links one notice may carry (one a session of a request, and more)

//  --------------------------------------------------------------------------
//  Commands

//  Puts a signed URL into variables for each of the body's links: web/base_url
//  + /registration/<action>?token=<token>. Returns 0, or -1 after answering
//  the call with an error naming the link.
static int
s_sign_links (schalt_call_t *call, notifier_t *self, json_t *variables)
{
    json_t *links = json_object_get (schalt_call_body (call), "links");
    if (json_object_size (links) > LINKS_MAX) {
        schalt_call_fail (call, 400, "invalid", "/links", "links must be at most %d", LINKS_MAX);
        return -1;
    }
    const char *name;
    json_t *link;
    json_object_foreach (links, name, link)
    {
        char field[96];
        snprintf (field, sizeof (field), "/links/%.80s", name);
        bool valid_name = strlen (name) > 0 && strlen (name) <= 32;
        for (const char *cursor = name; *cursor; cursor++)
            valid_name &= (*cursor >= 'a' && *cursor <= 'z') ||
                          (*cursor >= '0' && *cursor <= '9') || *cursor == '_';
        if (!valid_name || json_object_get (variables, name)) {
            schalt_call_fail (call, 400, "invalid", field,
                              "a link's name must be 1 to 32 of a-z, 0-9 and _, and no variable's");
            return -1;
        }
        time_t expires;
        if (schalt_time_parse_instant (json_string_value (json_object_get (link, "expires")),
                                       &expires) != 0) {
            schalt_call_fail (call, 400, "invalid", field,
                              "expires must be a date and time from the year 1 on");
            return -1;
        }
        const char *action = json_string_value (json_object_get (link, "action"));
        char *token = schalt_token_make (
            self->keys, action, json_string_value (json_object_get (link, "subject")), expires);
        assert (token); //  the schema allows only actions and subjects a token can carry
        char *url = zsys_sprintf ("%s/registration/%s?token=%s", self->base_url, action, token);
        json_object_set_new (variables, name, json_string (url));
        zstr_free (&url);
        free (token);
    }
    return 0;
}

//  Puts the body's field name (if it has one) into the variables, where a
//  variable of that name may not be. Returns 0, or -1 after answering.
static int
s_attach (schalt_call_t *call, json_t *body, json_t *variables, const char *name)
{
    json_t *value = json_object_get (body, name);
    if (!value)
        return 0;
    if (json_object_get (variables, name)) {
        char field[64];
        snprintf (field, sizeof (field), "/variables/%s", name);
        schalt_call_fail (call, 400, "invalid", field, "%s is a field of its own, not a variable",
                          name);
        return -1;
    }
    json_object_set (variables, name, value);
    return 0;
}

//  notice.send: the stored record and the reply are made here, so that
//  Redis, which every daemon shares, only stores them. Links are signed
//  once, here, and kept as variables.
static int
s_notice_send (schalt_call_t *call, void *service)
{
    notifier_t *self = (notifier_t *)service;
    json_t *body = schalt_call_body (call);
    json_t *recipient = json_object_get (body, "recipient");
    json_t *variables = json_deep_copy (json_object_get (body, "variables"));
    if (s_sign_links (call, self, variables) != 0) {
        json_decref (variables);
        return -1;
    }
    //  The sessions travel with the variables, for {{session_list}}, and the
    //  calendar entries, rendered with the e-mail (notifier_calendar)
    if (s_attach (call, body, variables, "sessions") != 0 ||
        s_attach (call, body, variables, "calendar") != 0) {
        json_decref (variables);
        return -1;
    }
    //  The variables are kept as JSON text
    char *text = json_dumps (variables, JSON_COMPACT);
    assert (text);
    json_decref (variables);
    notifier_store_notice_t notice = {json_string_value (json_object_get (body, "template")),
                                      json_string_value (json_object_get (body, "language")),
                                      json_string_value (json_object_get (recipient, "name")),
                                      json_string_value (json_object_get (recipient, "email")),
                                      text};
    int rc = notifier_store_send_args (call, &notice, zclock_time ());
    free (text);
    return rc;
}

//  --------------------------------------------------------------------------
//  Settings: copied for the delivery threads, and checked

//  Copies a setting into a buffer. Returns 0, or -1 (logged) if it does not fit.
static int
s_copy (schalt_config_t *config, const char *path, char *target, size_t size)
{
    const char *value = schalt_config_string (config, path);
    if (strlen (value) >= size) {
        schalt_log_error ("notifier: %s is too long (at most %zu octets)", path, size - 1);
        return -1;
    }
    memcpy (target, value, strlen (value) + 1);
    return 0;
}

//  Fills settings from the configuration. Returns 0, or -1 after logging
//  each problem with the setting's path.
static int
s_settings (schalt_config_t *config, notifier_settings_t *settings)
{
    memset (settings, 0, sizeof (*settings));
    int rc = 0;
    rc |= s_copy (config, "notifier/templates", settings->templates, sizeof (settings->templates));
    rc |= s_copy (config, "schaltstelle/timezone", settings->timezone, sizeof (settings->timezone));
    rc |= s_copy (config, "notifier/from/address", settings->from_address,
                  sizeof (settings->from_address));
    rc |= s_copy (config, "notifier/from/name", settings->from_name, sizeof (settings->from_name));
    rc |= s_copy (config, "notifier/office/contact", settings->office_contact,
                  sizeof (settings->office_contact));
    rc |= s_copy (config, "notifier/smtp/host", settings->smtp.host, sizeof (settings->smtp.host));
    rc |= s_copy (config, "notifier/from/address", settings->smtp.sender,
                  sizeof (settings->smtp.sender));
    settings->batch = (int)schalt_config_integer (config, "notifier/batch");
    settings->retry_first = schalt_config_integer (config, "notifier/retry/first");
    settings->give_up = schalt_config_integer (config, "notifier/retry/give_up");
    settings->smtp.port = (int)schalt_config_integer (config, "notifier/smtp/port");
    settings->smtp.timeout = schalt_config_integer (config, "notifier/smtp/timeout");
    const char *starttls = schalt_config_string (config, "notifier/smtp/starttls");
    settings->smtp.starttls = streq (starttls, "none")       ? NOTIFIER_STARTTLS_NONE
                              : streq (starttls, "required") ? NOTIFIER_STARTTLS_REQUIRED
                                                             : NOTIFIER_STARTTLS_OPPORTUNISTIC;
    if (rc != 0)
        return -1;

    //  What goes into every e-mail's header must be fit for it
    if (!notifier_mail_address_valid (settings->from_address)) {
        schalt_log_error ("notifier: notifier/from/address must be an address like "
                          "bildungsbuero@example.org (ASCII, with a domain)");
        rc = -1;
    }
    //  (the sender's name and the contact line are one line of UTF-8, as
    //  schalt_config checks every value)
    struct stat info;
    if (stat (settings->templates, &info) != 0 || !S_ISDIR (info.st_mode)) {
        schalt_log_error ("notifier: notifier/templates is not a folder path=%s",
                          settings->templates);
        rc = -1;
    } else {
        //  A template the office broke is named now; its notices fail (with
        //  the reason) until it is fixed, the others are sent
        notifier_template_config_t templates = {settings->templates, settings->timezone,
                                                settings->office_contact};
        int problems = notifier_template_check (&templates);
        if (problems > 0)
            schalt_log_warning ("notifier: %d problem%s in the templates (above): their notices "
                                "will fail until the files are fixed",
                                problems, problems == 1 ? "" : "s");
    }
    const char *auth_file = schalt_config_string (config, "notifier/smtp/auth_file");
    if (!streq (auth_file, "none")) {
        char error[512];
        if (notifier_smtp_read_auth (auth_file, &settings->smtp, error, sizeof (error)) != 0) {
            schalt_log_error ("notifier: notifier/smtp/auth_file: %s", error);
            rc = -1;
        } else if (settings->smtp.starttls == NOTIFIER_STARTTLS_NONE)
            schalt_log_warning ("notifier: smtp auth without starttls sends the password "
                                "unencrypted");
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  The service

bool
notifier_base_url_valid (const char *url)
{
    size_t scheme = strncmp (url, "https://", 8) == 0  ? 8
                    : strncmp (url, "http://", 7) == 0 ? 7
                                                       : 0;
    if (scheme == 0 || !url[scheme] || url[strlen (url) - 1] == '/')
        return false;
    //  A host (letters, digits, . -, or [v6]), then :port and /path of plain characters
    for (const char *cursor = url + scheme; *cursor; cursor++)
        if (!isalnum ((unsigned char)*cursor) && !strchr (".-_~:/[]%", *cursor))
            return false;
    return url[scheme] != '/' && url[scheme] != ':';
}

static void
s_destroy (void **self_p)
{
    notifier_t *self = (notifier_t *)*self_p;
    if (self) {
        schalt_token_keys_destroy (&self->keys);
        free (self);
        *self_p = NULL;
    }
}

static void *
s_create (schalt_server_t *server)
{
    notifier_t *self = (notifier_t *)zmalloc (sizeof (notifier_t));
    assert (self);
    notifier_settings_t settings;
    bool started = false;
    schalt_config_t *config = schalt_server_config (server);
    self->keys = schalt_token_keys_configured (config);
    self->base_url = schalt_config_string (config, "web/base_url");
    if (!notifier_base_url_valid (self->base_url))
        schalt_log_error ("notifier: web/base_url must be http:// or https://, a host, an "
                          "optional port and path, and no / at the end, like "
                          "https://bildung.example.org (it is %s)",
                          self->base_url);
    else if (self->keys && s_settings (config, &settings) == 0)
        started = notifier_delivery_start (server, &settings) == 0;
    explicit_bzero (settings.smtp.password, sizeof (settings.smtp.password));
    if (!started) {
        void *state = self;
        s_destroy (&state);
        return NULL;
    }
    return self;
}

//  Every notifier key has the one hash tag {notices} (see notifier_store.h).
static int
s_tag (schalt_call_t *call, char *tag, size_t size)
{
    (void)call;
    snprintf (tag, size, "notices");
    return 0;
}

//  One row a command: its schema is request/<command>.json, its script
//  lua/<script>.lua. A notice's id is the request id of its notice.send.
static const schalt_command_t s_commands[] = {
    {"notice.send", "notice_send", SCHALT_CHANGES, s_notice_send, "admin registry"},
    {"notice.get", "notice_get", SCHALT_READS, NULL, SCHALT_CALLED_BY_STAFF},
    {"notice.list", "notice_list", SCHALT_READS, NULL, SCHALT_CALLED_BY_STAFF},
    {NULL, NULL, SCHALT_READS, NULL, NULL}};

const schalt_service_t notifier_service = {"notifier",          s_commands, notifier_lua_scripts,
                                           notifier_lua_common, s_tag,      s_create,
                                           s_destroy,           NULL};
