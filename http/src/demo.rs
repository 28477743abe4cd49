//! `mutu demo`: three nodes in one process (an association, a public body, a
//! provider), each on its own home, synced over 127.0.0.1 TCP, loaded with
//! the sample registry that ships with mutu (`node/data/sample-registry.json`).
//!
//! The sample is a list of members (their profiles) and of steps. A step is
//! one write by one member, in the very request format of [`mutu_node::ops`] (the
//! HTTP API's), applied on that member's node through
//! `handle.apply(op, at)`:
//!
//! ```json
//! {"by": "asso", "as": "need-sepa", "at": -60, "op": "need",
//!  "with": {"title": "…", "project": "@paheko", "goal": "6000EUR", "deadline": "now+120d"}}
//! ```
//!
//! - `as` names the record made, for later steps: `"@need-sepa"` in a string
//!   becomes its id; `"@asso"` (a member's key) becomes the member's id;
//! - `at` is the day of the write, relative to now (≤ 0): the sample has a
//!   history of a few months;
//! - `"now+Nd"` in a string becomes the date N days after now, so deadlines
//!   and expiry dates are always ahead.
//!
//! Before each step its author's node waits until it holds every record the
//! earlier steps wrote (at their latest version), so references resolve and
//! the rules (e.g. only a catalogue's editors add entries) see what they must.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mutu_protocol::record::{Profile, RecordId, SignedRecord};
use mutu_protocol::time::MS_PER_DAY;
use mutu_protocol::view::Index;
use mutu_protocol::{MemberId, Timestamp};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::runtime::{self, Running};
use mutu_node::actor::{self, Handle};
use mutu_node::home::Home;
use mutu_node::ops;
use mutu_node::state::{self, State};

/// The sample registry, as shipped.
pub const SAMPLE_JSON: &str = include_str!("../data/sample-registry.json");
/// What [`Sample::format`] must say.
pub const SAMPLE_FORMAT: &str = "mutu-sample";
/// How often waits poll.
const POLL: Duration = Duration::from_millis(50);

/// Errors of the demo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("the sample registry is broken: {0}")]
    Sample(String),
    #[error("sample step {step} (`{op}` by {by}): {source}")]
    Step {
        step: usize,
        op: String,
        by: String,
        source: Box<ops::Error>,
    },
    #[error(transparent)]
    State(#[from] state::Error),
    #[error(transparent)]
    Runtime(#[from] runtime::Error),
    #[error(transparent)]
    Node(#[from] actor::Error),
    #[error("timed out after {secs} s waiting for {what}")]
    Timeout { what: String, secs: u64 },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// A member of the sample: its key (its home's directory name) and profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub key: String,
    pub profile: Profile,
}

/// One write of the sample.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The member's key.
    pub by: String,
    /// A name for the record made, for later `@name` references.
    #[serde(default, rename = "as")]
    pub name: Option<String>,
    /// Day of the write relative to now (0 or less).
    #[serde(default)]
    pub at: i64,
    /// `project`, `usage`, `need`, `cosign`, `need_status`, `pledge`,
    /// `withdraw_pledge`, `offer`, `catalogue`, `catalogue_entry`,
    /// `catalogue_include`, `catalogue_editor`, `vouch`, `follow`, `moderation_follow`, `moderation_list` or `retract`.
    pub op: String,
    /// The request, as [`mutu_node::ops`] takes it.
    #[serde(default)]
    pub with: Value,
}

/// The sample registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    pub format: String,
    pub version: u32,
    pub members: Vec<Member>,
    pub steps: Vec<Step>,
}

impl Sample {
    /// The shipped sample, checked for consistency.
    pub fn shipped() -> Result<Self, Error> {
        Self::parse(SAMPLE_JSON)
    }

