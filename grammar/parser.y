/*
** parser.y — the grammar of SPEC 1.3, building the AST of frontend.h.
** Actions are one-liners calling constructors. Syntax errors are explained
** in the user's words by yyreport_syntax_error (bottom of the file), and
** `error` productions at statement, setting and block level let one run
** report several of them (SPEC 1.11). A missing ')' costs one error: the
** reporter forgets the open brackets, so the next newline ends the
** statement again, and hands back a token that starts a later line.
*/
%define api.pure full
%define api.location.type {Loc}
%define api.token.prefix {TOK_}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {ParseState *ps}

%code requires {
#include "frontend/frontend.h"

typedef struct ParseState ParseState;

/* A shape as it is read: the dims of Stmt.shape. */
typedef struct ParseShape {
    Dim *items;
    int len, cap;
} ParseShape;
}

%code provides {
/* An open '(' or '[' (or '{'), for "to match this '('" notes. */
typedef struct Bracket {
    Loc loc;
    char ch;
    const char *block; /* '{' only: "model", "compile", "fit" or NULL */
} Bracket;

enum {
    TF_BAD = 1 << 0,       /* the lexer reported an error in or just before it */
    TF_UNMATCHED = 1 << 1, /* a closer with nothing open */
    TF_MISMATCHED = 1 << 2,/* a closer of the wrong kind */
    TF_ORPHAN = 1 << 3,    /* a closer whose opener was dropped after an error */
};

/* One token as the parser saw it, kept for messages and for replaying. */
typedef struct Token {
    int kind;
    YYSTYPE value;
    Loc loc;
    unsigned flags;
    size_t offset;      /* of its first byte in the source */
    Bracket dropped;    /* '{', '}' or ';' that closed open brackets: the innermost */
} Token;

/* Everything the parser and the scanner share; the scanner's extra data. */
struct ParseState {
    Arena *arena;
    Diag *diag;
    void *scanner;
    Program *program;
    bool have_model;
    bool expr_mode;      /* parse_expression: EOF is "end of input" */
    Node *expr;          /* parse_expression's result */
    int start;           /* START_FILE or START_EXPR, returned first */
    /* scanner position: the next byte */
    int line, column;
    size_t offset;
    /* open '(' and '[' (newlines inside them are not statement ends) */
    struct { Bracket *items; int len, cap; } brackets;
    struct { Bracket *items; int len, cap; } braces;
    int orphans;         /* closers still expected for brackets dropped after an error */
    const char *block;   /* the last block keyword, for the '{' that follows it */
    unsigned next_flags; /* flags for the next token (after a skipped bad byte) */
    /* the scanner fills these for the token it returns */
    unsigned tok_flags;
    size_t tok_offset;
    Bracket tok_dropped;
    /* the parser's view */
    Token prev, la;      /* the token before the lookahead, and the lookahead */
    Loc end_loc;         /* just after the last token that is not a newline */
    Loc prev_end;        /* end_loc before the lookahead was read */
    bool seen_token;
    int inject;          /* 1: return a NEWLINE at inject_loc, then 2: replay `saved` */
    Loc inject_loc;
    Token saved;
};

/* The scanner (grammar/lexer.l). */
int nn_scan_token(YYSTYPE *lval, Loc *lloc, void *scanner);
}

%code {
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define YY_DECL int nn_scan_token(YYSTYPE *yylval_param, Loc *yylloc_param, void *yyscanner)
#include "lexer.h"

static int yylex(YYSTYPE *lval, Loc *lloc, ParseState *ps);
static void yyerror(Loc *loc, ParseState *ps, const char *msg);

static Node *leaf(ParseState *ps, NodeKind kind, const char *text, Loc loc);
static Node *number(ParseState *ps, const char *text, Loc loc);
static Node *boolean(ParseState *ps, bool value, Loc loc);
static Node *node_of(ParseState *ps, NodeKind kind, Node *lhs, Node *rhs, Loc loc, Loc span);
static Node *with_list(ParseState *ps, NodeKind kind, Node *lhs, NodeList list, Loc loc, Loc span);
static Node *kwarg(ParseState *ps, const char *name, Loc loc, Node *value, Loc span);
static Node *call(ParseState *ps, Node *callee, NodeList args, Loc lparen, Loc span);
static Node *spanned(Node *n, Loc span);
static NodeList list1(ParseState *ps, Node *item);
static NodeList list_add(ParseState *ps, NodeList list, Node *item);
static ParseShape shape_add(ParseState *ps, ParseShape shape, const char *text, Loc loc);
static Stmt *stmt_new(ParseState *ps, StmtKind kind, Loc loc, const char *name, Loc name_loc, Node *expr);
static Stmt *with_shape(Stmt *s, const ParseShape *shape, Loc loc);
static void add_stmt(ParseState *ps, Stmt *s);
static void model_begin(ParseState *ps, const char *name, Loc kw, Loc name_loc);
static Setting *setting_new(ParseState *ps, const char *name, Loc loc, Node *value);
static Block *setting_add(ParseState *ps, Block *b, Setting *s);
static void block_set(ParseState *ps, Block *dst, Block *src, Loc kw, const char *name);
static void expr_done(ParseState *ps, Node *n);

#define A (ps->arena)
}

