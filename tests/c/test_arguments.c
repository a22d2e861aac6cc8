/* Every entry point with NULL, non-UTF-8, injected CR/LF and absurd sizes: a clear error, never a crash. */
#include "fixture.h"

#include <stdio.h>

static x8_client *client;

static int open_client(void **state) {
    if (start_emulator(state) != 0) return -1;
    client = make_client(TEST_ID, TEST_SECRET);
    return 0;
}

static int close_client(void **state) {
    x8_client_free(client);
    return stop_emulator(state);
}

#define EXPECT_INVALID(call)                                  \
    do {                                                      \
        x8_error *err = NULL;                                 \
        x8_status got_ = (call);                              \
        if (got_ != X8_STATUS_INVALID_ARGUMENT)               \
            fprintf(stderr, "%s -> %s\n", #call, x8_status_str(got_)); \
        assert_int_equal(got_, X8_STATUS_INVALID_ARGUMENT);   \
        expect_error(err, X8_STATUS_INVALID_ARGUMENT);        \
    } while (0)

static const char NOT_UTF8[] = {'/', (char)0xff, (char)0xfe, 0};

/* x8_request with every x8_request_opts field spelled out, for the argument checks below. */
static x8_status request_with(const char *method, const char *path, const char *const *headers, size_t header_count,
                              const uint8_t *body, size_t body_len, uint32_t timeout_ms, x8_response **r,
                              x8_error **err) {
    x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = header_count, .body = body,
                            .body_len = body_len, .timeout_ms = timeout_ms};
    return x8_request(client, method, path, &opts, r, err);
}

static void null_handles_and_out_parameters(void **state) {
    (void)state;
    char buf[X8_TOKEN_BUFFER_SIZE];
    char *s = NULL;
    bool b;
    x8_client *c = NULL;
    x8_response *r = NULL;
    x8_token *t = NULL;
    x8_stats st = {.size = sizeof st};
    EXPECT_INVALID(x8_client_new(NULL, TEST_SECRET, NULL, &c, &err));
    EXPECT_INVALID(x8_client_new(TEST_ID, NULL, NULL, &c, &err));
    EXPECT_INVALID(x8_client_new(TEST_ID, TEST_SECRET, NULL, NULL, &err));
    EXPECT_INVALID(x8_client_new_from_env(NULL, NULL, &err));
    EXPECT_INVALID(x8_get_token(NULL, buf, sizeof buf, NULL, &err));
    EXPECT_INVALID(x8_get_token(client, NULL, 10, NULL, &err));
    EXPECT_INVALID(x8_client_token_string(NULL, &s, &err));
    EXPECT_INVALID(x8_client_token_string(client, NULL, &err));
    EXPECT_INVALID(x8_client_token(NULL, 0, &t, &err));
    EXPECT_INVALID(x8_client_token(client, 0, NULL, &err));
    EXPECT_INVALID(x8_client_has_product(NULL, "vcc", &b, &err));
    EXPECT_INVALID(x8_client_has_product(client, NULL, &b, &err));
    EXPECT_INVALID(x8_client_has_product(client, "vcc", NULL, &err));
    EXPECT_INVALID(x8_client_invalidate(NULL, &err));
    EXPECT_INVALID(x8_client_stats(NULL, &st, &err));
    EXPECT_INVALID(x8_client_stats(client, NULL, &err));
    EXPECT_INVALID(x8_client_stats_json(NULL, &s, &err));
    EXPECT_INVALID(x8_client_stats_json(client, NULL, &err));
    EXPECT_INVALID(x8_request(NULL, "GET", "/", NULL, &r, &err));
    EXPECT_INVALID(x8_request(client, NULL, "/", NULL, &r, &err));
    EXPECT_INVALID(x8_request(client, "GET", NULL, NULL, &r, &err));
    EXPECT_INVALID(x8_request(client, "GET", "/", NULL, NULL, &err));
    EXPECT_INVALID(x8_options_set_base_url(NULL, "https://api.8x8.com", &err));
    EXPECT_INVALID(x8_options_set_timeout_ms(NULL, 5, &err));
    x8_options *o = x8_options_new();
    EXPECT_INVALID(x8_options_set_base_url(o, NULL, &err));
    EXPECT_INVALID(x8_options_set_token_url(o, NULL, &err));
    EXPECT_INVALID(x8_options_set_user_agent(o, NULL, &err));
    EXPECT_INVALID(x8_options_set_ca_file(o, NULL, &err));
    EXPECT_INVALID(x8_options_set_proxy(o, NULL, &err));
    EXPECT_INVALID(x8_options_set_max_body_bytes(o, 0, &err));
    EXPECT_INVALID(x8_options_set_connect_timeout_ms(o, 0, &err));
    x8_options_free(o);
    /* Failed constructors leave *out NULL; no call needs err. */
    assert_null(c);
    assert_int_equal(x8_get_token(NULL, buf, sizeof buf, NULL, NULL), X8_STATUS_INVALID_ARGUMENT);
}

