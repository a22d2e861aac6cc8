//! Progress on stderr, through indicatif: pages fetched by `--all-pages`, bytes written by `-o FILE` (with
//! the rate and time left, like curl's). Drawn only when stderr is a terminal (indicatif's stderr target hides
//! itself otherwise): in a pipe or a log file, a line rewritten in place is noise, and scripts read stderr for
//! errors.

use std::io::{self, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// For `--all-pages`. `quiet` when something else writes whole lines to stderr meanwhile (`-v`): a line
    /// rewritten in place would be torn by them.
    pub fn on_stderr(quiet: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(None, target(quiet));
        bar.set_style(
            ProgressStyle::with_template("x8: fetched page {pos}{msg}").expect("template"),
        );
        Progress { bar }
    }

    /// For a download of `len` bytes (when the reply said).
    pub fn bytes(quiet: bool, len: Option<u64>) -> Progress {
        let bar = ProgressBar::with_draw_target(len, target(quiet));
        let template = match len {
            Some(_) => {
                "x8: {bytes:>10} of {total_bytes} {wide_bar} {binary_bytes_per_sec:>12} {eta:>4}"
            }
            None => "x8: {bytes:>10} {binary_bytes_per_sec:>12} {elapsed:>4}",
        };
        bar.set_style(ProgressStyle::with_template(template).expect("template"));
        Progress { bar }
    }

    /// After each page: `done` pages fetched, of `total` when the listing says. A single page is not worth a
    /// line.
    pub fn show(&mut self, done: u64, total: Option<u64>) {
        if total == Some(1) {
            return;
        }
        self.bar.set_position(done);
        if let Some(total) = total {
            self.bar.set_message(format!(" of {total}"));
        }
    }

    /// `sink`, counting what is written through it on the bar.
    pub fn wrap<W: Write>(&self, sink: W) -> impl Write {
        self.bar.wrap_write(sink)
    }

    /// Wipes the line, so that an error message or the shell prompt starts on a clean line.
    pub fn clear(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn target(quiet: bool) -> ProgressDrawTarget {
    if quiet || !io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
