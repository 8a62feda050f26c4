/*
** pool.c — a fixed team of worker threads, started once before training.
**
** rt_pool_run hands every worker the same task and waits for all: the
** callers give worker w its own chunk and buffers, so workers share
** nothing and need no locks of their own. With -DNNC_NO_THREADS the
** workers run one after the other on the caller's thread, which by
** construction (SPEC 3 Determinism) gives the same results.
*/
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

#ifndef NNC_NO_THREADS
#include <pthread.h>

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
    int pending;                /* workers still running the task */
    int quit;
    int started;                /* threads created */
    pthread_t *threads;
    RtPoolSlot *slots;
#endif
};

#ifndef NNC_NO_THREADS
#if defined(__GNUC__)
/* A task takes a millisecond or less, and waking a sleeping thread costs
** tens of microseconds (a system call; in a virtual machine, an interrupt
** between cores), several times a step: so a worker waiting for the next
** task, and the caller waiting for the workers, first watch the counter
** that will change for RT_POOL_SPIN_SECONDS, and only then sleep. What
** they then read, they read under the mutex, as without the spin. */
#define RT_POOL_SPIN_SECONDS 200e-6
#define RT_LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define RT_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define RT_DECREMENT(x) __atomic_sub_fetch(&(x), 1, __ATOMIC_ACQ_REL)

static void rt_pool_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Until a task other than `seen` (or quit) is posted, or the time passes. */
static void rt_pool_spin_task(struct RtPool *p, unsigned long seen) {
    double end = rt_now() + RT_POOL_SPIN_SECONDS;
    int i;
    for (i = 1; RT_LOAD(p->generation) == seen && !RT_LOAD(p->quit); i++) {
        if (i % 256 == 0 && rt_now() > end)
            return;
        rt_pool_pause();
    }
}

/* Until every worker has finished, or the time passes. */
static void rt_pool_spin_done(struct RtPool *p) {
    double end = rt_now() + RT_POOL_SPIN_SECONDS;
    int i;
    for (i = 1; RT_LOAD(p->pending) > 0; i++) {
        if (i % 256 == 0 && rt_now() > end)
            return;
        rt_pool_pause();
    }
}
#else
#define RT_STORE(x, v) ((x) = (v))
#define RT_DECREMENT(x) (--(x))
#define rt_pool_spin_task(p, seen) ((void)(p), (void)(seen))
#define rt_pool_spin_done(p) ((void)(p))
#endif

static void *rt_pool_thread(void *arg) {
    RtPoolSlot *slot = arg;
    struct RtPool *p = slot->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->generation == seen && !p->quit) {
            pthread_mutex_unlock(&p->mu);
            rt_pool_spin_task(p, seen);
            pthread_mutex_lock(&p->mu);
        }
        while (p->generation == seen && !p->quit)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        p->task(p->arg, slot->worker);
        pthread_mutex_lock(&p->mu);
        if (RT_DECREMENT(p->pending) == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
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
    RT_STORE(p->pending, p->n - 1);
    RT_STORE(p->generation, p->generation + 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    task(arg, 0);
    rt_pool_spin_done(p);
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
        RT_STORE(p->quit, 1);
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
