//! publiccode.yml in and out of project records (issue 14).
//!
//! A project imported from a publiccode.yml keeps the file's text, signed,
//! in its `publiccode` field; the record's typed fields are derived from it
//! here ([`check`]): name, description (English, or the file's first
//! language), license (deprecated SPDX ids replaced by their successors:
//! the record holds `GPL-3.0-only` where the file says `GPL-3.0`),
//! repository (`url`), homepage (`landingURL`), tags (`categories`), status
//! (`developmentStatus`), and `isBasedOn` (the project mutu knows with that
//! repository). The software's identity is its `url`: importing the same
//! software again replaces the member's project with that url.
//!
//! `usedBy` is never turned into usage records: only an organisation can
//! sign its own usage. It stays in the text, shown as declared by the
//! project, unverified; an [`export`] adds the members who signed a usage of
//! the project after the declared names.
//!
//! Front ends validate first ([`check`]: it reports every broken file with
//! the validator's located errors) and write the valid files in one change
//! ([`import`] on a state, or [`ImportPubliccode`] through the actor, which
//! checks them again since a request is untrusted).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use mutu_protocol::MemberId;
use mutu_protocol::Timestamp;
use mutu_protocol::record::{self, Body, DevStatus, Kind, RecordId, validate};
use mutu_protocol::view::{Index, Views};
use mutu_publiccode as pc;
use serde::{Deserialize, Serialize};

use super::{Error, Op};
use crate::state::State;

/// The most files one import takes.
pub const MAX_FILES: usize = 256;
/// The longest file name kept in a report, in characters.
const MAX_NAME_CHARS: usize = 200;

/// One publiccode.yml handed over for import: a name for reports (the path
/// as the user gave it) and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PubliccodeFile {
    /// How reports name the file, e.g. `apps/paheko/publiccode.yml`.
    pub name: String,
    /// The publiccode.yml's text (UTF-8).
    pub yaml: String,
}

/// `mutu project import`, `POST /api/v1/projects/import` (with only the
/// valid files): creates or updates a project per publiccode.yml, all in
/// one change. Refused whole if any file is invalid; gives the id of the
/// last file's project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportPubliccode {
    pub files: Vec<PubliccodeFile>,
}

impl Op for ImportPubliccode {
    fn apply(self, st: &mut State, now: Timestamp) -> Result<RecordId, Error> {
        let checked = check(self.files)?;
        if !checked.refused.is_empty() {
            let list: Vec<String> = checked.refused.iter().map(ToString::to_string).collect();
            return Err(Error::bad("files", list.join("\n")));
        }
        let imported = import(st, checked.valid, now)?;
        imported
            .last()
            .map(|i| i.id)
            .ok_or_else(|| Error::bad("files", "give at least one publiccode.yml"))
    }
}

/// A validator's finding, as reports carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    /// `error` or `warning`.
    pub severity: String,
    /// The key path (`maintenance.contractors[0].until`); empty for the whole file.
    pub key: String,
    /// From 1; 0 when the finding has no place in the file.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl From<&pc::Diagnostic> for Finding {
    fn from(d: &pc::Diagnostic) -> Self {
        Finding {
            severity: match d.severity {
                pc::Severity::Error => "error",
                pc::Severity::Warning => "warning",
            }
            .to_owned(),
            key: d.key.clone(),
            line: d.line,
            column: d.column,
            message: d.message.clone(),
        }
    }
}

impl Finding {
    fn error(message: String) -> Self {
        Finding {
            severity: "error".into(),
            key: String::new(),
            line: 0,
            column: 0,
            message,
        }
    }
}

impl fmt::Display for Finding {
    /// `LINE:COLUMN: error: KEY: MESSAGE`, as the reference validator prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: ", self.line, self.column, self.severity)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// A file that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refused {
    pub file: String,
    pub findings: Vec<Finding>,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors: Vec<&Finding> = self.findings.iter().filter(|x| x.severity == "error").collect();
        let n = errors.len();
        write!(
            f,
            "{}: not imported ({n} error{})",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for e in errors {
            write!(f, "\n  {}:{e}", self.file)?;
        }
        Ok(())
    }
}

/// A valid file, with the project record made from it.
#[derive(Debug, Clone)]
pub struct Valid {
    pub file: String,
    /// The software's identity.
    pub url: String,
    pub project: record::Project,
    /// `isBasedOn`: repositories, resolved at import.
    based_on: Vec<String>,
    pub warnings: Vec<Finding>,
}

/// What [`check`] found: the files to import, and the others.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub valid: Vec<Valid>,
    pub refused: Vec<Refused>,
}

