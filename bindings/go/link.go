//go:build !x8_pkgconfig

package x8

// How this package finds x8.h and libx8. These are the only cgo build directives in the package, so another way
// of linking (e.g. a file tagged x8_pkgconfig with "#cgo pkg-config: x8") replaces just this file.
//
// Three routes, searched in this order, with no build tag:
//   - CGO_CFLAGS (-I...) and CGO_LDFLAGS (-L... and, for a shared libx8, -Wl,-rpath,...): go first on the
//     compiler's and linker's command lines, so a libx8 of your own wins;
//   - the prebuilt static libx8.a for the platform, in prebuilt/<GOOS>_<GOARCH>/, and x8.h in prebuilt/include/:
//     the release command (release/go.sh) places them in the module's tree, so `go get` + `go build` need
//     no flags at all (they are never committed to the development branch: see .gitignore);
//   - the repository's include/ and the system's default library path (make install).
// The system libraries after -lx8 are what Rust's standard library needs when libx8 is linked statically
// (rustc --print native-static-libs); a shared libx8 needs none of them, and they cost nothing then.

// #cgo CFLAGS: -I${SRCDIR}/prebuilt/include -I${SRCDIR}/../../include
// #cgo linux,amd64 LDFLAGS: -L${SRCDIR}/prebuilt/linux_amd64
// #cgo linux,arm64 LDFLAGS: -L${SRCDIR}/prebuilt/linux_arm64
// #cgo darwin,amd64 LDFLAGS: -L${SRCDIR}/prebuilt/darwin_amd64
// #cgo darwin,arm64 LDFLAGS: -L${SRCDIR}/prebuilt/darwin_arm64
// #cgo windows,amd64 LDFLAGS: -L${SRCDIR}/prebuilt/windows_amd64
// #cgo LDFLAGS: -lx8
// #cgo linux LDFLAGS: -lgcc_s -lutil -lrt -lpthread -lm -ldl
// #cgo darwin LDFLAGS: -lSystem -lm
// #cgo windows LDFLAGS: -lkernel32 -lntdll -luserenv -lws2_32 -ldbghelp -lbcrypt -lcrypt32
import "C"
