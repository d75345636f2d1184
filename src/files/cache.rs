//! What the file server found under a name, kept by each thread for a short while.
//!
//! Finding a file costs system calls: an open under the root, an fstat, one more open for
//! each precompressed form looked for beside it, and formatting its fields. A busy server
//! is asked for the same few files many thousand times a second, so each thread keeps what
//! it found: the fields every response for the file carries, the validators, and the
//! content itself for small files (which then go out with the head in one write, with no
//! system call on the file at all). An entry is trusted for at most the mount's
//! revalidation interval (one second by default), then looked up afresh: a file changed on
//! disk is served changed within that interval, with validators that match what is sent.
//! Larger files are opened for each request and sent with sendfile; one that is no longer
//! the file the entry describes sends the server back to a fresh lookup.
//!
//! The cache is per thread, so looking up takes no lock, and bounded: at most
//! [`MAX_ENTRIES`] names and [`MAX_BYTES`] of content per thread; past either, entries older
//! than the interval go first, then a quarter of the rest, as often as needed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::Metadata;
use std::hash::{BuildHasherDefault, Hasher};
use std::os::unix::fs::MetadataExt;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::http::conditional::Validators;
use crate::sys::clock::coarse_now;

/// Content of files up to this size is kept in memory.
pub const MAX_CONTENT: u64 = 16 * 1024;
/// Names kept per thread.
const MAX_ENTRIES: usize = 1024;
/// Bytes of content kept per thread.
const MAX_BYTES: usize = 8 << 20;

/// What identifies one state of a file: a replaced or rewritten file differs in one of
/// these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Identity {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn of(meta: &Metadata) -> Identity {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }
}

/// One file a name can be answered with: the file itself or a precompressed form of it.
#[derive(Debug)]
pub struct Form {
    /// The content coding, for a precompressed form.
    pub coding: Option<&'static str>,
    /// The name under the root, to open it again.
    pub name: Vec<u8>,
    pub identity: Identity,
    pub validators: Validators,
    /// The field lines every response with this form carries, serialized.
    pub fields: Vec<u8>,
    /// Where the Content-Type line sits in `fields` (left out when a handler set its own).
    pub content_type: std::ops::Range<usize>,
    /// The whole content, for a small file.
    pub content: Option<Arc<[u8]>>,
}

/// What a name under a root was found to be: a regular file, with the precompressed forms
/// found beside it (the file itself first).
#[derive(Debug)]
pub struct Found {
    pub forms: Vec<Form>,
}

impl Found {
    fn content_bytes(&self) -> usize {
        self.forms
            .iter()
            .filter_map(|f| f.content.as_ref())
            .map(|c| c.len())
            .sum()
    }
}

struct Entry {
    /// When it was found, on the coarse clock.
    checked: Duration,
    found: Rc<Found>,
}

impl Entry {
    fn is_fresh(&self, now: Duration, validity: Duration) -> bool {
        now.saturating_sub(self.checked) < validity
    }
}

/// FNV-1a: names are short, and only names of files that exist get in, so a keyed hash
/// (std's SipHash, several times slower here) buys nothing.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Names = HashMap<Vec<u8>, Entry, BuildHasherDefault<Fnv>>;

/// The key of a name: the mount it is under, and whether it was asked for as a directory
/// (ending in `/`, answered with its index.html).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Scope {
    mount: u64,
    directory: bool,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<Scope, Names, BuildHasherDefault<Fnv>>,
    count: usize,
    bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// What this thread found for `name` under `mount` less than `validity` ago.
pub fn get(mount: u64, directory: bool, name: &[u8], validity: Duration) -> Option<Rc<Found>> {
    if validity.is_zero() {
        return None;
    }
    CACHE.with(|cache| {
        let cache = cache.borrow();
        let entry = cache.entries.get(&Scope { mount, directory })?.get(name)?;
        entry
            .is_fresh(coarse_now(), validity)
            .then(|| entry.found.clone())
    })
}

/// Keeps what was just found for `name` under `mount`, replacing what was kept before.
pub fn put(mount: u64, directory: bool, name: &[u8], validity: Duration, found: Rc<Found>) {
    if validity.is_zero() {
        return;
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let bytes = found.content_bytes();
        forget(&mut cache, mount, directory, name);
        if bytes > MAX_BYTES {
            return;
        }
        if cache.count >= MAX_ENTRIES || cache.bytes + bytes > MAX_BYTES {
            cache.evict(validity, bytes);
        }
        let entry = Entry {
            checked: coarse_now(),
            found,
        };
        cache.count += 1;
        cache.bytes += bytes;
        cache
            .entries
            .entry(Scope { mount, directory })
            .or_default()
            .insert(name.to_vec(), entry);
    })
}

/// Drops what this thread kept for `name` under `mount`: it no longer describes the file.
pub fn forget_name(mount: u64, directory: bool, name: &[u8]) {
    CACHE.with(|cache| forget(&mut cache.borrow_mut(), mount, directory, name));
}

