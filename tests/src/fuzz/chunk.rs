//! Automerge change chunks at the byte level: what a structure-aware target
//! needs to turn mutated bytes back into a change that passes the checksum
//! and the signature, so mutations reach what lies behind them.
//!
//! The layout (automerge 0.12, `storage/chunk.rs`):
//!
//! ```text
//! magic (4: 85 6f 4a 83) | checksum (4) | type (1) | uleb128 length | data (length)
//! ```
//!
//! The change hash is SHA-256 over `type ‖ uleb128(length) ‖ data` (the
//! chunk from byte 8 on, the length written in its shortest form) and the
//! checksum is the hash's first 4 bytes. A compressed change (type 2) holds
//! the deflated data of a type-1 chunk and carries *that* chunk's checksum.

use std::io::{Read, Write};

use automerge::ChangeHash;
use ed25519_dalek::Signer;
use mutu_protocol::change::signed_message;
use mutu_protocol::{MemberId, SignedChange};
use sha2::{Digest, Sha256};

pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
pub const TYPE_CHANGE: u8 = 1;
pub const TYPE_COMPRESSED: u8 = 2;
/// The most a resealed compressed chunk is inflated to compute its
/// checksum: the harness itself must stay bounded.
const INFLATE_CAP: u64 = 16 * 1024 * 1024;

/// A chunk split into its parts. `data` is what follows the length field
/// (possibly more or fewer bytes than `length` says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub checksum: [u8; 4],
    pub kind: u8,
    pub length: u64,
    pub data: &'a [u8],
}

/// Splits `bytes` into a chunk's parts; `None` if it is too short, has the
/// wrong magic or an unreadable length.
pub fn parse(bytes: &[u8]) -> Option<Chunk<'_>> {
    if bytes.get(..4)? != MAGIC {
        return None;
    }
    let checksum = bytes.get(4..8)?.try_into().ok()?;
    let kind = *bytes.get(8)?;
    let (length, used) = read_uleb(bytes.get(9..)?)?;
    Some(Chunk {
        checksum,
        kind,
        length,
        data: &bytes[9 + used..],
    })
}

fn read_uleb(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

pub fn write_uleb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The hash automerge computes for a chunk of `kind` holding `data`.
pub fn hash(kind: u8, data: &[u8]) -> ChangeHash {
    let mut h = Sha256::new();
    let mut head = vec![kind];
    write_uleb(&mut head, data.len() as u64);
    h.update(&head);
    h.update(data);
    ChangeHash(h.finalize().into())
}

/// A chunk of `kind` holding `data`, with `checksum`.
pub fn assemble(checksum: [u8; 4], kind: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&checksum);
    out.push(kind);
    write_uleb(&mut out, data.len() as u64);
    out.extend_from_slice(data);
    out
}

/// Deflates `data` (what a compressed chunk carries).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Inflates at most `cap` bytes of `data`; `None` if it does not inflate.
fn inflate(data: &[u8], cap: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(data)
        .take(cap)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// How [`reseal`] repairs mutated bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repair {
    /// Rewrite the length field to the data's actual length.
    pub length: bool,
    /// Rewrite the checksum to match the contents.
    pub checksum: bool,
    /// Deflate the data into a compressed (type 2) chunk.
    pub compress: bool,
    /// Zero bytes to append to the data first (automerge keeps trailing
    /// bytes of a change as its "extra bytes"): with `compress`, a small
    /// chunk that inflates to a large change.
    pub pad: usize,
}

