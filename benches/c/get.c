/* Row 3: authenticated GETs on keep-alive connections, 1 and 8 concurrent callers: x8_request against what a C
 * programmer writes by hand with libcurl (one reused easy handle per thread, the bearer header built once, the
 * token fetched once). Reports requests/s, median latency, CPU time per request (getrusage of this process:
 * user + system over all threads / requests) and the connections the emulator saw.
 *
 * Usage: get                 all measurements, JSON lines on stdout
 *        get --profile x8    2000 x8 GETs in get_loop(), for valgrind --tool=callgrind --toggle-collect=get_loop
 *        get --profile curl  2000 libcurl GETs in curl_get_loop(), likewise */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- libcurl, the way a careful C programmer keeps a token by hand ---- */

typedef struct {
    char *data;
    size_t len, cap;
} buffer;

static size_t collect(char *p, size_t size, size_t n, void *userdata) {
    buffer *b = userdata;
    size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        b->cap = (b->len + add + 1) * 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data) die("out of memory");
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = 0;
    return add;
}

/* One POST to the token endpoint; the access_token string is cut out of the JSON reply. */
static char *curl_fetch_token(void) {
    char token_url[512];
    snprintf(token_url, sizeof token_url, "%s/oauth/v2/token", bench_url());
    CURL *h = curl_easy_init();
    buffer b = {0};
    curl_easy_setopt(h, CURLOPT_URL, token_url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_USERPWD, BENCH_CLIENT_ID ":" BENCH_SECRET);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "grant_type=client_credentials");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || !b.data) die("libcurl token fetch failed: %s", curl_easy_strerror(rc));
    char *p = strstr(b.data, "\"access_token\"");
    if (!p || !(p = strchr(p + 14, '"'))) die("no access_token in %s", b.data);
    char *end = strchr(++p, '"');
    if (!end) die("unterminated access_token");
    char *token = strndup(p, end - p);
    free(b.data);
    return token;
}

static char curl_auth_header[4200];

/* ---- the measured callers ---- */

typedef struct {
    x8_client *client; /* NULL: libcurl */
    uint64_t requests;
    hist h;
} worker;

static void *x8_worker(void *arg) {
    worker *w = arg;
    while (!bench_stop) {
        uint64_t t0 = bench_now_ns();
        bench_x8_get(w->client);
        hist_add(&w->h, bench_now_ns() - t0);
        w->requests++;
    }
    return NULL;
}

/* A libcurl handle set up once for GETs of BENCH_GET_PATH with the hand-kept bearer header. */
typedef struct {
    CURL *h;
    struct curl_slist *headers;
    buffer body;
} curl_getter;

static void curl_getter_init(curl_getter *g) {
    char api_url[512]; /* libcurl copies it */
    snprintf(api_url, sizeof api_url, "%s%s", bench_url(), BENCH_GET_PATH);
    memset(g, 0, sizeof *g);
    g->h = curl_easy_init();
    g->headers = curl_slist_append(NULL, curl_auth_header);
    curl_easy_setopt(g->h, CURLOPT_URL, api_url);
    curl_easy_setopt(g->h, CURLOPT_PROXY, "");
    curl_easy_setopt(g->h, CURLOPT_HTTPHEADER, g->headers);
    curl_easy_setopt(g->h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(g->h, CURLOPT_WRITEDATA, &g->body);
    curl_easy_setopt(g->h, CURLOPT_NOSIGNAL, 1L);
}

static void curl_get(curl_getter *g) {
    g->body.len = 0;
    CURLcode rc = curl_easy_perform(g->h);
    long status = 0;
    curl_easy_getinfo(g->h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) die("libcurl GET failed: %s, status %ld", curl_easy_strerror(rc), status);
}

static void curl_getter_free(curl_getter *g) {
    curl_easy_cleanup(g->h);
    curl_slist_free_all(g->headers);
    free(g->body.data);
}

static void *curl_worker(void *arg) {
    worker *w = arg;
    curl_getter g;
    curl_getter_init(&g);
    while (!bench_stop) {
        uint64_t t0 = bench_now_ns();
        curl_get(&g);
        hist_add(&w->h, bench_now_ns() - t0);
        w->requests++;
    }
    curl_getter_free(&g);
    return NULL;
}

static void measure(const char *impl, x8_client *client, int threads, double seconds) {
    worker *ws = calloc(threads, sizeof *ws);
    void **args = calloc(threads, sizeof *args);
    for (int i = 0; i < threads; i++) {
        ws[i].client = client;
        args[i] = &ws[i];
    }
    bench_reset();
    uint64_t cpu, wall = bench_run_threads(threads, seconds, client ? x8_worker : curl_worker, args, &cpu);
    long long connections = bench_stat("connections"), token_requests = bench_stat("token_requests");
    hist all = {0};
    for (int i = 0; i < threads; i++) hist_merge(&all, &ws[i].h);
    bench_emit("get", impl, threads,
               "\"requests\":%llu,\"requests_per_s\":%.0f,\"median_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
               "\"cpu_us_per_request\":%.2f,\"connections\":%lld,\"token_requests\":%lld",
               (unsigned long long)all.n, (double)all.n * 1e9 / (double)wall, hist_quantile(&all, 0.5) / 1e3,
               hist_quantile(&all, 0.99) / 1e3, all.max / 1e3,
               (double)cpu / 1e3 / (double)all.n, connections, token_requests);
    free(ws);
    free(args);
}

__attribute__((noinline)) void get_loop(x8_client *c, int n) {
    for (int i = 0; i < n; i++) bench_x8_get(c);
}

__attribute__((noinline)) void curl_get_loop(curl_getter *g, int n) {
    for (int i = 0; i < n; i++) curl_get(g);
}

static void set_curl_token(void) {
    char *token = curl_fetch_token();
    snprintf(curl_auth_header, sizeof curl_auth_header, "Authorization: Bearer %s", token);
    free(token);
}

int main(int argc, char **argv) {
    bench_url();
    bench_set_token_lifetime(1799);
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) die("curl_global_init failed");
    set_curl_token();
    x8_client *c = bench_x8_client();
    bench_x8_get(c); /* token fetched and a connection open before anything is measured */

    if (argc > 2 && !strcmp(argv[1], "--profile")) {
        if (!strcmp(argv[2], "x8")) {
            get_loop(c, 2000);
        } else {
            curl_getter g;
            curl_getter_init(&g);
            curl_get(&g); /* connection open before the loop */
            curl_get_loop(&g, 2000);
            curl_getter_free(&g);
        }
        x8_client_free(c);
        return 0;
    }

    static const int callers[] = {1, 8};
    double seconds = bench_seconds(1.5);
    for (int rep = 0; rep < bench_reps(); rep++) {
        for (int i = 0; i < 2; i++) {
            measure("x8 (C)", c, callers[i], seconds);
            measure("libcurl, token kept by hand (C)", NULL, callers[i], seconds);
        }
    }
    x8_client_free(c);
    curl_global_cleanup();
    return 0;
}
