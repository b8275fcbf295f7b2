/*  cli_daemon - schalt's commands about the daemons themselves: status (each
    daemon's state, in one table) and logs -f (their log lines, live).
*/
#include "cli.h"

//  The daemons status and logs talk to.
const char *cli_services[] = {"scheduler", "registry", "notifier", NULL};

//  Writes what a daemon's outboxes hold as "notifier 15" (messages not yet
//  acknowledged, per peer), "notifier ?" while it cannot count (Redis down),
//  or "-" for a daemon without one. Returns buffer.
static char *
s_outbox_text (json_t *outboxes, char *buffer, size_t size)
{
    snprintf (buffer, size, "-");
    const char *peer;
    json_t *outbox;
    size_t used = 0;
    json_object_foreach (outboxes, peer, outbox)
    {
        json_t *depth = json_object_get (outbox, "depth");
        char count[24] = "?";
        if (json_is_integer (depth))
            snprintf (count, sizeof (count), "%lld", (long long)json_integer_value (depth));
        int written =
            snprintf (buffer + used, size - used, "%s%s %s", used ? ", " : "", peer, count);
        if (written < 0 || (size_t)written >= size - used)
            break;
        used += (size_t)written;
    }
    return buffer;
}

int
cli_status (cli_t *cli)
{
    json_t *all = json_array ();
    cli_table_t *table = cli_table_new (8);
    const char *header[] = {"SERVICE",  "STATE",  "UPTIME", "REDIS",
                            "REQUESTS", "ERRORS", "OUTBOX", "LAST ERROR"};
    cli_table_row (table, header);
    int rc = CLI_DONE;
    char overfull[512] = ""; //  the registry's over-full sessions, said under the table
    char timeline[256] = ""; //  the scheduler's reminders, likewise
    for (const char **service = cli_services; *service; service++) {
        json_t *empty = json_object ();
        const char *endpoint = cli_service_setting (cli, *service, "endpoint");
        schalt_envelope_t *reply = cli_request (
            endpoint, "status", empty, schalt_config_integer (cli->config, "cli/timeout"), 1, true);
        json_decref (empty);
        if (!reply || schalt_envelope_status (reply) != 200) {
            const char *row[] = {*service, "no answer", "", "", "", "", "", endpoint};
            cli_table_row (table, row);
            json_array_append_new (
                all, json_pack ("{s:s, s:s}", "service", *service, "state", "no answer"));
            rc = CLI_NO_ANSWER;
            schalt_envelope_destroy (&reply);
            continue;
        }
        json_t *status = schalt_envelope_body (reply);
        json_t *redis = json_object_get (status, "redis");
        json_t *requests = json_object_get (status, "requests");
        json_t *last = json_object_get (status, "last_error");
        char uptime[32], redis_text[64], total[24], errors[24];
        long long seconds = json_integer_value (json_object_get (status, "uptime"));
        snprintf (uptime, sizeof (uptime), "%lldd %02lld:%02lld:%02lld", seconds / 86400,
                  seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
        snprintf (redis_text, sizeof (redis_text), "%s (%s:%lld)",
                  json_string_value (json_object_get (redis, "state")),
                  json_string_value (json_object_get (redis, "host")),
                  (long long)json_integer_value (json_object_get (redis, "port")));
        snprintf (total, sizeof (total), "%lld",
                  (long long)json_integer_value (json_object_get (requests, "total")));
        snprintf (errors, sizeof (errors), "%lld",
                  (long long)json_integer_value (json_object_get (requests, "server_errors")));
        char outboxes[160];
        s_outbox_text (json_object_get (status, "outboxes"), outboxes, sizeof (outboxes));
        const char *row[] = {
            *service,
            "running",
            uptime,
            redis_text,
            total,
            errors,
            outboxes,
            json_is_object (last) ? json_string_value (json_object_get (last, "message")) : ""};
        cli_table_row (table, row);
        size_t index;
        json_t *session;
        json_array_foreach (json_object_get (status, "over_full"), index, session)
            snprintf (overfull + strlen (overfull), sizeof (overfull) - strlen (overfull), "%s%s",
                      index ? ", " : "", json_string_value (session));
        json_t *reminders = json_object_get (status, "timeline");
        if (reminders) {
            char next[32] = "";
            const char *due = json_string_value (json_object_get (reminders, "next_due"));
            snprintf (timeline, sizeof (timeline), "reminders planned: %lld%s%s",
                      (long long)json_integer_value (json_object_get (reminders, "planned")),
                      due ? ", the next due " : "",
                      due ? cli_local_time (due, cli->zone, next) : "");
        }
        json_array_append (all, status);
        schalt_envelope_destroy (&reply);
    }
    if (cli->json)
        cli_print_json (all);
    else {
        cli_table_print (table, stdout);
        if (timeline[0])
            printf ("%s\n", timeline);
        if (overfull[0])
            printf ("over-full (a capacity lowered below the seats taken): %s\n", overfull);
    }
    cli_table_destroy (&table);
    json_decref (all);
    return rc;
}

//  Index of a level name in severity order (error = 0), or -1.
static int
s_level_rank (const char *name)
{
    const char *levels[] = {"error", "warning", "notice", "info", "debug"};
    for (int index = 0; index < 5; index++)
        if (streq (levels[index], name))
            return index;
    return -1;
}

int
cli_logs (cli_t *cli)
{
    const char *only = NULL;
    int threshold = s_level_rank ("debug");
    for (int index = 0; index < cli->argc; index++) {
        const char *arg = cli->argv[index];
        if (streq (arg, "-f") || streq (arg, "--follow"))
            continue;
        else if (streq (arg, "--service") && index + 1 < cli->argc)
            only = cli->argv[++index];
        else if (streq (arg, "--level") && index + 1 < cli->argc &&
                 s_level_rank (cli->argv[index + 1]) >= 0)
            threshold = s_level_rank (cli->argv[++index]);
        else if (streq (arg, "--help") || streq (arg, "-h")) {
            printf ("usage: schalt logs -f [--service NAME] [--level LEVEL]\n"
                    "Follows the log lines of every daemon (or one) live, until Ctrl-C.\n"
                    "LEVEL shows that level and above: error, warning, notice, info, debug.\n"
                    "Earlier lines are in each daemon's log file (var/log/ with deploy/up).\n");
            return CLI_DONE;
        } else {
            fprintf (stderr, "schalt logs: unknown or incomplete option '%s' (see --help)\n", arg);
            return CLI_USAGE;
        }
    }
    zsock_t *subscriber = zsock_new (ZMQ_SUB);
    zsock_set_maxmsgsize (subscriber, CLI_REPLY_MAX);
    int services = 0;
    for (const char **service = cli_services; *service; service++)
        if (!only || streq (only, *service)) {
            zsock_connect (subscriber, "%s", cli_service_setting (cli, *service, "events"));
            services++;
        }
    if (services == 0) {
        fprintf (stderr, "schalt logs: no service '%s'\n", only);
        zsock_destroy (&subscriber);
        return CLI_USAGE;
    }
    zsock_set_subscribe (subscriber, "log.");
    zsock_set_rcvtimeo (subscriber, 500);
    //  On stderr, so that the lines themselves can be piped on
    fprintf (stderr, "schalt logs: following the log lines of %s live; Ctrl-C to stop\n",
             only ? only : "every daemon");
    while (!zsys_interrupted) {
        char *topic = NULL, *id = NULL, *json = NULL;
        if (zsock_recv (subscriber, "sss", &topic, &id, &json) == 0 && json) {
            json_t *line = json_loads (json, 0, NULL);
            const char *level = json_string_value (json_object_get (line, "level"));
            if (line && level && s_level_rank (level) <= threshold) {
                char when[32];
                printf ("%s %-9s %-7s %s\n",
                        cli_local_time (json_string_value (json_object_get (line, "time")),
                                        cli->zone, when),
                        json_string_value (json_object_get (line, "service")), level,
                        json_string_value (json_object_get (line, "message")));
                fflush (stdout);
            }
            json_decref (line);
        }
        zstr_free (&topic);
        zstr_free (&id);
        zstr_free (&json);
    }
    zsock_destroy (&subscriber);
    return CLI_DONE;
}
