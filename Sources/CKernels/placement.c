// Core-to-core cache-line round trip between two CPUs: how far apart the cores the runner's threads
// land on are. On the 2-vCPU KVM guests we measure on, the host sometimes places the two vCPUs on
// cores of different dies: the round trip goes from ~60 ns to ~350 ns, and every kernel whose threads
// read or write lines the other thread touched slows down 2-4× (mobilenet_v2 at 2 threads 3.9 → 8 ms,
// ONNX Runtime 3.8 → 6.6 ms) while one thread alone runs at its usual speed.
#define _GNU_SOURCE
#include "ckernels.h"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

typedef struct {
    _Alignas(64) _Atomic long flag;
    char pad[64 - sizeof(long)];
    int cpu;
    long round_trips;
    int pinned;
} ck_pingpong;

static int pin_self(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

static void *pong(void *arg) {
    ck_pingpong *p = arg;
    p->pinned = pin_self(p->cpu);
    atomic_store_explicit(&p->flag, p->pinned ? 0 : -2, memory_order_release);
    if (!p->pinned) return NULL;
    for (long i = 0; i < p->round_trips; i++) {
        while (atomic_load_explicit(&p->flag, memory_order_acquire) != 2 * i + 1) ck_spin_pause();
        atomic_store_explicit(&p->flag, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

double ck_core_round_trip_ns(int cpu_a, int cpu_b, long round_trips) {
    if (round_trips < 1 || cpu_a < 0 || cpu_b < 0 || cpu_a >= CPU_SETSIZE || cpu_b >= CPU_SETSIZE) return -1;
    cpu_set_t saved;
    if (pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) != 0) return -1;
    if (!CPU_ISSET(cpu_a, &saved) || !CPU_ISSET(cpu_b, &saved)) return -1;
    static ck_pingpong shared;   // one probe at a time (callers serialise); static keeps the line aligned
    ck_pingpong *p = &shared;
    atomic_store(&p->flag, -1);
    p->cpu = cpu_b;
    p->round_trips = round_trips;
    pthread_t t;
    if (pthread_create(&t, NULL, pong, p) != 0) return -1;
    double ns = -1;
    if (pin_self(cpu_a)) {
        long f;
        while ((f = atomic_load_explicit(&p->flag, memory_order_acquire)) == -1) ck_spin_pause();
        if (f == 0) {
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            for (long i = 0; i < round_trips; i++) {
                atomic_store_explicit(&p->flag, 2 * i + 1, memory_order_release);
                while (atomic_load_explicit(&p->flag, memory_order_acquire) != 2 * i + 2) ck_spin_pause();
            }
            clock_gettime(CLOCK_MONOTONIC, &b);
            ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)round_trips;
        }
    } else {
        // The partner waits for the first ping only when it pinned itself; release it either way.
        long f;
        while ((f = atomic_load_explicit(&p->flag, memory_order_acquire)) == -1) ck_spin_pause();
        for (long i = 0; f == 0 && i < round_trips; i++) {
            atomic_store_explicit(&p->flag, 2 * i + 1, memory_order_release);
            while (atomic_load_explicit(&p->flag, memory_order_acquire) != 2 * i + 2) ck_spin_pause();
        }
    }
    pthread_join(t, NULL);
    pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    return ns;
}

int ck_allowed_cpus(int *cpus, int max) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set)) cpus[n++] = c;
    return n;
}
#else
double ck_core_round_trip_ns(int cpu_a, int cpu_b, long round_trips) {
    (void)cpu_a; (void)cpu_b; (void)round_trips;
    return -1;
}
int ck_allowed_cpus(int *cpus, int max) {
    (void)cpus; (void)max;
    return 0;
}
#endif
