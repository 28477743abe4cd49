//! Invitations: a short text one member gives another so that their nodes
//! meet, whatever their networks.
//!
//! `mutu1:` followed by lowercase unpadded base32 of `cbor ‖ check`, where
//! `cbor` is `{"m": <member key, 32 bytes>, "a": [<multiaddr bytes>, …]}`
//! and `check` the first [`CHECK_LEN`] bytes of SHA-256 of `cbor` (a cut or
//! mistyped copy is caught). The peer id is derived from the member key (a
//! mutu node's libp2p identity is its member key), so it is not repeated.
//! The addresses are where the inviting node can be reached: confirmed
//! external addresses, circuit addresses through its relays, then its
//! listen addresses; at most [`MAX_ADDRS`], each at most [`MAX_ADDR_BYTES`].
//!
//! The text is written by whoever sends it: [`Invitation::parse`] bounds
//! the text before decoding ([`MAX_TEXT`]), and each error says what is
//! wrong and what to do.

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use mutu_protocol::MemberId;
use mutu_protocol::codec;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What every invitation starts with (version 1).
pub const PREFIX: &str = "mutu1:";
/// Addresses in one invitation.
pub const MAX_ADDRS: usize = 8;
/// Bytes of one address (a circuit address through a DNS-named relay is
/// about 120).
pub const MAX_ADDR_BYTES: usize = 160;
/// Bytes of the checksum.
pub const CHECK_LEN: usize = 4;
/// Characters of an invitation: room for [`MAX_ADDRS`] addresses of
/// [`MAX_ADDR_BYTES`] and the key, in base32.
pub const MAX_TEXT: usize = PREFIX.len() + (32 + MAX_ADDRS * (MAX_ADDR_BYTES + 3) + 16 + CHECK_LEN) * 8 / 5 + 1;

/// An invitation: the member, its node's peer id and addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub member: MemberId,
    pub peer: PeerId,
    /// Each ends with `/p2p/<peer>`.
    pub addrs: Vec<Multiaddr>,
}

/// Why a text is not an invitation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("an invitation starts with `{PREFIX}`: copy the whole text that `mutu invite` printed")]
    Prefix,
    #[error(
        "this invitation is of version {0}, which this mutu does not read: update mutu, or ask for an invitation from `mutu invite` of this version"
    )]
    Version(String),
    #[error("the invitation is {0} characters long, more than {MAX_TEXT}: it is not an invitation from `mutu invite`")]
    TooLong(usize),
    #[error("the invitation has characters other than a-z and 2-7 after `{PREFIX}`: was it changed while copying?")]
    Base32,
    #[error("the invitation's checksum does not match: part of it was lost or changed while copying; copy it again")]
    Checksum,
    #[error("the invitation's content cannot be read ({0}): ask for a new one")]
    Content(String),
    #[error("the invitation names a member key that is not valid: ask for a new one")]
    Member,
    #[error("the invitation has no address to reach its node: the inviting node must be running when it invites")]
    NoAddress,
    #[error("the invitation has {0} addresses, more than {MAX_ADDRS}")]
    TooManyAddrs(usize),
    #[error("the invitation's address number {0} is not a valid multiaddr: ask for a new one")]
    Addr(usize),
}

#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "m", with = "codec::bytes")]
    member: Vec<u8>,
    #[serde(rename = "a")]
    addrs: Vec<Addr>,
}

