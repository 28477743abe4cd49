//! The rules of the standard, applied to the typed view.
//!
//! [`check`] runs them in the reference parser's order: first the rules on
//! each key's value (required keys, vocabularies, URLs, lengths…), then the
//! rules across keys and on referenced files, and the deprecation warnings.
//! Key paths and positions are the reference's (see [`crate::position`]).

use unicode_segmentation::UnicodeSegmentation;

use crate::decode::Decoded;
use crate::files::{self, FileKind};
use crate::license::{self, License};
use crate::position::{self, map_key};
use crate::software::{Description, ItSection, Organisation};
use crate::syntax::{self, OrganisationUri};
use crate::yaml::Node;
use crate::{Diagnostic, Findings, Options, Severity, bcp47, vocab};

const DEPRECATED_DROP: &str = "This key is DEPRECATED and will be removed in the future. It's safe to drop it";

struct Checker<'a> {
    root: &'a Node,
    options: &'a Options<'a>,
    findings: &'a mut Findings,
}

/// Every rule on `decoded`, whose file is `root`.
pub(crate) fn check(root: &Node, decoded: &Decoded, options: &Options<'_>, findings: &mut Findings) {
    let mut c = Checker {
        root,
        options,
        findings,
    };
    c.values(decoded);
    c.across(decoded);
}

/// Grapheme clusters: what a reader counts as characters.
pub(crate) fn length(text: &str) -> usize {
    text.graphemes(true).count()
}

fn is_blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(str::is_empty)
}

