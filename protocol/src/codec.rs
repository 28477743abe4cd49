//! Small encoding helpers shared by the other modules: lowercase base32 for
//! ids, deterministic CBOR for records and wire messages.

use data_encoding::BASE32_NOPAD;
use serde::{Deserializer, Serialize, de::DeserializeOwned};

/// Lowercase unpadded base32 text of `bytes`.
pub fn base32(bytes: &[u8]) -> String {
    BASE32_NOPAD.encode(bytes).to_ascii_lowercase()
}

/// Decodes unpadded base32, lowercase or uppercase; `None` if invalid.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    BASE32_NOPAD.decode(text.to_ascii_uppercase().as_bytes()).ok()
}

/// Errors of the CBOR helpers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("CBOR decoding failed: {0}")]
    Decode(String),
    #[error("input of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
}

/// Encodes `value` as CBOR. Deterministic for mutu's types: structs encode as
/// maps in field order, integers in their shortest form, no floats.
pub fn to_cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and mutu's types have no serializer that errors.
    #[allow(clippy::expect_used)]
    ciborium::into_writer(value, &mut out).expect("CBOR encoding into memory cannot fail");
    out
}

/// Decodes CBOR of at most `limit` bytes.
pub fn from_cbor<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, Error> {
    if bytes.len() > limit {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    ciborium::de::from_reader_with_recursion_limit(bytes, 64).map_err(|e| Error::Decode(e.to_string()))
}

/// Deserializes a fixed-size byte array from CBOR bytes.
pub fn deserialize_array<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
    struct V<const N: usize>;
    impl<const N: usize> serde::de::Visitor<'_> for V<N> {
        type Value = [u8; N];
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{N} bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
            v.try_into().map_err(|_| E::invalid_length(v.len(), &self))
        }
    }
    d.deserialize_bytes(V::<N>)
}

/// `serde(with = "codec::bytes")` for `Vec<u8>` fields: CBOR byte strings,
/// base64 text in JSON.
pub mod bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
        } else {
            s.serialize_bytes(v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(serde::de::Error::custom)
        } else {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Vec<u8>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a byte string")
                }
                fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                    Ok(v.to_vec())
                }
                fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                    Ok(v)
                }
            }
            d.deserialize_byte_buf(V)
        }
    }
}

/// A fixed-size array as a CBOR byte string (base64 in JSON).
pub mod array {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        super::bytes::serialize(v, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        let v = super::bytes::deserialize(d)?;
        let len = v.len();
        v.try_into()
            .map_err(|_| serde::de::Error::invalid_length(len, &"a fixed number of bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_base32_matches_the_rfc_alphabet() {
        let spec = {
            let mut s = data_encoding::Specification::new();
            s.symbols.push_str("abcdefghijklmnopqrstuvwxyz234567");
            s.encoding().unwrap()
        };
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(base32(&bytes), spec.encode(&bytes));
            assert_eq!(from_base32(&base32(&bytes)).unwrap(), bytes);
            assert_eq!(from_base32(&base32(&bytes).to_uppercase()).unwrap(), bytes);
        }
        assert!(from_base32("a1").is_none());
    }
}
