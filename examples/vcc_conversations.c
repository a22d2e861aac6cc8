/* Contact Center Chat (vcc): list a tenant's conversations page by page and read the first one's messages.
 *
 * vcc lives at /vcc/{us,eu,ca,ap}/chat/v2/tenant/{tenant} (no discovery endpoint) and pages by a page object
 * in the body, page.pageIndex / page.pageCount: X8_PAGE_STYLE_PAGE_OBJECT. Its errors are
 * application/problem+json {"message","errors":[...]}, handed out as the response.
 *
 * Credentials from X8_CLIENT_ID / X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator);
 * X8_VCC_TENANT names the tenant (default "tenant01", the emulator's). */
#include "example_util.h"

int main(void) {
    const char *tenant = getenv("X8_VCC_TENANT") ? getenv("X8_VCC_TENANT") : "tenant01";
    char base[160], path[320];
    snprintf(base, sizeof base, "/vcc/eu/chat/v2/tenant/%s", tenant);

    x8_error *err = NULL;
    x8_client *client = NULL;
    if (x8_client_new_from_env(NULL, &client, &err) != X8_STATUS_OK) return fail("x8_client_new_from_env", err);
    snprintf(path, sizeof path, "%s/conversations?size=20&order=asc", base);
    x8_pager *pager = NULL;
    if (x8_pager_new(client, "GET", path, NULL, X8_PAGE_STYLE_AUTO, 0, &pager, &err) != X8_STATUS_OK) {
        x8_client_free(client);
        return fail("x8_pager_new", err);
    }
    int rc = 0;
    size_t found = 0, pages = 0;
    char first[64] = "";
    x8_response *page = NULL;
    x8_status st;
    while ((st = x8_pager_next(pager, &page, &err)) == X8_STATUS_OK && page) {
        char *items = NULL;
        size_t n = 0;
        if (x8_response_status(page) != 200 || x8_page_items(page, &items, &n, NULL) != X8_STATUS_OK) {
            char message[256] = "";
            json_field((const char *)x8_response_body(page, NULL), "message", message, sizeof message);
            fprintf(stderr, "conversations: HTTP %u: %s\n", x8_response_status(page), message);
            rc = 1;
        } else if (!first[0] && n > 0) {
            json_field(items, "id", first, sizeof first);
        }
        x8_free(items);
        found += n;
        pages++;
        x8_response_free(page);
    }
    if (st != X8_STATUS_OK) rc = fail("x8_pager_next", err);
    if (rc == 0)
        printf("%zu conversations in %zu pages (style %s)\n", found, pages,
               x8_pager_style(pager) == X8_PAGE_STYLE_PAGE_OBJECT ? "page-object" : "other");
    x8_pager_free(pager);

    if (rc == 0 && first[0]) {
        snprintf(path, sizeof path, "%s/conversations/%s/messages", base, first);
        x8_response *r = NULL;
        if (x8_request(client, "GET", path, NULL, &r, &err) != X8_STATUS_OK) {
            rc = fail("messages", err);
        } else {
            /* {"messages":[{"interactionId","originalText","authorType",...}]}: counted by their authorType. */
            size_t n = 0;
            for (const char *at = (const char *)x8_response_body(r, NULL); (at = strstr(at, "\"authorType\"")); at++) n++;
            printf("conversation %s: HTTP %u, %zu messages\n", first, x8_response_status(r), n);
            if (x8_response_status(r) != 200) rc = 1;
            x8_response_free(r);
        }
    }
    x8_client_free(client);
    return rc;
}
