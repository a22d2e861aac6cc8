//! The one renewal scheduler of a process: a timer thread keeping the renewal deadlines of every live cache,
//! and a small pool of workers that run what comes due, so a thousand clients cost at most `MAX_WORKERS + 1`
//! threads instead of one each, and one slow token endpoint holds up at most one worker.
//!
//! - Threads start on first need and end when idle: the timer thread when no deadline is pending, a worker after
//!   `WORKER_LINGER` without work. When the last cache unregisters, every thread is ended and joined, so a
//!   program that frees its clients and returns from `main` leaves no thread (and nothing "possibly lost" under
//!   valgrind) behind.
//! - Jobs hold their cache weakly (`Weak<dyn Task>`): a queued job does not keep a freed client alive, and
//!   `cancel` removes a cache's timer and queued jobs at once, so no job of a freed client ever starts. A job
//!   already running is waited for (bounded) by `cancel`.
//! - A job that panics is caught: the worker carries on and its bookkeeping stays right.
//! - fork(): just before fork() the idle threads are ended and joined (a busy worker is left alone rather than
//!   making fork() wait for a network call) and the scheduler's lock is held across fork(), so the child never
//!   inherits it taken. In the parent the threads are started again as needed; in the child the scheduler
//!   starts empty: the parent's caches answer FORKED there and must never renew.

use std::cell::Cell;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::rt::clock::monotonic_ms;
use crate::rt::fork::{self, ForkHooks};

/// Workers in the pool: with the timer thread, the most threads the scheduler ever runs.
pub const MAX_WORKERS: usize = 3;
/// How long an idle worker waits for more work before it ends: a burst of renewals reuses it.
const WORKER_LINGER: Duration = Duration::from_millis(250);

/// What a job asks its cache to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Its renewal deadline came due: renew if the cache still wants it.
    Due,
    /// Run the fetch a caller has already claimed the flight for.
    Flight { background: bool },
}

pub trait Task: Send + Sync {
    fn run(&self, job: Job);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Timer,
    Worker,
}

struct ThreadRec {
    kind: Kind,
    /// Threads of an older epoch were told to end (the last cache unregistered).
    epoch: u64,
    handle: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    tasks: HashMap<u64, Weak<dyn Task>>,
    timers: BTreeSet<(u64, u64)>,
    due_of: HashMap<u64, u64>,
    queue: VecDeque<(u64, Job)>,
    /// Tasks whose job a worker is running, with the worker.
    running: HashMap<u64, u64>,
    /// The scheduler's threads by their number here (`THREAD_NO`).
    threads: HashMap<u64, ThreadRec>,
    next_thread_no: u64,
    /// Handles of threads that have ended, still to be joined.
    ended: Vec<JoinHandle<()>>,
    epoch: u64,
    idle_workers: usize,
    /// Set while fork() is under way: no thread is started, idle ones end.
    forking: bool,
    threads_started: u64,
    #[cfg(test)]
    refuse: bool,
    /// Jobs queue but no worker takes them, as behind a pool busy with other clients' slow renewals.
    #[cfg(test)]
    park: bool,
}

impl State {
    fn live(&self, kind: Kind) -> usize {
        self.threads
            .values()
            .filter(|t| t.kind == kind && t.epoch == self.epoch)
            .count()
    }
}

pub struct Scheduler {
    state: Mutex<State>,
    timer_wake: Condvar,
    work: Condvar,
    job_done: Condvar,
}

/// The process's scheduler lives in this static, not on the heap: nothing of it is left allocated once the last
/// client is freed (valgrind counts every leak kind, "still reachable" included).
static GLOBAL: OnceLock<Scheduler> = OnceLock::new();

thread_local! {
    /// The global scheduler's lock, held by the thread calling fork() from the prepare hook to the parent or
    /// child hook. A std mutex: released in the child it needs nothing else (see rt/fork.rs).
    static HELD_FOR_FORK: RefCell<Option<MutexGuard<'static, State>>> = const { RefCell::new(None) };
    /// This thread's number in its scheduler's `threads`; 0 for threads the scheduler did not start. (Not
    /// `std::thread::current()`, which would allocate a handle for the caller's thread that lives until exit.)
    static THREAD_NO: Cell<u64> = const { Cell::new(0) };
}

