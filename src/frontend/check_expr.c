/*
** check_expr.c — tensor expressions: names, operators, indexing and calls
** to tensor functions and activations, each checked for shape (SPEC 1.4,
** 1.6, 1.7) and lowered to IR as it is checked.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sema.h"

Local *sema_lookup(Sema *s, const char *name) {
    for (int i = s->locals.len - 1; i >= 0; i--)
        if (!strcmp(s->locals.items[i].name, name)) return &s->locals.items[i];
    return NULL;
}

static const char *nearest_local(Sema *s, const char *name) {
    const char *best = NULL;
    int best_distance = 3;
    for (int i = 0; i < s->locals.len; i++) {
        int d = edit_distance(name, s->locals.items[i].name);
        if (d < best_distance && d * 2 <= (int)strlen(name)) {
            best = s->locals.items[i].name;
            best_distance = d;
        }
    }
    return best;
}

void sema_unknown_name(Sema *s, const Node *ident) {
    const char *name = ident->text;
    for (int i = 0; i < s->defined_later.len; i++) {
        const Local *later = &s->defined_later.items[i];
        if (strcmp(later->name, name)) continue;
        diag_error(s->diag, ident->loc, "'%s' is used before it is defined", name);
        diag_note(s->diag, later->loc, "'%s' is defined here", name);
        return;
    }
    const Builtin *b = builtin_find_any(name);
    if (b) {
        diag_error(s->diag, ident->loc, "'%s' is %s %s, not a tensor%s", name,
                   strchr("aeiou", builtin_kind_name(b->kind)[0]) ? "an" : "a",
                   builtin_kind_name(b->kind),
                   b->kind == BK_ACTIVATION || b->kind == BK_FUNCTION
                       ? arena_printf(s->arena, "; call it on a tensor, e.g. %s(x)", name)
                       : "");
        return;
    }
    const char *near = nearest_local(s, name);
    if (near)
        diag_error(s->diag, ident->loc, "unknown name '%s'; did you mean '%s'?", name, near);
    else
        diag_error(s->diag, ident->loc, "unknown name '%s'", name);
}

char *sema_shape_text(Sema *s, Shape shape) {
    char buf[96];
    return arena_strdup(s->arena, shape_format(shape, buf, sizeof buf));
}

/* "the last axes (16 and 10) differ": the first trailing axis that fails. */
static const char *broadcast_conflict(Sema *s, Shape a, Shape b) {
    for (int k = 1; k <= a.rank && k <= b.rank; k++) {
        int x = a.dim[a.rank - k], y = b.dim[b.rank - k];
        if (x != y && x != 1 && y != 1)
            return arena_printf(s->arena, "axis %d has %d and %d", -k, x, y);
    }
    return "";
}

static IrNode *broadcast_op(Sema *s, Op op, const char *what, IrNode *a, IrNode *b, Loc loc) {
    Shape out;
    if (!shape_broadcast(a->shape, b->shape, &out)) {
        diag_error(s->diag, loc, "cannot %s shapes %s and %s: they do not broadcast (%s)", what,
                   sema_shape_text(s, a->shape), sema_shape_text(s, b->shape),
                   broadcast_conflict(s, a->shape, b->shape));
        return NULL;
    }
    return ir_binary(s->func, op, a, b, loc);
}

static IrNode *matmul_op(Sema *s, IrNode *a, IrNode *b, Loc loc) {
    Shape out;
    if (shape_matmul(a->shape, b->shape, &out)) return ir_matmul(s->func, a, b, loc);
    char *sa = sema_shape_text(s, a->shape), *sb = sema_shape_text(s, b->shape);
    if (a->shape.rank < 1 || a->shape.rank > 2 || b->shape.rank < 1 || b->shape.rank > 2)
        diag_error(s->diag, loc,
                   "matrix product needs operands of rank 1 or 2, found %s @ %s%s", sa, sb,
                   a->shape.rank == 0 || b->shape.rank == 0 ? "; use '*' to scale by a scalar" : "");
    else
        diag_error(s->diag, loc, "cannot multiply %s @ %s: inner dimensions %d and %d differ", sa,
                   sb, a->shape.dim[a->shape.rank - 1], b->shape.dim[0]);
    return NULL;
}

static IrNode *binary(Sema *s, const Node *e) {
    IrNode *a = sema_tensor(s, e->lhs), *b = sema_tensor(s, e->rhs);
    if (!a || !b) return NULL;
    switch (e->op) {
    case '+': return broadcast_op(s, OP_ADD, "add", a, b, e->loc);
    case '-': return broadcast_op(s, OP_SUB, "subtract", a, b, e->loc);
    case '*': return broadcast_op(s, OP_MUL, "multiply", a, b, e->loc);
    case '/': return broadcast_op(s, OP_DIV, "divide", a, b, e->loc);
    default: return matmul_op(s, a, b, e->loc);
    }
}

