package x8

// #include <stdlib.h>
// #include "x8.h"
//
// // x8_request with its options built on the C side: a Go x8_request_opts holding Go pointers (the header lines
// // and the body) could not be passed to C, while the same pointers as plain arguments can.
// static x8_status x8go_request(const x8_client *client, const char *method, const char *path,
//                               const char *const *headers, size_t header_count, const uint8_t *body,
//                               size_t body_len, uint32_t timeout_ms, x8_response **out, x8_error **err) {
//     x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = header_count, .body = body, .body_len = body_len, .timeout_ms = timeout_ms};
//     return x8_request(client, method, path, &opts, out, err);
// }
import "C"

import (
	"context"
	"net/http"
	"sort"
	"unsafe"
)

// Response is an API's answer, copied out of libx8 (whose response is freed before Do returns).
type Response struct {
	StatusCode int
	Header     http.Header // canonical keys; repeated headers keep every value in the order received
	Body       []byte
	PageStyle  PageStyle // for a page from Pages: the listing's style (detected, with PageAuto); else PageAuto
}

// Do sends an authenticated request to the API: "Authorization: Bearer <token>" is added from the cache (the
// token is fetched first if needed). path is relative to the base URL ("/analytics/cc/v5/realtime-metrics/
// queues?page=0") or an absolute URL on the base URL's origin; any other origin is refused with
// ErrInvalidArgument, so the token never leaves it. body may be nil. headers may be nil; Authorization, Host,
// Content-Length and Transfer-Encoding are set by libx8 and refused.
//
// Any HTTP status is a successful call. When the API rejects the token, libx8 drops it, fetches a new one and
// sends the request once more (see WithReplayOn401); a second rejection is returned as the Response.
//
// ctx's deadline bounds the whole call; a cgo call cannot be interrupted, so cancelling ctx after the call
// started is not honoured (see the package doc). Errors: ErrInvalidArgument (CR, LF or NUL in the method, path
// or a header, a malformed header, another origin), ErrNotEntitled (the key lacks the API's product; the
// message names the token's products), ErrBodyTooLarge, ErrTransport, ErrTimeout, ErrTLS and the token errors
// (ErrAuth, ErrTokenEndpoint, ...).
func (c *Client) Do(ctx context.Context, method, path string, body []byte, headers http.Header) (*Response, error) {
	timeout, err := c.callTimeout(ctx)
	if err != nil {
		return nil, err
	}
	cmethod, err := cString("the method", method)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cmethod))
	cpath, err := cString("the path", path)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cpath))
	lines, err := headerLines(headers)
	defer freeAll(lines)
	if err != nil {
		return nil, err
	}

	var resp *Response
	err = c.use(func(p *C.x8_client) error {
		// Both slices are Go memory without Go pointers (lines holds C pointers), which cgo lets C borrow.
		var clines **C.char
		if len(lines) > 0 {
			clines = &lines[0]
		}
		var cbody *C.uint8_t
		if len(body) > 0 {
			cbody = (*C.uint8_t)(unsafe.Pointer(&body[0]))
		}
		var out *C.x8_response
		var cerr *C.x8_error
		status := C.x8go_request(p, cmethod, cpath, clines, C.size_t(len(lines)), cbody, C.size_t(len(body)),
			timeout, &out, &cerr)
		if status != C.X8_STATUS_OK {
			return takeError(status, cerr)
		}
		defer C.x8_response_free(out)
		resp = copyResponse(out)
		return nil
	})
	if err != nil {
		return nil, withDeadlineCause(ctx, err)
	}
	return resp, nil
}

// headerLines turns headers into C strings "Name: value", one per value, in a stable order. The caller frees
// them with freeAll, also when an error is returned.
func headerLines(headers http.Header) ([]*C.char, error) {
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	sort.Strings(names)
	var lines []*C.char
	for _, name := range names {
		for _, value := range headers[name] {
			line, err := cString("header "+name, name+": "+value)
			if err != nil {
				return lines, err
			}
			lines = append(lines, line)
		}
	}
	return lines, nil
}

func freeAll(lines []*C.char) {
	for _, l := range lines {
		C.free(unsafe.Pointer(l))
	}
}

func copyResponse(r *C.x8_response) *Response {
	resp := &Response{StatusCode: int(C.x8_response_status(r)), Header: http.Header{}}
	n := C.x8_response_header_count(r)
	for i := C.size_t(0); i < n; i++ {
		var name, value *C.char
		if C.x8_response_header_at(r, i, &name, &value) {
			resp.Header.Add(C.GoString(name), C.GoString(value))
		}
	}
	var size C.size_t
	data := C.x8_response_body(r, &size)
	resp.Body = make([]byte, int(size))
	if size > 0 {
		copy(resp.Body, unsafe.Slice((*byte)(unsafe.Pointer(data)), int(size)))
	}
	return resp
}
