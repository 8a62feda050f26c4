/*
** diag.c — every error, warning and note goes through here, in one format
** (SPEC 1.11): clang's "FILE:LINE:COL: error: message", the source line, and
** a caret line under the offending span.
*/
#include "frontend.h"

#include <string.h>

typedef enum Severity { SEV_ERROR, SEV_WARNING, SEV_NOTE } Severity;

void diag_init(Diag *d, const char *file, const char *src, size_t src_len, FILE *out) {
    memset(d, 0, sizeof *d);
    d->file = file;
    d->src = src ? src : "";
    d->src_len = src ? src_len : 0;
    d->out = out;
}

bool diag_failed(const Diag *d) {
    return d->errors > 0;
}

/* The text of line `line` (from 1) without its newline; false if the source
** has fewer lines. A final "\n" does not start another line. */
static bool find_line(const Diag *d, int line, const char **text, size_t *len) {
    const char *p = d->src, *end = d->src + d->src_len;
    if (p == end || line < 1) return false;
    for (int n = 1; n < line; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || nl + 1 == end) return false;
        p = nl + 1;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *text = p;
    *len = (size_t)((nl ? nl : end) - p);
    if (*len > 0 && p[*len - 1] == '\r') (*len)--; /* CRLF files */
    return true;
}

/* The last line of the source, for locations past its end (EOF). */
static bool find_last_line(const Diag *d, const char **text, size_t *len) {
    int lines = 0;
    for (int n = 1; find_line(d, n, text, len); n++) lines = n;
    return lines > 0 && find_line(d, lines, text, len);
}

/* A UTF-8 continuation byte takes no screen column of its own. */
static bool is_continuation(unsigned char c) {
    return c >= 0x80 && c < 0xC0;
}

/* The source line, then spaces (tabs where the line has tabs, so the caret
** lines up) to the column, '^', and '~' over the rest of the span. Columns
** count bytes; the padding counts characters, so UTF-8 text aligns too. */
static void print_quote(Diag *d, Loc loc) {
    const char *text;
    size_t len;
    size_t col = loc.first_column > 0 ? (size_t)loc.first_column : 1;
    size_t end = loc.last_column > 0 ? (size_t)loc.last_column : 0;
    if (loc.last_line > loc.first_line) end = (size_t)-1; /* to the end of the first line */
    if (!find_line(d, loc.first_line, &text, &len)) {
        if (!find_last_line(d, &text, &len)) return;
        col = len + 1; /* past the end of the source: just after its last line */
        end = 0;
    }
    if (col > len + 1) col = len + 1;
    if (end > len + 1) end = len + 1;
    fwrite(text, 1, len, d->out);
    fputc('\n', d->out);
    for (size_t i = 0; i + 1 < col; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!is_continuation(c)) fputc(c == '\t' ? '\t' : ' ', d->out);
    }
    fputc('^', d->out);
    for (size_t i = col; i + 1 < end; i++)
        if (!is_continuation((unsigned char)text[i])) fputc('~', d->out);
    fputc('\n', d->out);
}

static void print(Diag *d, Severity sev, Loc loc, const char *suffix, const char *fmt, va_list ap) {
    static const char *const names[] = {"error", "warning", "note"};
    if (loc.first_line > 0)
        fprintf(d->out, "%s:%d:%d: %s: ", d->file, loc.first_line, loc.first_column, names[sev]);
    else
        fprintf(d->out, "%s: %s: ", d->file, names[sev]);
    vfprintf(d->out, fmt, ap);
    fprintf(d->out, "%s\n", suffix);
    if (loc.first_line > 0) print_quote(d, loc);
}

/* Counts an error and prints it unless past the limit (SPEC 1.11: up to 20). */
static void report_error(Diag *d, Loc loc, const char *suffix, const char *fmt, va_list ap) {
    d->errors++;
    d->dropped = d->stopped;
    if (d->stopped) return;
    if (d->errors > DIAG_MAX_ERRORS) {
        fputs("nnc: too many errors; stopping\n", d->out);
        d->stopped = d->dropped = true;
        return;
    }
    print(d, SEV_ERROR, loc, suffix, fmt, ap);
}

void diag_error(Diag *d, Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report_error(d, loc, "", fmt, ap);
    va_end(ap);
}

void diag_warning(Diag *d, Loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (d->werror) {
        report_error(d, loc, " [-Werror]", fmt, ap);
    } else if (d->no_warnings || d->stopped) {
        d->dropped = true;
    } else {
        d->warnings++;
        d->dropped = false;
        print(d, SEV_WARNING, loc, "", fmt, ap);
    }
    va_end(ap);
}

void diag_note(Diag *d, Loc loc, const char *fmt, ...) {
    if (d->dropped) return;
    va_list ap;
    va_start(ap, fmt);
    print(d, SEV_NOTE, loc, "", fmt, ap);
    va_end(ap);
}
