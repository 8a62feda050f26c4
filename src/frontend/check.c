/*
** check.c — the checker's driver: walks the model's statements in order
** (SPEC 1.4: input, param, assignments, the current value, output), then the
** compile and fit blocks, then the whole-model lints. The result is the IR
** module of the forward model, or NULL if anything was wrong.
*/
#include <string.h>

#include "sema.h"

/* Names get one definition each, and never hide a built-in. */
static bool define(Sema *s, const char *name, Loc loc, IrNode *value) {
    Local *old = sema_lookup(s, name);
    if (old) {
        diag_error(s->diag, loc, "'%s' is already defined", name);
        diag_note(s->diag, old->loc, "'%s' is first defined here", name);
        return false;
    }
    const Builtin *b = builtin_find_any(name);
    if (b && (b->kind == BK_FUNCTION || b->kind == BK_ACTIVATION || b->kind == BK_LAYER)) {
        diag_error(s->diag, loc, "'%s' is the name of a built-in %s; choose another name", name,
                   builtin_kind_name(b->kind));
        return false;
    }
    Local local = {name, loc, value};
    ARENA_PUSH(s->arena, s->locals, local);
    return true;
}

/* A definition that failed still defines its name, as unknown (NULL), so
** that its uses stay silent: no "used before it is defined" with a note
** pointing at the failed line, no "unknown name". Quiet when the name is
** taken: that error, if any, was the definition's own. */
static void define_failed(Sema *s, const char *name, Loc loc) {
    const Builtin *b = builtin_find_any(name);
    if (sema_lookup(s, name) || (b && (b->kind == BK_FUNCTION || b->kind == BK_ACTIVATION || b->kind == BK_LAYER)))
        return;
    Local local = {name, loc, NULL};
    ARENA_PUSH(s->arena, s->locals, local);
}

static bool check_dims(Sema *s, const Stmt *st, Shape *shape) {
    if (st->shape.len > IR_MAX_RANK) {
        diag_error(s->diag, st->shape_loc, "a shape has at most %d dimensions", IR_MAX_RANK);
        return false;
    }
    shape->rank = st->shape.len;
    bool ok = true;
    for (int i = 0; i < st->shape.len; i++) {
        const Dim *d = &st->shape.items[i];
        if (d->value < 1) {
            diag_error(s->diag, d->loc, "a dimension must be >= 1, found %d", d->value);
            ok = false;
        }
        shape->dim[i] = d->value;
    }
    return ok && sema_size_ok(s, *shape, st->shape_loc,
                              arena_printf(s->arena, "%s '%s'", st->kind == ST_INPUT ? "input" : "parameter", st->name));
}

static void input_stmt(Sema *s, const Stmt *st) {
    if (s->input_declared) {
        diag_error(s->diag, st->loc, "a model has one input, and it is already declared");
        if (s->input) diag_note(s->diag, s->input->loc, "the input is declared here");
        define_failed(s, st->name, st->name_loc);
        return;
    }
    Shape shape;
    s->input_declared = true;
    if (!check_dims(s, st, &shape)) {
        define(s, st->name, st->name_loc, NULL); /* known, but unusable: no cascade */
        s->current_failed = true;
        return;
    }
    s->input = s->current = ir_input(s->func, shape, st->name_loc);
    s->module->input_name = st->name;
    s->module->input_shape = shape;
    define(s, st->name, st->name_loc, s->input);
}

/* param NAME [shape] [= initializer]: SPEC 1.4's defaults. */
static void param_stmt(Sema *s, const Stmt *st) {
    Shape shape = {0};
    if (!check_dims(s, st, &shape)) {
        define_failed(s, st->name, st->name_loc);
        return;
    }
    ArgValue init = {.init = {shape.rank >= 2 ? INIT_GLOROT_UNIFORM : INIT_ZEROS, 0, 0}};
    ParamSig sig = {.name = "initializer", .type = AT_INITIALIZER};
    if (st->expr && !sema_convert(s, st->expr, &sig, st->loc, &init)) {
        define_failed(s, st->name, st->name_loc);
        return;
    }
    IrParam p = {.name = st->name, .shape = shape, .init = init.init, .trainable = true, .loc = st->name_loc};
    int index = ir_add_param(s->module, p);
    if (!define(s, st->name, st->name_loc, ir_param(s->func, index, st->name_loc))) return;
    IrLayer row = {.name = st->name, .kind = "param", .out = shape, .nparams = shape_numel(shape), .loc = st->name_loc};
    ARENA_PUSH(s->arena, s->module->layers, row);
}

static bool has_current(Sema *s, Loc loc, const char *what) {
    if (s->current) return true;
    if (s->current_failed) return false; /* already reported */
    diag_error(s->diag, loc, "%s has nothing to apply to; declare the input first, e.g. input x[4]", what);
    return false;
}

