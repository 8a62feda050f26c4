/*
** autodiff.c — reverse-mode differentiation of an IrFunc (ARCHITECTURE
** "Autodiff"): from a scalar loss node, the gradient of every trainable
** parameter, appended to the same function as ordinary IR nodes.
**
** The nodes are already in topological order, so the walk is one loop
** from the loss down to the leaves, as kann does it: no recursion. Each node
** gathers the contributions of its consumers (summed); a rule per op turns
** the node's adjoint dy into the adjoints of its operands; an operand that
** was broadcast gets its adjoint summed over the stretched axes and reshaped
** back to its own shape. Only operands on a path to a trainable parameter
** get contributions at all.
**
** Per sample and per batch. The loss is one sample's (SPEC 1.4); the kernel
** ABI wants Σ_rows ∂loss_row/∂θ. A varying node's adjoint is per sample. A
** uniform node (a parameter, or a value computed from parameters only) is
** the same for every row, so its adjoint is the batch sum of its per-sample
** contributions: BATCH_SUM is placed there, as early as possible, and what
** flows on from a uniform node is one batch total, computed once per batch
** (so W·2's gradient is batch_sum(outer(x, dy))·2, not batch_sum of a
** per-row product). Contributions therefore come in two kinds, kept apart
** until the node is reached: per-sample ones and batch totals.
**
** Every op's derivative rule is in backward_rule below, with its formula.
** The results are not simplified here; the passes (algebra, fold, cse)
** run afterwards (train.c).
*/
#include "ir.h"


typedef struct Grad {
    IrFunc *f;
    int count;         /* nodes before differentiation: those with adjoints */
    IrNode **sample;   /* per node: Σ of per-sample contributions */
    IrNode **total;    /* per node: Σ of batch-total contributions */
    bool *needed;      /* per node: on a path to a trainable parameter */
    Loc loc;           /* of the node whose rule is running: backward nodes say
                          which forward node they differentiate */
} Grad;

/* ---- builders at the current location ---- */

static IrNode *num(Grad *g, double v) {
    return ir_const(g->f, v, shape_scalar(), g->loc);
}

static IrNode *un(Grad *g, Op op, IrNode *x) {
    return ir_unary(g->f, op, x, g->loc);
}

static IrNode *bin(Grad *g, Op op, IrNode *a, IrNode *b) {
    return ir_binary(g->f, op, a, b, g->loc);
}

static IrNode *add(Grad *g, IrNode *a, IrNode *b) { return bin(g, OP_ADD, a, b); }
static IrNode *sub(Grad *g, IrNode *a, IrNode *b) { return bin(g, OP_SUB, a, b); }
static IrNode *mul(Grad *g, IrNode *a, IrNode *b) { return bin(g, OP_MUL, a, b); }
static IrNode *dvd(Grad *g, IrNode *a, IrNode *b) { return bin(g, OP_DIV, a, b); }

static IrNode *select3(Grad *g, IrNode *c, IrNode *a, IrNode *b) {
    return ir_emit(g->f, &(IrNode){.op = OP_SELECT, .nin = 3, .in = {c, a, b}, .loc = g->loc});
}

static IrNode *sum_axis(Grad *g, IrNode *x, int axis) {
    return ir_reduce(g->f, OP_SUM, x, axis, g->loc);
}

static IrNode *reshape(Grad *g, IrNode *x, Shape to) {
    return shape_eq(x->shape, to) ? x : ir_reshape(g->f, x, to, g->loc);
}

static IrNode *broadcast(Grad *g, IrNode *x, Shape to) {
    return shape_eq(x->shape, to) ? x : ir_broadcast(g->f, x, to, g->loc);
}

static IrNode *batch_sum(Grad *g, IrNode *x) {
    return ir_emit(g->f, &(IrNode){.op = OP_BATCH_SUM, .nin = 1, .in = {x}, .loc = g->loc});
}

/* ---- shapes: undoing broadcasts and reductions ---- */

/* dy has a broadcast result's shape; the operand had `to`. NumPy aligns
** trailing axes, so the extra leading axes and every axis where the operand
** had size 1 were stretched: sum over them (highest first, so lower axis
** numbers stay valid), then reshape to restore the size-1 axes. */
static IrNode *reduce_to(Grad *g, IrNode *dy, Shape to) {
    if (shape_eq(dy->shape, to)) return dy;
    if (to.rank == 0) return sum_axis(g, dy, IR_AXIS_ALL);
    int lead = dy->shape.rank - to.rank;
    IrNode *r = dy;
    for (int k = to.rank - 1; k >= 0; k--)
        if (to.dim[k] == 1 && dy->shape.dim[lead + k] != 1) r = sum_axis(g, r, lead + k);
    for (int k = 0; k < lead; k++) r = sum_axis(g, r, 0);
    return reshape(g, r, to);
}

