package x8

// #include <stdlib.h>
// #include "x8.h"
import "C"

import (
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// Client is one API key's connection to 8x8: it caches the key's token, renews it ahead of expiry and sends
// authenticated requests. All methods are safe for concurrent use by any number of goroutines; share one Client
// per key for the life of the program.
//
// Release it with Close. A Client that becomes unreachable without Close is released by a runtime cleanup, but
// only when the garbage collector gets to it, so Close is the way to release it promptly.
type Client struct {
	h       *handle
	cleanup runtime.Cleanup

	timeoutCap time.Duration // the client's own bound on a call; a context deadline may only shorten it
	origin     string        // scheme://host[:port] of the base URL: where Transport may send the token
}

// handle owns the C client. It is separate from Client so that the cleanup (which must not reference the
// Client) can hold it, and it counts the calls in flight so that x8_client_free — which must be the last call
// on a client — runs exactly once, after every call that started before Close has returned.
type handle struct {
	ptr      *C.x8_client // set once before the handle is shared; never changed
	loggerID uintptr
	storeID  uintptr

	// state is 2 × (calls in flight) + 1 once closed. Closing sets the low bit; whoever brings the state to
	// exactly 1 (closed, nothing in flight) frees the client, which can happen only once.
	state atomic.Int64
}

// freedHook, when a test sets it, is called after a C client was freed (atomic: frees run on any goroutine).
var freedHook atomic.Pointer[func(*handle)]

func (h *handle) acquire() bool {
	for {
		s := h.state.Load()
		if s&1 != 0 {
			return false
		}
		if h.state.CompareAndSwap(s, s+2) {
			return true
		}
	}
}

func (h *handle) release() {
	if h.state.Add(-2) == 1 {
		h.free()
	}
}

// close marks the handle closed and reports whether this call did it (false if it was closed already). The C
// client is freed now if no call is in flight, else by the last one to finish.
func (h *handle) close() bool {
	for {
		s := h.state.Load()
		if s&1 != 0 {
			return false
		}
		if h.state.CompareAndSwap(s, s|1) {
			if s == 0 {
				h.free()
			}
			return true
		}
	}
}

func (h *handle) free() {
	C.x8_client_free(h.ptr)
	unregisterLogger(h.loggerID)
	unregisterStore(h.storeID)
	if hook := freedHook.Load(); hook != nil {
		(*hook)(h)
	}
}

// NewClient creates a client for an API key (client id and secret from 8x8 Admin Console). No network traffic
// happens until a token is needed. Errors: ErrConfig (an id with ':', an empty secret, a bad URL, CA file or
// option), ErrInvalidArgument (text with a NUL byte). The secret never appears in any error or log message.
func NewClient(clientID, secret string, opts ...Option) (*Client, error) {
	cfg := newConfig(opts)
	cid, err := cString("the client id", clientID)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cid))
	csecret, err := cString("the secret", secret)
	if err != nil {
		return nil, err
	}
	defer freeWiped(csecret, len(secret))

	return newClient(cfg, "", func(copts *C.x8_options, out **C.x8_client, cerr **C.x8_error) C.x8_status {
		return C.x8_client_new(cid, csecret, copts, out, cerr)
	})
}

// NewClientFromEnv is NewClient with the key from the environment: X8_CLIENT_ID and X8_CLIENT_SECRET
// (required; ErrConfig names a missing one), and X8_BASE_URL / X8_TOKEN_URL (optional; they override
// WithBaseURL and WithTokenURL).
func NewClientFromEnv(opts ...Option) (*Client, error) {
	cfg := newConfig(opts)
	return newClient(cfg, os.Getenv("X8_BASE_URL"), func(copts *C.x8_options, out **C.x8_client, cerr **C.x8_error) C.x8_status {
		return C.x8_client_new_from_env(copts, out, cerr)
	})
}

func newClient(cfg *config, envBaseURL string, create func(*C.x8_options, **C.x8_client, **C.x8_error) C.x8_status) (*Client, error) {
	loggerID, storeID := registerLogger(cfg.logger), registerStore(cfg.store)
	unregister := func() {
		unregisterLogger(loggerID)
		unregisterStore(storeID)
	}
	copts, err := cfg.cOptions(loggerID, storeID)
	if err != nil {
		unregister()
		return nil, err
	}
	defer C.x8_options_free(copts)

	var ptr *C.x8_client
	var cerr *C.x8_error
	if status := create(copts, &ptr, &cerr); status != C.X8_STATUS_OK {
		unregister()
		return nil, takeError(status, cerr)
	}

	h := &handle{ptr: ptr, loggerID: loggerID, storeID: storeID}
	c := &Client{h: h, timeoutCap: cfg.callTimeoutCap(), origin: cfg.origin(envBaseURL)}
	// The cleanup gets the handle, never c: a cleanup that referenced c would keep it reachable forever.
	c.cleanup = runtime.AddCleanup(c, func(h *handle) { h.close() }, h)
	return c, nil
}

// Close releases the client: its secret and token are wiped and its connections closed. It always returns nil
// and may be called any number of times, from any goroutine, also while other calls are running: those finish
// normally and the client is freed when the last of them returns; calls that start after Close get ErrClosed.
func (c *Client) Close() error {
	if c.h.close() {
		c.cleanup.Stop() // released already; the cleanup has nothing left to do
	}
	return nil
}

// use runs call with the C client, holding a reference so that Close cannot free it meanwhile.
func (c *Client) use(call func(*C.x8_client) error) error {
	if !c.h.acquire() {
		return ErrClosed
	}
	defer c.h.release()
	err := call(c.h.ptr)
	runtime.KeepAlive(c) // c (and so its cleanup) must outlive the C call that uses its pointer
	return err
}

