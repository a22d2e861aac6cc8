package x8

// The Go functions libx8's x8_token_store calls (see store.go, which holds their C trampolines: a file with
// //export may only declare C in its preamble). Each returns an X8_STORE_* code; a Go panic is recovered and
// reported as a failure, because it must not unwind through libx8's (Rust) frames.

// #include <stdint.h>
// #include <stddef.h>
// #include "x8.h"
import "C"

import "unsafe"

const storeFailed = -1

// guard turns a panic in the application's store into a failure code.
func guard(rc *C.int32_t) {
	if recover() != nil {
		*rc = storeFailed
	}
}

//export x8goStoreLoad
func x8goStoreLoad(id C.uintptr_t, key *C.char, buf *C.char, bufLen C.size_t, recordLen *C.size_t) (rc C.int32_t) {
	defer guard(&rc)
	s, ok := storeOf(id)
	if !ok {
		return storeFailed
	}
	record, found, err := s.Load(C.GoString(key))
	switch {
	case err != nil:
		return storeFailed
	case !found:
		return C.X8_STORE_NOT_FOUND
	}
	*recordLen = C.size_t(len(record))
	if C.size_t(len(record)) > bufLen {
		return C.X8_STORE_BUFFER_TOO_SMALL
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(bufLen)), record)
	return C.X8_STORE_OK
}

//export x8goStoreSave
func x8goStoreSave(id C.uintptr_t, key *C.char, record *C.char, ttlMS C.int64_t) (rc C.int32_t) {
	defer guard(&rc)
	s, ok := storeOf(id)
	if !ok || s.Store(C.GoString(key), C.GoString(record), millisOf(ttlMS)) != nil {
		return storeFailed
	}
	return C.X8_STORE_OK
}

//export x8goStoreLock
func x8goStoreLock(id C.uintptr_t, key *C.char, ttlMS C.int64_t) (rc C.int32_t) {
	defer guard(&rc)
	s, ok := storeOf(id)
	if !ok {
		return storeFailed
	}
	taken, err := s.(TokenStoreLocker).Lock(C.GoString(key), millisOf(ttlMS))
	switch {
	case err != nil:
		return storeFailed
	case !taken:
		return C.X8_STORE_BUSY
	}
	return C.X8_STORE_OK
}

//export x8goStoreUnlock
func x8goStoreUnlock(id C.uintptr_t, key *C.char) (rc C.int32_t) {
	defer guard(&rc)
	s, ok := storeOf(id)
	if !ok || s.(TokenStoreLocker).Unlock(C.GoString(key)) != nil {
		return storeFailed
	}
	return C.X8_STORE_OK
}

//export x8goStoreRemove
func x8goStoreRemove(id C.uintptr_t, key *C.char, record *C.char) (rc C.int32_t) {
	defer guard(&rc)
	s, ok := storeOf(id)
	if !ok || s.Remove(C.GoString(key), C.GoString(record)) != nil {
		return storeFailed
	}
	return C.X8_STORE_OK
}
