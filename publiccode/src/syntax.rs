//! Syntax checks of single values: URLs, URIs, URNs, e-mail addresses, MIME
//! types, dates, country codes.
//!
//! URLs are split the way the reference parser's standard library does
//! (RFC 3986: a scheme, then `//authority` or an opaque part), not the WHATWG
//! way browsers do, so that the same strings pass.

/// A URL split into the parts the rules look at.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Url<'a> {
    pub scheme: &'a str,
    /// The host, without user information or port.
    pub host: &'a str,
    /// What follows `scheme:` when it does not start with `/`.
    pub opaque: &'a str,
    pub path: &'a str,
    pub fragment: Option<&'a str>,
}

/// Splits `text` as a URL reference. `None` when it cannot be one (a control
/// character, a bad `%` escape, a space or a bad port in the host).
/// With `request`, as a request target: absolute, without a fragment split.
pub(crate) fn parse_url(text: &str, request: bool) -> Option<Url<'_>> {
    if text.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let (rest, fragment) = match (request, text.split_once('#')) {
        (false, Some((rest, fragment))) => (rest, Some(fragment)),
        _ => (text, None),
    };
    let (scheme, rest) = split_scheme(rest)?;
    // The query is not checked, as the reference does not.
    let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
    if !escapes_ok(rest) || !fragment.is_none_or(escapes_ok) {
        return None;
    }
    let mut url = Url {
        scheme,
        fragment,
        ..Url::default()
    };
    if !rest.starts_with('/') && !scheme.is_empty() {
        url.opaque = rest;
        return Some(url);
    }
    if !rest.starts_with('/') && request {
        return None;
    }
    if let Some(after) = rest.strip_prefix("//").filter(|_| !scheme.is_empty() || !request) {
        let end = after.find('/').unwrap_or(after.len());
        let authority = &after[..end];
        url.path = &after[end..];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        url.host = split_host(host_port)?;
    } else {
        if scheme.is_empty() && rest.split('/').next().is_some_and(|segment| segment.contains(':')) {
            // "a:b/c" without a valid scheme: a colon in the first segment.
            return None;
        }
        url.path = rest;
    }
    Some(url)
}

/// `scheme:` when the text starts with one: a letter, then letters, digits,
/// `+`, `-` or `.`. A text starting with `:` has no scheme and is refused.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return None,
            b':' => return Some((&text[..i], &text[i + 1..])),
            _ => return Some(("", text)),
        }
    }
    Some(("", text))
}

