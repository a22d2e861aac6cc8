#!/usr/bin/env python3
"""Keeps the C++, Go and .NET bindings in step with the C API: reads include/x8.h and fails when a public
function, an x8_status code or an x8_stats field has no counterpart in a binding, unless the binding's
allow-list below says why it leaves it out. An allow-list entry that is no longer needed fails too, so the
lists stay true.

What counts as a counterpart:
- a function: C++ calls it in bindings/cpp/include/x8/*.hpp; Go calls it as C.x8_... (or from the C helpers in
  a cgo preamble) in a non-test .go file; .NET declares it `static extern` in bindings/dotnet/src/NativeMethods*.cs.
- a status: Go defines a constant from C.X8_STATUS_...; .NET's X8Status has the CamelCase name with the same
  value; C++ uses the header's x8_status itself.
- a constant (.NET only: C++ and Go take the header's #defines themselves): the value .NET copies equals the
  header's (X8_TOKEN_BUFFER_SIZE, X8_LOG_*, X8_STORE_*, X8_CLIENT_AUTH_*, X8_ROOTS_*, X8_CA_*, X8_HEAD_*).
- a stats field: C++ aliases x8_stats itself; Go reads it from C.x8_stats into its Stats; .NET's
  NativeMethods.Stats declares it in the header's order (the layout is the ABI) and X8Stats exposes it.
Run: python3 tests/parity/parity.py (from anywhere). Exit status 1 lists every gap and what to add.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Deliberate omissions, each with its reason. Keep them few; a binding should offer the whole C API.
ALLOW = {
    "cpp": {
        "x8_client_token_string": "Client::token() copies through x8_get_token into a std::string; an x8-allocated "
                                  "second copy would only add an allocation",
    },
    "go": {
        "x8_client_token_string": "Client.AccessToken copies through x8_get_token into a Go buffer, no extra allocation",
        "x8_client_stats_json": "Client.Stats returns the typed struct; JSON is one json.Marshal away in Go",
        "x8_response_header": "responses are copied whole into an http.Header (x8_response_header_at), which answers lookups",
        "x8_token_has_product": "the token snapshot is copied into a Go Token whose HasProduct compares the copied list",
        "x8_client_token": "Client.Token calls x8_client_token_ex, the same call with the context's x8_cancel",
        "x8_cancel_is_triggered": "a Go caller asks its context (ctx.Err()), which triggers the handle",
    },
    "dotnet": {
        "x8_client_token_string": "GetAccessToken copies through x8_get_token into a managed buffer",
        "x8_client_stats_json": "GetStats returns the typed X8Stats",
        "x8_response_header": "responses are copied whole (x8_response_header_at) into X8Response.Headers",
        "x8_token_has_product": "X8Token copies the product list and compares it itself",
        "x8_cancel_is_triggered": "a .NET caller asks its CancellationToken, which triggers the handle",
    },
}


def header():
    text = (ROOT / "include/x8.h").read_text()
    functions = re.findall(r"^[a-z][\w \*]*?\b(x8_\w+)\(", text, re.M)
    statuses = [(n, int(v)) for n, v in re.findall(r"^\s+X8_STATUS_(\w+) = (\d+),", text, re.M)]
    stats_body = re.search(r"typedef struct \{(.*?)\} x8_stats;", text, re.S).group(1)
    fields = [f for f in re.findall(r"^\s+\w+ (\w+);", stats_body, re.M) if f != "size"]
    defines = dict((n, int(v)) for n, v in re.findall(r"^#define (X8_\w+) (-?\d+)$", text, re.M))
    return sorted(set(functions)), statuses, fields, defines


def camel(snake):
    return "".join(part[:1].upper() + part[1:].lower() for part in snake.split("_"))


def cpp_gaps(functions, statuses, fields):
    # x8.hpp and the headers beside it that it includes (pager.hpp, ...).
    hpp = "\n".join(p.read_text() for p in sorted((ROOT / "bindings/cpp/include/x8").glob("*.hpp")))
    code = re.sub(r"//[^\n]*", "", hpp)
    called = set(re.findall(r"\b(x8_\w+)\s*[(,)]", code)) | set(re.findall(r"&(x8_\w+)", code))
    gaps = [("function", f, "call it from a method of x8::Client, x8::Options, x8::Response or x8::Token in "
             "bindings/cpp/include/x8/x8.hpp") for f in functions if f not in called]
    if "x8_status code" not in code:
        gaps.append(("status", "x8_status", "x8::Error must carry the header's x8_status"))
    if not re.search(r"using Stats = x8_stats;", code):
        gaps += [("stats field", f, "expose it in x8::Stats") for f in fields]
    return gaps


def go_gaps(functions, statuses, fields):
    called, status_consts, stats_reads = set(), set(), set()
    for path in sorted((ROOT / "bindings/go").glob("*.go")):
        if path.name.endswith("_test.go"):
            continue
        text = path.read_text()
        preamble, _, code = text.rpartition('import "C"')
        preamble_c = "\n".join(l[2:] for l in preamble.splitlines() if l.startswith("//"))
        called |= set(re.findall(r"\b(x8_\w+)\(", preamble_c))
        code = re.sub(r"//[^\n]*", "", code)
        called |= set(re.findall(r"\bC\.(x8_\w+)\b", code))
        status_consts |= set(re.findall(r"\bStatus\w+\s+Status = C\.X8_STATUS_(\w+)", code))
        if "C.x8_stats" in code:
            stats_reads |= set(re.findall(r"\bcs\.(\w+)", code))
    gaps = [("function", f, f"call C.{f} from a wrapper in bindings/go (not a _test.go file)")
            for f in functions if f not in called]
    gaps += [("status", f"X8_STATUS_{n}", f"add `Status{camel(n)} Status = C.X8_STATUS_{n}` to bindings/go/errors.go")
             for n, _ in statuses if n not in status_consts]
    gaps += [("stats field", f, f"add {camel(f)} to Stats in bindings/go/client.go and read it from cs.{f}")
             for f in fields if f not in stats_reads]
    return gaps


# The header constants .NET copies by hand: (file, regex whose group is the value) for each #define.
DOTNET_CONSTANTS = {
    "X8_TOKEN_BUFFER_SIZE": ("NativeMethods.cs", r"const int TokenBufferSize = (-?\d+);"),
    "X8_LOG_ERROR": ("X8Logging.cs", r"\bError = (-?\d+),"),
    "X8_LOG_WARN": ("X8Logging.cs", r"\bWarn = (-?\d+),"),
    "X8_LOG_INFO": ("X8Logging.cs", r"\bInfo = (-?\d+),"),
    "X8_LOG_DEBUG": ("X8Logging.cs", r"\bDebug = (-?\d+),"),
    "X8_STORE_OK": ("X8TokenStore.cs", r"\bOk = (-?\d+)"),
    "X8_STORE_NOT_FOUND": ("X8TokenStore.cs", r"\bNotFound = (-?\d+)"),
    "X8_STORE_BUFFER_TOO_SMALL": ("X8TokenStore.cs", r"\bBufferTooSmall = (-?\d+)"),
    "X8_STORE_BUSY": ("X8TokenStore.cs", r"\bBusy = (-?\d+)"),
    "X8_CLIENT_AUTH_BASIC": ("X8ClientOptions.cs", r"\bBasic = (-?\d+),"),
    "X8_CLIENT_AUTH_BASIC_RFC6749": ("X8ClientOptions.cs", r"\bBasicRfc6749 = (-?\d+),"),
    "X8_CLIENT_AUTH_POST": ("X8ClientOptions.cs", r"\bPost = (-?\d+),"),
    "X8_ROOTS_PLATFORM": ("X8ClientOptions.cs", r"\bPlatform = (-?\d+),"),
    "X8_ROOTS_COMPILED_IN": ("X8ClientOptions.cs", r"\bCompiledIn = (-?\d+),"),
    "X8_CA_ADD": ("X8ClientOptions.cs", r"\bAdd = (-?\d+),"),
    "X8_CA_REPLACE": ("X8ClientOptions.cs", r"\bReplace = (-?\d+),"),
    "X8_HEAD_STREAM": ("StreamedBody.cs", r"\bHeadStream = (-?\d+);"),
    "X8_HEAD_HOLD": ("StreamedBody.cs", r"\bHeadHold = (-?\d+);"),
}


def dotnet_constant_gaps(defines):
    src = ROOT / "bindings/dotnet/src"
    gaps = []
    for name, value in sorted(defines.items()):
        if not name.startswith(("X8_TOKEN_", "X8_LOG_", "X8_STORE_", "X8_CLIENT_AUTH_", "X8_ROOTS_", "X8_CA_",
                                "X8_HEAD_")):
            continue  # version macros: .NET reads x8_version_num() at run time
        if name not in DOTNET_CONSTANTS:
            gaps.append(("constant", name, f"mirror {name} = {value} in bindings/dotnet/src and add it to "
                         "DOTNET_CONSTANTS in tests/parity/parity.py"))
            continue
        file, pattern = DOTNET_CONSTANTS[name]
        found = re.search(pattern, (src / file).read_text())
        if not found or int(found.group(1)) != value:
            gaps.append(("constant", name, f"bindings/dotnet/src/{file} must give it the header's value {value}"))
    return gaps


def dotnet_page_style_gaps():
    """The paging styles .NET copies (X8PageStyle) have the header's x8_page_style values."""
    text = (ROOT / "include/x8.h").read_text()
    header = dict((n, int(v)) for n, v in re.findall(r"^\s+X8_PAGE_STYLE_(\w+) = (\d+),", text, re.M))
    if len(header) < 7:
        return [("page styles", "x8_page_style", "the header scan found fewer than 7 X8_PAGE_STYLE_ values: fix it")]
    enum = dict((n, int(v)) for n, v in re.findall(r"^\s+(\w+) = (\d+),", (ROOT / "bindings/dotnet/src/X8PageStyle.cs").read_text(), re.M))
    return [("page style", f"X8_PAGE_STYLE_{n}", f"add `{camel(n)} = {v},` to bindings/dotnet/src/X8PageStyle.cs")
            for n, v in sorted(header.items()) if enum.get(camel(n)) != v]


