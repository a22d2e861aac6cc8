/* The fork matrix (issue 13, defect 5; issue 15): fork while idle, while a token fetch is in flight, while a
 * store callback runs, while a log callback runs, with many clients idle and with many clients' renewals running
 * and queued on the renewal scheduler; in the child every entry point on an
 * inherited client answers X8_STATUS_FORKED without calling any callback, freeing it never blocks, and a new
 * client works; a child forked while the parent holds the cache-file lock does not keep that lock (or any
 * descriptor of it), nor any of the parent's pooled sockets, nor a Redis socket whose connect was under way. Each child runs under alarm(): a child that hangs is killed and the test fails. */
#define _GNU_SOURCE
#include "fixture.h"
#include "x8_threads.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
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

typedef struct queued {
    x8_client *c[QUEUED];
} queued;

static int queued_renewals_never_run_in_the_child(void *arg) {
    queued *qs = arg;
    int bad = 0;
    /* The parent's scheduler threads do not exist here, and nothing of an inherited client starts one. */
    for (int i = 0; i < QUEUED; i++) bad += entry_points_not_forked(qs->c[i]);
    int threads = x8_named_threads();
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

/* ---- fork with pooled connections ----------------------------------------------------------------------- */

/* A server on loopback (an HTTP API, or a Redis speaking just enough RESP for the store) that answers every
 * request on one kept-alive connection, then reports (on a pipe) when x8 closes that connection. */
typedef struct fake_server {
    int redis; /* RESP instead of HTTP */
    int listener;
    struct sockaddr_in addr;
    int closed[2]; /* a byte is written to closed[1] once the connection reads EOF */
    pthread_t thread;
} fake_server;

/* The length of the first complete request in `buf` (0: not yet complete); its reply in `*reply`. */
static size_t http_request(const char *buf, size_t have, const char **reply) {
    (void)have;
    const char *end = strstr(buf, "\r\n\r\n"); /* a GET: no body */
    *reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    return end ? (size_t)(end + 4 - buf) : 0;
}

/* A RESP command (an array of bulk strings): a GET finds nothing, an EVAL (the lock's release) deletes one
 * key, anything else (SET, SET NX: the lock is taken) is OK. */
static size_t resp_command(const char *buf, size_t have, const char **reply) {
    const char *p = buf, *end = buf + have;
    if (have < 4 || *p != '*') return 0;
    long args = strtol(p + 1, NULL, 10);
    const char *name = NULL;
    if (!(p = strstr(p, "\r\n"))) return 0;
    p += 2;
    for (long i = 0; i < args; i++) {
        if (p >= end || *p != '$') return 0;
        long len = strtol(p + 1, NULL, 10);
        const char *data = strstr(p, "\r\n");
        if (!data || data + 2 + len + 2 > end) return 0;
        data += 2;
        if (i == 0) name = data;
        p = data + len + 2;
    }
    *reply = name && !strncmp(name, "GET", 3) ? "$-1\r\n" : name && !strncmp(name, "EVAL", 4) ? ":1\r\n" : "+OK\r\n";
    return (size_t)(p - buf);
}

static void *serve_until_closed(void *arg) {
    fake_server *s = arg;
    int conn = accept(s->listener, NULL, NULL);
    if (conn < 0) return NULL;
    char buf[8192];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(conn, buf + have, sizeof buf - 1 - have);
        if (n <= 0) break; /* EOF: every descriptor of x8's end is closed */
        have += (size_t)n;
        buf[have] = 0;
        const char *reply;
        size_t used;
        while ((used = (s->redis ? resp_command : http_request)(buf, have, &reply)) > 0) {
            if (write(conn, reply, strlen(reply)) != (ssize_t)strlen(reply)) goto done;
            have -= used;
            memmove(buf, buf + used, have);
            buf[have] = 0;
        }
        if (have >= sizeof buf - 1) break;
    }
done:
    close(conn);
    if (write(s->closed[1], "c", 1) != 1) return NULL;
    return NULL;
}

