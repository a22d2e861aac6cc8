package main

// Row 4 in Go: x8 called directly through cgo, with no binding in between, so the numbers show the cost of the
// cgo boundary itself next to the same calls made from C. Buffers and strings are C memory allocated once, as
// a binding would keep them, so no Go pointer crosses (and cgo's pointer checks have nothing to do).

/*
#cgo LDFLAGS: -lx8
#include <stdlib.h>
#include "x8.h"
*/
import "C"

import (
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"
)

const cgoImpl = "x8 via cgo (Go)"

func cgoClient() *C.x8_client {
	url, empty := C.CString(baseURL), C.CString("")
	defer C.free(unsafe.Pointer(url))
	defer C.free(unsafe.Pointer(empty))
	id, sec := C.CString(clientID), C.CString(secret)
	defer C.free(unsafe.Pointer(id))
	defer C.free(unsafe.Pointer(sec))
	opts := C.x8_options_new()
	defer C.x8_options_free(opts)
	var client *C.x8_client
	if C.x8_options_set_base_url(opts, url, nil) != 0 || C.x8_options_set_proxy(opts, empty, nil) != 0 ||
		C.x8_client_new(id, sec, opts, &client, nil) != 0 {
		die("cannot create an x8 client")
	}
	return client
}

// Single goroutine: wall ns per x8_get_token call, as in the C row.
func benchCgoHit() {
	setTokenLifetime(1799)
	client := cgoClient()
	defer C.x8_client_free(client)
	buf := (*C.char)(C.malloc(C.X8_TOKEN_BUFFER_SIZE))
	length := (*C.size_t)(C.malloc(C.size_t(unsafe.Sizeof(C.size_t(0)))))
	defer C.free(unsafe.Pointer(buf))
	defer C.free(unsafe.Pointer(length))
	for rep := 0; rep < reps(); rep++ {
		calls := uint64(0)
		wall, cpu := runWorkers(1, seconds(0.4), func(_ int, stop *atomic.Bool) {
			for !stop.Load() {
				for j := 0; j < 64; j++ {
					if C.x8_get_token(client, buf, C.X8_TOKEN_BUFFER_SIZE, length, nil) != 0 {
						die("x8_get_token failed")
					}
				}
				calls += 64
			}
		})
		emit("hit", cgoImpl, 1, fmt.Sprintf(`"ns_per_call":%.2f,"cpu_ns_per_call":%.2f,"calls_per_s":%.0f`,
			float64(wall)/float64(calls), float64(cpu)/float64(calls), float64(calls)/wall.Seconds()))
	}
}

// One caller: x8_request, status, free — the calls of the C row's GET.
func benchCgoGet() {
	setTokenLifetime(1799)
	client := cgoClient()
	defer C.x8_client_free(client)
	method, path := C.CString("GET"), C.CString(getPath)
	out := (**C.x8_response)(C.malloc(C.size_t(unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(method))
	defer C.free(unsafe.Pointer(path))
	defer C.free(unsafe.Pointer(out))
	get := func() {
		if C.x8_request(client, method, path, nil, out, nil) != 0 || C.x8_response_status(*out) != 200 {
			die("x8_request failed")
		}
		C.x8_response_free(*out)
	}
	get()
	for rep := 0; rep < reps(); rep++ {
		hists := make([]hist, 1)
		resetStats()
		wall, cpu := runWorkers(1, seconds(1.5), func(_ int, stop *atomic.Bool) {
			for !stop.Load() {
				t0 := time.Now()
				get()
				hists[0].add(time.Since(t0))
			}
		})
		emitGet(cgoImpl, 1, hists, wall, cpu)
	}
}