def dotnet_gaps(functions, statuses, fields):
    src = ROOT / "bindings/dotnet/src"
    # NativeMethods is one partial class: NativeMethods.cs and its parts NativeMethods.*.cs.
    native = re.sub(r"//[^\n]*", "", "\n".join(p.read_text() for p in sorted(src.glob("NativeMethods*.cs"))))
    declared = set(re.findall(r"static extern [\w\[\]]+ (x8_\w+)\(", native))
    gaps = [("function", f, f"declare `internal static extern ... {f}(...)` in bindings/dotnet/src/NativeMethods.cs "
             "and call it from the public API") for f in functions if f not in declared]
    enum = dict((n, int(v)) for n, v in re.findall(r"^\s+(\w+) = (\d+),", (src / "X8Status.cs").read_text(), re.M))
    for name, value in statuses:
        if enum.get(camel(name)) != value:
            gaps.append(("status", f"X8_STATUS_{name}", f"add `{camel(name)} = {value},` to bindings/dotnet/src/X8Status.cs"))
    struct = re.search(r"struct Stats\s*\{(.*?)\}", native, re.S).group(1)
    declared_fields = [f for f in re.findall(r"public \w+ (\w+);", struct) if f != "Size"]
    wanted = [camel(f) for f in fields]
    if declared_fields != wanted[: len(declared_fields)] or len(declared_fields) < len(wanted):
        gaps.append(("stats layout", "NativeMethods.Stats",
                     f"declare the fields in the header's order after Size: {', '.join(wanted)} (has: {', '.join(declared_fields)})"))
    public = (src / "X8Stats.cs").read_text()
    gaps += [("stats field", f, f"expose s.{camel(f)} as a property of bindings/dotnet/src/X8Stats.cs")
             for f in fields if f"s.{camel(f)}" not in public]
    return gaps


