//! Full-text search through a real home: tantivy on disk, the state's
//! write path, reopening.

use mutu_protocol::Timestamp;
use mutu_protocol::record::{Body, MemberKind, Need, Profile};
use mutu_protocol::view::Filter;

use crate::home::Home;
use crate::state::State;

fn profile() -> Profile {
    Profile {
        name: "Mairie de Trifouillis".into(),
        member_kind: MemberKind::PublicBody,
        country: Some("FR".into()),
        sectors: vec![],
        website: None,
        description: String::new(),
    }
}

fn home(dir: &tempfile::TempDir) -> Home {
    Home::resolve(Some(dir.path().join("home"))).unwrap()
}

fn need(title: &str, description: &str, tags: &[&str]) -> Body {
    let mut n = Need::titled(title);
    n.description = description.into();
    n.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    Body::Need(n)
}

/// Titles of the hits, in order.
fn titles(st: &State, text: &str, filter: &Filter) -> Vec<String> {
    st.snapshot()
        .search(text, filter)
        .into_iter()
        .map(|h| h.title)
        .collect()
}

fn sample(st: &mut State) {
    let t = Timestamp(2_000);
    st.create(
        need(
            "Prélèvements SEPA",
            "Exporter les prélèvements vers la banque",
            &["finance"],
        ),
        t,
    )
    .unwrap();
    st.create(need("Invoices in Dolibarr", "Send invoices by e-mail", &["finance"]), t)
        .unwrap();
    st.create(
        need("Réservation de salles", "Réserver une salle municipale", &["agenda"]),
        t,
    )
    .unwrap();
}

#[test]
fn accents_and_plurals_find_the_same_records_in_french_and_english() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = State::init(home(&dir), profile(), Timestamp(1_000)).unwrap();
    sample(&mut st);
    let all = Filter::default();
    for q in ["prelevement", "PRÉLÈVEMENT", "prélèvements sepa", "banque"] {
        assert_eq!(titles(&st, q, &all), ["Prélèvements SEPA"], "{q}");
    }
    for q in ["invoice", "INVOICES", "sending invoice"] {
        assert_eq!(titles(&st, q, &all), ["Invoices in Dolibarr"], "{q}");
    }
    // Every word must match.
    assert!(titles(&st, "invoices banque", &all).is_empty());
    // A word of no record.
    assert!(titles(&st, "kubernetes", &all).is_empty());
    // The member's profile is found too, as a member.
    let hits = st.snapshot().search("trifouillis", &all);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].kind, "member");
    assert_eq!(hits[0].id, st.member_id().to_string());
}

#[test]
fn filters_by_tag_and_author_and_leaves_out_retracted_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = State::init(home(&dir), profile(), Timestamp(1_000)).unwrap();
    sample(&mut st);
    let finance = Filter {
        tag: Some("finance".into()),
        author: None,
    };
    assert_eq!(titles(&st, "exporter invoices", &finance), Vec::<String>::new());
    assert_eq!(titles(&st, "invoices", &finance), ["Invoices in Dolibarr"]);
    let agenda = Filter {
        tag: Some("agenda".into()),
        author: None,
    };
    assert!(titles(&st, "invoices", &agenda).is_empty());
    let mine = Filter {
        tag: None,
        author: Some(st.member_id()),
    };
    assert_eq!(titles(&st, "salle", &mine), ["Réservation de salles"]);
    let someone_else = Filter {
        tag: None,
        author: Some(mutu_protocol::identity::SecretKey::from_bytes(&[7; 32]).member_id()),
    };
    assert!(titles(&st, "salle", &someone_else).is_empty());
    // Retracted: gone from search at once.
    let id = st.snapshot().search("salle", &Filter::default())[0].id.parse().unwrap();
    st.retract(id, Timestamp(3_000)).unwrap();
    assert!(titles(&st, "salle", &Filter::default()).is_empty());
    // A text with no terms lists what the filter keeps, as the scan does.
    assert_eq!(titles(&st, "", &agenda), Vec::<String>::new());
    assert_eq!(titles(&st, "the and", &finance).len(), 2);
}

#[test]
fn a_reopened_home_keeps_its_index_and_rebuilds_a_damaged_or_stale_one() {
    let dir = tempfile::tempdir().unwrap();
    let search_dir = dir.path().join("home").join(super::DIR);
    {
        let mut st = State::init(home(&dir), profile(), Timestamp(1_000)).unwrap();
        sample(&mut st);
    }
    let meta = search_dir.join("meta.json");
    let committed = std::fs::read(&meta).unwrap();
    // Reopened as it was: the index is not rebuilt (its files stay).
    {
        let st = State::open(home(&dir)).unwrap();
        assert_eq!(titles(&st, "salle", &Filter::default()), ["Réservation de salles"]);
        assert_eq!(std::fs::read(&meta).unwrap(), committed, "rebuilt although current");
    }
    // Damaged: garbage in place of tantivy's meta file.
    std::fs::write(&meta, b"{\"segments\": [garbage").unwrap();
    {
        let st = State::open(home(&dir)).unwrap();
        assert_eq!(titles(&st, "invoice", &Filter::default()), ["Invoices in Dolibarr"]);
    }
    // Stale: the store took a change the index never saw (as after a
    // crash between the two commits): an old copy of the index is put back.
    let old = dir.path().join("old-search");
    copy_dir(&search_dir, &old);
    {
        let mut st = State::open(home(&dir)).unwrap();
        st.create(need("Hébergement mutualisé", "", &[]), Timestamp(4_000))
            .unwrap();
    }
    std::fs::remove_dir_all(&search_dir).unwrap();
    copy_dir(&old, &search_dir);
    let st = State::open(home(&dir)).unwrap();
    assert_eq!(
        titles(&st, "hebergement", &Filter::default()),
        ["Hébergement mutualisé"]
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Hostile queries: huge, only stop words, scripts the stemmers must not
/// see, control characters. Each answers (bounded) without a panic.
#[test]
fn hostile_queries_answer_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = State::init(home(&dir), profile(), Timestamp(1_000)).unwrap();
    sample(&mut st);
    st.create(
        need("Ελληνικά ßßß 日本語 منصة", "ǅǆ İstanbul ﬁnance", &[]),
        Timestamp(2_000),
    )
    .unwrap();
    let huge = "prélèvement ".repeat(200_000);
    let many_words: String = (0..10_000).map(|i| format!("w{i} ")).collect();
    for q in [
        huge.as_str(),
        many_words.as_str(),
        "ßßß",
        "Ελληνικά",
        "日本語",
        "\u{0}\u{202e}",
        "İstanbul",
        "😀😀😀",
        "\"unbalanced AND (",
        "*:* OR title:x",
    ] {
        let hits = st.snapshot().search(q, &Filter::default());
        assert!(hits.len() <= super::MAX_HITS, "{}", q.len());
    }
    assert_eq!(titles(&st, "ελληνικά", &Filter::default()).len(), 1);
    assert_eq!(titles(&st, &huge, &Filter::default()), ["Prélèvements SEPA"]);
}
