//! Who a node replicates: the trust set, the replication policy and the
//! quotas of strangers (issue 9).
//!
//! - The **trust set** ([`Set::compute`]) is the node's own member, the
//!   members it follows (its `follow` records) and the members within
//!   `hops` vouch steps of those, breadth first, at most [`MAX_TRUSTED`]
//!   members (the nearest, ties by id). It depends only on the records, not
//!   on the order they came in.
//! - The **policy** ([`Policy`]) has a [`Scope`]: `trusted` admits the
//!   documents of trust-set members only; `open` admits everyone, strangers
//!   (members outside the trust set) under [`Quotas`].
//! - The **inbox**: a stranger's statements that answer the trust set (a
//!   cosign, pledge or offer on a trust-set member's need, a usage of a
//!   trust-set member's project; [`answers_trusted`]) are admitted in both
//!   scopes under their own small quota (`inbox_docs`, `inbox_bytes`), with
//!   the rest of their author's document (the answer depends on it), so a
//!   newcomer can still reach a coalition.
//! - The **gate** ([`Gate`]) applies the policy to each change a peer hands
//!   over, before admission, and counts what it ignores. A change ignored
//!   here is not the relaying peer's fault: gossip reports `Ignore`, never
//!   `Reject`.
//!
//! Pure: time is a parameter.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use automerge::ScalarValue;
use automerge::legacy::OpType;

use crate::change::SignedChange;
use crate::identity::MemberId;
use crate::record::{Body, Kind, SignedRecord};
use crate::registry::Source;
use crate::time::Timestamp;
use crate::view::Index;

/// The default number of vouch steps from the members a node follows.
pub const DEFAULT_HOPS: u8 = 2;
/// At most this many vouch steps (a larger setting is refused by the config).
pub const MAX_HOPS: u8 = 6;
/// At most this many members in a trust set: the nearest are kept.
pub const MAX_TRUSTED: usize = 100_000;
/// A peer's window for [`Quotas::docs_per_peer_hour`].
pub const PEER_WINDOW_MS: u64 = 3_600_000;
/// At most this many peers' windows are kept at once; a peer beyond them
/// brings no new stranger document until the oldest windows end.
pub const MAX_PEER_WINDOWS: usize = 4_096;

/// The members a node replicates when its scope is `trusted`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Set {
    members: BTreeSet<MemberId>,
}

impl Set {
    /// `me`, the members `me` follows, then breadth first along vouches
    /// (`(voucher, vouched)`) from those, at most `hops` steps (capped at
    /// [`MAX_HOPS`]) and [`MAX_TRUSTED`] members: each step's newcomers are
    /// taken in id order, so the result does not depend on the order of
    /// `follows` and `vouches`.
    pub fn compute(
        me: MemberId,
        follows: impl IntoIterator<Item = MemberId>,
        vouches: impl IntoIterator<Item = (MemberId, MemberId)>,
        hops: u8,
    ) -> Self {
        let mut graph: BTreeMap<MemberId, BTreeSet<MemberId>> = BTreeMap::new();
        for (from, to) in vouches {
            graph.entry(from).or_default().insert(to);
        }
        let mut members = BTreeSet::from([me]);
        let roots: BTreeSet<MemberId> = follows.into_iter().collect();
        let mut frontier = BTreeSet::from([me]);
        for m in roots {
            if members.len() >= MAX_TRUSTED {
                break;
            }
            if members.insert(m) {
                frontier.insert(m);
            }
        }
        for _ in 0..hops.min(MAX_HOPS) {
            let next: BTreeSet<MemberId> = frontier
                .iter()
                .filter_map(|m| graph.get(m))
                .flatten()
                .filter(|m| !members.contains(m))
                .copied()
                .collect();
            frontier = BTreeSet::new();
            for m in next {
                if members.len() >= MAX_TRUSTED {
                    break;
                }
                members.insert(m);
                frontier.insert(m);
            }
            if frontier.is_empty() {
                break;
            }
        }
        Self { members }
    }

