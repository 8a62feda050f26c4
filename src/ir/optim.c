/*
** optim.c — SPEC 1.9's optimizers as the `update` function: for every
** trainable parameter w with its gradient g (GRAD: the batch loss's, which
** the runtime accumulated) and its state slots (STATE), the new w
** (OUT_PARAM) and the new slots (OUT_STATE). The learning rate and the step
** t (counted from 1) are HYPER leaves, because callbacks change the rate
** and the step grows; every other hyperparameter is a constant.
**
** The formulas are Keras', as the SPEC writes them; each case below quotes
** its line. Scalars shared by every parameter (adam's α) hash-cons into one
** node computed once per step.
*/
#include "ir.h"

/* The state each optimizer keeps per weight (SPEC 1.9), in slot order:
**   sgd       velocity v, only with momentum
**   rmsprop   a            adagrad  a (starts at initial_accumulator_value)
**   adadelta  a, D         adamax   m, u
**   adam      m, v, and v̂ with amsgrad (adamw the same) */
int ir_opt_slots(const OptSpec *o) {
    switch (o->kind) {
    case OPT_SGD:
        return o->momentum > 0 ? 1 : 0;
    case OPT_RMSPROP:
    case OPT_ADAGRAD:
        return 1;
    case OPT_ADADELTA:
    case OPT_ADAMAX:
        return 2;
    case OPT_ADAM:
    case OPT_ADAMW:
        return o->amsgrad ? 3 : 2;
    }
    return 0;
}

typedef struct Step {
    IrFunc *f;
    const OptSpec *o;
    int param;
    Loc loc;            /* the parameter's */
    IrNode *w, *g;      /* the parameter and its gradient */
    IrNode *lr, *t;     /* HYPER leaves */
} Step;

static IrNode *num(Step *s, double v) {
    return ir_const(s->f, v, shape_scalar(), s->loc);
}

static IrNode *un(Step *s, Op op, IrNode *x) {
    return ir_unary(s->f, op, x, s->loc);
}

static IrNode *bin(Step *s, Op op, IrNode *a, IrNode *b) {
    return ir_binary(s->f, op, a, b, s->loc);
}

static IrNode *add(Step *s, IrNode *a, IrNode *b) { return bin(s, OP_ADD, a, b); }
static IrNode *sub(Step *s, IrNode *a, IrNode *b) { return bin(s, OP_SUB, a, b); }
static IrNode *mul(Step *s, IrNode *a, IrNode *b) { return bin(s, OP_MUL, a, b); }
static IrNode *dvd(Step *s, IrNode *a, IrNode *b) { return bin(s, OP_DIV, a, b); }

static IrNode *state(Step *s, int slot) {
    const IrParam *p = &s->f->module->params.items[s->param];
    return ir_emit(s->f, &(IrNode){.op = OP_STATE, .param = s->param, .axis = slot, .shape = p->shape,
                                   .loc = s->loc});
}

static void set_state(Step *s, int slot, IrNode *value) {
    ir_add_output(s->f, OUT_STATE, s->param, slot, value);
}

static IrNode *hyper(IrFunc *f, IrHyper kind) {
    return ir_emit(f, &(IrNode){.op = OP_HYPER, .axis = kind, .shape = shape_scalar()});
}

/* ρ·a + (1 − ρ)·x: the moving averages of rmsprop, adadelta and adam. */
static IrNode *average(Step *s, double rho, IrNode *a, IrNode *x) {
    return add(s, mul(s, num(s, rho), a), mul(s, num(s, 1 - rho), x));
}

/* 1 − βᵗ, a bias correction; the scalars carry no location (shared). */
static IrNode *one_minus_power(Step *s, double beta) {
    Loc none = {0};
    IrNode *power = ir_binary(s->f, OP_POW, ir_const(s->f, beta, shape_scalar(), none), s->t, none);
    return ir_binary(s->f, OP_SUB, ir_const(s->f, 1, shape_scalar(), none), power, none);
}

/* m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ);
** w −= α·m/(√v + ε); amsgrad: v̂ = max(v̂, v) in place of v. */
static IrNode *adam(Step *s, IrNode *w) {
    const OptSpec *o = s->o;
    IrNode *m = average(s, o->beta_1, state(s, 0), s->g);
    IrNode *v = average(s, o->beta_2, state(s, 1), un(s, OP_SQUARE, s->g));
    set_state(s, 0, m);
    set_state(s, 1, v);
    if (o->amsgrad) {
        v = bin(s, OP_MAXIMUM, state(s, 2), v);
        set_state(s, 2, v);
    }
    Loc none = {0};
    IrNode *alpha = ir_binary(s->f, OP_DIV,
                              ir_binary(s->f, OP_MUL, s->lr, ir_unary(s->f, OP_SQRT, one_minus_power(s, o->beta_2), none), none),
                              one_minus_power(s, o->beta_1), none);
    return sub(s, w, mul(s, alpha, dvd(s, m, add(s, un(s, OP_SQRT, v), num(s, o->epsilon)))));
}

