//! Running under a service manager: systemd's notification protocol
//! (`sd_notify`). With `Type=notify`, systemd sets `NOTIFY_SOCKET` and waits
//! for `READY=1` before it counts the service as started; `STOPPING=1` says
//! a stop is under way. Without `NOTIFY_SOCKET` nothing is sent. A failure
//! to notify is logged, never fatal: the node runs either way.

use std::ffi::OsStr;
use std::io;

/// The environment variable systemd sets for `Type=notify` services.
const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Tells the service manager, if any, that the node listens and serves.
pub fn ready() {
    notify("READY=1");
}

/// Tells the service manager, if any, that the node is stopping.
pub fn stopping() {
    notify("STOPPING=1");
}

fn notify(state: &str) {
    let Some(socket) = std::env::var_os(NOTIFY_SOCKET) else {
        return;
    };
    if let Err(e) = send(&socket, state) {
        tracing::warn!(error = %e, socket = ?socket, "cannot notify the service manager");
    }
}

#[cfg(target_os = "linux")]
fn send(socket: &OsStr, state: &str) -> io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};

    let datagram = UnixDatagram::unbound()?;
    let bytes = socket.as_bytes();
    // `@name` is an abstract socket (Linux); anything else a path.
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name)?,
        None => SocketAddr::from_pathname(socket)?,
    };
    datagram.send_to_addr(state.as_bytes(), &addr)?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn send(_socket: &OsStr, _state: &str) -> io::Result<()> {
    Ok(())
}

/// SIGTERM and SIGINT, caught from the moment this is made: made before a
/// node says it is ready, so a stop asked right after `READY=1` is never
/// lost to the default action (the process killed without stopping).
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts catching the signals (inside a Tokio runtime).
    pub fn catch() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves when SIGTERM or SIGINT arrives.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
