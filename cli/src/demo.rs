//! `mutu demo`: three nodes in this process (an association, a public body
//! and a provider), synced over 127.0.0.1, loaded with the sample registry
//! (see `mutu_http::demo`). Prints each node's member id and web address,
//! then runs until Ctrl-C and stops the three cleanly.

use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use mutu_http::demo::{self, Options};
use mutu_protocol::record::MemberKind;

use crate::args::DemoArgs;

/// A fresh directory name under the system's temporary directory.
fn temporary_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!("mutu-demo-{}-{nanos:08x}", std::process::id()))
}

fn kind(k: MemberKind) -> &'static str {
    match k {
        MemberKind::Association => "association",
        MemberKind::PublicBody => "public body",
        MemberKind::Provider => "provider",
        MemberKind::Sme => "SME",
        MemberKind::Research => "research",
        _ => "individual",
    }
}

/// The name to type for the `mutu` binary in hints.
fn mutu() -> &'static str {
    if std::env::var_os("CARGO").is_some() {
        "cargo run --release -p mutu-cli --"
    } else {
        "mutu"
    }
}

pub fn run(a: DemoArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let (dir, temporary) = match a.dir {
        Some(d) => (d, false),
        None => (temporary_dir(), true),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = rt.block_on(serve(&dir, temporary, out));
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn serve(dir: &std::path::Path, temporary: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut signals = crate::service::Signals::catch()?;
    writeln!(out, "starting three mutu nodes in {} …", dir.display())?;
    out.flush()?;
    let running = demo::start(&Options::new(dir))
        .await
        .context("the demo could not start")?;
    if running.loaded {
        writeln!(
            out,
            "loaded the sample registry; the three nodes synced {} records over 127.0.0.1",
            running.records
        )?;
    } else {
        writeln!(
            out,
            "reused the homes in {}; the three nodes hold the same {} records",
            dir.display(),
            running.records
        )?;
    }
    for n in &running.nodes {
        writeln!(out)?;
        writeln!(out, "{} ({})", n.profile.name, kind(n.profile.member_kind))?;
        writeln!(out, "  member: {}", n.running.member)?;
        writeln!(out, "  web:    http://{}/", n.running.http)?;
        if !n.running.login_url.is_empty() {
            writeln!(
                out,
                "  login:  {}   (one-time link, to write from the browser)",
                n.running.login_url
            )?;
        }
        writeln!(out, "  cli:    {} --home {} ls needs", mutu(), n.home.display())?;
    }
    if let Some(first) = running.nodes.first() {
        let base = format!("http://{}", first.running.http);
        writeln!(out)?;
        writeln!(
            out,
            "exports: {base}/export/registry.json  {base}/export/needs.csv  {base}/export/pledges.csv  {base}/export/projects.csv"
        )?;
        writeln!(out, "stats:   {base}/api/v1/stats")?;
    }
    writeln!(out)?;
    if temporary {
        writeln!(out, "Ctrl-C stops the three nodes and removes {}.", dir.display())?;
    } else {
        writeln!(
            out,
            "Ctrl-C stops the three nodes; their homes stay in {}.",
            dir.display()
        )?;
    }
    crate::node::until_signal(out, &mut signals).await?;
    running.stop().await;
    Ok(())
}
