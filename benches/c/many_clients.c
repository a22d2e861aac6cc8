/* Row 7 (issue 15): many API keys in one process, each key its own x8_client, against an emulator of this
 * program's own that accepts every key (started with one --client ID:SECRET per key).
 *
 *   many_clients scale [N]      N clients (default 10,000 times $BENCH_SCALE) created, then one token fetched
 *                               each: the time to create a client (without its fetch), and, with every token
 *                               cached, the x8 threads in the process, RSS and file descriptors per client; then
 *                               all are freed and what is left is counted.
 *   many_clients rollover [N [DELAY_MS]]
 *                               N keys (default 1,000) created together with 30 s tokens and all in use by 4
 *                               caller threads for 45 s, the token endpoint answering in DELAY_MS (default 100 ms,
 *                               the emulator's token_delay_ms) from the first renewal on: the most token requests
 *                               in flight at once at the emulator, the longest any x8_get_token call took, how
 *                               many calls failed, how many fetches a caller had to wait for, and when the first
 *                               and the N-th renewal reached the emulator. A DELAY_MS under 100 is the same
 *                               rollover time-scaled to 8x8's 30-minute tokens: 30 s is 1/60 of their lifetime,
 *                               so 2 ms stands for a 120 ms endpoint (the row "rollover_many_scaled").
 *
 * Thread, RSS, descriptor and in-flight counts do not depend on the machine's load; the times do. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "../../tests/c/x8_threads.h"

#define SECRET_FMT "secret-%05d"
#define ID_FMT "key-%05d"

/* ---- what the process holds, from /proc ---- */

/* Threads whose name x8 gave them (the renewal scheduler's are "x8-renew-timer" and "x8-renew"). */
static int x8_threads(void) {
    int n = x8_named_threads();
    if (n < 0) die("no /proc/self/task");
    return n;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) die("no %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static int process_threads(void) { return count_entries("/proc/self/task"); }
static int open_fds(void) { return count_entries("/proc/self/fd") - 1; /* less the one opendir holds */ }

/* Resident set now (not the peak): /proc/self/statm's second field, in pages. */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2) die("cannot read /proc/self/statm");
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- the emulator and the clients ---- */

/* An emulator accepting keys ID_FMT:SECRET_FMT for 0..n-1, with `extra` arguments after them. */
static void emulator_with_keys(int n, char *const extra[]) {
    int n_extra = 0;
    while (extra[n_extra]) n_extra++;
    char **args = calloc(2 * (size_t)n + n_extra + 1, sizeof *args);
    if (!args) die("out of memory");
    for (int i = 0; i < n; i++) {
        args[2 * i] = "--client";
        if (asprintf(&args[2 * i + 1], ID_FMT ":" SECRET_FMT, i, i) < 0) die("out of memory");
    }
    for (int i = 0; i < n_extra; i++) args[2 * n + i] = extra[i];
    bench_own_emulator(args);
    for (int i = 0; i < n; i++) free(args[2 * i + 1]);
    free(args);
}

static x8_options *options(void) {
    x8_error *e = NULL;
    x8_options *o = x8_options_new();
    if (!o || x8_options_set_base_url(o, bench_url(), &e) || x8_options_set_proxy(o, "", &e))
        die("options: %s", e ? x8_error_message(e) : "x8_options_new failed");
    return o;
}

/* Creates client i for its own key; returns the wall time x8_client_new took. */
static uint64_t create(x8_options *o, int i, x8_client **out) {
    char id[32], secret[32];
    snprintf(id, sizeof id, ID_FMT, i);
    snprintf(secret, sizeof secret, SECRET_FMT, i);
    x8_error *e = NULL;
    uint64_t t0 = bench_now_ns();
    x8_status s = x8_client_new(id, secret, o, out, &e);
    uint64_t dt = bench_now_ns() - t0;
    if (s) die("x8_client_new: %s", e ? x8_error_message(e) : x8_status_str(s));
    return dt;
}

static void fetch(x8_client *c) {
    char buf[X8_TOKEN_BUFFER_SIZE];
    size_t len;
    x8_error *e = NULL;
    x8_status s = x8_get_token(c, buf, sizeof buf, &len, &e);
    if (s) die("x8_get_token: %s", e ? x8_error_message(e) : x8_status_str(s));
}

