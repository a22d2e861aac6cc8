#!/usr/bin/env bash
# Places the prebuilt static libraries into the Go module's tree, so that `go build` with cgo needs no
# CGO_CFLAGS/CGO_LDFLAGS (bindings/go/link.go selects them per GOOS_GOARCH with #cgo lines):
#   bindings/go/prebuilt/include/x8.h
#   bindings/go/prebuilt/{linux_amd64,linux_arm64,darwin_amd64,darwin_arm64,windows_amd64}/libx8.a
# each libx8.a taken byte for byte from the release archive of its target (release/build.sh). These files are in
# .gitignore: the development branch carries no binaries. Publishing the module means committing this tree (the
# binding plus prebuilt/) to the commit that carries the Go module's release tag, as go-duckdb does; the same tree
# is packed as $X8_DIST_DIR/x8-<version>-go-module.tar.gz (+ .sha256) for that.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi

go_platform() {
  case $1 in
  x86_64-linux-gnu.*) echo linux_amd64 ;; aarch64-linux-gnu.*) echo linux_arm64 ;;
  x86_64-macos) echo darwin_amd64 ;; aarch64-macos) echo darwin_arm64 ;; x86_64-windows-gnu) echo windows_amd64 ;;
  esac
}

prebuilt=bindings/go/prebuilt
rm -rf "$prebuilt"
mkdir -p "$prebuilt/include"
install -m 0644 include/x8.h "$prebuilt/include/x8.h"
for t in "${RELEASE_TARGETS[@]}"; do
  platform=$(go_platform "$t")
  [[ -n $platform ]] || continue # musl: Go's linux_amd64 is the glibc build
  archive=$(archive_of "$t")
  [[ -f $archive ]] || { echo "go.sh: no $archive (run release/build.sh first)" >&2; exit 1; }
  (cd "$(dirname "$archive")" && sha256sum -c --quiet "$(basename "$archive").sha256")
  name=$(basename "$archive")
  name=${name%.zip}
  name=${name%.tar.gz}
  mkdir -p "$prebuilt/$platform"
  if [[ $archive == *.zip ]]; then
    unzip -q -p "$archive" "$name/lib/libx8.a" >"$prebuilt/$platform/libx8.a"
  else
    tar -xzf "$archive" -O "$name/lib/libx8.a" >"$prebuilt/$platform/libx8.a"
  fi
  [[ -s $prebuilt/$platform/libx8.a ]] || { echo "go.sh: $archive has no lib/libx8.a" >&2; exit 1; }
done
(cd "$prebuilt" && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
cat "$prebuilt/SHA256SUMS"

module=$DIST_DIR/x8-$VERSION-go-module.tar.gz
mkdir -p "$DIST_DIR"
tar --create --format=gnu --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  --mode='u+rwX,go+rX,go-w' --exclude='*/examples/*/go.sum' -C bindings go | gzip -n -6 >"$module.part"
mv "$module.part" "$module"
sha256_of_archive "$module"
echo "$module ($(du -h "$module" | cut -f1)); the module tree is bindings/go (go.mod: $(head -1 bindings/go/go.mod))"
