use libp2p::request_response::Codec as _;
use mutu_protocol::SecretKey;

use super::*;
use crate::net::sync::PROTOCOL;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn codec() -> Codec {
    Codec::new(Arc::new(Counters::default()))
}

/// Bytes `response` takes on the wire over `protocol`.
fn written(protocol: &StreamProtocol, response: Response) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    block_on(codec().write_response(protocol, &mut out, response)).unwrap();
    out.into_inner()
}

fn read(protocol: &StreamProtocol, bytes: Vec<u8>) -> io::Result<Response> {
    block_on(codec().read_response(protocol, &mut Cursor::new(bytes)))
}

/// A page of changes of one shape, as catch-up sends them.
fn page() -> Response {
    let key = SecretKey::from_bytes(&[3; 32]);
    let changes = (0..200u32)
        .map(|i| {
            let mut body = b"need title=Repair the roof of the community hall;status=open;".to_vec();
            body.extend_from_slice(&i.to_le_bytes());
            mutu_protocol::SignedChange::from_parts(key.member_id(), body, [i as u8; 64])
        })
        .collect();
    Response::Changes { changes, more: false }
}

#[test]
fn v2_responses_are_compressed_and_read_back_whole() {
    let v1 = written(&PROTOCOL, page());
    let v2 = written(&PROTOCOL_V2, page());
    assert!(
        v2.len() * 2 < v1.len(),
        "compressed {} bytes, plain {}",
        v2.len(),
        v1.len()
    );
    assert_eq!(read(&PROTOCOL_V2, v2).unwrap(), page());
    assert_eq!(read(&PROTOCOL, v1).unwrap(), page());
}

/// A zip bomb: 64 MiB of zeros compress to a few kilobytes. The reader
/// refuses it without decoding (or allocating) more than the cap.
#[test]
fn a_small_frame_that_decodes_past_the_cap_is_refused() {
    let bomb = zstd::bulk::compress(&vec![0u8; 64 * 1024 * 1024], 19).unwrap();
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    assert!(decompress(&bomb).is_err());
    let mut tagged = vec![ZSTD];
    tagged.extend_from_slice(&bomb);
    let error = read(&PROTOCOL_V2, tagged).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("decodes to more than"), "{error}");
    // Just over the cap, without the size in the frame header (streamed).
    let mut streamed = Vec::new();
    {
        let mut encoder = zstd::stream::write::Encoder::new(&mut streamed, 3).unwrap();
        io::Write::write_all(&mut encoder, &vec![7u8; MAX_RESPONSE_BYTES + 1]).unwrap();
        encoder.finish().unwrap();
    }
    assert!(decompress(&streamed).is_err());
    // Garbage is an error too, never a panic.
    assert!(read(&PROTOCOL_V2, vec![ZSTD, 0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff]).is_err());
    assert!(read(&PROTOCOL_V2, vec![7, 1, 2, 3]).is_err());
    assert!(read(&PROTOCOL_V2, Vec::new()).is_err());
}

/// An old node reads what a new node writes on `/mutu/sync/1`: plain
/// CBOR, `Differ` as `OutOfSync`.
#[test]
fn v1_streams_carry_what_an_old_node_reads() {
    let mut old = request_response::cbor::codec::Codec::<Request, Response>::default();
    for (sent, seen) in [
        (Response::Differ, Response::OutOfSync),
        (Response::InSync, Response::InSync),
        (page(), page()),
    ] {
        let bytes = written(&PROTOCOL, sent);
        let got = block_on(old.read_response(&PROTOCOL, &mut Cursor::new(bytes))).unwrap();
        assert_eq!(got, seen);
    }
    let bytes = written(
        &PROTOCOL,
        Response::Reconcile(crate::net::sync::DocsMessage { ranges: Vec::new() }),
    );
    let got = block_on(old.read_response(&PROTOCOL, &mut Cursor::new(bytes))).unwrap();
    assert!(matches!(got, Response::Error(_)), "{got:?}");
}

/// Small answers (a summary's) go as they are: compressing them would
/// only add a frame header.
#[test]
fn small_v2_responses_are_sent_raw() {
    for small in [Response::InSync, Response::Differ] {
        let bytes = written(&PROTOCOL_V2, small.clone());
        assert_eq!(bytes[0], RAW);
        assert_eq!(read(&PROTOCOL_V2, bytes).unwrap(), small);
    }
    assert_eq!(written(&PROTOCOL_V2, page())[0], ZSTD);
}

#[test]
fn the_codec_counts_wire_bytes() {
    let counters = Arc::new(Counters::default());
    let mut c = Codec::new(counters.clone());
    let mut out = Cursor::new(Vec::new());
    block_on(c.write_response(&PROTOCOL_V2, &mut out, page())).unwrap();
    let n = out.get_ref().len() as u64;
    assert_eq!(counters.written.load(Ordering::Relaxed), n);
    block_on(c.read_response(&PROTOCOL_V2, &mut Cursor::new(out.into_inner()))).unwrap();
    assert_eq!(counters.read.load(Ordering::Relaxed), n);
}