/// Validates each file with the standard's rules and makes its project
/// record; a file that fails (or names the same `url` as an earlier one)
/// is refused with its located findings. Pure; parses up to
/// [`MAX_FILES`] files of at most [`validate::MAX_PUBLICCODE_BYTES`].
pub fn check(files: Vec<PubliccodeFile>) -> Result<Checked, Error> {
    if files.is_empty() {
        return Err(Error::bad("files", "give at least one publiccode.yml"));
    }
    if files.len() > MAX_FILES {
        return Err(Error::bad(
            "files",
            format!(
                "{} files given, one import takes at most {MAX_FILES}: import them in several goes",
                files.len()
            ),
        ));
    }
    let mut out = Checked::default();
    let mut urls: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let file: String = f.name.chars().take(MAX_NAME_CHARS).collect();
        match one(&f.yaml) {
            Err(findings) => out.refused.push(Refused { file, findings }),
            Ok((url, project, based_on, warnings)) => {
                if let Some(first) = urls.get(&url) {
                    let message = format!("describes the same software (url `{url}`) as {first}: keep one of them");
                    out.refused.push(Refused {
                        file,
                        findings: vec![Finding {
                            key: "url".into(),
                            ..Finding::error(message)
                        }],
                    });
                    continue;
                }
                urls.insert(url.clone(), file.clone());
                out.valid.push(Valid {
                    file,
                    url,
                    project,
                    based_on,
                    warnings,
                });
            }
        }
    }
    Ok(out)
}

type Made = (String, record::Project, Vec<String>, Vec<Finding>);

/// One file: validated, then made into a project record.
fn one(yaml: &str) -> Result<Made, Vec<Finding>> {
    if yaml.len() > validate::MAX_PUBLICCODE_BYTES {
        return Err(vec![Finding::error(format!(
            "the file is {} bytes; a project keeps a publiccode.yml of at most {} bytes: shorten its long descriptions",
            yaml.len(),
            validate::MAX_PUBLICCODE_BYTES
        ))]);
    }
    let report = pc::parse(yaml.as_bytes(), &pc::Options::default());
    let findings: Vec<Finding> = report.diagnostics.iter().map(Finding::from).collect();
    let document = match report.document {
        Some(d) if report.diagnostics.iter().all(|d| d.severity != pc::Severity::Error) => d,
        _ => return Err(findings),
    };
    let sw = document.software();
    // A valid file has a url (required).
    let url = sw.url.clone().unwrap_or_default();
    let description = sw.description_for("en").map(|(_, d)| describe(d)).unwrap_or_default();
    let mut tags: Vec<String> = Vec::new();
    for c in sw.categories.iter().flatten() {
        let t = validate::normalize_tag(c);
        if !t.is_empty() && !tags.contains(&t) && tags.len() < validate::MAX_PROJECT_TAGS {
            tags.push(t);
        }
    }
    let http = |u: &Option<String>| u.clone().filter(|u| validate::url("url", u).is_ok());
    let project = record::Project {
        name: sw.name.clone().unwrap_or_default().trim().to_owned(),
        description,
        license: sw
            .legal
            .license_normalised()
            .or_else(|| sw.legal.license.clone())
            .unwrap_or_default(),
        repository: http(&sw.url),
        homepage: http(&sw.landing_url),
        tags,
        status: match sw.development_status() {
            Some(pc::vocab::DevelopmentStatus::Concept) => DevStatus::Concept,
            Some(pc::vocab::DevelopmentStatus::Beta) => DevStatus::Beta,
            Some(pc::vocab::DevelopmentStatus::Stable) => DevStatus::Stable,
            Some(pc::vocab::DevelopmentStatus::Obsolete) => DevStatus::Obsolete,
            _ => DevStatus::Development,
        },
        is_based_on: None,
        publiccode: yaml.to_owned(),
    };
    let mut project = project;
    let mut fits = fits(&project);
    if matches!(fits, Err(record::Invalid::TooLarge { .. })) {
        // The file and its long description do not fit in one record
        // together: the record's description is the short one alone.
        project.description = sw
            .description_for("en")
            .and_then(|(_, d)| d.short_description.as_deref())
            .unwrap_or("")
            .trim()
            .to_owned();
        fits = self::fits(&project);
    }
    if let Err(e) = fits {
        let mut all = findings;
        all.push(Finding::error(format!(
            "the file is valid, but the project made from it is not: {e}"
        )));
        return Err(all);
    }
    Ok((url, project, sw.is_based_on.clone(), findings))
}

