//! Keeps the architecture true: every module of `src/` belongs to one layer, and a layer uses only the layers
//! below it (`crate::x` paths in non-test code). A new top-level module must be given its place here.

use std::path::Path;

/// The layers, lowest first. Keep in step with the module list in `lib.rs`.
const LAYERS: [&str; 12] = [
    "error",
    "rt",
    "token",
    "cache",
    "store",
    "config",
    "http",
    "oauth",
    "client",
    "presigned",
    "pager",
    "ffi",
];

fn rank(top: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == top)
}

/// The top-level module a file under `src/` belongs to: `src/store/file.rs` → `store`, `src/oauth.rs` → `oauth`.
fn top_module(relative: &str) -> String {
    let first = relative.split('/').next().unwrap_or(relative);
    first.trim_end_matches(".rs").to_owned()
}

/// Every `crate::<top>` that `code` refers to, outside its `#[cfg(test)]` part.
fn crate_references(code: &str) -> Vec<String> {
    let code = code.split("#[cfg(test)]").next().unwrap_or("");
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.push(name);
        }
        rest = after;
    }
    found
}

/// The violations in one file: references to a layer above, or to a module that has no layer.
fn violations(relative: &str, code: &str) -> Vec<String> {
    let top = top_module(relative);
    let Some(own) = rank(&top) else {
        return vec![format!(
            "{relative}: module `{top}` has no layer in layers.rs"
        )];
    };
    crate_references(code)
        .into_iter()
        .filter_map(|used| match rank(&used) {
            // `crate::Foo`, a re-export from lib.rs, would hide which layer it comes from.
            None if used.starts_with(|c: char| c.is_ascii_uppercase()) => Some(format!(
                "{relative}: uses `crate::{used}`; name its module instead of the crate root's re-export"
            )),
            None => Some(format!("{relative}: uses `crate::{used}`, which has no layer")),
            Some(r) if r > own => Some(format!(
                "{relative}: layer `{top}` uses `crate::{used}`, a layer above it"
            )),
            Some(_) => None,
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    for path in &files {
        let relative = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if relative == "lib.rs" || relative == "layers.rs" {
            continue; // the root re-exports every layer; this file is the check itself
        }
        let code = std::fs::read_to_string(path).unwrap();
        problems.extend(violations(&relative, &code));
    }
    assert!(
        files.len() > 20,
        "found only {} files under src/",
        files.len()
    );
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_catches_an_upward_use_and_an_unplaced_module() {
    assert!(violations("token/mod.rs", "use crate::rt::clock::Deadline;").is_empty());
    assert_eq!(
        violations("cache/mod.rs", "use crate::http::Transport;").len(),
        1
    );
    assert_eq!(violations("gadget.rs", "").len(), 1);
    assert_eq!(violations("rt/clock.rs", "use crate::gadget::X;").len(), 1);
    // Test code may reach anywhere.
    assert!(violations("rt/log.rs", "#[cfg(test)]\nuse crate::client::Client;").is_empty());
    // A crate-root re-export hides its layer.
    assert_eq!(violations("rt/stats.rs", "use crate::Client;").len(), 1);
}
