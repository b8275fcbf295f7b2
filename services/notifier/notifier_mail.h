/*  notifier_mail - a notice as a complete e-mail message, ready for SMTP.

    The message is RFC 5322 with MIME (RFC 2045-2047): Date, From, To,
    Subject, Message-ID, MIME-Version, a text/plain UTF-8 body in
    quoted-printable (so it passes any relay, 8BITMIME or not), CRLF line
    ends everywhere. A message with a calendar entry (iMIP, RFC 6047) is
    multipart/mixed: first a multipart/alternative of the text and the
    text/calendar part with its method (the text stays what a reader sees
    first; a calendar program takes the entry from the other), then the
    same entry as an .ics attachment for programs that only open files;
    both in base64. The boundaries begin with "=_", which neither
    quoted-printable nor base64 can produce. Header lines are folded at 78 octets where a header can
    be folded, and never pass 998. Text that is not plain ASCII (the subject,
    display names) is written as RFC 2047 encoded-words (UTF-8, base64);
    an ASCII display name with specials ("Müller, Anna" spelled without the
    umlaut, say) becomes a quoted-string. A field holding CR, LF, NUL or any
    other control character is refused: no input can add a header line.

    The Message-ID is <NOTICEID@DOMAIN>, DOMAIN that of the sender address, so
    every attempt at one notice carries the same id and a receiver (or a
    person) can tell a repeat from a second notice.
*/
#ifndef NOTIFIER_MAIL_H_INCLUDED
#define NOTIFIER_MAIL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

//  Who sends (the office), from the configuration.
typedef struct {
    const char *address;  //  "bildungsbuero@example.org"
    const char *name;     //  "Bildungsbüro" (UTF-8)
    const char *timezone; //  zone of the Date header ("Europe/Berlin")
} notifier_mail_sender_t;

//  One message. Every text is UTF-8.
typedef struct {
    const char *id;         //  the notice id: Message-ID <id@domain>
    const char *to_name;    //  the recipient's display name, one line
    const char *to_address; //  local@domain, ASCII
    const char *subject;    //  one line (tabs and line breaks become spaces)
    const char *body;       //  text with \n or \r\n line ends
    const char *language;   //  "de" or "en": Content-Language
    const char *calendar;   //  iCalendar text with CRLF line ends, or NULL
    const char *method;     //  its METHOD: "REQUEST" or "CANCEL"
} notifier_mail_t;

//  Renders the message. Returns it (CRLF line ends, ending in CRLF), which
//  the caller frees; or NULL with a reason in reason[size] when a field
//  cannot be written safely (control characters, an unusable address,
//  text that is not UTF-8).
char *notifier_mail_render (const notifier_mail_sender_t *sender, const notifier_mail_t *mail,
                            time_t now, char *reason, size_t size);

//  True if address is one this renderer writes into a header: ASCII
//  local@domain of at most 254 octets, a dot-atom before the @ and a host
//  name after it.
bool notifier_mail_address_valid (const char *address);

//  The Message-ID of a notice: "<id@domain>" with domain that of the
//  sender address. An id character that a Message-ID cannot hold (':', a
//  misplaced '.') is written as =XX, which no request id contains, so two
//  ids never share a Message-ID. Returns a string the caller frees, or
//  NULL if from_address has no domain.
char *notifier_mail_message_id (const char *id, const char *from_address);

//  Self test: headers, folding, encoded-words, quoted-printable, refusals.
void notifier_mail_test (bool verbose);

#endif
