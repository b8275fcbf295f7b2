/*  schalt_keys - CURVE certificates, the keys directory and the roles.
    See schalt_keys.h.
*/
#include "schalt_keys.h"
#include "schalt_testutil.h"

#include <dirent.h>
#include <sodium.h>
#include <fcntl.h>
#include <sys/stat.h>

struct _schalt_keys_t {
    schalt_key_t *keys; //  sorted by name
    size_t size;
    zhashx_t *by_public; //  public_txt -> schalt_key_t (borrowed from keys)
    zhashx_t *by_name;   //  name -> schalt_key_t
};

static const char *s_roles[] = {"admin",     "organiser", "group-lead", "counsellor", "web",
                                "scheduler", "registry",  "notifier",   NULL};
static const char *s_person_roles[] = {"admin", "organiser", "group-lead", "counsellor", NULL};

static bool
s_listed (const char **list, const char *word)
{
    for (; word && *list; list++)
        if (streq (*list, word))
            return true;
    return false;
}

bool
schalt_role_valid (const char *role)
{
    return s_listed (s_roles, role);
}

bool
schalt_role_is_person (const char *role)
{
    return s_listed (s_person_roles, role);
}

bool
schalt_key_name_valid (const char *name)
{
    size_t length = name ? strlen (name) : 0;
    if (length == 0 || length > SCHALT_KEY_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (const char *cursor = name; *cursor; cursor++)
        if (!((*cursor >= 'a' && *cursor <= 'z') || (*cursor >= '0' && *cursor <= '9') ||
              *cursor == '.' || *cursor == '_' || *cursor == '-'))
            return false;
    return true;
}

//  Decodes a Z85 key of 40 characters into 32 octets; 0 or -1.
static int
s_decode_key (const char *text, byte *key)
{
    if (!text || strlen (text) != SCHALT_KEY_TEXT)
        return -1;
    return zmq_z85_decode (key, text) ? 0 : -1;
}

//  True if public_key is the Curve25519 public key of secret_key.
static bool
s_pair_matches (const byte *public_key, const byte *secret_key)
{
    byte computed[32];
    return crypto_scalarmult_base (computed, secret_key) == 0 &&
           sodium_memcmp (computed, public_key, 32) == 0;
}

int
schalt_keys_parse (const char *text, const char *file, const char *stem, bool secret,
                   schalt_key_t *key, byte *secret_key, char *error, size_t size)
{
    memset (key, 0, sizeof (*key));
    //  zconfig reads ZPL; it wants text without NUL and in lines
    zconfig_t *root = zconfig_str_load (text);
    if (!root) {
        snprintf (error, size, "%s: not a certificate (czmq's ZPL format cannot be read)", file);
        return -1;
    }
    int rc = -1;
    byte public_key[32];
    const char *public_txt = zconfig_get (root, "curve/public-key", NULL);
    const char *secret_txt = zconfig_get (root, "curve/secret-key", NULL);
    const char *name = zconfig_get (root, "metadata/name", NULL);
    const char *role = zconfig_get (root, "metadata/role", NULL);
    if (s_decode_key (public_txt, public_key) != 0)
        snprintf (error, size, "%s: curve/public-key must be a key of 40 Z85 characters", file);
    else if (secret && s_decode_key (secret_txt, secret_key) != 0)
        snprintf (error, size,
                  "%s: curve/secret-key must be a key of 40 Z85 characters (this must be a "
                  "secret certificate)",
                  file);
    else if (secret && !s_pair_matches (public_key, secret_key))
        snprintf (error, size, "%s: curve/public-key is not the public half of curve/secret-key",
                  file);
    else if (!secret && secret_txt)
        snprintf (error, size,
                  "%s: holds a secret key; only public certificates belong in the keys "
                  "directory (move it away, and make a new key: the secret is known now)",
                  file);
    else if (!name || !*name)
        snprintf (error, size, "%s: metadata/name is missing", file);
    else if (!schalt_key_name_valid (name))
        snprintf (error, size,
                  "%s: metadata/name must be 1 to %d of a-z 0-9 . _ -, not starting with . or -",
                  file, SCHALT_KEY_NAME_MAX);
    else if (stem && !streq (name, stem))
        snprintf (error, size, "%s: metadata/name is '%s', but the file is named for '%s'", file,
                  name, stem);
    else if (!role || !*role)
        snprintf (error, size, "%s: metadata/role is missing (one of %s)", file, SCHALT_ROLES);
    else if (!schalt_role_valid (role))
        snprintf (error, size, "%s: metadata/role must be one of %s", file, SCHALT_ROLES);
    else {
        snprintf (key->name, sizeof (key->name), "%s", name);
        snprintf (key->role, sizeof (key->role), "%s", role);
        snprintf (key->public_txt, sizeof (key->public_txt), "%s", public_txt);
        rc = 0;
    }
    zconfig_destroy (&root);
    return rc;
}

//  Reads a whole file of at most SCHALT_CERT_FILE_MAX octets (NUL-terminated,
//  caller frees); checks that it is a regular file that not everyone may
//  change. NULL with error if not.
static char *
s_read_file (const char *path, char *error, size_t size)
{
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat info;
    if (fd < 0 || fstat (fd, &info) != 0) {
        snprintf (error, size, "%s: cannot be read: %s", path, strerror (errno));
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    char *text = NULL;
    if (!S_ISREG (info.st_mode))
        snprintf (error, size, "%s: is not a regular file", path);
    else if (info.st_mode & S_IWOTH)
        snprintf (error, size, "%s: is writable by every user (chmod o-w)", path);
    else if (info.st_size > SCHALT_CERT_FILE_MAX)
        snprintf (error, size, "%s: is larger than a certificate (%d octets at most)", path,
                  SCHALT_CERT_FILE_MAX);
    else {
        text = (char *)zmalloc ((size_t)info.st_size + 1);
        assert (text);
        ssize_t got = read (fd, text, (size_t)info.st_size);
        if (got != (ssize_t)info.st_size) {
            snprintf (error, size, "%s: cannot be read", path);
            zstr_free (&text);
        } else if (strlen (text) != (size_t)got) {
            snprintf (error, size, "%s: holds a NUL character: not a certificate", path);
            zstr_free (&text);
        }
    }
    close (fd);
    return text;
}

static int
s_compare_keys (const void *one, const void *other)
{
    return strcmp (((const schalt_key_t *)one)->name, ((const schalt_key_t *)other)->name);
}

schalt_keys_t *
schalt_keys_load (const char *dir, char *error, size_t size)
{
    struct stat info;
    if (stat (dir, &info) != 0) {
        snprintf (error, size, "the keys directory %s cannot be used: %s (schaltstelle/keys)", dir,
                  strerror (errno));
        return NULL;
    }
    if (!S_ISDIR (info.st_mode)) {
        snprintf (error, size, "the keys directory %s is not a directory (schaltstelle/keys)", dir);
        return NULL;
    }
    if (info.st_mode & S_IWOTH) {
        snprintf (error, size,
                  "the keys directory %s is writable by every user, so anyone could add a key: "
                  "chmod o-w %s",
                  dir, dir);
        return NULL;
    }
    DIR *handle = opendir (dir);
    if (!handle) {
        snprintf (error, size, "the keys directory %s cannot be read: %s", dir, strerror (errno));
        return NULL;
    }
    schalt_keys_t *self = (schalt_keys_t *)zmalloc (sizeof (schalt_keys_t));
    assert (self);
    size_t room = 16;
    self->keys = (schalt_key_t *)zmalloc (room * sizeof (schalt_key_t));
    assert (self->keys);
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (handle))) {
        size_t length = strlen (entry->d_name);
        if (entry->d_name[0] == '.' || length <= 5 || !streq (entry->d_name + length - 5, ".cert"))
            continue; //  not a certificate's name: an editor's backup, say
        char stem[256], path[4096];
        snprintf (stem, sizeof (stem), "%.*s", (int)(length - 5), entry->d_name);
        snprintf (path, sizeof (path), "%s/%s", dir, entry->d_name);
        char *text = s_read_file (path, error, size);
        if (!text) {
            rc = -1;
            break;
        }
        if (self->size == room) {
            room *= 2;
            self->keys = (schalt_key_t *)realloc (self->keys, room * sizeof (schalt_key_t));
            assert (self->keys);
        }
        schalt_key_t *key = &self->keys[self->size];
        rc = schalt_keys_parse (text, path, stem, false, key, NULL, error, size);
        zstr_free (&text);
        if (rc == 0)
            self->size++;
    }
    closedir (handle);
    if (rc == 0) {
        qsort (self->keys, self->size, sizeof (schalt_key_t), s_compare_keys);
        self->by_public = zhashx_new ();
        self->by_name = zhashx_new ();
        for (size_t index = 0; index < self->size && rc == 0; index++) {
            schalt_key_t *key = &self->keys[index];
            const schalt_key_t *twin =
                (const schalt_key_t *)zhashx_lookup (self->by_public, key->public_txt);
            if (twin) {
                snprintf (error, size, "%s/%s.cert: has the same public key as %s/%s.cert", dir,
                          key->name, dir, twin->name);
                rc = -1;
            } else {
                zhashx_insert (self->by_public, key->public_txt, key);
                zhashx_insert (self->by_name, key->name, key);
            }
        }
    }
    if (rc != 0)
        schalt_keys_destroy (&self);
    return self;
}

