package x8

// #include "x8.h"
import "C"

import (
	"context"
	"errors"
	"time"
)

// How a context bounds a call into libx8. Before the call, a context already done returns ctx.Err() without
// calling libx8. During the call, the context's deadline becomes libx8's timeout for that call (never longer
// than the client's WithTimeout), and a context that can be cancelled gets an x8_cancel that ctx.Done()
// triggers: a cgo call cannot be interrupted, but libx8 then returns X8_STATUS_CANCELLED promptly, closing the
// request's connection.

// cancelFor returns the x8_cancel to pass with one call under ctx, triggered when ctx is done, and the function
// that takes it down once the call has returned; (nil, no-op) for a context that can never be cancelled, so
// the common context.Background() call costs nothing. No goroutine waits on ctx: context.AfterFunc runs the
// trigger only if ctx ends while the call runs.
func cancelFor(ctx context.Context) (*C.x8_cancel, func()) {
	if ctx.Done() == nil {
		return nil, func() {}
	}
	h := C.x8_cancel_new()
	triggered := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.x8_cancel_trigger(h)
		close(triggered)
	})
	return h, func() {
		if !stop() {
			<-triggered // the trigger started: it must finish before the handle is freed
		}
		C.x8_cancel_free(h)
	}
}

// callTimeout returns the timeout_ms for one libx8 call under ctx: 0 (the client's own timeout) when ctx has no
// deadline or one further away than that timeout. It returns ctx's error when ctx is done already.
func (c *Client) callTimeout(ctx context.Context) (C.uint32_t, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0, nil
	}
	left := time.Until(deadline)
	if left <= 0 {
		return 0, context.DeadlineExceeded
	}
	if left >= c.timeoutCap {
		return 0, nil
	}
	// Rounded up: a remainder under a millisecond must not become 0, which means "the client's timeout".
	return C.uint32_t((left + time.Millisecond - 1) / time.Millisecond), nil
}

// withDeadlineCause marks a libx8 timeout that happened once ctx's deadline had passed, so that errors.Is
// matches context.DeadlineExceeded as well as ErrTimeout, and a cancellation by ctx, so that errors.Is matches
// context.Canceled as well as ErrCancelled (a cancellation by ctx's deadline is that timeout).
func withDeadlineCause(ctx context.Context, err error) error {
	var xe *Error
	if !errors.As(err, &xe) {
		return err
	}
	if xe.Code == StatusCancelled {
		xe.cause = ctx.Err()
		if errors.Is(xe.cause, context.DeadlineExceeded) {
			// ctx.Done() fired at the deadline before libx8's own timeout did: the same timeout, reported
			// as one.
			xe.Code = StatusTimeout
			xe.Message = "timed out: the context's deadline passed"
		}
		return err
	}
	if xe.Code != StatusTimeout {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		xe.cause = ctxErr
	} else if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		xe.cause = context.DeadlineExceeded // the context's timer has not fired yet
	}
	return err
}
