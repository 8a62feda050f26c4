/*
** check_args.c — binding a call's arguments to a built-in's signature
** (positional, then keyword) and converting each to the type the signature
** names, with range checks (SPEC 1.11) and messages that show the expected
** signature.
*/
#include <math.h>
#include <string.h>

#include "sema.h"

bool sema_constant(const Node *node, double *out) {
    if (node->kind == ND_NUMBER) {
        *out = node->number;
        return true;
    }
    if (node->kind == ND_NEG && node->lhs->kind == ND_NUMBER) {
        *out = -node->lhs->number;
        return true;
    }
    return false;
}

static const char *describe(Arena *a, const Node *node) {
    switch (node->kind) {
    case ND_STRING: return arena_printf(a, "the string \"%s\"", node->text);
    case ND_BOOL: return node->number ? "true" : "false";
    case ND_LIST: return "a list";
    case ND_IDENT: return arena_printf(a, "'%s'", node->text);
    default: return arena_printf(a, "'%s'", ast_to_string(a, node));
    }
}

/* "'rleu'", plus "; did you mean 'relu'?" when a near name exists. */
static const char *with_suggestion(Sema *s, const char *name, BuiltinKind kind) {
    const Builtin *near = builtin_suggest(name, kind);
    if (!near) return arena_printf(s->arena, "'%s'", name);
    return arena_printf(s->arena, "'%s'; did you mean '%s'?", name, near->name);
}

const Builtin *sema_named(Sema *s, const Node *node, BuiltinKind kind, const char *what) {
    if (node->kind != ND_IDENT && node->kind != ND_STRING) {
        diag_error(s->diag, node->loc, "expected %s %s, found %s",
                   strchr("aeiou", what[0]) ? "an" : "a", what, describe(s->arena, node));
        return NULL;
    }
    const Builtin *b = builtin_find(node->text, kind);
    if (b) return b;
    const Builtin *other = builtin_find_any(node->text);
    if (other && !builtin_suggest(node->text, kind))
        diag_error(s->diag, node->loc, "'%s' is %s %s, not %s %s", node->text,
                   strchr("aeiou", builtin_kind_name(other->kind)[0]) ? "an" : "a",
                   builtin_kind_name(other->kind), strchr("aeiou", what[0]) ? "an" : "a", what);
    else
        diag_error(s->diag, node->loc, "unknown %s %s", what, with_suggestion(s, node->text, kind));
    return NULL;
}

static const char *range_text(Arena *a, const ParamSig *p) {
    bool lo = p->range & (RANGE_MIN | RANGE_MIN_OPEN), hi = p->range & (RANGE_MAX | RANGE_MAX_OPEN);
    if (lo && hi)
        return arena_printf(a, "in %c%g, %g%c", p->range & RANGE_MIN ? '[' : '(', p->min, p->max,
                            p->range & RANGE_MAX ? ']' : ')');
    if (lo) return arena_printf(a, "%s %g", p->range & RANGE_MIN ? ">=" : ">", p->min);
    return arena_printf(a, "%s %g", p->range & RANGE_MAX ? "<=" : "<", p->max);
}

static bool in_range(const ParamSig *p, double v) {
    if ((p->range & RANGE_MIN) && !(v >= p->min)) return false;
    if ((p->range & RANGE_MIN_OPEN) && !(v > p->min)) return false;
    if ((p->range & RANGE_MAX) && !(v <= p->max)) return false;
    if ((p->range & RANGE_MAX_OPEN) && !(v < p->max)) return false;
    return true;
}

static bool convert_number(Sema *s, const Node *node, const ParamSig *p, bool integer, ArgValue *out) {
    double v;
    if (!sema_constant(node, &v)) {
        diag_error(s->diag, node->span, "'%s' must be %s, found %s", p->name,
                   integer ? "an integer" : "a number", describe(s->arena, node));
        return false;
    }
    if (integer && (v != floor(v) || fabs(v) > 2147483647.0)) {
        diag_error(s->diag, node->span, "'%s' must be an integer, found %g", p->name, v);
        return false;
    }
    if (!in_range(p, v)) {
        diag_error(s->diag, node->span, "'%s' must be %s, found %g", p->name, range_text(s->arena, p), v);
        return false;
    }
    out->number = v;
    return true;
}

