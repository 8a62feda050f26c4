/*
** fuzz_util.c — see fuzz.h.
*/
#define _POSIX_C_SOURCE 200809L
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_enter_tmpdir(void) {
    static int done;
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    if (done) return;
    done = 1;
    snprintf(dir, sizeof dir, "%s/nnc-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        perror("fuzz: temporary directory");
        abort();
    }
}

const char *fuzz_write(const char *name, const uint8_t *data, size_t size) {
    FILE *f = fopen(name, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(name);
        abort();
    }
    return name;
}
