//! The pages, one module per section, and what they share: links to
//! records and members, badges, tags, the funding bar.

pub mod catalogues;
pub mod consult;
pub mod home;
pub mod members;
pub mod needs;
pub mod network;
pub mod projects;
pub mod search;

use maud::{Markup, html};
use mutu_protocol::identity::MemberId;
use mutu_protocol::record::{
    Body, DevStatus, EntryStatus, Kind, MemberKind, NeedStatus, Record, RecordId, Resource, SignedRecord,
};
use mutu_protocol::view::{Filter, Views, funding};

use super::PageCtx;
use super::i18n::{self, Key, Lang};
use super::layout::urlencode;

/// The first characters of an id: enough to be unique in practice, and
/// accepted in URLs as a prefix.
pub fn short(id: &impl ToString) -> String {
    id.to_string().chars().take(12).collect()
}

/// A member's name (from its profile) or its short id.
pub fn member_name(views: &Views<'_>, id: &MemberId) -> String {
    views.member(id).profile.map_or_else(|| short(id), |p| p.name.clone())
}

/// A link to a member's page.
pub fn member_link(views: &Views<'_>, id: &MemberId) -> Markup {
    html! { a.member href={ "/members/" (id) } { (member_name(views, id)) } }
}

/// Members' names, looked up once, for a page drawn from them.
#[derive(Debug, Clone, Default)]
pub struct Names(std::collections::HashMap<MemberId, String>);

impl Names {
    /// The names of `ids`, as [`member_name`] gives them.
    pub fn of(views: &Views<'_>, ids: impl IntoIterator<Item = MemberId>) -> Self {
        let mut names = std::collections::HashMap::new();
        for id in ids {
            names.entry(id).or_insert_with(|| member_name(views, &id));
        }
        Self(names)
    }

    /// A link to a member's page, as [`member_link`] makes it.
    pub fn link(&self, id: &MemberId) -> Markup {
        let name = self.0.get(id).cloned().unwrap_or_else(|| short(id));
        html! { a.member href={ "/members/" (id) } { (name) } }
    }
}

/// Links to members, comma-separated, or `none`.
pub fn member_links(ctx: &PageCtx, views: &Views<'_>, ids: &[MemberId]) -> Markup {
    html! {
        @if ids.is_empty() {
            span.muted { (ctx.t(Key::CommonNone)) }
        } @else {
            @for (i, m) in ids.iter().enumerate() {
                @if i > 0 { ", " }
                (member_link(views, m))
            }
        }
    }
}

/// The human title of a record (need title, project name …).
pub fn record_title(ctx: &PageCtx, views: &Views<'_>, rec: &Record) -> String {
    match &rec.body {
        Body::Need(n) => n.title.clone(),
        Body::Project(p) => p.name.clone(),
        Body::Catalogue(c) => c.title.clone(),
        Body::Profile(p) => p.name.clone(),
        Body::Offer(o) if o.description.trim().is_empty() => i18n::money(ctx.lang, &o.price),
        Body::Offer(o) => format!("{} — {}", i18n::money(ctx.lang, &o.price), excerpt(&o.description, 80)),
        Body::Pledge(p) => resource(ctx.lang, &p.resource),
        Body::Vouch(v) => member_name(views, &v.member),
        Body::Follow(f) => member_name(views, &f.member),
        Body::Cosign(c) => title_of(ctx, views, &c.need),
        Body::Usage(u) => title_of(ctx, views, &u.project),
        Body::CatalogueEntry(e) => title_of(ctx, views, &e.project),
        _ => short(&rec.id),
    }
}

/// The title of the record `id` refers to (need, project …), or its short id.
fn title_of(ctx: &PageCtx, views: &Views<'_>, id: &RecordId) -> String {
    match views.index().get(id).map(SignedRecord::record) {
        Some(rec) if !matches!(rec.body, Body::Cosign(_) | Body::Usage(_) | Body::CatalogueEntry(_)) => {
            record_title(ctx, views, rec)
        }
        _ => short(id),
    }
}

