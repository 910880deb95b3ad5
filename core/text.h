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

/* The candidate nearest to the `len` bytes at `word`, for a "did you mean"
 * after a name that is not known: the one fewest edits away (an insertion,
 * a deletion, a change or two neighbours swapped each count one; letters
 * compared ignoring case), when that is at most 2 edits and fewer than half
 * the word's length, so a short or unrelated word gets no suggestion. The
 * first such candidate wins a tie. `cands` is NULL-terminated; NULL when
 * none is near enough. */
const char *tm_text_nearest(const char *word, size_t len, const char *const *cands);

#endif
