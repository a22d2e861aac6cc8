/* The fork matrix (issue 13, defect 5; issue 15): fork while idle, while a token fetch is in flight, while a
 * store callback runs, while a log callback runs, with many clients idle and with many clients' renewals running
 * and queued on the renewal scheduler; in the child every entry point on an
 * inherited client answers X8_STATUS_FORKED without calling any callback, freeing it never blocks, and a new
 * client works; a child forked while the parent holds the cache-file lock does not keep that lock (or any
 * descriptor of it). Each child runs under alarm(): a child that hangs is killed and the test fails. */
#define _GNU_SOURCE
#include "fixture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_ALARM_S 20

/* Every entry point that takes the client, on an inherited one: each must answer FORKED. Returns the number
 * that did not. */
static int entry_points_not_forked(x8_client *c) {
    int bad = 0;
    char token[X8_TOKEN_BUFFER_SIZE];
    x8_error *err = NULL;
    if (x8_get_token(c, token, sizeof token, NULL, &err) != X8_STATUS_FORKED) bad++;
    x8_error_free(err), err = NULL;
    char *copy = NULL;
    if (x8_client_token_string(c, &copy, &err) != X8_STATUS_FORKED || copy != NULL) bad++;
    x8_error_free(err), err = NULL;
    bool has = false;
    if (x8_client_has_product(c, "vcc", &has, &err) != X8_STATUS_FORKED) bad++;
    x8_error_free(err), err = NULL;
    x8_token *t = NULL;
    if (x8_client_token(c, 0, &t, &err) != X8_STATUS_FORKED) bad++;
    x8_token_free(t);
    x8_error_free(err), err = NULL;
    if (x8_client_invalidate(c, &err) != X8_STATUS_FORKED) bad++;
    x8_error_free(err), err = NULL;
    bool dropped = false;
    if (x8_client_invalidate_token(c, "whatever", &dropped, &err) != X8_STATUS_FORKED) bad++;
    x8_error_free(err), err = NULL;
    x8_response *r = NULL;
    if (x8_request(c, "GET", "/analytics/cc/v5/realtime-metrics/queues", NULL, &r, &err) !=
        X8_STATUS_FORKED)
        bad++;
    x8_response_free(r);
    x8_error_free(err);
    return bad;
}

/* A new client made in the child gets a token from the emulator. */
static int fresh_client_works(void) {
    x8_options *o = x8_options_new();
    x8_client *fresh = NULL;
    char token[X8_TOKEN_BUFFER_SIZE];
    int ok = x8_options_set_base_url(o, emu.base_url, NULL) == X8_STATUS_OK &&
             x8_client_new(TEST_ID, TEST_SECRET, o, &fresh, NULL) == X8_STATUS_OK &&
             x8_get_token(fresh, token, sizeof token, NULL, NULL) == X8_STATUS_OK;
    x8_client_free(fresh);
    x8_options_free(o);
    return ok;
}

/* Ends a child with `code`, through exec() as forked children usually end: the child's copy of the parent's
 * memory (every block of it still referenced, by design) is then not leak-checked by valgrind, which counts every
 * leak kind in this suite. */
static void end_child(int code) {
    execl("/bin/sh", "sh", "-c", code == 0 ? "exit 0" : "exit 1", (char *)NULL);
    _exit(2);
}

/* Forks; the child runs `child(arg)` under an alarm and exits with its result (0 = pass). */
static void in_child(int (*child)(void *), void *arg) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_ALARM_S);
        end_child(child(arg));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) fprintf(stderr, "the child died of signal %d (SIGALRM: it hung)\n", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- fork while idle, many clients -------------------------------------------------------------------- */

#define MANY 50

typedef struct clients {
    x8_client *c[MANY];
} clients;

static int every_inherited_client_is_forked_and_freed(void *arg) {
    clients *cs = arg;
    int bad = 0;
    for (int i = 0; i < MANY; i++) bad += entry_points_not_forked(cs->c[i]);
    for (int i = 0; i < MANY; i++) x8_client_free(cs->c[i]);
    if (bad) fprintf(stderr, "%d entry points did not answer FORKED\n", bad);
    return bad == 0 && fresh_client_works() ? 0 : 1;
}

static void fork_while_idle_with_many_clients(void **state) {
    (void)state;
    clients cs;
    char token[X8_TOKEN_BUFFER_SIZE];
    for (int i = 0; i < MANY; i++) {
        cs.c[i] = make_client(TEST_ID, TEST_SECRET);
        assert_int_equal(x8_get_token(cs.c[i], token, sizeof token, NULL, NULL), X8_STATUS_OK);
    }
    long before = emulator_stat(&emu, "token_requests");
    in_child(every_inherited_client_is_forked_and_freed, &cs);
    /* The child's inherited clients sent nothing; only its fresh client fetched. */
    assert_int_equal(emulator_stat(&emu, "token_requests"), before + 1);
    /* The parent's clients are untouched. */
    for (int i = 0; i < MANY; i++) {
        assert_int_equal(x8_get_token(cs.c[i], token, sizeof token, NULL, NULL), X8_STATUS_OK);
        x8_client_free(cs.c[i]);
    }
}

/* ---- fork while many clients' renewals run and queue on the scheduler --------------------------------- */

#define QUEUED 12

/* Threads of this process that x8 named (the renewal scheduler's "x8-renew-timer" and "x8-renew"). */
static int x8_threads(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[300], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(comm, sizeof comm, f) && !strncmp(comm, "x8-", 3)) n++;
        if (f) fclose(f);
    }
    closedir(d);
    return n;
}

