/*
** pass_fold.c — constant folding: a node whose operands are all constants
** becomes a constant. The result is a fill when every element is equal
** (cheap in any size), element data otherwise (only up to FOLD_MAX_DATA
** elements, so that folding never bloats the generated code).
**
** The values are the reference interpreter's (interp.c): the scalar
** functions below are written exactly as it writes them, because a fold
** that differed from the oracle would change what a model computes. Ops it
** folds: element-wise, reductions, softmax, matmul, outer, reshape,
** transpose, slice, pad, broadcast, one_hot. Never: leaves, dropout (random),
** batch_sum (its value depends on the batch's size).
*/
#include "ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { FOLD_MAX_DATA = 1 << 16 };

/* Folding computes exactly what the interpreter would: ir_scalar_unary
** and ir_scalar_binary are its scalar functions (interp.c). */

double pass_eval_ew(Op op, double value, const double *x) {
    switch (ir_ops[op].arity) {
    case 1: return ir_scalar_unary(op, value, x[0]);
    case 2: return ir_scalar_binary(op, x[0], x[1]);
    default: return x[0] != 0 ? x[1] : x[2]; /* SELECT */
    }
}

/* ---- reading constants ---- */

static double elem(const IrNode *c, int64_t i) {
    return c->data ? c->data[i] : c->value;
}

/* NumPy broadcasting: the offset in an operand of shape `in` of element o
** of a result of shape `out`. */
static int64_t bcast_offset(Shape out, int64_t o, Shape in) {
    int64_t off = 0, stride = 1;
    for (int i = out.rank - 1, j = in.rank - 1; i >= 0; i--, j--) {
        int64_t k = o % out.dim[i];
        o /= out.dim[i];
        if (j < 0) continue;
        if (in.dim[j] != 1) off += k * stride;
        stride *= in.dim[j];
    }
    return off;
}

static int64_t offset_of(Shape s, const int *idx) {
    int64_t off = 0;
    for (int i = 0; i < s.rank; i++) off = off * s.dim[i] + idx[i];
    return off;
}

static void index_of(Shape s, int64_t o, int *idx) {
    for (int i = s.rank - 1; i >= 0; i--) {
        idx[i] = (int)(o % s.dim[i]);
        o /= s.dim[i];
    }
}

/* ---- computing a folded tensor ---- */

static void elementwise(const IrNode *n, IrNode *const *in, double *out) {
    for (int64_t o = 0; o < shape_numel(n->shape); o++) {
        double v[IR_MAX_IN];
        for (int k = 0; k < n->nin; k++) v[k] = elem(in[k], bcast_offset(n->shape, o, in[k]->shape));
        out[o] = pass_eval_ew(n->op, n->value, v);
    }
}

static void axis_split(Shape s, int axis, int64_t *outer, int64_t *len, int64_t *inner) {
    *outer = *inner = 1;
    if (axis == IR_AXIS_ALL) {
        *len = shape_numel(s);
        return;
    }
    for (int i = 0; i < axis; i++) *outer *= s.dim[i];
    *len = s.dim[axis];
    for (int i = axis + 1; i < s.rank; i++) *inner *= s.dim[i];
}

/* One line of a reduction or a softmax, as the interpreter computes it. */
static double line_max(const IrNode *x, int64_t base, int64_t len, int64_t stride) {
    double m = -INFINITY;
    for (int64_t i = 0; i < len; i++) {
        double v = elem(x, base + i * stride);
        if (isnan(v)) return v;
        if (v > m) m = v;
    }
    return m;
}

static double reduce_line(Op op, const IrNode *x, int64_t base, int64_t len, int64_t stride) {
    if (op == OP_MAX) return line_max(x, base, len, stride);
    double m = op == OP_LOGSUMEXP ? line_max(x, base, len, stride) : 0, s = 0;
    if (op == OP_LOGSUMEXP && isinf(m)) return m;
    for (int64_t i = 0; i < len; i++) {
        double v = elem(x, base + i * stride);
        s += op == OP_LOGSUMEXP ? exp(v - m) : v;
    }
    if (op == OP_MEAN) return s / (double)len;
    return op == OP_LOGSUMEXP ? m + log(s) : s;
}

static void reduce(const IrNode *n, const IrNode *x, double *out) {
    int64_t outer, len, inner;
    axis_split(x->shape, n->axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            out[o * inner + i] = reduce_line(n->op, x, o * len * inner + i, len, inner);
}

static void softmax(const IrNode *n, const IrNode *x, double *out) {
    int64_t outer, len, inner;
    axis_split(x->shape, n->axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i;
            double m = line_max(x, base, len, inner), s = 0;
            for (int64_t k = 0; k < len; k++) s += out[base + k * inner] = exp(elem(x, base + k * inner) - m);
            for (int64_t k = 0; k < len; k++) out[base + k * inner] /= s;
        }
    }
}

static void matmul(const IrNode *n, const IrNode *a, const IrNode *b, double *out) {
    Shape sa = a->shape, sb = b->shape;
    int64_t rows = sa.rank == 2 ? sa.dim[0] : 1, k = sa.dim[sa.rank - 1];
    int64_t cols = sb.rank == 2 ? sb.dim[1] : 1;
    (void)n;
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < cols; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++) s += elem(a, i * k + p) * elem(b, p * cols + j);
            out[i * cols + j] = s;
        }
    }
}

