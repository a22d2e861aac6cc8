package x8

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestVersionMatchesHeader(t *testing.T) {
	if Version() != HeaderVersion {
		t.Fatalf("libx8 %s was linked, but x8.h %s compiled in", Version(), HeaderVersion)
	}
}

func TestTokenIsFetchedOnceAndReused(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	ctx := context.Background()

	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	value, err := c.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Value == "" || second.Value != first.Value || value != first.Value {
		t.Fatal("the cached token was not reused")
	}
	if got := e.stats(t).TokenRequests; got != 1 {
		t.Fatalf("token_requests = %d, want 1", got)
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.TokenFetches != 1 || s.CacheHits < 2 || s.TokenSecondsLeft <= 0 {
		t.Fatalf("stats = %+v, want 1 fetch, at least 2 cache hits and a cached token", s)
	}
}

func TestTokenCarriesTypeLifetimeAndProducts(t *testing.T) {
	c := newTestClient(t, shared)
	tok, err := c.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.Type != "BearerToken" || tok.Lifetime != demoLifetime {
		t.Fatalf("type %q lifetime %s, want BearerToken and %s", tok.Type, tok.Lifetime, demoLifetime)
	}
	if !tok.HasProduct("analytics realtime-api") || !tok.HasProduct("ANALYTICS Realtime-API") {
		t.Fatalf("products %q lack analytics realtime-api", tok.Products)
	}
	if tok.HasProduct("analytics product") {
		t.Fatal("HasProduct matched a product the key lacks")
	}
	if tok.Expiry.IsZero() {
		t.Fatal("the token has no expiry")
	}
	for _, printed := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", *tok, *tok, *tok, tok)} {
		if strings.Contains(printed, tok.Value) {
			t.Fatalf("printing a Token shows its value: %s", printed)
		}
	}
}

func TestConcurrentCallersShareOneFetch(t *testing.T) {
	e := newEmulator(t)
	c := newTestClient(t, e)
	const callers = 64
	start := make(chan struct{})
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tokens[i], errs[i] = c.AccessToken(context.Background())
		}()
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("caller %d got another token", i)
		}
	}
	if got := e.stats(t).TokenRequests; got != 1 {
		t.Fatalf("%d goroutines caused %d token requests, want 1", callers, got)
	}
}

func TestCloseIsIdempotentAndLaterCallsGetErrClosed(t *testing.T) {
	c := newTestClient(t, shared)
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	calls := map[string]func() error{
		"Token":       func() error { _, err := c.Token(ctx); return err },
		"AccessToken": func() error { _, err := c.AccessToken(ctx); return err },
		"Do":          func() error { _, err := c.Do(ctx, "GET", queuesPath, nil, nil); return err },
		"Invalidate":  c.Invalidate,
		"Stats":       func() error { _, err := c.Stats(); return err },
		"TokenSource": func() error { _, err := c.TokenSource().Token(); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// watchFrees counts the frees of h's C client and signals each on the returned channel.
func watchFrees(t *testing.T, h *handle) (<-chan struct{}, *atomic.Int32) {
	freed := make(chan struct{}, 1)
	var count atomic.Int32
	hook := func(freedHandle *handle) {
		if freedHandle == h {
			count.Add(1)
			select {
			case freed <- struct{}{}:
			default:
			}
		}
	}
	if !freedHook.CompareAndSwap(nil, &hook) {
		t.Fatal("another test is watching frees")
	}
	t.Cleanup(func() { freedHook.Store(nil) })
	return freed, &count
}

func TestConcurrentCloseWhileCallsRunFreesOnce(t *testing.T) {
	c := newTestClient(t, shared)
	_, frees := watchFrees(t, c.h)

	var wg sync.WaitGroup
	var served, failed atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, err := c.AccessToken(context.Background())
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("AccessToken while closing: %v", err)
					failed.Add(1)
					return
				}
				served.Add(1)
			}
		}()
	}
	// Close from many goroutines once the callers are demonstrably running.
	for served.Load() < 100 && failed.Load() == 0 {
		runtime.Gosched()
	}
	var closers sync.WaitGroup
	for range 8 {
		closers.Add(1)
		go func() { defer closers.Done(); c.Close() }()
	}
	closers.Wait()
	wg.Wait()
	// Every call has returned, and whichever finished last freed the client.
	if got := frees.Load(); got != 1 {
		t.Fatalf("the C client was freed %d times, want once", got)
	}
	if _, err := c.Stats(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Stats after Close: %v", err)
	}
}

