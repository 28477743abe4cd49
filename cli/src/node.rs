//! `mutu run`, and the CLI talking to a running node.
//!
//! While a node runs on a home it holds the store, so the CLI cannot open
//! it. Every command then goes through the node's local HTTP API, with the
//! bearer token from `$MUTU_HOME/api.token`: the CLI sends its arguments to
//! `POST /api/v1/cli`; the node parses them with the same clap definitions
//! and runs the same command code: a write's `ops::Request` in its actor,
//! so it is signed, stored and published at once; a read on a snapshot,
//! outside the actor. The output is exactly what the offline CLI would
//! print.
//!
//! No file path crosses HTTP: the node never opens a file a request names.
//! `mutu import FILE` reads the file here and sends its bytes to `POST
//! /api/v1/import`; `mutu export` gets the bundle from `GET
//! /api/v1/export/bundle` and prints or writes it here; `mutu verify` needs
//! no node at all. The node refuses these three on `/api/v1/cli`.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use clap::Parser;
use mutu_http::api::auth::authorised;
use mutu_http::runtime::{self, NodeInfo};
use mutu_node::actor::{Handle, PeerInfo, Status};
use mutu_node::home::Home;
use mutu_node::state::{self, State};
use serde::{Deserialize, Serialize};

use crate::args::{Cli, Command, ProjectCmd, RunArgs};
use crate::commands::write::Sorted;
use crate::fail::{self, user};

/// Largest CLI request body (arguments only; bundles travel on their own).
const MAX_EXEC_BYTES: usize = 256 * 1024;

/// The arguments of a command to run on the node. (Older clients also sent
/// their working directory: it is ignored.)
#[derive(Debug, Serialize, Deserialize)]
struct ExecRequest {
    args: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ExecResponse {
    stdout: String,
    error: Option<String>,
    code: u8,
}

/// A command that ran on the node and failed there: its message and exit code.
#[derive(Debug)]
pub struct RemoteFailure {
    pub message: String,
    pub code: u8,
}

impl std::fmt::Display for RemoteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RemoteFailure {}

/// `mutu run`: starts the node and serves until SIGINT/SIGTERM.
pub fn run(home: Home, a: RunArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let mut signals = crate::service::Signals::catch().context("cannot catch SIGTERM and SIGINT")?;
        let file = runtime::FileConfig::load(&home.config_path())?;
        let flags = runtime::Flags {
            listen: a.listen,
            peers: a.peer,
            no_mdns: a.no_mdns,
            http: a.http,
            http_hosts: a.http_host,
            sync_interval: a.sync_interval,
        };
        let config = runtime::Config::resolve(flags, file)?;
        let running = runtime::start(home.clone(), config, routes).await?;
        if running.created_identity {
            writeln!(
                out,
                "created a new identity in {} (kind individual)",
                home.root().display()
            )?;
        }
        writeln!(out, "member:  {}", running.member)?;
        writeln!(out, "peer id: {}", running.peer_id)?;
        for addr in &running.listen {
            writeln!(out, "listen:  {addr}/p2p/{}", running.peer_id)?;
        }
        writeln!(out, "http:    http://{}", running.http)?;
        writeln!(out, "ui:      {}", running.login_url)?;
        crate::service::ready();
        until_signal(out, &mut signals).await?;
        crate::service::stopping();
        if tokio::time::timeout(STOP_WITHIN, running.stop()).await.is_err() {
            // Every acknowledged write is already durable (one commit per
            // batch): leaving now loses nothing.
            tracing::warn!(within = ?STOP_WITHIN, "the node did not stop in time; exiting anyway");
        }
        Ok(())
    })
}

/// How long `mutu run` waits for its node to stop after SIGTERM or SIGINT
/// (the systemd unit gives it `TimeoutStopSec=20`).
const STOP_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Flushes what `out` announced, waits for SIGINT/SIGTERM and says
/// `stopping`: the caller then stops its nodes.
pub async fn until_signal(out: &mut dyn Write, signals: &mut crate::service::Signals) -> std::io::Result<()> {
    out.flush()?;
    signals.recv().await;
    writeln!(out, "stopping")?;
    out.flush()
}

struct Ctx {
    handle: Handle,
    token: String,
}

