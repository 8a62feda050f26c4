/*
** pass_algebra.c — algebraic simplification: identities, a normal form for
** sums of products, and the numerically stable forms of SPEC 1.8. Every
** rule is general (true of any model); none is keyed on a loss's name. The
** stable losses come out of rules about log, sigmoid, softmax and sums, and
** their clean gradients come out of autodiff's derivative of softplus
** (sigmoid) and of logsumexp (softmax) meeting the term normal form.
**
** The pass rebuilds the function node by node; each node, its operands
** already rebuilt, goes through simplify(): the first rule that applies
** builds the replacement (through simplify again, bounded by MAX_DEPTH),
** and a node of + − · / is then put in the term normal form. Rules:
**
**   terms   +, −, neg, ·, /, square, integer pow, broadcast, fill constants:
**           Σ coef·Π atom^k with like terms merged and sorted by node id,
**           so x−x, y·a−y·a cancel, coefficients merge (x·2·3 = 6x, x/4 =
**           0.25x, x·0 = 0 broadcast to x's shape), neg(neg x) = x. A
**           product is distributed over a sum only when one side is a
**           single term, a shared node (several consumers) is never looked
**           into (unless opening it makes fewer terms: (−y/p + (1−y)/(1−p))
**           ·p·(1−p) = p − y opens the shared 1 − p), and at most MAX_TERMS
**           terms of MAX_FACTORS factors are kept: bounded. Re-emitted
**           with common coefficients and common factors pulled out (greedy,
**           the most frequent atom first) and scalar factors multiplied
**           first, so (σ(z)−y)/n stays one subtraction and one product.
**           A negated linear op of a sum takes the sign inside:
**           −Σ(a − b) = Σ(b − a).
**   log     log(clip(σ z)) = log σ z and log(1 − clip(σ z)) = log(1 − σ z)
**           and log(clip(softmax z)) = log softmax z, the clip being tight
**           (SPEC 1.8: see unclip); log σ(z) = −softplus(−z);
**           log(1 − σ(z)) = −softplus(z); log softmax(z) = z − lse(z)
**           (lse kept along the axis so it broadcasts); log exp x = x;
**           log(a/b) = log a − log b and log(a·b) = log a + log b when a and
**           b are positive and one side has a stable form (kl_divergence).
**   exp     exp(log x) = x for x known positive; exp(z − lse(z)) =
**           softmax(z); exp(z − softplus(z)) = σ(z).
**   σ, sp   softplus(−z) = softplus(z) − z (one canonical argument, so the
**           terms of both halves of a cross-entropy meet); σ(−z) = 1 − σ(z)
**           when σ(z) is computed anyway.
**   reduce  over one element: a reshape; mean = sum · 1/count;
**           Σ one_hot = 1; Σ broadcast(x) = Σx · (stretch factor); Σ over a
**           vector (or all axes) of terms with scalar factors pulls the
**           scalars out: Σ(y·(z − lse)) = Σ(y·z) − lse·Σy.
**   shape   reshape(reshape x), reshape or broadcast to x's own shape,
**           transpose(transpose x), transpose of rank ≤ 1, broadcast of a
**           broadcast, slice(pad x) with the same window, a slice or pad
**           of the whole, softmax along an axis of one element (= 1).
**   misc    abs(abs x), abs(−x), abs of a non-negative op, sqrt(x²) = |x|,
**           pow(x, 0|1|2|−1), min/max(x, x) = x, x > x = 0, x ≥ x = x == x
**           = 1, select on a constant condition or with equal branches,
**           divnz by a non-zero constant is a division.
**
** Like every compiler's fast-math, x − x = 0, x·0 = 0, x/x = 1 and
** x == x = 1 assume finite values.
*/
#include "ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_TERMS = 16,   /* terms in one normal form */
    MAX_FACTORS = 6,  /* distinct atoms in one term */
    MAX_POW = 8,      /* pow(x, k) is a term for integer |k| <= this */
    MAX_DEPTH = 24,   /* nested simplify() calls */
    MAX_NEST = 24,    /* depth of one normal form's expression */
    MAX_VISITS = 400, /* nodes one normal form may look at */
    MAX_OPENED = 4,   /* shared sums one normal form may expand */
};

/* A clip bound this close to 0 or 1 only keeps a log finite (unclip). */
#define CLIP_TINY 1e-4

typedef struct Alg {
    IrFunc *f; /* the function being built */
    /* Per new node id: some old node mapped to it, and it has (or the
    ** nodes mapped to it have) more than one consumer or are outputs. */
    struct { bool *items; int len, cap; } mapped, shared;
    int depth;        /* simplify() nesting */
    int visits;       /* of the normal form being built */
    IrNode *opened[MAX_OPENED]; /* shared nodes this normal form expands anyway */
    int nopened;
} Alg;

/* ======================================================================
** Helpers
** ====================================================================== */

static bool shared(const Alg *a, const IrNode *n) {
    for (int i = 0; i < a->nopened; i++)
        if (a->opened[i] == n) return false;
    return n->id < a->shared.len && a->shared.items[n->id];
}

static void grow(Alg *a, bool **items, int *len, int *cap) {
    int need = a->f->nodes.len;
    if (*len >= need) return;
    *items = arena_grow(a->f->module->arena, *items, cap, need, sizeof **items);
    memset(*items + *len, 0, sizeof **items * (size_t)(need - *len));
    *len = need;
}

/* n now stands for an old node; several such, or a shared one, share it. */
static void note_use(Alg *a, const IrNode *n, bool many) {
    grow(a, &a->mapped.items, &a->mapped.len, &a->mapped.cap);
    grow(a, &a->shared.items, &a->shared.len, &a->shared.cap);
    if (a->mapped.items[n->id] || many) a->shared.items[n->id] = true;
    a->mapped.items[n->id] = true;
}

/* A rule that uses n twice where it was used once (z in z − lse(z)) says
** so: the normal form must not expand n into its users from now on. */
static IrNode *reuse(Alg *a, IrNode *n) {
    grow(a, &a->shared.items, &a->shared.len, &a->shared.cap);
    a->shared.items[n->id] = true;
    return n;
}

