/*
** fuzz.h — what the libFuzzer targets of tests/fuzz share: a private
** working directory (every file a target writes lands there, never beside
** the user's files), and the input written to a file for readers that take
** a path.
*/
#ifndef NNC_FUZZ_H
#define NNC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Creates and enters a fresh temporary directory, once. */
void fuzz_enter_tmpdir(void);
/* Writes data to `name` in the working directory; returns name. */
const char *fuzz_write(const char *name, const uint8_t *data, size_t size);

#endif