pub fn routes(handle: Handle, token: String) -> Router {
    Router::new()
        .route("/api/v1/cli", post(exec))
        .layer(DefaultBodyLimit::max(MAX_EXEC_BYTES))
        .with_state(Arc::new(Ctx { handle, token }))
}

async fn exec(
    AxumState(ctx): AxumState<Arc<Ctx>>,
    headers: HeaderMap,
    Json(req): Json<ExecRequest>,
) -> (StatusCode, Json<ExecResponse>) {
    if !authorised(&headers, &ctx.token) {
        let error = Some("the API token is missing or wrong: the CLI reads it from $MUTU_HOME/api.token".into());
        return (
            StatusCode::UNAUTHORIZED,
            Json(ExecResponse {
                stdout: String::new(),
                error,
                code: 2,
            }),
        );
    }
    let parsed = Cli::try_parse_from(std::iter::once("mutu".to_owned()).chain(req.args));
    let response = match parsed {
        Err(e) => ExecResponse {
            stdout: String::new(),
            error: Some(e.to_string()),
            code: 2,
        },
        Ok(cli) => run_on_node(&ctx.handle, cli.command).await,
    };
    (StatusCode::OK, Json(response))
}

fn outcome(stdout: Vec<u8>, result: anyhow::Result<()>) -> ExecResponse {
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    match result {
        Ok(()) => ExecResponse {
            stdout,
            error: None,
            code: 0,
        },
        Err(e) => ExecResponse {
            stdout,
            error: Some(fail::one_line(&e)),
            code: fail::exit_code(&e),
        },
    }
}

/// Why the node refuses a command that names a file.
const NO_PATHS: &str = "the node opens no file named in a request";

async fn run_on_node(handle: &Handle, command: Command) -> ExecResponse {
    let mut out = Vec::new();
    let result: anyhow::Result<()> = match command {
        Command::Run(_) => Err(user(
            "a node already runs on this home; stop it first (Ctrl-C or SIGTERM)",
        )),
        Command::Init(_) => Err(user("this home already holds a mutu identity (a node runs on it)")),
        Command::Peers(a) => match handle.peers().await {
            Ok(peers) => print_peers(&peers, a.json, &mut out),
            Err(e) => Err(e.into()),
        },
        Command::Status(a) => match handle.status().await {
            Ok(status) => print_status(&status, a.json, &mut out),
            Err(e) => Err(e.into()),
        },
        Command::Block { member } => block(handle, member, true).await,
        Command::Unblock { member } => block(handle, member, false).await,
        Command::Import { .. } => Err(user(format!(
            "{NO_PATHS}: `mutu import` reads the bundle itself and sends its bytes to POST /api/v1/import"
        ))),
        Command::Export { .. } => Err(user(format!(
            "{NO_PATHS}: `mutu export` gets the bundle from GET /api/v1/export/bundle and writes it itself"
        ))),
        Command::Verify { .. } => Err(user(format!("{NO_PATHS}: `mutu verify` runs without a node"))),
        Command::Backup { .. } | Command::Restore { .. } => Err(user(format!(
            "{NO_PATHS}: `mutu backup` gets the bundle from GET /api/v1/export/bundle and writes the file itself"
        ))),
        command => match crate::commands::write::request(command) {
            Sorted::Write(op) => match handle.apply(op, state::now()).await {
                Ok(Ok(id)) => writeln!(out, "{id}").map_err(Into::into),
                Ok(Err(e)) => Err(crate::commands::write::failure(e)),
                Err(e) => Err(e.into()),
            },
            // Reads run on a snapshot, outside the actor.
            Sorted::Other(command) => {
                let ran = handle
                    .with_snapshot(move |s| {
                        let mut buf = Vec::new();
                        let r = crate::commands::on_snapshot(s, command, state::now(), &mut buf);
                        (buf, r.map_err(|e| (fail::one_line(&e), fail::exit_code(&e))))
                    })
                    .await;
                match ran {
                    Ok((buf, Ok(()))) => {
                        out = buf;
                        Ok(())
                    }
                    Ok((buf, Err((message, code)))) => {
                        out = buf;
                        Err(RemoteFailure { message, code }.into())
                    }
                    Err(e) => Err(e.into()),
                }
            }
        },
    };
    outcome(out, result)
}

