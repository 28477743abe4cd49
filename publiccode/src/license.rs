//! `legal.license`: SPDX license expressions, as the reference accepts them.
//!
//! Identifiers of the SPDX license list are compared without case, and
//! deprecated ones are accepted (`GPL-3.0`, `AGPL-3.0`, `GPL-2.0+`, as real
//! files still use them); `-only` and `-or-later` may follow any license,
//! `+` too; `WITH` takes a listed exception; `LicenseRef-…` names any other
//! license. The operators `AND`, `OR` and `WITH` are written in capitals.
//! The canonical form replaces deprecated identifiers with their exact
//! successors (`GPL-3.0` → `GPL-3.0-only`) and writes each identifier in the
//! list's case.

/// What a license expression is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum License {
    /// A valid expression, its canonical form, and the deprecated
    /// identifiers it uses.
    Valid {
        canonical: String,
        deprecated: Vec<&'static str>,
    },
    /// Not an expression: why.
    Invalid(String),
}

fn mode() -> spdx::ParseMode {
    spdx::ParseMode {
        allow_slash_as_or_operator: false,
        allow_imprecise_license_names: false,
        allow_postfix_plus_on_gpl: true,
        allow_deprecated: true,
        allow_unknown: false,
    }
}

/// The listed license or exception `word` names, compared without case.
fn listed(word: &str) -> Option<&'static str> {
    let license = spdx::identifiers::LICENSES
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(word))
        .map(|l| l.name);
    license.or_else(|| {
        spdx::identifiers::EXCEPTIONS
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(word))
            .map(|e| e.name)
    })
}

/// One term of an expression, in the list's spelling.
fn term(word: &str) -> Result<String, String> {
    let (word, plus) = match word.strip_suffix('+') {
        Some(base) => (base, "+"),
        None => (word, ""),
    };
    for prefix in ["LicenseRef-", "DocumentRef-", "AdditionRef-"] {
        if word.len() > prefix.len() && word[..prefix.len()].eq_ignore_ascii_case(prefix) {
            return Ok(format!("{prefix}{}{plus}", &word[prefix.len()..]));
        }
    }
    if let Some(name) = listed(word) {
        return Ok(format!("{name}{plus}"));
    }
    let lower = word.to_ascii_lowercase();
    if let Some(name) = lower.strip_suffix("-only").and_then(listed) {
        return Ok(name.to_owned());
    }
    if let Some(name) = lower.strip_suffix("-or-later").and_then(listed) {
        return Ok(format!("{name}+"));
    }
    Err(format!(
        "\"{word}\" is not an SPDX license identifier (see https://spdx.org/licenses)"
    ))
}

/// Checks `expression` and gives its canonical form.
pub(crate) fn check(expression: &str) -> License {
    let mut rebuilt = String::with_capacity(expression.len());
    let spaced = expression.replace('(', " ( ").replace(')', " ) ");
    for word in spaced.split_whitespace() {
        let piece = match word {
            "AND" | "OR" | "WITH" | "(" | ")" => word.to_owned(),
            _ if ["and", "or", "with"].iter().any(|op| op.eq_ignore_ascii_case(word)) => {
                return License::Invalid(format!(
                    "write the operator \"{word}\" in capitals: {}",
                    word.to_ascii_uppercase()
                ));
            }
            _ => match term(word) {
                Ok(piece) => piece,
                Err(why) => return License::Invalid(why),
            },
        };
        if !rebuilt.is_empty() && !rebuilt.ends_with('(') && piece != ")" {
            rebuilt.push(' ');
        }
        rebuilt.push_str(&piece);
    }
    let expression = match spdx::Expression::parse_mode(&rebuilt, mode()) {
        Ok(expression) => expression,
        Err(e) => return License::Invalid(format!("not an SPDX license expression: {}", e.reason)),
    };
    let mut deprecated = Vec::new();
    for req in expression.requirements() {
        if let spdx::LicenseItem::Spdx { id, .. } = req.req.license
            && id.is_deprecated()
            && !deprecated.contains(&id.name)
        {
            deprecated.push(id.name);
        }
    }
    let canonical = match spdx::Expression::canonicalize(&rebuilt) {
        Ok(Some(canonical)) => canonical,
        _ => rebuilt,
    };
    License::Valid { canonical, deprecated }
}

/// `license` in canonical form, when it is a valid expression.
pub(crate) fn normalised(license: &str) -> Option<String> {
    match check(license) {
        License::Valid { canonical, .. } => Some(canonical),
        License::Invalid(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(expression: &str) -> Option<String> {
        match check(expression) {
            License::Valid { canonical, .. } => Some(canonical),
            License::Invalid(_) => None,
        }
    }

    #[test]
    fn listed_identifiers_in_any_case() {
        assert_eq!(canonical("AGPL-3.0-or-later").as_deref(), Some("AGPL-3.0-or-later"));
        assert_eq!(canonical("mit").as_deref(), Some("MIT"));
        assert_eq!(canonical("MIT OR apache-2.0").as_deref(), Some("MIT OR Apache-2.0"));
        assert_eq!(
            canonical("(MIT OR Apache-2.0) AND BSD-3-Clause").as_deref(),
            Some("(MIT OR Apache-2.0) AND BSD-3-Clause")
        );
        assert_eq!(
            canonical("GPL-2.0-only WITH classpath-exception-2.0").as_deref(),
            Some("GPL-2.0-only WITH Classpath-exception-2.0")
        );
        assert_eq!(
            canonical("LicenseRef-municipality").as_deref(),
            Some("LicenseRef-municipality")
        );
        assert_eq!(canonical("Apache-2.0+").as_deref(), Some("Apache-2.0+"));
        assert_eq!(canonical("MIT-only").as_deref(), Some("MIT"));
    }

    #[test]
    fn deprecated_identifiers_get_their_successor() {
        for (old, new) in [
            ("GPL-3.0", "GPL-3.0-only"),
            ("AGPL-3.0", "AGPL-3.0-only"),
            ("GPL-3.0+", "GPL-3.0-or-later"),
            ("LGPL-2.1+", "LGPL-2.1-or-later"),
            ("EUPL-1.2 OR GPL-2.0", "EUPL-1.2 OR GPL-2.0-only"),
        ] {
            assert_eq!(canonical(old).as_deref(), Some(new), "{old}");
        }
        let License::Valid { deprecated, .. } = check("AGPL-3.0") else {
            panic!()
        };
        assert_eq!(deprecated, ["AGPL-3.0"]);
    }

    #[test]
    fn not_expressions() {
        for expression in [
            "",
            "GPLv3",
            "MIT or Apache-2.0",
            "MIT/Apache-2.0",
            "MIT AND",
            "(MIT",
            "MIT WITH MIT",
            "proprietary",
        ] {
            assert!(matches!(check(expression), License::Invalid(_)), "{expression}");
        }
    }
}
