//! Range-based set reconciliation (the algorithm negentropy uses for
//! Nostr, implemented here): two nodes find which `(key, value)` pairs
//! differ between their sets in a number of round trips that grows as the
//! logarithm of the set size, exchanging bytes in proportion to the number
//! of differences rather than to the size of the sets.
//!
//! Pure code: no I/O, no clock. Used by `/mutu/sync/2` over documents and
//! their heads digests (`(MemberId, HeadsDigest)`); generic, so it works as
//! well over change hashes (`(HeadsDigest, ())`).
//!
//! # The algorithm
//!
//! Both sides sort their pairs by key. A [`Message`] covers the whole key
//! space with consecutive [`Range`]s: each range runs from the previous
//! range's upper bound (the first from the start of the key space) to its
//! own `upper` (exclusive; `None` is the end of the key space), and says
//! one of three things about the sender's pairs in it:
//!
//! - [`Mode::Skip`]: nothing to do there (already agreed);
//! - [`Mode::Fingerprint`]: a 16-byte digest of the sender's pairs in the
//!   range (sum of their hashes modulo 2¹²⁸ and their count, hashed);
//! - [`Mode::Items`]: every pair the sender has in the range.
//!
//! The receiver answers range by range ([`Set::reconcile`]):
//!
//! - a fingerprint equal to its own: skip;
//! - a different fingerprint: its own pairs if it has at most
//!   [`ITEMS_THRESHOLD`] there, else its pairs split into [`BUCKETS`]
//!   ranges of equal counts, each with its fingerprint;
//! - pairs, received by the **initiator**: it now knows both sides of the
//!   range and records the differences ([`Outcome::need`], [`Outcome::have`]);
//!   skip;
//! - pairs, received by the **responder**: skip if they equal its own,
//!   else its own pairs (so that the initiator can compare).
//!
//! Consecutive skips merge into one range; a message of skips only is not
//! sent ([`Outcome::reply`] is `None`): the initiator then knows every
//! difference. One changed pair among `N` costs about
//! `log(N / ITEMS_THRESHOLD) / log(BUCKETS)` messages of [`BUCKETS`]
//! fingerprints, then one message of at most [`ITEMS_THRESHOLD`] pairs.
//!
//! **Bounded messages.** A reply holds at most [`MAX_RANGES`] ranges and
//! [`MAX_ITEMS`] pairs. When a reply would go over, the rest of the key
//! space (from where the reply stopped) is sent as one fingerprint of the
//! sender's pairs there: the next round takes it up again. A fresh node
//! against a full one thus receives the full set page by page, one round
//! trip per [`MAX_ITEMS`] pairs. A received message over those bounds, with
//! ranges out of order, pairs out of order or outside their range, is
//! refused ([`Error`]) before any work; [`MAX_ROUNDS`] bounds a session
//! (the caller counts).

use std::cmp::Ordering;
use std::fmt::Debug;

use mutu_protocol::{MemberId, codec};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::HeadsDigest;

/// Ranges a fingerprint mismatch is split into.
pub const BUCKETS: usize = 16;
/// At most this many pairs in a mismatched range: send them rather than
/// splitting the range.
pub const ITEMS_THRESHOLD: usize = 2 * BUCKETS;
/// Upper bound on the ranges of one message.
pub const MAX_RANGES: usize = 1_024;
/// Upper bound on the pairs of one message (all ranges together): with
/// 32-byte keys and values, about 70 KB.
pub const MAX_ITEMS: usize = 1_024;
/// Upper bound on the messages of one reconciliation session (both
/// directions counted once per round trip). An honest session between
/// sets of 10⁷ pairs takes 5 fingerprint round trips, plus one round trip
/// per [`MAX_ITEMS`] pairs a fresh side has to receive.
pub const MAX_ROUNDS: u32 = 1_024;

/// What a key or value contributes to a pair's hash.
pub trait Element: Copy + Eq + Debug + Serialize + DeserializeOwned {
    fn bytes(&self) -> &[u8];
}

