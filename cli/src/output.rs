//! What the CLI prints: the answers of the control protocol
//! ([`mutu_http::control::Response`]), laid out here whether the command
//! ran offline or on a node: aligned tables, `key: value` lines, the JSON
//! text as the view wrote it (nothing else on stdout with `--json`).

use std::io::Write;

use mutu_http::control::Response;
use mutu_http::control::report::{Block, Fields, Report, Table};

pub use mutu_http::control::report::count;

/// Prints what a request answered.
pub fn response(response: &Response, out: &mut dyn Write) -> anyhow::Result<()> {
    match response {
        Response::Report(report) => self::report(report, out),
        Response::Written { id } => Ok(writeln!(out, "{id}")?),
        Response::Done => Ok(()),
    }
}

/// Prints a report: its JSON text, or its blocks one after the other.
pub fn report(report: &Report, out: &mut dyn Write) -> anyhow::Result<()> {
    match report {
        Report::Json { value } => writeln!(out, "{}", value.get())?,
        Report::Text { blocks } => {
            for block in blocks {
                match block {
                    Block::Fields(f) => fields(f, out)?,
                    Block::Table(t) => {
                        if let Some(title) = &t.title {
                            writeln!(out, "\n{title}:")?;
                        }
                        table(t, out)?;
                    }
                    Block::Lines(lines) => {
                        for l in lines {
                            writeln!(out, "{l}")?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Columns separated by two spaces; the last column is not padded. An
/// empty table prints nothing.
pub fn table(t: &Table, out: &mut dyn Write) -> anyhow::Result<()> {
    if t.is_empty() {
        return Ok(());
    }
    let rows = || std::iter::once(&t.header).chain(&t.rows);
    let columns = rows().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows() {
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

/// `key: value` lines with aligned values; multi-line values continue
/// under the value column.
pub fn fields(f: &Fields, out: &mut dyn Write) -> anyhow::Result<()> {
    let width = f.lines.iter().map(|(k, _)| k.chars().count() + 1).max().unwrap_or(0);
    for (k, v) in &f.lines {
        let v = v.replace('\n', &format!("\n{:w$} ", "", w = width));
        writeln!(out, "{:<w$} {v}", format!("{k}:"), w = width)?;
    }
    Ok(())
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
        table(&t, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "ID   TITLE\nabc  x\na    longer\n");
    }

    #[test]
    fn fields_align_and_continue_multi_line_values() {
        let mut f = Fields::default();
        f.add("id", "abc").add("description", "one\ntwo");
        let mut out = Vec::new();
        fields(&f, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "id:          abc\ndescription: one\n             two\n"
        );
    }
}
