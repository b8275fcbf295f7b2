/*  cli_client - the schalt client's requests: one DEALER, same id on every retry. */
#include "cli.h"

schalt_curve_t *
cli_curve (cli_t *cli)
{
    if (!cli->curve) {
        char error[512] = "";
        bool enabled = streq (schalt_config_string (cli->config, "schaltstelle/curve"), "on");
        cli->curve = schalt_curve_new (schalt_config_string (cli->config, "schaltstelle/keys"),
                                       schalt_config_string (cli->config, "cli/key"), enabled,
                                       error, sizeof (error));
        if (!cli->curve)
            fprintf (stderr,
                     "schalt: %s\n(schalt's key is cli/key, the daemons' public keys are in "
                     "schaltstelle/keys; an admin makes a key with schalt key create)\n",
                     error);
    }
    return cli->curve;
}

//  Watches the handshakes of socket: a daemon that refuses our key says so
//  in the handshake (libzmq reports it to a monitor). Returns the monitor's
//  reading end, or NULL.
static zsock_t *
s_monitor (zsock_t *socket)
{
    static int monitors = 0; //  each its own endpoint: an old one may still be bound
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://cli-monitor-%d", ++monitors);
    if (zmq_socket_monitor (zsock_resolve (socket), endpoint,
                            ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0)
        return NULL;
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    if (zsock_connect (monitor, "%s", endpoint) != 0)
        zsock_destroy (&monitor);
    return monitor;
}

//  Reads one monitor event: 2 if the daemon refused our key, 1 if the
//  handshake failed otherwise (another daemon's key, CURVE off at one end),
//  0 for anything else.
static int
s_handshake_failed (zsock_t *monitor)
{
    zmsg_t *event = zmsg_recv (monitor);
    zframe_t *head = event ? zmsg_first (event) : NULL;
    int failed = 0;
    if (head && zframe_size (head) >= 2) {
        uint16_t kind;
        memcpy (&kind, zframe_data (head), 2);
        if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            failed = 2;
        else if (kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
            failed = 1;
    }
    zmsg_destroy (&event);
    return failed;
}

schalt_envelope_t *
cli_request (cli_t *cli, const char *service, const char *command, json_t *body, long attempts,
             bool quiet)
{
    cli->key_refused = false;
    const char *endpoint = cli_service_setting (cli, service, "endpoint");
    long timeout_ms = schalt_config_integer (cli->config, "cli/timeout");
    schalt_curve_t *curve = cli_curve (cli);
    if (!curve)
        return NULL;
    char error[512] = "";
    zsock_t *dealer = schalt_curve_client (curve, ZMQ_DEALER, service, error, sizeof (error));
    if (!dealer) {
        if (!quiet)
            fprintf (stderr, "schalt: %s\n", error);
        return NULL;
    }
    zsock_set_linger (dealer, 0);
    //  Replies may be larger than requests (a long list), but not unbounded
    zsock_set_maxmsgsize (dealer, CLI_REPLY_MAX);
    zsock_t *monitor = s_monitor (dealer);
    if (zsock_connect (dealer, "%s", endpoint) != 0) {
        if (!quiet)
            fprintf (stderr, "schalt: cannot connect to %s\n", endpoint);
        zsock_destroy (&monitor);
        zsock_destroy (&dealer);
        return NULL;
    }
    char id[32];
    schalt_id_make ("cli", id, sizeof (id));
    char *json = json_dumps (body, JSON_COMPACT);
    assert (json);
    zpoller_t *poller = zpoller_new (dealer, monitor, NULL);
    schalt_envelope_t *reply = NULL;
    bool mismatch = false; //  a handshake failed for another reason than our key
    for (long attempt = 1; attempt <= attempts && !reply && !cli->key_refused && !zsys_interrupted;
         attempt++) {
        zmsg_t *msg = schalt_envelope_request (command, id, json);
        assert (msg);
        zmsg_send (&msg, dealer);
        int64_t deadline = zclock_mono () + timeout_ms;
        //  Replies to an earlier attempt carry the same id, so any will do
        while (!reply && !cli->key_refused && zclock_mono () < deadline) {
            int64_t left = deadline - zclock_mono ();
            void *which = zpoller_wait (poller, left > 0 ? (int)left : 0);
            if (which && which == monitor) {
                int failed = s_handshake_failed (monitor);
                cli->key_refused = failed == 2;
                mismatch = mismatch || failed == 1;
            } else if (!which || which != dealer)
                break;
            else if ((msg = zmsg_recv (dealer))) {
                schalt_error_t decode_error;
                reply = schalt_envelope_decode_reply (&msg, &decode_error);
                if (reply && !streq (schalt_envelope_id (reply), id))
                    schalt_envelope_destroy (&reply);
            }
        }
        //  503: the daemon could not reach its database just now; the same
        //  request again is safe (rule 5), after a pause
        if (reply && schalt_envelope_status (reply) == 503 && attempt < attempts) {
            if (!quiet)
                fprintf (stderr,
                         "schalt: %s could not reach its database, asking again (%ld of "
                         "%ld)\n",
                         service, attempt + 1, attempts);
            schalt_envelope_destroy (&reply);
            zclock_sleep (CLI_UNAVAILABLE_PAUSE);
        } else if (!reply && !cli->key_refused && attempt < attempts && !quiet)
            fprintf (stderr, "schalt: no answer from %s yet, asking again (%ld of %ld)\n", endpoint,
                     attempt + 1, attempts);
    }
    if (cli->key_refused && !quiet)
        fprintf (stderr,
                 "schalt: the %s at %s refused this client's key '%s' (cli/key): its public "
                 "half is not in the daemon's keys directory, or was removed\n",
                 service, endpoint, schalt_curve_name (curve));
    else if (!reply && !quiet && mismatch)
        fprintf (stderr,
                 "schalt: the handshake with the %s at %s failed: is %s.cert in "
                 "schaltstelle/keys its public key, and is schaltstelle/curve the same at both "
                 "ends?\n",
                 service, endpoint, service);
    else if (!reply && !quiet)
        fprintf (stderr,
                 "schalt: no answer from %s after %ld attempts; is the daemon running, and is "
                 "%s.cert in schaltstelle/keys its public key?\n",
                 endpoint, attempts, service);
    zpoller_destroy (&poller);
    if (monitor)
        zmq_socket_monitor (zsock_resolve (dealer), NULL, 0);
    zsock_destroy (&monitor);
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