static void accessors_and_frees_tolerate_null(void **state) {
    (void)state;
    size_t len = 99;
    const char *n = NULL, *v = NULL;
    assert_int_equal(x8_response_status(NULL), 0);
    assert_null(x8_response_body(NULL, &len));
    assert_int_equal(len, 0);
    assert_null(x8_response_header(NULL, "a"));
    assert_int_equal(x8_response_header_count(NULL), 0);
    assert_false(x8_response_header_at(NULL, 0, &n, &v));
    assert_string_equal(x8_token_value(NULL), "");
    assert_string_equal(x8_token_type(NULL), "");
    assert_int_equal(x8_token_expires_at_ms(NULL), 0);
    assert_int_equal(x8_token_product_count(NULL), 0);
    assert_null(x8_token_product(NULL, 0));
    assert_false(x8_token_has_product(NULL, "vcc"));
    assert_int_equal(x8_error_code(NULL), X8_STATUS_INVALID_ARGUMENT);
    assert_string_equal(x8_error_message(NULL), "");
    assert_int_equal(x8_error_http_status(NULL), 0);
    x8_client_free(NULL);
    x8_response_free(NULL);
    x8_token_free(NULL);
    x8_options_free(NULL);
    x8_error_free(NULL);
    x8_free(NULL);

    x8_response *r = NULL;
    assert_int_equal(x8_request(client, "GET", "/echo/a", NULL, &r, NULL), X8_STATUS_OK);
    x8_response_free(r);
    /* A program built against an older, smaller x8_request_opts: the fields past its size are never read. */
    x8_request_opts older = {.size = offsetof(x8_request_opts, body), .body = (const uint8_t *)0x1,
                             .body_len = (size_t)-1, .timeout_ms = 1};
    r = NULL;
    assert_int_equal(x8_request(client, "GET", "/echo/a", &older, &r, NULL), X8_STATUS_OK);
    assert_null(x8_response_header(r, NULL));
    assert_false(x8_response_header_at(r, 0, NULL, &v));
    assert_non_null(x8_response_body(r, NULL));
    x8_response_free(r);
    x8_token *t = NULL;
    assert_int_equal(x8_client_token(client, 0, &t, NULL), X8_STATUS_OK);
    assert_false(x8_token_has_product(t, NULL));
    assert_false(x8_token_has_product(t, NOT_UTF8));
    x8_token_free(t);
}

