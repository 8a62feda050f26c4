/*
** safetensors.c — the weight file format (SPEC 3 Weights).
**
** Layout (github.com/huggingface/safetensors): an 8-byte little-endian
** header length N; N bytes of JSON,
**   {"__metadata__":{"k":"v",...},"name":{"dtype":"F32","shape":[30,15],
**    "data_offsets":[begin,end]},...}
** padded with spaces to a multiple of 8; then the tensors' little-endian
** bytes, in header order, offsets relative to the end of the header.
**
** The reader trusts nothing: the header is parsed by a strict JSON parser,
** every dtype, shape and offset is checked, and the tensors must tile the
** data section exactly, as the reference implementation demands.
*/
#include "runtime.h"

#include <math.h>

#include <stdlib.h>
#include <string.h>

int rt_real_dtype(void) {
    return sizeof(nnc_real) == 8 ? RT_DT_F64 : RT_DT_F32;
}

const char *rt_dtype_name(int dtype) {
    return dtype == RT_DT_F64 ? "F64" : dtype == RT_DT_F32 ? "F32" : "?";
}

void rt_format_shape(char *buf, size_t size, int rank, const long *dims) {
    size_t o = 0;
    int i;
    o += (size_t)snprintf(buf, size, "[");
    for (i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, i ? ", %ld" : "%ld", dims[i]);
    if (o < size)
        snprintf(buf + o, size - o, "]");
}

void rt_meta_str(RtMeta *meta, const char *key, const char *value) {
    if (meta->n >= RT_MAX_META)
        return;
    meta->key[meta->n] = key;
    meta->value[meta->n] = value ? value : "";
    meta->n++;
}

void rt_meta_fmt(RtMeta *meta, const char *key, const char *fmt, ...) {
    va_list ap;
    if (meta->n >= RT_MAX_META)
        return;
    va_start(ap, fmt);
    vsnprintf(meta->buf[meta->n], sizeof meta->buf[0], fmt, ap);
    va_end(ap);
    meta->key[meta->n] = key;
    meta->value[meta->n] = meta->buf[meta->n];
    meta->n++;
}

/* ---- writing ---- */

static void rt_st_json_string(RtFile *f, const char *s) {
    rt_file_puts(f, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2];
            esc[0] = '\\';
            esc[1] = (char)c;
            rt_file_write(f, esc, 2);
        } else if (c < 0x20) {
            rt_file_printf(f, "\\u%04x", c);
        } else {
            rt_file_write(f, s, 1);
        }
    }
    rt_file_puts(f, "\"");
}