/* [[1, 2], [3, 4]]: a constant tensor, row-major. */
static bool list_shape(Sema *s, const Node *e, Shape *shape, int depth) {
    if (e->kind != ND_LIST) return true;
    if (depth >= IR_MAX_RANK || e->list.len == 0) {
        diag_error(s->diag, e->loc, e->list.len ? "too deeply nested list" : "an empty list is not a tensor");
        return false;
    }
    if (shape->rank <= depth) {
        shape->rank = depth + 1;
        shape->dim[depth] = e->list.len;
    }
    return list_shape(s, e->list.items[0], shape, depth + 1);
}

static bool list_fill(Sema *s, const Node *e, Shape shape, int depth, double *data, int *n) {
    bool is_list = e->kind == ND_LIST;
    if (is_list != (depth < shape.rank) || (is_list && e->list.len != shape.dim[depth])) {
        diag_error(s->diag, e->loc, "ragged list: every row of a tensor literal needs the same length");
        return false;
    }
    if (!is_list) {
        if (sema_constant(e, &data[*n])) {
            (*n)++;
            return true;
        }
        diag_error(s->diag, e->loc, "a tensor literal holds numbers only");
        return false;
    }
    for (int i = 0; i < e->list.len; i++)
        if (!list_fill(s, e->list.items[i], shape, depth + 1, data, n)) return false;
    return true;
}

static IrNode *literal(Sema *s, const Node *e) {
    Shape shape = {0};
    if (!list_shape(s, e, &shape, 0)) return NULL;
    if (shape_numel(shape) > (1 << 24)) {
        diag_error(s->diag, e->loc, "tensor literal too large");
        return NULL;
    }
    double *data = ARENA_ARRAY(s->arena, double, shape_numel(shape));
    int n = 0;
    if (!list_fill(s, e, shape, 0, data, &n)) return NULL;
    return ir_const_data(s->func, data, shape, e->loc);
}