static bool fill(const IrNode *n, double *v) {
    return n->op == OP_CONST && pass_fill_value(n, v);
}

static int64_t numel(const IrNode *n) {
    return shape_numel(n->shape);
}

static bool commutative(Op op) {
    return op == OP_ADD || op == OP_MUL || op == OP_MINIMUM || op == OP_MAXIMUM || op == OP_EQ;
}

/* ---- building without rules (the normal form's output is final) ---- */

static IrNode *num(Alg *a, double v, Loc loc) {
    return ir_const(a->f, v, shape_scalar(), loc);
}

static IrNode *raw1(Alg *a, Op op, IrNode *x, Loc loc) {
    return ir_unary(a->f, op, x, loc);
}

static IrNode *raw2(Alg *a, Op op, IrNode *x, IrNode *y, Loc loc) {
    if (commutative(op) && x->id > y->id) {
        IrNode *t = x;
        x = y;
        y = t;
    }
    return ir_binary(a->f, op, x, y, loc);
}

/* x stretched (or a fill re-made) to shape s; x must broadcast to it. */
static IrNode *fit(Alg *a, IrNode *x, Shape s, Loc loc) {
    double v;
    Shape b;
    if (shape_eq(x->shape, s)) return x;
    if (fill(x, &v)) return ir_const(a->f, v, s, loc);
    if (!shape_broadcast(x->shape, s, &b) || !shape_eq(b, s)) {
        char have[64], want[64];
        die("algebra: a rewrite of shape %s for a node of shape %s", shape_format(x->shape, have, sizeof have),
            shape_format(s, want, sizeof want));
    }
    return ir_broadcast(a->f, x, s, loc);
}

/* x with s's elements in x's order: a reshape, or x itself. */
static IrNode *reshape_to(Alg *a, IrNode *x, Shape s, Loc loc) {
    double v;
    if (shape_eq(x->shape, s)) return x;
    if (fill(x, &v)) return ir_const(a->f, v, s, loc);
    return ir_reshape(a->f, x, s, loc);
}

/* ---- building with rules ---- */

static IrNode *simplify(Alg *a, const IrNode *proto);

static IrNode *un(Alg *a, Op op, IrNode *x, Loc loc) {
    return simplify(a, &(IrNode){.op = op, .nin = 1, .in = {x}, .loc = loc});
}

static IrNode *bin(Alg *a, Op op, IrNode *x, IrNode *y, Loc loc) {
    return simplify(a, &(IrNode){.op = op, .nin = 2, .in = {x, y}, .loc = loc});
}

static IrNode *reduce(Alg *a, Op op, IrNode *x, int axis, Loc loc) {
    return simplify(a, &(IrNode){.op = op, .nin = 1, .in = {x}, .axis = axis, .loc = loc});
}

/* Whether the function already computes op(x): emitting it again is free
** then, and a rewrite to it costs nothing. (A new node is left for dce.) */
static bool computed(Alg *a, Op op, IrNode *x, Loc loc) {
    int before = a->f->nodes.len;
    ir_unary(a->f, op, x, loc);
    return a->f->nodes.len == before;
}

/* ======================================================================
** Terms: the normal form Σ coef · Π atom^exp
** ====================================================================== */

typedef struct Factor {
    IrNode *atom;
    int exp; /* never 0 */
} Factor;

typedef struct Term {
    double coef;
    int n;
    Factor f[MAX_FACTORS]; /* by atom id */
} Term;

typedef struct Poly {
    int n;
    Term t[MAX_TERMS];
} Poly;

static Poly *poly_new(void) {
    Poly *p = calloc(1, sizeof *p);
    if (!p) die("out of memory");
    return p;
}

static void poly_const(Poly *p, double v) {
    p->n = v != 0;
    p->t[0] = (Term){.coef = v};
}

static void poly_atom(Poly *p, IrNode *atom, int exp) {
    p->n = 1;
    p->t[0] = (Term){.coef = 1, .n = 1, .f = {{atom, exp}}};
}

static bool same_factors(const Term *x, const Term *y) {
    if (x->n != y->n) return false;
    for (int i = 0; i < x->n; i++)
        if (x->f[i].atom != y->f[i].atom || x->f[i].exp != y->f[i].exp) return false;
    return true;
}

/* Adds c·t to p, merging a like term; false when p would overflow. */
static bool poly_add_term(Poly *p, const Term *t, double c) {
    double coef = t->coef * c;
    if (coef == 0) return true;
    for (int i = 0; i < p->n; i++) {
        if (!same_factors(&p->t[i], t)) continue;
        p->t[i].coef += coef;
        if (p->t[i].coef == 0) p->t[i] = p->t[--p->n]; /* cancelled */
        return true;
    }
    if (p->n == MAX_TERMS) return false;
    p->t[p->n] = *t;
    p->t[p->n++].coef = coef;
    return true;
}

static bool poly_add(Poly *p, const Poly *q, double c) {
    for (int i = 0; i < q->n; i++)
        if (!poly_add_term(p, &q->t[i], c)) return false;
    return true;
}

/* x · y, factor lists merged by atom id; false on too many factors. */
static bool term_mul(const Term *x, const Term *y, Term *out) {
    Term r = {.coef = x->coef * y->coef};
    int i = 0, j = 0;
    while (i < x->n || j < y->n) {
        Factor f;
        if (j == y->n || (i < x->n && x->f[i].atom->id < y->f[j].atom->id)) {
            f = x->f[i++];
        } else if (i == x->n || y->f[j].atom->id < x->f[i].atom->id) {
            f = y->f[j++];
        } else {
            f = x->f[i];
            f.exp += y->f[j].exp;
            i++, j++;
        }
        if (f.exp == 0) continue;
        if (r.n == MAX_FACTORS) return false;
        r.f[r.n++] = f;
    }
    *out = r;
    return true;
}

