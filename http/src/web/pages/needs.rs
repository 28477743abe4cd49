//! `/needs` (filters and sorting through a GET form) and `/needs/{id}`.

use axum::extract::{self, Path, Query};
use axum::response::Response;
use maud::{Markup, html};
use mutu_protocol::money::Money;
use mutu_protocol::record::{Body, Condition, Kind, NeedStatus, Resource, SignedRecord};
use mutu_protocol::view::{Filter, NeedView, Views, funding};
use mutu_protocol::{MemberId, Timestamp};
use serde::Deserialize;

use super::{
    Names, badge, column_heads, empty, funding_state, goal_text, member_link, need_status, nonblank, option,
    pledged_text, progress, record_link, resource_short, tag_filter, tags,
};
use crate::web::chart::{self, Point};
use crate::web::i18n::{self, Key};
use crate::web::{PageCtx, PageError, WebState, render};
use mutu_node::state;

/// The listing's filters and order (all optional; blank means "any").
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub tag: Option<String>,
    /// `open`, `in_progress`, `delivered`, `withdrawn`, `merged` (merged
    /// needs are listed only when asked for).
    pub status: Option<String>,
    /// Funding state: `open`, `funded`, `expired`.
    pub funding: Option<String>,
    /// `newest` (default), `percent` (most pledged first), `deadline` (soonest first).
    pub sort: Option<String>,
    /// Which page of [`PAGE`] needs, from 0 (a bad number is page 0).
    pub page: Option<String>,
}

/// Needs shown on one page of the list: a network's thousands of needs are
/// never rendered at once.
pub const PAGE: usize = 50;

fn status_code(s: NeedStatus) -> &'static str {
    match s {
        NeedStatus::Open => "open",
        NeedStatus::InProgress => "in_progress",
        NeedStatus::Delivered => "delivered",
        NeedStatus::Withdrawn => "withdrawn",
        NeedStatus::Merged => "merged",
        _ => "other",
    }
}

fn funding_code(s: funding::State) -> &'static str {
    match s {
        funding::State::Open => "open",
        funding::State::Funded => "funded",
        funding::State::Expired => "expired",
        _ => "other",
    }
}

/// Filters and sorts `needs` as `q` asks.
pub fn select(mut needs: Vec<NeedView>, q: &ListQuery) -> Vec<NeedView> {
    match nonblank(&q.status) {
        Some(s) => needs.retain(|n| status_code(n.status) == s),
        // A merged need left the lists: its page points to where it went.
        None => needs.retain(|n| n.merged_into.is_none()),
    }
    if let Some(f) = nonblank(&q.funding) {
        needs.retain(|n| funding_code(n.funding.state) == f);
    }
    match nonblank(&q.sort).unwrap_or("newest") {
        "percent" => needs.sort_by_key(|n| (std::cmp::Reverse(n.funding.percent), std::cmp::Reverse(n.created_at))),
        "deadline" => needs.sort_by_key(|n| (n.deadline.is_none(), n.deadline.map(|d| d.days()), n.created_at)),
        _ => needs.sort_by_key(|n| std::cmp::Reverse((n.created_at, n.id))),
    }
    needs
}

