//! The client secret must never reach the terminal or a log. The library already keeps it out of its own
//! messages; this is the last line of defence for everything x8 writes to stderr (error messages, `-v` logs,
//! error bodies), including text a server sent back.

use std::sync::Mutex;
use zeroize::Zeroizing;

const MASK: &str = "[redacted]";

#[derive(Default)]
pub struct Redactor {
    secrets: Mutex<Vec<Zeroizing<String>>>,
}

impl Redactor {
    pub fn add(&self, secret: &str) {
        if !secret.is_empty() {
            self.lock().push(Zeroizing::new(secret.to_owned()));
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let secrets = self.lock();
        let mut out = text.to_owned();
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Zeroizing<String>>> {
        // A panic while holding the lock cannot leave the list half-written: push is the only mutation.
        self.secrets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_occurrence_of_every_secret() {
        let r = Redactor::default();
        assert_eq!(r.scrub("nothing to hide"), "nothing to hide");
        r.add("hunter2");
        r.add("");
        assert_eq!(r.scrub("a hunter2 b hunter2"), "a [redacted] b [redacted]");
    }
}
