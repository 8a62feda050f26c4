/*
** sema.h — private to the checker files of src/frontend/ (check*.c,
** layers.c, settings.c, lint.c). The checker evaluates the model abstractly:
** every tensor expression becomes an IR node with a static shape, every
** built-in call is bound against its signature, and every mistake becomes a
** located diagnostic.
*/
#ifndef NNC_SEMA_H
#define NNC_SEMA_H

#include "frontend.h"

typedef struct Local {
    const char *name;
    Loc loc;
    IrNode *value;
} Local;

typedef struct LocalVec {
    Local *items;
    int len, cap;
} LocalVec;

/* An activation as an argument: `relu`, "relu", leaky_relu(alpha = 0.1). */
typedef struct ActSpec {
    int op; /* an Op, or -1 for linear */
    double alpha;
    int axis;
    Loc loc;
} ActSpec;

typedef struct RegSpec {
    double l1, l2;
} RegSpec;

/* One bound argument, converted to the type its ParamSig names. */
typedef struct ArgValue {
    bool given;          /* written by the user (else the default) */
    Loc loc;             /* of the value, or of the call for defaults */
    const Node *node;    /* the expression, NULL for defaults */
    double number;       /* AT_INT, AT_NUMBER, AT_BOOL, AT_AXIS, AT_BATCH (0 = all) */
    const char *text;    /* AT_STRING, AT_NAME, AT_MONITOR */
    const Builtin *builtin; /* AT_LOSS, AT_OPTIMIZER, AT_NORMALIZATION, AT_MODE */
    bool axis_all;       /* AT_AXIS absent */
    ActSpec act;
    InitSpec init;
    RegSpec reg;
    Shape shape;         /* AT_SHAPE, AT_DIMS */
} ArgValue;

#define SEMA_MAX_ARGS 16

typedef struct Sema {
    Arena *arena;
    Diag *diag;
    IrModule *module;
    IrFunc *func;            /* where tensor expressions are lowered */
    LocalVec locals;
    LocalVec defined_later; /* for "used before defined" */
    IrNode *input;
    IrNode *current;
    bool current_failed;     /* the current value's statement had an error */
    bool input_declared;     /* even if its shape was wrong */
    bool output_known;       /* the model's output shape is known */
    int auto_names[8];       /* per LayerId: the next automatic number */
    bool in_loss;            /* y_true and y_pred are in scope */
    /* facts for lint.c */
    struct { IrNode **items; int len, cap; } steps;
    struct { Loc *items; int len, cap; } step_locs; /* of the name `step`, for the caret */
    struct { IrNode **items; int len, cap; } linear_dense; /* outputs of dense(linear) */
    struct { IrNode **items; int len, cap; } dense_inputs;
    struct { Loc *items; int len, cap; } dense_locs;
} Sema;

/* check_args.c */
/* Binds call's arguments to b's parameters (skipping the first `skip`),
** checks types and ranges, fills args[0..nparams-skip-1]. */
bool sema_bind_args(Sema *s, const Node *call, const Builtin *b, int skip, ArgValue *args);
/* Converts one value to a parameter's type; node NULL gives the default. */
bool sema_convert(Sema *s, const Node *node, const ParamSig *p, Loc call_loc, ArgValue *out);
/* A name or string naming a built-in of `kind`, with did-you-mean. */
const Builtin *sema_named(Sema *s, const Node *node, BuiltinKind kind, const char *what);
bool sema_constant(const Node *node, double *out);

/* check_expr.c */
IrNode *sema_tensor(Sema *s, const Node *expr);
/* A tensor of `shape` fits IR_MAX_NUMEL; otherwise an error at loc naming
** `what` (NULL: "a tensor"), its shape, element count and bytes. */
bool sema_size_ok(Sema *s, Shape shape, Loc loc, const char *what);
IrNode *sema_activate(Sema *s, const ActSpec *act, IrNode *x, Loc loc);
IrNode *sema_reshape(Sema *s, IrNode *x, Shape to, Loc loc);
char *sema_shape_text(Sema *s, Shape shape); /* "[30, 15]" in the arena */
Local *sema_lookup(Sema *s, const char *name);
void sema_unknown_name(Sema *s, const Node *ident);

/* layers.c */
/* Applies the layer built by call (a layer built-in) to x. */
IrNode *sema_apply_layer(Sema *s, const Node *call, const Builtin *b, IrNode *x);
bool sema_is_layer_call(const Node *expr, const Builtin **b);

/* settings.c */
void sema_compile_block(Sema *s, const Block *block);
void sema_fit_block(Sema *s, const Block *block, const Block *compile);

/* lint.c */
void sema_lint(Sema *s, const Program *p);

#endif