static void pause_ms(long ms) {
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
}

/* ---- scale ---- */

static void scale(int n) {
    char *extra[] = {NULL};
    emulator_with_keys(n, extra);
    x8_options *o = options();
    x8_client **cs = calloc(n, sizeof *cs);
    hist create_h = {0};
    long rss0 = rss_kib();
    int fd0 = open_fds(), threads0 = process_threads();
    uint64_t cpu0 = bench_cpu_ns(), wall0 = bench_now_ns();
    for (int i = 0; i < n; i++) hist_add(&create_h, create(o, i, &cs[i]));
    uint64_t create_wall = bench_now_ns() - wall0, create_cpu = bench_cpu_ns() - cpu0;
    long rss_created = rss_kib();
    int most = 0;
    for (int i = 0; i < n; i++) {
        fetch(cs[i]);
        if (i % 100 == 0 && x8_threads() > most) most = x8_threads();
    }
    /* Past the scheduler's worker linger (250 ms): what an idle process of N clients holds. */
    pause_ms(1000);
    int threads = x8_threads(), total_threads = process_threads(), fds = open_fds();
    if (threads > most) most = threads;
    long rss = rss_kib();
    long long fetched = bench_stat("token_requests");
    for (int i = 0; i < n; i++) x8_client_free(cs[i]);
    int threads_after = x8_threads(), fds_after = open_fds();
    x8_options_free(o);
    free(cs);
    bench_emit("scale", "x8 (C)", 1,
               "\"clients\":%d,\"create_us_mean\":%.2f,\"create_us_p50\":%.2f,\"create_us_p99\":%.2f,"
               "\"create_us_max\":%.1f,\"create_cpu_us\":%.2f,\"x8_threads\":%d,\"x8_threads_most\":%d,"
               "\"process_threads_added\":%d,\"rss_kib_per_client\":%.1f,\"rss_kib_per_client_created\":%.1f,"
               "\"rss_kib\":%ld,\"fds_per_client\":%.3f,\"token_requests\":%lld,\"x8_threads_after_free\":%d,"
               "\"fds_left_after_free\":%d",
               n, (double)create_wall / n / 1e3, hist_quantile(&create_h, 0.5) / 1e3,
               hist_quantile(&create_h, 0.99) / 1e3, create_h.max / 1e3, (double)create_cpu / n / 1e3, threads,
               most, total_threads - threads0, (double)(rss - rss0) / n, (double)(rss_created - rss0) / n, rss,
               (double)(fds - fd0) / n, fetched, threads_after, fds_after - fd0);
}

/* ---- rollover ---- */

#define CALLERS 4
#define BURST 100
#define LIFETIME_S 30

typedef struct {
    x8_client **cs;
    int from, to;
    hist h;
    unsigned long long failed;
} caller;

static void *use_keys(void *arg) {
    caller *w = arg;
    char buf[X8_TOKEN_BUFFER_SIZE];
    size_t len;
    int i = w->from;
    while (!bench_stop) {
        for (int k = 0; k < BURST; k++) {
            uint64_t t0 = bench_now_ns();
            x8_status s = x8_get_token(w->cs[i], buf, sizeof buf, &len, NULL);
            hist_add(&w->h, bench_now_ns() - t0);
            if (s) w->failed++;
            if (++i == w->to) i = w->from;
        }
        pause_ms(1); /* paced, so a slow call is the library's, not a preemption (see rollover.c) */
    }
    return NULL;
}

/* Samples every 50 ms: the most x8 threads seen, and when the first renewal and the n-th reached the emulator. */
typedef struct {
    int most, n;
    uint64_t t0;
    double first_s, all_s;
} sampler;

static void *sample_threads(void *arg) {
    sampler *s = arg;
    s->first_s = s->all_s = -1;
    while (!bench_stop) {
        int t = x8_threads();
        if (t > s->most) s->most = t;
        long long got = bench_stat("token_requests");
        double at = (double)(bench_now_ns() - s->t0) / 1e9;
        if (got > 0 && s->first_s < 0) s->first_s = at;
        if (got >= s->n && s->all_s < 0) s->all_s = at;
        pause_ms(50);
    }
    return NULL;
}

