/*
** arena.c — bump allocation in chunks; one free per compilation.
*/
#include "nnc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Chunk {
    struct Chunk *next;
    size_t used, size;
    max_align_t data[];
} Chunk;

struct Arena {
    Chunk *head;
};

enum { CHUNK_BYTES = 64 * 1024 };

Arena *arena_new(void) {
    Arena *arena = calloc(1, sizeof *arena);
    if (!arena) die("out of memory");
    return arena;
}

void arena_free(Arena *arena) {
    if (!arena) return;
    for (Chunk *c = arena->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(arena);
}

void *arena_alloc(Arena *arena, size_t size) {
    size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    if (size == 0) size = align;
    Chunk *c = arena->head;
    if (!c || c->size - c->used < size) {
        size_t bytes = size > CHUNK_BYTES ? size : CHUNK_BYTES;
        c = malloc(sizeof *c + bytes);
        if (!c) die("out of memory");
        c->used = 0;
        c->size = bytes;
        c->next = arena->head;
        arena->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(Arena *arena, const char *s, size_t n) {
    char *p = arena_alloc(arena, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(Arena *arena, const char *s) {
    return arena_strndup(arena, s, strlen(s));
}

char *arena_printf(Arena *arena, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *arena_grow(Arena *arena, void *items, int *cap, int need, size_t elem_size) {
    if (need <= *cap) return items;
    int new_cap = *cap ? *cap * 2 : 8;
    while (new_cap < need) new_cap *= 2;
    void *p = arena_alloc(arena, elem_size * (size_t)new_cap);
    if (items) memcpy(p, items, elem_size * (size_t)*cap);
    *cap = new_cap;
    return p;
}

void nnc_die(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "nnc: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
