//! A small, seeded mutator for the fuzz run in the test suite: no coverage
//! feedback (libFuzzer does that, see the `fuzz/` crate), but the same kinds
//! of damage, deterministic for a seed, so CI replays the same inputs and a
//! failure reproduces with the seed it prints.
//!
//! Mutations: bit flips, random bytes, byte insertion, deletion and
//! duplication of a range, a range copied elsewhere, truncation, a splice
//! with another input, and integer boundary values (0, 1, 0x7f, 0x80, 0xff,
//! 16/32/64-bit extremes, both byte orders) written over the input.

/// SplitMix64: tiny and good enough to drive mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 if `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

/// Integer values at the edges decoders check.
const BOUNDARIES: &[u64] = &[
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    i64::MAX as u64,
    1 << 63,
    u64::MAX,
];

/// Mutates `input` with 1 to 4 random mutations; `others` are inputs to
/// splice from. The result is at most `max_len` bytes.
pub fn mutate(rng: &mut Rng, input: &[u8], others: &[&[u8]], max_len: usize) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        one(rng, &mut out, others);
    }
    out.truncate(max_len);
    out
}

fn one(rng: &mut Rng, out: &mut Vec<u8>, others: &[&[u8]]) {
    let len = out.len();
    match rng.below(10) {
        0 if len > 0 => {
            let i = rng.below(len);
            out[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            out[i] = rng.byte();
        }
        2 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
            out.splice(at..at, bytes);
        }
        3 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(64));
            out.drain(at..at + n);
        }
        4 if len > 0 => {
            // Duplicate a range right after itself (repeated fields, lists).
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(256));
            let range: Vec<u8> = out[at..at + n].to_vec();
            out.splice(at + n..at + n, range);
        }
        5 if len > 1 => {
            // Copy a range over another place.
            let from = rng.below(len);
            let n = 1 + rng.below((len - from).min(64));
            let to = rng.below(len);
            let range: Vec<u8> = out[from..from + n].to_vec();
            for (k, b) in range.into_iter().enumerate() {
                if let Some(slot) = out.get_mut(to + k) {
                    *slot = b;
                }
            }
        }
        6 if len > 0 => {
            let keep = rng.below(len);
            out.truncate(keep);
        }
        7 if !others.is_empty() => {
            // Splice: a prefix of this input, a suffix of another.
            let other = others[rng.below(others.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            out.truncate(cut);
            out.extend_from_slice(&other[from..]);
        }
        _ if len > 0 => {
            // An integer boundary value, 1 to 8 bytes wide, either order.
            let value = BOUNDARIES[rng.below(BOUNDARIES.len())];
            let width = [1, 2, 4, 8][rng.below(4)];
            // The value cut to `width` bytes (its low bytes).
            let mut bytes = value.to_le_bytes()[..width].to_vec();
            if rng.below(2) == 0 {
                bytes.reverse();
            }
            let at = rng.below(len);
            for (k, b) in bytes.iter().enumerate() {
                if let Some(slot) = out.get_mut(at + k) {
                    *slot = *b;
                }
            }
        }
        _ => out.push(rng.byte()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_mutations() {
        let input = b"a small input to mutate, long enough for ranges".to_vec();
        let other: &[u8] = b"another";
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..100)
                .map(|_| mutate(&mut rng, &input, &[other], 1024))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).iter().any(|m| m != &input));
    }
}
