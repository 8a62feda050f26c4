/*
** layout.c — where each parameter, gradient and optimizer-state tensor
** lives in the runtime's buffers, how a CSV row's targets reach the
** kernels, and the model's signature. Both backends and the descriptor
** read it, so they agree by construction.
*/
#include "codegen.h"

#include <string.h>

#include "nnc_abi.h"

/* Tensors start on 16-real boundaries (64 bytes in f32): whole vectors
** for the kernels, whatever the shapes before them. */
static long align16(long n) {
    return (n + 15) / 16 * 16;
}

void cg_fans(Shape s, long *fan_in, long *fan_out) {
    if (s.rank == 0) {
        *fan_in = *fan_out = 1;
    } else if (s.rank == 1) {
        *fan_in = *fan_out = s.dim[0];
    } else {
        /* Keras: the receptive field is every axis but the last two. */
        long field = 1;
        for (int i = 0; i < s.rank - 2; i++) field *= s.dim[i];
        *fan_in = s.dim[s.rank - 2] * field;
        *fan_out = s.dim[s.rank - 1] * field;
    }
}

static const char *signature(Arena *a, const IrModule *m) {
    char *text = arena_strdup(a, "");
    for (int i = 0; i < m->params.len; i++) {
        char shape[128];
        text = arena_printf(a, "%s%s%s\n", text, m->params.items[i].name,
                            shape_format(m->params.items[i].shape, shape, sizeof shape));
    }
    char hex[65];
    cg_sha256_hex(text, strlen(text), hex);
    hex[32] = '\0'; /* 128 bits tell models apart */
    return arena_strdup(a, hex);
}

static int last_dim(Shape s) {
    return s.rank ? s.dim[s.rank - 1] : 1;
}

CgLayout cg_layout(Arena *a, const IrModule *m) {
    CgLayout l = {0};
    int n = m->params.len;
    l.param_off = ARENA_ARRAY(a, long, n + 1);
    l.opt_off = ARENA_ARRAY(a, long, 4 * n + 1);
    l.opt_slots = m->opt_slots;
    for (int i = 0; i < n; i++) {
        const IrParam *p = &m->params.items[i];
        l.param_off[i] = l.param_floats;
        l.param_floats += align16(shape_numel(p->shape));
        for (int s = 0; s < 4; s++) {
            bool has = p->trainable && s < m->opt_slots;
            l.opt_off[4 * i + s] = has ? l.opt_floats : -1;
            if (has) l.opt_floats += align16(shape_numel(p->shape));
        }
    }
    long outputs = shape_numel(m->output_shape);
    if (m->loss == LOSS_SPARSE_CATEGORICAL_CE) {
        l.target_kind = NNC_TARGET_CLASS_INDEX;
        l.target_width = outputs / last_dim(m->output_shape);
    } else {
        l.target_kind = m->loss == LOSS_CATEGORICAL_CE ? NNC_TARGET_ONE_HOT : NNC_TARGET_DENSE;
        l.target_width = outputs;
    }
    l.signature = signature(a, m);
    return l;
}

/* Keras' compile(): binary for one output unit or a binary loss, sparse
** for the sparse loss, else categorical. */
MetricKind cg_metric(const IrModule *m, MetricKind k) {
    if (k != MET_ACCURACY) return k;
    if (m->loss == LOSS_SPARSE_CATEGORICAL_CE) return MET_SPARSE_CATEGORICAL_ACCURACY;
    if (last_dim(m->output_shape) == 1 || m->loss == LOSS_BINARY_CE || m->loss == LOSS_HINGE ||
        m->loss == LOSS_SQUARED_HINGE)
        return MET_BINARY_ACCURACY;
    return MET_CATEGORICAL_ACCURACY;
}
