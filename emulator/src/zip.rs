//! A zip of generated objects, written as it is sent: entries are stored (not compressed), each
//! followed by a data descriptor carrying the CRC-32 computed while its bytes went out, so a
//! 2 GB bulk download needs no memory and its length is known up front. Hand-written (about a
//! hundred lines) rather than a zip crate, whose writers want a seekable file.

use crate::content::{Chunks, Content};
use bytes::Bytes;

const LOCAL_HEADER: u64 = 30;
const DESCRIPTOR: u64 = 16;
const CENTRAL_HEADER: u64 = 46;
const END_RECORD: u64 = 22;
/// Bit 3: sizes and CRC follow the data; bit 11: names are UTF-8.
const FLAGS: u16 = (1 << 3) | (1 << 11);
/// Without zip64, sizes and offsets must stay below 4 GiB; the bulk limit (2 GB) keeps them so.
pub(crate) const MAX_TOTAL: u64 = 2_000_000_000;

pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) content: Content,
}

/// The zip's exact size.
pub(crate) fn length(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| {
            let name = e.name.len() as u64;
            LOCAL_HEADER + name + e.content.len + DESCRIPTOR + CENTRAL_HEADER + name
        })
        .sum::<u64>()
        + END_RECORD
}

/// The zip's bytes in chunks.
pub(crate) fn stream(entries: Vec<Entry>) -> ZipStream {
    ZipStream {
        entries,
        next: 0,
        data: None,
        crc: 0,
        offset: 0,
        written: Vec::new(),
        finished: false,
    }
}

pub(crate) struct ZipStream {
    entries: Vec<Entry>,
    /// The entry whose header comes next.
    next: usize,
    /// The entry being written, with its local header's offset.
    data: Option<(Chunks, u64)>,
    crc: u32,
    offset: u64,
    /// (offset of the local header, CRC) of each entry written.
    written: Vec<(u64, u32)>,
    finished: bool,
}

impl Iterator for ZipStream {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        let out = self.produce()?;
        self.offset += out.len() as u64;
        Some(out)
    }
}

impl ZipStream {
    fn produce(&mut self) -> Option<Bytes> {
        if let Some((chunks, header_at)) = &mut self.data {
            if let Some(chunk) = chunks.next() {
                self.crc = crc32_update(self.crc, &chunk);
                return Some(chunk);
            }
            let entry = &self.entries[self.next - 1];
            let mut d = Vec::with_capacity(DESCRIPTOR as usize);
            d.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
            d.extend_from_slice(&self.crc.to_le_bytes());
            d.extend_from_slice(&(entry.content.len as u32).to_le_bytes());
            d.extend_from_slice(&(entry.content.len as u32).to_le_bytes());
            self.written.push((*header_at, self.crc));
            self.data = None;
            return Some(Bytes::from(d));
        }
        if let Some(entry) = self.entries.get(self.next) {
            self.next += 1;
            self.crc = 0;
            self.data = Some((entry.content.chunks(), self.offset));
            let mut h = Vec::new();
            h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            h.extend_from_slice(&20u16.to_le_bytes()); // version needed
            h.extend_from_slice(&FLAGS.to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // stored
            h.extend_from_slice(&0u32.to_le_bytes()); // time and date: 1980, as good as any
            h.extend_from_slice(&[0; 12]); // CRC and sizes: in the descriptor
            h.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            h.extend_from_slice(entry.name.as_bytes());
            return Some(Bytes::from(h));
        }
        if self.finished {
            return None;
        }
        self.finished = true;
        let directory_at = self.offset;
        let mut c = Vec::new();
        for (entry, (header_at, crc)) in self.entries.iter().zip(&self.written) {
            let size = entry.content.len as u32;
            c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            c.extend_from_slice(&20u16.to_le_bytes()); // made by
            c.extend_from_slice(&20u16.to_le_bytes()); // needed
            c.extend_from_slice(&FLAGS.to_le_bytes());
            c.extend_from_slice(&0u16.to_le_bytes());
            c.extend_from_slice(&0u32.to_le_bytes());
            c.extend_from_slice(&crc.to_le_bytes());
            c.extend_from_slice(&size.to_le_bytes());
            c.extend_from_slice(&size.to_le_bytes());
            c.extend_from_slice(&(entry.name.len() as u16).to_le_bytes());
            c.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            c.extend_from_slice(&(*header_at as u32).to_le_bytes());
            c.extend_from_slice(entry.name.as_bytes());
        }
        let count = self.entries.len() as u16;
        let directory_len = c.len() as u32;
        c.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        c.extend_from_slice(&[0; 4]); // disk numbers
        c.extend_from_slice(&count.to_le_bytes());
        c.extend_from_slice(&count.to_le_bytes());
        c.extend_from_slice(&directory_len.to_le_bytes());
        c.extend_from_slice(&(directory_at as u32).to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        Some(Bytes::from(c))
    }
}

/// CRC-32 (IEEE, as zip uses), bit by bit over a table built once.
pub(crate) fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    let mut c = !crc;
    for &b in bytes {
        c = table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_check_string() {
        assert_eq!(crc32_update(0, b"123456789"), 0xcbf4_3926);
        assert_eq!(
            crc32_update(crc32_update(0, b"1234"), b"56789"),
            0xcbf4_3926
        );
    }

    #[test]
    fn zip_has_its_announced_length_and_an_end_record() {
        let entries = || {
            vec![
                Entry {
                    name: "a.mp3".into(),
                    content: Content::named("a", 100_000),
                },
                Entry {
                    name: "b.json".into(),
                    content: Content::named("b", 3),
                },
            ]
        };
        let want = length(&entries());
        let bytes: Vec<u8> = stream(entries()).flat_map(|c| c.to_vec()).collect();
        assert_eq!(bytes.len() as u64, want);
        let end = &bytes[bytes.len() - 22..];
        assert_eq!(&end[..4], &0x0605_4b50u32.to_le_bytes());
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 2);
        let directory_at = u32::from_le_bytes(end[16..20].try_into().unwrap()) as usize;
        assert_eq!(
            &bytes[directory_at..directory_at + 4],
            &0x0201_4b50u32.to_le_bytes()
        );
    }
}
