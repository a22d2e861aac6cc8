/* Row 5: memory. Peak RSS (getrusage ru_maxrss) of one process after 10,000 and after 100,000 x8 GETs, which
 * shows whether memory stays flat; and, when run with LD_PRELOAD=malloc_count.so, heap allocations per cached
 * x8_get_token (x8 promises none) and per x8_request. */
#include <dlfcn.h>
#include <stdio.h>

#include "bench.h"

int main(void) {
    bench_url();
    bench_set_token_lifetime(1799);
    x8_client *c = bench_x8_client();
    bench_x8_get(c); /* token cached, connection open */

    uint64_t (*allocations)(void) = (uint64_t(*)(void))dlsym(RTLD_DEFAULT, "bench_allocations");
    if (allocations) {
        char buf[X8_TOKEN_BUFFER_SIZE];
        size_t len;
        const int hits = 1000000, gets = 1000;
        uint64_t a0 = allocations();
        for (int i = 0; i < hits; i++)
            if (x8_get_token(c, buf, sizeof buf, &len, NULL)) die("x8_get_token failed");
        uint64_t a1 = allocations();
        for (int i = 0; i < gets; i++) bench_x8_get(c);
        uint64_t a2 = allocations();
        bench_emit("allocs", "x8 (C)", 1, "\"per_get_token\":%.4f,\"per_request\":%.1f",
                   (double)(a1 - a0) / hits, (double)(a2 - a1) / gets);
    } else {
        fprintf(stderr, "memory: not run under LD_PRELOAD=malloc_count.so, so allocations are not counted\n");
    }

    int total = (int)bench_seconds(100000), first = total / 10;
    for (int i = 0; i < first; i++) bench_x8_get(c);
    long rss_first = bench_maxrss_kb();
    for (int i = first; i < total; i++) bench_x8_get(c);
    long rss_total = bench_maxrss_kb();
    bench_emit("rss", "x8 (C)", 1, "\"requests_first\":%d,\"maxrss_kb_first\":%ld,\"requests\":%d,\"maxrss_kb\":%ld",
               first, rss_first, total, rss_total);
    x8_client_free(c);
    return 0;
}
