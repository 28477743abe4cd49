//! A signature verifier that spreads batches over the machine's cores.
//!
//! Catching up is CPU-bound, and about half of it is ed25519 verification
//! (record and change signatures); the protocol crate verifies on the
//! calling thread, so the node plugs this in ([`Registry::with_verifier`]).
//! The rule is the protocol's (ZIP-215, [`mutu_protocol::verify`]): how
//! items are split into batches and which random coefficients a batch
//! draws (here the OS-seeded thread RNG) never change a verdict.
//!
//! [`Registry::with_verifier`]: mutu_protocol::Registry::with_verifier

use mutu_protocol::verify::{BATCH, Item, Verifier, batched};

/// Checks `items` in batches of [`BATCH`] on the calling thread.
fn in_batches(items: &[Item<'_>]) -> Vec<bool> {
    items
        .chunks(BATCH)
        .flat_map(|chunk| batched(chunk, rand::rng()))
        .collect()
}

/// Splits large sets of signatures into one share per core, each checked
/// in whole batches on a scoped thread; small sets stay on the caller.
#[derive(Debug, Clone, Copy)]
pub struct Parallel {
    threads: usize,
}

impl Parallel {
    pub fn new() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { threads }
    }
}

impl Default for Parallel {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier for Parallel {
    fn verify(&self, items: &[Item<'_>]) -> Vec<bool> {
        if self.threads < 2 || items.len() < 2 * BATCH {
            return in_batches(items);
        }
        let share = items.len().div_ceil(self.threads).next_multiple_of(BATCH);
        std::thread::scope(|scope| {
            let workers: Vec<_> = items
                .chunks(share)
                .map(|chunk| (chunk.len(), scope.spawn(move || in_batches(chunk))))
                .collect();
            workers
                .into_iter()
                // A worker that panicked proves nothing: its signatures fail.
                .flat_map(|(len, worker)| worker.join().unwrap_or_else(|_| vec![false; len]))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};
    use mutu_protocol::MemberId;
    use mutu_protocol::verify::Sequential;

    use super::*;

    #[test]
    fn parallel_and_sequential_agree_and_find_the_bad_ones() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = MemberId::from_bytes(key.verifying_key().to_bytes())
            .verifying_key()
            .unwrap();
        let messages: Vec<Vec<u8>> = (0..1_500u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let mut items: Vec<Item<'_>> = messages
            .iter()
            .map(|m| Item {
                message: m,
                signature: key.sign(m).to_bytes(),
                key: public,
            })
            .collect();
        for bad in [3, 700, 1_499] {
            items[bad].signature = key.sign(b"something else").to_bytes();
        }
        let expected: Vec<bool> = (0..1_500).map(|i| ![3, 700, 1_499].contains(&i)).collect();
        assert_eq!(Sequential.verify(&items), expected);
        assert_eq!(in_batches(&items), expected);
        assert_eq!(Parallel { threads: 3 }.verify(&items), expected);
        assert_eq!(Parallel { threads: 1 }.verify(&items[..10]), expected[..10]);
    }
}
