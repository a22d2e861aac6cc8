/* Streamed bodies through x8_request_opts' write and read callbacks: the same bytes as a buffered download,
 * callbacks that stop the transfer, a callback that calls back into x8, uploads with and without a length,
 * the head callback that sees the status before the body (and holds an error body out of the sink), and
 * callers built against the header before these fields existed. */
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

/* What a head callback saw, and what it answers. */
typedef struct {
    int answer;
    int calls;
    int status;
    char content_length[32];
    size_t header_count;
    size_t body_len;
    size_t writes_before; /* bytes the sink held when the head was shown: must be 0 */
    const sink *s;
} head_seen;

static int see_head(void *user, const x8_response *head) {
    head_seen *h = user;
    h->calls++;
    h->status = x8_response_status(head);
    const char *cl = x8_response_header(head, "Content-Length");
    snprintf(h->content_length, sizeof h->content_length, "%s", cl ? cl : "");
    h->header_count = x8_response_header_count(head);
    h->body_len = 99;
    assert_non_null(x8_response_body(head, &h->body_len));
    h->writes_before = h->s ? h->s->len : 0;
    return h->answer;
}

/* HOLD for anything but a 2xx: the stream gets a success's body only. */
static int hold_errors(void *user, const x8_response *head) {
    int answer = x8_response_status(head) / 100 == 2 ? X8_HEAD_STREAM : X8_HEAD_HOLD;
    ((head_seen *)user)->answer = answer;
    see_head(user, head);
    return answer;
}

static void the_head_callback_sees_the_status_and_headers_before_the_first_write(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char path[256];
    assert_int_equal(add_object(&emu, 1u << 20, path, sizeof path), 0);
    sink s = {0};
    head_seen h = {.answer = X8_HEAD_STREAM, .s = &s};
    x8_request_opts o = {.size = sizeof o, .write = write_to_sink, .write_user = &s, .head = see_head, .head_user = &h};
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", path, &o, &r, &err), X8_STATUS_OK);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.status, 200);
    assert_string_equal(h.content_length, "1048576");
    assert_int_equal(h.header_count, x8_response_header_count(r));
    assert_int_equal(h.body_len, 0);
    assert_int_equal(h.writes_before, 0);
    assert_int_equal(s.len, 1u << 20);
    size_t len = 99;
    x8_response_body(r, &len);
    assert_int_equal(len, 0);
    x8_response_free(r);
    free(s.data);
    x8_client_free(c);
}

static void hold_keeps_an_error_body_in_the_response_and_writes_nothing(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    sink s = {0};
    head_seen h = {.s = &s};
    x8_request_opts o = {.size = sizeof o, .write = write_to_sink, .write_user = &s, .head = hold_errors, .head_user = &h};
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", "/storage/us-west/v3/objects/nope/content", &o, &r, &err), X8_STATUS_OK);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.status, 404);
    assert_int_equal(x8_response_status(r), 404);
    size_t len = 0;
    const char *body = (const char *)x8_response_body(r, &len);
    assert_true(len > 0);
    assert_non_null(strchr(body, '{'));
    assert_int_equal(s.calls, 0);
    assert_int_equal(s.len, 0);
    x8_response_free(r);

    /* A held body is bounded like a buffered one. */
    x8_options *opts = x8_options_new();
    assert_int_equal(x8_options_set_base_url(opts, emu.base_url, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_max_body_bytes(opts, 10, NULL), X8_STATUS_OK);
    x8_client *small = NULL;
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, opts, &small, NULL), X8_STATUS_OK);
    x8_options_free(opts);
    assert_int_equal(x8_request(small, "GET", "/storage/us-west/v3/objects/nope/content", &o, &r, &err),
                     X8_STATUS_BODY_TOO_LARGE);
    assert_null(r);
    assert_int_equal(s.len, 0);
    x8_error_free(err);
    x8_client_free(small);
    x8_client_free(c);
}

