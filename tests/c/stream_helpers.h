/* Shared by the streaming tests: a Storage object of a given size on the emulator, and its content path. */
#ifndef X8_TEST_STREAM_HELPERS_H
#define X8_TEST_STREAM_HELPERS_H

#include <stdio.h>
#include <string.h>

#include "emulator.h"

/* Adds a generated object of `bytes` bytes and writes its content path into `path`. Returns 0 on success. */
static int add_object(const emulator *e, unsigned long long bytes, char *path, size_t path_len) {
    char spec[64], reply[4096];
    snprintf(spec, sizeof spec, "{\"bytes\":%llu}", bytes);
    if (emulator_admin(e, "POST", "/_emulator/storage/objects", spec, reply, sizeof reply) != 200) return -1;
    const char *id = strstr(reply, "\"id\":\"");
    if (!id) return -1;
    id += 6;
    const char *end = strchr(id, '"');
    if (!end) return -1;
    snprintf(path, path_len, "/storage/us-west/v3/objects/%.*s/content", (int)(end - id), id);
    return 0;
}

#endif
