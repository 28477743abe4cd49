//! From the YAML tree to [`Software`]: each known key in its type.
//!
//! As the reference parser, a top-level key whose value (or any value under
//! it) has the wrong type, or holds an unknown key, is reported and then
//! counts as absent: `description.en.localisedName: []` also leaves
//! `description` empty, which the rules then report. Unlike the reference,
//! which stops at the first such value, every one is reported.
//!
//! Strings accept any scalar (a number or a boolean is taken as written);
//! booleans accept only `true` and `false`.

use crate::position;
use crate::software::*;
use crate::yaml::{Kind, Node, Resolved};
use crate::{Diagnostic, Findings, Severity};

/// The typed view and what deciding it found.
pub(crate) struct Decoded {
    pub software: Software,
    /// `IT` as written.
    pub it_upper: Option<ItSection>,
    /// The deprecated lowercase `it` as written.
    pub it_lower: Option<ItSection>,
}

const TOP_LEVEL: &[&str] = &[
    "publiccodeYmlVersion",
    "name",
    "applicationSuite",
    "url",
    "landingURL",
    "isBasedOn",
    "softwareVersion",
    "releaseDate",
    "logo",
    "monochromeLogo",
    "organisation",
    "inputTypes",
    "outputTypes",
    "platforms",
    "categories",
    "usedBy",
    "fundedBy",
    "roadmap",
    "developmentStatus",
    "softwareType",
    "supports",
    "intendedAudience",
    "description",
    "legal",
    "maintenance",
    "localisation",
    "dependsOn",
    "IT",
    "it",
];

struct Decoder<'a> {
    root: &'a Node,
    findings: &'a mut Findings,
    /// Whether the top-level key being decided met a wrong type or unknown key.
    failed: bool,
}

/// Decides the typed view of `root`, a mapping.
pub(crate) fn decode(root: &Node, version: &str, findings: &mut Findings) -> Decoded {
    let mut d = Decoder {
        root,
        findings,
        failed: false,
    };
    let mut software = Software {
        publiccode_yml_version: version.to_owned(),
        ..Software::default()
    };
    let (mut it_upper, mut it_lower) = (None, None);
    for entry in root.entries().unwrap_or_default() {
        if !TOP_LEVEL.contains(&entry.key.as_str()) {
            d.unknown(&entry.key, entry);
        }
    }
    for &name in TOP_LEVEL {
        let Some(entry) = root.entry(name) else { continue };
        let node = &entry.value;
        d.failed = false;
        // Each arm decides one key; on failure the key is left as absent.
        macro_rules! set {
            ($field:expr, $value:expr) => {{
                let value = $value;
                if !d.failed {
                    $field = value;
                }
            }};
        }
        match name {
            "name" => set!(software.name, d.string(node, name)),
            "applicationSuite" => set!(software.application_suite, d.string(node, name)),
            "url" => set!(software.url, d.string(node, name)),
            "landingURL" => set!(software.landing_url, d.string(node, name)),
            "isBasedOn" => set!(software.is_based_on, d.url_or_urls(node, name)),
            "softwareVersion" => set!(software.software_version, d.string(node, name)),
            "releaseDate" => set!(software.release_date, d.string(node, name)),
            "logo" => set!(software.logo, d.string(node, name)),
            "monochromeLogo" => set!(software.monochrome_logo, d.string(node, name)),
            "organisation" => set!(software.organisation, d.organisation(node, name)),
            "inputTypes" => set!(software.input_types, d.strings(node, name)),
            "outputTypes" => set!(software.output_types, d.strings(node, name)),
            "platforms" => set!(software.platforms, d.strings(node, name).unwrap_or_default()),
            "categories" => set!(software.categories, d.strings(node, name)),
            "usedBy" => set!(software.used_by, d.strings(node, name)),
            "fundedBy" => set!(software.funded_by, d.list(node, name, Decoder::organisation)),
            "roadmap" => set!(software.roadmap, d.string(node, name)),
            "developmentStatus" => set!(software.development_status, d.string(node, name)),
            "softwareType" => set!(software.software_type, d.string(node, name)),
            "supports" => set!(software.supports, d.list(node, name, Decoder::support)),
            "intendedAudience" => set!(software.intended_audience, d.intended_audience(node)),
            "description" => set!(software.description, d.descriptions(node)),
            "legal" => set!(software.legal, d.legal(node).unwrap_or_default()),
            "maintenance" => set!(software.maintenance, d.maintenance(node).unwrap_or_default()),
            "localisation" => set!(software.localisation, d.localisation(node).unwrap_or_default()),
            "dependsOn" => set!(software.depends_on, d.depends_on(node)),
            "IT" => set!(it_upper, d.it_section(node, name)),
            "it" => set!(it_lower, d.it_section(node, name)),
            // publiccodeYmlVersion was decided before.
            _ => {}
        }
    }
    software.it = it_upper.clone().or_else(|| it_lower.clone());
    Decoded {
        software,
        it_upper,
        it_lower,
    }
}

