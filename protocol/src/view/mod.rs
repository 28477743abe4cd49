//! Views: what every node shows, computed from member documents only.
//!
//! Views are deterministic: any node holding the same documents computes the
//! same views at the same `now`. Lists come oldest first (ties by id).
//!
//! - a need's cosigners, pledges, offers and [`funding`] state;
//! - a catalogue's entries: records by its owner or by members *currently*
//!   listed as its editors (revoking an editor removes their entries at once),
//!   then the entries of included catalogues, transitively, breadth first,
//!   each catalogue visited once (cycles cut), at most
//!   [`MAX_FEDERATED`] included catalogues (the nearest); one entry per
//!   project, the nearest catalogue's winning, each with `via` = the
//!   catalogue it comes from (null for the catalogue's own);
//! - a project's users (usage records), catalogues, needs, forks and providers;
//! - a member's profile (its latest) and who vouches for it;
//! - merged needs: a need merged into another points to the **end of its
//!   chain** ([`Views::merge_end`]); concurrent merges on different nodes can
//!   close a cycle that no single node's rules let through, so a cycle is
//!   cut the same way everywhere: its need with the smallest id stands as
//!   the end (not merged), the others point to it. Chains are followed at
//!   most [`MAX_MERGE_CHAIN`] steps.

pub mod consult;
pub mod funding;
mod groups;
mod similar;

pub use similar::{Draft, Reason, Similar, search_terms};
pub mod index;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use serde::Serialize;

pub use index::Index;

use crate::identity::MemberId;
use crate::money::Money;
use crate::record::{Body, EntryStatus, Kind, Need, NeedStatus, Pledge, Profile, RecordId, SignedRecord};
use crate::time::{Date, Timestamp};

/// The fields every record's JSON has, then its body's fields.
#[derive(Debug, Clone, Serialize)]
pub struct RecordJson<'a> {
    pub id: RecordId,
    pub kind: Kind,
    pub author: MemberId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub body: &'a Body,
}

impl<'a> From<&'a SignedRecord> for RecordJson<'a> {
    fn from(r: &'a SignedRecord) -> Self {
        let rec = r.record();
        Self {
            id: rec.id,
            kind: rec.kind,
            author: rec.author,
            created_at: rec.created_at,
            updated_at: rec.updated_at,
            body: &rec.body,
        }
    }
}

/// A need with its cosigners and funding.
#[derive(Debug, Clone, Serialize)]
pub struct NeedView {
    pub id: RecordId,
    pub kind: Kind,
    pub author: MemberId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub title: String,
    pub description: String,
    pub status: NeedStatus,
    pub tags: Vec<String>,
    pub project: Option<RecordId>,
    pub goal: Option<Money>,
    pub days_goal: Option<u32>,
    pub deadline: Option<Date>,
    /// Where the need went, if merged: the end of its merge chain.
    pub merged_into: Option<RecordId>,
    /// Needs merged directly into this one.
    pub merged_from: Vec<RecordId>,
    pub cosigners: Vec<MemberId>,
    pub funding: funding::Funding,
    pub pledges: Vec<RecordId>,
    pub offers: Vec<RecordId>,
}

/// A pledge and what it amounts to now.
#[derive(Debug, Clone, Serialize)]
pub struct PledgeView<'a> {
    #[serde(flatten)]
    pub record: RecordJson<'a>,
    pub effect: funding::Effect,
}

/// One entry of a (federated) catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryView {
    pub project: RecordId,
    pub status: EntryStatus,
    pub note: String,
    /// Who wrote the entry (the owner or an editor).
    pub by: MemberId,
    /// The included catalogue it comes from, or `None` for the catalogue's own.
    pub via: Option<RecordId>,
    pub entry: RecordId,
}

/// A catalogue with its federated entries.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueView<'a> {
    #[serde(flatten)]
    pub record: RecordJson<'a>,
    pub entries: Vec<EntryView>,
}

