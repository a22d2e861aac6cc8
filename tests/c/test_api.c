/* The C API against the emulator: tokens, requests, replay, errors, options, logging, counters. */
#define _GNU_SOURCE
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void version_matches_the_header(void **state) {
    (void)state;
    assert_string_equal(x8_version(), X8_VERSION_STRING);
    assert_int_equal(x8_version_num(), X8_VERSION_NUM);
}

static void status_names_are_static_and_total(void **state) {
    (void)state;
    assert_string_equal(x8_status_str(X8_STATUS_OK), "X8_STATUS_OK");
    assert_string_equal(x8_status_str(X8_STATUS_AUTH), "X8_STATUS_AUTH");
    assert_string_equal(x8_status_str(12345), "X8_STATUS_UNKNOWN");
    assert_string_equal(x8_status_str(-1), "X8_STATUS_UNKNOWN");
}

static void token_is_fetched_once_and_reused(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char first[X8_TOKEN_BUFFER_SIZE], again[X8_TOKEN_BUFFER_SIZE];
    size_t len = 0;
    x8_error *err = NULL;
    assert_int_equal(x8_get_token(c, first, sizeof first, &len, &err), X8_STATUS_OK);
    assert_null(err);
    assert_int_equal(len, strlen(first));
    assert_int_equal(len, 28); /* the emulator's tokens look like 8x8's */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(x8_get_token(c, again, sizeof again, NULL, NULL), X8_STATUS_OK);
        assert_string_equal(again, first);
    }
    char *copy = NULL;
    assert_int_equal(x8_client_token_string(c, &copy, &err), X8_STATUS_OK);
    assert_string_equal(copy, first);
    x8_free(copy);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 1);

    x8_stats stats = {.size = sizeof stats};
    assert_int_equal(x8_client_stats(c, &stats, &err), X8_STATUS_OK);
    assert_int_equal(stats.token_fetches, 1);
    assert_int_equal(stats.cache_hits, 1001);
    assert_true(stats.token_seconds_left > 1700);
    char *json = NULL;
    assert_int_equal(x8_client_stats_json(c, &json, &err), X8_STATUS_OK);
    assert_non_null(strstr(json, "\"token_fetches\":1"));
    x8_free(json);
    x8_client_free(c);
}

static void token_snapshot_carries_expiry_and_products(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_token *t = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_client_token(c, 0, &t, &err), X8_STATUS_OK);
    assert_int_equal(strlen(x8_token_value(t)), 28);
    assert_string_equal(x8_token_type(t), "BearerToken");
    assert_int_equal(x8_token_lifetime_secs(t), 1799);
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    int64_t expires = x8_token_expires_at_ms(t);
    assert_true(expires > now_ms + 1700 * 1000 && expires < now_ms + 1900 * 1000);
    assert_int_equal(x8_token_product_count(t), 4);
    assert_string_equal(x8_token_product(t, 0), "analytics realtime-api");
    assert_null(x8_token_product(t, 4));
    assert_true(x8_token_has_product(t, "QM - API"));
    assert_false(x8_token_has_product(t, "Chat"));
    bool has = false;
    assert_int_equal(x8_client_has_product(c, "vcc", &has, &err), X8_STATUS_OK);
    assert_true(has);
    assert_int_equal(x8_client_has_product(c, "CE-PCS-Product", &has, &err), X8_STATUS_OK);
    assert_false(has);
    /* The snapshot outlives the client. */
    x8_client_free(c);
    assert_int_equal(strlen(x8_token_value(t)), 28);
    x8_token_free(t);
}