/* p · q when one side is a single term (or zero): never a product of sums. */
static bool poly_mul(Poly *p, const Poly *q) {
    if (p->n > 1 && q->n > 1) return false;
    const Poly *many = p->n > 1 ? p : q, *one = p->n > 1 ? q : p;
    if (one->n == 0) {
        p->n = 0;
        return true;
    }
    Poly *r = poly_new();
    bool ok = true;
    for (int i = 0; i < many->n && ok; i++) {
        Term t;
        ok = term_mul(&many->t[i], &one->t[0], &t) && poly_add_term(r, &t, 1);
    }
    if (ok) *p = *r;
    free(r);
    return ok;
}

/* p^k (k != 0) for a single term p; false otherwise. */
static bool poly_pow(Poly *p, int k) {
    if (p->n != 1 || k == 0) return false;
    Term *t = &p->t[0];
    for (int i = 0; i < t->n; i++)
        if (abs(t->f[i].exp * k) > MAX_POW) return false;
    t->coef = pow(t->coef, k);
    for (int i = 0; i < t->n; i++) t->f[i].exp *= k;
    return true;
}

static void poly_negate(Poly *p) {
    for (int i = 0; i < p->n; i++) p->t[i].coef = -p->t[i].coef;
}

/* ---- from a node ---- */

static bool decompose(Alg *a, IrNode *n, Poly *p, int nest);

/* The operand's form, or the operand as an atom when its own form is too
** big or it is shared: either way p holds its value. */
static bool operand(Alg *a, IrNode *n, Poly *p, int nest) {
    if (decompose(a, n, p, nest + 1)) return true;
    if (a->visits > MAX_VISITS) return false;
    poly_atom(p, n, 1);
    return true;
}

/* An integer exponent of pow that the normal form keeps. */
static bool small_power(const IrNode *n, int *k) {
    double v;
    if (n->op != OP_POW || !fill(n->in[1], &v) || v != floor(v) || fabs(v) > MAX_POW) return false;
    *k = (int)v;
    return true;
}

static bool decompose_op(Alg *a, IrNode *n, Poly *p, int nest) {
    Poly *q = poly_new();
    bool ok = true;
    int k;
    switch (n->op) {
    case OP_NEG:
        ok = operand(a, n->in[0], p, nest);
        poly_negate(p);
        break;
    case OP_ADD:
    case OP_SUB:
        ok = operand(a, n->in[0], p, nest) && operand(a, n->in[1], q, nest) &&
             poly_add(p, q, n->op == OP_ADD ? 1 : -1);
        break;
    case OP_MUL: ok = operand(a, n->in[0], p, nest) && operand(a, n->in[1], q, nest) && poly_mul(p, q); break;
    case OP_DIV:
        ok = operand(a, n->in[0], p, nest) && operand(a, n->in[1], q, nest);
        if (ok && !poly_pow(q, -1)) poly_atom(q, n->in[1], -1); /* 1/(a + b) stays whole */
        ok = ok && poly_mul(p, q);
        break;
    case OP_SQUARE: ok = operand(a, n->in[0], p, nest) && poly_pow(p, 2); break;
    default:
        ok = small_power(n, &k) && operand(a, n->in[0], p, nest) && poly_pow(p, k);
        break;
    }
    free(q);
    return ok;
}

static bool term_op(const IrNode *n) {
    int k;
    switch (n->op) {
    case OP_NEG: case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_SQUARE:
        return true;
    default:
        return small_power(n, &k);
    }
}

/* n's normal form in p; false when n is better taken whole (an atom). The
** node asked about first (nest 0) is looked into even when shared. */
static bool decompose(Alg *a, IrNode *n, Poly *p, int nest) {
    double v;
    if (++a->visits > MAX_VISITS || nest > MAX_NEST) return false;
    if (fill(n, &v)) {
        poly_const(p, v);
        return true;
    }
    /* Element-wise ops broadcast anyway; the result is fitted at the end. */
    if (n->op == OP_BROADCAST) return decompose(a, n->in[0], p, nest);
    if (!term_op(n) || (nest > 0 && shared(a, n))) {
        poly_atom(p, n, 1);
        return true;
    }
    return decompose_op(a, n, p, nest);
}

/* ---- canonical order ---- */

static bool term_varying(const Term *t) {
    for (int i = 0; i < t->n; i++)
        if (t->f[i].atom->varying) return true;
    return false;
}

static int64_t term_numel(const Term *t) {
    int64_t m = 1;
    for (int i = 0; i < t->n; i++)
        if (numel(t->f[i].atom) > m) m = numel(t->f[i].atom);
    return m;
}

static int cmp_int(int64_t x, int64_t y) {
    return (x > y) - (x < y);
}

/* Uniform before varying, small before large, then by atom ids: constants
** lead and per-batch values are combined before per-sample ones. */
static int term_cmp(const void *px, const void *py) {
    const Term *x = px, *y = py;
    int c = cmp_int(term_varying(x), term_varying(y));
    if (!c) c = cmp_int(term_numel(x), term_numel(y));
    if (!c) c = cmp_int(x->n, y->n);
    for (int i = 0; !c && i < x->n; i++) {
        c = cmp_int(x->f[i].atom->id, y->f[i].atom->id);
        if (!c) c = cmp_int(x->f[i].exp, y->f[i].exp);
    }
    return c;
}

static int factor_cmp(const void *px, const void *py) {
    const Factor *x = px, *y = py;
    int c = cmp_int(numel(x->atom), numel(y->atom));
    return c ? c : cmp_int(x->atom->id, y->atom->id);
}

/* ======================================================================
** Terms back to nodes
** ====================================================================== */

static IrNode *power(Alg *a, IrNode *x, int k, Loc loc) {
    switch (k) {
    case 1: return x;
    case 2: return raw1(a, OP_SQUARE, x, loc);
    case 3: return raw2(a, OP_MUL, raw1(a, OP_SQUARE, x, loc), x, loc);
    case 4: return raw1(a, OP_SQUARE, raw1(a, OP_SQUARE, x, loc), loc);
    default: return raw2(a, OP_POW, x, num(a, k, loc), loc);
    }
}

