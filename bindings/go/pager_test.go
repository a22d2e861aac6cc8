package x8

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// listing reads path in style with Pages and returns its pages and all their items (via Items, compared
// against what the pages hold).
func listing(t *testing.T, c *Client, path string, headers http.Header, style PageStyle) (pages []*Response, items []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for page, err := range c.Pages(ctx, "GET", path, nil, headers, style) {
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if page.StatusCode != 200 {
			t.Fatalf("%s: HTTP %d %s", path, page.StatusCode, page.Body)
		}
		pages = append(pages, page)
	}
	for item, err := range c.Items(ctx, "GET", path, nil, headers, style) {
		if err != nil {
			t.Fatalf("%s items: %v", path, err)
		}
		items = append(items, string(item))
	}
	return pages, items
}

// Each of 8x8's paging styles, read to its last page in small pages, gives the items of one big page: none
// lost, none twice, in order; PageAuto detects the style.
func TestEveryPagingStyleIsReadToItsLastPage(t *testing.T) {
	e := newEmulator(t)
	e.admin(t, "/_emulator/config", `{"report_delay_ms":0}`)
	c := newTestClient(t, e)
	ctx := context.Background()

	create := func(path, body string) int64 {
		r, err := c.Do(ctx, "POST", path, []byte(body), http.Header{"Content-Type": {"application/json"}})
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("creating a report: %v %v", err, r)
		}
		var v struct{ ID int64 }
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	const hist = "/eu/analytics/cc/v8/historical-metrics"
	summary := create(hist+"/", `{"type":"queue","title":"go","granularity":"day"}`)
	detailed := create(hist+"/detailed-reports", `{"type":"interaction-details","title":"go"}`)
	pbx := http.Header{"Pbx": {"demo-pbx"}}
	cases := []struct {
		name        string
		small, big  string
		headers     http.Header
		style, want PageStyle
		pages       int
	}{
		{"realtime", queuesPath + "?size=2", queuesPath + "?size=1000", nil, PageAuto, PageHeaders, 4},
		{"historical summary", fmt.Sprintf("%s/%d/data?size=10", hist, summary), fmt.Sprintf("%s/%d/data?size=1000", hist, summary), nil, PageAuto, PageHeaders, 3},
		{"historical detailed", fmt.Sprintf("%s/detailed-reports/%d/data?size=10", hist, detailed), fmt.Sprintf("%s/detailed-reports/%d/data?size=1000", hist, detailed), nil, PageHeaderCursor, PageHeaderCursor, 3},
		{"storage", "/storage/us-west/v3/objects?limit=3", "/storage/us-west/v3/objects?limit=100", nil, PageAuto, PageBodyOffset, 4},
		{"qm", "/qm/uk/v1/interactions?size=5", "/qm/uk/v1/interactions?size=100", pbx, PageAuto, PageBodyLinks, 3},
		{"vcc", "/vcc/eu/chat/v2/tenant/tenant01/conversations?size=20", "/vcc/eu/chat/v2/tenant/tenant01/conversations?size=100", nil, PageAuto, PageObject, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pages, items := listing(t, c, tc.small, tc.headers, tc.style)
			one, all := listing(t, c, tc.big, tc.headers, tc.style)
			if len(pages) != tc.pages || len(one) != 1 {
				t.Fatalf("%d pages (want %d), big listing %d pages", len(pages), tc.pages, len(one))
			}
			if got := pages[len(pages)-1].PageStyle; got != tc.want {
				t.Fatalf("style %v, want %v", got, tc.want)
			}
			if len(all) == 0 || strings.Join(items, ",") != strings.Join(all, ",") {
				t.Fatalf("paged items differ from one page's:\n%v\n%v", items, all)
			}
		})
	}
}

func TestAnEmptyFirstPageIsTheWholeListing(t *testing.T) {
	c := newTestClient(t, shared)
	pages, items := listing(t, c, "/storage/us-west/v3/objects?filter=type==none-of-these&limit=5", nil, PageAuto)
	if len(pages) != 1 || len(items) != 0 || pages[0].PageStyle != PageBodyOffset {
		t.Fatalf("%d pages, %d items, style %v", len(pages), len(items), pages[0].PageStyle)
	}
}

func TestAnErrorStatusEndsTheListingAndItemsReportsIt(t *testing.T) {
	c := newTestClient(t, shared)
	ctx := context.Background()
	n := 0
	for page, err := range c.Pages(ctx, "GET", "/qm/uk/v1/interactions?size=5", nil, nil, PageAuto) {
		if err != nil || page.StatusCode != 400 {
			t.Fatalf("want QM's 400 without the pbx header: %v %v", err, page)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("%d pages after an error status", n)
	}
	for _, err := range c.Items(ctx, "GET", "/qm/uk/v1/interactions?size=5", nil, nil, PageAuto) {
		var pe *PageStatusError
		if !errors.As(err, &pe) || pe.Page.StatusCode != 400 {
			t.Fatalf("want a PageStatusError, got %v", err)
		}
	}
	for _, err := range c.Pages(ctx, "GET", queuesPath, nil, nil, PageStyle(99)) {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("a style that is no style: %v", err)
		}
	}
}