/// Where a record is shown: its own page, or the page of what it is about.
pub fn record_href(rec: &Record) -> Option<String> {
    Some(match &rec.body {
        Body::Need(_) => format!("/needs/{}", rec.id),
        Body::Project(_) => format!("/projects/{}", rec.id),
        Body::Catalogue(_) => format!("/catalogues/{}", rec.id),
        Body::Profile(_) => format!("/members/{}", rec.author),
        Body::Pledge(p) => format!("/needs/{}#r-{}", p.need, rec.id),
        Body::Cosign(c) => format!("/needs/{}#cosigners", c.need),
        Body::Offer(o) => format!("/needs/{}#r-{}", o.need, rec.id),
        Body::Usage(u) => format!("/projects/{}#users", u.project),
        Body::CatalogueEntry(e) => format!("/catalogues/{}", e.catalogue),
        Body::Vouch(v) => format!("/members/{}", v.member),
        Body::Follow(f) => format!("/members/{}", f.member),
        _ => return None,
    })
}

/// A link to the record with id `id`, titled, or its short id if unknown here.
pub fn record_link(ctx: &PageCtx, views: &Views<'_>, id: &RecordId) -> Markup {
    match views.index().get(id).map(SignedRecord::record) {
        Some(rec) => {
            let title = record_title(ctx, views, rec);
            match record_href(rec) {
                Some(href) => html! { a href=(href) { (title) } },
                None => html! { (title) },
            }
        }
        None => html! { span.muted title=(id) { (short(id)) } },
    }
}

/// A short label of what a record kind is.
pub fn kind_label(ctx: &PageCtx, kind: Kind) -> &'static str {
    ctx.t(match kind {
        Kind::Profile => Key::KindProfile,
        Kind::Project => Key::KindProject,
        Kind::Usage => Key::KindUsage,
        Kind::Need => Key::KindNeed,
        Kind::Cosign => Key::KindCosign,
        Kind::Pledge => Key::KindPledge,
        Kind::Offer => Key::KindOffer,
        Kind::Catalogue => Key::KindCatalogue,
        Kind::CatalogueEntry => Key::KindCatalogueEntry,
        Kind::Vouch => Key::KindVouch,
        Kind::Follow => Key::KindFollow,
        Kind::Moderation => Key::KindModeration,
        Kind::Tombstone => Key::KindTombstone,
        _ => Key::CommonUnknown,
    })
}

/// A pledged resource: `€500.00`, `5 developer-days`, `hosting: …`.
pub fn resource(lang: Lang, r: &Resource) -> String {
    match r {
        Resource::Money(m) => i18n::money(lang, m),
        Resource::DevDays { days } => format!("{} {}", i18n::number(lang, u64::from(*days)), days_word(lang, *days)),
        Resource::Hosting { text } => format!("{}{} {text}", i18n::t(lang, Key::ResourceHosting), colon(lang)),
        Resource::Testing { text } => format!("{}{} {text}", i18n::t(lang, Key::ResourceTesting), colon(lang)),
        Resource::Other { text } => text.clone(),
        _ => i18n::t(lang, Key::CommonUnknown).to_owned(),
    }
}

/// A pledged resource without its kind (under a heading that names it).
pub fn resource_short(lang: Lang, r: &Resource) -> String {
    match r {
        Resource::Hosting { text } | Resource::Testing { text } | Resource::Other { text } => text.clone(),
        r => resource(lang, r),
    }
}

/// `:` in English, ` :` (no-break space) in French.
pub fn colon(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ":",
        Lang::Fr => "\u{A0}:",
    }
}

/// `developer-day(s)` / `jour(s)-développeur`.
pub fn days_word(lang: Lang, n: u32) -> &'static str {
    if n <= 1 {
        i18n::t(lang, Key::UnitDevDay)
    } else {
        i18n::t(lang, Key::UnitDevDays)
    }
}

