/*
 * core/keys.c: the key file (load, create, rotate) and AES-256-GCM blobs over it, for personal
 * data at rest (see keys.h for the file and blob formats). Depends on core/crypto and
 * libcrypto (OpenSSL 3 EVP).
 *
 * Design. Every personal field is encrypted on its own, so a blob is small and self-describing:
 * it names its key version, so rotation only adds a key and old blobs stay readable until a
 * re-encryption pass (blob version < current) rewrites them; nothing ever has to be decrypted
 * and re-encrypted at the moment of rotation. GCM's tag covers the header and the caller's aad
 * ("consumer:123:first_name"), so a blob copied into another record or field, or edited, fails
 * to decrypt instead of yielding someone else's data.
 *
 * Nonces are 96 random bits per encryption. With random nonces NIST SP 800-38D caps one key
 * at 2^32 encryptions; a collection book encrypts a few fields per consumer per change, far
 * below that, and rotation resets the count anyway.
 *
 * Equality lookups (find the consumer with this phone number) cannot use the randomised
 * blobs, so a separate HMAC key, never rotated, gives deterministic hashes to index. It is
 * separate from the encryption keys so that it can stay fixed while they rotate.
 *
 * Rotation rewrites the file, which other processes may also hold in memory. Two processes
 * rotating at once would each add a different "v<N+1>" and the loser's blobs would become
 * unreadable, so rotation takes "<path>.tmp" with O_EXCL (it is both the temp file and a
 * lock), re-reads the file under it and refuses unless it holds exactly the keys in memory.
 *
 * Key bytes are wiped when freed, including the file text they were parsed from. Messages
 * never quote a key line, since it would print the key.
 */
#include "keys.h"

#include "hmac.h"
#include "text.h"

#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MAX (1u << 20) /* ~15,000 key lines: far more than any deployment rotates */
#define HEX_KEY_LEN (2 * TM_KEYS_KEY_LEN)

struct key_ver {
    uint32_t version;
    int line; /* line number in the file, for duplicate-version messages */
    uint8_t key[TM_KEYS_KEY_LEN];
};

struct tm_keys {
    struct key_ver *v; /* sorted by version, ascending; never empty once loaded */
    size_t n, cap;
    uint8_t hmac[TM_KEYS_KEY_LEN]; /* always present: load refuses a file without one */
    tm_hmac hmac_ready;            /* the same key, prepared for fast lookup hashes */
    EVP_CIPHER *aes; /* fetched once: an implicit fetch on every call costs a lookup + lock */
};

/* ---- Key set ------------------------------------------------------------------------------ */

static tm_keys *keys_new(void)
{
    tm_keys *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->aes = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!k->aes) {
        free(k);
        return NULL;
    }
    return k;
}

void tm_keys_free(tm_keys *k)
{
    if (!k)
        return;
    if (k->v) {
        OPENSSL_cleanse(k->v, k->cap * sizeof *k->v);
        free(k->v);
    }
    OPENSSL_cleanse(k->hmac, sizeof k->hmac);
    tm_hmac_wipe(&k->hmac_ready);
    EVP_CIPHER_free(k->aes);
    free(k);
}

/* Grows k->v to hold `want` entries. Not realloc(): it would free the old block unwiped. */
static int reserve(tm_keys *k, size_t want)
{
    if (want <= k->cap)
        return TM_OK;
    size_t cap = k->cap ? k->cap * 2 : 4;
    while (cap < want)
        cap *= 2;
    struct key_ver *nv = calloc(cap, sizeof *nv);
    if (!nv)
        return TM_ENOMEM;
    if (k->v) {
        memcpy(nv, k->v, k->n * sizeof *nv);
        OPENSSL_cleanse(k->v, k->cap * sizeof *k->v);
        free(k->v);
    }
    k->v = nv;
    k->cap = cap;
    return TM_OK;
}

static const struct key_ver *find_version(const tm_keys *k, uint32_t version)
{
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->v[mid].version == version)
            return &k->v[mid];
        if (k->v[mid].version < version)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int tm_keys_current(const tm_keys *k)
{
    return k && k->n ? (int)k->v[k->n - 1].version : -1;
}

