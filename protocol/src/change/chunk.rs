//! The bytes of an Automerge change chunk, read by mutu before Automerge
//! sees them.
//!
//! Automerge 0.12 trusts the sizes a chunk declares: a deflate-compressed
//! chunk is inflated without a cap, and run-length encoded columns can claim
//! billions of values in a few bytes, which its parser then iterates (CPU)
//! and its apply step stores (memory); a run count of `i64::MIN` overflows
//! `abs()` in its decoder. So before [`automerge::Change::from_bytes`] runs,
//! [`inspect`] walks the chunk itself, without allocating anything that
//! grows with a declared size, and refuses:
//!
//! - anything but an uncompressed change chunk (`Compressed` chunks, documents,
//!   bundles);
//! - lengths that run past the chunk, or a chunk length that does not match
//!   the bytes;
//! - columns compressed on their own;
//! - any column that decodes to more than [`MAX_COLUMN_VALUES`] values, any
//!   operation count above [`MAX_OPS`], and predecessor lists that add up to
//!   more than [`MAX_COLUMN_VALUES`] (the decoded size of every column is
//!   bounded, not only the bytes).
//!
//! The layout follows the Automerge binary format: a header (magic,
//! checksum, chunk type, LEB128 length), then dependencies, actor, sequence
//! number, start op, time, message, other actors, the column metadata
//! (`(spec, length)` pairs), the column data, and trailing extra bytes. A
//! column spec is `id << 4 | deflate << 3 | type`.

/// The four bytes every Automerge chunk starts with.
pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Chunk type of an uncompressed change.
const CHUNK_CHANGE: u8 = 1;
/// Chunk type of a deflate-compressed change.
const CHUNK_COMPRESSED: u8 = 2;
/// Most operations one change may carry. A mutu change writes one record per
/// operation, and a record takes at least ~150 bytes, so a change under
/// [`super::MAX_CHANGE_BYTES`] holds fewer than 2 000.
pub const MAX_OPS: u64 = 4_096;
/// Most values one column may decode to; also the bound on the sum of all
/// predecessor counts.
pub const MAX_COLUMN_VALUES: u64 = 4 * MAX_OPS;

/// Column id of the operations' actions: one value per operation.
const ACTION_COLUMN: u32 = 4;
/// Column id of the predecessor lists (a group column: one count per op).
const PRED_COLUMN: u32 = 7;
/// Column type of actor indices (the low three bits of a column spec).
const ACTOR_TYPE: u32 = 1;

/// What is wrong with a chunk, in words a log reader understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("not an Automerge chunk (wrong magic bytes)")]
    NotAChunk,
    #[error("compressed change chunks are not accepted (their decoded size is unknown until inflated)")]
    Compressed,
    #[error("chunk of type {0} is not a change")]
    NotAChange(u8),
    #[error("chunk is cut short: {0}")]
    Truncated(&'static str),
    #[error("chunk declares {declared} bytes of data but carries {actual}")]
    LengthMismatch { declared: u64, actual: usize },
    #[error("column {spec:#x} is compressed on its own")]
    CompressedColumn { spec: u32 },
    #[error("column {spec:#x} decodes to more than {limit} values")]
    TooManyValues { spec: u32, limit: u64 },
    #[error("column {spec:#x} has a malformed run")]
    BadRun { spec: u32 },
    #[error("change has more than {MAX_OPS} operations")]
    TooManyOps,
    #[error("column {spec:#x} names actor {index}, but the change lists {actors} actors")]
    UnknownActorIndex { spec: u32, index: u64, actors: u64 },
}

/// What [`inspect`] learnt of a change chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Number of operations (values of the action column).
    pub ops: u64,
    /// Sum of the predecessor counts.
    pub preds: u64,
}

