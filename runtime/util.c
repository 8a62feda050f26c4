/*
** util.c — messages, the clock, number formats and atomic file writes.
*/
#include "runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

void rt_error(const char *fmt, ...) {
    va_list ap;
    fflush(stdout); /* keep the progress output and the error in order */
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void rt_warning(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fputs("warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

long rt_heap_allocs;

void *rt_alloc(size_t bytes, const char *what) {
    void *p = calloc(1, bytes ? bytes : 1);
    rt_heap_allocs++;
    if (!p)
        rt_error("out of memory: %s needs %lu bytes", what, (unsigned long)bytes);
    return p;
}

/* A shuffled batch reads rows anywhere in the data, and a step of a wide
** layer reads megabytes of weights: in 4 KB pages, what the TLB maps (12
** MB on Zen 4) is soon passed, and every other row costs a walk of the
** page tables, slow in a virtual machine. So on Linux such a buffer lies
** on 2 MB boundaries and asks for transparent huge pages (granted when
** /sys/kernel/mm/transparent_hugepage/enabled says always or madvise; a
** request refused changes nothing): model C trained 7 % faster (its 32
** rows a step from 31 MB of pixels), D 4 %, E 7 % (README, "Speed"). */
#if defined(__linux__) && defined(MADV_HUGEPAGE)
#define RT_HUGE_PAGE ((size_t)2 << 20)
#endif

void *rt_alloc_big(size_t bytes, const char *what) {
#ifdef RT_HUGE_PAGE
    void *p = NULL;
    if (bytes >= RT_HUGE_PAGE && bytes <= (size_t)-1 - RT_HUGE_PAGE) {
        size_t size = (bytes + RT_HUGE_PAGE - 1) / RT_HUGE_PAGE * RT_HUGE_PAGE;
        if (posix_memalign(&p, RT_HUGE_PAGE, size) == 0) {
            (void)madvise(p, size, MADV_HUGEPAGE);
            memset(p, 0, size);
            rt_heap_allocs++;
            return p;
        }
    }
#endif
    return rt_alloc(bytes, what);
}

double rt_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

char *rt_read_file(const char *path, size_t *size) {
    RtInput in;
    FILE *fp = rt_input_open(&in, path);
    char *text = NULL;
    size_t len = 0, cap = 0;
    if (!fp)
        return NULL;
    /* Read in growing blocks: works for pipes and files alike. A regular
    ** file's size is the first guess, so that small files cost little. */
    {
        struct stat st;
        if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
            (unsigned long long)st.st_size < (size_t)-1 / 2) {
            cap = (size_t)st.st_size + 2;
            text = malloc(cap);
            if (!text)
                cap = 0;
        }
    }
    for (;;) {
        size_t got;
        if (cap - len < 2) {
            size_t ncap = cap ? cap * 2 : 65536 + 1;
            char *grown = realloc(text, ncap);
            rt_heap_allocs++;
            if (!grown) {
                rt_error("%s: out of memory reading the file", path);
                free(text);
                rt_input_close(&in, 0);
                return NULL;
            }
            text = grown;
            cap = ncap;
        }
        got = fread(text + len, 1, cap - len - 1, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        rt_error("%s: cannot read: %s", path, strerror(errno));
        free(text);
        rt_input_close(&in, 0);
        return NULL;
    }
    if (rt_input_close(&in, 1) != 0) {
        free(text);
        return NULL;
    }
    text[len] = '\0';
    *size = len;
    return text;
}

void rt_format_value(char *buf, size_t size, double v) {
    /* Keras' Progbar: ' %.4f' if abs(avg) > 1e-3 else ' %.4e'. */
    snprintf(buf, size, fabs(v) > 1e-3 ? "%.4f" : "%.4e", v);
}

void rt_format_count(char *buf, size_t size, long long n) {
    char digits[32];
    int len, i, o = 0;
    len = snprintf(digits, sizeof digits, "%lld", n < 0 ? -n : n);
    if (n < 0 && size > 1)
        buf[o++] = '-';
    for (i = 0; i < len && (size_t)o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

int rt_parse_double(const char *s, double *out) {
    char *end;
    double v;
    if (!*s)
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int rt_parse_long(const char *s, long *out) {
    char *end;
    long v;
    if (!*s || !(*s == '-' || (*s >= '0' && *s <= '9')))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (*end || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

/* ---- atomic files ---- */

/* path with every symlink followed (a dangling one too: the file it names
** is created), so that the rename replaces the file, never the link. */
static int rt_file_resolve(const char *path, char *out) {
    char link[RT_PATH_MAX + 1];
    int hops;
    strcpy(out, path);
    for (hops = 0; hops < 40; hops++) {
        struct stat st;
        ssize_t n;
        char *slash;
        if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode))
            return 0;
        n = readlink(out, link, sizeof link - 1);
        if (n < 0)
            return 0;
        link[n] = '\0';
        slash = strrchr(out, '/');
        if (link[0] == '/' || !slash) {
            strcpy(out, link);
        } else {
            size_t dir = (size_t)(slash - out) + 1;
            if (dir + (size_t)n > RT_PATH_MAX) {
                errno = ENAMETOOLONG;
                return -1;
            }
            memcpy(out + dir, link, (size_t)n + 1);
        }
    }
    errno = ELOOP;
    return -1;
}

/* Temporaries of killed writers (NAME.tmp-PID-N whose PID is gone) are
** removed by the next run that writes NAME. */
static void rt_file_sweep(const char *target) {
    char dir[RT_PATH_MAX + 1], full[RT_PATH_MAX + 80];
    const char *slash = strrchr(target, '/'), *base = slash ? slash + 1 : target;
    size_t blen = strlen(base);
    DIR *d;
    struct dirent *e;
    if (!slash)
        strcpy(dir, ".");
    else if (slash == target)
        strcpy(dir, "/");
    else {
        memcpy(dir, target, (size_t)(slash - target));
        dir[slash - target] = '\0';
    }
    d = opendir(dir);
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        const char *rest = e->d_name + blen;
        char *end;
        long pid;
        if (strncmp(e->d_name, base, blen) != 0 || strncmp(rest, ".tmp-", 5) != 0)
            continue;
        pid = strtol(rest + 5, &end, 10);
        if (end == rest + 5 || *end != '-' || pid <= 0 || pid == (long)getpid())
            continue;
        if (strtol(end + 1, &end, 10) < 0 || *end)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (strlen(dir) + strlen(e->d_name) + 2 > sizeof full)
            continue;
        strcpy(full, dir);
        strcat(full, "/");
        strcat(full, e->d_name);
        unlink(full);
    }
    closedir(d);
}

int rt_file_open(RtFile *f, const char *path) {
    int attempt;
    struct stat st;
    memset(f, 0, offsetof(RtFile, buf));
    f->path = path;
    f->atomic = 1;
    if (strlen(path) > RT_PATH_MAX) {
        rt_error("%s: cannot write: path too long", path);
        return -1;
    }
    if (rt_file_resolve(path, f->target) != 0) {
        rt_error("%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    if (stat(f->target, &st) == 0 && S_ISDIR(st.st_mode)) {
        rt_error("%s: cannot write: %s", path, strerror(EISDIR));
        return -1;
    }
    /* A device or a FIFO is written as it is: renaming a file over
    ** /dev/null would replace the device. */
    if (stat(f->target, &st) == 0 && !S_ISREG(st.st_mode)) {
        f->atomic = 0;
        f->fd = open(f->target, O_WRONLY);
        if (f->fd < 0) {
            rt_error("%s: cannot write: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    rt_file_sweep(f->target);
    /* The temporary sits beside the target, so that rename() is atomic;
    ** O_EXCL and the pid keep two writers apart. */
    for (attempt = 0; attempt < 100; attempt++) {
        snprintf(f->tmp, sizeof f->tmp, "%s.tmp-%ld-%d", f->target, (long)getpid(), attempt);
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC, 0666);
        if (f->fd >= 0 || errno != EEXIST)
            break;
    }
    if (f->fd < 0) {
        rt_error("%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void rt_file_stdout(RtFile *f) {
    memset(f, 0, offsetof(RtFile, buf));
    f->fd = 1;
    f->path = "standard output";
    fflush(stdout); /* what stdio holds goes first */
}

void rt_file_count(RtFile *f) {
    memset(f, 0, offsetof(RtFile, buf));
    f->fd = -1;
}

static void rt_file_flush(RtFile *f) {
    size_t off = 0;
    while (off < f->len && !f->err) {
        ssize_t n = write(f->fd, f->buf + off, f->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            f->err = n < 0 ? errno : EIO;
        else
            off += (size_t)n;
    }
    f->len = 0;
}

void rt_file_write(RtFile *f, const void *data, size_t n) {
    const unsigned char *p = data;
    f->total += n;
    if (f->fd < 0 || f->err)
        return;
    while (n > 0) {
        size_t room = sizeof f->buf - f->len, k = n < room ? n : room;
        memcpy(f->buf + f->len, p, k);
        f->len += k;
        p += k;
        n -= k;
        if (f->len == sizeof f->buf)
            rt_file_flush(f);
    }
}

void rt_file_puts(RtFile *f, const char *s) {
    rt_file_write(f, s, strlen(s));
}

void rt_file_printf(RtFile *f, const char *fmt, ...) {
    char line[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        f->err = f->err ? f->err : EINVAL;
    else
        rt_file_write(f, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* fsync the directory too, so the rename itself survives a crash. */
static void rt_file_sync_dir(const char *path) {
    char dir[RT_PATH_MAX + 1];
    const char *slash = strrchr(path, '/');
    int fd;
    if (!slash)
        strcpy(dir, ".");
    else if (slash == path)
        strcpy(dir, "/");
    else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int rt_file_commit(RtFile *f) {
    if (f->fd < 0)
        return 0;
    rt_file_flush(f);
    if (!f->atomic) {
        if (f->fd > 2 && close(f->fd) != 0 && !f->err)
            f->err = errno;
        f->fd = -1;
        if (f->err) {
            rt_error("%s: cannot write: %s", f->path, strerror(f->err));
            return -1;
        }
        return 0;
    }
    if (!f->err && fsync(f->fd) != 0)
        f->err = errno;
    if (close(f->fd) != 0 && !f->err)
        f->err = errno;
    f->fd = -1;
    if (!f->err && rename(f->tmp, f->target) != 0)
        f->err = errno;
    if (f->err) {
        unlink(f->tmp);
        rt_error("%s: cannot write: %s", f->path, strerror(f->err));
        return -1;
    }
    rt_file_sync_dir(f->target);
    return 0;
}

void rt_file_abort(RtFile *f) {
    if (f->fd >= 0 && f->atomic) {
        close(f->fd);
        unlink(f->tmp);
    }
    f->fd = -1;
}