static bool convert_shape(Sema *s, const Node *node, const ParamSig *p, ArgValue *out) {
    if (node->kind != ND_LIST) {
        diag_error(s->diag, node->span, "'%s' must be a shape such as [28, 28], found %s", p->name,
                   describe(s->arena, node));
        return false;
    }
    if (node->list.len > IR_MAX_RANK) {
        diag_error(s->diag, node->loc, "a shape has at most %d dimensions, found %d", IR_MAX_RANK,
                   node->list.len);
        return false;
    }
    out->shape.rank = node->list.len;
    for (int i = 0; i < node->list.len; i++) {
        const Node *d = node->list.items[i];
        double v;
        if (!sema_constant(d, &v) || v != floor(v) || v < 1 || v > 1e9) {
            diag_error(s->diag, d->span, "a dimension must be an integer >= 1, found %s",
                       describe(s->arena, d));
            return false;
        }
        out->shape.dim[i] = (int)v;
    }
    return true;
}

/* An activation: a name, its string, or a call giving its parameters. */
static bool convert_activation(Sema *s, const Node *node, ArgValue *out) {
    const Node *name = node->kind == ND_CALL ? node->lhs : node;
    const Builtin *b = sema_named(s, name, BK_ACTIVATION, "activation");
    if (!b) return false;
    ArgValue args[SEMA_MAX_ARGS];
    if (!sema_bind_args(s, node, b, 1, args)) return false;
    out->act = (ActSpec){.op = b->id, .loc = node->loc, .axis = -1};
    for (int i = 1; i < b->nparams; i++) {
        if (!strcmp(b->params[i].name, "alpha")) out->act.alpha = args[i - 1].number;
        if (!strcmp(b->params[i].name, "axis")) out->act.axis = (int)args[i - 1].number;
    }
    return true;
}

static bool convert_initializer(Sema *s, const Node *node, ArgValue *out) {
    double v;
    if (sema_constant(node, &v)) {
        out->init = (InitSpec){.kind = INIT_CONSTANT, .a = v};
        return true;
    }
    const Node *name = node->kind == ND_CALL ? node->lhs : node;
    const Builtin *b = sema_named(s, name, BK_INITIALIZER, "initializer");
    if (!b) return false;
    ArgValue args[SEMA_MAX_ARGS];
    if (!sema_bind_args(s, node, b, 0, args)) return false;
    out->init = (InitSpec){.kind = (InitKind)b->id};
    if (b->nparams > 0) out->init.a = args[0].number;
    if (b->nparams > 1) out->init.b = args[1].number;
    if (b->id == INIT_RANDOM_UNIFORM && out->init.a > out->init.b) {
        diag_error(s->diag, node->loc, "random_uniform needs minval <= maxval, found %g > %g",
                   out->init.a, out->init.b);
        return false;
    }
    return true;
}

static bool convert_regularizer(Sema *s, const Node *node, ArgValue *out) {
    out->reg = (RegSpec){0, 0};
    if (node->kind == ND_IDENT && !strcmp(node->text, "none")) return true;
    const Node *name = node->kind == ND_CALL ? node->lhs : node;
    const Builtin *b = sema_named(s, name, BK_REGULARIZER, "regularizer");
    if (!b) return false;
    ArgValue args[SEMA_MAX_ARGS];
    if (!sema_bind_args(s, node, b, 0, args)) return false;
    for (int i = 0; i < b->nparams; i++) {
        if (!strcmp(b->params[i].name, "l1")) out->reg.l1 = args[i].number;
        if (!strcmp(b->params[i].name, "l2")) out->reg.l2 = args[i].number;
    }
    return true;
}

