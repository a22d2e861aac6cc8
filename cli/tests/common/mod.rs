//! Runs the real `x8` binary against an in-process emulator, in a clean environment: no inherited X8_*
//! variables, proxies or config files, and a private temporary HOME and XDG_CONFIG_HOME per run.
//!
//! Every run checks that neither stdout nor stderr contains any secret the emulator knows or a test used, so
//! "the secret never shows" is asserted by every test, on success and failure paths alike.

#![allow(dead_code)] // Each test binary uses its own part of the harness.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[allow(unused_imports)]
pub use x8_emulator::{ClientSpec, Emulator, EmulatorConfig, Fault, FaultTarget, OAUTH_PRODUCTS};

pub const ID: &str = "cli-client";
/// Distinctive, so that finding it in any output cannot be a coincidence.
pub const SECRET: &str = "cli-S3cr3t-7f2a9c-do-not-print";
/// A key entitled to no product: the API refuses its tokens with "no apiproduct match".
pub const BARE_ID: &str = "bare-client";
pub const BARE_SECRET: &str = "bare-S3cr3t-91d4e0-do-not-print";
/// Sent by tests for the "wrong secret" path; it must not be echoed either.
pub const WRONG_SECRET: &str = "wrong-S3cr3t-5b8e11-do-not-print";
const SECRETS: [&str; 3] = [SECRET, BARE_SECRET, WRONG_SECRET];

pub const QUEUES: &str = "/analytics/cc/v5/realtime-metrics/queues";

pub fn emulator() -> Emulator {
    emulator_with(|_| {})
}

pub fn emulator_with(change: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut config = EmulatorConfig {
        clients: vec![
            ClientSpec::new(ID, SECRET, &OAUTH_PRODUCTS),
            ClientSpec::new(BARE_ID, BARE_SECRET, &[]),
        ],
        threads: 2,
        ..EmulatorConfig::default()
    };
    change(&mut config);
    Emulator::start(config).expect("the emulator starts")
}

/// One invocation of the binary being built up.
pub struct X8 {
    command: Command,
    stdin: Option<Vec<u8>>,
    stdout: Option<std::fs::File>,
    home: tempfile::TempDir,
}

impl X8 {
    /// No credentials at all: a clean environment and an empty home.
    pub fn bare() -> X8 {
        let home = tempfile::tempdir().expect("a temporary home");
        let mut command = Command::new(env!("CARGO_BIN_EXE_x8"));
        command
            .env_clear()
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("xdg"));
        X8 {
            command,
            stdin: None,
            stdout: None,
            home,
        }
    }

    /// The good key, from the environment, pointed at `emu`.
    pub fn on(emu: &Emulator) -> X8 {
        X8::bare()
            .env("X8_CLIENT_ID", ID)
            .env("X8_CLIENT_SECRET", SECRET)
            .env("X8_BASE_URL", &emu.base_url())
    }

    pub fn env(mut self, name: &str, value: &str) -> X8 {
        self.command.env(name, value);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> X8 {
        self.command.args(args);
        self
    }

    pub fn stdin(mut self, bytes: &[u8]) -> X8 {
        self.stdin = Some(bytes.to_vec());
        self
    }

    /// Sends stdout to this file instead of capturing it (e.g. /dev/full).
    pub fn stdout_to(mut self, file: std::fs::File) -> X8 {
        self.stdout = Some(file);
        self
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Where x8 looks for its config file by default in this run's environment.
    pub fn default_config_path(&self) -> PathBuf {
        self.home.path().join("xdg").join("x8").join("config.toml")
    }

    pub fn run(mut self) -> Output {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(self.stdout.take().map_or_else(Stdio::piped, Stdio::from))
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("x8 starts");
        if let Some(bytes) = self.stdin.take() {
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(&bytes)
                .expect("stdin written");
        }
        Output::of(child.wait_with_output().expect("x8 finishes"))
    }

    /// Runs another program (e.g. `script`, to give x8 a terminal) in this run's environment.
    pub fn run_program(self, program: &str, args: &[&str]) -> Output {
        let mut command = Command::new(program);
        command.env_clear().args(args).stdin(Stdio::null());
        for (name, value) in self.command.get_envs() {
            if let Some(value) = value {
                command.env(name, value);
            }
        }
        Output::of(command.output().expect("the program starts"))
    }
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    fn of(out: std::process::Output) -> Output {
        let output = Output {
            code: out.status.code().expect("exits, not killed by a signal"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        };
        output.assert_no_secret();
        output
    }

    /// Asserts the exit code, showing both streams when it is wrong.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Output {
        assert_eq!(
            self.code, expected,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Output {
        self.code(0)
    }

    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Output {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn no_stdout(&self) -> &Output {
        assert_eq!(self.stdout, "", "stdout should be empty");
        self
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    #[track_caller]
    fn assert_no_secret(&self) {
        for secret in SECRETS {
            assert!(
                !self.stdout.contains(secret) && !self.stderr.contains(secret),
                "a secret was printed!\nstdout:\n{}\nstderr:\n{}",
                self.stdout,
                self.stderr
            );
        }
    }
}

#[cfg(unix)]
/// Writes a file with exactly `mode` (the umask does not apply to set_permissions).
pub fn write_file(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A config file with the good key for `emu`.
pub fn config_text(emu: &Emulator) -> String {
    format!(
        "# x8 test config\nclient_id = \"{ID}\"\nclient_secret = \"{SECRET}\"\nbase_url = \"{}\"\n",
        emu.base_url()
    )
}

/// Starts `x8 token` as a separate process (a host of a fleet) with the good key, pointed at `emu`, sharing
/// its token through the store named by `store_var` (`X8_TOKEN_CACHE` or `X8_REDIS_URL`) = `store`.
pub fn spawn_token_process(
    emu: &Emulator,
    home: &Path,
    store_var: &str,
    store: &str,
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_x8"))
        .args(["token", "--timeout", "10"])
        .env_clear()
        .env("HOME", home)
        .env("X8_CLIENT_ID", ID)
        .env("X8_CLIENT_SECRET", SECRET)
        .env("X8_BASE_URL", emu.base_url())
        .env(store_var, store)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("x8 starts")
}

/// Waits for fleet processes; each must succeed, print a token and never the secret. Returns the tokens.
pub fn finish_token_processes(children: Vec<std::process::Child>) -> Vec<String> {
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("x8 finishes");
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "x8 token failed: {stderr}");
            assert!(!stderr.contains(SECRET));
            let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
            assert_eq!(token.len(), 28, "{token:?}");
            token
        })
        .collect()
}
