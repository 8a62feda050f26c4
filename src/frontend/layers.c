/*
** layers.c — desugaring layers (SPEC 1.5) into tensor operations with
** their parameters: dense is matmul + add + activation, normalize is an
** affine map with non-trainable statistics, and so on. Layer names follow
** SPEC 1.4: `name = ident`, or `<kind>_<n>` counted per kind.
*/
#include <string.h>

#include "sema.h"

/* A call to a layer built-in. reshape is both a layer, reshape([dims]),
** and a function, reshape(x, [dims]): two positional arguments make it the
** function. */
bool sema_is_layer_call(const Node *expr, const Builtin **b) {
    const Node *name = expr->kind == ND_CALL ? expr->lhs : expr;
    if (name->kind != ND_IDENT) return false;
    *b = builtin_find(name->text, BK_LAYER);
    if (!*b || expr->kind != ND_CALL || !builtin_find(name->text, BK_FUNCTION)) return *b != NULL;
    int positional = 0;
    for (int i = 0; i < expr->list.len; i++) positional += expr->list.items[i]->kind != ND_KWARG;
    return positional < 2;
}

static int param_named(const IrModule *m, const char *name) {
    for (int i = 0; i < m->params.len; i++)
        if (!strcmp(m->params.items[i].name, name)) return i;
    return -1;
}

/* The layer's name: given, or the next automatic one of its kind. */
static const char *layer_name(Sema *s, const Builtin *b, const ArgValue *name_arg) {
    const IrModule *m = s->module;
    if (name_arg->text) {
        for (int i = 0; i < m->layers.len; i++) {
            if (strcmp(m->layers.items[i].name, name_arg->text)) continue;
            diag_error(s->diag, name_arg->loc, "a layer named '%s' already exists", name_arg->text);
            diag_note(s->diag, m->layers.items[i].loc, "'%s' is defined here", name_arg->text);
            return NULL;
        }
        return name_arg->text;
    }
    for (;;) {
        const char *name = arena_printf(s->arena, "%s_%d", b->name, ++s->auto_names[b->id]);
        bool taken = false;
        for (int i = 0; i < m->layers.len; i++) taken |= !strcmp(m->layers.items[i].name, name);
        if (!taken) return name;
    }
}

static IrNode *add_param(Sema *s, const char *layer, const char *suffix, Shape shape,
                         InitSpec init, ParamRole role, RegSpec reg, Loc loc) {
    IrParam p = {
        .name = arena_printf(s->arena, "%s.%s", layer, suffix),
        .shape = shape,
        .init = init,
        .role = role,
        .trainable = role == ROLE_WEIGHT,
        .l1 = reg.l1,
        .l2 = reg.l2,
        .loc = loc,
    };
    if (param_named(s->module, p.name) >= 0) die("duplicate parameter %s", p.name);
    /* Too large is an error, but the layer is still built, so that the
    ** checker goes on to what follows. */
    sema_size_ok(s, shape, loc, arena_printf(s->arena, "'%s'", p.name));
    return ir_param(s->func, ir_add_param(s->module, p), loc);
}

static void add_row(Sema *s, const char *name, const char *kind, IrNode *out, int first_param, Loc loc) {
    int64_t count = 0;
    for (int i = first_param; i < s->module->params.len; i++)
        count += shape_numel(s->module->params.items[i].shape);
    IrLayer row = {.name = name, .kind = kind, .out = out->shape, .nparams = count, .loc = loc};
    ARENA_PUSH(s->arena, s->module->layers, row);
}

/* dense(units, activation, use_bias, kernel_initializer, bias_initializer,
**       kernel_regularizer, bias_regularizer, name) */
static IrNode *dense(Sema *s, const char *name, const ArgValue *a, IrNode *x, Loc loc) {
    if (x->shape.rank != 1) {
        diag_error(s->diag, loc,
                   "dense needs a vector input, but its input has shape %s; %s", sema_shape_text(s, x->shape),
                   x->shape.rank > 1 ? "insert flatten() before this layer (or write x @ W + b to act on the last axis)"
                                     : "give it a vector, e.g. input x[1]");
        return NULL;
    }
    int units = (int)a[0].number;
    IrNode *kernel = add_param(s, name, "kernel", shape_matrix(x->shape.dim[0], units), a[3].init,
                               ROLE_WEIGHT, a[5].reg, loc);
    IrNode *y = ir_matmul(s->func, x, kernel, loc);
    if (a[2].number) {
        IrNode *bias = add_param(s, name, "bias", shape_vector(units), a[4].init,
                                 ROLE_WEIGHT, a[6].reg, loc);
        y = ir_binary(s->func, OP_ADD, y, bias, loc);
    }
    ARENA_PUSH(s->arena, s->dense_inputs, x);
    ARENA_PUSH(s->arena, s->dense_locs, loc);
    IrNode *out = sema_activate(s, &a[1].act, y, loc);
    if (out && a[1].act.op < 0) ARENA_PUSH(s->arena, s->linear_dense, out);
    return out;
}