    pub fn parse(text: &str) -> Result<Self, Error> {
        let s: Sample = serde_json::from_str(text).map_err(|e| Error::Sample(e.to_string()))?;
        if s.format != SAMPLE_FORMAT || s.version != 1 {
            return Err(Error::Sample(format!("format `{}` version {}", s.format, s.version)));
        }
        let mut names: HashSet<&str> = HashSet::new();
        for m in &s.members {
            if !names.insert(&m.key) {
                return Err(Error::Sample(format!("member `{}` is given twice", m.key)));
            }
        }
        for (i, step) in s.steps.iter().enumerate() {
            if !s.members.iter().any(|m| m.key == step.by) {
                return Err(Error::Sample(format!("step {i}: no member `{}`", step.by)));
            }
            if step.at > 0 {
                return Err(Error::Sample(format!("step {i}: `at` must be 0 or less")));
            }
            if let Some(n) = &step.name
                && !names.insert(n)
            {
                return Err(Error::Sample(format!("step {i}: the name `{n}` is taken")));
            }
        }
        Ok(s)
    }

    /// How many valid records (tombstones included) the sample leaves on
    /// every node: one per member profile and one per step, except the steps
    /// that edit a record, which keep its id.
    pub fn records(&self) -> usize {
        let edits = self.steps.iter().filter(|s| EDIT_OPS.contains(&s.op.as_str())).count();
        self.members.len() + self.steps.len() - edits
    }
}

/// A write ready to run on its author's node: the operation and its time.
type Write = (ops::Request, Timestamp);

fn prepared<T: DeserializeOwned + Into<ops::Request>>(with: Value, at: Timestamp) -> Result<Write, String> {
    let op: T = serde_json::from_value(with).map_err(|e| e.to_string())?;
    Ok((op.into(), at))
}

/// The record a write made or edited: it was admitted, so the index holds it.
fn written(index: &Index, id: RecordId) -> Result<SignedRecord, ops::Error> {
    index
        .get_any(&id)
        .cloned()
        .ok_or_else(|| ops::Error::NotFound(format!("{id} is not in the index after its write")))
}

/// The ops of [`build`] that edit an existing record instead of making one.
const EDIT_OPS: [&str; 5] = [
    "need_status",
    "fulfil_pledge",
    "withdraw_pledge",
    "catalogue_include",
    "catalogue_editor",
];

fn build(op: &str, with: Value, at: Timestamp) -> Result<Write, String> {
    match op {
        "project" => prepared::<ops::NewProject>(with, at),
        "usage" => prepared::<ops::NewUsage>(with, at),
        "need" => prepared::<ops::NewNeed>(with, at),
        "cosign" => prepared::<ops::CosignNeed>(with, at),
        "need_status" => prepared::<ops::SetNeedStatus>(with, at),
        "pledge" => prepared::<ops::NewPledge>(with, at),
        "withdraw_pledge" => prepared::<ops::WithdrawPledge>(with, at),
        "offer" => prepared::<ops::NewOffer>(with, at),
        "catalogue" => prepared::<ops::NewCatalogue>(with, at),
        "catalogue_entry" => prepared::<ops::CatalogueEntry>(with, at),
        "catalogue_include" => prepared::<ops::CatalogueInclude>(with, at),
        "catalogue_editor" => prepared::<ops::CatalogueEditor>(with, at),
        "vouch" => prepared::<ops::VouchFor>(with, at),
        "follow" => prepared::<ops::Follow>(with, at),
        "moderation_follow" => prepared::<ops::ModerationFollow>(with, at),
        "moderation_list" => prepared::<ops::NewModerationList>(with, at),
        "retract" => prepared::<ops::Retract>(with, at),
        "approve_offer" => prepared::<ops::ApproveOffer>(with, at),
        "award_offer" => prepared::<ops::AwardOffer>(with, at),
        "delivery" => prepared::<ops::NewDelivery>(with, at),
        "judge_delivery" => prepared::<ops::JudgeDelivery>(with, at),
        "fulfil_pledge" => prepared::<ops::FulfilPledge>(with, at),
        "confirm_receipt" => prepared::<ops::ConfirmReceipt>(with, at),
        other => Err(format!("unknown op `{other}`")),
    }
}

/// Records written so far, each at its latest version.
type Written = Arc<Vec<SignedRecord>>;

/// Whether `st` holds every record of `written`, at that very version (only
/// its author edits a record, so a node converges to the author's latest).
fn holds(index: &Index, written: &[SignedRecord]) -> bool {
    written.iter().all(|w| index.get_any(&w.id()).is_some_and(|r| r == w))
}