static void a_head_callback_returning_anything_else_aborts_with_nothing_written(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char path[256];
    assert_int_equal(add_object(&emu, 1u << 20, path, sizeof path), 0);
    sink s = {0};
    head_seen h = {.answer = 42, .s = &s};
    x8_request_opts o = {.size = sizeof o, .write = write_to_sink, .write_user = &s, .head = see_head, .head_user = &h};
    x8_response *r = (x8_response *)&s; /* must be reset to NULL */
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", path, &o, &r, &err), X8_STATUS_ABORTED);
    assert_null(r);
    assert_non_null(strstr(x8_error_message(err), "the head callback returned 42"));
    x8_error_free(err);
    err = NULL;
    assert_int_equal(h.calls, 1);
    assert_int_equal(s.calls, 0);

    /* The client goes on working after the abandoned body. */
    h.answer = X8_HEAD_STREAM;
    assert_int_equal(x8_request(c, "GET", path, &o, &r, &err), X8_STATUS_OK);
    assert_int_equal(s.len, 1u << 20);
    x8_response_free(r);
    free(s.data);

    /* head without write has nothing to decide: refused, as is head on a pager. */
    x8_request_opts no_write = {.size = sizeof no_write, .head = see_head, .head_user = &h};
    assert_int_equal(x8_request(c, "GET", path, &no_write, &r, &err), X8_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(x8_error_message(err), "opts->head"));
    x8_error_free(err);
    err = NULL;
    x8_pager *pager = NULL;
    assert_int_equal(x8_pager_new(c, "GET", "/storage/us-west/v3/objects", &no_write, 0, 0, &pager, &err),
                     X8_STATUS_INVALID_ARGUMENT);
    assert_null(pager);
    x8_error_free(err);
    x8_client_free(c);
}

static void a_replayed_401_is_never_shown_to_the_head_callback(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char path[256], tok[X8_TOKEN_BUFFER_SIZE];
    assert_int_equal(add_object(&emu, 100000, path, sizeof path), 0);
    assert_int_equal(x8_get_token(c, tok, sizeof tok, NULL, NULL), X8_STATUS_OK);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/revoke", NULL, NULL, 0), 200);
    sink s = {0};
    head_seen h = {.answer = X8_HEAD_STREAM, .s = &s};
    x8_request_opts o = {.size = sizeof o, .write = write_to_sink, .write_user = &s, .head = see_head, .head_user = &h};
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", path, &o, &r, &err), X8_STATUS_OK);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.status, 200);
    assert_int_equal(s.len, 100000);
    x8_stats st = {.size = sizeof st};
    assert_int_equal(x8_client_stats(c, &st, NULL), X8_STATUS_OK);
    assert_int_equal(st.replays_after_401, 1);
    x8_response_free(r);
    free(s.data);
    x8_client_free(c);
}

static void callers_built_before_the_head_field_get_the_body_whatever_the_status(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    sink s = {0};
    /* The struct as it ended at upload_len: a head pointer lying after it in memory is never read. */
    x8_request_opts o;
    memset(&o, 0, sizeof o);
    o.size = offsetof(x8_request_opts, upload_len) + sizeof(uint64_t);
    o.write = write_to_sink;
    o.write_user = &s;
    o.head = (x8_head_fn)(uintptr_t)1; /* would crash if called */
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_request(c, "GET", "/storage/us-west/v3/objects/nope/content", &o, &r, &err), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 404);
    assert_true(s.len > 0); /* the old behaviour: the error body went to write */
    assert_non_null(memchr(s.data, '{', s.len));
    x8_response_free(r);
    free(s.data);
    x8_client_free(c);
}

/* The presigned URL of a new object of `bytes` bytes, into `url`. */
static void presigned_url(x8_client *c, unsigned long long bytes, char *url, size_t url_len) {
    char path[256], presign[300];
    assert_int_equal(add_object(&emu, bytes, path, sizeof path), 0);
    snprintf(presign, sizeof presign, "%s?presignUrl=true", path);
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", presign, NULL, &r, NULL), X8_STATUS_OK);
    const char *start = strstr((const char *)x8_response_body(r, NULL), "\"presignedUrl\":\"");
    assert_non_null(start);
    start += strlen("\"presignedUrl\":\"");
    snprintf(url, url_len, "%.*s", (int)(strchr(start, '"') - start), start);
    x8_response_free(r);
}