static void fake_server_start(fake_server *s, int redis) {
    s->redis = redis;
    s->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->listener >= 0);
    memset(&s->addr, 0, sizeof s->addr);
    s->addr.sin_family = AF_INET;
    s->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->listener, (struct sockaddr *)&s->addr, sizeof s->addr), 0);
    socklen_t len = sizeof s->addr;
    assert_int_equal(getsockname(s->listener, (struct sockaddr *)&s->addr, &len), 0);
    assert_int_equal(listen(s->listener, 4), 0);
    assert_int_equal(pipe(s->closed), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, serve_until_closed, s), 0);
}

static void fake_server_stop(fake_server *s) {
    pthread_join(s->thread, NULL);
    close(s->listener);
    close(s->closed[0]);
    close(s->closed[1]);
}

/* Whether descriptor `fd` is a socket connected to `port` on IPv4 loopback. */
static int connected_to(int fd, int port) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getpeername(fd, (struct sockaddr *)&a, &len) != 0 || a.sin_family != AF_INET) return 0;
    return ntohs(a.sin_port) == port;
}

#define MAX_FDS 64

static int port_of(const fake_server *s) { return ntohs(s->addr.sin_port); }

/* The descriptors of this process connected to the fake API, the fake Redis or the emulator: x8's connections
 * (the test's own admin calls to the emulator close theirs). */
static int x8_sockets(const fake_server *api, const fake_server *redis, int *out, int max) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd == dirfd(d)) continue;
        if (connected_to(fd, port_of(api)) || connected_to(fd, port_of(redis)) || connected_to(fd, emu.port))
            out[n++] = fd;
    }
    closedir(d);
    return n;
}

static int count_connected_to(const int *fds, int n, const fake_server *s) {
    int found = 0;
    for (int i = 0; i < n; i++) found += connected_to(fds[i], port_of(s));
    return found;
}

/* In the child: how many of the descriptors that were x8's sockets in the parent do not refer to /dev/null. */
static int not_dev_null(const int *fds, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++) {
        char link[64], target[256];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fds[i]);
        ssize_t len = readlink(link, target, sizeof target - 1);
        target[len > 0 ? len : 0] = 0;
        if (strcmp(target, "/dev/null") != 0) {
            fprintf(stderr, "descriptor %d of the child is %s, not /dev/null\n", fds[i], target);
            bad++;
        }
    }
    return bad;
}

/* Whether `s` reports its connection closed within a bound that is generous (the close is immediate): the bound
 * only keeps a failing run from hanging, as without the fix the close came only when the child exited. */
static int closed_soon(const fake_server *s) {
    struct pollfd p = {.fd = s->closed[0], .events = POLLIN};
    return poll(&p, 1, 10000) == 1;
}

/* A child forked while the parent has pooled connections (to the API, to the Redis store, to the token endpoint
 * if kept): before, it held them open until it exited, so the parent closing one (freeing its client) sent the
 * server no FIN. Now each is /dev/null in the child, and the servers see the close while the child still
 * lives. */
