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

# The release archives (Linux x86_64/arm64 for glibc 2.17, Alpine/musl, Windows x64, macOS x86_64/arm64), the
# NuGet package and the Go module's prebuilt libraries, each with its SHA-256, and the checks that test what ships.
release:
	bash release/build.sh && bash release/nuget.sh && bash release/go.sh
	bash release/check.sh && bash release/check_targets.sh && bash release/check_packages.sh
