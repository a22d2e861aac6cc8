/* The token-store hook (x8_token_store): an in-memory store guarded by a mutex, as an application would write
 * over its own Redis or database client. Clients sharing it cause one fetch; a store whose callbacks fail still
 * gives tokens; records hold no secret. And hostile stores (issue 13): one that hands back oversized records,
 * lies about lengths, returns extreme times, garbage or unknown codes, or blocks past the call's deadline never
 * plants a token and never breaks a request. */
#define _GNU_SOURCE
#include "fixture.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RECORD_MAX 8192

typedef struct mem_store {
    pthread_mutex_t mu;
    char key[256];
    char record[RECORD_MAX];
    size_t record_len;
    int has_record;
    int locked;
    int fail; /* every callback fails with -1 */
    int loads, stores, locks, unlocks, removes;
    long long last_ttl_ms;
} mem_store;

static int store_load(void *user_data, const char *key, char *buf, size_t buf_len, size_t *record_len) {
    mem_store *s = user_data;
    pthread_mutex_lock(&s->mu);
    s->loads++;
    int rc;
    if (s->fail) {
        rc = -1;
    } else if (!s->has_record || strcmp(s->key, key) != 0) {
        rc = X8_STORE_NOT_FOUND;
    } else {
        *record_len = s->record_len;
        if (s->record_len > buf_len) {
            rc = X8_STORE_BUFFER_TOO_SMALL;
        } else {
            memcpy(buf, s->record, s->record_len);
            rc = X8_STORE_OK;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int store_store(void *user_data, const char *key, const char *record, int64_t ttl_ms) {
    mem_store *s = user_data;
    pthread_mutex_lock(&s->mu);
    s->stores++;
    int rc = -1;
    size_t len = strlen(record);
    if (!s->fail && strlen(key) < sizeof s->key && len < RECORD_MAX) {
        strcpy(s->key, key);
        memcpy(s->record, record, len + 1);
        s->record_len = len;
        s->has_record = 1;
        s->last_ttl_ms = ttl_ms;
        rc = X8_STORE_OK;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* A real store would also expire the lock after ttl_ms; in one test process nobody dies holding it. */
static int store_lock(void *user_data, const char *key, int64_t ttl_ms) {
    (void)key;
    (void)ttl_ms;
    mem_store *s = user_data;
    pthread_mutex_lock(&s->mu);
    int rc = s->fail ? -1 : s->locked ? X8_STORE_BUSY : X8_STORE_OK;
    if (rc == X8_STORE_OK) {
        s->locked = 1;
        s->locks++;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int store_unlock(void *user_data, const char *key) {
    (void)key;
    mem_store *s = user_data;
    pthread_mutex_lock(&s->mu);
    s->locked = 0;
    s->unlocks++;
    pthread_mutex_unlock(&s->mu);
    return X8_STORE_OK;
}

static int store_remove(void *user_data, const char *key, const char *record) {
    mem_store *s = user_data;
    pthread_mutex_lock(&s->mu);
    s->removes++;
    if (s->has_record && strcmp(s->key, key) == 0 && strcmp(s->record, record) == 0) s->has_record = 0;
    pthread_mutex_unlock(&s->mu);
    return X8_STORE_OK;
}

static void mem_store_init(mem_store *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
}

static x8_client *client_with_store(mem_store *s) {
    x8_token_store hooks = {
        .size = sizeof hooks,
        .user_data = s,
        .load = store_load,
        .store = store_store,
        .lock = store_lock,
        .unlock = store_unlock,
        .remove = store_remove,
    };
    x8_options *o = x8_options_new();
    x8_error *err = NULL;
    assert_int_equal(x8_options_set_base_url(o, emu.base_url, &err), X8_STATUS_OK);
    assert_int_equal(x8_options_set_token_store(o, &hooks, &err), X8_STATUS_OK);
    x8_client *c = NULL;
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, &err), X8_STATUS_OK);
    x8_options_free(o); /* the client keeps its own copy of the hooks */
    return c;
}

static void get_token(x8_client *c, char *token) {
    x8_error *err = NULL;
    x8_status st = x8_get_token(c, token, X8_TOKEN_BUFFER_SIZE, NULL, &err);
    if (st != X8_STATUS_OK) fprintf(stderr, "x8_get_token: %s\n", x8_error_message(err));
    assert_int_equal(st, X8_STATUS_OK);
    x8_error_free(err);
}

static x8_stats stats_of(x8_client *c) {
    x8_stats s = {.size = sizeof s};
    assert_int_equal(x8_client_stats(c, &s, NULL), X8_STATUS_OK);
    return s;
}

static void two_clients_sharing_one_store_cause_one_fetch(void **state) {
    (void)state;
    mem_store s;
    mem_store_init(&s);
    x8_client *a = client_with_store(&s);
    x8_client *b = client_with_store(&s);
    char ta[X8_TOKEN_BUFFER_SIZE], tb[X8_TOKEN_BUFFER_SIZE];
    get_token(a, ta);
    get_token(b, tb);
    assert_string_equal(ta, tb);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 1);
    assert_int_equal(s.stores, 1);
    assert_int_equal(s.locks, 1);
    assert_int_equal(s.unlocks, 1);
    /* Stored for the token's time to expiry (the emulator's tokens live 1799 s). */
    assert_true(s.last_ttl_ms > 1700 * 1000 && s.last_ttl_ms <= 1799 * 1000);
    assert_int_equal(stats_of(a).store_hits, 0);
    assert_int_equal(stats_of(b).store_hits, 1);
    x8_client_free(a);
    x8_client_free(b);
    pthread_mutex_destroy(&s.mu);
}

static void stored_records_hold_the_token_but_no_secret(void **state) {
    (void)state;
    mem_store s;
    mem_store_init(&s);
    x8_client *c = client_with_store(&s);
    char token[X8_TOKEN_BUFFER_SIZE];
    get_token(c, token);
    assert_true(s.has_record);
    assert_int_equal(strncmp(s.key, "x8:token:", 9), 0);
    assert_int_equal(strlen(s.key), 9 + 64); /* a SHA-256: the key names neither URL nor client id */
    assert_non_null(strstr(s.record, token));
    assert_null(strstr(s.record, TEST_SECRET));
    assert_null(strstr(s.record, TEST_ID));
    assert_null(strstr(s.key, TEST_ID));
    x8_client_free(c);
    pthread_mutex_destroy(&s.mu);
}

typedef struct log_capture {
    int store_warnings;
} log_capture;

static void capture_log(void *user_data, int32_t level, const char *message) {
    log_capture *cap = user_data;
    if (level == X8_LOG_WARN && strstr(message, "token store") != NULL) __atomic_add_fetch(&cap->store_warnings, 1, __ATOMIC_SEQ_CST);
}

static void a_store_whose_callbacks_fail_still_gives_tokens(void **state) {
    (void)state;
    mem_store s;
    mem_store_init(&s);
    s.fail = 1;
    log_capture cap = {0};
    x8_token_store hooks = {
        .size = sizeof hooks, .user_data = &s, .load = store_load, .store = store_store,
        .lock = store_lock, .unlock = store_unlock,
    };
    x8_options *o = x8_options_new();
    assert_int_equal(x8_options_set_base_url(o, emu.base_url, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_token_store(o, &hooks, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_log_callback(o, capture_log, &cap, X8_LOG_WARN, NULL), X8_STATUS_OK);
    x8_client *a = NULL, *b = NULL;
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &a, NULL), X8_STATUS_OK);
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &b, NULL), X8_STATUS_OK);
    x8_options_free(o);
    char ta[X8_TOKEN_BUFFER_SIZE], tb[X8_TOKEN_BUFFER_SIZE];
    get_token(a, ta);
    get_token(b, tb);
    /* Each fetched its own; requests work. */
    assert_int_equal(emulator_stat(&emu, "token_requests"), 2);
    x8_response *r = NULL;
    assert_int_equal(x8_request(a, "GET", "/echo/x", NULL, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    x8_response_free(r);
    assert_true(stats_of(a).store_errors >= 1);
    assert_true(cap.store_warnings >= 2);
    x8_client_free(a);
    x8_client_free(b);
    pthread_mutex_destroy(&s.mu);
}

#define THREADS 8

typedef struct worker {
    mem_store *store;
    pthread_barrier_t *start;
    char token[X8_TOKEN_BUFFER_SIZE];
    int failed;
} worker;

static void *start_host(void *arg) {
    worker *w = arg;
    x8_client *c = client_with_store(w->store);
    pthread_barrier_wait(w->start);
    w->failed = x8_get_token(c, w->token, sizeof w->token, NULL, NULL) != X8_STATUS_OK;
    x8_client_free(c);
    return NULL;
}

static void eight_clients_starting_together_fetch_once_through_the_lock(void **state) {
    (void)state;
    mem_store s;
    mem_store_init(&s);
    pthread_t threads[THREADS];
    worker workers[THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].store = &s;
        workers[i].start = &start;
        assert_int_equal(pthread_create(&threads[i], NULL, start_host, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_false(workers[i].failed);
        assert_string_equal(workers[i].token, workers[0].token);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 1);
    assert_int_equal(s.locks, s.unlocks);
    pthread_mutex_destroy(&s.mu);
}

static void a_revoked_token_is_removed_from_the_store(void **state) {
    (void)state;
    mem_store s;
    mem_store_init(&s);
    x8_client *c = client_with_store(&s);
    char old[X8_TOKEN_BUFFER_SIZE], fresh[X8_TOKEN_BUFFER_SIZE];
    get_token(c, old);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/revoke", NULL, NULL, 0), 200);
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", "/echo/x", NULL, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200); /* replayed with a new token */
    x8_response_free(r);
    assert_int_equal(s.removes, 1);
    get_token(c, fresh);
    assert_string_not_equal(old, fresh);
    assert_non_null(strstr(s.record, fresh)); /* the store holds the replacement */
    x8_client_free(c);
    pthread_mutex_destroy(&s.mu);
}

static void the_hooks_are_checked_when_set(void **state) {
    (void)state;
    x8_options *o = x8_options_new();
    x8_error *err = NULL;
    x8_token_store no_load = {.size = sizeof no_load, .store = store_store};
    assert_int_equal(x8_options_set_token_store(o, &no_load, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    x8_token_store no_size = {.load = store_load, .store = store_store};
    assert_int_equal(x8_options_set_token_store(o, &no_size, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    x8_token_store lock_only = {.size = sizeof lock_only, .load = store_load, .store = store_store, .lock = store_lock};
    assert_int_equal(x8_options_set_token_store(o, &lock_only, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_options_set_token_store(NULL, &lock_only, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_options_set_token_store(o, NULL, &err), X8_STATUS_OK); /* none */
    x8_options_free(o);
}

static void a_redis_store_that_is_down_still_gives_tokens(void **state) {
    (void)state;
    x8_options *o = x8_options_new();
    x8_error *err = NULL;
    x8_client *c = NULL;
    assert_int_equal(x8_options_set_base_url(o, emu.base_url, &err), X8_STATUS_OK);
    assert_int_equal(x8_options_set_redis_store(o, "http://not-redis", &err), X8_STATUS_OK);
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, &err), X8_STATUS_CONFIG);
    expect_error(err, X8_STATUS_CONFIG);
    /* Port 1 on loopback: nothing listens, the connection is refused at once. */
    assert_int_equal(x8_options_set_redis_store(o, "redis://127.0.0.1:1", &err), X8_STATUS_OK);
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, &err), X8_STATUS_OK);
    x8_options_free(o);
    char token[X8_TOKEN_BUFFER_SIZE];
    get_token(c, token);
    assert_true(stats_of(c).store_errors >= 1);
    x8_client_free(c);
}

/* ---- hostile stores ------------------------------------------------------------------------------------ */

typedef enum {
    ASKS_FOR_SIZE_MAX,   /* BUFFER_TOO_SMALL with SIZE_MAX */
    HANDS_BACK_100_KIB,  /* asks for 100 KiB, then fills it: larger than any record */
    LIES_ABOUT_LENGTH,   /* OK with a length past the buffer */
    KEEPS_ASKING,        /* BUFFER_TOO_SMALL with one more byte, every time */
    RECEIVED_AT_INT64_MIN,
    RECEIVED_AT_INT64_MAX,
    LIVES_TEN_YEARS,
    RECEIVED_IN_AN_HOUR,
    NOT_UTF8,
    NUL_BYTES,
    HEADER_INJECTION,    /* a token with CR LF in it */
    UNKNOWN_CODES,       /* every callback answers codes x8 never defined */
    HOSTILE_MODES
} hostile_mode;

static const char *const mode_names[HOSTILE_MODES] = {
    "asks for SIZE_MAX", "hands back 100 KiB", "lies about the length", "keeps asking for more",
    "received at INT64_MIN", "received at INT64_MAX", "lives ten years", "received in an hour", "not UTF-8",
    "NUL bytes", "CR LF in the token", "unknown codes"};

typedef struct hostile_store {
    hostile_mode mode;
    int stores;
} hostile_store;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A record in x8's own format claiming `token`, with the given lifetime and receipt time. */
static size_t planted_record(char *buf, size_t len, const char *token, unsigned long long lifetime,
                             long long received) {
    int n = snprintf(buf, len,
                     "{\"format\":1,\"access_token\":\"%s\",\"token_type\":\"BearerToken\",\"products\":[\"vcc\"],"
                     "\"lifetime_secs\":%llu,\"issued_at_ms\":null,\"received_wall_ms\":%lld}",
                     token, lifetime, received);
    return n < 0 ? 0 : (size_t)n;
}

static int hostile_load(void *user_data, const char *key, char *buf, size_t buf_len, size_t *record_len) {
    (void)key;
    hostile_store *h = user_data;
    char record[1024];
    size_t n = 0;
    switch (h->mode) {
    case ASKS_FOR_SIZE_MAX:
        *record_len = SIZE_MAX;
        return X8_STORE_BUFFER_TOO_SMALL;
    case HANDS_BACK_100_KIB:
        *record_len = 100 * 1024;
        if (buf_len < *record_len) return X8_STORE_BUFFER_TOO_SMALL;
        memset(buf, 'x', *record_len);
        return X8_STORE_OK;
    case LIES_ABOUT_LENGTH:
        *record_len = buf_len + 4096;
        return X8_STORE_OK;
    case KEEPS_ASKING:
        *record_len = buf_len + 1;
        return X8_STORE_BUFFER_TOO_SMALL;
    case RECEIVED_AT_INT64_MIN: n = planted_record(record, sizeof record, "planted", 60, INT64_MIN); break;
    case RECEIVED_AT_INT64_MAX: n = planted_record(record, sizeof record, "planted", 1799, INT64_MAX); break;
    case LIVES_TEN_YEARS:
        n = planted_record(record, sizeof record, "planted", 10ULL * 365 * 24 * 3600, now_ms());
        break;
    case RECEIVED_IN_AN_HOUR: n = planted_record(record, sizeof record, "planted", 1799, now_ms() + 3600000); break;
    case NOT_UTF8:
        n = planted_record(record, sizeof record, "planted\xff\xfe", 1799, now_ms());
        break;
    case NUL_BYTES:
        n = planted_record(record, sizeof record, "planted", 1799, now_ms());
        record[20] = 0;
        record[40] = 0;
        break;
    case HEADER_INJECTION:
        n = planted_record(record, sizeof record, "planted\\r\\nX-Injected: 1", 1799, now_ms());
        break;
    case UNKNOWN_CODES: *record_len = 0; return 77;
    case HOSTILE_MODES: return -1;
    }
    *record_len = n;
    if (n > buf_len) return X8_STORE_BUFFER_TOO_SMALL;
    memcpy(buf, record, n);
    return X8_STORE_OK;
}

static int hostile_store_fn(void *user_data, const char *key, const char *record, int64_t ttl_ms) {
    (void)key, (void)record, (void)ttl_ms;
    hostile_store *h = user_data;
    h->stores++;
    return h->mode == UNKNOWN_CODES ? 12345 : X8_STORE_OK;
}

static int hostile_lock(void *user_data, const char *key, int64_t ttl_ms) {
    (void)key, (void)ttl_ms;
    hostile_store *h = user_data;
    return h->mode == UNKNOWN_CODES ? 42 : X8_STORE_OK;
}

static int hostile_unlock(void *user_data, const char *key) {
    (void)key;
    hostile_store *h = user_data;
    return h->mode == UNKNOWN_CODES ? INT32_MIN : X8_STORE_OK;
}

static int hostile_remove(void *user_data, const char *key, const char *record) {
    (void)key, (void)record;
    hostile_store *h = user_data;
    return h->mode == UNKNOWN_CODES ? INT32_MAX : X8_STORE_OK;
}

static x8_client *client_with_hooks(const x8_token_store *hooks, uint32_t timeout_ms) {
    x8_options *o = x8_options_new();
    assert_int_equal(x8_options_set_base_url(o, emu.base_url, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_token_store(o, hooks, NULL), X8_STATUS_OK);
    if (timeout_ms) assert_int_equal(x8_options_set_timeout_ms(o, timeout_ms, NULL), X8_STATUS_OK);
    x8_client *c = NULL;
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, NULL), X8_STATUS_OK);
    x8_options_free(o);
    return c;
}

/* Every hostile answer: the client gets a real token (never "planted"), no longer-lived than the endpoint's,
 * and a request with it succeeds; a record it could not use is replaced (except by a store whose every
 * callback fails). Under valgrind and ASan this also proves nothing is read past the buffer x8 handed out. */
static void a_hostile_store_never_plants_a_token_or_breaks_a_request(void **state) {
    (void)state;
    for (int m = 0; m < HOSTILE_MODES; m++) {
        hostile_store h = {.mode = (hostile_mode)m};
        x8_token_store hooks = {.size = sizeof hooks, .user_data = &h, .load = hostile_load,
                                .store = hostile_store_fn, .lock = hostile_lock, .unlock = hostile_unlock,
                                .remove = hostile_remove};
        x8_client *c = client_with_hooks(&hooks, 0);
        char token[X8_TOKEN_BUFFER_SIZE];
        x8_error *err = NULL;
        x8_status st = x8_get_token(c, token, sizeof token, NULL, &err);
        if (st != X8_STATUS_OK) fprintf(stderr, "%s: %s\n", mode_names[m], x8_error_message(err));
        assert_int_equal(st, X8_STATUS_OK);
        x8_error_free(err);
        if (strstr(token, "planted") != NULL) fail_msg("%s: the planted token was taken", mode_names[m]);
        x8_stats s = stats_of(c);
        if (s.token_seconds_left > 1800) fail_msg("%s: %lld s left", mode_names[m], (long long)s.token_seconds_left);
        /* A record that cannot be one is replaced; a callback that breaks its contract (a length past the buffer,
         * endless asking, unknown codes) is a store failure: x8 fetches without it. */
        int replaced = m != LIES_ABOUT_LENGTH && m != KEEPS_ASKING && m != UNKNOWN_CODES;
        if (h.stores != replaced)
            fail_msg("%s: %d stores, expected %d (replaced)", mode_names[m], h.stores, replaced);
        x8_response *r = NULL;
        assert_int_equal(x8_request(c, "GET", "/echo/x", NULL, &r, NULL), X8_STATUS_OK);
        assert_int_equal(x8_response_status(r), 200);
        x8_response_free(r);
        x8_client_free(c);
    }
}

/* A load callback that, once armed, blocks until released. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int armed, entered, released;
} stall = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static int stalling_load(void *user_data, const char *key, char *buf, size_t buf_len, size_t *record_len) {
    (void)user_data, (void)key, (void)buf, (void)buf_len, (void)record_len;
    pthread_mutex_lock(&stall.mu);
    if (stall.armed) {
        stall.entered = 1;
        pthread_cond_broadcast(&stall.cv);
        while (!stall.released) pthread_cond_wait(&stall.cv, &stall.mu);
    }
    pthread_mutex_unlock(&stall.mu);
    return X8_STORE_NOT_FOUND;
}

static int noop_store(void *user_data, const char *key, const char *record, int64_t ttl_ms) {
    (void)user_data, (void)key, (void)record, (void)ttl_ms;
    return X8_STORE_OK;
}

static double ms_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* x8 cannot interrupt a C callback, but a callback that blocks past a call's deadline costs that call only its
 * deadline (TIMEOUT), token and request alike, and once the store answers again the client works. */
static void a_store_callback_blocking_past_the_deadline_costs_a_call_only_its_deadline(void **state) {
    (void)state;
    x8_token_store hooks = {.size = sizeof hooks, .load = stalling_load, .store = noop_store};
    x8_client *c = client_with_hooks(&hooks, 10000);
    pthread_mutex_lock(&stall.mu);
    stall.armed = 1, stall.entered = 0, stall.released = 0;
    pthread_mutex_unlock(&stall.mu);

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    x8_token *t = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_client_token(c, 300, &t, &err), X8_STATUS_TIMEOUT);
    assert_null(t);
    expect_error(err, X8_STATUS_TIMEOUT);
    double took = ms_since(&start);
    /* Generous: the bound is the call's 300 ms, the callback blocks until released. */
    if (took > 300 + 1500) fail_msg("the token call took %.0f ms", took);
    pthread_mutex_lock(&stall.mu);
    assert_int_equal(stall.entered, 1);
    pthread_mutex_unlock(&stall.mu);

    x8_request_opts ro = {.size = sizeof ro, .timeout_ms = 300};
    x8_response *r = NULL;
    err = NULL;
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(x8_request(c, "GET", "/echo/x", &ro, &r, &err), X8_STATUS_TIMEOUT);
    expect_error(err, X8_STATUS_TIMEOUT);
    took = ms_since(&start);
    if (took > 300 + 1500) fail_msg("the request took %.0f ms", took);

    pthread_mutex_lock(&stall.mu);
    stall.released = 1;
    stall.armed = 0;
    pthread_cond_broadcast(&stall.cv);
    pthread_mutex_unlock(&stall.mu);
    ro.timeout_ms = 5000;
    assert_int_equal(x8_request(c, "GET", "/echo/x", &ro, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    x8_response_free(r);
    x8_client_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(two_clients_sharing_one_store_cause_one_fetch, reset_emulator),
        cmocka_unit_test_setup(stored_records_hold_the_token_but_no_secret, reset_emulator),
        cmocka_unit_test_setup(a_store_whose_callbacks_fail_still_gives_tokens, reset_emulator),
        cmocka_unit_test_setup(eight_clients_starting_together_fetch_once_through_the_lock, reset_emulator),
        cmocka_unit_test_setup(a_revoked_token_is_removed_from_the_store, reset_emulator),
        cmocka_unit_test_setup(the_hooks_are_checked_when_set, reset_emulator),
        cmocka_unit_test_setup(a_redis_store_that_is_down_still_gives_tokens, reset_emulator),
        cmocka_unit_test_setup(a_hostile_store_never_plants_a_token_or_breaks_a_request, reset_emulator),
        cmocka_unit_test_setup(a_store_callback_blocking_past_the_deadline_costs_a_call_only_its_deadline,
                               reset_emulator),
    };
    return cmocka_run_group_tests_name("x8 C API token store", tests, start_emulator, stop_emulator);
}
