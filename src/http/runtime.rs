//! The process's runtimes, and what keeps them (and the connection pools of
//! [`super::pool`]) sound across `fork()` and process exit.
//!
//! Two tokio runtimes per process, each with its own connection pools:
//!
//! - the I/O runtime, a fixed number of threads (`ACS_CHAT_IO_THREADS`,
//!   default 2) running every asynchronous call as a task, so a call in flight
//!   costs a task and a socket, never a thread of its own;
//! - the caller-driven runtime, which has no thread: a blocking call drives it
//!   (and with it the connections of its pool) on the calling thread, so the
//!   call's request, answer and wake-ups involve no other thread. Several
//!   threads may be inside it at once; one drives I/O for all.
//!
//! A blocking call made where a tokio runtime is already running on the
//! thread (from async code, or tokio's blocking pool) cannot drive another
//! runtime there: it polls its request on the calling thread while the I/O
//! threads drive the sockets ([`block_on`] decides, see [`Driver`]).
//!
//! **Fork.** A child process inherits the runtime's memory but none of its
//! threads, and shares its epoll instance and pooled sockets with the parent.
//! A `pthread_atfork` child handler bumps a generation counter; the first use
//! in the child then builds a new runtime and new pools. Everything of the
//! parent's generation is left untouched (leaked, never dropped), since
//! dropping it would act on the parent's descriptors and locks.
//!
//! **Exit.** An `atexit` handler stops completion callbacks from starting and
//! waits briefly for running ones, so no callback runs into a process that is
//! tearing down. The runtime itself is never dropped: its threads end with
//! the process.

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crate::http::pool::{Pool, PoolSettings};

use crate::error::one_line;
use crate::error::{Error, Result};

/// Default number of I/O threads.
const DEFAULT_IO_THREADS: usize = 2;
/// How long process exit waits for completion callbacks that are running.
const EXIT_GRACE: Duration = Duration::from_secs(2);
/// The longest a connection may stay silent while a response is awaited,
/// whatever the per-try timeout (including none).
pub(crate) const IDLE_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// Bumped in a forked child; state of an older generation belongs to the parent.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The runtime of the current generation (leaked; never freed).
static CURRENT: AtomicPtr<IoRuntime> = AtomicPtr::new(std::ptr::null_mut());
/// Serializes runtime creation; a plain flag so a child can reset it.
static CREATING: AtomicBool = AtomicBool::new(false);
/// Set at process exit (or by `shutdown`): completion callbacks no longer run.
static EXITING: AtomicBool = AtomicBool::new(false);
/// Completion callbacks running now.
static RUNNING_CALLBACKS: AtomicUsize = AtomicUsize::new(0);
static PROCESS_HOOKS: Once = Once::new();

thread_local! {
    /// True while this thread runs a completion callback.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
    /// How many callbacks into user code (completions, refreshers, the
    /// logger, user-data destructors) this thread is inside.
    static IN_USER_CODE: Cell<usize> = const { Cell::new(0) };
}

/// The generation of this process (0 in the process that loaded the library,
/// one more in each fork below it).
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// Which runtime drives a call's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Driver {
    /// The caller-driven runtime: a blocking call's own thread.
    Caller = 0,
    /// The I/O threads.
    IoThreads = 1,
}

/// One generation's runtimes and connection pools.
pub(crate) struct IoRuntime {
    pub(super) generation: u64,
    runtime: tokio::runtime::Runtime,
    local: tokio::runtime::Runtime,
    /// Connection pools by settings and runtime (see [`super::pool`]).
    pub(super) pools: Mutex<HashMap<(PoolSettings, Driver), Weak<Pool>>>,
}

impl IoRuntime {
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    /// Enters `driver`'s runtime on this thread, so that what is built
    /// meanwhile (an HTTP client's pool) belongs to it.
    pub(super) fn enter(&self, driver: Driver) -> tokio::runtime::EnterGuard<'_> {
        match driver {
            Driver::Caller => self.local.enter(),
            Driver::IoThreads => self.runtime.enter(),
        }
    }
}