static void a_presigned_fetch_shows_its_head_and_holds_an_expired_links_error(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char url[1024];
    presigned_url(c, 300000, url, sizeof url);
    sink s = {0};
    head_seen h = {.s = &s};
    x8_request_opts o = {.size = sizeof o, .write = write_to_sink, .write_user = &s, .head = hold_errors, .head_user = &h};
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_fetch_url(c, "GET", url, &o, &r, &err), X8_STATUS_OK);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.status, 200);
    assert_string_equal(h.content_length, "300000");
    assert_int_equal(h.writes_before, 0);
    assert_int_equal(s.len, 300000);
    x8_response_free(r);

    /* A tampered signature is refused (403) by the presigned origin: its body is held, not written. */
    char *sig = strstr(url, "Signature=");
    assert_non_null(sig);
    sig += strlen("Signature=");
    *sig = *sig == 'a' ? 'b' : 'a';
    s.len = 0;
    s.calls = 0;
    h.calls = 0;
    assert_int_equal(x8_fetch_url(c, "GET", url, &o, &r, &err), X8_STATUS_OK);
    assert_int_equal(h.calls, 1);
    assert_true(h.status >= 400);
    assert_int_equal(x8_response_status(r), h.status);
    assert_int_equal(s.calls, 0);
    size_t len = 0;
    x8_response_body(r, &len);
    assert_true(len > 0);
    x8_response_free(r);

    /* And a non-zero answer aborts the presigned fetch too. */
    head_seen stop = {.answer = -1, .s = &s};
    o.head = see_head;
    o.head_user = &stop;
    assert_int_equal(x8_fetch_url(c, "GET", url, &o, &r, &err), X8_STATUS_ABORTED);
    assert_null(r);
    x8_error_free(err);
    assert_int_equal(s.calls, 0);
    free(s.data);
    x8_client_free(c);
}

static void a_presigned_head_gives_the_status_and_length_and_no_body(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char url[1024];
    presigned_url(c, 123456, url, sizeof url);
    x8_response *r = NULL;
    x8_error *err = NULL;
    assert_int_equal(x8_fetch_url(c, "HEAD", url, NULL, &r, &err), X8_STATUS_OK);
    assert_null(err);
    assert_int_equal(x8_response_status(r), 200);
    assert_string_equal(x8_response_header(r, "content-length"), "123456");
    size_t len = 99;
    x8_response_body(r, &len);
    assert_int_equal(len, 0);
    x8_response_free(r);

    /* Streamed, HEAD writes nothing either; the head callback sees the object's length. */
    sink s = {0};
    head_seen h = {.answer = X8_HEAD_STREAM, .s = &s};
    x8_request_opts o = {.size = sizeof o, .write = write_to_sink, .write_user = &s, .head = see_head, .head_user = &h};
    assert_int_equal(x8_fetch_url(c, "HEAD", url, &o, &r, &err), X8_STATUS_OK);
    assert_int_equal(h.calls, 1);
    assert_string_equal(h.content_length, "123456");
    assert_int_equal(s.calls, 0);
    x8_response_free(r);
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
        cmocka_unit_test_setup(the_head_callback_sees_the_status_and_headers_before_the_first_write, reset_emulator),
        cmocka_unit_test_setup(hold_keeps_an_error_body_in_the_response_and_writes_nothing, reset_emulator),
        cmocka_unit_test_setup(a_head_callback_returning_anything_else_aborts_with_nothing_written, reset_emulator),
        cmocka_unit_test_setup(a_replayed_401_is_never_shown_to_the_head_callback, reset_emulator),
        cmocka_unit_test_setup(callers_built_before_the_head_field_get_the_body_whatever_the_status, reset_emulator),
        cmocka_unit_test_setup(a_presigned_fetch_shows_its_head_and_holds_an_expired_links_error, reset_emulator),
        cmocka_unit_test_setup(a_presigned_head_gives_the_status_and_length_and_no_body, reset_emulator),
    };
    return cmocka_run_group_tests_name("x8 C API: streamed bodies", tests, start_emulator, stop_emulator);
}
