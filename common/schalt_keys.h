/*  schalt_keys - who may talk to a daemon: CURVE certificates, the keys
    directory and the roles.

    Every program has a key pair. Its public half, with the key's name and
    role in the certificate's metadata, is one file in the keys directory
    (schaltstelle/keys): NAME.cert, in czmq's certificate format (zcert).
    A daemon accepts a connection only from a key in that directory, and a
    command only from a role its declaration names (schalt_server.h). The
    secret half stays with its owner, in a file only the owner can read.

    Roles are those of people (admin, organiser, group-lead, counsellor),
    of the web front (web) and one per daemon that sends to another
    (scheduler, registry, notifier).

    This file reads and checks the directory and certificates strictly: a
    directory that is missing or writable by everyone, a file that is not a
    certificate, a name that differs from its file's, a missing or unknown
    role, a secret key where only public ones belong, or a key listed twice
    is refused with an error that names the file and what is wrong.
*/
#ifndef SCHALT_KEYS_H_INCLUDED
#define SCHALT_KEYS_H_INCLUDED

#include <czmq.h>

#define SCHALT_KEY_NAME_MAX 64
#define SCHALT_ROLE_MAX 16
#define SCHALT_KEY_TEXT 40 //  a key in Z85 text
//  Largest certificate file read (a real one is about 400 octets)
#define SCHALT_CERT_FILE_MAX 16384

//  One allowed key: its name, role and public key (Z85).
typedef struct {
    char name[SCHALT_KEY_NAME_MAX + 1];
    char role[SCHALT_ROLE_MAX + 1];
    char public_txt[SCHALT_KEY_TEXT + 1];
} schalt_key_t;

typedef struct _schalt_keys_t schalt_keys_t;

//  The roles, as one '|'-separated list, for help texts and errors.
#define SCHALT_ROLES "admin|organiser|group-lead|counsellor|web|scheduler|registry|notifier"

//  True if role is one of SCHALT_ROLES.
bool schalt_role_valid (const char *role);

//  True if role is a person's (admin, organiser, group-lead, counsellor):
//  one the web front may act for.
bool schalt_role_is_person (const char *role);

//  True if name can name a key: 1 to 64 of a-z 0-9 . _ -, not starting
//  with '.' or '-'.
bool schalt_key_name_valid (const char *name);

//  Reads a certificate's text. If secret, it must hold the secret key too
//  (which goes to secret_key, 32 octets); else it must not. file is the
//  file's name for errors, and the name in the metadata must be its stem
//  (NAME of NAME.cert or NAME.key) unless stem is NULL. Returns 0, or -1
//  with error naming what is wrong.
int schalt_keys_parse (const char *text, const char *file, const char *stem, bool secret,
                       schalt_key_t *key, byte *secret_key, char *error, size_t size);

//  Loads the keys directory: every NAME.cert in it (other names, such as
//  an editor's backups, are passed over). Returns NULL, with error naming
//  the path and what is wrong, if the directory or any certificate in it
//  is bad: then nothing of it is used.
schalt_keys_t *schalt_keys_load (const char *dir, char *error, size_t size);

void schalt_keys_destroy (schalt_keys_t **self_p);

//  The key with this public key (Z85), or NULL. Borrowed.
const schalt_key_t *schalt_keys_find (schalt_keys_t *self, const char *public_txt);

//  The key of this name, or NULL. Borrowed.
const schalt_key_t *schalt_keys_named (schalt_keys_t *self, const char *name);

//  How many keys; the key at index (in name order), for listings.
size_t schalt_keys_size (schalt_keys_t *self);
const schalt_key_t *schalt_keys_at (schalt_keys_t *self, size_t index);

//  Loads a secret certificate (a program's own key pair) from path: it must
//  be its owner's only (no permission for the group or others: mode 600 or
//  400). Returns the certificate, with its name and role as metadata,
//  or NULL with error naming the path and what is wrong.
zcert_t *schalt_keys_load_secret (const char *path, char *error, size_t size);

//  Makes a key pair for name and role: writes the public certificate to
//  public_path and the secret one to secret_path (mode 0600); neither may
//  exist yet. Returns 0, or -1 with error.
int schalt_keys_create (const char *name, const char *role, const char *public_path,
                        const char *secret_path, char *error, size_t size);

//  Self test.
void schalt_keys_test (bool verbose);

#endif
