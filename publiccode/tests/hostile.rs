//! Corpus files, mutated byte by byte with a fixed seed: whatever the bytes,
//! [`parse`] returns a report (it never panics), a report without a document
//! says why, and every document that comes out valid writes back to YAML
//! that is valid again and reads back to the same values.
//!
//! `MUTU_TEST_SEED` changes the seed; `MUTU_PUBLICCODE_MUTATIONS` the number
//! of mutants per file (default 12: about 3 000 files in all).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use mutu_publiccode::{Options, parse, to_yaml};

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/publiccode");
    assert!(
        dir.join("testdata").is_dir(),
        "the publiccode.yml corpus is missing: expected {} (shared/corpora/publiccode/ beside the repository)",
        dir.display()
    );
    dir
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml") {
            out.push(path);
        }
    }
}

/// xorshift64*: small, fixed, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that mean something to YAML, and some that are not UTF-8.
const SPECIAL: &[u8] = b"[]{}:-?&*!|>'\"%@`#,\n \t~\\.0123456789yYnN\x00\xff\xc3\xa9\xe2\x80\xa8";

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, donor: &[u8]) {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 if at < bytes.len() => bytes[at] = SPECIAL[rng.below(SPECIAL.len())],
            1 => bytes.insert(at, SPECIAL[rng.below(SPECIAL.len())]),
            2 if at < bytes.len() => {
                let end = (at + 1 + rng.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 if at < bytes.len() => {
                let end = (at + 1 + rng.below(200)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, copy);
            }
            4 if !donor.is_empty() => {
                let from = rng.below(donor.len());
                let end = (from + 1 + rng.below(300)).min(donor.len());
                bytes.splice(at..at, donor[from..end].iter().copied());
            }
            _ if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            _ => {}
        }
    }
}

#[test]
fn mutated_corpus_files_give_reports_and_valid_ones_round_trip() {
    let corpus = corpus();
    let mut files = Vec::new();
    yaml_files(&corpus.join("testdata"), &mut files);
    assert!(files.len() >= 250);
    let seed = std::env::var("MUTU_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_128u64);
    let mutants: usize = std::env::var("MUTU_PUBLICCODE_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let mut rng = Rng(seed | 1);
    let originals: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let (mut valid, mut total) = (0, 0);
    for (file, original) in files.iter().zip(&originals) {
        let dir = file.parent().unwrap();
        let options = Options {
            base_dir: Some(dir),
            ..Options::default()
        };
        for _ in 0..mutants {
            let mut bytes = original.clone();
            let donor = &originals[rng.below(originals.len())];
            mutate(&mut rng, &mut bytes, donor);
            total += 1;
            let report = parse(&bytes, &options);
            if report.document.is_none() {
                assert!(
                    report.errors().next().is_some(),
                    "{}: no document and no error",
                    file.display()
                );
            }
            if !report.is_valid() {
                continue;
            }
            valid += 1;
            let document = report.document.unwrap();
            let text = to_yaml(&document);
            let again = parse(text.as_bytes(), &options);
            let show = || {
                format!(
                    "{}, mutated:\n{}\n---\n{text}",
                    file.display(),
                    String::from_utf8_lossy(&bytes)
                )
            };
            assert!(again.is_valid(), "{}\n{:#?}", show(), again.diagnostics);
            assert_eq!(again.document.unwrap().value(), document.value(), "{}", show());
        }
    }
    println!("{total} mutants, {valid} valid, all round-tripped");
    assert!(valid > 0, "some mutants stay valid, so the round trip was exercised");
}
