//! `admit`: structure-aware fuzzing of `Registry::admit`, where a change
//! that is validly signed but unexpected in its contents reaches Automerge.
//!
//! Input: `[context] [flags] [change bytes…]`.
//!
//! - `context` picks a fixture state (modulo their number, see
//!   [`Fixtures::contexts`]): every change of the other member, and the
//!   first `prefix` changes of this one. The seeds put that member's next
//!   change in the change bytes.
//! - The change bytes are what libFuzzer mutates. Unless `flags` say
//!   otherwise, the target then repairs them as a forger with the member's
//!   key would: rewrites the chunk's length field and checksum
//!   ([`chunk::reseal`]) and signs the result with the member's key, so
//!   mutations get past decoding and the signature and reach the rules
//!   behind them, and Automerge.
//! - `flags`: bit 0 keeps the length field, bit 1 keeps the checksum, bit 2
//!   keeps the original signature (of the unmutated change), bit 3 sends
//!   the change compressed (deflate), bit 4 sends the member's following
//!   change in the same batch, bit 5 sends the change twice, bit 6 presents
//!   it (signed by that owner) as a change of the *other* member's
//!   document, bit 7 pads the change's data with zeros (automerge keeps
//!   them as extra bytes): then two more bytes (`u16`, little-endian, ×
//!   64) say how many, up to 4 MiB, which deflate to a few kilobytes.
//!
//! Checks: admission never panics and stays within bounded memory;
//! every change is admitted, a duplicate, pending or rejected with a
//! `Rejection`; `persist` gets exactly what was admitted; every admitted
//! change names only the owner's replicas (rule 2, all actors) and decodes
//! to at most `MAX_CHANGE_BYTES`; the unmutated next change is admitted; the
//! registry still answers (every view); and a fresh registry re-admitting
//! everything stored, as a node does when it opens its home
//! (`Trust::OwnStore`), does not panic and shows the same documents and
//! views.

use mutu_protocol::SignedChange;

use super::check;
use super::chunk::{self, Repair};
use super::fixtures::{Fixtures, fixtures};

pub fn run(data: &[u8]) {
    let [context, flags, rest @ ..] = data else {
        return;
    };
    let (pad, bytes) = match rest {
        [lo, hi, bytes @ ..] if flags & 128 != 0 => (usize::from(u16::from_le_bytes([*lo, *hi])) * 64, bytes),
        _ => (0, rest),
    };
    let f = fixtures();
    let ctx = f.context(*context);
    let history = &f.histories[ctx.history];
    let original = &history.changes[ctx.prefix];
    let repair = Repair {
        length: flags & 1 == 0,
        checksum: flags & 2 == 0,
        compress: flags & 8 != 0,
        pad,
    };
    let (bytes, hash) = chunk::reseal(bytes, repair);
    let (doc, seed) = if flags & 64 != 0 {
        let other = &f.histories[(ctx.history + 1) % f.histories.len()];
        (other.member, history.key_seed)
    } else {
        (history.member, history.key_seed)
    };
    let unmutated = bytes == original.change_bytes() && doc == history.member;
    let envelope = match hash {
        Some(h) if flags & 4 == 0 => chunk::sign(seed, doc, bytes, &h),
        _ => SignedChange::from_parts(doc, bytes, *original.sig_bytes()),
    };
    let mut batch = vec![envelope.clone()];
    if flags & 32 != 0 {
        batch.push(envelope);
    }
    if flags & 16 != 0
        && let Some(next) = history.changes.get(ctx.prefix + 1)
    {
        batch.push(next.clone());
    }

    let context = f.context_changes(ctx);
    let mut registry = Fixtures::registry_with(context.clone());
    let (report, stored) = check::admit_untrusted(&mut registry, batch);
    if unmutated && let Ok(change) = original.decode() {
        assert!(
            report.admitted.contains(&(history.member, change.hash())),
            "the member's next change is admitted: {report:?}"
        );
    }
    let shown = check::views_json(&registry);
    let mut all = context;
    all.extend(stored);
    check::reopens_the_same(&shown, all);
}