/// A project with who uses, lists, needs and forks it.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectView<'a> {
    #[serde(flatten)]
    pub record: RecordJson<'a>,
    pub users: Vec<MemberId>,
    pub catalogues: Vec<RecordId>,
    pub needs: Vec<RecordId>,
    pub forks: Vec<RecordId>,
    /// Members who made offers on needs about this project.
    pub providers: Vec<MemberId>,
}

/// A member: its latest profile and who vouches for it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView<'a> {
    pub id: MemberId,
    pub kind: &'static str,
    pub author: MemberId,
    pub profile: Option<&'a Profile>,
    pub vouched_by: Vec<MemberId>,
    pub records: usize,
}

/// A search hit.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub kind: &'static str,
    pub author: MemberId,
    pub title: String,
}

/// At most this many included catalogues (the nearest, breadth first)
/// federate into one catalogue. Without a bound, a chain of n catalogues
/// each including the next costs n²/2 visits to list, and one member can
/// publish such a chain cheaply.
pub const MAX_FEDERATED: usize = 64;

/// At most this many merge links are followed from one need
/// ([`Views::merge_chain`]), so a long chain costs a bounded walk.
pub const MAX_MERGE_CHAIN: usize = 64;

/// Filters of the listing views.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tag: Option<String>,
    pub author: Option<MemberId>,
}

impl Filter {
    /// Whether `r` passes the filter.
    pub fn keeps(&self, r: &SignedRecord) -> bool {
        self.author.is_none_or(|a| r.record().author == a)
            && self.tag.as_ref().is_none_or(|t| tags_of(&r.record().body).contains(t))
    }
}

fn tags_of(body: &Body) -> &[String] {
    match body {
        Body::Need(n) => &n.tags,
        Body::Project(p) => &p.tags,
        Body::Profile(p) => &p.sectors,
        _ => &[],
    }
}

/// Views over an index at one instant. What records refer to what is kept
/// by the index (`groups`), so building views costs nothing and each view
/// is a lookup.
#[derive(Debug)]
pub struct Views<'a> {
    index: &'a Index,
    now: Timestamp,
    /// Each visible catalogue's own entries ([`Views::own_entries`]),
    /// computed once, the first time a catalogue is looked at.
    own: OnceCell<HashMap<RecordId, Vec<&'a SignedRecord>>>,
}

impl<'a> Views<'a> {
    pub fn new(index: &'a Index, now: Timestamp) -> Self {
        Self {
            index,
            now,
            own: OnceCell::new(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn index(&self) -> &'a Index {
        self.index
    }

    /// Visible records of `kind` that refer to `target`, oldest first.
    pub fn referring(&self, kind: Kind, target: &RecordId) -> Vec<&'a SignedRecord> {
        let index = self.index;
        index
            .groups()
            .by_target
            .get(&(kind, *target))
            .into_iter()
            .flatten()
            .filter_map(|(_, id)| index.get_any(id))
            .collect()
    }

    /// A member's profile: the last updated of its visible profiles.
    fn profile_record(&self, member: &MemberId) -> Option<&'a SignedRecord> {
        let index = self.index;
        let (_, id) = index.groups().profiles.get(member)?.last()?;
        index.get_any(id)
    }

