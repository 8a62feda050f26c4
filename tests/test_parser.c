/*
** test_parser.c — the grammar of SPEC 1.3 (grammar/parser.y), the AST
** constructors and printer (src/frontend/ast.c) and the diagnostics format
** (src/frontend/diag.c, SPEC 1.11): tree shapes, locations, the exact text
** of syntax errors, error recovery, and inputs that must never crash.
*/
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

typedef struct Run {
    Arena *arena;
    Program *program;
    Node *expr;
    char *text; /* everything diag printed */
    int errors;
} Run;

static Run run_n(const char *src, size_t len, bool expression) {
    Run r = {arena_new(), NULL, NULL, NULL, 0};
    size_t text_len;
    FILE *out = open_memstream(&r.text, &text_len);
    Diag d;
    diag_init(&d, "t.nn", src, len, out);
    if (expression)
        r.expr = parse_expression(r.arena, &d);
    else
        r.program = parse_program(r.arena, &d);
    fclose(out);
    r.errors = d.errors;
    return r;
}

static Run run(const char *src) {
    return run_n(src, strlen(src), false);
}

static Run run_expr(const char *src) {
    return run_n(src, strlen(src), true);
}

static void done(Run *r) {
    arena_free(r->arena);
    free(r->text);
}

/* The source form of src parsed as one expression. */
static void assert_prints(const char *src, const char *expected) {
    Run r = run_expr(src);
    cr_assert_eq(r.errors, 0, "%s: %s", src, r.text);
    cr_assert_not_null(r.expr);
    cr_assert_str_eq(ast_to_string(r.arena, r.expr), expected, "%s", src);
    done(&r);
}

/* Everything diag printed for src, which must have `errors` errors. */
static void assert_diag(const char *src, int errors, const char *expected) {
    Run r = run(src);
    cr_assert_eq(r.errors, errors, "%d errors:\n%s", r.errors, r.text);
    cr_assert_str_eq(r.text, expected);
    done(&r);
}

static void assert_loc(Loc loc, int line, int first, int last) {
    cr_assert_eq(loc.first_line, line, "line %d, expected %d", loc.first_line, line);
    cr_assert_eq(loc.first_column, first, "column %d, expected %d", loc.first_column, first);
    cr_assert_eq(loc.last_column, last, "last column %d, expected %d", loc.last_column, last);
}

/* ---- trees ---- */

Test(parser, precedence_and_associativity) {
    Run r = run_expr("a + b * c - -d @ e");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    const Node *n = r.expr; /* (a + (b * c)) - ((-d) @ e) */
    cr_assert_eq(n->kind, ND_BINARY);
    cr_assert_eq(n->op, '-');
    cr_assert_eq(n->lhs->op, '+');
    cr_assert_eq(n->lhs->rhs->op, '*');
    cr_assert_eq(n->rhs->op, '@');
    cr_assert_eq(n->rhs->lhs->kind, ND_NEG);
    cr_assert_str_eq(n->rhs->lhs->lhs->text, "d");
    done(&r);

    assert_prints("(a + b) * c", "(a + b) * c");
    assert_prints("a - (b - c)", "a - (b - c)");
    assert_prints("(a - b) - c", "a - b - c");
    assert_prints("a / (b * c)", "a / (b * c)");
    assert_prints("-(a @ b)", "-(a @ b)");
    assert_prints("-a[0]", "-a[0]");
    assert_prints("(-a)[0]", "(-a)[0]");
    assert_prints("((x))", "x");
}

Test(parser, postfix_chains) {
    Run r = run_expr("dense(1, sigmoid)(h)[0]");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    const Node *index = r.expr;
    cr_assert_eq(index->kind, ND_INDEX);
    cr_assert_eq(index->lhs->kind, ND_CALL);
    cr_assert_eq(index->lhs->lhs->kind, ND_CALL);
    cr_assert_str_eq(index->lhs->lhs->lhs->text, "dense");
    /* A call of a name points at the name; a call of a call at its '('. */
    assert_loc(index->lhs->lhs->loc, 1, 1, 6);
    assert_loc(index->lhs->loc, 1, 18, 19);
    assert_loc(index->loc, 1, 21, 22);
    assert_loc(index->span, 1, 1, 24);
    done(&r);
}

