//! The command line, as clap derive structs. Values that carry their own
//! syntax (amounts, dates, ids) stay strings here and are parsed by the
//! commands, so a mistake gives mutu's one-line `error: ...` message instead
//! of clap's usage text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mutu_protocol::record::{Decision, DevStatus, EntryStatus, MemberKind, NeedStatus};

/// mutu: a peer-to-peer registry of pooled free software.
///
/// IDs can be given as any unique prefix. AMOUNT is a number followed by an
/// ISO 4217 currency code, e.g. 600EUR or 1250.50EUR. Dates are YYYY-MM-DD.
#[derive(Debug, Parser)]
#[command(name = "mutu", version, propagate_version = true)]
pub struct Cli {
    /// The member's home directory [default: the platform data dir, e.g. ~/.local/share/mutu]
    #[arg(long, global = true, env = "MUTU_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Log as JSON lines on stderr (RUST_LOG sets the level)
    #[arg(long, global = true)]
    pub json_logs: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create this home's identity and profile; prints the member id.
    Init(InitArgs),
    /// Show this home's member.
    Whoami(JsonFlag),
    /// Projects: free-software projects.
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Usage: "we use this project".
    #[command(subcommand)]
    Usage(UsageCmd),
    /// Needs: software work you need, and pooling them.
    #[command(subcommand)]
    Need(NeedCmd),
    /// Pledges toward a need: money, developer-days, hosting, testing.
    #[command(subcommand)]
    Pledge(PledgeCmd),
    /// Offers: a provider's answer to a need; approving and awarding one.
    #[command(subcommand)]
    Offer(OfferCmd),
    /// Deliveries: the awarded provider's work, accepted or objected to by the need's coalition.
    #[command(subcommand)]
    Delivery(DeliveryCmd),
    /// Catalogues: curated, federated lists of projects.
    #[command(subcommand)]
    Catalogue(CatalogueCmd),
    /// Moderation lists: members advised against, and whose lists this node follows.
    #[command(subcommand)]
    Moderation(ModerationCmd),
    /// Vouch for another member; prints the vouch's id.
    Vouch {
        /// The member's id (or a unique prefix of a known member's id)
        member: String,
        #[arg(long)]
        statement: Option<String>,
    },
    /// Follow a member: a node with `replication.scope = "trusted"` replicates
    /// the members its owner follows and those they vouch for; prints the
    /// follow record's id.
    Follow {
        /// The member's whole id (it may be unknown here yet), or a unique prefix of a known member's id
        member: String,
    },
    /// Stop following a member (retracts the follow record); prints the tombstone's id.
    Unfollow {
        /// The member's whole id, or a unique prefix of a known member's id
        member: String,
    },
    /// Retract one of your records, for good; prints the tombstone's id.
    Retract {
        /// The record's id (or a unique prefix)
        id: String,
    },
    /// List records of one kind.
    Ls(LsArgs),
    /// Show one record or member.
    Show {
        /// A record id (or unique prefix) or a member id
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Search needs, projects, catalogues, offers and members.
    Search {
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// Write every document this home holds as a bundle.
    Export {
        /// Write to FILE instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Admit a bundle's signed changes into this home.
    Import { file: PathBuf },
    /// Write a backup of this member: its identity, encrypted with a passphrase, and every change this home holds.
    Backup {
        /// The backup file to write (created 0600)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// A file whose first line is the passphrase (at least 8 characters)
        #[arg(long, value_name = "FILE")]
        passphrase_file: PathBuf,
    },
    /// Restore a backup into this home, which must not hold an identity yet; it gets a new replica nonce.
    Restore {
        file: PathBuf,
        /// A file whose first line is the backup's passphrase
        #[arg(long, value_name = "FILE")]
        passphrase_file: PathBuf,
    },
    /// Rebuild a damaged store from the changes it still holds (stop the node first); the old file is kept as store.redb.damaged.
    Reindex,
    /// Check a bundle offline: every change signature and every record.
    Verify { file: PathBuf },
    /// Run the node: sync with peers over libp2p and serve the local HTTP API.
    Run(RunArgs),
    /// Try mutu: three nodes on this machine (an association, a public body, a provider) with a sample registry.
    Demo(DemoArgs),
    /// Print a one-time link that signs you in to the running node's web UI (to write from the browser).
    Ui,
    /// The running node's connected peers (direct or relayed).
    Peers(JsonFlag),
    /// Print an invitation to this running node: another member runs `mutu join` with it to connect, even behind NAT.
    Invite(JsonFlag),
    /// Connect the running node to the node an invitation (from `mutu invite`) names, and keep connecting to it.
    Join {
        /// The invitation text, `mutu1:...`
        invitation: String,
    },
    /// The node's member, peers and registry counters.
    Status(JsonFlag),
    /// Block a member: drop its documents here, never take or forward them again.
    Block {
        /// The member's id (or a unique prefix of a known member's id)
        member: String,
    },
    /// Unblock a member (its documents come back at the next sync).
    Unblock {
        /// The member's id (or a unique prefix of a known member's id)
        member: String,
    },
    /// Follow a need, project, catalogue, tag or member: what happens to it
    /// goes to your inbox (needs you write, cosign or pledge to are followed
    /// already). Private: kept in this home, never published.
    Watch {
        #[arg(value_enum)]
        kind: WatchKind,
        /// An id or unique prefix, a tag, or a member id
        value: String,
    },
    /// Stop following something.
    Unwatch {
        #[arg(value_enum)]
        kind: WatchKind,
        value: String,
    },
    /// What you follow.
    Watching(JsonFlag),
    /// What happened to what you follow, newest first (`*`: unread); marks
    /// it read.
    Inbox {
        #[arg(long)]
        json: bool,
        /// Leave the events unread
        #[arg(long)]
        keep_unread: bool,
    },
}

/// What `mutu watch` follows.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WatchKind {
    Need,
    Project,
    Catalogue,
    Tag,
    Member,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Listen on this multiaddr (repeatable) [default: /ip4/0.0.0.0/tcp/7071 and /ip4/0.0.0.0/udp/7071/quic-v1]
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// Connect to this peer (repeatable), e.g. /ip4/192.0.2.7/tcp/7071/p2p/12D3Koo...
    #[arg(long, value_name = "MULTIADDR")]
    pub peer: Vec<String>,
    /// A peer to join the network through (repeatable; same as --peer): dialled at start and whenever not connected, and used as a relay if it serves as one
    #[arg(long, value_name = "MULTIADDR")]
    pub bootstrap: Vec<String>,
    /// Do not discover peers on the local network (mDNS)
    #[arg(long)]
    pub no_mdns: bool,
    /// Do not ask the router for a port mapping (UPnP)
    #[arg(long)]
    pub no_upnp: bool,
    /// Serve as a relay (Circuit Relay v2) for members behind NAT: for a node with a public address
    #[arg(long)]
    pub relay: bool,
    /// Serve the HTTP API and web UI here [default: 127.0.0.1:7070]; a non-loopback address must be given explicitly
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// Also answer HTTP requests for this host name (repeatable), e.g. the name of a reverse proxy in front of the node [default: localhost, 127.0.0.1, [::1] and the --http address]
    #[arg(long = "http-host", value_name = "NAME")]
    pub http_host: Vec<String>,
    /// Seconds between anti-entropy passes with a random peer [default: 30]
    #[arg(long, value_name = "SECS")]
    pub sync_interval: Option<u64>,
    /// Whose documents to replicate: `open` (everyone, members outside the trust set under quotas) or `trusted` (only this member, whom it follows and their vouches) [default: open]
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,
    /// Vouch steps from the members this one follows that still count as trusted [default: 2]
    #[arg(long, value_name = "N")]
    pub hops: Option<u8>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the three nodes' homes in DIR (reused on the next run) instead of a temporary directory removed at exit
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long, value_enum)]
    pub kind: KindArg,
    /// ISO 3166-1 alpha-2 code, e.g. FR
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    #[arg(long, value_name = "URL")]
    pub website: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Sme,
    Association,
    PublicBody,
    Provider,
    Individual,
    Research,
}