async fn block(handle: &Handle, member: String, blocked: bool) -> anyhow::Result<()> {
    let r = handle
        .with_snapshot(move |s| s.resolve_member(&member).map(|m| (m, s.member_id())))
        .await?;
    let (member, me) = r?;
    if member == me {
        return Err(user("you cannot block yourself"));
    }
    handle.block_member(member, blocked).await?;
    Ok(())
}

/// Where the node running on `home` serves its API, and its token.
fn reach(home: &Home) -> anyhow::Result<(NodeInfo, String)> {
    let info = NodeInfo::read(home).ok_or_else(|| {
        user(format!(
            "the store in {} is in use, but no running node says where its API is: if no mutu process runs, remove {}",
            home.root().display(),
            NodeInfo::path(home).display()
        ))
    })?;
    let token = std::fs::read_to_string(home.token_path())
        .with_context(|| format!("cannot read the API token {}", home.token_path().display()))?;
    Ok((info, token.trim().to_owned()))
}

fn unreachable_node(info: &NodeInfo) -> String {
    format!("cannot reach the node at {} (is `mutu run` still running?)", info.http)
}

/// Runs `command` through the node running on `home`.
pub fn remote(home: &Home, command: Command, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Command::Verify { file } => crate::commands::bundles::verify(&file, state::now(), out),
        Command::Import { file } => {
            let (info, token) = reach(home)?;
            remote_import(&info, &token, &file, out)
        }
        Command::Export { out: file } => {
            let (info, token) = reach(home)?;
            remote_export(&info, &token, file.as_deref(), out)
        }
        Command::Project(c @ (ProjectCmd::Import(_) | ProjectCmd::Export(_))) => {
            let (info, token) = reach(home)?;
            crate::commands::project::remote(&info.http, &token, c, out)
        }
        Command::Backup {
            out: file,
            passphrase_file,
        } => {
            let (info, token) = reach(home)?;
            let bundle = fetch_bundle(&info, &token)?;
            crate::commands::backup::write(home, &bundle, &file, &passphrase_file, state::now(), out)
        }
        _ => {
            let (info, token) = reach(home)?;
            remote_exec(&info, &token, out)
        }
    }
}

/// Sends this invocation's arguments to the node.
fn remote_exec(info: &NodeInfo, token: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|_| user("arguments must be valid UTF-8 to reach a running node"))
        })
        .collect::<Result<_, _>>()?;
    let url = format!("http://{}/api/v1/cli", info.http);
    let response = ureq::post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(&ExecRequest { args })
        .with_context(|| unreachable_node(info))?;
    let body: ExecResponse = response
        .into_body()
        .with_config()
        .limit(1024 * 1024 * 1024)
        .read_json()
        .context("the node's answer is not what this CLI expects (different versions?)")?;
    out.write_all(body.stdout.as_bytes())?;
    match body.error {
        None => Ok(()),
        Some(message) => Err(RemoteFailure {
            message,
            code: body.code.max(1),
        }
        .into()),
    }
}

/// The message of the API's JSON errors (`{"error": {"message": …}}`).
#[derive(Debug, Deserialize)]
struct ApiErrorBody {
    error: ApiErrorMessage,
}

#[derive(Debug, Deserialize)]
struct ApiErrorMessage {
    message: String,
}

/// The node's JSON error as this CLI's error: the user's to fix (exit 2)
/// for a 4xx status, ours (1) otherwise.
fn api_failure(mut response: ureq::http::Response<ureq::Body>, prefix: &str) -> anyhow::Error {
    let status = response.status();
    let message = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_json::<ApiErrorBody>()
        .map(|b| b.error.message)
        .unwrap_or_else(|_| format!("the node answered HTTP {status}"));
    let code = if status.is_client_error() { 2 } else { 1 };
    RemoteFailure {
        message: format!("{prefix}{message}"),
        code,
    }
    .into()
}

