/*
** test_lexer.c — the tokens of SPEC 1.2 (grammar/lexer.l), seen through the
** parser: numbers, names, keywords, strings, comments, statement ends,
** newlines inside brackets, locations, and the lexical errors with their
** exact text.
*/
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

/* One parse: its arena, what diag printed, and the counts. */
typedef struct Run {
    Arena *arena;
    Program *program;
    char *text; /* everything diag printed */
    int errors;
} Run;

static Run run_n(const char *src, size_t len) {
    Run r = {arena_new(), NULL, NULL, 0};
    size_t text_len;
    FILE *out = open_memstream(&r.text, &text_len);
    Diag d;
    diag_init(&d, "t.nn", src, len, out);
    r.program = parse_program(r.arena, &d);
    fclose(out);
    r.errors = d.errors;
    return r;
}

static Run run(const char *src) {
    return run_n(src, strlen(src));
}

static void done(Run *r) {
    arena_free(r->arena);
    free(r->text);
}

/* The expression of statement i, which must exist. */
static const Node *expr_of(const Run *r, int i) {
    cr_assert_not_null(r->program);
    cr_assert_lt(i, r->program->stmts.len);
    return r->program->stmts.items[i].expr;
}

static void assert_loc(Loc loc, int line, int first, int last) {
    cr_assert_eq(loc.first_line, line, "line %d, expected %d", loc.first_line, line);
    cr_assert_eq(loc.last_line, line);
    cr_assert_eq(loc.first_column, first, "column %d, expected %d", loc.first_column, first);
    cr_assert_eq(loc.last_column, last, "last column %d, expected %d", loc.last_column, last);
}

/* The only error of src: its whole printed text. */
static void assert_error(const char *src, const char *expected) {
    Run r = run(src);
    cr_assert_eq(r.errors, 1, "%d errors:\n%s", r.errors, r.text);
    cr_assert_str_eq(r.text, expected);
    done(&r);
}