typedef struct queued {
    x8_client *c[QUEUED];
} queued;

static int queued_renewals_never_run_in_the_child(void *arg) {
    queued *qs = arg;
    int bad = 0;
    /* The parent's scheduler threads do not exist here, and nothing of an inherited client starts one. */
    for (int i = 0; i < QUEUED; i++) bad += entry_points_not_forked(qs->c[i]);
    int threads = x8_threads();
    for (int i = 0; i < QUEUED; i++) x8_client_free(qs->c[i]);
    if (bad) fprintf(stderr, "%d entry points did not answer FORKED\n", bad);
    if (threads != 0) fprintf(stderr, "%d x8 threads in the child\n", threads);
    return bad == 0 && threads == 0 && fresh_client_works() ? 0 : 1;
}

static void set_config(const char *json) {
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/config", json, NULL, 0), 200);
}

static void fork_while_renewals_of_many_clients_run_and_queue(void **state) {
    (void)state;
    char token[X8_TOKEN_BUFFER_SIZE];
    queued qs;
    /* 2 s tokens: renewals from 1.6 s on; then a slow endpoint, so three run on the workers, the rest queue. */
    set_config("{\"token_lifetime\":2}");
    for (int i = 0; i < QUEUED; i++) {
        qs.c[i] = make_client(TEST_ID, TEST_SECRET);
        assert_int_equal(x8_get_token(qs.c[i], token, sizeof token, NULL, NULL), X8_STATUS_OK);
    }
    set_config("{\"token_delay_ms\":400}");
    /* In use until the renewals have started (the emulator counts a request on arrival, before its delay). */
    for (int spins = 0; emulator_stat(&emu, "token_requests") <= QUEUED; spins++) {
        assert_true(spins < 10000);
        for (int i = 0; i < QUEUED; i++) x8_get_token(qs.c[i], token, sizeof token, NULL, NULL);
        usleep(2000);
    }
    in_child(queued_renewals_never_run_in_the_child, &qs);
    /* The parent's scheduler carries on: every client renews, and still answers. */
    for (int i = 0; i < QUEUED; i++) {
        x8_stats st = {.size = sizeof st};
        for (int spins = 0;; spins++) {
            assert_int_equal(x8_get_token(qs.c[i], token, sizeof token, NULL, NULL), X8_STATUS_OK);
            assert_int_equal(x8_client_stats(qs.c[i], &st, NULL), X8_STATUS_OK);
            if (st.token_fetches >= 2) break;
            assert_true(spins < 10000);
            usleep(2000);
        }
    }
    for (int i = 0; i < QUEUED; i++) x8_client_free(qs.c[i]);
    set_config("{\"token_lifetime\":1799,\"token_delay_ms\":0}");
}

/* ---- fork while a token fetch is in flight ------------------------------------------------------------- */

static void *fetch_once(void *arg) {
    char token[X8_TOKEN_BUFFER_SIZE];
    x8_error *err = NULL;
    intptr_t st = x8_get_token(arg, token, sizeof token, NULL, &err);
    x8_error_free(err);
    return (void *)st;
}

static int inherited_client_is_forked_and_freed(void *arg) {
    x8_client *c = arg;
    int bad = entry_points_not_forked(c);
    x8_client_free(c);
    return bad == 0 && fresh_client_works() ? 0 : 1;
}

static void fork_while_a_fetch_is_in_flight(void **state) {
    (void)state;
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/faults",
                                    "{\"target\":\"token\",\"count\":1,\"kind\":\"delay\",\"ms\":600}", NULL, 0),
                     200);
    x8_client *c = make_client(TEST_ID, TEST_SECRET);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fetch_once, c), 0);
    /* Counted by the emulator on arrival, before its delay: from then on the fetch is in flight. */
    while (emulator_stat(&emu, "token_requests") < 1) usleep(1000);
    in_child(inherited_client_is_forked_and_freed, c);
    void *st = NULL;
    pthread_join(t, &st);
    assert_int_equal((intptr_t)st, X8_STATUS_OK);
    x8_client_free(c);
}