impl From<KindArg> for MemberKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Sme => MemberKind::Sme,
            KindArg::Association => MemberKind::Association,
            KindArg::PublicBody => MemberKind::PublicBody,
            KindArg::Provider => MemberKind::Provider,
            KindArg::Individual => MemberKind::Individual,
            KindArg::Research => MemberKind::Research,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Describe a project; prints its id.
    Add(ProjectAdd),
    /// Import publiccode.yml files as projects (a directory: every
    /// publiccode.yml under it). The same software (`url`) again updates
    /// your project; a broken file is reported and the others imported.
    Import(ProjectImport),
    /// Print (or write) a project's publiccode.yml.
    Export(ProjectExport),
}

#[derive(Debug, Args)]
pub struct ProjectImport {
    /// publiccode.yml files, or directories to search for them
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ProjectExport {
    /// The project (id or unique prefix)
    #[arg(required_unless_present = "catalogue", conflicts_with = "catalogue")]
    pub project: Option<String>,
    /// Export a catalogue's projects instead, as a directory (--out): one
    /// NAME-ID/publiccode.yml per project that has one, and index.json
    #[arg(long, value_name = "CATALOGUE", requires = "out")]
    pub catalogue: Option<String>,
    #[arg(long, value_enum, default_value = "publiccode")]
    pub format: ProjectFormat,
    /// Write to this file (a directory with --catalogue) instead of printing
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProjectFormat {
    /// publiccode.yml (https://github.com/publiccodeyml/publiccode.yml)
    Publiccode,
}

#[derive(Debug, Args)]
pub struct ProjectAdd {
    #[arg(long)]
    pub name: String,
    /// SPDX license expression, e.g. AGPL-3.0-or-later
    #[arg(long, value_name = "SPDX")]
    pub license: String,
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    #[arg(long, value_name = "URL")]
    pub homepage: Option<String>,
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long, value_enum, default_value = "development")]
    pub status: DevStatusArg,
    /// The project this one is a fork or variant of
    #[arg(long, value_name = "PROJECT")]
    pub based_on: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DevStatusArg {
    Concept,
    Development,
    Beta,
    Stable,
    Obsolete,
}

impl From<DevStatusArg> for DevStatus {
    fn from(s: DevStatusArg) -> Self {
        match s {
            DevStatusArg::Concept => DevStatus::Concept,
            DevStatusArg::Development => DevStatus::Development,
            DevStatusArg::Beta => DevStatus::Beta,
            DevStatusArg::Stable => DevStatus::Stable,
            DevStatusArg::Obsolete => DevStatus::Obsolete,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UsageCmd {
    /// State that you use a project; prints the usage's id.
    Add {
        project: String,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum NeedCmd {
    /// Post a need; prints its id. Open needs that look like it are listed
    /// on stderr first: cosigning one keeps the coalition together.
    Add(NeedAdd),
    /// The open needs most like a need you are about to write, best first,
    /// with a score (0-100) and why.
    Similar {
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: Option<String>,
        /// The project the need concerns (id or unique prefix)
        #[arg(long)]
        project: Option<String>,
        #[arg(long = "tag", value_name = "T")]
        tags: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// "We need this too"; prints the cosign's id.
    Cosign {
        need: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Set the status of one of your needs.
    Status {
        need: String,
        #[arg(value_enum)]
        status: NeedStatusArg,
    },
    /// Mark one of your needs as the same as another: it leaves the open
    /// lists and points there; its pledgers and cosigners see it in their
    /// inbox and move their pledges with `mutu pledge move`.
    Merge {
        need: String,
        /// The need it is the same as (merged into a merged need, it goes
        /// to the end of that chain)
        #[arg(long, value_name = "NEED")]
        into: String,
    },
    /// Set how the coalition of one of your needs decides (until an award stands).
    Decision {
        need: String,
        #[arg(value_enum)]
        decision: DecisionArg,
    },
}

#[derive(Debug, Args)]
pub struct NeedAdd {
    #[arg(long)]
    pub title: String,
    #[arg(long)]
    pub description: Option<String>,
    /// The project the need concerns
    #[arg(long)]
    pub project: Option<String>,
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
    /// Money goal, e.g. 12000EUR
    #[arg(long, value_name = "AMOUNT")]
    pub goal: Option<String>,
    /// Developer-days goal
    #[arg(long, value_name = "N")]
    pub days_goal: Option<u32>,
    /// YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    pub deadline: Option<String>,
    /// How the coalition (author, cosigners, active pledgers) decides on awards and deliveries [default: author]
    #[arg(long, value_enum)]
    pub decision: Option<DecisionArg>,
    /// Write nothing if open needs look like this one (they are listed)
    #[arg(long)]
    pub if_unique: bool,
    /// Print `{"id", "similar"}` as JSON (the similar needs not on stderr)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NeedStatusArg {
    Open,
    InProgress,
    Delivered,
    Withdrawn,
}

impl From<NeedStatusArg> for NeedStatus {
    fn from(s: NeedStatusArg) -> Self {
        match s {
            NeedStatusArg::Open => NeedStatus::Open,
            NeedStatusArg::InProgress => NeedStatus::InProgress,
            NeedStatusArg::Delivered => NeedStatus::Delivered,
            NeedStatusArg::Withdrawn => NeedStatus::Withdrawn,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum PledgeCmd {
    /// Pledge toward a need; prints the pledge's id.
    Add(PledgeAdd),
    /// Withdraw one of your pledges.
    Withdraw { pledge: String },
    /// Move one of your active pledges to another need, in one signed
    /// change (the new pledge and the old one withdrawn); prints the new
    /// pledge's id.
    Move {
        pledge: String,
        #[arg(long, value_name = "NEED")]
        to: String,
    },
    /// Mark one of your pledges paid (given).
    Fulfil { pledge: String },
    /// As the awarded provider, confirm a pledge was received.
    Received {
        pledge: String,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("resource").required(true).multiple(false))]
pub struct PledgeAdd {
    pub need: String,
    /// Money, e.g. 600EUR
    #[arg(long, value_name = "AMOUNT", group = "resource")]
    pub money: Option<String>,
    /// Developer-days
    #[arg(long, value_name = "N", group = "resource")]
    pub days: Option<u32>,
    #[arg(long, value_name = "TEXT", group = "resource")]
    pub hosting: Option<String>,
    #[arg(long, value_name = "TEXT", group = "resource")]
    pub testing: Option<String>,
    #[arg(long, value_name = "TEXT", group = "resource")]
    pub other: Option<String>,
    /// All-or-nothing: the pledge holds only if the need's goal is reached
    #[arg(long)]
    pub if_funded: bool,
    /// YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    pub expires: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum OfferCmd {
    /// Offer to do a need's work; prints the offer's id.
    Add {
        need: String,
        #[arg(long, value_name = "AMOUNT")]
        price: String,
        #[arg(long, value_name = "N")]
        days: Option<u32>,
        #[arg(long)]
        description: Option<String>,
        /// YYYY-MM-DD
        #[arg(long, value_name = "DATE")]
        valid_until: Option<String>,
    },
    /// As a member of the need's coalition, approve an offer (your latest approval counts); prints the approval's id.
    Approve {
        offer: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// As the need's author, award an offer; prints the award's id.
    Award {
        offer: String,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeliveryCmd {
    /// As the awarded provider, declare the need's work delivered; prints the delivery's id.
    Add {
        need: String,
        /// A release, tag or commit URL of the project's repository
        #[arg(long, value_name = "URL")]
        release: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// As a member of the need's coalition, accept a delivery.
    Accept {
        delivery: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// As a member of the need's coalition, object to a delivery, saying why.
    Object {
        delivery: String,
        #[arg(long)]
        reason: String,
    },
}

/// How a need's coalition decides.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DecisionArg {
    /// The need's author alone
    Author,
    /// More than half of the coalition's members
    Majority,
    /// More than half of the money pledged in the goal currency
    Weighted,
}

impl From<DecisionArg> for Decision {
    fn from(d: DecisionArg) -> Self {
        match d {
            DecisionArg::Author => Decision::Author,
            DecisionArg::Majority => Decision::Majority,
            DecisionArg::Weighted => Decision::Weighted,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ModerationCmd {
    /// Follow a member and its moderation lists: the members they list are
    /// treated as blocked on this node (a local block stays and wins);
    /// prints the follow record's id.
    Follow {
        /// The member's whole id, or a unique prefix of a known member's id
        member: String,
    },
    /// Publish a moderation list; prints its id.
    List {
        #[arg(long)]
        title: String,
        /// A listed member (repeatable): a whole id, or a unique prefix of a known member's id
        #[arg(long = "member", value_name = "MEMBER", required = true)]
        members: Vec<String>,
        /// Why they are listed
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogueCmd {
    /// Create a catalogue; prints its id.
    Create {
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Add a project to a catalogue you own or edit; prints the entry's id.
    Add {
        catalogue: String,
        project: String,
        #[arg(long, value_enum, default_value = "recommended")]
        status: EntryStatusArg,
        #[arg(long)]
        note: Option<String>,
    },
    /// Include another catalogue in one of yours (federation).
    Include { catalogue: String, other: String },
    /// Add or remove an editor of one of your catalogues.
    #[command(subcommand)]
    Editor(EditorCmd),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EntryStatusArg {
    Recommended,
    Observation,
    Deprecated,
}

impl From<EntryStatusArg> for EntryStatus {
    fn from(s: EntryStatusArg) -> Self {
        match s {
            EntryStatusArg::Recommended => EntryStatus::Recommended,
            EntryStatusArg::Observation => EntryStatus::Observation,
            EntryStatusArg::Deprecated => EntryStatus::Deprecated,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum EditorCmd {
    Add { catalogue: String, member: String },
    Remove { catalogue: String, member: String },
}

#[derive(Debug, Args)]
pub struct LsArgs {
    #[arg(value_enum)]
    pub what: LsKind,
    #[arg(long, value_name = "T")]
    pub tag: Option<String>,
    #[arg(long, value_name = "MEMBER")]
    pub author: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LsKind {
    Needs,
    Projects,
    Pledges,
    Offers,
    Catalogues,
    Members,
}

impl From<LsKind> for mutu_http::control::List {
    fn from(k: LsKind) -> Self {
        use mutu_http::control::List;
        match k {
            LsKind::Needs => List::Needs,
            LsKind::Projects => List::Projects,
            LsKind::Pledges => List::Pledges,
            LsKind::Offers => List::Offers,
            LsKind::Catalogues => List::Catalogues,
            LsKind::Members => List::Members,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
