//! The bodies of the record kinds. Field names follow publiccode.yml, Comptoir
//! du Libre and funding.json where those exist.

use serde::{Deserialize, Serialize};

use super::RecordId;
use crate::identity::MemberId;
use crate::money::Money;
use crate::time::Date;

/// What kind of organisation a member is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MemberKind {
    Sme,
    Association,
    PublicBody,
    Provider,
    Individual,
    Research,
}

/// `profile`: who a member is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub member_kind: MemberKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// Development status of a project (publiccode.yml's `developmentStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DevStatus {
    Concept,
    Development,
    Beta,
    Stable,
    Obsolete,
}

/// `project`: a free-software project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// An SPDX license expression, e.g. `AGPL-3.0-or-later`.
    pub license: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub status: DevStatus,
    /// The project this one is a fork or variant of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_based_on: Option<RecordId>,
    /// The project's publiccode.yml, as imported (the YAML text, byte for
    /// byte): the whole document, signed, so that export is lossless. The
    /// fields above are derived from it at import. Empty for a project
    /// described without one. The protocol only bounds it
    /// ([`validate::MAX_PUBLICCODE_BYTES`](super::validate::MAX_PUBLICCODE_BYTES));
    /// the node validates it with the standard's rules when importing.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub publiccode: String,
}

/// `usage`: "we use project P".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    pub project: RecordId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Author-set status of a need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NeedStatus {
    Open,
    InProgress,
    Delivered,
    Withdrawn,
    /// Its author merged it into another need (`Need::merged_into`): it
    /// leaves the open lists; its pledges stay until each pledger moves them.
    Merged,
}

/// `need`: software work a member needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Need {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_goal: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Date>,
    pub status: NeedStatus,
    /// The need this one was merged into: set exactly when `status` is
    /// [`NeedStatus::Merged`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<RecordId>,
    /// How the coalition decides on awards and deliveries (see
    /// [`Decision`]); absent from the bytes when `author`, so needs written
    /// before it keep their encoding.
    #[serde(default, skip_serializing_if = "Decision::is_author")]
    pub decision: Decision,
}

/// How a need's coalition (its author, cosigners and active pledgers)
/// decides which offer is awarded and whether a delivery is accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Decision {
    /// The need's author alone.
    #[default]
    Author,
    /// More than half of the coalition's members.
    Majority,
    /// More than half of the money pledged in the goal currency (each
    /// pledger weighing its active pledges); on an exact tie, or with no
    /// money pledged, as `majority`.
    Weighted,
}

impl Decision {
    pub fn is_author(&self) -> bool {
        *self == Decision::Author
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Author => "author",
            Decision::Majority => "majority",
            Decision::Weighted => "weighted",
        }
    }
}

impl Need {
    /// An open need with a title and nothing else yet.
    pub fn titled(title: impl Into<String>) -> Self {
        Need {
            title: title.into(),
            description: String::new(),
            tags: Vec::new(),
            project: None,
            goal: None,
            days_goal: None,
            deadline: None,
            status: NeedStatus::Open,
            merged_into: None,
            decision: Decision::Author,
        }
    }
}

/// `cosign`: "we need this too".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cosign {
    pub need: RecordId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// What a pledge offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Resource {
    Money(Money),
    DevDays { days: u32 },
    Hosting { text: String },
    Testing { text: String },
    Other { text: String },
}

impl Resource {
    /// The resource's name as used in JSON and filters.
    pub fn name(&self) -> &'static str {
        match self {
            Resource::Money(_) => "money",
            Resource::DevDays { .. } => "dev_days",
            Resource::Hosting { .. } => "hosting",
            Resource::Testing { .. } => "testing",
            Resource::Other { .. } => "other",
        }
    }
}

/// When a pledge holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Condition {
    Unconditional,
    /// All-or-nothing: the pledge holds only if the need's goal is reached.
    IfGoalReached,
}

/// Author-set status of a pledge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PledgeStatus {
    Active,
    Withdrawn,
    Fulfilled,
}

/// `pledge`: a promise toward a need. No money moves through mutu.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pledge {
    pub need: RecordId,
    pub resource: Resource,
    pub condition: Condition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Date>,
    pub status: PledgeStatus,
}

/// `offer`: a provider's answer to a need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub need: RecordId,
    pub price: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Date>,
}

/// `approval`: a coalition member's support for one offer on a need. A
/// member's latest approval among a need's offers is the one that counts
/// (edit it or write another to change your mind; retract it with a
/// tombstone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub offer: RecordId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// `award`: the need's author chooses an offer of that need. It stands until
/// retracted (tombstone); the coalition's rule says whether it is valid or
/// contested.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Award {
    pub need: RecordId,
    pub offer: RecordId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// `delivery`: the awarded provider declares the work delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub need: RecordId,
    /// A release, tag or commit of the project's repository (http(s) URL).
    pub release: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A coalition member's verdict on a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    Accept,
    Object,
}

/// `acceptance`: a coalition member accepts a delivery or objects to it
/// (with a reason). The latest per member counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    pub delivery: RecordId,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// `receipt`: the awarded provider confirms a pledge was received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub pledge: RecordId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// `catalogue`: a curated list of projects, possibly including other catalogues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub editors: Vec<MemberId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<RecordId>,
}

/// A catalogue's verdict on a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EntryStatus {
    Recommended,
    Observation,
    Deprecated,
}

/// `catalogue_entry`: a project in a catalogue, by its owner or an editor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    pub catalogue: RecordId,
    pub project: RecordId,
    pub status: EntryStatus,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// `vouch`: "we vouch for member M".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vouch {
    pub member: MemberId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub statement: String,
}

/// `follow`: "we follow member M": the author's node replicates M, and the
/// members M vouches for within its hops (see `trust`). Public, so others can
/// see and reuse the choice; an unfollow is the follow's tombstone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Follow {
    pub member: MemberId,
    /// The author also subscribes to M's moderation lists: the members they
    /// list are treated as blocked on the author's node.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub moderation: bool,
}

/// One member on a moderation list, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listed {
    pub member: MemberId,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// `moderation`: a list of members its author advises against replicating
/// (spam, abuse, impersonation). Nodes whose owner follows the author's
/// moderation lists treat them as blocked; a local block stays and wins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moderation {
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<Listed>,
}

/// `tombstone`: the author retracts one of its own records, for good.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tombstone {
    pub target: RecordId,
}
