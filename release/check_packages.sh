#!/usr/bin/env bash
# shellcheck disable=SC2317 # the check functions are called through check(), which shellcheck cannot follow
# Verifies the packages release/nuget.sh and release/go.sh made, as their users would use them:
#   NuGet  X8.<version>.nupkg unpacked: the .nuspec's id and version, the assembly under lib/netstandard2.0/,
#          runtimes/<rid>/native/ holding exactly the shared library of each release archive (same SHA-256), and
#          the .NET NUnit suite run on Mono with the package's X8.dll and runtimes/linux-x64/native/libx8.so
#   Go     a fresh module outside the repository, with a `replace` to the module tree release/go.sh filled,
#          builds and passes a small test with CGO_ENABLED=1 and no CGO_CFLAGS/CGO_LDFLAGS/pkg-config; the test
#          binary does not load libx8.so; cross-built for GOARCH=arm64 (CC=aarch64-linux-gnu-gcc) it links and
#          passes under qemu-aarch64; cross-built for GOOS=windows (CC=x86_64-w64-mingw32-gcc) it links
# The tests run against $X8_EMULATOR (default: a host build, cargo build --release -p x8-emulator).
# Ends with "check: N passed, N failed"; exits non-zero if any check failed.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" || exit 1
cd "$ROOT" || exit 1
start=$SECONDS


install_packages unzip gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user gcc-mingw-w64-x86-64 ||
  { echo "check_packages.sh: cannot install the tools"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

emulator() {
  if [[ -z ${X8_EMULATOR:-} ]]; then
    cargo build --release --locked -p x8-emulator || return 1
    X8_EMULATOR=$CARGO_TARGET_DIR/release/x8-emulator
  fi
  [[ -x $X8_EMULATOR ]] || { echo "X8_EMULATOR=$X8_EMULATOR is not an executable"; return 1; }
  export X8_EMULATOR
}

# --- NuGet ------------------------------------------------------------------------------------------------
nupkg=$DIST_DIR/X8.$VERSION.nupkg
nuget=$work/nuget
nuget_layout() {
  [[ -f $nupkg && -f $nupkg.sha256 ]] || { echo "no $nupkg (run release/nuget.sh)"; return 1; }
  (cd "$DIST_DIR" && sha256sum -c "$(basename "$nupkg").sha256") || return 1
  mkdir -p "$nuget" && unzip -q "$nupkg" -d "$nuget" || return 1
  unzip -Z1 "$nupkg" | sort
  local rc=0
  grep -q "<id>X8</id>" "$nuget/X8.nuspec" && grep -q "<version>$VERSION</version>" "$nuget/X8.nuspec" ||
    { echo "X8.nuspec: id X8 and version $VERSION expected"; rc=1; }
  [[ -f $nuget/lib/netstandard2.0/X8.dll ]] || { echo "missing lib/netstandard2.0/X8.dll"; rc=1; }
  # Each runtime's library is the one its archive ships, and runtimes/ holds nothing else.
  local t rid inner file archive name expected=()
  for t in "${RELEASE_TARGETS[@]}"; do
    case $t in
    x86_64-linux-gnu.*) rid=linux-x64 inner=lib/libx8.so.$VERSION file=libx8.so ;;
    aarch64-linux-gnu.*) rid=linux-arm64 inner=lib/libx8.so.$VERSION file=libx8.so ;;
    x86_64-linux-musl) rid=linux-musl-x64 inner=lib/libx8.so.$VERSION file=libx8.so ;;
    x86_64-windows-gnu) rid=win-x64 inner=bin/x8.dll file=x8.dll ;;
    x86_64-macos) rid=osx-x64 inner=lib/libx8.$SOVERSION.dylib file=libx8.dylib ;;
    aarch64-macos) rid=osx-arm64 inner=lib/libx8.$SOVERSION.dylib file=libx8.dylib ;;
    esac
    expected+=("runtimes/$rid/native/$file")
    archive=$(archive_of "$t")
    name=$(basename "$archive")
    name=${name%.zip}
    name=${name%.tar.gz}
    local want got
    if [[ $archive == *.zip ]]; then
      want=$(unzip -p "$archive" "$name/$inner" | sha256sum | cut -d' ' -f1)
    else
      want=$(tar -xzf "$archive" -O "$name/$inner" | sha256sum | cut -d' ' -f1)
    fi
    got=$(sha256sum <"$nuget/runtimes/$rid/native/$file" 2>/dev/null | cut -d' ' -f1)
    if [[ $got == "$want" ]]; then
      echo "runtimes/$rid/native/$file = $name/$inner"
    else
      echo "runtimes/$rid/native/$file differs from $name/$inner (or is missing)"
      rc=1
    fi
  done
  diff <(printf '%s\n' "${expected[@]}" | sort) <(cd "$nuget" && find runtimes -type f | sort) ||
    { echo "runtimes/ holds other files than the six libraries"; rc=1; }
  return $rc
}

