//! publiccode.yml: read, validate and write back the public sector's
//! metadata standard for software (<https://github.com/publiccodeyml/publiccode.yml>).
//!
//! [`parse`] reads the bytes of a publiccode.yml and returns a [`Report`]:
//! the [`Document`] (every key of the file, in order, as a YAML [`Value`],
//! plus the typed view of the keys the standard knows, [`Software`]) and
//! the [`Diagnostic`]s, each with its severity, key path, line, column and
//! message. [`to_yaml`] writes a document back as YAML that reads back to
//! the same values.
//!
//! ```
//! let text = std::fs::read(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../shared/corpora/publiccode/testdata/v0/valid/valid.minimal.yml"
//! ));
//! # let Ok(text) = text else { return };
//! let report = mutu_publiccode::parse(&text, &mutu_publiccode::Options::default());
//! assert!(report.is_valid(), "{:?}", report.diagnostics);
//! let document = report.document.unwrap();
//! assert_eq!(document.software().name.as_deref(), Some("Medusa"));
//! ```
//!
//! # The rules
//!
//! The rules are those of the reference validator, italia/publiccode-parser-go
//! (v5), in its no-network mode, and the aim is the same verdict and the same
//! error keys on every file. Every 0.x version is validated with the rules of
//! the latest (0.7, written `"0"`); a file declaring an older one (`"0.2"` …
//! `"0.5"`) gets a warning. `publiccodeYmlVersion: "1"` is refused, as the
//! reference does until 1.0 is released. In short:
//!
//! - **Reading.** At most [`MAX_INPUT_BYTES`]; UTF-8; one YAML document, read
//!   as YAML 1.2 (core schema: `yes`, `no`, `on`, `off` are strings, so a
//!   boolean key holding them has the wrong type); aliases expanded within
//!   bounds (100 000 nodes, 4 MiB of text, 32 levels of nesting), so an alias
//!   bomb is an error, not an exhausted machine. At most [`MAX_DIAGNOSTICS`]
//!   are listed, and one more counts the rest. A key repeated in one mapping, a
//!   non-scalar key, and tags other than YAML's core ones are errors.
//! - **Types and keys.** A value of the wrong type, or an unknown key (keys
//!   are case-sensitive: `It` is unknown), is an error, and the top-level key
//!   holding it then counts as absent (so `description.en.awards: {}` also
//!   reports `description` as empty), as in the reference. The reference
//!   reports only the first such value; this crate reports each one.
//! - **Values.** Required keys (`name`, `url`, `platforms`,
//!   `developmentStatus`, `softwareType`, `description` with, per language,
//!   `shortDescription`, `longDescription`, `features`; `legal.license`,
//!   `maintenance.type`, `localisation.*`); the standard's vocabularies
//!   ([`vocab`]); URLs (`url` any URL, the others HTTP(S)); dates
//!   `YYYY-MM-DD`; ISO 3166-1 alpha-2 countries (lower case is deprecated);
//!   BCP 47 language tags valid against the IANA registry ([`bcp47`]);
//!   e-mail addresses; MIME types (RFC 6838); SPDX license expressions
//!   (identifiers in any case, operators `AND`/`OR`/`WITH` in capitals);
//!   `maintenance.contractors` required for, and only for, `contract`;
//!   `contacts` required for `internal` and `community`; organisation URIs
//!   (a URL, a URN, or `urn:x-italian-pa:<code>`). Lengths are counted in
//!   grapheme clusters, as a reader counts characters: `genericName` ≤ 35,
//!   `shortDescription` ≤ 150, 150 ≤ `longDescription` ≤ 10 000.
//! - **Warnings** for deprecated keys (`monochromeLogo`, `legal.authorsFile`,
//!   `legal.repoOwner`, `inputTypes`, `outputTypes`, `genericName`,
//!   `IT.conforme`, `IT.riuso.codiceIPA`, the lowercase `it` section,
//!   lowercase country codes) and old versions.
//!
//! # What is not checked offline
//!
//! This crate does no network access and reads no file unless told where the
//! publiccode.yml lives. What the reference checks beyond the text:
//!
//! - **Network** (the reference's network mode, off here as in its
//!   no-network mode): that `url`, `landingURL`, `roadmap` and the
//!   documentation URLs answer, that `url` is a code repository, and that
//!   logos and screenshots given as URLs exist.
//! - **Files next to the publiccode.yml** (`logo`, `monochromeLogo`,
//!   screenshots, `legal.authorsFile`): checked (exists; a PNG logo has a
//!   valid header) only when [`Options::base_dir`] is given, and only inside
//!   that directory. Their extension is always checked.
//! - **The Italian iPA registry** (about 24 000 public administration codes,
//!   for `urn:x-italian-pa:<code>` and `IT.riuso.codiceIPA`): a national
//!   registry is not embedded. Without [`Options::italian_pa_code`] a code is
//!   checked for its syntax only (letters, digits, `_`).
//! - **oEmbed video providers** (for `description.*.videos`): the list of
//!   providers is not embedded. Without [`Options::oembed_url`] a video URL
//!   is only checked to be an HTTP(S) URL.
//!
//! # Decisions
//!
//! - **Deprecated SPDX identifiers** (`GPL-3.0`, `AGPL-3.0`, `GPL-2.0+` …)
//!   are accepted, as the reference accepts them and real files use them,
//!   with a warning naming the exact replacement (`GPL-3.0-only`,
//!   `AGPL-3.0-only`, `GPL-2.0-or-later`). The document keeps the text as
//!   written (export is lossless); [`Legal::license_normalised`] gives the
//!   replacement, which is what a mutu project record should hold. The same
//!   warning asks for the list's spelling of an identifier written in
//!   another case (`mit` → `MIT`).
//! - **Positions.** Keys and positions follow the reference (the first key
//!   of the mapping for a missing key; the line of the offending value for a
//!   wrong type), except that a wrong type points at the value's own column
//!   where the reference says column 1, and that file-level errors (syntax,
//!   encoding, size) carry the position of the fault.
//! - **Messages** are the reference's where they were clear, and say more
//!   (the value found, the expected type, the allowed values) where not.
//! - **BCP 47** tags are checked against the IANA registry of
//!   [`bcp47::REGISTRY_DATE`], compiled in from a table that
//!   `publiccode/scripts/gen-bcp47.py` regenerates from the registry file.