void
schalt_keys_destroy (schalt_keys_t **self_p)
{
    schalt_keys_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->by_public);
        zhashx_destroy (&self->by_name);
        free (self->keys);
        free (self);
        *self_p = NULL;
    }
}

const schalt_key_t *
schalt_keys_find (schalt_keys_t *self, const char *public_txt)
{
    return public_txt ? (const schalt_key_t *)zhashx_lookup (self->by_public, public_txt) : NULL;
}

const schalt_key_t *
schalt_keys_named (schalt_keys_t *self, const char *name)
{
    return name ? (const schalt_key_t *)zhashx_lookup (self->by_name, name) : NULL;
}

size_t
schalt_keys_size (schalt_keys_t *self)
{
    return self->size;
}

const schalt_key_t *
schalt_keys_at (schalt_keys_t *self, size_t index)
{
    return index < self->size ? &self->keys[index] : NULL;
}

zcert_t *
schalt_keys_load_secret (const char *path, char *error, size_t size)
{
    struct stat info;
    if (stat (path, &info) != 0) {
        snprintf (error, size, "the key %s cannot be used: %s", path, strerror (errno));
        return NULL;
    }
    if (info.st_mode & (S_IRWXO | S_IRWXG)) {
        snprintf (error, size,
                  "the key %s may be read or changed by other users; it must be its owner's "
                  "alone: chmod 600 %s",
                  path, path);
        return NULL;
    }
    char *text = s_read_file (path, error, size);
    if (!text)
        return NULL;
    //  The file's name is the program's choice (scheduler.key, ~/.schalt.key)
    schalt_key_t key;
    byte public_key[32], secret_key[32];
    int rc = schalt_keys_parse (text, path, NULL, true, &key, secret_key, error, size);
    zstr_free (&text);
    if (rc != 0)
        return NULL;
    zmq_z85_decode (public_key, key.public_txt);
    zcert_t *cert = zcert_new_from (public_key, secret_key);
    assert (cert);
    zcert_set_meta (cert, "name", "%s", key.name);
    zcert_set_meta (cert, "role", "%s", key.role);
    return cert;
}