int tm_keys_version_at(const tm_keys *k, size_t i)
{
    return k && i < k->n ? (int)k->v[i].version : -1;
}

int tm_keys_check_value(const tm_keys *k, int version, char out[TM_KEYS_HASH_HEX_LEN + 1])
{
    if (out)
        out[0] = '\0';
    if (!k || !out)
        return TM_EINVAL;
    const uint8_t *key = k->hmac;
    if (version != 0) {
        const struct key_ver *kv = version > 0 ? find_version(k, (uint32_t)version) : NULL;
        if (!kv)
            return TM_ENOENT;
        key = kv->key;
    }
    uint8_t mac[TM_SHA256_LEN];
    static const char label[] = TM_KEYS_CHECK_LABEL;
    if (tm_hmac_sha256(key, TM_KEYS_KEY_LEN, label, sizeof label - 1, mac) != TM_OK)
        return TM_ECRYPTO;
    tm_hex(mac, sizeof mac, out);
    return TM_OK;
}

/* Same versions, key bytes and hmac key. */
static int same_keys(const tm_keys *a, const tm_keys *b)
{
    if (a->n != b->n || !tm_ct_equal(a->hmac, b->hmac, sizeof a->hmac))
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].version != b->v[i].version ||
            !tm_ct_equal(a->v[i].key, b->v[i].key, TM_KEYS_KEY_LEN))
            return 0;
    return 1;
}