static void text_that_is_not_utf8_is_refused(void **state) {
    (void)state;
    x8_client *c = NULL;
    x8_response *r = NULL;
    bool b;
    EXPECT_INVALID(x8_client_new(NOT_UTF8, TEST_SECRET, NULL, &c, &err));
    EXPECT_INVALID(x8_client_new(TEST_ID, NOT_UTF8, NULL, &c, &err));
    EXPECT_INVALID(x8_request(client, "GET", NOT_UTF8, NULL, &r, &err));
    EXPECT_INVALID(x8_request(client, NOT_UTF8, "/", NULL, &r, &err));
    EXPECT_INVALID(x8_client_has_product(client, NOT_UTF8, &b, &err));
    const char *headers[] = {NOT_UTF8};
    EXPECT_INVALID(request_with("GET", "/echo/a", headers, 1, NULL, 0, 0, &r, &err));
    x8_options *o = x8_options_new();
    EXPECT_INVALID(x8_options_set_base_url(o, NOT_UTF8, &err));
    x8_options_free(o);
}

static void header_injection_and_bad_requests_are_refused(void **state) {
    (void)state;
    x8_response *r = NULL;
    const char *crlf_value[] = {"X-A: 1\r\nX-Evil: 1"};
    const char *lf_name[] = {"X\nEvil: 1"};
    const char *no_colon[] = {"JustAName"};
    const char *auth[] = {"Authorization: Basic Zm9vOmJhcg=="};
    const char *host[] = {"host: evil.example"};
    const char *with_null[] = {"X-A: 1", NULL};
    EXPECT_INVALID(request_with("GET", "/echo/a", crlf_value, 1, NULL, 0, 0, &r, &err));
    EXPECT_INVALID(request_with("GET", "/echo/a", lf_name, 1, NULL, 0, 0, &r, &err));
    EXPECT_INVALID(request_with("GET", "/echo/a", no_colon, 1, NULL, 0, 0, &r, &err));
    EXPECT_INVALID(request_with("GET", "/echo/a", auth, 1, NULL, 0, 0, &r, &err));
    EXPECT_INVALID(request_with("GET", "/echo/a", host, 1, NULL, 0, 0, &r, &err));
    EXPECT_INVALID(request_with("GET", "/echo/a", with_null, 2, NULL, 0, 0, &r, &err));
    EXPECT_INVALID(request_with("GET", "/echo/a", NULL, 3, NULL, 0, 0, &r, &err));
    EXPECT_INVALID(x8_request(client, "GET\r\n", "/echo/a", NULL, &r, &err));
    EXPECT_INVALID(x8_request(client, "G T", "/echo/a", NULL, &r, &err));
    EXPECT_INVALID(x8_request(client, "GET", "/echo/a\r\nX-Evil: 1", NULL, &r, &err));
    EXPECT_INVALID(x8_request(client, "GET", "https://evil.example/steal", NULL, &r, &err));
    EXPECT_INVALID(x8_request(client, "GET", "http://127.0.0.1:1/other-port", NULL, &r, &err));
    EXPECT_INVALID(request_with("POST", "/echo/a", NULL, 0, NULL, 5, 0, &r, &err));
    EXPECT_INVALID(request_with("POST", "/echo/a", NULL, 0, (const uint8_t *)"x", (size_t)-1, 0, &r, &err));
    EXPECT_INVALID(request_with("GET", "/echo/a", crlf_value, (size_t)-1, NULL, 0, 0, &r, &err));
    x8_request_opts unsized = {0};
    EXPECT_INVALID(x8_request(client, "GET", "/echo/a", &unsized, &r, &err));
    char small[4];
    EXPECT_INVALID(x8_get_token(client, small, (size_t)-1, NULL, &err));
    assert_null(r);
    /* Nothing was sent: refused before any network traffic. */
    assert_int_equal(emulator_stat(&emu, "api_requests"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_handles_and_out_parameters),
        cmocka_unit_test(accessors_and_frees_tolerate_null),
        cmocka_unit_test(text_that_is_not_utf8_is_refused),
        cmocka_unit_test_setup(header_injection_and_bad_requests_are_refused, reset_emulator),
    };
    return cmocka_run_group_tests_name("x8 C API arguments", tests, open_client, close_client);
}
