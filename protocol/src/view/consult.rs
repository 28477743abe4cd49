//! Consultation: from pledges to delivered software, as every node computes
//! it from the signed records alone.
//!
//! A need's **coalition** is its author, its cosigners and its active
//! pledgers (pledges that count toward funding: active and unexpired, or
//! fulfilled). The need's [`Decision`] rule says when the coalition has
//! spoken:
//! - `author`: the author said yes;
//! - `majority`: more than half of the coalition's members said yes;
//! - `weighted`: the members who said yes pledged more than half of the
//!   money pledged in the goal currency; on an exact tie, or with no money
//!   pledged in it, as `majority` (so cosigners without money still count).
//!
//! **Votes** are records in time: an approval of an offer (the latest
//! approval of each member among the need's offers is its vote), the award
//! itself (the author's vote for the awarded offer), an acceptance or an
//! objection of a delivery (the latest of each member). A verdict walks the
//! votes in the order of their time (`updated_at`, ties by record id): the
//! award is **valid** from the first instant at or after it where the rule
//! holds (votes written before count), else **contested** with the
//! missing members; a delivery is **accepted** from the first instant the
//! rule holds on it, and nothing written later undoes that (an objection
//! after acceptance is recorded, not counted). The walk depends only on the
//! set of records, never on the order they arrived in. Coalition membership
//! and weights are those of now: a withdrawn pledge drops its weight.
//!
//! The award that **stands** is the need author's earliest visible award on
//! a visible offer of that need. Deliveries count only from the awarded
//! provider, receipts only from the awarded provider.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::{Views, funding};
use crate::identity::MemberId;
use crate::money::{self, Money};
use crate::record::{self, Body, Decision, Kind, Need, Offer, RecordId, Resource, SignedRecord};
use crate::time::{MS_PER_DAY, Timestamp};

/// A coalition member's weight under `weighted`: what it pledged in the goal
/// currency, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Weight {
    pub member: MemberId,
    pub amount_minor: u64,
}

/// Who decides on a need, and with what weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coalition {
    pub author: MemberId,
    /// Author, cosigners and active pledgers, sorted by id.
    pub members: Vec<MemberId>,
    /// Money pledged in the goal currency, per pledger (sorted by id; only
    /// those with some).
    pub weights: Vec<Weight>,
    /// The sum of the weights.
    pub total_weight: u64,
    /// The goal currency, if the need has a money goal.
    pub currency: Option<money::Currency>,
}

impl Coalition {
    pub fn contains(&self, m: &MemberId) -> bool {
        self.members.binary_search(m).is_ok()
    }

    fn weight_of(&self, m: &MemberId) -> u64 {
        self.weights
            .binary_search_by(|w| w.member.cmp(m))
            .map_or(0, |i| self.weights[i].amount_minor)
    }

    /// Whether the members in `yes` satisfy `decision`.
    pub fn holds(&self, decision: Decision, yes: &BTreeSet<MemberId>) -> bool {
        let inside: Vec<&MemberId> = yes.iter().filter(|m| self.contains(m)).collect();
        let majority = inside.len() * 2 > self.members.len();
        match decision {
            Decision::Author => yes.contains(&self.author),
            Decision::Majority => majority,
            Decision::Weighted => {
                let w: u64 = inside.iter().map(|m| self.weight_of(m)).fold(0, u64::saturating_add);
                let twice = u128::from(w) * 2;
                let total = u128::from(self.total_weight);
                if total == 0 || twice == total {
                    majority
                } else {
                    twice > total
                }
            }
        }
    }
}

/// Whether the rule holds for an award or a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Valid,
    Contested,
}

/// The rule's verdict on an award or a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub standing: Standing,
    /// When the rule first held (the award's or delivery's time, or a later
    /// vote's).
    pub since: Option<Timestamp>,
    /// Coalition members whose vote is yes now, sorted.
    pub yes: Vec<MemberId>,
    /// Coalition members whose yes is missing now, sorted.
    pub missing: Vec<MemberId>,
    /// Under `weighted`: money in the goal currency of those who said yes.
    pub weight_yes: u64,
}

