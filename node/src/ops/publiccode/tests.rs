#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use mutu_protocol::record::{MemberKind, Profile};

use super::*;
use crate::home::Home;
use crate::ops::{NewProject, NewUsage, Request};

fn state() -> (State, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::resolve(Some(dir.path().join("home"))).unwrap();
    let profile = Profile {
        name: "Mairie de Trifouillis".into(),
        member_kind: MemberKind::PublicBody,
        country: Some("FR".into()),
        sectors: vec![],
        website: None,
        description: String::new(),
    };
    (State::init(home, profile, Timestamp(1_000)).unwrap(), dir)
}

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/publiccode/testdata");
    assert!(
        dir.is_dir(),
        "the publiccode.yml corpus is missing: expected {}",
        dir.display()
    );
    dir
}

fn yml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}

fn file(name: &str, yaml: &str) -> PubliccodeFile {
    PubliccodeFile {
        name: name.into(),
        yaml: yaml.into(),
    }
}

const MINIMAL: &str = "../../shared/corpora/publiccode/testdata/v0/valid/valid.minimal.yml";

fn minimal() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(MINIMAL)).unwrap()
}

fn values(yaml: &str) -> pc::Value {
    pc::parse(yaml.as_bytes(), &pc::Options::default())
        .document
        .unwrap()
        .into_value()
}

fn changes(st: &State) -> usize {
    st.store().all_changes().unwrap().len()
}

fn project(st: &State, id: &RecordId) -> record::Project {
    match &st.registry().index().get(id).unwrap().record().body {
        Body::Project(p) => p.clone(),
        other => panic!("not a project: {other:?}"),
    }
}

/// Every file of the reference corpus that our validator accepts (offline)
/// imports into a project and exports back to the same values; the export
/// is valid again.
#[test]
fn every_valid_corpus_file_round_trips_through_a_project() {
    let mut paths = Vec::new();
    yml_files(&corpus(), &mut paths);
    let (mut st, _dir) = state();
    let mut round_trips = 0;
    for (i, path) in paths.iter().enumerate() {
        let yaml = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(_) => continue, // not UTF-8: an invalid file
        };
        if !pc::parse(yaml.as_bytes(), &pc::Options::default()).is_valid() {
            continue;
        }
        let name = path.display().to_string();
        let checked = check(vec![file(&name, &yaml)]).unwrap();
        assert!(checked.refused.is_empty(), "{name}: {:?}", checked.refused);
        let imported = import(&mut st, checked.valid, Timestamp(2_000 + i as u64)).unwrap();
        let id = imported[0].id;
        let out = export(&st.views(Timestamp(3_000_000)), &id).unwrap();
        assert!(
            pc::parse(out.as_bytes(), &pc::Options::default()).is_valid(),
            "{name}: the export is not valid"
        );
        assert_eq!(values(&out), values(&yaml), "{name}");
        round_trips += 1;
    }
    // The corpus holds about 40 files valid offline: no vacuous pass.
    assert!(round_trips >= 30, "only {round_trips} valid corpus files found");
}