/// Walks the sample's steps: substitutes references and dates, builds the
/// writes, and remembers what they made.
#[derive(Debug)]
struct Loader<'a> {
    sample: &'a Sample,
    now: Timestamp,
    /// `@name` → id text (members and named records).
    names: HashMap<String, String>,
    written: Vec<SignedRecord>,
}

impl<'a> Loader<'a> {
    fn new(sample: &'a Sample, members: &[MemberId], now: Timestamp) -> Self {
        let names = sample
            .members
            .iter()
            .zip(members)
            .map(|(m, id)| (m.key.clone(), id.to_string()))
            .collect();
        Self {
            sample,
            now,
            names,
            written: Vec::new(),
        }
    }

    fn substitute(&self, v: Value) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => {
                if let Some(name) = s.strip_prefix('@') {
                    let id = self
                        .names
                        .get(name)
                        .ok_or_else(|| format!("nothing is named `{name}`"))?;
                    Value::String(id.clone())
                } else if let Some(days) = s.strip_prefix("now+").and_then(|d| d.strip_suffix('d')) {
                    let days: u64 = days.parse().map_err(|_| format!("`{s}`: write now+Nd"))?;
                    let t = self.now.saturating_add_millis(days.saturating_mul(MS_PER_DAY));
                    Value::String(t.date().to_string())
                } else {
                    Value::String(s)
                }
            }
            Value::Array(a) => Value::Array(a.into_iter().map(|x| self.substitute(x)).collect::<Result<_, _>>()?),
            Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, x)| Ok((k, self.substitute(x)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other,
        })
    }

    /// Step `i`: the index of its author and its write.
    fn prepare(&self, i: usize) -> Result<(usize, Write), Error> {
        let step = &self.sample.steps[i];
        let by = self
            .sample
            .members
            .iter()
            .position(|m| m.key == step.by)
            .ok_or_else(|| Error::Sample(format!("step {i}: no member `{}`", step.by)))?;
        // Steps of one day keep their order: one millisecond apart, the last at `now`.
        let back = step.at.unsigned_abs().saturating_mul(MS_PER_DAY) + (self.sample.steps.len() - i) as u64;
        let at = Timestamp::from_millis(self.now.as_millis().saturating_sub(back));
        let with = self
            .substitute(step.with.clone())
            .map_err(|e| Error::Sample(format!("step {i}: {e}")))?;
        let write = build(&step.op, with, at).map_err(|e| Error::Sample(format!("step {i} (`{}`): {e}", step.op)))?;
        Ok((by, write))
    }

    fn done(&mut self, i: usize, result: Result<SignedRecord, ops::Error>) -> Result<(), Error> {
        let step = &self.sample.steps[i];
        let record = result.map_err(|source| Error::Step {
            step: i,
            op: step.op.clone(),
            by: step.by.clone(),
            source: Box::new(source),
        })?;
        let id = record.id();
        if let Some(name) = &step.name {
            self.names.insert(name.clone(), id.to_string());
        }
        self.written.retain(|w| w.id() != id);
        self.written.push(record);
        Ok(())
    }
}

/// Loads the sample into states held here, one per member in the sample's
/// order, passing every write's changes to the other states at once (no
/// network). Returns the number of steps run.
pub fn load_offline(sample: &Sample, states: &mut [State], now: Timestamp) -> Result<usize, Error> {
    if states.len() != sample.members.len() {
        return Err(Error::Sample(format!(
            "{} states for {} members",
            states.len(),
            sample.members.len()
        )));
    }
    let members: Vec<MemberId> = states.iter().map(State::member_id).collect();
    let mut loader = Loader::new(sample, &members, now);
    for i in 0..sample.steps.len() {
        let (by, (request, at)) = loader.prepare(i)?;
        let result = request
            .apply(&mut states[by], at)
            .and_then(|id| written(states[by].registry().index(), id));
        loader.done(i, result)?;
        let changes = states[by].take_outgoing();
        for (j, other) in states.iter_mut().enumerate() {
            if j != by {
                other.admit(changes.clone(), now)?;
                other.take_outgoing();
            }
        }
    }
    Ok(sample.steps.len())
}

