//! Unit tests of [`parse`] on small files written here.

use super::*;

/// A valid file to start from; `{extra}` is appended at the top level.
fn minimal(extra: &str) -> String {
    format!(
        r#"publiccodeYmlVersion: "0"
name: Medusa
url: "https://github.com/italia/developers.italia.it.git"
platforms:
  - web
developmentStatus: beta
softwareType: standalone/web
description:
  en:
    shortDescription: A short description.
    longDescription: "{LONG}"
    features:
      - One feature
legal:
  license: AGPL-3.0-or-later
maintenance:
  type: none
localisation:
  localisationReady: true
  availableLanguages:
    - en
{extra}"#
    )
}

/// 200 characters.
const LONG: &str = "Very long description of this software. Very long description of this software. \
                    Very long description of this software. Very long description of this software. \
                    Very long description of.";

fn check(text: &str) -> Report {
    parse(text.as_bytes(), &Options::default())
}

fn error_keys(report: &Report) -> Vec<&str> {
    report.errors().map(|d| d.key.as_str()).collect()
}

#[test]
fn the_minimal_file_is_valid() {
    let report = check(&minimal(""));
    assert!(report.is_valid(), "{:#?}", report.diagnostics);
    assert!(report.diagnostics.is_empty());
}

#[test]
fn lengths_count_grapheme_clusters() {
    // "é" as e + combining accent: 2 code points, 1 grapheme; the flag: 2 code points, 1 grapheme.
    let accent = "e\u{301}";
    assert_eq!(rules::length(accent), 1);
    assert_eq!(rules::length("🇮🇹"), 1);
    assert_eq!(rules::length("👩‍👩‍👧"), 1);
    // 35 graphemes, 70 code points: fits genericName's 35.
    let name = accent.repeat(35);
    let text = minimal("").replace("    features:", &format!("    genericName: \"{name}\"\n    features:"));
    let report = check(&text);
    assert!(report.is_valid(), "{:#?}", report.diagnostics);
    let text = minimal("").replace("    features:", &format!("    genericName: \"{name}x\"\n    features:"));
    assert_eq!(error_keys(&check(&text)), ["description.en.genericName"]);
    // 149 flags are 298 code points but 149 characters: too short for longDescription.
    let text = minimal("").replace(LONG, &"🇮🇹".repeat(149));
    assert_eq!(error_keys(&check(&text)), ["description.en.longDescription"]);
    let text = minimal("").replace(LONG, &"🇮🇹".repeat(150));
    assert!(check(&text).is_valid());
}

#[test]
fn yaml_1_1_booleans_are_the_wrong_type_for_a_boolean_key() {
    for word in ["yes", "no", "on", "off", "Yes", "\"true\""] {
        let text = minimal("").replace("localisationReady: true", &format!("localisationReady: {word}"));
        let report = check(&text);
        assert!(!report.is_valid());
        // As the reference: the wrong type, then the whole section counts as absent.
        assert_eq!(
            error_keys(&report),
            [
                "localisation.localisationReady",
                "localisation.localisationReady",
                "localisation.availableLanguages"
            ],
            "{word}"
        );
        assert!(
            report.diagnostics[0].message.contains("expected true or false"),
            "{}",
            report.diagnostics[0]
        );
    }
}

#[test]
fn an_alias_bomb_is_a_located_error() {
    let mut text = minimal("");
    text.push_str("x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n");
    for level in 1..9 {
        let items = vec![format!("*x{}", level - 1); 10].join(", ");
        text.push_str(&format!("x{level}: &x{level} [{items}]\n"));
    }
    let report = check(&text);
    assert!(report.document.is_none());
    let [error] = report.diagnostics.as_slice() else {
        panic!("{:#?}", report.diagnostics)
    };
    assert_eq!(error.key, "");
    assert!(error.line > 20 && error.message.contains("more than"), "{error}");
}

#[test]
fn oversized_input_is_refused_before_reading() {
    let mut text = minimal("");
    text.push_str("# ");
    text.push_str(&"x".repeat(MAX_INPUT_BYTES));
    let report = check(&text);
    assert!(report.document.is_none());
    assert!(
        report.diagnostics[0].message.contains("at most"),
        "{}",
        report.diagnostics[0]
    );
}

#[test]
fn non_utf8_is_located() {
    let mut bytes = minimal("").into_bytes();
    let at = bytes.iter().position(|b| *b == b'M').unwrap();
    bytes[at] = 0xE9; // Latin-1 "é"
    let report = parse(&bytes, &Options::default());
    assert!(report.document.is_none());
    let error = &report.diagnostics[0];
    assert_eq!((error.line, error.column, error.key.as_str()), (2, 7, ""));
    assert!(error.message.contains("UTF-8"));
    // UTF-16 with a byte-order mark is not UTF-8 either.
    assert!(!parse(&[0xFF, 0xFE, b'a', 0], &Options::default()).is_valid());
}

#[test]
fn any_bytes_give_a_report_not_a_panic() {
    let inputs: &[&[u8]] = &[
        b"",
        b"---\n",
        b"- a\n- b\n",
        b"plain",
        b"publiccodeYmlVersion: 0\n",
        b"publiccodeYmlVersion: [\"0\"]\n",
        b"publiccodeYmlVersion: \"1\"\n",
        b"publiccodeYmlVersion: \"0\"\n",
        b"publiccodeYmlVersion: \"0\"\ndescription: {\"\": {}}\n",
        b"publiccodeYmlVersion: \"0\"\nlegal: [\n",
        b"\xef\xbb\xbfpubliccodeYmlVersion: \"0\"\n",
        b"publiccodeYmlVersion: \"0\"\nmaintenance: {contractors: [{}, null, 1]}\n",
    ];
    for input in inputs {
        let report = parse(input, &Options::default());
        assert!(!report.is_valid());
        assert!(!report.diagnostics.is_empty());
    }
}