Test(parser, arguments_and_slices) {
    assert_prints("dense(16, activation = relu)", "dense(16, activation = relu)");
    assert_prints("f(a = 1, 2)", "f(a = 1, 2)"); /* the checker rejects this order */
    assert_prints("f()", "f()");
    assert_prints("a[0, 1:3, :, :2, 1:, -1]", "a[0, 1:3, :, :2, 1:, -1]");
    assert_prints("[1, 2.5, \"s\\\"q\", true, [], [false]]", "[1, 2.5, \"s\\\"q\", true, [], [false]]");
    assert_prints("1e-7 + 3.0E+2 + 1000000", "1e-07 + 300 + 1000000");

    Run r = run_expr("f(x, axis = -1)[1:]");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    const Node *kw = r.expr->lhs->list.items[1];
    cr_assert_eq(kw->kind, ND_KWARG);
    cr_assert_str_eq(kw->text, "axis");
    assert_loc(kw->loc, 1, 6, 10);
    assert_loc(kw->span, 1, 6, 15);
    cr_assert_eq(kw->lhs->kind, ND_NEG);
    assert_loc(kw->lhs->loc, 1, 13, 14);
    const Node *slice = r.expr->list.items[0];
    cr_assert_eq(slice->kind, ND_SLICE);
    assert_loc(slice->loc, 1, 18, 19);
    cr_assert_not_null(slice->lhs);
    cr_assert_null(slice->rhs);
    done(&r);
}

Test(parser, statements) {
    Run r = run("model net {\n"
                "    input x[30]\n"
                "    param W1[30, 15] = glorot_uniform\n"
                "    param b = 0.5\n"
                "    param s\n"
                "    param e[]\n"
                "    h = relu(x @ W1 + b)\n"
                "    dense(1, sigmoid)\n"
                "    output h\n"
                "}\n");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    const Program *p = r.program;
    cr_assert_str_eq(p->name, "net");
    assert_loc(p->loc, 1, 1, 6);
    assert_loc(p->name_loc, 1, 7, 10);
    cr_assert_eq(p->stmts.len, 8);
    const Stmt *s = p->stmts.items;

    cr_assert_eq(s[0].kind, ST_INPUT);
    assert_loc(s[0].loc, 2, 5, 10);
    cr_assert_str_eq(s[0].name, "x");
    assert_loc(s[0].name_loc, 2, 11, 12);
    cr_assert(s[0].has_shape);
    cr_assert_eq(s[0].shape.len, 1);
    cr_assert_eq(s[0].shape.items[0].value, 30);
    assert_loc(s[0].shape.items[0].loc, 2, 13, 15);
    assert_loc(s[0].shape_loc, 2, 12, 16);
    cr_assert_null(s[0].expr);

    cr_assert_eq(s[1].kind, ST_PARAM);
    cr_assert_eq(s[1].shape.len, 2);
    cr_assert_eq(s[1].shape.items[1].value, 15);
    cr_assert_str_eq(s[1].expr->text, "glorot_uniform");

    cr_assert_eq(s[2].kind, ST_PARAM);
    cr_assert(!s[2].has_shape);
    cr_assert_float_eq(s[2].expr->number, 0.5, 0);

    cr_assert_eq(s[3].kind, ST_PARAM);
    cr_assert(!s[3].has_shape);
    cr_assert_null(s[3].expr);

    cr_assert(s[4].has_shape);
    cr_assert_eq(s[4].shape.len, 0);

    cr_assert_eq(s[5].kind, ST_ASSIGN);
    assert_loc(s[5].loc, 7, 5, 6);
    assert_loc(s[5].name_loc, 7, 5, 6);

    cr_assert_eq(s[6].kind, ST_EXPR);
    assert_loc(s[6].loc, 8, 5, 22);
    cr_assert_null(s[6].name);

    cr_assert_eq(s[7].kind, ST_OUTPUT);
    assert_loc(s[7].loc, 9, 5, 11);
    cr_assert_str_eq(s[7].expr->text, "h");
    cr_assert(!p->compile.present);
    cr_assert(!p->fit.present);
    done(&r);
}

