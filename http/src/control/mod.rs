//! The control protocol: what the `mutu` CLI asks, typed.
//!
//! A command becomes a [`Request`] (serde, `{"command": "ls", ...}`); the
//! answer is a [`Response`]: a [`Report`] to print, the id a write made, or
//! nothing. The same request runs in two places with the same code:
//!
//! - offline, on the home's [`State`] when no node holds the store
//!   ([`local`]);
//! - on a running node, through `POST /api/v1/control` with the API's
//!   bearer token ([`serve`]): a write goes to the actor as an
//!   [`ops::Request`], a read runs on a snapshot outside it, and the node's
//!   counters come from the actor.
//!
//! The CLI prints every report itself (`cli/src/output.rs`). No file path
//! crosses this protocol: commands that read or write files (`import`,
//! `export`, `backup`) send or receive bytes on their own endpoints
//! (`POST /api/v1/import`, `GET /api/v1/export/bundle`). Errors are the
//! API's (`{"error": {"code", "message", "field"}}`, status by class).

pub mod read;
pub mod report;
pub mod watch;

use axum::Json;
use axum::extract;
use libp2p::identity::Keypair;
use mutu_node::actor::{self, Handle, Status};
use mutu_node::error::{Class, Classify};
use mutu_node::ops;
use mutu_node::state::{self, Snapshot, State};
use mutu_protocol::Timestamp;
use mutu_protocol::record::RecordId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use report::Report;

use crate::api::Ctx;
use crate::api::auth::Authorized;
use crate::api::error::{ApiError, JsonBody, WriteErrors};

/// What the CLI asks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// The node's counters.
    Status {
        #[serde(default)]
        json: bool,
    },
    /// The connected peers.
    Peers {
        #[serde(default)]
        json: bool,
    },
    /// An invitation to this node, for another member to `join`.
    Invite {
        #[serde(default)]
        json: bool,
    },
    /// Connect to the node an invitation names, and keep connecting to it.
    Join { invitation: String },
    /// This node's member.
    Whoami {
        #[serde(default)]
        json: bool,
    },
    /// A listing, optionally by tag or author.
    Ls {
        what: List,
        #[serde(default)]
        tag: Option<String>,
        /// A member id or unique prefix.
        #[serde(default)]
        author: Option<String>,
        #[serde(default)]
        json: bool,
    },
    /// One record (id or unique prefix) or member.
    Show {
        id: String,
        #[serde(default)]
        json: bool,
    },
    /// Full-text search.
    Search {
        text: String,
        #[serde(default)]
        json: bool,
    },
    /// The open needs most like a need about to be written, best first.
    SimilarNeeds {
        #[serde(flatten)]
        draft: DraftNeed,
        #[serde(default)]
        json: bool,
    },
    /// Drop a member's documents here and never take them again.
    Block { member: String },
    /// Take a member's documents again.
    Unblock { member: String },
    /// A write: sign, store and publish a record.
    Apply { op: ops::Request },
    /// Follow something: its events go to the inbox (and the webhooks).
    Watch { target: Target },
    /// Stop following something.
    Unwatch { target: Target },
    /// What this node's owner follows.
    Watching {
        #[serde(default)]
        json: bool,
    },
    /// What happened to what the owner follows, newest first; marks it read
    /// unless `keep_unread`.
    Inbox {
        #[serde(default)]
        json: bool,
        #[serde(default)]
        keep_unread: bool,
    },
}

/// Something to watch: a record by id or unique prefix, a tag, or a member
/// (id or unique prefix of a known member's id).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    Need(String),
    Project(String),
    Catalogue(String),
    Tag(String),
    Member(String),
}

