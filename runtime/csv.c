/*
** csv.c — data files (SPEC 3 Data, Data domain checks).
**
** The whole file is read at once (very long lines cost nothing), then
** walked twice: once to count rows, once to parse them into one buffer of
** features and targets. Blank lines are skipped, CRLF and a missing final
** newline are fine, a first row with a non-numeric field is a header.
** Fields may be quoted as RFC 4180 says ("3,0" is one field, "" inside is
** a quote, a quoted field may span lines). A stray CR (CR-only or CR CR LF
** line ends), a NUL byte and an unterminated quote are reported as such.
** Every error names the file and line: `data.csv:17: expected 31 columns,
** found 30`. Columns in messages count from 1, like the lines.
*/
#include "runtime.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *rt_loss_name(int loss) {
    static const char *const names[] = {
        "mean_squared_error", "mean_absolute_error", "mean_squared_logarithmic_error",
        "binary_crossentropy", "hinge", "squared_hinge", "categorical_crossentropy",
        "sparse_categorical_crossentropy", "kl_divergence", "custom loss"};
    return loss >= 0 && loss <= NNC_LOSS_CUSTOM ? names[loss] : "loss";
}

long rt_classes(const NncModel *m) {
    long k = m->output_rank > 0 ? m->output_dims[m->output_rank - 1] : 1;
    return k > 0 ? k : 1;
}

/* How the target columns of a row become the kernels' target vector. */
enum { RT_ENC_DENSE, RT_ENC_CLASS, RT_ENC_ONE_HOT_INDEX };

typedef struct RtCsv {
    const char *path;
    char *text, *pos, *limit;
    long line;              /* number of the line last returned, from 1 */
    long next_line;         /* number of the line at pos */
    char *begin, *end;      /* that line, without its line break */
    /* layout */
    long ncols, n_x, label, target_cols;
    long *role;             /* per column: feature k >= 0, target -2-k, ignored -1 */
    int encode;
    long classes;
    int loss;
    long zero_line, neg_line; /* hinge: first lines with a 0 and a -1 target */
} RtCsv;

static int rt_csv_blank(const char *b, const char *e) {
    for (; b < e; b++)
        if (*b != ' ' && *b != '\t' && *b != '\r')
            return 0;
    return 1;
}

/* The end of the record at b: the first newline outside quotes. A quote
** opens only at the start of a field (after blanks), as RFC 4180 has it;
** *newlines counts those inside quotes, *open is set when a quote never
** closes. */
static char *rt_csv_record_end(char *b, char *limit, long *newlines, int *open) {
    int quoted = 0, start = 1;
    *newlines = 0;
    *open = 0;
    for (; b < limit; b++) {
        char ch = *b;
        if (quoted) {
            if (ch == '"') {
                if (b + 1 < limit && b[1] == '"')
                    b++;
                else
                    quoted = 0;
            } else if (ch == '\n') {
                (*newlines)++;
            }
            continue;
        }
        if (ch == '\n')
            return b;
        if (ch == '"' && start) {
            quoted = 1;
            start = 0;
        } else if (ch == ',') {
            start = 1;
        } else if (ch != ' ' && ch != '\t') {
            start = 0;
        }
    }
    *open = quoted;
    return limit;
}

/* A CR outside quotes, or a NUL byte, anywhere in the record. */
static int rt_csv_check_bytes(RtCsv *c, const char *b, const char *e) {
    int quoted = 0, start = 1;
    const char *p;
    if (memchr(b, '\0', (size_t)(e - b))) {
        rt_error("%s:%ld: NUL byte in the data (is this a binary or UTF-16 file?)", c->path,
                 c->line);
        return -1;
    }
    for (p = b; p < e; p++) {
        if (quoted) {
            if (*p == '"' && p + 1 < e && p[1] == '"')
                p++;
            else if (*p == '"')
                quoted = 0;
            continue;
        }
        if (*p == '"' && start)
            quoted = 1;
        if (*p == '\r') {
            if (p + 1 == e)
                rt_error("%s:%ld: the line ends with CR CR LF; convert the line ends to LF or "
                         "CR LF", c->path, c->line);
            else
                rt_error("%s:%ld: carriage return (CR) inside a line: the file seems to have "
                         "CR-only line ends; convert them to LF or CR LF", c->path, c->line);
            return -1;
        }
        start = *p == ',' ? 1 : (*p == ' ' || *p == '\t') ? start : 0;
    }
    return 0;
}

