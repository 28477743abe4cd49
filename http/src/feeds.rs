//! Atom feeds (RFC 4287) for the public: all needs, one need, one tag, one
//! project, one catalogue. What a treasurer or a journalist follows in a
//! feed reader without an account.
//!
//! Ids are stable (`urn:mutu:…` of record ids), `updated` is the newest
//! timestamp of what the feed holds, and entries come newest first, at most
//! [`MAX_ENTRIES`]. Links are absolute, on the host the request named (the
//! guard only lets known host names through). Feeds are built from a
//! snapshot on a blocking thread, never in the actor.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use axum::Router;
use axum::extract::{self, Path};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mutu_node::actor::Handle;
use mutu_node::state::{self, Snapshot};
use mutu_protocol::record::{Body, Kind, NeedStatus, RecordId, SignedRecord};
use mutu_protocol::view::Views;
use mutu_protocol::{MemberId, Timestamp};

use crate::api::error::ApiError;

/// The most entries a feed holds (the newest).
pub const MAX_ENTRIES: usize = 100;

/// The feed routes on `handle`.
pub fn router(handle: Handle) -> Router {
    Router::new()
        .route("/feeds/needs.atom", get(needs))
        .route("/feeds/need/{id}", get(need))
        .route("/feeds/tag/{tag}", get(tag))
        .route("/feeds/project/{id}", get(project))
        .route("/feeds/catalogue/{id}", get(catalogue))
        .with_state(handle)
}

/// What a feed is about.
enum About {
    Needs,
    Need(String),
    Tag(String),
    Project(String),
    Catalogue(String),
}

async fn needs(extract::State(h): extract::State<Handle>, headers: HeaderMap) -> Response {
    answer(&h, &headers, About::Needs).await
}

async fn need(extract::State(h): extract::State<Handle>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    answer(&h, &headers, About::Need(id)).await
}

async fn tag(extract::State(h): extract::State<Handle>, headers: HeaderMap, Path(t): Path<String>) -> Response {
    answer(&h, &headers, About::Tag(t)).await
}

async fn project(extract::State(h): extract::State<Handle>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    answer(&h, &headers, About::Project(id)).await
}

async fn catalogue(extract::State(h): extract::State<Handle>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    answer(&h, &headers, About::Catalogue(id)).await
}