/* After an error the current value is unknown; later layers stay silent
** rather than repeat the error. */
static void set_current(Sema *s, IrNode *value) {
    s->current = value;
    s->current_failed = value == NULL;
}

/* A statement that is an expression: a layer applied to the current value,
** or any tensor expression, which becomes current. */
static void expr_stmt(Sema *s, const Stmt *st) {
    const Builtin *b;
    if (sema_is_layer_call(st->expr, &b) && !(st->expr->kind == ND_IDENT && sema_lookup(s, st->expr->text))) {
        if (!has_current(s, st->expr->loc, b->name)) {
            ArgValue args[SEMA_MAX_ARGS];
            if (s->current_failed) sema_bind_args(s, st->expr, b, 0, args); /* still check them */
            return;
        }
        set_current(s, sema_apply_layer(s, st->expr, b, s->current));
        return;
    }
    set_current(s, sema_tensor(s, st->expr));
}

static void assign_stmt(Sema *s, const Stmt *st) {
    const Builtin *b;
    if (st->expr->kind == ND_CALL && sema_is_layer_call(st->expr, &b)) {
        diag_error(s->diag, st->expr->loc,
                   "%s(...) makes a layer; apply it to a tensor: %s = %s(...)(%s)", b->name, st->name,
                   b->name, s->module->input_name ? s->module->input_name : "x");
        define_failed(s, st->name, st->name_loc);
        set_current(s, NULL); /* the layers after it would act on the wrong value */
        return;
    }
    /* A failed expression still defines its name, as unknown, so that
    ** its uses do not report "unknown name" again. */
    IrNode *y = sema_tensor(s, st->expr);
    if (define(s, st->name, st->name_loc, y)) set_current(s, y);
}

static void statement(Sema *s, const Stmt *st, const Stmt **output) {
    switch (st->kind) {
    case ST_INPUT: input_stmt(s, st); break;
    case ST_PARAM: param_stmt(s, st); break;
    case ST_ASSIGN: assign_stmt(s, st); break;
    case ST_EXPR: expr_stmt(s, st); break;
    case ST_OUTPUT: {
        if (*output) {
            diag_error(s->diag, st->loc, "the model already has an output");
            diag_note(s->diag, (*output)->loc, "the output is declared here");
            return;
        }
        *output = st;
        IrNode *y = sema_tensor(s, st->expr);
        s->func->result = y;
        break;
    }
    }
}

/* Every name any statement defines, so a use before its definition gets
** "used before it is defined" rather than "unknown name". */
static void collect_definitions(Sema *s, const Program *p) {
    for (int i = 0; i < p->stmts.len; i++) {
        const Stmt *st = &p->stmts.items[i];
        if (st->kind == ST_INPUT || st->kind == ST_PARAM || st->kind == ST_ASSIGN) {
            Local later = {st->name, st->name_loc, NULL};
            ARENA_PUSH(s->arena, s->defined_later, later);
        }
    }
}

/* Returns whether the model has an output whose shape later checks can use. */
static bool check_model(Sema *s, const Program *p) {
    collect_definitions(s, p);
    const Stmt *output = NULL;
    for (int i = 0; i < p->stmts.len && !s->diag->stopped; i++) statement(s, &p->stmts.items[i], &output);
    if (!s->input_declared) {
        diag_error(s->diag, p->name_loc, "model '%s' has no input; add a line such as: input x[4]", p->name);
        return false;
    }
    if (!output) s->func->result = s->current;
    if (!s->func->result) return false;
    s->module->output_shape = s->func->result->shape;
    return s->output_known = true;
}

IrModule *sema_check(Arena *a, Diag *d, const Program *p) {
    Sema s = {.arena = a, .diag = d};
    s.module = ir_module_new(a, d->file, p->name);
    s.func = s.module->forward = ir_func_new(s.module, "forward");
    bool has_output = check_model(&s, p);
    if (!p->compile.present) /* Keras' compile() defaults, said out loud */
        diag_warning(d, p->name_loc,
                     "model '%s' has no compile block; training uses the defaults: loss = "
                     "mean_squared_error, optimizer = rmsprop(learning_rate = 0.001), no metrics",
                     p->name);
    sema_compile_block(&s, &p->compile);
    sema_fit_block(&s, &p->fit, &p->compile);
    if (has_output && !diag_failed(d)) sema_lint(&s, p);
    return diag_failed(d) ? NULL : s.module;
}

IrFunc *sema_check_expression(Arena *a, Diag *d, const Node *expr) {
    Sema s = {.arena = a, .diag = d};
    s.module = ir_module_new(a, d->file, "eval");
    s.func = ir_func_new(s.module, "eval");
    s.func->result = sema_tensor(&s, expr);
    return diag_failed(d) ? NULL : s.func;
}