impl Element for MemberId {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Element for HeadsDigest {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Element for () {
    fn bytes(&self) -> &[u8] {
        &[]
    }
}

/// Digest of the pairs of a range.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Fingerprint(#[serde(with = "codec::array")] pub [u8; 16]);

/// What a range says about its sender's pairs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode<K, V> {
    #[serde(rename = "s")]
    Skip,
    #[serde(rename = "f")]
    Fingerprint(Fingerprint),
    #[serde(rename = "i")]
    Items(Vec<(K, V)>),
}

/// A range of keys from the previous range's upper bound to `upper`
/// (exclusive; `None`: the end of the key space).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range<K, V> {
    pub upper: Option<K>,
    pub mode: Mode<K, V>,
}

/// One message of a session: ranges covering the whole key space, in
/// order. Empty: nothing more to say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message<K, V> {
    pub ranges: Vec<Range<K, V>>,
}

impl<K, V> Message<K, V> {
    /// Pairs carried, all ranges together.
    pub fn items(&self) -> usize {
        self.ranges
            .iter()
            .map(|r| match &r.mode {
                Mode::Items(items) => items.len(),
                _ => 0,
            })
            .sum()
    }
}

/// Which side of a session a set is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Started the session; learns the differences.
    Initiator,
    /// Answers; learns nothing (it runs its own sessions).
    Responder,
}

/// A received message that no honest node sends.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("reconciliation message has {count} ranges, over the limit of {MAX_RANGES}")]
    TooManyRanges { count: usize },
    #[error("reconciliation message carries {count} pairs, over the limit of {MAX_ITEMS}")]
    TooManyItems { count: usize },
    #[error("reconciliation range {index} does not end after the previous one")]
    RangeOrder { index: usize },
    #[error("reconciliation message does not cover the key space to its end")]
    Incomplete,
    #[error("reconciliation range {index} lists pairs out of order or outside the range")]
    ItemOrder { index: usize },
}

/// What [`Set::reconcile`] made of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<K, V> {
    /// The message to send back; `None`: the session is over.
    pub reply: Option<Message<K, V>>,
    /// Keys whose pair the peer has and we lack (a different value or no
    /// pair at all). For the initiator, every one by the end of the
    /// session; for the responder, those of the ranges the initiator
    /// listed pairs for (all of them when the initiator holds at most
    /// [`ITEMS_THRESHOLD`] pairs), so that it pulls them too.
    pub need: Vec<K>,
    /// Keys whose pair we have and the peer lacks (same coverage).
    pub have: Vec<K>,
}

/// A sorted set of pairs, with prefix sums of their hashes so that the
/// fingerprint of any range costs two binary searches.
#[derive(Debug, Clone)]
pub struct Set<K, V> {
    items: Vec<(K, V)>,
    /// `prefix[i]`: sum of the hashes of `items[..i]` modulo 2¹²⁸.
    prefix: Vec<u128>,
}

fn item_hash<K: Element, V: Element>(key: &K, value: &V) -> u128 {
    let mut h = Sha256::new();
    h.update(key.bytes());
    h.update(value.bytes());
    let d = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    u128::from_le_bytes(first)
}

impl<K: Element + Ord, V: Element> Set<K, V> {
    /// The set of `pairs`; a key given twice keeps its last value.
    pub fn new(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut items: Vec<(K, V)> = pairs.into_iter().collect();
        items.reverse();
        items.sort_by_key(|a| a.0);
        items.dedup_by(|a, b| a.0 == b.0);
        Self::from_sorted(items)
    }