Test(lexer, numbers_of_every_form) {
    static const struct { const char *text; double value; bool is_int; } cases[] = {
        {"12", 12, true},      {"0.5", 0.5, false},    {".5", 0.5, false},
        {"1e-7", 1e-7, false}, {"3.0E+2", 300, false}, {"3.", 3, false},
        {"0", 0, true},        {"1E3", 1000, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char src[64];
        snprintf(src, sizeof src, "model m { x = %s }", cases[i].text);
        Run r = run(src);
        cr_assert_eq(r.errors, 0, "%s: %s", cases[i].text, r.text);
        const Node *n = expr_of(&r, 0);
        cr_assert_eq(n->kind, ND_NUMBER);
        cr_assert_float_eq(n->number, cases[i].value, 1e-12, "%s", cases[i].text);
        cr_assert_eq(n->is_int, cases[i].is_int, "%s", cases[i].text);
        assert_loc(n->loc, 1, 15, 15 + (int)strlen(cases[i].text));
        done(&r);
    }
}

Test(lexer, keywords_and_identifiers) {
    Run r = run("model m { models = input_ + _x9 * true - false }");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert_str_eq(r.program->stmts.items[0].name, "models");
    cr_assert_str_eq(ast_to_string(r.arena, expr_of(&r, 0)), "input_ + _x9 * true - false");
    const Node *n = expr_of(&r, 0);
    cr_assert_eq(n->rhs->kind, ND_BOOL);
    cr_assert_eq(n->rhs->number, 0);
    cr_assert_eq(n->lhs->rhs->rhs->kind, ND_BOOL);
    cr_assert_eq(n->lhs->rhs->rhs->number, 1);
    done(&r);
}

Test(lexer, keywords_are_reserved) {
    assert_error("model m { fit = 3 }",
                 "t.nn:1:11: error: 'fit' is a keyword; it cannot be used as a name\n"
                 "model m { fit = 3 }\n"
                 "          ^~~\n");
}

Test(lexer, keyword_as_a_name) {
    assert_error("model m {\n  input model[3]\n}",
                 "t.nn:2:9: error: 'model' is a keyword; it cannot be used as a name\n"
                 "  input model[3]\n"
                 "        ^~~~~\n");
}

Test(lexer, strings_with_escapes) {
    Run r = run("model m { cb(\"a\\\"b\\\\c#d\", \"\") }");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    const Node *call = expr_of(&r, 0);
    cr_assert_eq(call->list.len, 2);
    const Node *s = call->list.items[0];
    cr_assert_eq(s->kind, ND_STRING);
    cr_assert_str_eq(s->text, "a\"b\\c#d");
    assert_loc(s->loc, 1, 14, 25);
    cr_assert_str_eq(call->list.items[1]->text, "");
    done(&r);
}

Test(lexer, comments_and_blank_lines) {
    Run r = run("# a model\n\n\nmodel m {   # opens\n\n"
                "  input x[3]  # the input\n"
                "  # a whole line\n\n"
                "  dense(1)\n\n}\n# after\n\ncompile {\n\n  loss = mse # c\n\n}\n\n");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert_eq(r.program->stmts.len, 2);
    assert_loc(r.program->stmts.items[0].loc, 6, 3, 8);
    assert_loc(r.program->stmts.items[1].loc, 9, 3, 11);
    cr_assert_eq(r.program->compile.settings.len, 1);
    assert_loc(r.program->compile.settings.items[0].loc, 16, 3, 7);
    done(&r);
}

Test(lexer, newlines_inside_brackets_do_not_end_statements) {
    Run r = run("model m {\n  y = dense(16,\n\n    relu)(\n  x)\n  z = [1,\n 2][\n0]\n}");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert_eq(r.program->stmts.len, 2);
    cr_assert_str_eq(ast_to_string(r.arena, expr_of(&r, 0)), "dense(16, relu)(x)");
    cr_assert_str_eq(ast_to_string(r.arena, expr_of(&r, 1)), "[1, 2][0]");
    /* A span over several lines ends on its last one. */
    cr_assert_eq(expr_of(&r, 0)->span.first_line, 2);
    cr_assert_eq(expr_of(&r, 0)->span.last_line, 5);
    done(&r);
}

Test(lexer, semicolons_end_statements) {
    Run r = run("model m { input x[3]; dense(4);; dense(1) }; compile { loss = mse; optimizer = sgd }");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert_eq(r.program->stmts.len, 3);
    cr_assert_eq(r.program->compile.settings.len, 2);
    done(&r);
}

Test(lexer, crlf_and_tabs) {
    Run r = run("model m {\r\n\tinput x[3]\r\n\tdense(1)\r\n}\r\n");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert_eq(r.program->stmts.len, 2);
    assert_loc(r.program->stmts.items[0].loc, 2, 2, 7); /* a tab is one byte */
    done(&r);
}

Test(lexer, operator_locations) {
    Run r = run("model m {\n  h = relu(x @ W1 + b1)\n}");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    const Node *call = expr_of(&r, 0);
    assert_loc(call->loc, 2, 7, 11);
    assert_loc(call->span, 2, 7, 24);
    const Node *plus = call->list.items[0];
    cr_assert_eq(plus->op, '+');
    assert_loc(plus->loc, 2, 19, 20);
    assert_loc(plus->lhs->loc, 2, 14, 15);
    assert_loc(plus->lhs->span, 2, 12, 18);
    assert_loc(plus->rhs->loc, 2, 21, 23);
    done(&r);
}

Test(lexer, bad_number_is_one_token) {
    assert_error("model m { x = 12abc + 1 }",
                 "t.nn:1:15: error: invalid number '12abc'\n"
                 "model m { x = 12abc + 1 }\n"
                 "              ^~~~~\n");
    Run r = run("model m { x = 1e + 3.5e+2x }");
    cr_assert_eq(r.errors, 2, "%s", r.text);
    cr_assert(strstr(r.text, "error: invalid number '1e'"));
    cr_assert(strstr(r.text, "error: invalid number '3.5e+2x'"));
    /* The statement is still read, with the number's valid prefix. */
    cr_assert_str_eq(ast_to_string(r.arena, expr_of(&r, 0)), "1 + 350");
    done(&r);
}

Test(lexer, power_operator) {
    assert_error("model m { y = x ** 2 }",
                 "t.nn:1:17: error: '**' is not an operator; use pow(x, k) or square(x)\n"
                 "model m { y = x ** 2 }\n"
                 "                ^~\n");
}

Test(lexer, unexpected_characters) {
    assert_error("model m { dense(16, $relu) }",
                 "t.nn:1:21: error: unexpected character '$'\n"
                 "model m { dense(16, $relu) }\n"
                 "                    ^\n");
    assert_error("model m { dense(16, r\xc3\xa9lu) }",
                 "t.nn:1:22: error: unexpected character '\xc3\xa9'\n"
                 "model m { dense(16, r\xc3\xa9lu) }\n"
                 "                     ^\n");
    assert_error("model m { dense(16, \xffrelu) }",
                 "t.nn:1:21: error: invalid UTF-8 byte 0xff\n"
                 "model m { dense(16, \xffrelu) }\n"
                 "                    ^\n");
    assert_error("model m { x = a\x01 }",
                 "t.nn:1:16: error: unexpected control character 0x01\n"
                 "model m { x = a\x01 }\n"
                 "               ^\n");
}

Test(lexer, nul_byte) {
    static const char src[] = "model m { x = a\0 }";
    Run r = run_n(src, sizeof src - 1);
    cr_assert_eq(r.errors, 1, "%s", r.text);
    cr_assert(strncmp(r.text, "t.nn:1:16: error: unexpected NUL byte\n", 38) == 0, "%s", r.text);
    done(&r);
}

Test(lexer, utf8_in_strings_and_comments_is_fine) {
    Run r = run("# caf\xc3\xa9 \xff\nmodel m { cb(\"na\xc3\xafve\") }  # \xe2\x9c\x93\n");
    cr_assert_eq(r.errors, 0, "%s", r.text);
    cr_assert_str_eq(expr_of(&r, 0)->list.items[0]->text, "na\xc3\xafve");
    done(&r);
}

Test(lexer, string_errors) {
    assert_error("model m { cb(\"a\\nb\") }",
                 "t.nn:1:16: error: unknown escape sequence '\\n' in string; only \\\" and \\\\ are allowed\n"
                 "model m { cb(\"a\\nb\") }\n"
                 "               ^~\n");
    assert_error("model m {\n  cb(\"abc)\n  dense(1)\n}",
                 "t.nn:2:6: error: unterminated string; a string ends with '\"' on the same line\n"
                 "  cb(\"abc)\n"
                 "     ^\n");
    assert_error("model m { cb('x.bin') }",
                 "t.nn:1:14: error: strings are written in double quotes: \"x.bin\"\n"
                 "model m { cb('x.bin') }\n"
                 "             ^~~~~~~\n");
}

Test(lexer, lexical_errors_do_not_cascade) {
    /* Three bad bytes on three lines: three errors, no syntax errors after. */
    Run r = run("model m {\n  x = a $ b\n  y = 1 ** 2\n  z = 3x\n  dense(1)\n}");
    cr_assert_eq(r.errors, 3, "%s", r.text);
    cr_assert_not_null(r.program);
    cr_assert_eq(r.program->stmts.items[r.program->stmts.len - 1].kind, ST_EXPR);
    done(&r);
}
