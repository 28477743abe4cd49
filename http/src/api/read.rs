//! Reads: open to anyone who reaches the API's address. Lists come oldest
//! first (members by id) and paginate with `?limit=&cursor=`: a page is
//! `{"items": [...], "next_cursor": "..."}`, and `next_cursor` (null on the
//! last page) fetches the next one. A cursor stays valid when records are
//! added or retracted.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{self, Path};
use mutu_protocol::Timestamp;
use mutu_protocol::identity::MemberId;
use mutu_protocol::money::{self, Currency};
use mutu_protocol::record::{Body, Kind, RecordId, SignedRecord, validate};
use mutu_protocol::view::{Filter, Views, funding};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::Ctx;
use super::error::{ApiError, ErrorBody, Params};
use mutu_node::state;
use mutu_node::{actor, ops};

/// Items per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest `limit`.
pub const MAX_LIMIT: usize = 500;

/// Sort key of a listed item: creation time (ms), then id.
type Key = (u64, String);

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Paging and filters of the list endpoints.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Items per page: 1 to 500, default 50.
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only records with this tag (profiles: sector).
    pub tag: Option<String>,
    /// Only records by this member (id or unique prefix).
    pub author: Option<String>,
}

/// Text search, with the list filters and paging.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words that must all appear (case-insensitive); empty matches all.
    pub q: Option<String>,
    pub tag: Option<String>,
    /// Member id or unique prefix.
    pub author: Option<String>,
    /// A need's status (open, in_progress, delivered, withdrawn) or funding
    /// state (open, funded, expired), or a project's development status.
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// A need about to be written (`GET /needs/similar`).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    pub title: String,
    pub description: Option<String>,
    /// The project (id or unique prefix).
    pub project: Option<String>,
    /// Tags, comma-separated.
    pub tags: Option<String>,
    /// At most this many (1 to 50, default 5).
    pub limit: Option<usize>,
}

/// Registry totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Stats {
    /// Members that have published anything.
    pub members: usize,
    pub projects: usize,
    pub catalogues: usize,
    pub offers: usize,
    pub pledges: usize,
    /// Needs in all, and per funding state.
    pub needs: usize,
    pub needs_by_funding: BTreeMap<String, usize>,
    /// Money counting toward needs now (active, unexpired pledges), per
    /// currency code, in minor units.
    #[schema(value_type = BTreeMap<String, u64>)]
    pub pledged: money::Totals,
    /// Per profile sector: its members and what they published.
    pub by_sector: BTreeMap<String, Totals>,
    /// Per member kind (`association`, `public_body`, …; `unknown` for a
    /// member without a profile): its members and what they published.
    pub by_member_kind: BTreeMap<String, Totals>,
    /// Per currency code: goals and money pledges in it.
    #[schema(value_type = BTreeMap<String, CurrencyTotals>)]
    pub by_currency: BTreeMap<Currency, CurrencyTotals>,
    /// Per month of creation (`YYYY-MM`, UTC): needs and pledges created.
    pub by_month: BTreeMap<String, MonthTotals>,
}

/// What a group of members published.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    pub members: usize,
    pub needs: usize,
    pub pledges: usize,
    /// Money they pledged that counts now, per currency code, in minor units.
    #[schema(value_type = BTreeMap<String, u64>)]
    pub pledged: money::Totals,
}

/// Goals and money pledges in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct CurrencyTotals {
    /// Needs with a money goal in this currency, and the sum of those goals
    /// (minor units).
    pub needs: usize,
    pub goals: u64,
    /// Money pledges in this currency (any status), and the sum of those
    /// that count now (active, unexpired; minor units).
    pub pledges: usize,
    pub pledged: u64,
}

/// Records created in one month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct MonthTotals {
    pub needs: usize,
    pub pledges: usize,
}

/// How many items after which cursor.
#[derive(Debug, Clone)]
struct Paging {
    limit: usize,
    after: Option<Key>,
}

