/* Streamed bodies through x8_request_opts' write and read callbacks: the same bytes as a buffered download,
 * callbacks that stop the transfer, a callback that calls back into x8, uploads with and without a length,
 * and callers built against the header before these fields existed. */
#define _GNU_SOURCE
#include "fixture.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "stream_helpers.h"

typedef struct {
    unsigned char *data;
    size_t len, cap;
    size_t calls;
    size_t stop_after; /* return non-zero once this many bytes arrived (0: never) */
    x8_client *client; /* when set, each call also asks this client for a token */
    int token_calls_ok;
} sink;

static int write_to_sink(void *user, const uint8_t *data, size_t len) {
    sink *s = user;
    s->calls++;
    if (s->client) {
        char tok[X8_TOKEN_BUFFER_SIZE];
        if (x8_get_token(s->client, tok, sizeof tok, NULL, NULL) == X8_STATUS_OK) s->token_calls_ok++;
    }
    if (s->len + len > s->cap) {
        s->cap = (s->len + len) * 2;
        s->data = realloc(s->data, s->cap);
        if (!s->data) return 1;
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return s->stop_after && s->len >= s->stop_after ? 7 : 0;
}

static void a_streamed_download_matches_the_buffered_one(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char path[256];
    assert_int_equal(add_object(&emu, 3u << 20, path, sizeof path), 0);
    x8_response *whole = NULL, *head = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", path, NULL, &whole, &err), X8_STATUS_OK);
    size_t whole_len = 0;
    const uint8_t *whole_body = x8_response_body(whole, &whole_len);
    assert_int_equal(whole_len, 3u << 20);

    sink s = {0};
    s.client = c; /* re-entering x8 on the same client from inside the callback is allowed */
    x8_request_opts o = {.size = sizeof o, .write = write_to_sink, .write_user = &s};
    assert_int_equal(x8_request(c, "GET", path, &o, &head, &err), X8_STATUS_OK);
    assert_null(err);
    assert_int_equal(x8_response_status(head), 200);
    assert_string_equal(x8_response_header(head, "content-length"), "3145728");
    size_t head_len = 99;
    assert_non_null(x8_response_body(head, &head_len));
    assert_int_equal(head_len, 0);
    assert_int_equal(s.len, whole_len);
    assert_memory_equal(s.data, whole_body, whole_len);
    assert_true(s.calls > 1);
    assert_int_equal(s.token_calls_ok, (int)s.calls);
    free(s.data);
    x8_response_free(whole);
    x8_response_free(head);
    x8_client_free(c);
}

static void a_write_callback_returning_non_zero_aborts(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char path[256];
    assert_int_equal(add_object(&emu, 4u << 20, path, sizeof path), 0);
    sink s = {.stop_after = 100000};
    x8_request_opts o = {.size = sizeof o, .write = write_to_sink, .write_user = &s};
    x8_response *r = (x8_response *)&s; /* must be reset to NULL */
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", path, &o, &r, &err), X8_STATUS_ABORTED);
    assert_null(r);
    assert_non_null(strstr(x8_error_message(err), "the write callback returned 7"));
    x8_error_free(err);
    assert_true(s.len < (4u << 20));
    free(s.data);
    x8_client_free(c);
}

typedef struct {
    size_t left;
    int fail; /* return this once `left` reaches 0 instead of ending */
    size_t overrun; /* report this many bytes more than the buffer holds, once */
} source;

static int read_from_source(void *user, uint8_t *buf, size_t cap, size_t *len) {
    source *src = user;
    if (src->left == 0 && src->fail) return src->fail;
    if (src->overrun) {
        *len = cap + src->overrun;
        return 0;
    }
    size_t n = src->left < cap ? src->left : cap;
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(src->left - i);
    src->left -= n;
    *len = n;
    return 0;
}

static void upload(x8_client *c, const char *path, source *src, uint64_t len, x8_status want, x8_response **out,
                   x8_error **err) {
    const char *headers[] = {"Content-Type: application/octet-stream"};
    x8_request_opts o = {.size = sizeof o,
                         .headers = headers,
                         .header_count = 1,
                         .read = read_from_source,
                         .read_user = src,
                         .upload_len = len};
    assert_int_equal(x8_request(c, "PUT", path, &o, out, err), want);
}

static void uploads_stream_from_the_read_callback(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_response *r = NULL;
    x8_error *err = NULL;
    source known = {.left = 3000000};
    upload(c, "/upload/c-known", &known, 3000000, X8_STATUS_OK, &r, &err);
    assert_int_equal(x8_response_status(r), 200);
    const char *body = (const char *)x8_response_body(r, NULL);
    assert_non_null(strstr(body, "\"bytes\":3000000"));
    assert_non_null(strstr(body, "\"content_length\":3000000"));
    assert_non_null(strstr(body, "\"complete\":true"));
    x8_response_free(r);

    source chunked = {.left = 3000000};
    upload(c, "/upload/c-chunked", &chunked, 0, X8_STATUS_OK, &r, &err);
    body = (const char *)x8_response_body(r, NULL);
    assert_non_null(strstr(body, "\"bytes\":3000000"));
    assert_non_null(strstr(body, "\"transfer_encoding\":\"chunked\""));
    x8_response_free(r);
    x8_client_free(c);
}

static void a_read_callback_that_fails_or_lies_aborts(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_response *r = NULL;
    x8_error *err = NULL;
    source failing = {.left = 100000, .fail = 5};
    upload(c, "/upload/c-fail", &failing, 0, X8_STATUS_ABORTED, &r, &err);
    assert_null(r);
    assert_non_null(strstr(x8_error_message(err), "the read callback returned 5"));
    x8_error_free(err);
    err = NULL;

    source overrun = {.left = 10, .overrun = 1};
    upload(c, "/upload/c-overrun", &overrun, 0, X8_STATUS_ABORTED, &r, &err);
    assert_non_null(strstr(x8_error_message(err), "into a buffer of"));
    x8_error_free(err);
    err = NULL;

    source short_one = {.left = 100};
    upload(c, "/upload/c-short", &short_one, 200, X8_STATUS_ABORTED, &r, &err);
    assert_non_null(strstr(x8_error_message(err), "ended after 100 of the 200"));
    x8_error_free(err);
    err = NULL;

    /* A body and a read callback at once is a caller bug. */
    source any = {.left = 1};
    x8_request_opts o = {.size = sizeof o, .body = (const uint8_t *)"x", .body_len = 1,
                         .read = read_from_source, .read_user = &any};
    assert_int_equal(x8_request(c, "PUT", "/upload/c-both", &o, &r, &err), X8_STATUS_INVALID_ARGUMENT);
    x8_error_free(err);
    x8_client_free(c);
}

static void callers_built_before_the_streaming_fields_keep_working(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    /* The struct as it ended at timeout_ms: whatever lies after it in memory is never read. */
    union {
        x8_request_opts o;
        unsigned char bytes[sizeof(x8_request_opts)];
    } old;
    memset(old.bytes, 0xA5, sizeof old.bytes);
    old.o.size = offsetof(x8_request_opts, timeout_ms) + sizeof(uint32_t);
    old.o.headers = NULL;
    old.o.header_count = 0;
    old.o.body = NULL;
    old.o.body_len = 0;
    old.o.timeout_ms = 5000;
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", "/storage/us-west/v3/regions", &old.o, &r, &err), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    assert_non_null(strstr((const char *)x8_response_body(r, NULL), "us-west"));
    x8_response_free(r);
    x8_client_free(c);
}

static void a_presigned_download_streams_and_a_pager_refuses_to(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char path[256], presign[300];
    assert_int_equal(add_object(&emu, 2u << 20, path, sizeof path), 0);
    x8_response *r = NULL, *whole = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", path, NULL, &whole, &err), X8_STATUS_OK);
    snprintf(presign, sizeof presign, "%s?presignUrl=true", path);
    assert_int_equal(x8_request(c, "GET", presign, NULL, &r, &err), X8_STATUS_OK);
    const char *body = (const char *)x8_response_body(r, NULL);
    const char *start = strstr(body, "\"presignedUrl\":\"");
    assert_non_null(start);
    start += strlen("\"presignedUrl\":\"");
    char url[1024];
    snprintf(url, sizeof url, "%.*s", (int)(strchr(start, '"') - start), start);
    x8_response_free(r);

    sink s = {0};
    x8_request_opts o = {.size = sizeof o, .write = write_to_sink, .write_user = &s};
    assert_int_equal(x8_fetch_url(c, "GET", url, &o, &r, &err), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    size_t len = 99, whole_len = 0;
    x8_response_body(r, &len);
    assert_int_equal(len, 0);
    const uint8_t *whole_body = x8_response_body(whole, &whole_len);
    assert_int_equal(s.len, whole_len);
    assert_memory_equal(s.data, whole_body, whole_len);
    x8_response_free(r);
    free(s.data);

    /* A read callback has nothing to send with a GET; a pager holds its pages to find the next one. */
    source any = {.left = 1};
    x8_request_opts up = {.size = sizeof up, .read = read_from_source, .read_user = &any};
    assert_int_equal(x8_fetch_url(c, "GET", url, &up, &r, &err), X8_STATUS_INVALID_ARGUMENT);
    x8_error_free(err);
    err = NULL;
    x8_pager *pager = NULL;
    assert_int_equal(x8_pager_new(c, "GET", "/storage/us-west/v3/objects", &o, 0, 0, &pager, &err),
                     X8_STATUS_INVALID_ARGUMENT);
    assert_null(pager);
    x8_error_free(err);
    x8_response_free(whole);
    x8_client_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_streamed_download_matches_the_buffered_one, reset_emulator),
        cmocka_unit_test_setup(a_write_callback_returning_non_zero_aborts, reset_emulator),
        cmocka_unit_test_setup(uploads_stream_from_the_read_callback, reset_emulator),
        cmocka_unit_test_setup(a_read_callback_that_fails_or_lies_aborts, reset_emulator),
        cmocka_unit_test_setup(callers_built_before_the_streaming_fields_keep_working, reset_emulator),
        cmocka_unit_test_setup(a_presigned_download_streams_and_a_pager_refuses_to, reset_emulator),
    };
    return cmocka_run_group_tests_name("x8 C API: streamed bodies", tests, start_emulator, stop_emulator);
}