/// A cursor over untrusted bytes: every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn uleb(&mut self, what: &'static str) -> Result<u64, Error> {
        let mut value: u64 = 0;
        for (i, b) in self.bytes.iter().enumerate().take(10) {
            let part = u64::from(b & 0x7f);
            let shift = 7 * i as u32;
            if shift == 63 && part > 1 {
                return Err(Error::Truncated(what));
            }
            value |= part << shift;
            if b & 0x80 == 0 {
                self.bytes = &self.bytes[i + 1..];
                return Ok(value);
            }
        }
        Err(Error::Truncated(what))
    }

    fn sleb(&mut self, what: &'static str) -> Result<i64, Error> {
        let mut value: i64 = 0;
        let mut shift = 0u32;
        for (i, b) in self.bytes.iter().enumerate().take(10) {
            let part = i64::from(b & 0x7f);
            if shift == 63 && part != 0 && part != 0x7f {
                return Err(Error::Truncated(what));
            }
            value |= part << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                self.bytes = &self.bytes[i + 1..];
                return Ok(value);
            }
        }
        Err(Error::Truncated(what))
    }

    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], Error> {
        let n = usize::try_from(n).map_err(|_| Error::Truncated(what))?;
        if n > self.bytes.len() {
            return Err(Error::Truncated(what));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Checks the layout of a change chunk and bounds what its columns decode
/// to (see the module docs). Allocates nothing that depends on the input.
pub fn inspect(bytes: &[u8]) -> Result<Shape, Error> {
    if bytes.get(..4) != Some(&MAGIC[..]) {
        return Err(Error::NotAChunk);
    }
    let mut r = Reader { bytes: &bytes[4..] };
    r.take(4, "checksum")?;
    match r.take(1, "chunk type")?[0] {
        CHUNK_CHANGE => {}
        CHUNK_COMPRESSED => return Err(Error::Compressed),
        other => return Err(Error::NotAChange(other)),
    }
    let declared = r.uleb("chunk length")?;
    if usize::try_from(declared).ok() != Some(r.bytes.len()) {
        return Err(Error::LengthMismatch {
            declared,
            actual: r.bytes.len(),
        });
    }
    let deps = r.uleb("dependency count")?;
    r.take(deps.saturating_mul(32), "dependencies")?;
    let actor = r.uleb("actor length")?;
    r.take(actor, "actor")?;
    r.uleb("sequence number")?;
    r.uleb("start op")?;
    r.sleb("time")?;
    let message = r.uleb("message length")?;
    r.take(message, "message")?;
    let others = r.uleb("other actor count")?;
    for _ in 0..others {
        let len = r.uleb("other actor length")?;
        r.take(len, "other actor")?;
    }
    // The change's own actor, then the others: what actor columns index.
    let actors = others.saturating_add(1);
    let columns = r.uleb("column count")?;
    // Each column takes at least two bytes of metadata: a count beyond the
    // bytes left is a lie, and refusing it here keeps the loop bounded.
    if columns > r.bytes.len() as u64 / 2 {
        return Err(Error::Truncated("column metadata"));
    }
    let mut specs = Vec::with_capacity(columns as usize);
    for _ in 0..columns {
        let spec = r.uleb("column spec")?;
        let spec = u32::try_from(spec).map_err(|_| Error::Truncated("column spec"))?;
        let len = r.uleb("column length")?;
        specs.push((spec, len));
    }
    let mut shape = Shape { ops: 0, preds: 0 };
    for (spec, len) in specs {
        let data = r.take(len, "column data")?;
        if spec & 0x08 != 0 {
            return Err(Error::CompressedColumn { spec });
        }
        let counted = count_column(spec, data)?;
        // Automerge looks actor indices up with `unwrap` when it expands a
        // change (`change.rs:346`, `batch.rs:859`): one past the list panics.
        if spec & 0x07 == ACTOR_TYPE && counted.values > 0 && counted.max >= actors {
            return Err(Error::UnknownActorIndex {
                spec,
                index: counted.max,
                actors,
            });
        }
        match spec >> 4 {
            ACTION_COLUMN => shape.ops = shape.ops.max(counted.values),
            PRED_COLUMN if spec & 0x07 == 0 => shape.preds = shape.preds.max(counted.sum),
            _ => {}
        }
    }
    if shape.ops > MAX_OPS {
        return Err(Error::TooManyOps);
    }
    if shape.preds > MAX_COLUMN_VALUES {
        return Err(Error::TooManyValues {
            spec: PRED_COLUMN << 4,
            limit: MAX_COLUMN_VALUES,
        });
    }
    // The rest is the change's extra bytes, which mutu's checks refuse
    // unless empty.
    Ok(shape)
}

/// Values a column decodes to, and for integer columns their sum and
/// largest value.
struct Counted {
    values: u64,
    sum: u64,
    max: u64,
}

/// Walks a column's runs without decoding values into memory. Column types:
/// 0 group, 1 actor, 2 integer, 6 value metadata (RLE of LEB128 u64),
/// 3 delta (RLE of LEB128 i64), 5 string (RLE of length-prefixed bytes),
/// 4 boolean (alternating run lengths), 7 raw values (no count of its own).
fn count_column(spec: u32, data: &[u8]) -> Result<Counted, Error> {
    let limit = MAX_COLUMN_VALUES;
    let too_many = Error::TooManyValues { spec, limit };
    let bad = Error::BadRun { spec };
    let mut r = Reader { bytes: data };
    let mut counted = Counted {
        values: 0,
        sum: 0,
        max: 0,
    };
    let add = |counted: &mut Counted, n: u64, value: u64| -> Result<(), Error> {
        counted.values = counted.values.saturating_add(n);
        counted.sum = counted.sum.saturating_add(n.saturating_mul(value));
        counted.max = counted.max.max(value);
        if counted.values > limit {
            return Err(too_many.clone());
        }
        Ok(())
    };
    match spec & 0x07 {
        7 => {}
        4 => {
            while !r.is_empty() {
                let n = r.uleb("boolean run").map_err(|_| bad.clone())?;
                add(&mut counted, n, 0)?;
            }
        }
        kind => {
            // One RLE value of this column's type: its numeric value where
            // it has one (for sums), after checking it is well formed.
            let value = |r: &mut Reader<'_>| -> Result<u64, Error> {
                match kind {
                    3 => r.sleb("delta").map(|v| v.unsigned_abs()).map_err(|_| bad.clone()),
                    5 => {
                        let len = r.uleb("string length").map_err(|_| bad.clone())?;
                        r.take(len, "string").map_err(|_| bad.clone())?;
                        Ok(0)
                    }
                    _ => r.uleb("integer").map_err(|_| bad.clone()),
                }
            };
            while !r.is_empty() {
                let count = r.sleb("run count").map_err(|_| bad.clone())?;
                if count > 0 {
                    let v = value(&mut r)?;
                    add(&mut counted, count.unsigned_abs(), v)?;
                } else if count < 0 {
                    if count == i64::MIN {
                        return Err(bad);
                    }
                    let n = count.unsigned_abs();
                    if n > limit {
                        return Err(too_many);
                    }
                    for _ in 0..n {
                        let v = value(&mut r)?;
                        add(&mut counted, 1, v)?;
                    }
                } else {
                    let nulls = r.uleb("null run").map_err(|_| bad.clone())?;
                    add(&mut counted, nulls, 0)?;
                }
            }
        }
    }
    Ok(counted)
}

/// Where the parts of a change chunk sit: for tests that craft hostile
/// changes out of valid ones (and for fuzzing), so they need not copy the
/// format.
#[doc(hidden)]
pub mod layout {
    use super::{Error, Reader};

    /// Byte ranges of a change chunk's parts.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Layout {
        /// Start of the chunk type byte (the checksum is `4..8`).
        pub chunk_type: usize,
        /// Start of the data (after the LEB128 length).
        pub data: usize,
        /// Range of the other-actors list, its count included.
        pub other_actors: std::ops::Range<usize>,
        /// Column metadata `(spec, data range)`, in order.
        pub columns: Vec<(u32, std::ops::Range<usize>)>,
        /// Range of the column metadata, its count included.
        pub column_meta: std::ops::Range<usize>,
    }

    /// Parses the layout of an uncompressed change chunk.
    pub fn parse(bytes: &[u8]) -> Result<Layout, Error> {
        let pos = |r: &Reader<'_>| bytes.len() - r.bytes.len();
        let mut r = Reader {
            bytes: bytes.get(8..).ok_or(Error::Truncated("header"))?,
        };
        let chunk_type = pos(&r);
        r.take(1, "chunk type")?;
        r.uleb("chunk length")?;
        let data = pos(&r);
        let deps = r.uleb("dependency count")?;
        r.take(deps.saturating_mul(32), "dependencies")?;
        let actor = r.uleb("actor length")?;
        r.take(actor, "actor")?;
        r.uleb("sequence number")?;
        r.uleb("start op")?;
        r.sleb("time")?;
        let message = r.uleb("message length")?;
        r.take(message, "message")?;
        let others_start = pos(&r);
        let others = r.uleb("other actor count")?;
        for _ in 0..others {
            let len = r.uleb("other actor length")?;
            r.take(len, "other actor")?;
        }
        let others_end = pos(&r);
        let meta_start = pos(&r);
        let count = r.uleb("column count")?;
        let mut specs = Vec::new();
        for _ in 0..count.min(64) {
            let spec = r.uleb("column spec")? as u32;
            let len = r.uleb("column length")?;
            specs.push((spec, len));
        }
        let meta_end = pos(&r);
        let mut columns = Vec::new();
        for (spec, len) in specs {
            let start = pos(&r);
            r.take(len, "column data")?;
            columns.push((spec, start..pos(&r)));
        }
        Ok(Layout {
            chunk_type,
            data,
            other_actors: others_start..others_end,
            columns,
            column_meta: meta_start..meta_end,
        })
    }

    /// LEB128 of `value`, as the format writes lengths and counts.
    pub fn uleb(mut value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    /// Signed LEB128 of `value`.
    pub fn sleb(mut value: i64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
            if done {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    /// Rebuilds a chunk from its data: header with a fresh length and the
    /// checksum Automerge expects (the first 4 bytes of SHA-256 over the
    /// chunk type, length and data).
    pub fn seal(chunk_type: u8, data: &[u8]) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut body = vec![chunk_type];
        body.extend(uleb(data.len() as u64));
        body.extend_from_slice(data);
        let hash = Sha256::digest(&body);
        let mut out = super::MAGIC.to_vec();
        out.extend_from_slice(&hash[..4]);
        out.extend(body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::layout::{seal, sleb, uleb};
    use super::*;

    #[test]
    fn leb128_round_trips_at_the_edges() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let bytes = uleb(v);
            assert_eq!(Reader { bytes: &bytes }.uleb("v").unwrap(), v);
        }
        for v in [0i64, 1, -1, 63, 64, -64, -65, i64::MAX, i64::MIN] {
            let bytes = sleb(v);
            assert_eq!(Reader { bytes: &bytes }.sleb("v").unwrap(), v, "{v}");
        }
        // Eleven continuation bytes, or a tenth byte past 64 bits: refused.
        assert!(Reader { bytes: &[0xff; 11] }.uleb("v").is_err());
        assert!(
            Reader {
                bytes: &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]
            }
            .uleb("v")
            .is_err()
        );
    }

    #[test]
    fn runs_that_claim_more_values_than_allowed_are_refused() {
        // An integer column with one run of 2^40 equal values.
        let mut col = sleb(1 << 40);
        col.extend(uleb(1));
        assert!(matches!(count_column(0x42, &col), Err(Error::TooManyValues { .. })));
        // A literal run of i64::MIN values: the overflow automerge's decoder
        // would hit.
        let col = sleb(i64::MIN);
        assert!(matches!(count_column(0x42, &col), Err(Error::BadRun { .. })));
        // A boolean column of 2^40 falses.
        assert!(matches!(
            count_column(0x34, &uleb(1 << 40)),
            Err(Error::TooManyValues { .. })
        ));
        // Fine: 3 equal values, then 2 literals, then 4 nulls.
        let mut col = sleb(3);
        col.extend(uleb(9));
        col.extend(sleb(-2));
        col.extend(uleb(1));
        col.extend(uleb(2));
        col.extend(sleb(0));
        col.extend(uleb(4));
        let c = count_column(0x42, &col).unwrap();
        assert_eq!((c.values, c.sum), (9, 27 + 3));
    }

    #[test]
    fn chunks_that_are_not_plain_changes_are_refused() {
        assert_eq!(inspect(b"nope"), Err(Error::NotAChunk));
        assert_eq!(inspect(&seal(CHUNK_COMPRESSED, &[1, 2, 3])), Err(Error::Compressed));
        assert_eq!(inspect(&seal(0, &[1, 2, 3])), Err(Error::NotAChange(0)));
        let mut short = seal(CHUNK_CHANGE, &[0; 40]);
        short.truncate(20);
        assert!(matches!(inspect(&short), Err(Error::LengthMismatch { .. })));
    }
}