mod decode;
mod files;
mod license;
mod position;
mod rules;
mod software;
mod syntax;

pub mod bcp47;
pub mod vocab;
pub mod yaml;

use std::fmt;
use std::path::Path;

pub use software::*;
pub use yaml::{Mapping, Value};

/// The largest publiccode.yml read, in bytes. Real files are a few KiB.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// How a file is checked. The default checks the text only.
#[derive(Clone, Copy, Default)]
pub struct Options<'a> {
    /// The directory of the publiccode.yml: relative paths (`logo`,
    /// screenshots, `legal.authorsFile`) are checked to exist under it.
    pub base_dir: Option<&'a Path>,
    /// Whether a code is in the Italian iPA registry.
    pub italian_pa_code: Option<&'a dyn Fn(&str) -> bool>,
    /// Whether a URL is a video of a known oEmbed provider.
    pub oembed_url: Option<&'a dyn Fn(&str) -> bool>,
}

impl fmt::Debug for Options<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("base_dir", &self.base_dir)
            .field("italian_pa_code", &self.italian_pa_code.map(|_| "fn"))
            .field("oembed_url", &self.oembed_url.map(|_| "fn"))
            .finish()
    }
}

/// Whether a diagnostic makes the file invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The key path (`maintenance.contractors[0].until`); empty for the
    /// whole file (encoding, syntax, size).
    pub key: String,
    /// Line and column, from 1; 0 when the finding has no place in the file
    /// (a key missing from a section that is missing too).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `publiccode.yml:LINE:COLUMN: error: KEY: MESSAGE`, as the reference prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "publiccode.yml:{}:{}: {severity}: ", self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// A publiccode.yml, as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    value: Value,
    software: Software,
}

impl Document {
    /// Every key of the file, in the file's order.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The file's value, to change and write back.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// The standard's keys, typed.
    pub fn software(&self) -> &Software {
        &self.software
    }
}

/// What [`parse`] found.
#[derive(Clone, Debug)]
pub struct Report {
    /// The document; `None` when the bytes are not a YAML mapping with a
    /// supported `publiccodeYmlVersion`. An invalid file that is readable
    /// still has its document.
    pub document: Option<Document>,
    /// Errors and warnings, errors on values first, in the reference's order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Whether the file is a valid publiccode.yml: readable, and no error.
    pub fn is_valid(&self) -> bool {
        self.document.is_some() && self.errors().next().is_none()
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Warning)
    }

    fn fail(key: &str, line: usize, column: usize, message: String) -> Report {
        let error = Diagnostic {
            severity: Severity::Error,
            key: key.to_owned(),
            line,
            column,
            message,
        };
        Report {
            document: None,
            diagnostics: vec![error],
        }
    }
}

/// The most diagnostics a report lists; the rest are counted in one more.
pub const MAX_DIAGNOSTICS: usize = 500;

/// Diagnostics being collected, up to [`MAX_DIAGNOSTICS`]: beyond, they are
/// counted and not built (finding a key's position costs a walk of the file).
pub(crate) struct Findings {
    list: Vec<Diagnostic>,
    dropped_errors: usize,
    dropped_warnings: usize,
}

