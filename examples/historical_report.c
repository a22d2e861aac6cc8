/* Contact Center historical analytics: create a summary report, poll its status with a backoff until DONE
 * (never past a deadline), read its data page by page, then download it as CSV.
 *
 * Polling lives here, in the example, not in the library: what "done" looks like, how long a report may take
 * and how often to ask are the application's (8x8 asks only that status is not checked in a tight loop); x8
 * supplies the parts that are the same everywhere: per-call timeouts, the pager, token renewal.
 *
 * Historical reports are the `analytics realtime-api` product too. The base is region specific:
 * /analytics/cc/v8/historical-metrics (US), /eu/..., /au/..., /ca/... before `analytics`.
 *
 * Credentials from X8_CLIENT_ID / X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator). */
#include "example_util.h"

#define BASE "/analytics/cc/v8/historical-metrics"
#define DEADLINE_MS 120000 /* the whole job: create, poll, read */

/* A GET bounded by what is left of the deadline; NULL (with a message) on failure or when it has passed. */
static x8_response *get(x8_client *client, const char *path, const char *accept, int64_t deadline) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
        fprintf(stderr, "the deadline passed before GET %s\n", path);
        return NULL;
    }
    const char *headers[] = {accept};
    x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = accept ? 1 : 0,
                            .timeout_ms = (uint32_t)left};
    x8_response *r = NULL;
    x8_error *err = NULL;
    if (x8_request(client, "GET", path, &opts, &r, &err) != X8_STATUS_OK) {
        fail(path, err);
        return NULL;
    }
    return r;
}

/* Polls the report's status: 250 ms, then twice as long each time up to 8 s, and never sleeping past the
 * deadline. Returns 0 when DONE. */
static int wait_until_done(x8_client *client, const char *id, int64_t deadline) {
    char path[128], status[32] = "";
    snprintf(path, sizeof path, BASE "/%s/status", id);
    int64_t delay = 250;
    for (int attempt = 1;; attempt++) {
        x8_response *r = get(client, path, NULL, deadline);
        if (!r) return -1;
        const char *body = (const char *)x8_response_body(r, NULL);
        int ok = x8_response_status(r) == 200 && json_field(body, "status", status, sizeof status) == 0;
        if (!ok) fprintf(stderr, "status: HTTP %u %s\n", x8_response_status(r), body);
        x8_response_free(r);
        if (!ok) return -1;
        printf("status check %d: %s\n", attempt, status);
        if (strcmp(status, "DONE") == 0) return 0;
        if (strcmp(status, "FAILED") == 0) return -1;
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            fprintf(stderr, "the report was not DONE before the deadline\n");
            return -1;
        }
        sleep_ms(delay < left ? delay : left);
        delay = delay * 2 > 8000 ? 8000 : delay * 2;
    }
}

int main(void) {
    const int64_t deadline = now_ms() + DEADLINE_MS;
    x8_error *err = NULL;
    x8_client *client = NULL;
    if (x8_client_new_from_env(NULL, &client, &err) != X8_STATUS_OK) return fail("x8_client_new_from_env", err);

    const char *request = "{\"type\":\"queue\",\"title\":\"x8 example\",\"granularity\":\"day\","
                          "\"dateRange\":{\"start\":\"2022-08-29T00:00:00-04:00\",\"end\":\"2022-08-30T00:00:00-04:00\"},"
                          "\"groupBy\":{\"name\":\"queue\"}}";
    const char *json[] = {"Content-Type: application/json"};
    x8_request_opts create = {.size = sizeof create, .headers = json, .header_count = 1,
                              .body = (const uint8_t *)request, .body_len = strlen(request), .timeout_ms = 30000};
    x8_response *created = NULL;
    if (x8_request(client, "POST", BASE "/", &create, &created, &err) != X8_STATUS_OK) {
        x8_client_free(client);
        return fail("creating the report", err);
    }
    char id[32] = "";
    const char *body = (const char *)x8_response_body(created, NULL);
    int rc = x8_response_status(created) == 200 && json_field(body, "id", id, sizeof id) == 0 ? 0 : 1;
    if (rc) fprintf(stderr, "create: HTTP %u %s\n", x8_response_status(created), body);
    else printf("report %s created\n", id);
    x8_response_free(created);

    if (rc == 0 && wait_until_done(client, id, deadline) != 0) rc = 1;

    if (rc == 0) { /* the summary data, 10 rows a page, by X-Page / X-Total-Pages / Link rel="next" */
        char path[160];
        snprintf(path, sizeof path, BASE "/%s/data?size=10", id);
        x8_pager *pager = NULL;
        if (x8_pager_new(client, "GET", path, NULL, X8_PAGE_STYLE_PAGE_HEADERS, 0, &pager, &err) != X8_STATUS_OK) {
            rc = fail("x8_pager_new", err);
        } else {
            size_t pages = 0, rows = 0;
            x8_response *page = NULL;
            x8_status st;
            for (;;) {
                int64_t left = deadline - now_ms();
                if (left <= 0) { /* the deadline covers the whole listing, not each page */
                    fprintf(stderr, "the deadline passed while reading the data\n");
                    rc = 1;
                    break;
                }
                x8_pager_set_timeout(pager, (uint32_t)left, NULL);
                if ((st = x8_pager_next(pager, &page, &err)) != X8_STATUS_OK) {
                    rc = fail("x8_pager_next", err);
                    break;
                }
                if (!page) break;
                size_t n = 0;
                char *items = NULL;
                if (x8_response_status(page) != 200 || x8_page_items(page, &items, &n, NULL) != X8_STATUS_OK) {
                    fprintf(stderr, "data: HTTP %u\n", x8_response_status(page));
                    rc = 1;
                }
                x8_free(items);
                rows += n;
                pages++;
                x8_response_free(page);
            }
            x8_pager_free(pager);
            if (rc == 0) printf("%zu rows in %zu pages\n", rows, pages);
        }
    }

    if (rc == 0) { /* the whole report as CSV: not paged */
        char path[128];
        snprintf(path, sizeof path, BASE "/%s/download", id);
        x8_response *csv = get(client, path, "Accept: text/csv", deadline);
        if (!csv || x8_response_status(csv) != 200) {
            rc = 1;
        } else {
            size_t len = 0;
            const char *text = (const char *)x8_response_body(csv, &len);
            const char *disposition = x8_response_header(csv, "Content-Disposition");
            printf("CSV: %zu bytes (%s), header line: %.*s\n", len, disposition ? disposition : "no filename",
                   (int)strcspn(text, "\r\n"), text);
        }
        x8_response_free(csv);
    }
    x8_client_free(client);
    return rc;
}