Test(parser, one_line_model) {
    Run r = run("model m { input x[3]; dense(1) }");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert_eq(r.program->stmts.len, 2);
    cr_assert_str_eq(ast_to_string(r.arena, r.program->stmts.items[1].expr), "dense(1)");
    done(&r);
}

Test(parser, blocks_in_any_order) {
    Run r = run("model m {\n  input x[2]\n}\nfit {\n  epochs = 5\n  batch_size = all\n}\n"
                "compile\n{\n  loss = mse\n  metrics = [mae, mse]\n}\n");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert(r.program->compile.present);
    assert_loc(r.program->compile.loc, 8, 1, 8);
    cr_assert_eq(r.program->compile.settings.len, 2);
    const Setting *metrics = &r.program->compile.settings.items[1];
    cr_assert_str_eq(metrics->name, "metrics");
    assert_loc(metrics->loc, 11, 3, 10);
    cr_assert_str_eq(ast_to_string(r.arena, metrics->value), "[mae, mse]");
    cr_assert(r.program->fit.present);
    assert_loc(r.program->fit.loc, 4, 1, 4);
    cr_assert_eq(r.program->fit.settings.len, 2);
    done(&r);

    r = run("model m { input x[1] }");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    done(&r);
    r = run("model m {\n}\ncompile {}\nfit {\n}");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert(r.program->compile.present);
    cr_assert_eq(r.program->stmts.len, 0);
    done(&r);
}

Test(parser, parse_expression) {
    Run r = run_expr("sum(ones(2, 2) * 5 + 1, axis = 1)\n");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert_str_eq(ast_to_string(r.arena, r.expr), "sum(ones(2, 2) * 5 + 1, axis = 1)");
    done(&r);
    r = run_expr("1 +");
    cr_assert_null(r.expr);
    cr_assert_str_eq(r.text, "t.nn:1:4: error: expected an expression, found end of input\n"
                             "1 +\n"
                             "   ^\n");
    done(&r);
    r = run_expr("1 2");
    cr_assert_null(r.expr);
    cr_assert(strstr(r.text, "error: expected end of input, found number '2'"), "%s", r.text);
    done(&r);
    r = run_expr("");
    cr_assert_null(r.expr);
    cr_assert_eq(r.errors, 1);
    done(&r);
}

/* ---- syntax errors: exact text ---- */

Test(syntax_errors, missing_paren_is_one_error) {
    Run r = run("model m {\n"
                "    input x[3]\n"
                "    dense(16, relu\n"
                "    dense(1)\n"
                "    output x\n"
                "}\n");
    cr_assert_eq(r.errors, 1, "%s", r.text);
    cr_assert_str_eq(r.text, "t.nn:3:19: error: expected ')' to close '('\n"
                             "    dense(16, relu\n"
                             "                  ^\n"
                             "t.nn:3:10: note: to match this '('\n"
                             "    dense(16, relu\n"
                             "         ^\n");
    /* The lines after it still parse. */
    cr_assert_eq(r.program->stmts.len, 3);
    cr_assert_str_eq(ast_to_string(r.arena, r.program->stmts.items[1].expr), "dense(1)");
    cr_assert_eq(r.program->stmts.items[2].kind, ST_OUTPUT);
    done(&r);
}

