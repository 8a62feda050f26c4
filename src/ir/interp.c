/*
** interp.c — the double-precision reference interpreter, the oracle that
** both code generators and autodiff are tested against, and NumPy's repr of
** a tensor for `nnc eval`.
**
** Plain on purpose: every node gets its own malloc'd buffer, every op is a
** loop over multi-indices written the way ops.def states its meaning, and
** speed is irrelevant. A varying node holds one tensor per row (rows x
** numel), a uniform node one tensor; an operand is read at the row being
** computed if it varies, else at its only tensor (SPEC 1.4: per sample).
**
** ir_interp checks first (structure, shapes, attributes, buffers), then
** computes the nodes that the outputs and the result need, then writes the
** outputs: env->params and env->state change only after every read, so an
** update may read w and write w's new value.
**
** Decisions the ops leave open, kept here and for the backends to match:
**   - DROPOUT (train mode) draws its mask like DROPOUT_MASK, with mask number
**     = the count of DROPOUT nodes before it in the function (0, 1, ...).
**   - A uniform DROPOUT or DROPOUT_MASK (no varying operand to follow) uses
**     row 0, i.e. stream env->first_row.
**   - ONE_HOT: a class index that is not an integer in 0..classes-1 gives
**     all zeros.
**   - BATCH_SUM of a uniform operand is rows x the operand (the same tensor
**     summed over every sample); OUT_PRED of a uniform value fills every row.
**   - grad_scale 0 means "not set" and counts as 1 (ir.h: 1 unless the caller
**     says otherwise; a zeroed IrEnv says nothing).
*/
#include "ir.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nnc_abi.h" /* nnc_uniform: the runtime's counter-based generator */

/* ======================================================================
** The interpreter
** ====================================================================== */

typedef struct Interp {
    const IrFunc *f;
    IrEnv *env;
    int rows;        /* tensors per varying node */
    bool *live;      /* per node: needed by an output or the result */
    int *mask_no;    /* per DROPOUT node: its mask number */
    double **val;    /* per node: its tensors, NULL until computed */
    char *err;
    size_t err_size;
} Interp;

static bool fail(Interp *it, const IrNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "interp forward: %7 = add: " and the problem. Always returns false. */
static bool fail(Interp *it, const IrNode *n, const char *fmt, ...) {
    if (!it->err || it->err_size == 0) return false;
    int len = snprintf(it->err, it->err_size, "interp %s: ", it->f && it->f->name ? it->f->name : "?");
    if (n && len >= 0 && (size_t)len < it->err_size)
        len += snprintf(it->err + len, it->err_size - (size_t)len, "%%%d = %s: ", n->id,
                        ir_ops[n->op].name);
    if (len < 0 || (size_t)len >= it->err_size) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->err + len, it->err_size - (size_t)len, fmt, ap);
    va_end(ap);
    return false;
}

static int64_t numel(const IrNode *n) {
    return shape_numel(n->shape);
}

static int rows_of(const Interp *it, const IrNode *n) {
    return n->varying ? it->rows : 1;
}

/* ---- multi-indices ---- */

/* Row-major offset of idx in shape s. */
static int64_t offset_of(Shape s, const int *idx) {
    int64_t off = 0;
    for (int i = 0; i < s.rank; i++) off = off * s.dim[i] + idx[i];
    return off;
}

/* Steps idx through the box lo <= idx < hi in row-major order; false when
** done. A rank-0 box holds one element, so the first call returns false. */
static bool odometer(int *idx, const int *lo, const int *hi, int rank) {
    for (int i = rank - 1; i >= 0; i--) {
        if (++idx[i] < hi[i]) return true;
        idx[i] = lo[i];
    }
    return false;
}

/* The box a slice selects in x: a dropped axis is its one index. */
static void slice_box(Shape x, const IrSlice *s, int *lo, int *hi) {
    for (int i = 0; i < x.rank; i++) {
        bool indexed = i < s->rank;
        lo[i] = indexed ? s->start[i] : 0;
        hi[i] = !indexed ? x.dim[i] : (s->drop >> i & 1u) ? s->start[i] + 1 : s->stop[i];
    }
}

/* NumPy broadcasting: the offset in an operand of shape `in` of element o
** of the result of shape `out` (trailing axes aligned, size 1 stretches). */
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

/* The line decomposition of an axis: outer x len x inner elements. */
static void axis_split(Shape s, int axis, int64_t *outer, int64_t *len, int64_t *inner) {
    *outer = *inner = 1;
    if (axis == IR_AXIS_ALL) {
        *len = shape_numel(s);
        return;
    }
    int a = shape_axis(s, axis);
    for (int i = 0; i < a; i++) *outer *= s.dim[i];
    *len = s.dim[a];
    for (int i = a + 1; i < s.rank; i++) *inner *= s.dim[i];
}

/* ---- scalar functions (SPEC 1.7, ops.def) ---- */

/* Stable both ways: exp never sees a large positive argument. */
static double sigmoid(double x) {
    if (x >= 0) return 1 / (1 + exp(-x));
    double e = exp(x);
    return e / (1 + e);
}

