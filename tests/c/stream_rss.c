/* A 200 MB streamed download in constant memory: this process downloads a generated Storage object from the
 * emulator (a separate process, which makes the content as it sends it) through x8_request's write callback,
 * counts and checks the bytes, then reads its own peak resident set (VmHWM in /proc/self/status) and fails if
 * it passed the bound. Not a cmocka test: under valgrind the peak would be valgrind's.
 *
 * Usage: stream_rss [MEGABYTES [LIMIT_MB]] (defaults 200 and 30). Exits 0 when the peak stayed under the limit. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator.h"
#include "stream_helpers.h"
#include "x8.h"

static long peak_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

static int count(void *user, const uint8_t *data, size_t len) {
    (void)data;
    *(unsigned long long *)user += len;
    return 0;
}

int main(int argc, char **argv) {
    unsigned long long mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 200;
    long limit_mb = argc > 2 ? strtol(argv[2], NULL, 10) : 30;
    emulator emu;
    const char *args[] = {"--client", "rss-client:rss-secret:storage", NULL};
    if (emulator_start(&emu, args) != 0) {
        fprintf(stderr, "the emulator did not start\n");
        return 2;
    }
    int rc = 1;
    char path[256];
    x8_options *o = NULL;
    x8_client *c = NULL;
    x8_error *err = NULL;
    x8_response *r = NULL;
    if (add_object(&emu, mb << 20, path, sizeof path) != 0) {
        fprintf(stderr, "adding the object failed\n");
        goto out;
    }
    o = x8_options_new();
    if (!o || x8_options_set_base_url(o, emu.base_url, &err) != X8_STATUS_OK ||
        x8_client_new("rss-client", "rss-secret", o, &c, &err) != X8_STATUS_OK)
        goto out;
    long before = peak_rss_kb();
    unsigned long long got = 0;
    x8_request_opts ro = {.size = sizeof ro, .timeout_ms = 600000, .write = count, .write_user = &got};
    if (x8_request(c, "GET", path, &ro, &r, &err) != X8_STATUS_OK) goto out;
    long peak = peak_rss_kb();
    printf("streamed %llu bytes (status %u); peak RSS %ld kB before the download, %ld kB after (limit %ld MB)\n",
           got, x8_response_status(r), before, peak, limit_mb);
    if (x8_response_status(r) != 200 || got != mb << 20) {
        fprintf(stderr, "expected %llu bytes with status 200\n", mb << 20);
    } else if (peak < 0 || peak >= limit_mb * 1024) {
        fprintf(stderr, "the peak RSS passed %ld MB\n", limit_mb);
    } else {
        rc = 0;
    }
out:
    if (err) fprintf(stderr, "%s: %s\n", x8_status_str(x8_error_code(err)), x8_error_message(err));
    x8_error_free(err);
    x8_response_free(r);
    x8_client_free(c);
    x8_options_free(o);
    emulator_stop(&emu);
    return rc;
}