/* The next non-blank record; 0 at the end of the file, -1 after an error. */
static int rt_csv_next(RtCsv *c) {
    while (c->pos < c->limit) {
        long newlines;
        int open;
        char *b = c->pos, *e = rt_csv_record_end(b, c->limit, &newlines, &open);
        c->pos = e < c->limit ? e + 1 : c->limit;
        c->line = c->next_line;
        c->next_line += 1 + newlines;
        if (open) {
            rt_error("%s:%ld: a quoted field is never closed (a '\"' is missing)", c->path,
                     c->line);
            return -1;
        }
        if (e > b && e[-1] == '\r')
            e--;
        if (!rt_csv_blank(b, e)) {
            c->begin = b;
            c->end = e;
            return rt_csv_check_bytes(c, b, e) == 0 ? 1 : -1;
        }
    }
    return 0;
}

/* The field at *b (up to e): its bounds, quotes included, in *fb and *fe;
** *b moves past its comma. Returns 0 after the last field. */
static int rt_csv_field(char **b, char *e, char **fb, char **fe) {
    char *p = *b;
    if (p > e)
        return 0;
    *fb = p;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p < e && *p == '"') {
        for (p++; p < e; p++)
            if (*p == '"') {
                if (p + 1 < e && p[1] == '"')
                    p++;
                else {
                    p++;
                    break;
                }
            }
    }
    while (p < e && *p != ',')
        p++;
    *fe = p;
    *b = p + 1;
    return 1;
}

static long rt_csv_count_fields(char *b, char *e) {
    long n = 0;
    char *fb, *fe;
    while (rt_csv_field(&b, e, &fb, &fe))
        n++;
    return n;
}

/* A field without surrounding blanks and one pair of double quotes. */
static void rt_csv_trim(char **b, char **e) {
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
    if (*e - *b >= 2 && **b == '"' && (*e)[-1] == '"') {
        (*b)++;
        (*e)--;
    }
}

#ifdef NNC_F64
#define RT_CSV_REAL_MAX DBL_MAX
#else
#define RT_CSV_REAL_MAX FLT_MAX
#endif

/* 0, or -1 for not a number, or -2 for a number beyond the trainer's
** floating type (SPEC 3: a data error, not an inf in the weights). */
static int rt_csv_number(char *b, char *e, double *v) {
    char *end, save;
    *v = 0; /* on every path: gcc -O3 loses track of the callers' tests of the result */
    rt_csv_trim(&b, &e);
    if (b == e)
        return -1;
    /* The text is ours and NUL-terminated past its end: cut the field. */
    save = *e;
    *e = '\0';
    errno = 0;
    *v = strtod(b, &end);
    *e = save;
    if (end != e)
        return -1;
    if (isnan(*v) || (isinf(*v) && errno != ERANGE))
        return -1; /* "nan", "inf" */
    if (isinf(*v) || fabs(*v) > RT_CSV_REAL_MAX)
        return -2;
    return 0;
}

/* The field as the user wrote it, for messages: trimmed, at most 40 bytes. */
static void rt_csv_token(char *buf, size_t size, char *b, char *e) {
    size_t n;
    rt_csv_trim(&b, &e);
    n = (size_t)(e - b);
    if (n > 40) {
        memcpy(buf, b, 37);
        strcpy(buf + 37, "...");
    } else {
        memcpy(buf, b, n < size ? n : size - 1);
        buf[n < size ? n : size - 1] = '\0';
    }
}