static double nan_or(double a, double b, double r) {
    return isnan(a) ? a : isnan(b) ? b : r;
}

/* Keras' SELU constants. */
#define SELU_ALPHA 1.67326324235437728481
#define SELU_SCALE 1.05070098735548049342

double ir_scalar_unary(Op op, double alpha, double x) {
    switch (op) {
    case OP_NEG: return -x;
    case OP_EXP: return exp(x);
    case OP_LOG: return log(x);
    case OP_SQRT: return sqrt(x);
    case OP_ABS: return fabs(x);
    case OP_SQUARE: return x * x;
    case OP_STEP: return x >= 0 ? 1 : 0;
    case OP_RELU: return isnan(x) ? x : x > 0 ? x : 0;
    case OP_LEAKY_RELU: return x >= 0 ? x : alpha * x;
    case OP_ELU: return x >= 0 ? x : alpha * expm1(x);
    case OP_SELU: return SELU_SCALE * (x >= 0 ? x : SELU_ALPHA * expm1(x));
    case OP_SIGMOID: return sigmoid(x);
    case OP_TANH: return tanh(x);
    /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for any finite x. */
    case OP_SOFTPLUS: return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
    case OP_SOFTSIGN: return x / (1 + fabs(x));
    case OP_SWISH: return x * sigmoid(x);
    case OP_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case OP_SIGN: return isnan(x) ? x : x > 0 ? 1 : x < 0 ? -1 : 0;
    case OP_ERF: return erf(x);
    default: die("interp: %s is not unary element-wise", ir_ops[op].name);
    }
}

double ir_scalar_binary(Op op, double a, double b) {
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_DIVNZ: return b == 0 ? 0 : a / b;
    case OP_POW: return pow(a, b);
    /* NumPy's minimum and maximum propagate NaN. */
    case OP_MINIMUM: return nan_or(a, b, a < b ? a : b);
    case OP_MAXIMUM: return nan_or(a, b, a > b ? a : b);
    case OP_GT: return a > b ? 1 : 0;
    case OP_GE: return a >= b ? 1 : 0;
    case OP_EQ: return a == b ? 1 : 0;
    default: die("interp: %s is not binary element-wise", ir_ops[op].name);
    }
}

/* ---- one function per op family; each computes one row's tensor ---- */

/* Element e of dropout mask `number` in row r: (u >= rate) / (1 - rate). */
static double mask_value(const Interp *it, int r, int number, int64_t e, double rate) {
    uint64_t counter = (uint64_t)(uint32_t)number << 32 | (uint64_t)e;
    double u = nnc_uniform(it->env->seed, it->env->first_row + (uint64_t)r, counter);
    return (u >= rate ? 1.0 : 0.0) / (1 - rate);
}

static void copy_row(double *out, const double *from, int64_t n, int64_t r) {
    memcpy(out, from + r * n, sizeof(double) * (size_t)n);
}

static void leaf_row(const Interp *it, const IrNode *n, double *out, int r) {
    const IrEnv *env = it->env;
    int64_t k = numel(n);
    switch (n->op) {
    case OP_INPUT: copy_row(out, env->input, k, r); break;
    case OP_TARGET: copy_row(out, env->target, k, r); break;
    case OP_PRED: copy_row(out, env->pred, k, r); break;
    case OP_PARAM: copy_row(out, env->params[n->param], k, 0); break;
    case OP_GRAD: copy_row(out, env->grads[n->param], k, 0); break;
    case OP_STATE: copy_row(out, env->state[n->param][n->axis], k, 0); break;
    case OP_HYPER: out[0] = env->hyper[n->axis]; break;
    case OP_CONST:
        for (int64_t i = 0; i < k; i++) out[i] = n->data ? n->data[i] : n->value;
        break;
    case OP_DROPOUT_MASK:
        for (int64_t i = 0; i < k; i++) out[i] = mask_value(it, r, n->axis, i, n->value);
        break;
    default: die("interp: %s is not a leaf", ir_ops[n->op].name);
    }
}

/* Unary, binary and SELECT (c != 0 ? a : b), operands broadcast. */
static void elementwise_row(const IrNode *n, double *out, const double *const *x) {
    for (int64_t o = 0; o < numel(n); o++) {
        double v[IR_MAX_IN];
        for (int k = 0; k < n->nin; k++) v[k] = x[k][bcast_offset(n->shape, o, n->in[k]->shape)];
        if (n->nin == 1) out[o] = ir_scalar_unary(n->op, n->value, v[0]);
        else if (n->nin == 2) out[o] = ir_scalar_binary(n->op, v[0], v[1]);
        else out[o] = v[0] != 0 ? v[1] : v[2];
    }
}

static void broadcast_row(const IrNode *n, double *out, const double *x) {
    for (int64_t o = 0; o < numel(n); o++) out[o] = x[bcast_offset(n->shape, o, n->in[0]->shape)];
}

/* Largest element; NaN if any is NaN, as NumPy's max. */
static double line_max(const double *x, int64_t len, int64_t stride) {
    double m = -INFINITY;
    for (int64_t i = 0; i < len; i++) {
        double v = x[i * stride];
        if (isnan(v)) return v;
        if (v > m) m = v;
    }
    return m;
}

