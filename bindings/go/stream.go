package x8

// #include <stdlib.h>
// #include "x8.h"
//
// extern int x8goStreamWrite(uintptr_t user, uint8_t *data, size_t len);
// extern int x8goStreamRead(uintptr_t user, uint8_t *buf, size_t cap, size_t *len);
//
// static int x8go_stream_write(void *user, const uint8_t *data, size_t len) {
//     return x8goStreamWrite((uintptr_t)user, (uint8_t *)data, len);
// }
// static int x8go_stream_read(void *user, uint8_t *buf, size_t cap, size_t *len) {
//     return x8goStreamRead((uintptr_t)user, buf, cap, len);
// }
//
// // The head callback of every streamed download: a 2xx body goes to the io.Writer, any other status's body
// // is held in the response (under WithMaxBodyBytes), so an error body never lands in the caller's stream.
// static int x8go_stream_2xx_only(void *user, const x8_response *head) {
//     (void)user;
//     uint16_t status = x8_response_status(head);
//     return status >= 200 && status < 300 ? X8_HEAD_STREAM : X8_HEAD_HOLD;
// }
//
// // x8_request with write and/or read callbacks; user is a cgo.Handle, passed through C as an integer.
// static x8_status x8go_request_stream(const x8_client *client, const char *method, const char *path,
//                                      const char *const *headers, size_t header_count, uint32_t timeout_ms,
//                                      uintptr_t user, int download, int upload, uint64_t upload_len,
//                                      x8_response **out, x8_error **err) {
//     x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = header_count, .timeout_ms = timeout_ms};
//     if (download) { opts.write = x8go_stream_write; opts.write_user = (void *)user; opts.head = x8go_stream_2xx_only; }
//     if (upload) { opts.read = x8go_stream_read; opts.read_user = (void *)user; opts.upload_len = upload_len; }
//     return x8_request(client, method, path, &opts, out, err);
// }
//
// // x8_fetch_url with the write callback (FetchURLTo).
// static x8_status x8go_fetch_url_stream(const x8_client *client, const char *method, const char *url,
//                                        const char *const *headers, size_t header_count, uint32_t timeout_ms,
//                                        uintptr_t user, x8_response **out, x8_error **err) {
//     x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = header_count,
//                             .timeout_ms = timeout_ms, .write = x8go_stream_write, .write_user = (void *)user,
//                             .head = x8go_stream_2xx_only};
//     return x8_fetch_url(client, method, url, &opts, out, err);
// }
import "C"

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/cgo"
	"unsafe"
)

// stream is one DoStream call's writer, reader and the first error either gave.
type stream struct {
	w   io.Writer
	r   io.Reader
	err error
}

// DoStream is Do for bodies too large to hold. The request body, if body is not nil, is read from body as it
// is sent: size is its length in bytes (sent as Content-Length; a reader that gives fewer or more fails the
// call), or 0 or less when unknown (sent chunked). The response body, if w is not nil, is written to w as it
// arrives, in chunks of at most 64 KiB, in constant memory and with no WithMaxBodyBytes limit; the returned
// Response then has the status and headers and an empty Body. With w nil the body is held in Response.Body as
// by Do.
//
// Only a success's body reaches w: for a 2xx status the body is written to w; for any other (a 404, a 403, a
// 500) nothing is written to w and the error body is held in Response.Body as by Do (under WithMaxBodyBytes;
// ErrBodyTooLarge past it), so check StatusCode and read Body for why. A 401 that libx8 answers by replaying
// the request is never seen. Once body has given a byte the
// request is never sent again (a reader cannot be rewound): not on a stale pooled connection, not after a 401,
// which is then returned (the rejected token is dropped, so a new call gets a new one).
//
// body and w are called on the calling goroutine during the call and never after it returns; they may use the
// client. ctx's deadline bounds the whole transfer: give a large download one. When w or body fails (or
// panics), the call stops and returns an error matching both ErrAborted and that failure (errors.Is).
func (c *Client) DoStream(ctx context.Context, method, path string, headers http.Header, body io.Reader,
	size int64, w io.Writer) (*Response, error) {
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
	s := &stream{w: w, r: body}
	handle := cgo.NewHandle(s)
	defer handle.Delete()
	var uploadLen C.uint64_t
	if size > 0 {
		uploadLen = C.uint64_t(size)
	}
	var resp *Response
	err = c.use(func(p *C.x8_client) error {
		var clines **C.char
		if len(lines) > 0 {
			clines = &lines[0]
		}
		var out *C.x8_response
		var cerr *C.x8_error
		status := C.x8go_request_stream(p, cmethod, cpath, clines, C.size_t(len(lines)), timeout,
			C.uintptr_t(handle), flag(w != nil), flag(body != nil), uploadLen, &out, &cerr)
		if status != C.X8_STATUS_OK {
			return takeError(status, cerr)
		}
		defer C.x8_response_free(out)
		resp = copyResponse(out)
		return nil
	})
	if err != nil {
		return nil, withDeadlineCause(ctx, s.wrap(err))
	}
	return resp, nil
}

// fetchURLStream calls x8_fetch_url with the write callback, for pager.go's fetchURL (a C function in one
// file's preamble is not visible from another's).
func fetchURLStream(p *C.x8_client, method, url *C.char, lines **C.char, count C.size_t, timeout C.uint32_t,
	handle cgo.Handle, out **C.x8_response, cerr **C.x8_error) C.x8_status {
	return C.x8go_fetch_url_stream(p, method, url, lines, count, timeout, C.uintptr_t(handle), out, cerr)
}

// wrap adds the writer's or reader's own failure, if it gave one, to the call's error.
func (s *stream) wrap(err error) error {
	if s.err != nil {
		return fmt.Errorf("%w: %w", err, s.err)
	}
	return err
}

// FetchURLTo is FetchURL for bodies too large to hold: the response body is written to w as it arrives, in
// chunks of at most 64 KiB, in constant memory and with no WithMaxBodyBytes limit; the returned Response has the
// status and headers and an empty Body. As for DoStream, only a 2xx body reaches w: any other status's body (an
// expired link's 403) is held in Response.Body, nothing written to w. w is called on the calling goroutine
// during the call only. ctx's deadline bounds the whole transfer. Errors: those of FetchURL (ErrBodyTooLarge only
// for a held error body), and an error matching both ErrAborted and w's failure (or panic) when w fails.
func (c *Client) FetchURLTo(ctx context.Context, method, url string, headers http.Header, w io.Writer) (*Response, error) {
	if w == nil {
		return nil, invalidArgument("FetchURLTo needs an io.Writer")
	}
	return c.fetchURL(ctx, method, url, headers, w)
}

func flag(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
