//! Whose fault a failure is, said once for every error the front ends can
//! meet. Each front end maps a [`Class`] once: the CLI to an exit code
//! (`cli/src/fail.rs`), the HTTP API and the web forms to a status
//! (`mutu_http::api::error`). The classes are given by exhaustive matches,
//! so a new variant does not compile until someone says whose fault it is.

use mutu_protocol::{bundle, doc, identity, money, record, rules, time};

use crate::{actor, backup, home, ops, reindex, state, store, watch};

/// Whose fault a failure is, and so what the caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// The input is malformed or does not resolve: fix it and ask again.
    Input,
    /// An id or prefix that matches nothing known here.
    NotFound,
    /// The request contradicts the record as it is now.
    Conflict,
    /// The statement breaks a registry rule.
    Rule,
    /// The machine failed (store, disk, a stopped node): ours, not the
    /// caller's; the request may be retried.
    Internal,
}

impl Class {
    /// Whether the caller can fix this by changing what they asked.
    pub fn is_callers(self) -> bool {
        self != Class::Internal
    }
}

/// An error that knows its [`Class`].
pub trait Classify {
    fn class(&self) -> Class;
}

impl Classify for ops::Error {
    fn class(&self) -> Class {
        match self {
            ops::Error::BadField { .. } => Class::Input,
            ops::Error::NotFound(_) => Class::NotFound,
            ops::Error::Conflict(_) => Class::Conflict,
            ops::Error::Rule(_) => Class::Rule,
            ops::Error::Internal(e) => e.class(),
        }
    }
}

impl Classify for state::Error {
    fn class(&self) -> Class {
        match self {
            state::Error::Home(e) => e.class(),
            state::Error::Store(e) => e.class(),
            state::Error::Rule(_) => Class::Rule,
            state::Error::Invalid(_) | state::Error::AmbiguousId { .. } | state::Error::WrongKind { .. } => {
                Class::Input
            }
            state::Error::UnknownId(_) => Class::NotFound,
            state::Error::BlockSelf => Class::Input,
            state::Error::Bundle(e) => e.class(),
            // A change this node made itself was refused, or its own
            // document failed: ours.
            state::Error::NotAdmitted(_) | state::Error::Doc(_) => Class::Internal,
            // A reader outlived the node it read from.
            state::Error::Closed => Class::Internal,
        }
    }
}

impl Classify for home::Error {
    fn class(&self) -> Class {
        match self {
            home::Error::NotInitialised(_) | home::Error::AlreadyInitialised(_) | home::Error::NoDataDir => {
                Class::Input
            }
            home::Error::Damaged { .. } | home::Error::Io { .. } => Class::Internal,
        }
    }
}

impl Classify for watch::Error {
    fn class(&self) -> Class {
        match self {
            watch::Error::Already(_) | watch::Error::NotWatched(_) => Class::Conflict,
            watch::Error::Full => Class::Rule,
            watch::Error::Home(e) => e.class(),
        }
    }
}

impl Classify for store::Error {
    fn class(&self) -> Class {
        match self {
            // Another process holds the store: stop it or use it.
            store::Error::Locked(_) => Class::Conflict,
            // The home is newer than this program: run the newer one.
            store::Error::NewerFormat { .. } => Class::Conflict,
            // A full disk or a damaged file: the machine's, not the request's.
            store::Error::Open { .. }
            | store::Error::Db(_)
            | store::Error::Damaged(_)
            | store::Error::DiskFull { .. }
            | store::Error::Corrupt { .. } => Class::Internal,
        }
    }
}

impl Classify for reindex::Error {
    fn class(&self) -> Class {
        match self {
            reindex::Error::NoStore(_) => Class::Input,
            reindex::Error::Io { .. } => Class::Internal,
            reindex::Error::Store(e) => e.class(),
        }
    }
}

impl Classify for actor::Error {
    fn class(&self) -> Class {
        match self {
            actor::Error::Stopped | actor::Error::Reader(_) => Class::Internal,
            actor::Error::State(e) => e.class(),
        }
    }
}

impl Classify for backup::Error {
    fn class(&self) -> Class {
        match self {
            backup::Error::Format(_)
            | backup::Error::Version { .. }
            | backup::Error::Decrypt(_)
            | backup::Error::KeyMismatch(_)
            | backup::Error::WeakPassphrase
            | backup::Error::Bundle(_) => Class::Input,
            backup::Error::Encrypt(_) => Class::Internal,
        }
    }
}

impl Classify for bundle::Error {
    fn class(&self) -> Class {
        match self {
            bundle::Error::Format(_)
            | bundle::Error::TooLarge { .. }
            | bundle::Error::Rejected { .. }
            | bundle::Error::Incomplete { .. }
            | bundle::Error::InvalidRecord { .. } => Class::Input,
        }
    }
}

/// Errors of parsing what someone typed: always the input's.
macro_rules! input_errors {
    ($($t:ty),* $(,)?) => {$(
        impl Classify for $t {
            fn class(&self) -> Class {
                Class::Input
            }
        }
    )*};
}
input_errors!(money::Error, time::DateError, identity::Error, record::Invalid);

impl Classify for doc::Error {
    /// Writing to this node's own document failed: ours.
    fn class(&self) -> Class {
        Class::Internal
    }
}

impl Classify for rules::Violation {
    fn class(&self) -> Class {
        Class::Rule
    }
}

/// The class of the first error in `chain` (an error and its sources)
/// that knows its class; `None` if none does.
pub fn class_of<'a>(mut chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>) -> Option<Class> {
    chain.find_map(|e| {
        macro_rules! try_types {
            ($($t:ty),*) => {$(
                if let Some(e) = e.downcast_ref::<$t>() {
                    return Some(e.class());
                }
            )*};
        }
        try_types!(
            ops::Error,
            state::Error,
            home::Error,
            store::Error,
            actor::Error,
            backup::Error,
            reindex::Error,
            bundle::Error,
            money::Error,
            time::DateError,
            identity::Error,
            record::Invalid,
            doc::Error,
            rules::Violation
        );
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_error_keeps_the_class_of_what_it_wraps() {
        let locked = state::Error::Store(store::Error::Locked("store.redb".into()));
        assert_eq!(locked.class(), Class::Conflict);
        let unknown = ops::Error::Internal(state::Error::UnknownId("abc".into()));
        assert_eq!(unknown.class(), Class::NotFound);
        let stopped = actor::Error::Stopped;
        assert_eq!(stopped.class(), Class::Internal);
        assert!(!Class::Internal.is_callers());
    }

    #[test]
    fn the_class_of_a_chain_is_that_of_its_first_known_error() {
        #[derive(Debug, thiserror::Error)]
        #[error("while importing")]
        struct Context(#[source] ops::Error);
        let err = Context(ops::Error::Conflict("already withdrawn".into()));
        let chain = std::iter::successors(Some(&err as &(dyn std::error::Error + 'static)), |e| e.source());
        assert_eq!(class_of(chain), Some(Class::Conflict));
        let io = std::io::Error::other("disk");
        assert_eq!(
            class_of(std::iter::once(&io as &(dyn std::error::Error + 'static))),
            None
        );
    }
}
