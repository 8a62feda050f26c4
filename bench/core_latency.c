/*
** core_latency.c — the one-way latency of a cache line between cores 0
** and 1: two threads, pinned to the two cores, hand a counter back and
** forth. Prints the nanoseconds of one hand-over.
**
** Data-parallel training (--threads 2, or two MPI ranks on one machine)
** moves every step's gradients and parameters between the cores, so its
** speedup follows this figure. On a virtual machine it changes while the
** host moves the virtual CPUs: about 30 ns on cores that share a cache,
** 160-180 ns across dies (seen on the 2-core development machines).
**   cc -O2 bench/core_latency.c -o core_latency -lpthread && ./core_latency
*/
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

enum { ROUNDS = 200000 };

static _Alignas(64) atomic_long turn;

static void pin(int cpu) {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
#else
    (void)cpu;
#endif
}

/* Waits for the counter to reach odd values and answers with the next. */
static void *answer(void *arg) {
    (void)arg;
    pin(1);
    for (long i = 0; i < ROUNDS; i++) {
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 1)
            ;
        atomic_store_explicit(&turn, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(void) {
    pthread_t other;
    struct timespec t0, t1;
    pin(0);
    if (pthread_create(&other, NULL, answer, NULL) != 0) {
        fprintf(stderr, "core_latency: cannot start a thread\n");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < ROUNDS; i++) {
        atomic_store_explicit(&turn, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 2)
            ;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(other, NULL);
    printf("%.0f\n", ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / ROUNDS / 2);
    return 0;
}