fn forget(cache: &mut Cache, mount: u64, directory: bool, name: &[u8]) {
    let removed = cache
        .entries
        .get_mut(&Scope { mount, directory })
        .and_then(|names| names.remove(name));
    if let Some(entry) = removed {
        cache.count -= 1;
        cache.bytes -= entry.found.content_bytes();
    }
}

impl Cache {
    /// Makes room: entries past their interval first, then, while that is not enough, every
    /// fourth of the rest (of every mount alike, in hash-table order, which has nothing to
    /// do with how hot a name is). With more fresh names than fit, dropping a quarter keeps
    /// most of the cache hitting, where clearing it all would leave it empty every 1,024
    /// new names.
    fn evict(&mut self, validity: Duration, incoming: usize) {
        let now = coarse_now();
        for names in self.entries.values_mut() {
            names.retain(|_, entry| entry.is_fresh(now, validity));
        }
        self.recount();
        // `incoming` is at most MAX_BYTES (see `put`), so this ends by the time it is empty.
        while self.count >= MAX_ENTRIES || self.bytes + incoming > MAX_BYTES {
            let mut seen = 0usize;
            for names in self.entries.values_mut() {
                names.retain(|_, _| {
                    seen += 1;
                    seen % 4 != 1
                });
            }
            self.recount();
        }
        self.entries.retain(|_, names| !names.is_empty());
    }

    fn recount(&mut self) {
        let entries = self.entries.values().flat_map(|names| names.values());
        self.count = 0;
        self.bytes = 0;
        for entry in entries {
            self.count += 1;
            self.bytes += entry.found.content_bytes();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(size: usize) -> Rc<Found> {
        let meta = std::fs::metadata("Cargo.toml").unwrap();
        Rc::new(Found {
            forms: vec![Form {
                coding: None,
                name: b"Cargo.toml".to_vec(),
                identity: Identity::of(&meta),
                validators: Validators {
                    etag: b"\"x\"".as_slice().into(),
                    last_modified: 0,
                },
                fields: Vec::new(),
                content_type: 0..0,
                content: Some(vec![0u8; size].into()),
            }],
        })
    }

    #[test]
    fn entries_are_kept_per_mount_and_kind_for_their_interval() {
        let second = Duration::from_secs(1);
        put(1, false, b"a", second, found(10));
        assert!(get(1, false, b"a", second).is_some());
        assert!(get(2, false, b"a", second).is_none());
        assert!(get(1, true, b"a", second).is_none());
        forget_name(1, false, b"a");
        assert!(get(1, false, b"a", second).is_none());
        put(1, false, b"a", Duration::ZERO, found(10));
        assert!(get(1, false, b"a", second).is_none());
    }

    #[test]
    fn the_cache_stays_within_its_bounds() {
        let minute = Duration::from_secs(60);
        for i in 0..3 * MAX_ENTRIES {
            put(7, false, i.to_string().as_bytes(), minute, found(4096));
            CACHE.with(|cache| {
                let cache = cache.borrow();
                assert!(cache.count <= MAX_ENTRIES);
                assert!(cache.bytes <= MAX_BYTES);
            });
        }
        let last = (3 * MAX_ENTRIES - 1).to_string();
        assert!(get(7, false, last.as_bytes(), minute).is_some());
    }

    #[test]
    fn a_full_cache_keeps_most_of_its_entries() {
        let minute = Duration::from_secs(60);
        let name = |mount: u64, i: usize| format!("m{mount}-{i}");
        // Fresh names of two mounts, one more than fits: the cache drops a quarter of each
        // mount's names, not everything and not one mount's.
        for i in 0..MAX_ENTRIES / 2 {
            for mount in [8, 9] {
                put(mount, false, name(mount, i).as_bytes(), minute, found(16));
            }
        }
        put(8, false, b"one more", minute, found(16));
        for mount in [8, 9] {
            let hits = (0..MAX_ENTRIES / 2)
                .filter(|&i| get(mount, false, name(mount, i).as_bytes(), minute).is_some())
                .count();
            assert!(
                (MAX_ENTRIES / 2 * 5 / 8..MAX_ENTRIES / 2 * 7 / 8).contains(&hits),
                "mount {mount}: {hits} of {} left",
                MAX_ENTRIES / 2
            );
        }
        assert!(get(8, false, b"one more", minute).is_some());
        // Content counts too: at 8 MiB a quarter goes, not everything.
        let files = MAX_BYTES / (16 * 1024);
        for i in 0..files + 1 {
            put(10, false, name(10, i).as_bytes(), minute, found(16 * 1024));
        }
        let hits = (0..files + 1)
            .filter(|&i| get(10, false, name(10, i).as_bytes(), minute).is_some())
            .count();
        assert!(hits > files / 2, "{hits} of {files} left");
    }
}
