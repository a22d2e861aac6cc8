//! Text that must not outlive its use or leave the process: an access token, the client secret, the Basic
//! credentials. It lives in pages of its own, mapped for it alone, which are marked to be left out of core
//! dumps (`MADV_DONTDUMP`, Linux; elsewhere `madvise` is not asked and the text is only wiped) and wiped
//! before they are unmapped. One copy, in one place: callers borrow it as `&str`.
//!
//! A core dump of a process using x8 (a crash, `gcore`, an `abrt` report sent to a vendor) would otherwise
//! carry the API secret and a live token to whoever reads it.

use std::fmt;
#[cfg(unix)]
use std::ptr::NonNull;
use zeroize::Zeroize;

/// Zeroed memory in pages of its own, mapped for one owner, kept out of core dumps (`MADV_DONTDUMP`, Linux) and
/// wiped before it is unmapped. `SecretText` keeps its bytes here, and the cache's token slot (the copy
/// `x8_get_token` reads) its words, so neither a secret nor a token is in a core dump.
#[cfg(unix)]
pub struct DontDumpPages {
    ptr: NonNull<u8>,
    mapped: usize,
}

// SAFETY: the mapping is owned by this value alone; what is shared through it is the owner's business (bytes
// written once before sharing, or atomics).
#[cfg(unix)]
unsafe impl Send for DontDumpPages {}
#[cfg(unix)]
unsafe impl Sync for DontDumpPages {}

#[cfg(unix)]
impl DontDumpPages {
    /// At least `len` zeroed bytes, page-aligned; None when the mapping fails (then the caller uses the heap).
    pub fn zeroed(len: usize) -> Option<DontDumpPages> {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
            .ok()
            .filter(|p| *p > 0)?;
        let mapped = len.max(1).div_ceil(page) * page;
        // SAFETY: an anonymous private mapping of `mapped` bytes; checked for failure below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: the range is exactly the mapping just made. A failure (an old kernel) leaves the pages
        // dumpable but changes nothing else.
        unsafe {
            libc::madvise(ptr, mapped, libc::MADV_DONTDUMP);
        }
        NonNull::new(ptr.cast()).map(|ptr| DontDumpPages { ptr, mapped })
    }

    /// The start of the mapping (page-aligned, so aligned for any atomic).
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

#[cfg(unix)]
impl Drop for DontDumpPages {
    fn drop(&mut self) {
        // SAFETY: the whole mapping is ours and writable, and no borrow of it outlives `self`; volatile-zeroed
        // through zeroize so the wipe is not optimised away, then unmapped exactly as mapped.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.mapped).zeroize();
            libc::munmap(self.ptr.as_ptr().cast(), self.mapped);
        }
    }
}

/// Where the bytes are: their own pages, or (when mapping fails, or off Unix) the heap, wiped on drop.
enum Storage {
    #[cfg(unix)]
    Pages(DontDumpPages),
    Heap(Vec<u8>),
}

pub struct SecretText {
    storage: Storage,
    len: usize,
}

impl SecretText {
    /// A copy of `text` in pages of its own. The caller wipes its own copy.
    pub fn new(text: &str) -> SecretText {
        let len = text.len();
        #[cfg(unix)]
        if let Some(pages) = DontDumpPages::zeroed(len) {
            // SAFETY: the mapping holds at least `len` writable bytes and does not overlap `text`.
            unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), pages.as_ptr(), len) };
            return SecretText {
                storage: Storage::Pages(pages),
                len,
            };
        }
        SecretText {
            storage: Storage::Heap(text.as_bytes().to_vec()),
            len,
        }
    }

    pub fn as_str(&self) -> &str {
        let bytes = match &self.storage {
            #[cfg(unix)]
            // SAFETY: `len` bytes were copied in from a `&str` and are never written again until drop.
            Storage::Pages(pages) => unsafe {
                std::slice::from_raw_parts(pages.as_ptr(), self.len)
            },
            Storage::Heap(v) => &v[..self.len],
        };
        // SAFETY: the bytes are a copy of a `&str`, unchanged.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Whether the text lives in pages kept out of core dumps (for the test that checks it).
    #[cfg(test)]
    fn is_in_own_pages(&self) -> bool {
        #[cfg(unix)]
        if let Storage::Pages(_) = self.storage {
            return true;
        }
        false
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        // Pages wipe themselves when dropped.
        match &mut self.storage {
            #[cfg(unix)]
            Storage::Pages(_) => {}
            Storage::Heap(v) => v.zeroize(),
        }
    }
}

impl Clone for SecretText {
    fn clone(&self) -> SecretText {
        SecretText::new(self.as_str())
    }
}

impl PartialEq for SecretText {
    fn eq(&self, other: &SecretText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::ops::Deref for SecretText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// Never the text.
impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Whether the mapping holding `addr` has the kernel's "dd" (do not dump) flag, from /proc/self/smaps: for the
/// tests of everything kept in `DontDumpPages`.
#[cfg(all(test, target_os = "linux"))]
pub(crate) fn is_marked_dont_dump(addr: usize) -> bool {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut in_range = false;
    for line in smaps.lines() {
        if let Some((range, _)) = line.split_once(' ') {
            if let Some((lo, hi)) = range.split_once('-') {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    in_range = (lo..hi).contains(&addr);
                    continue;
                }
            }
        }
        if in_range && line.starts_with("VmFlags:") {
            return line.split_whitespace().any(|f| f == "dd");
        }
    }
    panic!("no mapping in /proc/self/smaps holds {addr:#x}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_text_in_its_own_pages_and_never_shows_it() {
        let s = SecretText::new("tok-123");
        assert_eq!(s.as_str(), "tok-123");
        assert_eq!(&*s.clone(), "tok-123");
        assert_eq!(format!("{s:?}"), "[redacted]");
        // Own pages on Unix; elsewhere the heap, wiped on drop.
        assert_eq!(s.is_in_own_pages(), cfg!(unix));
        let empty = SecretText::new("");
        assert_eq!(empty.as_str(), "");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn its_pages_are_marked_dont_dump() {
        let s = SecretText::new("dont-dump-me");
        assert!(is_marked_dont_dump(s.as_str().as_ptr() as usize));
        // And the check can fail: ordinary memory is dumped.
        let heap = Box::new([1u8; 64]); // heap memory, dumped
        assert!(!is_marked_dont_dump(heap.as_ptr() as usize));
    }
}