static void fork_with_pooled_connections(void **state) {
    (void)state;
    fake_server api, redis;
    fake_server_start(&api, 0);
    fake_server_start(&redis, 1);
    char base[64], token_url[192], redis_url[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port_of(&api));
    snprintf(token_url, sizeof token_url, "%s/oauth/v2/token", emu.base_url);
    snprintf(redis_url, sizeof redis_url, "redis://127.0.0.1:%d", port_of(&redis));
    x8_options *o = x8_options_new();
    assert_int_equal(x8_options_set_base_url(o, base, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_token_url(o, token_url, NULL), X8_STATUS_OK);
    assert_int_equal(x8_options_set_redis_store(o, redis_url, NULL), X8_STATUS_OK);
    x8_client *c = NULL;
    assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, NULL), X8_STATUS_OK);
    x8_options_free(o);
    x8_response *r = NULL;
    assert_int_equal(x8_request(c, "GET", "/pooled", NULL, &r, NULL), X8_STATUS_OK);
    assert_int_equal(x8_response_status(r), 200);
    x8_response_free(r);

    int was[MAX_FDS];
    int count = x8_sockets(&api, &redis, was, MAX_FDS);
    /* What the child must not hold: at least the API's and the Redis store's connections. */
    assert_true(count_connected_to(was, count, &api) >= 1);
    assert_true(count_connected_to(was, count, &redis) >= 1);

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
        int still[MAX_FDS];
        int sockets = x8_sockets(&api, &redis, still, MAX_FDS);
        if (sockets) fprintf(stderr, "the child holds %d of x8's sockets\n", sockets);
        char bad = (char)(not_dev_null(was, count) + sockets);
        if (write(report[1], &bad, 1) != 1) _exit(3);
        char b;
        /* Stays alive until the parent has seen the servers' ends close. */
        if (read(go[0], &b, 1) < 0) _exit(3);
        end_child(0);
    }
    close(go[0]);
    close(report[1]);
    char bad = -1;
    assert_int_equal(read(report[0], &bad, 1), 1);
    x8_client_free(c);
    int api_closed = closed_soon(&api), redis_closed = closed_soon(&redis);
    if (write(go[1], "x", 1) != 1) fail_msg("cannot tell the child to end");
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(go[1]);
    close(report[0]);
    fake_server_stop(&api);
    fake_server_stop(&redis);
    if (!api_closed) fprintf(stderr, "the API server saw no close while the child lived\n");
    if (!redis_closed) fprintf(stderr, "the Redis server saw no close while the child lived\n");
    assert_int_equal(bad, 0);
    assert_true(api_closed);
    assert_true(redis_closed);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- fork while a Redis connect is under way ---------------------------------------------------------- */

/* A "Redis" whose connects never complete: a listener with a backlog of 0, never accepted, whose queue one
 * connection of the test's own fills; Linux then drops the SYN of every further connect, which stays in
 * SYN_SENT until its caller gives up. All on loopback. */
typedef struct held_redis {
    int listener, filler, port;
} held_redis;

static void held_redis_start(held_redis *h) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(h->listener >= 0);
    assert_int_equal(bind(h->listener, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(h->listener, (struct sockaddr *)&a, &len), 0);
    h->port = ntohs(a.sin_port);
    assert_int_equal(listen(h->listener, 0), 0);
    h->filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(h->filler >= 0);
    assert_int_equal(connect(h->filler, (struct sockaddr *)&a, sizeof a), 0);
}

static void held_redis_stop(held_redis *h) {
    close(h->filler);
    close(h->listener);
}

/* The socket inode behind descriptor `fd` of this process, or 0 when it is no socket. */
static unsigned long socket_inode(int fd) {
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, target, sizeof target - 1);
    if (len <= 0) return 0;
    target[len] = 0;
    unsigned long inode = 0;
    return sscanf(target, "socket:[%lu]", &inode) == 1 ? inode : 0;
}

/* Whether `inode` is an IPv4 TCP socket with remote port `port`, in `state` (/proc/net/tcp's hex code; 0 for
 * any). */
static int tcp_socket_to(unsigned long inode, int port, int state) {
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f) return 0;
    char line[512];
    int found = 0;
    if (!fgets(line, sizeof line, f)) line[0] = 0; /* the column titles */
    while (!found && fgets(line, sizeof line, f)) {
        unsigned rem_port = 0, st = 0;
        unsigned long ino = 0;
        if (sscanf(line, " %*d: %*x:%*x %*x:%x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &rem_port, &st, &ino) == 3)
            found = ino == inode && (int)rem_port == port && (state == 0 || (int)st == state);
    }
    fclose(f);
    return found;
}

#define TCP_SYN_SENT 2

/* The descriptors of this process, other than `except`, that are TCP sockets to `port` in `state`. */
static int sockets_to(int port, int state, int except, int *out, int max) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd == dirfd(d) || fd == except) continue;
        unsigned long inode = socket_inode(fd);
        if (inode && tcp_socket_to(inode, port, state)) out[n++] = fd;
    }
    closedir(d);
    return n;
}