%union {
    const char *text;
    Node *node;
    NodeList list;
    ParseShape shape;
    Stmt *stmt;
    Block *block;
    Setting *setting;
}

%token START_FILE START_EXPR
%token NEWLINE "end of line"
%token MODEL "model" INPUT "input" PARAM "param" OUTPUT "output"
%token COMPILE "compile" FIT "fit" TRUE "true" FALSE "false"
%token <text> IDENT "identifier" NUMBER "number" STRING "string"

%type <node> expr term unary postfix primary arg slice
%type <list> args exprs slices
%type <shape> shape dims
%type <stmt> stmt
%type <block> settings
%type <setting> setting_opt

%%

start: START_FILE file
     | START_EXPR seps expr seps   { expr_done(ps, $3); }
     ;

/* file = model { compile | fit } */
file: seps model tail ;

seps: %empty | seps eos ;
nls: %empty | nls NEWLINE ;
eos: NEWLINE | ';' ;            /* end of statement */

/* Garbage between blocks is skipped up to the next block: one error. */
tail: %empty
    | tail eos
    | tail block
    | tail error block
    ;

/* model = "model" IDENT "{" { stmt } "}" ; statements end at a newline or
** ';', and the last one before '}' needs none (SPEC 1.2). */
model: model_head nls '{' stmts '}' ;
model_head: MODEL IDENT            { model_begin(ps, $2, @1, @2); } ;

stmts: stmt_opt
     | stmts stmt_end stmt_opt
     ;

/* Each statement gets its own errors: without yyerrok, Bison would stay
** silent about an error in the first tokens after a recovered one. */
stmt_end: eos                      { yyerrok; } ;

stmt_opt: %empty
        | stmt                     { add_stmt(ps, $1); }
        | error
        ;

stmt: INPUT IDENT shape            { $$ = with_shape(stmt_new(ps, ST_INPUT, @1, $2, @2, NULL), &$3, @3); }
    | PARAM IDENT                  { $$ = stmt_new(ps, ST_PARAM, @1, $2, @2, NULL); }
    | PARAM IDENT '=' expr         { $$ = stmt_new(ps, ST_PARAM, @1, $2, @2, $4); }
    | PARAM IDENT shape            { $$ = with_shape(stmt_new(ps, ST_PARAM, @1, $2, @2, NULL), &$3, @3); }
    | PARAM IDENT shape '=' expr   { $$ = with_shape(stmt_new(ps, ST_PARAM, @1, $2, @2, $5), &$3, @3); }
    | IDENT '=' expr               { $$ = stmt_new(ps, ST_ASSIGN, @1, $1, @1, $3); }
    | OUTPUT expr                  { $$ = stmt_new(ps, ST_OUTPUT, @1, NULL, @1, $2); }
    | expr                         { $$ = stmt_new(ps, ST_EXPR, $1->span, NULL, $1->span, $1); }
    ;

/* shape = "[" [ INT { "," INT } ] "]" */
shape: '[' ']'                     { $$ = (ParseShape){0}; }
     | '[' dims ']'                { $$ = $2; }
     ;
dims: NUMBER                       { $$ = shape_add(ps, (ParseShape){0}, $1, @1); }
    | dims ',' NUMBER              { $$ = shape_add(ps, $1, $3, @3); }
    ;

