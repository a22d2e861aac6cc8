# shellcheck shell=bash
# The one place that installs what x8's scripts need (sourced, not run) — by tests/run.sh, release/common.sh
# (so release/build.sh and release/check.sh) and benches/run.sh:
#   install_packages PKG...     Debian packages that are missing (one `apt-get update` per process, first)
#   install_rust_targets T...   rustup targets that are missing
#   install_zig_tools           zig and cargo-zigbuild at pinned versions, from PyPI into a private virtual
#                               environment ($X8_RELEASE_TOOLS, default ~/.cache/x8-release-tools), put on PATH
#   check LABEL COMMAND...      runs one check (a suite of tests/run.sh, a release check) and records its
#                               outcome in passed/failed/failures, so later checks still run
# Every install function is a no-op when everything is already there, so the second run costs nothing.

# Pinned so a release is built the same way every time; bump both together and rerun `make release`.
ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1
TOOLS_DIR=${X8_RELEASE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/x8-release-tools}

_x8_apt_updated=0
install_packages() {
  local missing=() pkg
  command -v dpkg >/dev/null || return 0 # not Debian: the commands are checked where they are used
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  echo "installing: ${missing[*]}" >&2
  if [[ $_x8_apt_updated == 0 ]]; then
    apt-get update -qq >&2 || return 1
    _x8_apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_rust_targets() {
  local installed missing=() t
  installed=$(rustup target list --installed 2>/dev/null) || { echo "rustup is missing" >&2; return 1; }
  for t in "$@"; do grep -qx "$t" <<<"$installed" || missing+=("$t"); done
  ((${#missing[@]})) || return 0
  echo "rustup target add ${missing[*]}" >&2
  rustup target add "${missing[@]}" >&2
}

_x8_zig_tools_ok() {
  [[ -x $TOOLS_DIR/bin/cargo-zigbuild && -x $TOOLS_DIR/bin/python3 ]] &&
    [[ $("$TOOLS_DIR/bin/cargo-zigbuild" --version 2>/dev/null) == "cargo-zigbuild $CARGO_ZIGBUILD_VERSION" ]] &&
    [[ $("$TOOLS_DIR/bin/python3" -m ziglang version 2>/dev/null) == "$ZIGLANG_VERSION" ]]
}

install_zig_tools() {
  # The virtual environment needs Python 3 with venv and ensurepip (Debian splits them into python3-venv).
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then install_packages python3 python3-venv || return 1; fi
  if ! _x8_zig_tools_ok; then
    echo "installing ziglang $ZIGLANG_VERSION and cargo-zigbuild $CARGO_ZIGBUILD_VERSION into $TOOLS_DIR" >&2
    rm -rf "$TOOLS_DIR"
    python3 -m venv "$TOOLS_DIR" &&
      "$TOOLS_DIR/bin/python3" -m pip install -q --disable-pip-version-check \
        "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION" || return 1
    _x8_zig_tools_ok || { echo "the tools in $TOOLS_DIR do not answer with the pinned versions" >&2; return 1; }
  fi
  [[ :$PATH: == *":$TOOLS_DIR/bin:"* ]] || export PATH=$TOOLS_DIR/bin:$PATH
  # cargo-zigbuild would take any zig on PATH first; point it at the pinned one (the ziglang wheel's binary).
  CARGO_ZIGBUILD_ZIG_PATH=$("$TOOLS_DIR/bin/python3" -c \
    'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
  export CARGO_ZIGBUILD_ZIG_PATH
}

passed=0
failed=0
failures=()
check() { # check LABEL COMMAND...: runs one check and records its outcome, so later checks still run.
  # The start time has a name no caller uses: bash scoping is dynamic, so a callee's unqualified loop variable
  # (run_c_tests' `t`) would overwrite a plain `local t` here.
  local label=$1 _x8_check_started=$SECONDS
  shift
  echo
  echo "=== $label"
  if "$@"; then
    passed=$((passed + 1))
    echo "--- $label: ok ($((SECONDS - _x8_check_started)) s)"
  else
    failed=$((failed + 1))
    failures+=("$label")
    echo "--- $label: FAILED ($((SECONDS - _x8_check_started)) s)"
  fi
}
