//! The request-response codec of the catch-up protocols, both versions
//! offered on every stream (the dialer proposes [`PROTOCOL_V2`] first, an
//! older node answers with [`super::PROTOCOL`]):
//!
//! - `/mutu/sync/1`: requests and responses in plain CBOR, exactly as
//!   libp2p's CBOR codec writes them. A response only `/mutu/sync/2`
//!   knows is written as its `/mutu/sync/1` equivalent
//!   ([`Response::Differ`] as [`Response::OutOfSync`]), so an old
//!   requester reads it and goes on with inventories.
//! - `/mutu/sync/2`: requests the same; a response is one tag byte, then
//!   its CBOR as is ([`RAW`], under [`COMPRESS_FROM`] bytes, where a zstd
//!   frame would only add bytes) or one zstd frame of it ([`ZSTD`]). The
//!   reader takes at most [`MAX_COMPRESSED_RESPONSE_BYTES`] from the stream
//!   and decompresses into a buffer of at most [`MAX_RESPONSE_BYTES`]: a
//!   frame that decodes to more is refused, never decoded in full (a few
//!   kilobytes of zeros compress a gigabyte).
//!
//! The codec counts the bytes it reads and writes on the wire
//! ([`Counters`]), compressed or not.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use libp2p::futures::io::Cursor;
use libp2p::futures::prelude::*;
use libp2p::request_response;
use libp2p::{PeerId, StreamProtocol};

use super::{MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, Request, Response};

/// The catch-up protocol with range reconciliation and compressed
/// responses.
pub const PROTOCOL_V2: StreamProtocol = StreamProtocol::new("/mutu/sync/2");
/// Upper bound on a compressed response as read from the stream: zstd's
/// worst case on incompressible data adds a few bytes per 128 KiB block.
pub const MAX_COMPRESSED_RESPONSE_BYTES: usize = MAX_RESPONSE_BYTES + 16 * 1024;
/// zstd level of responses. Measured on catch-up pages (BENCHMARKS.md):
/// level 3 (zstd's default) gains most of what higher levels gain, at a
/// few milliseconds per 1 MiB page.
pub const ZSTD_LEVEL: i32 = 3;

/// Tag of a `/mutu/sync/2` response sent as plain CBOR.
pub const RAW: u8 = 0;
/// Tag of a `/mutu/sync/2` response sent as a zstd frame of its CBOR.
pub const ZSTD: u8 = 1;
/// Responses of at least this many CBOR bytes are compressed: a summary
/// answer or a small reconciliation message gains nothing from it.
pub const COMPRESS_FROM: usize = 256;

/// Bytes that crossed the wire through the codec, for the sync counters.
#[derive(Debug, Default)]
pub struct Counters {
    pub read: AtomicU64,
    pub written: AtomicU64,
}

/// The counters of each live node of the process, by local peer id: the
/// codec lives inside libp2p's behaviour, which gives no access to it, and
/// the actor only has the swarm. Entries of dropped nodes are pruned when
/// a node registers.
static COUNTERS: Mutex<BTreeMap<PeerId, Weak<Counters>>> = Mutex::new(BTreeMap::new());

/// New counters for the node `local` (its behaviour's codec).
pub fn register(local: PeerId) -> Arc<Counters> {
    let counters = Arc::new(Counters::default());
    let mut all = COUNTERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    all.retain(|_, c| c.strong_count() > 0);
    all.insert(local, Arc::downgrade(&counters));
    counters
}

/// The counters of the node `local`, if its behaviour is alive.
pub fn counters(local: &PeerId) -> Option<Arc<Counters>> {
    let all = COUNTERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    all.get(local).and_then(Weak::upgrade)
}

/// The codec; clones share their [`Counters`].
#[derive(Clone)]
pub struct Codec {
    inner: request_response::cbor::codec::Codec<Request, Response>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Codec {
    pub fn new(counters: Arc<Counters>) -> Self {
        Self {
            inner: request_response::cbor::codec::Codec::default()
                .set_request_size_maximum(MAX_REQUEST_BYTES as u64)
                .set_response_size_maximum(MAX_RESPONSE_BYTES as u64),
            counters,
        }
    }
}

/// The `/mutu/sync/2` bytes of a response whose CBOR is `cbor`.
pub fn pack(cbor: Vec<u8>) -> io::Result<Vec<u8>> {
    if cbor.len() < COMPRESS_FROM {
        let mut out = Vec::with_capacity(cbor.len() + 1);
        out.push(RAW);
        out.extend_from_slice(&cbor);
        return Ok(out);
    }
    let mut out = vec![ZSTD];
    out.extend_from_slice(&zstd::bulk::compress(&cbor, ZSTD_LEVEL)?);
    Ok(out)
}

/// The CBOR of a `/mutu/sync/2` response read as `bytes` (at most
/// [`MAX_RESPONSE_BYTES`] once decompressed).
pub fn unpack(bytes: &[u8]) -> io::Result<Vec<u8>> {
    match bytes.split_first() {
        Some((&RAW, cbor)) => Ok(cbor.to_vec()),
        Some((&ZSTD, frame)) => decompress(frame),
        Some((tag, _)) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("sync response has unknown encoding tag {tag}"),
        )),
        None => Err(io::Error::new(io::ErrorKind::InvalidData, "empty sync response")),
    }
}

/// Decompresses a response frame into at most [`MAX_RESPONSE_BYTES`]:
/// a frame that says or turns out to be larger is an error, and no more
/// than that is ever allocated.
pub fn decompress(frame: &[u8]) -> io::Result<Vec<u8>> {
    zstd::bulk::decompress(frame, MAX_RESPONSE_BYTES).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("compressed sync response is invalid or decodes to more than {MAX_RESPONSE_BYTES} bytes: {e}"),
        )
    })
}

impl request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T>(&mut self, protocol: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut bytes = Vec::new();
        io.take(MAX_REQUEST_BYTES as u64).read_to_end(&mut bytes).await?;
        self.counters.read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.inner.read_request(protocol, &mut Cursor::new(bytes)).await
    }

    async fn read_response<T>(&mut self, protocol: &StreamProtocol, io: &mut T) -> io::Result<Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        let limit = if *protocol == PROTOCOL_V2 {
            MAX_COMPRESSED_RESPONSE_BYTES
        } else {
            MAX_RESPONSE_BYTES
        };
        let mut bytes = Vec::new();
        io.take(limit as u64).read_to_end(&mut bytes).await?;
        self.counters.read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if *protocol == PROTOCOL_V2 {
            bytes = unpack(&bytes)?;
        }
        self.inner.read_response(protocol, &mut Cursor::new(bytes)).await
    }

    async fn write_request<T>(&mut self, protocol: &StreamProtocol, io: &mut T, request: Request) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let mut cbor = Cursor::new(Vec::new());
        self.inner.write_request(protocol, &mut cbor, request).await?;
        let bytes = cbor.into_inner();
        self.counters.written.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        io.write_all(&bytes).await
    }

    async fn write_response<T>(&mut self, protocol: &StreamProtocol, io: &mut T, response: Response) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let v2 = *protocol == PROTOCOL_V2;
        let response = if v2 { response } else { response.for_v1() };
        let mut cbor = Cursor::new(Vec::new());
        self.inner.write_response(protocol, &mut cbor, response).await?;
        let mut bytes = cbor.into_inner();
        if v2 {
            bytes = pack(bytes)?;
        }
        self.counters.written.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        io.write_all(&bytes).await
    }
}

#[cfg(test)]
mod tests;
