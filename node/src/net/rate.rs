//! Per-peer budgets for inbound `/mutu/sync/1` requests: two token buckets
//! per peer, costed by what a request makes the node do.
//!
//! - **requests**: every request takes one token, whatever it asks (a
//!   summary hashes the whole inventory, an inventory answer lists up to
//!   [`super::sync::MAX_INVENTORY_DOCS`] entries, a `ChangesSince` asks
//!   Automerge for the hashes the peer lacks);
//! - **bytes**: a request that reads changes from the store is charged the
//!   bytes it read, after the fact ([`Limiter::charge`]). A request is
//!   served while the peer's byte bucket is not in debt, so one request can
//!   overdraw it by at most one page.
//!
//! A peer over either budget gets a cheap refusal (no store read, a short
//! error text): being busy is not forgery, so it is never struck. The
//! buckets refill continuously; a bucket that has refilled is the same as
//! no bucket, so it is forgotten ([`Limiter::forget_full`]), which keeps
//! the map as small as the set of recently active peers, and at most
//! [`MAX_BUCKETS`] (beyond that the fullest bucket, the one closest to a
//! fresh one, is dropped to make room).
//!
//! Pure: time is passed in, no clock is read here. Exact: levels are kept
//! in billionths of a token, so a refill over `n` ns adds `n × rate`.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Buckets kept at most. A bucket is 40 bytes and a map entry about 80, so
/// the map stays under 1 MiB.
pub const MAX_BUCKETS: usize = 8_192;

/// The budget of one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests a peer may send in a burst.
    pub requests_burst: u64,
    /// Requests per second a peer may keep sending.
    pub requests_per_s: u64,
    /// Work (bytes of stored changes read, and the like) a peer may cause
    /// in a burst.
    pub bytes_burst: u64,
    /// Work per second a peer may keep causing.
    pub bytes_per_s: u64,
}

impl Limits {
    /// Nothing limited (benchmarks that measure something else).
    pub const UNLIMITED: Self = Self {
        requests_burst: u64::MAX,
        requests_per_s: u64::MAX,
        bytes_burst: u64::MAX,
        bytes_per_s: u64::MAX,
    };
}

/// Billionths of a token per token.
const NANO: i128 = 1_000_000_000;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    /// No request token left; one is back after `retry`.
    Requests { retry: Duration },
    /// The byte bucket is in debt; it is back to zero after `retry`.
    Bytes { retry: Duration },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Requests { retry } => write!(
                f,
                "rate limited: too many sync requests from this peer, retry in {} ms",
                retry.as_millis().max(1)
            ),
            Refusal::Bytes { retry } => write!(
                f,
                "rate limited: this peer read too many changes, retry in {} ms",
                retry.as_millis().max(1)
            ),
        }
    }
}

/// Levels in billionths of a token (the byte level may be negative: debt).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    requests: i128,
    bytes: i128,
    at: Instant,
}

impl Bucket {
    fn full(limits: &Limits, now: Instant) -> Self {
        Self {
            requests: i128::from(limits.requests_burst) * NANO,
            bytes: i128::from(limits.bytes_burst) * NANO,
            at: now,
        }
    }

    /// Adds what refilled since the last update. Time going backwards (a
    /// caller mixing clocks) refills nothing.
    fn refill(&mut self, limits: &Limits, now: Instant) {
        let dt = i128::try_from(now.saturating_duration_since(self.at).as_nanos()).unwrap_or(i128::MAX);
        if dt > 0 {
            let add = |level: i128, per_s: u64, burst: u64| {
                level
                    .saturating_add(dt.saturating_mul(i128::from(per_s)))
                    .min(i128::from(burst) * NANO)
            };
            self.requests = add(self.requests, limits.requests_per_s, limits.requests_burst);
            self.bytes = add(self.bytes, limits.bytes_per_s, limits.bytes_burst);
            self.at = now;
        }
    }

    fn is_full(&self, limits: &Limits) -> bool {
        self.requests >= i128::from(limits.requests_burst) * NANO && self.bytes >= i128::from(limits.bytes_burst) * NANO
    }

