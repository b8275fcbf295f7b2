/*  web_service - schalt-web as a daemon of the common skeleton
    (schalt_server.h): the command table of what the web front owns, the
    organisers' accounts and their logins (the scripts in lua/, the keys in
    lua/common.lua), and the web server (web.c) started with the service and
    stopped before it.

    `schalt user add|list|remove|unlock` (role admin) manage the accounts;
    the pages call user.credentials and login.open|check|close with the web
    front's own key, through this daemon's own ROUTER socket like any other
    client, so that the skeleton's schema checks, replay records and audit
    log hold for them too.
*/
#include "web_internal.h"

extern const char web_lua_common[];
extern const schalt_script_t web_lua_scripts[];

//  login.open: the seconds a login lasts (web/login_hours) for the script.
static int
s_login_open (schalt_call_t *call, void *service)
{
    web_t *self = (web_t *)service;
    char seconds[24];
    snprintf (seconds, sizeof (seconds), "%ld", self->login_hours * 3600);
    schalt_call_arg (call, seconds);
    return 0;
}

//  Every key of the service is in one hash tag.
static int
s_tag (schalt_call_t *call, char *tag, size_t size)
{
    (void)call;
    snprintf (tag, size, "users");
    return 0;
}

static void *
s_create (schalt_server_t *server)
{
    return web_new (schalt_server_config (server));
}

static void
s_destroy (void **self_p)
{
    web_t *self = (web_t *)*self_p;
    web_destroy (&self);
    *self_p = NULL;
}

static void
s_status (void *service, json_t *status)
{
    web_t *self = (web_t *)service;
    json_object_set_new (status, "pages",
                         json_pack ("{s:I, s:I}", "served", (json_int_t)self->served, "failed",
                                    (json_int_t)self->failed));
}

static const schalt_command_t s_commands[] = {
    {"user.add", "user_add", SCHALT_CHANGES, NULL, "admin"},
    {"user.list", "user_list", SCHALT_READS, NULL, "admin"},
    {"user.remove", "user_remove", SCHALT_CHANGES, NULL, "admin"},
    {"user.unlock", "user_unlock", SCHALT_CHANGES, NULL, "admin"},
    //  The login page's (only the web front's own key may call them)
    {"user.credentials", "user_credentials", SCHALT_READS, NULL, "web"},
    {"login.open", "login_open", SCHALT_CHANGES, s_login_open, "web"},
    {"login.check", "login_check", SCHALT_READS, NULL, "web"},
    {"login.close", "login_close", SCHALT_CHANGES, NULL, "web"},
    {NULL, NULL, SCHALT_READS, NULL, NULL}};

const schalt_service_t web_service = {"web", s_commands, web_lua_scripts, web_lua_common,
                                      s_tag, s_create,   s_destroy,       s_status};