Test(syntax_errors, missing_bracket_before_brace) {
    assert_diag("model m { x = [1, 2 }",
                1,
                "t.nn:1:21: error: expected ']' to close '['\n"
                "model m { x = [1, 2 }\n"
                "                    ^\n"
                "t.nn:1:15: note: to match this '['\n"
                "model m { x = [1, 2 }\n"
                "              ^\n");
}

Test(syntax_errors, missing_brace_at_eof) {
    assert_diag("model m {\n  dense(1)\n\n",
                1,
                "t.nn:2:11: error: expected '}' to close 'model' block\n"
                "  dense(1)\n"
                "          ^\n"
                "t.nn:1:9: note: to match this '{'\n"
                "model m {\n"
                "        ^\n");
    /* Before the next block, the same message; the block is not lost. */
    Run r = run("model m {\n  dense(1)\n\ncompile {\n  loss = mse\n}\n");
    cr_assert_eq(r.errors, 1, "%s", r.text);
    cr_assert(strncmp(r.text, "t.nn:2:11: error: expected '}' to close 'model' block\n", 54) == 0, "%s", r.text);
    done(&r);
}

Test(syntax_errors, model_block_missing) {
    assert_diag("", 1, "t.nn:1:1: error: expected a 'model' block, found end of file\n");
    assert_diag("compile { loss = mse }\n",
                1,
                "t.nn:1:1: error: expected a 'model' block, found 'compile'\n"
                "compile { loss = mse }\n"
                "^~~~~~~\n");
    Run r = run("\n# nothing\n");
    cr_assert_null(r.program);
    cr_assert_eq(r.errors, 1);
    done(&r);
}

Test(syntax_errors, garbage_at_top_level) {
    assert_diag("model m { dense(1) }\ntrain {\n  epochs = 3\n}\nfit { epochs = 1 }\n",
                1,
                "t.nn:2:1: error: expected a 'compile' or 'fit' block, found identifier 'train'\n"
                "train {\n"
                "^~~~~\n");
    Run r = run("model m { dense(1) }\ntrain {\n  epochs = 3\n}\nfit { epochs = 1 }\n");
    cr_assert(r.program->fit.present);
    done(&r);
}

Test(syntax_errors, unmatched_closers) {
    assert_diag("model m { dense(1)) }",
                1,
                "t.nn:1:19: error: unmatched ')'\n"
                "model m { dense(1)) }\n"
                "                  ^\n");
    assert_diag("model m { dense(1) }\n}\n",
                1,
                "t.nn:2:1: error: unmatched '}'\n"
                "}\n"
                "^\n");
}

Test(syntax_errors, expected_tokens) {
    assert_diag("model m { dense(16 relu) }",
                1,
                "t.nn:1:20: error: expected ',' or ')', found identifier 'relu'\n"
                "model m { dense(16 relu) }\n"
                "                   ^~~~\n");
    assert_diag("model m {\n  x =\n}",
                1,
                "t.nn:2:6: error: expected an expression, found end of line\n"
                "  x =\n"
                "     ^\n");
    assert_diag("model m {\n  relu x\n}",
                1,
                "t.nn:2:8: error: expected '=' or end of line, found identifier 'x'\n"
                "  relu x\n"
                "       ^\n");
    assert_diag("model m {\n  dense(16, )\n}",
                1,
                "t.nn:2:13: error: expected an expression after ',', found ')'\n"
                "  dense(16, )\n"
                "            ^\n");
    assert_diag("model m {\n  input x\n}",
                1,
                "t.nn:2:10: error: expected the input's shape, like [3], found end of line\n"
                "  input x\n"
                "         ^\n");
    assert_diag("model m { dense(1) }\ncompile {\n  loss mse\n}",
                1,
                "t.nn:3:8: error: expected '=', found identifier 'mse'\n"
                "  loss mse\n"
                "       ^~~\n");
    assert_diag("model { }",
                1,
                "t.nn:1:7: error: expected identifier, found '{'\n"
                "model { }\n"
                "      ^\n");
}

