# x8's commands. `make demo` and `make test` are the two the README promises work on a fresh machine.
.PHONY: demo test bench header install release

# Build the library and the emulator, then run the C quickstart (against api.8x8.com when X8_CLIENT_ID and
# X8_CLIENT_SECRET are set, else against the local emulator).
demo:
	bash examples/quickstart.sh

# Every suite: lint, Rust, header, C (and under valgrind), C++, Go, .NET.
test:
	bash tests/run.sh

# Benchmarks against libcurl, Go's x/oauth2 and raw ureq; writes BENCHMARKS.md.
bench:
	cargo build --release -q -p x8 -p x8-emulator && ln -sfn libx8.so $${CARGO_TARGET_DIR:-target}/release/libx8.so.0
	bash benches/run.sh

# Regenerate include/x8.h from src/ffi after changing the C API.
header:
	X8_UPDATE_HEADER=1 cargo build

# Install like a C library: make install PREFIX=/usr/local [DESTDIR=/stage]. See packaging/install.sh.
install:
	bash packaging/install.sh

# A release tarball that loads on glibc 2.17 (RHEL/CentOS 7+), and the check that tests what it ships.
release:
	bash release/build.sh && bash release/check.sh
