//! Opening files under a root directory without ever leaving it.

use std::ffi::{CStr, CString};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::cvt;

/// Flags for opening a file to serve. O_NONBLOCK keeps a FIFO from blocking the open;
/// O_NOCTTY keeps a terminal from becoming the process's controlling terminal. The caller
/// checks the file type afterwards.
const OPEN_FLAGS: i32 = libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY;

/// Set once openat2(2) answered ENOSYS (a kernel before 5.6, or valgrind), so the
/// fallback is used without asking again.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Opens `path` as a directory handle (O_PATH) to resolve file names against.
pub fn open_root(path: &Path) -> io::Result<OwnedFd> {
    let dir = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(path)?;
    Ok(OwnedFd::from(dir))
}

/// Opens `relative` for reading under `root`, never resolving to anything outside it.
///
/// With openat2(2) and RESOLVE_BENEATH the kernel refuses (EXDEV) any resolution that
/// leaves `root`, whether by `..`, an absolute path, or a symlink pointing outside;
/// RESOLVE_NO_MAGICLINKS refuses /proc-style links. Where openat2 does not exist, the path
/// is walked one component at a time with O_NOFOLLOW: `.` and `..` components are refused
/// (EXDEV) and so is every symlink (ELOOP), even one that would stay inside.
pub fn open_beneath(root: BorrowedFd<'_>, relative: &CStr) -> io::Result<File> {
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        match openat2_beneath(root, relative) {
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                NO_OPENAT2.store(true, Ordering::Relaxed);
            }
            result => return result,
        }
    }
    open_walking(root, relative)
}

fn openat2_beneath(root: BorrowedFd<'_>, relative: &CStr) -> io::Result<File> {
    // SAFETY: open_how is plain data for which all-zero bytes are valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = OPEN_FLAGS as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: `relative` is NUL-terminated, `how` is a valid open_how of the size passed,
    // and `root` is an open descriptor for the duration of the call.
    let raw = cvt(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            relative.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })?;
    // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(raw as i32) })
}

/// The fallback of [`open_beneath`]: each directory on the way is opened with O_PATH and
/// O_NOFOLLOW relative to the one before, so nothing but plain names under `root` is ever
/// followed.
fn open_walking(root: BorrowedFd<'_>, relative: &CStr) -> io::Result<File> {
    let bytes = relative.to_bytes();
    if bytes == b"." {
        return openat(root, c".", OPEN_FLAGS).map(File::from);
    }
    let segments: Vec<&[u8]> = bytes.split(|&b| b == b'/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == b"." || *s == b"..")
    {
        return Err(io::Error::from_raw_os_error(libc::EXDEV));
    }
    let (last, dirs) = segments
        .split_last()
        .expect("split yields at least one segment");
    let mut current: Option<OwnedFd> = None;
    for dir in dirs {
        let at = current.as_ref().map_or(root, |fd| fd.as_fd());
        let name = CString::new(*dir).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        current = Some(openat(at, &name, flags)?);
    }
    let at = current.as_ref().map_or(root, |fd| fd.as_fd());
    let name = CString::new(*last).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    openat(at, &name, OPEN_FLAGS | libc::O_NOFOLLOW).map(File::from)
}

/// One entry of a directory: its name and whether it is a directory itself (a symlink
/// counts as what it is, not what it points to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: Vec<u8>,
    pub is_dir: bool,
}

/// Reads the entries of the directory open as `dir` (consumed), without `.` and `..`.
pub fn read_dir(dir: File) -> io::Result<Vec<DirEntry>> {
    let fd = std::os::fd::IntoRawFd::into_raw_fd(dir);
    // SAFETY: `fd` is an open directory descriptor whose ownership passes to the DIR stream.
    let stream = unsafe { libc::fdopendir(fd) };
    if stream.is_null() {
        let err = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so `fd` is still ours to close.
        unsafe { libc::close(fd) };
        return Err(err);
    }
    let mut entries = Vec::new();
    loop {
        // SAFETY: `stream` is a live DIR stream; readdir returns NULL at the end.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        // SAFETY: readdir returned a valid dirent whose d_name is NUL-terminated and stays
        // valid until the next readdir on this stream.
        let (name, kind) = unsafe {
            (
                CStr::from_ptr((*entry).d_name.as_ptr()).to_bytes().to_vec(),
                (*entry).d_type,
            )
        };
        if name == b"." || name == b".." {
            continue;
        }
        let is_dir = match kind {
            libc::DT_DIR => true,
            libc::DT_UNKNOWN => {
                // Some file systems do not fill d_type: ask, without following links.
                // SAFETY: `stream` is live, so dirfd gives its open descriptor.
                let dirfd = unsafe { libc::dirfd(stream) };
                let c_name = CString::new(name.clone()).unwrap_or_default();
                let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
                // SAFETY: `dirfd` is open, `c_name` NUL-terminated, `stat` writable.
                let ret = unsafe {
                    libc::fstatat(
                        dirfd,
                        c_name.as_ptr(),
                        stat.as_mut_ptr(),
                        libc::AT_SYMLINK_NOFOLLOW,
                    )
                };
                // SAFETY: fstatat filled `stat` when it returned 0.
                ret == 0 && unsafe { stat.assume_init() }.st_mode & libc::S_IFMT == libc::S_IFDIR
            }
            _ => false,
        };
        entries.push(DirEntry { name, is_dir });
    }
    // SAFETY: `stream` is live and closed exactly once; this also closes `fd`.
    unsafe { libc::closedir(stream) };
    Ok(entries)
}

fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> io::Result<OwnedFd> {
    // SAFETY: `name` is NUL-terminated and `dir` is open for the duration of the call.
    let raw = cvt(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) })?;
    // SAFETY: openat returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walking_fallback_stays_beneath_the_root() {
        let base = std::env::temp_dir().join(format!("roost-walk-{}", std::process::id()));
        let root_path = base.join("root");
        std::fs::create_dir_all(root_path.join("dir")).unwrap();
        std::fs::write(root_path.join("dir/file.txt"), b"inside").unwrap();
        std::fs::write(base.join("outside.txt"), b"outside").unwrap();
        std::os::unix::fs::symlink("../outside.txt", root_path.join("out")).unwrap();
        std::os::unix::fs::symlink("dir/file.txt", root_path.join("in")).unwrap();
        let root = open_root(&root_path).unwrap();
        let open = |name: &CStr| open_walking(root.as_fd(), name);
        let text = std::io::read_to_string(open(c"dir/file.txt").unwrap()).unwrap();
        assert_eq!(text, "inside");
        assert!(open(c".").unwrap().metadata().unwrap().is_dir());
        for refused in [
            c"../outside.txt",
            c"dir/../../outside.txt",
            c"out",
            c"in",
            c"/etc/passwd",
            c"dir//file.txt",
        ] {
            assert!(open(refused).is_err(), "{refused:?}");
        }
        std::fs::remove_dir_all(&base).unwrap();
    }
}