impl Paging {
    fn new(limit: Option<usize>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_field(
                "limit",
                format!("limit: give 1 to {MAX_LIMIT} items per page"),
            ));
        }
        let after = cursor
            .map(|c| {
                c.split_once('.')
                    .and_then(|(t, id)| Some((t.parse::<u64>().ok()?, id.to_owned())))
                    .ok_or_else(|| ApiError::bad_field("cursor", "cursor: give the `next_cursor` of the previous page"))
            })
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// The page of `items` after the cursor.
    /// `key` gets each item with its position in `items`.
    fn page<T: Serialize>(&self, items: Vec<T>, key: impl Fn(usize, &T) -> Key) -> Result<Page, ApiError> {
        let keyed = items.into_iter().enumerate().map(|(i, t)| (key(i, &t), t)).collect();
        self.page_keyed(keyed, Some)
    }

    /// A page of `keyed` items, each made into what the page shows by
    /// `view` only once it is on the page (for views that cost more than
    /// their key).
    fn page_keyed<R, T: Serialize>(
        &self,
        keyed: Vec<(Key, R)>,
        view: impl Fn(R) -> Option<T>,
    ) -> Result<Page, ApiError> {
        let mut keyed: Vec<(Key, R)> = keyed
            .into_iter()
            .filter(|(k, _)| self.after.as_ref().is_none_or(|a| k > a))
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let more = keyed.len() > self.limit;
        keyed.truncate(self.limit);
        let next_cursor = if more {
            keyed.last().map(|((t, id), _)| format!("{t}.{id}"))
        } else {
            None
        };
        let items = keyed
            .into_iter()
            .filter_map(|(_, r)| view(r))
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Page { items, next_cursor })
    }
}

fn key(created_at: Timestamp, id: impl ToString) -> Key {
    (created_at.as_millis(), id.to_string())
}

fn filter(st: &state::Snapshot, tag: Option<String>, author: Option<String>) -> Result<Filter, ApiError> {
    Ok(Filter {
        tag: tag.map(|t| validate::normalize_tag(&t)),
        author: author
            .map(|a| st.resolve_member(&a))
            .transpose()
            .map_err(|e| ops::Error::from_state(e, Some("author")))?,
    })
}