async fn answer(handle: &Handle, headers: &HeaderMap, about: About) -> Response {
    // The guard has checked the host name already.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let base = format!("http://{host}");
    let now = state::now();
    match handle.with_snapshot(move |s| build(s, &base, about, now)).await {
        Ok(Ok(feed)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
            feed.to_string(),
        )
            .into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn date(t: Timestamp) -> FixedDateTime {
    let millis = i64::try_from(t.0).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .fixed_offset()
}

fn link(href: String) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l
}

/// The author's profile name, or its id.
fn person(views: &Views<'_>, member: &MemberId) -> Person {
    let name = views
        .member(member)
        .profile
        .map_or_else(|| member.to_string(), |p| p.name.clone());
    let mut p = Person::default();
    p.set_name(name);
    p.set_uri(Some(format!("urn:mutu:member:{member}")));
    p
}

/// One record as an entry: its title and text, by its author, at its last
/// update, linking to the page of `page` (the record itself or what it is
/// about).
fn entry(views: &Views<'_>, base: &str, r: &SignedRecord, page: &str) -> Entry {
    let rec = r.record();
    let author = person(views, &rec.author);
    let (title, text) = match &rec.body {
        Body::Need(n) => (n.title.clone(), n.description.clone()),
        Body::Project(p) => (p.name.clone(), p.description.clone()),
        Body::Catalogue(c) => (c.title.clone(), c.description.clone()),
        Body::Cosign(c) => (format!("{} cosigns", author.name), c.note.clone()),
        Body::Pledge(p) => (format!("{} pledges {}", author.name, p.resource.name()), String::new()),
        Body::Offer(o) => (format!("{} offers {}", author.name, o.price), o.description.clone()),
        Body::Usage(u) => (format!("{} uses this project", author.name), u.note.clone()),
        Body::CatalogueEntry(e) => (
            match views.index().get(&e.project).map(|p| &p.record().body) {
                Some(Body::Project(p)) => p.name.clone(),
                _ => e.project.to_string(),
            },
            e.note.clone(),
        ),
        _ => (rec.kind.as_str().to_owned(), String::new()),
    };
    let mut e = Entry::default();
    e.set_id(format!("urn:mutu:{}:{}", rec.kind.as_str(), rec.id));
    e.set_title(Text::plain(title));
    e.set_updated(date(rec.updated_at));
    e.set_published(Some(date(rec.created_at)));
    e.set_authors(vec![author]);
    e.set_links(vec![link(format!("{base}{page}"))]);
    if !text.is_empty() {
        let mut c = Content::default();
        c.set_content_type(Some("text".to_owned()));
        c.set_value(Some(text));
        e.set_content(Some(c));
    }
    e
}

fn build(s: &Snapshot, base: &str, about: About, now: Timestamp) -> Result<Feed, ApiError> {
    let views = s.views(now);
    let index = views.index();
    let open = |r: &&SignedRecord| matches!(&r.record().body, Body::Need(n) if n.status != NeedStatus::Withdrawn);
    let need_page = |r: &SignedRecord| format!("/needs/{}", r.record().id);
    let resolve = |id: &str, kind: Kind| -> Result<RecordId, ApiError> {
        s.resolve_kind(id, kind)
            .map_err(|e| ApiError::from(mutu_node::ops::Error::from_state(e, Some("id"))))
    };
    let (id, title, self_path, mut entries): (String, String, String, Vec<Entry>) = match about {
        About::Needs => {
            let entries = index
                .of_kind(Kind::Need)
                .into_iter()
                .filter(open)
                .map(|r| entry(&views, base, r, &need_page(r)))
                .collect();
            (
                "urn:mutu:feed:needs".into(),
                "mutu: needs".into(),
                "/feeds/needs.atom".into(),
                entries,
            )
        }
        About::Need(id) => {
            let id = resolve(&id, Kind::Need)?;
            let r = index
                .get(&id)
                .ok_or_else(|| ApiError::not_found(format!("need {id} is retracted")))?;
            let page = need_page(r);
            let mut entries = vec![entry(&views, base, r, &page)];
            for kind in [Kind::Cosign, Kind::Pledge, Kind::Offer] {
                entries.extend(views.referring(kind, &id).iter().map(|x| entry(&views, base, x, &page)));
            }
            let title = match &r.record().body {
                Body::Need(n) => format!("mutu: {}", n.title),
                _ => "mutu: need".into(),
            };
            (
                format!("urn:mutu:feed:need:{id}"),
                title,
                format!("/feeds/need/{id}"),
                entries,
            )
        }
        About::Tag(tag) => {
            let tag = mutu_protocol::record::validate::normalize_tag(&tag);
            let entries = index
                .of_kind(Kind::Need)
                .into_iter()
                .filter(open)
                .filter(|r| matches!(&r.record().body, Body::Need(n) if n.tags.contains(&tag)))
                .map(|r| entry(&views, base, r, &need_page(r)))
                .collect();
            (
                format!("urn:mutu:feed:tag:{tag}"),
                format!("mutu: needs tagged {tag}"),
                format!("/feeds/tag/{tag}"),
                entries,
            )
        }
        About::Project(id) => {
            let id = resolve(&id, Kind::Project)?;
            let r = index
                .get(&id)
                .ok_or_else(|| ApiError::not_found(format!("project {id} is retracted")))?;
            let page = format!("/projects/{id}");
            let mut entries: Vec<Entry> = views
                .referring(Kind::Need, &id)
                .iter()
                .map(|n| entry(&views, base, n, &need_page(n)))
                .collect();
            entries.extend(
                views
                    .referring(Kind::Usage, &id)
                    .iter()
                    .map(|u| entry(&views, base, u, &page)),
            );
            let title = match &r.record().body {
                Body::Project(p) => format!("mutu: {}", p.name),
                _ => "mutu: project".into(),
            };
            (
                format!("urn:mutu:feed:project:{id}"),
                title,
                format!("/feeds/project/{id}"),
                entries,
            )
        }
        About::Catalogue(id) => {
            let id = resolve(&id, Kind::Catalogue)?;
            let r = index
                .get(&id)
                .ok_or_else(|| ApiError::not_found(format!("catalogue {id} is retracted")))?;
            let c = views
                .catalogue(r)
                .ok_or_else(|| ApiError::not_found(format!("catalogue {id}")))?;
            let entries = c
                .entries
                .iter()
                .filter_map(|e| index.get(&e.entry))
                .map(|x| entry(&views, base, x, &format!("/catalogues/{id}")))
                .collect();
            let title = match &r.record().body {
                Body::Catalogue(c) => format!("mutu: {}", c.title),
                _ => "mutu: catalogue".into(),
            };
            (
                format!("urn:mutu:feed:catalogue:{id}"),
                title,
                format!("/feeds/catalogue/{id}"),
                entries,
            )
        }
    };
    // Newest first; ties by id, so two nodes holding the same records
    // serve the same feed.
    entries.sort_by(|a, b| b.updated().cmp(a.updated()).then_with(|| a.id().cmp(b.id())));
    entries.truncate(MAX_ENTRIES);
    let updated = entries
        .iter()
        .map(|e| *e.updated())
        .max()
        .unwrap_or_else(|| date(Timestamp(0)));
    let mut feed = Feed::default();
    feed.set_id(id);
    feed.set_title(Text::plain(title));
    feed.set_updated(updated);
    let mut me = link(format!("{base}{self_path}"));
    me.set_rel("self");
    me.set_mime_type(Some("application/atom+xml".to_owned()));
    feed.set_links(vec![me]);
    feed.set_entries(entries);
    Ok(feed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use axum::body::Body as HttpBody;
    use axum::http::Request;
    use mutu_node::ops;
    use tower::ServiceExt;

    use super::*;
    use crate::testing::TestNode;

    async fn fetch(router: &Router, uri: &str) -> (StatusCode, String) {
        let req = Request::get(uri)
            .header("host", "mutu.example.org")
            .body(HttpBody::empty())
            .unwrap();
        let response = router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn apply(n: &TestNode, op: impl Into<ops::Request>) -> RecordId {
        n.handle.apply(op.into(), state::now()).await.unwrap().unwrap()
    }

    /// Parses a feed as a feed reader does.
    fn parse(text: &str) -> feed_rs::model::Feed {
        feed_rs::parser::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn feeds_read_back_by_a_feed_parser_with_stable_ids_and_times() {
        let n = TestNode::spawn(47_611, crate::testing::profile("Ville de Lyon"));
        let project = apply(
            &n,
            ops::NewProject {
                name: "Paheko".into(),
                license: "AGPL-3.0-or-later".into(),
                description: None,
                repository: None,
                homepage: None,
                tags: vec![],
                status: None,
                is_based_on: None,
            },
        )
        .await;
        let hostile = "SEPA <export> & \"more\" ]]>";
        let need = apply(
            &n,
            ops::NewNeed {
                title: hostile.into(),
                description: Some("Direct debits </content><entry>".into()),
                project: Some(project.to_string()),
                tags: vec!["accounting".into()],
                goal: Some(ops::MoneyInput::Text("600EUR".into())),
                days_goal: None,
                deadline: None,
                decision: None,
            },
        )
        .await;
        apply(
            &n,
            ops::NewNeed {
                title: "Accessible minutes".into(),
                description: None,
                project: None,
                tags: vec!["accessibility".into()],
                goal: None,
                days_goal: None,
                deadline: None,
                decision: None,
            },
        )
        .await;
        let router = router(n.handle.clone());

        let (s, text) = fetch(&router, "/feeds/needs.atom").await;
        assert_eq!(s, StatusCode::OK, "{text}");
        let feed = parse(&text);
        assert_eq!(feed.id, "urn:mutu:feed:needs");
        assert_eq!(feed.entries.len(), 2);
        let sepa = feed
            .entries
            .iter()
            .find(|e| e.id == format!("urn:mutu:need:{need}"))
            .unwrap();
        assert_eq!(
            sepa.title.as_ref().unwrap().content,
            hostile,
            "the title is escaped, then read back whole"
        );
        assert_eq!(sepa.links[0].href, format!("http://mutu.example.org/needs/{need}"));
        assert_eq!(sepa.authors[0].name, "Ville de Lyon");
        assert!(feed.updated.is_some() && sepa.updated.is_some());
        // The same records give the same feed.
        assert_eq!(fetch(&router, "/feeds/needs.atom").await.1, text);

        let (_, text) = fetch(&router, "/feeds/tag/Accounting").await;
        let tagged = parse(&text);
        assert_eq!(tagged.entries.len(), 1);
        assert_eq!(tagged.entries[0].id, sepa.id);

        let (_, text) = fetch(&router, &format!("/feeds/project/{}", &project.to_string()[..10])).await;
        assert_eq!(parse(&text).entries.len(), 1);
        let (_, text) = fetch(&router, &format!("/feeds/need/{need}")).await;
        assert_eq!(parse(&text).entries[0].id, sepa.id);

        let (s, text) = fetch(&router, "/feeds/need/zzzzzzzz").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{text}");
        let (s, _) = fetch(&router, &format!("/feeds/catalogue/{need}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "a need is not a catalogue");
    }
}