/* compile = "compile" "{" { IDENT "=" expr } "}" ; fit likewise */
block: COMPILE nls '{' settings '}'  { block_set(ps, &ps->program->compile, $4, @1, "compile"); }
     | FIT nls '{' settings '}'      { block_set(ps, &ps->program->fit, $4, @1, "fit"); }
     ;

settings: setting_opt               { $$ = setting_add(ps, ARENA_NEW(A, Block), $1); }
        | settings stmt_end setting_opt { $$ = setting_add(ps, $1, $3); }
        ;

setting_opt: %empty                { $$ = NULL; }
           | IDENT '=' expr        { $$ = setting_new(ps, $1, @1, $3); }
           | error                 { $$ = NULL; }
           ;

/* expr = expr ("+" | "-") term | term */
expr: expr '+' term                { $$ = ast_binary(A, '+', $1, $3, @2); }
    | expr '-' term                { $$ = ast_binary(A, '-', $1, $3, @2); }
    | term
    ;

/* term = term ("*" | "/" | "@") unary | unary */
term: term '*' unary               { $$ = ast_binary(A, '*', $1, $3, @2); }
    | term '/' unary               { $$ = ast_binary(A, '/', $1, $3, @2); }
    | term '@' unary               { $$ = ast_binary(A, '@', $1, $3, @2); }
    | unary
    ;

/* unary = "-" unary | postfix */
unary: '-' unary                   { $$ = node_of(ps, ND_NEG, $2, NULL, @1, @$); }
     | postfix
     ;

/* postfix = primary { "(" [ args ] ")" | "[" slices "]" } */
postfix: primary
       | postfix '(' ')'           { $$ = call(ps, $1, (NodeList){0}, @2, @$); }
       | postfix '(' args ')'      { $$ = call(ps, $1, $3, @2, @$); }
       | postfix '[' slices ']'    { $$ = with_list(ps, ND_INDEX, $1, $3, @2, @$); }
       ;

/* primary = NUMBER | STRING | "true" | "false" | IDENT | "(" expr ")" | list */
primary: NUMBER                    { $$ = number(ps, $1, @1); }
       | STRING                    { $$ = leaf(ps, ND_STRING, $1, @1); }
       | TRUE                      { $$ = boolean(ps, true, @1); }
       | FALSE                     { $$ = boolean(ps, false, @1); }
       | IDENT                     { $$ = leaf(ps, ND_IDENT, $1, @1); }
       | '(' expr ')'              { $$ = spanned($2, @$); }
       | '[' ']'                   { $$ = with_list(ps, ND_LIST, NULL, (NodeList){0}, @1, @$); }
       | '[' exprs ']'             { $$ = with_list(ps, ND_LIST, NULL, $2, @1, @$); }
       ;

exprs: expr                        { $$ = list1(ps, $1); }
     | exprs ',' expr              { $$ = list_add(ps, $1, $3); }
     ;

/* args = arg { "," arg } ; arg = expr | IDENT "=" expr. The checker, not the
** grammar, rejects a positional argument after a keyword one. */
args: arg                          { $$ = list1(ps, $1); }
    | args ',' arg                 { $$ = list_add(ps, $1, $3); }
    ;
arg: expr
   | IDENT '=' expr                { $$ = kwarg(ps, $1, @1, $3, @$); }
   ;

/* slices = slice { "," slice } ; slice = expr | [ expr ] ":" [ expr ] */
slices: slice                      { $$ = list1(ps, $1); }
      | slices ',' slice           { $$ = list_add(ps, $1, $3); }
      ;
slice: expr
     | expr ':' expr               { $$ = node_of(ps, ND_SLICE, $1, $3, @2, @$); }
     | expr ':'                    { $$ = node_of(ps, ND_SLICE, $1, NULL, @2, @$); }
     | ':' expr                    { $$ = node_of(ps, ND_SLICE, NULL, $2, @1, @$); }
     | ':'                         { $$ = node_of(ps, ND_SLICE, NULL, NULL, @1, @$); }
     ;

%%

/* ---- constructors: the actions' one-liners ---- */

static Node *leaf(ParseState *ps, NodeKind kind, const char *text, Loc loc) {
    Node *n = ast_node(A, kind, loc);
    n->text = text;
    return n;
}

