/* Row 1: a cached token hit. x8_get_token into a caller buffer of X8_TOKEN_BUFFER_SIZE, on 1, 2, 8 and 32 threads
 * sharing one client, against the floor any cache must pay: an atomic load of a pointer plus a copy of the token
 * string into the caller's buffer.
 *
 * Single thread: wall ns per call. Several threads: calls/s in total and CPU ns per call (getrusage / calls),
 * which shows contention as extra CPU per call even on a machine with fewer cores than threads.
 *
 * Usage: token_hit            all measurements, JSON lines on stdout
 *        token_hit --profile  200k cached hits in hit_loop() only, for valgrind --tool=callgrind
 *                             --toggle-collect=hit_loop */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- the floor: what a hand-kept token costs at best ---- */

typedef struct {
    size_t len;
    char value[];
} floor_token;

static _Atomic(floor_token *) floor_current;

/* noinline so the compiler cannot hoist the load or the copy out of the caller's loop. */
__attribute__((noinline)) static int floor_get_token(char *buf, size_t buf_len, size_t *token_len) {
    floor_token *t = atomic_load_explicit(&floor_current, memory_order_acquire);
    *token_len = t->len;
    if (t->len + 1 > buf_len) return 1;
    memcpy(buf, t->value, t->len + 1);
    return 0;
}

/* ---- the measured loops ---- */

typedef struct {
    x8_client *client; /* NULL: measure the floor */
    uint64_t calls;
} worker;

/* Calls until bench_stop, checking the flag once per 64 calls so that the check costs nothing measurable. */
static void *hit_worker(void *arg) {
    worker *w = arg;
    char buf[X8_TOKEN_BUFFER_SIZE];
    size_t len = 0;
    uint64_t calls = 0;
    while (!bench_stop) {
        for (int i = 0; i < 64; i++) {
            int rc = w->client ? (int)x8_get_token(w->client, buf, sizeof buf, &len, NULL)
                               : floor_get_token(buf, sizeof buf, &len);
            if (rc) die("get_token failed with %d", rc);
        }
        calls += 64;
    }
    w->calls = calls;
    return NULL;
}

static void measure(const char *impl, x8_client *client, int threads, double seconds) {
    worker *ws = calloc(threads, sizeof *ws);
    void **args = calloc(threads, sizeof *args);
    for (int i = 0; i < threads; i++) {
        ws[i].client = client;
        args[i] = &ws[i];
    }
    uint64_t cpu = 0, wall = bench_run_threads(threads, seconds, hit_worker, args, &cpu), calls = 0;
    for (int i = 0; i < threads; i++) calls += ws[i].calls;
    bench_emit("hit", impl, threads, "\"ns_per_call\":%.2f,\"cpu_ns_per_call\":%.2f,\"calls_per_s\":%.0f",
               (double)wall * threads / (double)calls, (double)cpu / (double)calls, (double)calls * 1e9 / (double)wall);
    free(ws);
    free(args);
}

__attribute__((noinline)) void hit_loop(x8_client *c, int n) {
    char buf[X8_TOKEN_BUFFER_SIZE];
    size_t len;
    for (int i = 0; i < n; i++)
        if (x8_get_token(c, buf, sizeof buf, &len, NULL)) die("x8_get_token failed");
}

int main(int argc, char **argv) {
    bench_url();
    bench_set_token_lifetime(1799);
    x8_client *c = bench_x8_client();

    /* The first call fetches the token; every measured call is a hit. The floor holds the same token. */
    char buf[X8_TOKEN_BUFFER_SIZE];
    size_t len = 0;
    x8_error *e = NULL;
    if (x8_get_token(c, buf, sizeof buf, &len, &e)) die("first x8_get_token failed: %s", x8_error_message(e));
    floor_token *t = malloc(sizeof *t + len + 1);
    t->len = len;
    memcpy(t->value, buf, len + 1);
    atomic_store(&floor_current, t);

    if (argc > 1 && !strcmp(argv[1], "--profile")) {
        hit_loop(c, 200000);
        x8_client_free(c);
        return 0;
    }

    static const int thread_counts[] = {1, 2, 8, 32};
    double seconds = bench_seconds(0.4);
    for (int rep = 0; rep < bench_reps(); rep++) {
        for (size_t i = 0; i < sizeof thread_counts / sizeof *thread_counts; i++) {
            measure("x8 (C)", c, thread_counts[i], seconds);
            measure("floor: atomic load + copy (C)", NULL, thread_counts[i], seconds);
        }
    }
    x8_client_free(c);
    free(t);
    return 0;
}