/// One vote: at `at` (ties by `id`), `member` says yes or no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Vote {
    at: Timestamp,
    id: RecordId,
    member: MemberId,
    yes: bool,
}

/// Walks `votes` (any order) and returns the verdict for something that
/// exists from `start` on.
fn walk(mut votes: Vec<Vote>, start: Timestamp, decision: Decision, coalition: &Coalition) -> Outcome {
    votes.sort();
    let mut state: BTreeMap<MemberId, bool> = BTreeMap::new();
    let yes_of = |s: &BTreeMap<MemberId, bool>| -> BTreeSet<MemberId> {
        s.iter().filter(|(_, y)| **y).map(|(m, _)| *m).collect()
    };
    let mut since = None;
    let mut started = false;
    for v in &votes {
        if !started && v.at > start {
            started = true;
            if coalition.holds(decision, &yes_of(&state)) {
                since = Some(start);
            }
        }
        state.insert(v.member, v.yes);
        if started && since.is_none() && coalition.holds(decision, &yes_of(&state)) {
            since = Some(v.at);
        }
    }
    if !started && coalition.holds(decision, &yes_of(&state)) {
        since = Some(start);
    }
    let yes: Vec<MemberId> = yes_of(&state).into_iter().filter(|m| coalition.contains(m)).collect();
    let missing = coalition.members.iter().filter(|m| !yes.contains(m)).copied().collect();
    let weight_yes = yes.iter().map(|m| coalition.weight_of(m)).fold(0, u64::saturating_add);
    Outcome {
        standing: if since.is_some() {
            Standing::Valid
        } else {
            Standing::Contested
        },
        since,
        yes,
        missing,
        weight_yes,
    }
}

/// An offer on a need, as shown side by side with the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferRow {
    pub id: RecordId,
    pub provider: MemberId,
    pub created_at: Timestamp,
    pub price: Money,
    pub days: Option<u32>,
    pub valid_until: Option<crate::time::Date>,
    pub expired: bool,
    pub description: String,
    /// Coalition members whose current approval is this offer, sorted.
    pub approvals: Vec<MemberId>,
    pub awarded: bool,
}

/// The award that stands on a need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwardView {
    pub id: RecordId,
    pub offer: RecordId,
    pub provider: MemberId,
    pub at: Timestamp,
    pub note: String,
    pub outcome: Outcome,
}

/// An objection to a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Objection {
    pub id: RecordId,
    pub member: MemberId,
    pub at: Timestamp,
    pub reason: String,
}

/// A delivery by the awarded provider, with the coalition's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryView {
    pub id: RecordId,
    pub release: String,
    pub note: String,
    pub at: Timestamp,
    /// Every objection written, even after acceptance.
    pub objections: Vec<Objection>,
    pub outcome: Outcome,
}

/// A pledge's place in the consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PledgeRow {
    pub id: RecordId,
    pub pledger: MemberId,
    pub resource: Resource,
    pub effect: funding::Effect,
    /// Owed now: the delivery is accepted and the pledge holds (committed,
    /// unconditional and active) and is not yet marked paid.
    pub due: bool,
    /// The pledger marked it fulfilled.
    pub paid: bool,
    /// The awarded provider confirmed receipt.
    pub received: bool,
}

/// The steps a need has reached: open → funded → awarded → delivered →
/// accepted → paid x of y.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub opened: Timestamp,
    pub funded: bool,
    pub awarded: Option<Timestamp>,
    pub award_standing: Option<Standing>,
    pub delivered: Option<Timestamp>,
    pub accepted: Option<Timestamp>,
    /// Pledges marked paid, of those that are owed or paid after acceptance.
    pub paid: usize,
    pub payable: usize,
    pub received: usize,
}

