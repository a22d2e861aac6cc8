//! `x8`: 8x8 XCaaS OAuth tokens and authenticated API calls from the shell, on the x8 library.
//!
//! stdout carries only data (a token, a body, JSON), stderr carries everything for people, and the exit code
//! says what went wrong in terms a script can act on (see `exit.rs`).

mod args;
mod call;
mod closed_stdout;
mod config;
mod exit;
mod input;
mod out;
mod paging;
mod progress;
mod redact;
mod setup;
mod token_cmd;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use args::{Args, Command};
use exit::Failure;
use redact::Redactor;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => return clap_outcome(&e),
    };
    let redactor = Arc::new(Redactor::default());
    match run(&args, &redactor) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("x8: {}", redactor.scrub(&failure.message));
            failure.code.into()
        }
    }
}

/// `--help` and `--version` go to stdout like any data, so that a closed or full stdout exits 1 as promised
/// (clap's own printing ignores the failure and exits 0); usage errors go to stderr with exit 2.
fn clap_outcome(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            match out::write_stdout(&[e.render().to_string().as_bytes()]) {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => {
                    eprintln!("x8: {}", failure.message);
                    failure.code.into()
                }
            }
        }
        _ => {
            let _ = e.print();
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args, redactor: &Arc<Redactor>) -> Result<(), Failure> {
    let verbose = args.global.verbose > 0;
    let client = || setup::client(&args.global, redactor, false);
    let calling = |paging| setup::client(&args.global, redactor, paging);
    match &args.command {
        Command::Token(a) => token_cmd::token(&client()?, a),
        Command::Products(a) => token_cmd::products(&client()?, a),
        Command::Check(a) => token_cmd::check(&client()?, a),
        // The call's inputs (headers, --data) are read before the client is built: a typo fails with exit 2
        // without needing credentials or a token.
        Command::Get(a) => call::Call::get(a, verbose)?.run(&calling(a.call.all_pages)?),
        Command::Request(a) => call::Call::request(a, verbose)?.run(&calling(a.call.all_pages)?),
    }
}
