/*
** frontend.h — from .nn source to the checked IR module of the forward
** model: diagnostics, the AST built by grammar/, the signature table of every
** built-in, name resolution, argument checking, shape inference, lints and
** lowering. Sections follow the files of src/frontend/.
*/
#ifndef NNC_FRONTEND_H
#define NNC_FRONTEND_H

#include <stdio.h>

#include "../ir/ir.h"
#include "../nnc.h"

/* ---- diag.c: one format for every message (SPEC 1.11) ---- */

#define DIAG_MAX_ERRORS 20

typedef struct Diag {
    const char *file;  /* as the user named it */
    const char *src;   /* the whole source, for quoting lines */
    size_t src_len;
    FILE *out;
    int errors, warnings;
    bool werror;       /* -Werror */
    bool no_warnings;  /* -w */
    bool stopped;      /* the error limit was reached */
    bool dropped;      /* the last error or warning was not printed, so its
                          notes are not either */
} Diag;

void diag_init(Diag *d, const char *file, const char *src, size_t src_len, FILE *out);
/* FILE:LINE:COL: error: message, the source line, and ^~~~ under loc. */
void diag_error(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_warning(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A second place for the message just reported; dropped if that was dropped. */
void diag_note(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool diag_failed(const Diag *d);

/* ---- ast.c: the syntax tree (grammar/parser.y builds it) ---- */

typedef enum NodeKind {
    ND_NUMBER,  /* number, is_int */
    ND_STRING,  /* text */
    ND_BOOL,    /* number = 0 or 1 */
    ND_IDENT,   /* text */
    ND_LIST,    /* [a, b, ...]: list */
    ND_BINARY,  /* lhs op rhs; loc is the operator */
    ND_NEG,     /* -lhs; loc is the minus */
    ND_CALL,    /* lhs(list); loc is the callee's name (or its '(' if the
                   callee is itself a call) */
    ND_KWARG,   /* text = lhs, only inside a call's list; loc is the name */
    ND_INDEX,   /* lhs[list] of ND_SLICE or plain expressions; loc is '[' */
    ND_SLICE,   /* [lhs] : [rhs], either may be NULL; loc is ':' */
} NodeKind;

typedef struct Node Node;
typedef struct NodeList {
    Node **items;
    int len, cap;
} NodeList;

struct Node {
    NodeKind kind;
    Loc loc;   /* the representative token, where carets point */
    Loc span;  /* the whole expression */
    double number;
    bool is_int;
    const char *text;
    int op; /* ND_BINARY: '+', '-', '*', '/', '@' */
    Node *lhs, *rhs;
    NodeList list;
    int depth; /* 1 for a leaf; 1 + the deepest child (ast_deepen) */
};

typedef enum StmtKind {
    ST_INPUT,  /* input name shape */
    ST_PARAM,  /* param name [shape] [= expr] */
    ST_ASSIGN, /* name = expr */
    ST_OUTPUT, /* output expr */
    ST_EXPR,   /* a layer applied to the current value */
} StmtKind;

typedef struct Dim {
    int value; /* as written; the checker rejects < 1 */
    Loc loc;
} Dim;

typedef struct Stmt {
    StmtKind kind;
    Loc loc;        /* the keyword, or the name for ST_ASSIGN, or the expr */
    const char *name;
    Loc name_loc;
    bool has_shape;
    struct { Dim *items; int len, cap; } shape;
    Loc shape_loc;
    Node *expr;     /* NULL when absent */
} Stmt;

typedef struct Setting {
    const char *name;
    Loc loc;
    Node *value;
} Setting;

typedef struct Block {
    bool present;
    Loc loc; /* the keyword */
    struct { Setting *items; int len, cap; } settings;
} Block;

typedef struct Program {
    const char *name;
    Loc name_loc;
    Loc loc;
    struct { Stmt *items; int len, cap; } stmts;
    Block compile, fit;
} Program;

Node *ast_node(Arena *a, NodeKind kind, Loc loc);
Node *ast_number(Arena *a, const char *text, Loc loc);
Node *ast_binary(Arena *a, int op, Node *lhs, Node *rhs, Loc op_loc);
void ast_list_push(Arena *a, NodeList *list, Node *item);
/* The checker and lowering walk expressions recursively; the parser rejects
** an expression deeper than this (ast_deepen keeps Node.depth), so that no
** input can exhaust the stack, whatever its size. */
#define AST_MAX_DEPTH 1000
/* Sets n->depth from its children; returns n. */
Node *ast_deepen(Node *n);
/* Source form of an expression, for messages and --emit=ir comments. */
const char *ast_to_string(Arena *a, const Node *n);
const char *ast_kind_name(NodeKind kind);

/* ---- grammar/: lexer.l and parser.y ---- */

/* Parses a whole .nn file. Syntax errors go to diag (several per run, with
** recovery); the result is NULL only when nothing usable was read. */
Program *parse_program(Arena *a, Diag *d);
/* Parses one expression (nnc eval 'EXPR'). NULL after errors. */
Node *parse_expression(Arena *a, Diag *d);

/* ---- builtins.c: the one signature table of every built-in (SPEC 1.5-1.10) ---- */

typedef enum BuiltinKind {
    BK_LAYER, BK_ACTIVATION, BK_FUNCTION, BK_LOSS, BK_OPTIMIZER, BK_INITIALIZER,
    BK_REGULARIZER, BK_METRIC, BK_CALLBACK, BK_COMPILE_SETTING, BK_FIT_SETTING,
    BK_NORMALIZATION, /* minmax, standard */
    BK_MONITOR_MODE,  /* auto, min, max */
    BK_COUNT
} BuiltinKind;

typedef enum ArgType {
    AT_INT,         /* integer */
    AT_NUMBER,      /* any number */
    AT_BOOL,
    AT_STRING,
    AT_NAME,        /* a bare identifier naming something (layer name = ident) */
    AT_TENSOR,      /* any tensor expression */
    AT_SHAPE,       /* [d1, d2, ...] of integers */
    AT_AXIS,        /* integer, negative counts from the end */
    AT_DIMS,        /* the rest of the positional arguments, integers ≥ 1 */
    AT_BATCH,       /* integer or `all` */
    AT_MONITOR,     /* loss, val_loss, accuracy, val_accuracy, ... */
    AT_ACTIVATION, AT_INITIALIZER, AT_REGULARIZER, AT_LOSS, AT_OPTIMIZER,
    AT_NORMALIZATION, AT_MODE,
    AT_METRICS,     /* a list of metrics */
    AT_CALLBACKS,   /* a list of callbacks */
    AT_NONE_OR_REGULARIZER, /* kernel_regularizer: none or a regularizer */
} ArgType;

enum {
    RANGE_MIN = 1 << 0,      /* min applies, inclusive */
    RANGE_MIN_OPEN = 1 << 1, /* min applies, exclusive */
    RANGE_MAX = 1 << 2,      /* max applies, inclusive */
    RANGE_MAX_OPEN = 1 << 3, /* max applies, exclusive */
};

typedef struct ParamSig {
    const char *name;
    ArgType type;
    const char *default_text; /* as shown in signatures; NULL = required */
    double default_value;     /* numbers, bools (0/1), integers */
    double min, max;
    unsigned range;           /* RANGE_* flags */
} ParamSig;

typedef struct Builtin {
    const char *name;
    BuiltinKind kind;
    int id;           /* Op, LossKind, OptKind, InitKind, MetricKind, CallbackKind,
                         MonitorMode, or the Layer/Function/Regularizer/
                         Normalization/Setting enums below */
    const ParamSig *params;
    int nparams;
    const char *alias_of; /* "mse" -> "mean_squared_error" */
    const char *summary;  /* one line, for listings */
} Builtin;

typedef enum LayerId {
    LAYER_DENSE, LAYER_DROPOUT, LAYER_FLATTEN, LAYER_RESHAPE, LAYER_ACTIVATION, LAYER_NORMALIZE,
} LayerId;

/* Tensor functions that are not a single element-wise Op (those use the Op). */
typedef enum FunctionId {
    FN_ZEROS = 1000, FN_ONES, FN_FILL, FN_RESHAPE, FN_TRANSPOSE, FN_MATMUL, FN_DOT,
    FN_SUM, FN_MEAN, FN_MAX, FN_LOGSUMEXP, FN_POW, FN_MINIMUM, FN_MAXIMUM,
} FunctionId;

typedef enum RegularizerId { REG_L1, REG_L2, REG_L1_L2 } RegularizerId;
typedef enum NormalizationId { NORM_MINMAX, NORM_STANDARD } NormalizationId;

typedef enum SettingId {
    SET_LOSS, SET_OPTIMIZER, SET_METRICS,
    SET_EPOCHS, SET_BATCH_SIZE, SET_VALIDATION_SPLIT, SET_SHUFFLE, SET_SEED,
    SET_VERBOSE, SET_CALLBACKS,
} SettingId;

/* Exact lookup of a name of one kind; NULL if none. */
const Builtin *builtin_find(const char *name, BuiltinKind kind);
/* Exact lookup in any kind, first match in table order; NULL if none. */
const Builtin *builtin_find_any(const char *name);
/* The closest name of that kind by edit distance, if close enough to be a
** likely typo (distance ≤ 2, and less than half the name); NULL otherwise. */
const Builtin *builtin_suggest(const char *name, BuiltinKind kind);
/* Index of the parameter named `name`, or -1. */
int builtin_param_index(const Builtin *b, const char *name);
/* "dense(units, activation = linear, use_bias = true, ...)" in the arena. */
const char *builtin_signature(Arena *a, const Builtin *b);
const char *builtin_kind_name(BuiltinKind kind); /* "layer", "activation", ... */
int builtin_count(void);
const Builtin *builtin_at(int index);
/* Prints every built-in of a kind with its signature (nnc --list=KIND). */
void builtin_list(FILE *out, BuiltinKind kind);
/* Levenshtein distance, with a swap of two adjacent characters counting as
** one edit (optimal string alignment), so "rleu" is 1 from "relu". */
int edit_distance(const char *a, const char *b);

/* ---- check.c and its helpers: from Program to IrModule ---- */

/* Resolves names, checks every call, shape and setting, lints, and lowers
** the model to IR. Diagnostics go to d; returns NULL if any error. */
IrModule *sema_check(Arena *a, Diag *d, const Program *p);
/* Lowers a constant expression (nnc eval) into a function with no inputs. */
IrFunc *sema_check_expression(Arena *a, Diag *d, const Node *expr);

/* ---- ../eval.c: nnc eval 'EXPR' ---- */

/* Prints the value and its shape to out, diagnostics to err; the exit status. */
int nnc_eval(const char *src, FILE *out, FILE *err);

#endif
