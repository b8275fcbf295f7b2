/*  cli_daemon - schalt's commands about the daemons themselves: status (each
    daemon's state, in one table) and logs -f (their log lines, live).
*/
#include "cli.h"

//  The daemons status and logs talk to.
const char *cli_services[] = {"scheduler", "registry", "notifier", "web", NULL};

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
        if (!cli_curve (cli)) {
            json_decref (empty);
            rc = CLI_NO_ANSWER;
            break;
        }
        schalt_envelope_t *reply = cli_request (cli, *service, "status", empty, 1, true);
        json_decref (empty);
        if (!reply || schalt_envelope_status (reply) != 200) {
            char why[160];
            snprintf (why, sizeof (why), "%s%s", endpoint,
                      cli->key_refused ? ": refused this client's key (cli/key)" : "");
            const char *row[] = {*service, "no answer", "", "", "", "", "", why};
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
    //  One subscriber a daemon: each is a CURVE client of its daemon's key
    zsock_t *subscribers[8] = {NULL};
    zpoller_t *poller = zpoller_new (NULL);
    int services = 0;
    for (const char **service = cli_services; *service; service++)
        if (!only || streq (only, *service)) {
            services++;
            if (!cli_curve (cli))
                break;
            char error[512] = "";
            zsock_t *subscriber =
                schalt_curve_client (cli->curve, ZMQ_SUB, *service, error, sizeof (error));
            if (!subscriber) {
                fprintf (stderr, "schalt logs: %s\n", error);
                continue;
            }
            zsock_set_maxmsgsize (subscriber, CLI_REPLY_MAX);
            zsock_set_subscribe (subscriber, "log.");
            zsock_connect (subscriber, "%s", cli_service_setting (cli, *service, "events"));
            zpoller_add (poller, subscriber);
            subscribers[services - 1] = subscriber;
        }
    if (services == 0 || !cli->curve) {
        if (services == 0)
            fprintf (stderr, "schalt logs: no service '%s'\n", only);
        zpoller_destroy (&poller);
        return services == 0 ? CLI_USAGE : CLI_NO_ANSWER;
    }
    //  On stderr, so that the lines themselves can be piped on
    fprintf (stderr, "schalt logs: following the log lines of %s live; Ctrl-C to stop\n",
             only ? only : "every daemon");
    while (!zsys_interrupted) {
        char *topic = NULL, *id = NULL, *json = NULL;
        zsock_t *subscriber = (zsock_t *)zpoller_wait (poller, 500);
        if (subscriber && zsock_recv (subscriber, "sss", &topic, &id, &json) == 0 && json) {
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
    zpoller_destroy (&poller);
    for (int index = 0; index < 8; index++)
        zsock_destroy (&subscribers[index]);
    return CLI_DONE;
}

//  --------------------------------------------------------------------------
//  schalt audit: who changed what, from every daemon's audit log

//  Orders entries newest first (by their RFC 3339 time, then service).
static int
s_newer_first (const void *one, const void *other)
{
    json_t *a = *(json_t *const *)one, *b = *(json_t *const *)other;
    int order = strcmp (json_string_value (json_object_get (b, "time")),
                        json_string_value (json_object_get (a, "time")));
    return order ? order
                 : strcmp (json_string_value (json_object_get (a, "service")),
                           json_string_value (json_object_get (b, "service")));
}

int
cli_audit (cli_t *cli)
{
    const char *only = NULL;
    json_t *query = json_object ();
    long limit = 50;
    for (int index = 0; index < cli->argc; index += 2) {
        const char *arg = cli->argv[index];
        const char *value = index + 1 < cli->argc ? cli->argv[index + 1] : NULL;
        time_t utc;
        char instant[32], *end = NULL;
        if (streq (arg, "--help") || streq (arg, "-h")) {
            printf ("usage: schalt audit [--since TIME] [--who NAME] [--object ID] [--service NAME]"
                    " [--limit N]\n"
                    "The daemons' audit logs, newest first: every change (who, through which\n"
                    "key or web user, the command, the object, the request id) and every call\n"
                    "refused for its role. TIME is local (\"2027-03-13T09:00\"). Admins only.\n");
            json_decref (query);
            return CLI_DONE;
        } else if (!value) {
            fprintf (stderr, "schalt audit: unknown or incomplete option '%s' (see --help)\n", arg);
            json_decref (query);
            return CLI_USAGE;
        } else if (streq (arg, "--since") && schalt_time_parse_local (value, cli->zone, &utc) == 0)
            json_object_set_new (query, "since",
                                 json_string (schalt_time_format_instant (utc, instant)));
        else if (streq (arg, "--who"))
            json_object_set_new (query, "who", json_string (value));
        else if (streq (arg, "--object"))
            json_object_set_new (query, "object", json_string (value));
        else if (streq (arg, "--service"))
            only = value;
        else if (streq (arg, "--limit") && (limit = strtol (value, &end, 10)) > 0 && !*end &&
                 limit <= 10000)
            ;
        else {
            fprintf (stderr, "schalt audit: %s '%s' is not valid (see --help)\n", arg, value);
            json_decref (query);
            return CLI_USAGE;
        }
    }
    json_object_set_new (query, "limit", json_integer (limit));
    json_t *all = json_array ();
    int rc = CLI_DONE, asked = 0;
    bool complete = true;
    for (const char **service = cli_services; *service && rc == CLI_DONE; service++) {
        if (only && !streq (only, *service))
            continue;
        asked++;
        schalt_envelope_t *reply =
            cli_request (cli, *service, "audit.list", query,
                         schalt_config_integer (cli->config, "cli/retries"), false);
        if (!reply)
            rc = CLI_NO_ANSWER;
        else if (schalt_envelope_status (reply) >= 400) {
            cli_print_refusal (reply, cli->zone, NULL);
            rc = CLI_REFUSED;
        } else {
            json_t *body = schalt_envelope_body (reply);
            complete = complete && json_is_true (json_object_get (body, "complete"));
            size_t index;
            json_t *entry;
            json_array_foreach (json_object_get (body, "entries"), index, entry)
            {
                json_object_set_new (entry, "service", json_string (*service));
                json_array_append (all, entry);
            }
        }
        schalt_envelope_destroy (&reply);
    }
    bool filtered = json_object_size (query) > 1;
    json_decref (query);
    if (asked == 0) {
        fprintf (stderr, "schalt audit: no service '%s'\n", only);
        json_decref (all);
        return CLI_USAGE;
    }
    //  Newest first across the daemons, at most limit of them
    size_t count = json_array_size (all);
    json_t **sorted = (json_t **)zmalloc ((count + 1) * sizeof (json_t *));
    for (size_t index = 0; index < count; index++)
        sorted[index] = json_array_get (all, index);
    qsort (sorted, count, sizeof (json_t *), s_newer_first);
    if (count > (size_t)limit)
        count = (size_t)limit;
    json_t *shown = json_array ();
    for (size_t index = 0; index < count; index++)
        json_array_append (shown, sorted[index]);
    free (sorted);
    if (rc == CLI_DONE && cli->json)
        cli_print_json (shown);
    else if (rc == CLI_DONE) {
        cli_table_t *table = cli_table_new (8);
        const char *header[] = {"TIME",    "SERVICE", "WHO",    "ROLE",
                                "COMMAND", "OBJECT",  "STATUS", "REQUEST"};
        cli_table_row (table, header);
        size_t index;
        json_t *entry;
        json_array_foreach (shown, index, entry)
        {
            char when[32], who[160], status[8];
            const char *user = json_string_value (json_object_get (entry, "user"));
            snprintf (
                who, sizeof (who), "%s%s%s%s", json_string_value (json_object_get (entry, "who")),
                user && *user ? " (for " : "", user && *user ? user : "", user && *user ? ")" : "");
            snprintf (status, sizeof (status), "%lld",
                      (long long)json_integer_value (json_object_get (entry, "status")));
            const char *user_role = json_string_value (json_object_get (entry, "user_role"));
            const char *row[] = {
                cli_local_time (json_string_value (json_object_get (entry, "time")), cli->zone,
                                when),
                json_string_value (json_object_get (entry, "service")),
                who,
                user_role && *user_role ? user_role
                                        : json_string_value (json_object_get (entry, "role")),
                json_string_value (json_object_get (entry, "command")),
                json_string_value (json_object_get (entry, "object")),
                status,
                json_string_value (json_object_get (entry, "request"))};
            cli_table_row (table, row);
        }
        if (json_array_size (shown) == 0)
            printf ("No audit entries%s.\n", filtered ? " match" : "");
        else
            cli_table_print (table, stdout);
        if (!complete)
            printf ("(older entries were not searched; narrow it with --since)\n");
        cli_table_destroy (&table);
    }
    json_decref (shown);
    json_decref (all);
    return rc;
}