/// Everything about choosing, delivering and paying for one need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consultation {
    pub need: RecordId,
    pub decision: Decision,
    pub coalition: Coalition,
    pub offers: Vec<OfferRow>,
    pub award: Option<AwardView>,
    pub deliveries: Vec<DeliveryView>,
    pub pledges: Vec<PledgeRow>,
    pub timeline: Timeline,
}

impl Consultation {
    /// The awarded provider, if an award stands.
    pub fn provider(&self) -> Option<MemberId> {
        self.award.as_ref().map(|a| a.provider)
    }
}

/// A member's record as provider and as pledger, derived from signed records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrackRecord {
    pub offers_made: usize,
    pub offers_awarded: usize,
    pub delivered: usize,
    pub accepted: usize,
    /// Deliveries that drew at least one objection.
    pub objected: usize,
    /// First delivery within (or after) the offer's days from the award.
    pub on_time: usize,
    pub late: usize,
    /// Money the member confirmed receiving, per currency.
    pub received: money::Totals,
    pub pledges_made: usize,
    pub pledges_due: usize,
    pub pledges_paid: usize,
    /// Of the pledges paid, those whose receipt the provider confirmed.
    pub pledges_confirmed: usize,
}

fn latest_by<'a>(records: impl IntoIterator<Item = &'a SignedRecord>) -> Vec<&'a SignedRecord> {
    let mut v: Vec<&SignedRecord> = records.into_iter().collect();
    v.sort_by_key(|r| (r.record().updated_at, r.id()));
    v
}

impl<'a> Views<'a> {
    /// A need's coalition now.
    pub fn coalition(&self, need_id: &RecordId, author: MemberId, need: &Need) -> Coalition {
        let mut members: BTreeSet<MemberId> = BTreeSet::from([author]);
        members.extend(self.referring(Kind::Cosign, need_id).iter().map(|c| c.record().author));
        let currency = need.goal.map(|g| g.currency);
        let mut weights: BTreeMap<MemberId, u64> = BTreeMap::new();
        for r in self.referring(Kind::Pledge, need_id) {
            let Body::Pledge(p) = &r.record().body else { continue };
            if p.need != *need_id || !funding::counts(p, self.now()) {
                continue;
            }
            members.insert(r.record().author);
            if let (Resource::Money(m), Some(c)) = (&p.resource, currency)
                && m.currency == c
            {
                let w = weights.entry(r.record().author).or_default();
                *w = w.saturating_add(m.amount_minor);
            }
        }
        let total_weight = weights.values().fold(0u64, |a, b| a.saturating_add(*b));
        Coalition {
            author,
            members: members.into_iter().collect(),
            weights: weights
                .into_iter()
                .map(|(member, amount_minor)| Weight { member, amount_minor })
                .collect(),
            total_weight,
            currency,
        }
    }

    /// The visible offers of a need, oldest first.
    fn offers_on(&self, need_id: &RecordId) -> Vec<(&'a SignedRecord, &'a Offer)> {
        self.referring(Kind::Offer, need_id)
            .iter()
            .filter_map(|r| match &r.record().body {
                Body::Offer(o) if o.need == *need_id => Some((*r, o)),
                _ => None,
            })
            .collect()
    }

    /// The award that stands on a need: its author's earliest visible award
    /// on a visible offer of the need. With the offer.
    pub fn standing_award(&self, need: &SignedRecord) -> Option<(&'a SignedRecord, &'a SignedRecord)> {
        let need_id = need.id();
        let author = need.record().author;
        let mut awards: Vec<&SignedRecord> = self
            .referring(Kind::Award, &need_id)
            .iter()
            .copied()
            .filter(|a| a.record().author == author)
            .collect();
        awards.sort_by_key(|a| (a.record().created_at, a.id()));
        awards.into_iter().find_map(|a| {
            let Body::Award(x) = &a.record().body else { return None };
            if x.need != need_id {
                return None;
            }
            let offer = self.index().get(&x.offer)?;
            matches!(&offer.record().body, Body::Offer(o) if o.need == need_id).then_some((a, offer))
        })
    }