static double line_sum(const double *x, int64_t len, int64_t stride) {
    double s = 0;
    for (int64_t i = 0; i < len; i++) s += x[i * stride];
    return s;
}

/* m + log Σ e^(x - m) with m the max: no overflow at 1000. All -inf gives
** -inf (log 0), any +inf gives +inf. */
static double line_logsumexp(const double *x, int64_t len, int64_t stride) {
    double m = line_max(x, len, stride);
    if (isinf(m)) return m;
    double s = 0;
    for (int64_t i = 0; i < len; i++) s += exp(x[i * stride] - m);
    return m + log(s);
}

static double reduce_line(Op op, const double *x, int64_t len, int64_t stride) {
    switch (op) {
    case OP_SUM: return line_sum(x, len, stride);
    case OP_MEAN: return line_sum(x, len, stride) / (double)len;
    case OP_MAX: return line_max(x, len, stride);
    case OP_LOGSUMEXP: return line_logsumexp(x, len, stride);
    default: die("interp: %s is not a reduction", ir_ops[op].name);
    }
}

static void reduce_row(const IrNode *n, double *out, const double *x) {
    int64_t outer, len, inner;
    axis_split(n->in[0]->shape, n->axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            out[o * inner + i] = reduce_line(n->op, x + o * len * inner + i, len, inner);
}

/* e^(x_i - max) / Σ_j e^(x_j - max) along the axis (SPEC 1.7). */
static void softmax_row(const IrNode *n, double *out, const double *x) {
    int64_t outer, len, inner;
    axis_split(n->in[0]->shape, n->axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i;
            double m = line_max(x + base, len, inner), s = 0;
            for (int64_t k = 0; k < len; k++) s += out[base + k * inner] = exp(x[base + k * inner] - m);
            for (int64_t k = 0; k < len; k++) out[base + k * inner] /= s;
        }
    }
}

/* numpy.matmul for rank 1 and 2: a is n x k (a vector: 1 x k), b is k x m
** (a vector: k x 1); the vector's axis is gone from the n x m result. */
static void matmul_row(const IrNode *n, double *out, const double *a, const double *b) {
    Shape sa = n->in[0]->shape, sb = n->in[1]->shape;
    int64_t rows = sa.rank == 2 ? sa.dim[0] : 1, k = sa.dim[sa.rank - 1];
    int64_t cols = sb.rank == 2 ? sb.dim[1] : 1;
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < cols; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++) s += a[i * k + p] * b[p * cols + j];
            out[i * cols + j] = s;
        }
    }
}

/* Element idx of x goes to the reversed idx of the result. */
static void transpose_row(const IrNode *n, double *out, const double *x) {
    Shape s = n->in[0]->shape;
    int lo[IR_MAX_RANK] = {0}, hi[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, rev[IR_MAX_RANK];
    for (int i = 0; i < s.rank; i++) hi[i] = s.dim[i];
    do {
        for (int i = 0; i < s.rank; i++) rev[i] = idx[s.rank - 1 - i];
        out[offset_of(n->shape, rev)] = x[offset_of(s, idx)];
    } while (odometer(idx, lo, hi, s.rank));
}

/* The selected box in row-major order is the result in row-major order:
** dropping an axis of one index does not reorder anything. */
static void slice_row(const IrNode *n, double *out, const double *x) {
    Shape s = n->in[0]->shape;
    int lo[IR_MAX_RANK], hi[IR_MAX_RANK], idx[IR_MAX_RANK];
    slice_box(s, &n->slice, lo, hi);
    memcpy(idx, lo, sizeof idx);
    int64_t k = 0;
    do out[k++] = x[offset_of(s, idx)];
    while (odometer(idx, lo, hi, s.rank));
}

/* Slice's adjoint: zeros of the node's shape, the operand written at the box. */
static void pad_row(const IrNode *n, double *out, const double *x) {
    int lo[IR_MAX_RANK], hi[IR_MAX_RANK], idx[IR_MAX_RANK];
    slice_box(n->shape, &n->slice, lo, hi);
    memcpy(idx, lo, sizeof idx);
    for (int64_t i = 0; i < numel(n); i++) out[i] = 0;
    int64_t k = 0;
    do out[offset_of(n->shape, idx)] = x[k++];
    while (odometer(idx, lo, hi, n->shape.rank));
}

static void outer_row(const IrNode *n, double *out, const double *a, const double *b) {
    int64_t rows = n->shape.dim[0], cols = n->shape.dim[1];
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) out[i * cols + j] = a[i] * b[j];
}

static void one_hot_row(const IrNode *n, double *out, const double *x) {
    for (int i = 0; i < n->axis; i++) out[i] = 0;
    double k = x[0];
    if (k >= 0 && k < n->axis && k == floor(k)) out[(int)k] = 1;
}

static void dropout_row(const Interp *it, const IrNode *n, double *out, const double *x, int r) {
    for (int64_t i = 0; i < numel(n); i++)
        out[i] = x[i] * mask_value(it, r, it->mask_no[n->id], i, n->value);
}

