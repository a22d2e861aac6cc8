// Package x8 gets 8x8 XCaaS OAuth tokens and makes authenticated requests to 8x8's APIs through libx8, the x8
// C library: the token is cached, renewed in the background ahead of expiry, fetched once however many
// goroutines ask at once, and only ever sent to the API's origin.
//
//	client, err := x8.NewClient(clientID, secret)
//	if err != nil { ... }
//	defer client.Close()
//	resp, err := client.Do(ctx, "GET", "/analytics/cc/v5/realtime-metrics/queues", nil, nil)
//
// Three ways to use the token: Client.Do sends requests through libx8; Client.Transport plugs it into a plain
// *http.Client; Client.AccessToken, Client.Token and Client.TokenSource hand it to code of your own.
//
// # Errors
//
// Failures reported by libx8 are *Error values carrying a Status, libx8's message and the HTTP status behind
// them. Match them with errors.Is against ErrAuth, ErrNotEntitled, ErrTimeout and the other Err* values, and
// read the details with errors.As. ErrClosed reports use of a closed Client. Messages never contain the secret
// or a token.
//
// # Contexts
//
// A context already done returns ctx.Err() without calling libx8; a context's deadline becomes libx8's timeout
// for that call (never longer than WithTimeout); and cancelling a context while a call runs stops it: a cgo
// call cannot be interrupted, so each call under a context that can be cancelled carries an x8_cancel that
// ctx.Done() triggers (through context.AfterFunc, no goroutine per call), and libx8 returns promptly — a
// request blocked on the network has its connection closed (never reused), a caller waiting for the shared
// token fetch stops waiting while the fetch goes on for the other callers. The error matches both
// ErrCancelled and context.Canceled. A timeout caused by the deadline matches both ErrTimeout and
// context.DeadlineExceeded. context.Background() and context.TODO() cost nothing extra.
//
// # Concurrency and lifetime
//
// A Client is safe for concurrent use by any number of goroutines, and libx8 holds no per-thread state, so no
// goroutine is locked to its OS thread. Close releases the client; it is idempotent and safe to call while
// other calls run (they finish, later calls get ErrClosed). A Client dropped without Close is released by a
// runtime cleanup once the garbage collector finds it unreachable.
//
// # Building
//
// The package uses cgo. The header comes from the repository's include/ directory or CGO_CFLAGS=-I<dir>; the
// library from CGO_LDFLAGS="-L<dir> -Wl,-rpath,<dir>" (see README.md).
package x8

// #include "x8.h"
import "C"

// HeaderVersion is the version of the x8.h this package was compiled against.
const HeaderVersion = C.X8_VERSION_STRING

// Version returns the version of the libx8 the program runs with, e.g. "0.1.0". It differs from
// HeaderVersion when the program was linked against another libx8 than the header it was built with.
func Version() string { return C.GoString(C.x8_version()) }

// VersionNum returns libx8's version as MAJOR*10000 + MINOR*100 + PATCH; HeaderVersionNum is the same number from
// the x8.h this package was compiled with. They differ when the program loads another libx8 than it was built
// against.
func VersionNum() int { return int(C.x8_version_num()) }

// HeaderVersionNum is X8_VERSION_NUM of the x8.h this package was compiled against (see VersionNum).
const HeaderVersionNum = C.X8_VERSION_NUM
