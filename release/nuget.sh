#!/usr/bin/env bash
# Packs the .NET binding as a NuGet package, $X8_DIST_DIR/X8.<version>.nupkg (+ .sha256), from the release
# archives that release/build.sh made — no dotnet SDK needed: a .nupkg is a zip with a .nuspec.
#   X8.nuspec                              id X8, the library's version
#   lib/netstandard2.0/X8.dll, X8.xml      the managed assembly, compiled by Mono's mcs from bindings/dotnet/src
#   runtimes/<rid>/native/<library>        each archive's shared library, byte for byte:
#     win-x64/x8.dll  linux-x64/libx8.so  linux-arm64/libx8.so  linux-musl-x64/libx8.so
#     osx-x64/libx8.dylib  osx-arm64/libx8.dylib
#   README.md
# .NET Core 3+ and .NET 5+ pick runtimes/<rid>/native/ for the app's platform by themselves. The same runtimes/
# tree is left in $X8_DIST_DIR/nuget/runtimes, so `dotnet pack -p:X8RuntimesDir=...` (bindings/dotnet/X8.csproj)
# makes the same package for those who build with the SDK.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

install_packages mono-mcs libmono-system-net-http4.0-cil zip unzip
command -v mcs >/dev/null || { echo "nuget.sh: mcs is missing" >&2; exit 1; }
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=$work/pkg
mkdir -p "$pkg/lib/netstandard2.0"

# nuget_rid TARGET / native_in_archive TARGET: where a release target's library goes, and where it is in its archive.
nuget_rid() {
  case $1 in
  x86_64-linux-gnu.*) echo linux-x64 ;; aarch64-linux-gnu.*) echo linux-arm64 ;; x86_64-linux-musl) echo linux-musl-x64 ;;
  x86_64-windows-gnu) echo win-x64 ;; x86_64-macos) echo osx-x64 ;; aarch64-macos) echo osx-arm64 ;;
  esac
}
native_in_archive() {
  case $1 in
  *-linux-*) echo "lib/libx8.so.$VERSION libx8.so" ;;
  *-windows-gnu) echo "bin/x8.dll x8.dll" ;;
  *-macos) echo "lib/libx8.$SOVERSION.dylib libx8.dylib" ;;
  esac
}

for t in "${RELEASE_TARGETS[@]}"; do
  archive=$(archive_of "$t")
  [[ -f $archive ]] || { echo "nuget.sh: no $archive (run release/build.sh first)" >&2; exit 1; }
  (cd "$(dirname "$archive")" && sha256sum -c --quiet "$(basename "$archive").sha256")
  name=$(basename "$archive")
  name=${name%.zip}
  name=${name%.tar.gz}
  read -r inner file <<<"$(native_in_archive "$t")"
  dest=$pkg/runtimes/$(nuget_rid "$t")/native
  mkdir -p "$dest"
  if [[ $archive == *.zip ]]; then
    unzip -q -p "$archive" "$name/$inner" >"$dest/$file"
  else
    tar -xzf "$archive" -O "$name/$inner" >"$dest/$file"
  fi
  [[ -s $dest/$file ]] || { echo "nuget.sh: $archive has no $inner" >&2; exit 1; }
done

# The managed assembly: the same mcs flags as bindings/dotnet/test.sh.
mcs -langversion:7 -warnaserror+ -nologo -optimize+ -deterministic -target:library \
  -out:"$pkg/lib/netstandard2.0/X8.dll" -doc:"$pkg/lib/netstandard2.0/X8.xml" -r:System.Net.Http bindings/dotnet/src/*.cs
install -m 0644 bindings/dotnet/README.md "$pkg/README.md"

cat >"$pkg/X8.nuspec" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>X8</id>
    <version>$VERSION</version>
    <authors>x8 contributors</authors>
    <description>8x8 XCaaS OAuth tokens for .NET: fetched, cached and renewed ahead of expiry by the native x8 library, plus authenticated requests and an HttpClient handler. Native libraries for win-x64, linux-x64, linux-arm64, linux-musl-x64, osx-x64 and osx-arm64.</description>
    <license type="expression">MIT</license>
    <readme>README.md</readme>
    <tags>8x8 oauth token xcaas contact-center</tags>
    <dependencies>
      <group targetFramework=".NETStandard2.0" />
    </dependencies>
  </metadata>
</package>
EOF
cat >"$pkg/[Content_Types].xml" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />
  <Default Extension="nuspec" ContentType="application/octet" />
  <Default Extension="dll" ContentType="application/octet" />
  <Default Extension="xml" ContentType="application/octet" />
  <Default Extension="so" ContentType="application/octet" />
  <Default Extension="dylib" ContentType="application/octet" />
  <Default Extension="md" ContentType="application/octet" />
</Types>
EOF
mkdir -p "$pkg/_rels"
cat >"$pkg/_rels/.rels" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/X8.nuspec" Id="R0" />
</Relationships>
EOF

nupkg=$DIST_DIR/X8.$VERSION.nupkg
mkdir -p "$DIST_DIR"
rm -f "$nupkg" "$nupkg.sha256"
find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$pkg" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | zip -q -X -D -@ "$nupkg.part")
mv "$nupkg.part" "$nupkg"
sha256_of_archive "$nupkg"
rm -rf "$DIST_DIR/nuget"
mkdir -p "$DIST_DIR/nuget"
cp -r "$pkg/runtimes" "$DIST_DIR/nuget/runtimes"
unzip -l "$nupkg"
cat "$nupkg.sha256"
