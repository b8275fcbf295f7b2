/*  web - schalt-web, the web front (see web.c for what it serves, and
    web_service.c for the daemon it runs in). */
#ifndef WEB_H_INCLUDED
#define WEB_H_INCLUDED

#include "schalt.h"

typedef struct _web_t web_t;

//  The daemon: the accounts' and logins' commands, the web server with it.
extern const schalt_service_t web_service;

//  Loads the key and the templates and starts listening on web/address and
//  web/port (the service's create). Returns NULL (having logged why) if
//  anything is missing.
web_t *web_new (schalt_config_t *config);

//  Stops listening (the requests in hand are answered first) and frees.
void web_destroy (web_t **self_p);

#endif