static bool convert_text(Sema *s, const Node *node, const ParamSig *p, bool ident_ok, ArgValue *out) {
    if (node->kind == ND_STRING || (ident_ok && node->kind == ND_IDENT)) {
        out->text = node->text;
        return true;
    }
    diag_error(s->diag, node->span, "'%s' must be %s, found %s", p->name,
               ident_ok ? "a name" : "a string", describe(s->arena, node));
    return false;
}

/* The default of p, as if the user had written it. */
static bool convert_default(Sema *s, const ParamSig *p, Loc call_loc, ArgValue *out) {
    out->loc = call_loc;
    out->number = p->default_value;
    const char *text = p->default_text;
    switch (p->type) {
    case AT_AXIS: out->axis_all = p->default_value == IR_AXIS_ALL; return true;
    case AT_NAME: out->text = NULL; return true;
    case AT_STRING: case AT_MONITOR: out->text = text; return true;
    case AT_ACTIVATION: {
        const Builtin *b = builtin_find(text, BK_ACTIVATION);
        out->act = (ActSpec){.op = b->id, .loc = call_loc, .axis = -1};
        return true;
    }
    case AT_INITIALIZER: {
        Node name = {.kind = ND_IDENT, .text = text, .loc = call_loc};
        return convert_initializer(s, &name, out);
    }
    case AT_REGULARIZER: case AT_NONE_OR_REGULARIZER: out->reg = (RegSpec){0, 0}; return true;
    case AT_NORMALIZATION: out->builtin = builtin_find(text, BK_NORMALIZATION); return true;
    case AT_MODE: out->builtin = builtin_find(text, BK_MONITOR_MODE); return true;
    case AT_DIMS: out->shape.rank = 0; return true;
    default: return true;
    }
}

bool sema_convert(Sema *s, const Node *node, const ParamSig *p, Loc call_loc, ArgValue *out) {
    memset(out, 0, sizeof *out);
    if (!node) return convert_default(s, p, call_loc, out);
    out->given = true;
    out->node = node;
    out->loc = node->loc;
    switch (p->type) {
    case AT_INT: return convert_number(s, node, p, true, out);
    case AT_NUMBER: return convert_number(s, node, p, false, out);
    case AT_AXIS: return convert_number(s, node, p, true, out);
    case AT_BOOL:
        if (node->kind == ND_BOOL) {
            out->number = node->number;
            return true;
        }
        diag_error(s->diag, node->span, "'%s' must be true or false, found %s", p->name,
                   describe(s->arena, node));
        return false;
    case AT_BATCH:
        if ((node->kind == ND_IDENT || node->kind == ND_STRING) && !strcmp(node->text, "all")) {
            out->number = 0;
            return true;
        }
        if (node->kind == ND_IDENT || node->kind == ND_STRING) {
            diag_error(s->diag, node->span, "'%s' must be an integer >= 1 or all, found %s", p->name,
                       describe(s->arena, node));
            return false;
        }
        return convert_number(s, node, p, true, out);
    case AT_STRING: return convert_text(s, node, p, false, out);
    case AT_NAME: case AT_MONITOR: return convert_text(s, node, p, true, out);
    case AT_SHAPE: return convert_shape(s, node, p, out);
    case AT_ACTIVATION: return convert_activation(s, node, out);
    case AT_INITIALIZER: return convert_initializer(s, node, out);
    case AT_REGULARIZER: case AT_NONE_OR_REGULARIZER: return convert_regularizer(s, node, out);
    case AT_NORMALIZATION:
        return (out->builtin = sema_named(s, node, BK_NORMALIZATION, "normalization")) != NULL;
    case AT_MODE: return (out->builtin = sema_named(s, node, BK_MONITOR_MODE, "mode")) != NULL;
    case AT_LOSS: return (out->builtin = sema_named(s, node, BK_LOSS, "loss")) != NULL;
    default: return true; /* tensors, lists and optimizers: the caller evaluates them */
    }
}