/// The needs of page `page` (clamped to the last page) and how many needs
/// the filters keep. Newest first without a funding filter, the page costs
/// what it shows: the index keeps needs (and each tag's) in creation order
/// with their count, and the few needs whose record says merged are
/// counted apart; only the shown needs become views. A status filter reads
/// every need's record (not its view). Another order or a funding filter
/// needs every need's funding, so every view is built.
fn page_of(views: &Views<'_>, filter: &Filter, q: &ListQuery, page: usize) -> (Vec<NeedView>, usize, usize) {
    let newest = nonblank(&q.sort).is_none_or(|s| s == "newest");
    let clamp = |page: usize, total: usize| page.min(total.div_ceil(PAGE).max(1) - 1);
    if !newest || nonblank(&q.funding).is_some() {
        let needs = select(views.needs(filter), q);
        let page = clamp(page, needs.len());
        let total = needs.len();
        let shown = needs.into_iter().skip(page * PAGE).take(PAGE).collect();
        return (shown, total, page);
    }
    let index = views.index();
    let tag = filter.tag.as_deref();
    let all = || -> Box<dyn DoubleEndedIterator<Item = &SignedRecord> + '_> {
        match tag {
            Some(t) => Box::new(index.of_kind_tagged(Kind::Need, t)),
            None => Box::new(index.of_kind_iter(Kind::Need)),
        }
    };
    let show = |kept: &dyn Fn(&SignedRecord) -> bool, total: usize| {
        let page = clamp(page, total);
        let shown = all()
            .rev()
            .filter(|r| kept(r))
            .skip(page * PAGE)
            .take(PAGE)
            .filter_map(|r| views.need(r))
            .collect();
        (shown, total, page)
    };
    match nonblank(&q.status) {
        Some(s) => {
            let kept = |r: &SignedRecord| matches!(&r.record().body, Body::Need(n) if status_code(n.status) == s);
            let total = all().filter(|r| kept(r)).count();
            show(&kept, total)
        }
        None => {
            // A merged need left the lists (its page points to where it
            // went), unless a cycle of merges made it the end.
            let gone = |r: &SignedRecord| {
                matches!(&r.record().body, Body::Need(n) if n.status == NeedStatus::Merged)
                    && views.merge_end(&r.id()).is_some()
            };
            let gone_here = index.merged_needs().filter(|r| filter.keeps(r) && gone(r)).count();
            let total = index.count_of_kind(Kind::Need, tag) - gone_here;
            show(&|r| !gone(r), total)
        }
    }
}

pub async fn list(extract::State(st): extract::State<WebState>, ctx: PageCtx, Query(q): Query<ListQuery>) -> Response {
    render(&st.handle, ctx, move |ctx, s, now| {
        let views = s.views(now);
        let filter = tag_filter(&q.tag);
        let asked = nonblank(&q.page).and_then(|p| p.parse::<usize>().ok()).unwrap_or(0);
        let (shown, total, page) = page_of(&views, &filter, &q, asked);
        let pages = total.div_ceil(PAGE).max(1);
        let tag = nonblank(&q.tag).unwrap_or("");
        let tag_watched = !tag.is_empty()
            && crate::web::inbox::watches(
                ctx,
                s,
                &mutu_protocol::inbox::Watch::Tag(mutu_protocol::record::validate::normalize_tag(tag)),
            );
        let status = nonblank(&q.status).unwrap_or("");
        let fund = nonblank(&q.funding).unwrap_or("");
        let sort = nonblank(&q.sort).unwrap_or("newest");
        let link = |p: usize| {
            let mut query = String::from("/needs?");
            for (k, v) in [("tag", tag), ("status", status), ("funding", fund), ("sort", sort)] {
                if !v.is_empty() {
                    query.push_str(&format!("{k}={}&", crate::web::layout::urlencode(v)));
                }
            }
            format!("{query}page={p}")
        };
        let body = html! {
            h1 { (ctx.t(Key::NeedsTitle)) }
            p.lead { (ctx.t(Key::NeedsLead)) }
            @if !tag.is_empty() { p { "#" (tag) " " (crate::web::inbox::button(ctx, tag_watched, "tag", tag)) } }
            form.filters method="get" action="/needs" {
                div {
                    label for="f-tag" { (ctx.t(Key::FilterTag)) }
                    input #f-tag type="text" name="tag" value=(tag);
                }
                div {
                    label for="f-status" { (ctx.t(Key::FilterStatus)) }
                    select #f-status name="status" {
                        (option("", status, ctx.t(Key::FilterAny)))
                        @for (v, k) in [("open", Key::NeedStatusOpen), ("in_progress", Key::NeedStatusInProgress),
                                        ("delivered", Key::NeedStatusDelivered), ("withdrawn", Key::NeedStatusWithdrawn),
                                        ("merged", Key::NeedStatusMerged)] {
                            (option(v, status, ctx.t(k)))
                        }
                    }
                }
                div {
                    label for="f-funding" { (ctx.t(Key::FilterFunding)) }
                    select #f-funding name="funding" {
                        (option("", fund, ctx.t(Key::FilterAny)))
                        @for (v, k) in [("open", Key::FundingOpen), ("funded", Key::FundingFunded), ("expired", Key::FundingExpired)] {
                            (option(v, fund, ctx.t(k)))
                        }
                    }
                }
                div {
                    label for="f-sort" { (ctx.t(Key::FilterSort)) }
                    select #f-sort name="sort" {
                        @for (v, k) in [("newest", Key::SortNewest), ("percent", Key::SortPercent), ("deadline", Key::SortDeadline)] {
                            (option(v, sort, ctx.t(k)))
                        }
                    }
                }
                div.actions {
                    button type="submit" { (ctx.t(Key::FilterApply)) }
                    a href="/needs" { (ctx.t(Key::FilterReset)) }
                }
            }
            p.count { (i18n::number(ctx.lang, total as u64)) " " (ctx.t(Key::NeedsCount)) }
            @if shown.is_empty() {
                (empty(ctx, Key::NeedsNone))
            } @else {
                ul.cards {
                    @for n in &shown { li { (card(ctx, &views, n)) } }
                }
                @if pages > 1 {
                    nav.pages {
                        @if page > 0 { a rel="prev" href=(link(page - 1)) { (ctx.t(Key::PagePrevious)) } " " }
                        (i18n::number(ctx.lang, page as u64 + 1)) " / " (i18n::number(ctx.lang, pages as u64))
                        @if page + 1 < pages { " " a rel="next" href=(link(page + 1)) { (ctx.t(Key::PageNext)) } }
                    }
                }
            }
        };
        Ok((ctx.t(Key::NeedsTitle).to_owned(), body))
    })
    .await
}

