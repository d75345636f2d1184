//! Handler threads: they answer the requests whose handlers may block (host code), so that
//! the I/O workers go on serving other connections meanwhile. The host's own threads take
//! requests from a queue of the same kind, with no threads of its own ([`HostQueue`]).
//!
//! A worker hands a request over as a [`Job`]: a `Ticket` holding the request, and the
//! [`Responder`] its answer goes back through. A pool thread answers it with
//! `http::answer`, the same function a worker uses for what it answers itself. The queue
//! is bounded: when it is full, the job comes back and the worker answers it as overloaded.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::mailbox::Responder;
use crate::http::date::unix_now;
use crate::http::{answer, Handler, Later, Response, Ticket};
use crate::sys::{memory, signal};

/// A request for the pool.
pub struct Job {
    pub ticket: Arc<Ticket>,
    pub responder: Responder,
}

struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
    /// Threads waiting for a job: a job is announced only when one is (a notify is a
    /// system call, and under load the threads come back for the next job by themselves).
    waiting: usize,
}

/// See the module docs.
pub struct Pool {
    queue: Mutex<Queue>,
    ready: Condvar,
    capacity: usize,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// Starts `threads` pool threads answering with `handler`, with room for `capacity`
    /// waiting jobs.
    pub fn start(
        threads: usize,
        capacity: usize,
        handler: Arc<dyn Handler>,
    ) -> std::io::Result<Arc<Pool>> {
        let pool = Pool::queue(capacity);
        for i in 0..threads {
            let (pool_ref, handler) = (pool.clone(), handler.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("roost-handler-{i}"))
                .spawn(move || run(&pool_ref, &*handler));
            match spawned {
                Ok(thread) => pool
                    .threads
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(thread),
                Err(e) => {
                    // Do not leave the threads already started waiting forever.
                    pool.stop();
                    return Err(e);
                }
            }
        }
        Ok(pool)
    }

    /// A queue with no threads, for the host's own (see [`HostQueue`]).
    pub fn queue(capacity: usize) -> Arc<Pool> {
        Arc::new(Pool {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: false,
                waiting: 0,
            }),
            ready: Condvar::new(),
            capacity: capacity.max(1),
            threads: Mutex::new(Vec::new()),
        })
    }

    /// Closes the queue of a server that begins to stop: the jobs still waiting are let go
    /// (their clients get 500), and the threads waiting in `next` are told.
    pub fn close(&self) {
        drop(self.shut());
    }

    /// Refuses jobs from now on and wakes the threads waiting for one; gives back those
    /// still queued.
    fn shut(&self) -> VecDeque<Job> {
        let jobs = {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.closed = true;
            std::mem::take(&mut queue.jobs)
        };
        self.ready.notify_all();
        jobs
    }

    /// Queues a job, or gives it back when the queue is full (or closed). Jobs whose
    /// connections closed while they waited make room first: they take no place.
    pub fn submit(&self, job: Job) -> Result<(), Job> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.jobs.len() >= self.capacity {
            let (live, cancelled): (VecDeque<Job>, VecDeque<Job>) = std::mem::take(&mut queue.jobs)
                .into_iter()
                .partition(|j| !j.ticket.is_gone());
            queue.jobs = live;
            for job in cancelled {
                job.responder.dismiss();
            }
        }
        if queue.closed || queue.jobs.len() >= self.capacity {
            return Err(job);
        }
        queue.jobs.push_back(job);
        let waiting = queue.waiting > 0;
        drop(queue);
        if waiting {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// The ids of the pool's threads.
    pub fn thread_ids(&self) -> Vec<std::thread::ThreadId> {
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|t| t.thread().id())
            .collect()
    }

    /// Drops the jobs still queued (the workers are gone: nobody would send their answers)
    /// and joins the threads. A handler still running is waited for: host code cannot be
    /// interrupted.
    pub fn stop(&self) {
        for job in self.shut() {
            job.responder.dismiss();
        }
        for thread in self.take_threads() {
            let _ = thread.join();
        }
    }

    /// The threads' handles, for a stop (or for a forked child to forget).
    pub fn take_threads(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The next job, waiting for one until `deadline` (or for ever).
    fn next(&self, deadline: Option<Instant>) -> Result<Job, NextError> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if queue.closed {
                return Err(NextError::Stopping);
            }
            if let Some(job) = queue.jobs.pop_front() {
                return Ok(job);
            }
            let wait = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(wait) if !wait.is_zero() => Some(wait),
                    _ => return Err(NextError::Timeout),
                },
            };
            queue.waiting += 1;
            queue = match wait {
                None => self.ready.wait(queue).unwrap_or_else(|e| e.into_inner()),
                Some(wait) => {
                    self.ready
                        .wait_timeout(queue, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
            queue.waiting -= 1;
        }
    }
}

/// Why [`HostQueue::next`] gave no request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextError {
    /// None came in time.
    Timeout,
    /// The server is stopping (or stopped): none will come.
    Stopping,
}

/// The requests of the routes answered by the host's own threads (`router::HostRoute`):
/// each thread takes the next with [`HostQueue::next`] and answers it through the
/// [`Later`] it gets, as a deferred response is answered. Cloned freely; any thread may
/// wait on it. At most `Config::handler_queue` requests wait; past that, 503.
#[derive(Clone)]
pub struct HostQueue(Arc<Pool>);

impl HostQueue {
    pub(super) fn new(pool: Arc<Pool>) -> HostQueue {
        HostQueue(pool)
    }

    /// Requests waiting to be taken now.
    pub fn waiting(&self) -> usize {
        self.0
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .jobs
            .len()
    }

    /// Waits up to `timeout` (or for ever) for the next request. A request whose client
    /// left while it waited is skipped.
    pub fn next(&self, timeout: Option<Duration>) -> Result<Later, NextError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let Job { ticket, responder } = self.0.next(deadline)?;
            let Some(request) = ticket.claim() else {
                responder.dismiss();
                continue;
            };
            return Ok(Later::new(request, Box::new(responder), ticket, unix_now()));
        }
    }
}

fn run(pool: &Pool, handler: &dyn Handler) {
    signal::block_all_in_this_thread();
    while let Ok(Job { ticket, responder }) = pool.next(None) {
        let Some(request) = ticket.claim() else {
            // Its connection closed while it waited: nobody is there to answer.
            responder.dismiss();
            continue;
        };
        // Whatever fails in here, the responder, dropped unfinished, still answers for it,
        // and the thread goes on.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let mut response = Response::new();
            let now = unix_now();
            answer(handler, &request, &mut response, now);
            if let Some(deferral) = response.take_deferral() {
                return deferral.adopt(Later::new(request, Box::new(responder), ticket, now));
            }
            // The content's memory goes back before the answer is sent.
            drop(request);
            responder.finish(response);
        }));
        memory::release_if_due();
    }
}