static long rt_st_count(const RtTensorOut *t) {
    long n = 1;
    int i;
    for (i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

static size_t rt_st_elem_size(int dtype) {
    return dtype == RT_DT_F64 ? 8 : 4;
}

static void rt_st_write_header(RtFile *f, int n, RtTensorFn tensor, const void *ctx,
                               const RtMeta *meta) {
    uint64_t offset = 0;
    int i, k;
    rt_file_puts(f, "{");
    if (meta && meta->n > 0) {
        rt_file_puts(f, "\"__metadata__\":{");
        for (i = 0; i < meta->n; i++) {
            if (i)
                rt_file_puts(f, ",");
            rt_st_json_string(f, meta->key[i]);
            rt_file_puts(f, ":");
            rt_st_json_string(f, meta->value[i]);
        }
        rt_file_puts(f, "}");
    }
    for (i = 0; i < n; i++) {
        RtTensorOut t;
        uint64_t bytes;
        memset(&t, 0, sizeof t);
        tensor(ctx, i, &t);
        bytes = (uint64_t)rt_st_count(&t) * rt_st_elem_size(t.dtype);
        if (i || (meta && meta->n > 0))
            rt_file_puts(f, ",");
        rt_st_json_string(f, t.name);
        rt_file_printf(f, ":{\"dtype\":\"%s\",\"shape\":[", rt_dtype_name(t.dtype));
        for (k = 0; k < t.rank; k++)
            rt_file_printf(f, k ? ",%ld" : "%ld", t.dims[k]);
        rt_file_printf(f, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
                       (unsigned long long)(offset + bytes));
        offset += bytes;
    }
    rt_file_puts(f, "}");
}

static void rt_st_write_data(RtFile *f, const RtTensorOut *t) {
    unsigned char buf[1024];
    size_t len = 0;
    long i, n = rt_st_count(t);
    int b;
    for (i = 0; i < n; i++) {
        double v = t->real ? (double)t->real[i] : t->f64[i];
        if (t->dtype == RT_DT_F32) {
            float x = (float)v;
            uint32_t u;
            memcpy(&u, &x, 4);
            for (b = 0; b < 4; b++)
                buf[len++] = (unsigned char)(u >> (8 * b));
        } else {
            uint64_t u;
            memcpy(&u, &v, 8);
            for (b = 0; b < 8; b++)
                buf[len++] = (unsigned char)(u >> (8 * b));
        }
        if (len + 8 > sizeof buf) {
            rt_file_write(f, buf, len);
            len = 0;
        }
    }
    rt_file_write(f, buf, len);
}

/* Writes allocate nothing (checkpoints are written inside the training
** loop): the file's buffer is on the stack. Two passes over the header, the
** first only counting its bytes. */
int rt_st_write(const char *path, int n, RtTensorFn tensor, const void *ctx,
                const RtMeta *meta) {
    RtFile f;
    unsigned char lenbuf[8];
    uint64_t header, padded;
    int i;
    rt_file_count(&f);
    rt_st_write_header(&f, n, tensor, ctx, meta);
    header = f.total;
    padded = (header + 7) / 8 * 8;
    if (rt_file_open(&f, path) != 0)
        return -1;
    for (i = 0; i < 8; i++)
        lenbuf[i] = (unsigned char)(padded >> (8 * i));
    rt_file_write(&f, lenbuf, 8);
    rt_st_write_header(&f, n, tensor, ctx, meta);
    for (; header < padded; header++)
        rt_file_write(&f, " ", 1);
    for (i = 0; i < n; i++) {
        RtTensorOut t;
        memset(&t, 0, sizeof t);
        tensor(ctx, i, &t);
        rt_st_write_data(&f, &t);
    }
    return rt_file_commit(&f);
}

/* ---- the JSON header parser ---- */

typedef struct RtJson {
    const char *path;
    char *p, *end, *start;
} RtJson;

static int rt_json_fail(RtJson *j, const char *what) {
    rt_error("%s: malformed safetensors header: %s at byte %ld", j->path, what,
             (long)(j->p - j->start) + 8);
    return -1;
}

static void rt_json_ws(RtJson *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int rt_json_char(RtJson *j, char c) {
    rt_json_ws(j);
    if (j->p >= j->end || *j->p != c) {
        char what[32];
        snprintf(what, sizeof what, "expected '%c'", c);
        return rt_json_fail(j, what);
    }
    j->p++;
    return 0;
}

static int rt_json_hex4(RtJson *j, unsigned *out) {
    int i;
    *out = 0;
    if (j->end - j->p < 4)
        return rt_json_fail(j, "truncated \\u escape");
    for (i = 0; i < 4; i++) {
        char c = *j->p++;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return rt_json_fail(j, "bad \\u escape");
        *out = *out * 16 + d;
    }
    return 0;
}

static char *rt_json_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

static int rt_json_escape(RtJson *j, char **o) {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k;
    unsigned cp, lo;
    if (j->p >= j->end)
        return rt_json_fail(j, "unterminated string");
    k = strchr(from, *j->p);
    if (*j->p && k) {
        *(*o)++ = to[k - from];
        j->p++;
        return 0;
    }
    if (*j->p++ != 'u')
        return rt_json_fail(j, "bad escape");
    if (rt_json_hex4(j, &cp) != 0)
        return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return rt_json_fail(j, "lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
            return rt_json_fail(j, "lone high surrogate");
        j->p += 2;
        if (rt_json_hex4(j, &lo) != 0)
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return rt_json_fail(j, "bad surrogate pair");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0)
        return rt_json_fail(j, "NUL in string");
    *o = rt_json_utf8(*o, cp);
    return 0;
}

/* A string, decoded in place (never longer than its source) and
** NUL-terminated where its closing quote was. */
static int rt_json_string(RtJson *j, char **out) {
    char *o;
    if (rt_json_char(j, '"') != 0)
        return -1;
    o = *out = j->p;
    for (;;) {
        unsigned char c;
        if (j->p >= j->end)
            return rt_json_fail(j, "unterminated string");
        c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            *o = '\0';
            return 0;
        }
        if (c < 0x20)
            return rt_json_fail(j, "control character in string");
        j->p++;
        if (c == '\\') {
            if (rt_json_escape(j, &o) != 0)
                return -1;
        } else {
            *o++ = (char)c;
        }
    }
}

/* A non-negative integer below 2^53 (shapes and offsets). */
static int rt_json_uint(RtJson *j, uint64_t *v) {
    rt_json_ws(j);
    *v = 0;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return rt_json_fail(j, "expected a non-negative integer");
    if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
        return rt_json_fail(j, "leading zero");
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        *v = *v * 10 + (uint64_t)(*j->p++ - '0');
        if (*v > (UINT64_C(1) << 53))
            return rt_json_fail(j, "integer too large");
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
        return rt_json_fail(j, "expected an integer");
    return 0;
}

static int rt_json_skip(RtJson *j, int depth);

static int rt_json_skip_number(RtJson *j) {
    char *b = j->p;
    if (*j->p == '-')
        j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return rt_json_fail(j, "bad value");
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' ||
                             *j->p == 'E' || *j->p == '+' || *j->p == '-'))
        j->p++;
    return j->p > b ? 0 : -1;
}