    /// The trust set of `me` from the visible records of `index`: `me`'s
    /// follows and everyone's vouches (only those of members reached count).
    pub fn from_index(me: MemberId, index: &Index, hops: u8) -> Self {
        let mut follows = Vec::new();
        let mut vouches = Vec::new();
        for r in index.visible() {
            let rec = r.record();
            match &rec.body {
                Body::Follow(f) if rec.author == me => follows.push(f.member),
                Body::Vouch(v) => vouches.push((rec.author, v.member)),
                _ => {}
            }
        }
        Self::compute(me, follows, vouches, hops)
    }

    pub fn contains(&self, member: &MemberId) -> bool {
        self.members.contains(member)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &MemberId> {
        self.members.iter()
    }
}

/// Members listed by the moderation lists `me` subscribes to (its follows
/// with `moderation`, of members in `set`), `me` and its follows excepted
/// (a member one follows by name stays; unfollow it to let a list apply).
pub fn moderated(me: MemberId, index: &Index, set: &Set) -> HashSet<MemberId> {
    let mut subscribed = HashSet::new();
    let mut followed = HashSet::from([me]);
    for r in index.visible() {
        if let Body::Follow(f) = &r.record().body
            && r.record().author == me
        {
            followed.insert(f.member);
            if f.moderation && set.contains(&f.member) {
                subscribed.insert(f.member);
            }
        }
    }
    index
        .visible()
        .filter(|r| subscribed.contains(&r.record().author))
        .filter_map(|r| match &r.record().body {
            Body::Moderation(m) => Some(m.entries.iter().map(|e| e.member)),
            _ => None,
        })
        .flatten()
        .filter(|m| !followed.contains(m))
        .collect()
}

/// Whether a record kind can change a trust set (follows, vouches, and the
/// tombstones that retract them).
pub fn shapes_trust(kind: Kind) -> bool {
    matches!(kind, Kind::Follow | Kind::Vouch | Kind::Moderation | Kind::Tombstone)
}

/// Whose documents a node admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Only the trust set's.
    Trusted,
    /// Everyone's, strangers under [`Quotas`].
    Open,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Trusted => "trusted",
            Scope::Open => "open",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What strangers may make an `open` node hold. Sizes are of the changes'
/// bytes as received (compressed changes are refused, so these are decoded
/// sizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// New stranger documents one peer may bring in per hour.
    pub docs_per_peer_hour: u32,
    /// Changes per stranger document.
    pub changes_per_doc: u32,
    /// Bytes per stranger document.
    pub bytes_per_doc: u64,
    /// Bytes of all strangers' changes together.
    pub stranger_bytes: u64,
    /// Strangers' documents admitted because they answer the trust set.
    pub inbox_docs: u32,
    /// Bytes of those documents together.
    pub inbox_bytes: u64,
}

impl Default for Quotas {
    /// Sized for an association's node: about 300 members it trusts, a few
    /// hundred strangers a day at most worth holding. 64 MiB of strangers
    /// in all is a fraction of what a small VPS holds.
    fn default() -> Self {
        Self {
            docs_per_peer_hour: 64,
            changes_per_doc: 4_096,
            bytes_per_doc: 4 * 1024 * 1024,
            stranger_bytes: 64 * 1024 * 1024,
            inbox_docs: 64,
            inbox_bytes: 4 * 1024 * 1024,
        }
    }
}

impl Quotas {
    /// No quota at all: what every node did before policies existed (for
    /// benchmarks measuring sync alone; a public node wants the defaults).
    pub const NONE: Quotas = Quotas {
        docs_per_peer_hour: u32::MAX,
        changes_per_doc: u32::MAX,
        bytes_per_doc: u64::MAX,
        stranger_bytes: u64::MAX,
        inbox_docs: u32::MAX,
        inbox_bytes: u64::MAX,
    };
}

/// A node's replication policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub scope: Scope,
    pub hops: u8,
    pub quotas: Quotas,
}

impl Policy {
    /// `open` without quotas: every valid document is admitted.
    pub const EVERYONE: Policy = Policy {
        scope: Scope::Open,
        hops: DEFAULT_HOPS,
        quotas: Quotas::NONE,
    };
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            scope: Scope::Open,
            hops: DEFAULT_HOPS,
            quotas: Quotas::default(),
        }
    }
}

