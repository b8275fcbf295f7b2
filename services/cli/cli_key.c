/*  cli_key - schalt key create|list: the CURVE keys that may talk to the
    daemons (schalt_keys.h; docs/security.md says how to rotate one).

    schalt key create NAME --role ROLE [--secret FILE]
        makes a key pair: its public half goes into the keys directory
        (schaltstelle/keys) as NAME.cert, its secret half to FILE (default
        ./NAME.key, readable by its owner only), for the person or program
        it is for. The daemons accept it once they re-read the directory
        (SIGHUP).
    schalt key list
        the keys the directory holds: name, role, when made, the public key.
*/
#include "cli.h"

static int
s_usage (FILE *out)
{
    fprintf (out, "usage: schalt key create NAME --role ROLE [--secret FILE]\n"
                  "       schalt key list\n"
                  "ROLE is one of " SCHALT_ROLES ".\n"
                  "create writes the public key to the keys directory (schaltstelle/keys) and\n"
                  "the secret one to FILE (default ./NAME.key); then send the daemons SIGHUP.\n");
    return out == stdout ? CLI_DONE : CLI_USAGE;
}

static int
s_create (cli_t *cli)
{
    const char *name = NULL, *role = NULL, *secret = NULL;
    for (int index = 1; index < cli->argc; index++) {
        const char *arg = cli->argv[index];
        if (streq (arg, "--role") && index + 1 < cli->argc)
            role = cli->argv[++index];
        else if (streq (arg, "--secret") && index + 1 < cli->argc)
            secret = cli->argv[++index];
        else if (streq (arg, "--help") || streq (arg, "-h"))
            return s_usage (stdout);
        else if (arg[0] != '-' && !name)
            name = arg;
        else {
            fprintf (stderr, "schalt key create: unknown or incomplete option '%s'\n", arg);
            return s_usage (stderr);
        }
    }
    if (!name || !role) {
        fprintf (stderr, "schalt key create: %s is missing\n", !name ? "NAME" : "--role ROLE");
        return s_usage (stderr);
    }
    const char *keys = schalt_config_string (cli->config, "schaltstelle/keys");
    char public_path[4096], secret_path[4096];
    snprintf (public_path, sizeof (public_path), "%s/%s.cert", keys, name);
    snprintf (secret_path, sizeof (secret_path), "%s", secret ? secret : "");
    if (!secret)
        snprintf (secret_path, sizeof (secret_path), "%s.key", name);
    char error[512] = "";
    if (schalt_keys_create (name, role, public_path, secret_path, error, sizeof (error)) != 0) {
        fprintf (stderr, "schalt key create: %s\n", error);
        return CLI_REFUSED;
    }
    if (cli->json) {
        json_t *made = json_pack ("{s:s, s:s, s:s, s:s}", "name", name, "role", role, "public",
                                  public_path, "secret", secret_path);
        cli_print_json (made);
        json_decref (made);
    } else
        printf ("made the key %s (role %s)\n"
                "  public: %s  (the daemons accept it after SIGHUP)\n"
                "  secret: %s  (readable by you only; give it to %s alone, who names it in "
                "cli/key)\n",
                name, role, public_path, secret_path, name);
    return CLI_DONE;
}

static int
s_list (cli_t *cli)
{
    const char *dir = schalt_config_string (cli->config, "schaltstelle/keys");
    char error[512] = "";
    schalt_keys_t *keys = schalt_keys_load (dir, error, sizeof (error));
    if (!keys) {
        fprintf (stderr, "schalt key list: %s\n", error);
        return CLI_REFUSED;
    }
    json_t *all = json_array ();
    cli_table_t *table = cli_table_new (4);
    const char *header[] = {"NAME", "ROLE", "MADE", "PUBLIC KEY"};
    cli_table_row (table, header);
    for (size_t index = 0; index < schalt_keys_size (keys); index++) {
        const schalt_key_t *key = schalt_keys_at (keys, index);
        //  When it was made is in the certificate's metadata, if schalt made it
        char path[4096], made[32] = "";
        snprintf (path, sizeof (path), "%s/%s.cert", dir, key->name);
        zconfig_t *cert = zconfig_load (path);
        const char *created = cert ? zconfig_get (cert, "metadata/created", "") : "";
        char when[32];
        snprintf (made, sizeof (made), "%s",
                  *created ? cli_local_time (created, cli->zone, when) : "");
        zconfig_destroy (&cert);
        const char *row[] = {key->name, key->role, made, key->public_txt};
        cli_table_row (table, row);
        json_array_append_new (all,
                               json_pack ("{s:s, s:s, s:s, s:s}", "name", key->name, "role",
                                          key->role, "made", made, "public_key", key->public_txt));
    }
    if (cli->json)
        cli_print_json (all);
    else {
        printf ("keys in %s:\n", dir);
        cli_table_print (table, stdout);
    }
    cli_table_destroy (&table);
    json_decref (all);
    schalt_keys_destroy (&keys);
    return CLI_DONE;
}

int
cli_key (cli_t *cli)
{
    if (cli->argc >= 1 && streq (cli->argv[0], "create"))
        return s_create (cli);
    if (cli->argc == 1 && streq (cli->argv[0], "list"))
        return s_list (cli);
    if (cli->argc >= 1 && (streq (cli->argv[0], "--help") || streq (cli->argv[0], "-h")))
        return s_usage (stdout);
    return s_usage (stderr);
}