// Invalidate drops the cached token so that the next call fetches a new one: after products were added to or
// removed from the key in Admin Console, or when a token is known to be revoked. It also lifts the short
// backoff after a failed fetch.
func (c *Client) Invalidate() error {
	return c.use(func(p *C.x8_client) error {
		var cerr *C.x8_error
		if status := C.x8_client_invalidate(p, &cerr); status != C.X8_STATUS_OK {
			return takeError(status, cerr)
		}
		return nil
	})
}

// InvalidateToken drops the cached token only if it is still rejected, a token the API refused (e.g. an
// http.Client that attaches AccessToken itself and got a 401). When many goroutines see the same token refused
// at once, the first call drops it and the others leave its successor alone, so one fetch follows. It reports
// whether the token was dropped.
func (c *Client) InvalidateToken(rejected string) (bool, error) {
	crejected, err := cString("the rejected token", rejected)
	if err != nil {
		return false, err
	}
	defer freeWiped(crejected, len(rejected))
	var dropped C.bool
	err = c.use(func(p *C.x8_client) error {
		var cerr *C.x8_error
		if status := C.x8_client_invalidate_token(p, crejected, &dropped, &cerr); status != C.X8_STATUS_OK {
			return takeError(status, cerr)
		}
		return nil
	})
	return bool(dropped), err
}

// countReplay counts, in Stats().ReplaysAfter401, a request the Transport sent again with a new token.
func (c *Client) countReplay() {
	_ = c.use(func(p *C.x8_client) error {
		var cerr *C.x8_error
		if status := C.x8_client_count_replay(p, &cerr); status != C.X8_STATUS_OK {
			return takeError(status, cerr)
		}
		return nil
	})
}

// HasProduct reports whether the current token (fetched if needed) carries the API product, e.g.
// "analytics realtime-api" (ignoring ASCII case).
func (c *Client) HasProduct(product string) (bool, error) {
	cproduct, err := cString("the product", product)
	if err != nil {
		return false, err
	}
	defer C.free(unsafe.Pointer(cproduct))
	var has C.bool
	err = c.use(func(p *C.x8_client) error {
		var cerr *C.x8_error
		if status := C.x8_client_has_product(p, cproduct, &has, &cerr); status != C.X8_STATUS_OK {
			return takeError(status, cerr)
		}
		return nil
	})
	return bool(has), err
}

// Stats is a snapshot of a client's counters.
type Stats struct {
	CacheHits           uint64 // token requests answered from the cache
	TokenFetches        uint64 // tokens obtained from the token endpoint (all kinds)
	BackgroundRefreshes uint64 // of those, renewals done in the background ahead of expiry
	FetchRetries        uint64 // token fetch attempts retried after a transient failure
	ReplaysAfter401     uint64 // requests replayed with a new token after the API rejected the old one
	FailuresAuth        uint64 // token fetches that failed because the credentials were refused
	FailuresServer      uint64 // token fetches that failed because the endpoint kept answering 5xx/429
	FailuresNetwork     uint64 // token fetches that failed on the network (connect, TLS, timeout)
	FailuresProtocol    uint64 // token fetches that failed on a malformed reply or anything else
	Requests            uint64 // calls to Do
	TokenSecondsLeft    int64  // seconds the cached token has left (before its safety margin); -1 when none
	StoreHits           uint64 // tokens taken from the shared token store (cache file, Redis) instead of fetched
	StoreErrors         uint64 // shared-store operations that failed; the client fetched the token itself each time
	APIRetries          uint64 // API requests sent again after a 429 or 503 (WithAPIRetries)
	RateLimitWaits      uint64 // API requests that waited for the client-side rate limit (WithRateLimit)
}

// Stats returns the client's counters. Cheap: libx8 reads them atomically.
func (c *Client) Stats() (Stats, error) {
	var s Stats
	err := c.use(func(p *C.x8_client) error {
		var cs C.x8_stats
		cs.size = C.sizeof_x8_stats
		var cerr *C.x8_error
		if status := C.x8_client_stats(p, &cs, &cerr); status != C.X8_STATUS_OK {
			return takeError(status, cerr)
		}
		s = Stats{
			CacheHits:           uint64(cs.cache_hits),
			TokenFetches:        uint64(cs.token_fetches),
			BackgroundRefreshes: uint64(cs.background_refreshes),
			FetchRetries:        uint64(cs.fetch_retries),
			ReplaysAfter401:     uint64(cs.replays_after_401),
			FailuresAuth:        uint64(cs.failures_auth),
			FailuresServer:      uint64(cs.failures_server),
			FailuresNetwork:     uint64(cs.failures_network),
			FailuresProtocol:    uint64(cs.failures_protocol),
			Requests:            uint64(cs.requests),
			TokenSecondsLeft:    int64(cs.token_seconds_left),
			StoreHits:           uint64(cs.store_hits),
			StoreErrors:         uint64(cs.store_errors),
			APIRetries:          uint64(cs.api_retries),
			RateLimitWaits:      uint64(cs.rate_limit_waits),
		}
		return nil
	})
	return s, err
}

// cString copies s to C memory for one call (the caller frees it with C.free). A NUL byte would silently cut
// the C string short, so it is refused; what names the argument (its value may be secret and is never shown).
func cString(what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, invalidArgument("%s contains a NUL byte", what)
	}
	return C.CString(s), nil
}

// freeWiped zeroes and frees a C copy of a secret.
func freeWiped(p *C.char, n int) {
	clear(unsafe.Slice((*byte)(unsafe.Pointer(p)), n))
	C.free(unsafe.Pointer(p))
}
