/*
 * tests/unit/test_keys.c: key files (load, create, rotate) and the AES-256-GCM blobs.
 *
 * Each test works in its own directory under one /tmp/tm_keys.XXXXXX per run, which the parent
 * removes when the run ends. Frozen blobs and a lookup hash computed independently with Python's
 * `cryptography` and `hmac` modules pin the on-disk format: a change that still round-trips
 * with itself but cannot read stored data fails here.
 */
#include "harness.h"

#include "crypto.h"
#include "keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

/* Known keys: K1 = bytes 00..1f, K2 = 20..3f, K3 = 60..7f, HK = 40..5f. */
#define K1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define K3 "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
#define HK "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"

/* ---- Helpers ------------------------------------------------------------------------------ */

/* One base directory per run, made by the parent before any test forks and removed by it at
 * exit (the runner ends a passing child with _exit(), which skips atexit handlers); each test
 * child works in its own subdirectory of it. */
static char basedir[64];
static char tmpdir[128];
static pid_t parent_pid;

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void remove_basedir(void)
{
    if (getpid() == parent_pid)
        remove_tree(basedir);
}

__attribute__((constructor)) static void make_basedir(void)
{
    snprintf(basedir, sizeof basedir, "/tmp/tm_keys.XXXXXX");
    if (!mkdtemp(basedir)) {
        perror("mkdtemp");
        exit(1);
    }
    parent_pid = getpid();
    atexit(remove_basedir);
}

/* "<this test's directory>/<name>", in one of four rotating static buffers. */
static const char *tpath(const char *name)
{
    static char bufs[4][512];
    static int slot;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "%s/t.XXXXXX", basedir);
        ASSERT(mkdtemp(tmpdir) != NULL);
    }
    char *b = bufs[slot++ % 4];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(fd >= 0);
    ASSERT_EQ(fchmod(fd, mode), 0);
    size_t n = strlen(text);
    ASSERT_EQ(write(fd, text, n), (long long)n);
    ASSERT_EQ(close(fd), 0);
}

/* The whole file as a NUL-terminated malloc'd string. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    char *buf = malloc(1 << 16);
    ASSERT(buf != NULL);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int file_mode(const char *path)
{
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    return (int)(st.st_mode & 07777);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Loads `text` (written mode 0600) as a key set, asserting success. */
static tm_keys *keys_from(const char *text)
{
    const char *p = tpath("fixed.key");
    write_file(p, text, 0600);
    tm_keys *k = NULL;
    struct tm_err err = {0};
    if (tm_keys_load(p, &k, &err) != TM_OK)
        TM_FAIL_("tm_keys_load: %s", err.msg);
    return k;
}

/* Expects `text` to be refused with TM_EINVAL and a message naming `line` (0: no line). */
static void expect_malformed(const char *text, int line, const char *fragment)
{
    const char *p = tpath("bad.key");
    write_file(p, text, 0600);
    tm_keys *k = (tm_keys *)1;
    struct tm_err err = {0};
    int rc = tm_keys_load(p, &k, &err);
    if (rc != TM_EINVAL)
        TM_FAIL_("expected TM_EINVAL for %s, got %d (%s)", text, rc, err.msg);
    ASSERT(k == NULL);
    ASSERT_CONTAINS(err.msg, p);
    if (line) {
        char want[32];
        snprintf(want, sizeof want, ".key:%d:", line);
        ASSERT_CONTAINS(err.msg, want);
    }
    if (fragment)
        ASSERT_CONTAINS(err.msg, fragment);
    /* A message must never quote key material. */
    ASSERT(strstr(err.msg, "0102030405") == NULL);
    ASSERT(strstr(err.msg, "2122232425") == NULL);
}

