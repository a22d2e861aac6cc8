/* Shared plumbing for the C benchmarks; see bench.h. */
#define _GNU_SOURCE
#include "bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

volatile int bench_stop;

void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- the emulator ---- */

static char url[256];

/* Starts the emulator with a pipe as its stdin that we never close: when this process exits the pipe closes and
 * the emulator exits too. Its first stdout line is the URL, printed once it accepts connections. */
static void start_emulator(char *const extra[]) {
    const char *exe = getenv("X8_EMULATOR");
    if (!exe || !*exe) exe = "/work/main/target/release/x8-emulator";
    int in[2], out[2];
    if (pipe(in) || pipe(out)) die("pipe failed");
    pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        size_t n = 0;
        while (extra && extra[n]) n++;
        char **argv = calloc(n + 5, sizeof *argv);
        if (!argv) _exit(127);
        argv[0] = (char *)exe, argv[1] = "--port", argv[2] = "0", argv[3] = "--exit-on-stdin-eof";
        for (size_t i = 0; i < n; i++) argv[4 + i] = extra[i];
        execv(exe, argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    if (!f || !fgets(url, sizeof url, f)) die("the emulator %s printed no URL", exe);
    url[strcspn(url, "\r\n")] = 0;
    /* in[1] stays open for the life of this process, on purpose. */
}

const char *bench_url(void) {
    if (!url[0]) {
        const char *env = getenv("BENCH_URL");
        if (env && *env)
            snprintf(url, sizeof url, "%s", env);
        else
            start_emulator(NULL);
    }
    return url;
}

const char *bench_own_emulator(char *const args[]) {
    start_emulator(args);
    return url;
}

/* The emulator listens on 127.0.0.1:<port>; the port is all we need from the URL. */
static int emulator_port(void) {
    const char *colon = strrchr(bench_url(), ':');
    return colon ? atoi(colon + 1) : 0;
}

void bench_admin(const char *method, const char *path, const char *body, char *out, size_t out_len) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(emulator_port())};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) die("cannot reach the emulator at %s", url);
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "%s /_emulator/%s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, n) != n) die("cannot write to the emulator");
    char reply[8192];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof reply - 1 && (r = read(fd, reply + got, sizeof reply - 1 - got)) > 0) got += r;
    reply[got] = 0;
    close(fd);
    if (strncmp(reply, "HTTP/1.1 200", 12) && strncmp(reply, "HTTP/1.0 200", 12))
        die("emulator %s %s answered: %.80s", method, path, reply);
    if (out) {
        const char *b = strstr(reply, "\r\n\r\n");
        snprintf(out, out_len, "%s", b ? b + 4 : "");
    }
}

long long bench_stat(const char *name) {
    char body[4096], key[64];
    bench_admin("GET", "stats", NULL, body, sizeof body);
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(body, key);
    if (!p) die("no %s in the emulator's stats: %s", name, body);
    return atoll(p + strlen(key));
}

void bench_reset(void) { bench_admin("POST", "reset", NULL, NULL, 0); }

void bench_set_token_lifetime(int secs) {
    char body[64];
    snprintf(body, sizeof body, "{\"token_lifetime\":%d}", secs);
    bench_admin("POST", "config", body, NULL, 0);
}

/* ---- x8 ---- */

static void check(x8_status s, x8_error *e, const char *what) {
    if (s != X8_STATUS_OK) die("%s failed: %s", what, e ? x8_error_message(e) : x8_status_str(s));
}

x8_client *bench_x8_client(void) {
    x8_error *e = NULL;
    x8_options *o = x8_options_new();
    if (!o) die("x8_options_new failed");
    check(x8_options_set_base_url(o, bench_url(), &e), e, "x8_options_set_base_url");
    check(x8_options_set_proxy(o, "", &e), e, "x8_options_set_proxy"); /* loopback: never via a proxy */
    const char *cache = getenv("BENCH_TOKEN_CACHE"); /* row 6: processes sharing one token */
    if (cache) check(x8_options_set_token_cache(o, cache, &e), e, "x8_options_set_token_cache");
    x8_client *c = NULL;
    check(x8_client_new(BENCH_CLIENT_ID, BENCH_SECRET, o, &c, &e), e, "x8_client_new");
    x8_options_free(o);
    return c;
}

void bench_x8_get(x8_client *c) {
    x8_response *r = NULL;
    x8_error *e = NULL;
    check(x8_request(c, "GET", BENCH_GET_PATH, NULL, &r, &e), e, "x8_request");
    if (x8_response_status(r) != 200) die("GET %s answered %u", BENCH_GET_PATH, x8_response_status(r));
    x8_response_free(r);
}

/* ---- clocks and counters ---- */

uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_cpu_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)) * 1000000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

long bench_maxrss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double env_number(const char *name, double dflt) {
    const char *v = getenv(name);
    return v && *v ? atof(v) : dflt;
}

int bench_reps(void) { return (int)env_number("BENCH_REPS", 5); }
double bench_seconds(double dflt) { return dflt * env_number("BENCH_SCALE", 1); }

uint64_t bench_run_threads(int n, double seconds, void *(*fn)(void *), void **args, uint64_t *cpu_ns) {
    pthread_t *t = calloc(n, sizeof *t);
    bench_stop = 0;
    __sync_synchronize();
    uint64_t cpu0 = bench_cpu_ns(), t0 = bench_now_ns();
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, fn, args[i])) die("pthread_create failed");
    struct timespec d = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    nanosleep(&d, NULL);
    bench_stop = 1;
    __sync_synchronize();
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    uint64_t wall = bench_now_ns() - t0;
    *cpu_ns = bench_cpu_ns() - cpu0;
    free(t);
    return wall;
}

/* ---- latency histogram ---- */

static int bucket_of(uint64_t v) {
    if (v < 32) return (int)v;
    int e = 63 - __builtin_clzll(v); /* >= 5 */
    int idx = 32 + (e - 5) * 32 + (int)((v >> (e - 5)) & 31);
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static double bucket_mid(int idx) {
    if (idx < 32) return idx;
    int e = (idx - 32) / 32 + 5, sub = (idx - 32) % 32;
    double lo = (double)(32 + sub) * (double)(1ull << (e - 5));
    return lo + (double)(1ull << (e - 5)) / 2;
}

void hist_add(hist *h, uint64_t ns) {
    h->count[bucket_of(ns)]++;
    h->n++;
    if (ns > h->max) h->max = ns;
    if (ns > 100000) h->over_100us++;
    if (ns > 1000000) h->over_1ms++;
}

void hist_merge(hist *into, const hist *from) {
    for (int i = 0; i < HIST_BUCKETS; i++) into->count[i] += from->count[i];
    into->n += from->n;
    into->over_100us += from->over_100us;
    into->over_1ms += from->over_1ms;
    if (from->max > into->max) into->max = from->max;
}

uint64_t hist_quantile(const hist *h, double q) {
    uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen > want) {
            double mid = bucket_mid(i);
            return mid > (double)h->max ? h->max : (uint64_t)mid;
        }
    }
    return h->max;
}

/* ---- results ---- */

void bench_emit(const char *bench, const char *impl, int threads, const char *metrics_fmt, ...) {
    char metrics[1024];
    va_list ap;
    va_start(ap, metrics_fmt);
    vsnprintf(metrics, sizeof metrics, metrics_fmt, ap);
    va_end(ap);
    printf("{\"bench\":\"%s\",\"impl\":\"%s\",\"threads\":%d,%s}\n", bench, impl, threads, metrics);
    fflush(stdout);
}