int
schalt_keys_create (const char *name, const char *role, const char *public_path,
                    const char *secret_path, char *error, size_t size)
{
    if (!schalt_key_name_valid (name)) {
        snprintf (error, size,
                  "the name must be 1 to %d of a-z 0-9 . _ -, not starting with . or -",
                  SCHALT_KEY_NAME_MAX);
        return -1;
    }
    if (!schalt_role_valid (role)) {
        snprintf (error, size, "the role must be one of %s", SCHALT_ROLES);
        return -1;
    }
    const char *paths[] = {public_path, secret_path};
    for (int index = 0; index < 2; index++)
        if (access (paths[index], F_OK) == 0) {
            snprintf (error, size, "%s exists already; a key is never overwritten", paths[index]);
            return -1;
        }
    zcert_t *cert = zcert_new ();
    assert (cert);
    char created[32];
    time_t now = time (NULL);
    struct tm utc;
    strftime (created, sizeof (created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&now, &utc));
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "role", "%s", role);
    zcert_set_meta (cert, "created", "%s", created);
    //  The secret is its owner's from its first byte on
    mode_t mask = umask (077);
    int rc = zcert_save_secret (cert, secret_path);
    umask (mask);
    if (rc == 0)
        rc = zcert_save_public (cert, public_path);
    else
        snprintf (error, size, "cannot write %s: %s", secret_path, strerror (errno));
    if (rc != 0 && !error[0])
        snprintf (error, size, "cannot write %s: %s", public_path, strerror (errno));
    if (rc == 0)
        chmod (public_path, 0644);
    else
        remove (secret_path);
    zcert_destroy (&cert);
    return rc == 0 ? 0 : -1;
}