static void from_hex(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ASSERT_EQ(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static uint8_t *enc(const tm_keys *k, const char *plain, const char *aad, size_t *len)
{
    uint8_t *blob = NULL;
    struct tm_err err = {0};
    if (tm_keys_encrypt(k, plain, strlen(plain), aad, &blob, len, &err) != TM_OK)
        TM_FAIL_("tm_keys_encrypt: %s", err.msg);
    return blob;
}

/* Decrypts and compares with `want`, asserting success. */
static void expect_dec(const tm_keys *k, const uint8_t *blob, size_t len, const char *aad,
                       const char *want)
{
    char *out = NULL;
    size_t outlen = 99;
    struct tm_err err = {0};
    if (tm_keys_decrypt(k, blob, len, aad, &out, &outlen, &err) != TM_OK)
        TM_FAIL_("tm_keys_decrypt: %s", err.msg);
    ASSERT_EQ(outlen, strlen(want));
    ASSERT_STR_EQ(out, want);
    free(out);
}

/* Expects decryption to fail with TM_ECRYPTO, leaving *out NULL and *outlen 0. */
static void expect_dec_fail(const tm_keys *k, const uint8_t *blob, size_t len, const char *aad,
                            struct tm_err *err)
{
    char *out = (char *)1;
    size_t outlen = 99;
    int rc = tm_keys_decrypt(k, blob, len, aad, &out, &outlen, err);
    if (rc != TM_ECRYPTO)
        TM_FAIL_("expected TM_ECRYPTO, got %d", rc);
    ASSERT(out == NULL);
    ASSERT_EQ(outlen, 0);
}

static tm_keys *create_keys(const char *path)
{
    tm_keys *k = NULL;
    struct tm_err err = {0};
    if (tm_keys_create(path, &k, &err) != TM_OK)
        TM_FAIL_("tm_keys_create: %s", err.msg);
    return k;
}

static tm_keys *load_keys(const char *path)
{
    tm_keys *k = NULL;
    struct tm_err err = {0};
    if (tm_keys_load(path, &k, &err) != TM_OK)
        TM_FAIL_("tm_keys_load: %s", err.msg);
    return k;
}

static const char three_keys[] = "v1 " K1 "\nv2 " K2 "\nv3 " K3 "\nhmac " HK "\n";

/* ---- Create and load ---------------------------------------------------------------------- */

TEST(create_writes_0600_whatever_the_umask_and_loads_back)
{
    const mode_t masks[] = {0, 022, 0277};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%zu.key", i);
        const char *p = tpath(name);
        mode_t old = umask(masks[i]);
        tm_keys *k = create_keys(p);
        umask(old);
        ASSERT_EQ(file_mode(p), 0600);
        ASSERT_EQ(tm_keys_current(k), 1);
        char *text = slurp(p);
        ASSERT(text[0] == '#');
        ASSERT_CONTAINS(text, "\nv1 ");
        ASSERT_CONTAINS(text, "\nhmac ");
        free(text);

        tm_keys *again = load_keys(p);
        ASSERT_EQ(tm_keys_current(again), 1);
        size_t len;
        uint8_t *blob = enc(k, "Ada Lovelace", "consumer:1:name", &len);
        expect_dec(again, blob, len, "consumer:1:name", "Ada Lovelace");
        char h1[65], h2[65];
        ASSERT_OK(tm_keys_lookup_hash(k, "ada@example.com", h1));
        ASSERT_OK(tm_keys_lookup_hash(again, "ada@example.com", h2));
        ASSERT_STR_EQ(h1, h2);
        free(blob);
        tm_keys_free(k);
        tm_keys_free(again);
    }
}

TEST(create_refuses_existing_file_and_symlink)
{
    const char *p = tpath("exists.key");
    write_file(p, "precious\n", 0600);
    tm_keys *k = (tm_keys *)1;
    struct tm_err err = {0};
    ASSERT_EQ(tm_keys_create(p, &k, &err), TM_EEXIST);
    ASSERT(k == NULL);
    ASSERT_CONTAINS(err.msg, p);
    char *text = slurp(p);
    ASSERT_STR_EQ(text, "precious\n");
    free(text);

    /* A dangling symlink must not be followed to create its target. */
    const char *link = tpath("link.key"), *target = tpath("target.key");
    ASSERT_EQ(symlink(target, link), 0);
    ASSERT_EQ(tm_keys_create(link, NULL, &err), TM_EEXIST);
    ASSERT(!exists(target));

    /* A second create of a fresh path succeeds once, then refuses. */
    const char *q = tpath("once.key");
    ASSERT_OK(tm_keys_create(q, NULL, NULL));
    char *first = slurp(q);
    ASSERT_EQ(tm_keys_create(q, NULL, NULL), TM_EEXIST);
    char *second = slurp(q);
    ASSERT_STR_EQ(first, second);
    free(first);
    free(second);
}

TEST(create_in_missing_directory_fails)
{
    struct tm_err err = {0};
    tm_keys *k = (tm_keys *)1;
    ASSERT_EQ(tm_keys_create(tpath("no/such/dir.key"), &k, &err), TM_EIO);
    ASSERT(k == NULL);
    ASSERT_EQ(tm_keys_create(NULL, NULL, &err), TM_EINVAL);
}

TEST(created_keys_are_random)
{
    const char *a = tpath("a.key"), *b = tpath("b.key");
    ASSERT_OK(tm_keys_create(a, NULL, NULL));
    ASSERT_OK(tm_keys_create(b, NULL, NULL));
    char *ta = slurp(a), *tb = slurp(b);
    ASSERT(strcmp(ta, tb) != 0);
    /* v1 and hmac differ within one file too. */
    const char *v1 = strstr(ta, "\nv1 "), *hm = strstr(ta, "\nhmac ");
    ASSERT(v1 && hm);
    ASSERT(strncmp(v1 + 4, hm + 6, 64) != 0);
    free(ta);
    free(tb);
}

TEST(load_refuses_group_or_other_access)
{
    const mode_t bad[] = {0644, 0640, 0604, 0660, 0620, 0602, 0601, 0610, 0666, 0777};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = tpath("perm.key");
        write_file(p, three_keys, bad[i]);
        tm_keys *k = (tm_keys *)1;
        struct tm_err err = {0};
        ASSERT_EQ(tm_keys_load(p, &k, &err), TM_EINVAL);
        ASSERT(k == NULL);
        char mode[8];
        snprintf(mode, sizeof mode, "%04o", (unsigned)bad[i]);
        ASSERT_CONTAINS(err.msg, mode);
        ASSERT_CONTAINS(err.msg, "chmod 600");
        ASSERT_CONTAINS(err.msg, p);
    }
    const mode_t good[] = {0600, 0400, 0700};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *p = tpath("perm.key");
        write_file(p, three_keys, good[i]);
        tm_keys *k = load_keys(p);
        ASSERT_EQ(tm_keys_current(k), 3);
        tm_keys_free(k);
    }
}

