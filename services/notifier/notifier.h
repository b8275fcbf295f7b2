/*  notifier - the notifier service: e-mail notices, from request to relay.

    Commands: notice.send (the request id is the notice id; another daemon
    delivers it through its outbox, so a repeated id returns the first reply
    and stores nothing twice), notice.get and notice.list. The handlers only
    store and read (notifier_store); the delivery loop (notifier_delivery)
    sends what is due, through the mailer (notifier_smtp), as e-mails made
    from templates (notifier_template, notifier_mail).

    At start the service checks what the configuration says about e-mail:
    a usable sender address, a sender name and contact line without control
    characters, the templates folder, the AUTH file if one is named, the
    link keys (schaltstelle/token_keys) and web/base_url. Anything wrong stops
    the daemon with a message naming the setting.

    A notice may carry links (notice.send's `links`): the notifier signs each
    with the first link key when it takes the notice, and keeps the URL as
    the variable of the link's name, so a template writes {{cancel_url}}.
*/
#ifndef NOTIFIER_H_INCLUDED
#define NOTIFIER_H_INCLUDED

#include "schalt.h"

//  The service as the server skeleton runs it.
extern const schalt_service_t notifier_service;

//  True if url is fit to start a link: http:// or https://, a host, an
//  optional port and path of plain characters, and no / at the end.
bool notifier_base_url_valid (const char *url);

#endif
