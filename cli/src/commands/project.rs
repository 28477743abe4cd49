//! `mutu project import FILE|DIR...` and `mutu project export PROJECT
//! --format publiccode`: publiccode.yml in and out of projects.
//!
//! The CLI reads the files itself, offline or with a node running (then it
//! sends their text to `POST /api/v1/projects/import`; the node opens no
//! file). Every file is validated; the valid ones are written in one
//! change, each broken one reported with the validator's located errors
//! (exit 2 when any is refused, after the others are imported).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use mutu_http::api::projects::ProjectImportReport;
use mutu_node::ops::{self, PubliccodeFile, publiccode};
use mutu_node::state::State;
use mutu_protocol::Timestamp;
use mutu_protocol::record::Kind;
use mutu_publiccode as pc;

use crate::args::{ProjectCmd, ProjectExport, ProjectFormat, ProjectImport};
use crate::fail::user;
use crate::node::api_failure;

/// The names a directory's publiccode files have.
const NAMES: &[&str] = &["publiccode.yml", "publiccode.yaml"];
/// How deep a directory is searched.
const MAX_DEPTH: usize = 16;

/// Runs `mutu project import|export` on an open state.
pub fn offline(st: &mut State, c: ProjectCmd, now: Timestamp, out: &mut dyn Write) -> anyhow::Result<()> {
    match c {
        ProjectCmd::Import(a) => {
            let (files, mut refused) = read_files(&a.paths)?;
            let checked = publiccode::check(files).map_err(crate::commands::write::failure)?;
            refused.extend(checked.refused);
            let imported = if checked.valid.is_empty() {
                Vec::new()
            } else {
                publiccode::import(st, checked.valid, now).map_err(crate::commands::write::failure)?
            };
            report(&ProjectImportReport { imported, refused }, &a, out)
        }
        ProjectCmd::Export(a) => {
            let ProjectFormat::Publiccode = a.format;
            let failure = crate::commands::write::failure;
            if let Some(c) = &a.catalogue {
                let id = st
                    .resolve_kind(c, Kind::Catalogue)
                    .map_err(|e| failure(ops::Error::from_state(e, Some("catalogue"))))?;
                let export = publiccode::export_catalogue(&st.views(now), &id).map_err(failure)?;
                return write_catalogue(&a, &export, out);
            }
            let project = a.project.as_deref().unwrap_or_default();
            let id = st
                .resolve_kind(project, Kind::Project)
                .map_err(|e| failure(ops::Error::from_state(e, Some("project"))))?;
            let yaml = publiccode::export(&st.views(now), &id).map_err(failure)?;
            write_out(&a, &yaml, out)
        }
        ProjectCmd::Add(_) => Err(anyhow::anyhow!("`mutu project add` is a write request")),
    }
}

/// Runs `mutu project import|export` through the node at `http`.
pub fn remote(http: &SocketAddr, token: &str, c: ProjectCmd, out: &mut dyn Write) -> anyhow::Result<()> {
    let unreachable = || format!("cannot reach the node at {http} (is `mutu run` still running?)");
    match c {
        ProjectCmd::Import(a) => {
            let (files, refused) = read_files(&a.paths)?;
            let mut answer = if files.is_empty() {
                ProjectImportReport {
                    imported: Vec::new(),
                    refused: Vec::new(),
                }
            } else {
                let mut response = ureq::post(&format!("http://{http}/api/v1/projects/import"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .config()
                    .http_status_as_error(false)
                    .build()
                    .send_json(&ops::ImportPubliccode { files })
                    .with_context(unreachable)?;
                if response.status() != 200 {
                    return Err(api_failure(response, ""));
                }
                response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024 * 1024)
                    .read_json()
                    .context("the node's answer is not what this CLI expects (different versions?)")?
            };
            let mut all = refused;
            all.append(&mut answer.refused);
            answer.refused = all;
            report(&answer, &a, out)
        }
        ProjectCmd::Export(a) if a.catalogue.is_some() => {
            let ProjectFormat::Publiccode = a.format;
            let catalogue = a
                .catalogue
                .as_deref()
                .unwrap_or_default()
                .replace(['/', '?', '#', '%'], "");
            let mut response = get(http, &format!("/api/v1/catalogues/{catalogue}/publiccode"))?;
            let export: publiccode::CatalogueExport = response
                .body_mut()
                .with_config()
                .limit(1024 * 1024 * 1024)
                .read_json()
                .context("the node's answer is not what this CLI expects (different versions?)")?;
            write_catalogue(&a, &export, out)
        }
        ProjectCmd::Export(a) => {
            let ProjectFormat::Publiccode = a.format;
            let project = a
                .project
                .as_deref()
                .unwrap_or_default()
                .replace(['/', '?', '#', '%'], "");
            let mut response = get(http, &format!("/api/v1/projects/{project}/publiccode.yml"))?;
            let yaml = response
                .body_mut()
                .with_config()
                .limit(pc::MAX_INPUT_BYTES as u64)
                .read_to_string()
                .context("the node's answer is not what this CLI expects (different versions?)")?;
            write_out(&a, &yaml, out)
        }
        ProjectCmd::Add(_) => Err(anyhow::anyhow!("`mutu project add` is a write request")),
    }
}

/// `GET path` on the node at `http`: its answer when it is 200, else the
/// node's error as this CLI's.
fn get(http: &SocketAddr, path: &str) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
    let response = ureq::get(&format!("http://{http}{path}"))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .with_context(|| format!("cannot reach the node at {http} (is `mutu run` still running?)"))?;
    if response.status() != 200 {
        return Err(api_failure(response, ""));
    }
    Ok(response)
}