/// Polls `check` every 50 ms until it holds, or fails after `timeout`.
async fn wait_until<F, Fut>(timeout: Duration, what: impl Fn() -> String, mut check: F) -> Result<(), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, Error>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await? {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Timeout {
                what: what(),
                secs: timeout.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Loads the sample through running nodes, one handle per member in the
/// sample's order: each step runs on its author's node once that node holds
/// every record written before. `timeout` bounds each wait.
pub async fn load(sample: &Sample, handles: &[Handle], now: Timestamp, timeout: Duration) -> Result<usize, Error> {
    if handles.len() != sample.members.len() {
        return Err(Error::Sample(format!(
            "{} nodes for {} members",
            handles.len(),
            sample.members.len()
        )));
    }
    let mut members = Vec::new();
    for h in handles {
        members.push(h.snapshot().await?.member_id());
    }
    let mut loader = Loader::new(sample, &members, now);
    for i in 0..sample.steps.len() {
        let (by, (request, at)) = loader.prepare(i)?;
        let earlier: Written = Arc::new(loader.written.clone());
        let handle = &handles[by];
        wait_until(
            timeout,
            || {
                format!(
                    "{}'s node to receive the records step {i} builds on",
                    sample.steps[i].by
                )
            },
            || {
                let earlier = earlier.clone();
                async move { Ok(handle.with_snapshot(move |s| holds(s.index(), &earlier)).await?) }
            },
        )
        .await?;
        let result = match handle.apply(request, at).await? {
            Ok(id) => written(handle.snapshot().await?.index(), id),
            Err(e) => Err(e),
        };
        loader.done(i, result)?;
    }
    Ok(sample.steps.len())
}

/// Every valid record id a node holds.
async fn record_ids(h: &Handle) -> Result<BTreeSet<RecordId>, Error> {
    Ok(h.with_snapshot(|s| s.index().all_valid().map(|r| r.id()).collect())
        .await?)
}

/// Waits until every node holds the same records (and at least one).
/// Returns how many.
pub async fn converge(handles: &[Handle], timeout: Duration) -> Result<usize, Error> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut sets = Vec::new();
        for h in handles {
            sets.push(record_ids(h).await?);
        }
        let count = sets.first().map_or(0, BTreeSet::len);
        if count > 0 && sets.windows(2).all(|w| w[0] == w[1]) {
            return Ok(count);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Timeout {
                what: "the nodes to hold the same records".into(),
                secs: timeout.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Settings of [`start`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the homes go: `DIR/<member key>`.
    pub dir: PathBuf,
    /// Bound on each wait (a step's references, convergence).
    pub timeout: Duration,
    /// Anti-entropy interval of the nodes.
    pub sync_interval: Duration,
}

impl Options {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            timeout: Duration::from_secs(60),
            sync_interval: Duration::from_secs(2),
        }
    }
}

/// One node of the demo.
#[derive(Debug)]
pub struct Node {
    /// The member's key in the sample (its home's directory name).
    pub key: String,
    pub profile: Profile,
    pub home: PathBuf,
    pub running: Running,
}

/// The running demo.
#[derive(Debug)]
pub struct Demo {
    pub nodes: Vec<Node>,
    /// Whether the sample was loaded now (false: the homes held it already).
    pub loaded: bool,
    /// Records every node holds.
    pub records: usize,
}

impl Demo {
    pub fn handles(&self) -> Vec<Handle> {
        self.nodes.iter().map(|n| n.running.handle.clone()).collect()
    }

    /// Stops every node cleanly.
    pub async fn stop(self) {
        for n in self.nodes {
            n.running.stop().await;
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Starts the demo's nodes on homes under `opts.dir` (created as needed),
/// connects them over 127.0.0.1, loads the sample if the homes are new, and
/// waits until every node holds every record.
pub async fn start(opts: &Options) -> Result<Demo, Error> {
    let sample = Sample::shipped()?;
    let now = state::now();
    std::fs::create_dir_all(&opts.dir).map_err(io(&opts.dir))?;
    let homes: Vec<Home> = sample
        .members
        .iter()
        .map(|m| Home::resolve(Some(opts.dir.join(&m.key))))
        .collect::<Result<_, _>>()
        .map_err(state::Error::from)?;
    let fresh = homes.iter().all(|h| !h.is_initialised());
    for (home, member) in homes.iter().zip(&sample.members) {
        if !home.is_initialised() {
            // Opened to create the identity and profile, closed at once.
            drop(State::init(home.clone(), member.profile.clone(), now)?);
        }
    }

    let mut nodes: Vec<Node> = Vec::new();
    for (home, member) in homes.into_iter().zip(&sample.members) {
        let config = runtime::Config {
            listen: vec![loopback()],
            peers: Vec::new(),
            mdns: false,
            upnp: false,
            relay: false,
            http: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            http_hosts: Vec::new(),
            sync_interval: opts.sync_interval,
            policy: mutu_protocol::trust::Policy::default(),
            webhooks: crate::webhooks::Config::default(),
            default_ports: false,
            default_http: false,
        };
        let root = home.root().to_owned();
        match runtime::start(home, config).await {
            Ok(running) => nodes.push(Node {
                key: member.key.clone(),
                profile: member.profile.clone(),
                home: root,
                running,
            }),
            Err(e) => {
                for n in nodes {
                    n.running.stop().await;
                }
                return Err(e.into());
            }
        }
    }
    let demo = Demo {
        nodes,
        loaded: false,
        records: 0,
    };
    match connect_and_load(demo, &sample, fresh, now, opts.timeout).await {
        Ok(d) => Ok(d),
        Err((demo, e)) => {
            demo.stop().await;
            Err(e)
        }
    }
}

fn loopback() -> libp2p::Multiaddr {
    libp2p::Multiaddr::empty()
        .with(libp2p::multiaddr::Protocol::Ip4(std::net::Ipv4Addr::LOCALHOST))
        .with(libp2p::multiaddr::Protocol::Tcp(0))
}

async fn connect_and_load(
    mut demo: Demo,
    sample: &Sample,
    fresh: bool,
    now: Timestamp,
    timeout: Duration,
) -> Result<Demo, (Demo, Error)> {
    let handles = demo.handles();
    let steps = async {
        // Every node dials the ones started before it.
        for (i, node) in demo.nodes.iter().enumerate() {
            for earlier in &demo.nodes[..i] {
                for addr in &earlier.running.listen {
                    node.running
                        .handle
                        .dial(
                            addr.clone()
                                .with(libp2p::multiaddr::Protocol::P2p(earlier.running.peer_id)),
                        )
                        .await?;
                }
            }
        }
        let want = demo.nodes.len().saturating_sub(1);
        wait_until(
            timeout,
            || "the nodes to connect to each other".to_owned(),
            || {
                let handles = handles.clone();
                async move {
                    for h in &handles {
                        if h.peers().await?.len() < want {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                }
            },
        )
        .await?;
        if fresh {
            load(sample, &handles, now, timeout).await?;
        }
        converge(&handles, timeout).await
    };
    match steps.await {
        Ok(records) => {
            demo.loaded = fresh;
            demo.records = records;
            Ok(demo)
        }
        Err(e) => Err((demo, e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use mutu_protocol::record::Kind;
    use mutu_protocol::view::{Filter, Views};

    use super::*;

    fn offline(dir: &Path, now: Timestamp) -> (Sample, Vec<State>) {
        let sample = Sample::shipped().unwrap();
        let mut states: Vec<State> = sample
            .members
            .iter()
            .map(|m| {
                let home = Home::resolve(Some(dir.join(&m.key))).unwrap();
                State::init(home, m.profile.clone(), now).unwrap()
            })
            .collect();
        // The profiles travel like every other change.
        let profiles: Vec<_> = states.iter_mut().map(State::take_outgoing).collect();
        for (i, st) in states.iter_mut().enumerate() {
            for (j, changes) in profiles.iter().enumerate() {
                if i != j {
                    st.admit(changes.clone(), now).unwrap();
                }
            }
        }
        load_offline(&sample, &mut states, now).unwrap();
        (sample, states)
    }

    #[test]
    fn the_sample_loads_without_a_rule_violation_and_every_record_is_valid() {
        let dir = tempfile::tempdir().unwrap();
        let now = state::now();
        let (sample, states) = offline(dir.path(), now);
        let counts: Vec<usize> = states.iter().map(|s| s.registry().index().len()).collect();
        assert_eq!(counts[0], sample.records(), "{counts:?}");
        for st in &states {
            let index = st.registry().index();
            assert_eq!(index.invalid_count(), 0);
            assert_eq!(index.invalid().count(), 0);
            assert_eq!(index.len(), counts[0]);
        }
        let views = Views::new(states[0].registry().index(), now);
        let all = Filter::default();
        // Every kind of record is there, tombstones included.
        for kind in Kind::ALL {
            let n = states[0]
                .registry()
                .index()
                .all_valid()
                .filter(|r| r.record().kind == kind)
                .count();
            assert!(n > 0, "no {kind} in the sample");
        }
        // Needs are open or funded, never expired: deadlines are ahead.
        let needs = views.needs(&all);
        assert!(needs.len() >= 5);
        for n in &needs {
            assert_ne!(word(&n.funding.state), "expired", "{}", n.title);
            assert!(n.deadline.is_none_or(|d| !d.is_past(now)), "{}", n.title);
        }
        assert!(needs.iter().any(|n| word(&n.funding.state) == "funded"));
        assert!(needs.iter().any(|n| !n.cosigners.is_empty()));
        // Conditional pledges, withdrawn ones, and in-kind ones.
        let effects: BTreeSet<String> = views.pledges(&all).iter().map(|p| word(&p.effect)).collect();
        for e in ["active", "conditional", "committed", "withdrawn"] {
            assert!(effects.contains(e), "no {e} pledge: {effects:?}");
        }
        // A catalogue includes another, and an editor's entry shows.
        let catalogues = views.catalogues(&all);
        assert!(catalogues.iter().any(|c| c.entries.iter().any(|e| e.via.is_some())));
        assert!(
            catalogues
                .iter()
                .any(|c| c.entries.iter().any(|e| e.via.is_none() && e.by != c.record.author))
        );
        // Members vouch for each other.
        assert!(views.members(&all).iter().all(|m| !m.vouched_by.is_empty()));
    }

    fn word<T: serde::Serialize>(t: &T) -> String {
        serde_json::to_value(t).unwrap().as_str().unwrap().to_owned()
    }

    #[test]
    fn projects_are_real_free_software_with_a_license_and_a_source() {
        let sample = Sample::shipped().unwrap();
        let projects: Vec<&Step> = sample.steps.iter().filter(|s| s.op == "project").collect();
        assert!(projects.len() >= 8);
        for p in projects {
            let w = &p.with;
            let name = w["name"].as_str().unwrap();
            mutu_protocol::record::validate::license(w["license"].as_str().unwrap()).unwrap();
            assert!(
                w["repository"].is_string() || w["homepage"].is_string(),
                "{name}: no repository or homepage"
            );
        }
    }

    #[test]
    fn references_and_dates_are_substituted() {
        let sample = Sample::shipped().unwrap();
        let me = mutu_protocol::SecretKey::from_bytes(&[7; 32]).member_id();
        let members = vec![me; sample.members.len()];
        let now = Timestamp::from_millis(1_800_000_000_000);
        let loader = Loader::new(&sample, &members, now);
        let key = &sample.members[0].key;
        let v = loader
            .substitute(serde_json::json!({"m": format!("@{key}"), "d": "now+10d", "l": ["x"]}))
            .unwrap();
        assert_eq!(v["m"], me.to_string());
        assert_eq!(v["d"], "2027-01-25");
        assert_eq!(v["l"][0], "x");
        assert!(loader.substitute(serde_json::json!("@nobody")).is_err());
        assert!(Sample::parse(r#"{"format": "other", "version": 1, "members": [], "steps": []}"#).is_err());
    }
}