/// A need about to be written, to compare with the open ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DraftNeed {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The project (id or unique prefix).
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// What `ls` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum List {
    Needs,
    Projects,
    Pledges,
    Offers,
    Catalogues,
    Members,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// What a read found, to print.
    Report(Report),
    /// The record a write made or edited.
    Written { id: String },
    /// Done; nothing to print.
    Done,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Op(#[from] ops::Error),
    #[error(transparent)]
    State(#[from] state::Error),
    #[error(transparent)]
    Actor(#[from] actor::Error),
    #[error(transparent)]
    Watch(#[from] mutu_node::watch::Error),
    #[error("{kind} {id} has been retracted by its author")]
    Retracted { kind: &'static str, id: RecordId },
    #[error("no node is running on this home: start one with `mutu run`")]
    NoNode,
    #[error(transparent)]
    Invitation(#[from] mutu_node::net::invite::Error),
    #[error(
        "the node has no address others can reach yet: wait until it is connected to its bootstrap peers (`mutu status` shows its reachability), or run it with --bootstrap ADDR"
    )]
    Unreachable,
    #[error("cannot write the answer as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Classify for Error {
    fn class(&self) -> Class {
        match self {
            Error::Op(e) => e.class(),
            Error::State(e) => e.class(),
            Error::Actor(e) => e.class(),
            Error::Watch(e) => e.class(),
            Error::Retracted { .. } => Class::NotFound,
            Error::NoNode => Class::Input,
            Error::Invitation(_) => Class::Input,
            Error::Unreachable => Class::Conflict,
            Error::Json(_) => Class::Internal,
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Op(e) => e.into(),
            Error::State(e) => e.into(),
            Error::Actor(e) => e.into(),
            e => ApiError::of_class(e.class(), e.to_string()),
        }
    }
}

/// A request sorted by what it needs: a snapshot of the views, the
/// node's counters, or the state itself.
enum Routed {
    Query(Query),
    Status { json: bool },
    Peers { json: bool },
    Invite { json: bool },
    Join(String),
    Block { member: String, blocked: bool },
    Apply(ops::Request),
}

/// The reads that need only a snapshot of the views.
enum Query {
    Whoami {
        json: bool,
    },
    Ls {
        what: List,
        tag: Option<String>,
        author: Option<String>,
        json: bool,
    },
    Show {
        id: String,
        json: bool,
    },
    Search {
        text: String,
        json: bool,
    },
    Similar {
        draft: DraftNeed,
        json: bool,
    },
    Watch {
        target: Target,
        on: bool,
    },
    Watching {
        json: bool,
    },
    Inbox {
        json: bool,
        keep_unread: bool,
    },
}

impl Request {
    fn route(self) -> Routed {
        match self {
            Request::Status { json } => Routed::Status { json },
            Request::Peers { json } => Routed::Peers { json },
            Request::Invite { json } => Routed::Invite { json },
            Request::Join { invitation } => Routed::Join(invitation),
            Request::Whoami { json } => Routed::Query(Query::Whoami { json }),
            Request::Ls {
                what,
                tag,
                author,
                json,
            } => Routed::Query(Query::Ls {
                what,
                tag,
                author,
                json,
            }),
            Request::Show { id, json } => Routed::Query(Query::Show { id, json }),
            Request::Search { text, json } => Routed::Query(Query::Search { text, json }),
            Request::SimilarNeeds { draft, json } => Routed::Query(Query::Similar { draft, json }),
            Request::Block { member } => Routed::Block { member, blocked: true },
            Request::Unblock { member } => Routed::Block { member, blocked: false },
            Request::Apply { op } => Routed::Apply(op),
            Request::Watch { target } => Routed::Query(Query::Watch { target, on: true }),
            Request::Unwatch { target } => Routed::Query(Query::Watch { target, on: false }),
            Request::Watching { json } => Routed::Query(Query::Watching { json }),
            Request::Inbox { json, keep_unread } => Routed::Query(Query::Inbox { json, keep_unread }),
        }
    }
}

impl Query {
    fn run(self, s: &Snapshot, now: Timestamp) -> Result<Response, Error> {
        Ok(Response::Report(match self {
            Query::Watch { target, on } => {
                watch::watch(s, target, on)?;
                return Ok(Response::Done);
            }
            Query::Watching { json } => watch::watching(s, json)?,
            Query::Inbox { json, keep_unread } => watch::inbox(s, json, keep_unread, now)?,
            Query::Whoami { json } => read::whoami(s, json, now)?,
            Query::Ls {
                what,
                tag,
                author,
                json,
            } => read::ls(s, what, tag, author, json, now)?,
            Query::Show { id, json } => read::show(s, &id, json, now)?,
            Query::Search { text, json } => read::search(s, &text, json, now)?,
            Query::Similar { draft, json } => read::similar(s, draft, json, now)?,
        }))
    }
}

/// Runs `request` on the home's state, with no node running.
pub fn local(st: &mut State, request: Request, now: Timestamp) -> Result<Response, Error> {
    match request.route() {
        Routed::Query(q) => q.run(&st.snapshot(), now),
        Routed::Status { json } => Ok(Response::Report(read::status(&offline_status(st), json)?)),
        Routed::Peers { .. } | Routed::Invite { .. } => Err(Error::NoNode),
        Routed::Join(text) => {
            // Check the text first: a bad copy is worth knowing before starting the node.
            mutu_node::net::invite::Invitation::parse(&text)?;
            Err(Error::NoNode)
        }
        Routed::Block { member, blocked } => {
            let member = st.resolve_member(&member)?;
            if blocked {
                st.block(&member)?;
            } else {
                st.unblock(&member)?;
            }
            Ok(Response::Done)
        }
        Routed::Apply(op) => Ok(Response::Written {
            id: op.apply(st, now)?.to_string(),
        }),
    }
}

/// Runs `request` on the node behind `handle`: writes on its actor, reads
/// on a snapshot outside it.
pub async fn serve(handle: &Handle, request: Request, now: Timestamp) -> Result<Response, Error> {
    match request.route() {
        Routed::Query(q) => handle.with_snapshot(move |s| q.run(s, now)).await?,
        Routed::Status { json } => Ok(Response::Report(read::status(&handle.status().await?, json)?)),
        Routed::Peers { json } => Ok(Response::Report(read::peers(&handle.peers().await?, json)?)),
        Routed::Invite { json } => {
            let invitation = handle.invite().await?.ok_or(Error::Unreachable)?;
            Ok(Response::Report(read::invitation(&invitation, json)?))
        }
        Routed::Join(text) => {
            let invitation = mutu_node::net::invite::Invitation::parse(&text)?;
            handle.join(invitation.clone()).await?;
            Ok(Response::Report(read::joining(&invitation)))
        }
        Routed::Block { member, blocked } => {
            let member = handle.with_snapshot(move |s| s.resolve_member(&member)).await??;
            handle.block_member(member, blocked).await?;
            Ok(Response::Done)
        }
        Routed::Apply(op) => Ok(Response::Written {
            id: handle.apply(op, now).await??.to_string(),
        }),
    }
}

/// `mutu status` without a running node: the store's counters.
fn offline_status(st: &State) -> Status {
    let peer_id = Keypair::ed25519_from_bytes(st.secret_key().to_bytes())
        .map(|k| k.public().to_peer_id().to_string())
        .unwrap_or_default();
    Status {
        member: st.member_id(),
        peer_id,
        peers: 0,
        documents: st.registry().doc_count(),
        records: st.registry().index().len(),
        pending: 0,
        rejected: 0,
        listen: Vec::new(),
        sync_passes: 0,
        sync_requests: 0,
        sync_bytes_sent: 0,
        sync_bytes_received: 0,
        sync_requests_served: 0,
        sync_requests_refused: 0,
        identify_received: 0,
        replication: None,
        catch_up: None,
        reach: None,
    }
}

/// Run a CLI command on this node: a typed request, the answer to print.
#[utoipa::path(post, path = "/api/v1/control", tag = "control", request_body = Request,
    security(("bearer" = [])),
    responses((status = 200, body = Response), WriteErrors))]
pub async fn control(
    _: Authorized,
    extract::State(ctx): extract::State<Ctx>,
    JsonBody(request): JsonBody<Request>,
) -> Result<Json<Response>, ApiError> {
    Ok(Json(serve(&ctx.handle, request, state::now()).await?))
}

#[cfg(test)]
mod tests;