/// Runs `f` on the views (at the current time) with the query's filter and
/// paging.
async fn list(
    ctx: &Ctx,
    q: ListQuery,
    f: impl FnOnce(&Views<'_>, &Filter, &Paging) -> Result<Page, ApiError> + Send + 'static,
) -> Result<Json<Page>, ApiError> {
    let paging = Paging::new(q.limit, q.cursor.as_deref())?;
    let now = state::now();
    let page = ctx
        .handle
        .with_snapshot(move |s| {
            let filter = filter(s, q.tag, q.author)?;
            f(&s.views(now), &filter, &paging)
        })
        .await??;
    Ok(Json(page))
}

/// Needs with cosigners and funding.
#[utoipa::path(get, path = "/api/v1/needs", tag = "read", params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody)))]
pub async fn needs(
    extract::State(ctx): extract::State<Ctx>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    list(&ctx, q, |v, f, p| p.page(v.needs(f), |_, n| key(n.created_at, n.id))).await
}

/// Projects with their users, catalogues, needs, forks and providers.
#[utoipa::path(get, path = "/api/v1/projects", tag = "read", params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody)))]
pub async fn projects(
    extract::State(ctx): extract::State<Ctx>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    list(&ctx, q, |v, f, p| {
        p.page(v.projects(f), |_, x| key(x.record.created_at, x.record.id))
    })
    .await
}

/// Pledges with what each amounts to now (`effect`).
#[utoipa::path(get, path = "/api/v1/pledges", tag = "read", params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody)))]
pub async fn pledges(
    extract::State(ctx): extract::State<Ctx>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    list(&ctx, q, |v, f, p| {
        p.page(v.pledges(f), |_, x| key(x.record.created_at, x.record.id))
    })
    .await
}

/// Offers.
#[utoipa::path(get, path = "/api/v1/offers", tag = "read", params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody)))]
pub async fn offers(
    extract::State(ctx): extract::State<Ctx>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    list(&ctx, q, |v, f, p| {
        p.page(v.records(Kind::Offer, f), |_, x| key(x.created_at, x.id))
    })
    .await
}

/// Catalogues with their federated entries (`via`: the included catalogue
/// an entry comes from).
#[utoipa::path(get, path = "/api/v1/catalogues", tag = "read", params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody)))]
pub async fn catalogues(
    extract::State(ctx): extract::State<Ctx>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    list(&ctx, q, |v, f, p| {
        // Federating is the costly part: only for the catalogues on the page.
        let keyed = v
            .catalogue_records(f)
            .into_iter()
            .map(|r| (key(r.record().created_at, r.id()), r))
            .collect();
        p.page_keyed(keyed, |r| v.catalogue(r))
    })
    .await
}

/// Members: latest profile, who vouches for them, how many records.
#[utoipa::path(get, path = "/api/v1/members", tag = "read", params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody)))]
pub async fn members(
    extract::State(ctx): extract::State<Ctx>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    list(&ctx, q, |v, f, p| p.page(v.members(f), |_, m| (0, m.id.to_string()))).await
}

/// What `/records/{id}` names.
enum Target {
    Record(RecordId),
    Member(MemberId),
}

fn target(st: &state::Snapshot, text: &str) -> Result<Target, ops::Error> {
    if let Ok(m) = text.trim().parse::<MemberId>() {
        return Ok(Target::Member(m));
    }
    match st.resolve(text) {
        Ok(id) => Ok(Target::Record(id)),
        Err(e @ state::Error::UnknownId(_)) => st
            .resolve_member(text)
            .map(Target::Member)
            .map_err(|_| ops::Error::from_state(e, Some("id"))),
        Err(e) => Err(ops::Error::from_state(e, Some("id"))),
    }
}

fn record_json<'a>(views: &Views<'a>, r: &'a SignedRecord) -> Result<Value, serde_json::Error> {
    match r.record().kind {
        Kind::Need => serde_json::to_value(views.need(r)),
        Kind::Pledge => serde_json::to_value(views.pledge(r)),
        Kind::Catalogue => serde_json::to_value(views.catalogue(r)),
        Kind::Project => {
            let mut value = serde_json::to_value(views.project(r))?;
            // What an imported project's publiccode.yml says, read (its
            // text is in `body.publiccode`).
            if let (Body::Project(p), Some(object)) = (&r.record().body, value.as_object_mut())
                && let Some(info) = ops::publiccode::info(&p.publiccode, "en")
            {
                object.insert("publiccode_info".into(), serde_json::to_value(info)?);
            }
            Ok(value)
        }
        _ => serde_json::to_value(mutu_protocol::view::RecordJson::from(r)),
    }
}

fn show(st: &state::Snapshot, text: &str, now: Timestamp) -> Result<Value, ApiError> {
    let views = st.views(now);
    let id = match target(st, text)? {
        Target::Member(m) => {
            let member = views.member(&m);
            if member.records == 0 && member.vouched_by.is_empty() {
                return Err(ops::Error::from(state::Error::UnknownId(m.to_string())).into());
            }
            return serde_json::to_value(member).map_err(|e| ApiError::internal(e.to_string()));
        }
        Target::Record(id) => id,
    };
    let index = views.index();
    let Some(r) = index.get(&id) else {
        let kind = index.get_any(&id).map_or("record", |r| r.record().kind.as_str());
        return Err(ApiError::not_found(format!(
            "{kind} {id} has been retracted by its author"
        )));
    };
    record_json(&views, r).map_err(|e| ApiError::internal(e.to_string()))
}

/// One record (by id or unique prefix) as its view, or a member (by id).
#[utoipa::path(get, path = "/api/v1/records/{id}", tag = "read",
    params(("id" = String, Path, description = "A record id or unique prefix, or a member id")),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn record(extract::State(ctx): extract::State<Ctx>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let now = state::now();
    let value = ctx.handle.with_snapshot(move |s| show(s, &id, now)).await??;
    Ok(Json(value))
}

