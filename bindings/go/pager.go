package x8

// #include <stdlib.h>
// #include "x8.h"
//
// // x8_pager_new with its options built on the C side, as x8go_request does (no Go pointer in C memory).
// static x8_status x8go_pager_new(const x8_client *client, const char *method, const char *path,
//                                 const char *const *headers, size_t header_count, const uint8_t *body,
//                                 size_t body_len, uint32_t style, uint64_t max_pages, const x8_cancel *cancel,
//                                 x8_pager **out, x8_error **err) {
//     x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = header_count,
//                             .body = body, .body_len = body_len, .cancel = cancel};
//     return x8_pager_new(client, method, path, &opts, style, max_pages, out, err);
// }
//
// // x8_fetch_url with its headers and timeout, likewise.
// static x8_status x8go_fetch_url(const x8_client *client, const char *method, const char *url,
//                                 const char *const *headers, size_t header_count, uint32_t timeout_ms,
//                                 x8_response **out, x8_error **err) {
//     x8_request_opts opts = {.size = sizeof opts, .headers = headers, .header_count = header_count,
//                             .timeout_ms = timeout_ms};
//     return x8_fetch_url(client, method, url, &opts, out, err);
// }
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// PageStyle says how a listing names its next page: one of 8x8's five styles, Single, or PageAuto to detect it
// from the first reply. The values are the C header's x8_page_style.
type PageStyle uint32

const (
	PageAuto         PageStyle = C.X8_PAGE_STYLE_AUTO          // detect from the first reply
	PageHeaders      PageStyle = C.X8_PAGE_STYLE_PAGE_HEADERS  // X-Page, X-Total-Pages, Link rel="next": realtime, historical summary
	PageHeaderCursor PageStyle = C.X8_PAGE_STYLE_HEADER_CURSOR // Last-Document-Id → lastDocumentId: historical detailed reports
	PageBodyOffset   PageStyle = C.X8_PAGE_STYLE_BODY_OFFSET   // pageKey until lastPage: Storage search
	PageBodyLinks    PageStyle = C.X8_PAGE_STYLE_BODY_LINKS    // links[rel=nextUrl]: QM
	PageObject       PageStyle = C.X8_PAGE_STYLE_PAGE_OBJECT   // page.pageIndex / pageCount: vcc
	PageSingle       PageStyle = C.X8_PAGE_STYLE_SINGLE        // not paged: the first reply is all
)

func (s PageStyle) String() string {
	switch s {
	case PageAuto:
		return "auto"
	case PageHeaders:
		return "page-headers"
	case PageHeaderCursor:
		return "header-cursor"
	case PageBodyOffset:
		return "body-offset"
	case PageBodyLinks:
		return "body-links"
	case PageObject:
		return "page-object"
	case PageSingle:
		return "single"
	}
	return fmt.Sprintf("PageStyle(%d)", uint32(s))
}

// PageStatusError is what Items yields for a page answered with a non-2xx status (Pages yields the page
// itself): the listing ends there.
type PageStatusError struct {
	Page *Response
}

func (e *PageStatusError) Error() string {
	return fmt.Sprintf("x8: a page of the listing answered HTTP %d", e.Page.StatusCode)
}

// Pages reads a paged listing, one Response per page, until the last page: each page is an ordinary request
// (token renewal, the replay after a 401 and the timeout apply to each), in style (PageAuto detects it from
// the first reply). The listing starts at the page path names (?page=2 starts at page 2).
//
//	for page, err := range client.Pages(ctx, "GET", "/vcc/eu/chat/v2/tenant/t1/conversations?size=50", nil, nil, x8.PageAuto) {
//		if err != nil { return err }
//		... page.StatusCode, page.Body ...
//	}
//
// Each page's PageStyle is the listing's style (the one detected, with PageAuto). A page with a non-2xx
// status is yielded as it is and is the last. An error (the network, ctx, a reply that
// does not read as its style, more than 100000 pages) is yielded once with a nil Response and ends the
// listing. ctx's deadline bounds the whole listing: each page gets what is left of it; cancelling ctx stops a
// page in flight (ErrCancelled, context.Canceled). Breaking out of the loop
// abandons the listing. Each range over the result reads the listing anew; one range must not be shared
// between goroutines, but any number of listings may run on one Client at once. Close waits for a listing in
// progress to end before freeing the client.
func (c *Client) Pages(ctx context.Context, method, path string, body []byte, headers http.Header, style PageStyle) iter.Seq2[*Response, error] {
	return func(yield func(*Response, error) bool) {
		c.listing(ctx, method, path, body, headers, style, func(r *Response, _ *C.x8_response, err error) bool {
			return yield(r, err)
		})
	}
}

// Items reads the same listing as Pages and yields its items one by one, as raw JSON, whatever the API's
// shape: the page itself when it is an array, else its content (Storage, QM), data (vcc) or items array, also
// where a spec wraps the page in an array of one. A non-2xx page yields a *PageStatusError; a page that holds
// no list of items yields an error matching ErrProtocol. Either ends the listing.
func (c *Client) Items(ctx context.Context, method, path string, body []byte, headers http.Header, style PageStyle) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		c.listing(ctx, method, path, body, headers, style, func(r *Response, page *C.x8_response, err error) bool {
			if err != nil {
				return yield(nil, err)
			}
			if r.StatusCode/100 != 2 {
				return yield(nil, &PageStatusError{Page: r})
			}
			items, err := pageItems(page)
			if err != nil {
				return yield(nil, err)
			}
			for _, item := range items {
				if !yield(item, nil) {
					return false
				}
			}
			return true
		})
	}
}

