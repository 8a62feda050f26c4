/*
** ast.c — constructors of the syntax tree that grammar/parser.y builds, and
** its source form for messages and IR comments.
*/
#include "frontend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Node *ast_node(Arena *a, NodeKind kind, Loc loc) {
    Node *n = ARENA_NEW(a, Node);
    n->kind = kind;
    n->loc = loc;
    n->span = loc;
    n->depth = 1;
    return n;
}

Node *ast_deepen(Node *n) {
    int d = 0;
    if (n->lhs && n->lhs->depth > d) d = n->lhs->depth;
    if (n->rhs && n->rhs->depth > d) d = n->rhs->depth;
    for (int i = 0; i < n->list.len; i++)
        if (n->list.items[i]->depth > d) d = n->list.items[i]->depth;
    n->depth = d + 1;
    return n;
}

/* SPEC 1.2: integers are numbers without '.' or exponent. */
Node *ast_number(Arena *a, const char *text, Loc loc) {
    Node *n = ast_node(a, ND_NUMBER, loc);
    n->text = text;
    n->number = strtod(text, NULL);
    n->is_int = strpbrk(text, ".eE") == NULL;
    return n;
}

Node *ast_binary(Arena *a, int op, Node *lhs, Node *rhs, Loc op_loc) {
    Node *n = ast_node(a, ND_BINARY, op_loc);
    n->op = op;
    n->lhs = lhs;
    n->rhs = rhs;
    if (lhs) {
        n->span.first_line = lhs->span.first_line;
        n->span.first_column = lhs->span.first_column;
    }
    if (rhs) {
        n->span.last_line = rhs->span.last_line;
        n->span.last_column = rhs->span.last_column;
    }
    return ast_deepen(n);
}

void ast_list_push(Arena *a, NodeList *list, Node *item) {
    ARENA_PUSH(a, *list, item);
}

const char *ast_kind_name(NodeKind kind) {
    switch (kind) {
    case ND_NUMBER: return "number";
    case ND_STRING: return "string";
    case ND_BOOL: return "boolean";
    case ND_IDENT: return "identifier";
    case ND_LIST: return "list";
    case ND_BINARY: return "binary operation";
    case ND_NEG: return "negation";
    case ND_CALL: return "call";
    case ND_KWARG: return "keyword argument";
    case ND_INDEX: return "index";
    case ND_SLICE: return "slice";
    }
    return "node";
}

/* Binding strength, as in SPEC 1.3: + - < * / @ < unary minus < postfix. */
static int precedence(const Node *n) {
    if (n->kind == ND_BINARY) return n->op == '+' || n->op == '-' ? 1 : 2;
    if (n->kind == ND_NEG) return 3;
    return 4;
}

static void emit(FILE *f, const Node *n);

/* n, in parentheses if it binds less tightly than min. */
static void emit_operand(FILE *f, const Node *n, int min) {
    bool parens = n && precedence(n) < min;
    if (parens) fputc('(', f);
    emit(f, n);
    if (parens) fputc(')', f);
}

static void emit_list(FILE *f, const NodeList *list) {
    for (int i = 0; i < list->len; i++) {
        if (i) fputs(", ", f);
        emit(f, list->items[i]);
    }
}

static void emit_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Integers as written (%g would turn 1000000 into 1e+06), the rest as %g. */
static void emit_number(FILE *f, const Node *n) {
    if (n->is_int && fabs(n->number) < 1e15)
        fprintf(f, "%.0f", n->number);
    else
        fprintf(f, "%g", n->number);
}

static void emit(FILE *f, const Node *n) {
    if (!n) return;
    switch (n->kind) {
    case ND_NUMBER: emit_number(f, n); break;
    case ND_STRING: emit_string(f, n->text ? n->text : ""); break;
    case ND_BOOL: fputs(n->number != 0 ? "true" : "false", f); break;
    case ND_IDENT: fputs(n->text ? n->text : "?", f); break;
    case ND_LIST: fputc('[', f); emit_list(f, &n->list); fputc(']', f); break;
    case ND_BINARY:
        /* Left-associative: an equal-precedence right operand needs parentheses. */
        emit_operand(f, n->lhs, precedence(n));
        fprintf(f, " %c ", n->op);
        emit_operand(f, n->rhs, precedence(n) + 1);
        break;
    case ND_NEG: fputc('-', f); emit_operand(f, n->lhs, 3); break;
    case ND_CALL: emit_operand(f, n->lhs, 4); fputc('(', f); emit_list(f, &n->list); fputc(')', f); break;
    case ND_KWARG: fprintf(f, "%s = ", n->text ? n->text : "?"); emit(f, n->lhs); break;
    case ND_INDEX: emit_operand(f, n->lhs, 4); fputc('[', f); emit_list(f, &n->list); fputc(']', f); break;
    case ND_SLICE: emit(f, n->lhs); fputc(':', f); emit(f, n->rhs); break;
    }
}

const char *ast_to_string(Arena *a, const Node *n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) die("out of memory");
    emit(f, n);
    fclose(f);
    const char *s = arena_strndup(a, buf, len);
    free(buf);
    return s;
}
