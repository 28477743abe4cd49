//! `export`, `import` and `verify`: bundles of signed changes.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use mutu_node::state::State;
use mutu_protocol::Timestamp;
use mutu_protocol::bundle::{self, Bundle};

use super::read_file;
use crate::fail::user;
use crate::output::{Fields, Table, count};

pub fn export(st: &State, file: Option<&Path>, out: &mut dyn Write) -> anyhow::Result<()> {
    let bundle = st.export()?;
    let text = bundle.to_json();
    let Some(file) = file else {
        writeln!(out, "{text}")?;
        return Ok(());
    };
    // Write beside the target, then rename: a reader never sees half a bundle.
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.is_empty() {
        return Err(user(format!("--out {}: give a file name", file.display())));
    }
    let tmp = file.with_file_name(format!(".{name}.tmp"));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, file)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", file.display()));
    }
    writeln!(
        out,
        "exported {} ({}) to {}",
        count(bundle.documents.len(), "document", "documents"),
        count(bundle.change_count(), "change", "changes"),
        file.display()
    )?;
    Ok(())
}

pub fn import(st: &mut State, file: &Path, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    let bundle = Bundle::parse(&read_file(file)?).with_context(|| file.display().to_string())?;
    let report = st.import(&bundle, now)?;
    Fields::default()
        .add("admitted", report.admitted.len().to_string())
        .add("duplicates", report.duplicates.to_string())
        .add("pending", report.pending.to_string())
        .add("rejected", report.rejected.len().to_string())
        .print(out)?;
    if let Some(r) = report.rejected.first() {
        let all = match report.rejected.len() {
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
    t.print(out)?;
    writeln!(
        out,
        "ok: {}, {}, {}",
        count(docs.len(), "document", "documents"),
        count(docs.iter().map(|d| d.changes).sum(), "change", "changes"),
        count(docs.iter().map(|d| d.records).sum(), "record", "records"),
    )?;
    Ok(())
}
