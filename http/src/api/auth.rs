//! The bearer token that writes need.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::Ctx;
use super::error::ApiError;

/// Compares in time independent of where the first difference is (only the
/// length can show). The one comparison of secrets of the HTTP surface: the
/// API token ([`authorised`]) and the web forms' CSRF token.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `headers` carry `Authorization: Bearer <token>` (spaces around
/// the sent token ignored); never when `token` is empty.
pub fn authorised(headers: &HeaderMap, token: &str) -> bool {
    !token.is_empty()
        && headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| same_secret(t.trim().as_bytes(), token.as_bytes()))
}

/// Proof that a request carries the token: the first argument of every
/// write handler, so a request without it is refused (401) before its body
/// is read.
#[derive(Debug, Clone, Copy)]
pub struct Authorized;

impl FromRequestParts<Ctx> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, ApiError> {
        if authorised(&parts.headers, &ctx.token) {
            Ok(Authorized)
        } else {
            Err(ApiError::unauthorized())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"ab"));
        let mut h = HeaderMap::new();
        assert!(!authorised(&h, "t0k"));
        h.insert(AUTHORIZATION, "Bearer t0k".parse().unwrap_or_else(|_| unreachable!()));
        assert!(authorised(&h, "t0k"));
        assert!(!authorised(&h, "t0kk"));
        assert!(!authorised(&h, ""));
    }
}
