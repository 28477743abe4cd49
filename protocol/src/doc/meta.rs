//! What a node keeps resident of a member document while the document
//! itself stays in the store: its heads, each replica's highest sequence
//! number, and the hashes of its changes. Admission orders changes against
//! it and sync answers from it; the Automerge document is loaded only when a
//! change must be applied to it (see [`crate::registry::Load`]).

use automerge::{ActorId, Change, ChangeHash};

use crate::identity::{MEMBER_ID_LEN, REPLICA_NONCE_LEN};

/// Errors when reading a stored [`Meta`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("document metadata of {len} bytes is cut short or has trailing bytes (expected {expected})")]
    Length { len: usize, expected: usize },
    #[error("document metadata of format {0} is unknown (this mutu reads format 1)")]
    Format(u8),
}

/// A document's metadata. Sets are sorted vectors: a member has one to three
/// replicas, and a hash costs its 32 bytes and no more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// Sorted.
    heads: Vec<ChangeHash>,
    /// Replica nonce → highest applied sequence number, sorted by nonce.
    /// Every actor of a member document is the owner's key followed by a
    /// nonce (admission's rule), so the nonce names the actor.
    clock: Vec<([u8; REPLICA_NONCE_LEN], u64)>,
    /// Hashes of every applied change, sorted.
    hashes: Vec<ChangeHash>,
}

/// The replica nonce of an actor of a member document, if it has the
/// shape admission lets in.
fn nonce(actor: &ActorId) -> Option<[u8; REPLICA_NONCE_LEN]> {
    let bytes = actor.to_bytes();
    if bytes.len() != MEMBER_ID_LEN + REPLICA_NONCE_LEN {
        return None;
    }
    bytes.get(MEMBER_ID_LEN..)?.try_into().ok()
}

const FORMAT: u8 = 1;

impl Meta {
    pub fn heads(&self) -> &[ChangeHash] {
        &self.heads
    }

    /// Hashes of every applied change, sorted (not in causal order).
    pub fn hashes(&self) -> &[ChangeHash] {
        &self.hashes
    }

    pub fn has_change(&self, hash: &ChangeHash) -> bool {
        self.hashes.binary_search(hash).is_ok()
    }

    pub fn change_count(&self) -> usize {
        self.hashes.len()
    }

    /// Highest applied sequence number of `actor` (0 if none).
    pub fn seq(&self, actor: &ActorId) -> u64 {
        let Some(n) = nonce(actor) else { return 0 };
        self.clock
            .binary_search_by(|(k, _)| k.cmp(&n))
            .map_or(0, |i| self.clock[i].1)
    }

    /// Bytes this metadata holds on the heap, for the memory figures.
    pub fn heap_bytes(&self) -> usize {
        (self.heads.capacity() + self.hashes.capacity()) * 32 + self.clock.capacity() * 24
    }

    /// Takes in changes about to be applied to the document.
    pub(crate) fn record(&mut self, changes: &[Change]) {
        for c in changes {
            if let Some(n) = nonce(c.actor_id()) {
                match self.clock.binary_search_by(|(k, _)| k.cmp(&n)) {
                    Ok(i) => self.clock[i].1 = self.clock[i].1.max(c.seq()),
                    Err(i) => self.clock.insert(i, (n, c.seq())),
                }
            }
        }
        self.hashes.extend(changes.iter().map(|c| c.hash()));
        self.hashes.sort_unstable();
        self.hashes.dedup();
        self.hashes.shrink_to_fit();
        self.clock.shrink_to_fit();
    }

    /// The document's heads after the changes went in.
    pub(crate) fn set_heads(&mut self, mut heads: Vec<ChangeHash>) {
        heads.sort_unstable();
        heads.shrink_to_fit();
        self.heads = heads;
    }

    /// The stored form: format byte, counts, then heads, clock, hashes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(13 + 32 * (self.heads.len() + self.hashes.len()) + 24 * self.clock.len());
        out.push(FORMAT);
        for n in [self.heads.len(), self.clock.len(), self.hashes.len()] {
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        for h in &self.heads {
            out.extend_from_slice(&h.0);
        }
        for (n, seq) in &self.clock {
            out.extend_from_slice(n);
            out.extend_from_slice(&seq.to_be_bytes());
        }
        for h in &self.hashes {
            out.extend_from_slice(&h.0);
        }
        out
    }

    /// Reads [`Meta::encode`]'s form back; the counts are checked against
    /// the length before anything is allocated.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let short = || Error::Length {
            len: bytes.len(),
            expected: 13,
        };
        let (&format, rest) = bytes.split_first().ok_or_else(short)?;
        if format != FORMAT {
            return Err(Error::Format(format));
        }
        let count = |i: usize| -> Result<usize, Error> {
            let b: [u8; 4] = rest
                .get(i * 4..i * 4 + 4)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(short)?;
            Ok(u32::from_be_bytes(b) as usize)
        };
        let (heads, clock, hashes) = (count(0)?, count(1)?, count(2)?);
        // In u64: the counts come from the bytes and may be anything.
        let expected = 13 + 32 * (heads as u64 + hashes as u64) + 24 * clock as u64;
        if bytes.len() as u64 != expected {
            return Err(Error::Length {
                len: bytes.len(),
                expected: usize::try_from(expected).unwrap_or(usize::MAX),
            });
        }
        let mut chunks = rest[12..].chunks_exact(32);
        let hash = |chunks: &mut std::slice::ChunksExact<'_, u8>| {
            let mut h = [0u8; 32];
            h.copy_from_slice(chunks.next().unwrap_or(&[0; 32]));
            ChangeHash(h)
        };
        let heads: Vec<ChangeHash> = (0..heads).map(|_| hash(&mut chunks)).collect();
        let at = 12 + 32 * heads.len();
        let clock: Vec<([u8; REPLICA_NONCE_LEN], u64)> = rest[at..at + 24 * clock]
            .chunks_exact(24)
            .map(|c| {
                let mut n = [0u8; REPLICA_NONCE_LEN];
                n.copy_from_slice(&c[..16]);
                let mut s = [0u8; 8];
                s.copy_from_slice(&c[16..]);
                (n, u64::from_be_bytes(s))
            })
            .collect();
        let at = at + 24 * clock.len();
        let mut chunks = rest[at..].chunks_exact(32);
        let hashes: Vec<ChangeHash> = (0..hashes).map(|_| hash(&mut chunks)).collect();
        Ok(Self { heads, clock, hashes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_and_bad_lengths() {
        let meta = Meta {
            heads: vec![ChangeHash([3; 32])],
            clock: vec![([1; 16], 4), ([2; 16], 1)],
            hashes: vec![ChangeHash([1; 32]), ChangeHash([3; 32])],
        };
        let bytes = meta.encode();
        assert_eq!(Meta::decode(&bytes).unwrap(), meta);
        assert!(matches!(
            Meta::decode(&bytes[..bytes.len() - 1]),
            Err(Error::Length { .. })
        ));
        assert!(matches!(Meta::decode(&[]), Err(Error::Length { .. })));
        assert!(matches!(Meta::decode(&[9]), Err(Error::Format(9))));
        // A count that claims more than the bytes hold allocates nothing.
        let mut huge = vec![FORMAT];
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        huge.extend_from_slice(&[0; 8]);
        assert!(matches!(Meta::decode(&huge), Err(Error::Length { .. })));
        assert_eq!(Meta::decode(&Meta::default().encode()).unwrap(), Meta::default());
    }
}
