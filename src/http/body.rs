//! Request content in memory, and the budget that bounds it across a whole server.
//!
//! A body grows as its bytes arrive, never from the length a client announces, and every
//! byte of capacity it holds is charged to its server's [`BodyBudget`] until the body is
//! dropped (or emptied), on whichever thread that happens. Growing is fallible twice over:
//! past the budget the caller waits ([`Refused::Budget`], a pause), and when the allocator
//! says no the caller answers 503 ([`Refused::Memory`]): no input can abort the process.
//!
//! A body of announced length first reserves its whole length in the budget (only the
//! budget: memory is still taken as bytes arrive), all or nothing, before any byte is read:
//! bodies that each held part of the budget while waiting for more could otherwise wait
//! for one another until all of them timed out.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// What a server's bodies may hold in memory together.
pub struct BodyBudget {
    limit: usize,
    used: AtomicUsize,
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
    /// The allocator refused the memory.
    Memory,
}

/// The content of one request; see the module docs.
#[derive(Debug, Default)]
pub struct Body {
    bytes: Vec<u8>,
    budget: Option<Arc<BodyBudget>>,
    /// Bytes charged to the budget: at least the capacity, more once reserved.
    charged: usize,
}

/// Capacity grows by doubling up to this step, then by this step: large bodies do not
/// reserve much more than they hold.
const GROWTH_STEP: usize = 4 << 20;

/// Past this capacity, an emptied body gives its memory back instead of keeping it for the
/// next request.
const KEEP_CAPACITY: usize = 4096;

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
    /// is appended when it fails. A body larger than the whole budget could never fit: that
    /// is `Memory` at once, not a wait.
    pub fn try_extend(&mut self, data: &[u8]) -> Result<(), Refused> {
        let needed = self.bytes.len().saturating_add(data.len());
        if needed > self.bytes.capacity() {
            let cap = self.bytes.capacity();
            let target = needed.max(cap.saturating_add(cap.clamp(4096, GROWTH_STEP)));
            self.grow_to(target).or_else(|_| self.grow_to(needed))?;
        }
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    /// Charges the budget for `total` bytes in all, taking what is not charged yet, all or
    /// nothing. A total past the whole budget could never be charged: `Memory`.
    pub fn reserve(&mut self, total: usize) -> Result<(), Refused> {
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        if total > budget.limit {
            return Err(Refused::Memory);
        }
        let extra = total.saturating_sub(self.charged);
        if !budget.try_take(extra) {
            return Err(Refused::Budget);
        }
        self.charged += extra;
        Ok(())
    }

    fn grow_to(&mut self, capacity: usize) -> Result<(), Refused> {
        let before = self.charged;
        self.reserve(capacity)?;
        let len = self.bytes.len();
        if self.bytes.try_reserve_exact(capacity - len).is_err() {
            self.uncharge(self.charged - before);
            return Err(Refused::Memory);
        }
        Ok(())
    }

    fn uncharge(&mut self, n: usize) {
        if let Some(budget) = &self.budget {
            budget.give(n);
        }
        self.charged -= n;
    }

    /// Empties the body; a large buffer goes back to the allocator rather than waiting for
    /// the next request, and what is charged beyond the capacity kept goes back to the
    /// budget.
    pub fn clear(&mut self) {
        self.bytes.clear();
        if self.bytes.capacity() > KEEP_CAPACITY {
            self.release();
        } else {
            self.uncharge(self.charged - self.bytes.capacity());
        }
    }

    /// Empties the body and gives all its memory back, with its charge.
    pub fn release(&mut self) {
        crate::sys::memory::freed(self.bytes.capacity());
        self.bytes = Vec::new();
        self.uncharge(self.charged);
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
        assert_eq!(
            budget.used(),
            0,
            "a large buffer is given back when emptied"
        );
    }

    #[test]
    fn a_reservation_is_all_or_nothing_and_covers_the_growth() {
        let budget = BodyBudget::new(100 * 1024);
        let mut a = Body::charged_to(Some(budget.clone()));
        a.reserve(60 * 1024).unwrap();
        assert_eq!(budget.used(), 60 * 1024);
        let mut b = Body::charged_to(Some(budget.clone()));
        assert_eq!(b.reserve(60 * 1024), Err(Refused::Budget));
        assert_eq!(
            budget.used(),
            60 * 1024,
            "nothing taken by a failed reservation"
        );
        a.try_extend(&[1; 60 * 1024]).unwrap();
        assert_eq!(
            budget.used(),
            60 * 1024,
            "growth within the reservation is free"
        );
        a.clear();
        assert_eq!(budget.used(), 0);
        assert_eq!(b.reserve(200 * 1024), Err(Refused::Memory));
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