static void buffer_too_small_reports_the_length_and_writes_nothing(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char small[8];
    memset(small, '#', sizeof small);
    size_t len = 0;
    x8_error *err = NULL;
    assert_int_equal(x8_get_token(c, small, sizeof small, &len, &err), X8_STATUS_BUFFER_TOO_SMALL);
    expect_error(err, X8_STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(len, 28);
    for (size_t i = 0; i < sizeof small; i++) assert_int_equal(small[i], '#');
    /* A length query with no buffer at all. */
    len = 0;
    assert_int_equal(x8_get_token(c, NULL, 0, &len, NULL), X8_STATUS_BUFFER_TOO_SMALL);
    assert_int_equal(len, 28);
    char exact[29];
    assert_int_equal(x8_get_token(c, exact, sizeof exact, &len, NULL), X8_STATUS_OK);
    x8_client_free(c);
}

static void request_returns_status_headers_and_body(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", "/analytics/cc/v5/realtime-metrics/queues?page=0&size=2", NULL, &r, &err),
                     X8_STATUS_OK);
    assert_null(err);
    assert_int_equal(x8_response_status(r), 200);
    assert_string_equal(x8_response_header(r, "x-page-size"), "2");
    assert_string_equal(x8_response_header(r, "X-TOTAL-ELEMENTS"), "7");
    assert_null(x8_response_header(r, "x-missing"));
    size_t len = 0;
    const uint8_t *body = x8_response_body(r, &len);
    assert_true(len > 2);
    assert_int_equal(body[0], '[');
    assert_int_equal(body[len], '\0'); /* usable as a C string */
    assert_non_null(strstr((const char *)body, "\"metrics\""));
    const char *name = NULL, *value = NULL;
    size_t n = x8_response_header_count(r);
    assert_true(n >= 4);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(x8_response_header_at(r, i, &name, &value));
        if (strcasecmp(name, "x-total-pages") == 0) found = strcmp(value, "4") == 0;
    }
    assert_true(found);
    assert_false(x8_response_header_at(r, n, &name, &value));
    x8_response_free(r);

    /* Error statuses are responses, not errors. */
    assert_int_equal(x8_request(c, "GET", "/analytics/cc/v5/realtime-metrics/queues?page=99", NULL, &r, &err),
                     X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 400);
    x8_response_free(r);
    x8_client_free(c);
}

static void request_sends_bearer_headers_and_body(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char token[X8_TOKEN_BUFFER_SIZE], expected[X8_TOKEN_BUFFER_SIZE + 32];
    assert_int_equal(x8_get_token(c, token, sizeof token, NULL, NULL), X8_STATUS_OK);
    snprintf(expected, sizeof expected, "\"authorization\":\"Bearer %s\"", token);
    const char *headers[] = {"X-Tenant-Info: acme", "Content-Type:application/json"};
    const char *payload = "{\"q\":1}";
    x8_response *r = NULL;
    x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = 2,
                            .body = (const uint8_t *)payload, .body_len = strlen(payload), .timeout_ms = 5000};
    assert_int_equal(x8_request(c, "PUT", "/echo/thing", &opts, &r, NULL), X8_STATUS_OK);
    const char *body = (const char *)x8_response_body(r, NULL);
    assert_non_null(strstr(body, expected));
    assert_non_null(strstr(body, "\"x-tenant-info\":\"acme\""));
    assert_non_null(strstr(body, "\"method\":\"PUT\""));
    assert_non_null(strstr(body, "{\\\"q\\\":1}"));
    x8_response_free(r);
    x8_client_free(c);
}

static void a_revoked_token_is_replaced_and_the_request_retried(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char before[X8_TOKEN_BUFFER_SIZE], after[X8_TOKEN_BUFFER_SIZE];
    assert_int_equal(x8_get_token(c, before, sizeof before, NULL, NULL), X8_STATUS_OK);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/revoke", NULL, NULL, 0), 200);
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", "/analytics/cc/v5/realtime-metrics/queues", NULL, &r, NULL),
                     X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    x8_response_free(r);
    assert_int_equal(x8_get_token(c, after, sizeof after, NULL, NULL), X8_STATUS_OK);
    assert_string_not_equal(before, after);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 2);
    x8_stats stats = {.size = sizeof stats};
    assert_int_equal(x8_client_stats(c, &stats, NULL), X8_STATUS_OK);
    assert_int_equal(stats.replays_after_401, 1);
    x8_client_free(c);
}