static void structure_row(const Interp *it, const IrNode *n, double *out, const double *const *x,
                          int r) {
    switch (n->op) {
    case OP_SOFTMAX: softmax_row(n, out, x[0]); break;
    case OP_MATMUL: matmul_row(n, out, x[0], x[1]); break;
    case OP_RESHAPE: copy_row(out, x[0], numel(n), 0); break;
    case OP_TRANSPOSE: transpose_row(n, out, x[0]); break;
    case OP_SLICE: slice_row(n, out, x[0]); break;
    case OP_BROADCAST: broadcast_row(n, out, x[0]); break;
    case OP_DROPOUT: dropout_row(it, n, out, x[0], r); break;
    case OP_OUTER: outer_row(n, out, x[0], x[1]); break;
    case OP_ONE_HOT: one_hot_row(n, out, x[0]); break;
    case OP_PAD: pad_row(n, out, x[0]); break;
    default: die("interp: no rule for %s", ir_ops[n->op].name);
    }
}

static void eval_row(const Interp *it, const IrNode *n, double *out, int r) {
    const double *x[IR_MAX_IN];
    for (int k = 0; k < n->nin; k++) {
        const IrNode *in = n->in[k];
        x[k] = it->val[in->id] + (in->varying ? r : 0) * numel(in);
    }
    unsigned flags = ir_ops[n->op].flags;
    if (flags & OPF_LEAF) leaf_row(it, n, out, r);
    else if (flags & OPF_EW) elementwise_row(n, out, x);
    else if (flags & OPF_REDUCE) reduce_row(n, out, x[0]);
    else structure_row(it, n, out, x, r);
}

void ir_eval_node(const IrNode *n, const double *const *in, double *out) {
    Interp it = {0}; /* only DROPOUT reads it, and the folder never asks for it */
    unsigned flags = ir_ops[n->op].flags;
    if (flags & (OPF_LEAF | OPF_NOCSE) || n->op == OP_BATCH_SUM)
        die("interp: %s cannot be evaluated on its own", ir_ops[n->op].name);
    if (flags & OPF_EW) elementwise_row(n, out, in);
    else if (flags & OPF_REDUCE) reduce_row(n, out, in[0]);
    else structure_row(&it, n, out, in, 0);
}

/* Σ over the batch's rows: the one op whose operand has more rows than it. */
static void batch_sum(const Interp *it, const IrNode *n, double *out) {
    const IrNode *in = n->in[0];
    const double *x = it->val[in->id];
    int64_t k = numel(n);
    for (int r = 0; r < rows_of(it, in); r++)
        for (int64_t i = 0; i < k; i++) out[i] += x[r * k + i];
    if (!in->varying)
        for (int64_t i = 0; i < k; i++) out[i] *= it->rows;
}

/* calloc of rows x each doubles, or NULL when it cannot be had. */
static double *alloc_tensors(int rows, int64_t each) {
    if (rows < 1 || each < 1 || (uint64_t)each > SIZE_MAX / sizeof(double) / (uint64_t)rows)
        return NULL;
    return calloc((size_t)rows * (size_t)each, sizeof(double));
}

static bool eval_node(Interp *it, const IrNode *n) {
    double *out = alloc_tensors(rows_of(it, n), numel(n));
    if (!out) return fail(it, n, "out of memory for %d x %lld values", rows_of(it, n), (long long)numel(n));
    it->val[n->id] = out;
    if (n->op == OP_BATCH_SUM) {
        batch_sum(it, n, out);
        return true;
    }
    for (int r = 0; r < rows_of(it, n); r++) eval_row(it, n, out + r * numel(n), r);
    return true;
}

/* ---- checks before anything runs: never crash on a bad function or env ---- */

static bool in_func(const IrFunc *f, const IrNode *n) {
    return n && n->id >= 0 && n->id < f->nodes.len && f->nodes.items[n->id] == n;
}

/* What the builder derives: per-sample data enters through the leaves that
** vary and leaves through BATCH_SUM (ir.c). */
static bool expect_varying(const IrNode *n) {
    if (n->op == OP_INPUT || n->op == OP_TARGET || n->op == OP_PRED || n->op == OP_DROPOUT_MASK)
        return true;
    if (n->op == OP_BATCH_SUM) return false;
    for (int k = 0; k < n->nin; k++)
        if (n->in[k]->varying) return true;
    return false;
}

static bool check_structure(Interp *it, const IrNode *n, int pos) {
    if ((unsigned)n->op >= OP_COUNT) return fail(it, NULL, "node %d has op %d", pos, (int)n->op);
    if (n->id != pos) return fail(it, n, "id %d at position %d", n->id, pos);
    if (n->nin != ir_ops[n->op].arity) return fail(it, n, "%d operands", n->nin);
    for (int k = 0; k < n->nin; k++)
        if (!in_func(it->f, n->in[k]) || n->in[k]->id >= pos)
            return fail(it, n, "operand %d is not an earlier node", k);
    Shape rule;
    if (!shape_valid(n->shape) || !ir_rule_shape(it->f->module, n, &rule) || !shape_eq(rule, n->shape))
        return fail(it, n, "its shape does not follow from its operands");
    if (n->varying != expect_varying(n)) return fail(it, n, "wrong varying flag");
    return true;
}

