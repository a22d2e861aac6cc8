package x8

import (
	"context"
	"errors"
	"testing"
	"time"
)

// everyCall runs each context-aware call of c under ctx.
func everyCall(c *Client, ctx context.Context) map[string]error {
	errs := map[string]error{}
	_, errs["Token"] = c.Token(ctx)
	_, errs["AccessToken"] = c.AccessToken(ctx)
	_, errs["Do"] = c.Do(ctx, "GET", queuesPath, nil, nil)
	return errs
}

func TestCanceledContextNeverReachesLibx8(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, err := range everyCall(c, ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: got %v, want context.Canceled", name, err)
		}
	}
	if s := e.stats(t); s.TokenRequests != 0 || s.APIRequests != 0 {
		t.Fatalf("a cancelled context still sent requests: %+v", s)
	}
	if s, _ := c.Stats(); s.Requests != 0 || s.CacheHits != 0 {
		t.Fatalf("a cancelled context still called into libx8: %+v", s)
	}
}

func TestPassedDeadlineNeverReachesLibx8(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for name, err := range everyCall(c, ctx) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: got %v, want context.DeadlineExceeded", name, err)
		}
	}
	if s := e.stats(t); s.TokenRequests != 0 || s.APIRequests != 0 {
		t.Fatalf("a passed deadline still sent requests: %+v", s)
	}
}

// The emulator holds the answer for far longer than the context allows; the call must return at the deadline
// with ErrTimeout (and context.DeadlineExceeded), not when the emulator answers.
func TestDeadlineBoundsARequest(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"delay","ms":20000,"count":1}`)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, "GET", queuesPath, nil, nil)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrTimeout matching context.DeadlineExceeded", err)
	}
}

func TestDeadlineBoundsATokenFetch(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e, WithRetries(0, 0, 0))
	e.admin(t, "/_emulator/faults", `{"target":"token","kind":"delay","ms":20000,"count":2}`)
	for _, call := range []func(context.Context) error{
		func(ctx context.Context) error { _, err := c.Token(ctx); return err },
		func(ctx context.Context) error { _, err := c.AccessToken(ctx); return err },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := call(ctx)
		cancel()
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want ErrTimeout matching context.DeadlineExceeded", err)
		}
		c.Invalidate() // lift the backoff after the failed fetch
	}
}

func TestClientTimeoutWithoutDeadline(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e, WithTimeout(200*time.Millisecond))
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"delay","ms":20000,"count":1}`)
	// A context deadline later than the client's timeout does not lengthen it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	_, err := c.Do(ctx, "GET", queuesPath, nil, nil)
	if !errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrTimeout from the client's own timeout", err)
	}
}
