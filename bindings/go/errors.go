package x8

// #include "x8.h"
import "C"

import (
	"errors"
	"fmt"
)

// Status is libx8's result code (x8_status). Every failure this package reports from libx8 is an *Error
// carrying one.
type Status int32

// The status codes of x8.h, taken from the header itself so they cannot drift.
const (
	StatusOK              Status = C.X8_STATUS_OK
	StatusInvalidArgument Status = C.X8_STATUS_INVALID_ARGUMENT
	StatusBufferTooSmall  Status = C.X8_STATUS_BUFFER_TOO_SMALL
	StatusConfig          Status = C.X8_STATUS_CONFIG
	StatusAuth            Status = C.X8_STATUS_AUTH
	StatusTokenEndpoint   Status = C.X8_STATUS_TOKEN_ENDPOINT
	StatusProtocol        Status = C.X8_STATUS_PROTOCOL
	StatusTransport       Status = C.X8_STATUS_TRANSPORT
	StatusTimeout         Status = C.X8_STATUS_TIMEOUT
	StatusTLS             Status = C.X8_STATUS_TLS
	StatusNotEntitled     Status = C.X8_STATUS_NOT_ENTITLED
	StatusBodyTooLarge    Status = C.X8_STATUS_BODY_TOO_LARGE
	StatusForked          Status = C.X8_STATUS_FORKED
	StatusCancelled       Status = C.X8_STATUS_CANCELLED
	StatusAborted         Status = C.X8_STATUS_ABORTED
	StatusInternal        Status = C.X8_STATUS_INTERNAL
)

// String returns the code's name as libx8 spells it, e.g. "X8_STATUS_AUTH".
func (s Status) String() string {
	return C.GoString(C.x8_status_str(C.int32_t(s)))
}

// Error is a failed libx8 call: its code, libx8's message (what happened and what to do; it never contains the
// secret or a token) and the HTTP status behind it (0 when no server answered).
//
// Match the kind of failure with errors.Is against the Err* values, and read the details with errors.As:
//
//	var xe *x8.Error
//	if errors.As(err, &xe) && errors.Is(err, x8.ErrAuth) { log.Printf("key refused (HTTP %d)", xe.HTTPStatus) }
type Error struct {
	Code       Status
	Message    string
	HTTPStatus int

	// cause is the context's error when the call ran out of the context's deadline, so that
	// errors.Is(err, context.DeadlineExceeded) holds as well as errors.Is(err, ErrTimeout).
	cause error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "x8: " + e.Code.String()
	}
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("x8: %s (HTTP %d)", e.Message, e.HTTPStatus)
	}
	return "x8: " + e.Message
}

// Is reports whether target is the sentinel for e's code (ErrAuth for StatusAuth...). Sentinels carry a code
// only, so any *Error without a message matches every error of its code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Unwrap returns the context error behind a timeout that came from the context's deadline, else nil.
func (e *Error) Unwrap() error { return e.cause }

// Sentinels for errors.Is: errors.Is(err, x8.ErrAuth) is true for every *Error with Code StatusAuth.
var (
	ErrInvalidArgument = &Error{Code: StatusInvalidArgument} // a bad argument: CR/LF or NUL in text, another origin...
	ErrBufferTooSmall  = &Error{Code: StatusBufferTooSmall}  // not returned by this package (it sizes buffers itself)
	ErrConfig          = &Error{Code: StatusConfig}          // bad options or missing X8_CLIENT_ID/X8_CLIENT_SECRET
	ErrAuth            = &Error{Code: StatusAuth}            // the token endpoint refused the key; retrying will not help
	ErrTokenEndpoint   = &Error{Code: StatusTokenEndpoint}   // the token endpoint kept failing (5xx/429)
	ErrProtocol        = &Error{Code: StatusProtocol}        // a server broke the protocol
	ErrTransport       = &Error{Code: StatusTransport}       // DNS, connection refused or reset, proxy
	ErrTimeout         = &Error{Code: StatusTimeout}         // a connect, read or overall timeout passed
	ErrTLS             = &Error{Code: StatusTLS}             // untrusted or mismatching certificate, bad CA file
	ErrNotEntitled     = &Error{Code: StatusNotEntitled}     // the key lacks the API's product
	ErrBodyTooLarge    = &Error{Code: StatusBodyTooLarge}    // a response body exceeded WithMaxBodyBytes
	ErrForked          = &Error{Code: StatusForked}          // a client created before fork() used in the child
	ErrCancelled       = &Error{Code: StatusCancelled}       // the call's context was cancelled while it ran
	ErrAborted         = &Error{Code: StatusAborted}         // a streamed transfer's io.Writer or io.Reader failed
	ErrInternal        = &Error{Code: StatusInternal}        // a bug in libx8; please report it with the message
)

// ErrClosed is returned by every method of a Client after Close. It is this package's own error, not libx8's,
// so it is not an *Error (like net.ErrClosed).
var ErrClosed = errors.New("x8: use of closed client")

// takeError turns a failed call's status and x8_error into an *Error and frees the x8_error at once.
func takeError(status C.x8_status, cerr *C.x8_error) error {
	if cerr == nil {
		// libx8 always hands an error back when asked; this only guards against a broken library.
		return &Error{Code: Status(status)}
	}
	e := &Error{
		Code:       Status(C.x8_error_code(cerr)),
		Message:    C.GoString(C.x8_error_message(cerr)),
		HTTPStatus: int(C.x8_error_http_status(cerr)),
	}
	C.x8_error_free(cerr)
	return e
}

// invalidArgument reports a mistake this package catches before calling libx8 (where libx8 could not: a NUL
// inside a Go string would silently cut the C string short).
func invalidArgument(format string, args ...any) error {
	return &Error{Code: StatusInvalidArgument, Message: fmt.Sprintf(format, args...)}
}