impl Findings {
    pub(crate) fn add(&mut self, severity: Severity, diagnostic: impl FnOnce() -> Diagnostic) {
        if self.list.len() < MAX_DIAGNOSTICS {
            self.list.push(diagnostic());
        } else if severity == Severity::Error {
            self.dropped_errors += 1;
        } else {
            self.dropped_warnings += 1;
        }
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        if self.dropped_errors + self.dropped_warnings > 0 {
            let severity = if self.dropped_errors > 0 {
                Severity::Error
            } else {
                Severity::Warning
            };
            let message = format!(
                "{} more errors and {} more warnings are not listed: fix those above first",
                self.dropped_errors, self.dropped_warnings
            );
            self.list.push(Diagnostic {
                severity,
                key: String::new(),
                line: 0,
                column: 0,
                message,
            });
        }
        self.list
    }
}

/// Reads and validates a publiccode.yml.
pub fn parse(bytes: &[u8], options: &Options<'_>) -> Report {
    if bytes.len() > MAX_INPUT_BYTES {
        let message = format!(
            "the file is {} bytes; a publiccode.yml may have at most {MAX_INPUT_BYTES}",
            bytes.len()
        );
        return Report::fail("", 0, 0, message);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let before = &bytes[..e.valid_up_to()];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |at| at + 1);
            // Valid UTF-8 up to the fault, so this cannot fail; count bytes if it did.
            let column =
                std::str::from_utf8(&before[line_start..]).map_or(before.len() - line_start, |s| s.chars().count()) + 1;
            let message = format!(
                "Invalid UTF-8: the byte 0x{:02X} is not UTF-8; save the file as UTF-8",
                bytes[e.valid_up_to()]
            );
            return Report::fail("", line, column, message);
        }
    };
    let root = match yaml::read(text, yaml::Limits::DEFAULT) {
        Ok(Some(root)) => root,
        Ok(None) => {
            return Report::fail(
                "publiccodeYmlVersion",
                0,
                0,
                "publiccodeYmlVersion is a required field (the file is empty)".into(),
            );
        }
        Err(e) => {
            let pos = e.pos();
            return Report::fail("", pos.line, pos.column, e.to_string());
        }
    };
    if root.entries().is_none() {
        let message = format!(
            "the file must be a mapping of keys (`key: value`), not {}",
            root.describe()
        );
        return Report::fail("", root.pos.line, root.pos.column, message);
    }
    let mut diagnostics = Vec::new();
    let version = match root.entry("publiccodeYmlVersion") {
        None => {
            return Report::fail(
                "publiccodeYmlVersion",
                0,
                0,
                "publiccodeYmlVersion is a required field".into(),
            );
        }
        Some(entry) => match &entry.value.kind {
            yaml::Kind::Scalar {
                text,
                resolved: yaml::Resolved::Str,
            } => text.clone(),
            _ => {
                let value = &entry.value;
                let message = format!(
                    "wrong type for this field: publiccodeYmlVersion must be a string such as \"0\" (quoted), not {}",
                    value.describe()
                );
                return Report::fail(
                    "publiccodeYmlVersion",
                    entry.key_pos.line,
                    entry.key_pos.column,
                    message,
                );
            }
        },
    };
    if !vocab::SUPPORTED_VERSIONS.contains(&version.as_str()) {
        let message = format!(
            "unsupported version: '{version}'. Supported versions: {}{}",
            vocab::SUPPORTED_VERSIONS.join(", "),
            if version.starts_with('1') {
                " (publiccode.yml 1.0 is not released yet)"
            } else {
                ""
            }
        );
        return Report::fail("publiccodeYmlVersion", 0, 0, message);
    }
    if version != "0" && !version.starts_with("0.7") {
        let pos = root
            .entry("publiccodeYmlVersion")
            .map(|e| e.key_pos)
            .unwrap_or_default();
        diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            key: "publiccodeYmlVersion".into(),
            line: pos.line,
            column: pos.column,
            message: format!(
                "v{version} is not the latest version, use '0'. Parsing this file as v{}.",
                vocab::LATEST_VERSION
            ),
        });
    }
    let mut findings = Findings {
        list: diagnostics,
        dropped_errors: 0,
        dropped_warnings: 0,
    };
    let decoded = decode::decode(&root, &version, &mut findings);
    rules::check(&root, &decoded, options, &mut findings);
    let document = Document {
        value: root.to_value(),
        software: decoded.software,
    };
    Report {
        document: Some(document),
        diagnostics: findings.finish(),
    }
}

/// The YAML text of a document: its value, which reads back the same.
pub fn to_yaml(document: &Document) -> String {
    yaml::to_string(&document.value)
}

#[cfg(test)]
mod tests;