typedef struct held_connect {
    held_redis *redis;
    int fd; /* x8's socket whose connect was under way in the parent */
} held_connect;

/* In the child: the descriptor that was x8's connecting socket is no socket any more, and no descriptor but the
 * test's own filler is a socket to the held Redis. */
static int connecting_socket_is_not_inherited(void *arg) {
    held_connect *h = arg;
    int fds[MAX_FDS];
    int still = sockets_to(h->redis->port, 0, h->redis->filler, fds, MAX_FDS);
    unsigned long inode = socket_inode(h->fd);
    if (inode) fprintf(stderr, "descriptor %d of the child is still socket %lu\n", h->fd, inode);
    if (still) fprintf(stderr, "the child holds %d sockets to Redis\n", still);
    return inode == 0 && still == 0 ? 0 : 1;
}

/* A child forked while another thread's Redis connect is under way (over TCP, and for rediss:// before its TLS
 * handshake): before, the Redis store's socket was registered only once connected, and the child kept a live
 * socket to Redis; now it is made registered, before its connect, and the child holds /dev/null. The token
 * call itself still succeeds: the store fails within its bound and the client fetches on its own. */
static void fork_while_a_redis_connect_is_in_flight(void **state) {
    (void)state;
    const char *schemes[] = {"redis", "rediss"};
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++) {
        held_redis redis;
        held_redis_start(&redis);
        char url[64];
        snprintf(url, sizeof url, "%s://127.0.0.1:%d", schemes[i], redis.port);
        x8_options *o = x8_options_new();
        assert_int_equal(x8_options_set_base_url(o, emu.base_url, NULL), X8_STATUS_OK);
        assert_int_equal(x8_options_set_redis_store(o, url, NULL), X8_STATUS_OK);
        x8_client *c = NULL;
        assert_int_equal(x8_client_new(TEST_ID, TEST_SECRET, o, &c, NULL), X8_STATUS_OK);
        x8_options_free(o);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, fetch_once, c), 0);
        /* Each store call gives its connect up to a second, and a fetch makes several: wait (bounded only so a
         * broken run ends) until x8's socket is seen in SYN_SENT. */
        held_connect h = {.redis = &redis, .fd = -1};
        for (int spins = 0; h.fd < 0; spins++) {
            assert_true(spins < 20000);
            int fds[MAX_FDS];
            if (sockets_to(redis.port, TCP_SYN_SENT, redis.filler, fds, MAX_FDS) > 0)
                h.fd = fds[0];
            else
                usleep(500);
        }
        in_child(connecting_socket_is_not_inherited, &h);
        void *st = NULL;
        pthread_join(t, &st);
        assert_int_equal((intptr_t)st, X8_STATUS_OK);
        x8_client_free(c);
        held_redis_stop(&redis);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(fork_while_idle_with_many_clients, reset_emulator),
        cmocka_unit_test_setup(fork_while_renewals_of_many_clients_run_and_queue, reset_emulator),
        cmocka_unit_test_setup(fork_while_a_fetch_is_in_flight, reset_emulator),
        cmocka_unit_test_setup(fork_while_a_store_callback_runs, reset_emulator),
        cmocka_unit_test_setup(fork_while_a_log_callback_runs, reset_emulator),
        cmocka_unit_test_setup(fork_while_a_fetch_holds_the_cache_lock, reset_emulator),
        cmocka_unit_test_setup(fork_with_pooled_connections, reset_emulator),
        cmocka_unit_test_setup(fork_while_a_redis_connect_is_in_flight, reset_emulator),
    };
    return cmocka_run_group_tests_name("x8 fork matrix", tests, start_emulator, stop_emulator);
}
