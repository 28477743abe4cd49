//! The reference parser's test corpus, file by file: each file gets the
//! validity upstream asserts and the same set of error keys.
//!
//! The corpus lives outside the repository, in
//! `../shared/corpora/publiccode/` from the repository root (CI has it at the
//! same place): `testdata/` and `EXPECTED.tsv` (see its `SOURCE.md`).
//!
//! Upstream runs its tests from the repository root, with the files next to
//! each publiccode.yml reachable; so do these, by passing the file's
//! directory as [`Options::base_dir`]. What upstream checks with the network
//! or a registry cannot be checked here: those files are listed in
//! [`OFFLINE`], with what the offline mode gives and why.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mutu_publiccode::{Diagnostic, Options, Report, Severity, parse, to_yaml};

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/publiccode");
    assert!(
        dir.join("EXPECTED.tsv").is_file(),
        "the publiccode.yml corpus is missing: expected {} (shared/corpora/publiccode/ beside the repository, \
         with testdata/ and EXPECTED.tsv)",
        dir.display()
    );
    dir
}

/// Files whose upstream expectation needs more than the file and its
/// neighbours: offline, each is valid. Upstream's expectation, and why:
const OFFLINE: &[(&str, &str)] = &[
    (
        "testdata/v0/invalid/logo_missing_url.yml",
        "needs the network: the logo is a URL answering 404 (upstream's no-network mode accepts the file too)",
    ),
    (
        "testdata/v0/invalid/fundedBy_uri_wrong_italian_pa2.yml",
        "needs the Italian iPA registry: urn:x-italian-pa:no_such_pa is well-formed",
    ),
    (
        "testdata/v0/invalid/organisation_uri_wrong_italian_pa2.yml",
        "needs the Italian iPA registry: urn:x-italian-pa:no_such_pa is well-formed",
    ),
    (
        "testdata/v0/invalid/it_riuso_codiceIPA_invalid.yml",
        "needs the Italian iPA registry: NO_SUCH_IPA_CODE is well-formed",
    ),
    (
        "testdata/v0/invalid/description_en_videos_invalid_oembed.yml",
        "needs the oEmbed providers list: https://google.com is an HTTP URL, but no video provider",
    ),
];

/// Files upstream also checks with the network, where the offline mode
/// finds the same error keys (the network adds a second error on the same
/// key: "not reachable", "not a valid code repository").
const SAME_KEYS_WITHOUT_NETWORK: &[&str] = &[
    "testdata/v0/invalid/description_en_apiDocumentation_invalid.yml",
    "testdata/v0/invalid/description_en_documentation_invalid.yml",
    "testdata/v0/invalid/landingURL_invalid.yml",
    "testdata/v0/invalid/url_invalid.yml",
];

/// Files that need the files beside them (logo, screenshots, authors file):
/// checked here, as upstream does, through `base_dir`. Without it, each is
/// valid, except for what its text alone shows.
const NEED_FILES: &[&str] = &[
    "testdata/v0/invalid/description_en_screenshots_missing_file.yml",
    "testdata/v0/invalid/legal_authorsFile_missing_file.yml",
    "testdata/v0/invalid/logo_missing_file.yml",
    "testdata/v0/invalid/monochromeLogo_missing_file.yml",
    "testdata/v0/invalid/no-network/logo_invalid_png.yml",
    "testdata/v0/invalid/no-network/logo_missing_file.yml",
    "testdata/v0/invalid/no-network/monochromeLogo_invalid_png.yml",
];

/// One result upstream asserts.
#[derive(Debug)]
struct Expected {
    severity: Severity,
    key: String,
    position: Option<(usize, usize)>,
}

struct Case {
    path: String,
    valid: bool,
    results: Vec<Expected>,
}

impl Case {
    fn errors(&self) -> BTreeSet<String> {
        keys(
            self.results
                .iter()
                .filter(|r| r.severity == Severity::Error)
                .map(|r| &r.key),
        )
    }

    fn warnings(&self) -> BTreeSet<String> {
        keys(
            self.results
                .iter()
                .filter(|r| r.severity == Severity::Warning)
                .map(|r| &r.key),
        )
    }
}

fn keys<'a>(keys: impl Iterator<Item = &'a String>) -> BTreeSet<String> {
    keys.cloned().collect()
}