    /// How full the bucket is, for choosing which to forget: the sum of
    /// both levels as shares of their bursts.
    fn fullness(&self, limits: &Limits) -> f64 {
        let share = |level: i128, burst: u64| level as f64 / (burst.max(1) as f64 * NANO as f64);
        share(self.requests, limits.requests_burst) + share(self.bytes, limits.bytes_burst)
    }
}

/// Time until `missing` billionths of a token refill at `per_s` tokens/s
/// (rounded up to the next nanosecond; capped at an hour).
fn wait(missing: i128, per_s: u64) -> Duration {
    if per_s == 0 {
        return Duration::from_secs(3600);
    }
    let per_s = i128::from(per_s);
    let nanos = (missing.max(0) + per_s - 1) / per_s;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)).min(Duration::from_secs(3600))
}

/// Token buckets per peer (any key: a `PeerId` in the node).
#[derive(Debug)]
pub struct Limiter<K> {
    limits: Limits,
    buckets: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buckets: HashMap::new(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes one request token from `peer`'s bucket, or says why not (then
    /// nothing is taken).
    pub fn admit(&mut self, peer: &K, now: Instant) -> Result<(), Refusal> {
        if !self.buckets.contains_key(peer) && self.buckets.len() >= MAX_BUCKETS {
            self.make_room(now);
        }
        let limits = self.limits;
        let bucket = self
            .buckets
            .entry(peer.clone())
            .or_insert_with(|| Bucket::full(&limits, now));
        bucket.refill(&limits, now);
        if bucket.requests < NANO {
            return Err(Refusal::Requests {
                retry: wait(NANO - bucket.requests, limits.requests_per_s),
            });
        }
        if bucket.bytes < 0 {
            return Err(Refusal::Bytes {
                retry: wait(-bucket.bytes, limits.bytes_per_s),
            });
        }
        bucket.requests -= NANO;
        Ok(())
    }

    /// Charges `peer` the `bytes` a served request read (the bucket may go
    /// into debt: the next request waits until it is paid back).
    pub fn charge(&mut self, peer: &K, bytes: u64, now: Instant) {
        let limits = self.limits;
        if let Some(bucket) = self.buckets.get_mut(peer) {
            bucket.refill(&limits, now);
            bucket.bytes = bucket.bytes.saturating_sub(i128::from(bytes).saturating_mul(NANO));
        }
    }

    /// Drops the buckets that have refilled (they equal fresh ones).
    pub fn forget_full(&mut self, now: Instant) {
        let limits = self.limits;
        self.buckets.retain(|_, b| {
            b.refill(&limits, now);
            !b.is_full(&limits)
        });
    }

    /// Buckets held.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Frees one slot at least: forgets full buckets, then, if none was,
    /// the bucket with the most tokens.
    fn make_room(&mut self, now: Instant) {
        self.forget_full(now);
        if self.buckets.len() < MAX_BUCKETS {
            return;
        }
        let limits = self.limits;
        let fullest = self
            .buckets
            .iter()
            .max_by(|(_, a), (_, b)| a.fullness(&limits).total_cmp(&b.fullness(&limits)))
            .map(|(k, _)| k.clone());
        if let Some(k) = fullest {
            self.buckets.remove(&k);
        }
    }
}

/// Answers handed to libp2p but not yet written out (or failed), per peer
/// and in all: what peers that do not read their answers make the node
/// hold. A new request is served only while both totals are under their
/// caps ([`InFlight::has_room`]), so each cap is exceeded by one answer at
/// most.
#[derive(Debug)]
pub struct InFlight<K, Id> {
    max_per_peer: u64,
    max_total: u64,
    by_id: HashMap<Id, (K, u64, Instant)>,
    by_peer: HashMap<K, u64>,
    total: u64,
}

/// Why [`InFlight::has_room`] said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// This peer has this many bytes of answers it has not read yet.
    Peer(u64),
    /// All peers together have this many.
    Total(u64),
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Busy::Peer(n) => write!(
                f,
                "rate limited: {n} bytes of earlier answers to this peer are still unread"
            ),
            Busy::Total(n) => write!(f, "rate limited: {n} bytes of answers to peers are still unread"),
        }
    }
}