// A page that fails on the network ends the range with the error; ranging again reads the listing anew.
// A token revoked in the middle is renewed and the listing completes.
func TestARevokedTokenMidListingIsRenewedAndAFailedPageEndsTheRange(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	ctx := context.Background()
	pages := 0
	for page, err := range c.Pages(ctx, "GET", queuesPath+"?size=2", nil, nil, PageAuto) {
		if err != nil || page.StatusCode != 200 {
			t.Fatalf("page %d: %v %v", pages, err, page)
		}
		if pages++; pages == 1 {
			e.admin(t, "/_emulator/revoke", "")
		}
	}
	if pages != 4 || e.stats(t).TokenRequests != 2 {
		t.Fatalf("%d pages, %d token requests", pages, e.stats(t).TokenRequests)
	}
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"close","count":2,"match":{"query":{"page":"1"}}}`)
	var failed error
	pages = 0
	for _, err := range c.Pages(ctx, "GET", queuesPath+"?size=2", nil, nil, PageAuto) {
		if err != nil {
			failed = err
			continue
		}
		pages++
	}
	if failed == nil || pages != 1 || !(errors.Is(failed, ErrTransport) || errors.Is(failed, ErrProtocol)) {
		t.Fatalf("want one page and then the network error, got %d pages, %v", pages, failed)
	}
	// The listing's deadline bounds every page.
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"delay","ms":3000,"match":{"query":{"page":"1"}}}`)
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	for _, err := range c.Pages(short, "GET", queuesPath+"?size=2", nil, nil, PageAuto) {
		failed = err
	}
	if !errors.Is(failed, ErrTimeout) && !errors.Is(failed, context.DeadlineExceeded) {
		t.Fatalf("want the deadline, got %v", failed)
	}
}

// The presigned download carries no Authorization header: the emulator's second origin records every header.
func TestFetchURLSendsNoAuthorization(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	ctx := context.Background()
	objects, err := c.Do(ctx, "GET", "/storage/us-west/v3/objects?limit=1", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Content []struct{ ID string } }
	if err := json.Unmarshal(objects.Body, &page); err != nil || len(page.Content) != 1 {
		t.Fatalf("%v %s", err, objects.Body)
	}
	id := page.Content[0].ID
	direct, err := c.Do(ctx, "GET", "/storage/us-west/v3/objects/"+id+"/content", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	link, err := c.Do(ctx, "GET", "/storage/us-west/v3/objects/"+id+"/content?presignUrl=true", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var presigned struct{ PresignedURL string }
	if err := json.Unmarshal(link.Body, &presigned); err != nil || !strings.Contains(presigned.PresignedURL, "X-Amz-Signature=") {
		t.Fatalf("%v %s", err, link.Body)
	}
	if _, err := c.Do(ctx, "GET", presigned.PresignedURL, nil, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Do must refuse another origin: %v", err)
	}
	e.admin(t, "/_emulator/reset", "")
	got, err := c.FetchURL(ctx, "GET", presigned.PresignedURL, nil)
	if err != nil || got.StatusCode != 200 || string(got.Body) != string(direct.Body) {
		t.Fatalf("FetchURL: %v %v", err, got)
	}
	resp, err := http.Get(e.URL + "/_emulator/presigned-requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var seen []struct{ Headers map[string]string }
	if err := json.NewDecoder(resp.Body).Decode(&seen); err != nil || len(seen) != 1 {
		t.Fatalf("%v %v", err, seen)
	}
	for name := range seen[0].Headers {
		if strings.EqualFold(name, "authorization") {
			t.Fatalf("the presigned fetch sent %s", name)
		}
	}
	if n := e.stats(t).TokenRequests; n != 0 {
		t.Fatalf("FetchURL asked for a token (%d requests)", n)
	}
	var streamed bytes.Buffer
	to, err := c.FetchURLTo(ctx, "GET", presigned.PresignedURL, nil, &streamed)
	if err != nil || to.StatusCode != 200 || len(to.Body) != 0 || !bytes.Equal(streamed.Bytes(), got.Body) {
		t.Fatalf("FetchURLTo: %v %v, %d bytes written, want %d", err, to, streamed.Len(), len(got.Body))
	}
	if _, err := c.FetchURL(ctx, "GET", presigned.PresignedURL, http.Header{"Authorization": {"Bearer x"}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("an Authorization header must be refused: %v", err)
	}
	query := presigned.PresignedURL[strings.IndexByte(presigned.PresignedURL, '?')+1:]
	_, err = c.FetchURL(ctx, "GET", "http://127.0.0.1:1/content?"+query, nil)
	if !errors.Is(err, ErrTransport) || strings.Contains(err.Error(), "X-Amz-Signature") {
		t.Fatalf("want a transport error without the query: %v", err)
	}
}

// The Storage download and realtime paging examples are real programs: run them against an emulator.
func TestStorageAndRealtimeExamplesRun(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"./examples/storage_download", "without Authorization"},
		{"./examples/realtime_pages", "7 queues in 3 pages"},
	} {
		cmd := exec.Command("go", "run", tc.dir)
		cmd.Env = append(os.Environ(), "X8_CLIENT_ID="+demoID, "X8_CLIENT_SECRET="+demoSecret, "X8_BASE_URL="+shared.URL)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) || strings.Contains(string(out), demoSecret) {
			t.Fatalf("%s: %v\n%s", tc.dir, err, out)
		}
	}
}
