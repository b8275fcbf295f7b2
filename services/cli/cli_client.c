/*  cli_client - the schalt client's requests: one DEALER, same id on every retry. */
#include "cli.h"

schalt_envelope_t *
cli_request (const char *endpoint, const char *command, json_t *body, long timeout_ms,
             long attempts, bool quiet)
{
    char id[32];
    schalt_id_make ("cli", id, sizeof (id));
    char *json = json_dumps (body, JSON_COMPACT);
    assert (json);

    zsock_t *dealer = zsock_new_dealer (endpoint);
    if (!dealer) {
        fprintf (stderr, "schalt: cannot connect to %s\n", endpoint);
        free (json);
        return NULL;
    }
    zsock_set_linger (dealer, 0);
    //  Replies may be larger than requests (a long list), but not unbounded
    zsock_set_maxmsgsize (dealer, CLI_REPLY_MAX);
    schalt_envelope_t *reply = NULL;
    for (long attempt = 1; attempt <= attempts && !reply && !zsys_interrupted; attempt++) {
        zmsg_t *msg = schalt_envelope_request (command, id, json);
        assert (msg);
        zmsg_send (&msg, dealer);
        int64_t deadline = zclock_mono () + timeout_ms;
        //  Replies to an earlier attempt carry the same id, so any will do
        while (!reply && zclock_mono () < deadline) {
            zsock_set_rcvtimeo (dealer, (int)(deadline - zclock_mono ()));
            msg = zmsg_recv (dealer);
            if (!msg)
                break;
            schalt_error_t error;
            reply = schalt_envelope_decode_reply (&msg, &error);
            if (reply && !streq (schalt_envelope_id (reply), id))
                schalt_envelope_destroy (&reply);
        }
        if (!reply && attempt < attempts && !quiet)
            fprintf (stderr, "schalt: no answer from %s yet, asking again (%ld of %ld)\n", endpoint,
                     attempt + 1, attempts);
    }
    if (!reply && !quiet)
        fprintf (stderr, "schalt: no answer from %s after %ld attempts; is the daemon running?\n",
                 endpoint, attempts);
    zsock_destroy (&dealer);
    free (json);
    return reply;
}

//  Writes message to out with each "YYYY-MM-DDTHH:MM:SSZ" instant (as the
//  daemons write them) replaced by its wall-clock time in zone.
static void
s_print_localised (FILE *out, const char *message, const char *zone)
{
    const size_t instant_length = 20;
    while (*message) {
        char candidate[32];
        time_t utc;
        char local[32];
        if (strlen (message) >= instant_length && isdigit ((unsigned char)message[0]) &&
            message[instant_length - 1] == 'Z') {
            memcpy (candidate, message, instant_length);
            candidate[instant_length] = 0;
            if (schalt_time_parse_instant (candidate, &utc) == 0 &&
                schalt_time_format_local (utc, zone, local)) {
                fputs (local, out);
                message += instant_length;
                continue;
            }
        }
        fputc (*message++, out);
    }
}

void
cli_print_refusal (schalt_envelope_t *reply, const char *zone, const char *option)
{
    json_t *error = json_object_get (schalt_envelope_body (reply), "error");
    const char *code = json_string_value (json_object_get (error, "code"));
    const char *message = json_string_value (json_object_get (error, "message"));
    const char *field = json_string_value (json_object_get (error, "field"));
    fprintf (stderr, "schalt: refused (%d %s): ", schalt_envelope_status (reply),
             code ? code : "error");
    s_print_localised (stderr, message ? message : "no reason given", zone);
    if (field && *field && option)
        fprintf (stderr, " [%s, field %s]", option, field);
    else if (field && *field)
        fprintf (stderr, " [field %s]", field);
    fprintf (stderr, "\n");
}
