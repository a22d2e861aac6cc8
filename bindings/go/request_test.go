package x8

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

func TestDoPagesThroughQueues(t *testing.T) {
	c := newTestClient(t, shared)
	const size = 3
	seen := map[string]bool{}
	totalPages := 1
	for page := 0; page < totalPages; page++ {
		resp, err := c.Do(context.Background(), "GET", fmt.Sprintf("%s?page=%d&size=%d", queuesPath, page, size), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d: HTTP %d: %s", page, resp.StatusCode, resp.Body)
		}
		if got := resp.Header.Get("X-Page"); got != strconv.Itoa(page) {
			t.Fatalf("X-Page = %q, want %d", got, page)
		}
		if got := resp.Header.Get("X-Page-Size"); got != strconv.Itoa(size) {
			t.Fatalf("X-Page-Size = %q, want %d", got, size)
		}
		if totalPages, err = strconv.Atoi(resp.Header.Get("X-Total-Pages")); err != nil {
			t.Fatalf("X-Total-Pages: %v", err)
		}
		var queues []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(resp.Body, &queues); err != nil {
			t.Fatalf("page %d body: %v", page, err)
		}
		if len(queues) == 0 || len(queues) > size {
			t.Fatalf("page %d has %d queues, want 1..%d", page, len(queues), size)
		}
		for _, q := range queues {
			seen[q.ID] = true
		}
	}
	resp, err := c.Do(context.Background(), "GET", queuesPath, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	total, _ := strconv.Atoi(resp.Header.Get("X-Total-Elements"))
	if total == 0 || len(seen) != total {
		t.Fatalf("paging found %d distinct queues, X-Total-Elements says %d", len(seen), total)
	}
}

// echoed is what the emulator's /echo/ endpoint answers.
type echoed struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   string            `json:"query"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func decodeEcho(t *testing.T, body []byte) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("echo body: %v", err)
	}
	return e
}

func TestDoSendsMethodBodyHeadersAndBearerToken(t *testing.T) {
	c := newTestClient(t, shared)
	headers := http.Header{"X-Tenant-Info": {"acme"}, "X-Multi": {"a", "b"}}
	resp, err := c.Do(context.Background(), "PUT", "/echo/things?x=1", []byte(`{"n":1}`), headers)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	got := decodeEcho(t, resp.Body)
	if got.Method != "PUT" || got.Path != "/echo/things" || got.Query != "x=1" || got.Body != `{"n":1}` {
		t.Fatalf("the emulator saw %+v", got)
	}
	if got.Headers["x-tenant-info"] != "acme" || got.Headers["x-multi"] != "a, b" {
		t.Fatalf("headers sent: %v", got.Headers)
	}
	token, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Headers["authorization"] != "Bearer "+token {
		t.Fatal("the request did not carry the cached token as a Bearer token")
	}
	if headers.Get("Authorization") != "" || len(headers) != 2 {
		t.Fatal("Do changed the caller's headers")
	}
}

func TestDoReplaysOnceAfterTheTokenIsRevoked(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	ctx := context.Background()
	if resp, err := c.Do(ctx, "GET", queuesPath, nil, nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("before revoking: %v %v", resp, err)
	}
	e.admin(t, "/_emulator/revoke", "")
	resp, err := c.Do(ctx, "POST", "/echo/after-revoke", []byte("replayed body"), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after revoking: %v %v", resp, err)
	}
	if got := decodeEcho(t, resp.Body).Body; got != "replayed body" {
		t.Fatalf("the replay sent body %q", got)
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.ReplaysAfter401 != 1 || s.TokenFetches != 2 {
		t.Fatalf("stats %+v, want 1 replay and 2 fetches", s)
	}
	if got := e.stats(t).TokenRequests; got != 2 {
		t.Fatalf("token_requests = %d, want 2", got)
	}
}

func TestDoWithoutReplayReturnsThe401(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e, WithReplayOn401(false))
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.admin(t, "/_emulator/revoke", "")
	resp, err := c.Do(context.Background(), "GET", queuesPath, nil, nil)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("got %v %v, want the API's 401", resp, err)
	}
}

func TestDoRefusesAnOversizedBody(t *testing.T) {
	c := newTestClient(t, shared, WithMaxBodyBytes(16))
	_, err := c.Do(context.Background(), "GET", queuesPath, nil, nil)
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("got %v, want ErrBodyTooLarge", err)
	}
}
