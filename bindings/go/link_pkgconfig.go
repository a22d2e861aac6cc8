//go:build x8_pkgconfig

package x8

// Linking against an installed libx8 (make install) through pkg-config: build with -tags x8_pkgconfig and
// PKG_CONFIG_PATH pointing at the folder holding x8.pc. Replaces link.go.

// #cgo pkg-config: x8
import "C"