/// The runtime of this process, created on first use (and anew in a forked child).
pub(crate) fn current() -> Result<&'static IoRuntime> {
    let generation = generation();
    let ptr = CURRENT.load(Ordering::Acquire);
    // SAFETY: CURRENT only ever holds leaked `IoRuntime`s, never freed.
    if let Some(rt) = unsafe { ptr.as_ref() } {
        if rt.generation == generation {
            return Ok(rt);
        }
    }
    create(generation)
}

#[cold]
fn create(generation: u64) -> Result<&'static IoRuntime> {
    install_process_hooks();
    while CREATING
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::thread::yield_now();
    }
    let outcome = (|| {
        // SAFETY: as in `current`.
        if let Some(rt) = unsafe { CURRENT.load(Ordering::Acquire).as_ref() } {
            if rt.generation == generation {
                return Ok(rt);
            }
        }
        let not_started = |e: std::io::Error| {
            Error::Internal(format!(
                "the I/O runtime could not be started: {}",
                one_line(&e.to_string())
            ))
        };
        let threads = std::env::var("ACS_CHAT_IO_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| (1..=64).contains(n))
            .unwrap_or(DEFAULT_IO_THREADS);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("acs-chat-io")
            .enable_all()
            .build()
            .map_err(not_started)?;
        let local = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(not_started)?;
        let rt: &'static IoRuntime = Box::leak(Box::new(IoRuntime {
            generation,
            runtime,
            local,
            pools: Mutex::new(HashMap::new()),
        }));
        CURRENT.store(std::ptr::from_ref(rt).cast_mut(), Ordering::Release);
        Ok(rt)
    })();
    CREATING.store(false, Ordering::Release);
    outcome
}

fn install_process_hooks() {
    PROCESS_HOOKS.call_once(|| {
        extern "C" fn after_fork_in_child() {
            // Only atomics here: the child has one thread and may hold
            // copies of locks that other threads of the parent held.
            GENERATION.fetch_add(1, Ordering::AcqRel);
            CREATING.store(false, Ordering::Release);
            RUNNING_CALLBACKS.store(0, Ordering::Release);
        }
        extern "C" fn at_exit() {
            quiesce_callbacks();
        }
        // SAFETY: both handlers are `extern "C"` functions that live as long
        // as the library (which is never unloaded while they are registered:
        // Rust cdylibs are not unloadable in practice, glibc keeps them).
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
            libc::atexit(at_exit);
        }
    });
}

/// Stops callbacks into user code from starting, then waits (a short,
/// bounded time) for those already running on other threads.
pub(crate) fn quiesce_callbacks() {
    EXITING.store(true, Ordering::SeqCst);
    let own = IN_USER_CODE.try_with(Cell::get).unwrap_or(0);
    let deadline = Instant::now() + EXIT_GRACE;
    while RUNNING_CALLBACKS.load(Ordering::SeqCst) > own && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether completion callbacks have been stopped (process exit or shutdown).
pub(crate) fn is_quiesced() -> bool {
    EXITING.load(Ordering::SeqCst)
}

/// Whether this thread is running a completion callback.
pub(crate) fn in_callback() -> bool {
    IN_CALLBACK.try_with(Cell::get).unwrap_or(false)
}

/// Runs a callback into user code (a token refresher, the logger, a
/// user-data destructor) unless the process is exiting: `None` then, and the
/// callback is not called, since the language runtime behind it may already
/// be finalized. Exit waits for callbacks that are running.
pub(crate) fn call_user_code<R>(callback: impl FnOnce() -> R) -> Option<R> {
    RUNNING_CALLBACKS.fetch_add(1, Ordering::SeqCst);
    if EXITING.load(Ordering::SeqCst) {
        RUNNING_CALLBACKS.fetch_sub(1, Ordering::SeqCst);
        return None;
    }
    struct Running;
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = IN_USER_CODE.try_with(|c| c.set(c.get().saturating_sub(1)));
            RUNNING_CALLBACKS.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let _ = IN_USER_CODE.try_with(|c| c.set(c.get() + 1));
    let _running = Running;
    Some(callback())
}

/// Runs a completion callback unless the process is exiting; returns whether
/// it ran. The thread is marked so that blocking calls from inside are refused.
pub(crate) fn run_callback(callback: impl FnOnce()) -> bool {
    struct Mark(bool);
    impl Drop for Mark {
        fn drop(&mut self) {
            let _ = IN_CALLBACK.try_with(|c| c.set(self.0));
        }
    }
    call_user_code(|| {
        let _mark = Mark(IN_CALLBACK.try_with(|c| c.replace(true)).unwrap_or(false));
        callback();
    })
    .is_some()
}

/// Spawns a task on the runtime.
pub(crate) fn spawn<F>(future: F) -> Result<tokio::task::JoinHandle<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Ok(current()?.handle().spawn(future))
}