Test(syntax_errors, shape_dimensions) {
    assert_diag("model m { input x[3.5] }",
                1,
                "t.nn:1:19: error: a dimension must be an integer, not '3.5'\n"
                "model m { input x[3.5] }\n"
                "                  ^~~\n");
    Run r = run("model m { input x[99999999999] }");
    cr_assert_eq(r.errors, 1);
    cr_assert(strstr(r.text, "error: dimension '99999999999' is too large"), "%s", r.text);
    done(&r);
}

Test(syntax_errors, duplicate_block) {
    assert_diag("model m { dense(1) }\ncompile { loss = mse }\ncompile { loss = mae }\n",
                1,
                "t.nn:3:1: error: duplicate 'compile' block\n"
                "compile { loss = mae }\n"
                "^~~~~~~\n"
                "t.nn:2:1: note: the first 'compile' block is here\n"
                "compile { loss = mse }\n"
                "^~~~~~~\n");
    Run r = run("model m { dense(1) }\ncompile { loss = mse }\ncompile { loss = mae }\n");
    cr_assert_str_eq(r.program->compile.settings.items[0].value->text, "mse");
    done(&r);
}

Test(syntax_errors, several_errors_in_one_run) {
    Run r = run("model m {\n"
                "  input x[3]\n"
                "  dense(16 relu)\n"
                "  )\n"
                "  y = 3 3; z = *\n"
                "  w = foo(1 2,\n"
                "          3)\n"
                "  dense(1)\n"
                "}\n"
                "compile {\n"
                "  loss = \n"
                "  optimizer = adam(learning_rate = 0.1\n"
                "  metrics = [accuracy]\n"
                "}\n");
    cr_assert_eq(r.errors, 7, "%s", r.text);
    const char *lines[] = {"t.nn:3:12:", "t.nn:4:3:", "t.nn:5:9:", "t.nn:5:16:", "t.nn:6:13:",
                           "t.nn:11:10:", "t.nn:12:39:"};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        cr_assert(strstr(r.text, lines[i]), "no error at %s in\n%s", lines[i], r.text);
    /* What was fine is still there. */
    cr_assert_eq(r.program->stmts.len, 2);
    cr_assert_eq(r.program->compile.settings.len, 1);
    cr_assert_str_eq(r.program->compile.settings.items[0].name, "metrics");
    done(&r);
}

Test(syntax_errors, three_lines_three_errors) {
    Run r = run("model m {\n  x = (1\n  y = 1 +\n  z = ]\n}\n");
    cr_assert_eq(r.errors, 3, "%s", r.text);
    done(&r);
}

Test(syntax_errors, deep_nesting) {
    enum { DEPTH = 20000 };
    char *src = malloc(2 * DEPTH + 32);
    int n = sprintf(src, "model m { x = ");
    memset(src + n, '(', DEPTH);
    src[n + DEPTH] = '\0';
    Run r = run(src);
    cr_assert_geq(r.errors, 1);
    cr_assert(strstr(r.text, "error: expression nested too deep for the parser"), "%.200s", r.text);
    done(&r);
    free(src);
}

/* Issue 10: a 40,000-term sum crashed the checker's recursion. The parser
** bounds the tree's depth with a located error; at the limit it is fine. */
static char *sum_of(int terms) {
    char *src = malloc(4 * (size_t)terms + 64);
    int n = sprintf(src, "model m {\n input x[2]\n y = x");
    for (int i = 1; i < terms; i++) n += sprintf(src + n, "+x");
    strcpy(src + n, "\n}\n");
    return src;
}