/* A header has a field that is neither a number nor empty (an empty field
** is a data row's missing value, reported as such). */
static int rt_csv_is_header(char *b, char *e) {
    char *fb, *fe;
    while (rt_csv_field(&b, e, &fb, &fe)) {
        char *tb = fb, *te = fe;
        double v;
        rt_csv_trim(&tb, &te);
        if (tb < te && rt_csv_number(fb, fe, &v) == -1)
            return 1;
    }
    return 0;
}

/* --label COL: a header name first, else a 0-based index. */
static int rt_csv_find_label(RtCsv *c, const char *label, char *hb, char *he) {
    long col = 0, idx, found = -1;
    char *b = hb, *fb, *fe;
    while (hb && rt_csv_field(&b, he, &fb, &fe)) {
        rt_csv_trim(&fb, &fe);
        if ((size_t)(fe - fb) == strlen(label) && memcmp(fb, label, (size_t)(fe - fb)) == 0) {
            if (found >= 0) {
                rt_error("%s: --label %s: columns %ld and %ld are both named \"%s\"; give the "
                         "column's 0-based index instead", c->path, label, found, col, label);
                return -1;
            }
            found = col;
        }
        col++;
    }
    if (found >= 0) {
        c->label = found;
        return 0;
    }
    if (rt_parse_long(label, &idx) != 0 || idx < 0) {
        if (hb)
            rt_error("%s: --label %s: no such column", c->path, label);
        else
            rt_error("%s: --label %s: the file has no header row to name columns", c->path, label);
        return -1;
    }
    if (idx >= c->ncols) {
        rt_error("%s: --label %ld: the file has %ld columns (0..%ld)", c->path, idx, c->ncols,
                 c->ncols - 1);
        return -1;
    }
    c->label = idx;
    return 0;
}

static const char *rt_csv_plural(long n) {
    return n == 1 ? "" : "s";
}

/* Decides which columns are targets and how they are encoded. */
static int rt_csv_layout(RtCsv *c, const NncModel *m, int need_targets, long line1) {
    long extra = c->label >= 0 ? 1 : 0, need, i, k;
    c->classes = rt_classes(m);
    c->encode = RT_ENC_DENSE;
    c->target_cols = 0;
    if (need_targets) {
        long groups = m->target_width / c->classes;
        c->target_cols = m->target_width;
        if (m->target_kind == NNC_TARGET_CLASS_INDEX)
            c->encode = RT_ENC_CLASS;
        else if (m->target_kind == NNC_TARGET_ONE_HOT && groups >= 1 &&
                 (extra || c->ncols != c->n_x + m->target_width)) {
            c->encode = RT_ENC_ONE_HOT_INDEX;
            c->target_cols = groups;
        }
        if (c->label >= 0 && c->target_cols != 1) {
            rt_error("%s: --label picks one column, but this model needs %ld target columns",
                     c->path, c->target_cols);
            return -1;
        }
    }
    need = c->n_x + (c->label >= 0 ? 1 : c->target_cols);
    if (need_targets && c->label < 0 && c->ncols != need) {
        if (c->encode == RT_ENC_ONE_HOT_INDEX)
            rt_error("%s:%ld: expected %ld columns (%ld inputs + %ld class index%s) or %ld "
                     "(%ld inputs + %ld one-hot targets), found %ld",
                     c->path, line1, need, c->n_x, c->target_cols,
                     c->target_cols == 1 ? "" : "es", c->n_x + m->target_width, c->n_x,
                     m->target_width, c->ncols);
        else
            rt_error("%s:%ld: expected %ld columns (%ld inputs + %ld target%s), found %ld",
                     c->path, line1, need, c->n_x, c->target_cols,
                     rt_csv_plural(c->target_cols), c->ncols);
        return -1;
    }
    if (c->ncols < need) {
        rt_error("%s:%ld: expected at least %ld columns (%ld inputs%s), found %ld", c->path,
                 line1, need, c->n_x, c->label >= 0 ? " + the label" : "", c->ncols);
        return -1;
    }
    c->role = rt_alloc(sizeof *c->role * (size_t)c->ncols, "the column table");
    if (!c->role)
        return -1;
    for (i = 0, k = 0; i < c->ncols; i++) {
        if (i == c->label)
            c->role[i] = need_targets ? -2 : -1;
        else if (k < c->n_x)
            c->role[i] = k++;
        else if (c->label < 0 && k - c->n_x < c->target_cols)
            c->role[i] = -2 - (k++ - c->n_x);
        else
            c->role[i] = -1;
    }
    return 0;
}

