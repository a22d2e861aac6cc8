/* Cloud Storage: find the customer's regions, search one for call recordings page by page, and download the
 * first through its presigned URL.
 *
 * - Region discovery: GET /storage/{any region}/v3/regions answers the customer's regions (["us-west","uk"]);
 *   each region holds only its own objects, so a search or download is made per region.
 * - Search pages by an offset in the body: `pageKey` and `limit`, until `lastPage` is true (never judged by
 *   pageKey, which has moved on even on the last page): X8_PAGE_STYLE_BODY_OFFSET.
 * - `?presignUrl=true` answers a URL on another host (S3) whose query is its own credential. x8_request never
 *   sends the token there; x8_fetch_url fetches it with no Authorization header and never logs the query.
 *
 * Credentials from X8_CLIENT_ID / X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator). */
#include "example_util.h"

int main(void) {
    x8_error *err = NULL;
    x8_client *client = NULL;
    if (x8_client_new_from_env(NULL, &client, &err) != X8_STATUS_OK) return fail("x8_client_new_from_env", err);
    int rc = 1;
    x8_response *r = NULL;
    x8_pager *pager = NULL;
    char region[32] = "", base[64], path[512], id[64] = "", name[160] = "", size[32] = "", url[4096] = "";

    const char *accept[] = {"Accept: application/json"};
    x8_request_opts json = {.size = sizeof json, .headers = accept, .header_count = 1};
    if (x8_request(client, "GET", "/storage/us-west/v3/regions", &json, &r, &err) != X8_STATUS_OK) {
        rc = fail("regions", err);
        goto out;
    }
    const char *regions = (const char *)x8_response_body(r, NULL);
    /* ["us-west","uk"]: the first region. */
    if (x8_response_status(r) != 200 || sscanf(regions, " [ \"%31[^\"]\"", region) != 1) {
        fprintf(stderr, "regions: HTTP %u %s\n", x8_response_status(r), regions);
        goto out;
    }
    printf("regions %s; searching %s\n", regions, region);
    x8_response_free(r);
    r = NULL;
    snprintf(base, sizeof base, "/storage/%s/v3", region);

    /* FIQL: `,` is OR, `;` is AND. */
    snprintf(path, sizeof path, "%s/objects?limit=2&filter=type%%3D%%3Dcallrecording%%2Ctype%%3D%%3Dcallcenterrecording",
             base);
    if (x8_pager_new(client, "GET", path, &json, X8_PAGE_STYLE_BODY_OFFSET, 0, &pager, &err) != X8_STATUS_OK) {
        rc = fail("x8_pager_new", err);
        goto out;
    }
    size_t found = 0, pages = 0;
    x8_response *page = NULL;
    x8_status st;
    while ((st = x8_pager_next(pager, &page, &err)) == X8_STATUS_OK && page) {
        char *items = NULL;
        size_t n = 0;
        if (x8_response_status(page) == 200 && x8_page_items(page, &items, &n, NULL) == X8_STATUS_OK) {
            if (!id[0] && n > 0) {
                json_field(items, "id", id, sizeof id);
                json_field(items, "objectName", name, sizeof name);
                json_field(items, "storedBytes", size, sizeof size);
            }
            found += n;
        } else {
            fprintf(stderr, "search: HTTP %u %s\n", x8_response_status(page), (const char *)x8_response_body(page, NULL));
        }
        x8_free(items);
        pages++;
        x8_response_free(page);
    }
    if (st != X8_STATUS_OK) {
        rc = fail("x8_pager_next", err);
        goto out;
    }
    printf("%zu recordings in %zu pages\n", found, pages);
    if (!id[0]) {
        rc = found == 0 ? 0 : 1;
        goto out;
    }

    snprintf(path, sizeof path, "%s/objects/%s/content?presignUrl=true", base, id);
    if (x8_request(client, "GET", path, NULL, &r, &err) != X8_STATUS_OK) {
        rc = fail("presign", err);
        goto out;
    }
    /* The reply's form is not documented: {"presignedUrl":"..."} or the bare URL as text; both are read. */
    const char *link = (const char *)x8_response_body(r, NULL);
    if (json_field(link, "presignedUrl", url, sizeof url) != 0) snprintf(url, sizeof url, "%.*s", (int)strcspn(link, "\r\n"), link);
    x8_response_free(r);
    r = NULL;

    x8_request_opts download = {.size = sizeof download, .timeout_ms = 60000};
    if (x8_fetch_url(client, "GET", url, &download, &r, &err) != X8_STATUS_OK) {
        rc = fail("x8_fetch_url", err); /* the message shows the URL without its query */
        goto out;
    }
    size_t len = 0;
    x8_response_body(r, &len);
    const char *type = x8_response_header(r, "Content-Type");
    printf("downloaded %s: HTTP %u, %zu bytes (catalog: %s), %s, without Authorization\n", name,
           x8_response_status(r), len, size, type ? type : "no type");
    rc = x8_response_status(r) == 200 && (size[0] == '\0' || strtoull(size, NULL, 10) == len) ? 0 : 1;

out:
    x8_response_free(r);
    x8_pager_free(pager);
    x8_client_free(client);
    return rc;
}
