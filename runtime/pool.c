/*
** pool.c — a fixed team of worker threads, started once before training.
**
** rt_pool_run hands every worker the same task and waits for all: the
** callers give worker w its own chunk and buffers, so workers share
** nothing and need no locks of their own. With -DNNC_NO_THREADS the
** workers run one after the other on the caller's thread, which by
** construction (SPEC 3 Determinism) gives the same results.
**
** A training step hands out three tasks (chunks, gradient sums, update),
** each a millisecond or less. Waking a sleeping thread costs tens to
** hundreds of microseconds on a virtual machine, so with gcc and clang a
** thread that runs out of work first polls for RT_POOL_SPINS rounds, and
** only then sleeps on the condition variable. Every write of generation
** and pending stays under the mutex; the polls only read them.
*/
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

#ifndef NNC_NO_THREADS
#include <pthread.h>

#if defined(__GNUC__)
#define RT_POOL_SPINS 20000
#define RT_PEEK(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define RT_POKE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#else
#define RT_POOL_SPINS 0
#define RT_PEEK(x) (x)
#define RT_POKE(x, v) ((x) = (v))
#endif
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define RT_PAUSE() __builtin_ia32_pause()
#else
#define RT_PAUSE() ((void)0)
#endif

typedef struct RtPoolSlot {
    struct RtPool *pool;
    int worker;
} RtPoolSlot;
#endif

struct RtPool {
    int n;
    RtTask task;
    void *arg;
#ifndef NNC_NO_THREADS
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long generation;   /* bumped for every task */
    unsigned long pending;      /* workers still running the task */
    int quit;
    int started;                /* threads created */
    pthread_t *threads;
    RtPoolSlot *slots;
#endif
};

#ifndef NNC_NO_THREADS
/* Polls *x while it equals value (or, with equal 0, while it differs), at
** most RT_POOL_SPINS rounds. */
static void rt_pool_poll(const unsigned long *x, unsigned long value, int equal) {
    long spin;
    for (spin = 0; spin < RT_POOL_SPINS && (RT_PEEK(*x) == value) == equal; spin++)
        RT_PAUSE();
}

static void *rt_pool_thread(void *arg) {
    RtPoolSlot *slot = arg;
    struct RtPool *p = slot->pool;
    unsigned long seen = 0;
    int quit;
    for (;;) {
        rt_pool_poll(&p->generation, seen, 1);
        pthread_mutex_lock(&p->mu);
        while (p->generation == seen && !p->quit)
            pthread_cond_wait(&p->go, &p->mu);
        seen = p->generation;
        quit = p->quit;
        pthread_mutex_unlock(&p->mu);
        if (quit)
            break;
        p->task(p->arg, slot->worker);
        pthread_mutex_lock(&p->mu);
        RT_POKE(p->pending, p->pending - 1);
        if (p->pending == 0)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}
#endif

RtPool *rt_pool_new(int n) {
    RtPool *p = rt_alloc(sizeof *p, "the thread pool");
    if (!p)
        return NULL;
    p->n = n < 1 ? 1 : n;
#ifndef NNC_NO_THREADS
    if (p->n > 1) {
        int w, rc;
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->go, NULL);
        pthread_cond_init(&p->done, NULL);
        p->threads = rt_alloc(sizeof *p->threads * (size_t)p->n, "the thread pool");
        p->slots = rt_alloc(sizeof *p->slots * (size_t)p->n, "the thread pool");
        if (!p->threads || !p->slots) {
            rt_pool_free(p);
            return NULL;
        }
        for (w = 1; w < p->n; w++) {
            p->slots[w].pool = p;
            p->slots[w].worker = w;
            rc = pthread_create(&p->threads[w], NULL, rt_pool_thread, &p->slots[w]);
            if (rc != 0) {
                rt_error("cannot start %d threads: %s", p->n, strerror(rc));
                rt_pool_free(p);
                return NULL;
            }
            p->started = w;
        }
    }
#endif
    return p;
}

void rt_pool_run(RtPool *p, RtTask task, void *arg) {
    int w;
    if (p->n == 1) {
        task(arg, 0);
        return;
    }
#ifdef NNC_NO_THREADS
    for (w = 0; w < p->n; w++)
        task(arg, w);
#else
    (void)w;
    pthread_mutex_lock(&p->mu);
    p->task = task;
    p->arg = arg;
    RT_POKE(p->pending, (unsigned long)p->n - 1);
    RT_POKE(p->generation, p->generation + 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    task(arg, 0);
    rt_pool_poll(&p->pending, 0, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
#endif
}

void rt_pool_free(RtPool *p) {
    if (!p)
        return;
#ifndef NNC_NO_THREADS
    if (p->n > 1) {
        int w;
        pthread_mutex_lock(&p->mu);
        p->quit = 1;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
        for (w = 1; w <= p->started; w++)
            pthread_join(p->threads[w], NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->go);
        pthread_cond_destroy(&p->done);
        free(p->threads);
        free(p->slots);
    }
#endif
    free(p);
}