/* ---- fork while a store callback or a log callback runs ----------------------------------------------- */

/* A callback that, once armed, says it has been entered and then blocks until released. */
typedef struct blocker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int armed, entered, released;
    atomic_int calls;
} blocker;

static void blocker_init(blocker *b) {
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->armed = b->entered = b->released = 0;
    atomic_store(&b->calls, 0);
}

static void blocker_enter(blocker *b) {
    atomic_fetch_add(&b->calls, 1);
    pthread_mutex_lock(&b->mu);
    if (b->armed && !b->entered) {
        b->entered = 1;
        pthread_cond_broadcast(&b->cv);
        while (!b->released) pthread_cond_wait(&b->cv, &b->mu);
    }
    pthread_mutex_unlock(&b->mu);
}

static void blocker_wait_entered(blocker *b) {
    pthread_mutex_lock(&b->mu);
    while (!b->entered) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static void blocker_release(blocker *b) {
    pthread_mutex_lock(&b->mu);
    b->released = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static blocker store_blocker;

static int32_t blocking_load(void *user_data, const char *key, char *buf, size_t buf_len, size_t *record_len) {
    (void)user_data, (void)key, (void)buf, (void)buf_len, (void)record_len;
    blocker_enter(&store_blocker);
    return X8_STORE_NOT_FOUND;
}

static int32_t noop_store(void *user_data, const char *key, const char *record, int64_t ttl_ms) {
    (void)user_data, (void)key, (void)record, (void)ttl_ms;
    atomic_fetch_add(&store_blocker.calls, 1);
    return X8_STORE_OK;
}

static int32_t noop_remove(void *user_data, const char *key, const char *record) {
    (void)user_data, (void)key, (void)record;
    atomic_fetch_add(&store_blocker.calls, 1);
    return X8_STORE_OK;
}

/* In the child: the store's callbacks are not called by anything done to the inherited client. */
static int store_client_in_child(void *arg) {
    x8_client *c = arg;
    int calls = atomic_load(&store_blocker.calls);
    int bad = entry_points_not_forked(c);
    x8_client_free(c); /* deadlocked here before: the store gate was held by the parent's thread */
    if (atomic_load(&store_blocker.calls) != calls) {
        fprintf(stderr, "a store callback ran in the child\n");
        bad++;
    }
    return bad == 0 && fresh_client_works() ? 0 : 1;
}

static void fork_while_a_store_callback_runs(void **state) {
    (void)state;
    blocker_init(&store_blocker);
    x8_token_store hooks = {
        .size = sizeof hooks, .load = blocking_load, .store = noop_store, .remove = noop_remove};
    x8_options *o = x8_options_new();
    assert_int_equal(x8_options_set_base_url(o, emu.base_url, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_token_store(o, &hooks, NULL), X8_STATUS_OK);
    x8_client *c = NULL;
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, NULL), X8_STATUS_OK);
    x8_options_free(o);
    store_blocker.armed = 1;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fetch_once, c), 0);
    blocker_wait_entered(&store_blocker);
    in_child(store_client_in_child, c);
    blocker_release(&store_blocker);
    void *st = NULL;
    pthread_join(t, &st);
    assert_int_equal((intptr_t)st, X8_STATUS_OK);
    x8_client_free(c);
}

static blocker log_blocker;

static void blocking_log(void *user_data, int32_t level, const char *message) {
    (void)user_data, (void)level, (void)message;
    blocker_enter(&log_blocker);
}

static int log_client_in_child(void *arg) {
    x8_client *c = arg;
    int calls = atomic_load(&log_blocker.calls);
    int bad = entry_points_not_forked(c);
    x8_client_free(c); /* the log gate is held by the parent's thread: free must not wait for it */
    if (atomic_load(&log_blocker.calls) != calls) {
        fprintf(stderr, "the log callback ran in the child\n");
        bad++;
    }
    return bad == 0 && fresh_client_works() ? 0 : 1;
}

static void fork_while_a_log_callback_runs(void **state) {
    (void)state;
    blocker_init(&log_blocker);
    x8_options *o = x8_options_new();
    assert_int_equal(x8_options_set_base_url(o, emu.base_url, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_log_callback(o, blocking_log, NULL, X8_LOG_DEBUG, NULL), X8_STATUS_OK);
    x8_client *c = NULL;
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, NULL), X8_STATUS_OK);
    x8_options_free(o);
    log_blocker.armed = 1;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fetch_once, c), 0);
    blocker_wait_entered(&log_blocker);
    in_child(log_client_in_child, c);
    blocker_release(&log_blocker);
    void *st = NULL;
    pthread_join(t, &st);
    assert_int_equal((intptr_t)st, X8_STATUS_OK);
    x8_client_free(c);
}

