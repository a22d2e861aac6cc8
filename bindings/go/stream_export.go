package x8

// The Go functions x8_request's write and read callbacks call during DoStream (see stream.go, which holds the
// C trampolines: a file with //export may only declare C in its preamble). user is a cgo.Handle to the call's
// *stream, never a Go pointer. A panic in the application's io.Writer or io.Reader is recovered and stops the
// transfer: it must not unwind through libx8's (Rust) frames.

// #include <stdint.h>
// #include <stddef.h>
import "C"

import (
	"fmt"
	"io"
	"runtime/cgo"
	"unsafe"
)

const streamStop = 1

func (s *stream) recover(rc *C.int) {
	if p := recover(); p != nil {
		s.err = fmt.Errorf("x8: the body's io.Writer or io.Reader panicked: %v", p)
		*rc = streamStop
	}
}

//export x8goStreamWrite
func x8goStreamWrite(user C.uintptr_t, data *C.uint8_t, n C.size_t) (rc C.int) {
	s := cgo.Handle(user).Value().(*stream)
	defer s.recover(&rc)
	// Borrowed C memory, valid for this call only: the writer must not keep the slice (io.Writer's rule).
	if _, err := s.w.Write(unsafe.Slice((*byte)(unsafe.Pointer(data)), int(n))); err != nil {
		s.err = err
		return streamStop
	}
	return 0
}

//export x8goStreamRead
func x8goStreamRead(user C.uintptr_t, buf *C.uint8_t, capacity C.size_t, n *C.size_t) (rc C.int) {
	s := cgo.Handle(user).Value().(*stream)
	defer s.recover(&rc)
	p := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(capacity))
	// io.Reader may return 0, nil; only 0 with io.EOF ends the body.
	for tries := 0; tries < 100; tries++ {
		got, err := s.r.Read(p)
		if got > 0 {
			*n = C.size_t(got)
			return 0
		}
		if err == io.EOF {
			*n = 0
			return 0
		}
		if err != nil {
			s.err = err
			return streamStop
		}
	}
	s.err = io.ErrNoProgress
	return streamStop
}
