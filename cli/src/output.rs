//! Human output: aligned tables and `key: value` lines, money as
//! `1250.50 EUR`, funding as state and percent. JSON output is serde_json of
//! the protocol's view structs, nothing else on stdout.

use std::io::Write;

use mutu_protocol::MemberId;
use mutu_protocol::record::{Condition, Resource};
use mutu_protocol::view::{Views, funding};
use serde::Serialize;

/// Pretty JSON and a newline.
pub fn json(out: &mut dyn Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Columns separated by two spaces; the last column is not padded.
#[derive(Debug)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.len() <= 1
    }

    /// Prints the table, or nothing if it has no rows.
    pub fn print(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// `key: value` lines with aligned values. Empty values are left out.
#[derive(Debug, Default)]
pub struct Fields {
    lines: Vec<(String, String)>,
}

impl Fields {
    pub fn add(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        if !value.is_empty() {
            self.lines.push((key.to_owned(), value));
        }
        self
    }

    pub fn opt(&mut self, key: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(v) = value {
            self.add(key, v.to_string());
        }
        self
    }

    pub fn print(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let width = self.lines.iter().map(|(k, _)| k.chars().count() + 1).max().unwrap_or(0);
        for (k, v) in &self.lines {
            // Multi-line values (descriptions) continue under the value column.
            let v = v.replace('\n', &format!("\n{:w$} ", "", w = width));
            writeln!(out, "{:<w$} {v}", format!("{k}:"), w = width)?;
        }
        Ok(())
    }
}

/// An enum's serde name (`in_progress`, `if_goal_reached`).
pub fn word(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".to_owned(),
    }
}

/// Pledged totals: `1000.00 EUR, 5 dev-days`, or `-`.
pub fn pledged(f: &funding::Funding) -> String {
    let mut parts: Vec<String> = f.pledged.iter().map(|m| m.to_string()).collect();
    if f.days_pledged > 0 {
        parts.push(format!("{} dev-days", f.days_pledged));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Funding state and percent: `funded 100%`, `open 40%`, `open`.
pub fn funding(f: &funding::Funding) -> String {
    match f.percent {
        Some(p) => format!("{} {p}%", word(&f.state)),
        None => word(&f.state),
    }
}

pub fn resource(r: &Resource) -> String {
    match r {
        Resource::Money(m) => m.to_string(),
        Resource::DevDays { days } => format!("{days} dev-days"),
        Resource::Hosting { text } => format!("hosting: {text}"),
        Resource::Testing { text } => format!("testing: {text}"),
        Resource::Other { text } => format!("other: {text}"),
        other => other.name().to_owned(),
    }
}

pub fn condition(c: Condition) -> &'static str {
    match c {
        Condition::IfGoalReached => "if funded",
        _ => "unconditional",
    }
}

/// A member's profile name, or the start of its id.
pub fn name(views: &Views<'_>, member: &MemberId) -> String {
    match views.member(member).profile {
        Some(p) => p.name.clone(),
        None => short(member),
    }
}

/// `Name (mu…)`: a member named and identified.
pub fn named(views: &Views<'_>, member: &MemberId) -> String {
    match views.member(member).profile {
        Some(p) => format!("{} ({member})", p.name),
        None => member.to_string(),
    }
}

fn short(member: &MemberId) -> String {
    let s = member.to_string();
    format!("{}…", s.chars().take(12).collect::<String>())
}

/// `1 change` / `2 changes`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_leave_the_last_column_unpadded() {
        let mut t = Table::new(&["ID", "TITLE"]);
        t.row(vec!["abc".into(), "x".into()]);
        t.row(vec!["a".into(), "longer".into()]);
        let mut out = Vec::new();
        t.print(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "ID   TITLE\nabc  x\na    longer\n");
    }

    #[test]
    fn pledged_money_is_shown_in_major_units() {
        let totals = ["1250.50EUR", "600JPY"]
            .map(|m| m.parse().unwrap())
            .into_iter()
            .collect();
        let mut f = funding::Funding {
            state: funding::State::Open,
            pledged: totals,
            days_pledged: 5,
            percent: None,
        };
        assert_eq!(pledged(&f), "1250.50 EUR, 600 JPY, 5 dev-days");
        f.pledged = mutu_protocol::money::Totals::new();
        f.days_pledged = 0;
        assert_eq!(pledged(&f), "-");
    }
}