    fn pledges_of(&self, need: &RecordId) -> Vec<&'a Pledge> {
        self.referring(Kind::Pledge, need)
            .iter()
            .filter_map(|r| match &r.record().body {
                Body::Pledge(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    /// Funding of a need.
    pub fn funding(&self, need_id: &RecordId, need: &Need) -> funding::Funding {
        funding::evaluate(need, self.pledges_of(need_id), self.now)
    }

    pub fn need(&self, r: &SignedRecord) -> Option<NeedView> {
        let rec = r.record();
        let Body::Need(n) = &rec.body else { return None };
        let cosigners: BTreeSet<MemberId> = self
            .referring(Kind::Cosign, &rec.id)
            .iter()
            .map(|c| c.record().author)
            .collect();
        Some(NeedView {
            id: rec.id,
            kind: rec.kind,
            author: rec.author,
            created_at: rec.created_at,
            updated_at: rec.updated_at,
            title: n.title.clone(),
            description: n.description.clone(),
            status: n.status,
            tags: n.tags.clone(),
            project: n.project,
            goal: n.goal,
            days_goal: n.days_goal,
            deadline: n.deadline,
            merged_into: self.merge_end(&rec.id),
            merged_from: self
                .referring(Kind::Need, &rec.id)
                .iter()
                .filter(|m| matches!(&m.record().body, Body::Need(o) if o.merged_into == Some(rec.id)))
                .map(|m| m.id())
                .collect(),
            cosigners: cosigners.into_iter().collect(),
            funding: self.funding(&rec.id, n),
            pledges: self.referring(Kind::Pledge, &rec.id).iter().map(|p| p.id()).collect(),
            offers: self.referring(Kind::Offer, &rec.id).iter().map(|p| p.id()).collect(),
        })
    }

    /// The needs from `need` along merge links: `need` first, then each
    /// need it went into, up to one that is not merged, one not known here
    /// (included: it is where the chain points), a need met before (a
    /// cycle: the chain stops before repeating it) or [`MAX_MERGE_CHAIN`]
    /// links.
    pub fn merge_chain(&self, need: &RecordId) -> Vec<RecordId> {
        self.walk_merges(need).0
    }

    /// The chain and, if it closes a cycle, the index in the chain where
    /// the cycle starts.
    fn walk_merges(&self, need: &RecordId) -> (Vec<RecordId>, Option<usize>) {
        let mut chain = vec![*need];
        let mut at = *need;
        while chain.len() <= MAX_MERGE_CHAIN {
            let next = match self.index.get(&at).map(|r| &r.record().body) {
                Some(Body::Need(n)) if n.status == NeedStatus::Merged => n.merged_into,
                _ => None,
            };
            let Some(next) = next else { break };
            if let Some(start) = chain.iter().position(|c| *c == next) {
                return (chain, Some(start));
            }
            chain.push(next);
            at = next;
        }
        (chain, None)
    }

    /// Where a merged need went: the end of its chain, or `None` when the
    /// need is not merged or stands as the end of a merge cycle (the
    /// cycle's smallest id).
    pub fn merge_end(&self, need: &RecordId) -> Option<RecordId> {
        let (chain, cycle) = self.walk_merges(need);
        let end = match cycle {
            Some(start) => chain[start..].iter().min().copied(),
            None => chain.last().copied(),
        };
        end.filter(|e| e != need)
    }

    pub fn needs(&self, filter: &Filter) -> Vec<NeedView> {
        self.index
            .of_kind(Kind::Need)
            .into_iter()
            .filter(|r| filter.keeps(r))
            .filter_map(|r| self.need(r))
            .collect()
    }

    pub fn pledge(&self, r: &'a SignedRecord) -> Option<PledgeView<'a>> {
        self.pledge_with(r, &mut HashMap::new())
    }

    /// A pledge's view, with the funding state of each need evaluated once
    /// across calls sharing `states` (a need's funding sums all its pledges:
    /// evaluating it per pledge is quadratic in the pledges of a need).
    fn pledge_with(
        &self,
        r: &'a SignedRecord,
        states: &mut HashMap<RecordId, funding::State>,
    ) -> Option<PledgeView<'a>> {
        let Body::Pledge(p) = &r.record().body else { return None };
        let state = *states
            .entry(p.need)
            .or_insert_with(|| match self.index.get(&p.need).map(|n| &n.record().body) {
                Some(Body::Need(n)) => self.funding(&p.need, n).state,
                _ => funding::State::Open,
            });
        Some(PledgeView {
            record: r.into(),
            effect: funding::effect(p, state, self.now),
        })
    }

    pub fn pledges(&self, filter: &Filter) -> Vec<PledgeView<'a>> {
        let mut states = HashMap::new();
        self.index
            .of_kind(Kind::Pledge)
            .into_iter()
            .filter(|r| filter.keeps(r))
            .filter_map(|r| self.pledge_with(r, &mut states))
            .collect()
    }

    /// The pledges to `need`, oldest first, each with its view.
    pub fn pledges_to(&self, need: &RecordId) -> Vec<(&'a SignedRecord, PledgeView<'a>)> {
        let mut states = HashMap::new();
        self.referring(Kind::Pledge, need)
            .iter()
            .filter_map(|r| self.pledge_with(r, &mut states).map(|v| (*r, v)))
            .collect()
    }

    pub fn records(&self, kind: Kind, filter: &Filter) -> Vec<RecordJson<'a>> {
        self.index
            .of_kind(kind)
            .into_iter()
            .filter(|r| filter.keeps(r))
            .map(RecordJson::from)
            .collect()
    }

    /// The catalogue's editors right now (its owner excluded).
    fn editors(&self, catalogue: &SignedRecord) -> Vec<MemberId> {
        match &catalogue.record().body {
            Body::Catalogue(c) => c.editors.clone(),
            _ => Vec::new(),
        }
    }

    /// Entries written into `catalogue` by its owner or a current editor,
    /// the latest per project, oldest first.
    fn own_entries(&self, catalogue: &SignedRecord) -> Cow<'_, [&'a SignedRecord]> {
        let own = self.own.get_or_init(|| {
            self.index
                .visible()
                .filter(|r| r.record().kind == Kind::Catalogue)
                .map(|c| (c.id(), self.find_own_entries(c)))
                .collect()
        });
        match own.get(&catalogue.id()) {
            Some(entries) => Cow::Borrowed(entries),
            // Not a visible catalogue: nothing to share, work it out.
            None => Cow::Owned(self.find_own_entries(catalogue)),
        }
    }

