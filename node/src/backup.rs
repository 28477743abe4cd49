//! Backups of a member: its identity and every change its home holds, in
//! one file, and the way back into an empty home.
//!
//! The file is one line of JSON (the header), then the bundle of changes
//! (`mutu export`'s format). The header carries the member id and the
//! secret key encrypted with a passphrase by age (`age::scrypt`, armored):
//! the key, which no one can recover, never sits in the file in clear.
//! The changes are public anyway (every peer holds them).
//!
//! A restored home takes a **new replica nonce**: its next changes are made
//! by a new Automerge actor, so they can never collide with what the member
//! published after the backup was taken (which would be two histories with
//! the same actor and sequence number: equivocation). The node then fetches
//! those newer changes from its peers like any others.

use std::io::Write;

use age::secrecy::SecretString;
use mutu_protocol::Timestamp;
use mutu_protocol::bundle::{self, Bundle};
use mutu_protocol::identity::{MemberId, SecretKey};
use serde::{Deserialize, Serialize};

/// The header's `format`.
pub const FORMAT: &str = "mutu-backup";
/// The header's `version`.
pub const VERSION: u32 = 1;
/// The header line is at most this long (it holds an armored key).
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The largest scrypt work factor (log2 N) a backup may ask for when it is
/// opened: 2^20 takes 1 GiB and a few seconds; a file asking for more is
/// refused rather than left to exhaust the machine.
const MAX_WORK_FACTOR: u8 = 20;
/// Shortest passphrase accepted when sealing.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// Errors of sealing or opening a backup.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a mutu backup: {0}")]
    Format(String),
    #[error("a backup of version {found}; this mutu reads version {VERSION}: use the mutu that wrote it")]
    Version { found: u32 },
    #[error("cannot decrypt the identity: wrong passphrase, or the backup is damaged ({0})")]
    Decrypt(String),
    #[error("the backup's key is not that of the member it names ({0}): the backup is damaged")]
    KeyMismatch(MemberId),
    #[error("the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")]
    WeakPassphrase,
    #[error("cannot encrypt the identity: {0}")]
    Encrypt(String),
    #[error("the backup's changes: {0}")]
    Bundle(#[from] bundle::Error),
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    member: MemberId,
    /// When the backup was made (ms since the epoch).
    created_ms: u64,
    /// The 32 bytes of the secret key, age-encrypted with the passphrase,
    /// ASCII-armored.
    identity: String,
}

/// A backup opened with its passphrase.
#[derive(Debug)]
pub struct Opened {
    pub key: SecretKey,
    pub bundle: Bundle,
    pub created: Timestamp,
}

/// The backup file of `key`'s member holding `bundle`.
pub fn seal(key: &SecretKey, bundle: &Bundle, created: Timestamp, passphrase: &str) -> Result<Vec<u8>, Error> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::WeakPassphrase);
    }
    let recipient = age::scrypt::Recipient::new(SecretString::from(passphrase.to_owned()));
    let identity = age::encrypt_and_armor(&recipient, &key.to_bytes()).map_err(|e| Error::Encrypt(e.to_string()))?;
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        member: key.member_id(),
        created_ms: created.as_millis(),
        identity,
    };
    // Serializing plain strings and numbers does not fail.
    let mut out = serde_json::to_vec(&header).unwrap_or_default();
    out.push(b'\n');
    let _ = out.write_all(bundle.to_json().as_bytes());
    out.push(b'\n');
    Ok(out)
}

/// Opens a backup file's bytes with `passphrase`. Everything in it is
/// checked: the header's shape, the key against the member it names, the
/// bundle's size and format (its changes are admitted by the caller, as an
/// import's are).
pub fn open(bytes: &[u8], passphrase: &str) -> Result<Opened, Error> {
    let end = bytes
        .iter()
        .take(MAX_HEADER_BYTES)
        .position(|b| *b == b'\n')
        .ok_or_else(|| Error::Format(format!("no header line within {MAX_HEADER_BYTES} bytes")))?;
    let header: Header = serde_json::from_slice(&bytes[..end]).map_err(|e| Error::Format(e.to_string()))?;
    if header.format != FORMAT {
        return Err(Error::Format(format!(
            "format `{}`, expected `{FORMAT}`",
            header.format
        )));
    }
    if header.version != VERSION {
        return Err(Error::Version { found: header.version });
    }
    let mut identity = age::scrypt::Identity::new(SecretString::from(passphrase.to_owned()));
    identity.set_max_work_factor(MAX_WORK_FACTOR);
    let secret = age::decrypt(&identity, header.identity.as_bytes()).map_err(|e| Error::Decrypt(e.to_string()))?;
    let secret: [u8; 32] = secret
        .as_slice()
        .try_into()
        .map_err(|_| Error::Decrypt(format!("{} bytes where a key has 32", secret.len())))?;
    let key = SecretKey::from_bytes(&secret);
    if key.member_id() != header.member {
        return Err(Error::KeyMismatch(header.member));
    }
    let bundle = Bundle::parse(bytes[end + 1..].trim_ascii())?;
    Ok(Opened {
        key,
        bundle,
        created: Timestamp::from_millis(header.created_ms),
    })
}