#[derive(Serialize, Deserialize)]
struct Addr(#[serde(with = "codec::bytes")] Vec<u8>);

/// The peer id of a member's node: its member key as a libp2p identity.
pub fn peer_of_member(member: &MemberId) -> Option<PeerId> {
    let key = libp2p::identity::ed25519::PublicKey::try_from_bytes(member.as_bytes()).ok()?;
    Some(libp2p::identity::PublicKey::from(key).to_peer_id())
}

impl Invitation {
    /// An invitation to `member`'s node at `addrs` (best first): each gets
    /// `/p2p/<peer>` if it lacks it; duplicates, addresses too long and
    /// those beyond [`MAX_ADDRS`] are left out.
    pub fn new(member: MemberId, addrs: impl IntoIterator<Item = Multiaddr>) -> Option<Self> {
        let peer = peer_of_member(&member)?;
        let mut out: Vec<Multiaddr> = Vec::new();
        for a in addrs {
            let a = with_peer(a, peer);
            if out.len() < MAX_ADDRS && a.len() <= MAX_ADDR_BYTES && !out.contains(&a) {
                out.push(a);
            }
        }
        Some(Self {
            member,
            peer,
            addrs: out,
        })
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let wire = Wire {
            member: self.member.as_bytes().to_vec(),
            addrs: self.addrs.iter().map(|a| Addr(a.to_vec())).collect(),
        };
        let mut bytes = codec::to_cbor(&wire);
        let check = Sha256::digest(&bytes);
        bytes.extend_from_slice(&check[..CHECK_LEN]);
        format!("{PREFIX}{}", codec::base32(&bytes))
    }

    /// Reads an invitation (spaces and line breaks around and inside are
    /// ignored: mail clients wrap long lines).
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > 2 * MAX_TEXT {
            return Err(Error::TooLong(text.len()));
        }
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if text.len() > MAX_TEXT {
            return Err(Error::TooLong(text.len()));
        }
        let lower = text.to_ascii_lowercase();
        let Some(body) = lower.strip_prefix(PREFIX) else {
            if let Some(rest) = lower.strip_prefix("mutu")
                && let Some((version, _)) = rest.split_once(':')
                && !version.is_empty()
                && version.chars().all(|c| c.is_ascii_digit())
            {
                return Err(Error::Version(version.to_owned()));
            }
            return Err(Error::Prefix);
        };
        if !body
            .bytes()
            .all(|c| c.is_ascii_lowercase() || (b'2'..=b'7').contains(&c))
        {
            return Err(Error::Base32);
        }
        // Only base32 letters but no whole number of bytes: it was cut.
        let bytes = codec::from_base32(body).ok_or(Error::Checksum)?;
        if bytes.len() <= CHECK_LEN {
            return Err(Error::Checksum);
        }
        let (cbor, check) = bytes.split_at(bytes.len() - CHECK_LEN);
        if Sha256::digest(cbor)[..CHECK_LEN] != *check {
            return Err(Error::Checksum);
        }
        let wire: Wire = codec::from_cbor(cbor, MAX_TEXT).map_err(|e| Error::Content(e.to_string()))?;
        let key: [u8; 32] = wire.member.as_slice().try_into().map_err(|_| Error::Member)?;
        let member = MemberId::from_bytes(key);
        member.verifying_key().map_err(|_| Error::Member)?;
        let peer = peer_of_member(&member).ok_or(Error::Member)?;
        if wire.addrs.is_empty() {
            return Err(Error::NoAddress);
        }
        if wire.addrs.len() > MAX_ADDRS {
            return Err(Error::TooManyAddrs(wire.addrs.len()));
        }
        let addrs = wire
            .addrs
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                if a.0.len() > MAX_ADDR_BYTES {
                    return Err(Error::Addr(i + 1));
                }
                Multiaddr::try_from(a.0)
                    .map(|a| with_peer(a, peer))
                    .map_err(|_| Error::Addr(i + 1))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { member, peer, addrs })
    }
}