/// `SEVERITY key @line:col: message`, several joined by ` | `.
fn parse_expected(text: &str) -> Vec<Expected> {
    text.split(" | ")
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (severity, rest) = item.split_once(' ').unwrap();
            let severity = match severity {
                "ERROR" => Severity::Error,
                "WARNING" => Severity::Warning,
                other => panic!("unknown severity {other} in {item}"),
            };
            let end = rest.find([' ', ':']).unwrap();
            let key = &rest[..end];
            let key = if key == "(document)" {
                String::new()
            } else {
                key.to_owned()
            };
            let position = rest[end..].strip_prefix(" @").map(|at| {
                let (line, rest) = at.split_once(':').unwrap();
                let column = rest.split(':').next().unwrap();
                (line.parse().unwrap(), column.parse().unwrap())
            });
            Expected {
                severity,
                key,
                position,
            }
        })
        .collect()
}

fn cases(corpus: &Path) -> Vec<Case> {
    let tsv = std::fs::read_to_string(corpus.join("EXPECTED.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .map(|line| {
            let mut columns = line.splitn(3, '\t');
            let path = columns.next().unwrap().to_owned();
            let valid = match columns.next().unwrap() {
                "valid" => true,
                "invalid" => false,
                other => panic!("unknown validity {other} for {path}"),
            };
            let results = parse_expected(columns.next().unwrap_or(""));
            Case { path, valid, results }
        })
        .collect()
}

fn check(corpus: &Path, path: &str, options: &Options<'_>) -> Report {
    let file = corpus.join(path);
    let bytes = std::fs::read(&file).unwrap();
    parse(&bytes, options)
}

fn found(report: &Report, severity: Severity) -> BTreeSet<String> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .map(|d| d.key.clone())
        .collect()
}

/// The folder a case is counted under: `v0/invalid`, `v0/invalid/no-network`, …
fn folder(path: &str) -> String {
    let path = path.strip_prefix("testdata/").unwrap_or(path);
    path.rsplit_once('/').map_or(path, |(dir, _)| dir).to_owned()
}

#[derive(Default)]
struct Tally {
    files: usize,
    validity: usize,
    error_keys: usize,
    warning_keys: usize,
    lines: usize,
    positions: usize,
    results: usize,
}