/// The runtime a blocking call made on this thread uses: the caller-driven
/// one, unless a tokio runtime is already running here (it cannot be
/// entered twice), where the I/O threads drive the call's sockets.
pub(crate) fn blocking_driver() -> Driver {
    if tokio::runtime::Handle::try_current().is_ok() {
        Driver::IoThreads
    } else {
        Driver::Caller
    }
}

/// Runs `future` to completion on the calling thread, with `driver`'s
/// runtime (from [`blocking_driver`]) driving its sockets and timers.
///
/// Works from any thread, inside another tokio runtime too, except from a
/// completion callback, where waiting would hold an I/O thread: refused with
/// `InvalidArgument`.
pub(crate) fn block_on<F: Future>(driver: Driver, future: F) -> Result<F::Output> {
    if in_callback() {
        return Err(Error::InvalidArgument(
            "a blocking call cannot be made from a completion callback; start an asynchronous \
             call instead"
                .into(),
        ));
    }
    let rt = current()?;
    match driver {
        Driver::Caller => Ok(rt.local.block_on(future)),
        Driver::IoThreads => {
            let _entered = rt.handle().enter();
            Ok(park_on(future))
        }
    }
}

/// Wakes a parked thread.
struct ThreadWaker {
    thread: Thread,
    notified: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.notified.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

thread_local! {
    static PARKER: Arc<ThreadWaker> = Arc::new(ThreadWaker {
        thread: std::thread::current(),
        notified: AtomicBool::new(false),
    });
}

thread_local! {
    /// Nesting of `park_on` on this thread (a refresher making a blocking
    /// call on another client runs inside the outer call's poll).
    static PARK_DEPTH: Cell<usize> = const { Cell::new(0) };
}

fn park_on<F: Future>(future: F) -> F::Output {
    let fresh = || {
        Arc::new(ThreadWaker {
            thread: std::thread::current(),
            notified: AtomicBool::new(false),
        })
    };
    // The thread's cached waker, unless an outer call is using it (its
    // wake-ups must not be consumed here) or thread-local storage is gone.
    let depth = PARK_DEPTH.try_with(|d| d.replace(d.get() + 1)).unwrap_or(1);
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            let _ = PARK_DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
        }
    }
    let _leave = Leave;
    let parker = if depth == 0 {
        PARKER.try_with(Arc::clone).unwrap_or_else(|_| fresh())
    } else {
        fresh()
    };
    let waker = Waker::from(parker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        while !parker.notified.swap(false, Ordering::Acquire) {
            std::thread::park();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_on_runs_timers_and_spawned_tasks() {
        let value = block_on(Driver::IoThreads, async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            tokio::spawn(async { 7 }).await.unwrap()
        })
        .unwrap();
        assert_eq!(value, 7);
    }

    #[test]
    fn block_on_is_refused_inside_a_callback() {
        let mut refused = false;
        assert!(run_callback(|| {
            refused = matches!(
                block_on(Driver::Caller, async {}),
                Err(Error::InvalidArgument(_))
            );
        }));
        assert!(refused);
        assert!(!in_callback());
        assert!(block_on(Driver::Caller, async { 1 }).is_ok());
    }

    #[test]
    fn block_on_works_inside_another_runtime() {
        let other = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let got = other.block_on(async {
            assert_eq!(blocking_driver(), Driver::IoThreads);
            block_on(blocking_driver(), async { 3 }).unwrap()
        });
        assert_eq!(blocking_driver(), Driver::Caller);
        assert_eq!(got, 3);
    }
}
