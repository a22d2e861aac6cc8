//! The thread that renews a cache's token ahead of expiry. It is started once, and then woken for each
//! renewal: a thread spawned by the caller that found the token stale cost that caller ~80 µs, and far more
//! when the machine is busy (the new thread can take the caller's core), which is exactly the wait the stale
//! window exists to avoid. Waking a parked thread costs the caller a futex wake.
//!
//! The thread holds no strong reference to the cache (the `renew` closure is expected to hold a `Weak`), so a
//! freed client is not kept alive by it; it exits when told to stop or when `renew` reports the cache gone.
//!
//! fork(): a child gets the memory of the parent's threads but not the threads, so whatever an idle renewal
//! thread had allocated would be lost in every child. Just before fork() each idle renewal thread is ended
//! (a wake-up and an exit, microseconds); the next renewal in the parent starts a new one. A thread busy
//! renewing is left alone rather than making fork() wait for a network call.

use parking_lot::{Condvar, Mutex};
use std::io;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use crate::rt::fork;

/// Every renewer whose thread was started, for the fork handler.
static LIVE: Mutex<Vec<Weak<Renewer>>> = Mutex::new(Vec::new());

/// Run by `rt::fork` in the parent just before fork().
fn before_fork() {
    let live: Vec<Arc<Renewer>> = LIVE.lock().iter().filter_map(Weak::upgrade).collect();
    for renewer in live {
        renewer.end_if_idle();
    }
}

fn register(renewer: &Arc<Renewer>) {
    fork::run_before_fork(before_fork);
    let mut live = LIVE.lock();
    live.retain(|r| r.strong_count() > 0);
    live.push(Arc::downgrade(renewer));
}

#[derive(Default)]
pub struct Renewer {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    running: bool,
    /// A renewal is in progress.
    renewing: bool,
    wanted: bool,
    stop: bool,
    /// Set only while the fork handler ends the thread, so that `stop` stays for good.
    ending_for_fork: bool,
    thread: Option<JoinHandle<()>>,
    threads_started: u32,
}

impl Renewer {
    /// Starts the thread unless one runs. `renew` does one renewal each time the thread is woken, and returns
    /// false when there is nothing left to renew for (the cache is gone), which ends the thread.
    pub fn ensure_running<F>(self: &Arc<Self>, renew: F) -> io::Result<()>
    where
        F: FnMut() -> bool + Send + 'static,
    {
        let mut state = self.state.lock();
        if state.running || state.stop {
            return Ok(());
        }
        let me = Arc::clone(self);
        let thread = std::thread::Builder::new()
            .name("x8-token-refresh".into())
            .spawn(move || me.run(renew))?;
        state.running = true;
        state.thread = Some(thread);
        state.threads_started += 1;
        let first = state.threads_started == 1;
        drop(state);
        if first {
            register(self);
        }
        Ok(())
    }

    /// Ends the thread if it is waiting for work, and waits until it has exited. The fork handler calls this.
    fn end_if_idle(&self) {
        let thread = {
            let mut state = self.state.lock();
            if !state.running || state.renewing || state.wanted || state.stop {
                return;
            }
            state.ending_for_fork = true;
            state.thread.take()
        };
        self.wake.notify_one();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
        self.state.lock().ending_for_fork = false;
    }

    /// Asks the thread for one renewal. False when no thread runs to do it.
    pub fn wake(&self) -> bool {
        let mut state = self.state.lock();
        // While the fork handler ends the thread, the thread would not do the renewal: say so.
        if !state.running || state.stop || state.ending_for_fork {
            return false;
        }
        state.wanted = true;
        drop(state);
        self.wake.notify_one();
        true
    }

    /// Ends the thread once it is done with any renewal in progress. Does not wait for it.
    pub fn stop(&self) {
        self.state.lock().stop = true;
        self.wake.notify_one();
    }

    #[cfg(test)]
    pub fn threads_started(&self) -> u32 {
        self.state.lock().threads_started
    }

    fn run(&self, mut renew: impl FnMut() -> bool) {
        loop {
            {
                let mut state = self.state.lock();
                while !state.wanted && !state.stop && !state.ending_for_fork {
                    self.wake.wait(&mut state);
                }
                if state.stop || state.ending_for_fork {
                    state.running = false;
                    return;
                }
                state.wanted = false;
                state.renewing = true;
            }
            let more = renew();
            let mut state = self.state.lock();
            state.renewing = false;
            if !more {
                state.running = false;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn one_thread_does_every_renewal_it_is_woken_for() {
        let renewer = Arc::new(Renewer::default());
        let (done, renewals) = mpsc::channel();
        assert!(!renewer.wake(), "no thread yet");
        for _ in 0..3 {
            let done = done.clone();
            renewer
                .ensure_running(move || done.send(()).is_ok())
                .unwrap();
        }
        for _ in 0..5 {
            assert!(renewer.wake());
            renewals.recv().unwrap();
        }
        assert_eq!(renewer.threads_started(), 1);
    }

    // These call end_if_idle on their own renewer: the process-wide fork handler would also end the threads of
    // tests running alongside. The C suite forks for real, under valgrind, and finds nothing lost in the child.
    #[test]
    fn before_fork_an_idle_thread_is_ended_and_a_later_wake_starts_over() {
        let renewer = Arc::new(Renewer::default());
        let (done, renewals) = mpsc::channel();
        let start = |r: &Arc<Renewer>| {
            let done = done.clone();
            r.ensure_running(move || done.send(()).is_ok()).unwrap();
        };
        start(&renewer);
        assert!(renewer.wake());
        renewals.recv().unwrap();
        while renewer.state.lock().renewing {
            std::thread::yield_now();
        }
        // What the fork handler does for each renewer. Then the thread has been joined: nothing runs, nothing is
        // left to wake, and it can be started again.
        renewer.end_if_idle();
        assert!(!renewer.state.lock().running);
        assert!(!renewer.wake());
        start(&renewer);
        assert!(renewer.wake());
        renewals.recv().unwrap();
        assert_eq!(renewer.threads_started(), 2);
    }

    #[test]
    fn a_thread_busy_renewing_is_left_alone_by_fork() {
        let renewer = Arc::new(Renewer::default());
        let (release, released) = mpsc::channel::<()>();
        let released = Mutex::new(released);
        renewer
            .ensure_running(move || released.lock().recv().is_ok())
            .unwrap();
        assert!(renewer.wake());
        while !renewer.state.lock().renewing {
            std::thread::yield_now();
        }
        renewer.end_if_idle();
        assert!(
            renewer.state.lock().running,
            "fork must not wait for a renewal"
        );
        release.send(()).unwrap();
        while renewer.state.lock().renewing {
            std::thread::yield_now();
        }
        assert!(renewer.wake(), "the thread carries on after the fork");
        release.send(()).unwrap();
    }

    #[test]
    fn the_thread_ends_when_stopped_or_when_its_cache_is_gone() {
        let renewer = Arc::new(Renewer::default());
        renewer.ensure_running(|| true).unwrap();
        renewer.stop();
        assert!(!renewer.wake());
        // It ends and says so: running goes false, and no new thread is started after a stop.
        while renewer.state.lock().running {
            std::thread::yield_now();
        }
        renewer.ensure_running(|| true).unwrap();
        assert_eq!(renewer.threads_started(), 1);

        let gone = Arc::new(Renewer::default());
        gone.ensure_running(|| false).unwrap();
        assert!(gone.wake());
        while gone.state.lock().running {
            std::thread::yield_now();
        }
        assert!(!gone.wake());
    }
}
