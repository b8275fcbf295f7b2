/*  notifier - the notifier service: e-mail notices, from request to relay.

    Commands: notice.send (the request id is the notice id; another daemon
    delivers it through its outbox, so a repeated id returns the first reply
    and stores nothing twice), notice.get and notice.list. The handlers only
    store and read (notifier_store); the delivery loop (notifier_delivery)
    sends what is due, through the mailer (notifier_smtp), as e-mails made
    from templates (notifier_template, notifier_mail).

    At start the service checks what the configuration says about e-mail:
    a usable sender address, a sender name and contact line without control
    characters, the templates folder, and the AUTH file if one is named.
    Anything wrong stops the daemon with a message naming the setting.
*/
#ifndef NOTIFIER_H_INCLUDED
#define NOTIFIER_H_INCLUDED

#include "schalt.h"

//  The service as the server skeleton runs it.
extern const schalt_service_t notifier_service;

#endif
