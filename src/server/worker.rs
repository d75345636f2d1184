//! A worker thread: one epoll set, the connections it accepted, their timeouts.

use std::io;
use std::os::fd::AsFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::connection::{Connection, Outcome, Turn, Wait};
use super::mailbox::{Letter, Mailbox};
use super::timers::{Kind, Timers};
use super::transport::Transport;
use super::Core;
use crate::h1::{Env, Phase};
use crate::http::date::DateCache;
use crate::http::{upload, Response};
use crate::sys::epoll::{Epoll, Event, EDGE, EXCLUSIVE, READABLE, READ_HANGUP, URGENT, WRITABLE};
use crate::sys::socket::Shutdown;
use crate::sys::{memory, signal, socket};

const MAILBOX: u64 = u64::MAX;
/// Listener `i` has token `LISTENERS - i`, counting down from here; connection tokens (a
/// generation above a slot) never come near.
const LISTENERS: u64 = u64::MAX - 1;
/// The most listeners a server may have.
pub const MAX_LISTENERS: usize = 64;

/// The listener a token stands for, if it is one.
fn listener_of(token: u64) -> Option<usize> {
    let index = LISTENERS.checked_sub(token)?;
    usize::try_from(index).ok().filter(|&i| i < MAX_LISTENERS)
}

/// Why a connection is driven.
enum Action {
    /// Readiness from epoll, a turn given back after yielding, or memory come back.
    Event,
    /// Its head or body timeout passed.
    TimedOut,
    /// A handler thread sent the answer to its request.
    Answered(Response),
    /// Its request will get no answer from the handler thread that had it.
    Abandoned,
}

/// Connections accepted per wakeup, so that one worker does not take a whole burst while
/// the others idle (the listener is level-triggered: what is left wakes a worker again).
const ACCEPT_BATCH: usize = 16;
/// How long accepting pauses when the process is out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// The slowest a request body may arrive over any stretch of the body timeout (bytes a
/// second).
const MIN_BODY_RATE: u64 = 1024;
/// Events handled per epoll_wait.
const EVENTS: usize = 256;
/// What a connection is always watched for. Room to write is watched for only while output
/// waits for it: edge-triggered, it would otherwise wake the worker for every
/// acknowledgement of every response.
const INPUT_EVENTS: u32 = READABLE | READ_HANGUP | URGENT | EDGE;

/// See the module docs.
pub struct Worker {
    core: Arc<Core>,
    mailbox: Arc<Mailbox>,
    epoll: Epoll,
    events: Vec<Event>,
    /// Connection slots; a slot's generation goes into its epoll token, so an event for a
    /// closed connection is never applied to the next one in the same slot.
    conns: Vec<Option<Connection>>,
    generations: Vec<u32>,
    free: Vec<u32>,
    live: usize,
    timers: Timers,
    date: DateCache,
    response: Response,
    accept_paused_until: Option<Instant>,
    stop_deadline: Option<Instant>,
    /// Connections that yielded their turn, to drive again on the next loop.
    again: Vec<u64>,
    /// Connections waiting for body memory, to drive again when some comes back.
    waiting_for_memory: Vec<u64>,
}

impl Worker {
    /// Sets up a worker's epoll set with the shared listener and its own mailbox.
    pub fn new(core: Arc<Core>, mailbox: Arc<Mailbox>) -> io::Result<Worker> {
        let epoll = Epoll::new(EVENTS)?;
        for (i, listener) in core.listeners.iter().enumerate() {
            epoll.add(
                listener.fd.as_fd(),
                READABLE | EXCLUSIVE,
                LISTENERS - i as u64,
            )?;
        }
        epoll.add(mailbox.waker().as_fd(), READABLE, MAILBOX)?;
        let t = &core.config.timeouts;
        let timers = Timers::new([t.header, t.keep_alive, t.header, t.body, t.write, t.linger]);
        Ok(Worker {
            core,
            mailbox,
            epoll,
            events: Vec::with_capacity(EVENTS),
            conns: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            live: 0,
            timers,
            date: DateCache::new(),
            response: Response::new(),
            accept_paused_until: None,
            stop_deadline: None,
            again: Vec::new(),
            waiting_for_memory: Vec::new(),
        })
    }

