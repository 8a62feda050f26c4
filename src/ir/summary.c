/*
** summary.c — parameter counts and the exact memory a trainer allocates
** (SPEC 3 "summary"), printed as Keras' model.summary() prints a model.
**
** The memory is what the generated trainer's one allocation holds:
**   parameters       every parameter, trainable or not (statistics included)
**   gradients        one per trainable scalar
**   optimizer state  per trainable scalar, the slots its update keeps (SPEC 1.9; ir_opt_slots)
**   activations      2 x batch x every computed value of forward: the value
**                    and its gradient, per row of the batch
** Data is the runtime's and depends on the CSV file, so it is not here.
*/
#include "ir.h"

#include <inttypes.h>
#include <string.h>

/* Scalars of every computed node of forward, for one row. */
static int64_t activation_scalars(const IrFunc *f) {
    int64_t n = 0;
    for (int i = 0; f && i < f->nodes.len; i++)
        if (!(ir_ops[f->nodes.items[i]->op].flags & OPF_LEAF)) n += shape_numel(f->nodes.items[i]->shape);
    return n;
}

IrMemory ir_memory(const IrModule *m, int batch_size, int scalar_bytes) {
    int64_t all = ir_param_count(m, false), trainable = ir_param_count(m, true);
    int64_t batch = batch_size > 0 ? batch_size : 0;
    IrMemory mem = {
        .params = all * scalar_bytes,
        .gradients = trainable * scalar_bytes,
        .optimizer_state = ir_opt_slots(&m->optimizer) * trainable * scalar_bytes,
        .activations = 2 * batch * activation_scalars(m->forward) * scalar_bytes,
    };
    mem.total = mem.params + mem.gradients + mem.optimizer_state + mem.activations;
    return mem;
}

/* ---- printing ---- */

/* 1234567 -> "1,234,567", as Keras writes counts. */
static char *with_commas(int64_t v, char *buf, size_t size) {
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%" PRIu64, (uint64_t)(v < 0 ? -v : v));
    size_t j = 0;
    if (v < 0 && j + 1 < size) buf[j++] = '-';
    for (int i = 0; i < len && j + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && j + 2 < size) buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}

/* "240 B", "5.63 KiB", "1.20 MiB": binary units, two decimals. */
static char *human_bytes(int64_t bytes, char *buf, size_t size) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(buf, size, "%" PRId64 " B", bytes);
        return buf;
    }
    double v = (double)bytes / 1024;
    int u = 0;
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, "%.2f %s", v, units[u]);
    return buf;
}

/* "dense" -> "Dense", "batch_norm" -> "BatchNorm": Keras shows class names. */
static char *class_name(const char *kind, char *buf, size_t size) {
    size_t j = 0;
    bool upper = true;
    for (const char *c = kind; *c && j + 1 < size; c++) {
        if (*c == '_') {
            upper = true;
            continue;
        }
        buf[j++] = upper && *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c;
        upper = false;
    }
    buf[j] = '\0';
    return buf;
}

/* The per-sample shape with Keras' batch axis first: (None, 30); (None,). */
static char *keras_shape(Shape s, char *buf, size_t size) {
    size_t len = (size_t)snprintf(buf, size, "(None%s", s.rank ? "" : ",");
    for (int i = 0; i < s.rank && len < size; i++) len += (size_t)snprintf(buf + len, size - len, ", %d", s.dim[i]);
    if (len < size) snprintf(buf + len, size - len, ")");
    return buf;
}

enum { NAME_W = 28, SHAPE_W = 26, COUNT_W = 10 };

typedef struct Columns {
    int name, shape, count;
} Columns;

static void layer_name(const IrLayer *l, char *buf, size_t size) {
    char cls[64];
    if (l->kind) snprintf(buf, size, "%s (%s)", l->name ? l->name : "?", class_name(l->kind, cls, sizeof cls));
    else snprintf(buf, size, "%s", l->name ? l->name : "?");
}