    fn find_own_entries(&self, catalogue: &SignedRecord) -> Vec<&'a SignedRecord> {
        let owner = catalogue.record().author;
        let editors = self.editors(catalogue);
        let mut entries: Vec<&SignedRecord> = self
            .referring(Kind::CatalogueEntry, &catalogue.id())
            .iter()
            .copied()
            .filter(|e| {
                let a = e.record().author;
                a == owner || editors.contains(&a)
            })
            .filter(|e| matches!(&e.record().body, Body::CatalogueEntry(x) if x.catalogue == catalogue.id()))
            .collect();
        // Latest entry per project wins within one catalogue.
        entries.sort_by_key(|e| std::cmp::Reverse((e.record().updated_at, e.id())));
        let mut seen = HashSet::new();
        entries.retain(|e| match &e.record().body {
            Body::CatalogueEntry(x) => seen.insert(x.project),
            _ => false,
        });
        entries.reverse();
        entries
    }

    pub fn catalogue(&self, r: &'a SignedRecord) -> Option<CatalogueView<'a>> {
        if r.record().kind != Kind::Catalogue {
            return None;
        }
        let mut entries = Vec::new();
        self.federate(r, |e, x, via| {
            entries.push(EntryView {
                project: x.project,
                status: x.status,
                note: x.note.clone(),
                by: e.record().author,
                via,
                entry: e.id(),
            });
        });
        Some(CatalogueView {
            record: r.into(),
            entries,
        })
    }

    /// How many entries [`Views::catalogue`] gives `r` (without building them).
    pub fn catalogue_len(&self, r: &'a SignedRecord) -> usize {
        let mut n = 0;
        self.federate(r, |_, _, _| n += 1);
        n
    }

    /// Calls `f` with each entry of catalogue `r`, federated (see the
    /// module's documentation), in order, and where it comes from.
    fn federate(
        &self,
        r: &'a SignedRecord,
        mut f: impl FnMut(&'a SignedRecord, &'a crate::record::CatalogueEntry, Option<RecordId>),
    ) {
        if r.record().kind != Kind::Catalogue {
            return;
        }
        let mut queue = VecDeque::from([(r, None::<RecordId>)]);
        let mut visited = HashSet::from([r.id()]);
        let mut projects = HashSet::new();
        while let Some((cat, via)) = queue.pop_front() {
            for e in self.own_entries(cat).iter().copied() {
                let Body::CatalogueEntry(x) = &e.record().body else {
                    continue;
                };
                let is_project = self
                    .index
                    .get(&x.project)
                    .is_some_and(|p| p.record().kind == Kind::Project);
                if !is_project || !projects.insert(x.project) {
                    continue;
                }
                f(e, x, via);
            }
            if let Body::Catalogue(c) = &cat.record().body {
                for inc in &c.includes {
                    if visited.len() > MAX_FEDERATED {
                        break;
                    }
                    if let Some(child) = self.index.get(inc).filter(|c| c.record().kind == Kind::Catalogue)
                        && visited.insert(*inc)
                    {
                        queue.push_back((child, Some(*inc)));
                    }
                }
            }
        }
    }

    pub fn catalogues(&self, filter: &Filter) -> Vec<CatalogueView<'a>> {
        self.catalogue_records(filter)
            .into_iter()
            .filter_map(|r| self.catalogue(r))
            .collect()
    }

    /// The catalogues [`Views::catalogues`] lists, without their entries.
    pub fn catalogue_records(&self, filter: &Filter) -> Vec<&'a SignedRecord> {
        self.index
            .of_kind(Kind::Catalogue)
            .into_iter()
            .filter(|r| filter.keeps(r))
            .collect()
    }

    /// Who else could join a need's coalition: the members who declared
    /// they use its project (signed usage records) and are not in it yet
    /// (neither its author, a cosigner, nor a pledger). Sorted by id.
    pub fn could_join(&self, need: &NeedView) -> Vec<MemberId> {
        let Some(project) = need.project else { return Vec::new() };
        let mut inside: BTreeSet<MemberId> = need.cosigners.iter().copied().collect();
        inside.insert(need.author);
        inside.extend(self.referring(Kind::Pledge, &need.id).iter().map(|p| p.record().author));
        let users: BTreeSet<MemberId> = self
            .referring(Kind::Usage, &project)
            .iter()
            .map(|u| u.record().author)
            .filter(|m| !inside.contains(m))
            .collect();
        users.into_iter().collect()
    }

    pub fn project(&self, r: &'a SignedRecord) -> Option<ProjectView<'a>> {
        if r.record().kind != Kind::Project {
            return None;
        }
        let id = r.id();
        let users: BTreeSet<MemberId> = self
            .referring(Kind::Usage, &id)
            .iter()
            .map(|u| u.record().author)
            .collect();
        let needs: Vec<RecordId> = self.referring(Kind::Need, &id).iter().map(|n| n.id()).collect();
        let providers: BTreeSet<MemberId> = needs
            .iter()
            .flat_map(|n| self.referring(Kind::Offer, n))
            .map(|o| o.record().author)
            .collect();
        // The catalogues listing it as their own entry: those of its entries
        // that are their catalogue's own (no federation needed).
        let catalogues: BTreeSet<RecordId> = self
            .referring(Kind::CatalogueEntry, &id)
            .iter()
            .filter_map(|e| match &e.record().body {
                Body::CatalogueEntry(x) if x.project == id => Some(x.catalogue),
                _ => None,
            })
            .filter(|c| {
                self.index.get(c).is_some_and(|cat| {
                    cat.record().kind == Kind::Catalogue
                        && self
                            .own_entries(cat)
                            .iter()
                            .any(|e| matches!(&e.record().body, Body::CatalogueEntry(x) if x.project == id))
                })
            })
            .collect();
        Some(ProjectView {
            record: r.into(),
            users: users.into_iter().collect(),
            catalogues: catalogues.into_iter().collect(),
            needs,
            forks: self.referring(Kind::Project, &id).iter().map(|p| p.id()).collect(),
            providers: providers.into_iter().collect(),
        })
    }

    pub fn projects(&self, filter: &Filter) -> Vec<ProjectView<'a>> {
        self.index
            .of_kind(Kind::Project)
            .into_iter()
            .filter(|r| filter.keeps(r))
            .filter_map(|r| self.project(r))
            .collect()
    }

    pub fn member(&self, id: &MemberId) -> MemberView<'a> {
        let profile = self.profile_record(id).and_then(|p| match &p.record().body {
            Body::Profile(p) => Some(p),
            _ => None,
        });
        MemberView {
            id: *id,
            kind: "member",
            author: *id,
            profile,
            vouched_by: self
                .index
                .groups()
                .vouches
                .get(id)
                .map(|v| v.keys().copied().collect())
                .unwrap_or_default(),
            records: self.index.groups().per_member.get(id).copied().unwrap_or(0),
        }
    }

    /// Members who have published anything, ordered by id.
    pub fn members(&self, filter: &Filter) -> Vec<MemberView<'a>> {
        let mut ids: Vec<MemberId> = self.index.groups().per_member.keys().copied().collect();
        ids.sort();
        ids.into_iter()
            .filter(|m| filter.author.is_none_or(|a| a == *m))
            .filter(|m| {
                filter.tag.as_ref().is_none_or(|t| {
                    self.profile_record(m)
                        .is_some_and(|p| tags_of(&p.record().body).contains(t))
                })
            })
            .map(|m| self.member(&m))
            .collect()
    }

    /// Case-insensitive text search over needs, projects, catalogues, offers
    /// and member profiles (titles, names, descriptions, tags, notes): every
    /// word must be in the record's text ([`searchable`]), oldest first.
    /// A scan of every visible record: the reference the node's full-text
    /// index (`mutu_node::search`) is tested against, and what lists by
    /// tag alone use.
    pub fn search(&self, text: &str, filter: &Filter) -> Vec<Hit> {
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        let matches = |hay: &str| {
            let hay = hay.to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        };
        let mut hits: Vec<(Timestamp, Hit)> = self
            .index
            .visible()
            .filter(|r| filter.keeps(r))
            .filter_map(|r| searchable(r).map(|s| (r, s)))
            .filter(|(_, s)| matches(&s.text))
            .map(|(r, s)| (r.record().created_at, s.hit))
            .collect();
        hits.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        hits.into_iter().map(|(_, h)| h).collect()
    }
}

