/* x8_cancel: a call blocked on a slow API or a slow token fetch returns X8_STATUS_CANCELLED soon after another
 * thread triggers its handle; the cancelled connection is not reused; the fetch goes on for the other waiters. */
#define _GNU_SOURCE
#include "fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The slow answer is 3 s; a cancelled call must be back within 1 s of the trigger (it takes well under 1 ms
 * here: the bound is generous on purpose, for loaded CI machines and valgrind). */
#define SLOW_MS 3000
#define PROMPT_MS 1000

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Polls an emulator counter until it reaches `at_least` (bounded: fails the test after 10 s). */
static void wait_for_stat(const char *name, long at_least) {
    long started = now_ms();
    while (emulator_stat(&emu, name) < at_least) {
        assert_true(now_ms() - started < 10000);
        usleep(2000);
    }
}

typedef struct call {
    x8_client *client;
    x8_cancel *cancel; /* NULL: not cancellable */
    x8_status status;
    int error_matches; /* the x8_error came back with the same code (cmocka's asserts belong on the main thread) */
    long returned_at;
} call;

/* What each call thread does with its outcome: recorded, checked by the test on the main thread. */
static void finish(call *c, x8_status status, x8_error *err) {
    c->returned_at = now_ms();
    c->status = status;
    c->error_matches = status == X8_STATUS_OK ? err == NULL : err != NULL && x8_error_code(err) == status;
    x8_error_free(err);
}

static void *request_thread(void *arg) {
    call *c = arg;
    x8_request_opts o = {.size = sizeof o};
    o.cancel = c->cancel;
    x8_response *r = NULL;
    x8_error *err = NULL;
    x8_status status = x8_request(c->client, "GET", "/echo/slow", &o, &r, &err);
    finish(c, status, err);
    x8_response_free(r);
    return NULL;
}

static void *get_token_thread(void *arg) {
    call *c = arg;
    char token[X8_TOKEN_BUFFER_SIZE];
    x8_error *err = NULL;
    x8_status status = x8_get_token_ex(c->client, 0, c->cancel, token, sizeof token, NULL, &err);
    finish(c, status, err);
    return NULL;
}

static void *client_token_thread(void *arg) {
    call *c = arg;
    x8_token *t = NULL;
    x8_error *err = NULL;
    x8_status status = x8_client_token_ex(c->client, 0, c->cancel, &t, &err);
    if (status == X8_STATUS_OK && strlen(x8_token_value(t)) == 0) status = X8_STATUS_INTERNAL;
    finish(c, status, err);
    x8_token_free(t);
    return NULL;
}

static void the_handle_is_idempotent_and_null_safe(void **state) {
    (void)state;
    x8_cancel *cancel = x8_cancel_new();
    assert_non_null(cancel);
    assert_false(x8_cancel_is_triggered(cancel));
    x8_cancel_trigger(cancel);
    x8_cancel_trigger(cancel);
    assert_true(x8_cancel_is_triggered(cancel));
    assert_false(x8_cancel_is_triggered(NULL));
    x8_cancel_trigger(NULL);
    x8_cancel_free(NULL);
    x8_cancel_free(cancel);
    assert_string_equal(x8_status_str(X8_STATUS_CANCELLED), "X8_STATUS_CANCELLED");
}

static void a_triggered_handle_fails_every_call_at_once(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_cancel *cancel = x8_cancel_new();
    x8_cancel_trigger(cancel);
    call calls[3] = {{.client = c, .cancel = cancel}, {.client = c, .cancel = cancel}, {.client = c, .cancel = cancel}};
    request_thread(&calls[0]);
    get_token_thread(&calls[1]);
    client_token_thread(&calls[2]);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(calls[i].status, X8_STATUS_CANCELLED);
        assert_true(calls[i].error_matches);
    }
    assert_int_equal(emulator_stat(&emu, "token_requests"), 0);
    assert_int_equal(emulator_stat(&emu, "api_requests"), 0);
    x8_cancel_free(cancel);
    x8_client_free(c);
}

static void opts_of_an_older_size_are_not_cancellable(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_cancel *cancel = x8_cancel_new();
    x8_cancel_trigger(cancel);
    /* A program built before the field existed: its size ends before `cancel`, whatever the memory holds. */
    x8_request_opts o = {.size = offsetof(x8_request_opts, cancel)};
    o.cancel = cancel;
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", "/echo/old", &o, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    x8_response_free(r);
    x8_cancel_free(cancel);
    x8_client_free(c);
}

