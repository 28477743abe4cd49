//! The `/mutu/sync/1` codec exactly as the node runs it
//! (`mutu_node::net::sync::wire::Codec`: libp2p's `request_response::cbor`
//! codec with the node's size limits on this protocol), driven
//! synchronously over in-memory streams, so targets decode requests and
//! responses with the very code that decodes them off the network.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use libp2p::futures::io::Cursor;
use libp2p::request_response::Codec as _;
use mutu_node::net::sync::{self, Request, Response, wire};

/// The node's codec (see `mutu_node::net::behaviour::Behaviour::new`).
fn codec() -> wire::Codec {
    wire::Codec::new(std::sync::Arc::default())
}

/// Runs a future that never waits (in-memory streams are always ready).
fn now<T>(fut: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(io::Error::other("an in-memory stream was not ready")),
    }
}

/// Decodes a request as the node reads it from a stream carrying `bytes`.
pub fn read_request(bytes: &[u8]) -> io::Result<Request> {
    now(codec().read_request(&sync::PROTOCOL, &mut Cursor::new(bytes)))
}

/// Decodes a response as the node reads it from a stream carrying `bytes`.
pub fn read_response(bytes: &[u8]) -> io::Result<Response> {
    now(codec().read_response(&sync::PROTOCOL, &mut Cursor::new(bytes)))
}

/// The bytes the node writes for `request`.
pub fn write_request(request: Request) -> io::Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    now(codec().write_request(&sync::PROTOCOL, &mut out, request))?;
    Ok(out.into_inner())
}

/// The bytes the node writes for `response`.
pub fn write_response(response: Response) -> io::Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    now(codec().write_response(&sync::PROTOCOL, &mut out, response))?;
    Ok(out.into_inner())
}