impl Scheduler {
    fn new() -> Scheduler {
        Scheduler {
            state: Mutex::new(State::default()),
            timer_wake: Condvar::new(),
            work: Condvar::new(),
            job_done: Condvar::new(),
        }
    }

    /// The process's scheduler.
    pub fn global() -> &'static Scheduler {
        Scheduler::global_ref()
    }

    fn global_ref() -> &'static Scheduler {
        GLOBAL.get_or_init(|| {
            fork::on_fork(ForkHooks {
                name: "renewal scheduler",
                prepare: || Scheduler::global_ref().before_fork(),
                parent: || Scheduler::global_ref().after_fork_in_parent(),
                child: || Scheduler::global_ref().after_fork_in_child(),
            });
            Scheduler::new()
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics under this lock (jobs run outside it), but a poisoned lock still holds good state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(
        &self,
        cv: &Condvar,
        st: MutexGuard<'a, State>,
        d: Duration,
    ) -> (MutexGuard<'a, State>, bool) {
        let (st, r) = cv
            .wait_timeout(st, d)
            .unwrap_or_else(PoisonError::into_inner);
        (st, r.timed_out())
    }

    /// A scheduler of its own, for tests that count its threads or make it refuse.
    #[cfg(test)]
    pub fn private() -> &'static Scheduler {
        Box::leak(Box::new(Scheduler::new()))
    }

    pub fn register(&self, task: Weak<dyn Task>) -> u64 {
        let mut st = self.lock();
        st.next_id += 1;
        let id = st.next_id;
        st.tasks.insert(id, task);
        id
    }

    /// Sets (or moves) `id`'s renewal deadline, in `monotonic_ms`.
    pub fn schedule(&'static self, id: u64, due_ms: u64) -> io::Result<()> {
        let mut st = self.lock();
        if !st.tasks.contains_key(&id) {
            return Ok(());
        }
        if let Some(old) = st.due_of.insert(id, due_ms) {
            st.timers.remove(&(old, id));
        }
        st.timers.insert((due_ms, id));
        if st.forking || st.live(Kind::Timer) > 0 {
            // The running timer thread (or the one started after fork()) picks it up.
            self.timer_wake.notify_one();
            return Ok(());
        }
        self.spawn(&mut st, Kind::Timer)
    }

    /// Queues `job` for `id` to run on a worker now. A `Flight` goes ahead of renewals that came due: a caller
    /// is waiting for it. An error means no worker can be had (the caller must end its flight itself).
    pub fn run_now(&'static self, id: u64, job: Job) -> io::Result<()> {
        let mut st = self.lock();
        #[cfg(test)]
        if st.refuse {
            return Err(io::Error::other("refused by the test"));
        }
        if matches!(job, Job::Flight { .. }) {
            st.queue.push_front((id, job));
        } else {
            st.queue.push_back((id, job));
        }
        match self.dispatch(&mut st) {
            Ok(()) => Ok(()),
            Err(e) => {
                st.queue.retain(|q| *q != (id, job));
                Err(e)
            }
        }
    }

    /// Takes back a `Flight` of `id` still waiting in the queue (no worker has started it): the caller then owns
    /// that flight and runs it itself. False when there is none (a worker runs it, or it has landed).
    pub fn take_queued_flight(&self, id: u64) -> bool {
        let mut st = self.lock();
        let before = st.queue.len();
        st.queue
            .retain(|(q, job)| !(*q == id && matches!(job, Job::Flight { .. })));
        st.queue.len() != before
    }

    /// Unregisters `id`: its deadline and queued jobs are dropped at once. With `wait`, also waits (at most that
    /// long) for a job of `id` a worker is running. When no task is left, every thread is ended and joined.
    pub fn cancel(&self, id: u64, wait: Option<Duration>) {
        let me = THREAD_NO.with(Cell::get);
        let mut st = self.lock();
        st.tasks.remove(&id);
        if let Some(due) = st.due_of.remove(&id) {
            st.timers.remove(&(due, id));
        }
        st.queue.retain(|(q, _)| *q != id);
        if let Some(wait) = wait {
            let until = Instant::now() + wait;
            while st.running.get(&id).is_some_and(|t| *t != me) {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                st = self.wait(&self.job_done, st, left).0;
            }
        }
        if !st.tasks.is_empty() {
            return;
        }
        // Nobody needs a thread: end them all. A worker still busy (a job that outlived `wait`, or this very
        // thread) ends by itself when its job is done.
        st.epoch += 1;
        let busy: HashSet<u64> = st.running.values().copied().collect();
        let mut joins: Vec<JoinHandle<()>> = std::mem::take(&mut st.ended);
        for (no, rec) in st.threads.iter_mut() {
            if *no != me && !busy.contains(no) {
                joins.extend(rec.handle.take());
            }
        }
        drop(st);
        self.timer_wake.notify_all();
        self.work.notify_all();
        for handle in joins {
            let _ = handle.join();
        }
        // Give back the tables' memory too, unless a new client came meanwhile.
        let mut st = self.lock();
        if st.tasks.is_empty() {
            st.tasks = HashMap::new();
            st.timers = BTreeSet::new();
            st.due_of = HashMap::new();
            st.queue = VecDeque::new();
            if st.running.is_empty() {
                st.running = HashMap::new();
            }
            if st.threads.is_empty() {
                st.threads = HashMap::new();
            }
        }
    }

    /// Starts a worker for the queue unless an idle one can take it or the pool is full.
    fn dispatch(&'static self, st: &mut State) -> io::Result<()> {
        if st.queue.is_empty() {
            return Ok(());
        }
        #[cfg(test)]
        if st.park {
            return Ok(());
        }
        if st.idle_workers > 0 {
            self.work.notify_one();
            return Ok(());
        }
        if st.forking || st.live(Kind::Worker) >= MAX_WORKERS {
            // A busy worker takes it next (or the workers started after fork()).
            return Ok(());
        }
        self.spawn(st, Kind::Worker)
    }

    fn spawn(&'static self, st: &mut State, kind: Kind) -> io::Result<()> {
        // Join what has ended first, so ended threads never pile up.
        for handle in std::mem::take(&mut st.ended) {
            let _ = handle.join();
        }
        let epoch = st.epoch;
        st.next_thread_no += 1;
        let no = st.next_thread_no;
        let (name, body): (&str, Box<dyn FnOnce() + Send>) = match kind {
            Kind::Timer => (
                "x8-renew-timer",
                Box::new(move || self.timer_loop(no, epoch)),
            ),
            Kind::Worker => ("x8-renew", Box::new(move || self.worker_loop(no, epoch))),
        };
        // The thread cannot run its loop before we release the lock, so its record is in place first.
        let handle = std::thread::Builder::new().name(name.into()).spawn(body)?;
        st.threads.insert(
            no,
            ThreadRec {
                kind,
                epoch,
                handle: Some(handle),
            },
        );
        st.threads_started += 1;
        Ok(())
    }

    /// A thread's last act: forget its record, leave its handle to be joined.
    fn end_thread(&self, st: &mut State) {
        if let Some(rec) = st.threads.remove(&THREAD_NO.with(Cell::get)) {
            st.ended.extend(rec.handle);
        }
    }

    fn timer_loop(&'static self, no: u64, epoch: u64) {
        THREAD_NO.with(|n| n.set(no));
        let mut st = self.lock();
        loop {
            if st.epoch != epoch || st.forking {
                break;
            }
            let now = monotonic_ms();
            while let Some(&(due, id)) = st.timers.first() {
                if due > now {
                    break;
                }
                st.timers.remove(&(due, id));
                st.due_of.remove(&id);
                st.queue.push_back((id, Job::Due));
            }
            // A failure to start a worker leaves the jobs queued for the next worker that frees up.
            let _ = self.dispatch(&mut st);
            let Some(&(due, _)) = st.timers.first() else {
                break;
            };
            let wait = Duration::from_millis(due.saturating_sub(now).max(1));
            st = self.wait(&self.timer_wake, st, wait).0;
        }
        self.end_thread(&mut st);
    }

    fn worker_loop(&'static self, no: u64, epoch: u64) {
        THREAD_NO.with(|n| n.set(no));
        let me = no;
        let mut st = self.lock();
        loop {
            if st.epoch != epoch || st.forking {
                break;
            }
            if let Some((id, job)) = st.queue.pop_front() {
                let Some(task) = st.tasks.get(&id).and_then(Weak::upgrade) else {
                    continue;
                };
                st.running.insert(id, me);
                drop(st);
                // A panicking job must not end the worker with its bookkeeping half done.
                let _ = catch_unwind(AssertUnwindSafe(|| task.run(job)));
                // Let go of the cache before saying the job is done: when `cancel` stops waiting, nothing here
                // holds the client any more (and if this was the last reference, it is freed here, unlocked).
                drop(task);
                st = self.lock();
                st.running.remove(&id);
                self.job_done.notify_all();
                continue;
            }
            st.idle_workers += 1;
            let (back, timed_out) = self.wait(&self.work, st, WORKER_LINGER);
            st = back;
            st.idle_workers -= 1;
            if timed_out && st.queue.is_empty() {
                break;
            }
        }
        self.end_thread(&mut st);
        // Jobs left behind by a worker that was told to end go to a current one.
        if !st.forking {
            let _ = self.dispatch(&mut st);
        }
    }

    /// fork() prepare: ends the idle threads and joins them, then holds the lock across fork().
    fn before_fork(&'static self) {
        let mut st = self.lock();
        st.forking = true;
        let busy: HashSet<u64> = st.running.values().copied().collect();
        let mut joins: Vec<JoinHandle<()>> = std::mem::take(&mut st.ended);
        for (no, rec) in st.threads.iter_mut() {
            if !busy.contains(no) {
                joins.extend(rec.handle.take());
            }
        }
        drop(st);
        self.timer_wake.notify_all();
        self.work.notify_all();
        for handle in joins {
            let _ = handle.join();
        }
        let st = self.lock();
        HELD_FOR_FORK.with(|held| *held.borrow_mut() = Some(st));
    }

    fn held_for_fork() -> Option<MutexGuard<'static, State>> {
        HELD_FOR_FORK.with(|held| held.borrow_mut().take())
    }

    fn after_fork_in_parent(&'static self) {
        let Some(mut st) = Scheduler::held_for_fork() else {
            return;
        };
        st.forking = false;
        // Threads ended before fork() come back for the work that is pending.
        if !st.timers.is_empty() && st.live(Kind::Timer) == 0 {
            let _ = self.spawn(&mut st, Kind::Timer);
        }
        let _ = self.dispatch(&mut st);
    }

    fn after_fork_in_child(&self) {
        let Some(mut st) = Scheduler::held_for_fork() else {
            return;
        };
        // The parent's threads do not exist here, and its caches must never renew in the child. Handles of
        // threads busy at fork() name threads that do not exist here: forget them rather than join or detach.
        for rec in st.threads.values_mut() {
            std::mem::forget(rec.handle.take());
        }
        let (next_id, next_thread_no) = (st.next_id, st.next_thread_no);
        *st = State {
            next_id,
            next_thread_no,
            ..State::default()
        };
    }

    #[cfg(test)]
    pub fn refuse(&self, refuse: bool) {
        self.lock().refuse = refuse;
    }

    #[cfg(test)]
    pub fn park(&'static self, park: bool) {
        let mut st = self.lock();
        st.park = park;
        let _ = self.dispatch(&mut st);
    }

    /// Threads this scheduler runs now.
    #[cfg(test)]
    pub fn threads(&self) -> usize {
        self.lock().threads.len()
    }

    #[cfg(test)]
    pub fn threads_started(&self) -> u64 {
        self.lock().threads_started
    }

    #[cfg(test)]
    pub fn is_scheduled(&self, id: u64) -> bool {
        let st = self.lock();
        st.due_of.contains_key(&id) || st.queue.iter().any(|(q, _)| *q == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};

    /// Counts its runs and how many of its kind run at once; may block on a channel or panic.
    #[derive(Default)]
    struct Probe {
        runs: AtomicUsize,
        concurrent: Arc<AtomicUsize>,
        max_concurrent: Arc<AtomicUsize>,
        hold: Mutex<Option<mpsc::Receiver<()>>>,
        panic: bool,
    }

    impl Task for Probe {
        fn run(&self, _job: Job) {
            let now = self.concurrent.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_concurrent.fetch_max(now, Ordering::SeqCst);
            if let Some(rx) = self.hold.lock().take() {
                let _ = rx.recv();
            }
            self.runs.fetch_add(1, Ordering::SeqCst);
            self.concurrent.fetch_sub(1, Ordering::SeqCst);
            assert!(!self.panic, "a task that panics");
        }
    }

    fn until(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !f() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn dyn_weak(p: &Arc<Probe>) -> Weak<dyn Task> {
        let w: Weak<Probe> = Arc::downgrade(p);
        w
    }

    #[test]
    fn many_due_tasks_run_on_a_bounded_pool_and_every_thread_ends_with_the_last_task() {
        let s = Scheduler::private();
        let concurrent = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let (release, held) = mpsc::channel();
        let probes: Vec<Arc<Probe>> = (0..200)
            .map(|_| {
                Arc::new(Probe {
                    concurrent: concurrent.clone(),
                    max_concurrent: max.clone(),
                    ..Probe::default()
                })
            })
            .collect();
        // The first holds its worker, as a slow endpoint would.
        *probes[0].hold.lock() = Some(held);
        let now = monotonic_ms();
        let ids: Vec<u64> = probes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let id = s.register(dyn_weak(p));
                s.schedule(id, now + (i as u64 % 20)).unwrap();
                id
            })
            .collect();
        // One task stuck on its worker holds up none of the others.
        until("the other tasks run", || {
            probes[1..]
                .iter()
                .all(|p| p.runs.load(Ordering::SeqCst) == 1)
        });
        assert!(s.threads() <= MAX_WORKERS + 1, "{} threads", s.threads());
        assert!(max.load(Ordering::SeqCst) <= MAX_WORKERS);
        release.send(()).unwrap();
        until("the held task ends", || {
            probes[0].runs.load(Ordering::SeqCst) == 1
        });
        for id in ids {
            s.cancel(id, Some(Duration::from_secs(5)));
        }
        assert_eq!(s.threads(), 0, "every thread ends with the last task");
    }

    #[test]
    fn a_cancelled_task_never_runs_and_a_running_one_is_waited_for() {
        let s = Scheduler::private();
        let queued = Arc::new(Probe::default());
        let qid = s.register(dyn_weak(&queued));
        s.schedule(qid, monotonic_ms() + 60_000).unwrap();
        s.cancel(qid, None);
        assert!(!s.is_scheduled(qid));

        let (release, held) = mpsc::channel();
        let running = Arc::new(Probe {
            hold: Mutex::new(Some(held)),
            ..Probe::default()
        });
        let rid = s.register(dyn_weak(&running));
        s.run_now(rid, Job::Flight { background: true }).unwrap();
        until("it runs", || running.concurrent.load(Ordering::SeqCst) == 1);
        // Queued behind it, for the same task: dropped by the cancel.
        let other = std::thread::spawn(move || s.cancel(rid, Some(Duration::from_secs(20))));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!other.is_finished(), "cancel waits for the running job");
        release.send(()).unwrap();
        other.join().unwrap();
        assert_eq!(running.runs.load(Ordering::SeqCst), 1);
        assert_eq!(queued.runs.load(Ordering::SeqCst), 0);
        assert_eq!(s.threads(), 0);
    }

    #[test]
    fn a_panicking_job_leaves_the_pool_working() {
        let s = Scheduler::private();
        let bad = Arc::new(Probe {
            panic: true,
            ..Probe::default()
        });
        let good = Arc::new(Probe::default());
        let bid = s.register(dyn_weak(&bad));
        let gid = s.register(dyn_weak(&good));
        s.run_now(bid, Job::Flight { background: true }).unwrap();
        until("the bad job ran", || bad.runs.load(Ordering::SeqCst) == 1);
        s.run_now(gid, Job::Due).unwrap();
        until("the good job ran", || good.runs.load(Ordering::SeqCst) == 1);
        until("nothing is marked running", || s.lock().running.is_empty());
        s.cancel(bid, None);
        s.cancel(gid, None);
        assert_eq!(s.threads(), 0);
    }

    #[test]
    fn a_freed_task_is_skipped() {
        let s = Scheduler::private();
        let gone = Arc::new(Probe::default());
        let id = s.register(dyn_weak(&gone));
        let keep = Arc::new(Probe::default());
        let kid = s.register(dyn_weak(&keep));
        drop(gone);
        s.run_now(id, Job::Due).unwrap();
        s.run_now(kid, Job::Due).unwrap();
        until("the live task ran", || {
            keep.runs.load(Ordering::SeqCst) == 1
        });
        s.cancel(id, None);
        s.cancel(kid, None);
    }
}
