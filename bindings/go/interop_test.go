package x8

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Issue 16 §6: 64 concurrent requests through the Transport after a revocation drop only the token they sent,
// so a couple of token fetches follow, not one per request; each replay is counted.
func TestTransportDropsOnlyTheTokenItSentAfterARevocation(t *testing.T) {
	e := newEmulator(t, "--token-delay-ms", "50")
	c := newTestClient(t, e)
	hc := &http.Client{Transport: c.Transport(nil)}
	if resp, _ := get(t, hc, e.URL+queuesPath); resp.StatusCode != 200 {
		t.Fatalf("before revoking: HTTP %d", resp.StatusCode)
	}
	e.admin(t, "/_emulator/revoke", "")
	// Each of the next 64 API requests waits 300 ms before it is answered, so the 64 are in flight with the
	// revoked token before the first 401 comes back, however slowly the goroutines start on a loaded machine.
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"delay","ms":300,"count":64}`)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Get(e.URL + queuesPath)
			if err != nil {
				errs <- err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- errors.New(resp.Status)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// One fetch before the revocation; after it, one (two if a straggler's 401 came after the new token).
	st := e.stats(t)
	if st.TokenRequests > 3 {
		t.Fatalf("token_requests = %d after 64 concurrent rejections, want at most 3", st.TokenRequests)
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("api_rejected = %d, token_requests = %d", st.APIRejected, st.TokenRequests)
	// Every request the API refused was replayed once and counted (a request sent after the new token
	// arrived was not refused).
	if st.APIRejected < 16 || s.ReplaysAfter401 != st.APIRejected {
		t.Fatalf("ReplaysAfter401 = %d, api_rejected = %d", s.ReplaysAfter401, st.APIRejected)
	}
}

func TestRFC6749StylesScopeAndParamsAgainstAStrictServer(t *testing.T) {
	e := newEmulator(t, "--rfc6749", "--client", "rfc-client:s3cr/t%x")
	for _, style := range []ClientAuth{ClientAuthBasicRFC6749, ClientAuthPost} {
		c := newKeyClient(t, e, "rfc-client", "s3cr/t%x", WithClientAuth(style), WithTokenScope("read"),
			WithTokenParam("audience", "https://api.example"))
		if _, err := c.AccessToken(context.Background()); err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
	}
	raw := newKeyClient(t, e, "rfc-client", "s3cr/t%x")
	_, err := raw.AccessToken(context.Background())
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "basic-rfc6749") {
		t.Fatalf("raw Basic against a strict server: %v", err)
	}
	resp, err := http.Get(e.URL + "/_emulator/token-requests")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "audience") || !strings.Contains(string(body), `"scope"`) {
		t.Fatalf("token requests: %s", body)
	}
}

func TestDefaultHeadersAreSentAndAuthorizationIsRefused(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e, WithDefaultHeader("X-Tenant-Info", "acme-tenant"), WithDefaultHeader("pbx", "p1"))
	r, err := c.Do(context.Background(), "GET", "/echo/h", nil, http.Header{"Pbx": {"per-call"}})
	if err != nil {
		t.Fatal(err)
	}
	body := string(r.Body)
	if !strings.Contains(body, "acme-tenant") || !strings.Contains(body, "per-call") || strings.Contains(body, `"p1"`) {
		t.Fatalf("echo: %s", body)
	}
	_, err = NewClient(demoID, demoSecret, WithBaseURL(e.URL), WithDefaultHeader("Authorization", "Bearer x"))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("an Authorization default header: %v", err)
	}
}

func TestAPIRetriesWaitOutA429AndTheRateLimitCounts(t *testing.T) {
	e := newEmulator(t)
	// One turn per 2 s, longer than the 429's Retry-After of 1 s: the retry asks for its turn about 1 s after
	// its first attempt took one, so it waits for the rate limit however slowly this test runs.
	c := newTestClient(t, e, WithAPIRetries(2), WithRateLimit(1, 2*time.Second), WithTLSRoots(RootsPlatform),
		WithCAMode(CAAdd))
	if _, err := c.Do(context.Background(), "GET", queuesPath, nil, nil); err != nil {
		t.Fatal(err)
	}
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"status","status":429,"retry_after":"1"}`)
	started := time.Now()
	r, err := c.Do(context.Background(), "GET", queuesPath, nil, nil)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("after a 429: %v %v", r, err)
	}
	if took := time.Since(started); took < 900*time.Millisecond {
		t.Fatalf("the Retry-After of 1 s was not waited out: %v", took)
	}
	s, _ := c.Stats()
	if s.APIRetries != 1 || s.RateLimitWaits < 1 {
		t.Fatalf("stats: %+v", s)
	}
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"status","status":429,"retry_after":"1"}`)
	r, err = c.Do(context.Background(), "POST", "/echo/p", []byte("{}"), nil)
	if err != nil || r.StatusCode != 429 {
		t.Fatalf("a POST must get its 429 back: %v %v", r, err)
	}
}