/// Why the gate ignored a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ignored {
    /// `trusted` scope: its member is outside the trust set.
    Untrusted,
    /// Its peer brought its hour's share of new stranger documents.
    PeerDocs,
    /// Its document holds its share of changes.
    DocChanges,
    /// Its document holds its share of bytes.
    DocBytes,
    /// Strangers hold their share of bytes.
    StrangerBytes,
    /// An answer to the trust set, past the inbox's quota.
    InboxFull,
    /// Its member is on a moderation list this node subscribes to.
    Moderated,
}

/// Changes the gate ignored, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub untrusted: u64,
    pub peer_docs: u64,
    pub doc_changes: u64,
    pub doc_bytes: u64,
    pub stranger_bytes: u64,
    pub inbox_full: u64,
    pub moderated: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.untrusted
            + self.peer_docs
            + self.doc_changes
            + self.doc_bytes
            + self.stranger_bytes
            + self.inbox_full
            + self.moderated
    }

    fn count(&mut self, why: Ignored) {
        let c = match why {
            Ignored::Untrusted => &mut self.untrusted,
            Ignored::PeerDocs => &mut self.peer_docs,
            Ignored::DocChanges => &mut self.doc_changes,
            Ignored::DocBytes => &mut self.doc_bytes,
            Ignored::StrangerBytes => &mut self.stranger_bytes,
            Ignored::InboxFull => &mut self.inbox_full,
            Ignored::Moderated => &mut self.moderated,
        };
        *c += 1;
    }
}

/// What a stranger's document has taken of its quotas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Use {
    changes: u64,
    bytes: u64,
}

/// A peer's new stranger documents in its current hour.
#[derive(Debug, Clone)]
struct Window {
    start: Timestamp,
    docs: HashSet<MemberId>,
}

/// The policy applied to changes before admission, with what strangers
/// have taken of their quotas.
///
/// A change is charged when it goes to admission (a duplicate or a change
/// admission refuses is charged too: gossip deduplicates messages and sync
/// pulls only missing changes, so honest duplicates are rare, and a peer
/// sending junk uses up its strangers' quotas, never a trusted member's).
#[derive(Debug, Clone)]
pub struct Gate {
    policy: Policy,
    set: Set,
    docs: HashMap<MemberId, Use>,
    peers: HashMap<Source, Window>,
    stranger_bytes: u64,
    /// Strangers' documents in the inbox.
    inbox: HashMap<MemberId, Use>,
    inbox_bytes: u64,
    /// Members listed by the moderation lists this node subscribes to.
    moderated: HashSet<MemberId>,
    ignored: Counts,
}

/// Whether a stranger's change answers the trust set: at least one record
/// it writes is a cosign, pledge or offer on a need, or a usage of a
/// project, whose author is in `set` (as `index` knows it). The bytes are
/// decoded by [`SignedChange::decode`]'s bounded walk; signatures are
/// admission's business (a forged answer is rejected there, and its
/// document takes only inbox quota meanwhile).
pub fn answers_trusted(change: &SignedChange, index: &Index, set: &Set) -> bool {
    let Ok(decoded) = change.decode() else {
        return false;
    };
    let target_trusted = |id: &crate::record::RecordId| index.get(id).is_some_and(|r| set.contains(&r.record().author));
    decoded.decode().operations.iter().any(|op| match &op.action {
        OpType::Put(ScalarValue::Bytes(b)) => SignedRecord::decode(b).is_ok_and(|r| match &r.record().body {
            Body::Cosign(c) => target_trusted(&c.need),
            Body::Pledge(p) => target_trusted(&p.need),
            Body::Offer(o) => target_trusted(&o.need),
            Body::Usage(u) => target_trusted(&u.project),
            _ => false,
        }),
        _ => false,
    })
}

