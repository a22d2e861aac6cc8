//! Whether fd 1 was closed when the process started. Rust's runtime opens /dev/null on a closed standard
//! descriptor before `main` runs, so by then a closed stdout cannot be told from `>/dev/null`. A constructor in
//! `.init_array` runs earlier (the C runtime calls it before `main`, which starts Rust's runtime) and looks.

use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

pub fn was_closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static LOOK_AT_FD_1: extern "C" fn() = look_at_fd_1;

#[cfg(target_os = "linux")]
extern "C" fn look_at_fd_1() {
    // SAFETY: F_GETFD only reads the descriptor's flags; -1 with EBADF means there is no fd 1.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        CLOSED.store(true, Ordering::Relaxed);
    }
}