static void bad_credentials_give_the_endpoint_text_without_the_secret(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, "not-the-" TEST_SECRET);
    char token[X8_TOKEN_BUFFER_SIZE];
    x8_error *err = NULL;
    assert_int_equal(x8_get_token(c, token, sizeof token, NULL, &err), X8_STATUS_AUTH);
    assert_int_equal(x8_error_http_status(err), 401);
    const char *msg = x8_error_message(err);
    assert_non_null(strstr(msg, "invalid_client"));
    assert_non_null(strstr(msg, "ClientId is Invalid"));
    assert_null(strstr(msg, "not-the-"));
    expect_error(err, X8_STATUS_AUTH);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 1); /* never retried */
    x8_client_free(c);
}

static void a_key_without_the_product_is_told_so(void **state) {
    (void)state;
    x8_client *c = make_client(BARE_ID, BARE_SECRET);
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", "/analytics/cc/v5/realtime-metrics/queues", NULL, &r, &err),
                     X8_STATUS_NOT_ENTITLED);
    assert_null(r);
    assert_int_equal(x8_error_http_status(err), 401);
    assert_non_null(strstr(x8_error_message(err), "replicate"));
    expect_error(err, X8_STATUS_NOT_ENTITLED);
    x8_client_free(c);
}

static void invalidate_forces_a_new_token(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char a[X8_TOKEN_BUFFER_SIZE], b[X8_TOKEN_BUFFER_SIZE];
    assert_int_equal(x8_get_token(c, a, sizeof a, NULL, NULL), X8_STATUS_OK);
    assert_int_equal(x8_client_invalidate(c, NULL), X8_STATUS_OK);
    assert_int_equal(x8_get_token(c, b, sizeof b, NULL, NULL), X8_STATUS_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 2);
    x8_client_free(c);
}

static void client_from_the_environment(void **state) {
    (void)state;
    x8_client *c = NULL;
    x8_error *err = NULL;
    unsetenv("X8_CLIENT_ID");
    unsetenv("X8_CLIENT_SECRET");
    assert_int_equal(x8_client_new_from_env(NULL, &c, &err), X8_STATUS_CONFIG);
    assert_null(c);
    assert_non_null(strstr(x8_error_message(err), "X8_CLIENT_ID"));
    expect_error(err, X8_STATUS_CONFIG);
    setenv("X8_CLIENT_ID", TEST_ID, 1);
    setenv("X8_CLIENT_SECRET", TEST_SECRET, 1);
    setenv("X8_BASE_URL", emu.base_url, 1);
    assert_int_equal(x8_client_new_from_env(NULL, &c, &err), X8_STATUS_OK);
    bool has = false;
    assert_int_equal(x8_client_has_product(c, "storage", &has, &err), X8_STATUS_OK);
    assert_true(has);
    x8_client_free(c);
    unsetenv("X8_CLIENT_SECRET");
    unsetenv("X8_BASE_URL");
}

static void bad_options_are_refused_with_config_errors(void **state) {
    (void)state;
    x8_options *o = x8_options_new();
    x8_error *err = NULL;
    x8_client *c = NULL;
    assert_int_equal(x8_options_set_timeout_ms(o, 0, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_options_set_retries(o, 50, 1, 2, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_options_set_log_callback(o, NULL, NULL, 9, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    const char *bad_urls[] = {"http://api.8x8.com", "ftp://127.0.0.1", "https://user:pw@api.8x8.com", "not a url"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++) {
        assert_int_equal(x8_options_set_base_url(o, bad_urls[i], &err), X8_STATUS_OK);
        assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, &err), X8_STATUS_CONFIG);
        assert_null(c);
        expect_error(err, X8_STATUS_CONFIG);
    }
    assert_int_equal(x8_options_set_base_url(o, emu.base_url, &err), X8_STATUS_OK);
    assert_int_equal(x8_options_set_ca_file(o, "/nonexistent/ca.pem", &err), X8_STATUS_OK);
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, &err), X8_STATUS_CONFIG);
    expect_error(err, X8_STATUS_CONFIG);
    assert_int_equal(x8_client_new("id:with:colon", TEST_SECRET, NULL, &c, &err), X8_STATUS_CONFIG);
    assert_non_null(strstr(x8_error_message(err), "':'"));
    expect_error(err, X8_STATUS_CONFIG);
    x8_options_free(o);
}

