//! Field rules of every record kind: bounded lengths, SPDX expressions,
//! ISO codes, URLs. The same rules run when a record is signed and when one
//! is read, so an invalid record can neither be written nor shown.

use super::{Body, Invalid, NeedStatus, Resource};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
pub const MAX_NOTE_CHARS: usize = 2_000;
pub const MAX_TAGS: usize = 20;
/// A project's tags: its publiccode.yml's categories (the standard lists
/// 106) plus a few of its own.
pub const MAX_PROJECT_TAGS: usize = 128;
/// A project's publiccode.yml text, in bytes of UTF-8. Real files are a
/// few KiB; the whole record must stay under
/// [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES).
pub const MAX_PUBLICCODE_BYTES: usize = 48 * 1024;
pub const MAX_TAG_CHARS: usize = 50;
pub const MAX_URL_CHARS: usize = 2_000;
pub const MAX_LICENSE_CHARS: usize = 200;
pub const MAX_LIST: usize = 100;
pub const MAX_DAYS: u32 = 100_000;
/// Members on one moderation list (the record's 64 KiB bound applies too).
pub const MAX_MODERATED: usize = 1_000;

fn field(field: &'static str, problem: impl Into<String>) -> Invalid {
    Invalid::Field {
        field,
        problem: problem.into(),
    }
}