    /// The approvals on a need's offers as votes for `offer`: each
    /// approval is a yes if it approves `offer`, a no otherwise.
    fn approval_votes(&self, offers: &[(&'a SignedRecord, &'a Offer)], offer: &RecordId) -> Vec<Vote> {
        offers
            .iter()
            .flat_map(|(o, _)| self.referring(Kind::Approval, &o.id()))
            .filter_map(|a| match &a.record().body {
                Body::Approval(x) => Some(Vote {
                    at: a.record().updated_at,
                    id: a.id(),
                    member: a.record().author,
                    yes: x.offer == *offer,
                }),
                _ => None,
            })
            .collect()
    }

    /// Each member's current approval among `offers`: offer → approvers.
    fn current_approvals(&self, offers: &[(&'a SignedRecord, &'a Offer)]) -> HashMap<RecordId, BTreeSet<MemberId>> {
        let all = latest_by(offers.iter().flat_map(|(o, _)| self.referring(Kind::Approval, &o.id())));
        let mut latest: BTreeMap<MemberId, RecordId> = BTreeMap::new();
        for a in all {
            if let Body::Approval(x) = &a.record().body {
                latest.insert(a.record().author, x.offer);
            }
        }
        let mut by_offer: HashMap<RecordId, BTreeSet<MemberId>> = HashMap::new();
        for (m, o) in latest {
            by_offer.entry(o).or_default().insert(m);
        }
        by_offer
    }

    /// The whole consultation of a need, or `None` if `need` is not one.
    pub fn consultation(&self, need: &'a SignedRecord) -> Option<Consultation> {
        let rec = need.record();
        let Body::Need(n) = &rec.body else { return None };
        let need_id = rec.id;
        let now = self.now();
        let coalition = self.coalition(&need_id, rec.author, n);
        let offers = self.offers_on(&need_id);
        let approvals = self.current_approvals(&offers);
        let standing = self.standing_award(need);

        let award = standing.and_then(|(a, offer)| {
            let Body::Award(x) = &a.record().body else { return None };
            let mut votes = self.approval_votes(&offers, &offer.id());
            votes.push(Vote {
                at: a.record().created_at,
                id: a.id(),
                member: rec.author,
                yes: true,
            });
            Some(AwardView {
                id: a.id(),
                offer: offer.id(),
                provider: offer.record().author,
                at: a.record().created_at,
                note: x.note.clone(),
                outcome: walk(votes, a.record().created_at, n.decision, &coalition),
            })
        });

        let deliveries: Vec<DeliveryView> = match &award {
            None => Vec::new(),
            Some(aw) => {
                let mut ds: Vec<&SignedRecord> = self
                    .referring(Kind::Delivery, &need_id)
                    .iter()
                    .copied()
                    .filter(|d| d.record().author == aw.provider)
                    .collect();
                ds.sort_by_key(|d| (d.record().created_at, d.id()));
                ds.into_iter()
                    .filter_map(|d| {
                        let Body::Delivery(x) = &d.record().body else {
                            return None;
                        };
                        if x.need != need_id {
                            return None;
                        }
                        let verdicts = latest_by(self.referring(Kind::Acceptance, &d.id()).iter().copied());
                        let mut votes = Vec::new();
                        let mut objections = Vec::new();
                        for v in verdicts {
                            let Body::Acceptance(ac) = &v.record().body else {
                                continue;
                            };
                            if ac.delivery != d.id() {
                                continue;
                            }
                            votes.push(Vote {
                                at: v.record().updated_at,
                                id: v.id(),
                                member: v.record().author,
                                yes: ac.verdict == record::Verdict::Accept,
                            });
                            if ac.verdict == record::Verdict::Object {
                                objections.push(Objection {
                                    id: v.id(),
                                    member: v.record().author,
                                    at: v.record().updated_at,
                                    reason: ac.reason.clone(),
                                });
                            }
                        }
                        Some(DeliveryView {
                            id: d.id(),
                            release: x.release.clone(),
                            note: x.note.clone(),
                            at: d.record().created_at,
                            objections,
                            outcome: walk(votes, d.record().created_at, n.decision, &coalition),
                        })
                    })
                    .collect()
            }
        };
        let accepted = deliveries.iter().filter_map(|d| d.outcome.since).min();
        let provider = award.as_ref().map(|a| a.provider);

        let funded = self.funding(&need_id, n).state == funding::State::Funded;
        let pledges: Vec<PledgeRow> = self
            .pledges_to(&need_id)
            .into_iter()
            .filter_map(|(r, view)| {
                let Body::Pledge(p) = &r.record().body else { return None };
                let paid = view.effect == funding::Effect::Fulfilled;
                let holds = matches!(view.effect, funding::Effect::Committed | funding::Effect::Active);
                let received = provider.is_some_and(|prov| {
                    self.referring(Kind::Receipt, &r.id()).iter().any(|x| {
                        x.record().author == prov && matches!(&x.record().body, Body::Receipt(y) if y.pledge == r.id())
                    })
                });
                Some(PledgeRow {
                    id: r.id(),
                    pledger: r.record().author,
                    resource: p.resource.clone(),
                    effect: view.effect,
                    due: accepted.is_some() && holds,
                    paid,
                    received,
                })
            })
            .collect();
        let payable = pledges.iter().filter(|p| p.due || p.paid).count();
        let timeline = Timeline {
            opened: rec.created_at,
            funded,
            awarded: award.as_ref().map(|a| a.at),
            award_standing: award.as_ref().map(|a| a.outcome.standing),
            delivered: deliveries.first().map(|d| d.at),
            accepted,
            paid: pledges.iter().filter(|p| p.paid).count(),
            payable,
            received: pledges.iter().filter(|p| p.received).count(),
        };
        let awarded_offer = award.as_ref().map(|a| a.offer);
        let offers = offers
            .into_iter()
            .map(|(r, o)| OfferRow {
                id: r.id(),
                provider: r.record().author,
                created_at: r.record().created_at,
                price: o.price,
                days: o.days,
                valid_until: o.valid_until,
                expired: o.valid_until.is_some_and(|d| d.is_past(now)),
                description: o.description.clone(),
                approvals: approvals
                    .get(&r.id())
                    .map(|s| s.iter().filter(|m| coalition.contains(m)).copied().collect())
                    .unwrap_or_default(),
                awarded: awarded_offer == Some(r.id()),
            })
            .collect();
        Some(Consultation {
            need: need_id,
            decision: n.decision,
            coalition,
            offers,
            award,
            deliveries,
            pledges,
            timeline,
        })
    }