/// Topology: one member, offline. A directory of three files, the second
/// broken: the broken one is reported with the validator's located errors,
/// the two others are written in one change (one durable commit), and
/// nothing of the broken file is written.
#[test]
fn a_directory_with_one_broken_file_imports_the_others_in_one_commit() {
    let (mut st, _dir) = state();
    let good = minimal();
    let other = good.replace("name: Medusa", "name: Perseus").replace(
        "https://github.com/italia/developers.italia.it.git",
        "https://example.org/perseus.git",
    );
    assert_ne!(good, other, "the second file must describe another software");
    let broken = good.replace("developmentStatus: development", "developmentStatus: finished");
    assert_ne!(good, broken);
    let before = changes(&st);
    let checked = check(vec![
        file("a/publiccode.yml", &good),
        file("b/publiccode.yml", &broken),
        file("c/publiccode.yml", &other),
    ])
    .unwrap();
    assert_eq!(checked.refused.len(), 1);
    let refused = &checked.refused[0];
    assert_eq!(refused.file, "b/publiccode.yml");
    let error = refused.findings.iter().find(|f| f.severity == "error").unwrap();
    assert_eq!(error.key, "developmentStatus");
    assert!(error.line > 0 && error.column > 0, "{error:?}");
    assert!(refused.to_string().contains("b/publiccode.yml:"), "{refused}");
    let imported = import(&mut st, checked.valid, Timestamp(2_000)).unwrap();
    assert_eq!(imported.len(), 2);
    assert_eq!(changes(&st), before + 1, "one change for the whole directory");
    let names: Vec<String> = st
        .registry()
        .index()
        .of_kind(Kind::Project)
        .iter()
        .map(|r| match &r.record().body {
            Body::Project(p) => p.name.clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(names.len(), 2);
    assert!(
        names.contains(&"Medusa".into()) && names.contains(&"Perseus".into()),
        "{names:?}"
    );

    // Through the request (the node's actor path), a broken file refuses
    // the whole request, and nothing is written.
    let before = changes(&st);
    let request = Request::from(ImportPubliccode {
        files: vec![file("c/publiccode.yml", &other), file("b/publiccode.yml", &broken)],
    });
    let e = request.apply(&mut st, Timestamp(3_000)).unwrap_err();
    assert!(e.to_string().contains("b/publiccode.yml"), "{e}");
    assert_eq!(changes(&st), before);
}

/// The software's identity is its `url`: importing it again replaces the
/// member's project instead of adding one; the same file again writes
/// nothing.
#[test]
fn importing_the_same_url_again_updates_the_project() {
    let (mut st, _dir) = state();
    let yaml = minimal();
    let first = import(
        &mut st,
        check(vec![file("p.yml", &yaml)]).unwrap().valid,
        Timestamp(2_000),
    )
    .unwrap();
    assert_eq!(first[0].outcome, "created");
    let renamed = yaml.replace("name: Medusa", "name: Medusa NG");
    let request = Request::from(ImportPubliccode {
        files: vec![file("p.yml", &renamed)],
    });
    let id = request.apply(&mut st, Timestamp(3_000)).unwrap();
    assert_eq!(id, first[0].id, "same url, same project");
    assert_eq!(project(&st, &id).name, "Medusa NG");
    assert_eq!(st.registry().index().of_kind(Kind::Project).len(), 1);
    let before = changes(&st);
    let again = import(
        &mut st,
        check(vec![file("p.yml", &renamed)]).unwrap().valid,
        Timestamp(4_000),
    )
    .unwrap();
    assert_eq!(again[0].outcome, "unchanged");
    assert_eq!(again[0].id, id);
    assert_eq!(changes(&st), before, "nothing written for an unchanged file");
    // Two files of one import naming the same url: the second is refused.
    let checked = check(vec![file("one.yml", &yaml), file("two.yml", &renamed)]).unwrap();
    assert_eq!(checked.valid.len(), 1);
    assert_eq!(checked.refused[0].file, "two.yml");
    assert_eq!(checked.refused[0].findings[0].key, "url");
}

/// Decision: a deprecated SPDX id (`GPL-3.0`) is accepted with the
/// validator's warning; the record holds its exact replacement
/// (`GPL-3.0-only`), the kept file what it says. Typed by hand, the
/// deprecated id is refused with the replacement to write.
#[test]
fn a_deprecated_spdx_id_is_normalised_in_the_record_and_kept_in_the_file() {
    let (mut st, _dir) = state();
    let yaml = minimal();
    let license = values(&yaml)
        .as_mapping()
        .and_then(|m| m.get("legal"))
        .and_then(pc::Value::as_mapping)
        .and_then(|m| m.get("license"))
        .and_then(pc::Value::as_str)
        .unwrap()
        .to_owned();
    let old = yaml.replace(&format!("license: {license}"), "license: AGPL-3.0");
    assert_ne!(old, yaml);
    let checked = check(vec![file("p.yml", &old)]).unwrap();
    assert!(checked.refused.is_empty(), "{:?}", checked.refused);
    let warning = checked.valid[0]
        .warnings
        .iter()
        .find(|w| w.key == "legal.license")
        .unwrap();
    assert!(warning.message.contains("AGPL-3.0-only"), "{warning:?}");
    let id = import(&mut st, checked.valid, Timestamp(2_000)).unwrap()[0].id;
    assert_eq!(project(&st, &id).license, "AGPL-3.0-only");
    let out = export(&st.views(Timestamp(3_000)), &id).unwrap();
    assert!(out.contains("license: AGPL-3.0\n"), "{out}");

    let typed = Request::from(NewProject {
        name: "Old".into(),
        license: "GPL-3.0".into(),
        description: None,
        repository: None,
        homepage: None,
        tags: vec![],
        status: None,
        is_based_on: None,
    });
    let e = typed.apply(&mut st, Timestamp(4_000)).unwrap_err();
    assert_eq!(e.field(), Some("license"));
    assert!(e.to_string().contains("`GPL-3.0-only`"), "{e}");
}

/// `usedBy` makes no usage record; an export adds, after the declared
/// names, the members who signed a usage; the page data marks the declared
/// names as such.
#[test]
fn used_by_is_declared_only_and_export_adds_signed_users() {
    let (mut st, _dir) = state();
    let yaml = format!("{}usedBy:\n  - Comune di Roma\n", minimal());
    let id = import(
        &mut st,
        check(vec![file("p.yml", &yaml)]).unwrap().valid,
        Timestamp(2_000),
    )
    .unwrap()[0]
        .id;
    assert!(st.registry().index().of_kind(Kind::Usage).is_empty());
    assert_eq!(
        info(&project(&st, &id).publiccode, "en").unwrap().used_by_declared,
        vec!["Comune di Roma".to_owned()]
    );
    assert_eq!(export(&st.views(Timestamp(3_000)), &id).unwrap(), yaml, "byte for byte");
    Request::from(NewUsage {
        project: id.to_string(),
        note: None,
    })
    .apply(&mut st, Timestamp(4_000))
    .unwrap();
    let out = export(&st.views(Timestamp(5_000)), &id).unwrap();
    let used_by: Vec<String> = values(&out)
        .as_mapping()
        .and_then(|m| m.get("usedBy"))
        .and_then(pc::Value::as_sequence)
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(used_by, ["Comune di Roma", "Mairie de Trifouillis"]);
    assert!(pc::parse(out.as_bytes(), &pc::Options::default()).is_valid());
}

/// `isBasedOn` links to the known project with that repository.
#[test]
fn is_based_on_links_to_the_known_project_with_that_repository() {
    let (mut st, _dir) = state();
    let upstream = minimal();
    let up = import(
        &mut st,
        check(vec![file("up.yml", &upstream)]).unwrap().valid,
        Timestamp(2_000),
    )
    .unwrap()[0]
        .id;
    let url = project(&st, &up).repository.unwrap();
    let fork = minimal()
        .replace("name: Medusa", "name: Medusa Fork")
        .replace(&url, "https://example.org/medusa-fork.git")
        + &format!("isBasedOn:\n  - {url}\n");
    let checked = check(vec![file("fork.yml", &fork)]).unwrap();
    assert!(checked.refused.is_empty(), "{:?}", checked.refused);
    let id = import(&mut st, checked.valid, Timestamp(3_000)).unwrap()[0].id;
    assert_eq!(project(&st, &id).is_based_on, Some(up));
}

/// A project described without a publiccode.yml has none to export: the
/// error says so and what to do.
#[test]
fn a_project_without_a_publiccode_yml_says_so_on_export() {
    let (mut st, _dir) = state();
    let id = Request::from(NewProject {
        name: "Paheko".into(),
        license: "AGPL-3.0-or-later".into(),
        description: None,
        repository: None,
        homepage: None,
        tags: vec![],
        status: None,
        is_based_on: None,
    })
    .apply(&mut st, Timestamp(2_000))
    .unwrap();
    let e = export(&st.views(Timestamp(3_000)), &id).unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e}");
    assert!(e.to_string().contains("mutu project import"), "{e}");
}

/// Search covers an imported project's publiccode.yml (here a feature and
/// a maintainer's name that only the file holds); the page data gives the
/// description in the reader's language.
#[test]
fn search_and_page_data_cover_the_publiccode_yml() {
    let (mut st, _dir) = state();
    let yaml = minimal();
    let id = import(
        &mut st,
        check(vec![file("p.yml", &yaml)]).unwrap().valid,
        Timestamp(2_000),
    )
    .unwrap()[0]
        .id;
    let views = st.views(Timestamp(3_000));
    let filter = mutu_protocol::view::Filter::default();
    for words in ["just one feature", "francesco rossi"] {
        let hits = views.search(words, &filter);
        assert_eq!(hits.len(), 1, "{words}");
        assert_eq!(hits[0].id, id.to_string());
    }
    let page = info(&project(&st, &id).publiccode, "en").unwrap();
    assert_eq!(page.description.unwrap().features, ["Just one feature"]);
    assert_eq!(page.platforms, ["web"]);
    assert_eq!(page.maintenance_type.as_deref(), Some("community"));
    assert_eq!(page.contacts, ["Francesco Rossi"]);
}

/// A catalogue exports as a directory: one publiccode.yml per listed
/// project that has one (valid, as imported), and an index of every entry.
#[test]
fn a_catalogue_exports_its_projects_files_and_an_index() {
    use crate::ops::{CatalogueEntry, NewCatalogue};
    let (mut st, _dir) = state();
    let yaml = minimal();
    let medusa = import(
        &mut st,
        check(vec![file("p.yml", &yaml)]).unwrap().valid,
        Timestamp(2_000),
    )
    .unwrap()[0]
        .id;
    let plain = Request::from(NewProject {
        name: "Paheko".into(),
        license: "AGPL-3.0-or-later".into(),
        description: None,
        repository: Some("https://fossil.kd2.org/paheko".into()),
        homepage: None,
        tags: vec![],
        status: None,
        is_based_on: None,
    })
    .apply(&mut st, Timestamp(2_100))
    .unwrap();
    let catalogue = Request::from(NewCatalogue {
        title: "Logiciels de la ville".into(),
        description: None,
    })
    .apply(&mut st, Timestamp(2_200))
    .unwrap();
    for (i, p) in [medusa, plain].iter().enumerate() {
        Request::from(CatalogueEntry {
            catalogue: catalogue.to_string(),
            project: p.to_string(),
            status: None,
            note: None,
        })
        .apply(&mut st, Timestamp(2_300 + i as u64))
        .unwrap();
    }
    let out = export_catalogue(&st.views(Timestamp(3_000)), &catalogue).unwrap();
    assert_eq!(out.index.title, "Logiciels de la ville");
    assert_eq!(out.files.len(), 1);
    let path = &out.files[0].path;
    assert!(
        path.starts_with("medusa-") && path.ends_with("/publiccode.yml"),
        "{path}"
    );
    assert_eq!(out.files[0].yaml, yaml);
    assert_eq!(out.index.projects.len(), 2);
    assert_eq!(out.index.projects[0].file.as_deref(), Some(path.as_str()));
    assert_eq!(out.index.projects[0].status, "recommended");
    assert_eq!(out.index.projects[1].name, "Paheko");
    assert_eq!(out.index.projects[1].file, None);
    assert_eq!(
        out.index.projects[1].url.as_deref(),
        Some("https://fossil.kd2.org/paheko")
    );
    assert!(matches!(
        export_catalogue(&st.views(Timestamp(3_000)), &medusa),
        Err(Error::NotFound(_))
    ));
}

/// A file near the 48 KiB bound whose long description is long too: the
/// record cannot hold both in 64 KiB, so its description is the short one;
/// the file is kept whole.
#[test]
fn a_large_file_keeps_the_short_description_to_fit_one_record() {
    let (mut st, _dir) = state();
    let long = "é".repeat(9_000);
    let mut yaml = minimal().replace(
        "    longDescription: >\n",
        &format!("    longDescription: >\n          {long}\n"),
    );
    while yaml.len() < validate::MAX_PUBLICCODE_BYTES - 100 {
        yaml.push_str("# padding, as comments in real files are\n");
    }
    assert!(yaml.len() <= validate::MAX_PUBLICCODE_BYTES);
    let checked = check(vec![file("big.yml", &yaml)]).unwrap();
    assert!(checked.refused.is_empty(), "{:?}", checked.refused);
    let id = import(&mut st, checked.valid, Timestamp(2_000)).unwrap()[0].id;
    let p = project(&st, &id);
    assert_eq!(p.description, "A rather short description which is probably useless");
    assert_eq!(p.publiccode, yaml);
}

/// A catalogue's worth of files is more than one change may hold (256
/// KiB): the import signs a chain of changes and admits them as one batch;
/// every file lands.
#[test]
fn a_large_directory_is_written_as_a_chain_of_changes_in_one_batch() {
    let (mut st, _dir) = state();
    let base = minimal();
    let files: Vec<PubliccodeFile> = (0..40)
        .map(|i| {
            let mut yaml = base.replace(
                "https://github.com/italia/developers.italia.it.git",
                &format!("https://example.org/p{i}.git"),
            );
            while yaml.len() < 30_000 {
                yaml.push_str("# padding, as comments in real files are\n");
            }
            file(&format!("p{i}/publiccode.yml"), &yaml)
        })
        .collect();
    let before = changes(&st);
    let checked = check(files).unwrap();
    assert!(checked.refused.is_empty());
    let imported = import(&mut st, checked.valid, Timestamp(2_000)).unwrap();
    assert_eq!(imported.len(), 40);
    assert_eq!(st.registry().index().of_kind(Kind::Project).len(), 40);
    let written = changes(&st) - before;
    // 40 records of about 30 KiB: several changes, each under the limit.
    assert!((5..40).contains(&written), "{written} changes");
}
