//! Server-made inline SVG charts (no JavaScript).
//!
//! [`pledges`]: cumulative money pledged to a need in its goal currency, by
//! pledge creation time, as a step line, with the goal as a dashed
//! horizontal line. The output depends only on the inputs.

use maud::{Markup, PreEscaped, html};
use mutu_protocol::Timestamp;
use mutu_protocol::money::Money;

use super::i18n::{self, Key, Lang};

const W: f64 = 640.0;
const H: f64 = 220.0;
/// Plot area margins: left (amount labels), right, top, bottom (dates).
const L: f64 = 86.0;
const R: f64 = 16.0;
const T: f64 = 16.0;
const B: f64 = 28.0;

/// One pledge: when it was made, and its amount in the goal currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub at: Timestamp,
    pub amount_minor: u64,
}

/// The chart of `points` (any order) between `start` (the need's creation)
/// and `end` (now), against `goal`.
pub fn pledges(lang: Lang, goal: Money, start: Timestamp, end: Timestamp, points: &[Point]) -> Markup {
    let mut points = points.to_vec();
    points.sort_by_key(|p| (p.at, p.amount_minor));
    let start = points.first().map_or(start, |p| p.at.min(start));
    let end = points.last().map_or(end, |p| p.at.max(end)).max(start);
    let total: u64 = points.iter().fold(0, |t, p| t.saturating_add(p.amount_minor));
    let top = total.max(goal.amount_minor).max(1) as f64 * 1.1;
    let span = (end.as_millis() - start.as_millis()).max(1) as f64;
    let x = |t: Timestamp| L + (t.as_millis() - start.as_millis()) as f64 / span * (W - L - R);
    let y = |v: u64| H - B - v as f64 / top * (H - T - B);

    // The running total right after each point, in one pass.
    let totals: Vec<u64> = points
        .iter()
        .scan(0u64, |sum, p| {
            *sum = sum.saturating_add(p.amount_minor);
            Some(*sum)
        })
        .collect();
    // Step line: flat until each pledge, then up.
    let mut path = format!("M{:.1} {:.1}", x(start), y(0));
    for (p, sum) in points.iter().zip(&totals) {
        path.push_str(&format!(" H{:.1} V{:.1}", x(p.at), y(*sum)));
    }
    path.push_str(&format!(" H{:.1}", x(end)));
    let area = format!("{path} V{:.1} H{:.1} Z", y(0), x(start));

    let money = |v: u64| i18n::money_minor(lang, v, goal.currency);
    let label = format!(
        "{} {} / {} {}",
        i18n::t(lang, Key::ChartPledged),
        money(total),
        i18n::t(lang, Key::ChartGoal),
        money(goal.amount_minor)
    );
    let gy = y(goal.amount_minor);
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(label) {
            title { (label) }
            line.axis x1=(L) y1=(fmt(H - B)) x2=(fmt(W - R)) y2=(fmt(H - B)) {}
            line.axis x1=(L) y1=(T) x2=(L) y2=(fmt(H - B)) {}
            path.area d=(area) {}
            path.line d=(path) {}
            line.goal x1=(L) y1=(fmt(gy)) x2=(fmt(W - R)) y2=(fmt(gy)) {}
            text.goal x=(fmt(W - R)) y=(fmt(gy - 5.0)) text-anchor="end" {
                (i18n::t(lang, Key::ChartGoal)) " " (money(goal.amount_minor))
            }
            text x=(fmt(L - 6.0)) y=(fmt(y(0) + 4.0)) text-anchor="end" { (money(0)) }
            @if total > 0 && (y(total) - gy).abs() > 14.0 {
                text x=(fmt(L - 6.0)) y=(fmt(y(total) + 4.0)) text-anchor="end" { (money(total)) }
            }
            text x=(L) y=(fmt(H - 8.0)) { (i18n::date(lang, start)) }
            text x=(fmt(W - R)) y=(fmt(H - 8.0)) text-anchor="end" { (i18n::date(lang, end)) }
            @for (p, sum) in points.iter().zip(&totals) {
                circle cx=(fmt(x(p.at))) cy=(fmt(y(*sum))) r="3" {}
            }
        }
    }
}

fn fmt(v: f64) -> PreEscaped<String> {
    PreEscaped(format!("{v:.1}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: u64) -> Money {
        Money::new(minor, "EUR".parse().unwrap())
    }

    fn pt(day: u64, amount_minor: u64) -> Point {
        Point {
            at: Timestamp::from_millis(day * 86_400_000),
            amount_minor,
        }
    }

    #[test]
    fn the_chart_is_deterministic_and_steps_up_to_the_total() {
        let pts = [pt(12, 20_000), pt(11, 10_000)];
        let a = pledges(
            Lang::En,
            eur(60_000),
            Timestamp::from_millis(10 * 86_400_000),
            Timestamp::from_millis(20 * 86_400_000),
            &pts,
        )
        .into_string();
        let reversed = [pts[1], pts[0]];
        let b = pledges(
            Lang::En,
            eur(60_000),
            Timestamp::from_millis(10 * 86_400_000),
            Timestamp::from_millis(20 * 86_400_000),
            &reversed,
        )
        .into_string();
        assert_eq!(a, b, "order of input points must not matter");
        assert!(a.starts_with("<svg"));
        // Plot width 538 over 10 days: day 11 at x=139.8, day 12 at 193.6;
        // top = 66000 → 100.00 € at y=192-176·(10000/66000)=165.3.
        assert!(a.contains("M86.0 192.0 H139.8 V165.3 H193.6 V112.0 H624.0"), "{a}");
        assert!(a.contains("class=\"goal\""));
        assert!(a.contains("Goal €600.00"));
        assert!(a.contains("Pledged €300.00 / Goal €600.00"));
        assert_eq!(a.matches("<circle").count(), 2);
    }

    /// 5 000 pledges (the running total used to be summed again for each
    /// point): each dot sits at the total right after its pledge.
    #[test]
    fn thousands_of_pledges_step_up_one_by_one() {
        const N: u64 = 5_000;
        let pts: Vec<Point> = (0..N)
            .map(|i| Point {
                at: Timestamp::from_millis(86_400_000 + i * 1_000),
                amount_minor: 100,
            })
            .collect();
        let svg = pledges(
            Lang::En,
            eur(N * 100),
            Timestamp::from_millis(0),
            Timestamp::from_millis(86_400_000 + N * 1_000),
            &pts,
        )
        .into_string();
        assert_eq!(svg.matches("<circle").count(), N as usize);
        // top = 1.1 × total: the total sits at 192 − 176/1.1 = 32.0, the
        // first pledge (1/5000 of it) at 192.0 − 0.032 = 192.0.
        let cys: Vec<f64> = svg
            .split("cy=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
            .collect();
        assert_eq!(cys.len(), N as usize);
        assert_eq!((cys[0], cys[cys.len() - 1]), (192.0, 32.0));
        assert!(cys.windows(2).all(|w| w[1] <= w[0]), "the line only goes up");
        assert!(svg.contains("Pledged €5,000.00 / Goal €5,000.00"), "{}", &svg[..300]);
    }

    #[test]
    fn an_empty_chart_is_flat_and_french_labels_are_french() {
        let s = pledges(
            Lang::Fr,
            eur(1_000),
            Timestamp::from_millis(0),
            Timestamp::from_millis(86_400_000),
            &[],
        )
        .into_string();
        assert!(s.contains("M86.0 192.0 H624.0"), "{s}");
        assert!(s.contains("Objectif"));
        assert!(!s.contains("<circle"));
    }
}