/* Keras' default widths (65 columns), widened to fit long names. */
static Columns columns(const IrModule *m) {
    Columns c = {NAME_W, SHAPE_W, COUNT_W};
    for (int i = 0; i < m->layers.len; i++) {
        char name[256], shape[128];
        const IrLayer *l = &m->layers.items[i];
        layer_name(l, name, sizeof name);
        int wn = (int)strlen(name) + 1, ws = (int)strlen(keras_shape(l->out, shape, sizeof shape)) + 1;
        if (wn > c.name) c.name = wn;
        if (ws > c.shape) c.shape = ws;
    }
    return c;
}

static void rule(FILE *out, const Columns *c, char ch) {
    for (int i = 0; i < 1 + c->name + c->shape + c->count; i++) fputc(ch, out);
    fputc('\n', out);
}

static void print_layers(FILE *out, const IrModule *m, const Columns *c) {
    fprintf(out, " %-*s%-*s%s\n", c->name, "Layer (type)", c->shape, "Output Shape", "Param #");
    rule(out, c, '=');
    for (int i = 0; i < m->layers.len; i++) {
        const IrLayer *l = &m->layers.items[i];
        char name[256], shape[128], count[32];
        layer_name(l, name, sizeof name);
        fprintf(out, " %-*s%-*s%s\n", c->name, name, c->shape, keras_shape(l->out, shape, sizeof shape),
                with_commas(l->nparams, count, sizeof count));
    }
    rule(out, c, '=');
}

static void print_total(FILE *out, const char *what, int64_t count, int scalar_bytes) {
    char n[32], h[32];
    fprintf(out, "%s params: %s (%s)\n", what, with_commas(count, n, sizeof n),
            human_bytes(count * scalar_bytes, h, sizeof h));
}

/* "  Gradients:        1,381 scalars      5,524 B  (5.39 KiB)" */
static void print_memory_line(FILE *out, const char *what, int64_t bytes, int scalar_bytes,
                              const char *suffix) {
    char n[32], b[32], h[32];
    fprintf(out, "  %-17s%13s scalars %14s B  (%s)%s\n", what, with_commas(bytes / scalar_bytes, n, sizeof n),
            with_commas(bytes, b, sizeof b), human_bytes(bytes, h, sizeof h), suffix);
}

/* With batch_size all (0) the rows per step are known only when the data is
** read, so activations are given per row and left out of the total. */
static void print_memory(FILE *out, const IrModule *m, int batch_size, int scalar_bytes) {
    bool per_row = batch_size < 1;
    IrMemory mem = ir_memory(m, batch_size, scalar_bytes);
    char type[16];
    if (scalar_bytes == 4 || scalar_bytes == 8) snprintf(type, sizeof type, "f%d", scalar_bytes * 8);
    else snprintf(type, sizeof type, "%d-byte", scalar_bytes);
    if (per_row) fprintf(out, "Memory (%s scalars, batch_size all):\n", type);
    else fprintf(out, "Memory (%s scalars, batch_size %d):\n", type, batch_size);
    print_memory_line(out, "Parameters:", mem.params, scalar_bytes, "");
    print_memory_line(out, "Gradients:", mem.gradients, scalar_bytes, "");
    print_memory_line(out, "Optimizer state:", mem.optimizer_state, scalar_bytes, "");
    if (per_row)
        print_memory_line(out, "Activations:", ir_memory(m, 1, scalar_bytes).activations, scalar_bytes,
                          " per row");
    else
        print_memory_line(out, "Activations:", mem.activations, scalar_bytes, "");
    print_memory_line(out, "Total:", mem.total, scalar_bytes, per_row ? " + activations x rows" : "");
}

void ir_print_summary(FILE *out, const IrModule *m, int batch_size, int scalar_bytes) {
    if (scalar_bytes < 1) die("ir_print_summary: scalar size %d", scalar_bytes);
    Columns c = columns(m);
    fprintf(out, "Model: \"%s\"\n", m->name ? m->name : "?");
    rule(out, &c, '_');
    print_layers(out, m, &c);
    int64_t all = ir_param_count(m, false), trainable = ir_param_count(m, true);
    print_total(out, "Total", all, scalar_bytes);
    print_total(out, "Trainable", trainable, scalar_bytes);
    print_total(out, "Non-trainable", all - trainable, scalar_bytes);
    rule(out, &c, '_');
    print_memory(out, m, batch_size, scalar_bytes);
}