static int rt_json_skip_list(RtJson *j, int depth, char close, int object) {
    char *s;
    j->p++;
    rt_json_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
    }
    for (;;) {
        if (object && (rt_json_string(j, &s) != 0 || rt_json_char(j, ':') != 0))
            return -1;
        if (rt_json_skip(j, depth + 1) != 0)
            return -1;
        rt_json_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        return rt_json_char(j, close);
    }
}

/* Any value, for keys the format does not define. */
static int rt_json_skip(RtJson *j, int depth) {
    char *s;
    rt_json_ws(j);
    if (depth > 32)
        return rt_json_fail(j, "nesting too deep");
    if (j->p >= j->end)
        return rt_json_fail(j, "unexpected end");
    switch (*j->p) {
    case '"': return rt_json_string(j, &s);
    case '{': return rt_json_skip_list(j, depth, '}', 1);
    case '[': return rt_json_skip_list(j, depth, ']', 0);
    case 't': case 'f': case 'n': {
        static const char *const words[] = {"true", "false", "null"};
        int i;
        for (i = 0; i < 3; i++) {
            size_t n = strlen(words[i]);
            if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0) {
                j->p += n;
                return 0;
            }
        }
        return rt_json_fail(j, "bad value");
    }
    default: return rt_json_skip_number(j);
    }
}

/* ---- reading ---- */

static int rt_st_dtype(const char *name, size_t *size) {
    static const struct { const char *name; size_t size; } types[] = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
        {"I8", 1}, {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1}, {"BOOL", 1},
        {"F8_E5M2", 1}, {"F8_E4M3", 1}};
    size_t i;
    for (i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name, types[i].name) == 0) {
            *size = types[i].size;
            return strcmp(name, "F64") == 0 ? RT_DT_F64 : strcmp(name, "F32") == 0 ? RT_DT_F32 : RT_DT_OTHER;
        }
    *size = 0;
    return -1;
}

static int rt_st_shape(RtJson *j, RtStTensor *t) {
    if (rt_json_char(j, '[') != 0)
        return -1;
    rt_json_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return 0;
    }
    for (;;) {
        uint64_t v;
        if (t->rank >= NNC_MAX_RANK)
            return rt_json_fail(j, "shape of too many dimensions");
        if (rt_json_uint(j, &v) != 0)
            return -1;
        t->dims[t->rank++] = (long)v;
        rt_json_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        return rt_json_char(j, ']');
    }
}