static bool check_attrs(Interp *it, const IrNode *n) {
    bool reduces = (ir_ops[n->op].flags & OPF_REDUCE) && n->axis != IR_AXIS_ALL;
    if ((reduces || n->op == OP_SOFTMAX) && shape_axis(n->in[0]->shape, n->axis) < 0)
        return fail(it, n, "axis %d out of range", n->axis);
    if ((n->op == OP_DROPOUT || n->op == OP_DROPOUT_MASK) && !(n->value >= 0 && n->value < 1))
        return fail(it, n, "rate %g outside [0, 1)", n->value);
    if (n->op == OP_DROPOUT_MASK && n->axis < 0) return fail(it, n, "mask number %d", n->axis);
    if (n->op == OP_HYPER && (n->axis < 0 || n->axis > HYPER_STEP))
        return fail(it, n, "no hyperparameter %d", n->axis);
    if (n->op == OP_STATE && n->axis < 0) return fail(it, n, "no state slot %d", n->axis);
    return true;
}

/* A leaf's buffer: present (only checked for live nodes). */
static bool check_leaf_buffer(Interp *it, const IrNode *n) {
    const IrEnv *e = it->env;
    int p = n->param;
    switch (n->op) {
    case OP_INPUT: return e->input || fail(it, n, "env->input is NULL");
    case OP_TARGET: return e->target || fail(it, n, "env->target is NULL");
    case OP_PRED: return e->pred || fail(it, n, "env->pred is NULL");
    case OP_PARAM: return (e->params && e->params[p]) || fail(it, n, "no env->params[%d]", p);
    case OP_GRAD: return (e->grads && e->grads[p]) || fail(it, n, "no env->grads[%d]", p);
    case OP_STATE:
        return (e->state && e->state[p] && e->state[p][n->axis]) ||
               fail(it, n, "no env->state[%d][%d]", p, n->axis);
    default: return true;
    }
}

/* Marks what the outputs and the result need; later nodes first, so one
** backward sweep over the topological order suffices. */
static void mark_live(Interp *it) {
    const IrFunc *f = it->f;
    if (f->result) it->live[f->result->id] = true;
    for (int i = 0; i < f->outputs.len; i++) it->live[f->outputs.items[i].value->id] = true;
    for (int i = f->nodes.len - 1; i >= 0; i--) {
        const IrNode *n = f->nodes.items[i];
        if (!it->live[i]) continue;
        for (int k = 0; k < n->nin; k++) it->live[n->in[k]->id] = true;
    }
}

static bool check_param_output(Interp *it, const IrOutput *o) {
    const IrModule *m = it->f->module;
    const IrEnv *e = it->env;
    int p = o->param;
    if (!m || p < 0 || p >= m->params.len) return fail(it, o->value, "output for no parameter %d", p);
    if (!shape_eq(o->value->shape, m->params.items[p].shape))
        return fail(it, o->value, "output shape differs from parameter %d's", p);
    if (o->kind != OUT_GRAD && o->value->varying)
        return fail(it, o->value, "a new parameter or state value must be uniform");
    if (o->kind == OUT_GRAD && !(e->grads && e->grads[p])) return fail(it, o->value, "no env->grads[%d]", p);
    if (o->kind == OUT_PARAM && !(e->params && e->params[p]))
        return fail(it, o->value, "no env->params[%d]", p);
    if (o->kind == OUT_STATE && !(o->slot >= 0 && e->state && e->state[p] && e->state[p][o->slot]))
        return fail(it, o->value, "no env->state[%d][%d]", p, o->slot);
    return true;
}

static bool check_output(Interp *it, const IrOutput *o) {
    if (!in_func(it->f, o->value)) return fail(it, NULL, "an output is not a node of the function");
    switch (o->kind) {
    case OUT_LOSS:
        if (numel(o->value) != 1) return fail(it, o->value, "a loss output must be a scalar");
        return it->env->loss || fail(it, o->value, "env->loss is NULL");
    case OUT_PRED: return it->env->pred_out || fail(it, o->value, "env->pred_out is NULL");
    case OUT_GRAD: case OUT_PARAM: case OUT_STATE: return check_param_output(it, o);
    default: return fail(it, o->value, "output kind %d", (int)o->kind);
    }
}

static bool check_func(Interp *it) {
    const IrFunc *f = it->f;
    bool varies = false;
    for (int i = 0; i < f->nodes.len; i++) {
        const IrNode *n = f->nodes.items[i];
        if (!n) return fail(it, NULL, "node %d is missing", i);
        if (!check_structure(it, n, i) || !check_attrs(it, n)) return false;
    }
    if (f->result && !in_func(f, f->result)) return fail(it, NULL, "the result is not a node of it");
    if (f->result && !it->env->result) return fail(it, NULL, "env->result is NULL");
    for (int i = 0; i < f->outputs.len; i++)
        if (!check_output(it, &f->outputs.items[i])) return false;
    mark_live(it);
    for (int i = 0; i < f->nodes.len; i++) {
        if (!it->live[i]) continue;
        if (!check_leaf_buffer(it, f->nodes.items[i])) return false;
        varies |= f->nodes.items[i]->varying;
    }
    if (varies && it->env->rows < 1) return fail(it, NULL, "%d rows for a function that varies", it->env->rows);
    return true;
}