/// The files named, directories searched for publiccode.yml files (sorted,
/// hidden directories skipped); a file that cannot be one (not UTF-8, too
/// large) is refused here with the validator's finding.
fn read_files(paths: &[PathBuf]) -> anyhow::Result<(Vec<PubliccodeFile>, Vec<publiccode::Refused>)> {
    let mut found = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                user(format!("{}: no such file or directory", p.display()))
            } else {
                user(format!("cannot read {}: {e}", p.display()))
            }
        })?;
        if meta.is_dir() {
            let before = found.len();
            search(p, 0, &mut found)?;
            if found.len() == before {
                return Err(user(format!("{}: no publiccode.yml under this directory", p.display())));
            }
        } else {
            found.push(p.clone());
        }
    }
    if found.len() > publiccode::MAX_FILES {
        return Err(user(format!(
            "{} files found, one import takes at most {}: import them in several goes",
            found.len(),
            publiccode::MAX_FILES
        )));
    }
    let mut files = Vec::new();
    let mut refused = Vec::new();
    for p in found {
        let name = p.display().to_string();
        let bytes = read_bounded(&p)?;
        let Some(bytes) = bytes else {
            refused.push(publiccode::Refused {
                file: name,
                findings: vec![publiccode::Finding {
                    severity: "error".into(),
                    key: String::new(),
                    line: 0,
                    column: 0,
                    message: format!(
                        "the file is larger than {} bytes: is it really a publiccode.yml?",
                        pc::MAX_INPUT_BYTES
                    ),
                }],
            });
            continue;
        };
        match String::from_utf8(bytes) {
            Ok(yaml) => files.push(PubliccodeFile { name, yaml }),
            Err(e) => {
                // The validator locates the first byte that is not UTF-8.
                let report = pc::parse(e.as_bytes(), &pc::Options::default());
                refused.push(publiccode::Refused {
                    file: name,
                    findings: report.diagnostics.iter().map(publiccode::Finding::from).collect(),
                });
            }
        }
    }
    Ok((files, refused))
}

fn search(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the directory {}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            if !name.starts_with('.') {
                search(&e.path(), depth + 1, found)?;
            }
        } else if NAMES.contains(&name.as_ref()) {
            found.push(e.path());
        }
    }
    Ok(())
}

/// A file's bytes, or `None` when it is over the validator's limit.
fn read_bounded(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(pc::MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok((bytes.len() <= pc::MAX_INPUT_BYTES).then_some(bytes))
}

/// Prints what an import did; an error (exit 2) when a file was refused.
fn report(r: &ProjectImportReport, a: &ProjectImport, out: &mut dyn Write) -> anyhow::Result<()> {
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(r)?)?;
    } else {
        for i in &r.imported {
            writeln!(out, "{:<9} {}  {}  ({})", i.outcome, i.id, i.name, i.file)?;
            for w in &i.warnings {
                writeln!(out, "  {}:{w}", i.file)?;
            }
        }
        for f in &r.refused {
            writeln!(out, "{f}")?;
        }
    }
    if r.refused.is_empty() {
        return Ok(());
    }
    Err(user(format!(
        "{} of {} files not imported (the others are): fix the errors above and import them again",
        r.refused.len(),
        r.refused.len() + r.imported.len()
    )))
}

fn write_out(a: &ProjectExport, yaml: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(file) = &a.out else {
        out.write_all(yaml.as_bytes())?;
        return Ok(());
    };
    if file.file_name().is_none_or(|n| n.is_empty()) {
        return Err(user(format!("--out {}: give a file name", file.display())));
    }
    mutu_node::home::write_atomically(file, 0o666, |f| f.write_all(yaml.as_bytes()))
        .with_context(|| format!("cannot write {}", file.display()))?;
    writeln!(out, "wrote {}", file.display())?;
    Ok(())
}

/// Writes a catalogue export under `--out`: each file (its path checked to
/// be plain relative components, whatever the node sent), then
/// `index.json`. Files already there are replaced.
fn write_catalogue(a: &ProjectExport, export: &publiccode::CatalogueExport, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(dir) = &a.out else {
        return Err(user("--catalogue needs --out DIR: the directory to write the files in"));
    };
    let write = |path: &Path, bytes: &[u8]| -> anyhow::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        mutu_node::home::write_atomically(path, 0o666, |f| f.write_all(bytes))
            .with_context(|| format!("cannot write {}", path.display()))
    };
    for f in &export.files {
        let relative = Path::new(&f.path);
        let plain = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain || relative.components().count() != 2 {
            return Err(anyhow::anyhow!(
                "the node sent a file path that is not NAME/publiccode.yml: {}",
                f.path
            ));
        }
        write(&dir.join(relative), f.yaml.as_bytes())?;
    }
    let index = serde_json::to_string_pretty(&export.index)? + "\n";
    write(&dir.join("index.json"), index.as_bytes())?;
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    writeln!(
        out,
        "exported {} ({} listed) and index.json to {}",
        count(export.files.len(), "publiccode.yml", "publiccode.yml files"),
        count(export.index.projects.len(), "project", "projects"),
        dir.display()
    )?;
    Ok(())
}
