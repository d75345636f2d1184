//! Request content in memory, and the budget that bounds it across a whole server.
//!
//! A body grows as its bytes arrive, never from the length a client announces, and every
//! byte of capacity it holds is charged to its server's [`BodyBudget`] until the body is
//! emptied or dropped, on whichever thread that happens. So a client holds in memory only
//! what it has sent. Growing is fallible twice over: past the budget the caller waits
//! ([`Refused::Budget`], a pause, until [`BodyBudget::set_on_release`]'s callback says memory
//! came back), and when the allocator says no, or the body could never fit, the caller
//! answers 503 ([`Refused::Memory`]): no input can abort the process.
//!
//! Bodies waiting for memory while holding some could wait for one another forever (each
//! half-read, the budget full). The budget counts the bodies that hold memory and those of
//! them that wait: when every holder waits, no memory will come back, and the body that
//! found it so is refused (`Memory`), giving its memory to the others.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// What a server's bodies may hold in memory together.
pub struct BodyBudget {
    limit: usize,
    used: AtomicUsize,
    /// Bodies that hold memory, and how many of them wait for more.
    holders: AtomicUsize,
    waiting_holders: AtomicUsize,
    /// A body was refused since the last release: call `on_release` on the next one.
    waiting: AtomicBool,
    on_release: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl fmt::Debug for BodyBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyBudget")
            .field("limit", &self.limit)
            .field("used", &self.used())
            .finish()
    }
}

impl BodyBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<BodyBudget> {
        Arc::new(BodyBudget {
            limit,
            used: AtomicUsize::new(0),
            holders: AtomicUsize::new(0),
            waiting_holders: AtomicUsize::new(0),
            waiting: AtomicBool::new(false),
            on_release: OnceLock::new(),
        })
    }

    /// Sets what to call (on the releasing thread, so it must be quick and must not block)
    /// when memory comes back after a body was refused for want of it. Only the first call
    /// counts.
    pub fn set_on_release(&self, notify: impl Fn() + Send + Sync + 'static) {
        let _ = self.on_release.set(Box::new(notify));
    }

    /// Bytes charged now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    fn try_take(&self, n: usize) -> bool {
        let take = |used: usize| used.checked_add(n).filter(|&total| total <= self.limit);
        if self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, take)
            .is_ok()
        {
            return true;
        }
        // Say that someone waits, then look again: a release between the two sees the flag
        // (and notifies), or happened before the second look (which then succeeds).
        self.waiting.store(true, Ordering::SeqCst);
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, take)
            .is_ok()
    }

    fn give(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.used.fetch_sub(n, Ordering::SeqCst);
        if self.waiting.swap(false, Ordering::SeqCst) {
            if let Some(notify) = self.on_release.get() {
                notify();
            }
        }
    }
}

/// Why a body could not grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The server's bodies hold their whole budget: wait until some memory comes back.
    Budget,
    /// The memory will not come: the allocator refused it, the body is larger than the
    /// whole budget, or every body holding memory is waiting for more.
    Memory,
}

/// The content of one request; see the module docs.
#[derive(Debug, Default)]
pub struct Body {
    bytes: Vec<u8>,
    budget: Option<Arc<BodyBudget>>,
    /// Bytes of capacity charged to the budget.
    charged: usize,
    /// Counted among the budget's waiting holders.
    waiting: bool,
}

/// Capacity grows by doubling up to this step, then by this step: large bodies do not
/// hold much more than they have received.
const GROWTH_STEP: usize = 4 << 20;

impl Body {
    /// A body charged to no budget.
    pub fn new() -> Body {
        Body::default()
    }

    /// A body charged to `budget`.
    pub fn charged_to(budget: Option<Arc<BodyBudget>>) -> Body {
        Body {
            bytes: Vec::new(),
            budget,
            charged: 0,
            waiting: false,
        }
    }