/* Collects the remaining positional arguments of a variadic AT_DIMS. */
static bool bind_dims(Sema *s, const Node *call, int first, ArgValue *out) {
    memset(out, 0, sizeof *out);
    out->given = true;
    out->loc = call->loc;
    for (int i = first; i < call->list.len; i++) {
        const Node *d = call->list.items[i];
        if (d->kind == ND_KWARG) break;
        double v;
        if (!sema_constant(d, &v) || v != floor(v) || v < 1 || v > 1e9) {
            diag_error(s->diag, d->span, "a dimension must be an integer >= 1, found %s",
                       describe(s->arena, d));
            return false;
        }
        if (out->shape.rank == IR_MAX_RANK) {
            diag_error(s->diag, d->loc, "a shape has at most %d dimensions", IR_MAX_RANK);
            return false;
        }
        out->shape.dim[out->shape.rank++] = (int)v;
    }
    return true;
}

static const char *nearest_param(const Builtin *b, int skip, const char *name) {
    const char *best = NULL;
    int best_distance = 3;
    for (int i = skip; i < b->nparams; i++) {
        int d = edit_distance(name, b->params[i].name);
        if (d < best_distance && d * 2 < (int)strlen(name)) {
            best = b->params[i].name;
            best_distance = d;
        }
    }
    return best;
}

/* Sorts the call's arguments into slots; reports misplaced, unknown,
** repeated and missing ones. */
static bool place_args(Sema *s, const Node *call, const Builtin *b, int skip, const Node **slot,
                       int *dims_at) {
    int nparams = b->nparams - skip, next = 0;
    bool seen_keyword = false, ok = true;
    for (int i = 0; i < call->list.len; i++) {
        const Node *arg = call->list.items[i];
        if (arg->kind != ND_KWARG) {
            if (seen_keyword) {
                diag_error(s->diag, arg->span, "positional argument after a keyword argument");
                ok = false;
                continue;
            }
            /* name = ... is keyword-only, as in Keras. */
            if (next < nparams && b->params[skip + next].type == AT_NAME) next = nparams;
            if (next < nparams && b->params[skip + next].type == AT_DIMS) {
                *dims_at = i;
                next = nparams;
                continue;
            }
            if (*dims_at >= 0) continue;
            if (next >= nparams) {
                diag_error(s->diag, arg->span, "too many arguments to '%s'; expected %s",
                           b->name, builtin_signature(s->arena, b));
                return false;
            }
            slot[next++] = arg;
            continue;
        }
        seen_keyword = true;
        int k = builtin_param_index(b, arg->text) - skip;
        if (k < 0) {
            const char *near = nearest_param(b, skip, arg->text);
            if (near)
                diag_error(s->diag, arg->loc, "'%s' has no argument named '%s'; did you mean '%s'?",
                           b->name, arg->text, near);
            else
                diag_error(s->diag, arg->loc, "'%s' has no argument named '%s'; expected %s",
                           b->name, arg->text, builtin_signature(s->arena, b));
            ok = false;
        } else if (slot[k]) {
            diag_error(s->diag, arg->loc, "argument '%s' is given twice", arg->text);
            diag_note(s->diag, slot[k]->loc, "first given here");
            ok = false;
        } else {
            slot[k] = arg->lhs;
        }
    }
    return ok;
}

bool sema_bind_args(Sema *s, const Node *call, const Builtin *b, int skip, ArgValue *args) {
    const Node *slot[SEMA_MAX_ARGS] = {0};
    int dims_at = -1, nparams = b->nparams - skip;
    if (!place_args(s, call, b, skip, slot, &dims_at)) return false;
    Loc call_loc = call->loc;
    bool ok = true;
    for (int k = 0; k < nparams; k++) {
        const ParamSig *p = &b->params[skip + k];
        if (p->type == AT_DIMS) {
            if (dims_at >= 0) ok = bind_dims(s, call, dims_at, &args[k]) && ok;
            else ok = convert_default(s, p, call_loc, &args[k]) && ok;
            continue;
        }
        if (!slot[k] && !p->default_text) {
            diag_error(s->diag, call->loc, "missing argument '%s' in call to '%s'; expected %s", p->name,
                       b->name, builtin_signature(s->arena, b));
            ok = false;
            continue;
        }
        ok = sema_convert(s, slot[k], p, call_loc, &args[k]) && ok;
    }
    return ok;
}
