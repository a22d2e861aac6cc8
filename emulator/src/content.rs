//! Deterministic pseudo-random object content, generated as it is sent: a 200 MB recording costs
//! no memory, and every download of it is the same bytes, so a test can check a hash.

use bytes::Bytes;

/// Bytes per generated chunk: big enough to keep per-chunk overhead small, small enough that a
/// slow reader holds little.
const CHUNK: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Content {
    pub(crate) seed: u64,
    pub(crate) len: u64,
}

impl Content {
    /// The content named by `name` (an object id): the same name always gives the same bytes.
    pub(crate) fn named(name: &str, len: u64) -> Content {
        Content {
            seed: fnv1a(name.as_bytes()),
            len,
        }
    }

    pub(crate) fn chunks(self) -> Chunks {
        Chunks {
            content: self,
            offset: 0,
        }
    }

    /// SHA-256 of the whole content, hex; reads it all, so large objects take a while.
    pub(crate) fn sha256_hex(self) -> String {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for chunk in self.chunks() {
            ctx.update(&chunk);
        }
        hex(ctx.finish().as_ref())
    }
}

pub(crate) struct Chunks {
    content: Content,
    offset: u64,
}

impl Iterator for Chunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        let left = self.content.len - self.offset;
        if left == 0 {
            return None;
        }
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(CHUNK);
        // Chunks start on 8-byte blocks (CHUNK is a multiple of 8), so block k is always the
        // same 8 bytes wherever a chunk boundary falls.
        let first_block = self.offset / 8;
        let mut out = Vec::with_capacity(n + 8);
        for k in 0..(n as u64).div_ceil(8) {
            out.extend_from_slice(&splitmix64(self.content.seed ^ (first_block + k)).to_le_bytes());
        }
        out.truncate(n);
        self.offset += n as u64;
        Some(Bytes::from(out))
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A bulk download's name, `<uuid>.zip` as storage makes them.
pub(crate) fn random_zip_name() -> String {
    format!("{}.zip", crate::state::random_uuid())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_has_its_length_and_is_repeatable() {
        for len in [0, 1, 7, 8, 9, CHUNK as u64, CHUNK as u64 * 3 + 5] {
            let c = Content::named("obj", len);
            let a: Vec<u8> = c.chunks().flat_map(|b| b.to_vec()).collect();
            assert_eq!(a.len() as u64, len);
            let b: Vec<u8> = c.chunks().flat_map(|b| b.to_vec()).collect();
            assert_eq!(a, b);
        }
        let x: Vec<u8> = Content::named("a", 64)
            .chunks()
            .flat_map(|b| b.to_vec())
            .collect();
        let y: Vec<u8> = Content::named("b", 64)
            .chunks()
            .flat_map(|b| b.to_vec())
            .collect();
        assert_ne!(x, y);
    }

    #[test]
    fn sha256_of_nothing() {
        assert_eq!(
            Content::named("x", 0).sha256_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
