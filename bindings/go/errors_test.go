package x8

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWrongSecretIsErrAuthWithHTTPStatus(t *testing.T) {
	const secret = "wrong-secret-5f1c9a"
	e := newEmulator(t)
	c := newKeyClient(t, e, demoID, secret)
	_, err := c.Token(context.Background())
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("got %v, want ErrAuth", err)
	}
	if errors.Is(err, ErrConfig) || errors.Is(err, ErrTimeout) {
		t.Fatal("an auth error matched another code's sentinel")
	}
	var xe *Error
	if !errors.As(err, &xe) {
		t.Fatalf("%T is not an *x8.Error", err)
	}
	if xe.Code != StatusAuth || xe.HTTPStatus != http.StatusUnauthorized || xe.Message == "" {
		t.Fatalf("error %+v, want StatusAuth with HTTP 401 and a message", xe)
	}
	if strings.Contains(xe.Message, secret) || strings.Contains(err.Error(), secret) {
		t.Fatal("the error shows the secret")
	}
	if s, _ := c.Stats(); s.FailuresAuth != 1 {
		t.Fatalf("FailuresAuth = %d, want 1", s.FailuresAuth)
	}
}

func TestKeyWithoutTheProductIsErrNotEntitled(t *testing.T) {
	c := newKeyClient(t, shared, bareID, bareSecret)
	_, err := c.Do(context.Background(), "GET", queuesPath, nil, nil)
	if !errors.Is(err, ErrNotEntitled) {
		t.Fatalf("got %v, want ErrNotEntitled", err)
	}
}

func TestHeaderOrPathWithCRLFIsErrInvalidArgument(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	ctx := context.Background()
	cases := map[string]func() error{
		"CR/LF in a header value": func() error {
			_, err := c.Do(ctx, "GET", "/echo/x", nil, http.Header{"X-Evil": {"a\r\nX-Injected: b"}})
			return err
		},
		"CR/LF in the path": func() error {
			_, err := c.Do(ctx, "GET", "/echo/x\r\nX-Injected: b", nil, nil)
			return err
		},
		"NUL in a header value": func() error {
			_, err := c.Do(ctx, "GET", "/echo/x", nil, http.Header{"X-Evil": {"a\x00b"}})
			return err
		},
		"NUL in the method": func() error {
			_, err := c.Do(ctx, "GE\x00T", "/echo/x", nil, nil)
			return err
		},
		"Authorization set by the caller": func() error {
			_, err := c.Do(ctx, "GET", "/echo/x", nil, http.Header{"Authorization": {"Bearer mine"}})
			return err
		},
	}
	for name, call := range cases {
		if err := call(); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: got %v, want ErrInvalidArgument", name, err)
		}
	}
	if got := e.stats(t).APIRequests; got != 0 {
		t.Fatalf("refused requests reached the API %d times", got)
	}
}

func TestURLOnAnotherOriginIsErrInvalidArgument(t *testing.T) {
	c := newTestClient(t, shared)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(shared.URL, "http://"))
	p, _ := strconv.Atoi(port)
	otherPort := fmt.Sprintf("http://127.0.0.1:%d", p%65535+1)
	for _, url := range []string{"http://127.0.0.2:9/echo/x", "https://example.com/echo/x", otherPort + "/echo/x"} {
		if _, err := c.Do(context.Background(), "GET", url, nil, nil); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: got %v, want ErrInvalidArgument", url, err)
		}
	}
	// The same origin written out in full is fine.
	if resp, err := c.Do(context.Background(), "GET", shared.URL+"/echo/x", nil, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("an absolute URL on the base origin: %v %v", resp, err)
	}
}

func TestFailingTokenEndpointIsErrTokenEndpoint(t *testing.T) {
	e := newEmulator(t)
	e.admin(t, "/_emulator/faults", `{"target":"token","kind":"status","status":503,"count":10}`)
	c := newTestClient(t, e, WithRetries(1, time.Millisecond, time.Millisecond))
	_, err := c.AccessToken(context.Background())
	var xe *Error
	if !errors.Is(err, ErrTokenEndpoint) || !errors.As(err, &xe) || xe.HTTPStatus != http.StatusServiceUnavailable {
		t.Fatalf("got %v, want ErrTokenEndpoint with HTTP 503", err)
	}
	if got := e.stats(t).TokenRequests; got != 2 {
		t.Fatalf("token_requests = %d, want the first attempt and 1 retry", got)
	}
}

func TestRefusedConnectionIsErrTransport(t *testing.T) {
	// A port that was just free: nothing listens on it once the listener is closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	c, err := NewClient(demoID, demoSecret, WithBaseURL(url), WithRetries(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.AccessToken(context.Background()); !errors.Is(err, ErrTransport) {
		t.Fatalf("got %v, want ErrTransport", err)
	}
}

func TestErrorMatchingAndText(t *testing.T) {
	err := error(&Error{Code: StatusTimeout, Message: "the call took too long", HTTPStatus: 0})
	if !errors.Is(err, ErrTimeout) || errors.Is(err, ErrAuth) || errors.Is(err, ErrClosed) {
		t.Fatal("Is matches by code only")
	}
	if errors.Is(err, &Error{Code: StatusTimeout, Message: "another timeout"}) {
		t.Fatal("an error with a message is not a sentinel")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("a timeout not caused by a context deadline matched context.DeadlineExceeded")
	}
	if got := err.Error(); got != "x8: the call took too long" {
		t.Fatalf("Error() = %q", got)
	}
	withStatus := &Error{Code: StatusAuth, Message: "refused", HTTPStatus: 401}
	if got := withStatus.Error(); got != "x8: refused (HTTP 401)" {
		t.Fatalf("Error() = %q", got)
	}
	if StatusAuth.String() != "X8_STATUS_AUTH" || ErrNotEntitled.Error() != "x8: X8_STATUS_NOT_ENTITLED" {
		t.Fatalf("status names: %s, %s", StatusAuth, ErrNotEntitled)
	}
}
