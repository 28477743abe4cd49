//! Funding: an assurance contract evaluated by every node; no money is held.
//!
//! A need's money total per currency is the sum of its active, unexpired
//! money pledges (conditional or not). When the total in the goal currency
//! reaches the money goal, and the pledged developer-days reach the days goal
//! (each goal only if set), the need is **funded** and its conditional pledges
//! are **committed**. Past the deadline without that, the need is **expired**
//! and its conditional pledges are **released**. Pledges in other currencies
//! are shown but never count toward the goal.

use serde::Serialize;

use crate::money;
use crate::record::{Condition, Need, Pledge, PledgeStatus, Resource};
use crate::time::Timestamp;

/// Funding state of a need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum State {
    /// Collecting pledges (or no goal set).
    Open,
    Funded,
    Expired,
}

/// What a pledge amounts to now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Effect {
    /// Unconditional and active.
    Active,
    /// Conditional, the need not funded (yet).
    Conditional,
    /// Conditional, the need funded: it must now be honoured.
    Committed,
    /// Conditional, the need expired: it no longer holds.
    Released,
    /// Past its own expiry date.
    Expired,
    Withdrawn,
    Fulfilled,
}

/// Totals and state of one need at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Funding {
    pub state: State,
    /// Pledged money per currency (as JSON, currency code → minor units).
    pub pledged: money::Totals,
    pub days_pledged: u64,
    /// Progress toward the money goal (or else the days goal) in percent, 0–100+.
    pub percent: Option<u64>,
}

/// Whether a pledge counts toward totals at `now`: active and unexpired, or
/// fulfilled (paid: it keeps counting, so paying never unfunds a need).
pub fn counts(p: &Pledge, now: Timestamp) -> bool {
    match p.status {
        PledgeStatus::Fulfilled => true,
        PledgeStatus::Active => !p.expires_at.is_some_and(|d| d.is_past(now)),
        PledgeStatus::Withdrawn => false,
    }
}

/// Evaluates a need against its pledges at `now`.
pub fn evaluate<'a>(need: &Need, pledges: impl IntoIterator<Item = &'a Pledge>, now: Timestamp) -> Funding {
    let mut pledged = money::Totals::new();
    let mut days: u64 = 0;
    for p in pledges.into_iter().filter(|p| counts(p, now)) {
        match &p.resource {
            Resource::Money(m) => pledged.add(*m),
            Resource::DevDays { days: d } => days = days.saturating_add(u64::from(*d)),
            _ => {}
        }
    }
    let money_total = need.goal.map(|g| pledged.get(g.currency));
    let money_reached = match (need.goal, money_total) {
        (Some(g), Some(t)) => Some(t >= g.amount_minor),
        _ => None,
    };
    let days_reached = need.days_goal.map(|g| days >= u64::from(g));
    let funded = match (money_reached, days_reached) {
        (None, None) => false,
        (m, d) => m.unwrap_or(true) && d.unwrap_or(true),
    };
    let state = if funded {
        State::Funded
    } else if need.deadline.is_some_and(|d| d.is_past(now)) && (need.goal.is_some() || need.days_goal.is_some()) {
        State::Expired
    } else {
        State::Open
    };
    let percent = match (need.goal, money_total, need.days_goal) {
        (Some(g), Some(t), _) => Some(t.saturating_mul(100) / g.amount_minor.max(1)),
        (None, _, Some(dg)) => Some(days.saturating_mul(100) / u64::from(dg.max(1))),
        _ => None,
    };
    Funding {
        state,
        pledged,
        days_pledged: days,
        percent,
    }
}

