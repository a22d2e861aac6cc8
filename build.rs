//! Generates the C header with cbindgen into OUT_DIR (never elsewhere, unless asked with X8_UPDATE_HEADER=1,
//! which rewrites include/x8.h). The committed include/x8.h is what users compile against; a unit test fails
//! when it differs from the generated one. A failure to generate only warns: a user's build never breaks on it.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
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
         /* A buffer this large always holds a token and its NUL (x8_get_token). */\n\
         #define X8_TOKEN_BUFFER_SIZE 4096\n\n\
         /* Log levels for x8_options_set_log_callback. */\n\
         #define X8_LOG_ERROR 1\n#define X8_LOG_WARN 2\n#define X8_LOG_INFO 3\n#define X8_LOG_DEBUG 4\n\n\
         /* What x8_token_store callbacks return; any negative value is a failure. */\n\
         #define X8_STORE_OK 0\n#define X8_STORE_NOT_FOUND 1\n#define X8_STORE_BUFFER_TOO_SMALL 2\n\
         #define X8_STORE_BUSY 3\n",
        num(&major) * 10000 + num(&minor) * 100 + num(&patch)
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