/// The badge class and label key of a need status.
pub fn need_status(s: NeedStatus) -> (&'static str, Key) {
    match s {
        NeedStatus::Open => ("open", Key::NeedStatusOpen),
        NeedStatus::InProgress => ("progress", Key::NeedStatusInProgress),
        NeedStatus::Delivered => ("done", Key::NeedStatusDelivered),
        NeedStatus::Withdrawn => ("gone", Key::NeedStatusWithdrawn),
        NeedStatus::Merged => ("gone", Key::NeedStatusMerged),
        _ => ("", Key::CommonUnknown),
    }
}

pub fn funding_state(s: funding::State) -> (&'static str, Key) {
    match s {
        funding::State::Open => ("open", Key::FundingOpen),
        funding::State::Funded => ("done", Key::FundingFunded),
        funding::State::Expired => ("gone", Key::FundingExpired),
        _ => ("", Key::CommonUnknown),
    }
}

pub fn effect(e: funding::Effect) -> (&'static str, Key) {
    match e {
        funding::Effect::Active => ("done", Key::EffectActive),
        funding::Effect::Conditional => ("open", Key::EffectConditional),
        funding::Effect::Committed => ("done", Key::EffectCommitted),
        funding::Effect::Released => ("gone", Key::EffectReleased),
        funding::Effect::Expired => ("gone", Key::EffectExpired),
        funding::Effect::Withdrawn => ("gone", Key::EffectWithdrawn),
        funding::Effect::Fulfilled => ("done", Key::EffectFulfilled),
        _ => ("", Key::CommonUnknown),
    }
}

pub fn entry_status(s: EntryStatus) -> (&'static str, Key) {
    match s {
        EntryStatus::Recommended => ("done", Key::EntryRecommended),
        EntryStatus::Observation => ("open", Key::EntryObservation),
        EntryStatus::Deprecated => ("gone", Key::EntryDeprecated),
        _ => ("", Key::CommonUnknown),
    }
}

pub fn dev_status(s: DevStatus) -> (&'static str, Key) {
    match s {
        DevStatus::Concept => ("open", Key::DevConcept),
        DevStatus::Development => ("progress", Key::DevDevelopment),
        DevStatus::Beta => ("progress", Key::DevBeta),
        DevStatus::Stable => ("done", Key::DevStable),
        DevStatus::Obsolete => ("gone", Key::DevObsolete),
        _ => ("", Key::CommonUnknown),
    }
}

pub fn member_kind(k: MemberKind) -> Key {
    match k {
        MemberKind::Sme => Key::MemberKindSme,
        MemberKind::Association => Key::MemberKindAssociation,
        MemberKind::PublicBody => Key::MemberKindPublicBody,
        MemberKind::Provider => Key::MemberKindProvider,
        MemberKind::Individual => Key::MemberKindIndividual,
        MemberKind::Research => Key::MemberKindResearch,
        _ => Key::CommonUnknown,
    }
}

