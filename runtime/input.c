/*
** input.c — SPEC 3 "Data files": DATA.csv may be - (standard input) or a
** gzip-compressed file, recognised by its magic bytes (1f 8b) whatever its
** name, and decompressed through the system's `gzip -dc`, so that the
** generated C still needs only libc and libm.
*/
#include "runtime.h"

#include <errno.h>
#include <string.h>

FILE *rt_input_open(RtInput *in, const char *path) {
    FILE *fp;
    int c0, c1;
    in->path = path;
    in->pipe = 0;
    in->fp = NULL;
    if (strcmp(path, "-") == 0)
        return in->fp = stdin;
    fp = fopen(path, "rb");
    if (!fp) {
        rt_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    c0 = getc(fp);
    c1 = getc(fp);
    if (c0 == 0x1f && c1 == 0x8b) {
        /* The path single-quoted for the shell: ' becomes '\'' */
        char cmd[2 * RT_PATH_MAX + 32];
        size_t n = 0, i;
        fclose(fp);
        n += (size_t)sprintf(cmd, "gzip -dc -- '");
        for (i = 0; path[i] && n + 8 < sizeof cmd; i++) {
            if (path[i] == '\'') {
                memcpy(cmd + n, "'\\''", 4);
                n += 4;
            } else {
                cmd[n++] = path[i];
            }
        }
        if (path[i]) {
            rt_error("%s: cannot open: path too long", path);
            return NULL;
        }
        memcpy(cmd + n, "'", 2);
        fflush(stdout);
        in->fp = popen(cmd, "r");
        if (!in->fp) {
            rt_error("%s: cannot run gzip -dc to decompress it: %s", path, strerror(errno));
            return NULL;
        }
        in->pipe = 1;
        return in->fp;
    }
    rewind(fp);
    return in->fp = fp;
}

int rt_input_close(RtInput *in, int report) {
    int status;
    if (!in->fp || in->fp == stdin)
        return 0;
    if (!in->pipe) {
        fclose(in->fp);
        return 0;
    }
    status = pclose(in->fp);
    in->fp = NULL;
    if (report && status != 0) {
        rt_error("%s: gzip -dc failed (status %d): the file is not valid gzip data, or gzip is "
                 "not installed", in->path, status);
        return -1;
    }
    return 0;
}
