//! `mutu run`, and the CLI talking to a running node.
//!
//! While a node runs on a home it holds the store, so the CLI cannot open
//! it. Every command then goes through the node's local HTTP API, with the
//! bearer token from `$MUTU_HOME/api.token`: a command becomes a typed
//! request of the control protocol ([`mutu_http::control`]), sent to `POST
//! /api/v1/control`; the node runs it (a write's `ops::Request` in its
//! actor, so it is signed, stored and published at once; a read on a
//! snapshot, outside the actor) and answers with what to print, which this
//! process prints with the same code as offline.
//!
//! No file path crosses HTTP: the node never opens a file a request names.
//! `mutu import FILE` reads the file here and sends its bytes to `POST
//! /api/v1/import`; `mutu export` and `mutu backup` get the bundle from `GET
//! /api/v1/export/bundle` and write here; `mutu verify` needs no node.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use mutu_http::control;
use mutu_http::runtime::{self, NodeInfo};
use mutu_node::home::Home;
use mutu_node::state;
use serde::Deserialize;

use crate::args::{Command, RunArgs};
use crate::commands::Sorted;
use crate::fail::user;

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
            peers: a.peer.into_iter().chain(a.bootstrap).collect(),
            no_mdns: a.no_mdns,
            no_upnp: a.no_upnp,
            relay: a.relay,
            http: a.http,
            http_hosts: a.http_host,
            sync_interval: a.sync_interval,
            scope: a.scope,
            hops: a.hops,
        };
        let config = runtime::Config::resolve(flags, file)?;
        let running = runtime::start(home.clone(), config).await?;
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
    match crate::commands::sort(command) {
        Sorted::Control(request) => {
            let (info, token) = reach(home)?;
            let response = ask(&info, &token, &request)?;
            crate::output::response(&response, out)
        }
        Sorted::NewNeed { similar, op, if_unique } => {
            let (info, token) = reach(home)?;
            let mut ask = |request: control::Request| ask(&info, &token, &request);
            crate::commands::new_need(&mut ask, similar, op, if_unique, out)
        }
        Sorted::Local(Command::Verify { file }) => crate::commands::bundles::verify(&file, state::now(), out),
        Sorted::Local(Command::Import { file }) => {
            let (info, token) = reach(home)?;
            remote_import(&info, &token, &file, out)
        }
        Sorted::Local(Command::Export { out: file }) => {
            let (info, token) = reach(home)?;
            remote_export(&info, &token, file.as_deref(), out)
        }
        Sorted::Local(Command::Project(c)) => {
            let (info, token) = reach(home)?;
            crate::commands::project::remote(&info.http, &token, c, out)
        }
        Sorted::Local(Command::Backup {
            out: file,
            passphrase_file,
        }) => {
            let (info, token) = reach(home)?;
            let bundle = fetch_bundle(&info, &token)?;
            crate::commands::backup::write(home, &bundle, &file, &passphrase_file, state::now(), out)
        }
        Sorted::Local(Command::Run(_)) => Err(user(
            "a node already runs on this home; stop it first (Ctrl-C or SIGTERM)",
        )),
        Sorted::Local(Command::Init(_) | Command::Restore { .. }) => Err(user(
            "this home already holds a mutu identity (a node runs on it): give another --home for a new one",
        )),
        Sorted::Local(command) => Err(anyhow::anyhow!("`{command:?}` does not run through a node")),
    }
}

/// Sends a control request to the node and reads its answer.
fn ask(info: &NodeInfo, token: &str, request: &control::Request) -> anyhow::Result<control::Response> {
    let url = format!("http://{}/api/v1/control", info.http);
    let mut response = ureq::post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(request)
        .with_context(|| unreachable_node(info))?;
    if response.status() != 200 {
        return Err(api_failure(response, ""));
    }
    response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_json()
        .context("the node's answer is not what this CLI expects (different versions?)")
}

/// The largest answer read from the node: a listing of the whole registry
/// as JSON fits.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024 * 1024;

/// What this CLI reads of the API's JSON errors (`{"error": {"message",
/// "field"}}`).
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    message: String,
    #[serde(default)]
    field: Option<String>,
}

/// The node's JSON error as this CLI's error: the user's to fix (exit 2)
/// for a 4xx status, ours (1) otherwise; a bad field names its flag, as
/// offline.
pub(crate) fn api_failure(mut response: ureq::http::Response<ureq::Body>, prefix: &str) -> anyhow::Error {
    let status = response.status();
    let message = match response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_json::<ErrorBody>()
    {
        Ok(body) => match body.error.field {
            Some(field) => crate::commands::write::field_message(&field, &body.error.message),
            None => body.error.message,
        },
        Err(_) => format!("the node answered HTTP {status}"),
    };
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