static void a_request_blocked_on_a_slow_api_returns_cancelled_on_a_closed_connection(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", "/echo/warm", NULL, &r, NULL), X8_STATUS_OK);
    x8_response_free(r);
    /* The token's connection was closed after its fetch; the API's is pooled. */
    long warm = emulator_stat(&emu, "connections");
    char fault[96];
    snprintf(fault, sizeof fault, "{\"target\":\"api\",\"kind\":\"delay\",\"ms\":%d}", SLOW_MS);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/faults", fault, NULL, 0), 200);

    call slow = {.client = c, .cancel = x8_cancel_new()};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, request_thread, &slow), 0);
    wait_for_stat("api_requests", 2);
    long triggered_at = now_ms();
    x8_cancel_trigger(slow.cancel);
    pthread_join(thread, NULL);
    assert_int_equal(slow.status, X8_STATUS_CANCELLED);
    assert_true(slow.error_matches);
    long took = slow.returned_at - triggered_at;
    if (took >= PROMPT_MS) fprintf(stderr, "returned %ld ms after the trigger\n", took);
    assert_true(took < PROMPT_MS);
    x8_cancel_free(slow.cancel);

    /* The slow request went out on the pooled connection, closed by the cancel: the next request opens another. */
    assert_int_equal(x8_request(c, "GET", "/echo/after", NULL, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    x8_response_free(r);
    assert_int_equal(emulator_stat(&emu, "connections"), warm + 1);
    x8_client_free(c);
}

static void a_caller_cancelled_during_a_slow_token_fetch_leaves_it_to_the_others(void **state) {
    (void)state;
    char config[64];
    snprintf(config, sizeof config, "{\"token_delay_ms\":%d}", SLOW_MS);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/config", config, NULL, 0), 200);
    x8_client *c = make_client(TEST_ID, TEST_SECRET);

    /* The cancellable caller starts the fetch; two others wait for the same one. */
    call cancelled = {.client = c, .cancel = x8_cancel_new()};
    call patient = {.client = c};
    call copier = {.client = c};
    pthread_t threads[3];
    assert_int_equal(pthread_create(&threads[0], NULL, get_token_thread, &cancelled), 0);
    wait_for_stat("token_requests", 1);
    assert_int_equal(pthread_create(&threads[1], NULL, client_token_thread, &patient), 0);
    assert_int_equal(pthread_create(&threads[2], NULL, get_token_thread, &copier), 0);
    long triggered_at = now_ms();
    x8_cancel_trigger(cancelled.cancel);
    pthread_join(threads[0], NULL);
    assert_int_equal(cancelled.status, X8_STATUS_CANCELLED);
    assert_true(cancelled.error_matches);
    long took = cancelled.returned_at - triggered_at;
    if (took >= PROMPT_MS) fprintf(stderr, "returned %ld ms after the trigger\n", took);
    assert_true(took < PROMPT_MS);
    pthread_join(threads[1], NULL);
    pthread_join(threads[2], NULL);
    assert_int_equal(patient.status, X8_STATUS_OK);
    assert_int_equal(copier.status, X8_STATUS_OK);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 1);
    x8_cancel_free(cancelled.cancel);
    x8_client_free(c);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/config", "{\"token_delay_ms\":0}", NULL, 0), 200);
}

static void a_request_waiting_for_its_token_returns_cancelled(void **state) {
    (void)state;
    char config[64];
    snprintf(config, sizeof config, "{\"token_delay_ms\":%d}", SLOW_MS);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/config", config, NULL, 0), 200);
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    call waiting = {.client = c, .cancel = x8_cancel_new()};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, request_thread, &waiting), 0);
    wait_for_stat("token_requests", 1);
    long triggered_at = now_ms();
    x8_cancel_trigger(waiting.cancel);
    pthread_join(thread, NULL);
    assert_int_equal(waiting.status, X8_STATUS_CANCELLED);
    assert_true(waiting.returned_at - triggered_at < PROMPT_MS);
    assert_int_equal(emulator_stat(&emu, "api_requests"), 0);
    x8_cancel_free(waiting.cancel);
    /* Freed while its fetch is still running: x8_client_free waits for it, and nothing leaks. */
    x8_client_free(c);
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/config", "{\"token_delay_ms\":0}", NULL, 0), 200);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_handle_is_idempotent_and_null_safe),
        cmocka_unit_test_setup(a_triggered_handle_fails_every_call_at_once, reset_emulator),
        cmocka_unit_test_setup(opts_of_an_older_size_are_not_cancellable, reset_emulator),
        cmocka_unit_test_setup(a_request_blocked_on_a_slow_api_returns_cancelled_on_a_closed_connection, reset_emulator),
        cmocka_unit_test_setup(a_caller_cancelled_during_a_slow_token_fetch_leaves_it_to_the_others, reset_emulator),
        cmocka_unit_test_setup(a_request_waiting_for_its_token_returns_cancelled, reset_emulator),
    };
    return cmocka_run_group_tests(tests, start_emulator, stop_emulator);
}