/// A status badge from a `(class, key)` pair.
pub fn badge(ctx: &PageCtx, (class, key): (&'static str, Key)) -> Markup {
    html! { span class={ "badge " (class) } { (ctx.t(key)) } }
}

/// Tags as links to the listing filtered by that tag.
pub fn tags(base: &str, tags: &[String]) -> Markup {
    html! {
        @if !tags.is_empty() {
            ul.tags {
                @for t in tags {
                    li { a href={ (base) "?tag=" (urlencode(t)) } { (t) } }
                }
            }
        }
    }
}

/// The funding bar: a `<progress>` capped at 100 with the real percent
/// next to it (which may pass 100).
pub fn progress(ctx: &PageCtx, percent: Option<u64>) -> Markup {
    match percent {
        Some(p) => {
            let text = i18n::percent(ctx.lang, p);
            html! {
                div.funding {
                    progress max="100" value=(p.min(100)) aria-label={ (ctx.t(Key::FundingProgress)) " " (text) } { (text) }
                    span.pct { (text) }
                }
            }
        }
        None => html! { div.funding { span.muted { (ctx.t(Key::FundingNoGoal)) } } },
    }
}

/// The goal of a need: money and/or developer-days.
pub fn goal_text(lang: Lang, goal: Option<&mutu_protocol::money::Money>, days: Option<u32>) -> String {
    let mut parts = Vec::new();
    if let Some(g) = goal {
        parts.push(i18n::money(lang, g));
    }
    if let Some(d) = days {
        parts.push(format!("{} {}", i18n::number(lang, u64::from(d)), days_word(lang, d)));
    }
    parts.join(" + ")
}

/// Money pledged per currency, then days: `€500.00 · 3 developer-days`.
pub fn pledged_text(lang: Lang, f: &funding::Funding) -> String {
    let mut parts: Vec<String> = f.pledged.iter().map(|m| i18n::money(lang, &m)).collect();
    if f.days_pledged > 0 {
        let d = u32::try_from(f.days_pledged).unwrap_or(u32::MAX);
        parts.push(format!("{} {}", i18n::number(lang, f.days_pledged), days_word(lang, d)));
    }
    parts.join(" · ")
}

/// A `<select>` option, selected when `value == current`.
pub fn option(value: &str, current: &str, label: &str) -> Markup {
    html! {
        @if value == current {
            option value=(value) selected { (label) }
        } @else {
            option value=(value) { (label) }
        }
    }
}

/// The header row of a `table.list`, one column per message key.
pub fn column_heads(ctx: &PageCtx, keys: &[Key]) -> Markup {
    html! { thead { tr { @for k in keys { th scope="col" { (ctx.t(*k)) } } } } }
}

/// An empty-list message.
pub fn empty(ctx: &PageCtx, key: Key) -> Markup {
    html! { p.empty { (ctx.t(key)) } }
}

/// A query value, `None` when absent or blank.
pub fn nonblank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A list page's filter: its `?tag=` unless blank, any author.
pub fn tag_filter(tag: &Option<String>) -> Filter {
    Filter {
        tag: nonblank(tag).map(str::to_owned),
        author: None,
    }
}

/// An external link, only for `http(s)` URLs (anything else is shown as text).
pub fn external(url: &str) -> Markup {
    let lower = url.trim().to_ascii_lowercase();
    html! {
        @if lower.starts_with("https://") || lower.starts_with("http://") {
            a href=(url.trim()) rel="nofollow noopener" { (url) }
        } @else {
            (url)
        }
    }
}

/// The first `n` characters of `text`, with an ellipsis when cut.
pub fn excerpt(text: &str, n: usize) -> String {
    let mut out: String = text.chars().take(n).collect();
    if text.chars().nth(n).is_some() {
        out.push('…');
    }
    out
}

/// A tag filter form for the listings.
pub fn tag_form(ctx: &PageCtx, action: &str, tag: &str) -> Markup {
    html! {
        form.filters method="get" action=(action) {
            div {
                label for="f-tag" { (ctx.t(Key::FilterTag)) }
                input #f-tag type="text" name="tag" value=(tag);
            }
            div.actions {
                button type="submit" { (ctx.t(Key::FilterApply)) }
                @if !tag.is_empty() { a href=(action) { (ctx.t(Key::FilterReset)) } }
            }
        }
    }
}

/// A `?tag=` query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TagQuery {
    pub tag: Option<String>,
}

/// [`kind_label`] of a kind's name (`member` for profiles).
pub fn kind_label_str(ctx: &PageCtx, kind: &str) -> &'static str {
    match kind.parse::<Kind>() {
        Ok(k) => kind_label(ctx, k),
        Err(_) if kind == "member" => ctx.t(Key::KindProfile),
        Err(_) => ctx.t(Key::CommonUnknown),
    }
}