TEST(load_refuses_missing_directory_and_fifo)
{
    struct tm_err err = {0};
    tm_keys *k = (tm_keys *)1;
    ASSERT_EQ(tm_keys_load(tpath("missing.key"), &k, &err), TM_ENOENT);
    ASSERT(k == NULL);
    ASSERT_CONTAINS(err.msg, "missing.key");

    const char *d = tpath("dir.key");
    ASSERT_EQ(mkdir(d, 0700), 0);
    ASSERT_EQ(tm_keys_load(d, &k, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "not a regular file");
    rmdir(d);

    /* A FIFO with no writer would block a plain open(); it must be refused at once. */
    const char *f = tpath("fifo.key");
    ASSERT_EQ(mkfifo(f, 0600), 0);
    ASSERT_EQ(tm_keys_load(f, &k, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "not a regular file");

    ASSERT_EQ(tm_keys_load(NULL, &k, &err), TM_EINVAL);
    ASSERT_EQ(tm_keys_load(f, NULL, &err), TM_EINVAL);
}

TEST(load_accepts_comments_blank_lines_crlf_gaps_and_uppercase)
{
    char text[1024];
    char k2upper[65];
    snprintf(k2upper, sizeof k2upper, "%s", K2);
    for (char *c = k2upper; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    snprintf(text, sizeof text,
             "# tallyman keys\n"
             "\n"
             "   # indented comment\n"
             "v2 %s   # upper-case hex\r\n"
             "\t\n"
             "  v5\t" K3 "\r\n"
             "hmac " HK,
             k2upper);
    tm_keys *k = keys_from(text);
    ASSERT_EQ(tm_keys_current(k), 5);
    /* The frozen v2 blob (below) decrypts, so the upper-case key parsed to the same bytes. */
    uint8_t blob[47];
    from_hex("0100000002a0a1a2a3a4a5a6a7a8a9aaab345dca51e486ae8af15dcfd64f3ed568228dca43f5"
             "71dacfba2d4b10ad61",
             blob, sizeof blob);
    expect_dec(k, blob, sizeof blob, "consumer:42:full_name", "Jane Q. Public");
    tm_keys_free(k);
}

TEST(load_malformed_lines_name_the_line)
{
    expect_malformed("v1 " K1 "\nv2 0123\n", 2, "64 hex");
    expect_malformed("# c\n\nv1 " K1 "x\n", 3, "64 hex");
    expect_malformed("v1 " K1 "\nv2 " K2 "0\n", 2, "64 hex");
    expect_malformed("v1 " K1 "\nv2 g" K2 "\n", 2, "64 hex"); /* 65 chars */
    expect_malformed("v1 0g02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 1,
                     "64 hex");
    expect_malformed("v1 " K1 "\nv0 " K2 "\n", 2, "v1 to v2147483647");
    expect_malformed("v01 " K1 "\n", 1, "leading zeros");
    expect_malformed("v-1 " K1 "\n", 1, "v1 to");
    expect_malformed("v+1 " K1 "\n", 1, "v1 to");
    expect_malformed("v2147483648 " K1 "\n", 1, "v1 to");
    expect_malformed("v99999999999 " K1 "\n", 1, "v1 to");
    expect_malformed("v " K1 "\n", 1, "v1 to");
    expect_malformed("k1 " K1 "\n", 1, "expected 'v<N>");
    expect_malformed("v1\n", 1, "expected 'v<N>");
    expect_malformed("v1" K1 "\n", 1, "expected 'v<N>");
    expect_malformed("v1 " K1 " extra\n", 1, "expected 'v<N>");
    expect_malformed("v1 " K1 "#no space before comment\n", 1, "64 hex");
    expect_malformed("hmac\n", 1, "expected 'v<N>");
    expect_malformed("HMAC " HK "\nv1 " K1 "\n", 1, "expected 'v<N>");
    expect_malformed("v1 " K1 "\nhmac 00\n", 2, "hmac key must be 64 hex");
    expect_malformed("v1 " K1 "\nhmac " HK "\n# x\nhmac " HK "\n", 4, "first is line 2");
    expect_malformed("v1 " K1 "\nv2 " K2 "\n\nv1 " K3 "\n", 4,
                     "v1 appears twice (first on line 1)");
    /* Duplicates report the later line whatever the order of versions in the file. */
    expect_malformed("v7 " K1 "\nv2 " K2 "\nv7 " K3 "\n", 3, "v7 appears twice");
    /* A control character is not whitespace. */
    expect_malformed("v1 " K1 "\n\x01v2 " K2 "\n", 2, NULL);
    /* Nor is a NUL byte, which a C-string parser would take for the end of the file. */
    const char nul[] = "v1 " K1 "\nv2\0 " K2 "\n";
    const char *p = tpath("nul.key");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, nul, sizeof nul - 1), (long long)(sizeof nul - 1));
    ASSERT_EQ(close(fd), 0);
    tm_keys *k = NULL;
    struct tm_err err = {0};
    ASSERT_EQ(tm_keys_load(p, &k, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "nul.key:2:");
    /* No key at all. */
    expect_malformed("", 0, "no encryption key");
    expect_malformed("# only comments\n\nhmac " HK "\n", 0, "no encryption key");
}

TEST(load_requires_an_hmac_line)
{
    /* Callers index lookup hashes and cannot get one without the key: refused at load. */
    expect_malformed("v1 " K1 "\n", 0, "no lookup-hash key");
    expect_malformed("v1 " K1 "\n# hmac " HK "\n", 0, "no 'hmac <hex>' line");
    tm_keys *k = keys_from("hmac " HK "\nv1 " K1 "\n"); /* any position will do */
    char h[65];
    ASSERT_OK(tm_keys_lookup_hash(k, "x", h));
    tm_keys_free(k);
}

/* ---- Blobs -------------------------------------------------------------------------------- */

/* Blobs made by Python's `cryptography` AESGCM with the documented layout and aad rule. */
TEST(frozen_blobs_decrypt)
{
    tm_keys *k = keys_from(three_keys);
    uint8_t b2[47];
    from_hex("0100000002a0a1a2a3a4a5a6a7a8a9aaab345dca51e486ae8af15dcfd64f3ed568228dca43f5"
             "71dacfba2d4b10ad61",
             b2, sizeof b2);
    ASSERT_EQ(tm_keys_blob_version(b2, sizeof b2), 2);
    expect_dec(k, b2, sizeof b2, "consumer:42:full_name", "Jane Q. Public");
    /* Empty plaintext under v1, all-zero nonce. */
    uint8_t b1[33];
    from_hex("01000000010000000000000000000000008741a958a0934e76ed6a71509634d564", b1,
             sizeof b1);
    expect_dec(k, b1, sizeof b1, "consumer:7:notes", "");
    struct tm_err err = {0};
    expect_dec_fail(k, b1, sizeof b1, "consumer:7:note", &err);
    tm_keys_free(k);
}

TEST(round_trip_many_lengths)
{
    tm_keys *k = keys_from(three_keys);
    const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 255, 4096, 1u << 20};
    char *plain = malloc((1u << 20) + 1);
    ASSERT(plain != NULL);
    for (size_t i = 0; i < (1u << 20); i++)
        plain[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i];
        uint8_t *blob = NULL;
        size_t blen = 0;
        ASSERT_OK(tm_keys_encrypt(k, plain, n, "consumer:9:free_text", &blob, &blen, NULL));
        ASSERT_EQ(blen, n + TM_KEYS_OVERHEAD);
        ASSERT_EQ(blob[0], TM_KEYS_FORMAT);
        ASSERT_EQ(tm_keys_blob_version(blob, blen), 3);
        ASSERT(blob[1] == 0 && blob[2] == 0 && blob[3] == 0 && blob[4] == 3);
        char *out = NULL;
        size_t outlen = 0;
        ASSERT_OK(tm_keys_decrypt(k, blob, blen, "consumer:9:free_text", &out, &outlen, NULL));
        ASSERT_EQ(outlen, n);
        ASSERT(memcmp(out, plain, n) == 0);
        ASSERT_EQ(out[n], '\0');
        if (n >= 16) /* the ciphertext is not the plaintext */
            ASSERT(memcmp(blob + 17, plain, n) != 0);
        free(out);
        free(blob);
    }
    free(plain);
    tm_keys_free(k);
}

