//! `mutu project import` and `mutu project export --format publiccode`,
//! offline and through a running node: a directory with one broken file
//! reports it with located errors and imports the others; the output is
//! the same both ways; the node opens no file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{mutu, mutu_in, mutu_run, read_announced, spawn_piped, text};

fn corpus_file(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/publiccode/testdata/v0");
    std::fs::read_to_string(root.join(path)).unwrap()
}

/// Layout:
///
/// ```text
/// catalogue/medusa/publiccode.yml     valid
/// catalogue/broken/publiccode.yml     developmentStatus: finished (line 12)
/// catalogue/perseus/publiccode.yml    valid, another url
/// catalogue/.git/publiccode.yml       broken, but hidden: not searched
/// ```
fn catalogue(dir: &Path) -> String {
    let medusa = corpus_file("valid/valid.minimal.yml");
    let broken = medusa.replace("developmentStatus: development", "developmentStatus: finished");
    let perseus = medusa.replace("name: Medusa", "name: Perseus").replace(
        "https://github.com/italia/developers.italia.it.git",
        "https://example.org/perseus.git",
    );
    for (sub, text) in [
        ("medusa", &medusa),
        ("broken", &broken),
        ("perseus", &perseus),
        (".git", &broken),
    ] {
        std::fs::create_dir_all(dir.join("catalogue").join(sub)).unwrap();
        std::fs::write(dir.join("catalogue").join(sub).join("publiccode.yml"), text).unwrap();
    }
    medusa
}

#[test]
fn a_directory_imports_offline_and_through_a_node_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for home in [&a, &b] {
        let out = mutu(home, &["init", "--name", "Ville de Lyon", "--kind", "public-body"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let medusa = catalogue(dir.path());

    // Offline, on a.
    let out = mutu_in(dir.path(), &a, &["project", "import", "catalogue"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains(
            "catalogue/broken/publiccode.yml: not imported (1 error)\n  catalogue/broken/publiccode.yml:12:1: error: developmentStatus:"
        ),
        "{report}"
    );
    assert!(
        report.contains("created   ") && report.contains("Medusa") && report.contains("Perseus"),
        "{report}"
    );
    assert!(
        !report.contains(".git"),
        "hidden directories are not searched: {report}"
    );
    assert_eq!(
        text(&out.stderr),
        "error: 1 of 3 files not imported (the others are): fix the errors above and import them again\n"
    );
    let ls = text(&mutu_in(dir.path(), &a, &["ls", "projects"]).stdout);
    assert_eq!(ls.lines().count(), 3, "a header and two projects: {ls}");

    // Through a node running on b: the same report, the CLI reads the files.
    let (_node, stdout) = spawn_piped(&mut mutu_run(&b));
    let mut http = String::new();
    let announced = read_announced(stdout, |line| {
        if let Some(h) = line.strip_prefix("http:") {
            http = h.trim().to_owned();
        }
        !http.is_empty()
    });
    assert!(announced, "mutu run ended before announcing its HTTP address");
    let remote = mutu_in(dir.path(), &b, &["project", "import", "catalogue"]);
    assert_eq!(remote.status.code(), Some(2), "{}", text(&remote.stderr));
    let strip_ids = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| {
                l.split_whitespace()
                    .filter(|w| w.len() != 26)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(
        strip_ids(&text(&remote.stdout)),
        strip_ids(&report),
        "offline and remote differ"
    );
    assert_eq!(text(&remote.stderr), text(&out.stderr));

    // Again: nothing changes; the id printed exports the file as imported.
    let again = mutu_in(
        dir.path(),
        &b,
        &["project", "import", "catalogue/medusa/publiccode.yml"],
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    let line = text(&again.stdout);
    assert!(line.starts_with("unchanged "), "{line}");
    let id = line.split_whitespace().nth(1).unwrap().to_owned();
    let exported = mutu_in(dir.path(), &b, &["project", "export", &id, "--format", "publiccode"]);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    assert_eq!(text(&exported.stdout), medusa);
    let written = mutu_in(dir.path(), &b, &["project", "export", &id, "--out", "medusa.yml"]);
    assert!(written.status.success(), "{}", text(&written.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("medusa.yml")).unwrap(), medusa);
    // A catalogue as a directory to publish, through the node and offline.
    for (home, out_dir) in [(&b, "published-b"), (&a, "published-a")] {
        let made = mutu_in(dir.path(), home, &["catalogue", "create", "--title", "Logiciels"]);
        assert!(made.status.success(), "{}", text(&made.stderr));
        let catalogue = text(&made.stdout).trim().to_owned();
        // Importing the file again names its project (unchanged).
        let again = mutu_in(
            dir.path(),
            home,
            &["project", "import", "catalogue/medusa/publiccode.yml"],
        );
        let project = text(&again.stdout).split_whitespace().nth(1).unwrap().to_owned();
        let added = mutu_in(dir.path(), home, &["catalogue", "add", &catalogue, &project]);
        assert!(added.status.success(), "{}", text(&added.stderr));
        let exported = mutu_in(
            dir.path(),
            home,
            &["project", "export", "--catalogue", &catalogue, "--out", out_dir],
        );
        assert!(exported.status.success(), "{}", text(&exported.stderr));
        assert_eq!(
            text(&exported.stdout),
            format!("exported 1 publiccode.yml (1 project listed) and index.json to {out_dir}\n")
        );
        let index: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(out_dir).join("index.json")).unwrap())
                .unwrap();
        let file = index["projects"][0]["file"].as_str().unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(out_dir).join(file)).unwrap(),
            medusa
        );
    }
    let missing = mutu_in(dir.path(), &b, &["project", "import", "nowhere"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(text(&missing.stderr), "error: nowhere: no such file or directory\n");
}