def main():
    functions, statuses, fields, defines = header()
    if len(functions) < 40 or len(statuses) < 10 or len(fields) < 10:
        print(f"parity: the header scan found only {len(functions)} functions, {len(statuses)} statuses and "
              f"{len(fields)} stats fields: fix the scan in tests/parity/parity.py")
        return 1
    failures = []
    for binding, scan in (("cpp", cpp_gaps), ("go", go_gaps), ("dotnet", dotnet_gaps)):
        allowed = ALLOW[binding]
        gaps = scan(functions, statuses, fields)
        if binding == "dotnet":
            gaps += dotnet_constant_gaps(defines) + dotnet_page_style_gaps()
        for kind, name, fix in gaps:
            if name not in allowed:
                failures.append(f"bindings/{binding}: no counterpart for {kind} {name}: {fix} (or, if the binding "
                                f"leaves it out on purpose, add it with the reason to ALLOW['{binding}'] in "
                                f"tests/parity/parity.py)")
        missing = {name for _, name, _ in gaps}
        for name in sorted(set(allowed) - missing):
            why = "now has a counterpart" if name in functions else "is no longer in the header"
            failures.append(f"bindings/{binding}: ALLOW['{binding}'] lists {name}, which {why}: remove the entry")
    if failures:
        print("\n".join(failures))
        print(f"parity: {len(failures)} gap(s) between include/x8.h and the bindings")
        return 1
    print(f"parity: {len(functions)} functions, {len(statuses)} statuses and {len(fields)} stats fields have "
          f"counterparts in C++, Go and .NET, and .NET's copies of the header's constants match (allowed omissions: "
          + ", ".join(f"{b} {len(a)}" for b, a in ALLOW.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
