//! A seqlock holding a copy of the current token's bytes and freshness marks, for the one hot path that only
//! needs to copy the token out (`x8_get_token`). Readers take no lock, touch no reference count and no
//! thread-local storage: they read a sequence number, copy the words, and check the number did not move. The
//! bytes live in atomic words, so a reader racing a writer reads stale words (and retries), never undefined
//! memory. Writers are rare (one per token lifetime) and serialised by the cache's flight lock.
//!
//! The words are a copy of a live token, so on Unix they live in `DontDumpPages` like the token itself: kept out
//! of core dumps (Linux) and wiped when the slot is dropped. Elsewhere, or if mapping fails, they are on the heap
//! and zeroed on drop.

use std::mem::MaybeUninit;
use std::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};

#[cfg(unix)]
use crate::token::DontDumpPages;
use crate::token::MAX_TOKEN_LEN;

const WORDS: usize = MAX_TOKEN_LEN.div_ceil(8);

pub struct TokenSlot {
    seq: AtomicU64,
    len: AtomicUsize,
    refresh_at: AtomicU64,
    expires_at: AtomicU64,
    words: Words,
}

/// The token's words: in pages kept out of core dumps, or (off Unix, or when mapping fails) on the heap.
enum Words {
    #[cfg(unix)]
    Pages(DontDumpPages),
    Heap(Box<[AtomicU64]>),
}

impl Words {
    fn new() -> Words {
        #[cfg(unix)]
        if let Some(pages) = DontDumpPages::zeroed(WORDS * std::mem::size_of::<AtomicU64>()) {
            return Words::Pages(pages);
        }
        Words::Heap((0..WORDS).map(|_| AtomicU64::new(0)).collect())
    }

    #[inline]
    fn get(&self) -> &[AtomicU64] {
        match self {
            #[cfg(unix)]
            // SAFETY: the mapping is page-aligned (so aligned for AtomicU64), holds at least WORDS words, is
            // zero-filled (a valid AtomicU64 0), lives as long as `self`, and is only ever accessed atomically.
            Words::Pages(pages) => unsafe {
                std::slice::from_raw_parts(pages.as_ptr().cast::<AtomicU64>(), WORDS)
            },
            Words::Heap(words) => words,
        }
    }
}

impl Drop for Words {
    fn drop(&mut self) {
        // Pages wipe themselves; heap words are zeroed here (atomic stores are not elided as dead stores).
        match self {
            #[cfg(unix)]
            Words::Pages(_) => {}
            Words::Heap(words) => words.iter().for_each(|w| w.store(0, Ordering::Relaxed)),
        }
    }
}

/// What a reader found.
#[derive(Debug, PartialEq, Eq)]
pub enum SlotRead {
    /// No usable token: none published, or it has expired. Take the slow path.
    Empty,
    /// The token (`len` bytes) and a NUL were copied out; `stale` says renewal is due.
    Copied { len: usize, stale: bool },
    /// The token is `len` bytes and does not fit with its NUL; nothing was written.
    TooSmall { len: usize, stale: bool },
}

impl Default for TokenSlot {
    fn default() -> Self {
        TokenSlot {
            seq: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            refresh_at: AtomicU64::new(0),
            expires_at: AtomicU64::new(0),
            words: Words::new(),
        }
    }
}

