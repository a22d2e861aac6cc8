package x8

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// The slow answers (the faults and token delays below) take 3 s; a cancelled call must be back well within a
// second of cancel() (it takes well under a millisecond: the bound is generous for loaded machines and -race).
const prompt = time.Second

// waitForStat polls the emulator (bounded) until done holds of its counters.
func waitForStat(t *testing.T, e *emulator, what string, done func(emulatorStats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done(e.stats(t)) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type outcome struct {
	err error
	at  time.Time
}

func TestCancelStopsARequestBlockedOnASlowAPI(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	if _, err := c.Do(context.Background(), "GET", "/echo/warm", nil, nil); err != nil {
		t.Fatal(err)
	}
	warm := e.stats(t).Connections // the token's connection is closed after its fetch; the API's is pooled
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"delay","ms":3000,"count":1}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		_, err := c.Do(ctx, "GET", "/echo/slow", nil, nil)
		done <- outcome{err, time.Now()}
	}()
	waitForStat(t, e, "the slow request reached the emulator", func(s emulatorStats) bool { return s.APIRequests >= 2 })
	cancelled := time.Now()
	cancel()
	got := <-done
	if !errors.Is(got.err, ErrCancelled) || !errors.Is(got.err, context.Canceled) {
		t.Fatalf("got %v, want ErrCancelled matching context.Canceled", got.err)
	}
	if took := got.at.Sub(cancelled); took >= prompt {
		t.Fatalf("Do returned %v after cancel()", took)
	}
	// The cancelled connection was closed, not pooled: the next request opens another.
	resp, err := c.Do(context.Background(), "GET", "/echo/after", nil, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the cancel: %v %v", resp, err)
	}
	if s := e.stats(t); s.Connections != warm+1 {
		t.Fatalf("%d connections, want %d: the cancelled one must not be reused", s.Connections, warm+1)
	}
}

func TestCancelStopsAWaitForASlowTokenFetchWhichServesTheOthers(t *testing.T) {
	e := newEmulator(t)
	e.admin(t, "/_emulator/config", `{"token_delay_ms":3000}`)
	defer e.admin(t, "/_emulator/config", `{"token_delay_ms":0}`)
	c := newTestClient(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := map[string]func(context.Context) error{
		"Token":       func(ctx context.Context) error { _, err := c.Token(ctx); return err },
		"AccessToken": func(ctx context.Context) error { _, err := c.AccessToken(ctx); return err },
	}
	// The cancellable callers start the fetch; a patient one waits for the same fetch.
	cancelledDone := make(chan outcome, len(calls))
	for _, call := range calls {
		go func() { err := call(ctx); cancelledDone <- outcome{err, time.Now()} }()
	}
	waitForStat(t, e, "the fetch reached the token endpoint", func(s emulatorStats) bool { return s.TokenRequests >= 1 })
	patient := make(chan error, 1)
	go func() { _, err := c.AccessToken(context.Background()); patient <- err }()
	cancelled := time.Now()
	cancel()
	for range calls {
		got := <-cancelledDone
		if !errors.Is(got.err, ErrCancelled) || !errors.Is(got.err, context.Canceled) {
			t.Fatalf("got %v, want ErrCancelled matching context.Canceled", got.err)
		}
		if took := got.at.Sub(cancelled); took >= prompt {
			t.Fatalf("returned %v after cancel()", took)
		}
	}
	if err := <-patient; err != nil {
		t.Fatalf("the other waiter: %v", err)
	}
	if s := e.stats(t); s.TokenRequests != 1 {
		t.Fatalf("%d token requests, want the one fetch for everyone", s.TokenRequests)
	}
}

// Cancellable contexts on calls that return at once (cached token) and on calls that are cancelled leave no
// goroutine and no x8_cancel behind.
func TestCancellableContextsLeaveNoGoroutine(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for i := 0; i < 200; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := c.AccessToken(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Token(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"delay","ms":3000,"count":5}`)
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		if _, err := c.Do(ctx, "GET", "/echo/slow", nil, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCancelStopsAListingMidPage(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.admin(t, "/_emulator/faults", `{"target":"api","kind":"delay","ms":3000,"count":1}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		var last error
		for _, err := range c.Pages(ctx, "GET", queuesPath+"?page=0&size=2", nil, nil, PageAuto) {
			last = err
		}
		done <- outcome{last, time.Now()}
	}()
	waitForStat(t, e, "the first page reached the emulator", func(s emulatorStats) bool { return s.APIRequests >= 1 })
	cancelled := time.Now()
	cancel()
	got := <-done
	if !errors.Is(got.err, ErrCancelled) || !errors.Is(got.err, context.Canceled) {
		t.Fatalf("got %v, want ErrCancelled matching context.Canceled", got.err)
	}
	if took := got.at.Sub(cancelled); took >= prompt {
		t.Fatalf("the listing returned %v after cancel()", took)
	}
}
