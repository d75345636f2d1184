//! The handler pool: threads that run handlers which may block (host code), so that the
//! I/O workers go on serving other connections meanwhile.
//!
//! A worker hands a request over as a [`Job`] (its head and body, copied); a pool thread
//! parses the head again, calls the handler, applies preconditions and ranges, and gives
//! the response back to that worker's [`Completions`], waking it through an eventfd. The
//! queue is bounded: when it is full, the worker answers 503 itself.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::http::conditional;
use crate::http::parse::{header_slots, parse_head, HeadResult};
use crate::http::{Handler, Limits, Request, Response};
use crate::sys::eventfd::EventFd;
use crate::sys::signal;

/// A request for the pool.
pub struct Job {
    /// Which worker gets the response back.
    pub worker: usize,
    /// The connection's token within that worker.
    pub token: u64,
    pub head: Vec<u8>,
    pub body: Vec<u8>,
    pub peer: SocketAddr,
    /// Set when the connection closes: a job still waiting is then dropped unrun, since
    /// its answer could go nowhere.
    pub cancelled: Arc<AtomicBool>,
}

/// Responses finished by the pool for one worker, and how to wake it.
pub struct Completions {
    done: Mutex<Vec<(u64, Response)>>,
    pub waker: EventFd,
}

impl Completions {
    pub fn new() -> std::io::Result<Completions> {
        Ok(Completions {
            done: Mutex::new(Vec::new()),
            waker: EventFd::new()?,
        })
    }

    /// Takes every finished response, as (connection token, response).
    pub fn take(&self) -> Vec<(u64, Response)> {
        self.waker.drain();
        std::mem::take(&mut *self.done.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn push(&self, token: u64, response: Response) {
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((token, response));
        self.waker.notify();
    }
}

struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

/// See the module docs.
pub struct Pool {
    queue: Mutex<Queue>,
    ready: Condvar,
    capacity: usize,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// What a pool thread needs.
struct Context {
    pool: Arc<Pool>,
    handler: Arc<dyn Handler>,
    limits: Limits,
    completions: Vec<Arc<Completions>>,
}

impl Pool {
    /// Starts `threads` pool threads with room for `capacity` waiting jobs.
    pub fn start(
        threads: usize,
        capacity: usize,
        handler: Arc<dyn Handler>,
        limits: Limits,
        completions: Vec<Arc<Completions>>,
    ) -> std::io::Result<Arc<Pool>> {
        let pool = Arc::new(Pool {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            capacity: capacity.max(1),
            threads: Mutex::new(Vec::new()),
        });
        let context = Arc::new(Context {
            pool: pool.clone(),
            handler,
            limits,
            completions,
        });
        for i in 0..threads {
            let context = context.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("roost-handler-{i}"))
                .spawn(move || run(&context));
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

    /// Queues a job, or gives it back when the queue is full (or closed).
    pub fn submit(&self, job: Job) -> Result<(), Job> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.closed || queue.jobs.len() >= self.capacity {
            return Err(job);
        }
        queue.jobs.push_back(job);
        drop(queue);
        self.ready.notify_one();
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

    /// Drops the jobs still queued (the workers are gone, nobody would get their answers;
    /// jobs of closed connections are skipped anyway) and joins the threads. A handler that is still running is waited for: host code
    /// cannot be interrupted.
    pub fn stop(&self) {
        {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.closed = true;
            queue.jobs.clear();
        }
        self.ready.notify_all();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for thread in threads {
            let _ = thread.join();
        }
    }

    fn next(&self) -> Option<Job> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                return Some(job);
            }
            if queue.closed {
                return None;
            }
            queue = self.ready.wait(queue).unwrap_or_else(|e| e.into_inner());
        }
    }
}

fn run(context: &Context) {
    signal::block_all_in_this_thread();
    while let Some(job) = context.pool.next() {
        if job.cancelled.load(Ordering::Acquire) {
            continue;
        }
        let mut response = Response::new();
        // A panic anywhere in answering (printed by the panic hook) gives 500; the
        // connection always gets an answer and the pool thread goes on.
        let answered = catch_unwind(AssertUnwindSafe(|| answer(context, &job, &mut response)));
        if answered.is_err() {
            response.set_error(500);
        }
        if let Some(completions) = context.completions.get(job.worker) {
            completions.push(job.token, response);
        }
    }
}

/// Runs the handler for one job, then applies preconditions and ranges.
fn answer(context: &Context, job: &Job, response: &mut Response) {
    let mut slots = header_slots();
    let HeadResult::Complete(head, _) = parse_head(&job.head, &mut slots, &context.limits) else {
        return response.set_error(500);
    };
    let req = Request::new(&head, &job.body, job.peer);
    context.handler.handle(&req, response);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    conditional::apply(&req, response, now);
}