static void rollover(int n, int delay_ms) {
    char lifetime[16];
    snprintf(lifetime, sizeof lifetime, "%d", LIFETIME_S);
    char *extra[] = {"--token-lifetime", lifetime, NULL};
    emulator_with_keys(n, extra);
    x8_options *o = options();
    x8_client **cs = calloc(n, sizeof *cs);
    for (int i = 0; i < n; i++) create(o, i, &cs[i]);
    /* Created together: the first tokens fetched at once (the endpoint still quick), so they expire together. */
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < n; i++) fetch(cs[i]);
    double first_fetch_s = (double)(bench_now_ns() - t0) / 1e9;
    char body[64];
    snprintf(body, sizeof body, "{\"token_delay_ms\":%d}", delay_ms);
    bench_admin("POST", "config", body, NULL, 0);
    bench_reset();

    double seconds = LIFETIME_S * 1.5; /* every key's first renewal, and then some */
    caller ws[CALLERS + 1];
    void *args[CALLERS + 1];
    memset(ws, 0, sizeof ws);
    for (int t = 0; t < CALLERS; t++) {
        ws[t].cs = cs;
        ws[t].from = t * n / CALLERS;
        ws[t].to = (t + 1) * n / CALLERS;
        args[t] = &ws[t];
    }
    sampler smp = {.n = n, .t0 = t0};
    pthread_t sampler_thread;
    bench_stop = 0;
    if (pthread_create(&sampler_thread, NULL, sample_threads, &smp)) die("pthread_create failed");
    uint64_t cpu;
    bench_run_threads(CALLERS, seconds, use_keys, args, &cpu);
    pthread_join(sampler_thread, NULL);

    hist all = {0};
    unsigned long long failed = 0;
    for (int t = 0; t < CALLERS; t++) hist_merge(&all, &ws[t].h), failed += ws[t].failed;
    unsigned long long fetches = 0, background = 0, renewed = 0;
    for (int i = 0; i < n; i++) {
        x8_stats st = {.size = sizeof st};
        if (x8_client_stats(cs[i], &st, NULL)) die("x8_client_stats failed");
        fetches += st.token_fetches;
        background += st.background_refreshes;
        renewed += st.token_fetches > 1;
    }
    long long requests = bench_stat("token_requests"), in_flight = bench_stat("max_token_requests_in_flight");
    for (int i = 0; i < n; i++) x8_client_free(cs[i]);
    x8_options_free(o);
    free(cs);
    bench_emit(delay_ms >= 100 ? "rollover_many" : "rollover_many_scaled", "x8 (C)", CALLERS,
               "\"keys\":%d,\"lifetime_s\":%d,\"token_delay_ms\":%d,\"seconds\":%.0f,\"first_fetch_s\":%.2f,"
               "\"max_token_requests_in_flight\":%lld,\"token_requests\":%lld,\"keys_renewed\":%llu,"
               "\"calls\":%llu,\"failed_calls\":%llu,\"max_ns\":%llu,\"p99_ns\":%llu,\"over_100us\":%llu,"
               "\"over_1ms\":%llu,\"background_refreshes\":%llu,\"fetches_waited_for\":%llu,\"x8_threads_most\":%d,"
               "\"first_renewal_s\":%.1f,\"nth_renewal_s\":%.1f",
               n, LIFETIME_S, delay_ms, seconds, first_fetch_s, in_flight, requests, renewed,
               (unsigned long long)all.n, failed, (unsigned long long)all.max,
               (unsigned long long)hist_quantile(&all, 0.99), (unsigned long long)all.over_100us,
               (unsigned long long)all.over_1ms, background, fetches - background - (unsigned long long)n,
               smp.most, smp.first_s, smp.all_s);
}

int main(int argc, char **argv) {
    const char *usage = "usage: many_clients scale [N] | rollover [N [DELAY_MS]]";
    if (argc < 2) die("%s", usage);
    if (!strcmp(argv[1], "scale"))
        scale(argc > 2 ? atoi(argv[2]) : (int)bench_seconds(10000));
    else if (!strcmp(argv[1], "rollover"))
        rollover(argc > 2 ? atoi(argv[2]) : 1000, argc > 3 ? atoi(argv[3]) : 100);
    else
        die("%s", usage);
    return 0;
}