/* coef · Π factors, smallest shapes first: scalar parts are multiplied
** once, not per element (adam's α·m/(√v + ε) keeps α a scalar). */
static IrNode *emit_term(Alg *a, const Term *t, double coef, Loc loc) {
    Factor f[MAX_FACTORS];
    memcpy(f, t->f, sizeof f[0] * (size_t)t->n);
    qsort(f, (size_t)t->n, sizeof f[0], factor_cmp);
    IrNode *acc = coef != 1 || t->n == 0 ? num(a, coef, loc) : NULL;
    for (int i = 0; i < t->n;) {
        int64_t size = numel(f[i].atom);
        IrNode *up = NULL, *down = NULL;
        for (; i < t->n && numel(f[i].atom) == size; i++) {
            IrNode *x = power(a, f[i].atom, abs(f[i].exp), loc);
            IrNode **side = f[i].exp > 0 ? &up : &down;
            *side = *side ? raw2(a, OP_MUL, *side, x, loc) : x;
        }
        if (up) acc = acc ? raw2(a, OP_MUL, acc, up, loc) : up;
        if (down) acc = raw2(a, OP_DIV, acc ? acc : num(a, 1, loc), down, loc);
    }
    return acc;
}

typedef struct Item {
    IrNode *node;
    bool negative;
} Item;

/* The positive items added, then the negative ones subtracted; when all
** are negative, their sum is returned and *negated set. */
static IrNode *combine(Alg *a, const Item *items, int n, Loc loc, bool *negated) {
    IrNode *acc = NULL;
    for (int i = 0; i < n; i++)
        if (!items[i].negative) acc = acc ? raw2(a, OP_ADD, acc, items[i].node, loc) : items[i].node;
    *negated = !acc;
    for (int i = 0; i < n; i++) {
        if (!items[i].negative) continue;
        if (!acc) acc = items[i].node;
        else acc = raw2(a, *negated ? OP_ADD : OP_SUB, acc, items[i].node, loc);
    }
    return acc;
}

/* All |coef| equal and not 1: that value (the 1/n of a mean's gradient). */
static bool common_coef(const Term *t, int n, double *c) {
    *c = fabs(t[0].coef);
    for (int i = 1; i < n; i++)
        if (fabs(t[i].coef) != *c) return false;
    return *c != 1;
}

/* The factor (atom and the sign of its exponent) in the most terms, at
** least two; ties go to the lowest atom id. */
static bool best_factor(const Term *t, int n, Factor *best) {
    int best_count = 1;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < t[i].n; j++) {
            Factor f = {t[i].f[j].atom, t[i].f[j].exp > 0 ? 1 : -1};
            int count = 0;
            for (int k = 0; k < n; k++)
                for (int l = 0; l < t[k].n; l++)
                    count += t[k].f[l].atom == f.atom && (t[k].f[l].exp > 0) == (f.exp > 0);
            if (count > best_count || (count == best_count && count > 1 && f.atom->id < best->atom->id)) {
                best_count = count;
                *best = f;
            }
        }
    }
    return best_count > 1;
}

/* Moves the terms with factor f, divided by it, from t (n of them) to out. */
static int take_factor(Term *t, int *n, Factor f, Term *out) {
    int taken = 0, kept = 0;
    for (int i = 0; i < *n; i++) {
        Term x = t[i];
        int j = 0;
        while (j < x.n && !(x.f[j].atom == f.atom && (x.f[j].exp > 0) == (f.exp > 0))) j++;
        if (j == x.n) {
            t[kept++] = x;
            continue;
        }
        x.f[j].exp -= f.exp;
        if (x.f[j].exp == 0) memmove(&x.f[j], &x.f[j + 1], sizeof x.f[0] * (size_t)(--x.n - j));
        out[taken++] = x;
    }
    *n = kept;
    return taken;
}

static IrNode *emit_sum(Alg *a, const Term *t, int n, Loc loc, bool *negated);

static IrNode *emit_scaled(Alg *a, const Term *t, int n, double c, Loc loc, bool *negated) {
    Term *u = calloc(MAX_TERMS, sizeof *u);
    if (!u) die("out of memory");
    for (int i = 0; i < n; i++) {
        u[i] = t[i];
        u[i].coef /= c;
    }
    IrNode *r = emit_sum(a, u, n, loc, negated);
    free(u);
    return raw2(a, OP_MUL, r, num(a, c, loc), loc);
}

/* Σ t as a node r with Σ t = r, or = −r when *negated. */
static IrNode *emit_sum(Alg *a, const Term *t, int n, Loc loc, bool *negated) {
    double c;
    *negated = false;
    if (n == 0) return num(a, 0, loc);
    if (n == 1) {
        *negated = t[0].coef < 0;
        return emit_term(a, &t[0], fabs(t[0].coef), loc);
    }
    if (common_coef(t, n, &c)) return emit_scaled(a, t, n, c, loc, negated);
    Term *rest = calloc(2 * MAX_TERMS, sizeof *rest), *group = rest + MAX_TERMS;
    Item items[MAX_TERMS];
    int left = n, count = 0;
    if (!rest) die("out of memory");
    memcpy(rest, t, sizeof *t * (size_t)n);
    Factor f;
    while (best_factor(rest, left, &f)) {
        int taken = take_factor(rest, &left, f, group);
        IrNode *inner = emit_sum(a, group, taken, loc, &items[count].negative);
        items[count++].node = f.exp > 0 ? raw2(a, OP_MUL, f.atom, inner, loc) : raw2(a, OP_DIV, inner, f.atom, loc);
    }
    for (int i = 0; i < left; i++)
        items[count++] = (Item){emit_term(a, &rest[i], fabs(rest[i].coef), loc), rest[i].coef < 0};
    free(rest);
    return combine(a, items, count, loc, negated);
}

