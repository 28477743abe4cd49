#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The web UI in process: requests go through the real router (`oneshot`)
//! to a real actor on a memory swarm, seeded with records of three members.

use axum::Router;
use axum::body::Body as HttpBody;
use axum::http::{Request, StatusCode, header};
use mutu_protocol::doc::MemberDoc;
use mutu_protocol::identity::{MemberId, ReplicaNonce};
use mutu_protocol::money::Money;
use mutu_protocol::record::{
    Body, Catalogue, CatalogueEntry, Condition, Cosign, DevStatus, EntryStatus, MemberKind, Need, NeedStatus, Offer,
    Pledge, PledgeStatus, Profile, Project, Record, RecordId, Resource, Usage, Vouch,
};
use mutu_protocol::{SecretKey, Timestamp};
use tower::ServiceExt;

use crate::testing::TestNode;
use mutu_node::actor::Handle;
use mutu_node::state;

const HOUR: u64 = 3_600_000;

struct Node {
    router: Router,
    handle: Handle,
    _node: TestNode,
}

fn profile(name: &str, kind: MemberKind) -> Profile {
    Profile {
        name: name.into(),
        member_kind: kind,
        country: Some("FR".into()),
        sectors: vec!["public".into()],
        website: Some("https://example.org".into()),
        description: format!("{name} publishes here."),
    }
}

async fn node(port: u64) -> Node {
    let n = TestNode::spawn(port, profile("Ville de Lyon", MemberKind::PublicBody));
    Node {
        router: super::router(n.handle.clone(), super::auth::Sessions::default()),
        handle: n.handle.clone(),
        _node: n,
    }
}

fn eur(minor: u64) -> Money {
    Money::new(minor, "EUR".parse().unwrap())
}

/// Ids of what [`seed`] wrote.
#[allow(dead_code)]
struct Seeded {
    me: MemberId,
    atelier: MemberId,
    asso: MemberId,
    paheko: RecordId,
    fork: RecordId,
    export: RecordId,
    mobile: RecordId,
    audit: RecordId,
    cat_asso: RecordId,
    cat_city: RecordId,
}

/// The nonce of another member's `i`th record.
fn nonce(seed: u8, i: usize) -> [u8; 16] {
    let mut n = [seed; 16];
    n[15] = i as u8;
    n
}

/// Another member: its records, signed, written as one change and admitted.
async fn other(h: &Handle, seed: u8, records: Vec<(u64, Body)>) {
    let key = SecretKey::from_bytes(&[seed; 32]);
    let me = key.member_id();
    let signed: Vec<_> = records
        .into_iter()
        .enumerate()
        .map(|(i, (at, body))| {
            Record::new(me, nonce(seed, i), Timestamp::from_millis(at), body)
                .sign(&key)
                .unwrap()
        })
        .collect();
    let change = MemberDoc::new(me)
        .write(&key, &ReplicaNonce([seed; 16]), &signed, state::now())
        .unwrap();
    let report = h
        .test(move |s, _| s.admit(vec![change], state::now()))
        .await
        .unwrap()
        .unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
}