/// Whether `project` makes a valid record of at most
/// [`record::MAX_RECORD_BYTES`], whoever signs it and whenever: signed
/// here with a throwaway key, at the latest time a timestamp can hold (the
/// longest encoding).
fn fits(project: &record::Project) -> Result<(), record::Invalid> {
    let key = mutu_protocol::SecretKey::from_bytes(&[7; 32]);
    let at = Timestamp(u64::MAX);
    record::Record::new(key.member_id(), [0; 16], at, Body::Project(project.clone()))
        .sign(&key)
        .map(drop)
}

/// A record's description: the short description, then the long one,
/// within the record's limit.
fn describe(d: &pc::Description) -> String {
    let short = d.short_description.as_deref().unwrap_or("").trim();
    let long = d.long_description.as_deref().unwrap_or("").trim();
    let both = if long.is_empty() {
        short.to_owned()
    } else {
        format!("{short}\n\n{long}")
    };
    if both.chars().count() <= validate::MAX_DESCRIPTION_CHARS {
        return both;
    }
    long.chars().take(validate::MAX_DESCRIPTION_CHARS).collect()
}

/// The url a project stands for: its publiccode.yml's `url`, else its repository.
fn url_of(p: &record::Project) -> Option<String> {
    if !p.publiccode.is_empty() {
        if let Some(u) = p.repository.clone() {
            // An imported project's repository is its url when that is http(s).
            return Some(u);
        }
        let report = pc::parse(p.publiccode.as_bytes(), &pc::Options::default());
        if let Some(u) = report.document.and_then(|d| d.software().url.clone()) {
            return Some(u);
        }
    }
    p.repository.clone()
}

/// The member's own visible projects, by the url they stand for.
pub fn own_projects_by_url(index: &Index, me: &MemberId) -> BTreeMap<String, RecordId> {
    let mut by_url = BTreeMap::new();
    for r in index.of_kind(Kind::Project) {
        if r.record().author != *me {
            continue;
        }
        if let Body::Project(p) = &r.record().body
            && let Some(u) = url_of(p)
        {
            by_url.entry(u).or_insert_with(|| r.id());
        }
    }
    by_url
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Imported {
    pub file: String,
    /// The project's id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: RecordId,
    pub name: String,
    pub url: String,
    /// `created`, `updated` (the member's project with this url), or
    /// `unchanged` (the same file was imported before: nothing written).
    pub outcome: String,
    pub warnings: Vec<Finding>,
}

/// A valid file's project as it will be written.
struct Prepared {
    /// The member's project with the file's url.
    existing: Option<RecordId>,
    project: record::Project,
    outcome: &'static str,
}

fn prepare(index: &Index, me: &MemberId, valid: &[Valid]) -> Vec<Prepared> {
    let own = own_projects_by_url(index, me);
    let mut repositories: BTreeMap<&str, RecordId> = BTreeMap::new();
    for r in index.of_kind(Kind::Project) {
        if let Body::Project(p) = &r.record().body
            && let Some(u) = &p.repository
        {
            repositories.entry(u.as_str()).or_insert_with(|| r.id());
        }
    }
    valid
        .iter()
        .map(|v| {
            let existing = own.get(&v.url).copied();
            let mut project = v.project.clone();
            project.is_based_on = v
                .based_on
                .iter()
                .filter_map(|u| repositories.get(u.as_str()).copied())
                .find(|id| Some(*id) != existing);
            let unchanged = existing
                .and_then(|id| index.get(&id))
                .is_some_and(|r| matches!(&r.record().body, Body::Project(p) if *p == project));
            let outcome = match (existing, unchanged) {
                (None, _) => "created",
                (Some(_), false) => "updated",
                (Some(_), true) => "unchanged",
            };
            Prepared {
                existing,
                project,
                outcome,
            }
        })
        .collect()
}

/// What [`import`] will do with each valid file, against `index`:
/// `created`, `updated` or `unchanged`.
pub fn outcomes(index: &Index, me: &MemberId, valid: &[Valid]) -> Vec<&'static str> {
    prepare(index, me, valid).into_iter().map(|p| p.outcome).collect()
}