TEST(empty_plaintext_works)
{
    tm_keys *k = keys_from(three_keys);
    uint8_t *blob = NULL;
    size_t blen = 0;
    ASSERT_OK(tm_keys_encrypt(k, NULL, 0, "consumer:1:middle_name", &blob, &blen, NULL));
    ASSERT_EQ(blen, TM_KEYS_OVERHEAD);
    expect_dec(k, blob, blen, "consumer:1:middle_name", "");
    struct tm_err err = {0};
    expect_dec_fail(k, blob, blen, "consumer:2:middle_name", &err);
    free(blob);
    ASSERT_OK(tm_keys_encrypt(k, "", 0, "x", &blob, &blen, NULL));
    char *out = NULL;
    ASSERT_OK(tm_keys_decrypt(k, blob, blen, "x", &out, NULL, NULL)); /* outlen optional */
    ASSERT_STR_EQ(out, "");
    free(out);
    free(blob);
    tm_keys_free(k);
}

TEST(embedded_nul_survives)
{
    tm_keys *k = keys_from(three_keys);
    const char plain[] = "line1\0line2";
    uint8_t *blob = NULL;
    size_t blen = 0;
    ASSERT_OK(tm_keys_encrypt(k, plain, sizeof plain, "n", &blob, &blen, NULL));
    char *out = NULL;
    size_t outlen = 0;
    ASSERT_OK(tm_keys_decrypt(k, blob, blen, "n", &out, &outlen, NULL));
    ASSERT_EQ(outlen, sizeof plain);
    ASSERT(memcmp(out, plain, sizeof plain) == 0);
    free(out);
    free(blob);
    tm_keys_free(k);
}