/// A need in a listing.
pub fn card(ctx: &PageCtx, views: &Views<'_>, n: &NeedView) -> Markup {
    html! {
        article.card.need {
            h2 { a href={ "/needs/" (n.id) } { (n.title) } }
            p.badges {
                (badge(ctx, need_status(n.status)))
                (badge(ctx, funding_state(n.funding.state)))
            }
            (progress(ctx, n.funding.percent))
            dl.facts {
                @let goal = goal_text(ctx.lang, n.goal.as_ref(), n.days_goal);
                @if !goal.is_empty() {
                    dt { (ctx.t(Key::NeedGoal)) } dd { (goal) }
                }
                @let pledged = pledged_text(ctx.lang, &n.funding);
                @if !pledged.is_empty() {
                    dt { (ctx.t(Key::NeedPledged)) } dd { (pledged) }
                }
                @if let Some(d) = n.deadline {
                    dt { (ctx.t(Key::NeedDeadline)) } dd { (i18n::day(ctx.lang, d)) }
                }
                @if let Some(p) = &n.project {
                    dt { (ctx.t(Key::NeedProject)) } dd { (record_link(ctx, views, p)) }
                }
                dt { (ctx.t(Key::NeedBy)) }
                dd {
                    (member_link(views, &n.author))
                    @if !n.cosigners.is_empty() {
                        " + " (i18n::number(ctx.lang, n.cosigners.len() as u64)) " "
                        (ctx.t(if n.cosigners.len() == 1 { Key::NeedCosignerShort } else { Key::NeedCosignersShort }))
                    }
                }
            }
            (tags("/needs", &n.tags))
        }
    }
}

/// Pledge groups, in the order shown.
const GROUPS: [(&str, Key); 5] = [
    ("money", Key::ResourceMoney),
    ("dev_days", Key::ResourceDevDays),
    ("hosting", Key::ResourceHosting),
    ("testing", Key::ResourceTesting),
    ("other", Key::ResourceOther),
];

