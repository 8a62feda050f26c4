/*
** names.c — how text from the .nn file reaches generated code (SPEC 2:
** "Identifiers from the .nn file never reach the C or LLVM output
** unchecked"). A name becomes a C identifier only through cg_ident, which
** maps any text to a valid, non-reserved one; everywhere else names appear
** inside string literals (cg_string) or comments (cg_comment).
*/
#include "codegen.h"

#include <string.h>

/* C99's keywords and the names a generated file defines or includes that a
** model's name could collide with. */
static const char *const reserved[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while", "main", "errno", "assert",
    "bool", "true", "false", "alignas", "alignof", "noreturn", "static_assert", "complex",
    "imaginary", "asm", "typeof", "NULL", "EOF", "stdin", "stdout", "stderr", "rt", "nnc", "cg",
};

static bool is_reserved(const char *s) {
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (!strcmp(s, reserved[i])) return true;
    /* The runtime's namespaces, and what C reserves: _X and __x. */
    return !strncmp(s, "nnc_", 4) || !strncmp(s, "NNC_", 4) || !strncmp(s, "rt_", 3) ||
           !strncmp(s, "Rt", 2) || !strncmp(s, "RT_", 3) || !strncmp(s, "cg_", 3) ||
           (s[0] == '_' && (s[1] == '_' || (s[1] >= 'A' && s[1] <= 'Z')));
}

static bool ident_char(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

const char *cg_ident(Arena *a, const char *name, const char *fallback) {
    size_t n = name ? strlen(name) : 0;
    if (n > 48) n = 48; /* long enough to be recognized; C99 guarantees 31 significant */
    char *s = arena_alloc(a, n + 8);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) s[o++] = ident_char(name[i], false) ? name[i] : '_';
    s[o] = '\0';
    if (o == 0) return fallback;
    if (!ident_char(s[0], true) || s[0] == '_' || is_reserved(s)) return arena_printf(a, "m_%s", s);
    return s;
}

const char *cg_upper(Arena *a, const char *ident) {
    char *s = arena_strdup(a, ident);
    for (char *p = s; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    return s;
}

/* Inside "...": printable ASCII as is, except \ " and ? (no trigraphs);
** everything else as a three-digit octal escape, which cannot swallow the
** character after it. */
const char *cg_string(Arena *a, const char *text) {
    size_t n = text ? strlen(text) : 0;
    char *s = arena_alloc(a, 4 * n + 3);
    size_t o = 0;
    s[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\\' || c == '"' || c == '?') {
            s[o++] = '\\';
            s[o++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            s[o++] = (char)c;
        } else {
            s[o++] = '\\';
            s[o++] = (char)('0' + (c >> 6));
            s[o++] = (char)('0' + (c >> 3 & 7));
            s[o++] = (char)('0' + (c & 7));
        }
    }
    s[o++] = '"';
    s[o] = '\0';
    return s;
}

/* Inside a comment: one line of printable ASCII that cannot end or open a
** comment, form a trigraph, or splice lines with a trailing backslash. */
const char *cg_comment(Arena *a, const char *text) {
    size_t n = text ? strlen(text) : 0;
    char *s = arena_alloc(a, 2 * n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        char prev = o ? s[o - 1] : ' ';
        if (c < 0x20 || c >= 0x7f || c == '\\') c = '_';
        if ((prev == '*' && c == '/') || (prev == '/' && c == '*') || (prev == '?' && c == '?'))
            s[o++] = ' ';
        s[o++] = (char)c;
    }
    s[o] = '\0';
    return s;
}