/// Writes the projects of valid files in one change (one durable commit):
/// a new project per url, the member's own project with that url replaced,
/// nothing written for a file imported before unchanged.
pub fn import(st: &mut State, valid: Vec<Valid>, now: Timestamp) -> Result<Vec<Imported>, Error> {
    let prepared = prepare(st.registry().index(), &st.member_id(), &valid);
    let mut ids: Vec<Option<RecordId>> = prepared.iter().map(|p| p.existing).collect();
    let mut at = Vec::new();
    let mut writes = Vec::new();
    let mut outcomes = Vec::with_capacity(prepared.len());
    for (i, p) in prepared.into_iter().enumerate() {
        outcomes.push(p.outcome);
        if p.outcome != "unchanged" {
            at.push(i);
            writes.push((p.existing, Body::Project(p.project)));
        }
    }
    if !writes.is_empty() {
        let written = st.write_many(writes, now)?;
        for (i, id) in at.into_iter().zip(written) {
            ids[i] = Some(id);
        }
    }
    let mut report = Vec::with_capacity(valid.len());
    for ((v, outcome), id) in valid.into_iter().zip(outcomes).zip(ids) {
        // Every entry is an existing project or was just written.
        let Some(id) = id else { continue };
        report.push(Imported {
            file: v.file,
            id,
            name: v.project.name,
            url: v.url,
            outcome: outcome.into(),
            warnings: v.warnings,
        });
    }
    Ok(report)
}

/// The publiccode.yml of project `id`: the text as imported, with the
/// members who signed a usage of it added to `usedBy` after the names the
/// file declares. A project described without a publiccode.yml has none.
pub fn export(views: &Views<'_>, id: &RecordId) -> Result<String, Error> {
    let r = views
        .index()
        .get(id)
        .filter(|r| r.record().kind == Kind::Project)
        .ok_or_else(|| Error::NotFound(format!("no project {id} here")))?;
    let Body::Project(p) = &r.record().body else {
        return Err(Error::NotFound(format!("no project {id} here")));
    };
    if p.publiccode.is_empty() {
        return Err(Error::Conflict(format!(
            "project {id} was described without a publiccode.yml, so it has none to export: its author can import one with `mutu project import`"
        )));
    }
    let users: Vec<String> = views
        .project(r)
        .map(|v| v.users)
        .unwrap_or_default()
        .iter()
        .map(|m| {
            views
                .member(m)
                .profile
                .map_or_else(|| m.to_string(), |pr| pr.name.clone())
        })
        .collect();
    let report = pc::parse(p.publiccode.as_bytes(), &pc::Options::default());
    let Some(document) = report.document else {
        return Ok(p.publiccode.clone());
    };
    let mut value = document.into_value();
    let Some(map) = value.as_mapping_mut() else {
        return Ok(p.publiccode.clone());
    };
    let mut used_by: Vec<pc::Value> = map
        .get("usedBy")
        .and_then(pc::Value::as_sequence)
        .map(<[pc::Value]>::to_vec)
        .unwrap_or_default();
    let declared: BTreeSet<String> = used_by.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    let added: Vec<String> = users.into_iter().filter(|u| !declared.contains(u)).collect();
    if added.is_empty() {
        // Byte for byte what was imported (comments and layout kept).
        return Ok(p.publiccode.clone());
    }
    used_by.extend(added.into_iter().map(pc::Value::String));
    map.insert("usedBy", pc::Value::Sequence(used_by));
    Ok(pc::yaml::to_string(&value))
}

/// A catalogue as a directory an association can publish as is: one
/// `<name>-<id>/publiccode.yml` per project that has one, and an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueExport {
    pub index: CatalogueIndex,
    pub files: Vec<ExportedFile>,
}

/// `index.json` of a catalogue export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueIndex {
    /// The catalogue's id.
    pub catalogue: String,
    pub title: String,
    pub description: String,
    /// Every entry, federated ones included, in the catalogue's order.
    pub projects: Vec<IndexEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndexEntry {
    /// The project's id.
    pub id: String,
    pub name: String,
    /// The software's url (its repository), when known.
    pub url: Option<String>,
    /// The catalogue's verdict: recommended, observation, deprecated.
    pub status: String,
    pub note: String,
    /// The included catalogue the entry comes from, if not this one's own.
    pub via: Option<String>,
    /// The exported file's path in the directory; `None` when the project
    /// was described without a publiccode.yml.
    pub file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportedFile {
    /// A relative path of plain components, e.g. `medusa-njm3gene/publiccode.yml`.
    pub path: String,
    pub yaml: String,
}

/// A directory name for a project: its name in lowercase ASCII letters,
/// digits and dashes, then the start of its id (names may repeat).
fn slug(name: &str, id: &RecordId) -> String {
    let mut s = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
        if s.len() >= 48 {
            break;
        }
    }
    let s = s.trim_end_matches('-');
    let id = id.to_string();
    let short = id.get(..8).unwrap_or(&id);
    if s.is_empty() {
        short.to_owned()
    } else {
        format!("{s}-{short}")
    }
}

