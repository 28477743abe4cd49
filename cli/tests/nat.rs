//! Members behind NAT on an emulated internet (issue 10): real `mutu run`
//! processes in Linux network namespaces, home routers made with nftables
//! masquerade. Root is needed (namespaces, nftables): without it, or
//! without `ip netns`/`nft`, each test prints why and passes without
//! running.
//!
//! ```text
//!                  ns "relay": public node R (mutu run --relay), 203.0.113.1
//!                         |
//!    ---------- ns "inet": bridge br0 (203.0.113.0/24) ----------
//!          |                                        |
//!    ns "nat-a" wan 203.0.113.2               ns "nat-b" wan 203.0.113.3
//!    masquerade, lan 192.0.2.1                masquerade [random], lan 198.51.100.1
//!          |                                        |
//!    ns "a": node A, 192.0.2.2                ns "b": node B, 198.51.100.2
//! ```
//!
//! Only documentation ranges are used, and only inside namespaces this
//! test creates (each run under its own name prefix); every namespace, and
//! with it every link, is deleted when the test ends, even by a panic
//! (`common/netns.rs`, shared with the WAN benchmark `cli/benches/wan.rs`).
//! The test binary lives in the `mutu-cli` package because only there does
//! cargo give the path of the `mutu` binary (`CARGO_BIN_EXE_mutu`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/netns.rs"]
mod netns;

use std::path::Path;
use std::time::Duration;

use common::text;
use netns::{Internet, Node, Scratch, unavailable, wait_until};

/// Time for one step (a sync, a hole punch, a reconnection) to happen.
const STEP: Duration = Duration::from_secs(30);

macro_rules! require_netns {
    () => {
        if let Some(why) = unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// R, then A and B knowing only R.
fn three(net: &Internet, dir: &Path) -> (Node, Node, Node) {
    let r = Node::start(net, "relay", &dir.join("r"), &["--relay"]);
    let boot = r.bootstrap();
    let a = Node::start(net, "a", &dir.join("a"), &["--bootstrap", &boot]);
    let b = Node::start(net, "b", &dir.join("b"), &["--bootstrap", &boot]);
    (r, a, b)
}

/// A writes a need, B sees it and pledges, A sees the pledge.
fn need_and_pledge(a: &Node, b: &Node, title: &str) -> String {
    let need = a.ok(&["need", "add", "--title", title, "--goal", "1000EUR"]);
    let need = need.trim().to_owned();
    wait_until(STEP, "B to hold A's need", || b.holds(&need));
    b.ok(&["pledge", "add", &need, "--money", "600EUR"]);
    wait_until(STEP, "A to see B's pledge on its need", || {
        text(&a.mutu(&["show", &need]).stdout).contains("600.00 EUR")
    });
    need
}

#[test]
fn members_behind_nat_sync_and_hole_punch_to_a_direct_connection() {
    require_netns!();
    let net = Internet::new(false);
    let dir = Scratch::new();
    let (r, a, b) = three(&net, dir.path());
    need_and_pledge(&a, &b, "A shared server");
    wait_until(STEP, "A's connection with B to be direct (hole punched)", || {
        a.connection_to(&b).as_deref() == Some("direct")
    });
    let status: serde_json::Value = serde_json::from_str(&a.ok(&["status", "--json"])).unwrap();
    assert_ne!(status["reach"]["reachability"], "public", "A is behind NAT: {status}");
    drop((r, a, b));
}

#[test]
fn behind_an_endpoint_dependent_nat_sync_goes_through_the_relay() {
    require_netns!();
    let net = Internet::new(true);
    let dir = Scratch::new();
    let (r, a, b) = three(&net, dir.path());
    wait_until(STEP, "A and B to be connected through R", || {
        a.connection_to(&b).as_deref() == Some("relayed")
    });
    need_and_pledge(&a, &b, "A translation");
    // nat-b's random ports defeat hole punching: still through R.
    assert_eq!(a.connection_to(&b).as_deref(), Some("relayed"));
    drop((r, a, b));
}

#[test]
fn after_the_relay_restarts_members_reconnect_and_converge() {
    require_netns!();
    let net = Internet::new(false);
    let dir = Scratch::new();
    let (mut r, a, b) = three(&net, dir.path());
    need_and_pledge(&a, &b, "Before the restart");
    r.stop();
    let later = a.ok(&["need", "add", "--title", "While the relay was down"]);
    let later = later.trim().to_owned();
    r.launch(&["--relay"]);
    wait_until(STEP, "A and B to reconnect to the restarted relay", || {
        a.connection_to(&r).is_some() && b.connection_to(&r).is_some()
    });
    wait_until(STEP, "B and R to hold the need written while R was down", || {
        b.holds(&later) && r.holds(&later)
    });
    drop((r, a, b));
}

#[test]
fn an_invitation_connects_a_member_with_no_bootstrap() {
    require_netns!();
    let net = Internet::new(false);
    let dir = Scratch::new();
    let r = Node::start(&net, "relay", &dir.path().join("r"), &["--relay"]);
    let a = Node::start(&net, "a", &dir.path().join("a"), &["--bootstrap", &r.bootstrap()]);
    let b = Node::start(&net, "b", &dir.path().join("b"), &[]);
    let need = a.ok(&["need", "add", "--title", "Invited"]);
    let need = need.trim().to_owned();
    // A's invitation holds its circuit address once R accepted a reservation.
    let mut invitation = String::new();
    wait_until(STEP, "A's invitation to carry a relayed address", || {
        let out = a.mutu(&["invite", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let relayed = v["addresses"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x.as_str().is_some_and(|s| s.contains("p2p-circuit"))));
        if relayed {
            invitation = v["invitation"].as_str().unwrap().to_owned();
        }
        relayed
    });
    // A copy that lost its end says so.
    let cut = b.mutu(&["join", &invitation[..invitation.len() - 4]]);
    assert!(!cut.status.success());
    assert!(text(&cut.stderr).contains("checksum"), "{}", text(&cut.stderr));
    b.ok(&["join", &invitation]);
    wait_until(STEP, "B to hold A's need", || b.holds(&need));
    wait_until(STEP, "A and B to be connected", || a.connection_to(&b).is_some());
    drop((r, a, b));
}