/* The inverse of a reduction over `axis` of x: dy (the reduced shape)
** stretched back to x's shape. The reduced axis is put back as size 1
** first, unless it is axis 0, where NumPy's alignment already puts it. */
static IrNode *expand(Grad *g, IrNode *dy, const IrNode *x, int axis) {
    if (axis != IR_AXIS_ALL && axis != 0) {
        Shape keep = x->shape;
        keep.dim[axis] = 1;
        dy = reshape(g, dy, keep);
    }
    return broadcast(g, dy, x->shape);
}

static int64_t reduced_count(const IrNode *x, int axis) {
    return axis == IR_AXIS_ALL ? shape_numel(x->shape) : x->shape.dim[axis];
}

/* ---- accumulating contributions ---- */

static void contribute(Grad *g, const IrNode *x, IrNode *d, bool per_sample) {
    if (x->id >= g->count || !g->needed[x->id]) return;
    if (!shape_eq(d->shape, x->shape)) {
        char a[64], b[64];
        die("autodiff: %s's adjoint has shape %s, the operand %s", ir_ops[x->op].name,
            shape_format(d->shape, a, sizeof a), shape_format(x->shape, b, sizeof b));
    }
    if (x->varying && !per_sample) die("autodiff: a batch total reached a per-sample node");
    IrNode **acc = per_sample ? &g->sample[x->id] : &g->total[x->id];
    *acc = *acc ? add(g, *acc, d) : d;
}

/* An element-wise op's operand k: the local adjoint d has the op's
** (broadcast) shape; the operand gets it reduced to its own. */
static void contribute_ew(Grad *g, const IrNode *n, int k, IrNode *d, bool per_sample) {
    if (!g->needed[n->in[k]->id]) return;
    contribute(g, n->in[k], reduce_to(g, d, n->in[k]->shape), per_sample);
}

/* ---- the derivative rules ---- */

#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
#define SQRT_2 1.4142135623730950488016887242097
#define TWO_OVER_SQRT_PI 1.1283791670955125738961589031215
#define ONE_OVER_SQRT_2PI 0.3989422804014326779399460599344

static bool needed(const Grad *g, const IrNode *n, int k) {
    return g->needed[n->in[k]->id];
}