/// `addr` ending with `/p2p/<peer>`.
fn with_peer(addr: Multiaddr, peer: PeerId) -> Multiaddr {
    match addr.iter().last() {
        Some(Protocol::P2p(p)) if p == peer => addr,
        _ => addr.with(Protocol::P2p(peer)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use mutu_protocol::SecretKey;

    use super::*;

    fn member(seed: u8) -> MemberId {
        SecretKey::from_bytes(&[seed; 32]).member_id()
    }

    fn sample() -> Invitation {
        let relay = PeerId::random();
        let addrs: Vec<Multiaddr> = vec![
            "/ip4/198.51.100.7/udp/7071/quic-v1".parse().unwrap(),
            format!("/ip4/203.0.113.1/tcp/7071/p2p/{relay}/p2p-circuit")
                .parse()
                .unwrap(),
        ];
        Invitation::new(member(7), addrs).unwrap()
    }

    #[test]
    fn an_invitation_reads_back_as_written_and_is_short() {
        let inv = sample();
        let text = inv.to_text();
        assert!(text.starts_with(PREFIX));
        assert!(text.len() < 400, "{} characters", text.len());
        assert_eq!(Invitation::parse(&text).unwrap(), inv);
        // Wrapped by a mail client, upper-cased by a form.
        let wrapped = format!("  {}\n{}  ", &text[..40], text[40..].to_uppercase());
        assert_eq!(Invitation::parse(&wrapped).unwrap(), inv);
        assert!(
            inv.addrs
                .iter()
                .all(|a| a.iter().last() == Some(Protocol::P2p(inv.peer)))
        );
    }

    #[test]
    fn a_damaged_invitation_says_what_is_wrong() {
        let text = sample().to_text();
        assert_eq!(Invitation::parse("hello"), Err(Error::Prefix));
        assert_eq!(
            Invitation::parse(&text.replacen("mutu1:", "mutu2:", 1)),
            Err(Error::Version("2".into()))
        );
        assert_eq!(Invitation::parse(&format!("{text}!")), Err(Error::Base32));
        for cut in 1..=8 {
            assert_eq!(
                Invitation::parse(&text[..text.len() - cut]),
                Err(Error::Checksum),
                "{cut}"
            );
        }
        let mut flipped = text.clone().into_bytes();
        let i = PREFIX.len() + 10;
        flipped[i] = if flipped[i] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            Invitation::parse(&String::from_utf8(flipped).unwrap()),
            Err(Error::Checksum)
        );
        let huge = format!("{PREFIX}{}", "a".repeat(MAX_TEXT));
        assert!(matches!(Invitation::parse(&huge), Err(Error::TooLong(_))));
        assert!(matches!(
            Invitation::parse(&"a ".repeat(10 * MAX_TEXT)),
            Err(Error::TooLong(_))
        ));
    }

    /// Well-formed and correctly checked, but written by an attacker: each
    /// field outside its bounds is refused with its own error.
    #[test]
    fn a_hostile_but_checked_invitation_is_refused_field_by_field() {
        let seal = |wire: &Wire| {
            let mut bytes = codec::to_cbor(wire);
            let check = Sha256::digest(&bytes);
            bytes.extend_from_slice(&check[..CHECK_LEN]);
            format!("{PREFIX}{}", codec::base32(&bytes))
        };
        let good = member(7).as_bytes().to_vec();
        let addr = || Addr("/ip4/198.51.100.7/tcp/7071".parse::<Multiaddr>().unwrap().to_vec());
        let no_addr = Wire {
            member: good.clone(),
            addrs: vec![],
        };
        assert_eq!(Invitation::parse(&seal(&no_addr)), Err(Error::NoAddress));
        let many = Wire {
            member: good.clone(),
            addrs: (0..MAX_ADDRS + 1).map(|_| addr()).collect(),
        };
        assert_eq!(Invitation::parse(&seal(&many)), Err(Error::TooManyAddrs(MAX_ADDRS + 1)));
        let garbage = Wire {
            member: good.clone(),
            addrs: vec![addr(), Addr(vec![0xff, 0xff, 0xff])],
        };
        assert_eq!(Invitation::parse(&seal(&garbage)), Err(Error::Addr(2)));
        let short_key = Wire {
            member: vec![1; 31],
            addrs: vec![addr()],
        };
        assert_eq!(Invitation::parse(&seal(&short_key)), Err(Error::Member));
        let small_order = Wire {
            member: {
                let mut k = vec![0; 32];
                k[0] = 1;
                k
            },
            addrs: vec![addr()],
        };
        assert_eq!(Invitation::parse(&seal(&small_order)), Err(Error::Member));
        let not_cbor = {
            let bytes = vec![0xff; 20];
            let check = Sha256::digest(&bytes);
            let mut all = bytes.clone();
            all.extend_from_slice(&check[..CHECK_LEN]);
            format!("{PREFIX}{}", codec::base32(&all))
        };
        assert!(matches!(Invitation::parse(&not_cbor), Err(Error::Content(_))));
    }
}
