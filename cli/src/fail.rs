//! Failures: which are the user's to fix (exit 2) and which are ours (exit 1).

use std::fmt;

use mutu_node::{home, state};
use mutu_protocol::{bundle, identity, money, record, rules, time};

/// A mistake in the command's input. Exit code 2.
#[derive(Debug)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// A user error with `message`.
pub fn user(message: impl Into<String>) -> anyhow::Error {
    UserError(message.into()).into()
}

/// 2 if any error in the chain is the user's to fix, else 1.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if let Some(remote) = err.chain().find_map(|c| c.downcast_ref::<crate::node::RemoteFailure>()) {
        return remote.code;
    }
    let user = err.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<state::Error>() {
            return e.is_user_error();
        }
        if let Some(e) = cause.downcast_ref::<home::Error>() {
            return matches!(
                e,
                home::Error::NotInitialised(_) | home::Error::AlreadyInitialised(_) | home::Error::NoDataDir
            );
        }
        cause.is::<UserError>()
            || cause.is::<bundle::Error>()
            || cause.is::<money::Error>()
            || cause.is::<time::DateError>()
            || cause.is::<identity::Error>()
            || cause.is::<record::Invalid>()
            || cause.is::<rules::Violation>()
    });
    if user { 2 } else { 1 }
}

/// The error chain on one line, each cause once (a wrapping error often
/// already includes its source's text).
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line.replace(['\n', '\r'], " ")
}

/// Whether stdout was closed under us (e.g. `mutu export | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
