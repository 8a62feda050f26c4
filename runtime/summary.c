/*
** summary.c — the `summary` command (SPEC 3): Keras' model.summary()
** layout (65 columns; name, output shape and parameter count at columns
** 1, 29 and 55), then the exact bytes train allocates, from the same plan
** (plan.c) that train allocates by.
*/
#include "runtime.h"

#include <ctype.h>
#include <string.h>

static void rt_summary_rule(char c) {
    char line[66];
    memset(line, c, 65);
    line[65] = '\0';
    puts(line);
}

/* "dense" -> "Dense", "leaky_relu" -> "LeakyRelu": Keras shows class names. */
static void rt_summary_kind(char *buf, size_t size, const char *kind) {
    size_t o = 0;
    int up = 1;
    for (; kind && *kind && o + 1 < size; kind++) {
        if (*kind == '_') {
            up = 1;
            continue;
        }
        buf[o++] = up ? (char)toupper((unsigned char)*kind) : *kind;
        up = 0;
    }
    buf[o] = '\0';
}

/* A layer's output as Keras prints it, the batch axis first: (None, 4).
** A param is a tensor of its own, not per sample: its shape as Python
** writes the tuple, (4, 2), (4,) or (). */
static void rt_summary_shape(char *buf, size_t size, int batch, int rank, const int *dims) {
    size_t o = (size_t)snprintf(buf, size, batch ? "(None" : "(");
    int i;
    for (i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, batch || i ? ", %d" : "%d", dims[i]);
    if (o < size)
        snprintf(buf + o, size - o, rank == (batch ? 0 : 1) ? ",)" : ")");
}

/* One row, fields starting at columns 29 and 55 (0-based), as Keras'
** print_row; a field too long for its column pushes the next one right
** (Keras wraps it instead), two spaces apart. */
static void rt_summary_row(const char *a, const char *b, const char *c) {
    int n = printf(" %s", a);
    n += printf("%*s%s", n <= 27 ? 29 - n : 2, "", b);
    printf("%*s%s\n", n <= 53 ? 55 - n : 2, "", c);
}

/* Keras' readable_memory_size: "5.75 KB", "240.00 Byte". */
static void rt_summary_size(char *buf, size_t size, double bytes) {
    static const char *const units[] = {"Byte", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes / 1024 >= 1 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, size, "%.2f %s", bytes, units[u]);
}

static void rt_summary_params(const NncModel *m) {
    long long total = 0, trainable = 0;
    char count[32], size[32];
    int i;
    for (i = 0; i < m->n_params; i++) {
        total += m->params[i].size;
        if (m->params[i].trainable)
            trainable += m->params[i].size;
    }
    rt_format_count(count, sizeof count, total);
    rt_summary_size(size, sizeof size, (double)total * (double)sizeof(nnc_real));
    printf("Total params: %s (%s)\n", count, size);
    rt_format_count(count, sizeof count, trainable);
    rt_summary_size(size, sizeof size, (double)trainable * (double)sizeof(nnc_real));
    printf("Trainable params: %s (%s)\n", count, size);
    rt_format_count(count, sizeof count, total - trainable);
    rt_summary_size(size, sizeof size, (double)(total - trainable) * (double)sizeof(nnc_real));
    printf("Non-trainable params: %s (%s)\n", count, size);
}

static void rt_summary_bytes(const char *what, size_t bytes) {
    char count[32];
    rt_format_count(count, sizeof count, (long long)bytes);
    printf(" %-22s %16s bytes\n", what, count);
}

static void rt_summary_memory(const NncModel *m, const RtOptions *o) {
    long batch = o->set & RT_SET_BATCH ? o->batch_size : m->batch_size;
    RtPlan plan;
    char count[32], size[32];
    rt_plan(&plan, m, batch, o->threads, 1);
    printf("Trainer memory (%s, batch size ", sizeof(nnc_real) == 8 ? "f64" : "f32");
    if (batch > 0)
        printf("%ld", batch);
    else
        printf("all");
    printf(", %d thread%s, chunks of %ld rows):\n", plan.workers, plan.workers == 1 ? "" : "s",
           plan.chunk_rows);
    rt_summary_bytes("parameters", plan.params);
    rt_summary_bytes("gradients", plan.grads);
    rt_summary_bytes("optimizer state", plan.opt);
    rt_summary_bytes("activations", plan.scratch);
    rt_summary_bytes("batch buffers", plan.io);
    if (plan.best)
        rt_summary_bytes("best weights", plan.best);
    rt_format_count(count, sizeof count, (long long)plan.total);
    rt_summary_size(size, sizeof size, (double)plan.total);
    printf(" %-22s %16s bytes (%s), in one allocation\n", "total", count, size);
    rt_format_count(count, sizeof count, rt_data_bytes_per_row(m));
    printf(" %-22s %16s bytes per row of the data file\n", "data", count);
}

int rt_cmd_summary(const NncModel *m, const RtOptions *o) {
    int i;
    printf("Model: \"%s\"\n", m->name ? m->name : "model");
    rt_summary_rule('_');
    rt_summary_row("Layer (type)", "Output Shape", "Param #");
    rt_summary_rule('=');
    for (i = 0; i < m->n_layers; i++) {
        const NncLayer *l = &m->layers[i];
        char name[256], kind[64], shape[128], params[32];
        rt_summary_kind(kind, sizeof kind, l->kind);
        snprintf(name, sizeof name, "%s (%s)", l->name ? l->name : "?", kind);
        rt_summary_shape(shape, sizeof shape, !l->kind || strcmp(l->kind, "param") != 0, l->rank, l->dims);
        snprintf(params, sizeof params, "%ld", l->params);
        rt_summary_row(name, shape, params);
        printf("\n");
    }
    rt_summary_rule('=');
    rt_summary_params(m);
    rt_summary_rule('_');
    rt_summary_memory(m, o);
    fflush(stdout);
    return RT_EXIT_OK;
}