static void a_secret_may_hold_any_character(void **state) {
    (void)state;
    /* The emulator's key has '!' in its secret; a ':' in the secret is legal Basic auth too. */
    x8_client *c = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_client_new(TEST_ID, "p:a ss\xc3\xa9", NULL, &c, &err), X8_STATUS_OK);
    x8_client_free(c);
}

typedef struct log_capture {
    int count;
    int leaked;
} log_capture;

static void capture_log(void *user_data, int32_t level, const char *message) {
    log_capture *cap = user_data;
    cap->count += level >= X8_LOG_ERROR && level <= X8_LOG_DEBUG;
    cap->leaked |= strstr(message, TEST_SECRET) != NULL;
}

static void the_log_callback_reports_fetches_without_secrets(void **state) {
    (void)state;
    log_capture cap = {0, 0};
    x8_options *o = x8_options_new();
    assert_int_equal(x8_options_set_base_url(o, emu.base_url, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_log_callback(o, capture_log, &cap, X8_LOG_DEBUG, NULL), X8_STATUS_OK);
    x8_client *c = NULL;
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, NULL), X8_STATUS_OK);
    x8_options_free(o);
    char token[X8_TOKEN_BUFFER_SIZE];
    assert_int_equal(x8_get_token(c, token, sizeof token, NULL, NULL), X8_STATUS_OK);
    assert_true(cap.count >= 2); /* "fetching" and "fetched" */
    assert_false(cap.leaked);
    x8_client_free(c);
}