/* Element o of the result read from where the op takes it in x; -1: zero. */
static int64_t source_offset(const IrNode *n, const IrNode *x, int64_t o) {
    int idx[IR_MAX_RANK], src[IR_MAX_RANK];
    switch (n->op) {
    case OP_RESHAPE: return o;
    case OP_BROADCAST: return bcast_offset(n->shape, o, x->shape);
    case OP_TRANSPOSE:
        index_of(n->shape, o, idx);
        for (int i = 0; i < n->shape.rank; i++) src[i] = idx[n->shape.rank - 1 - i];
        return offset_of(x->shape, src);
    case OP_SLICE: {
        index_of(n->shape, o, idx);
        for (int i = 0, j = 0; i < x->shape.rank; i++) {
            bool dropped = i < n->slice.rank && (n->slice.drop >> i & 1u);
            int start = i < n->slice.rank ? n->slice.start[i] : 0;
            src[i] = start + (dropped ? 0 : idx[j++]);
        }
        return offset_of(x->shape, src);
    }
    case OP_PAD: {
        index_of(n->shape, o, idx);
        for (int i = 0, j = 0; i < n->shape.rank; i++) {
            bool indexed = i < n->slice.rank, dropped = indexed && (n->slice.drop >> i & 1u);
            int lo = indexed ? n->slice.start[i] : 0;
            int hi = !indexed ? n->shape.dim[i] : dropped ? lo + 1 : n->slice.stop[i];
            if (idx[i] < lo || idx[i] >= hi) return -1;
            if (!dropped) src[j++] = idx[i] - lo;
        }
        return offset_of(x->shape, src);
    }
    default: die("fold: %s does not move elements", ir_ops[n->op].name);
    }
}

static void move(const IrNode *n, const IrNode *x, double *out) {
    for (int64_t o = 0; o < shape_numel(n->shape); o++) {
        int64_t s = source_offset(n, x, o);
        out[o] = s < 0 ? 0 : elem(x, s);
    }
}

static void outer(const IrNode *a, const IrNode *b, double *out) {
    int64_t rows = shape_numel(a->shape), cols = shape_numel(b->shape);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) out[i * cols + j] = elem(a, i) * elem(b, j);
}

static void one_hot(const IrNode *n, const IrNode *x, double *out) {
    double k = elem(x, 0);
    if (k >= 0 && k < n->axis && k == floor(k)) out[(int)k] = 1;
}

static bool foldable(const IrNode *n, IrNode *const *in) {
    unsigned flags = ir_ops[n->op].flags;
    if ((flags & (OPF_LEAF | OPF_NOCSE)) || n->op == OP_BATCH_SUM) return false;
    for (int k = 0; k < n->nin; k++)
        if (in[k]->op != OP_CONST) return false;
    return true;
}

static void compute(const IrNode *n, IrNode *const *in, double *out) {
    unsigned flags = ir_ops[n->op].flags;
    if (flags & OPF_EW) elementwise(n, in, out);
    else if (flags & OPF_REDUCE) reduce(n, in[0], out);
    else if (n->op == OP_SOFTMAX) softmax(n, in[0], out);
    else if (n->op == OP_MATMUL) matmul(n, in[0], in[1], out);
    else if (n->op == OP_OUTER) outer(in[0], in[1], out);
    else if (n->op == OP_ONE_HOT) one_hot(n, in[0], out);
    else move(n, in[0], out);
}

/* Fills in, a fill out, one scalar computed: element-wise ops and the ops
** that only move elements (PAD brings zeros in, so it is not one of them). */
static bool fill_in_fill_out(const IrNode *n, IrNode *const *in, double *value) {
    bool moves = n->op == OP_RESHAPE || n->op == OP_BROADCAST || n->op == OP_TRANSPOSE ||
                 n->op == OP_SLICE;
    if (!(ir_ops[n->op].flags & OPF_EW) && !moves) return false;
    double v[IR_MAX_IN];
    for (int k = 0; k < n->nin; k++) {
        if (in[k]->data) return false;
        v[k] = in[k]->value;
    }
    *value = moves ? v[0] : pass_eval_ew(n->op, n->value, v);
    return true;
}

static int64_t operand_elements(const IrNode *n, IrNode *const *in) {
    int64_t total = shape_numel(n->shape);
    for (int k = 0; k < n->nin; k++) total += shape_numel(in[k]->shape);
    return total;
}

/* The folded constant, or NULL when n is left as it is. */
static IrNode *fold(IrFunc *g, const IrNode *n, IrNode *const *in) {
    if (!foldable(n, in)) return NULL;
    double value;
    if (fill_in_fill_out(n, in, &value)) return ir_const(g, value, n->shape, n->loc);
    if (operand_elements(n, in) > FOLD_MAX_DATA) return NULL;
    int64_t count = shape_numel(n->shape);
    double *out = calloc((size_t)count, sizeof *out);
    if (!out) die("out of memory");
    compute(n, in, out);
    bool same = true;
    for (int64_t i = 1; i < count && same; i++) same = memcmp(&out[i], &out[0], sizeof *out) == 0;
    IrNode *c = same ? ir_const(g, out[0], n->shape, n->loc) : ir_const_data(g, out, n->shape, n->loc);
    free(out);
    return c;
}

IrFunc *pass_fold(const IrFunc *f) {
    IrNode **map;
    IrFunc *g = pass_begin(f, &map);
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        IrNode *in[IR_MAX_IN];
        for (int k = 0; k < n->nin; k++) in[k] = map[n->in[k]->id];
        IrNode *c = fold(g, n, in);
        map[i] = c ? c : ir_clone(g, n, in);
    }
    pass_end(g, f, map);
    return g;
}
