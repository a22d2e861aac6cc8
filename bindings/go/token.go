package x8

// #include "x8.h"
//
// // x8_get_token with its out parameters in C-returned memory: Go variables whose address is passed to C are
// // moved to the heap, and the fast path should not allocate for them.
// typedef struct { x8_status status; size_t len; x8_error *err; } x8go_token_result;
//
// static x8go_token_result x8go_get_token(const x8_client *client, char *buf, size_t buf_len) {
//     x8go_token_result r;
//     r.len = 0;
//     r.err = NULL;
//     r.status = x8_get_token(client, buf, buf_len, &r.len, &r.err);
//     return r;
// }
//
// // The same with a timeout and a cancellation handle: for a context with a deadline or a Done channel.
// static x8go_token_result x8go_get_token_ex(const x8_client *client, uint32_t timeout_ms, const x8_cancel *cancel,
//                                            char *buf, size_t buf_len) {
//     x8go_token_result r;
//     r.len = 0;
//     r.err = NULL;
//     r.status = x8_get_token_ex(client, timeout_ms, cancel, buf, buf_len, &r.len, &r.err);
//     return r;
// }
import "C"

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// Token is a snapshot of one access token. It does not change when the client renews its token.
type Token struct {
	Value    string        // the access token, for "Authorization: Bearer <Value>"
	Type     string        // token_type as the endpoint sent it ("BearerToken" for 8x8); send "Bearer" regardless
	Expiry   time.Time     // receipt time plus the granted lifetime, by the local clock
	Lifetime time.Duration // the lifetime the endpoint granted (expires_in)
	Products []string      // the API products the key is entitled to, e.g. "analytics realtime-api"
}

// HasProduct reports whether the token carries the API product, ignoring ASCII case as libx8 does.
func (t *Token) HasProduct(product string) bool {
	for _, p := range t.Products {
		if equalFoldASCII(p, product) {
			return true
		}
	}
	return false
}

// String describes the token without its value, so that printing a Token never leaks it.
func (t Token) String() string {
	return fmt.Sprintf("x8.Token{Type: %q, Expiry: %s, Lifetime: %s, Products: %q, Value: <redacted>}",
		t.Type, t.Expiry.Format(time.RFC3339), t.Lifetime, t.Products)
}

// GoString keeps %#v from printing the value too.
func (t Token) GoString() string { return t.String() }

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Token returns a valid token with its expiry and products: the cached one while it is fresh, else a new one
// from the token endpoint (one fetch however many goroutines ask at once). ctx's deadline bounds the call, and
// cancelling ctx while it waits for a fetch makes it return promptly (ErrCancelled, context.Canceled); the
// fetch goes on for the other callers (see the package doc).
func (c *Client) Token(ctx context.Context) (*Token, error) {
	timeout, err := c.callTimeout(ctx)
	if err != nil {
		return nil, err
	}
	cancel, done := cancelFor(ctx)
	defer done()
	var tok *Token
	err = c.use(func(p *C.x8_client) error {
		var ct *C.x8_token
		var cerr *C.x8_error
		if status := C.x8_client_token_ex(p, timeout, cancel, &ct, &cerr); status != C.X8_STATUS_OK {
			return takeError(status, cerr)
		}
		defer C.x8_token_free(ct)
		tok = copyToken(ct)
		return nil
	})
	if err != nil {
		return nil, withDeadlineCause(ctx, err)
	}
	return tok, nil
}

func copyToken(ct *C.x8_token) *Token {
	t := &Token{
		Value:    C.GoString(C.x8_token_value(ct)),
		Type:     C.GoString(C.x8_token_type(ct)),
		Expiry:   time.UnixMilli(int64(C.x8_token_expires_at_ms(ct))),
		Lifetime: time.Duration(C.x8_token_lifetime_secs(ct)) * time.Second,
	}
	n := int(C.x8_token_product_count(ct))
	t.Products = make([]string, 0, n)
	for i := 0; i < n; i++ {
		if p := C.x8_token_product(ct, C.size_t(i)); p != nil {
			t.Products = append(t.Products, C.GoString(p))
		}
	}
	return t
}

// tokenBufferSize always holds a token and its NUL (X8_TOKEN_BUFFER_SIZE).
const tokenBufferSize = C.X8_TOKEN_BUFFER_SIZE

// Buffers for AccessToken, reused so that a cache hit costs one string allocation. They hold no Go pointers,
// which is what lets them be passed to C.
var tokenBuffers = sync.Pool{New: func() any { return new([tokenBufferSize]byte) }}

// AccessToken returns the value of a valid token: the fast path for an Authorization header. A cached fresh
// token is copied without locks or network; otherwise it is fetched as by Token. ctx is honoured as by Token; a
// context that can be cancelled costs an x8_cancel per call, context.Background() nothing.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	timeout, err := c.callTimeout(ctx)
	if err != nil {
		return "", err
	}
	cancel, done := cancelFor(ctx)
	defer done()

	var value string
	err = c.use(func(p *C.x8_client) error {
		buf := tokenBuffers.Get().(*[tokenBufferSize]byte)
		defer tokenBuffers.Put(buf)
		cbuf, size := (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))
		var r C.x8go_token_result
		if timeout == 0 && cancel == nil {
			r = C.x8go_get_token(p, cbuf, size)
		} else {
			r = C.x8go_get_token_ex(p, timeout, cancel, cbuf, size)
		}
		if r.status != C.X8_STATUS_OK {
			return takeError(r.status, r.err)
		}
		value = string(buf[:r.len])
		clear(buf[:r.len]) // the pooled buffer should not keep a copy of the token
		return nil
	})
	if err != nil {
		return "", withDeadlineCause(ctx, err)
	}
	return value, nil
}