Test(syntax_errors, expression_depth_bounded) {
    char *src = sum_of(40000);
    Run r = run(src);
    cr_assert_eq(r.errors, 1, "%.300s", r.text);
    cr_assert(strstr(r.text, "t.nn:3:6: error: expression nested 40000 deep; the limit is 1000"), "%.300s", r.text);
    done(&r);
    free(src);
    src = sum_of(AST_MAX_DEPTH);
    r = run(src);
    cr_assert_eq(r.errors, 0, "%.300s", r.text);
    done(&r);
    free(src);
}

Test(syntax_errors, expression_depth_of_calls_and_eval) {
    char src[8200];
    int n = 0;
    for (int i = 0; i < 1500; i++) n += sprintf(src + n, "f(");
    src[n++] = 'x';
    memset(src + n, ')', 1500);
    src[n + 1500] = '\0';
    Run r = run_expr(src);
    cr_assert(strstr(r.text, "error: expression nested 1501 deep; the limit is 1000"), "%.300s", r.text);
    cr_assert_null(r.expr);
    done(&r);
}

/* Issue 10: 1e400 became inf, and C that does not compile. */
Test(syntax_errors, literal_out_of_range) {
    Run r = run("model m {\n input x[2]\n y = x * 1e400 - -1e309 + 1e-400\n}\n");
    cr_assert_eq(r.errors, 2, "%s", r.text);
    cr_assert(strstr(r.text, "t.nn:3:10: error: number '1e400' is out of range; the largest is about 1.8e308"), "%s", r.text);
    cr_assert(strstr(r.text, "t.nn:3:19: error: number '1e309' is out of range"), "%s", r.text);
    done(&r);
}

/* ---- never crash ---- */

static const char valid[] = "# a model\n"
                            "model cancer {\n"
                            "    input x[30]\n"
                            "    param W[30, 2] = glorot_uniform\n"
                            "    h = relu(x @ W + -b[0, 1:2])\n"
                            "    dense(1, activation = sigmoid, name = out)\n"
                            "    output h\n"
                            "}\n"
                            "compile { loss = binary_crossentropy; metrics = [accuracy] }\n"
                            "fit {\n"
                            "    callbacks = [model_checkpoint(\"best.bin\",\n"
                            "                                  monitor = val_loss)]\n"
                            "}\n";

Test(robustness, every_prefix_of_a_valid_program) {
    Run r = run(valid);
    cr_assert_eq(r.errors, 0, "%s", r.text);
    done(&r);
    for (size_t len = 0; len < sizeof valid - 1; len++) {
        r = run_n(valid, len, false);
        /* A prefix is wrong at most at its end: one error, or none at all. */
        cr_assert_leq(r.errors, 1, "prefix %zu:\n%s", len, r.text);
        done(&r);
    }
}

Test(robustness, random_bytes) {
    unsigned seed = 12345;
    char buf[256];
    for (int i = 0; i < 2000; i++) {
        size_t len = (size_t)(rand_r(&seed) % (int)sizeof buf);
        for (size_t j = 0; j < len; j++) buf[j] = (char)rand_r(&seed);
        Run r = run_n(buf, len, i % 2 == 0);
        cr_assert_geq(r.errors, 0);
        done(&r);
    }
}

Test(robustness, random_tokens) {
    static const char *const pieces[] = {
        "model", " m ", "{", "}", "(", ")", "[", "]", "\n", ";", ",", "=", "+", "-", "*", "/",
        "@", ":", "input", "param", "output", "compile", "fit", "true", "x", "3", "0.5",
        "\"s\"", "\"", "#c\n", "**", "$", "12ab", "'q'", "\\", "dense",
    };
    unsigned seed = 777;
    char buf[1024];
    for (int i = 0; i < 2000; i++) {
        size_t len = 0;
        for (int k = rand_r(&seed) % 60; k > 0; k--) {
            const char *p = pieces[rand_r(&seed) % (int)(sizeof pieces / sizeof *pieces)];
            memcpy(buf + len, p, strlen(p));
            len += strlen(p);
        }
        Run r = run_n(buf, len, i % 3 == 0);
        if (r.program)
            for (int s = 0; s < r.program->stmts.len; s++)
                if (r.program->stmts.items[s].expr) ast_to_string(r.arena, r.program->stmts.items[s].expr);
        done(&r);
    }
}

