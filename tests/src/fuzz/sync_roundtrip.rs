//! `sync_roundtrip`: the sync wire format from the sender's side. The input
//! is not decoded as CBOR: it drives the construction of requests,
//! responses and gossip batches (counts, sizes, contents), the way
//! libFuzzer's `arbitrary` would, so the encoder and the bounds are
//! explored with values no decoder would produce.
//!
//! Checks:
//! - a request or response that passes `check` and encodes within the
//!   codec's limit decodes to the same value;
//! - what the node's own constructors make is always sendable:
//!   `Request::changes_by_hash` pages, `inventory_pages`,
//!   `Response::changes_chunk` and `Response::error` pass `check`, fit the
//!   codec's limit and round-trip; `GossipBatch::split` batches encode and
//!   decode to themselves; nothing is lost or reordered by the splitting.

use std::collections::BTreeMap;

use automerge::ChangeHash;
use mutu_node::net::sync::{self, GossipBatch, HeadsDigest, Request, Response};
use mutu_protocol::change::MAX_CHANGE_BYTES;
use mutu_protocol::{MemberId, SignedChange};

use super::wire;

/// Total change bytes one input may build, so one execution stays cheap
/// while still crossing the 16 MiB response limit.
const BUDGET: usize = 20 * 1024 * 1024;

/// Reads values from the input; past its end, deterministic filler.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    filler: u64,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            filler: 0,
        }
    }

    fn u8(&mut self) -> u8 {
        match self.data.get(self.pos) {
            Some(b) => {
                self.pos += 1;
                *b
            }
            None => {
                self.filler = self.filler.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (self.filler >> 56) as u8
            }
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        b.iter_mut().for_each(|x| *x = self.u8());
        u64::from_le_bytes(b)
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        b.iter_mut().for_each(|x| *x = self.u8());
        b
    }

    /// `n` bytes: what the input has left, then one filler byte repeated
    /// (building megabytes byte by byte would make an execution slow).
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let end = self.data.len().min(self.pos.saturating_add(n));
        let mut out = self.data.get(self.pos..end).unwrap_or_default().to_vec();
        self.pos = end;
        if out.len() < n {
            let fill = vec![self.u8(); n - out.len()];
            out.extend_from_slice(&fill);
        }
        out
    }

    /// A count: usually small, sometimes at or around a bound (rarely:
    /// large values make an execution slow).
    fn count(&mut self, bound: usize) -> usize {
        match self.u8() % 32 {
            0 => bound,
            1 => bound + 1,
            2 => bound.saturating_sub(1),
            3 | 4 => usize::from(self.u16()) % (2 * bound + 2),
            _ => usize::from(self.u8() % 16),
        }
    }
}

pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let doc = MemberId::from_bytes(r.array());
    match r.u8() % 8 {
        0 => roundtrip_request(Request::Summary {
            digest: HeadsDigest(r.array()),
            docs: r.u64(),
        }),
        1 => {
            let n = r.count(sync::MAX_INVENTORY_DOCS);
            let entries = (0..n).map(|_| (MemberId::from_bytes(r.array()), HeadsDigest(r.array())));
            let ours: BTreeMap<MemberId, HeadsDigest> = entries.collect();
            for page in sync::inventory_pages(&ours) {
                sendable_request(Request::Inventory(page.clone()));
                let answer = sync::inventory_response(&ours, &page[..page.len() / 2]);
                sendable_response(Response::Inventory(answer));
            }
        }
        2 => {
            let n = r.count(sync::MAX_HEADS);
            let heads: Vec<ChangeHash> = (0..n).map(|_| ChangeHash(r.array())).collect();
            roundtrip_request(Request::changes_since(doc, &heads));
        }
        3 => {
            let n = r.count(sync::MAX_HASHES);
            let hashes: Vec<ChangeHash> = (0..n).map(|_| ChangeHash(r.array())).collect();
            let pages = Request::changes_by_hash(doc, &hashes);
            let mut again = Vec::new();
            for page in pages {
                if let Request::ChangesByHash { hashes, .. } = &page {
                    again.extend(sync::from_wire(hashes));
                }
                sendable_request(page);
            }
            assert_eq!(again, hashes, "splitting a hash list loses and reorders nothing");
        }
        4 => {
            // The node answers from the start of what is missing; the asker
            // asks again for the rest.
            let all = changes(&mut r, doc);
            let mut from = 0;
            loop {
                let chunk = Response::changes_chunk(all[from..].iter().cloned());
                sendable_response(chunk.clone());
                let Response::Changes { changes, more } = chunk else {
                    panic!("changes_chunk makes a Changes answer");
                };
                assert_eq!(
                    changes[..],
                    all[from..from + changes.len()],
                    "an answer is a prefix, in order"
                );
                from += changes.len();
                assert_eq!(more, from < all.len(), "`more` says whether changes were left out");
                if !more {
                    break;
                }
                assert!(!changes.is_empty(), "an answer with more to come carries something");
            }
        }
        5 => {
            let changes = changes(&mut r, doc);
            let batches = GossipBatch::split(doc, changes.clone());
            let mut again = Vec::new();
            for b in batches {
                let bytes = b.encode().unwrap_or_else(|e| panic!("a split batch encodes: {e}"));
                assert_eq!(GossipBatch::decode(&bytes).ok().as_ref(), Some(&b));
                again.extend(b.changes);
            }
            assert_eq!(again, changes, "splitting a batch loses and reorders nothing");
        }
        6 => {
            let n = usize::from(r.u16()) * 2;
            let text = String::from_utf8_lossy(&r.bytes(n)).into_owned();
            sendable_response(Response::error(text));
        }
        _ => {
            roundtrip_response(if r.u8().is_multiple_of(2) {
                Response::InSync
            } else {
                Response::OutOfSync
            });
            let n = r.count(sync::MAX_INVENTORY_DOCS);
            let entries = (0..n)
                .map(|_| (MemberId::from_bytes(r.array()), HeadsDigest(r.array())))
                .collect();
            roundtrip_response(Response::Inventory(entries));
        }
    }
}

/// Signed changes of `doc` with contents from the input, each at most
/// [`MAX_CHANGE_BYTES`] (admission's bound), within [`BUDGET`] in all.
fn changes(r: &mut Reader<'_>, doc: MemberId) -> Vec<SignedChange> {
    let n = r.count(sync::MAX_CHANGES_PER_RESPONSE);
    let mut out = Vec::new();
    let mut total = 0;
    for _ in 0..n {
        let len = match r.u8() % 64 {
            0 => MAX_CHANGE_BYTES,
            1..=3 => usize::from(r.u16()),
            _ => usize::from(r.u8()),
        };
        if total + len > BUDGET {
            break;
        }
        total += len;
        let bytes = r.bytes(len);
        out.push(SignedChange::from_parts(doc, bytes, r.array()));
    }
    out
}

fn roundtrip_request(request: Request) {
    let bytes = wire::write_request(request.clone()).unwrap_or_else(|e| panic!("a request encodes: {e}"));
    if request.check().is_ok() && bytes.len() <= sync::MAX_REQUEST_BYTES {
        assert_eq!(
            wire::read_request(&bytes).ok().as_ref(),
            Some(&request),
            "a request round-trips"
        );
    }
}

fn roundtrip_response(response: Response) {
    let bytes = wire::write_response(response.clone()).unwrap_or_else(|e| panic!("a response encodes: {e}"));
    if response.check().is_ok() && bytes.len() <= sync::MAX_RESPONSE_BYTES {
        assert_eq!(
            wire::read_response(&bytes).ok().as_ref(),
            Some(&response),
            "a response round-trips"
        );
    }
}

/// A request the node makes: it passes `check`, fits the codec's limit and
/// round-trips.
fn sendable_request(request: Request) {
    if let Err(e) = request.check() {
        panic!("the node would send a request the receiver refuses: {e}");
    }
    let bytes = wire::write_request(request.clone()).unwrap_or_else(|e| panic!("a request encodes: {e}"));
    assert!(
        bytes.len() <= sync::MAX_REQUEST_BYTES,
        "a request of {} bytes is over the codec's limit",
        bytes.len()
    );
    roundtrip_request(request);
}

fn sendable_response(response: Response) {
    super::sync_request::answer_is_sendable(&response);
}