/* A constant integer index; negative counts from the end (SPEC 1.4). */
static bool index_value(Sema *s, const Node *e, int size, bool clamp, int *out) {
    double v;
    if (!sema_constant(e, &v) || v != floor(v)) {
        diag_error(s->diag, e->span, "an index must be a constant integer");
        return false;
    }
    if (v < 0) v += size;
    if (clamp) v = v < 0 ? 0 : v > size ? size : v;
    if (v < 0 || v >= size + clamp) {
        diag_error(s->diag, e->span, "index %g is out of range for an axis of size %d",
                   v < 0 ? v - size : v, size);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool slice_axis(Sema *s, const Node *item, int axis, int size, IrSlice *slice) {
    if (item->kind != ND_SLICE) {
        slice->drop |= 1u << axis;
        slice->stop[axis] = 0;
        if (!index_value(s, item, size, false, &slice->start[axis])) return false;
        slice->stop[axis] = slice->start[axis] + 1;
        return true;
    }
    slice->start[axis] = 0;
    slice->stop[axis] = size;
    if (item->lhs && !index_value(s, item->lhs, size, true, &slice->start[axis])) return false;
    if (item->rhs && !index_value(s, item->rhs, size, true, &slice->stop[axis])) return false;
    if (slice->stop[axis] <= slice->start[axis]) {
        diag_error(s->diag, item->loc, "slice %d:%d of an axis of size %d is empty",
                   slice->start[axis], slice->stop[axis], size);
        return false;
    }
    return true;
}

static IrNode *index(Sema *s, const Node *e) {
    IrNode *x = sema_tensor(s, e->lhs);
    if (!x) return NULL;
    if (e->list.len > x->shape.rank) {
        diag_error(s->diag, e->loc, "too many indices (%d) for a tensor of shape %s", e->list.len,
                   sema_shape_text(s, x->shape));
        return NULL;
    }
    IrSlice slice = {.rank = e->list.len};
    for (int i = 0; i < e->list.len; i++)
        if (!slice_axis(s, e->list.items[i], i, x->shape.dim[i], &slice)) return NULL;
    return ir_slice(s->func, x, &slice, e->loc);
}

IrNode *sema_activate(Sema *s, const ActSpec *act, IrNode *x, Loc loc) {
    if (act->op < 0) return x;
    if (act->op == OP_SOFTMAX) {
        int axis = shape_axis(x->shape, act->axis);
        if (axis < 0) {
            diag_error(s->diag, act->loc, "softmax axis %d is out of range for shape %s", act->axis,
                       sema_shape_text(s, x->shape));
            return NULL;
        }
        if (x->shape.dim[axis] == 1) {
            diag_error(s->diag, act->loc,
                       "softmax over an axis of size 1 always outputs 1; use sigmoid for a single unit");
            return NULL;
        }
        return ir_softmax(s->func, x, axis, loc);
    }
    IrNode *y = ir_ops[act->op].flags & OPF_ATTR ? ir_unary_attr(s->func, act->op, x, act->alpha, loc)
                                                 : ir_unary(s->func, act->op, x, loc);
    if (act->op == OP_STEP) {
        ARENA_PUSH(s->arena, s->steps, y);
        ARENA_PUSH(s->arena, s->step_locs, act->loc.first_line ? act->loc : loc);
    }
    return y;
}

static IrNode *reduce(Sema *s, Op op, IrNode *x, const ArgValue *axis, Loc loc) {
    int a = axis->axis_all ? IR_AXIS_ALL : (int)axis->number;
    Shape out;
    if (!shape_reduce(x->shape, a, &out)) {
        diag_error(s->diag, axis->loc, "axis %d is out of range for shape %s", a,
                   sema_shape_text(s, x->shape));
        return NULL;
    }
    return ir_reduce(s->func, op, x, a, loc);
}

IrNode *sema_reshape(Sema *s, IrNode *x, Shape to, Loc loc) {
    if (!shape_reshape(x->shape, to)) {
        diag_error(s->diag, loc, "cannot reshape %s (%lld elements) into %s (%lld elements)",
                   sema_shape_text(s, x->shape), (long long)shape_numel(x->shape), sema_shape_text(s, to),
                   (long long)shape_numel(to));
        return NULL;
    }
    return ir_reshape(s->func, x, to, loc);
}

/* The tensor operands of a bound call, evaluated in order. */
static bool tensor_args(Sema *s, const Builtin *b, const ArgValue *args, IrNode **t) {
    bool ok = true;
    for (int i = 0; i < b->nparams; i++) {
        t[i] = NULL;
        if (b->params[i].type == AT_TENSOR && !(t[i] = sema_tensor(s, args[i].node))) ok = false;
    }
    return ok;
}

static IrNode *function(Sema *s, const Node *call, const Builtin *b) {
    ArgValue args[SEMA_MAX_ARGS];
    IrNode *t[SEMA_MAX_ARGS];
    if (!sema_bind_args(s, call, b, 0, args) || !tensor_args(s, b, args, t)) return NULL;
    Loc loc = call->loc;
    switch (b->id) {
    case FN_ZEROS: return ir_const(s->func, 0, args[0].shape, loc);
    case FN_ONES: return ir_const(s->func, 1, args[0].shape, loc);
    case FN_FILL: return ir_const(s->func, args[0].number, args[1].shape, loc);
    case FN_RESHAPE: return sema_reshape(s, t[0], args[1].shape, loc);
    case FN_TRANSPOSE: return ir_transpose(s->func, t[0], loc);
    case FN_MATMUL: case FN_DOT: return matmul_op(s, t[0], t[1], loc);
    case FN_SUM: return reduce(s, OP_SUM, t[0], &args[1], loc);
    case FN_MEAN: return reduce(s, OP_MEAN, t[0], &args[1], loc);
    case FN_MAX: return reduce(s, OP_MAX, t[0], &args[1], loc);
    case FN_LOGSUMEXP: return reduce(s, OP_LOGSUMEXP, t[0], &args[1], loc);
    case FN_POW: return broadcast_op(s, OP_POW, "raise", t[0], t[1], loc);
    case FN_MINIMUM: return broadcast_op(s, OP_MINIMUM, "take the minimum of", t[0], t[1], loc);
    case FN_MAXIMUM: return broadcast_op(s, OP_MAXIMUM, "take the maximum of", t[0], t[1], loc);
    default: return ir_unary(s->func, (Op)b->id, t[0], loc);
    }
}

static IrNode *activation_call(Sema *s, const Node *call, const Builtin *b) {
    ArgValue args[SEMA_MAX_ARGS];
    IrNode *t[SEMA_MAX_ARGS];
    if (!sema_bind_args(s, call, b, 0, args) || !tensor_args(s, b, args, t)) return NULL;
    ActSpec act = {.op = b->id, .loc = call->loc, .axis = -1};
    for (int i = 1; i < b->nparams; i++) {
        if (!strcmp(b->params[i].name, "alpha")) act.alpha = args[i].number;
        if (!strcmp(b->params[i].name, "axis")) act.axis = (int)args[i].number;
    }
    return sema_activate(s, &act, t[0], call->loc);
}

/* dense(16, relu)(h): a layer built and applied inside an expression. */
static IrNode *apply_call(Sema *s, const Node *e) {
    const Builtin *b;
    if (!sema_is_layer_call(e->lhs, &b)) {
        diag_error(s->diag, e->loc, "only a layer can be applied to a tensor like this");
        return NULL;
    }
    if (e->list.len != 1 || e->list.items[0]->kind == ND_KWARG) {
        diag_error(s->diag, e->loc, "a layer is applied to exactly one tensor, e.g. %s(...)(h)",
                   b->name);
        return NULL;
    }
    IrNode *x = sema_tensor(s, e->list.items[0]);
    return x ? sema_apply_layer(s, e->lhs, b, x) : NULL;
}

static IrNode *call(Sema *s, const Node *e) {
    if (e->lhs->kind == ND_CALL) return apply_call(s, e);
    if (e->lhs->kind != ND_IDENT) {
        diag_error(s->diag, e->loc, "this expression cannot be called");
        return NULL;
    }
    const char *name = e->lhs->text;
    if (sema_lookup(s, name)) {
        diag_error(s->diag, e->loc, "'%s' is a tensor, not a function", name);
        return NULL;
    }
    const Builtin *b = builtin_find(name, BK_FUNCTION);
    if (b) return function(s, e, b);
    if ((b = builtin_find(name, BK_ACTIVATION))) return activation_call(s, e, b);
    if ((b = builtin_find(name, BK_LAYER))) {
        diag_error(s->diag, e->loc,
                   "%s(...) makes a layer; apply it to a tensor, e.g. %s(...)(h), or write it on "
                   "its own line to apply it to the current value", name, name);
        return NULL;
    }
    if ((b = builtin_find_any(name))) {
        diag_error(s->diag, e->loc, "'%s' is %s %s; it cannot be used in a tensor expression", name,
                   strchr("aeiou", builtin_kind_name(b->kind)[0]) ? "an" : "a",
                   builtin_kind_name(b->kind));
        return NULL;
    }
    const Builtin *near = builtin_suggest(name, BK_LAYER);
    if (!near) near = builtin_suggest(name, BK_FUNCTION);
    if (!near) near = builtin_suggest(name, BK_ACTIVATION);
    if (near)
        diag_error(s->diag, e->loc, "unknown %s '%s'; did you mean '%s'?",
                   builtin_kind_name(near->kind), name, near->name);
    else
        diag_error(s->diag, e->loc, "unknown function or layer '%s'", name);
    return NULL;
}

bool sema_size_ok(Sema *s, Shape shape, Loc loc, const char *what) {
    int64_t n = shape_numel(shape);
    if (n <= IR_MAX_NUMEL) return true;
    char bytes[32];
    if (n > INT64_MAX / 4) snprintf(bytes, sizeof bytes, "more than %lld", (long long)(INT64_MAX / 4));
    else snprintf(bytes, sizeof bytes, "%lld", (long long)n * 4);
    diag_error(s->diag, loc, "%s of shape %s is too large: %s%lld elements, %s bytes as f32; the limit is %lld elements per tensor",
               what ? what : "a tensor", sema_shape_text(s, shape), n == INT64_MAX ? "more than " : "",
               (long long)n, bytes, (long long)IR_MAX_NUMEL);
    return false;
}

/* Every tensor an expression makes is checked for size once, here. */
static IrNode *tensor(Sema *s, const Node *e);

IrNode *sema_tensor(Sema *s, const Node *e) {
    IrNode *x = tensor(s, e);
    return x && !sema_size_ok(s, x->shape, e->loc, NULL) ? NULL : x;
}

static IrNode *tensor(Sema *s, const Node *e) {
    switch (e->kind) {
    case ND_NUMBER: return ir_const(s->func, e->number, shape_scalar(), e->loc);
    case ND_IDENT: {
        Local *local = sema_lookup(s, e->text);
        if (local) return local->value; /* NULL, silently, if its definition failed */
        sema_unknown_name(s, e);
        return NULL;
    }
    case ND_LIST: return literal(s, e);
    case ND_NEG: {
        IrNode *x = sema_tensor(s, e->lhs);
        return x ? ir_unary(s->func, OP_NEG, x, e->loc) : NULL;
    }
    case ND_BINARY: return binary(s, e);
    case ND_INDEX: return index(s, e);
    case ND_CALL: return call(s, e);
    default:
        diag_error(s->diag, e->loc, "expected a tensor, found %s",
                   e->kind == ND_STRING ? "a string" : e->kind == ND_BOOL ? "a boolean" : "this");
        return NULL;
    }
}
