#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The fuzz targets in the normal test suite: each target runs over its
//! seeds, its committed corpus (`fuzz/corpus/NAME/`) and a bounded number of
//! seeded mutations of those (`mutu_tests::fuzz::mutate`; seed from
//! `MUTU_TEST_SEED`), and every crash found so far is replayed
//! (`tests/fuzz-regressions/NAME/`).
//!
//! A failing input is saved under `target/tmp/fuzz-failures/NAME/` and the
//! failure says where: replay it with
//! `cargo fuzz run NAME target/tmp/fuzz-failures/NAME/FILE` (see HACKING.md,
//! "Fuzzing"), then keep it, minimised, in `tests/fuzz-regressions/NAME/`.
//!
//! Each campaign and each regression runs in a child process (this test
//! binary again, the ignored test `child`) under `ulimit -v` and `ulimit -t`:
//! an input that allocates without bound or loops fails its test, with the
//! input saved, instead of taking the machine down.
//!
//! The coverage-guided campaign is libFuzzer's (the `fuzz/` crate); this is
//! the regression net CI runs on stable.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use mutu_tests::fuzz::mutate::{self, Rng};
use mutu_tests::fuzz::{self, Target, seeds};
use mutu_tests::net::test_seed;
use sha2::{Digest, Sha256};

/// Mutations per target and run, unless `MUTU_FUZZ_MUTATIONS` says
/// otherwise: a few seconds per target on a 2-core machine.
fn mutations(name: &str) -> usize {
    if let Some(n) = std::env::var("MUTU_FUZZ_MUTATIONS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        return n;
    }
    match name {
        // Builds values up to the 16 MiB response limit and back.
        "sync_roundtrip" => 200,
        // Each execution admits into a registry and re-opens it.
        "admit" | "record_cbor" | "gossip_batch" | "sync_response" | "bundle_json" | "change_chunk" => 1_500,
        _ => 5_000,
    }
}

/// The longest input a mutation may make.
const MAX_INPUT: usize = 1024 * 1024;

/// Address space of a child process, in KiB (`ulimit -v`): far above what
/// any target needs (a 16 MiB sync response, decoded and re-encoded),
/// far below what a runaway allocation takes.
const CHILD_MEMORY_KIB: u64 = 4 * 1024 * 1024;
/// CPU seconds of a child process (`ulimit -t`).
const CHILD_CPU_SECONDS: u64 = 600;
/// What a child process runs: `campaign:NAME` or `replay:NAME/FILE`.
const CHILD_ENV: &str = "MUTU_FUZZ_CHILD";

thread_local! {
    /// The last panic on this thread: `file:line: message`.
    static PANICKED_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Records each panic's place for [`run`], then reports it as usual.
fn watch_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or_default();
            let panic = format!("{at}: {message}");
            PANICKED_AT.with(|p| *p.borrow_mut() = Some(panic));
            default(info);
        }));
    });
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus_dir(name: &str) -> PathBuf {
    root().join("fuzz").join("corpus").join(name)
}

fn regressions_dir(name: &str) -> PathBuf {
    root().join("tests").join("fuzz-regressions").join(name)
}

fn failures_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures").join(name)
}

/// The files of `dir` (none if it does not exist), sorted by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Runs `target` on `input`; on a panic, saves the input and fails saying
/// where it is and how it came.
fn run(target: Target, input: &[u8], how: &str) {
    watch_panics();
    if catch_unwind(AssertUnwindSafe(|| (target.run)(input))).is_ok() {
        return;
    }
    let at = PANICKED_AT.with(|p| p.borrow_mut().take()).unwrap_or_default();
    let dir = failures_dir(target.name);
    std::fs::create_dir_all(&dir).unwrap();
    let hash: String = Sha256::digest(input)[..8].iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!("crash-{hash}"));
    std::fs::write(&path, input).unwrap();
    panic!(
        "fuzz target `{}` failed on {how} (MUTU_TEST_SEED={}), panicking at {at}; the input is saved in {}",
        target.name,
        test_seed(),
        path.display()
    );
}

