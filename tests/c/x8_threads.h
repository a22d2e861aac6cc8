/* The threads of this process that x8 named ("x8-renew-timer", "x8-renew", "x8-lookup"...), read from
 * /proc/self/task: how the fork tests and the many-clients benchmark see x8's thread count without asking x8.
 * Linux only; -1 when /proc is not there. Shared by tests/c and benches/c. */
#ifndef X8_TEST_THREADS_H
#define X8_TEST_THREADS_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static inline int x8_named_threads(void) {
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

#endif