static int rt_st_offsets(RtJson *j, RtStTensor *t) {
    uint64_t b, e;
    if (rt_json_char(j, '[') != 0 || rt_json_uint(j, &b) != 0 || rt_json_char(j, ',') != 0 ||
        rt_json_uint(j, &e) != 0 || rt_json_char(j, ']') != 0)
        return -1;
    t->begin = (size_t)b;
    t->end = (size_t)e;
    return 0;
}

/* {"dtype": ..., "shape": [...], "data_offsets": [b, e]} */
static int rt_st_tensor_info(RtJson *j, RtStTensor *t) {
    int seen = 0;
    if (rt_json_char(j, '{') != 0)
        return -1;
    rt_json_ws(j);
    if (j->p < j->end && *j->p == '}')
        return rt_json_fail(j, "empty tensor entry");
    for (;;) {
        char *key, *dt;
        int bit = 0;
        if (rt_json_string(j, &key) != 0 || rt_json_char(j, ':') != 0)
            return -1;
        bit = strcmp(key, "dtype") == 0 ? 1 : strcmp(key, "shape") == 0 ? 2
            : strcmp(key, "data_offsets") == 0 ? 4 : 0;
        if (bit & seen)
            return rt_json_fail(j, "duplicate key");
        seen |= bit;
        if (bit == 1) {
            size_t size;
            if (rt_json_string(j, &dt) != 0)
                return -1;
            t->dtype_name = dt;
            t->dtype = rt_st_dtype(dt, &size);
        } else if ((bit == 2 && rt_st_shape(j, t) != 0) || (bit == 4 && rt_st_offsets(j, t) != 0) ||
                   (bit == 0 && rt_json_skip(j, 1) != 0)) {
            return -1;
        }
        rt_json_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (rt_json_char(j, '}') != 0)
            return -1;
        return seen == 7 ? 0 : rt_json_fail(j, "tensor entry without dtype, shape or data_offsets");
    }
}

static int rt_st_metadata(RtJson *j, RtStFile *f) {
    if (rt_json_char(j, '{') != 0)
        return -1;
    rt_json_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return 0;
    }
    for (;;) {
        char *key, *value;
        const char **nk, **nv;
        if (rt_json_string(j, &key) != 0 || rt_json_char(j, ':') != 0)
            return -1;
        rt_json_ws(j);
        if (j->p >= j->end || *j->p != '"')
            return rt_json_fail(j, "__metadata__ values must be strings");
        if (rt_json_string(j, &value) != 0)
            return -1;
        nk = realloc(f->meta_key, sizeof *nk * (size_t)(f->n_meta + 1));
        rt_heap_allocs++;
        if (nk)
            f->meta_key = nk;
        nv = realloc(f->meta_value, sizeof *nv * (size_t)(f->n_meta + 1));
        rt_heap_allocs++;
        if (nv)
            f->meta_value = nv;
        if (!nk || !nv) {
            rt_error("%s: out of memory reading the header", f->path);
            return -1;
        }
        f->meta_key[f->n_meta] = key;
        f->meta_value[f->n_meta++] = value;
        rt_json_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        return rt_json_char(j, '}');
    }
}