/* Σ p as a node of shape s. */
static IrNode *emit_poly(Alg *a, Poly *p, Shape s, Loc loc) {
    qsort(p->t, (size_t)p->n, sizeof p->t[0], term_cmp);
    bool negated;
    IrNode *r = emit_sum(a, p->t, p->n, loc, &negated);
    double v;
    if (negated) r = fill(r, &v) ? num(a, -v, loc) : raw1(a, OP_NEG, r, loc);
    return fit(a, r, s, loc);
}

/* ---- a negated linear op of a sum: the sign goes inside ---- */

static bool linear_op(Op op) {
    return op == OP_SUM || op == OP_RESHAPE || op == OP_TRANSPOSE;
}

/* p = −c·L(s), L linear and s a sum with a subtracted term: p becomes
** c·L(−s), which costs nothing (b − a for a − b) and reads as the SPEC's
** losses do: Σ(softplus(z) − y·z), not −Σ(y·z − softplus(z)). */
static void sign_inside(Alg *a, Poly *p, Loc loc) {
    if (p->n != 1 || p->t[0].coef > 0 || p->t[0].n != 1 || p->t[0].f[0].exp != 1) return;
    IrNode *l = p->t[0].f[0].atom, *s = l->nin ? l->in[0] : NULL;
    if (!linear_op(l->op) || shared(a, l) || shared(a, s) || !term_op(s)) return;
    Poly *q = poly_new();
    bool any_negative = false;
    a->visits = 0;
    if (decompose(a, s, q, 1))
        for (int i = 0; i < q->n; i++) any_negative |= q->t[i].coef < 0;
    free(q);
    if (!any_negative) return;
    IrNode *minus = un(a, OP_NEG, s, loc);
    p->t[0].f[0].atom = simplify(a, &(IrNode){.op = l->op, .nin = 1, .in = {minus}, .axis = l->axis,
                                              .shape = l->shape, .loc = l->loc});
    p->t[0].coef = -p->t[0].coef;
}

/* A shared sum is an atom, so that its users do not compute it again;
** but when expanding it makes fewer terms, something cancels and it pays:
** (−y/p + (1−y)/(1−p))·p·(1−p) = p − y needs 1 − p opened. */
static void open_shared_sums(Alg *a, IrNode *n, Poly *p) {
    Poly *q = poly_new();
    for (int i = 0; i < p->n && a->nopened < MAX_OPENED; i++) {
        for (int j = 0; j < p->t[i].n; j++) {
            IrNode *atom = p->t[i].f[j].atom;
            if (!shared(a, atom) || !term_op(atom)) continue;
            a->opened[a->nopened++] = atom;
            a->visits = 0;
            if (decompose(a, n, q, 0) && q->n < p->n) {
                *p = *q;
                i = -1; /* the terms changed: look again, this one staying open */
                break;
            }
            a->nopened--;
        }
    }
    a->nopened = 0;
    free(q);
}

/* n (a + − · / node just built) in the normal form. */
static IrNode *normalize(Alg *a, IrNode *n) {
    Poly *p = poly_new();
    a->visits = 0;
    IrNode *r = n;
    if (decompose(a, n, p, 0)) {
        open_shared_sums(a, n, p);
        sign_inside(a, p, n->loc);
        r = emit_poly(a, p, n->shape, n->loc);
    }
    free(p);
    return r;
}

/* ======================================================================
** The stable forms (SPEC 1.8)
** ====================================================================== */

/* The operand of a clip min(max(s, lo), hi) (either order, either bound
** alone) whose bounds only keep log(s) and log(1 − s) finite: lo in
** (0, CLIP_TINY], hi in [1 − CLIP_TINY, 1]. SPEC 1.8: when a cross-entropy
** follows a sigmoid or a softmax, the loss is computed from the logits
** without clipping; the clip exists only to keep the log finite, and the
** stable forms below already are, so the clip goes. NULL otherwise. */
static IrNode *unclip(IrNode *x) {
    IrNode *s = x;
    for (int i = 0; i < 2; i++) {
        if (s->op != OP_MAXIMUM && s->op != OP_MINIMUM) break;
        double c;
        int k = fill(s->in[1], &c) ? 0 : fill(s->in[0], &c) ? 1 : -1;
        if (k < 0) break;
        bool tight = s->op == OP_MAXIMUM ? c > 0 && c <= CLIP_TINY : c >= 1 - CLIP_TINY && c <= 1;
        if (!tight) break;
        s = s->in[k];
    }
    return s != x && (s->op == OP_SIGMOID || s->op == OP_SOFTMAX) ? s : NULL;
}

/* s when x is 1 − s (s an atom of x's normal form), else NULL. */
static IrNode *one_minus(Alg *a, IrNode *x) {
    if (!term_op(x)) return NULL;
    Poly *p = poly_new();
    IrNode *s = NULL;
    a->visits = 0;
    if (decompose(a, x, p, 0) && p->n == 2) {
        qsort(p->t, 2, sizeof p->t[0], term_cmp);
        Term *c = &p->t[0], *t = &p->t[1];
        if (c->n == 0 && c->coef == 1 && t->coef == -1 && t->n == 1 && t->f[0].exp == 1) s = t->f[0].atom;
    }
    free(p);
    return s;
}

/* The shape of reduce(z, axis) with the axis kept as 1, dropping leading
** 1s: it broadcasts against z along the right axis. */
static Shape keepdims(Shape z, int axis) {
    Shape k = z;
    for (int i = 0; i < z.rank; i++)
        if (axis == IR_AXIS_ALL || i == axis) k.dim[i] = 1;
    int lead = 0;
    while (lead < k.rank && k.dim[lead] == 1) lead++;
    Shape r = {.rank = k.rank - lead};
    for (int i = 0; i < r.rank; i++) r.dim[i] = k.dim[lead + i];
    return r;
}

/* logsumexp(z, axis) placed to broadcast against z. */
static IrNode *lse_along(Alg *a, IrNode *z, int axis, Loc loc) {
    IrNode *l = reduce(a, OP_LOGSUMEXP, z, axis, loc);
    return reshape_to(a, l, keepdims(z->shape, axis), loc);
}

