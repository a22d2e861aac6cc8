//go:build !x8_pkgconfig

package x8

// How this package finds x8.h and libx8. These are the only cgo build directives in the package, so another way
// of linking (e.g. a file tagged x8_pkgconfig with "#cgo pkg-config: x8") replaces just this file.
//
// The header is looked up in the repository's include/ directory; CGO_CFLAGS (-I...) is searched first, so an
// installed header can be used instead. The library is found through CGO_LDFLAGS (-L... and, for a shared
// libx8, -Wl,-rpath,...) or the system's default library path.

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: -lx8
import "C"