TEST(equal_plaintexts_give_different_blobs)
{
    tm_keys *k = keys_from(three_keys);
    size_t l1, l2;
    uint8_t *a = enc(k, "555-0100", "consumer:1:phone", &l1);
    uint8_t *b = enc(k, "555-0100", "consumer:1:phone", &l2);
    ASSERT_EQ(l1, l2);
    ASSERT(memcmp(a + TM_KEYS_HEADER_LEN, b + TM_KEYS_HEADER_LEN, TM_KEYS_NONCE_LEN) != 0);
    ASSERT(memcmp(a, b, l1) != 0);
    free(a);
    free(b);
    tm_keys_free(k);
}

TEST(wrong_aad_fails)
{
    tm_keys *k = keys_from(three_keys);
    size_t len;
    uint8_t *blob = enc(k, "123 Main St", "consumer:123:address", &len);
    const char *wrong[] = {"consumer:124:address", "consumer:123:first_name", "",
                           "consumer:123:addres", "consumer:123:address ", "Consumer:123:address",
                           "consumer:1234:address"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        struct tm_err err = {0};
        expect_dec_fail(k, blob, len, wrong[i], &err);
        ASSERT_CONTAINS(err.msg, "wrong aad or key");
    }
    expect_dec(k, blob, len, "consumer:123:address", "123 Main St");
    free(blob);
    tm_keys_free(k);
}

/* Every bit of the blob is covered: header (format, version), nonce, ciphertext and tag.
 * The key set holds v1, v2 and v3 and the blob is v2, so some version flips land on another
 * existing key (v3) and must fail by authentication, not only by lookup. */
TEST(every_single_bit_flip_fails)
{
    tm_keys *k = keys_from(three_keys);
    const char *plain = "01234567890123456789012345678901"; /* a 32-byte field */
    uint8_t b2[47];
    from_hex("0100000002a0a1a2a3a4a5a6a7a8a9aaab345dca51e486ae8af15dcfd64f3ed568228dca43f5"
             "71dacfba2d4b10ad61",
             b2, sizeof b2);
    size_t len;
    uint8_t *blob = enc(k, plain, "consumer:5:ssn_last4", &len);
    ASSERT_EQ(len, 32 + TM_KEYS_OVERHEAD);
    int flips = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            blob[i] ^= (uint8_t)(1u << bit);
            struct tm_err err = {0};
            expect_dec_fail(k, blob, len, "consumer:5:ssn_last4", &err);
            blob[i] ^= (uint8_t)(1u << bit);
            flips++;
        }
    }
    ASSERT_EQ(flips, 8 * 65);
    expect_dec(k, blob, len, "consumer:5:ssn_last4", plain);
    /* The same on the frozen v2 blob: flipping bit 0 of the version gives v3, a known key. */
    for (size_t i = 0; i < sizeof b2; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b2[i] ^= (uint8_t)(1u << bit);
            struct tm_err err = {0};
            expect_dec_fail(k, b2, sizeof b2, "consumer:42:full_name", &err);
            if (i == 4 && bit == 0)
                ASSERT_CONTAINS(err.msg, "wrong aad or key");
            b2[i] ^= (uint8_t)(1u << bit);
        }
    }
    free(blob);
    tm_keys_free(k);
}

TEST(truncated_and_extended_blobs_fail)
{
    tm_keys *k = keys_from(three_keys);
    size_t len;
    uint8_t *blob = enc(k, "Springfield, IL 62701", "consumer:8:city", &len);
    for (size_t n = 0; n < len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past the given length. */
        uint8_t *cut = malloc(n ? n : 1);
        ASSERT(cut != NULL);
        memcpy(cut, blob, n);
        struct tm_err err = {0};
        expect_dec_fail(k, n ? cut : NULL, n, "consumer:8:city", &err);
        free(cut);
    }
    uint8_t *longer = malloc(len + 1);
    ASSERT(longer != NULL);
    memcpy(longer, blob, len);
    longer[len] = 0;
    struct tm_err err = {0};
    expect_dec_fail(k, longer, len + 1, "consumer:8:city", &err);
    /* Dropping the first ciphertext byte keeps a well-formed length but must fail too. */
    memmove(longer + 17, blob + 18, len - 18);
    expect_dec_fail(k, longer, len - 1, "consumer:8:city", &err);
    free(longer);
    free(blob);
    tm_keys_free(k);
}