/* Whether s, right-aligned against z as broadcasting aligns it, has size
** 1 on the reduced axes and z's sizes on the others. */
static bool aligned_keepdims(Shape s, Shape z, int axis) {
    if (s.rank > z.rank) return false;
    for (int i = 0; i < z.rank; i++) {
        int j = i - (z.rank - s.rank), d = j >= 0 ? s.dim[j] : 1;
        bool reduced = axis == IR_AXIS_ALL || i == axis;
        if (d != (reduced ? 1 : z.dim[i])) return false;
    }
    return true;
}

/* Whether r is logsumexp(z, axis) placed to broadcast against z along the
** axis it reduced (what lse_along builds, or autodiff's expand: a reshape,
** then a broadcast). Sets the softmax axis. */
static bool is_lse_along(IrNode *r, IrNode *z, int *axis) {
    if (r->op == OP_BROADCAST) r = r->in[0];
    IrNode *l = r->op == OP_RESHAPE ? r->in[0] : r;
    if (l->op != OP_LOGSUMEXP || l->in[0] != z || !aligned_keepdims(r->shape, z->shape, l->axis))
        return false;
    *axis = l->axis == IR_AXIS_ALL && z->shape.rank == 1 ? 0 : l->axis;
    return *axis != IR_AXIS_ALL;
}

/* x > 0 wherever it is defined: log x is finite or +inf. */
static bool positive(const IrNode *x, int depth) {
    double v;
    if (fill(x, &v)) return v > 0;
    if (depth > 4) return false;
    switch (x->op) {
    case OP_EXP: case OP_SIGMOID: case OP_SOFTMAX: return true;
    case OP_MAXIMUM: return positive(x->in[0], depth + 1) || positive(x->in[1], depth + 1);
    case OP_MINIMUM: case OP_MUL: case OP_DIV: case OP_ADD:
        return positive(x->in[0], depth + 1) && positive(x->in[1], depth + 1);
    default: return false;
    }
}

static bool log_has_stable_form(Alg *a, IrNode *x) {
    IrNode *s = one_minus(a, x);
    return unclip(x) || x->op == OP_SIGMOID || x->op == OP_SOFTMAX || x->op == OP_EXP ||
           (s && (s->op == OP_SIGMOID || unclip(s)));
}

static IrNode *rule_log(Alg *a, IrNode *x, Loc loc) {
    IrNode *s = unclip(x), *z = x->nin ? x->in[0] : NULL;
    if (s) return un(a, OP_LOG, s, loc);
    if ((s = one_minus(a, x))) {
        IrNode *u = unclip(s);
        if (u && u->op == OP_SIGMOID) s = u;
        if (s->op == OP_SIGMOID) /* log(1 − σ(z)) = log σ(−z) = −softplus(z) */
            return un(a, OP_NEG, un(a, OP_SOFTPLUS, s->in[0], loc), loc);
    }
    switch (x->op) {
    case OP_SIGMOID: /* log σ(z) = −log(1 + e^−z) = −softplus(−z) */
        return un(a, OP_NEG, un(a, OP_SOFTPLUS, un(a, OP_NEG, z, loc), loc), loc);
    case OP_SOFTMAX: /* log softmax(z) = z − logsumexp(z) along the axis */
        return bin(a, OP_SUB, reuse(a, z), lse_along(a, z, x->axis, loc), loc);
    case OP_EXP:
        return z;
    case OP_DIV:
    case OP_MUL:
        if (!positive(x->in[0], 0) || !positive(x->in[1], 0) ||
            !(log_has_stable_form(a, x->in[0]) || log_has_stable_form(a, x->in[1])))
            return NULL;
        return bin(a, x->op == OP_DIV ? OP_SUB : OP_ADD, un(a, OP_LOG, x->in[0], loc),
                   un(a, OP_LOG, x->in[1], loc), loc);
    default:
        return NULL;
    }
}

static IrNode *rule_exp(Alg *a, IrNode *x, Loc loc) {
    int axis;
    if (x->op == OP_LOG && positive(x->in[0], 0)) return x->in[0];
    if (x->op != OP_SUB) return NULL;
    IrNode *z = x->in[0], *r = x->in[1];
    if (is_lse_along(r, z, &axis)) /* e^(z − lse z) = softmax(z) */
        return simplify(a, &(IrNode){.op = OP_SOFTMAX, .nin = 1, .in = {z}, .axis = axis, .loc = loc});
    if (r->op == OP_SOFTPLUS && r->in[0] == z) /* e^(z − softplus z) = σ(z) */
        return un(a, OP_SIGMOID, z, loc);
    return NULL;
}

/* softplus(−z) = softplus(z) − z: one argument for both signs. */
static IrNode *rule_softplus(Alg *a, IrNode *x, Loc loc) {
    if (x->op != OP_NEG) return NULL;
    IrNode *z = reuse(a, x->in[0]);
    return bin(a, OP_SUB, un(a, OP_SOFTPLUS, z, loc), z, loc);
}

/* σ(−z) = 1 − σ(z), when σ(z) is there anyway. */
static IrNode *rule_sigmoid(Alg *a, IrNode *x, Loc loc) {
    if (x->op != OP_NEG || !computed(a, OP_SIGMOID, x->in[0], loc)) return NULL;
    return bin(a, OP_SUB, num(a, 1, loc), un(a, OP_SIGMOID, x->in[0], loc), loc);
}

/* ======================================================================
** Reductions
** ====================================================================== */

static int64_t reduced_count(const IrNode *x, int axis) {
    return axis == IR_AXIS_ALL ? numel(x) : x->shape.dim[axis];
}

/* Σ over a vector or over everything: every element in one sum. */
static bool sums_all(const IrNode *x, int axis) {
    return axis == IR_AXIS_ALL || x->shape.rank == 1;
}

/* The factors of t with one element (the ones a sum can pull out) moved
** to s; t keeps the others. */
static void split_scalars(Term *t, Term *s) {
    *s = (Term){.coef = 1};
    int kept = 0;
    for (int i = 0; i < t->n; i++) {
        if (t->f[i].atom->shape.rank == 0) s->f[s->n++] = t->f[i];
        else t->f[kept++] = t->f[i];
    }
    t->n = kept;
}