Test(robustness, mutations_of_a_valid_program) {
    static const char swaps[] = "(){}[]\n;,=:+-\"#x1 ";
    unsigned seed = 99;
    char buf[sizeof valid];
    for (int i = 0; i < 2000; i++) {
        memcpy(buf, valid, sizeof valid);
        for (int k = 0; k < 3; k++)
            buf[rand_r(&seed) % (int)(sizeof valid - 1)] = swaps[rand_r(&seed) % (int)(sizeof swaps - 1)];
        Run r = run_n(buf, sizeof valid - 1, false);
        /* One mutation can hardly be worth more than a couple of errors. */
        cr_assert_leq(r.errors, 3 * 3, "%s\n%s", buf, r.text);
        done(&r);
    }
}

/* ---- ast.c ---- */

Test(ast, constructors) {
    Arena *a = arena_new();
    Loc l1 = {1, 1, 1, 2}, l2 = {1, 3, 1, 4}, l3 = {2, 5, 2, 9};
    Node *n = ast_number(a, "42", l1);
    cr_assert_eq(n->kind, ND_NUMBER);
    cr_assert(n->is_int);
    cr_assert_float_eq(n->number, 42, 0);
    cr_assert(!ast_number(a, "4.", l1)->is_int);
    cr_assert(!ast_number(a, "4e0", l1)->is_int);
    Node *m = ast_node(a, ND_IDENT, l3);
    m->text = "abcd";
    Node *b = ast_binary(a, '*', n, m, l2);
    assert_loc(b->loc, 1, 3, 4);
    cr_assert_eq(b->span.first_line, 1);
    cr_assert_eq(b->span.first_column, 1);
    cr_assert_eq(b->span.last_line, 2);
    cr_assert_eq(b->span.last_column, 9);
    cr_assert_str_eq(ast_to_string(a, b), "42 * abcd");
    Node *list = ast_node(a, ND_LIST, l1);
    for (int i = 0; i < 20; i++) ast_list_push(a, &list->list, n);
    cr_assert_eq(list->list.len, 20);
    cr_assert_str_eq(ast_kind_name(ND_CALL), "call");
    cr_assert_str_eq(ast_kind_name(ND_KWARG), "keyword argument");
    arena_free(a);
}

/* ---- diag.c ---- */

typedef struct Out {
    char *text;
    size_t len;
    FILE *f;
} Out;

static Diag diag_for(Out *o, const char *src) {
    Diag d;
    o->text = NULL;
    o->f = open_memstream(&o->text, &o->len);
    diag_init(&d, "m.nn", src, strlen(src), o->f);
    return d;
}

static void assert_out(Out *o, const char *expected) {
    fclose(o->f);
    cr_assert_str_eq(o->text, expected);
    free(o->text);
}

Test(diag, the_format) {
    Out o;
    Diag d = diag_for(&o, "model m {\n    dense(16, rleu)\n}\n");
    diag_error(&d, (Loc){2, 15, 2, 19}, "unknown activation '%s'; did you mean '%s'?", "rleu", "relu");
    diag_note(&d, (Loc){2, 5, 2, 10}, "in this layer");
    diag_warning(&d, (Loc){2, 5, 2, 10}, "a warning");
    cr_assert(diag_failed(&d));
    cr_assert_eq(d.errors, 1);
    cr_assert_eq(d.warnings, 1);
    assert_out(&o, "m.nn:2:15: error: unknown activation 'rleu'; did you mean 'relu'?\n"
                   "    dense(16, rleu)\n"
                   "              ^~~~\n"
                   "m.nn:2:5: note: in this layer\n"
                   "    dense(16, rleu)\n"
                   "    ^~~~~\n"
                   "m.nn:2:5: warning: a warning\n"
                   "    dense(16, rleu)\n"
                   "    ^~~~~\n");
}