/// `mutu import FILE` with a node running: the bytes go to the node, which
/// parses them off its actor and admits the changes.
fn remote_import(info: &NodeInfo, token: &str, file: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let bytes = crate::commands::read_file(file)?;
    let url = format!("http://{}/api/v1/import", info.http);
    let mut response = ureq::post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .config()
        .http_status_as_error(false)
        .build()
        .send(&bytes[..])
        .with_context(|| unreachable_node(info))?;
    if response.status() != 200 {
        return Err(api_failure(response, &format!("{}: ", file.display())));
    }
    let report: crate::commands::bundles::Imported =
        response
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_json()
            .context("the node's answer is not what this CLI expects (different versions?)")?;
    crate::commands::bundles::print_import(file, &report, out)
}

/// `mutu export` with a node running: the node sends the bundle, this
/// process prints it or writes the file.
fn remote_export(info: &NodeInfo, token: &str, file: Option<&Path>, out: &mut dyn Write) -> anyhow::Result<()> {
    let bundle = fetch_bundle(info, token)?;
    crate::commands::bundles::write_bundle(&bundle, file, out)
}

/// Every change the node holds, from `GET /api/v1/export/bundle`.
fn fetch_bundle(info: &NodeInfo, token: &str) -> anyhow::Result<mutu_protocol::bundle::Bundle> {
    let url = format!("http://{}/api/v1/export/bundle", info.http);
    let mut response = ureq::get(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .with_context(|| unreachable_node(info))?;
    if response.status() != 200 {
        return Err(api_failure(response, ""));
    }
    let bytes = response
        .body_mut()
        .with_config()
        .limit(mutu_protocol::bundle::MAX_BUNDLE_BYTES as u64)
        .read_to_vec()
        .context("the node's bundle is larger than the bundle limit")?;
    mutu_protocol::bundle::Bundle::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("the node's bundle is not what this CLI expects (different versions?): {e}"))
}

/// `mutu ui`: asks the node running on `home` for a one-time login URL
/// (`POST /api/v1/ui/login` with the bearer token) and prints it.
pub fn ui(home: &Home, out: &mut dyn Write) -> anyhow::Result<()> {
    let info = NodeInfo::read(home).ok_or_else(|| {
        user(format!(
            "no running node says where its API is: start one with `mutu run` (if none runs, remove {})",
            NodeInfo::path(home).display()
        ))
    })?;
    let token = std::fs::read_to_string(home.token_path())
        .with_context(|| format!("cannot read the API token {}", home.token_path().display()))?;
    let url = format!("http://{}/api/v1/ui/login", info.http);
    let mut response = ureq::post(&url)
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .config()
        .http_status_as_error(false)
        .build()
        .send_empty()
        .with_context(|| format!("cannot reach the node at {} (is `mutu run` still running?)", info.http))?;
    if response.status() != 200 {
        anyhow::bail!(
            "the node at {} refused to give a login link (HTTP {}): is it this home's node?",
            info.http,
            response.status()
        );
    }
    let body: mutu_http::web::auth::LoginUrl = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_json()
        .context("the node's answer is not what this CLI expects (different versions?)")?;
    writeln!(out, "{}", body.url)?;
    Ok(())
}

/// `mutu status` without a running node: the store's counters.
pub fn offline_status(st: &State) -> Status {
    let peer_id = libp2p::identity::Keypair::ed25519_from_bytes(st.secret_key().to_bytes())
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
    }
}

pub fn print_status(s: &Status, json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(s)?)?;
        return Ok(());
    }
    writeln!(out, "member:    {}", s.member)?;
    writeln!(out, "peer id:   {}", s.peer_id)?;
    writeln!(out, "peers:     {}", s.peers)?;
    writeln!(out, "documents: {}", s.documents)?;
    writeln!(out, "records:   {}", s.records)?;
    writeln!(out, "pending:   {}", s.pending)?;
    writeln!(out, "rejected:  {}", s.rejected)?;
    for l in &s.listen {
        writeln!(out, "listen:    {l}")?;
    }
    Ok(())
}

pub fn print_peers(peers: &[PeerInfo], json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(peers)?)?;
        return Ok(());
    }
    if peers.is_empty() {
        writeln!(out, "no connected peers")?;
    }
    for p in peers {
        writeln!(out, "{}  {}  since {}", p.peer_id, p.address, p.connected_since)?;
    }
    Ok(())
}