/// Exports catalogue `id` (with the entries it federates): each listed
/// project's publiccode.yml (as [`export`] gives it) and an index of all.
pub fn export_catalogue(views: &Views<'_>, id: &RecordId) -> Result<CatalogueExport, Error> {
    let r = views
        .index()
        .get(id)
        .filter(|r| r.record().kind == Kind::Catalogue)
        .ok_or_else(|| Error::NotFound(format!("no catalogue {id} here")))?;
    let view = views
        .catalogue(r)
        .ok_or_else(|| Error::NotFound(format!("no catalogue {id} here")))?;
    let (title, description) = match &r.record().body {
        Body::Catalogue(c) => (c.title.clone(), c.description.clone()),
        _ => return Err(Error::NotFound(format!("no catalogue {id} here"))),
    };
    let mut files = Vec::new();
    let mut projects = Vec::new();
    let mut seen = BTreeSet::new();
    for e in &view.entries {
        let Some(Body::Project(p)) = views.index().get(&e.project).map(|r| &r.record().body) else {
            continue;
        };
        let file = if !p.publiccode.is_empty() && seen.insert(e.project) {
            let path = format!("{}/publiccode.yml", slug(&p.name, &e.project));
            files.push(ExportedFile {
                path: path.clone(),
                yaml: export(views, &e.project)?,
            });
            Some(path)
        } else {
            files
                .iter()
                .find(|f| f.path.starts_with(&slug(&p.name, &e.project)))
                .map(|f| f.path.clone())
        };
        projects.push(IndexEntry {
            id: e.project.to_string(),
            name: p.name.clone(),
            url: url_of(p),
            status: serde_json::to_value(e.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            note: e.note.clone(),
            via: e.via.map(|v| v.to_string()),
            file,
        });
    }
    Ok(CatalogueExport {
        index: CatalogueIndex {
            catalogue: id.to_string(),
            title,
            description,
            projects,
        },
        files,
    })
}

/// The publiccode.yml information a project page and the API show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Info {
    pub url: Option<String>,
    pub landing_url: Option<String>,
    pub software_version: Option<String>,
    pub release_date: Option<String>,
    pub software_type: Option<String>,
    pub development_status: Option<String>,
    pub platforms: Vec<String>,
    pub categories: Vec<String>,
    /// The description in the reader's language, or the nearest.
    pub description: Option<Localised>,
    /// The languages the file describes the software in.
    pub languages: Vec<String>,
    pub maintenance_type: Option<String>,
    pub contractors: Vec<Contractor>,
    pub contacts: Vec<String>,
    /// `usedBy`: declared by the project, unverified (no signature of the
    /// organisations named).
    pub used_by_declared: Vec<String>,
    pub available_languages: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Localised {
    pub language: String,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub features: Vec<String>,
    pub documentation: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contractor {
    pub name: Option<String>,
    pub until: Option<String>,
    pub website: Option<String>,
}

/// What a project's publiccode.yml says, for `language` (a BCP 47 tag);
/// `None` when the project has none or it no longer reads.
pub fn info(publiccode: &str, language: &str) -> Option<Info> {
    if publiccode.is_empty() {
        return None;
    }
    let report = pc::parse(publiccode.as_bytes(), &pc::Options::default());
    let document = report.document?;
    let sw = document.software();
    Some(Info {
        url: sw.url.clone(),
        landing_url: sw.landing_url.clone(),
        software_version: sw.software_version.clone(),
        release_date: sw.release_date.clone(),
        software_type: sw.software_type.clone(),
        development_status: sw.development_status.clone(),
        platforms: sw.platforms.clone(),
        categories: sw.categories.clone().unwrap_or_default(),
        description: sw.description_for(language).map(|(tag, d)| Localised {
            language: tag.to_owned(),
            short_description: d.short_description.clone(),
            long_description: d.long_description.clone(),
            features: d.features.clone().unwrap_or_default(),
            documentation: d.documentation.clone(),
        }),
        languages: sw.description.iter().map(|(tag, _)| tag.clone()).collect(),
        maintenance_type: sw.maintenance.kind.clone(),
        contractors: sw
            .maintenance
            .contractors
            .iter()
            .flatten()
            .map(|c| Contractor {
                name: c.name.clone(),
                until: c.until.clone(),
                website: c.website.clone(),
            })
            .collect(),
        contacts: sw
            .maintenance
            .contacts
            .iter()
            .flatten()
            .filter_map(|c| c.name.clone())
            .collect(),
        used_by_declared: sw.used_by.clone().unwrap_or_default(),
        available_languages: sw.localisation.available_languages.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests;