/* The new value of w; sets the new state on the way. */
static IrNode *step(Step *s) {
    const OptSpec *o = s->o;
    IrNode *w = s->w, *g = s->g, *lr = s->lr;
    switch (o->kind) {
    case OPT_SGD: {
        /* momentum 0: w −= lr·g. Otherwise v = m·v − lr·g; w += v
        ** (nesterov: w += m·v − lr·g, with the new v). */
        IrNode *lr_g = mul(s, lr, g);
        if (!(o->momentum > 0)) return sub(s, w, lr_g);
        IrNode *mom = num(s, o->momentum);
        IrNode *v = sub(s, mul(s, mom, state(s, 0)), lr_g);
        set_state(s, 0, v);
        return add(s, w, o->nesterov ? sub(s, mul(s, mom, v), lr_g) : v);
    }
    case OPT_RMSPROP: { /* a = ρa + (1−ρ)g²; w −= lr·g/(√a + ε) */
        IrNode *a = average(s, o->rho, state(s, 0), un(s, OP_SQUARE, g));
        set_state(s, 0, a);
        return sub(s, w, dvd(s, mul(s, lr, g), add(s, un(s, OP_SQRT, a), num(s, o->epsilon))));
    }
    case OPT_ADAGRAD: { /* a += g²; w −= lr·g/(√a + ε) */
        IrNode *a = add(s, state(s, 0), un(s, OP_SQUARE, g));
        set_state(s, 0, a);
        return sub(s, w, dvd(s, mul(s, lr, g), add(s, un(s, OP_SQRT, a), num(s, o->epsilon))));
    }
    case OPT_ADADELTA: {
        /* a = ρa + (1−ρ)g²; d = −√(D+ε)/√(a+ε)·g; D = ρD + (1−ρ)d²; w += lr·d */
        IrNode *eps = num(s, o->epsilon);
        IrNode *a = average(s, o->rho, state(s, 0), un(s, OP_SQUARE, g));
        IrNode *D = state(s, 1);
        IrNode *d = un(s, OP_NEG, mul(s, dvd(s, un(s, OP_SQRT, add(s, D, eps)), un(s, OP_SQRT, add(s, a, eps))), g));
        set_state(s, 0, a);
        set_state(s, 1, average(s, o->rho, D, un(s, OP_SQUARE, d)));
        return add(s, w, mul(s, lr, d));
    }
    case OPT_ADAM:
        return adam(s, w);
    case OPT_ADAMAX: {
        /* m = β₁m + (1−β₁)g; u = max(β₂u, |g|); w −= lr/(1−β₁ᵗ)·m/(u + ε) */
        IrNode *m = average(s, o->beta_1, state(s, 0), g);
        IrNode *u = bin(s, OP_MAXIMUM, mul(s, num(s, o->beta_2), state(s, 1)), un(s, OP_ABS, g));
        set_state(s, 0, m);
        set_state(s, 1, u);
        Loc none = {0};
        IrNode *rate = ir_binary(s->f, OP_DIV, lr, one_minus_power(s, o->beta_1), none);
        return sub(s, w, mul(s, rate, dvd(s, m, add(s, u, num(s, o->epsilon)))));
    }
    case OPT_ADAMW: /* w −= lr·wd·w, then the adam step (decoupled decay) */
        return adam(s, sub(s, w, mul(s, mul(s, lr, num(s, o->weight_decay)), w)));
    }
    die("unknown optimizer %d", (int)o->kind);
}

IrFunc *grad_build_update(IrModule *m) {
    const OptSpec *o = &m->optimizer;
    m->opt_slots = ir_opt_slots(o);
    for (int k = 0; k < 4; k++) m->opt_state_init[k] = 0;
    if (o->kind == OPT_ADAGRAD) m->opt_state_init[0] = o->initial_accumulator_value;

    IrFunc *f = ir_func_new(m, "update");
    if (ir_param_count(m, true) == 0) return f; /* nothing to train: no outputs */
    IrNode *lr = hyper(f, HYPER_LEARNING_RATE), *t = hyper(f, HYPER_STEP);
    for (int p = 0; p < m->params.len; p++) {
        const IrParam *prm = &m->params.items[p];
        if (!prm->trainable) continue;
        Step s = {.f = f, .o = o, .param = p, .loc = prm->loc, .lr = lr, .t = t};
        s.w = ir_param(f, p, prm->loc);
        s.g = ir_emit(f, &(IrNode){.op = OP_GRAD, .param = p, .shape = prm->shape, .loc = prm->loc});
        int first = f->outputs.len;
        IrNode *w = step(&s);
        /* OUT_PARAM first, then the slots in order: a stable layout. */
        ir_add_output(f, OUT_PARAM, p, 0, w);
        for (int i = f->outputs.len - 1; i > first; i--) {
            IrOutput tmp = f->outputs.items[i];
            f->outputs.items[i] = f->outputs.items[i - 1];
            f->outputs.items[i - 1] = tmp;
        }
    }
    return f;
}