static int rt_csv_class(RtCsv *c, double v, const char *tok) {
    if (v != floor(v)) {
        rt_error("%s:%ld: class %s is not an integer", c->path, c->line, tok);
        return -1;
    }
    if (v < 0 || v >= (double)c->classes) {
        rt_error("%s:%ld: class %s is outside 0..%ld", c->path, c->line, tok, c->classes - 1);
        return -1;
    }
    return 0;
}

/* SPEC 3 Data domain checks, for one dense target value. */
static int rt_csv_domain(RtCsv *c, double v, const char *tok) {
    const char *loss = rt_loss_name(c->loss);
    switch (c->loss) {
    case NNC_LOSS_BINARY_CE:
    case NNC_LOSS_CATEGORICAL_CE:
    case NNC_LOSS_KLD:
        if (v < 0 || v > 1) {
            rt_error("%s:%ld: target %s is outside [0, 1] (%s)", c->path, c->line, tok, loss);
            return -1;
        }
        return 0;
    case NNC_LOSS_MSLE:
        if (v <= -1) {
            rt_error("%s:%ld: target %s is not greater than -1 (%s)", c->path, c->line, tok,
                     loss);
            return -1;
        }
        return 0;
    case NNC_LOSS_HINGE:
    case NNC_LOSS_SQUARED_HINGE:
        /* SPEC 1.8: all 0/1 (mapped to -1/+1 later) or all -1/+1. */
        if (v != 0 && v != 1 && v != -1) {
            rt_error("%s:%ld: target %s is not 0/1 or -1/+1 (%s)", c->path, c->line, tok, loss);
            return -1;
        }
        if (v == 0 && !c->zero_line)
            c->zero_line = c->line;
        if (v == -1 && !c->neg_line)
            c->neg_line = c->line;
        if (c->zero_line && c->neg_line) {
            rt_error("%s:%ld: target %s, but line %ld has %s: %s targets are all 0/1 or all "
                     "-1/+1",
                     c->path, c->line, tok, v == 0 ? c->neg_line : c->zero_line,
                     v == 0 ? "-1" : "0", loss);
            return -1;
        }
        return 0;
    default:
        return 0;
    }
}

static int rt_csv_target(RtCsv *c, nnc_real *t, long k, double v, const char *tok) {
    long j;
    switch (c->encode) {
    case RT_ENC_CLASS:
        if (rt_csv_class(c, v, tok) != 0)
            return -1;
        t[k] = (nnc_real)v;
        return 0;
    case RT_ENC_ONE_HOT_INDEX:
        if (rt_csv_class(c, v, tok) != 0)
            return -1;
        for (j = 0; j < c->classes; j++)
            t[k * c->classes + j] = (nnc_real)(j == (long)v);
        return 0;
    default:
        if (rt_csv_domain(c, v, tok) != 0)
            return -1;
        t[k] = (nnc_real)v;
        return 0;
    }
}

static int rt_csv_row(RtCsv *c, nnc_real *x, nnc_real *t) {
    long col = 0, found = rt_csv_count_fields(c->begin, c->end);
    char *b = c->begin, *fb, *fe;
    if (found != c->ncols) {
        rt_error("%s:%ld: expected %ld columns, found %ld", c->path, c->line, c->ncols, found);
        return -1;
    }
    for (col = 0; col < c->ncols && rt_csv_field(&b, c->end, &fb, &fe); col++) {
        long role = c->role[col];
        if (role != -1) {
            char tok[48];
            double v;
            int bad = rt_csv_number(fb, fe, &v);
            rt_csv_token(tok, sizeof tok, fb, fe);
            if (bad == -2) {
                rt_error("%s:%ld: column %ld: %s is out of range for %s (largest magnitude %g)",
                         c->path, c->line, col + 1, tok, sizeof(nnc_real) == 4 ? "float" : "double",
                         (double)RT_CSV_REAL_MAX);
                return -1;
            }
            if (bad) {
                rt_error("%s:%ld: column %ld: not a number: \"%s\"", c->path, c->line, col + 1,
                         tok);
                return -1;
            }
            if (role >= 0)
                x[role] = (nnc_real)v;
            else if (rt_csv_target(c, t, -2 - role, v, tok) != 0)
                return -1;
        }
    }
    return 0;
}