/// Members outside `set` whose visible records in `index` answer it (as
/// [`answers_trusted`] says of a change): the inbox, worked out again from
/// what a node holds when it opens.
pub fn answering(index: &Index, set: &Set) -> HashSet<MemberId> {
    let target_trusted = |id: &crate::record::RecordId| index.get(id).is_some_and(|r| set.contains(&r.record().author));
    index
        .visible()
        .filter(|r| !set.contains(&r.record().author))
        .filter(|r| match &r.record().body {
            Body::Cosign(c) => target_trusted(&c.need),
            Body::Pledge(p) => target_trusted(&p.need),
            Body::Offer(o) => target_trusted(&o.need),
            Body::Usage(u) => target_trusted(&u.project),
            _ => false,
        })
        .map(|r| r.record().author)
        .collect()
}

impl Gate {
    pub fn new(policy: Policy, set: Set) -> Self {
        Self {
            policy,
            set,
            docs: HashMap::new(),
            peers: HashMap::new(),
            stranger_bytes: 0,
            inbox: HashMap::new(),
            inbox_bytes: 0,
            moderated: HashSet::new(),
            ignored: Counts::default(),
        }
    }

    /// Strangers' documents admitted as answers to the trust set.
    pub fn inbox(&self) -> impl Iterator<Item = &MemberId> {
        self.inbox.keys()
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn set(&self) -> &Set {
        &self.set
    }

    /// Replaces the trust set (recomputed after follows or vouches
    /// changed); members who joined it stop counting as strangers.
    pub fn set_trusted(&mut self, set: Set) {
        let joined: Vec<MemberId> = self
            .docs
            .keys()
            .chain(self.inbox.keys())
            .filter(|m| set.contains(m))
            .copied()
            .collect();
        for m in joined {
            if let Some(u) = self.docs.remove(&m) {
                self.stranger_bytes = self.stranger_bytes.saturating_sub(u.bytes);
            }
            if let Some(u) = self.inbox.remove(&m) {
                self.inbox_bytes = self.inbox_bytes.saturating_sub(u.bytes);
            }
        }
        self.set = set;
    }

    /// Counts what a stranger's document already held here takes (when
    /// the node opens its store), without any peer's window.
    pub fn seed(&mut self, doc: MemberId, changes: u64, bytes: u64) {
        if self.set.contains(&doc) {
            return;
        }
        let u = self.docs.entry(doc).or_default();
        u.changes = u.changes.saturating_add(changes);
        u.bytes = u.bytes.saturating_add(bytes);
        self.stranger_bytes = self.stranger_bytes.saturating_add(bytes);
    }

    /// Counts an inbox document already held here (when the node opens
    /// its store).
    pub fn seed_inbox(&mut self, doc: MemberId, changes: u64, bytes: u64) {
        if self.set.contains(&doc) {
            return;
        }
        let u = self.inbox.entry(doc).or_default();
        u.changes = u.changes.saturating_add(changes);
        u.bytes = u.bytes.saturating_add(bytes);
        self.inbox_bytes = self.inbox_bytes.saturating_add(bytes);
    }

    /// Replaces the members the subscribed moderation lists name.
    pub fn set_moderated(&mut self, moderated: HashSet<MemberId>) {
        self.moderated = moderated;
    }

    /// Whether a member is on a subscribed moderation list.
    pub fn is_moderated(&self, member: &MemberId) -> bool {
        self.moderated.contains(member)
    }

    /// Members on the subscribed moderation lists.
    pub fn moderated(&self) -> &HashSet<MemberId> {
        &self.moderated
    }

    /// Whether the gate can turn anything away (not [`Policy::EVERYONE`]):
    /// if not, nobody needs to look for answers to the trust set.
    pub fn may_refuse(&self) -> bool {
        self.policy.scope == Scope::Trusted || self.policy.quotas != Quotas::NONE || !self.moderated.is_empty()
    }

    /// Whether a stranger's document is in the inbox.
    pub fn in_inbox(&self, doc: &MemberId) -> bool {
        self.inbox.contains_key(doc)
    }

    /// Forgets what an evicted document took of the quotas.
    pub fn forget(&mut self, doc: &MemberId) {
        if let Some(u) = self.docs.remove(doc) {
            self.stranger_bytes = self.stranger_bytes.saturating_sub(u.bytes);
        }
        if let Some(u) = self.inbox.remove(doc) {
            self.inbox_bytes = self.inbox_bytes.saturating_sub(u.bytes);
        }
    }

    /// Changes ignored so far, by reason.
    pub fn ignored(&self) -> Counts {
        self.ignored
    }

    /// Bytes strangers' documents take.
    pub fn stranger_bytes(&self) -> u64 {
        self.stranger_bytes
    }

    /// Whether a document is worth asking a peer for: a trust-set member's,
    /// or (`open`) a stranger's below its quotas.
    pub fn wants(&self, doc: &MemberId) -> bool {
        if self.moderated.contains(doc) {
            return false;
        }
        if self.set.contains(doc) {
            return true;
        }
        if let Some(u) = self.inbox.get(doc) {
            let q = &self.policy.quotas;
            return u.changes < u64::from(q.changes_per_doc)
                && u.bytes < q.bytes_per_doc
                && self.inbox_bytes < q.inbox_bytes;
        }
        match self.policy.scope {
            Scope::Trusted => false,
            Scope::Open => {
                let q = &self.policy.quotas;
                let u = self.docs.get(doc).copied().unwrap_or_default();
                u.changes < u64::from(q.changes_per_doc)
                    && u.bytes < q.bytes_per_doc
                    && self.stranger_bytes < q.stranger_bytes
            }
        }
    }

    /// Whether a change of `doc`, `bytes` long, from `peer`, goes to
    /// admission at `now`. If it does, it is charged to the quotas; if not,
    /// it is counted. `answers` tells whether the change answers the trust
    /// set (see [`answers_trusted`]); it is asked only of a stranger's
    /// change whose document is not in the inbox yet.
    pub fn take(
        &mut self,
        peer: Source,
        doc: MemberId,
        bytes: u64,
        now: Timestamp,
        answers: impl FnOnce(&Set) -> bool,
    ) -> Result<(), Ignored> {
        let verdict = if self.moderated.contains(&doc) {
            Err(Ignored::Moderated)
        } else if self.set.contains(&doc) {
            Ok(())
        } else if self.inbox.contains_key(&doc) || answers(&self.set) {
            self.take_inbox(doc, bytes)
        } else {
            self.check(peer, doc, bytes, now)
        };
        match verdict {
            Ok(()) => {}
            Err(why) => self.ignored.count(why),
        }
        verdict
    }

    /// Charges an answer to the trust set (or a change of a document that
    /// holds one) to the inbox.
    fn take_inbox(&mut self, doc: MemberId, bytes: u64) -> Result<(), Ignored> {
        let q = self.policy.quotas;
        let u = match self.inbox.get(&doc) {
            Some(u) => *u,
            None if self.inbox.len() >= q.inbox_docs as usize => return Err(Ignored::InboxFull),
            None => Use::default(),
        };
        if u.changes.saturating_add(1) > u64::from(q.changes_per_doc)
            || u.bytes.saturating_add(bytes) > q.bytes_per_doc
            || self.inbox_bytes.saturating_add(bytes) > q.inbox_bytes
        {
            return Err(Ignored::InboxFull);
        }
        // A document that was a plain stranger's moves to the inbox.
        if let Some(old) = self.docs.remove(&doc) {
            self.stranger_bytes = self.stranger_bytes.saturating_sub(old.bytes);
        }
        let u = self.inbox.entry(doc).or_default();
        u.changes = u.changes.saturating_add(1);
        u.bytes = u.bytes.saturating_add(bytes);
        self.inbox_bytes = self.inbox_bytes.saturating_add(bytes);
        Ok(())
    }

    fn check(&mut self, peer: Source, doc: MemberId, bytes: u64, now: Timestamp) -> Result<(), Ignored> {
        if self.policy.scope == Scope::Trusted {
            return Err(Ignored::Untrusted);
        }
        let q = self.policy.quotas;
        let u = self.docs.get(&doc).copied().unwrap_or_default();
        if u.changes.saturating_add(1) > u64::from(q.changes_per_doc) {
            return Err(Ignored::DocChanges);
        }
        if u.bytes.saturating_add(bytes) > q.bytes_per_doc {
            return Err(Ignored::DocBytes);
        }
        if self.stranger_bytes.saturating_add(bytes) > q.stranger_bytes {
            return Err(Ignored::StrangerBytes);
        }
        let new_doc = !self.docs.contains_key(&doc);
        if new_doc && peer != Source::LOCAL {
            self.peer_brings(peer, doc, now)?;
        }
        let u = self.docs.entry(doc).or_default();
        u.changes = u.changes.saturating_add(1);
        u.bytes = u.bytes.saturating_add(bytes);
        self.stranger_bytes = self.stranger_bytes.saturating_add(bytes);
        Ok(())
    }

    /// Charges a new stranger document to `peer`'s window.
    fn peer_brings(&mut self, peer: Source, doc: MemberId, now: Timestamp) -> Result<(), Ignored> {
        let ended = |w: &Window| now.as_millis().saturating_sub(w.start.as_millis()) >= PEER_WINDOW_MS;
        if !self.peers.contains_key(&peer) && self.peers.len() >= MAX_PEER_WINDOWS {
            self.peers.retain(|_, w| !ended(w));
            if self.peers.len() >= MAX_PEER_WINDOWS {
                return Err(Ignored::PeerDocs);
            }
        }
        let w = self.peers.entry(peer).or_insert_with(|| Window {
            start: now,
            docs: HashSet::new(),
        });
        if ended(w) {
            *w = Window {
                start: now,
                docs: HashSet::new(),
            };
        }
        if w.docs.len() >= self.policy.quotas.docs_per_peer_hour as usize {
            return Err(Ignored::PeerDocs);
        }
        w.docs.insert(doc);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;
    use crate::identity::SecretKey;

    fn m(n: u8) -> MemberId {
        SecretKey::from_bytes(&[n; 32]).member_id()
    }

    // me=1 follows 2; vouches: 2→3, 3→4, 4→5, 9→1 (nobody reaches 9), 6→7.
    //
    //   1 ──follow──▶ 2 ──vouch──▶ 3 ──▶ 4 ──▶ 5        9 ──▶ 1     6 ──▶ 7
    fn chain() -> Vec<(MemberId, MemberId)> {
        vec![(m(2), m(3)), (m(3), m(4)), (m(4), m(5)), (m(9), m(1)), (m(6), m(7))]
    }

    #[test]
    fn the_set_is_me_whom_i_follow_and_their_vouches_within_hops() {
        let set = |hops| Set::compute(m(1), [m(2)], chain(), hops);
        let ids = |s: Set| s.iter().copied().collect::<BTreeSet<_>>();
        assert_eq!(ids(set(0)), BTreeSet::from([m(1), m(2)]));
        assert_eq!(ids(set(1)), BTreeSet::from([m(1), m(2), m(3)]));
        assert_eq!(ids(set(2)), BTreeSet::from([m(1), m(2), m(3), m(4)]));
        assert_eq!(ids(set(200)), BTreeSet::from([m(1), m(2), m(3), m(4), m(5)]));
        // Who vouches for me is not whom I trust; an unreached vouch counts for nothing.
        assert!(!set(200).contains(&m(9)) && !set(200).contains(&m(7)));
        // Following nobody: me, and those I vouch for.
        let alone = Set::compute(m(1), [], [(m(1), m(6)), (m(6), m(7))], 1);
        assert_eq!(ids(alone), BTreeSet::from([m(1), m(6)]));
    }

    #[test]
    fn trusted_scope_ignores_strangers_and_counts_them() {
        let policy = Policy {
            scope: Scope::Trusted,
            ..Policy::default()
        };
        let mut gate = Gate::new(policy, Set::compute(m(1), [m(2)], [], 0));
        assert_eq!(gate.take(Source(7), m(2), 100, Timestamp(0), |_| false), Ok(()));
        assert_eq!(
            gate.take(Source(7), m(3), 100, Timestamp(0), |_| false),
            Err(Ignored::Untrusted)
        );
        assert!(!gate.wants(&m(3)) && gate.wants(&m(2)));
        assert_eq!(gate.ignored().untrusted, 1);
        // m(3) joins the set: admitted from now on.
        gate.set_trusted(Set::compute(m(1), [m(2), m(3)], [], 0));
        assert_eq!(gate.take(Source(7), m(3), 100, Timestamp(0), |_| false), Ok(()));
    }

    #[test]
    fn open_scope_holds_strangers_to_their_quotas() {
        let quotas = Quotas {
            docs_per_peer_hour: 2,
            changes_per_doc: 3,
            bytes_per_doc: 250,
            stranger_bytes: 1_000,
            ..Quotas::default()
        };
        let policy = Policy {
            scope: Scope::Open,
            hops: 0,
            quotas,
        };
        let mut gate = Gate::new(policy, Set::compute(m(1), [], [], 0));
        let t = Timestamp(1_000);
        // Changes per document.
        for _ in 0..3 {
            assert_eq!(gate.take(Source(7), m(2), 10, t, |_| false), Ok(()));
        }
        assert_eq!(gate.take(Source(7), m(2), 10, t, |_| false), Err(Ignored::DocChanges));
        assert!(!gate.wants(&m(2)));
        // Bytes per document.
        assert_eq!(gate.take(Source(7), m(3), 200, t, |_| false), Ok(()));
        assert_eq!(gate.take(Source(7), m(3), 60, t, |_| false), Err(Ignored::DocBytes));
        // Documents per peer per hour: peer 7 brought 2 already; another peer may.
        assert_eq!(gate.take(Source(7), m(4), 10, t, |_| false), Err(Ignored::PeerDocs));
        assert_eq!(gate.take(Source(8), m(4), 10, t, |_| false), Ok(()));
        // An hour later, peer 7 may bring more.
        let later = Timestamp(1_000 + PEER_WINDOW_MS);
        assert_eq!(gate.take(Source(7), m(5), 250, later, |_| false), Ok(()));
        // All strangers' bytes: 30 + 200 + 10 + 250 = 490 held; 2 × 250 more fill it.
        assert_eq!(gate.take(Source(8), m(6), 250, later, |_| false), Ok(()));
        assert_eq!(gate.take(Source(9), m(7), 250, later, |_| false), Ok(()));
        assert_eq!(
            gate.take(Source(9), m(8), 20, later, |_| false),
            Err(Ignored::StrangerBytes)
        );
        assert_eq!(gate.stranger_bytes(), 990);
        // The trust set is never held to quotas.
        assert_eq!(gate.take(Source(9), m(1), 10_000, later, |_| false), Ok(()));
        let counts = gate.ignored();
        assert_eq!(
            (
                counts.doc_changes,
                counts.doc_bytes,
                counts.peer_docs,
                counts.stranger_bytes
            ),
            (1, 1, 1, 1)
        );
    }

    #[test]
    fn a_swarm_of_peers_cannot_grow_the_windows_without_bound() {
        let policy = Policy::default();
        let mut gate = Gate::new(policy, Set::compute(m(1), [], [], 0));
        let member = |i: u32| {
            SecretKey::from_bytes(&[[1u8; 28].as_slice(), &i.to_be_bytes()].concat().try_into().unwrap()).member_id()
        };
        for i in 0..MAX_PEER_WINDOWS as u32 {
            assert_eq!(
                gate.take(Source(u64::from(i)), member(i), 1, Timestamp(0), |_| false),
                Ok(())
            );
        }
        let extra = MAX_PEER_WINDOWS as u32;
        assert_eq!(
            gate.take(Source(u64::from(extra)), member(extra), 1, Timestamp(0), |_| false),
            Err(Ignored::PeerDocs)
        );
        assert_eq!(
            gate.take(
                Source(u64::from(extra)),
                member(extra),
                1,
                Timestamp(PEER_WINDOW_MS),
                |_| false
            ),
            Ok(())
        );
    }

    #[test]
    fn answers_to_the_trust_set_go_to_the_inbox_under_its_own_quota() {
        let quotas = Quotas {
            inbox_docs: 2,
            inbox_bytes: 1_000,
            ..Quotas::default()
        };
        for scope in [Scope::Trusted, Scope::Open] {
            let policy = Policy { scope, hops: 0, quotas };
            let mut gate = Gate::new(policy, Set::compute(m(1), [], [], 0));
            let t = Timestamp(0);
            // A stranger's answer: in, and the rest of its document after it.
            assert_eq!(gate.take(Source(7), m(2), 100, t, |_| true), Ok(()));
            assert_eq!(gate.take(Source(7), m(2), 100, t, |_| false), Ok(()));
            assert!(gate.wants(&m(2)));
            assert_eq!(gate.take(Source(7), m(3), 100, t, |_| true), Ok(()));
            // The inbox holds two documents; a third answer waits outside.
            assert_eq!(gate.take(Source(7), m(4), 100, t, |_| true), Err(Ignored::InboxFull));
            // Its bytes are bounded too.
            assert_eq!(gate.take(Source(7), m(3), 800, t, |_| true), Err(Ignored::InboxFull));
            assert_eq!(gate.ignored().inbox_full, 2);
            assert_eq!(gate.inbox().count(), 2);
        }
    }

    #[test]
    fn an_answer_is_a_statement_on_a_trusted_members_need_or_project() {
        use crate::doc::MemberDoc;
        use crate::identity::ReplicaNonce;
        use crate::record::{Cosign, Need, Record};
        use crate::registry::{Registry, Trust};

        let (a, s) = (SecretKey::from_bytes(&[1; 32]), SecretKey::from_bytes(&[2; 32]));
        let t = Timestamp(1_000);
        let need = Record::new(a.member_id(), [1; 16], t, Body::Need(Need::titled("Invoices")))
            .sign(&a)
            .unwrap();
        let need_id = need.id();
        let mut registry = Registry::new();
        let change = MemberDoc::new(a.member_id())
            .write(&a, &ReplicaNonce([1; 16]), &[need], t)
            .unwrap();
        registry
            .admit(vec![change], t, Trust::Untrusted, |_| Ok::<(), ()>(()))
            .unwrap();
        let cosign = Record::new(
            s.member_id(),
            [2; 16],
            t,
            Body::Cosign(Cosign {
                need: need_id,
                note: String::new(),
            }),
        )
        .sign(&s)
        .unwrap();
        let answer = MemberDoc::new(s.member_id())
            .write(&s, &ReplicaNonce([1; 16]), &[cosign], t)
            .unwrap();
        let trusting_a = Set::compute(a.member_id(), [], [], 0);
        let trusting_nobody = Set::compute(m(9), [], [], 0);
        assert!(answers_trusted(&answer, registry.index(), &trusting_a));
        assert!(!answers_trusted(&answer, registry.index(), &trusting_nobody));
        // Bytes that are no change answer nothing.
        let junk = SignedChange::from_parts(s.member_id(), vec![0x85, 0x6f, 0x4a, 0x83], [0; 64]);
        assert!(!answers_trusted(&junk, registry.index(), &trusting_a));
    }

    proptest! {
        /// The trust set depends on the follows and vouches, not on the
        /// order they are given in (records arrive in any order).
        #[test]
        fn the_set_does_not_depend_on_record_order(
            follows in prop::collection::vec(0u8..30, 0..6),
            vouches in prop::collection::vec((0u8..30, 0u8..30), 0..80),
            hops in 0u8..5,
            seed in any::<u64>(),
        ) {
            let follows: Vec<MemberId> = follows.into_iter().map(m).collect();
            let vouches: Vec<(MemberId, MemberId)> = vouches.into_iter().map(|(a, b)| (m(a), m(b))).collect();
            let a = Set::compute(m(0), follows.clone(), vouches.clone(), hops);
            let mut f2 = follows;
            let mut v2 = vouches;
            // A deterministic shuffle from the seed.
            let mut s = seed | 1;
            for i in (1..v2.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                v2.swap(i, (s % (i as u64 + 1)) as usize);
            }
            f2.reverse();
            let b = Set::compute(m(0), f2, v2, hops);
            prop_assert_eq!(a, b);
        }
    }
}