    /// The consultation of the need with id `need`, if it is a visible need.
    pub fn consultation_of(&self, need: &RecordId) -> Option<Consultation> {
        self.index().get(need).and_then(|r| self.consultation(r))
    }

    /// A member's track record, as provider and as pledger.
    pub fn track_record(&self, member: &MemberId) -> TrackRecord {
        let mut cache: HashMap<RecordId, Option<Consultation>> = HashMap::new();
        let mut consult = |need: RecordId| -> Option<Consultation> {
            cache.entry(need).or_insert_with(|| self.consultation_of(&need)).clone()
        };
        let mut t = TrackRecord::default();
        for r in self.index().of_kind(Kind::Offer) {
            let Body::Offer(o) = &r.record().body else { continue };
            if r.record().author != *member {
                continue;
            }
            t.offers_made += 1;
            let Some(c) = consult(o.need) else { continue };
            let Some(award) = c.award.as_ref().filter(|a| a.offer == r.id()) else {
                continue;
            };
            t.offers_awarded += 1;
            if let Some(first) = c.deliveries.first() {
                t.delivered += 1;
                if let Some(days) = o.days {
                    let due = award
                        .at
                        .saturating_add_millis(u64::from(days).saturating_mul(MS_PER_DAY));
                    if first.at <= due {
                        t.on_time += 1;
                    } else {
                        t.late += 1;
                    }
                }
            }
            if c.timeline.accepted.is_some() {
                t.accepted += 1;
            }
            t.objected += c.deliveries.iter().filter(|d| !d.objections.is_empty()).count();
            for p in c.pledges.iter().filter(|p| p.received) {
                if let Resource::Money(m) = p.resource {
                    t.received.add(m);
                }
            }
        }
        for r in self.index().of_kind(Kind::Pledge) {
            let Body::Pledge(p) = &r.record().body else { continue };
            if r.record().author != *member {
                continue;
            }
            t.pledges_made += 1;
            let Some(c) = consult(p.need) else { continue };
            if let Some(row) = c.pledges.iter().find(|x| x.id == r.id()) {
                t.pledges_due += usize::from(row.due);
                t.pledges_paid += usize::from(row.paid);
                t.pledges_confirmed += usize::from(row.paid && row.received);
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u8) -> MemberId {
        crate::identity::SecretKey::from_bytes(&[n; 32]).member_id()
    }

    fn coalition(members: &[u8], weights: &[(u8, u64)]) -> Coalition {
        let mut ms: Vec<MemberId> = members.iter().map(|n| m(*n)).collect();
        ms.sort();
        let mut ws: Vec<Weight> = weights
            .iter()
            .map(|(n, w)| Weight {
                member: m(*n),
                amount_minor: *w,
            })
            .collect();
        ws.sort_by_key(|w| w.member);
        Coalition {
            author: m(members[0]),
            members: ms,
            total_weight: ws.iter().map(|w| w.amount_minor).sum(),
            weights: ws,
            currency: None,
        }
    }

    fn yes(ns: &[u8]) -> BTreeSet<MemberId> {
        ns.iter().map(|n| m(*n)).collect()
    }

    #[test]
    fn each_rule_counts_its_own_way() {
        let c = coalition(&[1, 2, 3, 4], &[(2, 600), (3, 300), (4, 100)]);
        assert!(c.holds(Decision::Author, &yes(&[1])));
        assert!(!c.holds(Decision::Author, &yes(&[2, 3, 4])));
        assert!(!c.holds(Decision::Majority, &yes(&[1, 2])));
        assert!(c.holds(Decision::Majority, &yes(&[1, 2, 3])));
        assert!(c.holds(Decision::Weighted, &yes(&[2])));
        assert!(!c.holds(Decision::Weighted, &yes(&[1, 3, 4])));
        // Outsiders never count.
        assert!(!c.holds(Decision::Majority, &yes(&[1, 9, 8, 7])));
    }

    #[test]
    fn a_weighted_tie_is_broken_by_heads() {
        let c = coalition(&[1, 2, 3], &[(2, 500), (3, 500)]);
        assert!(!c.holds(Decision::Weighted, &yes(&[2])));
        assert!(c.holds(Decision::Weighted, &yes(&[1, 2])));
        let nobody_paid = coalition(&[1, 2, 3], &[]);
        assert!(nobody_paid.holds(Decision::Weighted, &yes(&[2, 3])));
    }

    #[test]
    fn the_walk_finds_the_first_instant_the_rule_holds() {
        let c = coalition(&[1, 2, 3], &[]);
        let vote = |at: u64, who: u8, yes: bool| Vote {
            at: Timestamp(at),
            id: RecordId::from_bytes([at as u8; 16]),
            member: m(who),
            yes,
        };
        // Before the start: one yes. After: a second yes at 30, a no at 40.
        let out = walk(
            vec![vote(40, 2, false), vote(10, 1, true), vote(30, 2, true)],
            Timestamp(20),
            Decision::Majority,
            &c,
        );
        assert_eq!(out.standing, Standing::Valid);
        assert_eq!(out.since, Some(Timestamp(30)));
        assert_eq!(out.yes, vec![m(1)]);
        let out = walk(vec![vote(10, 1, true)], Timestamp(20), Decision::Majority, &c);
        assert_eq!(out.standing, Standing::Contested);
        assert_eq!(out.missing.len(), 2);
    }
}
