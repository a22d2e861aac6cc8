/* Shared plumbing for the C benchmarks: the emulator (its URL and admin endpoints), clocks, CPU time, a latency
 * histogram, and one JSON line per measurement on stdout, which benches/table.py turns into the table. */
#ifndef BENCH_H
#define BENCH_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "x8.h"

#define BENCH_CLIENT_ID "demo-client"
#define BENCH_SECRET "demo-secret"
#define BENCH_GET_PATH "/analytics/cc/v5/realtime-metrics/queues?size=5"

/* Prints the message (printf-style) and exits with status 1. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* The emulator's base URL: $BENCH_URL when run.sh started one, else an emulator this process starts from
 * $X8_EMULATOR (or /work/main/target/release/x8-emulator) and keeps until it exits (its stdin is our pipe). */
const char *bench_url(void);

/* Starts an emulator of this process's own with extra command-line arguments (NULL-terminated), e.g. many
 * --client keys, and makes it the one bench_url() and the admin calls below use from then on. */
const char *bench_own_emulator(char *const args[]);

/* One admin request to the emulator (plain HTTP/1.0 on loopback, so it never touches the client under test).
 * The reply body goes into `out` (may be NULL). Dies unless the emulator answers 200. */
void bench_admin(const char *method, const char *path, const char *body, char *out, size_t out_len);
/* A counter from GET /_emulator/stats, e.g. "token_requests" or "connections". */
long long bench_stat(const char *name);
/* POST /_emulator/reset: zeroes the counters (not the config). */
void bench_reset(void);
/* POST /_emulator/config {"token_lifetime": secs}: applies to tokens issued from now on. */
void bench_set_token_lifetime(int secs);

/* A client for the demo key on the emulator; dies on failure. refresh_margin_ms 0 keeps x8's default. */
x8_client *bench_x8_client(void);
/* An authenticated GET of BENCH_GET_PATH through x8; dies unless it answers 200. */
void bench_x8_get(x8_client *c);

uint64_t bench_now_ns(void); /* CLOCK_MONOTONIC */
uint64_t bench_cpu_ns(void); /* user + system CPU time of this process, all threads (getrusage) */
long bench_maxrss_kb(void);  /* peak resident set size (getrusage ru_maxrss) */

/* Knobs shared by every benchmark program, from the environment so that run.sh can shrink them (BENCH_QUICK). */
int bench_reps(void);              /* $BENCH_REPS, default 5: repetitions whose median the table shows */
double bench_seconds(double dflt); /* $BENCH_SCALE (default 1) times `dflt` */

/* A stop flag for fixed-duration loops: workers poll it, the main thread raises it after the measured time. */
extern volatile int bench_stop;
/* Starts `n` threads running fn(i, arg), sleeps `seconds`, raises bench_stop, joins them. Returns the wall time
 * from start to the last join in ns, and the CPU time the whole process used meanwhile in *cpu_ns. */
uint64_t bench_run_threads(int n, double seconds, void *(*fn)(void *), void **args, uint64_t *cpu_ns);

/* A log-linear latency histogram (32 buckets per power of two, so about 3% resolution), exact max. */
#define HIST_BUCKETS (32 + 40 * 32)
typedef struct {
    uint64_t count[HIST_BUCKETS];
    uint64_t n, max, over_100us, over_1ms;
} hist;
void hist_add(hist *h, uint64_t ns);
void hist_merge(hist *into, const hist *from);
uint64_t hist_quantile(const hist *h, double q); /* value in ns at quantile q (0..1), bucket midpoint */

/* Writes one result line: {"bench":..,"impl":..,"threads":..,<metrics>} where `metrics_fmt` formats the
 * `"name":value` pairs. The table takes the median over the lines that share bench, impl and threads. */
void bench_emit(const char *bench, const char *impl, int threads, const char *metrics_fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
