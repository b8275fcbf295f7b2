/*  notifier - the notifier service's handlers and start. See notifier.h. */
#include "notifier.h"
#include "notifier_delivery.h"
#include "notifier_mail.h"
#include "notifier_store.h"

#include <sys/stat.h>

extern const char notifier_lua_common[];
extern const schalt_script_t notifier_lua_scripts[];

typedef struct {
    notifier_delivery_t *delivery;
} notifier_t;

//  --------------------------------------------------------------------------
//  Commands

//  notice.send: the stored record and the reply are made here, so that
//  Redis, which every daemon shares, only stores them.
static int
s_notice_send (schalt_call_t *call, void *service)
{
    (void)service;
    json_t *body = schalt_call_body (call);
    json_t *recipient = json_object_get (body, "recipient");
    //  The variables are kept as the JSON text they came as
    char *variables = json_dumps (json_object_get (body, "variables"), JSON_COMPACT);
    assert (variables);
    notifier_store_notice_t notice = {json_string_value (json_object_get (body, "template")),
                                      json_string_value (json_object_get (body, "language")),
                                      json_string_value (json_object_get (recipient, "name")),
                                      json_string_value (json_object_get (recipient, "email")),
                                      variables};
    int rc = notifier_store_send_args (call, &notice, zclock_time ());
    free (variables);
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
    rc |=
        s_copy (config, "notifier/redis/host", settings->redis_host, sizeof (settings->redis_host));
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
    settings->redis_port = (int)schalt_config_integer (config, "notifier/redis/port");
    settings->redis_timeout = (int)schalt_config_integer (config, "notifier/redis/timeout");
    settings->heartbeat = (int)schalt_config_integer (config, "notifier/heartbeat");
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

static void
s_destroy (void **self_p)
{
    notifier_t *self = (notifier_t *)*self_p;
    if (self) {
        notifier_delivery_destroy (&self->delivery);
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
    if (s_settings (schalt_server_config (server), &settings) == 0)
        self->delivery = notifier_delivery_new (&settings);
    explicit_bzero (settings.smtp.password, sizeof (settings.smtp.password));
    if (!self->delivery) {
        void *state = self;
        s_destroy (&state);
        return NULL;
    }
    return self;
}

static void
s_status (void *service, json_t *status)
{
    notifier_t *self = (notifier_t *)service;
    notifier_delivery_status (self->delivery, status);
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
    {"notice.send", "notice_send", SCHALT_CHANGES, s_notice_send},
    {"notice.get", "notice_get", SCHALT_READS, NULL},
    {"notice.list", "notice_list", SCHALT_READS, NULL},
    {NULL, NULL, SCHALT_READS, NULL}};

const schalt_service_t notifier_service = {"notifier",          s_commands, notifier_lua_scripts,
                                           notifier_lua_common, s_tag,      s_create,
                                           s_destroy,           s_status};
