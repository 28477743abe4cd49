//! `export`, `import` and `verify`: bundles of signed changes.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use mutu_http::api::write::RejectedChange;
use mutu_node::state::State;
use mutu_protocol::Timestamp;
use mutu_protocol::bundle::{self, Bundle};

use super::read_file;
use crate::fail::user;
use crate::output::count;
use mutu_http::control::report::{Fields, Table};

pub fn export(st: &State, file: Option<&Path>, out: &mut dyn Write) -> anyhow::Result<()> {
    write_bundle(&st.export()?, file, out)
}

/// Prints `bundle`, or writes it to `file` and says so: the end of `mutu
/// export`, offline and through a running node alike.
pub fn write_bundle(bundle: &Bundle, file: Option<&Path>, out: &mut dyn Write) -> anyhow::Result<()> {
    let text = bundle.to_json();
    let Some(file) = file else {
        writeln!(out, "{text}")?;
        return Ok(());
    };
    if file.file_name().is_none_or(|n| n.is_empty()) {
        return Err(user(format!("--out {}: give a file name", file.display())));
    }
    // Into a new temporary file beside the target, then renamed: a reader
    // never sees half a bundle, and a link planted there is not followed.
    mutu_node::home::write_atomically(file, 0o666, |f| {
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")
    })
    .with_context(|| format!("cannot write {}", file.display()))?;
    writeln!(
        out,
        "exported {} ({}) to {}",
        count(bundle.documents.len(), "document", "documents"),
        count(bundle.change_count(), "change", "changes"),
        file.display()
    )?;
    Ok(())
}

/// What an import did, offline or through a running node.
pub type Imported = mutu_http::api::write::ImportReport;

/// What `st.import` did, as the node's API reports it.
fn imported(report: &mutu_protocol::admission::Report) -> Imported {
    Imported {
        admitted: report.admitted.len(),
        duplicates: report.duplicates,
        pending: report.pending,
        rejected: report.rejected.len(),
        reasons: Vec::new(),
        first_rejected: report.rejected.first().map(|r| RejectedChange {
            doc: r.doc.to_string(),
            reason: r.reason.to_string(),
        }),
    }
}

/// Changes admitted together by an offline import (whole documents: a
/// document's changes depend only on each other), so a large bundle moves
/// a progress bar and never holds more than this in one admission.
const IMPORT_CHUNK: usize = 2_000;

pub fn import(st: &mut State, file: &Path, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let bundle = Bundle::parse(&read_file(file)?).with_context(|| file.display().to_string())?;
    let changes = bundle.changes();
    drop(bundle);
    let bar = crate::progress::bar(changes.len() as u64, "importing changes", crate::progress::Unit::Count);
    let mut total: Option<Imported> = None;
    let mut chunk: Vec<mutu_protocol::SignedChange> = Vec::new();
    let mut changes = changes.into_iter().peekable();
    while let Some(c) = changes.next() {
        let doc = c.doc();
        chunk.push(c);
        let document_ends = changes.peek().is_none_or(|next| next.doc() != doc);
        if document_ends && (chunk.len() >= IMPORT_CHUNK || changes.peek().is_none()) {
            let n = chunk.len() as u64;
            let report = imported(&st.import_changes(std::mem::take(&mut chunk), now)?);
            total = Some(match total {
                None => report,
                Some(t) => sum(t, report),
            });
            bar.inc(n);
        }
    }
    bar.finish_and_clear();
    let empty = mutu_protocol::admission::Report::default();
    print_import(file, &total.unwrap_or_else(|| imported(&empty)), out)
}

/// Two chunks of one import as one.
fn sum(a: Imported, b: Imported) -> Imported {
    Imported {
        admitted: a.admitted + b.admitted,
        duplicates: a.duplicates + b.duplicates,
        pending: a.pending + b.pending,
        rejected: a.rejected + b.rejected,
        reasons: a.reasons.into_iter().chain(b.reasons).take(10).collect(),
        first_rejected: a.first_rejected.or(b.first_rejected),
    }
}

/// Prints what importing `file` did; an error if a change was rejected.
pub fn print_import(file: &Path, report: &Imported, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut f = Fields::default();
    f.add("admitted", report.admitted.to_string())
        .add("duplicates", report.duplicates.to_string())
        .add("pending", report.pending.to_string())
        .add("rejected", report.rejected.to_string());
    crate::output::fields(&f, out)?;
    if let Some(r) = &report.first_rejected {
        let all = match report.rejected {
            1 => String::new(),
            n => format!(" ({n} rejected in all)"),
        };
        let file = file.display();
        return Err(user(format!(
            "{file}: document {}: a change is rejected: {}{all}; the sound changes were imported, see `mutu verify {file}`",
            r.doc, r.reason
        )));
    }
    Ok(())
}

pub fn verify(file: &Path, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let bundle = Bundle::parse(&read_file(file)?).with_context(|| file.display().to_string())?;
    let docs = bundle::verify(&bundle, now).with_context(|| file.display().to_string())?;
    let mut t = Table::new(&["DOCUMENT", "CHANGES", "RECORDS"]);
    for d in &docs {
        t.row(vec![d.doc.to_string(), d.changes.to_string(), d.records.to_string()]);
    }
    crate::output::table(&t, out)?;
    writeln!(
        out,
        "ok: {}, {}, {}",
        count(docs.len(), "document", "documents"),
        count(docs.iter().map(|d| d.changes).sum(), "change", "changes"),
        count(docs.iter().map(|d| d.records).sum(), "record", "records"),
    )?;
    Ok(())
}