/* ---- outputs, written after every node is computed ---- */

/* Σ over the value's rows into sum (numel values). */
static void sum_rows(const Interp *it, const IrNode *v, double *sum) {
    int64_t k = numel(v);
    for (int64_t i = 0; i < k; i++) sum[i] = 0;
    for (int r = 0; r < rows_of(it, v); r++)
        for (int64_t i = 0; i < k; i++) sum[i] += it->val[v->id][r * k + i];
}

/* rows x numel into dst; a uniform value fills every row. */
static void write_rows(const Interp *it, const IrNode *v, double *dst) {
    for (int r = 0; r < it->rows; r++) copy_row(dst + r * numel(v), it->val[v->id], numel(v), v->varying ? r : 0);
}

static bool write_output(Interp *it, const IrOutput *o) {
    IrEnv *e = it->env;
    const IrNode *v = o->value;
    const double *x = it->val[v->id];
    int64_t k = numel(v);
    switch (o->kind) {
    case OUT_LOSS: copy_row(e->loss, x, rows_of(it, v), 0); break;
    case OUT_PRED: write_rows(it, v, e->pred_out); break;
    case OUT_PARAM: copy_row(e->params[o->param], x, k, 0); break;
    case OUT_STATE: copy_row(e->state[o->param][o->slot], x, k, 0); break;
    case OUT_GRAD: {
        double *sum = alloc_tensors(1, k);
        if (!sum) return fail(it, v, "out of memory");
        sum_rows(it, v, sum);
        double scale = e->grad_scale != 0 ? e->grad_scale : 1;
        for (int64_t i = 0; i < k; i++) e->grads[o->param][i] += scale * sum[i];
        free(sum);
        break;
    }
    }
    return true;
}

static bool write_outputs(Interp *it) {
    const IrFunc *f = it->f;
    for (int i = 0; i < f->outputs.len; i++)
        if (!write_output(it, &f->outputs.items[i])) return false;
    if (f->result) copy_row(it->env->result, it->val[f->result->id], rows_of(it, f->result) * numel(f->result), 0);
    return true;
}

/* ---- the entry point ---- */

static bool run(Interp *it) {
    const IrFunc *f = it->f;
    if (!check_func(it)) return false;
    for (int i = 0, drops = 0; i < f->nodes.len; i++)
        if (f->nodes.items[i]->op == OP_DROPOUT) it->mask_no[i] = drops++;
    for (int i = 0; i < f->nodes.len; i++)
        if (it->live[i] && !eval_node(it, f->nodes.items[i])) return false;
    return write_outputs(it);
}

bool ir_interp(const IrFunc *f, IrEnv *env, char *err, size_t err_size) {
    Interp it = {.f = f, .env = env, .err = err, .err_size = err_size};
    if (err && err_size) err[0] = '\0';
    if (!f || !env) return fail(&it, NULL, "no function or no environment");
    it.rows = env->rows > 0 ? env->rows : 1;
    size_t count = f->nodes.len > 0 ? (size_t)f->nodes.len : 1;
    it.live = calloc(count, sizeof *it.live);
    it.mask_no = calloc(count, sizeof *it.mask_no);
    it.val = calloc(count, sizeof *it.val);
    bool ok = it.live && it.mask_no && it.val ? run(&it) : fail(&it, NULL, "out of memory");
    for (int i = 0; it.val && i < f->nodes.len; i++) free(it.val[i]);
    free(it.val);
    free(it.mask_no);
    free(it.live);
    return ok;
}

/* ======================================================================
** ir_print_value: NumPy's repr (numpy/core/arrayprint.py, default options:
** precision 8, floatmode 'maxprec', linewidth 75, threshold 1000,
** edgeitems 3, legacy off), for float64 arrays.
**
**   array([[6., 6.],        numbers: shortest round-trip digits, at most 8
**          [6., 6.]])       after the point, trailing zeros dropped but
**   array([1. , 0.5])       the point kept; padded so columns align;
**   array([1.e-07, 5.e-01]) scientific for every element when a nonzero
**   array(6.)               |x| >= 1e8, < 1e-4, or max/min > 1e3.
** A rank-0 tensor prints as array(6.), as NumPy prints a 0-d array.
** ====================================================================== */

enum { PRINT_PRECISION = 8, PRINT_LINEWIDTH = 75, PRINT_THRESHOLD = 1000, PRINT_EDGE = 3 };

typedef struct Str {
    char *p;
    size_t len, cap;
} Str;

static void str_add(Str *s, const char *t, size_t n) {
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + n + 1) cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p) die("out of memory");
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, t, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void str_puts(Str *s, const char *t) {
    str_add(s, t, strlen(t));
}

static void str_spaces(Str *s, int n) {
    for (int i = 0; i < n; i++) str_add(s, " ", 1);
}

/* How every element is written: NumPy's FloatingFormat after fillFormat. */
typedef struct NumFmt {
    bool exp;          /* scientific notation */
    int precision;     /* exp: digits after the point, the same for all */
    int exp_digits;    /* exp: exponent digits, at least 2 */
    int pad_left;      /* width of the part before the point */
    int pad_right;     /* positional: width of the part after it */
} NumFmt;