/// A text of at most `max` characters; `required` texts must not be blank.
pub fn text(name: &'static str, value: &str, max: usize, required: bool) -> Result<(), Invalid> {
    if required && value.trim().is_empty() {
        return Err(field(name, "must not be empty"));
    }
    let n = value.chars().count();
    if n > max {
        return Err(field(name, format!("is {n} characters long, the limit is {max}")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(field(name, "contains control characters"));
    }
    Ok(())
}

/// A single-line name or title.
pub fn title(name: &'static str, value: &str) -> Result<(), Invalid> {
    text(name, value, MAX_TITLE_CHARS, true)?;
    if value.contains(['\n', '\r']) || value != value.trim() {
        return Err(field(name, "must be one line without leading or trailing spaces"));
    }
    Ok(())
}

/// Normalises a tag as users type it: trimmed, lowercase, inner spaces as `-`.
pub fn normalize_tag(tag: &str) -> String {
    tag.trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

/// Tags: at most 20, each 1–50 characters, normalised (see [`normalize_tag`]), no duplicates.
pub fn tags(name: &'static str, tags: &[String]) -> Result<(), Invalid> {
    tags_within(name, tags, MAX_TAGS)
}

/// Tags, at most `max` of them (see [`tags`]).
pub fn tags_within(name: &'static str, tags: &[String], max: usize) -> Result<(), Invalid> {
    if tags.len() > max {
        return Err(field(name, format!("{} given, the limit is {max}", tags.len())));
    }
    for (i, t) in tags.iter().enumerate() {
        let n = t.chars().count();
        if n == 0 || n > MAX_TAG_CHARS {
            return Err(field(name, format!("`{t}` must be 1 to {MAX_TAG_CHARS} characters")));
        }
        if *t != normalize_tag(t) || t.chars().any(|c| c.is_control() || c == ',') {
            return Err(field(name, format!("`{t}` must be lowercase without spaces or commas")));
        }
        if tags[..i].contains(t) {
            return Err(field(name, format!("`{t}` is given twice")));
        }
    }
    Ok(())
}

/// An absolute http(s) URL.
pub fn url(name: &'static str, value: &str) -> Result<(), Invalid> {
    if value.chars().count() > MAX_URL_CHARS {
        return Err(field(name, format!("is longer than {MAX_URL_CHARS} characters")));
    }
    let parsed = url::Url::parse(value).map_err(|e| field(name, format!("`{value}` is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(field(name, format!("`{value}` must be an http:// or https:// URL")));
    }
    Ok(())
}

/// An SPDX license expression such as `AGPL-3.0-or-later` or `MIT OR Apache-2.0`.
pub fn license(value: &str) -> Result<(), Invalid> {
    if value.chars().count() > MAX_LICENSE_CHARS {
        return Err(field(
            "license",
            format!("is longer than {MAX_LICENSE_CHARS} characters"),
        ));
    }
    spdx::Expression::parse(value).map_err(|e| {
        field(
            "license",
            format!(
                "`{value}` is not an SPDX license expression ({}); e.g. AGPL-3.0-or-later, MIT OR Apache-2.0",
                e.reason
            ),
        )
    })?;
    Ok(())
}

/// A project's publiccode.yml text: bounded in bytes, no control
/// characters but line breaks and tabs. Its content is the node's to check
/// (with the standard's rules) when importing: the protocol does not parse
/// YAML, so a record's validity never depends on a YAML reader's version.
pub fn publiccode(value: &str) -> Result<(), Invalid> {
    if value.len() > MAX_PUBLICCODE_BYTES {
        return Err(field(
            "publiccode",
            format!(
                "is {} bytes long, the limit is {MAX_PUBLICCODE_BYTES}: shorten the publiccode.yml (its long descriptions)",
                value.len()
            ),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(field("publiccode", "contains control characters"));
    }
    Ok(())
}

/// An ISO 3166-1 alpha-2 country code in uppercase (`FR`, `BE`).
pub fn country(value: &str) -> Result<(), Invalid> {
    if value.len() != 2 || value != value.to_uppercase() || isocountry::CountryCode::for_alpha2(value).is_err() {
        return Err(field(
            "country",
            format!("`{value}` is not an ISO 3166-1 alpha-2 country code (e.g. FR, BE, DE)"),
        ));
    }
    Ok(())
}

fn days(name: &'static str, d: u32) -> Result<(), Invalid> {
    if d == 0 || d > MAX_DAYS {
        return Err(field(name, format!("must be between 1 and {MAX_DAYS} days")));
    }
    Ok(())
}

fn money(name: &'static str, m: &crate::money::Money) -> Result<(), Invalid> {
    if m.amount_minor == 0 {
        return Err(field(name, "must be more than zero"));
    }
    Ok(())
}

fn list<T: PartialEq>(name: &'static str, items: &[T]) -> Result<(), Invalid> {
    if items.len() > MAX_LIST {
        return Err(field(name, format!("{} given, the limit is {MAX_LIST}", items.len())));
    }
    if items.iter().enumerate().any(|(i, x)| items[..i].contains(x)) {
        return Err(field(name, "lists the same item twice"));
    }
    Ok(())
}

/// Checks a body against its kind's rules.
pub fn body(body: &Body) -> Result<(), Invalid> {
    match body {
        Body::Profile(p) => {
            title("name", &p.name)?;
            if let Some(c) = &p.country {
                country(c)?;
            }
            tags("sectors", &p.sectors)?;
            if let Some(w) = &p.website {
                url("website", w)?;
            }
            text("description", &p.description, MAX_DESCRIPTION_CHARS, false)
        }
        Body::Project(p) => {
            title("name", &p.name)?;
            text("description", &p.description, MAX_DESCRIPTION_CHARS, false)?;
            license(&p.license)?;
            if let Some(u) = &p.repository {
                url("repository", u)?;
            }
            if let Some(u) = &p.homepage {
                url("homepage", u)?;
            }
            tags_within("tags", &p.tags, MAX_PROJECT_TAGS)?;
            publiccode(&p.publiccode)
        }
        Body::Usage(u) => text("note", &u.note, MAX_NOTE_CHARS, false),
        Body::Need(n) => {
            title("title", &n.title)?;
            text("description", &n.description, MAX_DESCRIPTION_CHARS, false)?;
            tags("tags", &n.tags)?;
            if let Some(g) = &n.goal {
                money("goal", g)?;
            }
            if let Some(d) = n.days_goal {
                days("days_goal", d)?;
            }
            match (n.status, n.merged_into) {
                (NeedStatus::Merged, None) => Err(field("merged_into", "a merged need names the need it went into")),
                (status, Some(_)) if status != NeedStatus::Merged => Err(field(
                    "merged_into",
                    "only a need whose status is `merged` names a need it went into",
                )),
                _ => Ok(()),
            }
        }
        Body::Cosign(c) => text("note", &c.note, MAX_NOTE_CHARS, false),
        Body::Pledge(p) => match &p.resource {
            Resource::Money(m) => money("money", m),
            Resource::DevDays { days: d } => days("days", *d),
            Resource::Hosting { text: t } | Resource::Testing { text: t } | Resource::Other { text: t } => {
                text("text", t, MAX_NOTE_CHARS, true)
            }
        },
        Body::Offer(o) => {
            money("price", &o.price)?;
            if let Some(d) = o.days {
                days("days", d)?;
            }
            text("description", &o.description, MAX_DESCRIPTION_CHARS, false)
        }
        Body::Catalogue(c) => {
            title("title", &c.title)?;
            text("description", &c.description, MAX_DESCRIPTION_CHARS, false)?;
            list("editors", &c.editors)?;
            list("includes", &c.includes)
        }
        Body::CatalogueEntry(e) => text("note", &e.note, MAX_NOTE_CHARS, false),
        Body::Vouch(v) => text("statement", &v.statement, MAX_NOTE_CHARS, false),
        Body::Moderation(m) => {
            title("title", &m.title)?;
            if m.entries.len() > MAX_MODERATED {
                return Err(field(
                    "entries",
                    format!("{} given, the limit is {MAX_MODERATED}", m.entries.len()),
                ));
            }
            for (i, e) in m.entries.iter().enumerate() {
                if m.entries[..i].iter().any(|x| x.member == e.member) {
                    return Err(field("entries", format!("{} is listed twice", e.member)));
                }
                text("reason", &e.reason, MAX_NOTE_CHARS, false)?;
            }
            Ok(())
        }
        Body::Approval(a) => text("note", &a.note, MAX_NOTE_CHARS, false),
        Body::Award(a) => text("note", &a.note, MAX_NOTE_CHARS, false),
        Body::Delivery(d) => {
            url("release", &d.release)?;
            text("note", &d.note, MAX_NOTE_CHARS, false)
        }
        Body::Acceptance(a) => {
            if a.verdict == super::Verdict::Object && a.reason.trim().is_empty() {
                return Err(field("reason", "an objection must say why (give a reason)"));
            }
            text("reason", &a.reason, MAX_NOTE_CHARS, false)
        }
        Body::Receipt(r) => text("note", &r.note, MAX_NOTE_CHARS, false),
        Body::Tombstone(_) | Body::Follow(_) => Ok(()),
    }
}
