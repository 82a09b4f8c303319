//! The blocking pool: threads for `spawn_blocking`.
//!
//! A blocking task is an ordinary smp_rt task (same `JoinHandle`, same
//! panic handling) whose schedule function hands it to this pool instead of
//! a worker. Threads are started on demand up to `max_threads` and retire
//! after `keep_alive` without work.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::context;
use crate::runtime::Handle;
use crate::task::harness;
use crate::task::header::Task;

thread_local! {
    /// The pool whose thread this is (its `Inner`'s address), if any.
    static POOL_OF_THIS_THREAD: Cell<usize> = const { Cell::new(0) };
}

/// A pool of threads running blocking tasks.
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Signalled when work arrives or the pool shuts down.
    work: Condvar,
    /// Signalled when a thread exits (for shutdown).
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Task>,
    threads: usize,
    idle: usize,
    /// Wake-ups issued to idle threads and not yet consumed.
    notified: usize,
    shutdown: bool,
    next_id: usize,
    /// The pool's threads, joined by a shutdown that waits (so dropping a
    /// runtime returns after they exited); those that exited on their own
    /// are let go when the next thread starts.
    handles: Vec<thread::JoinHandle<()>>,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                work: Condvar::new(),
                exited: Condvar::new(),
                max_threads,
                keep_alive,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Threads alive now.
    pub(crate) fn num_threads(&self) -> usize {
        self.lock().threads
    }

    /// Queues a blocking task, starting a thread if none is idle.
    pub(crate) fn push(&self, task: Task, handle: &Handle) {
        let mut state = self.lock();
        if state.shutdown {
            drop(state);
            // The pool is gone: cancel the task.
            crate::scheduler::drop_entered([task]);
            return;
        }
        state.queue.push_back(task);
        if state.idle > state.notified {
            state.notified += 1;
            self.inner.work.notify_one();
        } else if state.threads < self.inner.max_threads {
            state.threads += 1;
            let id = state.next_id;
            state.next_id += 1;
            drop(state);
            let inner = Arc::clone(&self.inner);
            let handle = handle.clone();
            let spawned = handle
                .shared
                .config
                .thread_builder(format_args!("-blocking-{id}"))
                .spawn(move || {
                    let config = handle.shared.config.clone();
                    config.run_thread(|| inner.run(handle))
                });
            match spawned {
                Ok(thread) => {
                    let mut state = self.lock();
                    state.handles.retain(|handle| !handle.is_finished());
                    state.handles.push(thread);
                }
                Err(err) => {
                    let mut state = self.lock();
                    state.threads -= 1;
                    // Nobody can run the queued work if no thread exists at all;
                    // leave it queued for an existing thread otherwise.
                    tracing::warn!(%err, "failed to start a blocking thread");
                    if state.threads == 0 {
                        let tasks: Vec<Task> = state.queue.drain(..).collect();
                        drop(state);
                        crate::scheduler::drop_entered(tasks);
                    }
                }
            }
        }
        // else: every thread is busy and the pool is at its limit; the task
        // waits in the queue for the next free thread.
    }

    /// Stops the pool: queued tasks are cancelled; running ones may finish
    /// within `timeout`.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let tasks: Vec<Task> = {
            let mut state = self.lock();
            state.shutdown = true;
            self.inner.work.notify_all();
            state.queue.drain(..).collect()
        };
        crate::scheduler::drop_entered(tasks);
        let deadline = timeout.map(|t| Instant::now() + t);
        // Shut down from one of the pool's own closures: that thread cannot
        // exit before this returns, so do not wait for it.
        let own = POOL_OF_THIS_THREAD.with(Cell::get) == Arc::as_ptr(&self.inner) as usize;
        let mut state = self.lock();
        while state.threads > usize::from(own) {
            state = match deadline {
                None => self
                    .inner
                    .exited
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return;
                    }
                    self.inner
                        .exited
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
        // Every thread left its loop: wait for the threads themselves (their
        // stop hooks and thread-locals), so that a runtime dropped is gone.
        let handles = std::mem::take(&mut state.handles);
        drop(state);
        let me = thread::current().id();
        for handle in handles {
            if handle.thread().id() != me {
                let _ = handle.join();
            }
        }
    }
}

impl Inner {
    fn run(&self, handle: Handle) {
        POOL_OF_THIS_THREAD.with(|pool| pool.set(self as *const Inner as usize));
        let _enter = context::enter(handle);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(task) = state.queue.pop_front() {
                drop(state);
                // Runs the closure to completion; panics are caught by the
                // task's harness.
                let span = task.metadata().span();
                let _entered = span.enter();
                harness::run(task);
                state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|p| p.into_inner());
            state = next;
            state.idle -= 1;
            if state.notified > 0 {
                state.notified -= 1;
            } else if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        self.exited.notify_all();
    }
}