/* n's adjoint is dy; contributes to each operand that needs one. y = n,
** x = its first operand. A case that contributes nothing (step, sign, the
** comparisons, one_hot) says why. */
static void backward_rule(Grad *g, IrNode *n, IrNode *dy, bool ps) {
    IrNode *x = n->nin > 0 ? n->in[0] : NULL, *b = n->nin > 1 ? n->in[1] : NULL;
    IrNode *y = n;
    IrNode *zero = NULL, *d;
    switch (n->op) {
    /* -- element-wise unary: dx = dy · f'(x) -- */
    case OP_NEG: /* (−x)' = −1 */
        d = un(g, OP_NEG, dy);
        break;
    case OP_EXP: /* (eˣ)' = eˣ = y */
        d = mul(g, dy, y);
        break;
    case OP_LOG: /* (log x)' = 1/x */
        d = dvd(g, dy, x);
        break;
    case OP_SQRT: /* (√x)' = 1/(2√x) = 1/(2y) */
        d = dvd(g, dy, mul(g, num(g, 2), y));
        break;
    case OP_ABS: /* |x|' = sign(x), 0 at 0 */
        d = mul(g, dy, un(g, OP_SIGN, x));
        break;
    case OP_SQUARE: /* (x²)' = 2x */
        d = mul(g, dy, mul(g, num(g, 2), x));
        break;
    case OP_STEP: /* constant on each side: derivative 0 (SPEC 1.7) */
    case OP_SIGN:
    case OP_GT: case OP_GE: case OP_EQ: /* piecewise constant: no gradient */
    case OP_ONE_HOT: /* of a class index: no gradient */
        return;
    case OP_RELU: /* relu'(x) = [x > 0] = [y > 0]; 0 at 0 (SPEC 1.7). Read off y, so
                     that x has one reader and the matmul that makes x can apply
                     the bias and the relu in its epilogue and store y alone. */
        d = mul(g, dy, bin(g, OP_GT, y, num(g, 0)));
        break;
    case OP_LEAKY_RELU: /* x if x ≥ 0 else α·x (SPEC 1.7): 1 if x ≥ 0 else α */
        d = select3(g, bin(g, OP_GE, x, num(g, 0)), dy, mul(g, dy, num(g, n->value)));
        break;
    case OP_ELU: /* x if x > 0 else α(eˣ − 1) (Keras): 1 if x > 0 else α·eˣ */
        d = select3(g, bin(g, OP_GT, x, num(g, 0)), dy,
                    mul(g, dy, mul(g, num(g, n->value), un(g, OP_EXP, x))));
        break;
    case OP_SELU: /* λ·elu_α(x) (Keras): λ if x > 0 else λα·eˣ */
        d = mul(g, dy, select3(g, bin(g, OP_GT, x, num(g, 0)), num(g, SELU_SCALE),
                               mul(g, num(g, SELU_SCALE * SELU_ALPHA), un(g, OP_EXP, x))));
        break;
    case OP_SIGMOID: /* σ' = σ(1 − σ) */
        d = mul(g, dy, mul(g, y, sub(g, num(g, 1), y)));
        break;
    case OP_TANH: /* tanh' = 1 − tanh² */
        d = mul(g, dy, sub(g, num(g, 1), un(g, OP_SQUARE, y)));
        break;
    case OP_SOFTPLUS: /* log(1 + eˣ)' = σ(x) */
        d = mul(g, dy, un(g, OP_SIGMOID, x));
        break;
    case OP_SOFTSIGN: /* (x / (1 + |x|))' = 1 / (1 + |x|)² */
        d = dvd(g, dy, un(g, OP_SQUARE, add(g, num(g, 1), un(g, OP_ABS, x))));
        break;
    case OP_SWISH: { /* (x·σ(x))' = σ(x)·(1 + x·(1 − σ(x))) */
        IrNode *s = un(g, OP_SIGMOID, x);
        d = mul(g, dy, mul(g, s, add(g, num(g, 1), mul(g, x, sub(g, num(g, 1), s)))));
        break;
    }
    case OP_GELU: { /* exact x·Φ(x) (SPEC 1.7): Φ(x) + x·φ(x),
                       Φ(x) = (1 + erf(x/√2))/2, φ(x) = e^(−x²/2)/√(2π) */
        IrNode *cdf = mul(g, num(g, 0.5), add(g, num(g, 1), un(g, OP_ERF, dvd(g, x, num(g, SQRT_2)))));
        IrNode *pdf = mul(g, num(g, ONE_OVER_SQRT_2PI),
                          un(g, OP_EXP, mul(g, num(g, -0.5), un(g, OP_SQUARE, x))));
        d = mul(g, dy, add(g, cdf, mul(g, x, pdf)));
        break;
    }
    case OP_ERF: /* erf'(x) = 2/√π · e^(−x²) */
        d = mul(g, dy, mul(g, num(g, TWO_OVER_SQRT_PI), un(g, OP_EXP, un(g, OP_NEG, un(g, OP_SQUARE, x)))));
        break;

    /* -- element-wise binary, broadcasting: each side reduced to its shape -- */
    case OP_ADD: /* ∂(a + b) = da + db */
        contribute_ew(g, n, 0, dy, ps);
        contribute_ew(g, n, 1, dy, ps);
        return;
    case OP_SUB: /* ∂(a − b) = da − db */
        contribute_ew(g, n, 0, dy, ps);
        if (needed(g, n, 1)) contribute_ew(g, n, 1, un(g, OP_NEG, dy), ps);
        return;
    case OP_MUL: /* ∂(a·b) = b·da + a·db */
        if (needed(g, n, 0)) contribute_ew(g, n, 0, mul(g, dy, b), ps);
        if (needed(g, n, 1)) contribute_ew(g, n, 1, mul(g, dy, x), ps);
        return;
    case OP_DIV: /* ∂(a/b) = da/b − (a/b)/b·db */
        if (needed(g, n, 0)) contribute_ew(g, n, 0, dvd(g, dy, b), ps);
        if (needed(g, n, 1)) contribute_ew(g, n, 1, un(g, OP_NEG, mul(g, dy, dvd(g, y, b))), ps);
        return;
    case OP_DIVNZ: /* a/b, 0 where b = 0 (normalize's constant features):
                      the same rule with divnz, so the 0 has gradient 0 */
        if (needed(g, n, 0)) contribute_ew(g, n, 0, bin(g, OP_DIVNZ, dy, b), ps);
        if (needed(g, n, 1)) contribute_ew(g, n, 1, un(g, OP_NEG, mul(g, dy, bin(g, OP_DIVNZ, y, b))), ps);
        return;
    case OP_POW: /* ∂(aᵇ) = b·aᵇ⁻¹·da + aᵇ·log(a)·db; the second taken as 0
                    where a ≤ 0, where log a is undefined (as TensorFlow does) */
        if (needed(g, n, 0))
            contribute_ew(g, n, 0, mul(g, dy, mul(g, b, bin(g, OP_POW, x, sub(g, b, num(g, 1))))), ps);
        if (needed(g, n, 1)) {
            zero = num(g, 0);
            IrNode *dlog = select3(g, bin(g, OP_GT, x, zero), mul(g, y, un(g, OP_LOG, x)), zero);
            contribute_ew(g, n, 1, mul(g, dy, dlog), ps);
        }
        return;
    case OP_MINIMUM: /* goes to the smaller operand; ties to the first: [a ≤ b], [b < a] */
        if (needed(g, n, 0)) contribute_ew(g, n, 0, mul(g, dy, bin(g, OP_GE, b, x)), ps);
        if (needed(g, n, 1)) contribute_ew(g, n, 1, mul(g, dy, bin(g, OP_GT, x, b)), ps);
        return;
    case OP_MAXIMUM: /* goes to the larger operand; ties to the first: [a ≥ b], [b > a] */
        if (needed(g, n, 0)) contribute_ew(g, n, 0, mul(g, dy, bin(g, OP_GE, x, b)), ps);
        if (needed(g, n, 1)) contribute_ew(g, n, 1, mul(g, dy, bin(g, OP_GT, b, x)), ps);
        return;
    case OP_SELECT: /* c ? a : b: dy goes to the chosen side; c gets none */
        zero = num(g, 0);
        if (needed(g, n, 1)) contribute_ew(g, n, 1, select3(g, x, dy, zero), ps);
        if (needed(g, n, 2)) contribute_ew(g, n, 2, select3(g, x, zero, dy), ps);
        return;

    /* -- reductions: dy stretched back over the reduced axis -- */
    case OP_SUM: /* ∂Σx = dy on every element */
        d = expand(g, dy, x, n->axis);
        break;
    case OP_MEAN: /* ∂(Σx / count) = dy / count on every element */
        d = expand(g, dvd(g, dy, num(g, (double)reduced_count(x, n->axis))), x, n->axis);
        break;
    case OP_MAX: /* to the argmax positions: dy·[x = max] */
        d = mul(g, expand(g, dy, x, n->axis), bin(g, OP_EQ, x, expand(g, y, x, n->axis)));
        break;
    case OP_LOGSUMEXP: { /* ∂ log Σ eˣ = eˣ / Σ eˣ = softmax(x) along the axis */
        IrNode *s;
        if (x->shape.rank >= 1 && (n->axis != IR_AXIS_ALL || x->shape.rank == 1))
            s = ir_softmax(g->f, x, n->axis == IR_AXIS_ALL ? 0 : n->axis, g->loc);
        else /* over every axis of a matrix (or a scalar): e^(x − lse) */
            s = un(g, OP_EXP, sub(g, x, expand(g, y, x, n->axis)));
        d = mul(g, s, expand(g, dy, x, n->axis));
        break;
    }

    /* -- structure -- */
    case OP_SOFTMAX: { /* s = softmax(x): dx = s ⊙ (dy − Σ_axis s⊙dy) */
        IrNode *dot = sum_axis(g, mul(g, y, dy), n->axis);
        d = mul(g, y, sub(g, dy, expand(g, dot, x, n->axis)));
        break;
    }
    case OP_MATMUL: { /* numpy.matmul, ranks 1 and 2 (SPEC 1.4) */
        int ra = x->shape.rank, rb = b->shape.rank;
        IrNode *da, *db;
        if (ra == 1 && rb == 1) { /* a·b scalar: da = dy·b, db = dy·a */
            da = needed(g, n, 0) ? mul(g, dy, b) : NULL;
            db = needed(g, n, 1) ? mul(g, dy, x) : NULL;
        } else if (ra == 1) { /* [k] @ [k,m]: da = B dy, dB = a ⊗ dy */
            da = needed(g, n, 0) ? ir_matmul(g->f, b, dy, g->loc) : NULL;
            db = needed(g, n, 1) ? bin(g, OP_OUTER, x, dy) : NULL;
        } else if (rb == 1) { /* [n,k] @ [k]: dA = dy ⊗ b, db = dy A */
            da = needed(g, n, 0) ? bin(g, OP_OUTER, dy, b) : NULL;
            db = needed(g, n, 1) ? ir_matmul(g->f, dy, x, g->loc) : NULL;
        } else { /* [n,k] @ [k,m]: dA = dY Bᵀ, dB = Aᵀ dY */
            da = needed(g, n, 0) ? ir_matmul(g->f, dy, ir_transpose(g->f, b, g->loc), g->loc) : NULL;
            db = needed(g, n, 1) ? ir_matmul(g->f, ir_transpose(g->f, x, g->loc), dy, g->loc) : NULL;
        }
        if (da) contribute(g, x, da, ps);
        if (db) contribute(g, b, db, ps);
        return;
    }
    case OP_OUTER: /* a ⊗ b: da = dY b, db = a dY (dY is [n, m]) */
        if (needed(g, n, 0)) contribute(g, x, ir_matmul(g->f, dy, b, g->loc), ps);
        if (needed(g, n, 1)) contribute(g, b, ir_matmul(g->f, x, dy, g->loc), ps);
        return;
    case OP_RESHAPE: /* the same elements in the same order */
        d = reshape(g, dy, x->shape);
        break;
    case OP_TRANSPOSE: /* reversing the axes is its own inverse */
        d = ir_transpose(g->f, dy, g->loc);
        break;
    case OP_BROADCAST: /* the stretched axes summed */
        d = reduce_to(g, dy, x->shape);
        break;
    case OP_SLICE: /* the adjoint of taking a window: put dy back in zeros */
        d = ir_emit(g->f, &(IrNode){.op = OP_PAD, .nin = 1, .in = {dy}, .slice = n->slice,
                                    .shape = x->shape, .loc = g->loc});
        break;
    case OP_PAD: /* and of padding: take the window */
        d = ir_slice(g->f, dy, &n->slice, g->loc);
        break;
    case OP_BATCH_SUM: /* Σ_rows x_r: each row's x gets dy */
        contribute(g, x, dy, true);
        return;
    case OP_DROPOUT:
        /* Dropout's gradient is dy times the same mask; train.c lowers it to
        ** x · dropout_mask before differentiating, so MUL's rule gives that. */
        die("autodiff: dropout must be lowered to a mask first");
    default:
        die("autodiff: no derivative rule for %s", ir_ops[n->op].name);
    }
    contribute(g, x, d, ps);
}