    /// Serves until the server stops and the last connection is done (or the shutdown
    /// timeout passes).
    pub fn run(mut self) {
        signal::block_all_in_this_thread();
        upload::mark_io_thread();
        loop {
            let timeout = self.poll_timeout(Instant::now());
            self.events.clear();
            match self.epoll.wait(timeout) {
                Ok(events) => self.events.extend(events),
                Err(_) => break,
            }
            let now = Instant::now();
            self.date.refresh(SystemTime::now());
            for token in std::mem::take(&mut self.again) {
                if let Some(slot) = self.live_slot(token) {
                    if let Some(conn) = self.conns[slot as usize].as_mut() {
                        conn.queued = false;
                    }
                }
                self.on_event(token, 0, now);
            }
            for i in 0..self.events.len() {
                let Event { token, events } = self.events[i];
                match token {
                    MAILBOX => self.on_mail(now),
                    _ => match listener_of(token) {
                        Some(listener) => self.accept(listener, now),
                        None => self.on_event(token, events, now),
                    },
                }
            }
            self.expire(now);
            memory::release_if_due();
            if let Some(deadline) = self.stop_deadline {
                if self.live == 0 {
                    break;
                }
                if now >= deadline {
                    for slot in 0..self.conns.len() {
                        self.close(slot as u32);
                    }
                    break;
                }
            }
        }
    }

