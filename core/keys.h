/*
 * core/keys.h: versioned keys for encrypting personal data at rest (names, addresses, phones,
 * emails, dates of birth, free text) with AES-256-GCM, and a keyed hash for looking such
 * values up without decrypting them. Depends on core/crypto and libcrypto (OpenSSL 3).
 *
 * Key file. Text, one key per line, mode 0600 or stricter:
 *
 *     # comments and blank lines are ignored; a comment may also follow a key
 *     v1 <64 hex chars>        AES-256 key, version 1
 *     v2 <64 hex chars>        the highest version is the current one for new encryptions
 *     hmac <64 hex chars>      lookup-hash key: created once, never rotated
 *
 * Versions need not be contiguous (a retired version may be deleted once nothing uses it) but
 * must be unique, in 1..TM_KEYS_VERSION_MAX. Exactly one hmac line is required (anywhere;
 * tm_keys_create() writes it last): lookup hashes index data, so a key set that silently
 * could not produce them is refused at load rather than at first use.
 *
 * Blob (what tm_keys_encrypt() returns, TM_KEYS_OVERHEAD + plaintext bytes):
 *
 *     offset 0   1 byte    format, TM_KEYS_FORMAT (1)
 *            1   4 bytes   key version, big-endian
 *            5   12 bytes  random nonce
 *           17   n bytes   ciphertext
 *         17+n   16 bytes  GCM tag
 *
 * The GCM additional data is the 5 header bytes followed by the bytes of the caller's `aad`
 * string, so the tag covers the format and version as well as the record/field the value
 * belongs to. The layout is stored in databases and must never change; a new layout gets a
 * new format byte.
 *
 * Threads: once loaded, a tm_keys may be used from any number of threads at once for
 * encrypt/decrypt/lookup/current; tm_keys_rotate() and tm_keys_free() need exclusive use.
 */
#ifndef TM_KEYS_H
#define TM_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

#define TM_KEYS_FORMAT 1
#define TM_KEYS_KEY_LEN 32
#define TM_KEYS_HEADER_LEN 5
#define TM_KEYS_NONCE_LEN 12
#define TM_KEYS_TAG_LEN 16
/* Bytes a blob adds to its plaintext: header + nonce + tag = 33. */
#define TM_KEYS_OVERHEAD (TM_KEYS_HEADER_LEN + TM_KEYS_NONCE_LEN + TM_KEYS_TAG_LEN)
#define TM_KEYS_VERSION_MAX 2147483647
/* Largest plaintext tm_keys_encrypt() accepts (OpenSSL counts lengths in int). */
#define TM_KEYS_PLAIN_MAX ((size_t)1 << 30)
/* Hex digits of a lookup hash, without the NUL. */
#define TM_KEYS_HASH_HEX_LEN 64

typedef struct tm_keys tm_keys;

/* Loads the key file at `path` (symlinks are followed; the checks apply to the file itself).
 * On success *out owns a new key set; free it with tm_keys_free(). On failure *out is NULL.
 * Errors (message in `err`, which may be NULL; messages never contain key material):
 *   TM_EINVAL  a NULL argument; not a regular file; any permission bit for group or others
 *              (the message names the mode and the chmod 600 fix); a malformed line (the
 *              message names path and line number: bad syntax, key not 64 hex chars, version
 *              0, out of range or written with a leading zero, duplicate version, second hmac
 *              line); no v<N> line, or no hmac line; a file over 1 MiB.
 *   TM_ENOENT  no such file.
 *   TM_EIO     the file cannot be opened or read.
 *   TM_ENOMEM, TM_ECRYPTO  out of memory; OpenSSL has no AES-256-GCM. */
int tm_keys_load(const char *path, tm_keys **out, struct tm_err *err);

/* Creates a new key file at `path` holding a random v1 key and a random hmac key, mode 0600
 * regardless of umask, written and fsynced (file and directory) before returning. `path` is
 * opened with O_CREAT|O_EXCL, so an existing file or symlink is never touched.
 * If `out` is not NULL, *out receives the new key set (caller frees with tm_keys_free()), or
 * NULL on failure. Errors (message in `err`, may be NULL):
 *   TM_EEXIST  something already exists at path.
 *   TM_EINVAL  path NULL.
 *   TM_EIO     cannot create or write (the partial file is removed).
 *   TM_ECRYPTO, TM_ENOMEM  no randomness; out of memory. */
int tm_keys_create(const char *path, tm_keys **out, struct tm_err *err);

/* Adds version current+1 with a random key to `k` and to the key file at `path`, and stores
 * the new version in *new_version (may be NULL). The file is replaced atomically: the new
 * contents go to "<path>.tmp" (O_EXCL, mode 0600), are fsynced, renamed over path, and the
 * directory is fsynced; comments and other lines are kept, the new line goes after the last
 * v<N> line. `path` should name the file itself: a symlink there is replaced by the new file.
 * `k` gains the key only once the rename is durable, so a blob is never written under a key
 * the file might lack. A failure leaves `k` as it was, and the file too, except when only the
 * final directory fsync fails: then the file may already hold the new version (TM_EIO says
 * so) and the next rotation of this `k` reports TM_EBUSY until the file is reloaded.
 * Concurrent rotations cannot lose a key: "<path>.tmp" doubles as a lock, and the file is
 * re-read under it and must hold exactly the keys in `k`.
 * Errors (message in `err`, may be NULL):
 *   TM_EBUSY   "<path>.tmp" exists (a rotation is running, or one crashed: the message says
 *              to remove it if none is running); or the file no longer matches `k` (another
 *              process rotated it: reload and retry).
 *   TM_EINVAL  NULL k or path; current version already TM_KEYS_VERSION_MAX; or the file at
 *              path fails tm_keys_load()'s checks (TM_ENOENT/TM_EIO likewise pass through).
 *   TM_EIO     writing, fsync or rename failed.
 *   TM_ECRYPTO, TM_ENOMEM  no randomness; out of memory.
 * Not thread-safe with other uses of `k`. */