nuget_suite_on_mono() {
  # The package's assembly and linux-x64 library, not the build tree's.
  X8_ASSEMBLY=$nuget/lib/netstandard2.0/X8.dll X8_LIB_DIR=$nuget/runtimes/linux-x64/native \
    bash bindings/dotnet/test.sh
}

# --- Go ---------------------------------------------------------------------------------------------------
go_env() {
  export PATH="$PATH:/usr/local/go/bin:/usr/lib/go/bin"
  command -v go >/dev/null || install_packages golang-go || return 1
  export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1
  unset CGO_CFLAGS CGO_CPPFLAGS CGO_LDFLAGS PKG_CONFIG_PATH
  if [[ "$(go env GOCACHE 2>/dev/null)" =~ ^(|off)$ ]]; then export GOCACHE=$work/gocache; fi
}

gomod=$work/gouser
go_fresh_module() {
  go_env || return 1
  [[ -f bindings/go/prebuilt/linux_amd64/libx8.a && -f bindings/go/prebuilt/include/x8.h ]] ||
    { echo "no prebuilt libraries in bindings/go/prebuilt (run release/go.sh)"; return 1; }
  mkdir -p "$gomod"
  cat >"$gomod/go.mod" <<EOF
module example.com/x8user

go 1.24

require github.com/x8-dev/x8/bindings/go v0.0.0

replace github.com/x8-dev/x8/bindings/go => $ROOT/bindings/go
EOF
  cat >"$gomod/user_test.go" <<'EOF'
package x8user

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	x8 "github.com/x8-dev/x8/bindings/go"
)

// A token from the emulator through the prebuilt libx8.a: what a Go user's first test does.
func TestTokenFromEmulator(t *testing.T) {
	cmd := exec.Command(os.Getenv("X8_EMULATOR"), "--port", "0", "--exit-on-stdin-eof", "--client", "go-id:go-secret:vcc")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	url, err := bufio.NewReader(stdout).ReadString('\n') // printed once it accepts connections
	if err != nil {
		t.Fatal(err)
	}
	client, err := x8.NewClient("go-id", "go-secret", x8.WithBaseURL(strings.TrimSpace(url)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	token, err := client.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !token.HasProduct("vcc") {
		t.Fatalf("token without the vcc product: %+v", token)
	}
	t.Logf("x8 %s: a token valid until %s", x8.Version(), token.Expiry)
}
EOF
  (cd "$gomod" && go vet ./... && go test -count=1 -v ./... && go test -c -o "$work/user.test" .) || return 1
  if ldd "$work/user.test" | grep libx8; then echo "the test binary loads a shared libx8"; return 1; fi
  echo "the test binary links libx8 statically (no libx8.so in ldd)"
}

go_cross_arm64_under_qemu() {
  go_env || return 1
  (cd "$gomod" && GOARCH=arm64 CC=aarch64-linux-gnu-gcc go test -c -o "$work/user.arm64.test" .) || return 1
  file "$work/user.arm64.test" 2>/dev/null || true
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/user.arm64.test" -test.v -test.count=1
}

go_cross_windows_links() {
  go_env || return 1
  (cd "$gomod" && GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc go test -c -o "$work/user.windows.test.exe" .) &&
    x86_64-w64-mingw32-objdump -p "$work/user.windows.test.exe" | sed -n 's/^\tDLL Name: //p' | tr '\n' ' ' && echo
}

check "emulator (host build)" emulator
check "NuGet: X8.$VERSION.nupkg layout = the archives' libraries" nuget_layout
check "NuGet: the .NET NUnit suite on Mono with the package's X8.dll and linux-x64 libx8.so" nuget_suite_on_mono
check "Go: a fresh module builds and passes with no cgo flags (prebuilt libx8.a)" go_fresh_module
check "Go: GOARCH=arm64 cross-build links and passes under qemu-aarch64" go_cross_arm64_under_qemu
check "Go: GOOS=windows cross-build links" go_cross_windows_links

echo
if ((failed > 0)); then
  printf 'failed checks:\n'
  printf '  %s\n' "${failures[@]}"
fi
echo "package checks took $((SECONDS - start)) s"
echo "check: $passed passed, $failed failed"
((failed == 0))