/// Makes `home`, which holds no identity yet, the home of `key`'s member
/// with a **new** replica nonce (see the module doc).
pub fn install(home: &crate::home::Home, key: &SecretKey) -> Result<(), crate::home::Error> {
    home.create_identity(key.to_bytes(), rand::random())?;
    // The member may have published after the backup was taken: the
    // running node fetches that before it writes (`actor`).
    let marker = home.restored_path();
    crate::home::write_atomically(&marker, 0o600, |f| {
        std::io::Write::write_all(
            f,
            b"restored from a backup: the node fetches the member's newer changes before writing\n",
        )
    })
    .map(drop)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sealed() -> (SecretKey, Vec<u8>) {
        let key = SecretKey::from_bytes(&[9; 32]);
        let bytes = seal(
            &key,
            &Bundle::from_changes([]),
            Timestamp::from_millis(5),
            "correct horse",
        )
        .unwrap();
        (key, bytes)
    }

    #[test]
    fn a_backup_opens_with_its_passphrase_and_holds_no_key_in_clear() {
        let (key, bytes) = sealed();
        let hex: String = key.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert!(!String::from_utf8_lossy(&bytes).contains(&hex));
        let opened = open(&bytes, "correct horse").unwrap();
        assert_eq!(opened.key.member_id(), key.member_id());
        assert_eq!(opened.created, Timestamp::from_millis(5));
    }

    #[test]
    fn a_wrong_passphrase_or_a_damaged_file_is_a_clear_error() {
        let (_, bytes) = sealed();
        let err = open(&bytes, "wrong horse").unwrap_err();
        assert!(matches!(err, Error::Decrypt(_)), "{err}");
        assert!(err.to_string().contains("wrong passphrase"), "{err}");
        assert!(matches!(open(b"{}\n{}", "x"), Err(Error::Format(_))));
        assert!(matches!(open(&[b'x'; 100], "x"), Err(Error::Format(_))));
        let newer = String::from_utf8(bytes.clone())
            .unwrap()
            .replacen("\"version\":1", "\"version\":2", 1);
        assert!(matches!(
            open(newer.as_bytes(), "correct horse"),
            Err(Error::Version { found: 2 })
        ));
        // Another member's id in the header.
        let other = SecretKey::from_bytes(&[8; 32]).member_id().to_string();
        let key = SecretKey::from_bytes(&[9; 32]).member_id().to_string();
        let swapped = String::from_utf8(bytes).unwrap().replacen(&key, &other, 1);
        assert!(matches!(
            open(swapped.as_bytes(), "correct horse"),
            Err(Error::KeyMismatch(_))
        ));
    }

    /// Truncated backups, and single-byte changes in the header, are
    /// errors, never a panic or a wrong key.
    #[test]
    fn damaged_backups_are_errors() {
        let (key, bytes) = sealed();
        let header = bytes.iter().position(|b| *b == b'\n').unwrap();
        // A few places only: every open that reaches the key runs scrypt
        // (about a second).
        for len in [0, 1, header / 2, header, header + 1, bytes.len() - 3] {
            assert!(open(&bytes[..len], "correct horse").is_err(), "cut at {len}");
        }
        for i in [0, 1, 12, header / 3, header / 2, header - 2] {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x20;
            if let Ok(opened) = open(&damaged, "correct horse") {
                assert_eq!(opened.key.member_id(), key.member_id(), "byte {i}");
            }
        }
    }

    #[test]
    fn a_short_passphrase_is_refused() {
        let key = SecretKey::from_bytes(&[9; 32]);
        let err = seal(&key, &Bundle::from_changes([]), Timestamp::from_millis(5), "short").unwrap_err();
        assert!(matches!(err, Error::WeakPassphrase));
    }
}
