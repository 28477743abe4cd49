//! Catch-up progress, as `mutu status` and the network page show it: the
//! documents peers announced that this node lacks (an inventory or a
//! reconciliation found them), how many are fetched, the records that came
//! in, the rate and an estimate of the time left. Pure: the actor feeds it
//! with the time and the record count.
//!
//! A catch-up starts when a document is announced while none is left to
//! fetch, and ends when every announced document is fetched or when no
//! pull is left in flight (a peer that left takes its documents with it:
//! the next pass announces them again).

use std::collections::HashSet;
use std::time::Instant;

use mutu_protocol::MemberId;

/// Documents remembered at most (a national network holds ~10⁵ members;
/// beyond, announcements are not tracked): what a peer announcing made-up
/// documents can make this node hold, about 8 MB.
const MAX_TRACKED: usize = 200_000;

/// A catch-up under way.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CatchUp {
    /// Documents announced since the catch-up started.
    pub documents_announced: usize,
    /// Of those, documents fetched whole.
    pub documents_fetched: usize,
    /// Records this node gained since the catch-up started.
    pub records_fetched: usize,
    /// Seconds since it started.
    pub elapsed_s: f64,
    /// Records per second since it started.
    pub records_per_s: f64,
    /// Estimated seconds left, at the documents' pace so far (`None`
    /// until one document is fetched).
    pub eta_s: Option<f64>,
}

/// The tracker the actor keeps.
#[derive(Debug, Default)]
pub struct Progress {
    started: Option<(Instant, usize)>,
    announced: HashSet<MemberId>,
    fetched: HashSet<MemberId>,
}

impl Progress {
    /// Peers announced `docs`, which this node lacks, at `now` with
    /// `records` records; `pulling`: a pull was in flight or queued before
    /// (else a catch-up that stalled is over and a new one starts).
    pub fn announce(&mut self, docs: &[MemberId], now: Instant, records: usize, pulling: bool) {
        if docs.is_empty() {
            return;
        }
        if self.started.is_none() || self.remaining() == 0 || !pulling {
            self.started = Some((now, records));
            self.announced.clear();
            self.fetched.clear();
        }
        for doc in docs {
            if self.announced.len() < MAX_TRACKED {
                self.announced.insert(*doc);
            }
        }
    }

    /// `doc` was fetched whole (a pull answered without `more`).
    pub fn fetched(&mut self, doc: MemberId) {
        if self.announced.contains(&doc) {
            self.fetched.insert(doc);
        }
    }

    fn remaining(&self) -> usize {
        self.announced.len() - self.fetched.len()
    }

    /// The catch-up under way, if any: `pulling` says whether a pull is
    /// still in flight or queued.
    pub fn report(&self, now: Instant, records: usize, pulling: bool) -> Option<CatchUp> {
        let (start, records_at_start) = self.started?;
        if self.remaining() == 0 || !pulling {
            return None;
        }
        let elapsed = now.saturating_duration_since(start).as_secs_f64();
        let records_fetched = records.saturating_sub(records_at_start);
        let per_s = |n: usize| if elapsed > 0.0 { n as f64 / elapsed } else { 0.0 };
        let docs_per_s = per_s(self.fetched.len());
        Some(CatchUp {
            documents_announced: self.announced.len(),
            documents_fetched: self.fetched.len(),
            records_fetched,
            elapsed_s: elapsed,
            records_per_s: per_s(records_fetched),
            eta_s: (docs_per_s > 0.0).then(|| self.remaining() as f64 / docs_per_s),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn doc(i: u8) -> MemberId {
        MemberId::from_bytes([i; 32])
    }

    #[test]
    fn a_catch_up_reports_its_progress_and_ends_when_all_is_fetched() {
        let t0 = Instant::now();
        let mut p = Progress::default();
        assert_eq!(p.report(t0, 10, true), None);
        p.announce(&[doc(1), doc(2), doc(3), doc(4)], t0, 10, false);
        p.fetched(doc(1));
        p.fetched(doc(9)); // never announced: not counted
        let r = p.report(t0 + Duration::from_secs(2), 110, true).unwrap();
        assert_eq!(
            (r.documents_announced, r.documents_fetched, r.records_fetched),
            (4, 1, 100)
        );
        assert_eq!(r.records_per_s, 50.0);
        // One document in 2 s, three left: 6 s.
        assert_eq!(r.eta_s, Some(6.0));
        for d in [2, 3, 4] {
            p.fetched(doc(d));
        }
        assert_eq!(p.report(t0 + Duration::from_secs(3), 400, true), None);
        // A new announcement starts a new catch-up.
        p.announce(&[doc(5)], t0 + Duration::from_secs(4), 400, true);
        let r = p.report(t0 + Duration::from_secs(5), 400, true).unwrap();
        assert_eq!((r.documents_announced, r.documents_fetched, r.eta_s), (1, 0, None));
    }

    #[test]
    fn a_catch_up_with_no_pull_left_is_over() {
        let t0 = Instant::now();
        let mut p = Progress::default();
        p.announce(&[doc(1), doc(2)], t0, 0, false);
        assert!(p.report(t0, 0, true).is_some());
        assert_eq!(p.report(t0, 0, false), None);
        // The next announcement after the stall starts afresh.
        p.fetched(doc(1));
        p.announce(&[doc(3)], t0, 5, false);
        let r = p.report(t0, 5, true).unwrap();
        assert_eq!(
            (r.documents_announced, r.documents_fetched, r.records_fetched),
            (1, 0, 0)
        );
    }
}