TEST(unknown_version_and_wrong_key_fail)
{
    tm_keys *k = keys_from(three_keys);
    size_t len;
    uint8_t *blob = enc(k, "1970-01-01", "consumer:3:dob", &len);
    blob[4] = 99;
    struct tm_err err = {0};
    expect_dec_fail(k, blob, len, "consumer:3:dob", &err);
    ASSERT_CONTAINS(err.msg, "v99");
    blob[1] = 0x80; /* 0x80000063: above TM_KEYS_VERSION_MAX */
    expect_dec_fail(k, blob, len, "consumer:3:dob", &err);
    blob[1] = 0;
    blob[4] = 0;
    expect_dec_fail(k, blob, len, "consumer:3:dob", &err);
    blob[4] = 3;
    expect_dec(k, blob, len, "consumer:3:dob", "1970-01-01");
    blob[0] = 2;
    expect_dec_fail(k, blob, len, "consumer:3:dob", &err);
    ASSERT_CONTAINS(err.msg, "unknown format 2");
    blob[0] = 1;

    /* Another key file with the same version numbers but other keys. */
    tm_keys *other = keys_from("v1 " K3 "\nv2 " K1 "\nv3 " K2 "\nhmac " HK "\n");
    expect_dec_fail(other, blob, len, "consumer:3:dob", &err);
    ASSERT_CONTAINS(err.msg, "wrong aad or key");
    tm_keys_free(other);
    free(blob);
    tm_keys_free(k);
}

TEST(blob_version_reads_header_only)
{
    uint8_t b[TM_KEYS_OVERHEAD] = {1, 0, 0, 0, 7};
    ASSERT_EQ(tm_keys_blob_version(b, sizeof b), 7);
    ASSERT_EQ(tm_keys_blob_version(b, sizeof b - 1), -1);
    ASSERT_EQ(tm_keys_blob_version(NULL, sizeof b), -1);
    b[1] = 0x7f, b[2] = 0xff, b[3] = 0xff, b[4] = 0xff;
    ASSERT_EQ(tm_keys_blob_version(b, sizeof b), 2147483647);
    b[1] = 0x80, b[2] = 0, b[3] = 0, b[4] = 0;
    ASSERT_EQ(tm_keys_blob_version(b, sizeof b), -1);
    b[1] = 0, b[4] = 0;
    ASSERT_EQ(tm_keys_blob_version(b, sizeof b), -1);
    b[4] = 1, b[0] = 2;
    ASSERT_EQ(tm_keys_blob_version(b, sizeof b), -1);
}