#[test]
fn version_one_is_refused_and_old_versions_warn() {
    let report = check(&minimal("").replace("publiccodeYmlVersion: \"0\"", "publiccodeYmlVersion: \"1\""));
    assert!(report.document.is_none());
    assert!(report.diagnostics[0].message.contains("unsupported version: '1'"));
    let report = check(&minimal("").replace("publiccodeYmlVersion: \"0\"", "publiccodeYmlVersion: \"0.3\""));
    assert!(report.is_valid());
    assert_eq!(
        report.warnings().map(|d| d.key.as_str()).collect::<Vec<_>>(),
        ["publiccodeYmlVersion"]
    );
    // An unquoted 0 is a number, not the version string.
    let report = check(&minimal("").replace("publiccodeYmlVersion: \"0\"", "publiccodeYmlVersion: 0"));
    assert_eq!(error_keys(&report), ["publiccodeYmlVersion"]);
}

#[test]
fn deprecated_spdx_identifiers_are_accepted_with_their_replacement() {
    for (license, replacement) in [
        ("GPL-3.0", "GPL-3.0-only"),
        ("AGPL-3.0", "AGPL-3.0-only"),
        ("GPL-2.0+", "GPL-2.0-or-later"),
        ("MIT OR GPL-3.0", "MIT OR GPL-3.0-only"),
    ] {
        let report = check(&minimal("").replace("AGPL-3.0-or-later", license));
        assert!(report.is_valid(), "{license}: {:#?}", report.diagnostics);
        let warning = report
            .warnings()
            .next()
            .unwrap_or_else(|| panic!("{license}: no warning"));
        assert_eq!(warning.key, "legal.license");
        assert!(warning.message.contains(&format!("\"{replacement}\"")), "{warning}");
        let software = report.document.unwrap().software().clone();
        assert_eq!(software.legal.license.as_deref(), Some(license), "kept as written");
        assert_eq!(software.legal.license_normalised().as_deref(), Some(replacement));
    }
    let report = check(&minimal("").replace("AGPL-3.0-or-later", "GPL-3.0-or-later"));
    assert!(report.diagnostics.is_empty());
    assert_eq!(
        error_keys(&check(&minimal("").replace("AGPL-3.0-or-later", "GPLv3"))),
        ["legal.license"]
    );
}

#[test]
fn registries_are_used_when_given() {
    let text = minimal("organisation:\n  uri: \"urn:x-italian-pa:no_such_pa\"\n");
    assert!(check(&text).is_valid(), "offline: syntax only");
    let known = |code: &str| code.eq_ignore_ascii_case("pcm");
    let options = Options {
        italian_pa_code: Some(&known),
        ..Options::default()
    };
    let report = parse(text.as_bytes(), &options);
    assert_eq!(error_keys(&report), ["organisation.uri"]);
    let text = minimal("").replace(
        "    features:",
        "    videos:\n      - https://google.com\n    features:",
    );
    assert!(check(&text).is_valid());
    let youtube = |url: &str| url.starts_with("https://www.youtube.com/watch");
    let options = Options {
        oembed_url: Some(&youtube),
        ..Options::default()
    };
    assert_eq!(
        error_keys(&parse(text.as_bytes(), &options)),
        ["description.en.videos[0]"]
    );
}

#[test]
fn every_wrong_type_is_reported_and_its_section_dropped() {
    let text = minimal("")
        .replace("name: Medusa", "name: []")
        .replace("type: none", "type: none\n  contacts: {}");
    let report = check(&text);
    // name: wrong type, then required; maintenance.contacts: wrong type, then maintenance.type required.
    assert_eq!(
        error_keys(&report),
        ["name", "maintenance.contacts", "name", "maintenance.type"]
    );
}

#[test]
fn nested_unknown_keys_are_reported() {
    let text = minimal("").replace(
        "  license: AGPL-3.0-or-later",
        "  license: AGPL-3.0-or-later\n  licence: MIT",
    );
    let report = check(&text);
    assert_eq!(error_keys(&report), ["legal.licence", "legal.license"]);
    assert!(report.diagnostics[0].message.contains("unknown field \"licence\""));
}

#[test]
fn the_typed_view_holds_the_standard_keys() {
    let report = check(&minimal(
        "usedBy:\n  - Comune di Roma\nisBasedOn: https://example.org/a.git\n",
    ));
    assert!(report.is_valid(), "{:#?}", report.diagnostics);
    let document = report.document.unwrap();
    let software = document.software();
    assert_eq!(software.development_status(), Some(vocab::DevelopmentStatus::Beta));
    assert_eq!(software.software_type(), Some(vocab::SoftwareType::StandaloneWeb));
    assert_eq!(software.maintenance.kind(), Some(vocab::MaintenanceType::None));
    assert_eq!(software.used_by.as_deref(), Some(&["Comune di Roma".to_owned()][..]));
    assert_eq!(software.is_based_on, ["https://example.org/a.git"]);
    let (language, description) = software.description_for("en-GB").unwrap();
    assert_eq!(language, "en");
    assert_eq!(description.features.as_deref(), Some(&["One feature".to_owned()][..]));
    assert_eq!(software.localisation.localisation_ready, Some(true));
}

#[test]
fn diagnostics_print_as_the_reference_does() {
    let report = check(&minimal("").replace("name: Medusa\n", ""));
    assert_eq!(
        report.diagnostics[0].to_string(),
        "publiccode.yml:1:1: error: name: name is a required field"
    );
}
