/* Row 2: token rollover under load. The emulator issues tokens that live 3 s; 8 threads call x8_get_token for
 * the run's duration (15 s by default, scaled by $BENCH_SCALE). Every call is timed with CLOCK_MONOTONIC (about
 * as costly as the call itself, so p50 is mostly the clock; what matters is p99, max and the slow calls), and
 * the emulator counts the token fetches. The goal: one fetch per lifetime and no caller ever blocked on one,
 * because x8 renews in the background during the last fifth of the lifetime.
 *
 * Each thread makes bursts of 100 calls with a 1 ms pause after each: 8 threads spinning on a 2-core machine
 * would be preempted in the middle of calls all the time, and every preemption would look like a call that took
 * milliseconds. Paced, a slow call means the library made its caller wait (a blocked call waits for a fetch,
 * which on loopback takes a few hundred microseconds, hence the "over 100 us" count). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

#define THREADS 8
#define LIFETIME_S 3
#define BURST 100

typedef struct {
    x8_client *client;
    hist h;
} worker;

static void *rollover_worker(void *arg) {
    worker *w = arg;
    char buf[X8_TOKEN_BUFFER_SIZE];
    size_t len;
    const struct timespec pause = {0, 1000000};
    while (!bench_stop) {
        for (int i = 0; i < BURST; i++) {
            uint64_t t0 = bench_now_ns();
            x8_status s = x8_get_token(w->client, buf, sizeof buf, &len, NULL);
            hist_add(&w->h, bench_now_ns() - t0);
            if (s) die("x8_get_token failed with %d", (int)s);
        }
        nanosleep(&pause, NULL);
    }
    return NULL;
}

int main(void) {
    double seconds = bench_seconds(15);
    bench_url();
    bench_set_token_lifetime(LIFETIME_S);
    bench_reset();
    x8_client *c = bench_x8_client();
    char buf[X8_TOKEN_BUFFER_SIZE];
    size_t len;
    if (x8_get_token(c, buf, sizeof buf, &len, NULL)) die("first x8_get_token failed"); /* a cached token first */

    worker *ws = calloc(THREADS, sizeof *ws);
    void *args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        ws[i].client = c;
        args[i] = &ws[i];
    }
    uint64_t cpu;
    bench_run_threads(THREADS, seconds, rollover_worker, args, &cpu);
    hist all = {0};
    for (int i = 0; i < THREADS; i++) hist_merge(&all, &ws[i].h);
    long long fetches = bench_stat("token_requests");
    /* x8's own counters tell renewals done in the background from fetches some caller had to wait for. */
    x8_stats st = {.size = sizeof st};
    if (x8_client_stats(c, &st, NULL)) die("x8_client_stats failed");
    bench_emit("rollover", "x8 (C)", THREADS,
               "\"seconds\":%.1f,\"lifetime_s\":%d,\"calls\":%llu,\"p50_ns\":%llu,\"p99_ns\":%llu,\"max_ns\":%llu,"
               "\"over_100us\":%llu,\"over_1ms\":%llu,\"fetches\":%lld,\"fetches_per_lifetime\":%.2f,"
               "\"background_refreshes\":%llu,\"fetches_waited_for\":%llu",
               seconds, LIFETIME_S, (unsigned long long)all.n, (unsigned long long)hist_quantile(&all, 0.5),
               (unsigned long long)hist_quantile(&all, 0.99), (unsigned long long)all.max,
               (unsigned long long)all.over_100us, (unsigned long long)all.over_1ms, fetches, (double)fetches * LIFETIME_S / seconds,
               (unsigned long long)st.background_refreshes,
               (unsigned long long)(st.token_fetches - st.background_refreshes));
    x8_client_free(c);
    bench_set_token_lifetime(1799);
    free(ws);
    return 0;
}