    /// The set of `items`, sorted by key with each key once (a
    /// `BTreeMap`'s iteration).
    pub fn from_sorted(items: Vec<(K, V)>) -> Self {
        let mut prefix = Vec::with_capacity(items.len() + 1);
        let mut sum = 0u128;
        prefix.push(sum);
        for (k, v) in &items {
            sum = sum.wrapping_add(item_hash(k, v));
            prefix.push(sum);
        }
        Self { items, prefix }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Index of the first pair at or above `bound` (`None`: the end).
    fn index(&self, bound: Option<&K>) -> usize {
        match bound {
            None => self.items.len(),
            Some(b) => self.items.partition_point(|(k, _)| k < b),
        }
    }

    fn fingerprint(&self, from: usize, to: usize) -> Fingerprint {
        let sum = self.prefix[to].wrapping_sub(self.prefix[from]);
        let mut h = Sha256::new();
        h.update(sum.to_le_bytes());
        h.update(((to - from) as u64).to_le_bytes());
        let d = h.finalize();
        let mut fp = [0u8; 16];
        fp.copy_from_slice(&d[..16]);
        Fingerprint(fp)
    }

    /// The first message of a session.
    pub fn initiate(&self) -> Message<K, V> {
        let mut out = Builder::default();
        self.answer_mismatch(&mut out, 0, self.items.len(), None);
        out.finish()
    }

    /// Answers `message` as `role`. A message that breaks the format's
    /// rules is refused whole.
    pub fn reconcile(&self, message: &Message<K, V>, role: Role) -> Result<Outcome<K, V>, Error> {
        check(message)?;
        let mut out = Builder::default();
        let mut need = Vec::new();
        let mut have = Vec::new();
        let mut from = 0;
        for range in &message.ranges {
            let to = self.index(range.upper.as_ref());
            let ours = &self.items[from..to];
            let fits = match &range.mode {
                Mode::Skip => {
                    out.skip(range.upper);
                    true
                }
                Mode::Fingerprint(fp) => {
                    if *fp == self.fingerprint(from, to) {
                        out.skip(range.upper);
                        true
                    } else {
                        self.answer_mismatch(&mut out, from, to, range.upper)
                    }
                }
                Mode::Items(theirs) => {
                    let before = (need.len(), have.len());
                    diff(ours, theirs, &mut need, &mut have);
                    let differ = (need.len(), have.len()) != before;
                    if role == Role::Initiator || !differ {
                        out.skip(range.upper);
                        true
                    } else {
                        out.items(ours, range.upper)
                    }
                }
            };
            if !fits {
                // The reply is full: the rest of the key space, from this
                // range on, is one fingerprint taken up next round.
                let last = out.last_upper_index(self);
                out.rest(self.fingerprint(last, self.items.len()));
                break;
            }
            from = to;
        }
        let reply = out.finish();
        let reply = if reply.ranges.iter().all(|r| r.mode == Mode::Skip) {
            None
        } else {
            Some(reply)
        };
        Ok(Outcome { reply, need, have })
    }

    /// Our answer to a range `[from, to)` (of our items) whose
    /// fingerprints differ: our pairs, or our pairs split in buckets.
    /// `false` when the reply has no room left (nothing was added).
    fn answer_mismatch(&self, out: &mut Builder<K, V>, from: usize, to: usize, upper: Option<K>) -> bool {
        let count = to - from;
        if count <= ITEMS_THRESHOLD {
            return out.items(&self.items[from..to], upper);
        }
        if out.ranges.len() + BUCKETS + 2 > MAX_RANGES {
            return false;
        }
        let mut start = from;
        for b in 1..=BUCKETS {
            let end = from + count * b / BUCKETS;
            let bound = if b == BUCKETS { upper } else { Some(self.items[end].0) };
            out.push(Range {
                upper: bound,
                mode: Mode::Fingerprint(self.fingerprint(start, end)),
            });
            start = end;
        }
        true
    }
}

/// Differences between our pairs and theirs in one range, both sorted by
/// key (checked): keys whose pair they have and we lack go to `need`,
/// keys whose pair we have and they lack to `have`.
fn diff<K: Ord + Copy, V: Eq>(ours: &[(K, V)], theirs: &[(K, V)], need: &mut Vec<K>, have: &mut Vec<K>) {
    let (mut i, mut j) = (0, 0);
    while i < ours.len() || j < theirs.len() {
        let order = match (ours.get(i), theirs.get(j)) {
            (Some(a), Some(b)) => a.0.cmp(&b.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                have.push(ours[i].0);
                i += 1;
            }
            Ordering::Greater => {
                need.push(theirs[j].0);
                j += 1;
            }
            Ordering::Equal => {
                if ours[i].1 != theirs[j].1 {
                    need.push(theirs[j].0);
                    have.push(ours[i].0);
                }
                i += 1;
                j += 1;
            }
        }
    }
}

/// Checks the bounds and order of a received message.
pub fn check<K: Ord, V>(message: &Message<K, V>) -> Result<(), Error> {
    let ranges = &message.ranges;
    if ranges.len() > MAX_RANGES {
        return Err(Error::TooManyRanges { count: ranges.len() });
    }
    let items = message.items();
    if items > MAX_ITEMS {
        return Err(Error::TooManyItems { count: items });
    }
    let mut lower: Option<&K> = None;
    for (index, range) in ranges.iter().enumerate() {
        if index > 0 && lower.is_none() {
            // A range after one that reached the end of the key space.
            return Err(Error::RangeOrder { index });
        }
        if let (Some(low), Some(up)) = (lower, range.upper.as_ref())
            && up <= low
        {
            return Err(Error::RangeOrder { index });
        }
        if let Mode::Items(pairs) = &range.mode {
            let sorted = pairs.windows(2).all(|w| w[0].0 < w[1].0);
            let above = match (lower, pairs.first()) {
                (Some(low), Some(first)) => first.0 >= *low,
                _ => true,
            };
            let below = match (range.upper.as_ref(), pairs.last()) {
                (Some(up), Some(last)) => last.0 < *up,
                _ => true,
            };
            if !(sorted && above && below) {
                return Err(Error::ItemOrder { index });
            }
        }
        lower = range.upper.as_ref();
    }
    if let Some(last) = ranges.last()
        && last.upper.is_some()
    {
        return Err(Error::Incomplete);
    }
    Ok(())
}

/// A reply under construction, within [`MAX_RANGES`] and [`MAX_ITEMS`].
#[derive(Debug)]
struct Builder<K, V> {
    ranges: Vec<Range<K, V>>,
    items: usize,
}

impl<K, V> Default for Builder<K, V> {
    fn default() -> Self {
        Self {
            ranges: Vec::new(),
            items: 0,
        }
    }
}

impl<K: Element + Ord, V: Element> Builder<K, V> {
    fn push(&mut self, range: Range<K, V>) {
        self.ranges.push(range);
    }

