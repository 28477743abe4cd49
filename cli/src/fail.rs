//! Failures: which are the user's to fix (exit 2) and which are ours (exit 1).

use std::fmt;

use mutu_node::error::class_of;

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

/// A control request's failure, offline: the caller's (by its class) as a
/// user error naming the flag at fault, ours with its causes.
pub fn control(e: mutu_http::control::Error) -> anyhow::Error {
    use mutu_http::control::Error;
    use mutu_node::error::Classify;
    match e {
        Error::Op(e) => crate::commands::write::failure(e),
        e if e.class().is_callers() => user(e.to_string()),
        e => e.into(),
    }
}

/// The exit code of a failure: 2 if it is the user's to fix (its class is
/// not `Class::Internal`, or a [`UserError`]), 1 if it is ours. The class
/// comes from `mutu_node::error`, the one place that says whose fault each
/// error is; a remote failure keeps the code the node chose.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if let Some(remote) = err.chain().find_map(|c| c.downcast_ref::<crate::node::RemoteFailure>()) {
        return remote.code;
    }
    if err.chain().any(|c| c.is::<UserError>()) {
        return 2;
    }
    match class_of(err.chain()) {
        Some(class) if class.is_callers() => 2,
        _ => 1,
    }
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