/// Repairs a mutated change chunk as `repair` says and returns it with the
/// hash automerge will compute for it (`None` if the bytes are not a chunk
/// at all, in which case they are returned unchanged).
pub fn reseal(bytes: &[u8], repair: Repair) -> (Vec<u8>, Option<ChangeHash>) {
    let Some(chunk) = parse(bytes) else {
        return (bytes.to_vec(), None);
    };
    // The data automerge will hash: the declared length's worth, unless the
    // length is repaired to cover all of it.
    let declared = usize::try_from(chunk.length).unwrap_or(usize::MAX);
    let data: &[u8] = if repair.length {
        chunk.data
    } else {
        &chunk.data[..declared.min(chunk.data.len())]
    };
    let trailer: &[u8] = if repair.length { &[] } else { &chunk.data[data.len()..] };
    if chunk.kind == TYPE_COMPRESSED {
        // Already compressed: its checksum is that of the inflated chunk.
        let Some(inner) = inflate(data, INFLATE_CAP) else {
            return (bytes.to_vec(), None);
        };
        let h = hash(TYPE_CHANGE, &inner);
        let checksum = if repair.checksum { first4(&h) } else { chunk.checksum };
        let mut out = assemble_declared(checksum, chunk.kind, chunk.length, data, repair.length);
        out.extend_from_slice(trailer);
        return (out, Some(h));
    }
    let padded;
    let data = if repair.pad > 0 && repair.length && chunk.kind == TYPE_CHANGE {
        padded = [data, &vec![0; repair.pad][..]].concat();
        &padded[..]
    } else {
        data
    };
    let h = hash(chunk.kind, data);
    let checksum = if repair.checksum { first4(&h) } else { chunk.checksum };
    if repair.compress && chunk.kind == TYPE_CHANGE {
        let mut out = assemble(checksum, TYPE_COMPRESSED, &deflate(data));
        out.extend_from_slice(trailer);
        return (out, Some(h));
    }
    let mut out = assemble_declared(checksum, chunk.kind, chunk.length, data, repair.length);
    out.extend_from_slice(trailer);
    (out, Some(h))
}

/// A chunk with `data`, its length field the actual length (`actual`) or
/// the declared one.
fn assemble_declared(checksum: [u8; 4], kind: u8, declared: u64, data: &[u8], actual: bool) -> Vec<u8> {
    if actual {
        return assemble(checksum, kind, data);
    }
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&checksum);
    out.push(kind);
    write_uleb(&mut out, declared);
    out.extend_from_slice(data);
    out
}

fn first4(h: &ChangeHash) -> [u8; 4] {
    [h.0[0], h.0[1], h.0[2], h.0[3]]
}

/// Signs change bytes whose hash is `hash` as a change of `doc`, with the
/// secret that derives from `[seed; 32]` (as the owner would, or anyone
/// holding a test key).
pub fn sign(seed: u8, doc: MemberId, bytes: Vec<u8>, hash: &ChangeHash) -> SignedChange {
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let sig = key.sign(&signed_message(&doc, hash)).to_bytes();
    SignedChange::from_parts(doc, bytes, sig)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fuzz::fixtures::fixtures;

    /// The hash and checksum computed here are automerge's: resealing a
    /// valid change changes nothing, and a resealed mutation decodes with
    /// the hash [`reseal`] announced.
    #[test]
    fn resealing_matches_automerge() {
        for c in fixtures().all_changes() {
            let bytes = c.change_bytes();
            let all = Repair {
                length: true,
                checksum: true,
                compress: false,
                pad: 0,
            };
            let (same, h) = reseal(bytes, all);
            assert_eq!(same, bytes);
            assert_eq!(h, Some(c.decode().unwrap().hash()));

            let mut mutated = bytes.to_vec();
            mutated.push(0); // one more byte of data: length and checksum now wrong
            assert!(
                SignedChange::from_parts(c.doc(), mutated.clone(), [0; 64])
                    .decode()
                    .is_err()
            );
            let (fixed, h) = reseal(&mutated, all);
            if let Ok(change) = automerge::Change::from_bytes(fixed.clone()) {
                assert_eq!(Some(change.hash()), h);
                assert_eq!(&fixed[4..8], &change.hash().0[..4]);
            }

            // Compressed chunks are refused by admission (their decoded size
            // is unknown until inflated); Automerge still reads them, so the
            // repair is checked against Automerge.
            let (compressed, h) = reseal(bytes, Repair { compress: true, ..all });
            assert_eq!(compressed[8], TYPE_COMPRESSED);
            assert!(
                SignedChange::from_parts(c.doc(), compressed.clone(), [0; 64])
                    .decode()
                    .is_err()
            );
            let change = automerge::Change::from_bytes(compressed).unwrap();
            assert_eq!(Some(change.hash()), h);

            let pad = Repair {
                compress: true,
                pad: 100_000,
                ..all
            };
            let (bomb, h) = reseal(bytes, pad);
            assert!(bomb.len() < bytes.len() + 1_000, "100 kB of zeros deflate to little");
            let change = automerge::Change::from_bytes(bomb).unwrap();
            assert_eq!(Some(change.hash()), h);
            assert_eq!(change.extra_bytes().len(), 100_000);
        }
    }
}