    fn skip(&mut self, upper: Option<K>) {
        if let Some(last) = self.ranges.last_mut()
            && last.mode == Mode::Skip
        {
            last.upper = upper;
            return;
        }
        self.ranges.push(Range {
            upper,
            mode: Mode::Skip,
        });
    }

    /// Adds our `pairs` up to `upper`; when they do not all fit, as many
    /// as fit in a range ending at the first pair left out (at least one
    /// pair, or none and `false`). `false`: the reply is full.
    fn items(&mut self, pairs: &[(K, V)], upper: Option<K>) -> bool {
        if self.ranges.len() + 2 > MAX_RANGES {
            return false;
        }
        let room = MAX_ITEMS - self.items;
        if pairs.len() <= room {
            self.items += pairs.len();
            self.ranges.push(Range {
                upper,
                mode: Mode::Items(pairs.to_vec()),
            });
            return true;
        }
        if room > 0 {
            self.items += room;
            self.ranges.push(Range {
                upper: Some(pairs[room].0),
                mode: Mode::Items(pairs[..room].to_vec()),
            });
        }
        false
    }

    /// Index (in `set`) where the ranges built so far end.
    fn last_upper_index(&self, set: &Set<K, V>) -> usize {
        match self.ranges.last() {
            None => 0,
            Some(r) => set.index(r.upper.as_ref()),
        }
    }

    /// Ends the reply with one fingerprint over the rest of the key space.
    fn rest(&mut self, fp: Fingerprint) {
        self.ranges.push(Range {
            upper: None,
            mode: Mode::Fingerprint(fp),
        });
    }

    fn finish(mut self) -> Message<K, V> {
        // A trailing skip up to the end says nothing the end does not.
        if self.ranges.len() == 1 && self.ranges[0].mode == Mode::Skip {
            self.ranges.clear();
        }
        Message { ranges: self.ranges }
    }
}

#[cfg(test)]
mod tests;