//  --------------------------------------------------------------------------
//  Self test

void
schalt_keys_test (bool verbose)
{
    printf (" * schalt_keys: ");
    if (verbose)
        printf ("\n");
    char error[512] = "";
    assert (schalt_role_valid ("organiser") && schalt_role_valid ("scheduler"));
    assert (!schalt_role_valid ("root") && !schalt_role_valid (NULL));
    assert (schalt_role_is_person ("counsellor") && !schalt_role_is_person ("web"));
    assert (schalt_key_name_valid ("erika.mustermann") && schalt_key_name_valid ("web-1"));
    assert (!schalt_key_name_valid ("") && !schalt_key_name_valid ("-x") &&
            !schalt_key_name_valid ("Erika") && !schalt_key_name_valid ("a/b") &&
            !schalt_key_name_valid (".hidden"));

    char *dir = schalt_test_tempdir ("schalt-keys");
    char *keys = zsys_sprintf ("%s/keys", dir);
    char *secret = zsys_sprintf ("%s/secret", dir);
    zsys_dir_create (keys);
    zsys_dir_create (secret);
    chmod (keys, 0755);

    //  Made keys load; the secret is the owner's alone
    char *admin_public = zsys_sprintf ("%s/admin.cert", keys);
    char *admin_secret = zsys_sprintf ("%s/admin.key", secret);
    assert (schalt_keys_create ("admin", "admin", admin_public, admin_secret, error,
                                sizeof (error)) == 0);
    struct stat info;
    assert (stat (admin_secret, &info) == 0 && (info.st_mode & 0777) == 0600);
    error[0] = 0;
    assert (schalt_keys_create ("admin", "admin", admin_public, admin_secret, error,
                                sizeof (error)) == -1);
    assert (strstr (error, "exists already"));
    assert (schalt_keys_create ("Admin", "admin", "/nonexistent/x", "/nonexistent/y", error,
                                sizeof (error)) == -1);
    assert (schalt_keys_create ("web", "root", "/nonexistent/x", "/nonexistent/y", error,
                                sizeof (error)) == -1);
    assert (strstr (error, "role"));
    char *web_public = zsys_sprintf ("%s/web.cert", keys);
    char *web_secret = zsys_sprintf ("%s/web.key", secret);
    assert (schalt_keys_create ("web", "web", web_public, web_secret, error, sizeof (error)) == 0);
    schalt_test_write (keys, "web.cert~", "backup: passed over");

    schalt_keys_t *table = schalt_keys_load (keys, error, sizeof (error));
    assert (table);
    assert (schalt_keys_size (table) == 2);
    assert (streq (schalt_keys_at (table, 0)->name, "admin"));
    const schalt_key_t *web = schalt_keys_named (table, "web");
    assert (web && streq (web->role, "web"));
    assert (schalt_keys_find (table, web->public_txt) == web);
    assert (schalt_keys_find (table, "nope") == NULL);

    zcert_t *cert = schalt_keys_load_secret (admin_secret, error, sizeof (error));
    assert (cert);
    assert (streq (zcert_meta (cert, "role"), "admin"));
    assert (streq (zcert_public_txt (cert), schalt_keys_named (table, "admin")->public_txt));
    zcert_destroy (&cert);
    schalt_keys_destroy (&table);

    //  A secret readable by others is refused, naming the path
    chmod (admin_secret, 0644);
    assert (!schalt_keys_load_secret (admin_secret, error, sizeof (error)));
    assert (strstr (error, admin_secret) && strstr (error, "chmod 600"));
    chmod (admin_secret, 0600);
    //  A public certificate is not a secret one
    assert (!schalt_keys_load_secret (admin_public, error, sizeof (error)));

    //  Bad certificates: each refuses the whole directory, naming the file
    struct {
        const char *text, *expect;
    } bad[] = {
        {"metadata\n    name = \"bad\"\n    role = \"admin\"\ncurve\n    public-key = \"short\"\n",
         "public-key"},
        {"metadata\n    name = \"bad\"\ncurve\n    public-key = "
         "\"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n",
         "metadata/role is missing"},
        {"metadata\n    name = \"bad\"\n    role = \"root\"\ncurve\n    public-key = "
         "\"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n",
         "metadata/role must be one of"},
        {"metadata\n    name = \"other\"\n    role = \"admin\"\ncurve\n    public-key = "
         "\"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n",
         "named for 'bad'"},
        {"metadata\n    name = \"bad\"\n    role = \"admin\"\ncurve\n    public-key = "
         "\"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n    secret-key = "
         "\"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6\"\n",
         "holds a secret key"},
        {"   this is\n not ZPL\n\t\"", "bad.cert"},
    };
    char *bad_path = zsys_sprintf ("%s/bad.cert", keys);
    for (size_t index = 0; index < sizeof (bad) / sizeof (bad[0]); index++) {
        schalt_test_write (keys, "bad.cert", bad[index].text);
        error[0] = 0;
        assert (schalt_keys_load (keys, error, sizeof (error)) == NULL);
        if (verbose || !strstr (error, bad[index].expect))
            printf ("   case %zu: %s\n", index, error);
        assert (strstr (error, bad[index].expect));
        assert (strstr (error, "bad.cert"));
    }
    //  The same key twice
    remove (bad_path);
    char *twin = zsys_sprintf ("%s/twin.cert", keys);
    char *text = NULL;
    {
        FILE *file = fopen (web_public, "r");
        assert (file);
        text = (char *)zmalloc (4096);
        size_t got = fread (text, 1, 4095, file);
        text[got] = 0;
        fclose (file);
    }
    //  (the name changed to match the file)
    char *copy = zsys_sprintf ("%s", text);
    char *at = strstr (copy, "name = \"web\"");
    *at = 0;
    char *twin_text = zsys_sprintf ("%sname = \"twin\"%s", copy, at + strlen ("name = \"web\""));
    schalt_test_write (keys, "twin.cert", twin_text);
    assert (schalt_keys_load (keys, error, sizeof (error)) == NULL);
    assert (strstr (error, "same public key"));
    remove (twin);
    zstr_free (&twin_text);
    zstr_free (&copy);
    free (text);
    zstr_free (&twin);

    //  The directory: missing, world-writable
    assert (schalt_keys_load ("/nonexistent/keys", error, sizeof (error)) == NULL);
    assert (strstr (error, "/nonexistent/keys"));
    chmod (keys, 0777);
    assert (schalt_keys_load (keys, error, sizeof (error)) == NULL);
    assert (strstr (error, "writable by every user"));
    chmod (keys, 0755);
    table = schalt_keys_load (keys, error, sizeof (error));
    assert (table && schalt_keys_size (table) == 2);
    schalt_keys_destroy (&table);

    zstr_free (&bad_path);
    zstr_free (&admin_public);
    zstr_free (&admin_secret);
    zstr_free (&web_public);
    zstr_free (&web_secret);
    schalt_test_rmtree (dir);
    zstr_free (&keys);
    zstr_free (&secret);
    zstr_free (&dir);
    printf ("OK\n");
}