// listing runs one pager to its end, or until each returns false. each gets the copied page and the C page
// (valid only during the call), or an error.
func (c *Client) listing(ctx context.Context, method, path string, body []byte, headers http.Header, style PageStyle,
	each func(*Response, *C.x8_response, error) bool) {
	cmethod, err := cString("the method", method)
	if err != nil {
		each(nil, nil, err)
		return
	}
	defer C.free(unsafe.Pointer(cmethod))
	cpath, err := cString("the path", path)
	if err != nil {
		each(nil, nil, err)
		return
	}
	defer C.free(unsafe.Pointer(cpath))
	lines, err := headerLines(headers)
	defer freeAll(lines)
	if err != nil {
		each(nil, nil, err)
		return
	}
	// The client stays acquired for the whole listing (Close frees it only after), since the pager uses it.
	if !c.h.acquire() {
		each(nil, nil, ErrClosed)
		return
	}
	defer c.h.release()
	defer runtime.KeepAlive(c) // c (and so its cleanup) must outlive the pager's calls

	var clines **C.char
	if len(lines) > 0 {
		clines = &lines[0]
	}
	var cbody *C.uint8_t
	if len(body) > 0 {
		cbody = (*C.uint8_t)(unsafe.Pointer(&body[0]))
	}
	// One x8_cancel for the whole listing: the pager keeps its own reference, ctx.Done() triggers it until the
	// listing ends, and a page in flight then returns at once.
	cancel, done := cancelFor(ctx)
	defer done()
	var pager *C.x8_pager
	var cerr *C.x8_error
	if status := C.x8go_pager_new(c.h.ptr, cmethod, cpath, clines, C.size_t(len(lines)), cbody, C.size_t(len(body)),
		C.uint32_t(style), 0, cancel, &pager, &cerr); status != C.X8_STATUS_OK {
		each(nil, nil, takeError(status, cerr))
		return
	}
	defer C.x8_pager_free(pager)
	for {
		timeout, err := c.callTimeout(ctx)
		if err != nil {
			each(nil, nil, err)
			return
		}
		if status := C.x8_pager_set_timeout(pager, timeout, &cerr); status != C.X8_STATUS_OK {
			each(nil, nil, takeError(status, cerr))
			return
		}
		var page *C.x8_response
		if status := C.x8_pager_next(pager, &page, &cerr); status != C.X8_STATUS_OK {
			each(nil, nil, withDeadlineCause(ctx, takeError(status, cerr)))
			return
		}
		if page == nil {
			return
		}
		r := copyResponse(page)
		r.PageStyle = PageStyle(C.x8_pager_style(pager))
		more := each(r, page, nil)
		C.x8_response_free(page)
		if !more {
			return
		}
	}
}

// pageItems splits a page's items (x8_page_items: one JSON array whatever the API's shape) into raw items.
func pageItems(page *C.x8_response) ([]json.RawMessage, error) {
	var text *C.char
	var count C.size_t
	var cerr *C.x8_error
	if status := C.x8_page_items(page, &text, &count, &cerr); status != C.X8_STATUS_OK {
		return nil, takeError(status, cerr)
	}
	defer C.x8_free(unsafe.Pointer(text))
	items := make([]json.RawMessage, 0, int(count))
	if err := json.Unmarshal([]byte(C.GoString(text)), &items); err != nil {
		return nil, fmt.Errorf("x8: decoding the page's items: %w", err)
	}
	return items, nil
}

// FetchURL fetches an absolute URL without the client's token: no Authorization header and no 8x8 credential
// is sent, to any origin. It is for the presigned download links Storage answers ?presignUrl=true with (an S3
// URL whose query is its own credential). method is GET or HEAD; url must be https (http only on loopback).
// Redirects are not followed; the client's proxy, CA, timeouts and body limit apply; the URL's query never
// appears in an error. ctx's deadline bounds the call. Any HTTP status is a success (an expired link is S3's
// 403). Errors: ErrInvalidArgument (another method, an Authorization header, a URL that is not https or
// loopback http), ErrBodyTooLarge, ErrTransport, ErrTimeout, ErrTLS; never a token error.
func (c *Client) FetchURL(ctx context.Context, method, url string, headers http.Header) (*Response, error) {
	return c.fetchURL(ctx, method, url, headers, nil)
}

// fetchURL is FetchURL, or FetchURLTo when w is not nil.
func (c *Client) fetchURL(ctx context.Context, method, url string, headers http.Header, w io.Writer) (*Response, error) {
	timeout, err := c.callTimeout(ctx)
	if err != nil {
		return nil, err
	}
	cmethod, err := cString("the method", method)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cmethod))
	curl, err := cString("the URL", url)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(curl))
	lines, err := headerLines(headers)
	defer freeAll(lines)
	if err != nil {
		return nil, err
	}
	s := &stream{w: w}
	handle := cgo.NewHandle(s)
	defer handle.Delete()
	var resp *Response
	err = c.use(func(p *C.x8_client) error {
		var clines **C.char
		if len(lines) > 0 {
			clines = &lines[0]
		}
		var out *C.x8_response
		var cerr *C.x8_error
		var status C.x8_status
		if w != nil {
			status = fetchURLStream(p, cmethod, curl, clines, C.size_t(len(lines)), timeout, handle, &out, &cerr)
		} else {
			status = C.x8go_fetch_url(p, cmethod, curl, clines, C.size_t(len(lines)), timeout, &out, &cerr)
		}
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