/* ---- fork while a fetch holds the cache-file lock ------------------------------------------------------ */

/* The path of the one `*.lock` file in `dir` into `out`; 0 when there is one. */
static int lock_file_in(const char *dir, char *out, size_t out_len) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int found = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".lock") == 0) {
            snprintf(out, out_len, "%s/%s", dir, e->d_name);
            found = 0;
        }
    }
    closedir(d);
    return found;
}

/* Whether another open file description can take the flock on `path` right now (then released at once). */
static int lock_is_free(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    int free_now = flock(fd, LOCK_EX | LOCK_NB) == 0;
    int busy = !free_now && errno == EWOULDBLOCK;
    close(fd);
    return free_now ? 1 : busy ? 0 : -1;
}

/* How many of this process's descriptors refer to `path` (Linux: /proc/self/fd). */
static int descriptors_of(const char *path) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char target[4096];
        ssize_t len = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
        if (len <= 0) continue;
        target[len] = 0;
        if (strcmp(target, path) == 0) n++;
    }
    closedir(d);
    return n;
}

/* A child forked while its parent's fetch holds the cache-file lock (the flock belongs to the open file
 * description, which a plain fork shares): before, the lock lived on in the child after the parent released
 * it, and every other process's fetch waited half its timeout for as long as the child lived. Now the child
 * holds no descriptor of the lock file, and the lock is free as soon as the parent is done. */
static void fork_while_a_fetch_holds_the_cache_lock(void **state) {
    (void)state;
    char dir[] = "/tmp/x8-fork-lock-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(emulator_admin(&emu, "POST", "/_emulator/faults",
                                    "{\"target\":\"token\",\"count\":1,\"kind\":\"delay\",\"ms\":1500}", NULL, 0),
                     200);
    x8_options *o = x8_options_new();
    assert_int_equal(x8_options_set_base_url(o, emu.base_url, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_token_cache(o, dir, NULL), X8_STATUS_OK);
    x8_client *c = NULL;
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, NULL), X8_STATUS_OK);
    x8_options_free(o);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fetch_once, c), 0);
    /* The token request reaches the emulator only once the fetch holds the lock (load, lock, load, fetch). */
    while (emulator_stat(&emu, "token_requests") < 1) usleep(1000);
    char lock[4200];
    assert_int_equal(lock_file_in(dir, lock, sizeof lock), 0);
    assert_int_equal(lock_is_free(lock), 0);

    int go[2], report[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(report), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(CHILD_ALARM_S);
        close(go[1]);
        close(report[0]);
        char held = (char)descriptors_of(lock);
        if (write(report[1], &held, 1) != 1) _exit(3);
        char b;
        /* Stays alive until the parent has checked the lock. */
        if (read(go[0], &b, 1) < 0) _exit(3);
        end_child(0);
    }
    close(go[0]);
    close(report[1]);
    char held = -1;
    assert_int_equal(read(report[0], &held, 1), 1);
    void *st = NULL;
    pthread_join(t, &st);
    assert_int_equal((intptr_t)st, X8_STATUS_OK);
    /* The parent is done with the lock; the child still lives. */
    int free_now = lock_is_free(lock);
    if (write(go[1], "x", 1) != 1) fail_msg("cannot tell the child to end");
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(go[1]);
    close(report[0]);
    if (held != 0) fprintf(stderr, "the child held %d descriptors of %s\n", held, lock);
    assert_int_equal(held, 0);
    if (free_now != 1) fprintf(stderr, "the cache lock stayed taken while the child lived\n");
    assert_int_equal(free_now, 1);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    x8_client_free(c);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(fork_while_idle_with_many_clients, reset_emulator),
        cmocka_unit_test_setup(fork_while_renewals_of_many_clients_run_and_queue, reset_emulator),
        cmocka_unit_test_setup(fork_while_a_fetch_is_in_flight, reset_emulator),
        cmocka_unit_test_setup(fork_while_a_store_callback_runs, reset_emulator),
        cmocka_unit_test_setup(fork_while_a_log_callback_runs, reset_emulator),
        cmocka_unit_test_setup(fork_while_a_fetch_holds_the_cache_lock, reset_emulator),
    };
    return cmocka_run_group_tests_name("x8 fork matrix", tests, start_emulator, stop_emulator);
}