impl TokenSlot {
    /// Publishes a token. Callers must serialise writers (the cache holds its flight lock).
    pub fn publish(&self, token: &[u8], refresh_at: u64, expires_at: u64) {
        debug_assert!(token.len() <= MAX_TOKEN_LEN);
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq + 1, Ordering::Relaxed); // odd: a write is in progress
        fence(Ordering::Release);
        for (i, chunk) in token.chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.words.get()[i].store(u64::from_ne_bytes(word), Ordering::Relaxed);
        }
        self.len.store(token.len(), Ordering::Relaxed);
        self.refresh_at.store(refresh_at, Ordering::Relaxed);
        self.expires_at.store(expires_at, Ordering::Relaxed);
        self.seq.store(seq + 2, Ordering::Release);
    }

    /// Empties the slot (the token was invalidated). Same serialisation as `publish`.
    pub fn clear(&self) {
        self.publish(&[], 0, 0);
    }

    /// Copies the token into `out` (with a NUL) if one is published and not expired at `now`.
    ///
    /// `out` is written only once a consistent read has been confirmed, and only for `Copied`: the words are
    /// first copied to a buffer on the stack, so a read that raced a writer (and is retried) never leaves a torn
    /// token in the caller's buffer, and `TooSmall` and `Empty` really mean "nothing written" even when an
    /// earlier attempt of the same call had copied half a token.
    #[inline]
    pub fn read_into(&self, now: u64, out: &mut [u8]) -> SlotRead {
        let mut copy = [MaybeUninit::<u64>::uninit(); WORDS];
        loop {
            let before = self.seq.load(Ordering::Acquire);
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let len = self.len.load(Ordering::Relaxed);
            let refresh_at = self.refresh_at.load(Ordering::Relaxed);
            let expires_at = self.expires_at.load(Ordering::Relaxed);
            let fits = len != 0 && len <= MAX_TOKEN_LEN && len < out.len();
            let words = if fits { len.div_ceil(8) } else { 0 };
            for (dst, word) in copy[..words].iter_mut().zip(self.words.get().iter()) {
                dst.write(word.load(Ordering::Relaxed));
            }
            // The data loads above must complete before the sequence is read again.
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != before {
                continue;
            }
            if len == 0 || now >= expires_at || len > MAX_TOKEN_LEN {
                return SlotRead::Empty;
            }
            let stale = now >= refresh_at;
            if !fits {
                return SlotRead::TooSmall { len, stale };
            }
            // SAFETY: the first `words` words of `copy` were written above and span `len` bytes (`words * 8 >=
            // len`); `out` holds more than `len` bytes (`fits`), and the two do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(copy.as_ptr().cast::<u8>(), out.as_mut_ptr(), len);
            }
            out[len] = 0;
            return SlotRead::Copied { len, stale };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn copies_fresh_tokens_and_reports_state() {
        let slot = TokenSlot::default();
        let mut buf = [0u8; 64];
        assert_eq!(slot.read_into(5, &mut buf), SlotRead::Empty);
        slot.publish(b"abcdefghijklmnopqrstuvwxyz12", 10, 20);
        assert_eq!(
            slot.read_into(5, &mut buf),
            SlotRead::Copied {
                len: 28,
                stale: false
            }
        );
        assert_eq!(&buf[..29], b"abcdefghijklmnopqrstuvwxyz12\0");
        assert_eq!(
            slot.read_into(10, &mut buf),
            SlotRead::Copied {
                len: 28,
                stale: true
            }
        );
        assert_eq!(slot.read_into(20, &mut buf), SlotRead::Empty);
        let mut small = [7u8; 28];
        assert_eq!(
            slot.read_into(5, &mut small),
            SlotRead::TooSmall {
                len: 28,
                stale: false
            }
        );
        assert!(small.iter().all(|b| *b == 7));
        slot.clear();
        assert_eq!(slot.read_into(5, &mut buf), SlotRead::Empty);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_tokens_copy_is_kept_out_of_core_dumps() {
        let slot = TokenSlot::default();
        slot.publish(b"a-live-token", u64::MAX, u64::MAX);
        let addr = slot.words.get().as_ptr() as usize;
        assert!(crate::token::is_marked_dont_dump(addr));
    }

    #[test]
    fn readers_never_see_a_torn_token() {
        let slot = Arc::new(TokenSlot::default());
        let tokens: Vec<Vec<u8>> = (0..4u8)
            .map(|i| vec![b'a' + i; 40 + usize::from(i) * 8])
            .collect();
        slot.publish(&tokens[0], u64::MAX, u64::MAX);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (slot, stop, tokens) = (slot.clone(), stop.clone(), tokens.clone());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 128];
                    let mut reads = 0u64;
                    while !stop.load(Ordering::Relaxed) || reads < 1000 {
                        if let SlotRead::Copied { len, .. } = slot.read_into(0, &mut buf) {
                            assert!(
                                tokens.iter().any(|t| t.as_slice() == &buf[..len]),
                                "torn read"
                            );
                            reads += 1;
                        }
                    }
                })
            })
            .collect();
        for i in 0..20_000 {
            slot.publish(&tokens[i % 4], u64::MAX, u64::MAX);
        }
        stop.store(true, Ordering::Relaxed);
        readers.into_iter().for_each(|r| r.join().unwrap());
    }

    /// Tokens that fit the reader's buffer alternate with ones that do not and with an empty slot: whenever the
    /// reader is told "too small" or "empty", its buffer must be exactly as it was, never half a token from an
    /// attempt that raced the writer.
    #[test]
    fn too_small_and_empty_leave_the_buffer_untouched_even_after_a_raced_attempt() {
        let slot = Arc::new(TokenSlot::default());
        let fits = vec![b'f'; 56];
        let too_long = vec![b'L'; 90];
        slot.publish(&fits, u64::MAX, u64::MAX);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (slot, stop) = (slot.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut untouched = 0u64;
                    while !stop.load(Ordering::Relaxed) || untouched < 1000 {
                        let mut buf = [0xEEu8; 64];
                        match slot.read_into(0, &mut buf) {
                            SlotRead::Copied { len, .. } => {
                                assert_eq!(len, 56);
                                assert!(
                                    buf[..len].iter().all(|b| *b == b'f') && buf[len] == 0,
                                    "torn read"
                                );
                            }
                            SlotRead::TooSmall { .. } | SlotRead::Empty => {
                                assert!(
                                    buf.iter().all(|b| *b == 0xEE),
                                    "a torn copy was left in the buffer"
                                );
                                untouched += 1;
                            }
                        }
                    }
                })
            })
            .collect();
        for i in 0..600_000 {
            match i % 3 {
                0 => slot.publish(&fits, u64::MAX, u64::MAX),
                1 => slot.publish(&too_long, u64::MAX, u64::MAX),
                _ => slot.clear(),
            }
        }
        stop.store(true, Ordering::Relaxed);
        readers.into_iter().for_each(|r| r.join().unwrap());
    }
}