/* Σ(Σ_i c_i·s_i·r_i) over everything, the s_i scalar: Σ_g s_g·Σ(Σ c_i·r_i)
** with the terms grouped by their scalars s_g; a group of one term takes
** its coefficient out too. */
static IrNode *sum_groups(Alg *a, Poly *p, Term *scal, Shape shape, Loc loc) {
    bool taken[MAX_TERMS] = {0};
    Poly *rest = poly_new();
    IrNode *acc = NULL;
    for (int i = 0; i < p->n; i++) {
        if (taken[i]) continue;
        rest->n = 0;
        for (int j = i; j < p->n; j++) {
            if (taken[j] || !same_factors(&scal[j], &scal[i])) continue;
            taken[j] = true;
            poly_add_term(rest, &p->t[j], 1); /* distinct rests: it fits */
        }
        if (rest->n == 1) {
            scal[i].coef = rest->t[0].coef;
            rest->t[0].coef = 1;
        }
        IrNode *part = reduce(a, OP_SUM, emit_poly(a, rest, shape, loc), IR_AXIS_ALL, loc);
        part = bin(a, OP_MUL, emit_term(a, &scal[i], scal[i].coef, loc), part, loc);
        acc = acc ? bin(a, OP_ADD, acc, part, loc) : part;
    }
    free(rest);
    return acc;
}

/* Σ x over everything with its scalar factors pulled out, when it has any:
** Σ(y·z − y·lse) = Σ(y·z) − lse·Σy, and Σy may then be known (one_hot). */
static IrNode *sum_pull_scalars(Alg *a, IrNode *x, Loc loc) {
    if (shared(a, x) || !term_op(x)) return NULL;
    Poly *p = poly_new();
    Term scal[MAX_TERMS];
    bool any = false;
    a->visits = 0;
    if (decompose(a, x, p, 0)) {
        for (int i = 0; i < p->n; i++) {
            split_scalars(&p->t[i], &scal[i]);
            any |= scal[i].n > 0;
        }
    }
    IrNode *r = any ? sum_groups(a, p, scal, x->shape, loc) : NULL;
    free(p);
    return r;
}

static IrNode *rule_reduce(Alg *a, const IrNode *n, Shape out) {
    IrNode *x = n->in[0];
    Loc loc = n->loc;
    int64_t count = reduced_count(x, n->axis);
    /* One element: itself. Not in uniform code over a parameter of one
    ** element, though: regularize and update compute each parameter in one
    ** loop and read its sums after it (codegen pointwise.c); a reshape there
    ** would be a scalar read of a loop's value, which they cannot express,
    ** so a one-element penalty (a bias of one unit) kept its sum. */
    if (count == 1 && (x->varying || x->shape.rank == 0)) return reshape_to(a, x, out, loc);
    if (n->op == OP_MEAN) /* SPEC 1.8's 1/n as a coefficient the terms can merge */
        return bin(a, OP_MUL, reduce(a, OP_SUM, x, n->axis, loc), num(a, 1.0 / (double)count, loc), loc);
    if (n->op != OP_SUM || !sums_all(x, n->axis)) return NULL;
    double v;
    if (fill(x, &v)) return num(a, v * (double)count, loc);
    if (x->op == OP_ONE_HOT) return num(a, 1, loc); /* exactly one 1 */
    if (x->op == OP_BROADCAST) /* every element of the operand, count/numel times */
        return bin(a, OP_MUL, reduce(a, OP_SUM, x->in[0], IR_AXIS_ALL, loc),
                   num(a, (double)(numel(x) / numel(x->in[0])), loc), loc);
    return sum_pull_scalars(a, x, loc);
}

/* ======================================================================
** Shapes, and the small identities
** ====================================================================== */

static bool whole_slice(Shape x, const IrSlice *s) {
    if (s->drop) return false;
    for (int i = 0; i < s->rank; i++)
        if (s->start[i] != 0 || s->stop[i] != x.dim[i]) return false;
    return true;
}

static bool same_slice(const IrSlice *x, const IrSlice *y) {
    if (x->rank != y->rank || x->drop != y->drop) return false;
    for (int i = 0; i < x->rank; i++)
        if (x->start[i] != y->start[i] || x->stop[i] != y->stop[i]) return false;
    return true;
}

static IrNode *rule_shape(Alg *a, const IrNode *n, Shape out) {
    IrNode *x = n->in[0];
    switch (n->op) {
    case OP_RESHAPE:
        if (x->op == OP_RESHAPE) x = x->in[0];
        return x != n->in[0] || shape_eq(x->shape, out) ? reshape_to(a, x, out, n->loc) : NULL;
    case OP_BROADCAST:
        if (x->op == OP_BROADCAST) x = x->in[0];
        return x != n->in[0] || shape_eq(x->shape, out) ? fit(a, x, out, n->loc) : NULL;
    case OP_TRANSPOSE:
        if (x->shape.rank <= 1) return x;
        return x->op == OP_TRANSPOSE ? x->in[0] : NULL;
    case OP_SLICE:
        if (x->op == OP_PAD && same_slice(&x->slice, &n->slice)) return x->in[0];
        return whole_slice(x->shape, &n->slice) ? x : NULL;
    case OP_PAD:
        return whole_slice(out, &n->slice) ? x : NULL;
    case OP_SOFTMAX:
        return x->shape.dim[n->axis] == 1 ? ir_const(a->f, 1, out, n->loc) : NULL;
    default:
        return NULL;
    }
}

/* Ops whose value is never negative. */
static bool non_negative(const IrNode *x) {
    double v;
    if (fill(x, &v)) return v >= 0;
    switch (x->op) {
    case OP_ABS: case OP_SQUARE: case OP_EXP: case OP_SIGMOID: case OP_SOFTPLUS: case OP_RELU:
    case OP_SQRT: case OP_SOFTMAX: case OP_STEP: case OP_GT: case OP_GE: case OP_EQ:
        return true;
    default:
        return false;
    }
}

