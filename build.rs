//! Generates the C header with cbindgen into OUT_DIR (never elsewhere, unless asked with X8_UPDATE_HEADER=1,
//! which rewrites include/x8.h). The committed include/x8.h is what users compile against; a unit test fails
//! when it differs from the generated one. A failure to generate only warns: a user's build never breaks on it.
//!
//! Everything in the header comes from the Rust sources: functions, types and `pub const`s through cbindgen,
//! the `x8_status` enum from the status table (src/error/statuses.rs, which cbindgen cannot read because it is a
//! macro's input), and the version macros from Cargo.toml.

use std::env;
use std::path::PathBuf;

fn main() {
    // cbindgen reads the modules lib.rs does not hide from it (src/ffi, src/rt); the status table is in src/error.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=X8_UPDATE_HEADER");

    // A soname on Linux, so programs record libx8.so.MAJOR and a later compatible libx8 can replace the file;
    // on macOS the same role is the install name, @rpath/libx8.MAJOR.dylib. Windows records the DLL's file name.
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    match env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux" | "android") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libx8.so.{major}")
        }
        Ok("macos") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libx8.{major}.dylib")
        }
        _ => {}
    }

    let crate_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let generated = out_dir.join("x8.h");

    let mut config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(c) => c,
        Err(e) => return warn(&format!("cannot read cbindgen.toml: {e}")),
    };
    // The version macros come from Cargo.toml, so they cannot drift from the library.
    let v = |k: &str| env::var(k).unwrap_or_default();
    let (major, minor, patch) = (
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
    );
    let num = |s: &str| s.parse::<u32>().unwrap_or(0);
    config.after_includes = Some(format!(
        "\n#define X8_VERSION_MAJOR {major}\n#define X8_VERSION_MINOR {minor}\n#define X8_VERSION_PATCH {patch}\n\
         #define X8_VERSION_STRING \"{major}.{minor}.{patch}\"\n\
         /* MAJOR * 10000 + MINOR * 100 + PATCH; compare with x8_version_num() to catch a header/library mismatch. */\n\
         #define X8_VERSION_NUM {}\n\n\
         {}",
        num(&major) * 10000 + num(&minor) * 100 + num(&patch),
        status_enum()
    ));
    match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(&generated);
            if env::var_os("X8_UPDATE_HEADER").is_some_and(|v| v == "1") {
                bindings.write_to_file(crate_dir.join("include").join("x8.h"));
            }
        }
        Err(e) => warn(&format!("cbindgen could not generate the header: {e}")),
    }
}

fn warn(message: &str) {
    println!("cargo:warning={message}");
}

/// The `x8_status` enum as cbindgen would write it, from the status table (see src/error/statuses.rs).
macro_rules! status_table {
    (
        $(#[doc = $enum_doc:literal])* enum;
        $(#[doc = $ok_doc:literal])* Ok = 0 => OK;
        $( $(#[doc = $doc:literal])* $variant:ident = $code:literal => $name:ident, )*
    ) => {
        fn status_enum() -> String {
            let mut c = doc_comment("", &[$($enum_doc),*]);
            c += "typedef enum {\n";
            c += &doc_comment("  ", &[$($ok_doc),*]);
            c += "  X8_STATUS_OK = 0,\n";
            $(
                c += &doc_comment("  ", &[$($doc),*]);
                c += &format!("  X8_STATUS_{} = {},\n", stringify!($name), $code);
            )*
            c += "} x8_status;\n";
            c
        }
    };
}
include!("src/error/statuses.rs");

/// A doc comment in cbindgen's doxy style.
fn doc_comment(indent: &str, lines: &[&str]) -> String {
    let mut c = format!("{indent}/**\n");
    for line in lines {
        let line = line.strip_prefix(' ').unwrap_or(line);
        if line.is_empty() {
            c += &format!("{indent} *\n");
        } else {
            c += &format!("{indent} * {line}\n");
        }
    }
    c + &format!("{indent} */\n")
}