/* A literal beyond double's range would become inf, which no C compiler
** accepts as a constant: it is the user's error, at the literal. One too
** small for a double is read as the nearest double (0 or a subnormal). */
static Node *number(ParseState *ps, const char *text, Loc loc) {
    Node *n = ast_number(A, text, loc);
    if (!isfinite(n->number)) {
        diag_error(ps->diag, loc, "number '%s' is out of range; the largest is about 1.8e308", text);
        n->number = 0;
    }
    return n;
}

static Node *boolean(ParseState *ps, bool value, Loc loc) {
    Node *n = ast_node(A, ND_BOOL, loc);
    n->number = value;
    return n;
}

static Node *node_of(ParseState *ps, NodeKind kind, Node *lhs, Node *rhs, Loc loc, Loc span) {
    Node *n = ast_node(A, kind, loc);
    n->lhs = lhs;
    n->rhs = rhs;
    n->span = span;
    return ast_deepen(n);
}

static Node *with_list(ParseState *ps, NodeKind kind, Node *lhs, NodeList list, Loc loc, Loc span) {
    Node *n = node_of(ps, kind, lhs, NULL, loc, span);
    n->list = list;
    return ast_deepen(n);
}

static Node *kwarg(ParseState *ps, const char *name, Loc loc, Node *value, Loc span) {
    Node *n = node_of(ps, ND_KWARG, value, NULL, loc, span);
    n->text = name;
    return n;
}

/* Carets for a call point at the callee's name; a callee that is not a
** name, like dense(4)(x), has only its '(' to point at. */
static Node *call(ParseState *ps, Node *callee, NodeList args, Loc lparen, Loc span) {
    Loc loc = callee->kind == ND_IDENT ? callee->loc : lparen;
    return with_list(ps, ND_CALL, callee, args, loc, span);
}

/* A parenthesized expression spans its parentheses. */
static Node *spanned(Node *n, Loc span) {
    n->span = span;
    return n;
}

static NodeList list1(ParseState *ps, Node *item) {
    NodeList list = {0};
    ast_list_push(A, &list, item);
    return list;
}

static NodeList list_add(ParseState *ps, NodeList list, Node *item) {
    ast_list_push(A, &list, item);
    return list;
}

/* Dim.value is an int: reject what does not fit here; the checker
** rejects values < 1. */
static int dim_value(ParseState *ps, const char *text, Loc loc) {
    if (strpbrk(text, ".eE")) {
        diag_error(ps->diag, loc, "a dimension must be an integer, not '%s'", text);
        return 1;
    }
    errno = 0;
    long value = strtol(text, NULL, 10);
    if (errno || value > INT_MAX) {
        diag_error(ps->diag, loc, "dimension '%s' is too large", text);
        return 1;
    }
    return (int)value;
}

static ParseShape shape_add(ParseState *ps, ParseShape shape, const char *text, Loc loc) {
    Dim dim = {dim_value(ps, text, loc), loc};
    ARENA_PUSH(A, shape, dim);
    return shape;
}

/* Parsing is iterative (bison's stack), but the checker walks the tree it
** builds recursively: a tree deeper than AST_MAX_DEPTH is an error here, at
** the whole expression, and never reaches the checker. */
static Node *bounded(ParseState *ps, Node *n) {
    if (n && n->depth > AST_MAX_DEPTH)
        diag_error(ps->diag, n->span, "expression nested %d deep; the limit is %d", n->depth, AST_MAX_DEPTH);
    return n;
}

static Stmt *stmt_new(ParseState *ps, StmtKind kind, Loc loc, const char *name, Loc name_loc, Node *expr) {
    bounded(ps, expr);
    Stmt *s = ARENA_NEW(A, Stmt);
    s->kind = kind;
    s->loc = loc;
    s->name = name;
    s->name_loc = name_loc;
    s->expr = expr;
    return s;
}

static Stmt *with_shape(Stmt *s, const ParseShape *shape, Loc loc) {
    s->has_shape = true;
    s->shape.items = shape->items;
    s->shape.len = shape->len;
    s->shape.cap = shape->cap;
    s->shape_loc = loc;
    return s;
}

static void add_stmt(ParseState *ps, Stmt *s) {
    ARENA_PUSH(A, ps->program->stmts, *s);
}

