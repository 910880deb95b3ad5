/*
 * sandbox/scriptset.h: script sets ("generations") and hot reload.
 *
 * A generation is an immutable snapshot of a script tree: every *.lua file
 * (and every scoring model, models/<name>.json) under a root, read into memory, checked (UTF-8, text only, compiles) and
 * identified by its SHA-256; the set as a whole is identified by the SHA-256
 * of its sorted (path, hash) list. Generations are reference counted: a
 * sandbox holds one while it lives, so calls in flight finish on the
 * generation they started on, and it is freed after the last user lets go.
 *
 * A tm_host holds the current generation. tm_host_reload() builds and checks a
 * new one and swaps it in atomically; a set that fails to load never replaces
 * a working one. Workers call tm_host_sandbox() between calls to move their
 * sandbox onto the current generation.
 */
#ifndef TM_SCRIPTSET_H
#define TM_SCRIPTSET_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"
#include "tm_status.h"

typedef struct tm_script {
    const char *path;    /* relative to the root, '/'-separated, e.g. "regulations/federal.lua" */
    const char *text;    /* the file's bytes (NUL-terminated for convenience) */
    size_t len;
    char sha256[65];     /* hex */
    const char *display; /* how messages name it: the file it was read from
                          * ("scripts/regulations/federal.lua"), or root/path */
} tm_script;

/* Loads every *.lua file under `root` (recursively, in sorted order; hidden
 * files and directories are skipped) into a new generation with one
 * reference. Every file must be valid UTF-8 text that compiles; the first
 * problem fails the load with `err` as "path:line: message". `root` may name
 * a single file too. The caller releases the generation with tm_gen_release().
 * Errors: TM_ENOENT (no such root), TM_EIO, TM_ESYNTAX, TM_EENCODING, TM_ENOMEM. */
int tm_gen_load(const char *root, tm_gen **out, struct tm_err *err);

/* Like tm_gen_load but keeps going past scripts that fail their check: those
 * are left out and each problem is reported through `report(ud, message)`.
 * Returns TM_OK when the root could be read (even if scripts were left out). */
int tm_gen_load_lenient(const char *root, tm_gen **out,
                        void (*report)(void *ud, const char *message), void *ud,
                        struct tm_err *err);

void tm_gen_retain(tm_gen *g);
/* Drops a reference; frees the generation after the last. NULL is a no-op. */
void tm_gen_release(tm_gen *g);

const char *tm_gen_root(const tm_gen *g);   /* as given to tm_gen_load; borrowed */
const char *tm_gen_hash(const tm_gen *g);   /* hex SHA-256 of the set; borrowed */
uint64_t tm_gen_id(const tm_gen *g);        /* increasing number, unique per process */
size_t tm_gen_count(const tm_gen *g);
const tm_script *tm_gen_script(const tm_gen *g, size_t i); /* borrowed; NULL when out of range */
/* The script at `relpath`, or NULL. Borrowed, valid while the generation lives. */
const tm_script *tm_gen_find(const tm_gen *g, const char *relpath);

/* Scoring models: every models/<name>.json under the root is parsed with
 * tm_model_parse() when the set loads (a bad model fails the load, or is
 * reported and left out by tm_gen_load_lenient) and its SHA-256 joins the
 * set's hash. Lookup by <name> ("ptp", "bank/ptp"); NULL when absent.
 * Borrowed, valid while the generation lives. */
struct tm_model;
const struct tm_model *tm_gen_model(const tm_gen *g, const char *name);
size_t tm_gen_model_count(const tm_gen *g);
const char *tm_gen_model_name(const tm_gen *g, size_t i); /* sorted; NULL when out of range */

/* Every file of the set, scripts (in path order) then models (in name
 * order): what the set's hash covers and what a store keeps of it. Borrowed,
 * valid while the generation lives; NULL when out of range. */
size_t tm_gen_file_count(const tm_gen *g);
const tm_script *tm_gen_file(const tm_gen *g, size_t i);

/* Builds a generation from files held in memory (a set kept in the store):
 * each of files[0..n) gives a path (a *.lua script or a models/<name>.json
 * model, relative, without "..") and its text and len (copied; sha256 and
 * display are ignored). Every file is checked as tm_gen_load checks it, and
 * messages name it "root/path". When `expect_hash` is not NULL the set must
 * hash to it: a set whose texts changed after it was stored is refused with
 * TM_ECRYPTO, naming both hashes. On TM_OK *out has one reference. Errors:
 * TM_EINVAL (a path that is neither, or given twice), TM_ESYNTAX,
 * TM_EENCODING, TM_ECRYPTO, TM_ENOMEM. */
int tm_gen_from_files(const char *root, const tm_script *files, size_t n, const char *expect_hash,
                      tm_gen **out, struct tm_err *err);

/* A strategy set laid over a script set: a new generation with every file
 * of `base` except those under `under`/ ("strategies"), and every *.lua file
 * under the directory `dir` in their place (dir/x.lua becomes
 * under/x.lua, named by its own path in messages). Files from the folder are
 * checked as tm_gen_load checks them; with `report` (may be NULL) a file
 * that fails is reported and left out, as tm_gen_load_lenient does. The
 * root is the base's. On TM_OK *out has one reference; `base` is only read.
 * Errors: TM_ENOENT (no such directory), those of tm_gen_load. */
int tm_gen_overlay(const tm_gen *base, const char *dir, const char *under,
                   void (*report)(void *ud, const char *message), void *ud, tm_gen **out,
                   struct tm_err *err);

typedef struct tm_host tm_host;

/* Opens a host on the script tree at `root`, loading its first generation.
 * Caller frees with tm_host_close(). Errors as for tm_gen_load. */
int tm_host_open(const char *root, tm_host **out, struct tm_err *err);
void tm_host_close(tm_host *h);

/* Builds a new generation from the host's root and, when it loads and checks,
 * makes it current. On failure the current generation stays and `err` says
 * why. Safe to call from any thread while others run calls. */
int tm_host_reload(tm_host *h, struct tm_err *err);

/* The current generation with a new reference (caller releases). */
tm_gen *tm_host_acquire(tm_host *h);

/* Makes *sbp a sandbox on the host's current generation: when *sbp is NULL or
 * was built on an older generation, a new sandbox is created (with `limits`)
 * and the old one freed. Call between calls, from the sandbox's own thread.
 * Returns TM_OK, or an error with *sbp unchanged. */
int tm_host_sandbox(tm_host *h, tm_sandbox **sbp, const tm_limits *limits, struct tm_err *err);

#endif