/* ---- the walk ---- */

/* Nodes from which a trainable parameter can be reached through operands. */
static void mark_needed(Grad *g) {
    const IrModule *m = g->f->module;
    for (int i = 0; i < g->count; i++) {
        const IrNode *n = g->f->nodes.items[i];
        bool need = n->op == OP_PARAM && m->params.items[n->param].trainable;
        for (int k = 0; k < n->nin && !need; k++) need = g->needed[n->in[k]->id];
        g->needed[i] = need;
    }
}

void grad_backward(IrFunc *f, IrNode *loss, bool per_sample, IrNode **grads) {
    IrModule *m = f->module;
    if (!loss || loss->id < 0 || loss->id >= f->nodes.len || f->nodes.items[loss->id] != loss)
        die("grad_backward: the loss is not a node of %s", f->name);
    if (loss->shape.rank != 0) die("grad_backward: the loss is not a scalar");
    if (loss->varying && !per_sample) die("grad_backward: a per-sample loss taken as a total");
    Grad g = {.f = f, .count = f->nodes.len, .loc = loss->loc};
    g.sample = ARENA_ARRAY(m->arena, IrNode *, g.count);
    g.total = ARENA_ARRAY(m->arena, IrNode *, g.count);
    g.needed = ARENA_ARRAY(m->arena, bool, g.count);
    for (int p = 0; p < m->params.len; p++) grads[p] = NULL;
    mark_needed(&g);
    if (!g.needed[loss->id]) return;
    /* d loss / d loss = 1, for each sample or for the batch. */
    contribute(&g, loss, num(&g, 1), per_sample);

    for (int i = loss->id; i >= 0; i--) {
        IrNode *n = f->nodes.items[i];
        if (!g.needed[i] || (!g.sample[i] && !g.total[i])) continue;
        g.loc = n->loc;
        IrNode *dy;
        bool ps = n->varying;
        if (ps) {
            dy = g.sample[i];
        } else {
            /* Uniform: the same value in every row, so its adjoint is the
            ** batch sum of the rows' contributions, plus the totals. */
            dy = g.sample[i] ? batch_sum(&g, g.sample[i]) : NULL;
            if (g.total[i]) dy = dy ? add(&g, dy, g.total[i]) : g.total[i];
        }
        if (n->op == OP_PARAM) {
            grads[n->param] = dy;
            continue;
        }
        backward_rule(&g, n, dy, ps);
    }
}
