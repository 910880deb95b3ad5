/*
 * core/text.h: small text checks shared by the loader, importers and the CLI.
 */
#ifndef TM_TEXT_H
#define TM_TEXT_H

#include <stddef.h>

/* Returns 1 when the `len` bytes at `s` are valid UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF), else 0 with *bad (when not NULL)
 * set to the offset of the first invalid byte. */
int tm_utf8_valid(const char *s, size_t len, size_t *bad);

/* The 1-based line number of byte offset `off` in `s`. */
int tm_text_line_of(const char *s, size_t len, size_t off);

/* The value of hexadecimal digit `c` (0-15), or -1. */
int tm_text_hex_digit(char c);

/* "Did you mean": the name in `names` (NULL-terminated) nearest to `word` by
 * edit distance (insertions, deletions, substitutions and swaps of two
 * neighbouring letters each count 1; case is not an edit), when it is near enough to be a slip:
 * at most 1 edit for words of up to 4 letters, 2 up to 8, 3 beyond. Returns
 * its index, or -1 when none is that near (or `word` is one of the names, or
 * NULL). Names and words longer than 63 bytes are never suggested. */
int tm_text_nearest(const char *word, const char *const *names);

/* The same for the `len` bytes at `word` (not NUL-terminated), returning the
 * name itself, and only when fewer than half the word's letters change (so a
 * short or unrelated word gets no suggestion). NULL when none is that near. */
const char *tm_text_nearest_name(const char *word, size_t len, const char *const *cands);

/* Where a field is written in a script: the line of the first place at or
 * after line `from` (1-based; lines before it are skipped) where `key` is
 * assigned as a table field: `key =`, `["key"] =` or `['key'] =` (never
 * `key ==`), with `key` not part of a longer name, outside comments and
 * strings as far as a line-by-line reading can tell (a `--` comment to the
 * end of its line is skipped; long strings are not tracked). Returns 0 when
 * there is no such place. `s` need not be NUL-terminated. */
int tm_text_key_line(const char *s, size_t len, int from, const char *key);

#endif