static void model_begin(ParseState *ps, const char *name, Loc kw, Loc name_loc) {
    ps->program->name = name;
    ps->program->name_loc = name_loc;
    ps->program->loc = kw;
    ps->have_model = true;
}

static Setting *setting_new(ParseState *ps, const char *name, Loc loc, Node *value) {
    bounded(ps, value);
    Setting *s = ARENA_NEW(A, Setting);
    s->name = name;
    s->loc = loc;
    s->value = value;
    return s;
}

static Block *setting_add(ParseState *ps, Block *b, Setting *s) {
    if (s) ARENA_PUSH(A, b->settings, *s);
    return b;
}

/* SPEC 1.3: each block at most once. */
static void block_set(ParseState *ps, Block *dst, Block *src, Loc kw, const char *name) {
    if (dst->present) {
        diag_error(ps->diag, kw, "duplicate '%s' block", name);
        diag_note(ps->diag, dst->loc, "the first '%s' block is here", name);
        return;
    }
    *dst = *src;
    dst->present = true;
    dst->loc = kw;
}

static void expr_done(ParseState *ps, Node *n) {
    ps->expr = bounded(ps, n);
}

/* ---- tokens ---- */

static Loc point_after(Loc loc) {
    return (Loc){loc.last_line, loc.last_column, loc.last_line, loc.last_column};
}

static Token next_token(ParseState *ps) {
    Token t = {0};
    if (ps->start) {
        t.kind = ps->start;
        t.loc = (Loc){1, 1, 1, 1};
        ps->start = 0;
    } else if (ps->inject == 1) {
        t.kind = TOK_NEWLINE;
        t.loc = ps->inject_loc;
        ps->inject = 2;
    } else if (ps->inject == 2) {
        t = ps->saved;
        ps->inject = 0;
    } else {
        t.kind = nn_scan_token(&t.value, &t.loc, ps->scanner);
        t.flags = ps->tok_flags;
        t.offset = ps->tok_offset;
        t.dropped = ps->tok_dropped;
        /* EOF is reported just after the last token, where the fix goes. */
        if (t.kind == TOK_YYEOF)
            t.loc = ps->seen_token ? ps->end_loc : (Loc){ps->line, ps->column, ps->line, ps->column};
    }
    return t;
}

/* Every token passes here, so the reporter knows the lookahead and the
** token before it. */
static int yylex(YYSTYPE *lval, Loc *lloc, ParseState *ps) {
    Token t = next_token(ps);
    ps->prev = ps->la;
    ps->la = t;
    ps->prev_end = ps->end_loc;
    if (t.kind != TOK_NEWLINE && t.kind != TOK_YYEOF && t.kind != TOK_START_FILE && t.kind != TOK_START_EXPR) {
        ps->end_loc = point_after(t.loc);
        ps->seen_token = true;
    }
    *lval = t.value;
    *lloc = t.loc;
    return t.kind;
}

/* ---- syntax errors ---- */

enum { TOKEN_CODES = 512 }; /* char tokens and TOK_* codes are below this */
_Static_assert((int)TOK_STRING < (int)TOKEN_CODES, "token codes index the expected set");

/* The token code of an expected symbol: its TOK_* or its character. */
static int token_code(yysymbol_kind_t sym) {
    switch (sym) {
    case YYSYMBOL_YYEOF: return TOK_YYEOF;
    case YYSYMBOL_NEWLINE: return TOK_NEWLINE;
    case YYSYMBOL_MODEL: return TOK_MODEL;
    case YYSYMBOL_INPUT: return TOK_INPUT;
    case YYSYMBOL_PARAM: return TOK_PARAM;
    case YYSYMBOL_OUTPUT: return TOK_OUTPUT;
    case YYSYMBOL_COMPILE: return TOK_COMPILE;
    case YYSYMBOL_FIT: return TOK_FIT;
    case YYSYMBOL_TRUE: return TOK_TRUE;
    case YYSYMBOL_FALSE: return TOK_FALSE;
    case YYSYMBOL_IDENT: return TOK_IDENT;
    case YYSYMBOL_NUMBER: return TOK_NUMBER;
    case YYSYMBOL_STRING: return TOK_STRING;
    default: break;
    }
    const char *name = yysymbol_name(sym); /* "'('" for character tokens */
    return name[0] == '\'' && name[1] && name[2] == '\'' ? (unsigned char)name[1] : -1;
}

