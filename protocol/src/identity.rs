//! Member identities: an ed25519 key pair per member.
//!
//! The public key *is* the member id. Its text form is `mu` followed by the
//! lowercase, unpadded RFC 4648 base32 of the 32 key bytes (54 characters in
//! all). The secret never prints: `Debug` shows `SecretKey(..)`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, Signer, SigningKey};

use crate::codec;
use crate::verify::Key;

/// Length of a member id in bytes (an ed25519 public key).
pub const MEMBER_ID_LEN: usize = 32;
/// Length of a replica nonce in bytes.
pub const REPLICA_NONCE_LEN: usize = 16;
/// Prefix of a member id's text form.
pub const MEMBER_ID_PREFIX: &str = "mu";

/// Errors about identities.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    #[error("`{0}` is not a member id: a member id is `mu` followed by 52 base32 characters")]
    InvalidText(String),
    #[error("member id {0} is not a valid ed25519 public key")]
    InvalidKey(MemberId),
}

/// A member id: the member's ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId([u8; MEMBER_ID_LEN]);

impl MemberId {
    pub const fn from_bytes(bytes: [u8; MEMBER_ID_LEN]) -> Self {
        Self(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; MEMBER_ID_LEN] {
        &self.0
    }

    /// Decodes the public key for verification (see [`crate::verify`]),
    /// refusing bytes that are not a point, keys of small order (under which
    /// anyone can forge signatures that verify by ZIP-215 rules), and
    /// non-canonical encodings (so one key has one member id).
    pub fn verifying_key(&self) -> Result<Key, Error> {
        let invalid = || Error::InvalidKey(*self);
        let point = CompressedEdwardsY(self.0).decompress().ok_or_else(invalid)?;
        if point.is_small_order() || point.compress().to_bytes() != self.0 {
            return Err(invalid());
        }
        Key::try_from(self.0).map_err(|_| invalid())
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{MEMBER_ID_PREFIX}{}", codec::base32(&self.0))
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({self})")
    }
}

impl FromStr for MemberId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || Error::InvalidText(s.chars().take(80).collect());
        let rest = s.strip_prefix(MEMBER_ID_PREFIX).ok_or_else(invalid)?;
        let bytes = codec::from_base32(rest).ok_or_else(invalid)?;
        let bytes: [u8; MEMBER_ID_LEN] = bytes.try_into().map_err(|_| invalid())?;
        Ok(Self(bytes))
    }
}

impl serde::Serialize for MemberId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> serde::Deserialize<'de> for MemberId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(Self(codec::deserialize_array(d)?))
        }
    }
}

/// A member's secret key. Never printed, never logged.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// The key whose secret scalar derives from these 32 bytes. Callers pass
    /// bytes from a cryptographic RNG: the protocol crate draws no randomness.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(bytes))
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn member_id(&self) -> MemberId {
        MemberId(self.0.verifying_key().to_bytes())
    }

    /// Signs `domain || message`. Every signature in mutu has its own domain
    /// string, so a signature made for one purpose never verifies for another.
    pub(crate) fn sign(&self, domain: &[u8], message: &[u8]) -> Signature {
        let mut buf = Vec::with_capacity(domain.len() + message.len());
        buf.extend_from_slice(domain);
        buf.extend_from_slice(message);
        self.0.sign(&buf)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// The random part of a replica's actor id, created once per home.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ReplicaNonce(pub [u8; REPLICA_NONCE_LEN]);

/// The Automerge actor id of a member's replica: key ‖ replica nonce.
pub fn actor_id(member: &MemberId, replica: &ReplicaNonce) -> automerge::ActorId {
    let mut bytes = Vec::with_capacity(MEMBER_ID_LEN + REPLICA_NONCE_LEN);
    bytes.extend_from_slice(member.as_bytes());
    bytes.extend_from_slice(&replica.0);
    automerge::ActorId::from(bytes)
}

/// Decoded public keys, cached per member (decoding costs ~5 µs).
#[derive(Debug, Default)]
pub struct KeyCache {
    keys: HashMap<MemberId, Option<Key>>,
}

/// Upper bound on cached keys, so a flood of fake members cannot grow it without end.
const KEY_CACHE_CAPACITY: usize = 100_000;

impl KeyCache {
    /// The decoded key, or `None` when the member id is not a usable key.
    pub fn get(&mut self, member: &MemberId) -> Option<Key> {
        if let Some(key) = self.keys.get(member) {
            return *key;
        }
        let key = member.verifying_key().ok();
        if self.keys.len() >= KEY_CACHE_CAPACITY {
            self.keys.clear();
        }
        self.keys.insert(*member, key);
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_id_text_round_trips() {
        let key = SecretKey::from_bytes(&[7; 32]);
        let id = key.member_id();
        let text = id.to_string();
        assert!(text.starts_with("mu"));
        assert_eq!(text.len(), 54);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(text.parse::<MemberId>().unwrap(), id);
    }

    #[test]
    fn bad_member_ids_are_refused() {
        for bad in ["", "mu", "xx", "muAAAA", &format!("mu{}", "a".repeat(51))] {
            assert!(bad.parse::<MemberId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_key_debug_hides_the_secret() {
        let key = SecretKey::from_bytes(&[9; 32]);
        assert_eq!(format!("{key:?}"), "SecretKey(..)");
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point: a small-order key under which forgeries verify.
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        assert!(MemberId::from_bytes(bytes).verifying_key().is_err());
    }
}