#[test]
fn every_corpus_file_gets_the_upstream_verdict_and_error_keys() {
    let corpus = corpus();
    let cases = cases(&corpus);
    assert_eq!(cases.len(), 250, "EXPECTED.tsv lists 250 files");
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let dir = corpus.join(&case.path).parent().unwrap().to_owned();
        let options = Options {
            base_dir: Some(&dir),
            ..Options::default()
        };
        let report = check(&corpus, &case.path, &options);
        let offline = OFFLINE.iter().find(|(path, _)| *path == case.path);
        let (valid, errors) = match offline {
            Some(_) => (true, BTreeSet::new()),
            None => (case.valid, case.errors()),
        };
        let tally = tallies.entry(folder(&case.path)).or_default();
        tally.files += 1;
        let same_validity = report.is_valid() == case.valid;
        let same_errors = found(&report, Severity::Error) == case.errors();
        tally.validity += usize::from(same_validity);
        tally.error_keys += usize::from(same_errors);
        tally.warning_keys += usize::from(found(&report, Severity::Warning) == case.warnings());
        let mut lost = Vec::new();
        for expected in &case.results {
            tally.results += 1;
            let (line, column) = expected.position.unwrap_or((0, 0));
            let same = |d: &&Diagnostic| d.severity == expected.severity && d.key == expected.key && d.line == line;
            let at_line = report.diagnostics.iter().filter(same).collect::<Vec<_>>();
            tally.lines += usize::from(!at_line.is_empty());
            tally.positions += usize::from(at_line.iter().any(|d| d.column == column));
            if at_line.is_empty() {
                lost.push(expected);
            }
        }
        let mut differs = report.is_valid() != valid || found(&report, Severity::Error) != errors;
        if offline.is_none() {
            // Beyond the brief: the same warnings, and every result on upstream's line.
            differs |= found(&report, Severity::Warning) != case.warnings() || !lost.is_empty();
        }
        if differs {
            failures.push(format!(
                "{}: expected {} {:?}, got {} {:#?}",
                case.path,
                if valid { "valid" } else { "invalid" },
                case.results,
                if report.is_valid() { "valid" } else { "invalid" },
                report.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>()
            ));
        }
    }
    println!(
        "| folder | files | upstream validity | same error keys | same warning keys | results on upstream's line | \
         results at upstream's line:column |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut total = Tally::default();
    for (folder, t) in &tallies {
        println!(
            "| {folder} | {} | {} | {} | {} | {}/{} | {}/{} |",
            t.files, t.validity, t.error_keys, t.warning_keys, t.lines, t.results, t.positions, t.results
        );
        total.files += t.files;
        total.validity += t.validity;
        total.error_keys += t.error_keys;
        total.warning_keys += t.warning_keys;
        total.positions += t.positions;
        total.lines += t.lines;
        total.results += t.results;
    }
    println!(
        "| total | {} | {} | {} | {} | {}/{} | {}/{} |",
        total.files,
        total.validity,
        total.error_keys,
        total.warning_keys,
        total.lines,
        total.results,
        total.positions,
        total.results
    );
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// With a registry of Italian PA codes and a list of oEmbed providers (here,
/// stand-ins holding what the corpus uses), the registry cases of [`OFFLINE`]
/// get upstream's verdict and keys too, and the valid files stay valid.
#[test]
fn with_registries_the_registry_cases_match_upstream() {
    let corpus = corpus();
    let known_codes = |code: &str| ["pcm", "c_h501"].contains(&code.to_ascii_lowercase().as_str());
    let oembed = |url: &str| url.starts_with("https://www.youtube.com/") || url.starts_with("https://vimeo.com/");
    for case in cases(&corpus) {
        if case.path.ends_with("logo_missing_url.yml") {
            continue;
        }
        let dir = corpus.join(&case.path).parent().unwrap().to_owned();
        let options = Options {
            base_dir: Some(&dir),
            italian_pa_code: Some(&known_codes),
            oembed_url: Some(&oembed),
        };
        let report = check(&corpus, &case.path, &options);
        assert_eq!(
            report.is_valid(),
            case.valid,
            "{}: {:#?}",
            case.path,
            report.diagnostics
        );
        assert_eq!(found(&report, Severity::Error), case.errors(), "{}", case.path);
    }
}

/// Without the directory of the file, references to files are checked by
/// their text only: each [`NEED_FILES`] case is then valid unless its text
/// shows the fault.
#[test]
fn without_a_directory_files_are_not_read() {
    let corpus = corpus();
    for path in NEED_FILES {
        let report = check(&corpus, path, &Options::default());
        assert!(report.is_valid(), "{path}: {:#?}", report.diagnostics);
    }
    let report = check(
        &corpus,
        "testdata/v0/invalid/monochromeLogo_unsupported_extension.yml",
        &Options::default(),
    );
    assert_eq!(
        found(&report, Severity::Error),
        BTreeSet::from(["monochromeLogo".to_owned()])
    );
    for path in SAME_KEYS_WITHOUT_NETWORK {
        assert!(!check(&corpus, path, &Options::default()).is_valid(), "{path}");
    }
}

/// Every valid file, written back by [`to_yaml`], is valid again and reads
/// back to the same values and the same typed view.
#[test]
fn valid_files_round_trip() {
    let corpus = corpus();
    let mut valid = 0;
    for case in cases(&corpus) {
        let dir = corpus.join(&case.path).parent().unwrap().to_owned();
        let options = Options {
            base_dir: Some(&dir),
            ..Options::default()
        };
        let report = check(&corpus, &case.path, &options);
        if !report.is_valid() {
            continue;
        }
        valid += 1;
        let document = report.document.unwrap();
        let text = to_yaml(&document);
        let again = parse(text.as_bytes(), &options);
        assert!(again.is_valid(), "{}:\n{text}\n{:#?}", case.path, again.diagnostics);
        let warnings = |r: &Report| {
            r.warnings()
                .map(|d| (d.key.clone(), d.message.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            warnings(&again),
            warnings(&check(&corpus, &case.path, &options)),
            "{}",
            case.path
        );
        let back = again.document.unwrap();
        assert_eq!(back.value(), document.value(), "{}:\n{text}", case.path);
        assert_eq!(back.software(), document.software(), "{}", case.path);
        assert_eq!(to_yaml(&back), text, "{}: writing is stable", case.path);
    }
    // 31 valid upstream, and the 5 offline cases.
    assert_eq!(valid, 36);
}