/// What text search sees of a record: the hit it gives and the text it is
/// found by. `None` for kinds that are not searched (pledges, usages…).
#[derive(Debug, Clone)]
pub struct Searchable<'r> {
    pub hit: Hit,
    /// Title, description, tags (and for a project its whole publiccode.yml).
    pub text: String,
    /// What a tag filter compares with ([`Filter::tag`]).
    pub tags: &'r [String],
}

/// The searchable part of a visible record (see [`Searchable`]).
pub fn searchable(r: &SignedRecord) -> Option<Searchable<'_>> {
    let rec = r.record();
    let (title, text) = match &rec.body {
        Body::Need(n) => (
            n.title.clone(),
            format!("{} {} {}", n.title, n.description, n.tags.join(" ")),
        ),
        // An imported project's publiccode.yml is searched whole
        // (descriptions in every language, features, platforms…).
        Body::Project(p) => (
            p.name.clone(),
            format!(
                "{} {} {} {} {}",
                p.name,
                p.description,
                p.tags.join(" "),
                p.license,
                p.publiccode
            ),
        ),
        Body::Catalogue(c) => (c.title.clone(), format!("{} {}", c.title, c.description)),
        Body::Offer(o) => (o.description.chars().take(80).collect(), o.description.clone()),
        Body::Profile(p) => (
            p.name.clone(),
            format!("{} {} {}", p.name, p.description, p.sectors.join(" ")),
        ),
        _ => return None,
    };
    let (id, kind) = match rec.kind {
        Kind::Profile => (rec.author.to_string(), "member"),
        k => (rec.id.to_string(), k.as_str()),
    };
    Some(Searchable {
        hit: Hit {
            id,
            kind,
            author: rec.author,
            title,
        },
        text,
        tags: tags_of(&rec.body),
    })
}

#[cfg(test)]
mod tests;