/* Significant digits of the shortest decimal that reads back as x. */
static int shortest_digits(double x) {
    char buf[64];
    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, x);
        if (strtod(buf, NULL) == x) return p;
    }
    return 17;
}

static int decimal_exponent(double x, int digits) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*e", digits - 1, x);
    return atoi(strchr(buf, 'e') + 1);
}

/* Dragon4 positional, unique, at most 8 fraction digits, trim '.':
** "6.", "0.5", "-1.25", "1000.69314718". */
static void positional(double x, char *buf, size_t size) {
    int digits = shortest_digits(x);
    int frac = digits - 1 - decimal_exponent(x, digits);
    if (frac < 0) frac = 0;
    if (frac > PRINT_PRECISION) frac = PRINT_PRECISION;
    snprintf(buf, size, "%.*f", frac, x);
    if (!strchr(buf, '.')) {
        strncat(buf, ".", size - strlen(buf) - 1);
        return;
    }
    size_t n = strlen(buf);
    while (buf[n - 1] == '0') buf[--n] = '\0';
}

/* The digits after the point that scientific notation needs for x alone:
** the shortest round trip, cut at 8 digits, less the zeros a cut leaves. */
static int scientific_precision(double x) {
    char buf[64];
    int p = shortest_digits(x) - 1;
    snprintf(buf, sizeof buf, "%.*e", p < PRINT_PRECISION ? p : PRINT_PRECISION, x);
    char *end = strchr(buf, 'e'), *point = strchr(buf, '.');
    if (!point) return 0;
    while (end[-1] == '0') end--;
    return (int)(end - point - 1);
}

/* Dragon4 scientific: "1.e-07", "-2.5e+10", exponent zero-padded. */
static void scientific(double x, int precision, int exp_digits, char *buf, size_t size) {
    char raw[64];
    snprintf(raw, sizeof raw, "%.*e", precision, x);
    char *e = strchr(raw, 'e');
    int exponent = atoi(e + 1);
    *e = '\0';
    char *point = strchr(raw, '.');
    const char *frac = point ? point + 1 : "";
    if (point) *point = '\0';
    snprintf(buf, size, "%s.%se%c%0*d", raw, frac, exponent < 0 ? '-' : '+', exp_digits,
             exponent < 0 ? -exponent : exponent);
}

/* An element NumPy would look at: all of them, or with summarization only
** the first and last PRINT_EDGE along each long axis. */
static bool shown(Shape s, int64_t o, bool summarize) {
    if (!summarize) return true;
    for (int i = s.rank - 1; i >= 0; i--) {
        int64_t k = o % s.dim[i];
        o /= s.dim[i];
        if (s.dim[i] > 2 * PRINT_EDGE && k >= PRINT_EDGE && k < s.dim[i] - PRINT_EDGE) return false;
    }
    return true;
}

static bool use_scientific(const double *data, Shape s, bool summarize) {
    double lo = INFINITY, hi = 0;
    for (int64_t o = 0; o < shape_numel(s); o++) {
        double a = fabs(data[o]);
        if (!shown(s, o, summarize) || !isfinite(a) || a == 0) continue;
        if (a < lo) lo = a;
        if (a > hi) hi = a;
    }
    return hi > 0 && (hi >= 1e8 || lo < 1e-4 || hi / lo > 1000);
}

static int max_int(int a, int b) {
    return a > b ? a : b;
}

/* The widths of the first pass of fillFormat over the finite elements. */
static void measure(NumFmt *fmt, const double *data, Shape s, bool summarize) {
    for (int64_t o = 0; o < shape_numel(s); o++) {
        double x = data[o];
        if (!shown(s, o, summarize) || !isfinite(x)) continue;
        char buf[512];
        if (fmt->exp) {
            int p = scientific_precision(x);
            fmt->precision = max_int(fmt->precision, p);
            snprintf(buf, sizeof buf, "%.*e", p, x);
            fmt->exp_digits = max_int(fmt->exp_digits, (int)strlen(strchr(buf, 'e') + 2));
            fmt->pad_left = max_int(fmt->pad_left, signbit(x) ? 2 : 1);
        } else {
            positional(x, buf, sizeof buf);
            char *point = strchr(buf, '.');
            fmt->pad_left = max_int(fmt->pad_left, (int)(point - buf));
            fmt->pad_right = max_int(fmt->pad_right, (int)strlen(point + 1));
        }
    }
    if (fmt->exp) fmt->pad_right = fmt->exp_digits + 2 + fmt->precision;
}

/* NaN and infinities widen the integer part so they fit the column. */
static void fit_non_finite(NumFmt *fmt, const double *data, Shape s, bool summarize) {
    bool any = false, neginf = false;
    for (int64_t o = 0; o < shape_numel(s); o++) {
        if (!shown(s, o, summarize) || isfinite(data[o])) continue;
        any = true;
        neginf |= isinf(data[o]) && data[o] < 0;
    }
    if (!any) return;
    int offset = fmt->pad_right + 1;
    fmt->pad_left = max_int(fmt->pad_left, max_int(3 - offset, 3 + neginf - offset));
}

