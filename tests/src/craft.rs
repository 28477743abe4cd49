//! Hostile changes made from valid ones, for attack tests and fuzzing.
//!
//! Every function here takes the member's **seed** (the 32 bytes its
//! [`SecretKey`] derives from) and signs what it crafts with it: the attacks
//! are what a real member (a throw-away key costs nothing) can send, so
//! they all get past the signature check and test what comes after it.
//! Chunks are edited with the layout of
//! [`mutu_protocol::change::chunk::layout`] and resealed with a fresh
//! checksum.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ChangeHash, ROOT, ReadDoc, ScalarValue};
use ed25519_dalek::Signer;
use mutu_protocol::change::chunk::layout::{self, Layout};
use mutu_protocol::change::{self, SignedChange};
use mutu_protocol::identity::{ReplicaNonce, actor_id};
use mutu_protocol::{MemberId, SecretKey, Timestamp};
use sha2::{Digest, Sha256};

/// The member id of `seed`.
pub fn member(seed: &[u8; 32]) -> MemberId {
    SecretKey::from_bytes(seed).member_id()
}

/// The hash automerge gives a change chunk: SHA-256 of everything after the
/// checksum (chunk type, length, data).
pub fn chunk_hash(bytes: &[u8]) -> ChangeHash {
    ChangeHash(Sha256::digest(bytes.get(8..).unwrap_or_default()).into())
}

/// Signs `bytes` as a change with `hash` of the document of `seed`.
pub fn sign_as(seed: &[u8; 32], hash: &ChangeHash, bytes: Vec<u8>) -> SignedChange {
    let doc = member(seed);
    let sig = ed25519_dalek::SigningKey::from_bytes(seed)
        .sign(&change::signed_message(&doc, hash))
        .to_bytes();
    SignedChange::from_parts(doc, bytes, sig)
}

/// Signs an uncompressed change chunk (its hash is taken from its bytes).
pub fn sign_chunk(seed: &[u8; 32], bytes: Vec<u8>) -> SignedChange {
    let hash = chunk_hash(&bytes);
    sign_as(seed, &hash, bytes)
}

/// `c` with its data rebuilt by `edit` (given the layout and the whole
/// chunk), resealed and re-signed.
pub fn recraft(seed: &[u8; 32], c: &SignedChange, edit: impl FnOnce(&Layout, &[u8]) -> Vec<u8>) -> SignedChange {
    let bytes = c.change_bytes();
    let l = layout::parse(bytes).expect("a valid change to start from");
    let data = edit(&l, bytes);
    sign_chunk(seed, layout::seal(1, &data))
}

/// Row 1: `c` with one more actor in its header, which no operation uses.
pub fn with_extra_actor(seed: &[u8; 32], c: &SignedChange, actor: &[u8]) -> SignedChange {
    recraft(seed, c, |l, b| {
        let mut data = b[l.data..l.other_actors.start].to_vec();
        data.extend(layout::uleb(1));
        data.extend(layout::uleb(actor.len() as u64));
        data.extend_from_slice(actor);
        data.extend_from_slice(&b[l.other_actors.end..]);
        data
    })
}

/// Row 1: `c` naming an unknown replica of its own member.
pub fn with_unknown_replica(seed: &[u8; 32], c: &SignedChange) -> SignedChange {
    let actor = actor_id(&member(seed), &ReplicaNonce([0xee; 16])).to_bytes().to_vec();
    with_extra_actor(seed, c, &actor)
}

/// A change made straight with automerge as a replica of `seed`'s member,
/// putting `value` under `key` (no record: the bytes are the attack).
pub fn raw_put(seed: &[u8; 32], key: &str, value: Vec<u8>, now: Timestamp) -> automerge::Change {
    let mut am = automerge::Automerge::new();
    am.set_actor(actor_id(&member(seed), &ReplicaNonce([1; 16])));
    let mut tx = am.transaction();
    tx.put(ROOT, key, ScalarValue::Bytes(value)).expect("a put");
    let time = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(time));
    am.get_change_by_hash(&hash.expect("a change")).expect("the change")
}