TEST(null_arguments_are_refused)
{
    tm_keys *k = keys_from(three_keys);
    uint8_t *blob = (uint8_t *)1;
    size_t len = 5;
    ASSERT_EQ(tm_keys_encrypt(NULL, "x", 1, "a", &blob, &len, NULL), TM_EINVAL);
    ASSERT(blob == NULL);
    ASSERT_EQ(len, 0);
    ASSERT_EQ(tm_keys_encrypt(k, "x", 1, NULL, &blob, &len, NULL), TM_EINVAL);
    ASSERT_EQ(tm_keys_encrypt(k, NULL, 1, "a", &blob, &len, NULL), TM_EINVAL);
    ASSERT_EQ(tm_keys_encrypt(k, "x", 1, "a", NULL, &len, NULL), TM_EINVAL);
    ASSERT_EQ(tm_keys_encrypt(k, "x", 1, "a", &blob, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_keys_encrypt(k, "x", TM_KEYS_PLAIN_MAX + 1, "a", &blob, &len, NULL), TM_EINVAL);
    blob = enc(k, "x", "a", &len);
    char *out = (char *)1;
    ASSERT_EQ(tm_keys_decrypt(NULL, blob, len, "a", &out, NULL, NULL), TM_EINVAL);
    ASSERT(out == NULL);
    ASSERT_EQ(tm_keys_decrypt(k, blob, len, NULL, &out, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_keys_decrypt(k, blob, len, "a", NULL, NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_keys_decrypt(k, NULL, len, "a", &out, NULL, NULL), TM_EINVAL);
    char h[65];
    ASSERT_EQ(tm_keys_lookup_hash(NULL, "x", h), TM_EINVAL);
    ASSERT_EQ(tm_keys_lookup_hash(k, NULL, h), TM_EINVAL);
    ASSERT_EQ(tm_keys_lookup_hash(k, "x", NULL), TM_EINVAL);
    ASSERT_EQ(tm_keys_current(NULL), -1);
    ASSERT_EQ(tm_keys_rotate(NULL, "p", NULL, NULL), TM_EINVAL);
    ASSERT_EQ(tm_keys_rotate(k, NULL, NULL, NULL), TM_EINVAL);
    tm_keys_free(NULL);
    free(blob);
    tm_keys_free(k);
}

/* ---- Rotation ----------------------------------------------------------------------------- */

TEST(rotation_keeps_old_blobs_readable_and_new_blobs_use_new_version)
{
    const char *p = tpath("rot.key");
    tm_keys *k = create_keys(p);
    size_t l1, l2, l3;
    uint8_t *b1 = enc(k, "Alice", "consumer:1:first_name", &l1);
    ASSERT_EQ(tm_keys_blob_version(b1, l1), 1);

    int v = 0;
    struct tm_err err = {0};
    if (tm_keys_rotate(k, p, &v, &err) != TM_OK)
        TM_FAIL_("rotate: %s", err.msg);
    ASSERT_EQ(v, 2);
    ASSERT_EQ(tm_keys_current(k), 2);
    ASSERT_EQ(file_mode(p), 0600);
    ASSERT(!exists(tpath("rot.key.tmp")));
    uint8_t *b2 = enc(k, "Bob", "consumer:2:first_name", &l2);
    ASSERT_EQ(tm_keys_blob_version(b2, l2), 2);
    expect_dec(k, b1, l1, "consumer:1:first_name", "Alice");
    expect_dec(k, b2, l2, "consumer:2:first_name", "Bob");

    ASSERT_OK(tm_keys_rotate(k, p, NULL, NULL));
    ASSERT_EQ(tm_keys_current(k), 3);
    uint8_t *b3 = enc(k, "Carol", "consumer:3:first_name", &l3);
    ASSERT_EQ(tm_keys_blob_version(b3, l3), 3);

    /* A fresh load sees all three versions, in order, with hmac still last. */
    tm_keys *again = load_keys(p);
    ASSERT_EQ(tm_keys_current(again), 3);
    expect_dec(again, b1, l1, "consumer:1:first_name", "Alice");
    expect_dec(again, b2, l2, "consumer:2:first_name", "Bob");
    expect_dec(again, b3, l3, "consumer:3:first_name", "Carol");
    char *text = slurp(p);
    char *s1 = strstr(text, "\nv1 "), *s2 = strstr(text, "\nv2 "), *s3 = strstr(text, "\nv3 ");
    char *sh = strstr(text, "\nhmac ");
    ASSERT(s1 && s2 && s3 && sh && s1 < s2 && s2 < s3 && s3 < sh);
    ASSERT(text[0] == '#'); /* the header comment survived */
    free(text);
    free(b1);
    free(b2);
    free(b3);
    tm_keys_free(again);
    tm_keys_free(k);
}

TEST(rotation_keeps_comments_and_adds_line_after_last_version)
{
    const char *p = tpath("c.key");
    const char *before = "# top\nv1 " K1 "  # first\n# about hmac\nhmac " HK "\n# end";
    write_file(p, before, 0600);
    tm_keys *k = load_keys(p);
    ASSERT_OK(tm_keys_rotate(k, p, NULL, NULL));
    char *text = slurp(p);
    const char *head = "# top\nv1 " K1 "  # first\nv2 ";
    ASSERT(strncmp(text, head, strlen(head)) == 0);
    const char *tail = "\n# about hmac\nhmac " HK "\n# end";
    ASSERT_EQ(strlen(text), strlen(before) + 68);
    ASSERT_STR_EQ(text + strlen(text) - strlen(tail), tail);
    free(text);
    tm_keys_free(k);

    /* The last v line without a newline at end of file gets one. */
    write_file(p, "hmac " HK "\nv1 " K1, 0600);
    k = load_keys(p);
    ASSERT_OK(tm_keys_rotate(k, p, NULL, NULL));
    text = slurp(p);
    const char *head2 = "hmac " HK "\nv1 " K1 "\nv2 ";
    ASSERT(strncmp(text, head2, strlen(head2)) == 0);
    ASSERT_EQ(strlen(text), strlen(head2) + 65);
    ASSERT_EQ(text[strlen(text) - 1], '\n');
    free(text);
    tm_keys_free(k);
    k = load_keys(p);
    ASSERT_EQ(tm_keys_current(k), 2);
    tm_keys_free(k);

    /* Rotation follows the highest version, not the last line: v1 after v4 gives v5. */
    write_file(p, "v4 " K2 "\nv1 " K1 "\nhmac " HK "\n", 0600);
    k = load_keys(p);
    int v = 0;
    ASSERT_OK(tm_keys_rotate(k, p, &v, NULL));
    ASSERT_EQ(v, 5);
    tm_keys_free(k);
}

TEST(rotation_refuses_a_file_changed_since_load)
{
    const char *p = tpath("race.key");
    tm_keys *a = create_keys(p);
    tm_keys *b = load_keys(p);
    ASSERT_OK(tm_keys_rotate(a, p, NULL, NULL));
    char *after_a = slurp(p);
    struct tm_err err = {0};
    int v = 77;
    ASSERT_EQ(tm_keys_rotate(b, p, &v, &err), TM_EBUSY);
    ASSERT_EQ(v, 77);
    ASSERT_CONTAINS(err.msg, "changed since it was loaded");
    ASSERT_EQ(tm_keys_current(b), 1);
    char *now = slurp(p);
    ASSERT_STR_EQ(now, after_a);
    ASSERT(!exists(tpath("race.key.tmp")));

    /* The stale set cannot read the new version and says why. */
    size_t len;
    uint8_t *blob = enc(a, "x", "y", &len);
    expect_dec_fail(b, blob, len, "y", &err);
    ASSERT_CONTAINS(err.msg, "v2");
    ASSERT_CONTAINS(err.msg, "reload");

    /* After a reload, rotating works again. */
    tm_keys_free(b);
    b = load_keys(p);
    ASSERT_OK(tm_keys_rotate(b, p, &v, NULL));
    ASSERT_EQ(v, 3);
    free(blob);
    free(after_a);
    free(now);
    tm_keys_free(a);
    tm_keys_free(b);
}

TEST(rotation_refuses_when_temp_file_exists)
{
    const char *p = tpath("lock.key");
    tm_keys *k = create_keys(p);
    char *before = slurp(p);
    const char *tmp = tpath("lock.key.tmp");
    write_file(tmp, "someone else's\n", 0600);
    struct tm_err err = {0};
    ASSERT_EQ(tm_keys_rotate(k, p, NULL, &err), TM_EBUSY);
    ASSERT_CONTAINS(err.msg, "lock.key.tmp");
    ASSERT_CONTAINS(err.msg, "remove it");
    ASSERT_EQ(tm_keys_current(k), 1);
    char *now = slurp(p), *t = slurp(tmp);
    ASSERT_STR_EQ(now, before);
    ASSERT_STR_EQ(t, "someone else's\n"); /* not ours: left alone */
    free(now);
    free(t);
    unlink(tmp);
    ASSERT_OK(tm_keys_rotate(k, p, NULL, NULL));
    free(before);
    tm_keys_free(k);
}

TEST(rotation_failures_leave_key_set_unchanged)
{
    const char *p = tpath("f.key");
    tm_keys *k = create_keys(p);
    struct tm_err err = {0};
    /* The file became readable by others: refused, like a load. */
    ASSERT_EQ(chmod(p, 0644), 0);
    ASSERT_EQ(tm_keys_rotate(k, p, NULL, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "chmod 600");
    ASSERT(!exists(tpath("f.key.tmp")));
    ASSERT_EQ(chmod(p, 0600), 0);
    /* The file was removed. */
    ASSERT_EQ(rename(p, tpath("f.key.bak")), 0);
    ASSERT_EQ(tm_keys_rotate(k, p, NULL, &err), TM_ENOENT);
    ASSERT(!exists(tpath("f.key.tmp")));
    /* No such directory. */
    ASSERT_EQ(tm_keys_rotate(k, tpath("nodir/f.key"), NULL, &err), TM_EIO);
    ASSERT_EQ(tm_keys_current(k), 1);
    size_t len;
    uint8_t *blob = enc(k, "x", "y", &len);
    ASSERT_EQ(tm_keys_blob_version(blob, len), 1);
    free(blob);
    tm_keys_free(k);
}

/* ---- Lookup hash -------------------------------------------------------------------------- */

TEST(lookup_hash_known_answer_and_stable_across_rotation)
{
    /* HMAC-SHA256(key 40..5f, "+15551234567"), from Python's hmac module. */
    const char *want = "63f38fa3bc3a70d2a6ab31097684dbacd52c5d07afadce15dd3397be2e26d4c8";
    const char *p = tpath("h.key");
    write_file(p, "v1 " K1 "\nhmac " HK "\n", 0600);
    tm_keys *k = load_keys(p);
    char h[TM_KEYS_HASH_HEX_LEN + 1];
    ASSERT_OK(tm_keys_lookup_hash(k, "+15551234567", h));
    ASSERT_STR_EQ(h, want);
    ASSERT_OK(tm_keys_rotate(k, p, NULL, NULL));
    ASSERT_OK(tm_keys_rotate(k, p, NULL, NULL));
    ASSERT_OK(tm_keys_lookup_hash(k, "+15551234567", h));
    ASSERT_STR_EQ(h, want);
    tm_keys_free(k);
    k = load_keys(p);
    ASSERT_EQ(tm_keys_current(k), 3);
    ASSERT_OK(tm_keys_lookup_hash(k, "+15551234567", h));
    ASSERT_STR_EQ(h, want);

    /* Other values, and other hmac keys, hash differently. */
    char h2[TM_KEYS_HASH_HEX_LEN + 1];
    ASSERT_OK(tm_keys_lookup_hash(k, "+15551234568", h2));
    ASSERT(strcmp(h, h2) != 0);
    ASSERT_OK(tm_keys_lookup_hash(k, "", h2));
    ASSERT_EQ(strlen(h2), 64);
    tm_keys *other = create_keys(tpath("other.key"));
    ASSERT_OK(tm_keys_lookup_hash(other, "+15551234567", h2));
    ASSERT(strcmp(h, h2) != 0);
    for (const char *c = h2; *c; c++)
        ASSERT((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'));
    tm_keys_free(other);
    tm_keys_free(k);
}

/* ---- Threads ------------------------------------------------------------------------------ */

static void *thread_body(void *arg)
{
    const tm_keys *k = arg;
    for (int i = 0; i < 2000; i++) {
        char aad[32], plain[32];
        snprintf(aad, sizeof aad, "consumer:%d:email", i);
        snprintf(plain, sizeof plain, "user%d@example.com", i);
        uint8_t *blob = NULL;
        size_t len = 0;
        char *out = NULL;
        if (tm_keys_encrypt(k, plain, strlen(plain), aad, &blob, &len, NULL) != TM_OK ||
            tm_keys_decrypt(k, blob, len, aad, &out, NULL, NULL) != TM_OK ||
            strcmp(out, plain) != 0)
            return (void *)1;
        free(blob);
        free(out);
    }
    return NULL;
}

TEST(concurrent_use_of_one_key_set)
{
    tm_keys *k = keys_from(three_keys);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, thread_body, k), 0);
    for (int i = 0; i < 4; i++) {
        void *r = (void *)1;
        ASSERT_EQ(pthread_join(th[i], &r), 0);
        ASSERT(r == NULL);
    }
    tm_keys_free(k);
}
