//! The `--all-pages` progress line. Drawn only when stderr is a terminal: in a pipe or a log file, a line
//! rewritten with carriage returns is noise, and scripts read stderr for errors.

use std::io::IsTerminal;

pub struct Progress {
    enabled: bool,
    drawn: bool,
}

impl Progress {
    /// `quiet` when something else writes whole lines to stderr meanwhile (`-v`): a line rewritten in place
    /// would be torn by them.
    pub fn on_stderr(quiet: bool) -> Progress {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    /// After each page: `done` pages fetched, of `total` when the listing says. A single page is not worth a
    /// line.
    pub fn show(&mut self, done: u64, total: Option<u64>) {
        if !self.enabled || total == Some(1) {
            return;
        }
        match total {
            Some(total) => eprint!("\r\x1b[2Kx8: fetched page {done} of {total}"),
            None => eprint!("\r\x1b[2Kx8: fetched page {done}"),
        }
        self.drawn = true;
    }

    /// Wipes the line, so that an error message or the shell prompt starts on a clean line.
    pub fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