/// Row 2: `size` zero bytes under one key, deflated by automerge (a few KB
/// on the wire), signed over the change's real hash.
pub fn inflation_bomb(seed: &[u8; 32], size: usize, now: Timestamp) -> SignedChange {
    let mut bomb = raw_put(seed, "need/bomb", vec![0; size], now);
    let hash = bomb.hash();
    sign_as(seed, &hash, bomb.bytes().into_owned())
}

/// Row 2: an uncompressed change carrying one value of `size` bytes.
pub fn big_value(seed: &[u8; 32], size: usize, now: Timestamp) -> SignedChange {
    sign_chunk(seed, raw_put(seed, "need/big", vec![7; size], now).raw_bytes().to_vec())
}

/// Row 2: a valid change `c`, deflated (same hash, so the same signature).
pub fn deflated(c: &SignedChange) -> SignedChange {
    let mut am = automerge::Change::from_bytes(c.change_bytes().to_vec()).expect("a valid change");
    SignedChange::from_parts(c.doc(), am.bytes().into_owned(), *c.sig_bytes())
}

/// Row 2: a change of a few hundred bytes whose columns declare `ops` null
/// puts (run-length encoding lets any count fit). `c` gives the header.
pub fn op_bomb(seed: &[u8; 32], c: &SignedChange, ops: u64) -> SignedChange {
    recraft(seed, c, |l, b| {
        let n = ops as i64;
        let null_run = [layout::sleb(0), layout::uleb(ops)].concat();
        let columns: Vec<(u32, Vec<u8>)> = vec![
            (0x11, null_run.clone()),
            (0x13, null_run),
            (0x15, [layout::sleb(n), layout::uleb(1), b"k".to_vec()].concat()),
            (0x34, layout::uleb(ops)),
            (0x42, [layout::sleb(n), layout::uleb(1)].concat()),
            (0x56, [layout::sleb(n), layout::uleb(0)].concat()),
            (0x70, [layout::sleb(n), layout::uleb(0)].concat()),
        ];
        let mut data = b[l.data..l.column_meta.start].to_vec();
        data.extend(layout::uleb(columns.len() as u64));
        for (spec, col) in &columns {
            data.extend(layout::uleb(u64::from(*spec)));
            data.extend(layout::uleb(col.len() as u64));
        }
        for (_, col) in &columns {
            data.extend_from_slice(col);
        }
        data
    })
}

/// Row 5: `c` (a first change: no dependencies) made to depend on a change
/// nobody has, numbered `i`.
pub fn orphan(seed: &[u8; 32], c: &SignedChange, i: u64) -> SignedChange {
    recraft(seed, c, |l, b| {
        assert_eq!(b[l.data], 0, "a first change has no dependencies");
        let mut data = layout::uleb(1);
        data.extend_from_slice(&Sha256::digest(i.to_le_bytes()));
        data.extend_from_slice(&b[l.data + 1..]);
        data
    })
}

/// Row 4: `c`'s signature made again with `R = rB + T`, `T` the point of
/// order 2. Valid by the cofactored equation (ZIP-215); refused by
/// `verify_strict`; accepted by a cofactorless batch only when the batch's
/// random coefficient for it is even. Every node must agree on it.
pub fn torsion_resigned(seed: &[u8; 32], c: &SignedChange) -> SignedChange {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    use sha2::Sha512;
    let hash = chunk_hash(c.change_bytes());
    let message = change::signed_message(&c.doc(), &hash);
    let h = Sha512::digest(seed);
    let mut lower = [0u8; 32];
    lower.copy_from_slice(&h[..32]);
    lower[0] &= 248;
    lower[31] &= 127;
    lower[31] |= 64;
    let a = Scalar::from_bytes_mod_order(lower);
    let public = (ED25519_BASEPOINT_POINT * a).compress();
    let r = Scalar::from_bytes_mod_order_wide(&Sha512::digest(message).into());
    let big_r = (ED25519_BASEPOINT_POINT * r + EIGHT_TORSION[4]).compress();
    let k = Scalar::from_bytes_mod_order_wide(
        &Sha512::new()
            .chain_update(big_r.as_bytes())
            .chain_update(public.as_bytes())
            .chain_update(message)
            .finalize()
            .into(),
    );
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(big_r.as_bytes());
    sig[32..].copy_from_slice(s.as_bytes());
    SignedChange::from_parts(c.doc(), c.change_bytes().to_vec(), sig)
}