fn group_of(r: &Resource) -> &'static str {
    match r {
        Resource::Money(_) => "money",
        Resource::DevDays { .. } => "dev_days",
        Resource::Hosting { .. } => "hosting",
        Resource::Testing { .. } => "testing",
        _ => "other",
    }
}

/// What `/needs/{id}` shows, gathered from a snapshot, then drawn.
struct NeedPage {
    /// The consultation, once a need has offers.
    consultation: Option<mutu_protocol::view::consult::Consultation>,
    /// The track record of each provider with an offer.
    tracks: std::collections::HashMap<MemberId, mutu_protocol::view::consult::TrackRecord>,
    n: NeedView,
    /// The link to the need's project.
    project: Option<Markup>,
    pledges: Vec<(SignedRecord, funding::Effect)>,
    cosigns: Vec<SignedRecord>,
    offers: Vec<SignedRecord>,
    names: Names,
    /// The goal and the points of the pledge chart.
    chart: Option<(Money, Vec<Point>)>,
    /// Other open needs that look like this one.
    similar: Vec<mutu_protocol::view::Similar>,
    /// Members who use the need's project and are not in its coalition.
    could_join: Vec<MemberId>,
    /// This node's member.
    me: MemberId,
    /// Whether the owner watches this need.
    watched: bool,
    /// Titles of the needs this one points to or that were merged into it.
    titles: std::collections::HashMap<mutu_protocol::record::RecordId, String>,
    now: Timestamp,
}

pub async fn show(extract::State(st): extract::State<WebState>, ctx: PageCtx, Path(id): Path<String>) -> Response {
    render(&st.handle, ctx, move |ctx, s, now| {
        Ok(draw(ctx, gather(ctx, s, now, &id)?))
    })
    .await
}