/// The host of `host[:port]`, checking the port is digits and the host has
/// no space or other character a host cannot hold.
fn split_host(host_port: &str) -> Option<&str> {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let close = bracketed.find(']')?;
        let after = &bracketed[close + 1..];
        (
            &host_port[..close + 2],
            if after.is_empty() {
                None
            } else {
                Some(after.strip_prefix(':')?)
            },
        )
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if port.is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let bad = |c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`');
    if host.contains(bad) {
        return None;
    }
    Some(host)
}

fn escapes_ok(text: &str) -> bool {
    let bytes = text.as_bytes();
    let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// A URL as the rules `url` expects: a scheme and a host, a fragment or an
/// opaque part (`urn:…`); `file:` with a path. Compared without case.
pub(crate) fn is_url(text: &str) -> bool {
    let lower = text.to_lowercase();
    if lower.is_empty() {
        return false;
    }
    let Some(url) = parse_url(&lower, false) else {
        return false;
    };
    if url.scheme.is_empty() {
        return false;
    }
    if url.scheme == "file" {
        return !url.path.is_empty() && url.path != "/" || !url.opaque.is_empty();
    }
    !url.host.is_empty() || url.fragment.is_some_and(|f| !f.is_empty()) || !url.opaque.is_empty()
}

/// An `http` or `https` URL with a host.
pub(crate) fn is_http_url(text: &str) -> bool {
    if !is_url(text) {
        return false;
    }
    let lower = text.to_lowercase();
    parse_url(&lower, false).is_some_and(|url| !url.host.is_empty() && matches!(url.scheme, "http" | "https"))
}

/// A URN by RFC 2141: `urn:` NID `:` NSS.
pub(crate) fn is_urn(text: &str) -> bool {
    let Some(rest) = text
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("urn:"))
        .map(|_| &text[4..])
    else {
        return false;
    };
    let Some((nid, nss)) = rest.split_once(':') else {
        return false;
    };
    let nid_ok = (1..=32).contains(&nid.len())
        && nid.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && nid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let bytes = nss.as_bytes();
    let mut i = 0;
    let mut nss_ok = !bytes.is_empty();
    while nss_ok && i < bytes.len() {
        match bytes[i] {
            b'%' => {
                nss_ok = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b"()+,-.:=@;$_!*'/?#".contains(&b) => i += 1,
            _ => nss_ok = false,
        }
    }
    nid_ok && nss_ok
}

/// What an organisation's `uri` must be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OrganisationUri<'a> {
    /// A URL with a scheme and a host, or a URN other than an Italian PA's.
    Valid,
    /// `urn:x-italian-pa:<code>`: valid if the code is in the iPA registry.
    ItalianPa(&'a str),
    Invalid,
}

pub(crate) fn organisation_uri(text: &str) -> OrganisationUri<'_> {
    let Some(url) = parse_url(text, true) else {
        return OrganisationUri::Invalid;
    };
    if url.scheme.eq_ignore_ascii_case("urn") {
        if !is_urn(text) {
            return OrganisationUri::Invalid;
        }
        let prefix = "x-italian-pa:";
        if url.opaque.len() >= prefix.len() && url.opaque[..prefix.len()].eq_ignore_ascii_case(prefix) {
            return OrganisationUri::ItalianPa(&url.opaque[prefix.len()..]);
        }
        return OrganisationUri::Valid;
    }
    if url.scheme.is_empty() || url.host.is_empty() {
        OrganisationUri::Invalid
    } else {
        OrganisationUri::Valid
    }
}

/// An iPA code as the registry writes them: letters, digits and `_`.
/// The registry itself is not embedded: see the crate documentation.
pub(crate) fn is_ipa_code_syntax(code: &str) -> bool {
    !code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A `supports[].id` that is not an alias: a URL with a host, or a URN.
pub(crate) fn is_support_uri(text: &str) -> bool {
    let Some(url) = parse_url(text, true) else { return false };
    if url.scheme.eq_ignore_ascii_case("urn") {
        return is_urn(text);
    }
    !url.scheme.is_empty() && !url.host.is_empty()
}

/// `YYYY-MM-DD`, a real day of the Gregorian calendar.
pub(crate) fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = &text[range];
        digits
            .bytes()
            .all(|d| d.is_ascii_digit())
            .then(|| digits.parse().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// An ISO 3166-1 alpha-2 code, all upper or all lower case.
pub(crate) fn is_country(code: &str) -> bool {
    if code != code.to_ascii_uppercase() && code != code.to_ascii_lowercase() {
        return false;
    }
    isocountry::CountryCode::for_alpha2(&code.to_ascii_uppercase()).is_ok()
}

/// A MIME type `type/subtype` by RFC 6838's restricted names (spaces around
/// allowed, as the reference does).
pub(crate) fn is_mime_type(text: &str) -> bool {
    let Some((kind, subtype)) = text.trim_matches(' ').split_once('/') else {
        return false;
    };
    let name_ok = |name: &str, extra: &[u8]| {
        let bytes = name.as_bytes();
        (1..=127).contains(&bytes.len())
            && bytes[0].is_ascii_alphanumeric()
            && bytes[1..]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_-".contains(b) || extra.contains(b))
    };
    name_ok(kind, b"") && name_ok(subtype, b".+")
}

/// An e-mail address as HTML forms accept them: a dot-atom or quoted local
/// part, `@`, and a domain of at least two labels whose last starts and ends
/// with a letter.
pub(crate) fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let wide = |c: char| matches!(c, '\u{a0}'..='\u{d7ff}' | '\u{f900}'..='\u{fdcf}' | '\u{fdf0}'..='\u{ffef}');
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || wide(c);
    let local_ok = if let Some(quoted) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        quoted
            .chars()
            .all(|c| c != '"' && c != '\\' && (c == ' ' || c == '\t' || !c.is_control()))
    } else {
        !local.is_empty() && local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(atext))
    };
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((last, first)) = labels.split_last() else {
        return false;
    };
    let inner = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '~' || wide(c);
    let label_ok = |label: &str, edge: &dyn Fn(char) -> bool| {
        let (Some(start), Some(end)) = (label.chars().next(), label.chars().last()) else {
            return false;
        };
        edge(start) && edge(end) && label.chars().all(inner)
    };
    let alnum = |c: char| c.is_ascii_alphanumeric() || wide(c);
    let alpha = |c: char| c.is_ascii_alphabetic() || wide(c);
    local_ok && !first.is_empty() && first.iter().all(|l| label_ok(l, &alnum)) && label_ok(last, &alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_as_rfc_3986() {
        assert!(is_url("https://github.com/italia/developers.italia.it.git"));
        assert!(is_url("urn:foo:bar"));
        assert!(is_url("HTTP://EXAMPLE.ORG"));
        assert!(!is_url("foobar"));
        assert!(!is_url("???"));
        assert!(!is_url(""));
        assert!(!is_url("http://exa mple.org"));
        assert!(!is_url("https://example.org:http/"));
        assert!(!is_url("https://example.org/%zz"));
        assert!(is_http_url("http://example.org/a?b#c"));
        assert!(!is_http_url("ftp://example.org"));
        assert!(!is_http_url("X"));
        assert!(!is_http_url("not_a_url"));
        assert!(!is_http_url("https://"));
    }

    #[test]
    fn organisation_uris() {
        assert_eq!(organisation_uri("https://example.org"), OrganisationUri::Valid);
        assert_eq!(organisation_uri("urn:x-custom:id"), OrganisationUri::Valid);
        assert_eq!(
            organisation_uri("urn:x-italian-pa:pcm"),
            OrganisationUri::ItalianPa("pcm")
        );
        assert_eq!(organisation_uri("pcm"), OrganisationUri::Invalid);
        assert_eq!(organisation_uri("1"), OrganisationUri::Invalid);
        assert_eq!(organisation_uri("mailto:a@b.c"), OrganisationUri::Invalid);
        assert_eq!(organisation_uri("urn:"), OrganisationUri::Invalid);
    }

    #[test]
    fn dates_are_real_days() {
        assert!(is_date("2017-04-15"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2017-04-15T10:00:00Z"));
        assert!(!is_date("foobar"));
        assert!(!is_date(""));
        assert!(!is_date("2017-4-15"));
        assert!(!is_date("2017-13-01"));
    }

    #[test]
    fn emails_mimes_countries() {
        assert!(is_email("info@example.org"));
        assert!(is_email("first.last+tag@sub.example.it"));
        assert!(!is_email("not_an_email"));
        assert!(!is_email("a@localhost"));
        assert!(!is_email("a@example.123"));
        assert!(!is_email("a..b@example.org"));
        assert!(is_mime_type("text/html"));
        assert!(is_mime_type("application/vnd.ms-excel"));
        assert!(!is_mime_type("foobar"));
        assert!(!is_mime_type("text/"));
        assert!(is_country("IT") && is_country("it"));
        assert!(!is_country("It") && !is_country("XX") && !is_country("ITA"));
    }

    #[test]
    fn urns() {
        assert!(is_urn("urn:foo:bar"));
        assert!(is_urn("URN:isbn:0451450523"));
        assert!(!is_urn("urn:foo"));
        assert!(!is_urn("urn::bar"));
        assert!(!is_urn("urn:foo:ba r"));
    }
}