/// What `p` amounts to, given its need's state.
pub fn effect(p: &Pledge, state: State, now: Timestamp) -> Effect {
    match p.status {
        PledgeStatus::Withdrawn => return Effect::Withdrawn,
        PledgeStatus::Fulfilled => return Effect::Fulfilled,
        PledgeStatus::Active => {}
    }
    if !counts(p, now) {
        return Effect::Expired;
    }
    match (p.condition, state) {
        (Condition::Unconditional, _) => Effect::Active,
        (Condition::IfGoalReached, State::Funded) => Effect::Committed,
        (Condition::IfGoalReached, State::Expired) => Effect::Released,
        (Condition::IfGoalReached, State::Open) => Effect::Conditional,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::NeedStatus;
    use crate::time::Date;

    fn need(goal: &str, days_goal: Option<u32>, deadline: Option<&str>) -> Need {
        Need {
            title: "n".into(),
            description: String::new(),
            tags: vec![],
            project: None,
            goal: (!goal.is_empty()).then(|| goal.parse().unwrap()),
            days_goal,
            deadline: deadline.map(|d| d.parse().unwrap()),
            status: NeedStatus::Open,
            merged_into: None,
            decision: Default::default(),
        }
    }

    fn money(amount: &str, cond: bool) -> Pledge {
        Pledge {
            need: crate::record::RecordId::from_bytes([0; 16]),
            resource: Resource::Money(amount.parse().unwrap()),
            condition: if cond {
                Condition::IfGoalReached
            } else {
                Condition::Unconditional
            },
            expires_at: None,
            status: PledgeStatus::Active,
        }
    }

    fn cur(code: &str) -> crate::money::Currency {
        code.parse().unwrap()
    }

    fn at(date: &str) -> Timestamp {
        Timestamp(date.parse::<Date>().unwrap().end().0 - 1)
    }

    #[test]
    fn conditional_and_unconditional_pledges_reach_the_goal() {
        let n = need("1000EUR", None, Some("2027-06-30"));
        let ps = [money("400EUR", true), money("600EUR", false)];
        let f = evaluate(&n, &ps, at("2027-01-01"));
        assert_eq!(f.state, State::Funded);
        assert_eq!(f.pledged.get(cur("EUR")), 100_000);
        assert_eq!(f.percent, Some(100));
        assert_eq!(effect(&ps[0], f.state, at("2027-01-01")), Effect::Committed);
        assert_eq!(effect(&ps[1], f.state, at("2027-01-01")), Effect::Active);
    }

    #[test]
    fn withdrawing_drops_back_to_open() {
        let n = need("1000EUR", None, None);
        let mut ps = [money("400EUR", true), money("600EUR", false)];
        ps[1].status = PledgeStatus::Withdrawn;
        let f = evaluate(&n, &ps, at("2027-01-01"));
        assert_eq!(f.state, State::Open);
        assert_eq!(f.pledged.get(cur("EUR")), 40_000);
        assert_eq!(effect(&ps[0], f.state, at("2027-01-01")), Effect::Conditional);
        assert_eq!(effect(&ps[1], f.state, at("2027-01-01")), Effect::Withdrawn);
    }

    #[test]
    fn an_expired_pledge_is_excluded() {
        let n = need("1000EUR", None, None);
        let mut ps = [money("400EUR", false), money("600EUR", false)];
        ps[1].expires_at = Some("2026-12-31".parse().unwrap());
        assert_eq!(evaluate(&n, &ps, at("2026-12-31")).state, State::Funded);
        let f = evaluate(&n, &ps, at("2027-01-01"));
        assert_eq!(f.state, State::Open);
        assert_eq!(f.pledged.get(cur("EUR")), 40_000);
        assert_eq!(effect(&ps[1], f.state, at("2027-01-01")), Effect::Expired);
    }

    #[test]
    fn past_the_deadline_conditional_pledges_are_released() {
        let n = need("1000EUR", None, Some("2027-06-30"));
        let ps = [money("400EUR", true)];
        assert_eq!(evaluate(&n, &ps, at("2027-06-30")).state, State::Open);
        let f = evaluate(&n, &ps, at("2027-07-01"));
        assert_eq!(f.state, State::Expired);
        assert_eq!(effect(&ps[0], f.state, at("2027-07-01")), Effect::Released);
    }

    #[test]
    fn a_fulfilled_pledge_keeps_counting() {
        let n = need("1000EUR", None, None);
        let mut ps = [money("400EUR", true), money("600EUR", false)];
        ps[0].status = PledgeStatus::Fulfilled;
        ps[0].expires_at = Some("2026-12-31".parse().unwrap());
        let f = evaluate(&n, &ps, at("2027-01-01"));
        assert_eq!(f.state, State::Funded);
        assert_eq!(effect(&ps[0], f.state, at("2027-01-01")), Effect::Fulfilled);
    }

    #[test]
    fn currencies_never_mix() {
        let n = need("1000EUR", None, None);
        let ps = [money("900EUR", false), money("5000USD", false)];
        let f = evaluate(&n, &ps, at("2027-01-01"));
        assert_eq!(f.state, State::Open);
        assert_eq!(f.pledged.get(cur("EUR")), 90_000);
        assert_eq!(f.pledged.get(cur("USD")), 500_000);
        assert_eq!(f.percent, Some(90));
    }

    #[test]
    fn days_goals_work_the_same_way() {
        let n = need("", Some(10), Some("2027-06-30"));
        let mut p = money("1EUR", true);
        p.resource = Resource::DevDays { days: 6 };
        let mut q = p.clone();
        q.resource = Resource::DevDays { days: 4 };
        assert_eq!(evaluate(&n, [&p], at("2027-01-01")).state, State::Open);
        let f = evaluate(&n, [&p, &q], at("2027-01-01"));
        assert_eq!((f.state, f.days_pledged), (State::Funded, 10));
        assert_eq!(evaluate(&n, [&p], at("2027-07-01")).state, State::Expired);
        // Both goals set: both must be reached.
        let both = need("100EUR", Some(10), None);
        let m = money("100EUR", false);
        assert_eq!(evaluate(&both, [&m, &p], at("2027-01-01")).state, State::Open);
        assert_eq!(evaluate(&both, [&m, &p, &q], at("2027-01-01")).state, State::Funded);
    }
}
