//! `x8`: 8x8 XCaaS OAuth tokens and authenticated API calls from the shell, on the x8 library.
//!
//! stdout carries only data (a token, a body, JSON), stderr carries everything for people, and the exit code
//! says what went wrong in terms a script can act on (see `exit.rs`).

mod args;
mod call;
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
    // clap prints usage errors and exits 2, and prints --help/--version and exits 0.
    let args = Args::parse();
    let redactor = Arc::new(Redactor::default());
    match run(&args, &redactor) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("x8: {}", redactor.scrub(&failure.message));
            failure.code.into()
        }
    }
}

fn run(args: &Args, redactor: &Arc<Redactor>) -> Result<(), Failure> {
    let verbose = args.global.verbose > 0;
    let client = || setup::client(&args.global, redactor);
    match &args.command {
        Command::Token(a) => token_cmd::token(&client()?, a),
        Command::Products(a) => token_cmd::products(&client()?, a),
        Command::Check(a) => token_cmd::check(&client()?, a),
        // The call's inputs (headers, --data) are read before the client is built: a typo fails with exit 2
        // without needing credentials or a token.
        Command::Get(a) => call::Call::get(a, verbose)?.run(&client()?),
        Command::Request(a) => call::Call::request(a, verbose)?.run(&client()?),
    }
}
