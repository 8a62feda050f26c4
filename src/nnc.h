/*
** nnc.h — the few things every phase shares: source locations, the
** per-compilation arena, and die() for internal bugs.
*/
#ifndef NNC_H
#define NNC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define NNC_VERSION "0.1.0"

/* A source span. Lines and columns count from 1; last_column is the column
** just after the span, so a one-character token has last = first + 1.
** The field names are Bison's, so this is also the parser's YYLTYPE. */
typedef struct Loc {
    int first_line, first_column;
    int last_line, last_column;
} Loc;

/* ---- arena.c ---- */
/* Every compiler object lives in an arena; the arena is freed once, at the
** end of a compilation. Allocations are zeroed. */
typedef struct Arena Arena;
Arena *arena_new(void);
void arena_free(Arena *arena);
void *arena_alloc(Arena *arena, size_t size);
char *arena_strdup(Arena *arena, const char *s);
char *arena_strndup(Arena *arena, const char *s, size_t n);
char *arena_printf(Arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Grows an arena array of elem_size-byte elements to hold at least need. */
void *arena_grow(Arena *arena, void *items, int *cap, int need, size_t elem_size);

#define ARENA_NEW(arena, T) ((T *)arena_alloc((arena), sizeof(T)))
#define ARENA_ARRAY(arena, T, n) ((T *)arena_alloc((arena), sizeof(T) * (size_t)(n)))
/* Appends value to an arena vector {items, len, cap}. */
#define ARENA_PUSH(arena, vec, value)                                              \
    do {                                                                           \
        (vec).items = arena_grow((arena), (vec).items, &(vec).cap, (vec).len + 1, \
                                 sizeof *(vec).items);                             \
        (vec).items[(vec).len++] = (value);                                        \
    } while (0)

/* Internal compiler bugs, never user errors: prints file:line and aborts. */
#define die(...) nnc_die(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void nnc_die(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
