package x8

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func get(t *testing.T, hc *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestTransportAuthenticatesAPlainHTTPClient(t *testing.T) {
	c := newTestClient(t, shared)
	hc := &http.Client{Transport: c.Transport(nil)}

	req, err := http.NewRequest("GET", shared.URL+"/echo/through-net-http", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Tenant-Info", "acme")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
	token, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := decodeEcho(t, body)
	if got.Headers["authorization"] != "Bearer "+token || got.Headers["x-tenant-info"] != "acme" {
		t.Fatalf("the API saw headers %v", redactAuthorization(got.Headers))
	}
	if req.Header.Get("Authorization") != "" {
		t.Fatal("the transport modified the caller's request")
	}
	if resp, body := get(t, hc, shared.URL+queuesPath+"?size=2"); resp.StatusCode != 200 || resp.Header.Get("X-Page-Size") != "2" {
		t.Fatalf("queues through net/http: HTTP %d %s", resp.StatusCode, body)
	}
}

func redactAuthorization(h map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if k == "authorization" {
			v = "<redacted>"
		}
		out[k] = v
	}
	return out
}

func TestTransportReplaysAReplayableRequestAfterRevoke(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	hc := &http.Client{Transport: c.Transport(nil)}
	if resp, _ := get(t, hc, e.URL+queuesPath); resp.StatusCode != 200 {
		t.Fatalf("before revoking: HTTP %d", resp.StatusCode)
	}
	e.admin(t, "/_emulator/revoke", "")

	// http.NewRequest sets GetBody for a *bytes.Reader, so the body can be sent again.
	resp, err := hc.Post(e.URL+"/echo/replayed", "text/plain", bytes.NewReader([]byte("same body twice")))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || decodeEcho(t, body).Body != "same body twice" {
		t.Fatalf("after revoking: HTTP %d %s", resp.StatusCode, body)
	}
	if got := e.stats(t).TokenRequests; got != 2 {
		t.Fatalf("token_requests = %d, want 2", got)
	}
}

// onlyReader hides every method but Read, so net/http cannot rewind the body.
type onlyReader struct{ io.Reader }

func TestTransportReturnsThe401WhenTheBodyCannotBeReplayed(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.admin(t, "/_emulator/revoke", "")
	hc := &http.Client{Transport: c.Transport(nil)}
	resp, err := hc.Post(e.URL+"/echo/once", "text/plain", onlyReader{strings.NewReader("streamed")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "fault") {
		t.Fatalf("got HTTP %d %s, want the API's 401 fault", resp.StatusCode, body)
	}
	if got := e.stats(t).TokenRequests; got != 1 {
		t.Fatalf("token_requests = %d, want 1: nothing to replay, so no new token", got)
	}
}

func TestTransportDoesNotRefetchForAKeyWithoutTheProduct(t *testing.T) {
	e := newEmulator(t)
	c := newKeyClient(t, e, bareID, bareSecret)
	hc := &http.Client{Transport: c.Transport(nil)}
	resp, body := get(t, hc, e.URL+queuesPath)
	if resp.StatusCode != http.StatusUnauthorized || !bytes.Contains(body, productFault) {
		t.Fatalf("got HTTP %d %s, want the no-product 401 with its whole body", resp.StatusCode, body)
	}
	if got := e.stats(t).TokenRequests; got != 1 {
		t.Fatalf("token_requests = %d, want 1", got)
	}
}

func TestTransportKeepsTheTokenOnItsOrigin(t *testing.T) {
	var sawAuthorization atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuthorization.Store(r.Header.Get("Authorization") != "")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer other.Close()
	e := newEmulator(t)
	c := newTestClient(t, e)
	hc := &http.Client{Transport: c.Transport(nil)}
	if resp, _ := get(t, hc, other.URL+"/elsewhere"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	if sawAuthorization.Load() {
		t.Fatal("the token was sent to another origin")
	}
	if got := e.stats(t).TokenRequests; got != 0 {
		t.Fatalf("a request to another origin fetched a token (%d)", got)
	}
}

func TestTransportPassesTokenErrorsOn(t *testing.T) {
	e := newEmulator(t)
	c := newKeyClient(t, e, demoID, "not-the-secret")
	hc := &http.Client{Transport: c.Transport(nil)}
	_, err := hc.Get(e.URL + queuesPath)
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("got %v, want ErrAuth inside the *url.Error", err)
	}
}

func TestTokenSourceHasOAuth2Shape(t *testing.T) {
	c := newTestClient(t, shared)
	src := c.TokenSource()
	tok, err := src.Token()
	if err != nil {
		t.Fatal(err)
	}
	full, err := c.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != full.Value || tok.TokenType != "Bearer" || !tok.Expiry.Equal(full.Expiry) {
		t.Fatalf("TokenSource gave type %q expiry %s; the client has expiry %s", tok.TokenType, tok.Expiry, full.Expiry)
	}
	if printed := fmtAll(tok) + fmtAll(*tok); strings.Contains(printed, tok.AccessToken) {
		t.Fatalf("printing an OAuth2Token shows its value: %s", printed)
	}
}

func fmtAll(v any) string { return fmt.Sprintf("%v %+v %#v %s", v, v, v, v) }