static int rt_st_add_tensor(RtJson *j, RtStFile *f, const char *name) {
    RtStTensor *grown;
    int i;
    for (i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return rt_json_fail(j, "duplicate tensor name");
    grown = realloc(f->tensors, sizeof *grown * (size_t)(f->n_tensors + 1));
    rt_heap_allocs++;
    if (!grown) {
        rt_error("%s: out of memory reading the header", f->path);
        return -1;
    }
    f->tensors = grown;
    memset(&f->tensors[f->n_tensors], 0, sizeof *grown);
    f->tensors[f->n_tensors].name = name;
    if (rt_st_tensor_info(j, &f->tensors[f->n_tensors]) != 0)
        return -1;
    f->n_tensors++;
    return 0;
}

static int rt_st_parse_header(RtStFile *f, char *begin, char *end) {
    RtJson j;
    int meta_seen = 0;
    j.path = f->path;
    j.p = j.start = begin;
    j.end = end;
    if (rt_json_char(&j, '{') != 0)
        return -1;
    rt_json_ws(&j);
    if (j.p < j.end && *j.p == '}') {
        j.p++;
    } else {
        for (;;) {
            char *key;
            if (rt_json_string(&j, &key) != 0 || rt_json_char(&j, ':') != 0)
                return -1;
            if (strcmp(key, "__metadata__") == 0) {
                if (meta_seen++ || rt_st_metadata(&j, f) != 0)
                    return meta_seen > 1 ? rt_json_fail(&j, "duplicate __metadata__") : -1;
            } else if (rt_st_add_tensor(&j, f, key) != 0) {
                return -1;
            }
            rt_json_ws(&j);
            if (j.p < j.end && *j.p == ',') {
                j.p++;
                continue;
            }
            if (rt_json_char(&j, '}') != 0)
                return -1;
            break;
        }
    }
    rt_json_ws(&j);
    if (j.p != j.end)
        return rt_json_fail(&j, "text after the header object");
    return 0;
}

/* Tensors by data offset: insertion sort, tensors are few and mostly in order. */
static void rt_st_sort(const RtStTensor *t, int *order, int n) {
    int i, k;
    for (i = 0; i < n; i++) {
        int v = order[i];
        for (k = i; k > 0 && (t[order[k - 1]].begin > t[v].begin ||
                              (t[order[k - 1]].begin == t[v].begin && t[order[k - 1]].end > t[v].end));
             k--)
            order[k] = order[k - 1];
        order[k] = v;
    }
}

/* Sizes agree with shapes, offsets lie in the data, tensors tile it. */
static int rt_st_validate(RtStFile *f) {
    size_t data = f->size - f->data_start, at = 0;
    int i, *order;
    for (i = 0; i < f->n_tensors; i++) {
        RtStTensor *t = &f->tensors[i];
        size_t elem, count = 1;
        int k;
        if (rt_st_dtype(t->dtype_name, &elem) < 0) {
            rt_error("%s: tensor \"%s\" has unknown dtype \"%s\"", f->path, t->name, t->dtype_name);
            return -1;
        }
        for (k = 0; k < t->rank; k++) {
            if (t->dims[k] && count > ((size_t)1 << 53) / (size_t)t->dims[k]) {
                rt_error("%s: tensor \"%s\" is too large", f->path, t->name);
                return -1;
            }
            count *= (size_t)t->dims[k];
        }
        if (t->begin > t->end || t->end > data) {
            rt_error("%s: tensor \"%s\" has data_offsets [%lu, %lu] outside the %lu bytes of data",
                     f->path, t->name, (unsigned long)t->begin, (unsigned long)t->end,
                     (unsigned long)data);
            return -1;
        }
        if (t->end - t->begin != count * elem) {
            rt_error("%s: tensor \"%s\" has %lu bytes of data, its dtype and shape need %lu",
                     f->path, t->name, (unsigned long)(t->end - t->begin),
                     (unsigned long)(count * elem));
            return -1;
        }
    }
    order = rt_alloc(sizeof *order * (size_t)(f->n_tensors + 1), "the header");
    if (!order)
        return -1;
    for (i = 0; i < f->n_tensors; i++)
        order[i] = i;
    rt_st_sort(f->tensors, order, f->n_tensors);
    for (i = 0; i < f->n_tensors && f->tensors[order[i]].begin == at; i++)
        at = f->tensors[order[i]].end;
    if (i < f->n_tensors || at != data) {
        rt_error("%s: tensor data overlaps or leaves gaps%s%s%s", f->path,
                 i < f->n_tensors ? " (at tensor \"" : " (at the end of the file",
                 i < f->n_tensors ? f->tensors[order[i]].name : "", i < f->n_tensors ? "\")" : ")");
        free(order);
        return -1;
    }
    free(order);
    return 0;
}

int rt_st_open(RtStFile *f, const char *path) {
    uint64_t n = 0;
    int i;
    memset(f, 0, sizeof *f);
    f->path = path;
    f->bytes = (unsigned char *)rt_read_file(path, &f->size);
    if (!f->bytes)
        return -1;
    if (f->size < 8) {
        rt_error("%s: not a safetensors file (too short)", path);
        rt_st_close(f);
        return -1;
    }
    for (i = 7; i >= 0; i--)
        n = n << 8 | f->bytes[i];
    /* The reference implementation's limit, against absurd lengths. */
    if (n > 100000000) {
        rt_error("%s: not a safetensors file (header length %llu exceeds 100 MB)", path,
                 (unsigned long long)n);
        rt_st_close(f);
        return -1;
    }
    if (n > f->size - 8) {
        rt_error("%s: not a safetensors file (header length %llu, file of %lu bytes)", path,
                 (unsigned long long)n, (unsigned long)f->size);
        rt_st_close(f);
        return -1;
    }
    f->data_start = 8 + (size_t)n;
    if (rt_st_parse_header(f, (char *)f->bytes + 8, (char *)f->bytes + f->data_start) != 0 ||
        rt_st_validate(f) != 0) {
        rt_st_close(f);
        return -1;
    }
    return 0;
}

void rt_st_close(RtStFile *f) {
    free(f->bytes);
    free(f->tensors);
    free(f->meta_key);
    free(f->meta_value);
    memset(f, 0, sizeof *f);
}

const RtStTensor *rt_st_find(const RtStFile *f, const char *name) {
    int i;
    for (i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *rt_st_meta(const RtStFile *f, const char *key) {
    int i;
    for (i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_key[i], key) == 0)
            return f->meta_value[i];
    return NULL;
}

static double rt_st_element(const unsigned char *p, int dtype) {
    int b;
    if (dtype == RT_DT_F32) {
        uint32_t u = 0;
        float x;
        for (b = 3; b >= 0; b--)
            u = u << 8 | p[b];
        memcpy(&x, &u, 4);
        return x;
    } else {
        uint64_t u = 0;
        double x;
        for (b = 7; b >= 0; b--)
            u = u << 8 | p[b];
        memcpy(&x, &u, 8);
        return x;
    }
}

/* A NaN or infinite weight would train or predict NaN without a word. */
int rt_st_check_finite(const RtStFile *f, const RtStTensor *t) {
    const unsigned char *p = f->bytes + f->data_start + t->begin;
    size_t size = t->dtype == RT_DT_F64 ? 8 : 4, i, n = (t->end - t->begin) / size;
    for (i = 0; i < n; i++) {
        double v = rt_st_element(p + i * size, t->dtype);
        if (!isfinite(v)) {
            rt_error("%s: tensor \"%s\" element %lu is %s; weights must be finite numbers",
                     f->path, t->name, (unsigned long)i, v != v ? "nan" : v > 0 ? "inf" : "-inf");
            return -1;
        }
    }
    return 0;
}

void rt_st_read_real(const RtStFile *f, const RtStTensor *t, nnc_real *dst) {
    const unsigned char *p = f->bytes + f->data_start + t->begin;
    size_t size = t->dtype == RT_DT_F64 ? 8 : 4, i, n = (t->end - t->begin) / size;
    for (i = 0; i < n; i++)
        dst[i] = (nnc_real)rt_st_element(p + i * size, t->dtype);
}

void rt_st_read_f64(const RtStFile *f, const RtStTensor *t, double *dst) {
    const unsigned char *p = f->bytes + f->data_start + t->begin;
    size_t size = t->dtype == RT_DT_F64 ? 8 : 4, i, n = (t->end - t->begin) / size;
    for (i = 0; i < n; i++)
        dst[i] = rt_st_element(p + i * size, t->dtype);
}