/// Why a need looks like another, in the reader's language.
pub fn reasons(ctx: &PageCtx, reasons: &[mutu_protocol::view::Reason]) -> String {
    use mutu_protocol::view::Reason;
    reasons
        .iter()
        .map(|r| match r {
            Reason::SameProject => ctx.t(Key::SimilarSameProject).to_owned(),
            Reason::SharedTags { tags } => format!("{} {}", ctx.t(Key::SimilarSharedTags), tags.join(", ")),
            Reason::MatchingWords { words } => format!("{} {}", ctx.t(Key::SimilarWords), words.join(", ")),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// How many similar needs a need page lists.
const SIMILAR_SHOWN: usize = 5;

fn gather(ctx: &PageCtx, s: &state::Snapshot, now: Timestamp, id: &str) -> Result<NeedPage, PageError> {
    let id = s.resolve_kind(id, Kind::Need)?;
    let views = s.views(now);
    let r = views.index().get(&id).ok_or(PageError::NotFound)?;
    let n = views.need(r).ok_or(PageError::NotFound)?;
    let pledges: Vec<(SignedRecord, funding::Effect)> = views
        .pledges_to(&id)
        .into_iter()
        .map(|(r, v)| (r.clone(), v.effect))
        .collect();
    let chart = n.goal.map(|goal| {
        let points: Vec<Point> = pledges
            .iter()
            .filter_map(|(r, _)| match &r.record().body {
                Body::Pledge(p) if funding::counts(p, now) => match &p.resource {
                    Resource::Money(m) if m.currency == goal.currency => Some(Point {
                        at: r.record().created_at,
                        amount_minor: m.amount_minor,
                    }),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        (goal, points)
    });
    let cosigns: Vec<SignedRecord> = views
        .referring(Kind::Cosign, &id)
        .iter()
        .map(|r| (*r).clone())
        .collect();
    let offers: Vec<SignedRecord> = views.referring(Kind::Offer, &id).iter().map(|r| (*r).clone()).collect();
    let could_join = views.could_join(&n);
    let consultation = views.consultation(r).filter(|c| !c.offers.is_empty());
    // Each provider's track record, shown beside its offers.
    let tracks: std::collections::HashMap<MemberId, mutu_protocol::view::consult::TrackRecord> = consultation
        .iter()
        .flat_map(|c| c.offers.iter().map(|o| o.provider))
        .map(|m| (m, views.track_record(&m)))
        .collect();
    let consulted: Vec<mutu_protocol::MemberId> = consultation
        .as_ref()
        .map(|c| c.coalition.members.clone())
        .unwrap_or_default();
    let names = Names::of(
        &views,
        std::iter::once(n.author)
            .chain(consulted)
            .chain(could_join.iter().copied())
            .chain(
                pledges
                    .iter()
                    .map(|(r, _)| r)
                    .chain(&cosigns)
                    .chain(&offers)
                    .map(|r| r.record().author),
            ),
    );
    let project = n.project.as_ref().map(|p| record_link(ctx, &views, p));
    let draft = mutu_protocol::view::Draft {
        title: n.title.clone(),
        description: n.description.clone(),
        project: n.project,
        tags: n.tags.clone(),
    };
    let mut similar = views.similar(&draft, SIMILAR_SHOWN + 1);
    similar.retain(|s| s.need != id);
    similar.truncate(SIMILAR_SHOWN);
    let titles = n
        .merged_into
        .iter()
        .chain(&n.merged_from)
        .filter_map(|m| match views.index().get(m).map(|r| &r.record().body) {
            Some(Body::Need(x)) => Some((*m, x.title.clone())),
            _ => None,
        })
        .collect();
    Ok(NeedPage {
        consultation,
        tracks,
        similar,
        could_join,
        me: s.member_id(),
        watched: crate::web::inbox::watches(ctx, s, &mutu_protocol::inbox::Watch::Need(id)),
        titles,
        n,
        project,
        pledges,
        cosigns,
        offers,
        names,
        chart,
        now,
    })
}

fn draw(ctx: &PageCtx, page: NeedPage) -> (String, Markup) {
    let NeedPage {
        consultation,
        tracks,
        n,
        project,
        pledges,
        cosigns,
        offers,
        names,
        chart,
        similar,
        could_join,
        me,
        watched,
        titles,
        now,
    } = page;
    let mine = n.author == me;
    let title_of = |id: &mutu_protocol::record::RecordId| titles.get(id).cloned().unwrap_or_else(|| id.to_string());
    let csrf = ctx.csrf.as_deref().unwrap_or("");
    let my_pledges: Vec<&SignedRecord> = pledges
        .iter()
        .filter(|(r, _)| {
            r.record().author == me
                && matches!(&r.record().body, Body::Pledge(p) if p.status == mutu_protocol::record::PledgeStatus::Active)
        })
        .map(|(r, _)| r)
        .collect();
    let chart = chart.map(|(goal, points)| chart::pledges(ctx.lang, goal, n.created_at, now, &points));
    let body = html! {
        nav.crumbs { a href="/needs" { (ctx.t(Key::NeedsTitle)) } " › " }
        h1 { (n.title) }
        p.badges {
            (badge(ctx, need_status(n.status)))
            (badge(ctx, funding_state(n.funding.state)))
            " " (crate::web::inbox::button(ctx, watched, "need", &n.id.to_string()))
        }
        p.byline {
            (ctx.t(Key::NeedBy)) " " (names.link(&n.author)) " · "
            (ctx.t(Key::CommonPublished)) " " (i18n::date(ctx.lang, n.created_at))
            @if let Some(p) = &project {
                " · " (ctx.t(Key::NeedProject)) " " (p)
            }
        }
        (tags("/needs", &n.tags))
        @if let Some(into) = &n.merged_into {
            section.merged #merged role="status" {
                p { (ctx.t(Key::NeedMergedInto)) " " a href={ "/needs/" (into) } { (title_of(into)) } }
                @if ctx.signed_in && !my_pledges.is_empty() {
                    p.hint { (ctx.t(Key::NeedMergedMove)) }
                    ul.plain {
                        @for r in &my_pledges {
                            @if let Body::Pledge(p) = &r.record().body {
                                li {
                                    (resource_short(ctx.lang, &p.resource)) " "
                                    form.inline method="post" action={ "/pledges/" (r.id()) "/move" } {
                                        input type="hidden" name=(crate::web::auth::CSRF_FIELD) value=(csrf);
                                        input type="hidden" name="to" value=(into);
                                        button type="submit" { (ctx.t(Key::FormMoveSubmit)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if ctx.signed_in && n.merged_into.is_none() {
            nav.actions aria-label=(ctx.t(Key::NeedActions)) {
                a.button href={ "/needs/" (n.id) "/cosign" } { (ctx.t(Key::FormCosignSubmit)) }
                " " a.button href={ "/needs/" (n.id) "/pledge" } { (ctx.t(Key::FormPledgeSubmit)) }
                " " a.button href={ "/needs/" (n.id) "/offer" } { (ctx.t(Key::FormOfferSubmit)) }
                @if mine {
                    " " a.button href={ "/needs/" (n.id) "/status" } { (ctx.t(Key::FormStatus)) }
                    " " a.button href={ "/needs/" (n.id) "/merge" } { (ctx.t(Key::FormMergeSubmit)) }
                }
            }
        }
        div.columns.wide-left {
            section {
                h2 { (ctx.t(Key::NeedDescription)) }
                div.text { (paragraphs(&n.description)) }
            }
            aside.panel aria-labelledby="funding-h" {
                h2 #funding-h { (ctx.t(Key::NeedFunding)) }
                (progress(ctx, n.funding.percent))
                dl.facts {
                    @let goal = goal_text(ctx.lang, n.goal.as_ref(), n.days_goal);
                    dt { (ctx.t(Key::NeedGoal)) }
                    dd { @if goal.is_empty() { (ctx.t(Key::FundingNoGoal)) } @else { (goal) } }
                    dt { (ctx.t(Key::NeedPledged)) }
                    dd {
                        @let p = pledged_text(ctx.lang, &n.funding);
                        @if p.is_empty() { (ctx.t(Key::CommonNone)) } @else { (p) }
                    }
                    @if let Some(d) = n.deadline {
                        dt { (ctx.t(Key::NeedDeadline)) } dd { (i18n::day(ctx.lang, d)) }
                    }
                    dt { (ctx.t(Key::NeedState)) } dd { (badge(ctx, funding_state(n.funding.state))) }
                }
                p.muted.small { (ctx.t(Key::NeedFundingHelp)) }
            }
        }
        @if let Some(chart) = chart {
            section.chart-box {
                h2 { (ctx.t(Key::NeedChart)) }
                figure { (chart) figcaption.muted { (ctx.t(Key::NeedChartHelp)) } }
            }
        }
        section #cosigners {
            h2 { (ctx.t(Key::NeedCosigners)) " (" (i18n::number(ctx.lang, n.cosigners.len() as u64)) ")" }
            p.muted { (ctx.t(Key::NeedCosignersHelp)) }
            @if cosigns.is_empty() {
                (empty(ctx, Key::NeedNoCosigners))
            } @else {
                ul.plain {
                    @for c in &cosigns {
                        li {
                            (names.link(&c.record().author))
                            @if let Body::Cosign(x) = &c.record().body && !x.note.is_empty() {
                                " — " q { (x.note) }
                            }
                        }
                    }
                }
            }
        }
        section #pledges {
            h2 { (ctx.t(Key::NeedPledges)) " (" (i18n::number(ctx.lang, pledges.len() as u64)) ")" }
            @if pledges.is_empty() {
                (empty(ctx, Key::NeedNoPledges))
            }
            @for (group, key) in GROUPS {
                @let items: Vec<_> = pledges.iter().filter(|(r, _)| matches!(&r.record().body, Body::Pledge(p) if group_of(&p.resource) == group)).collect();
                @if !items.is_empty() {
                    h3 { (ctx.t(key)) }
                    table.list {
                        (column_heads(ctx, &[Key::PledgeMember, Key::PledgeWhat, Key::PledgeCondition, Key::PledgeEffect, Key::PledgeDate]))
                        tbody {
                            @for (r, effect) in items {
                                @if let Body::Pledge(p) = &r.record().body {
                                    tr #{ "r-" (r.id()) } {
                                        td { (names.link(&r.record().author)) }
                                        td { (resource_short(ctx.lang, &p.resource)) }
                                        td {
                                            @if p.condition == Condition::IfGoalReached {
                                                (ctx.t(Key::PledgeIfGoal))
                                            } @else {
                                                (ctx.t(Key::PledgeUnconditional))
                                            }
                                            @if let Some(d) = p.expires_at {
                                                br; span.muted.small { (ctx.t(Key::PledgeExpires)) " " (i18n::day(ctx.lang, d)) }
                                            }
                                        }
                                        td { (badge(ctx, super::effect(*effect))) }
                                        td { (i18n::date(ctx.lang, r.record().created_at)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #offers {
            h2 { (ctx.t(Key::NeedOffers)) " (" (i18n::number(ctx.lang, offers.len() as u64)) ")" }
            @if offers.is_empty() {
                (empty(ctx, Key::NeedNoOffers))
            } @else {
                ul.cards {
                    @for o in &offers {
                        @if let Body::Offer(x) = &o.record().body {
                            li #{ "r-" (o.id()) } {
                                article.card {
                                    h3 { (names.link(&o.record().author)) }
                                    dl.facts {
                                        dt { (ctx.t(Key::OfferPrice)) } dd { (i18n::money(ctx.lang, &x.price)) }
                                        @if let Some(d) = x.days {
                                            dt { (ctx.t(Key::OfferDays)) }
                                            dd { (i18n::number(ctx.lang, u64::from(d))) " " (super::days_word(ctx.lang, d)) }
                                        }
                                        @if let Some(d) = x.valid_until {
                                            dt { (ctx.t(Key::OfferValidUntil)) } dd { (i18n::day(ctx.lang, d)) }
                                        }
                                    }
                                    div.text { (paragraphs(&x.description)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !n.merged_from.is_empty() {
            section #merged-from {
                h2 { (ctx.t(Key::NeedMergedFrom)) }
                ul { @for m in &n.merged_from { li { a href={ "/needs/" (m) } { (title_of(m)) } } } }
            }
        }
        @if let Some(c) = &consultation {
            (super::consult::section(ctx, c, &names, &tracks, me, n.author))
        }
        @if !could_join.is_empty() {
            section #could-join {
                h2 { (ctx.t(Key::NeedCouldJoin)) }
                p.hint { (ctx.t(Key::NeedCouldJoinHint)) }
                ul { @for m in &could_join { li { (names.link(m)) } } }
            }
        }
        @if !similar.is_empty() {
            section #similar {
                h2 { (ctx.t(Key::SimilarOnPage)) }
                ul {
                    @for s in &similar {
                        li {
                            a href={ "/needs/" (s.need) } { (s.title) }
                            " " span.hint { (reasons(ctx, &s.reasons)) }
                            @if mine && ctx.signed_in && n.merged_into.is_none() {
                                " "
                                form.inline method="post" action={ "/needs/" (n.id) "/merge" } {
                                    input type="hidden" name=(crate::web::auth::CSRF_FIELD) value=(csrf);
                                    input type="hidden" name="into" value=(s.need);
                                    button type="submit" { (ctx.t(Key::NeedMergeMine)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.muted.small { (ctx.t(Key::CommonRecordId)) " " code { (n.id) } }
    };
    (n.title.clone(), body)
}

/// Text with blank-line-separated paragraphs.
pub fn paragraphs(text: &str) -> Markup {
    html! {
        @for p in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            p { (p) }
        }
    }
}
