/*  cli_client - the schalt client's keys and its requests, each on a
    schalt_client (one DEALER, the same id on every attempt).
*/
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

//  Says why schalt asks again.
typedef struct {
    cli_t *cli;
    const char *service, *endpoint;
    bool quiet;
} s_asking_t;

static void
s_asking_again (void *arg, long attempt, long attempts, int status)
{
    s_asking_t *asking = (s_asking_t *)arg;
    if (asking->quiet)
        return;
    if (status == 503)
        fprintf (stderr, "schalt: %s could not reach its database, asking again (%ld of %ld)\n",
                 asking->service, attempt, attempts);
    else
        fprintf (stderr, "schalt: no answer from %s yet, asking again (%ld of %ld)\n",
                 asking->endpoint, attempt, attempts);
}

schalt_envelope_t *
cli_request (cli_t *cli, const char *service, const char *command, json_t *body, long attempts,
             bool quiet)
{
    cli->key_refused = false;
    const char *endpoint = cli_service_setting (cli, service, "endpoint");
    schalt_curve_t *curve = cli_curve (cli);
    if (!curve)
        return NULL;
    char error[512] = "";
    schalt_client_t *client =
        schalt_client_new (curve, service, endpoint, CLI_REPLY_MAX, error, sizeof (error));
    if (!client) {
        if (!quiet)
            fprintf (stderr, "schalt: %s\n", error);
        return NULL;
    }
    char id[32];
    schalt_id_make ("cli", id, sizeof (id));
    char *json = json_dumps (body, JSON_COMPACT);
    assert (json);
    s_asking_t asking = {cli, service, endpoint, quiet};
    schalt_client_outcome_t outcome;
    schalt_envelope_t *reply = schalt_client_request (
        client, command, id, json, NULL, NULL, schalt_config_integer (cli->config, "cli/timeout"),
        attempts, s_asking_again, &asking, &outcome);
    cli->key_refused = outcome == SCHALT_CLIENT_KEY_REFUSED;
    if (quiet || reply || outcome == SCHALT_CLIENT_INTERRUPTED)
        ;
    else if (outcome == SCHALT_CLIENT_KEY_REFUSED)
        fprintf (stderr,
                 "schalt: the %s at %s refused this client's key '%s' (cli/key): its public "
                 "half is not in the daemon's keys directory, or was removed\n",
                 service, endpoint, schalt_curve_name (curve));
    else if (outcome == SCHALT_CLIENT_HANDSHAKE_FAILED)
        fprintf (stderr,
                 "schalt: the handshake with the %s at %s failed: is %s.cert in "
                 "schaltstelle/keys its public key, and is schaltstelle/curve the same at both "
                 "ends?\n",
                 service, endpoint, service);
    else
        fprintf (stderr,
                 "schalt: no answer from %s after %ld attempts; is the daemon running, and is "
                 "%s.cert in schaltstelle/keys its public key?\n",
                 endpoint, attempts, service);
    schalt_client_destroy (&client);
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
