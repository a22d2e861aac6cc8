package x8

// This file holds the one Go function libx8 calls back. A file with //export may only declare C in its preamble,
// so the C trampoline that calls it lives in options.go.

// #include <stdint.h>
import "C"

// x8goLog passes one libx8 diagnostic to the logger registered under loggerID. libx8 calls it from any thread,
// its background refresh thread included; a message for a client already freed finds no logger and is dropped.
//
//export x8goLog
func x8goLog(loggerID C.uintptr_t, level C.int32_t, message *C.char) {
	fn, ok := loggers.Load(uintptr(loggerID))
	if !ok {
		return
	}
	// A Go panic must not unwind through libx8's (Rust) frames, which would skip their cleanup and leave its
	// locks held; a logger has no caller here to report to, so the panic is dropped.
	defer func() { _ = recover() }()
	fn.(func(int, string))(int(level), C.GoString(message))
}