static const char *token_name(ParseState *ps, int code) {
    switch (code) {
    case TOK_YYEOF: return ps->expr_mode ? "end of input" : "end of file";
    case TOK_NEWLINE: return "end of line";
    case TOK_IDENT: return "identifier";
    case TOK_NUMBER: return "number";
    case TOK_STRING: return "string";
    case TOK_MODEL: return "'model'";
    case TOK_INPUT: return "'input'";
    case TOK_PARAM: return "'param'";
    case TOK_OUTPUT: return "'output'";
    case TOK_COMPILE: return "'compile'";
    case TOK_FIT: return "'fit'";
    case TOK_TRUE: return "'true'";
    case TOK_FALSE: return "'false'";
    default: return code > 0 && code < 128 ? arena_printf(A, "'%c'", code) : "token";
    }
}

/* The lookahead in the user's words: identifier 'relu', number '16', ')'. */
static const char *describe(ParseState *ps, const Token *t) {
    if (t->kind == TOK_IDENT) return arena_printf(A, "identifier '%s'", t->value.text);
    if (t->kind == TOK_NUMBER) return arena_printf(A, "number '%s'", t->value.text);
    return token_name(ps, t->kind);
}

static bool all_of(const bool *want, const int *codes, int n) {
    for (int i = 0; i < n; i++)
        if (!want[codes[i]]) return false;
    return true;
}

static void clear(bool *want, const int *codes, int n) {
    for (int i = 0; i < n; i++) want[codes[i]] = false;
}

/* Folds the expected set into what a user thinks in: "an expression" for
** every token that can start one; nothing for the operators that may always
** follow a complete expression; "end of line" for every statement end.
** Returns the pseudo-item to list first, or NULL. */
static const char *fold_expected(ParseState *ps, bool *want) {
    static const int starts[] = {TOK_NUMBER, TOK_STRING, TOK_TRUE, TOK_FALSE, TOK_IDENT, '(', '[', '-'};
    static const int stmts[] = {TOK_INPUT, TOK_PARAM, TOK_OUTPUT, TOK_NEWLINE, ';', '}'};
    static const int ops[] = {'+', '-', '*', '/', '@', '(', '['};
    const char *first = NULL;
    if (all_of(want, starts, 8)) {
        clear(want, starts, 8);
        first = "an expression";
        if (want[TOK_INPUT]) {
            clear(want, stmts, 6);
            first = "a statement";
        }
    } else if (all_of(want, ops, 7)) {
        clear(want, ops, 7);
    }
    if (want[TOK_NEWLINE]) want[';'] = want['}'] = false;
    if (want[TOK_YYEOF] && ps->expr_mode) want[TOK_NEWLINE] = false;
    if (want['{']) want[TOK_NEWLINE] = false;
    return first;
}

/* "A, B or C" from the folded set, in a fixed order; NULL if more than 4. */
static const char *expected_text(ParseState *ps, bool *want) {
    static const int order[] = {'{', '=', ',', ':', ')', ']', '}', '(', '[', TOK_IDENT, TOK_NUMBER,
                                TOK_STRING, TOK_MODEL, TOK_INPUT, TOK_PARAM, TOK_OUTPUT, TOK_COMPILE,
                                TOK_FIT, TOK_TRUE, TOK_FALSE, '+', '-', '*', '/', '@', ';', TOK_NEWLINE,
                                TOK_YYEOF};
    const char *items[TOKEN_CODES];
    int n = 0;
    const char *first = fold_expected(ps, want);
    if (first) items[n++] = first;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        if (want[order[i]]) items[n++] = token_name(ps, order[i]);
    if (n == 0 || n > 4) return NULL;
    const char *text = items[0];
    for (int i = 1; i < n; i++)
        text = arena_printf(A, "%s%s%s", text, i == n - 1 ? " or " : ", ", items[i]);
    return text;
}

/* Whether the lookahead starts a line after the last token before it. */
static bool on_later_line(const ParseState *ps) {
    return ps->la.loc.first_line > ps->prev_end.last_line;
}

/* The place to report a missing closer: the lookahead, or just after the
** token before it when the lookahead is on a later line (or EOF), as clang
** does — that is where the closer belongs. */
static Loc missing_at(ParseState *ps) {
    const Token *la = &ps->la;
    return la->kind == TOK_YYEOF || on_later_line(ps) ? ps->prev_end : la->loc;
}