/* Statistics are per element of the per-sample input (SPEC 1.5); a reshape
** (flatten) keeps the elements and their order, so it may come first. */
static bool is_reshaped_input(const Sema *s, const IrNode *x) {
    while (x->op == OP_RESHAPE) x = x->in[0];
    return x == s->input;
}

static IrNode *normalize(Sema *s, const char *name, const ArgValue *a, IrNode *x, Loc loc) {
    if (!is_reshaped_input(s, x)) {
        diag_error(s->diag, loc,
                   "normalize() must be applied to the model input (or its flatten()): its "
                   "statistics are computed from the data columns");
        return NULL;
    }
    InitSpec zeros = {INIT_ZEROS, 0, 0}, ones = {INIT_ONES, 0, 0};
    RegSpec none = {0, 0};
    if (a[0].builtin->id == NORM_MINMAX) {
        IrNode *lo = add_param(s, name, "min", x->shape, zeros, ROLE_NORM_MIN, none, loc);
        IrNode *hi = add_param(s, name, "max", x->shape, ones, ROLE_NORM_MAX, none, loc);
        /* A constant feature (max = min) maps to 0, not NaN (SPEC 1.5). */
        return ir_binary(s->func, OP_DIVNZ, ir_binary(s->func, OP_SUB, x, lo, loc),
                         ir_binary(s->func, OP_SUB, hi, lo, loc), loc);
    }
    IrNode *mean = add_param(s, name, "mean", x->shape, zeros, ROLE_NORM_MEAN, none, loc);
    IrNode *var = add_param(s, name, "variance", x->shape, ones, ROLE_NORM_VARIANCE, none, loc);
    IrNode *eps = ir_const(s->func, 1e-7, shape_scalar(), loc);
    IrNode *sd = ir_unary(s->func, OP_SQRT, ir_binary(s->func, OP_ADD, var, eps, loc), loc);
    /* A feature constant in the training rows (variance 0) is only centred,
    ** as scikit-learn's StandardScaler does (SPEC 1.5): dividing by
    ** sqrt(1e-7) would turn an unseen value of it into a huge input. */
    IrNode *varies = ir_binary(s->func, OP_GT, var, ir_const(s->func, 0, shape_scalar(), loc), loc);
    IrNode *scale = ir_emit(s->func, &(IrNode){.op = OP_SELECT, .nin = 3,
                                               .in = {varies, sd, ir_const(s->func, 1, shape_scalar(), loc)},
                                               .loc = loc});
    return ir_binary(s->func, OP_DIV, ir_binary(s->func, OP_SUB, x, mean, loc), scale, loc);
}

static IrNode *lower_layer(Sema *s, const Builtin *b, const char *name, const ArgValue *a,
                           IrNode *x, Loc loc) {
    switch ((LayerId)b->id) {
    case LAYER_DENSE: return dense(s, name, a, x, loc);
    case LAYER_DROPOUT: return a[0].number > 0 ? ir_dropout(s->func, x, a[0].number, loc) : x;
    case LAYER_FLATTEN: return sema_reshape(s, x, shape_vector((int)shape_numel(x->shape)), loc);
    case LAYER_RESHAPE: return sema_reshape(s, x, a[0].shape, loc);
    case LAYER_ACTIVATION: return sema_activate(s, &a[0].act, x, loc);
    case LAYER_NORMALIZE: return normalize(s, name, a, x, loc);
    }
    die("unknown layer %s", b->name);
}

IrNode *sema_apply_layer(Sema *s, const Node *call, const Builtin *b, IrNode *x) {
    ArgValue args[SEMA_MAX_ARGS];
    if (!sema_bind_args(s, call, b, 0, args)) return NULL;
    int name_index = builtin_param_index(b, "name");
    const char *name = layer_name(s, b, &args[name_index]);
    if (!name) return NULL;
    Loc loc = call->kind == ND_CALL ? call->lhs->loc : call->loc;
    int first_param = s->module->params.len;
    IrNode *y = lower_layer(s, b, name, args, x, loc);
    if (y) add_row(s, name, b->name, y, first_param, loc);
    return y;
}