Test(diag, tabs_spans_and_eof) {
    Out o;
    Diag d = diag_for(&o, "\tx =\t1 + 2\nsecond line\n");
    diag_error(&d, (Loc){1, 6, 1, 11}, "tabbed");         /* tab kept, span of 5 */
    diag_error(&d, (Loc){1, 2, 2, 3}, "multi-line");      /* runs to the line's end */
    diag_error(&d, (Loc){2, 4, 2, 4}, "zero width");
    diag_error(&d, (Loc){9, 1, 9, 1}, "past the end");    /* the last line, after its end */
    diag_error(&d, (Loc){0, 0, 0, 0}, "nowhere");
    assert_out(&o, "m.nn:1:6: error: tabbed\n"
                   "\tx =\t1 + 2\n"
                   "\t   \t^~~~~\n"
                   "m.nn:1:2: error: multi-line\n"
                   "\tx =\t1 + 2\n"
                   "\t^~~~~~~~~\n"
                   "m.nn:2:4: error: zero width\n"
                   "second line\n"
                   "   ^\n"
                   "m.nn:9:1: error: past the end\n"
                   "second line\n"
                   "           ^\n"
                   "m.nn: error: nowhere\n");
}

Test(diag, error_limit) {
    Out o;
    Diag d = diag_for(&o, "x\n");
    for (int i = 0; i < 25; i++) {
        diag_error(&d, (Loc){1, 1, 1, 2}, "e%d", i);
        diag_note(&d, (Loc){1, 1, 1, 2}, "n%d", i);
    }
    diag_warning(&d, (Loc){1, 1, 1, 2}, "late");
    cr_assert_eq(d.errors, 25);
    cr_assert(d.stopped);
    fclose(o.f);
    cr_assert(strstr(o.text, "error: e19\n"));
    cr_assert(strstr(o.text, "note: n19\n"));
    cr_assert_null(strstr(o.text, "e20"));
    cr_assert_null(strstr(o.text, "n20"));
    cr_assert_null(strstr(o.text, "late"));
    const char *stop = strstr(o.text, "nnc: too many errors; stopping\n");
    cr_assert_not_null(stop);
    cr_assert_null(strstr(stop + strlen("nnc: too many"), "too many"));
    cr_assert_str_eq(stop, "nnc: too many errors; stopping\n");
    free(o.text);
}

Test(diag, werror_and_no_warnings) {
    Out o;
    Diag d = diag_for(&o, "x\n");
    d.no_warnings = true;
    diag_warning(&d, (Loc){1, 1, 1, 2}, "hidden");
    diag_note(&d, (Loc){1, 1, 1, 2}, "hidden note");
    cr_assert(!diag_failed(&d));
    d.no_warnings = false;
    d.werror = true;
    diag_warning(&d, (Loc){1, 1, 1, 2}, "two %s", "linear layers");
    diag_note(&d, (Loc){1, 1, 1, 2}, "shown note");
    cr_assert(diag_failed(&d));
    cr_assert_eq(d.errors, 1);
    assert_out(&o, "m.nn:1:1: error: two linear layers [-Werror]\n"
                   "x\n"
                   "^\n"
                   "m.nn:1:1: note: shown note\n"
                   "x\n"
                   "^\n");
}

Test(diag, utf8_alignment) {
    Out o;
    Diag d = diag_for(&o, "# caf\xc3\xa9 x\n");
    diag_error(&d, (Loc){1, 9, 1, 10}, "u");
    assert_out(&o, "m.nn:1:9: error: u\n"
                   "# caf\xc3\xa9 x\n"
                   "       ^\n"); /* 8 bytes, 7 characters before the column */
}