/* SPEC 1.8 hinge: targets all 0/1 become -1/+1. */
static void rt_csv_map_hinge(RtCsv *c, RtData *d) {
    long i;
    if ((c->loss != NNC_LOSS_HINGE && c->loss != NNC_LOSS_SQUARED_HINGE) || c->neg_line ||
        c->encode != RT_ENC_DENSE)
        return;
    for (i = 0; i < d->rows * d->n_t; i++)
        if (d->t[i] == 0)
            d->t[i] = -1;
}

static int rt_csv_parse(RtCsv *c, RtData *d, const NncModel *m, const char *label,
                        int need_targets) {
    char *first_pos;
    long first_line, rows = 0, i;
    int header, more;
    if ((more = rt_csv_next(c)) <= 0) {
        if (more == 0)
            rt_error("%s: empty file", c->path);
        return -1;
    }
    c->ncols = rt_csv_count_fields(c->begin, c->end);
    header = rt_csv_is_header(c->begin, c->end);
    if (label && rt_csv_find_label(c, label, header ? c->begin : NULL, c->end) != 0)
        return -1;
    if (rt_csv_layout(c, m, need_targets, c->line) != 0)
        return -1;
    /* Count the rows, then come back to the first one. */
    first_pos = header ? c->pos : c->begin;
    first_line = header ? c->next_line : c->line;
    rows = header ? 0 : 1;
    while ((more = rt_csv_next(c)) > 0)
        rows++;
    if (more < 0)
        return -1;
    if (rows == 0) {
        rt_error("%s: no data rows", c->path);
        return -1;
    }
    d->rows = rows;
    d->n_x = m->n_inputs;
    d->n_t = need_targets ? m->target_width : 0;
    d->x = rt_alloc_big(sizeof(nnc_real) * (size_t)(rows * (d->n_x + d->n_t)), "the data");
    if (!d->x)
        return -1;
    d->t = d->x + rows * d->n_x;
    c->pos = first_pos;
    c->next_line = first_line;
    for (i = 0; i < rows && rt_csv_next(c) > 0; i++)
        if (rt_csv_row(c, d->x + i * d->n_x, d->t + i * d->n_t) != 0)
            return -1;
    rt_csv_map_hinge(c, d);
    return 0;
}

int rt_data_load(RtData *d, const char *path, const NncModel *m, const char *label,
                 int need_targets) {
    RtCsv c;
    size_t size;
    int rc;
    memset(d, 0, sizeof *d);
    memset(&c, 0, sizeof c);
    d->path = path;
    c.path = path;
    c.n_x = m->n_inputs;
    c.label = -1;
    c.next_line = 1;
    c.loss = m->loss;
    c.text = rt_read_file(path, &size);
    if (!c.text)
        return -1;
    c.pos = c.text;
    c.limit = c.text + size;
    if (size >= 3 && memcmp(c.text, "\xEF\xBB\xBF", 3) == 0)
        c.pos += 3; /* a UTF-8 byte-order mark, as spreadsheets write */
    rc = rt_csv_parse(&c, d, m, label, need_targets);
    free(c.role);
    free(c.text);
    if (rc != 0)
        rt_data_free(d);
    d->path = path;
    return rc;
}

void rt_data_free(RtData *d) {
    free(d->x);
    d->x = d->t = NULL;
    d->rows = 0;
}