impl<K: Hash + Eq + Clone, Id: Hash + Eq + Clone> InFlight<K, Id> {
    pub fn new(max_per_peer: u64, max_total: u64) -> Self {
        Self {
            max_per_peer,
            max_total,
            by_id: HashMap::new(),
            by_peer: HashMap::new(),
            total: 0,
        }
    }

    /// Whether an answer to `peer` may be added now.
    pub fn has_room(&self, peer: &K) -> Result<(), Busy> {
        let mine = self.by_peer.get(peer).copied().unwrap_or(0);
        if mine >= self.max_per_peer {
            return Err(Busy::Peer(mine));
        }
        if self.total >= self.max_total {
            return Err(Busy::Total(self.total));
        }
        Ok(())
    }

    /// An answer of `bytes` to `peer` was handed over at `now`.
    pub fn add(&mut self, id: Id, peer: K, bytes: u64, now: Instant) {
        *self.by_peer.entry(peer.clone()).or_insert(0) += bytes;
        self.total += bytes;
        if let Some((old_peer, old, _)) = self.by_id.insert(id, (peer, bytes, now)) {
            self.release(&old_peer, old);
        }
    }

    /// The answer `id` was written out, or failed.
    pub fn done(&mut self, id: &Id) {
        if let Some((peer, bytes, _)) = self.by_id.remove(id) {
            self.release(&peer, bytes);
        }
    }

    /// Forgets answers handed over before `before`: libp2p reports every
    /// answer's end within the request timeout, so this only guards
    /// against an end never reported.
    pub fn expire(&mut self, before: Instant) {
        let old: Vec<Id> = self
            .by_id
            .iter()
            .filter(|(_, (_, _, at))| *at < before)
            .map(|(id, _)| id.clone())
            .collect();
        for id in old {
            self.done(&id);
        }
    }

    fn release(&mut self, peer: &K, bytes: u64) {
        self.total = self.total.saturating_sub(bytes);
        if let Some(n) = self.by_peer.get_mut(peer) {
            *n = n.saturating_sub(bytes);
            if *n == 0 {
                self.by_peer.remove(peer);
            }
        }
    }

    /// Bytes of answers in flight, in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Answers in flight.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        requests_burst: 4,
        requests_per_s: 2,
        bytes_burst: 1_000,
        bytes_per_s: 100,
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_is_served_then_requests_refill_at_the_rate() {
        let t0 = Instant::now();
        let mut l = Limiter::new(LIMITS);
        for _ in 0..4 {
            assert_eq!(l.admit(&1, t0), Ok(()));
        }
        let refused = l.admit(&1, t0).unwrap_err();
        assert_eq!(refused, Refusal::Requests { retry: ms(500) });
        assert!(refused.to_string().starts_with("rate limited"), "{refused}");
        // A refused request takes nothing: half a second later, one token.
        assert_eq!(l.admit(&1, t0 + ms(499)), Err(Refusal::Requests { retry: ms(1) }));
        assert_eq!(l.admit(&1, t0 + ms(500)), Ok(()));
        assert!(l.admit(&1, t0 + ms(500)).is_err());
        // Over a long run, at most burst + rate × time.
        let mut served = 0;
        for step in 0..1_000u64 {
            if l.admit(&1, t0 + ms(500 + step * 10)).is_ok() {
                served += 1;
            }
        }
        assert!((19..=21).contains(&served), "{served} served in 10 s at 2/s");
    }

    #[test]
    fn peers_have_their_own_buckets() {
        let t0 = Instant::now();
        let mut l = Limiter::new(LIMITS);
        for _ in 0..4 {
            l.admit(&"a", t0).unwrap();
        }
        assert!(l.admit(&"a", t0).is_err());
        assert_eq!(l.admit(&"b", t0), Ok(()));
    }