/* ---- Parsing ------------------------------------------------------------------------------ */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int parse_hex_key(const char *s, size_t n, uint8_t out[TM_KEYS_KEY_LEN])
{
    if (n != HEX_KEY_LEN)
        return -1;
    for (size_t i = 0; i < TM_KEYS_KEY_LEN; i++) {
        int hi = tm_text_hex_digit(s[2 * i]), lo = tm_text_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* "v<N>" with N in 1..TM_KEYS_VERSION_MAX, no sign, no leading zero (so "v01" cannot
 * silently name v1). Returns N, or 0 if malformed. */
static uint32_t parse_version(const char *s, size_t n)
{
    if (n < 2 || n > 11 || s[0] != 'v' || s[1] == '0')
        return 0;
    uint64_t v = 0;
    for (size_t i = 1; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v <= TM_KEYS_VERSION_MAX ? (uint32_t)v : 0;
}

static int cmp_ver(const void *a, const void *b)
{
    const struct key_ver *x = a, *y = b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* Parses key-file text into the empty key set k. *insert_at (may be NULL) receives the offset
 * just past the last v<N> line, where rotation adds the next one; *need_nl is set when that
 * line is the last of the file and has no newline. */
static int parse_keys(const char *path, const char *text, size_t len, tm_keys *k,
                      size_t *insert_at, int *need_nl, struct tm_err *err)
{
    int hmac_line = 0, line = 0;
    size_t ins = 0;
    int nl = 0;
    for (size_t pos = 0; pos < len;) {
        const char *p = text + pos;
        const char *eol = memchr(p, '\n', len - pos);
        size_t n = eol ? (size_t)(eol - p) : len - pos;
        size_t next = pos + n + (eol ? 1 : 0);
        line++;
        size_t i = 0;
        while (i < n && is_space(p[i]))
            i++;
        if (i == n || p[i] == '#') {
            pos = next;
            continue;
        }
        size_t t1 = i;
        while (i < n && !is_space(p[i]))
            i++;
        size_t t1n = i - t1;
        while (i < n && is_space(p[i]))
            i++;
        size_t t2 = i;
        while (i < n && !is_space(p[i]))
            i++;
        size_t t2n = i - t2;
        while (i < n && is_space(p[i]))
            i++;
        /* A trailing comment needs whitespace before it, or it would be part of the key. */
        if (t2n == 0 || (i < n && p[i] != '#'))
            return tm_err_set(err, TM_EINVAL,
                              "%s:%d: expected 'v<N> <64 hex digits>' or 'hmac <64 hex digits>'",
                              path, line);
        if (t1n == 4 && memcmp(p + t1, "hmac", 4) == 0) {
            if (hmac_line)
                return tm_err_set(err, TM_EINVAL,
                                  "%s:%d: second hmac line (the first is line %d)", path, line,
                                  hmac_line);
            if (parse_hex_key(p + t2, t2n, k->hmac) != 0)
                return tm_err_set(err, TM_EINVAL,
                                  "%s:%d: the hmac key must be 64 hex digits (32 bytes)", path,
                                  line);
            hmac_line = line;
        } else if (t1n >= 1 && p[t1] == 'v') {
            uint32_t version = parse_version(p + t1, t1n);
            if (version == 0)
                return tm_err_set(err, TM_EINVAL,
                                  "%s:%d: a key version is v1 to v%d, without leading zeros",
                                  path, line, TM_KEYS_VERSION_MAX);
            uint8_t key[TM_KEYS_KEY_LEN];
            int prc = parse_hex_key(p + t2, t2n, key);
            if (prc != 0) {
                OPENSSL_cleanse(key, sizeof key);
                return tm_err_set(err, TM_EINVAL,
                                  "%s:%d: the key must be 64 hex digits (32 bytes)", path, line);
            }
            if (reserve(k, k->n + 1) != TM_OK) {
                OPENSSL_cleanse(key, sizeof key);
                return tm_err_set(err, TM_ENOMEM, "%s: out of memory", path);
            }
            struct key_ver *kv = &k->v[k->n++];
            kv->version = version;
            kv->line = line;
            memcpy(kv->key, key, sizeof key);
            OPENSSL_cleanse(key, sizeof key);
            ins = next;
            nl = eol == NULL;
        } else {
            return tm_err_set(err, TM_EINVAL,
                              "%s:%d: expected 'v<N> <64 hex digits>' or 'hmac <64 hex digits>'",
                              path, line);
        }
        pos = next;
    }
    if (k->n == 0)
        return tm_err_set(err, TM_EINVAL, "%s: no encryption key (no 'v<N> <hex>' line)", path);
    qsort(k->v, k->n, sizeof *k->v, cmp_ver);
    for (size_t i = 1; i < k->n; i++)
        if (k->v[i].version == k->v[i - 1].version)
            return tm_err_set(err, TM_EINVAL, "%s:%d: version v%u appears twice (first on line %d)",
                              path, k->v[i].line, (unsigned)k->v[i].version, k->v[i - 1].line);
    /* Required, not optional: callers index lookup hashes (and derive other keys from them)
     * and a set without the key could only hand them failures to forget to check. */
    if (!hmac_line)
        return tm_err_set(err, TM_EINVAL, "%s: no lookup-hash key (no 'hmac <hex>' line)", path);
    if (insert_at)
        *insert_at = ins;
    if (need_nl)
        *need_nl = nl;
    return TM_OK;
}

/* ---- Files -------------------------------------------------------------------------------- */

static void free_secret(char *buf, size_t len)
{
    if (buf) {
        OPENSSL_cleanse(buf, len);
        free(buf);
    }
}

/* Reads the whole key file after checking, on the open descriptor (no check-then-open race),
 * that it is a regular file no one but its owner can access. *text is malloc'd (free with
 * free_secret(*text, *len)). */
static int read_key_file(const char *path, char **text, size_t *len, struct tm_err *err)
{
    *text = NULL;
    *len = 0;
    /* O_NONBLOCK so that a FIFO planted at path cannot hang us before fstat rejects it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return tm_err_set(err, e == ENOENT ? TM_ENOENT : TM_EIO, "cannot open key file %s: %s",
                          path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return tm_err_set(err, TM_EIO, "cannot stat key file %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return tm_err_set(err, TM_EINVAL, "key file %s is not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return tm_err_set(err, TM_EINVAL,
                          "key file %s has mode %04o: group and others must have no access "
                          "(run: chmod 600 %s)",
                          path, (unsigned)(st.st_mode & 07777), path);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > FILE_MAX) {
        close(fd);
        return tm_err_set(err, TM_EINVAL, "key file %s is larger than %u bytes", path, FILE_MAX);
    }
    /* The size is only a hint: read until EOF, refusing to grow past FILE_MAX. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return tm_err_set(err, TM_ENOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap > FILE_MAX) {
                free_secret(buf, n);
                close(fd);
                return tm_err_set(err, TM_EINVAL, "key file %s is larger than %u bytes", path,
                                  FILE_MAX);
            }
            char *nb = malloc(cap * 2);
            if (!nb) {
                free_secret(buf, n);
                close(fd);
                return tm_err_set(err, TM_ENOMEM, "out of memory reading %s", path);
            }
            memcpy(nb, buf, n);
            free_secret(buf, n);
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free_secret(buf, n);
            close(fd);
            return tm_err_set(err, TM_EIO, "cannot read key file %s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > FILE_MAX) { /* it grew while we read */
        free_secret(buf, n);
        return tm_err_set(err, TM_EINVAL, "key file %s is larger than %u bytes", path, FILE_MAX);
    }
    *text = buf;
    *len = n;
    return TM_OK;
}

static int load_text(const char *path, char **text, size_t *len, tm_keys **out, size_t *ins,
                     int *need_nl, struct tm_err *err)
{
    *out = NULL;
    int rc = read_key_file(path, text, len, err);
    if (rc != TM_OK)
        return rc;
    tm_keys *k = keys_new();
    if (!k) {
        free_secret(*text, *len);
        *text = NULL;
        return tm_err_set(err, TM_ECRYPTO, "cannot set up AES-256-GCM (OpenSSL)");
    }
    rc = parse_keys(path, *text, *len, k, ins, need_nl, err);
    if (rc != TM_OK) {
        tm_keys_free(k);
        free_secret(*text, *len);
        *text = NULL;
        return rc;
    }
    rc = tm_hmac_init(&k->hmac_ready, k->hmac, sizeof k->hmac);
    if (rc != TM_OK) {
        tm_keys_free(k);
        free_secret(*text, *len);
        *text = NULL;
        return tm_err_set(err, TM_ECRYPTO, "%s: cannot prepare the lookup key: %s", path,
                          tm_strerror(rc));
    }
    *out = k;
    return TM_OK;
}

int tm_keys_load(const char *path, tm_keys **out, struct tm_err *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return tm_err_set(err, TM_EINVAL, "tm_keys_load: NULL argument");
    char *text;
    size_t len;
    int rc = load_text(path, &text, &len, out, NULL, NULL, err);
    if (rc == TM_OK)
        free_secret(text, len);
    return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* fsyncs the directory holding `path`, so that a create or rename in it survives a crash. */
static int fsync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Fills `fd` with text, forces mode 0600 whatever the umask did, and fsyncs and closes it.
 * Returns 0, or -1 with errno set (fd closed either way). */
static int write_key_fd(int fd, const char *text, size_t len)
{
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return close(fd);
}

static void hex_line(char *dst, size_t cap, const char *label, const uint8_t key[TM_KEYS_KEY_LEN])
{
    char hex[HEX_KEY_LEN + 1];
    tm_hex(key, TM_KEYS_KEY_LEN, hex);
    snprintf(dst, cap, "%s %s\n", label, hex);
    OPENSSL_cleanse(hex, sizeof hex);
}

static const char file_header[] =
    "# tallyman key file. Keep it secret (mode 0600) and backed up: data encrypted under a\n"
    "# key cannot be read without it. v<N> lines are AES-256-GCM keys, the highest is the\n"
    "# current one; hmac is the lookup-hash key and must never change.\n";

int tm_keys_create(const char *path, tm_keys **out, struct tm_err *err)
{
    if (out)
        *out = NULL;
    if (!path)
        return tm_err_set(err, TM_EINVAL, "tm_keys_create: NULL path");
    uint8_t v1[TM_KEYS_KEY_LEN], hm[TM_KEYS_KEY_LEN];
    char text[sizeof file_header + 2 * (HEX_KEY_LEN + 8)];
    int rc = TM_OK;
    tm_keys *k = NULL;
    if (tm_random_bytes(v1, sizeof v1) != TM_OK || tm_random_bytes(hm, sizeof hm) != TM_OK) {
        rc = tm_err_set(err, TM_ECRYPTO, "no random bytes for a new key");
        goto done;
    }
    size_t off = (size_t)snprintf(text, sizeof text, "%s", file_header);
    hex_line(text + off, sizeof text - off, "v1", v1);
    off += strlen(text + off);
    hex_line(text + off, sizeof text - off, "hmac", hm);
    off += strlen(text + off);

    /* Parse what we are about to write, so the file on disk is by construction one that
     * tm_keys_load() accepts, and the returned set is exactly what it would load. */
    if (!(k = keys_new())) {
        rc = tm_err_set(err, TM_ECRYPTO, "cannot set up AES-256-GCM (OpenSSL)");
        goto done;
    }
    rc = parse_keys(path, text, off, k, NULL, NULL, err);
    if (rc != TM_OK)
        goto done;

    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        int e = errno;
        rc = tm_err_set(err, e == EEXIST ? TM_EEXIST : TM_EIO, "cannot create key file %s: %s",
                        path, strerror(e));
        goto done;
    }
    if (write_key_fd(fd, text, off) != 0 || fsync_dir(path) != 0) {
        int e = errno;
        unlink(path);
        rc = tm_err_set(err, TM_EIO, "cannot write key file %s: %s", path, strerror(e));
        goto done;
    }
done:
    OPENSSL_cleanse(v1, sizeof v1);
    OPENSSL_cleanse(hm, sizeof hm);
    OPENSSL_cleanse(text, sizeof text);
    if (rc == TM_OK && out && (rc = tm_hmac_init(&k->hmac_ready, k->hmac, sizeof k->hmac)) != TM_OK)
        rc = tm_err_set(err, TM_ECRYPTO, "%s: cannot prepare the lookup key: %s", path,
                        tm_strerror(rc));
    if (rc == TM_OK && out) {
        *out = k;
    } else {
        tm_keys_free(k);
    }
    return rc;
}

int tm_keys_rotate(tm_keys *k, const char *path, int *new_version, struct tm_err *err)
{
    if (!k || !path)
        return tm_err_set(err, TM_EINVAL, "tm_keys_rotate: NULL argument");
    int cur = tm_keys_current(k);
    if (cur < 0 || cur >= TM_KEYS_VERSION_MAX)
        return tm_err_set(err, TM_EINVAL, "no key version left after v%d", cur);
    /* Make room first, so nothing can fail after the rename has made the key visible. */
    if (reserve(k, k->n + 1) != TM_OK)
        return tm_err_set(err, TM_ENOMEM, "out of memory");

    int rc = TM_OK;
    char *tmp = NULL, *text = NULL, *ntext = NULL;
    size_t len = 0, nlen = 0, ins = 0;
    int need_nl = 0, have_tmp = 0;
    tm_keys *disk = NULL;
    uint8_t key[TM_KEYS_KEY_LEN];
    char line[HEX_KEY_LEN + 24]; /* "v2147483647 " + hex + "\n" + NUL, with room */
    char label[16];
    snprintf(label, sizeof label, "v%d", cur + 1);

    if (tm_random_bytes(key, sizeof key) != TM_OK) {
        rc = tm_err_set(err, TM_ECRYPTO, "no random bytes for a new key");
        goto done;
    }
    size_t plen = strlen(path);
    if (!(tmp = malloc(plen + 5))) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        int e = errno;
        if (e == EEXIST)
            rc = tm_err_set(err, TM_EBUSY,
                            "%s exists: another rotation is running, or one crashed; remove it "
                            "if no rotation is running",
                            tmp);
        else
            rc = tm_err_set(err, TM_EIO, "cannot create %s: %s", tmp, strerror(e));
        goto done;
    }
    have_tmp = 1;

    rc = load_text(path, &text, &len, &disk, &ins, &need_nl, err);
    if (rc != TM_OK) {
        close(fd);
        goto done;
    }
    if (!same_keys(k, disk)) {
        close(fd);
        rc = tm_err_set(err, TM_EBUSY,
                        "key file %s changed since it was loaded (rotated elsewhere?): reload "
                        "it and retry",
                        path);
        goto done;
    }

    hex_line(line, sizeof line, label, key);
    size_t llen = strlen(line);
    nlen = len + (size_t)need_nl + llen;
    if (!(ntext = malloc(nlen))) {
        close(fd);
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(ntext, text, ins);
    if (need_nl)
        ntext[ins] = '\n';
    memcpy(ntext + ins + (size_t)need_nl, line, llen);
    memcpy(ntext + ins + (size_t)need_nl + llen, text + ins, len - ins);

    if (write_key_fd(fd, ntext, nlen) != 0) {
        rc = tm_err_set(err, TM_EIO, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    if (rename(tmp, path) != 0) {
        rc = tm_err_set(err, TM_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto done;
    }
    have_tmp = 0;
    /* Until the directory is synced the rename may not survive a crash, and a blob written
     * under the new key would then be unreadable; so k gains the key only after this. */
    if (fsync_dir(path) != 0) {
        rc = tm_err_set(err, TM_EIO,
                        "wrote %s but could not sync its directory (%s); not using the new key: "
                        "reload the file",
                        path, strerror(errno));
        goto done;
    }
    struct key_ver *kv = &k->v[k->n++];
    kv->version = (uint32_t)(cur + 1);
    kv->line = 0;
    memcpy(kv->key, key, sizeof key);
    if (new_version)
        *new_version = cur + 1;
done:
    if (have_tmp)
        unlink(tmp);
    free(tmp);
    free_secret(text, len);
    free_secret(ntext, nlen);
    tm_keys_free(disk);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(line, sizeof line);
    return rc;
}

/* ---- Blobs -------------------------------------------------------------------------------- */

static void put_header(uint8_t h[TM_KEYS_HEADER_LEN], uint32_t version)
{
    h[0] = TM_KEYS_FORMAT;
    h[1] = (uint8_t)(version >> 24);
    h[2] = (uint8_t)(version >> 16);
    h[3] = (uint8_t)(version >> 8);
    h[4] = (uint8_t)version;
}

int tm_keys_blob_version(const uint8_t *blob, size_t len)
{
    if (!blob || len < TM_KEYS_OVERHEAD || blob[0] != TM_KEYS_FORMAT)
        return -1;
    uint32_t v = (uint32_t)blob[1] << 24 | (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 8 |
                 (uint32_t)blob[4];
    return v >= 1 && v <= TM_KEYS_VERSION_MAX ? (int)v : -1;
}

int tm_keys_encrypt(const tm_keys *k, const void *plain, size_t len, const char *aad,
                    uint8_t **out, size_t *outlen, struct tm_err *err)
{
    if (out)
        *out = NULL;
    if (outlen)
        *outlen = 0;
    if (!k || !k->n || !aad || !out || !outlen || (!plain && len))
        return tm_err_set(err, TM_EINVAL, "tm_keys_encrypt: NULL argument");
    size_t aadlen = strlen(aad);
    if (len > TM_KEYS_PLAIN_MAX || aadlen > TM_KEYS_PLAIN_MAX)
        return tm_err_set(err, TM_EINVAL, "tm_keys_encrypt: value or aad too long");
    const struct key_ver *kv = &k->v[k->n - 1];
    size_t total = len + TM_KEYS_OVERHEAD;
    uint8_t *blob = malloc(total);
    if (!blob)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    uint8_t *nonce = blob + TM_KEYS_HEADER_LEN;
    uint8_t *ct = nonce + TM_KEYS_NONCE_LEN;
    put_header(blob, kv->version);
    if (tm_random_nonce(nonce, TM_KEYS_NONCE_LEN) != TM_OK) {
        free(blob);
        return tm_err_set(err, TM_ECRYPTO, "no random bytes for a nonce");
    }
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, n2 = 0;
    int ok = ctx && EVP_EncryptInit_ex2(ctx, k->aes, kv->key, nonce, NULL) == 1 &&
             EVP_EncryptUpdate(ctx, NULL, &n, blob, TM_KEYS_HEADER_LEN) == 1 &&
             (aadlen == 0 ||
              EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)aadlen) == 1) &&
             (len == 0 || EVP_EncryptUpdate(ctx, ct, &n, plain, (int)len) == 1) &&
             (len == 0 || (size_t)n == len) && EVP_EncryptFinal_ex(ctx, ct + len, &n2) == 1 &&
             n2 == 0 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TM_KEYS_TAG_LEN, ct + len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        free(blob);
        return tm_err_set(err, TM_ECRYPTO, "AES-256-GCM encryption failed (OpenSSL)");
    }
    *out = blob;
    *outlen = total;
    return TM_OK;
}

int tm_keys_decrypt(const tm_keys *k, const uint8_t *blob, size_t len, const char *aad,
                    char **out, size_t *outlen, struct tm_err *err)
{
    if (out)
        *out = NULL;
    if (outlen)
        *outlen = 0;
    if (!k || !aad || !out || (!blob && len))
        return tm_err_set(err, TM_EINVAL, "tm_keys_decrypt: NULL argument");
    if (len < TM_KEYS_OVERHEAD)
        return tm_err_set(err, TM_ECRYPTO, "encrypted value too short (%zu bytes, at least %d)",
                          len, TM_KEYS_OVERHEAD);
    if (blob[0] != TM_KEYS_FORMAT)
        return tm_err_set(err, TM_ECRYPTO, "encrypted value has unknown format %u",
                          (unsigned)blob[0]);
    uint32_t version = (uint32_t)blob[1] << 24 | (uint32_t)blob[2] << 16 |
                       (uint32_t)blob[3] << 8 | (uint32_t)blob[4];
    const struct key_ver *kv = find_version(k, version);
    if (!kv)
        return tm_err_set(err, TM_ECRYPTO,
                          "encrypted value uses key version v%u, which the key file lacks "
                          "(current is v%d; reload the key file if it was rotated)",
                          (unsigned)version, tm_keys_current(k));
    size_t ctlen = len - TM_KEYS_OVERHEAD;
    size_t aadlen = strlen(aad);
    if (ctlen > TM_KEYS_PLAIN_MAX || aadlen > TM_KEYS_PLAIN_MAX)
        return tm_err_set(err, TM_ECRYPTO, "encrypted value or aad too long");
    const uint8_t *nonce = blob + TM_KEYS_HEADER_LEN;
    const uint8_t *ct = nonce + TM_KEYS_NONCE_LEN;
    /* The ctrl call takes a non-const pointer; a copy avoids casting away const. */
    uint8_t tag[TM_KEYS_TAG_LEN];
    memcpy(tag, ct + ctlen, sizeof tag);
    char *plain = malloc(ctlen + 1);
    if (!plain)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, n2 = 0;
    int ok = ctx && EVP_DecryptInit_ex2(ctx, k->aes, kv->key, nonce, NULL) == 1 &&
             EVP_DecryptUpdate(ctx, NULL, &n, blob, TM_KEYS_HEADER_LEN) == 1 &&
             (aadlen == 0 ||
              EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)aadlen) == 1) &&
             (ctlen == 0 || EVP_DecryptUpdate(ctx, (uint8_t *)plain, &n, ct, (int)ctlen) == 1) &&
             (ctlen == 0 || (size_t)n == ctlen) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TM_KEYS_TAG_LEN, tag) == 1 &&
             EVP_DecryptFinal_ex(ctx, (uint8_t *)plain + ctlen, &n2) == 1 && n2 == 0;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        /* GCM hands out plaintext before checking the tag: wipe what it wrote. */
        ERR_clear_error();
        free_secret(plain, ctlen + 1);
        return tm_err_set(err, TM_ECRYPTO,
                          "encrypted value rejected: wrong aad or key, or the value was modified");
    }
    plain[ctlen] = '\0';
    *out = plain;
    if (outlen)
        *outlen = ctlen;
    return TM_OK;
}

/* ---- Lookup hash -------------------------------------------------------------------------- */

int tm_keys_lookup_raw(const tm_keys *k, const void *value, size_t len, uint8_t out[32])
{
    if (!k || (!value && len) || !out)
        return TM_EINVAL;
    return tm_hmac_mac(&k->hmac_ready, value, len, out) == TM_OK ? TM_OK : TM_ECRYPTO;
}

int tm_keys_lookup_hash(const tm_keys *k, const char *value, char out[TM_KEYS_HASH_HEX_LEN + 1])
{
    if (out)
        out[0] = '\0';
    if (!k || !value || !out)
        return TM_EINVAL;
    uint8_t md[TM_SHA256_LEN];
    /* The prepared key: this runs several times for every imported row. */
    if (tm_hmac_mac(&k->hmac_ready, value, strlen(value), md) != TM_OK)
        return TM_ECRYPTO;
    tm_hex(md, sizeof md, out);
    return TM_OK;
}