    fn poll_timeout(&self, now: Instant) -> i32 {
        if !self.again.is_empty() {
            return 0;
        }
        let deadlines = [
            self.timers.next_deadline(),
            self.accept_paused_until,
            self.stop_deadline,
            memory::due_in().map(|wait| now + wait),
        ];
        match deadlines.into_iter().flatten().min() {
            None => -1,
            Some(d) => {
                let wait = d.saturating_duration_since(now);
                // Round up: waking a little early would only spin until the deadline.
                let ms = wait.as_nanos().div_ceil(1_000_000);
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        }
    }

    /// Stops watching the listeners (accepting paused, or the server stopping).
    fn unwatch_listeners(&self) {
        for listener in &self.core.listeners {
            let _ = self.epoll.delete(listener.fd.as_fd());
        }
    }

    fn accept(&mut self, index: usize, now: Instant) {
        if self.stop_deadline.is_some() {
            return;
        }
        let core = self.core.clone();
        let listener = &core.listeners[index];
        for _ in 0..ACCEPT_BATCH {
            match socket::accept(listener.fd.as_fd()) {
                Ok((fd, peer)) => {
                    let max = self.core.config.max_connections;
                    let open = self.core.connections.fetch_add(1, Ordering::Relaxed);
                    if max > 0 && open >= max {
                        // Over the limit: close at once, the others are unaffected.
                        self.core.connections.fetch_sub(1, Ordering::Relaxed);
                        continue;
                    }
                    let _ = socket::set_nodelay(fd.as_fd());
                    let slot = self.allocate_slot();
                    let token = self.token(slot);
                    if self.epoll.add(fd.as_fd(), INPUT_EVENTS, token).is_err() {
                        self.free.push(slot);
                        self.core.connections.fetch_sub(1, Ordering::Relaxed);
                        continue;
                    }
                    let budget = Some(self.core.budget.clone());
                    let mut conn = Connection::new(fd, peer, budget);
                    if listener.tls {
                        // Handshakes from now on use the certificates of a reload.
                        let tls = self.core.config.tls.as_ref().map(|tls| tls.config());
                        conn.set_transport(Transport::new(tls));
                    }
                    conn.handler = listener.handler.clone();
                    self.conns[slot as usize] = Some(conn);
                    self.live += 1;
                    self.timers.start(slot, Kind::FirstRequest, now);
                }
                Err(e) => {
                    match e.raw_os_error() {
                        Some(libc::EAGAIN) => {}
                        Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO) => continue,
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
                            // Out of descriptors or memory: stop accepting for a moment
                            // instead of spinning on a listener that stays readable.
                            self.unwatch_listeners();
                            self.accept_paused_until = Some(now + ACCEPT_BACKOFF);
                        }
                        // The listener was shut down: the server is stopping.
                        _ if self.core.stopping.load(Ordering::Acquire) => {
                            let _ = self.epoll.delete(listener.fd.as_fd());
                        }
                        // Anything else (a network error the man page says to retry, a
                        // security module saying no): back off and try again.
                        _ => {
                            self.unwatch_listeners();
                            self.accept_paused_until = Some(now + ACCEPT_BACKOFF);
                        }
                    }
                    return;
                }
            }
        }
    }

    fn allocate_slot(&mut self) -> u32 {
        match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.conns.push(None);
                self.generations.push(0);
                (self.conns.len() - 1) as u32
            }
        }
    }

    fn token(&self, slot: u32) -> u64 {
        u64::from(self.generations[slot as usize]) << 32 | u64::from(slot)
    }

    fn on_event(&mut self, token: u64, events: u32, now: Instant) {
        let slot = token as u32;
        if self.generations.get(slot as usize) != Some(&((token >> 32) as u32)) {
            return;
        }
        let ok = match &mut self.conns[slot as usize] {
            Some(conn) => conn.note_events(events),
            None => return,
        };
        if ok {
            self.drive(slot, now, Action::Event);
        } else {
            self.close(slot);
        }
    }

    /// What other threads posted: answers for connections (if still open), body memory
    /// come back, or a stop.
    fn on_mail(&mut self, now: Instant) {
        let mail = self.mailbox.take();
        // A stop first: answers that came with it close their connections, as the stop
        // asks (they may have been posted after the stop began, before this look).
        if self.core.stopping.load(Ordering::Acquire) {
            self.begin_stop(now);
        }
        for letter in mail.letters {
            let (token, action) = match letter {
                Letter::Answer { token, response } => (token, Action::Answered(response)),
                Letter::Abandoned { token } => (token, Action::Abandoned),
                Letter::Ready { token } => (token, Action::Event),
            };
            if let Some(slot) = self.live_slot(token) {
                self.drive(slot, now, action);
            }
        }
        if mail.memory {
            for token in std::mem::take(&mut self.waiting_for_memory) {
                if let Some(slot) = self.live_slot(token) {
                    if let Some(conn) = self.conns[slot as usize].as_mut() {
                        conn.waiting_for_memory = false;
                    }
                    self.drive(slot, now, Action::Event);
                }
            }
        }
    }

    /// The slot of the connection with `token`, if it is still the one open there.
    fn live_slot(&self, token: u64) -> Option<u32> {
        let slot = token as u32;
        let current = self.generations.get(slot as usize) == Some(&((token >> 32) as u32));
        (current && self.conns[slot as usize].is_some()).then_some(slot)
    }

    /// Runs a connection until it waits, then sets its timeout or closes it. A panic in
    /// request handling (handlers' own panics are answered with 500) closes only this
    /// connection.
    fn drive(&mut self, slot: u32, now: Instant, action: Action) {
        let token = self.token(slot);
        let Some(conn) = self.conns[slot as usize].as_mut() else {
            return;
        };
        let stopping = self.stop_deadline.is_some();
        let served_before = conn.served();
        let own_handler = conn.handler.clone();
        let mut turn = Turn {
            handler: own_handler.as_deref().unwrap_or(&*self.core.handler),
            pool: self
                .core
                .pool
                .as_deref()
                .filter(|_| self.core.config.handler_threads > 0),
            uploads: self.core.pool.as_deref(),
            host: &self.core.host,
            mailbox: &self.mailbox,
            token,
            env: Env {
                limits: &self.core.config.limits,
                date: self.date.get(),
                stopping,
            },
            now: self.date.secs(),
            response: &mut self.response,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            match action {
                Action::Event => {}
                Action::TimedOut => conn.time_out(&mut turn),
                Action::Answered(mut response) => conn.complete(&mut response, &mut turn),
                Action::Abandoned => {
                    if conn.abandon(&mut turn) {
                        return Outcome::Close;
                    }
                }
            }
            conn.drive(&mut turn)
        }));
        let wait = match outcome {
            Ok(Outcome::Open(wait)) => wait,
            Ok(Outcome::Close) | Err(_) => return self.close(slot),
            Ok(Outcome::Reset) => return self.reset(slot),
        };
        // Watch for room to write from the first blocked write until the output is all
        // out (a turn given back in between keeps it).
        let watch_writes = match wait {
            Wait::Write => true,
            Wait::Yield => conn.watching_writes,
            Wait::Input(_) | Wait::Linger | Wait::Memory => false,
        };
        if watch_writes != conn.watching_writes {
            let events = INPUT_EVENTS | if watch_writes { WRITABLE } else { 0 };
            if self.epoll.modify(conn.socket(), events, token).is_err() {
                return self.close(slot);
            }
            conn.watching_writes = watch_writes;
        }
        // A request answered in this turn restarts the idle and head clocks: the keep-alive
        // timeout counts from the last response, a head's from its own first byte. Body and
        // write timeouts count time without progress, so moving bytes restarts them.
        let answered = conn.served() != served_before;
        let progress = conn.take_progress();
        let (kind, restart) = match wait {
            Wait::Yield => {
                if !conn.queued {
                    conn.queued = true;
                    self.again.push(token);
                }
                if let Some(kind @ (Kind::Body | Kind::Write)) = self.timers.kind(slot) {
                    if progress {
                        self.timers.start(slot, kind, now);
                    }
                }
                return;
            }
            Wait::Write => (Kind::Write, progress),
            // Stopping: nothing is in flight on a connection that lingers after its last
            // response or waits for (the rest of) a request head.
            Wait::Linger | Wait::Input(Phase::Idle | Phase::Head) if stopping => {
                return self.close(slot)
            }
            Wait::Linger => (Kind::Linger, false),
            Wait::Input(Phase::Idle) if conn.served() == 0 => (Kind::FirstRequest, false),
            Wait::Input(Phase::Idle) => (Kind::KeepAlive, answered),
            Wait::Input(Phase::Head) => (Kind::Head, answered),
            Wait::Input(Phase::Body) => {
                let window = self.core.config.timeouts.body;
                if conn.body_too_slow(now, window, MIN_BODY_RATE) {
                    return self.drive(slot, now, Action::TimedOut);
                }
                (Kind::Body, progress)
            }
            // The server holds it up: the body timeout runs on, and when it passes the
            // client is told the server could not take its body (503).
            Wait::Memory => {
                if !conn.waiting_for_memory {
                    conn.waiting_for_memory = true;
                    self.waiting_for_memory.push(token);
                }
                (Kind::Body, false)
            }
            // No timeout while a handler runs: the client is waiting on us.
            Wait::Input(Phase::Answering) => return self.timers.cancel(slot),
        };
        if restart {
            self.timers.start(slot, kind, now);
        } else {
            self.timers.ensure(slot, kind, now);
        }
    }

    fn expire(&mut self, now: Instant) {
        if self.accept_paused_until.is_some_and(|t| t <= now) {
            self.accept_paused_until = None;
            if self.stop_deadline.is_none() {
                for (i, listener) in self.core.listeners.iter().enumerate() {
                    let token = LISTENERS - i as u64;
                    let _ = self
                        .epoll
                        .add(listener.fd.as_fd(), READABLE | EXCLUSIVE, token);
                }
            }
        }
        while let Some((slot, kind)) = self.timers.pop_expired(now) {
            match kind {
                // A head or body that is too slow gets its 408 before the close.
                Kind::Head | Kind::Body => self.drive(slot, now, Action::TimedOut),
                Kind::FirstRequest | Kind::KeepAlive | Kind::Write | Kind::Linger => {
                    self.close(slot)
                }
            }
        }
    }

    /// The server is stopping: accept nothing more, close connections that have no request
    /// in flight, and let the others finish (their responses will say `Connection: close`).
    fn begin_stop(&mut self, now: Instant) {
        if self.stop_deadline.is_some() {
            return;
        }
        self.stop_deadline = Some(now + self.core.config.timeouts.shutdown);
        self.unwatch_listeners();
        for slot in 0..self.conns.len() as u32 {
            if self.conns[slot as usize]
                .as_ref()
                .is_some_and(Connection::is_quiet)
            {
                self.close(slot);
            }
        }
    }

    fn close(&mut self, slot: u32) {
        if let Some(conn) = self.conns[slot as usize].as_mut() {
            conn.close_notify();
            // Shut down before the descriptor goes: a copy of it in a process forked from
            // this one would otherwise keep the connection open for the client.
            socket::shutdown(conn.socket(), Shutdown::Both);
        }
        self.drop_connection(slot);
    }

    /// Closes with a reset (see `Outcome::Reset`). No shutdown first: it would send the
    /// graceful end the reset is there to prevent.
    fn reset(&mut self, slot: u32) {
        if let Some(conn) = self.conns[slot as usize].as_ref() {
            socket::set_reset_on_close(conn.socket());
        }
        self.drop_connection(slot);
    }

    fn drop_connection(&mut self, slot: u32) {
        if let Some(conn) = self.conns[slot as usize].take() {
            drop(conn);
            self.timers.cancel(slot);
            self.generations[slot as usize] = self.generations[slot as usize].wrapping_add(1);
            self.free.push(slot);
            self.live -= 1;
            self.core.connections.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Worker {
    /// Connections still open when a worker ends (forced at the shutdown deadline, or the
    /// loop failing) are closed with it; the shared count must not keep them.
    fn drop(&mut self) {
        self.core
            .connections
            .fetch_sub(self.live, Ordering::Relaxed);
    }
}
