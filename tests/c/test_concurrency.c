/* Threads sharing one client, and fork(). */
#define _GNU_SOURCE
#include "fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#ifndef _WIN32 /* Windows has no fork(): the fork test is left out there */
#include <sys/wait.h>
#include <unistd.h>
#endif

#define THREADS 16
#define CALLS 50

typedef struct worker {
    x8_client *client;
    pthread_barrier_t *start;
    int index;
    int failures;
} worker;

static void *hammer(void *arg) {
    worker *w = arg;
    pthread_barrier_wait(w->start);
    for (int i = 0; i < CALLS; i++) {
        x8_error *err = NULL;
        if ((w->index + i) % 2 == 0) {
            char token[X8_TOKEN_BUFFER_SIZE];
            if (x8_get_token(w->client, token, sizeof token, NULL, &err) != X8_STATUS_OK || strlen(token) != 28)
                w->failures++;
        } else {
            x8_response *r = NULL;
            if (x8_request(w->client, "GET", "/analytics/cc/v5/realtime-metrics/queues?size=2", NULL, &r, &err) != X8_STATUS_OK ||
                x8_response_status(r) != 200)
                w->failures++;
            x8_response_free(r);
        }
        if (err) fprintf(stderr, "thread %d: %s\n", w->index, x8_error_message(err));
        x8_error_free(err);
    }
    return NULL;
}

static void sixteen_threads_share_one_token_fetch(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    pthread_t threads[THREADS];
    worker workers[THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){.client = c, .start = &start, .index = i};
        assert_int_equal(pthread_create(&threads[i], NULL, hammer, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].failures, 0);
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(emulator_stat(&emu, "token_requests"), 1);
    assert_int_equal(emulator_stat(&emu, "api_requests"), THREADS * CALLS / 2);
    x8_client_free(c);
}

#ifndef _WIN32
static void a_client_used_after_fork_fails_clearly_in_the_child(void **state) {
    (void)state;
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    char token[X8_TOKEN_BUFFER_SIZE];
    assert_int_equal(x8_get_token(c, token, sizeof token, NULL, NULL), X8_STATUS_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        x8_error *err = NULL;
        int ok = x8_get_token(c, token, sizeof token, NULL, &err) == X8_STATUS_FORKED &&
                 strstr(x8_error_message(err), "fork") != NULL;
        x8_error_free(err);
        x8_client_free(c); /* safe in the child */
        /* A new client in the child works. */
        x8_client *fresh = NULL;
        x8_options *o = x8_options_new();
        x8_options_set_base_url(o, emu.base_url, NULL);
        ok = ok && x8_client_new(TEST_ID, TEST_SECRET, o, &fresh, NULL) == X8_STATUS_OK &&
             x8_get_token(fresh, token, sizeof token, NULL, NULL) == X8_STATUS_OK;
        x8_client_free(fresh);
        x8_options_free(o);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent's client is untouched. */
    assert_int_equal(x8_get_token(c, token, sizeof token, NULL, NULL), X8_STATUS_OK);
    x8_client_free(c);
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(sixteen_threads_share_one_token_fetch, reset_emulator),
#ifndef _WIN32
        cmocka_unit_test_setup(a_client_used_after_fork_fails_clearly_in_the_child, reset_emulator),
#endif
    };
    return cmocka_run_group_tests_name("x8 C API threads and fork", tests, start_emulator, stop_emulator);
}