func TestCleanupFreesAClientThatWasNeverClosed(t *testing.T) {
	h, freed := func() (*handle, <-chan struct{}) {
		c, err := NewClient(demoID, demoSecret, WithBaseURL(shared.URL))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AccessToken(context.Background()); err != nil {
			t.Fatal(err)
		}
		freed, _ := watchFrees(t, c.h)
		return c.h, freed
	}()
	// The Client is unreachable now; collect until its cleanup has run (the deadline only bounds a failure).
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		runtime.GC()
		select {
		case <-freed:
			if h.state.Load() != 1 {
				t.Fatalf("state after cleanup = %d, want closed with nothing in flight", h.state.Load())
			}
			return
		case <-deadline:
			t.Fatal("the cleanup never freed the unreachable client")
		case <-tick.C:
		}
	}
}

func TestNewClientFromEnvironment(t *testing.T) {
	e := newEmulator(t)
	t.Setenv("X8_CLIENT_ID", demoID)
	t.Setenv("X8_CLIENT_SECRET", demoSecret)
	t.Setenv("X8_BASE_URL", e.URL)
	t.Setenv("X8_TOKEN_URL", "")
	// WithBaseURL loses to X8_BASE_URL, as libx8 documents.
	c, err := NewClientFromEnv(WithBaseURL("https://api.8x8.com"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Do(context.Background(), "GET", queuesPath, nil, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Do: %v %v", resp, err)
	}
	if c.origin != e.URL {
		t.Fatalf("Transport's origin %q, want the environment's %q", c.origin, e.URL)
	}

	t.Setenv("X8_CLIENT_SECRET", "")
	_, err = NewClientFromEnv()
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "X8_CLIENT_SECRET") {
		t.Fatalf("without X8_CLIENT_SECRET: %v, want ErrConfig naming it", err)
	}
}

func TestLoggerGetsMessagesWithoutSecrets(t *testing.T) {
	const secret = "log-secret-4c1d"
	e := newEmulator(t, "--client", "log-client:"+secret)
	var mu sync.Mutex
	var messages []string
	c := newKeyClient(t, e, "log-client", secret, WithLogLevel(LogDebug), WithLogger(func(level int, msg string) {
		mu.Lock()
		defer mu.Unlock()
		messages = append(messages, fmt.Sprintf("%d %s", level, msg))
	}))
	token, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(messages) == 0 {
		t.Fatal("a token fetch logged nothing at LogDebug")
	}
	for _, m := range messages {
		if strings.Contains(m, secret) || strings.Contains(m, token) {
			t.Fatalf("a log message shows the secret or the token: %q", m)
		}
	}
}

func TestPanickingLoggerDoesNotCrossIntoLibx8(t *testing.T) {
	c := newTestClient(t, shared, WithLogger(func(int, string) { panic("logger bug") }))
	if _, err := c.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestBadOptionsAreErrConfig(t *testing.T) {
	cases := map[string][]Option{
		"non-loopback http":  {WithBaseURL("http://example.com")},
		"negative timeout":   {WithTimeout(-time.Second)},
		"too long timeout":   {WithTimeout(100 * 24 * time.Hour)},
		"negative retries":   {WithRetries(-1, time.Millisecond, time.Second)},
		"missing CA file":    {WithCAFile("/nonexistent/ca.pem")},
		"unparseable proxy":  {WithProxy("::not a url")},
		"base URL not a URL": {WithBaseURL("not a url")},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(demoID, demoSecret, opts...)
			if err == nil {
				c.Close()
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("got %v, want ErrConfig", err)
			}
		})
	}
}

func TestBadKeysAreRefusedWithoutShowingTheSecret(t *testing.T) {
	const secret = "nul\x00-secret-77e2"
	_, err := NewClient(demoID, secret)
	if !errors.Is(err, ErrInvalidArgument) || strings.Contains(err.Error(), "secret-77e2") {
		t.Fatalf("a NUL in the secret: %v, want ErrInvalidArgument without the secret", err)
	}
	if _, err := NewClient("id:with-colon", demoSecret); !errors.Is(err, ErrConfig) {
		t.Fatalf("a ':' in the client id: %v, want ErrConfig", err)
	}
	if _, err := NewClient(demoID, ""); !errors.Is(err, ErrConfig) {
		t.Fatalf("an empty secret: %v, want ErrConfig", err)
	}
}