static void stats_respects_the_callers_struct_size(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_stats stats;
    memset(&stats, 0xAB, sizeof stats);
    stats.size = 1;
    x8_error *err = NULL;
    assert_int_equal(x8_client_stats(c, &stats, &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    /* An older caller that knows only the first counter gets only that. */
    stats.size = offsetof(x8_stats, token_fetches);
    assert_int_equal(x8_client_stats(c, &stats, NULL), X8_STATUS_OK);
    assert_int_equal(stats.cache_hits, 0);
    assert_true(stats.token_fetches == 0xABABABABABABABABull);
    x8_client_free(c);
}

/* The x8_stats of an older header: size and two counters. Allocated at exactly its size, so valgrind sees any
 * write past it; a size that ends inside a field leaves that field alone. */
struct old_stats {
    size_t size;
    uint64_t cache_hits;
    uint64_t token_fetches;
};

static void stats_into_an_older_smaller_struct_stay_inside_it(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char token[X8_TOKEN_BUFFER_SIZE];
    assert_int_equal(x8_get_token(c, token, sizeof token, NULL, NULL), X8_STATUS_OK);
    struct old_stats *old = malloc(sizeof *old);
    assert_non_null(old);
    old->size = sizeof *old;
    assert_int_equal(x8_client_stats(c, (x8_stats *)old, NULL), X8_STATUS_OK);
    assert_int_equal(old->size, sizeof *old);
    assert_int_equal(old->token_fetches, 1);
    old->size = sizeof *old - 4;
    old->token_fetches = 77;
    assert_int_equal(x8_client_stats(c, (x8_stats *)old, NULL), X8_STATUS_OK);
    assert_int_equal(old->size, offsetof(struct old_stats, token_fetches));
    assert_int_equal(old->token_fetches, 77);
    free(old);
    x8_client_free(c);
}

/* Issue 16: the token form, default headers, client authentication styles, API retries and the rate limit. */
static x8_options *emulator_options(void) {
    x8_options *opts = x8_options_new();
    assert_non_null(opts);
    assert_int_equal(x8_options_set_base_url(opts, emu.base_url, NULL), X8_STATUS_OK);
    return opts;
}

static x8_client *client_from(x8_options *opts, const char *id, const char *secret) {
    x8_client *c = NULL;
    x8_error *err = NULL;
    x8_status st = x8_client_new(id, secret, opts, &c, &err);
    if (st != X8_STATUS_OK) fprintf(stderr, "x8_client_new: %s\n", x8_error_message(err));
    assert_int_equal(st, X8_STATUS_OK);
    x8_options_free(opts);
    return c;
}

static void default_headers_scope_and_token_params_are_sent(void **state) {
    (void)state;
    x8_options *opts = emulator_options();
    assert_int_equal(x8_options_add_default_header(opts, "X-Tenant-Info", "acme-tenant", NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_add_default_header(opts, "pbx", "default-pbx", NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_token_scope(opts, "read", NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_add_token_param(opts, "audience", "https://api.example", NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_client_auth(opts, X8_CLIENT_AUTH_BASIC, NULL), X8_STATUS_OK);
    x8_client *c = client_from(opts, TEST_ID, TEST_SECRET);
    const char *headers[] = {"pbx: per-call"};
    x8_request_opts ropts = {.size = sizeof ropts, .headers = headers, .header_count = 1};
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", "/echo/h", &ropts, &r, NULL), X8_STATUS_OK);
    const char *body = (const char *)x8_response_body(r, NULL);
    assert_non_null(strstr(body, "acme-tenant"));
    assert_non_null(strstr(body, "per-call"));
    assert_null(strstr(body, "default-pbx"));
    x8_response_free(r);
    static char sent[65536];
    assert_int_equal(emulator_admin(&emu, "GET", "/_emulator/token-requests", NULL, sent, sizeof sent), 200);
    assert_non_null(strstr(sent, "audience"));
    assert_non_null(strstr(sent, "\"scope\""));
    x8_client_free(c);
}

static void the_post_style_gets_a_token_from_an_rfc6749_server(void **state) {
    (void)state;
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/config", "{\"token_mode\":\"rfc6749\"}", NULL, 0), 200);
    x8_options *opts = emulator_options();
    assert_int_equal(x8_options_set_client_auth(opts, X8_CLIENT_AUTH_POST, NULL), X8_STATUS_OK);
    x8_client *c = client_from(opts, TEST_ID, TEST_SECRET);
    char token[X8_TOKEN_BUFFER_SIZE];
    x8_error *err = NULL;
    x8_status st = x8_get_token(c, token, sizeof token, NULL, &err);
    if (st != X8_STATUS_OK) fprintf(stderr, "post style: %s\n", x8_error_message(err));
    assert_int_equal(st, X8_STATUS_OK);
    x8_client_free(c);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/config", "{\"token_mode\":\"8x8\"}", NULL, 0), 200);
}

static void interop_options_refuse_bad_values(void **state) {
    (void)state;
    x8_options *opts = x8_options_new();
    x8_error *err = NULL;
    assert_int_equal(x8_options_add_default_header(opts, "Authorization", "Bearer x", &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    err = NULL;
    assert_int_equal(x8_options_add_default_header(opts, "X-A", "a\r\nEvil: 1", &err), X8_STATUS_INVALID_ARGUMENT);
    expect_error(err, X8_STATUS_INVALID_ARGUMENT);
    err = NULL;
    assert_int_equal(x8_options_add_token_param(opts, "grant_type", "password", &err), X8_STATUS_CONFIG);
    expect_error(err, X8_STATUS_CONFIG);
    assert_int_equal(x8_options_set_client_auth(opts, 99, NULL), X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_options_set_tls_roots(opts, 7, NULL), X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_options_set_ca_mode(opts, -1, NULL), X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_options_set_api_retries(opts, 21, NULL), X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_options_set_rate_limit(opts, 5, 0, NULL), X8_STATUS_INVALID_ARGUMENT);
    assert_int_equal(x8_options_set_tls_roots(opts, X8_ROOTS_COMPILED_IN, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_ca_mode(opts, X8_CA_REPLACE, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_rate_limit(opts, 0, 0, NULL), X8_STATUS_OK); /* off */
    assert_int_equal(x8_client_count_replay(NULL, NULL), X8_STATUS_INVALID_ARGUMENT);
    x8_options_free(opts);
}

static void api_retries_wait_out_a_429_and_a_post_gets_it_back(void **state) {
    (void)state;
    x8_options *opts = emulator_options();
    assert_int_equal(x8_options_set_api_retries(opts, 2, NULL), X8_STATUS_OK);
    x8_client *c = client_from(opts, TEST_ID, TEST_SECRET);
    const char *fault = "{\"target\":\"api\",\"kind\":\"status\",\"status\":429,\"retry_after\":\"1\"}";
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/faults", fault, NULL, 0), 200);
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", "/analytics/cc/v5/realtime-metrics/queues", NULL, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    x8_response_free(r);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/faults", fault, NULL, 0), 200);
    x8_request_opts post = {.size = sizeof post, .body = (const uint8_t *)"{}", .body_len = 2};
    assert_int_equal(x8_request(c, "POST", "/echo/p", &post, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 429);
    x8_response_free(r);
    x8_stats stats = {.size = sizeof stats};
    assert_int_equal(x8_client_stats(c, &stats, NULL), X8_STATUS_OK);
    assert_int_equal(stats.api_retries, 1);
    x8_client_free(c);
}

static void a_rate_limit_turn_past_the_deadline_times_out_at_once(void **state) {
    (void)state;
    x8_options *opts = emulator_options();
    assert_int_equal(x8_options_set_rate_limit(opts, 1, 60000, NULL), X8_STATUS_OK);
    x8_client *c = client_from(opts, TEST_ID, TEST_SECRET);
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", "/analytics/cc/v5/realtime-metrics/queues", NULL, &r, NULL), X8_STATUS_OK);
    x8_response_free(r);
    r = NULL;
    x8_request_opts ropts = {.size = sizeof ropts, .timeout_ms = 1000};
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", "/analytics/cc/v5/realtime-metrics/queues", &ropts, &r, &err),
                     X8_STATUS_TIMEOUT);
    assert_null(r);
    assert_non_null(strstr(x8_error_message(err), "rate limit"));
    expect_error(err, X8_STATUS_TIMEOUT);
    assert_int_equal(emulator_stat(&emu, "api_requests"), 1);
    x8_client_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(stats_into_an_older_smaller_struct_stay_inside_it, reset_emulator),
        cmocka_unit_test(version_matches_the_header),
        cmocka_unit_test(status_names_are_static_and_total),
        cmocka_unit_test_setup(token_is_fetched_once_and_reused, reset_emulator),
        cmocka_unit_test_setup(token_snapshot_carries_expiry_and_products, reset_emulator),
        cmocka_unit_test_setup(buffer_too_small_reports_the_length_and_writes_nothing, reset_emulator),
        cmocka_unit_test_setup(request_returns_status_headers_and_body, reset_emulator),
        cmocka_unit_test_setup(request_sends_bearer_headers_and_body, reset_emulator),
        cmocka_unit_test_setup(a_revoked_token_is_replaced_and_the_request_retried, reset_emulator),
        cmocka_unit_test_setup(bad_credentials_give_the_endpoint_text_without_the_secret, reset_emulator),
        cmocka_unit_test_setup(a_key_without_the_product_is_told_so, reset_emulator),
        cmocka_unit_test_setup(invalidate_forces_a_new_token, reset_emulator),
        cmocka_unit_test_setup(client_from_the_environment, reset_emulator),
        cmocka_unit_test_setup(bad_options_are_refused_with_config_errors, reset_emulator),
        cmocka_unit_test_setup(a_secret_may_hold_any_character, reset_emulator),
        cmocka_unit_test_setup(the_log_callback_reports_fetches_without_secrets, reset_emulator),
        cmocka_unit_test_setup(stats_respects_the_callers_struct_size, reset_emulator),
        cmocka_unit_test_setup(default_headers_scope_and_token_params_are_sent, reset_emulator),
        cmocka_unit_test_setup(the_post_style_gets_a_token_from_an_rfc6749_server, reset_emulator),
        cmocka_unit_test(interop_options_refuse_bad_values),
        cmocka_unit_test_setup(api_retries_wait_out_a_429_and_a_post_gets_it_back, reset_emulator),
        cmocka_unit_test_setup(a_rate_limit_turn_past_the_deadline_times_out_at_once, reset_emulator),
    };
    return cmocka_run_group_tests_name("x8 C API", tests, start_emulator, stop_emulator);
}