/// The words a `status` filter matches for a record.
fn statuses(views: &Views<'_>, r: &SignedRecord) -> Vec<String> {
    let word = |v: Result<Value, _>| v.ok().and_then(|v| v.as_str().map(str::to_owned));
    match &r.record().body {
        Body::Need(n) => [
            word(serde_json::to_value(n.status)),
            word(serde_json::to_value(views.funding(&r.id(), n).state)),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Body::Project(p) => word(serde_json::to_value(p.status)).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The open needs most like a need about to be written, best first: a
/// score (0-100) and the reasons (same project, shared tags, matching
/// words, in French and English). Cosign one rather than write it again.
#[utoipa::path(get, path = "/api/v1/needs/similar", tag = "read", params(SimilarQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn similar_needs(
    extract::State(ctx): extract::State<Ctx>,
    Params(q): Params<SimilarQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(crate::control::read::SIMILAR_SHOWN);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::bad_field("limit", "limit: give 1 to 50"));
    }
    let draft = crate::control::DraftNeed {
        title: q.title,
        description: q.description,
        project: q.project,
        tags: q
            .tags
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    };
    let now = state::now();
    let found = ctx
        .handle
        .with_snapshot(move |s| crate::control::read::similar_needs(s, draft, limit, now))
        .await?
        .map_err(|e| ops::Error::from_state(e, Some("project")))?;
    serde_json::to_value(found)
        .map(Json)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Text search over needs, projects, catalogues, offers and members.
#[utoipa::path(get, path = "/api/v1/search", tag = "read", params(SearchQuery),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody)))]
pub async fn search(
    extract::State(ctx): extract::State<Ctx>,
    Params(q): Params<SearchQuery>,
) -> Result<Json<Page>, ApiError> {
    let paging = Paging::new(q.limit, q.cursor.as_deref())?;
    let now = state::now();
    let page = ctx
        .handle
        .with_snapshot(move |s| {
            let filter = filter(s, q.tag, q.author)?;
            let views = s.views(now);
            let mut hits = s.search(q.q.as_deref().unwrap_or(""), &filter);
            if let Some(status) = q.status.as_deref().map(str::trim) {
                hits.retain(|h| {
                    h.id.parse::<RecordId>()
                        .ok()
                        .and_then(|id| views.index().get(&id))
                        .is_some_and(|r| statuses(&views, r).iter().any(|w| w == status))
                });
            }
            // Hits come in search order: key them by rank.
            paging.page(hits, |i, h| (i as u64, h.id.clone()))
        })
        .await??;
    Ok(Json(page))
}

fn stats_of(views: &Views<'_>) -> Stats {
    let all = Filter::default();
    let needs = views.needs(&all);
    let mut needs_by_funding: BTreeMap<String, usize> =
        [funding::State::Open, funding::State::Funded, funding::State::Expired]
            .iter()
            .filter_map(|s| serde_json::to_value(s).ok()?.as_str().map(|w| (w.to_owned(), 0)))
            .collect();
    let mut pledged = money::Totals::new();
    for n in &needs {
        if let Some(w) = serde_json::to_value(n.funding.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
        {
            *needs_by_funding.entry(w).or_default() += 1;
        }
        pledged.add_all(&n.funding.pledged);
    }
    let members = views.members(&all);
    let groups = groups_of(views, &members);
    Stats {
        members: members.len(),
        projects: views.index().of_kind(Kind::Project).len(),
        catalogues: views.index().of_kind(Kind::Catalogue).len(),
        offers: views.index().of_kind(Kind::Offer).len(),
        pledges: views.index().of_kind(Kind::Pledge).len(),
        needs: needs.len(),
        needs_by_funding,
        pledged,
        by_sector: groups.by_sector,
        by_member_kind: groups.by_member_kind,
        by_currency: groups.by_currency,
        by_month: groups.by_month,
    }
}

/// The grouped totals of [`Stats`].
#[derive(Debug, Default)]
struct Groups {
    by_sector: BTreeMap<String, Totals>,
    by_member_kind: BTreeMap<String, Totals>,
    by_currency: BTreeMap<Currency, CurrencyTotals>,
    by_month: BTreeMap<String, MonthTotals>,
}

/// `YYYY-MM` of an instant (UTC).
fn month(t: Timestamp) -> String {
    t.date().to_string().chars().take(7).collect()
}

fn groups_of(views: &Views<'_>, members: &[mutu_protocol::view::MemberView<'_>]) -> Groups {
    let mut g = Groups::default();
    // Each member's groups: its sectors and its kind.
    let mut member_groups: BTreeMap<MemberId, (Vec<String>, String)> = BTreeMap::new();
    for m in members {
        let (sectors, kind) = match m.profile {
            Some(p) => (
                p.sectors.clone(),
                serde_json::to_value(p.member_kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "unknown".into()),
            ),
            None => (Vec::new(), "unknown".into()),
        };
        for s in &sectors {
            g.by_sector.entry(s.clone()).or_default().members += 1;
        }
        g.by_member_kind.entry(kind.clone()).or_default().members += 1;
        member_groups.insert(m.id, (sectors, kind));
    }
    let now = views.now();
    let mut each = |author: &MemberId, f: &dyn Fn(&mut Totals)| {
        if let Some((sectors, kind)) = member_groups.get(author) {
            for s in sectors {
                f(g.by_sector.entry(s.clone()).or_default());
            }
            f(g.by_member_kind.entry(kind.clone()).or_default());
        }
    };
    let index = views.index();
    for r in index.of_kind(Kind::Need) {
        let rec = r.record();
        each(&rec.author, &|t| t.needs += 1);
        if let Body::Need(n) = &rec.body
            && let Some(goal) = n.goal
        {
            let c = g.by_currency.entry(goal.currency).or_default();
            c.needs += 1;
            c.goals = c.goals.saturating_add(goal.amount_minor);
        }
        g.by_month.entry(month(rec.created_at)).or_default().needs += 1;
    }
    for r in index.of_kind(Kind::Pledge) {
        let rec = r.record();
        let Body::Pledge(p) = &rec.body else { continue };
        let counted = match &p.resource {
            mutu_protocol::record::Resource::Money(m) => {
                let counts = funding::counts(p, now);
                let c = g.by_currency.entry(m.currency).or_default();
                c.pledges += 1;
                if counts {
                    c.pledged = c.pledged.saturating_add(m.amount_minor);
                }
                counts.then_some(*m)
            }
            _ => None,
        };
        each(&rec.author, &|t| {
            t.pledges += 1;
            if let Some(m) = counted {
                t.pledged.add(m);
            }
        });
        g.by_month.entry(month(rec.created_at)).or_default().pledges += 1;
    }
    g
}

/// Totals: members, projects, needs by funding state, pledged per currency;
/// then by profile sector, member kind, currency and month of creation.
#[utoipa::path(get, path = "/api/v1/stats", tag = "read", responses((status = 200, body = Stats)))]
pub async fn stats(extract::State(ctx): extract::State<Ctx>) -> Result<Json<Stats>, ApiError> {
    let now = state::now();
    Ok(Json(ctx.handle.with_snapshot(move |s| stats_of(&s.views(now))).await?))
}

/// The node's counters (member, peers, documents, records, sync).
#[utoipa::path(get, path = "/api/v1/status", tag = "read", responses((status = 200, body = Object)))]
pub async fn status(extract::State(ctx): extract::State<Ctx>) -> Result<Json<actor::Status>, ApiError> {
    Ok(Json(ctx.handle.status().await?))
}

/// Connected peers: peer id, address, connected since (ms since 1970).
#[utoipa::path(get, path = "/api/v1/peers", tag = "read",
    params(("limit" = Option<usize>, Query, description = "Items per page: 1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page")),
    responses((status = 200, body = Page), (status = 400, body = ErrorBody)))]
pub async fn peers(
    extract::State(ctx): extract::State<Ctx>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    let paging = Paging::new(q.limit, q.cursor.as_deref())?;
    let peers = ctx.handle.peers().await?;
    Ok(Json(paging.page(peers, |_, p| (0, p.peer_id.clone()))?))
}

/// This node's member.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "read", responses((status = 200, body = Object)))]
pub async fn whoami(extract::State(ctx): extract::State<Ctx>) -> Result<Json<Value>, ApiError> {
    let now = state::now();
    let value = ctx
        .handle
        .with_snapshot(move |s| serde_json::to_value(s.views(now).member(&s.member_id())))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(value))
}