/* Whether the rest of the lookahead's line closes a bracket opened before
** it: then the brackets span lines on purpose and the error is elsewhere. */
static bool closes_on_line(ParseState *ps, size_t offset) {
    const char *src = ps->diag->src;
    int depth = 0;
    for (size_t i = offset; i < ps->diag->src_len && src[i] != '\n' && src[i] != '#'; i++) {
        char c = src[i];
        if (c == '"') {
            for (i++; i < ps->diag->src_len && src[i] != '"' && src[i] != '\n'; i++)
                if (src[i] == '\\') i++;
            if (i >= ps->diag->src_len || src[i] != '"') return false;
        } else if (c == '(' || c == '[') {
            depth++;
        } else if (c == ')' || c == ']') {
            if (depth-- == 0) return true;
        } else if (c == '{' || c == '}' || c == ';') {
            return false;
        }
    }
    return false;
}

/* Whether the error is a '(' or '[' left open; *open is the innermost. */
static bool unclosed_bracket(ParseState *ps, Bracket *open) {
    const Token *la = &ps->la;
    if (ps->brackets.len > 0)
        *open = ps->brackets.items[ps->brackets.len - 1];
    else if (la->dropped.ch)
        *open = la->dropped;
    else
        return false;
    if (la->dropped.ch || la->kind == TOK_YYEOF || (la->flags & TF_MISMATCHED)) return true;
    return on_later_line(ps) && !closes_on_line(ps, la->offset);
}

/* Tokens that may follow `error` (statement and setting ends, '}', the next
** block): the parser keeps them after an error, so they are not replayed. */
static bool kept_after_error(int kind) {
    return kind == TOK_NEWLINE || kind == ';' || kind == '}' || kind == TOK_COMPILE ||
           kind == TOK_FIT || kind == TOK_YYEOF;
}

/* A missing ')' must cost one error, not the rest of the file: forget the
** open brackets so newlines end statements again and, when the lookahead
** begins a later line, end the statement before it and hand it back to the
** parser, which will have discarded it while recovering. */
static void report_unclosed(ParseState *ps, Bracket open, bool quiet) {
    char close = open.ch == '(' ? ')' : open.ch == '[' ? ']' : '}';
    Loc at = missing_at(ps);
    if (!quiet) {
        diag_error(ps->diag, at, "expected '%c' to close '%c'", close, open.ch);
        diag_note(ps->diag, open.loc, "to match this '%c'", open.ch);
    }
    ps->brackets.len = 0;
    if (on_later_line(ps) && !kept_after_error(ps->la.kind)) {
        ps->inject = 1;
        ps->inject_loc = at;
        ps->saved = ps->la;
    }
}

/* Whether the lookahead is followed by '{' in the source, blanks between. */
static bool followed_by_brace(ParseState *ps) {
    const char *src = ps->diag->src;
    size_t i = ps->la.offset + (size_t)(ps->la.loc.last_column - ps->la.loc.first_column);
    while (i < ps->diag->src_len && strchr(" \t\r\n", src[i]) && src[i]) i++;
    return i < ps->diag->src_len && src[i] == '{';
}

/* A '}' that never came: at EOF, or before the next block. */
static bool unclosed_brace(ParseState *ps, const bool *want) {
    int kind = ps->la.kind;
    if (ps->braces.len == 0 || !want['}']) return false;
    bool block = kind == TOK_COMPILE || kind == TOK_FIT || kind == TOK_MODEL;
    if (kind != TOK_YYEOF && !(block && followed_by_brace(ps))) return false;
    Bracket open = ps->braces.items[ps->braces.len - 1];
    if (open.block)
        diag_error(ps->diag, missing_at(ps), "expected '}' to close '%s' block", open.block);
    else
        diag_error(ps->diag, missing_at(ps), "expected '}' to close '{'");
    diag_note(ps->diag, open.loc, "to match this '{'");
    return true;
}

static bool is_keyword(int kind) {
    return kind == TOK_MODEL || kind == TOK_INPUT || kind == TOK_PARAM || kind == TOK_OUTPUT ||
           kind == TOK_COMPILE || kind == TOK_FIT || kind == TOK_TRUE || kind == TOK_FALSE;
}