static IrNode *rule_unary(Alg *a, const IrNode *n) {
    IrNode *x = n->in[0];
    Loc loc = n->loc;
    switch (n->op) {
    case OP_LOG: return rule_log(a, x, loc);
    case OP_EXP: return rule_exp(a, x, loc);
    case OP_SOFTPLUS: return rule_softplus(a, x, loc);
    case OP_SIGMOID: return rule_sigmoid(a, x, loc);
    case OP_ABS:
        if (x->op == OP_ABS || x->op == OP_NEG) return un(a, OP_ABS, x->in[0], loc);
        return non_negative(x) ? x : NULL;
    case OP_SQRT:
        return x->op == OP_SQUARE ? un(a, OP_ABS, x->in[0], loc) : NULL;
    default:
        return NULL;
    }
}

static IrNode *rule_pow(Alg *a, IrNode *x, IrNode *k, Shape out, Loc loc) {
    double v;
    if (!fill(k, &v)) return NULL;
    if (v == 0) return ir_const(a->f, 1, out, loc); /* C's pow: x⁰ = 1 even for NaN */
    if (v == 1) return x;
    if (v == 2) return un(a, OP_SQUARE, x, loc);
    if (v == -1) return bin(a, OP_DIV, num(a, 1, loc), x, loc);
    return NULL;
}

static IrNode *rule_binary(Alg *a, const IrNode *n, Shape out) {
    IrNode *x = n->in[0], *y = n->in[1];
    Loc loc = n->loc;
    double v;
    switch (n->op) {
    case OP_MINIMUM:
    case OP_MAXIMUM: return x == y ? x : NULL;
    case OP_GT: return x == y ? ir_const(a->f, 0, out, loc) : NULL;
    case OP_GE:
    case OP_EQ: return x == y ? ir_const(a->f, 1, out, loc) : NULL;
    case OP_DIVNZ: return fill(y, &v) && v != 0 ? bin(a, OP_DIV, x, y, loc) : NULL;
    case OP_POW: return rule_pow(a, x, y, out, loc);
    default: return NULL;
    }
}

static IrNode *rule_select(Alg *a, const IrNode *n) {
    double c;
    (void)a;
    if (fill(n->in[0], &c)) return c != 0 ? n->in[1] : n->in[2];
    return n->in[1] == n->in[2] ? n->in[1] : NULL;
}

/* The replacement the first applicable rule builds, or NULL. */
static IrNode *rewrite(Alg *a, const IrNode *n, Shape out) {
    unsigned flags = ir_ops[n->op].flags;
    if (flags & OPF_REDUCE) return rule_reduce(a, n, out);
    if (n->op == OP_SELECT) return rule_select(a, n);
    if ((flags & OPF_EW) && n->nin == 1) return rule_unary(a, n);
    if (flags & OPF_EW) return rule_binary(a, n, out);
    return rule_shape(a, n, out);
}

/* ======================================================================
** The pass
** ====================================================================== */

static bool normal_form_root(Op op) {
    return op == OP_NEG || op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV ||
           op == OP_SQUARE || op == OP_POW;
}

static IrNode *simplify(Alg *a, const IrNode *proto) {
    Shape out;
    unsigned flags = ir_ops[proto->op].flags;
    if ((flags & (OPF_LEAF | OPF_NOCSE)) || a->depth >= MAX_DEPTH) return ir_emit(a->f, proto);
    if (!ir_rule_shape(a->f->module, proto, &out)) die("algebra: %s of operands that do not fit", ir_ops[proto->op].name);
    a->depth++;
    IrNode *r = rewrite(a, proto, out);
    if (r) {
        r = fit(a, r, out, proto->loc);
    } else {
        r = ir_emit(a->f, proto);
        if (normal_form_root(r->op)) r = normalize(a, r);
    }
    a->depth--;
    return r;
}

/* A value that varied per sample must still vary: a per-sample loss that
** simplified to a constant would be one value for the batch, not one per
** row (ir.h's OUT_LOSS). Rare (a loss that ignores its data); such an
** output is rebuilt as written. */
static void keep_varying(Alg *a, const IrFunc *f, IrNode **map, const IrNode *out) {
    if (!out->varying || map[out->id]->varying) return;
    bool *need = ARENA_ARRAY(a->f->module->arena, bool, f->nodes.len);
    IrNode **plain = ARENA_ARRAY(a->f->module->arena, IrNode *, f->nodes.len);
    need[out->id] = true;
    for (int i = out->id; i >= 0; i--) {
        const IrNode *n = f->nodes.items[i];
        for (int k = 0; need[i] && k < n->nin; k++) need[n->in[k]->id] = true;
    }
    for (int i = 0; i <= out->id; i++) {
        const IrNode *n = f->nodes.items[i];
        if (!need[i]) continue;
        IrNode *in[IR_MAX_IN];
        for (int k = 0; k < n->nin; k++) in[k] = plain[n->in[k]->id];
        plain[i] = n->nin ? ir_clone(a->f, n, in) : map[i];
    }
    map[out->id] = plain[out->id];
}

IrFunc *pass_algebra(const IrFunc *f) {
    bool *live = pass_live(f), *outputs = pass_outputs(f);
    int *uses = pass_consumers(f, live);
    IrNode **map;
    IrFunc *g = pass_begin(f, &map);
    Alg a = {.f = g};
    for (int i = 0; i < f->nodes.len; i++) {
        if (!live[i]) continue;
        const IrNode *n = f->nodes.items[i];
        IrNode proto = *n;
        for (int k = 0; k < n->nin; k++) proto.in[k] = map[n->in[k]->id];
        map[i] = simplify(&a, &proto);
        note_use(&a, map[i], uses[i] > 1 || outputs[i]);
    }
    if (f->result) keep_varying(&a, f, map, f->result);
    for (int i = 0; i < f->outputs.len; i++) keep_varying(&a, f, map, f->outputs.items[i].value);
    pass_end(g, f, map);
    return g;
}