/// Seeds and corpus, then seeded mutations of them.
fn campaign(name: &str) {
    let target = fuzz::target(name).expect("a target of that name");
    let mut inputs = seeds::seeds(name);
    inputs.extend(files(&corpus_dir(name)));
    assert!(!inputs.is_empty(), "{name} has seeds");
    for (file, input) in &inputs {
        run(target, input, &format!("`{file}`"));
    }
    let pool: Vec<&[u8]> = inputs.iter().map(|(_, i)| &i[..]).collect();
    let label: u64 = name
        .bytes()
        .fold(0, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut rng = Rng::new(test_seed() ^ label);
    let n = mutations(name);
    // Written before each mutation runs: what a child killed by its limits
    // was running.
    std::fs::create_dir_all(failures_dir(name)).unwrap();
    let last = failures_dir(name).join("last-input");
    for i in 0..n {
        let (file, base) = &inputs[rng.below(inputs.len())];
        let input = mutate::mutate(&mut rng, base, &pool, MAX_INPUT);
        std::fs::write(&last, &input).unwrap();
        run(target, &input, &format!("mutation {i} of `{file}`"));
    }
    eprintln!("{name}: {} inputs, {n} mutations", inputs.len());
}

/// Runs `what` (see [`CHILD_ENV`]) in a child process under the limits;
/// `Err` with the end of its output if it failed.
fn in_child(what: &str) -> Result<String, String> {
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "ulimit -v {CHILD_MEMORY_KIB} && ulimit -t {CHILD_CPU_SECONDS} && exec \"$0\" --exact child --ignored --nocapture --test-threads=1"
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(exe)
        .env(CHILD_ENV, what)
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        return Ok(stderr);
    }
    let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!("{what} failed ({}):\n{}", out.status, tail.join("\n")))
}

/// The child process: runs what its parent asked for.
#[test]
#[ignore = "run by the other tests in a child process with limits"]
fn child() {
    let what = std::env::var(CHILD_ENV).expect("the parent test says what to run");
    if let Some(name) = what.strip_prefix("campaign:") {
        campaign(name);
    } else if let Some(entry) = what.strip_prefix("replay:") {
        let (name, file) = entry.split_once('/').unwrap();
        let target = fuzz::target(name).unwrap();
        let input = std::fs::read(regressions_dir(name).join(file)).unwrap();
        run(target, &input, &format!("regression `{entry}`"));
    } else {
        panic!("unknown child task `{what}`");
    }
}

/// A campaign in a child process; a child killed by its limits fails with
/// the input it was running.
fn bounded_campaign(name: &str) {
    match in_child(&format!("campaign:{name}")) {
        Ok(log) => eprint!("{log}"),
        Err(e) => panic!(
            "{e}\nthe last input it ran is in {}",
            failures_dir(name).join("last-input").display()
        ),
    }
}

/// One test per target, so they run in parallel and fail apart.
macro_rules! campaigns {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                bounded_campaign(stringify!($name));
            }
        )*

        /// Every target of the library has its test here.
        #[test]
        fn every_target_runs_in_the_suite() {
            let here: BTreeSet<&str> = [$(stringify!($name)),*].into_iter().collect();
            let all: BTreeSet<&str> = fuzz::TARGETS.iter().map(|t| t.name).collect();
            assert_eq!(here, all);
        }
    };
}

campaigns!(
    change_chunk,
    record_cbor,
    gossip_batch,
    sync_request,
    sync_response,
    sync_roundtrip,
    bundle_json,
    admit
);

/// Every crash found so far, minimised, each in a child process under the
/// limits.
#[test]
fn regressions_replay() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for target in fuzz::TARGETS {
        for (file, _) in files(&regressions_dir(target.name)) {
            let entry = format!("{}/{file}", target.name);
            replayed += 1;
            if let Err(e) = in_child(&format!("replay:{entry}")) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!("replayed {replayed} regression inputs");
}

/// The libFuzzer crate has one target per library target, and the
/// committed corpora stay small (a few hundred files, none over 1 MiB).
#[test]
fn every_target_has_a_libfuzzer_binary_and_a_small_corpus() {
    let manifest = std::fs::read_to_string(root().join("fuzz").join("Cargo.toml")).unwrap();
    for target in fuzz::TARGETS {
        let source = root()
            .join("fuzz")
            .join("fuzz_targets")
            .join(format!("{}.rs", target.name));
        let text = std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        assert!(
            text.contains(&format!("fuzz::{}::run", target.name)),
            "{} calls the library's target",
            source.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{}\"", target.name)),
            "fuzz/Cargo.toml has a [[bin]] for {}",
            target.name
        );
        let corpus = files(&corpus_dir(target.name));
        assert!(!corpus.is_empty(), "{} has a committed corpus", target.name);
        assert!(corpus.len() <= 300, "{}: {} corpus files", target.name, corpus.len());
        for (file, bytes) in &corpus {
            assert!(bytes.len() <= 1024 * 1024, "{}/{file} is over 1 MiB", target.name);
        }
    }
}

/// Writes every target's seeds into its corpus directory (`seed-*` files;
/// other files are left alone). Run after changing the fixtures:
/// `cargo test -p mutu-tests --test fuzz -- --ignored write_seeds`.
#[test]
#[ignore = "writes the seed corpus; run by hand"]
fn write_seeds() {
    for target in fuzz::TARGETS {
        let dir = corpus_dir(target.name);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, _) in files(&dir) {
            if file.starts_with("seed-") {
                std::fs::remove_file(dir.join(file)).unwrap();
            }
        }
        let seeds = seeds::seeds(target.name);
        for (file, bytes) in &seeds {
            std::fs::write(dir.join(file), bytes).unwrap();
        }
        eprintln!("{}: {} seeds", target.name, seeds.len());
    }
}
