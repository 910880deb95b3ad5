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

#endif
