/* Row 6: token endpoint load from a fleet of short-lived processes. N processes (20 by default) each start, make
 * one x8 GET and exit; the emulator counts the token fetches. Today each process fetches its own token (1 per
 * process); a cache shared between processes would cut that.
 *
 * Usage: fleet [N] [DIR]  runs N children one after another and reports fetches per process; with DIR, the
 *                          children share one token through x8's token cache file in DIR
 *        fleet --one      what each child does */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--one")) {
        x8_client *c = bench_x8_client();
        bench_x8_get(c);
        x8_client_free(c);
        return 0;
    }
    int n = argc > 1 ? atoi(argv[1]) : 20;
    const char *shared = argc > 2 ? argv[2] : NULL;
    if (shared) setenv("BENCH_TOKEN_CACHE", shared, 1);
    /* The children must talk to our emulator, also when this process started it. */
    setenv("BENCH_URL", bench_url(), 1);
    bench_set_token_lifetime(1799);
    bench_reset();
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < n; i++) {
        pid_t pid;
        char *child_argv[] = {argv[0], "--one", NULL};
        int status;
        if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, child_argv, environ)) die("posix_spawn failed");
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
            die("fleet child %d failed", i);
    }
    uint64_t wall = bench_now_ns() - t0;
    long long fetches = bench_stat("token_requests");
    bench_emit("fleet", shared ? "x8 (C), shared token cache" : "x8 (C)", 1, "\"processes\":%d,\"token_requests\":%lld,\"fetches_per_process\":%.2f,"
               "\"ms_per_process\":%.2f", n, fetches, (double)fetches / n, (double)wall / 1e6 / n);
    return 0;
}