async fn seed(h: &Handle) -> Seeded {
    let t0 = state::now().as_millis() - 30 * 24 * HOUR;
    let at = |hours: u64| t0 + hours * HOUR;
    let create = |body: Body, when: u64| {
        let h = h.clone();
        async move {
            h.test(move |s, _| s.create(body, Timestamp::from_millis(when)))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let me = h.with_snapshot(|s| s.member_id()).await.unwrap();
    let paheko = create(
        Body::Project(Project {
            name: "Paheko".into(),
            description: "Accounting & membership <for associations>.".into(),
            license: "AGPL-3.0-or-later".into(),
            repository: Some("https://fossil.kd2.org/paheko".into()),
            homepage: Some("https://paheko.cloud".into()),
            tags: vec!["accounting".into()],
            status: DevStatus::Stable,
            is_based_on: None,
            publiccode: String::new(),
        }),
        at(1),
    )
    .await;
    let need = |title: &str, goal: Option<Money>, days_goal: Option<u32>, deadline: &str, tag: &str| {
        Body::Need(Need {
            title: title.into(),
            description: format!("{title}, described.\n\nSecond paragraph."),
            tags: vec![tag.into()],
            project: Some(paheko),
            goal,
            days_goal,
            deadline: Some(deadline.parse().unwrap()),
            status: NeedStatus::Open,
            merged_into: None,
            decision: Default::default(),
        })
    };
    let export = create(
        need("Invoice export", Some(eur(60_000)), None, "2099-06-30", "accounting"),
        at(2),
    )
    .await;
    let mobile = create(
        need("Mobile app", Some(eur(100_000)), None, "2099-12-31", "mobile"),
        at(3),
    )
    .await;
    let audit = create(need("Accessibility audit", None, Some(10), "2099-03-01", "a11y"), at(4)).await;
    let cat_city = create(
        Body::Catalogue(Catalogue {
            title: "Socle interministériel de Lyon".into(),
            description: "What the city recommends.".into(),
            editors: vec![],
            includes: vec![],
        }),
        at(5),
    )
    .await;
    create(
        Body::Usage(Usage {
            project: paheko,
            note: String::new(),
        }),
        at(6),
    )
    .await;

    let atelier_key = SecretKey::from_bytes(&[7; 32]);
    let asso_key = SecretKey::from_bytes(&[9; 32]);
    let (atelier, asso) = (atelier_key.member_id(), asso_key.member_id());
    // Record ids derive from author, kind and nonce: compute the fork's and
    // the association catalogue's ids the way `other` will sign them.
    let fork_rec = Record::new(
        atelier,
        nonce(7, 0),
        Timestamp::from_millis(at(7)),
        Body::Project(Project {
            name: "Paheko Pro".into(),
            description: "A variant.".into(),
            license: "AGPL-3.0-or-later".into(),
            repository: None,
            homepage: None,
            tags: vec!["accounting".into()],
            status: DevStatus::Beta,
            is_based_on: Some(paheko),
            publiccode: String::new(),
        }),
    );
    let fork = fork_rec.id;
    let pledge = |need: RecordId, resource: Resource, condition: Condition| {
        Body::Pledge(Pledge {
            need,
            resource,
            condition,
            expires_at: None,
            status: PledgeStatus::Active,
        })
    };
    other(
        h,
        7,
        vec![
            (at(7), fork_rec.body.clone()),
            (at(8), profile("Atelier Logiciel", MemberKind::Provider).into_body()),
            (
                at(10),
                pledge(export, Resource::Money(eur(30_000)), Condition::Unconditional),
            ),
            (
                at(11),
                pledge(audit, Resource::DevDays { days: 2 }, Condition::Unconditional),
            ),
            (
                at(12),
                Body::Offer(Offer {
                    need: export,
                    price: eur(55_000),
                    days: Some(5),
                    description: "We build it in five days.".into(),
                    valid_until: None,
                }),
            ),
        ],
    )
    .await;
    let cat_asso_rec = Record::new(
        asso,
        nonce(9, 0),
        Timestamp::from_millis(at(13)),
        Body::Catalogue(Catalogue {
            title: "Logiciels libres pour associations".into(),
            description: "Curated by an association.".into(),
            editors: vec![atelier],
            includes: vec![],
        }),
    );
    let cat_asso = cat_asso_rec.id;
    other(
        h,
        9,
        vec![
            (at(13), cat_asso_rec.body.clone()),
            (
                at(14),
                profile("Association Libre", MemberKind::Association).into_body(),
            ),
            (
                at(15),
                pledge(export, Resource::Money(eur(15_000)), Condition::IfGoalReached),
            ),
            (
                at(16),
                pledge(mobile, Resource::Money(eur(100_000)), Condition::IfGoalReached),
            ),
            (
                at(17),
                pledge(
                    export,
                    Resource::Hosting {
                        text: "Two years of hosting".into(),
                    },
                    Condition::Unconditional,
                ),
            ),
            (
                at(18),
                Body::Cosign(Cosign {
                    need: export,
                    note: "We need it too".into(),
                }),
            ),
            (
                at(19),
                Body::Usage(Usage {
                    project: paheko,
                    note: String::new(),
                }),
            ),
            (
                at(20),
                Body::CatalogueEntry(CatalogueEntry {
                    catalogue: cat_asso,
                    project: paheko,
                    status: EntryStatus::Recommended,
                    note: "Our pick".into(),
                }),
            ),
            (
                at(21),
                Body::Vouch(Vouch {
                    member: atelier,
                    statement: "Reliable".into(),
                }),
            ),
        ],
    )
    .await;
    // The city includes the association's catalogue and lists the fork.
    create(
        Body::Catalogue(Catalogue {
            title: "Socle interministériel de Lyon".into(),
            description: "What the city recommends.".into(),
            editors: vec![],
            includes: vec![cat_asso],
        }),
        at(22),
    )
    .await;
    let _ = cat_city;
    let cat_city2 = h
        .with_snapshot(|s| {
            s.views(state::now())
                .index()
                .of_kind(mutu_protocol::record::Kind::Catalogue)
                .iter()
                .map(|r| (r.record().author, r.id(), r.record().created_at))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
    let cat_city = cat_city2
        .iter()
        .filter(|(a, _, _)| *a == me)
        .max_by_key(|(_, _, c)| *c)
        .unwrap()
        .1;
    create(
        Body::CatalogueEntry(CatalogueEntry {
            catalogue: cat_city,
            project: fork,
            status: EntryStatus::Observation,
            note: String::new(),
        }),
        at(23),
    )
    .await;
    Seeded {
        me,
        atelier,
        asso,
        paheko,
        fork,
        export,
        mobile,
        audit,
        cat_asso,
        cat_city,
    }
}

trait IntoBody {
    fn into_body(self) -> Body;
}

impl IntoBody for Profile {
    fn into_body(self) -> Body {
        Body::Profile(self)
    }
}

/// GETs `uri` with optional `Accept-Language`; status, headers and body.
async fn get_with(router: &Router, uri: &str, lang: Option<&str>) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut req = Request::builder().uri(uri);
    if let Some(l) = lang {
        req = req.header(header::ACCEPT_LANGUAGE, l);
    }
    let resp = router
        .clone()
        .oneshot(req.body(HttpBody::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn page(n: &Node, uri: &str, lang: Option<&str>) -> String {
    let (status, headers, body) = get_with(&n.router, uri, lang).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    assert!(
        headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"),
        "{uri}"
    );
    assert!(body.starts_with("<!DOCTYPE html>"), "{uri}");
    body
}

/// Where `needle` first occurs in `hay` (panics if absent).
fn pos(hay: &str, needle: &str) -> usize {
    hay.find(needle).unwrap_or_else(|| panic!("`{needle}` not found"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_in_english_and_french() {
    let n = node(47_401).await;
    let s = seed(&n.handle).await;
    let pages = [
        "/".to_owned(),
        "/needs".into(),
        format!("/needs/{}", s.export),
        "/projects".into(),
        format!("/projects/{}", s.paheko),
        "/catalogues".into(),
        format!("/catalogues/{}", s.cat_city),
        "/members".into(),
        format!("/members/{}", s.atelier),
        "/network".into(),
        "/search?q=paheko".into(),
    ];
    for uri in &pages {
        let en = page(&n, uri, Some("en-GB,en;q=0.9")).await;
        assert!(en.contains("<html lang=\"en\">"), "{uri}");
        assert!(en.contains(">Needs</a>") && en.contains(">Catalogues</a>"), "{uri}");
        let fr = page(&n, uri, Some("fr-FR,fr;q=0.9,en;q=0.5")).await;
        assert!(fr.contains("<html lang=\"fr\">"), "{uri}");
        assert!(fr.contains(">Besoins</a>") && fr.contains(">Réseau</a>"), "{uri}");
        for html in [&en, &fr] {
            assert!(!html.contains("<script"), "{uri}");
        }
    }

    let home = page(&n, "/", None).await;
    // 3 members, 2 projects, 3 needs of which Mobile app is funded.
    assert!(home.contains("<strong>3</strong><span>members</span>"), "{home}");
    assert!(home.contains("<strong>2</strong><span>open needs</span>"), "{home}");
    assert!(home.contains("<strong>1</strong><span>funded needs</span>"), "{home}");
    assert!(home.contains("€1,450.00"), "total pledged: {home}");
    let home_fr = page(&n, "/", Some("fr")).await;
    assert!(home_fr.contains("1\u{202F}450,00\u{A0}€"), "{home_fr}");
    assert!(home_fr.contains("Activité récente"));

    let need = page(&n, &format!("/needs/{}", s.export), None).await;
    for text in [
        "Invoice export",
        "Second paragraph.",
        "Atelier Logiciel",
        "Association Libre",
        "We need it too",
        "Two years of hosting",
        "If the goal is reached",
        "Conditional",
        "We build it in five days.",
        "€550.00",
        "Collecting",
    ] {
        assert!(need.contains(text), "need page lacks {text}");
    }
    assert!(!need.contains("Developer-days</h3>"), "no empty groups");
    assert!(need.contains("<h3>Money</h3>") && need.contains("<h3>Hosting</h3>"));
    assert!(need.contains("<svg class=\"chart\""), "chart");
    assert!(need.contains("class=\"goal\""));
    assert!(
        need.contains("<progress max=\"100\" value=\"75\" aria-label=\"Funded: 75%\">"),
        "{need}"
    );
    let need_fr = page(&n, &format!("/needs/{}", s.export), Some("fr")).await;
    assert!(need_fr.contains("Conditionnelle") && need_fr.contains("Cosignataires"));
    assert!(need_fr.contains("aria-label=\"Financé : 75\u{202F}%\""), "{need_fr}");
    assert!(need_fr.contains("Objectif 600,00\u{A0}€"), "chart label in French");

    let project = page(&n, &format!("/projects/{}", s.paheko), None).await;
    for text in [
        "AGPL-3.0-or-later",
        "https://fossil.kd2.org/paheko",
        "Paheko Pro",
        "Invoice export",
        "Logiciels libres pour associations",
        "Ville de Lyon",
    ] {
        assert!(project.contains(text), "project page lacks {text}");
    }
    // Escaped.
    assert!(project.contains("Accounting &amp; membership &lt;for associations&gt;."));
    // The association uses Paheko and cosigned the export only: it could
    // join the project's other open needs.
    let section = &project[pos(&project, "id=\"could-join\"")..];
    let section = &section[..pos(section, "</section>")];
    assert!(section.contains(&format!("href=\"/members/{}\"", s.asso)), "{section}");
    assert!(!section.contains(&format!("href=\"/needs/{}\"", s.export)), "{section}");
    let fork = page(&n, &format!("/projects/{}", s.fork), None).await;
    assert!(fork.contains("Based on") && fork.contains(">Paheko</a>"));

    let cat = page(&n, &format!("/catalogues/{}", s.cat_city), None).await;
    assert!(cat.contains("Paheko Pro") && cat.contains("Under observation") && cat.contains("this catalogue"));
    // Paheko comes from the included catalogue, with its link.
    let row = &cat[pos(&cat, ">Paheko</a>")..];
    assert!(
        row[..pos(row, "</tr>")].contains("Logiciels libres pour associations"),
        "{cat}"
    );
    assert!(row.contains("Recommended"));
    let cat_fr = page(&n, &format!("/catalogues/{}", s.cat_city), Some("fr")).await;
    assert!(cat_fr.contains("Recommandé") && cat_fr.contains("Provenance"));

    let member = page(&n, &format!("/members/{}", s.atelier), None).await;
    assert!(
        member.contains("Service provider") && member.contains("Association Libre"),
        "vouched by"
    );
    assert!(member.contains("Paheko Pro") && member.contains("€550.00"));
    let members = page(&n, "/members", Some("fr")).await;
    assert!(members.contains("Prestataire") && members.contains("Collectivité"));

    let network = page(&n, "/network", None).await;
    assert!(network.contains("No peer connected.") && network.contains("documents"));
    assert!(
        network.contains("open: every member") && network.contains("members in the trust set"),
        "the network page says whom the node replicates"
    );

    let search = page(&n, "/search?q=paheko", None).await;
    assert!(search.contains(&format!("href=\"/projects/{}\"", s.paheko)));
    let search = page(&n, "/search?q=&tag=mobile", None).await;
    assert!(search.contains("Mobile app") && !search.contains("Invoice export"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_sorting_change_the_needs_list() {
    let n = node(47_402).await;
    let s = seed(&n.handle).await;
    let order = |html: &str| -> Vec<usize> {
        ["Invoice export", "Mobile app", "Accessibility audit"]
            .iter()
            .map(|t| html.find(&format!(">{t}</a></h2>")).unwrap_or(usize::MAX))
            .collect()
    };
    // Newest first by default.
    let o = order(&page(&n, "/needs", None).await);
    assert!(o[2] < o[1] && o[1] < o[0], "{o:?}");
    // Most funded: Mobile 100 %, Export 75 %, Audit 20 %.
    let html = page(&n, "/needs?sort=percent", None).await;
    let o = order(&html);
    assert!(o[1] < o[0] && o[0] < o[2], "{o:?}");
    assert!(html.contains("value=\"100\"") && html.contains("value=\"20\""));
    assert!(
        html.contains("<option value=\"percent\" selected>"),
        "the form keeps the choice"
    );
    // Soonest deadline: Audit (March), Export (June), Mobile (December).
    let o = order(&page(&n, "/needs?sort=deadline", None).await);
    assert!(o[2] < o[0] && o[0] < o[1], "{o:?}");
    // Filters.
    let o = order(&page(&n, "/needs?funding=funded", None).await);
    assert_eq!((o[0], o[2]), (usize::MAX, usize::MAX));
    assert!(o[1] < usize::MAX);
    let o = order(&page(&n, "/needs?tag=a11y&status=open&funding=&sort=", None).await);
    assert!(o[0] == usize::MAX && o[1] == usize::MAX && o[2] < usize::MAX);
    let html = page(&n, "/needs?status=delivered", Some("fr")).await;
    assert!(html.contains("Aucun besoin ne correspond."));
    let _ = s;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_unknown_ids_language_switch_and_stylesheet() {
    let n = node(47_403).await;
    let s = seed(&n.handle).await;
    // A unique prefix works.
    let prefix: String = s.export.to_string().chars().take(8).collect();
    let html = page(&n, &format!("/needs/{prefix}"), None).await;
    assert!(html.contains("Invoice export"));
    let member: String = s.asso.to_string().chars().take(10).collect();
    assert!(
        page(&n, &format!("/members/{member}"), None)
            .await
            .contains("Association Libre")
    );
    // Unknown ids, and ids of the wrong kind, are HTML 404s.
    for uri in [
        "/needs/zzzzzzzz".to_owned(),
        format!("/needs/{}", s.paheko),
        "/projects/qqqq".into(),
        "/catalogues/qqqq".into(),
        format!("/members/mu{}", "a".repeat(52)),
        "/members/zzzz".into(),
    ] {
        let (status, headers, body) = get_with(&n.router, &uri, Some("fr")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert!(body.contains("Introuvable"), "{uri}");
    }
    // ?lang= wins over Accept-Language and sets the cookie; the cookie is then used.
    let (status, headers, body) = get_with(&n.router, "/needs?tag=mobile&lang=fr", Some("en")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<html lang=\"fr\">"));
    assert!(
        body.contains("href=\"/needs?tag=mobile&amp;lang=en\""),
        "the switch keeps the query"
    );
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("lang=fr;"), "{cookie}");
    let req = Request::builder()
        .uri("/projects")
        .header(header::ACCEPT_LANGUAGE, "en")
        .header(header::COOKIE, "lang=fr")
        .body(HttpBody::empty())
        .unwrap();
    let resp = n.router.clone().oneshot(req).await.unwrap();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("<html lang=\"fr\">"));
    // The stylesheet.
    let (status, headers, css) = get_with(&n.router, "/static/style.css", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
    assert!(headers[header::CACHE_CONTROL].to_str().unwrap().contains("max-age"));
    assert!(css.contains("progress"));
}

/// Once the need's author awards the provider's offer, the need page shows
/// the consultation (rule, coalition, timeline, the award's verdict) and the
/// provider's page its track record, in both languages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consultation_shows_on_the_need_and_member_pages() {
    let n = node(47_431).await;
    let s = seed(&n.handle).await;
    let export = s.export;
    let offer = n
        .handle
        .with_snapshot(move |snap| {
            let views = snap.views(state::now());
            views.referring(mutu_protocol::record::Kind::Offer, &export)[0].id()
        })
        .await
        .unwrap();
    let award = Body::Award(mutu_protocol::record::Award {
        need: export,
        offer,
        note: String::new(),
    });
    n.handle
        .test(move |st, _| st.create(award, state::now()))
        .await
        .unwrap()
        .unwrap();
    let en = page(&n, &format!("/needs/{export}"), Some("en")).await;
    assert!(en.contains("Choosing and accepting the work"), "{en}");
    assert!(en.contains("the need&#39;s author") || en.contains("the need's author"));
    assert!(en.contains("awarded"));
    assert!(en.contains(">valid<"), "the author's award is valid under `author`");
    let fr = page(&n, &format!("/needs/{export}"), Some("fr")).await;
    assert!(fr.contains("Choix et réception des travaux"));
    assert!(fr.contains("attribué"));
    let provider = page(&n, &format!("/members/{}", s.atelier), Some("en")).await;
    assert!(provider.contains("Track record"));
    assert!(provider.contains("1 offers, 1 awarded"), "{provider}");
    let fr = page(&n, &format!("/members/{}", s.atelier), Some("fr")).await;
    assert!(fr.contains("Références") && fr.contains("1 offres, 1 retenues"));
}

/// The needs list shows [`super::pages::needs::PAGE`] needs a page, newest
/// first, with links that keep the filters; a bad or too large page number
/// shows the first or the last page.
#[tokio::test]
async fn the_needs_list_is_paged() {
    let n = node(47_404).await;
    let t0 = state::now().as_millis() - 30 * 24 * HOUR;
    let needs: Vec<(u64, Body)> = (0..120)
        .map(|i| {
            let mut need = Need::titled(format!("Need number {i:03}"));
            need.tags = vec!["paged".into()];
            (t0 + i * HOUR, Body::Need(need))
        })
        .collect();
    other(&n.handle, 41, needs).await;
    let cards = |body: &str| body.matches("article class=\"card need\"").count();
    let first = page(&n, "/needs?tag=paged", None).await;
    assert_eq!(cards(&first), 50);
    assert!(first.contains("Need number 119") && !first.contains("Need number 069"));
    assert!(
        first.contains("href=\"/needs?tag=paged&amp;sort=newest&amp;page=1\""),
        "{first}"
    );
    assert!(!first.contains("rel=\"prev\""));
    let last = page(&n, "/needs?tag=paged&page=2", None).await;
    assert_eq!(cards(&last), 20);
    assert!(last.contains("Need number 000") && last.contains("rel=\"prev\"") && !last.contains("rel=\"next\""));
    // The list and its links (the header echoes the address asked for).
    let list = |body: &str| body[pos(body, "<ul class=\"cards\">")..].to_owned();
    assert_eq!(list(&page(&n, "/needs?tag=paged&page=999", None).await), list(&last));
    assert_eq!(list(&page(&n, "/needs?tag=paged&page=-1x", None).await), list(&first));
}
