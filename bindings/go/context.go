package x8

// #include "x8.h"
import "C"

import (
	"context"
	"errors"
	"time"
)

// How a context bounds a call into libx8: a cgo call cannot be interrupted, so a context is honoured in two
// places only. Before the call, a context already done returns ctx.Err() without calling libx8. During the
// call, the context's deadline becomes libx8's timeout for that call (never longer than the client's
// WithTimeout); cancelling the context while the call runs does not stop it.

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
// matches context.DeadlineExceeded as well as ErrTimeout.
func withDeadlineCause(ctx context.Context, err error) error {
	var xe *Error
	if !errors.As(err, &xe) || xe.Code != StatusTimeout {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		xe.cause = ctxErr
	} else if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		xe.cause = context.DeadlineExceeded // the context's timer has not fired yet
	}
	return err
}