fn one_of(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// The last part of a key path, as the reference names a field in messages.
fn field_name(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

impl Checker<'_> {
    fn push(&mut self, severity: Severity, key: String, message: String) {
        let root = self.root;
        self.findings.add(severity, || {
            let pos = position::of_key(root, &key).unwrap_or_default();
            Diagnostic {
                severity,
                key,
                line: pos.line,
                column: pos.column,
                message,
            }
        });
    }

    fn error(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, key.into(), message.into());
    }

    fn warning(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, key.into(), message.into());
    }

    fn required(&mut self, key: &str) {
        self.error(key, format!("{} is a required field", field_name(key)));
    }

    fn not_empty(&mut self, key: &str) {
        self.error(key, format!("{} must contain more than 0 items", field_name(key)));
    }

    fn url(&mut self, key: &str, value: &str) {
        if !syntax::is_url(value) {
            self.error(key, format!("{} must be a valid URL", field_name(key)));
        }
    }

    fn http_url(&mut self, key: &str, value: &Option<String>) {
        if let Some(value) = value
            && !syntax::is_http_url(value)
        {
            self.error(
                key,
                format!(
                    "{} must be an HTTP URL (http:// or https://), not \"{value}\"",
                    field_name(key)
                ),
            );
        }
    }

    fn date(&mut self, key: &str, value: &str) {
        if !syntax::is_date(value) {
            self.error(
                key,
                format!(
                    "{} must be a date with format 'YYYY-MM-DD', not \"{value}\"",
                    field_name(key)
                ),
            );
        }
    }

    fn enumerated(&mut self, key: &str, value: &Option<String>, allowed: &[&str]) {
        match value.as_deref() {
            None | Some("") => self.required(key),
            Some(v) if !allowed.contains(&v) => self.error(
                key,
                format!("{} must be one of the following: {}", field_name(key), one_of(allowed)),
            ),
            Some(_) => {}
        }
    }

    fn max_length(&mut self, key: &str, value: &str, max: usize) {
        let n = length(value);
        if n > max {
            self.error(
                key,
                format!(
                    "{} must be a maximum of {max} characters in length (it has {n})",
                    field_name(key)
                ),
            );
        }
    }

    /// Whether an Italian PA code is known: in the registry when the caller
    /// passes one, else by its syntax only.
    fn ipa_code_ok(&self, code: &str) -> bool {
        match self.options.italian_pa_code {
            Some(lookup) => lookup(code),
            None => syntax::is_ipa_code_syntax(code),
        }
    }

    fn organisation(&mut self, prefix: &str, org: &Organisation) {
        let key = format!("{prefix}.uri");
        let Some(uri) = org.uri.as_deref().filter(|uri| !uri.is_empty()) else {
            self.required(&key);
            return;
        };
        match syntax::organisation_uri(uri) {
            OrganisationUri::Valid => {}
            OrganisationUri::ItalianPa(code) if self.ipa_code_ok(code) => {}
            OrganisationUri::ItalianPa(_) => self.error(
                &key,
                "uri must be a valid Italian Public Administration Code (iPA) with format \
                 'urn:x-italian-pa:[codiceIPA]' (see https://github.com/publiccodeyml/italian-organizations-ipa-vocabulary)",
            ),
            OrganisationUri::Invalid => {
                self.error(&key, "uri is not a valid URI: write a URL (https://…) or a URN (urn:…)")
            }
        }
    }

    /// The rules on each key's value, in the order of the standard's keys.
    fn values(&mut self, decoded: &Decoded) {
        let s = &decoded.software;
        if is_blank(&s.name) {
            self.required("name");
        }
        match &s.url {
            None => self.required("url"),
            Some(url) => self.url("url", url),
        }
        self.http_url("landingURL", &s.landing_url);
        for (i, url) in s.is_based_on.iter().enumerate() {
            self.url(&format!("isBasedOn[{i}]"), url);
        }
        if let Some(date) = &s.release_date {
            self.date("releaseDate", date);
        }
        if let Some(org) = &s.organisation {
            self.organisation("organisation", org);
        }
        for (key, types) in [("inputTypes", &s.input_types), ("outputTypes", &s.output_types)] {
            for (i, mime) in types.iter().flatten().enumerate() {
                if !syntax::is_mime_type(mime) {
                    self.error(
                        format!("{key}[{i}]"),
                        format!("{key}[{i}] is not a valid MIME type: \"{mime}\""),
                    );
                }
            }
        }
        if s.platforms.is_empty() {
            self.not_empty("platforms");
        }
        for (i, category) in s.categories.iter().flatten().enumerate() {
            if !vocab::CATEGORIES.contains(&category.as_str()) {
                self.error(
                    format!("categories[{i}]"),
                    format!(
                        "categories[{i}] must be a valid category, not \"{category}\" (see \
                         https://github.com/publiccodeyml/publiccode.yml/blob/main/docs/standard/categories-list.rst)"
                    ),
                );
            }
        }
        for (i, org) in s.funded_by.iter().flatten().enumerate() {
            self.organisation(&format!("fundedBy[{i}]"), org);
        }
        self.http_url("roadmap", &s.roadmap);
        let statuses: Vec<&str> = vocab::DevelopmentStatus::ALL.iter().map(|v| v.key()).collect();
        self.enumerated("developmentStatus", &s.development_status, &statuses);
        let types: Vec<&str> = vocab::SoftwareType::ALL.iter().map(|v| v.key()).collect();
        self.enumerated("softwareType", &s.software_type, &types);
        for (i, support) in s.supports.iter().flatten().enumerate() {
            let key = format!("supports[{i}].id");
            let Some(id) = support.id.as_deref().filter(|id| !id.is_empty()) else {
                self.required(&key);
                continue;
            };
            if let Some(alias) = id.strip_prefix("alias:") {
                if !vocab::SUPPORTS_ALIASES.iter().any(|(name, _)| *name == alias) {
                    self.error(
                        key,
                        format!(
                            "id contains an unknown alias \"{alias}\" (see \
                             https://github.com/publiccodeyml/publiccode.yml/blob/main/docs/standard/aliases-list.rst)"
                        ),
                    );
                }
            } else if !syntax::is_support_uri(id) {
                self.error(
                    key,
                    "id must be a known alias ('alias:<name>') or a valid URI (URL or URN)",
                );
            }
        }
        if let Some(audience) = &s.intended_audience {
            for (i, scope) in audience.scope.iter().flatten().enumerate() {
                if !vocab::SCOPES.contains(&scope.as_str()) {
                    self.error(
                        format!("intendedAudience.scope[{i}]"),
                        format!(
                            "scope[{i}] must be a valid scope, not \"{scope}\" (see \
                             https://github.com/publiccodeyml/publiccode.yml/blob/main/docs/standard/scope-list.rst)"
                        ),
                    );
                }
            }
            for (name, countries) in [
                ("countries", &audience.countries),
                ("unsupportedCountries", &audience.unsupported_countries),
            ] {
                for (i, country) in countries.iter().flatten().enumerate() {
                    if !syntax::is_country(country) {
                        self.error(
                            format!("intendedAudience.{name}[{i}]"),
                            format!("{name}[{i}] must be a valid ISO 3166-1 alpha-2 two-letter country code, not \"{country}\""),
                        );
                    }
                }
            }
        }
        self.descriptions(&s.description);
        match s.legal.license.as_deref() {
            None | Some("") => self.required("legal.license"),
            Some(text) => {
                if let License::Invalid(why) = license::check(text) {
                    self.error(
                        "legal.license",
                        format!("license must be a valid SPDX license expression: {why}"),
                    );
                }
            }
        }
        self.maintenance(decoded);
        let localisation = &s.localisation;
        if localisation.localisation_ready.is_none() {
            self.required("localisation.localisationReady");
        }
        match &localisation.available_languages {
            None => self.required("localisation.availableLanguages"),
            Some(languages) if languages.is_empty() => self.not_empty("localisation.availableLanguages"),
            Some(languages) => {
                for (i, language) in languages.iter().enumerate() {
                    if !bcp47::is_valid(language) {
                        self.error(
                            format!("localisation.availableLanguages[{i}]"),
                            format!("availableLanguages[{i}] must be a valid BCP 47 language, not \"{language}\""),
                        );
                    }
                }
            }
        }
        if let Some(depends_on) = &s.depends_on {
            for (kind, list) in [
                ("open", &depends_on.open),
                ("proprietary", &depends_on.proprietary),
                ("hardware", &depends_on.hardware),
            ] {
                for (i, dependency) in list.iter().flatten().enumerate() {
                    if is_blank(&dependency.name) {
                        self.required(&format!("dependsOn.{kind}[{i}].name"));
                    }
                }
            }
        }
        for (prefix, section) in [("IT", &decoded.it_upper), ("it", &decoded.it_lower)] {
            if let Some(section) = section {
                self.it_values(prefix, section);
            }
        }
    }

    fn descriptions(&mut self, descriptions: &[(String, Description)]) {
        if descriptions.is_empty() {
            self.not_empty("description");
            return;
        }
        if let Some((language, _)) = descriptions.iter().find(|(language, _)| !bcp47::is_valid(language)) {
            self.error(
                "description",
                format!("description must be a valid BCP 47 language: \"{language}\" is not (write en, it, en-GB…)"),
            );
            return;
        }
        for (language, d) in descriptions {
            let prefix = format!("description{}", map_key(language));
            if let Some(name) = &d.generic_name {
                self.max_length(&format!("{prefix}.genericName"), name, 35);
            }
            let key = format!("{prefix}.shortDescription");
            match &d.short_description {
                Some(short) if !short.is_empty() => self.max_length(&key, short, 150),
                _ => self.required(&key),
            }
            let key = format!("{prefix}.longDescription");
            match &d.long_description {
                Some(long) if !long.is_empty() => {
                    let n = length(long);
                    if n < 150 {
                        self.error(
                            &key,
                            format!("longDescription must be at least 150 characters in length (it has {n})"),
                        );
                    }
                    self.max_length(&key, long, 10_000);
                }
                _ => self.required(&key),
            }
            self.http_url(&format!("{prefix}.documentation"), &d.documentation);
            self.http_url(&format!("{prefix}.apiDocumentation"), &d.api_documentation);
            if d.features.as_ref().is_none_or(Vec::is_empty) {
                self.not_empty(&format!("{prefix}.features"));
            }
            for (i, video) in d.videos.iter().enumerate() {
                self.http_url(&format!("{prefix}.videos[{i}]"), &Some(video.clone()));
            }
        }
    }

    fn maintenance(&mut self, decoded: &Decoded) {
        let m = &decoded.software.maintenance;
        let kinds: Vec<&str> = vocab::MaintenanceType::ALL.iter().map(|v| v.key()).collect();
        self.enumerated("maintenance.type", &m.kind, &kinds);
        let kind = m.kind.as_deref().unwrap_or("");
        match (&m.contractors, kind) {
            (None, "contract") => self.error(
                "maintenance.contractors",
                "contractors is a required field when \"type\" is \"contract\"",
            ),
            (Some(_), kind) if kind != "contract" => self.error(
                "maintenance.contractors",
                "contractors must not be present unless \"type\" is \"contract\"",
            ),
            (Some(contractors), _) => {
                for (i, contractor) in contractors.iter().enumerate() {
                    let prefix = format!("maintenance.contractors[{i}]");
                    if is_blank(&contractor.name) {
                        self.required(&format!("{prefix}.name"));
                    }
                    if let Some(email) = contractor.email.as_deref().filter(|e| !e.is_empty())
                        && !syntax::is_email(email)
                    {
                        self.error(
                            format!("{prefix}.email"),
                            format!("email must be a valid email address, not \"{email}\""),
                        );
                    }
                    self.http_url(&format!("{prefix}.website"), &contractor.website);
                    match contractor.until.as_deref() {
                        None | Some("") => self.required(&format!("{prefix}.until")),
                        Some(until) => self.date(&format!("{prefix}.until"), until),
                    }
                }
            }
            (None, _) => {}
        }
        match &m.contacts {
            None if kind == "community" || kind == "internal" => self.error(
                "maintenance.contacts",
                format!("contacts is a required field when \"type\" is \"{kind}\""),
            ),
            None => {}
            Some(contacts) => {
                for (i, contact) in contacts.iter().enumerate() {
                    let prefix = format!("maintenance.contacts[{i}]");
                    if is_blank(&contact.name) {
                        self.required(&format!("{prefix}.name"));
                    }
                    if let Some(email) = contact.email.as_deref().filter(|e| !e.is_empty())
                        && !syntax::is_email(email)
                    {
                        self.error(
                            format!("{prefix}.email"),
                            format!("email must be a valid email address, not \"{email}\""),
                        );
                    }
                }
            }
        }
    }

    fn it_values(&mut self, prefix: &str, section: &ItSection) {
        if let Some(version) = &section.country_extension_version
            && !vocab::IT_EXTENSION_VERSIONS.contains(&version.as_str())
        {
            self.error(
                format!("{prefix}.countryExtensionVersion"),
                format!(
                    "countryExtensionVersion must be one of the following: {}",
                    one_of(vocab::IT_EXTENSION_VERSIONS)
                ),
            );
        }
        if let Some(code) = section.riuso_codice_ipa.as_deref().filter(|c| !c.is_empty())
            && !self.ipa_code_ok(code)
        {
            self.error(
                format!("{prefix}.riuso.codiceIPA"),
                "codiceIPA must be a valid Italian Public Administration Code (iPA) \
                     (see https://github.com/publiccodeyml/italian-organizations-ipa-vocabulary)",
            );
        }
    }

    /// The rules across keys, on referenced files, and the deprecations.
    fn across(&mut self, decoded: &Decoded) {
        let s = &decoded.software;
        if let Some(logo) = s.logo.as_deref().filter(|l| !l.is_empty()) {
            self.file("logo", logo, FileKind::Logo);
        }
        if let Some(logo) = s.monochrome_logo.as_deref().filter(|l| !l.is_empty()) {
            self.warning(
                "monochromeLogo",
                "This key is DEPRECATED and will be removed in the future. Use 'logo' instead",
            );
            self.file("monochromeLogo", logo, FileKind::Logo);
        }
        if let Some(audience) = &s.intended_audience {
            for (name, countries) in [
                ("countries", &audience.countries),
                ("unsupportedCountries", &audience.unsupported_countries),
            ] {
                for (i, country) in countries.iter().flatten().enumerate() {
                    if syntax::is_country(country) && *country == country.to_ascii_lowercase() {
                        self.warning(
                            format!("intendedAudience.{name}[{i}]"),
                            format!(
                                "Lowercase country codes are DEPRECATED. Use uppercase instead ('{}')",
                                country.to_ascii_uppercase()
                            ),
                        );
                    }
                }
            }
        }
        if let Some(authors) = &s.legal.authors_file {
            self.warning("legal.authorsFile", DEPRECATED_DROP);
            self.file("legal.authorsFile", authors, FileKind::Authors);
        }
        if s.legal.repo_owner.is_some() {
            self.warning(
                "legal.repoOwner",
                "This key is DEPRECATED and will be removed in the future. Use 'organisation.name' instead",
            );
        }
        if let Some(text) = &s.legal.license
            && let License::Valid { canonical, deprecated } = license::check(text)
            && canonical != *text
        {
            let what = if deprecated.is_empty() {
                "is not written as the SPDX license list writes it".to_owned()
            } else {
                format!("uses {}, deprecated in the SPDX license list", deprecated.join(", "))
            };
            self.warning(
                "legal.license",
                format!("\"{text}\" {what}: write \"{canonical}\", the same license"),
            );
        }
        if s.input_types.is_some() {
            self.warning("inputTypes", DEPRECATED_DROP);
        }
        if s.output_types.is_some() {
            self.warning("outputTypes", DEPRECATED_DROP);
        }
        for (language, d) in &s.description {
            if d.generic_name.as_deref().is_some_and(|n| !n.is_empty()) {
                self.warning(format!("description.{language}.genericName"), DEPRECATED_DROP);
            }
            for (i, screenshot) in d.screenshots.iter().enumerate() {
                self.file(
                    &format!("description.{language}.screenshots[{i}]"),
                    screenshot,
                    FileKind::Screenshot,
                );
            }
            if let Some(is_oembed) = self.options.oembed_url {
                for (i, video) in d.videos.iter().enumerate() {
                    if !is_oembed(video) {
                        self.error(
                            format!("description.{language}.videos[{i}]"),
                            format!("'{video}' is not a valid video URL supporting oEmbed"),
                        );
                    }
                }
            }
        }
        if decoded.it_lower.is_some() {
            self.warning(
                "it",
                "Lowercase country codes are DEPRECATED and will be removed in the future. Use 'IT' instead",
            );
            if decoded.it_upper.is_some() {
                self.error("it", "'IT' key already present. Remove this key");
            }
        }
        if let Some(it) = decoded.it_upper.as_ref().or(decoded.it_lower.as_ref()) {
            if it.conforme.is_some() {
                self.warning("IT.conforme", DEPRECATED_DROP);
            }
            if let Some(code) = it.riuso_codice_ipa.as_deref().filter(|c| !c.is_empty())
                && self.ipa_code_ok(code)
            {
                self.warning(
                    "IT.riuso.codiceIPA",
                    format!(
                        "This key is DEPRECATED and will be removed in the future. \
                             Use 'organisation.uri' and set it to 'urn:x-italian-pa:{code}' instead"
                    ),
                );
            }
        }
    }

    /// A logo, screenshot or authors file: a relative path or an HTTP(S) URL.
    fn file(&mut self, key: &str, value: &str, kind: FileKind) {
        for (severity, message) in files::check(value, kind, self.options.base_dir) {
            self.push(severity, key.to_owned(), message);
        }
    }
}
