//! Signature checking: one rule, alone or in batches, on every node.
//!
//! Nodes must agree on which signatures hold, or two honest nodes compute
//! different registries. Ed25519 as RFC 8032 leaves room: `verify_strict`
//! and the batch equation of `ed25519_dalek::verify_batch` disagree on a
//! signature whose `R` carries a small-order component (`R = rB + T`):
//! strict verification refuses it, the batch accepts it whenever the
//! batch's random coefficient for it is even, so the verdict would depend on
//! what else is in the batch and on how a node splits its batches.
//!
//! mutu verifies by **ZIP-215** rules (`ed25519-zebra`): `A` and `R` must
//! decode as curve points (non-canonical encodings allowed), `S` must be
//! canonical, and the cofactored equation `[8][S]B = [8]R + [8][k]A` must
//! hold. Batch verification under these rules gives the same verdict as
//! verifying alone, for every signature, so the batch is purely an
//! optimisation. (Standard Ed25519 signatures, as `ed25519-dalek` makes them,
//! verify under ZIP-215.) Member keys are refused when they are of small
//! order or not canonically encoded ([`crate::identity::MemberId::verifying_key`]):
//! ZIP-215 alone accepts small-order keys, under which anyone can forge.
//!
//! Batches: chunks of [`BATCH`] (~2.5x faster per signature than alone,
//! more when a key signs many items, which `ed25519-zebra` coalesces). A
//! failing chunk does not say which signature is bad, so it is checked again
//! one by one, by the same rule. Batch verification needs coefficients the
//! signers cannot predict; the protocol crate draws no randomness, so
//! [`Sequential`] derives them from a SHA-512 transcript of the whole chunk
//! (Fiat–Shamir: a signer would have to choose the signatures before it
//! knows the coefficients they yield), and a node may pass its own RNG
//! through [`batched`].

use ed25519_zebra::batch;
use ed25519_zebra::{Signature, VerificationKey, VerificationKeyBytes};
use rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha512};

/// Signatures per batch call.
pub const BATCH: usize = 256;

/// A member's decoded public key (see
/// [`crate::identity::MemberId::verifying_key`]).
pub type Key = VerificationKey;

/// One signature to check.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub message: &'a [u8],
    pub signature: [u8; 64],
    pub key: Key,
}

impl Item<'_> {
    /// The verdict of this signature alone.
    pub fn verify(&self) -> bool {
        self.key
            .verify(&Signature::from_bytes(&self.signature), self.message)
            .is_ok()
    }
}

/// Checks signatures: for each item, whether it holds. Every implementation
/// must give, for each item, the verdict of [`Item::verify`].
pub trait Verifier: std::fmt::Debug + Send + Sync {
    fn verify(&self, items: &[Item<'_>]) -> Vec<bool>;
}

/// Everything on the calling thread, coefficients from the transcript.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sequential;

impl Verifier for Sequential {
    fn verify(&self, items: &[Item<'_>]) -> Vec<bool> {
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(BATCH) {
            out.extend(batched(chunk, Transcript::of(chunk)));
        }
        out
    }
}

/// Verifies `items` as one batch with coefficients from `rng`; if the batch
/// fails, each item alone. The verdicts are those of [`Item::verify`]
/// whatever `rng` gives (ZIP-215).
pub fn batched<R: rand_core::CryptoRng>(items: &[Item<'_>], rng: R) -> Vec<bool> {
    let mut verifier = batch::Verifier::new();
    for i in items {
        verifier.queue((
            VerificationKeyBytes::from(i.key),
            Signature::from_bytes(&i.signature),
            i.message,
        ));
    }
    if verifier.verify(rng).is_ok() {
        vec![true; items.len()]
    } else {
        items.iter().map(Item::verify).collect()
    }
}

/// A deterministic RNG seeded by a SHA-512 transcript of a chunk: each key,
/// signature and message, length-prefixed. Output block `n` is
/// SHA-512(seed ‖ n).
#[derive(Debug, Clone)]
pub struct Transcript {
    seed: [u8; 64],
    counter: u64,
    block: [u8; 64],
    used: usize,
}

impl Transcript {
    pub fn of(items: &[Item<'_>]) -> Self {
        let mut h = Sha512::new();
        h.update(b"mutu/batch-coefficients/v1");
        for i in items {
            h.update(i.key.as_ref());
            h.update(i.signature);
            h.update((i.message.len() as u64).to_le_bytes());
            h.update(i.message);
        }
        Self {
            seed: h.finalize().into(),
            counter: 0,
            block: [0; 64],
            used: 64,
        }
    }

    fn next_byte(&mut self) -> u8 {
        if self.used == self.block.len() {
            let mut h = Sha512::new();
            h.update(self.seed);
            h.update(self.counter.to_le_bytes());
            self.block = h.finalize().into();
            self.counter += 1;
            self.used = 0;
        }
        let b = self.block[self.used];
        self.used += 1;
        b
    }
}

impl TryRng for Transcript {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for d in dst {
            *d = self.next_byte();
        }
        Ok(())
    }
}

impl TryCryptoRng for Transcript {}
