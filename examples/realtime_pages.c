/* Contact Center realtime analytics, paged: every queue's metrics, read page by page with x8_pager.
 *
 * The realtime API pages with `page`/`size` and answers X-Page, X-Total-Pages and `Link: rel="next"`; the pager
 * follows them (X8_PAGE_STYLE_AUTO detects the style from the first reply) until the last page. A European
 * tenant's path starts with /eu (/au, /ca likewise): /eu/analytics/cc/v5/realtime-metrics/queues.
 *
 * Credentials from X8_CLIENT_ID / X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator). */
#include "example_util.h"

int main(void) {
    x8_error *err = NULL;
    x8_client *client = NULL;
    if (x8_client_new_from_env(NULL, &client, &err) != X8_STATUS_OK) return fail("x8_client_new_from_env", err);

    /* Each page may take 10 s; an X-Tenant-Info header would go in opts.headers for a multi-tenant key. */
    x8_request_opts opts = {.size = sizeof opts, .timeout_ms = 10000};
    x8_pager *pager = NULL;
    if (x8_pager_new(client, "GET", "/analytics/cc/v5/realtime-metrics/queues?size=3", &opts, X8_PAGE_STYLE_AUTO, 0,
                     &pager, &err) != X8_STATUS_OK) {
        x8_client_free(client);
        return fail("x8_pager_new", err);
    }
    size_t pages = 0, queues = 0;
    int rc = 0;
    x8_response *page = NULL;
    x8_status st;
    while ((st = x8_pager_next(pager, &page, &err)) == X8_STATUS_OK && page) {
        if (x8_response_status(page) != 200) { /* an error status is the listing's last page */
            fprintf(stderr, "HTTP %u: %s\n", x8_response_status(page), (const char *)x8_response_body(page, NULL));
            rc = 1;
        } else {
            char *items = NULL;
            size_t n = 0;
            if (x8_page_items(page, &items, &n, &err) != X8_STATUS_OK) {
                rc = fail("x8_page_items", err);
            } else {
                char first[64] = "-";
                json_field(items, "name", first, sizeof first);
                const char *at = x8_response_header(page, "X-Page"), *of = x8_response_header(page, "X-Total-Pages");
                printf("page %s of %s: %zu queues, the first \"%s\"\n", at ? at : "?", of ? of : "?", n, first);
                queues += n;
                x8_free(items);
            }
        }
        pages++;
        x8_response_free(page);
    }
    if (st != X8_STATUS_OK) rc = fail("x8_pager_next", err);
    x8_pager_free(pager); /* before the client: a pager is a user of its client */
    x8_client_free(client);
    if (rc == 0) printf("%zu queues in %zu pages\n", queues, pages);
    return rc;
}