    /// Charges the (empty) body to `budget` from now on; nothing changes if it already is.
    pub fn charge_to(&mut self, budget: &Option<Arc<BodyBudget>>) {
        let same = match (&self.budget, budget) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.release();
            self.budget = budget.clone();
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Appends `data`, growing the buffer by what it needs (and a bounded margin). Nothing
    /// is appended when it fails.
    pub fn try_extend(&mut self, data: &[u8]) -> Result<(), Refused> {
        let needed = self.bytes.len().saturating_add(data.len());
        if needed > self.bytes.capacity() {
            let cap = self.bytes.capacity();
            let target = needed.max(cap.saturating_add(cap.clamp(4096, GROWTH_STEP)));
            let grown = match self.grow_to(target) {
                Err(_) if target > needed => self.grow_to(needed),
                grown => grown,
            };
            self.note_waiting(grown == Err(Refused::Budget));
            if grown == Err(Refused::Budget) && self.deadlocked() {
                self.note_waiting(false);
                return Err(Refused::Memory);
            }
            grown?;
        }
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    fn grow_to(&mut self, capacity: usize) -> Result<(), Refused> {
        let extra = capacity - self.bytes.capacity();
        if let Some(budget) = &self.budget {
            if capacity > budget.limit {
                return Err(Refused::Memory);
            }
            if !budget.try_take(extra) {
                return Err(Refused::Budget);
            }
        }
        let len = self.bytes.len();
        if self.bytes.try_reserve_exact(capacity - len).is_err() {
            if let Some(budget) = &self.budget {
                budget.give(extra);
            }
            return Err(Refused::Memory);
        }
        // RawVec records the capacity asked for, so this is what is charged.
        self.set_charged(self.charged + extra);
        Ok(())
    }

    /// Keeps the budget's count of holders right as the charge changes.
    fn set_charged(&mut self, charged: usize) {
        if let Some(budget) = &self.budget {
            match (self.charged, charged) {
                (0, n) if n > 0 => {
                    budget.holders.fetch_add(1, Ordering::SeqCst);
                }
                (n, 0) if n > 0 => {
                    budget.holders.fetch_sub(1, Ordering::SeqCst);
                }
                _ => {}
            }
        }
        self.charged = charged;
    }

    /// Counts this body among the waiting holders, or not; a body holding nothing does not
    /// count.
    fn note_waiting(&mut self, waiting: bool) {
        let waiting = waiting && self.charged > 0;
        if waiting == self.waiting {
            return;
        }
        if let Some(budget) = &self.budget {
            if waiting {
                budget.waiting_holders.fetch_add(1, Ordering::SeqCst);
            } else {
                budget.waiting_holders.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.waiting = waiting;
    }

    /// Whether every body holding memory waits for more: then none will give any back.
    fn deadlocked(&self) -> bool {
        self.budget.as_ref().is_some_and(|b| {
            let holders = b.holders.load(Ordering::SeqCst);
            holders > 0 && b.waiting_holders.load(Ordering::SeqCst) >= holders
        })
    }

    /// Empties the body and gives all its memory back, with its charge: an answered
    /// request keeps none (the next one starts from nothing, as an idle connection does).
    pub fn clear(&mut self) {
        self.release();
    }

    /// See [`Body::clear`].
    pub fn release(&mut self) {
        self.note_waiting(false);
        crate::sys::memory::freed(self.bytes.capacity());
        self.bytes = Vec::new();
        if let Some(budget) = &self.budget {
            budget.give(self.charged);
        }
        self.set_charged(0);
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_charged_while_they_hold_memory() {
        let budget = BodyBudget::new(256 * 1024);
        let mut a = Body::charged_to(Some(budget.clone()));
        a.try_extend(&[1; 100 * 1024]).unwrap();
        assert!(budget.used() >= 100 * 1024);
        let mut b = Body::charged_to(Some(budget.clone()));
        assert_eq!(b.try_extend(&[2; 200 * 1024]), Err(Refused::Budget));
        assert!(b.is_empty());
        let mut never = Body::charged_to(Some(budget.clone()));
        assert_eq!(never.try_extend(&[3; 300 * 1024]), Err(Refused::Memory));
        let released = Arc::new(AtomicUsize::new(0));
        let seen = released.clone();
        budget.set_on_release(move || {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        drop(a);
        assert_eq!(budget.used(), 0);
        assert_eq!(released.load(Ordering::SeqCst), 1, "the waiter was told");
        b.try_extend(&[2; 200 * 1024]).unwrap();
        assert_eq!(b.len(), 200 * 1024);
        b.clear();
        assert_eq!(budget.used(), 0, "an emptied body gives its memory back");
    }

    #[test]
    fn when_every_holder_waits_the_last_to_wait_gives_way() {
        let budget = BodyBudget::new(100 * 1024);
        let mut a = Body::charged_to(Some(budget.clone()));
        let mut b = Body::charged_to(Some(budget.clone()));
        a.try_extend(&[1; 50 * 1024]).unwrap();
        b.try_extend(&[2; 40 * 1024]).unwrap();
        // a waits: b holds memory and may still finish.
        assert_eq!(a.try_extend(&[1; 30 * 1024]), Err(Refused::Budget));
        // b waits too: nothing would ever come back, so b is refused for good.
        assert_eq!(b.try_extend(&[2; 30 * 1024]), Err(Refused::Memory));
        b.release();
        a.try_extend(&[1; 30 * 1024]).unwrap();
        assert_eq!(a.len(), 80 * 1024);
        drop(a);
        assert_eq!(
            (budget.used(), budget.holders.load(Ordering::SeqCst)),
            (0, 0)
        );
        assert_eq!(budget.waiting_holders.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn an_allocation_the_system_refuses_is_an_error() {
        let mut body = Body::new();
        body.try_extend(b"x").unwrap();
        // More than any address space: the allocator refuses, nothing aborts.
        let huge = usize::MAX / 2;
        assert_eq!(body.grow_to(huge), Err(Refused::Memory));
        assert_eq!(body.as_slice(), b"x");
    }
}
