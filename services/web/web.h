/*  web - schalt-web, the web front (see web.c for what it serves). */
#ifndef WEB_H_INCLUDED
#define WEB_H_INCLUDED

#include "schalt.h"

typedef struct _web_t web_t;

//  Loads the key and the templates and starts listening on web/address and
//  web/port. Returns NULL (having logged why) if anything is missing.
web_t *web_new (schalt_config_t *config);

//  Stops listening (the requests in hand are answered first) and frees.
void web_destroy (web_t **self_p);

#endif