impl Decoder<'_> {
    /// `node`, the value of `path`, is not `expected`. The key reported is the
    /// reference parser's: the first key or item (in file order) that starts
    /// on the line where the offending value starts.
    fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        let root = self.root;
        self.findings.add(Severity::Error, || Diagnostic {
            severity: Severity::Error,
            key: position::key_at_line(root, node.pos.line).unwrap_or_else(|| path.to_owned()),
            line: node.pos.line,
            column: node.pos.column,
            message: format!("wrong type for {path}: expected {expected}, found {}", node.describe()),
        });
        self.failed = true;
    }

    fn unknown(&mut self, path: &str, entry: &crate::yaml::Entry) {
        self.findings.add(Severity::Error, || Diagnostic {
            severity: Severity::Error,
            key: path.to_owned(),
            line: entry.key_pos.line,
            column: entry.key_pos.column,
            message: format!(
                "unknown field \"{}\": check its spelling and case against the standard",
                entry.key
            ),
        });
        self.failed = true;
    }

    /// The entries of a mapping, after reporting unknown keys. `None` for
    /// null (absent) and for a value of the wrong type (reported).
    fn object<'n>(&mut self, node: &'n Node, path: &str, known: &[&str]) -> Option<&'n Node> {
        match &node.kind {
            Kind::Map { entries, .. } => {
                for entry in entries {
                    if !known.contains(&entry.key.as_str()) {
                        self.unknown(&format!("{path}.{}", entry.key), entry);
                    }
                }
                Some(node)
            }
            _ if node.is_null() => None,
            _ => {
                self.wrong_type(node, path, "a mapping");
                None
            }
        }
    }

    fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            Kind::Scalar {
                resolved: Resolved::Null,
                ..
            } => None,
            Kind::Scalar { text, .. } => Some(text.clone()),
            _ => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.kind {
            Kind::Scalar {
                resolved: Resolved::Null,
                ..
            } => None,
            Kind::Scalar {
                resolved: Resolved::Bool(b),
                ..
            } => Some(*b),
            _ => {
                self.wrong_type(node, path, "true or false");
                None
            }
        }
    }

    /// A list; `None` for null. Items that are null count as empty strings.
    fn strings(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        self.list(node, path, |d, item, item_path| {
            d.string(item, item_path).or(Some(String::new()))
        })
    }

    fn list<T>(
        &mut self,
        node: &Node,
        path: &str,
        mut item: impl FnMut(&mut Self, &Node, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        match &node.kind {
            Kind::Seq(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, node)| item(self, node, &format!("{path}[{i}]")))
                    .collect(),
            ),
            _ if node.is_null() => None,
            _ => {
                self.wrong_type(node, path, "a list");
                None
            }
        }
    }

    /// `isBasedOn`: one URL or a list of URLs.
    fn url_or_urls(&mut self, node: &Node, path: &str) -> Vec<String> {
        match &node.kind {
            Kind::Scalar {
                resolved: Resolved::Null,
                ..
            } => Vec::new(),
            Kind::Scalar { text, .. } => vec![text.clone()],
            Kind::Seq(items) if items.iter().all(|item| matches!(item.kind, Kind::Scalar { .. })) => items
                .iter()
                .map(|item| {
                    if item.is_null() {
                        String::new()
                    } else {
                        scalar_text(item)
                    }
                })
                .collect(),
            _ => {
                self.wrong_type(node, path, "a URL or a list of URLs");
                Vec::new()
            }
        }
    }

    fn organisation(&mut self, node: &Node, path: &str) -> Option<Organisation> {
        let map = self.object(node, path, &["name", "uri"])?;
        Some(Organisation {
            name: self.field(map, path, "name", Self::string),
            uri: self.field(map, path, "uri", Self::string),
        })
    }

    fn support(&mut self, node: &Node, path: &str) -> Option<Support> {
        let map = self.object(node, path, &["id"])?;
        Some(Support {
            id: self.field(map, path, "id", Self::string),
        })
    }

    /// The value of `key` in `map`, decided by `decide`.
    fn field<T>(
        &mut self,
        map: &Node,
        path: &str,
        key: &str,
        decide: impl FnOnce(&mut Self, &Node, &str) -> Option<T>,
    ) -> Option<T> {
        let entry = map.entry(key)?;
        decide(self, &entry.value, &format!("{path}.{key}"))
    }

    fn intended_audience(&mut self, node: &Node) -> Option<IntendedAudience> {
        let path = "intendedAudience";
        let map = self.object(node, path, &["scope", "countries", "unsupportedCountries"])?;
        Some(IntendedAudience {
            scope: self.field(map, path, "scope", Self::strings),
            countries: self.field(map, path, "countries", Self::strings),
            unsupported_countries: self.field(map, path, "unsupportedCountries", Self::strings),
        })
    }

    fn descriptions(&mut self, node: &Node) -> Vec<(String, Description)> {
        let path = "description";
        match &node.kind {
            Kind::Map { entries, .. } => entries
                .iter()
                .map(|entry| {
                    let description = self
                        .description(&entry.value, &format!("{path}.{}", entry.key))
                        .unwrap_or_default();
                    (entry.key.clone(), description)
                })
                .collect(),
            _ if node.is_null() => Vec::new(),
            _ => {
                self.wrong_type(node, path, "a mapping of language tags to descriptions");
                Vec::new()
            }
        }
    }

    fn description(&mut self, node: &Node, path: &str) -> Option<Description> {
        const KEYS: &[&str] = &[
            "localisedName",
            "genericName",
            "shortDescription",
            "longDescription",
            "documentation",
            "apiDocumentation",
            "features",
            "screenshots",
            "videos",
            "awards",
        ];
        let map = self.object(node, path, KEYS)?;
        Some(Description {
            localised_name: self.field(map, path, "localisedName", Self::string),
            generic_name: self.field(map, path, "genericName", Self::string),
            short_description: self.field(map, path, "shortDescription", Self::string),
            long_description: self.field(map, path, "longDescription", Self::string),
            documentation: self.field(map, path, "documentation", Self::string),
            api_documentation: self.field(map, path, "apiDocumentation", Self::string),
            features: self.field(map, path, "features", Self::strings),
            screenshots: self.field(map, path, "screenshots", Self::strings).unwrap_or_default(),
            videos: self.field(map, path, "videos", Self::strings).unwrap_or_default(),
            awards: self.field(map, path, "awards", Self::strings).unwrap_or_default(),
        })
    }

    fn legal(&mut self, node: &Node) -> Option<Legal> {
        let path = "legal";
        let map = self.object(
            node,
            path,
            &["license", "mainCopyrightOwner", "repoOwner", "authorsFile"],
        )?;
        Some(Legal {
            license: self.field(map, path, "license", Self::string),
            main_copyright_owner: self.field(map, path, "mainCopyrightOwner", Self::string),
            repo_owner: self.field(map, path, "repoOwner", Self::string),
            authors_file: self.field(map, path, "authorsFile", Self::string),
        })
    }

    fn maintenance(&mut self, node: &Node) -> Option<Maintenance> {
        let path = "maintenance";
        let map = self.object(node, path, &["type", "contractors", "contacts"])?;
        Some(Maintenance {
            kind: self.field(map, path, "type", Self::string),
            contractors: self.field(map, path, "contractors", |d, node, path| {
                d.list(node, path, Self::contractor)
            }),
            contacts: self.field(map, path, "contacts", |d, node, path| d.list(node, path, Self::contact)),
        })
    }

    fn contractor(&mut self, node: &Node, path: &str) -> Option<Contractor> {
        let map = self.object(node, path, &["name", "email", "website", "until"])?;
        Some(Contractor {
            name: self.field(map, path, "name", Self::string),
            email: self.field(map, path, "email", Self::string),
            website: self.field(map, path, "website", Self::string),
            until: self.field(map, path, "until", Self::string),
        })
    }

    fn contact(&mut self, node: &Node, path: &str) -> Option<Contact> {
        let map = self.object(node, path, &["name", "email", "affiliation", "phone"])?;
        Some(Contact {
            name: self.field(map, path, "name", Self::string),
            email: self.field(map, path, "email", Self::string),
            affiliation: self.field(map, path, "affiliation", Self::string),
            phone: self.field(map, path, "phone", Self::string),
        })
    }

    fn localisation(&mut self, node: &Node) -> Option<Localisation> {
        let path = "localisation";
        let map = self.object(node, path, &["localisationReady", "availableLanguages"])?;
        Some(Localisation {
            localisation_ready: self.field(map, path, "localisationReady", Self::boolean),
            available_languages: self.field(map, path, "availableLanguages", Self::strings),
        })
    }

    fn depends_on(&mut self, node: &Node) -> Option<DependsOn> {
        let path = "dependsOn";
        let map = self.object(node, path, &["open", "proprietary", "hardware"])?;
        let dependencies =
            |d: &mut Self, key| d.field(map, path, key, |d, node, path| d.list(node, path, Self::dependency));
        Some(DependsOn {
            open: dependencies(self, "open"),
            proprietary: dependencies(self, "proprietary"),
            hardware: dependencies(self, "hardware"),
        })
    }

    fn dependency(&mut self, node: &Node, path: &str) -> Option<Dependency> {
        let map = self.object(node, path, &["name", "versionMin", "versionMax", "optional", "version"])?;
        Some(Dependency {
            name: self.field(map, path, "name", Self::string),
            version_min: self.field(map, path, "versionMin", Self::string),
            version_max: self.field(map, path, "versionMax", Self::string),
            optional: self.field(map, path, "optional", Self::boolean),
            version: self.field(map, path, "version", Self::string),
        })
    }

    fn it_section(&mut self, node: &Node, path: &str) -> Option<ItSection> {
        let map = self.object(
            node,
            path,
            &["countryExtensionVersion", "conforme", "riuso", "piattaforme"],
        )?;
        let conforme = self.field(map, path, "conforme", |d, node, path| {
            let keys = [
                "lineeGuidaDesign",
                "modelloInteroperabilita",
                "misureMinimeSicurezza",
                "gdpr",
            ];
            let map = d.object(node, path, &keys)?;
            Some(ItConforme {
                linee_guida_design: d.field(map, path, "lineeGuidaDesign", Self::boolean),
                modello_interoperabilita: d.field(map, path, "modelloInteroperabilita", Self::boolean),
                misure_minime_sicurezza: d.field(map, path, "misureMinimeSicurezza", Self::boolean),
                gdpr: d.field(map, path, "gdpr", Self::boolean),
            })
        });
        let riuso_codice_ipa = self.field(map, path, "riuso", |d, node, path| {
            let map = d.object(node, path, &["codiceIPA"])?;
            d.field(map, path, "codiceIPA", Self::string)
        });
        let piattaforme = self
            .field(map, path, "piattaforme", |d, node, path| {
                let map = d.object(node, path, &["spid", "pagopa", "cie", "anpr", "io"])?;
                let flag = |d: &mut Self, key| d.field(map, path, key, Self::boolean).unwrap_or(false);
                Some(ItPiattaforme {
                    spid: flag(d, "spid"),
                    pagopa: flag(d, "pagopa"),
                    cie: flag(d, "cie"),
                    anpr: flag(d, "anpr"),
                    io: flag(d, "io"),
                })
            })
            .unwrap_or_default();
        Some(ItSection {
            country_extension_version: self.field(map, path, "countryExtensionVersion", Self::string),
            conforme,
            riuso_codice_ipa,
            piattaforme,
        })
    }
}

fn scalar_text(node: &Node) -> String {
    match &node.kind {
        Kind::Scalar { text, .. } => text.clone(),
        _ => String::new(),
    }
}
