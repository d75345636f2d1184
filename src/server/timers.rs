//! Connection timeouts: one FIFO queue per kind of timeout.
//!
//! Every timeout of one kind has the same duration, so a connection that (re)starts a
//! timeout always has the latest deadline of its queue and goes to the tail; the earliest
//! deadline is always at the head. Each queue is a doubly linked list threaded through a
//! node per connection slot, so starting, moving and cancelling a timeout are O(1), and
//! finding expired ones touches only expired connections (the scheme lwan uses).

use std::time::{Duration, Instant};

/// The kinds of timeout, one queue each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A new connection waiting for its first request.
    FirstRequest,
    /// Between requests on a persistent connection.
    KeepAlive,
    /// A request head in progress.
    Head,
    /// Request content in progress.
    Body,
    /// Output waiting for the client to read.
    Write,
    /// Draining input before a graceful close.
    Linger,
}

const KINDS: usize = 6;
const NIL: u32 = u32::MAX;

impl Kind {
    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Copy, Debug)]
struct Node {
    kind: Option<Kind>,
    prev: u32,
    next: u32,
    deadline: Instant,
}

/// See the module docs.
pub struct Timers {
    durations: [Duration; KINDS],
    head: [u32; KINDS],
    tail: [u32; KINDS],
    nodes: Vec<Node>,
}

impl Timers {
    /// `durations` in the order of [`Kind`].
    pub fn new(durations: [Duration; KINDS]) -> Timers {
        Timers {
            durations,
            head: [NIL; KINDS],
            tail: [NIL; KINDS],
            nodes: Vec::new(),
        }
    }

    /// The kind of timeout running for `slot`, if any.
    pub fn kind(&self, slot: u32) -> Option<Kind> {
        self.nodes.get(slot as usize).and_then(|n| n.kind)
    }

    /// Starts (or restarts) a timeout of `kind` for `slot`, from `now`.
    pub fn start(&mut self, slot: u32, kind: Kind, now: Instant) {
        self.cancel(slot);
        let i = slot as usize;
        if self.nodes.len() <= i {
            let unused = Node {
                kind: None,
                prev: NIL,
                next: NIL,
                deadline: now,
            };
            self.nodes.resize(i + 1, unused);
        }
        let k = kind.index();
        let deadline = now + self.durations[k];
        let old_tail = self.tail[k];
        self.nodes[i] = Node {
            kind: Some(kind),
            prev: old_tail,
            next: NIL,
            deadline,
        };
        if old_tail == NIL {
            self.head[k] = slot;
        } else {
            self.nodes[old_tail as usize].next = slot;
        }
        self.tail[k] = slot;
    }

    /// Starts a timeout of `kind` unless one of that kind is already running.
    pub fn ensure(&mut self, slot: u32, kind: Kind, now: Instant) {
        if self.kind(slot) != Some(kind) {
            self.start(slot, kind, now);
        }
    }

    /// Stops whatever timeout runs for `slot`.
    pub fn cancel(&mut self, slot: u32) {
        let Some(node) = self.nodes.get_mut(slot as usize) else {
            return;
        };
        let Some(kind) = node.kind.take() else {
            return;
        };
        let (prev, next) = (node.prev, node.next);
        let k = kind.index();
        if prev == NIL {
            self.head[k] = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail[k] = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
    }

    /// The earliest deadline of all running timeouts.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.head
            .iter()
            .filter(|&&slot| slot != NIL)
            .map(|&slot| self.nodes[slot as usize].deadline)
            .min()
    }

    /// Removes and returns one timeout that has expired at `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<(u32, Kind)> {
        for k in 0..KINDS {
            let slot = self.head[k];
            if slot != NIL && self.nodes[slot as usize].deadline <= now {
                let kind = self.nodes[slot as usize].kind?;
                self.cancel(slot);
                return Some((slot, kind));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_expire_in_order_and_cancel() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut timers = Timers::new([s, 2 * s, s, s, s, s]);
        timers.start(3, Kind::Head, t0);
        timers.start(1, Kind::Head, t0 + s / 2);
        timers.start(2, Kind::KeepAlive, t0);
        timers.start(4, Kind::Head, t0 + s / 2);
        timers.cancel(1);
        assert_eq!(timers.next_deadline(), Some(t0 + s));
        assert_eq!(timers.pop_expired(t0 + s / 2), None);
        assert_eq!(timers.pop_expired(t0 + s), Some((3, Kind::Head)));
        assert_eq!(timers.pop_expired(t0 + s), None);
        // Restarting moves a slot to the tail.
        timers.start(4, Kind::Head, t0 + s);
        assert_eq!(timers.pop_expired(t0 + 2 * s), Some((2, Kind::KeepAlive)));
        assert_eq!(timers.pop_expired(t0 + 2 * s), Some((4, Kind::Head)));
        assert_eq!(timers.next_deadline(), None);
        timers.ensure(5, Kind::Write, t0);
        timers.ensure(5, Kind::Write, t0 + s);
        assert_eq!(timers.next_deadline(), Some(t0 + s));
    }
}
