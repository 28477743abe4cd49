//! Helpers every benchmark shares (`node/benches/sync.rs`,
//! `http/benches/scale.rs`, `cli/benches/wan.rs`, `tests/benches/*.rs`),
//! included by path from each crate's benches: `MUTU_BENCH_*` sizes,
//! percentiles, rounding, the process's resident memory and the machine's
//! load. Each bench uses a part of them.
#![allow(dead_code)]

/// `name` from the environment as a number, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `p` quantile (0 to 1) of `sorted`, nearest rank; NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `x` rounded to `digits` decimals.
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Resident set size of this process, from /proc/self/status.
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb * 1024
}

/// The machine's load averages (1, 5, 15 minutes), as /proc/loadavg says.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A member profile for benchmark data.
pub fn profile(name: &str) -> mutu_protocol::record::Profile {
    mutu_protocol::record::Profile {
        name: name.into(),
        member_kind: mutu_protocol::record::MemberKind::Association,
        country: Some("FR".into()),
        sectors: vec![],
        website: None,
        description: String::new(),
    }
}

/// The nonce of a member's `i`th record.
pub fn nonce(i: usize) -> [u8; 16] {
    let mut n = [0u8; 16];
    n[..8].copy_from_slice(&(i as u64).to_le_bytes());
    n
}

/// `records` (all signed by `key`) written by replica `replica` in chained
/// changes of at most `per_change` records, each building on the one
/// before (`MemberDoc::write_chain`: no registry needed).
pub fn chained_changes(
    key: &mutu_protocol::SecretKey,
    replica: [u8; 16],
    records: &[mutu_protocol::record::SignedRecord],
    per_change: usize,
    now: mutu_protocol::Timestamp,
) -> Vec<mutu_protocol::SignedChange> {
    let groups: Vec<&[mutu_protocol::record::SignedRecord]> = records.chunks(per_change.max(1)).collect();
    mutu_protocol::doc::MemberDoc::new(key.member_id())
        .write_chain(key, &mutu_protocol::identity::ReplicaNonce(replica), &groups, now)
        .expect("changes")
}