int tm_keys_rotate(tm_keys *k, const char *path, int *new_version, struct tm_err *err);

/* The current (highest) key version, used by tm_keys_encrypt(); -1 if k is NULL. */
int tm_keys_current(const tm_keys *k);

/* The i-th key version of `k` in ascending order (i from 0), or -1 past the last one or when
 * k is NULL: for walking every version, e.g. to check each against a store. */
int tm_keys_version_at(const tm_keys *k, size_t i);

/* The check value of key version `version` (0: the hmac lookup key): HMAC-SHA256 under that
 * key of the fixed label TM_KEYS_CHECK_LABEL, as 64 lower-case hex chars plus NUL in `out`.
 * It names a key without revealing it or anything derived for another use (the label is used
 * for nothing else), so a store can keep it to recognise its own key file.
 * Returns TM_OK; TM_ENOENT when k has no such version; TM_EINVAL for a NULL argument;
 * TM_ECRYPTO if OpenSSL fails. On failure `out` (if not NULL) holds the empty string. */
#define TM_KEYS_CHECK_LABEL "tallyman key check value v1"
int tm_keys_check_value(const tm_keys *k, int version, char out[TM_KEYS_HASH_HEX_LEN + 1]);

/* Wipes every key byte (OPENSSL_cleanse) and frees `k`. NULL is a no-op. */
void tm_keys_free(tm_keys *k);

/* Encrypts `len` bytes at `plain` (may be NULL when len is 0) with the current key, binding
 * `aad` (NUL-terminated, e.g. "consumer:123:first_name") so the blob decrypts only under the
 * same aad: a ciphertext moved to another field or record fails. Use a non-empty aad naming
 * record and field. The nonce is random, so equal plaintexts give different blobs.
 * On success *out is a malloc'd blob of *outlen = len + TM_KEYS_OVERHEAD bytes (format in the
 * file comment); the caller frees it with free(). On failure *out is NULL and *outlen 0.
 * Errors (message in `err`, may be NULL):
 *   TM_EINVAL  NULL k, aad, out or outlen; plain NULL with len > 0; len > TM_KEYS_PLAIN_MAX
 *              or aad longer than TM_KEYS_PLAIN_MAX.
 *   TM_ENOMEM, TM_ECRYPTO  out of memory; no randomness or an OpenSSL failure. */
int tm_keys_encrypt(const tm_keys *k, const void *plain, size_t len, const char *aad,
                    uint8_t **out, size_t *outlen, struct tm_err *err);

/* Decrypts a blob with the key version it names (old versions stay readable until their data
 * is re-encrypted: compare tm_keys_blob_version() with tm_keys_current() to find such blobs).
 * `aad` must be the string given to tm_keys_encrypt(). On success *out is a malloc'd copy of
 * the plaintext followed by a NUL (the plaintext itself may contain NULs), *outlen (may be
 * NULL) its length without the NUL; the caller frees *out with free(). On failure *out is
 * NULL, *outlen 0, and no plaintext byte is left in memory.
 * Errors (message in `err`, may be NULL):
 *   TM_ECRYPTO  the blob is shorter than TM_KEYS_OVERHEAD, has an unknown format byte, names
 *               a version this key set lacks (the message names it: a newer version means
 *               the key file was rotated since it was loaded), or fails authentication (wrong
 *               key, wrong aad, any modified or truncated byte).
 *   TM_EINVAL  NULL k, aad or out; blob NULL with len > 0.
 *   TM_ENOMEM  out of memory. */
int tm_keys_decrypt(const tm_keys *k, const uint8_t *blob, size_t len, const char *aad,
                    char **out, size_t *outlen, struct tm_err *err);

/* The key version a blob names, or -1 if blob is NULL, shorter than TM_KEYS_OVERHEAD, of an
 * unknown format or names version 0 or one above TM_KEYS_VERSION_MAX. Reads the header only:
 * a valid answer does not mean the blob is authentic. */
int tm_keys_blob_version(const uint8_t *blob, size_t len);

/* Keyed lookup hash of the NUL-terminated `value`: HMAC-SHA256 under the file's hmac key, as
 * 64 lower-case hex chars plus NUL in `out`. Equal values give equal hashes, across rotations
 * and processes, so a column of hashes can be indexed and searched; the caller normalises the
 * value first (E.164 phone, lower-cased email) and, if hashes from different fields must not
 * be comparable, prefixes a field tag ("phone:+15551234567").
 * Returns TM_OK; TM_EINVAL for a NULL argument; TM_ECRYPTO if OpenSSL fails (out of memory).
 * On failure `out` (if not NULL) holds the empty string, never a plausible hash. */
int tm_keys_lookup_hash(const tm_keys *k, const char *value, char out[TM_KEYS_HASH_HEX_LEN + 1]);

/* The same keyed hash as raw bytes (for storing), 32 bytes into out. */
int tm_keys_lookup_raw(const tm_keys *k, const void *value, size_t len, uint8_t out[32]);

#endif