static NumFmt choose_format(const double *data, Shape s, bool summarize) {
    NumFmt fmt = {.exp = use_scientific(data, s, summarize), .exp_digits = 2};
    measure(&fmt, data, s, summarize);
    fit_non_finite(&fmt, data, s, summarize);
    return fmt;
}

/* One element, padded to its column. */
static void format_number(const NumFmt *fmt, double x, Str *out) {
    char buf[512];
    if (!isfinite(x)) {
        const char *t = isnan(x) ? "nan" : x < 0 ? "-inf" : "inf";
        str_spaces(out, fmt->pad_left + fmt->pad_right + 1 - (int)strlen(t));
        str_puts(out, t);
        return;
    }
    if (fmt->exp) scientific(x, fmt->precision, fmt->exp_digits, buf, sizeof buf);
    else positional(x, buf, sizeof buf);
    char *point = strchr(buf, '.');
    str_spaces(out, fmt->pad_left - (int)(point - buf));
    str_puts(out, buf);
    if (!fmt->exp) str_spaces(out, fmt->pad_right - (int)strlen(point + 1));
}

typedef struct Printer {
    const double *data;
    Shape shape;
    int64_t stride[IR_MAX_RANK];
    bool summarize;
    NumFmt fmt;
} Printer;

/* Items along an axis of length len: every index, or with summarization the
** first and last PRINT_EDGE around -1, which stands for "...". */
static int item_count(const Printer *p, int len) {
    return p->summarize && len > 2 * PRINT_EDGE ? 2 * PRINT_EDGE + 1 : len;
}

static int item_index(const Printer *p, int len, int k) {
    if (!(p->summarize && len > 2 * PRINT_EDGE) || k < PRINT_EDGE) return k;
    return k == PRINT_EDGE ? -1 : len - (2 * PRINT_EDGE + 1 - k);
}

/* _extendLine: wraps before word unless the line holds only the indent. */
static void extend_line(Str *s, Str *line, const char *word, int width, int indent) {
    if ((int)(line->len + strlen(word)) > width && (int)line->len > indent) {
        while (line->len > 0 && line->p[line->len - 1] == ' ') line->p[--line->len] = '\0';
        str_add(s, line->p, line->len);
        str_puts(s, "\n");
        line->len = 0;
        str_spaces(line, indent);
    }
    str_puts(line, word);
}

/* The last axis: elements separated by ", ", wrapped at width. */
static void format_innermost(const Printer *p, int64_t offset, int indent, int width, Str *s) {
    int len = p->shape.dim[p->shape.rank - 1], count = item_count(p, len);
    Str line = {0};
    str_spaces(&line, indent);
    for (int k = 0; k < count; k++) {
        int i = item_index(p, len, k);
        Str word = {0};
        if (i < 0) str_puts(&word, "...");
        else format_number(&p->fmt, p->data[offset + i], &word);
        extend_line(s, &line, word.p, width - 1, indent);
        if (k + 1 < count) str_puts(&line, ", ");
        free(word.p);
    }
    str_add(s, line.p, line.len);
    free(line.p);
}

/* NumPy's _formatArray recurser for the sub-array at offset along `axis`:
** appends "[...]" whose continuation lines start with indent spaces. */
static void format_array(const Printer *p, int axis, int64_t offset, int indent, int width, Str *out) {
    Str s = {0};
    int left = p->shape.rank - axis;
    if (left == 1) {
        format_innermost(p, offset, indent, width, &s);
    } else {
        int len = p->shape.dim[axis], count = item_count(p, len);
        for (int k = 0; k < count; k++) {
            int i = item_index(p, len, k);
            str_spaces(&s, indent);
            if (i < 0) str_puts(&s, "...");
            else format_array(p, axis + 1, offset + i * p->stride[axis], indent + 1, width - 1, &s);
            if (k + 1 == count) break;
            str_puts(&s, ",");
            for (int n = 0; n < left - 1; n++) str_puts(&s, "\n");
        }
    }
    str_puts(out, "[");
    str_puts(out, s.p + indent); /* the first line's indent becomes the '[' */
    str_puts(out, "]");
    free(s.p);
}

void ir_print_value(FILE *out, const double *data, Shape shape) {
    Printer p = {.data = data, .shape = shape};
    p.summarize = shape_numel(shape) > PRINT_THRESHOLD;
    p.fmt = choose_format(data, shape, p.summarize);
    int64_t stride = 1;
    for (int i = shape.rank - 1; i >= 0; i--) {
        p.stride[i] = stride;
        stride *= shape.dim[i];
    }
    Str s = {0};
    str_puts(&s, "array(");
    /* array2string: continuation lines align under the first '[' after
    ** "array(", and the line leaves room for the closing ')'. */
    if (shape.rank == 0) format_number(&p.fmt, data[0], &s);
    else format_array(&p, 0, 0, (int)strlen("array(") + 1, PRINT_LINEWIDTH - 1, &s);
    str_puts(&s, ")");
    fputs(s.p, out);
    free(s.p);
}