/* "expected X, found Y", or "unexpected Y" when X would be a long list. */
static void report_expected(ParseState *ps, bool *want, const char *found) {
    bool after_comma = ps->prev.kind == ',';
    bool only_shape = want['['] && !want[TOK_IDENT] && !want['('];
    const char *expected = expected_text(ps, want);
    Loc at = ps->la.loc;
    if (!expected)
        diag_error(ps->diag, at, "unexpected %s", found);
    else if (only_shape && !strcmp(expected, "'['"))
        diag_error(ps->diag, at, "expected the input's shape, like [3], found %s", found);
    else
        diag_error(ps->diag, at, "expected %s%s, found %s", expected, after_comma ? " after ','" : "", found);
}

static void explain(ParseState *ps, bool *want) {
    const Token *la = &ps->la;
    const char *found = describe(ps, la);
    if (la->flags & TF_UNMATCHED)
        diag_error(ps->diag, la->loc, "unmatched '%c'", la->kind);
    else if (want[TOK_MODEL])
        diag_error(ps->diag, la->loc, "expected a 'model' block, found %s", found);
    else if (want[TOK_COMPILE])
        diag_error(ps->diag, la->loc, "expected a 'compile' or 'fit' block, found %s", found);
    else if (unclosed_brace(ps, want))
        return;
    else if (want[TOK_IDENT] && is_keyword(la->kind))
        diag_error(ps->diag, la->loc, "%s is a keyword; it cannot be used as a name", found);
    else
        report_expected(ps, want, found);
}

static int yyreport_syntax_error(const yypcontext_t *ctx, ParseState *ps) {
    yysymbol_kind_t expected[YYNTOKENS];
    bool want[TOKEN_CODES] = {0};
    int n = yypcontext_expected_tokens(ctx, expected, YYNTOKENS);
    for (int i = 0; i < n; i++) {
        int code = token_code(expected[i]);
        if (code >= 0 && code < TOKEN_CODES) want[code] = true;
    }
    /* An error right after one the lexer reported is most likely the same. */
    bool quiet = ((ps->la.flags | ps->prev.flags) & TF_BAD) || (ps->la.flags & TF_ORPHAN);
    Bracket open;
    if (unclosed_bracket(ps, &open)) {
        report_unclosed(ps, open, quiet);
        return 0;
    }
    /* Closers of brackets dropped here may follow; they are not new errors. */
    ps->orphans += ps->brackets.len;
    ps->brackets.len = 0;
    if (!quiet) explain(ps, want);
    return 0;
}

/* Bison calls this only when its stack is exhausted. */
static void yyerror(Loc *loc, ParseState *ps, const char *msg) {
    (void)msg;
    diag_error(ps->diag, *loc, "expression nested too deep for the parser (more than %d open brackets and operators)", YYMAXDEPTH);
}

/* ---- entry points ---- */

static bool parse(ParseState *ps, Arena *a, Diag *d, int start) {
    memset(ps, 0, sizeof *ps);
    ps->arena = a;
    ps->diag = d;
    ps->start = start;
    ps->expr_mode = start == TOK_START_EXPR;
    ps->line = ps->column = 1;
    ps->end_loc = (Loc){1, 1, 1, 1};
    ps->program = ARENA_NEW(a, Program);
    yyscan_t scanner;
    if (yylex_init_extra(ps, &scanner)) die("out of memory");
    ps->scanner = scanner;
    int len = d->src_len > INT_MAX ? INT_MAX : (int)d->src_len;
    YY_BUFFER_STATE buffer = yy_scan_bytes(d->src ? d->src : "", d->src ? len : 0, scanner);
    int rc = yyparse(ps);
    yy_delete_buffer(buffer, scanner);
    yylex_destroy(scanner);
    return rc == 0;
}

Program *parse_program(Arena *a, Diag *d) {
    ParseState ps;
    parse(&ps, a, d, TOK_START_FILE);
    return ps.have_model ? ps.program : NULL;
}

Node *parse_expression(Arena *a, Diag *d) {
    ParseState ps;
    int errors = d->errors;
    bool ok = parse(&ps, a, d, TOK_START_EXPR);
    return ok && d->errors == errors ? ps.expr : NULL;
}