    #[test]
    fn bytes_read_are_charged_after_the_fact_and_debt_blocks_until_repaid() {
        let t0 = Instant::now();
        let mut l = Limiter::new(LIMITS);
        l.admit(&1, t0).unwrap();
        l.charge(&1, 900, t0);
        // 100 bytes left: the next request is served and overdraws.
        l.admit(&1, t0).unwrap();
        l.charge(&1, 600, t0);
        assert_eq!(l.admit(&1, t0), Err(Refusal::Bytes { retry: ms(5_000) }));
        assert!(l.admit(&1, t0 + ms(4_999)).is_err());
        assert_eq!(l.admit(&1, t0 + ms(5_000)), Ok(()));
        // Charging a peer without a bucket does nothing.
        l.charge(&2, 10_000, t0);
        assert_eq!(l.admit(&2, t0), Ok(()));
    }

    #[test]
    fn refilled_buckets_are_forgotten_and_the_map_is_bounded() {
        let t0 = Instant::now();
        let mut l = Limiter::new(LIMITS);
        l.admit(&1, t0).unwrap();
        l.admit(&2, t0).unwrap();
        l.charge(&2, 1_000, t0);
        l.forget_full(t0 + ms(499));
        assert_eq!(l.len(), 2);
        // 1 has its token back after 0.5 s; 2 its bytes after 10 s.
        l.forget_full(t0 + ms(500));
        assert_eq!(l.len(), 1);
        l.forget_full(t0 + ms(10_000));
        assert!(l.is_empty());

        // Many peers at once: never more than MAX_BUCKETS; the newest
        // always gets a bucket (room is made by dropping the fullest, here
        // the peer that read least).
        let mut l = Limiter::new(Limits {
            bytes_burst: 1_000_000_000,
            ..LIMITS
        });
        for p in 0..MAX_BUCKETS as u64 + 10 {
            l.admit(&p, t0).unwrap();
            l.charge(&p, p, t0);
            assert!(l.len() <= MAX_BUCKETS);
        }
        assert_eq!(l.len(), MAX_BUCKETS);
        // The most indebted peers are still tracked.
        let last = MAX_BUCKETS as u64 + 9;
        for _ in 0..3 {
            l.admit(&last, t0).unwrap();
        }
        assert!(l.admit(&last, t0).is_err());
    }

    #[test]
    fn time_going_backwards_refills_nothing() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut l = Limiter::new(LIMITS);
        for _ in 0..4 {
            l.admit(&1, t0).unwrap();
        }
        assert!(l.admit(&1, t0 - Duration::from_secs(5)).is_err());
        assert!(l.admit(&1, t0).is_err());
    }

    #[test]
    fn answers_in_flight_are_capped_per_peer_and_in_all() {
        let t0 = Instant::now();
        let mut f: InFlight<&str, u32> = InFlight::new(100, 250);
        assert_eq!(f.has_room(&"a"), Ok(()));
        f.add(1, "a", 60, t0);
        assert_eq!(f.has_room(&"a"), Ok(()));
        // The answer that crosses the cap is allowed, the next is not.
        f.add(2, "a", 60, t0);
        let busy = f.has_room(&"a").unwrap_err();
        assert_eq!(busy, Busy::Peer(120));
        assert!(busy.to_string().starts_with("rate limited"), "{busy}");
        assert_eq!(f.has_room(&"b"), Ok(()));
        f.add(3, "b", 90, t0);
        f.add(4, "c", 90, t0);
        assert_eq!(f.has_room(&"d"), Err(Busy::Total(300)));
        // Written out: room again.
        f.done(&1);
        f.done(&1);
        assert_eq!(f.total(), 240);
        assert_eq!(f.has_room(&"a"), Ok(()));
        assert_eq!(f.has_room(&"d"), Ok(()));
        // An end never reported is forgotten after a while.
        f.add(5, "d", 10, t0 + ms(10));
        f.expire(t0 + ms(5));
        assert_eq!((f.len(), f.total()), (1, 10));
        f.done(&5);
        assert!(f.is_empty());
        assert_eq!(f.total(), 0);
        assert_eq!(f.has_room(&"a"), Ok(()));
    }

    #[test]
    fn unlimited_serves_everything() {
        let t0 = Instant::now();
        let mut l = Limiter::new(Limits::UNLIMITED);
        for _ in 0..10_000 {
            l.admit(&1, t0).unwrap();
            l.charge(&1, u32::MAX.into(), t0);
        }
    }
}
