//! The typed view of a publiccode.yml: the keys of the standard (0.x), each
//! in its type.
//!
//! A field is `None` (or empty) when the file leaves it out, writes `null`,
//! or gives it a value of the wrong type (the value is then reported and
//! left out, as the reference parser does). Everything the file holds,
//! known or not, stays in [`crate::Document::value`].

use crate::vocab;

/// The software a publiccode.yml describes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Software {
    /// `publiccodeYmlVersion`, as written (`"0"`, `"0.4"`, …).
    pub publiccode_yml_version: String,
    pub name: Option<String>,
    pub application_suite: Option<String>,
    /// `url`: the source code repository; the software's identity.
    pub url: Option<String>,
    pub landing_url: Option<String>,
    /// `isBasedOn`, a single URL or a list of them.
    pub is_based_on: Vec<String>,
    pub software_version: Option<String>,
    /// `releaseDate`, `YYYY-MM-DD`.
    pub release_date: Option<String>,
    pub logo: Option<String>,
    /// Deprecated: use `logo`.
    pub monochrome_logo: Option<String>,
    pub organisation: Option<Organisation>,
    /// Deprecated.
    pub input_types: Option<Vec<String>>,
    /// Deprecated.
    pub output_types: Option<Vec<String>>,
    pub platforms: Vec<String>,
    pub categories: Option<Vec<String>>,
    /// `usedBy`: as declared by the project, unverified.
    pub used_by: Option<Vec<String>>,
    pub funded_by: Option<Vec<Organisation>>,
    pub roadmap: Option<String>,
    /// `developmentStatus` as written; see [`Software::development_status`].
    pub development_status: Option<String>,
    /// `softwareType` as written; see [`Software::software_type`].
    pub software_type: Option<String>,
    /// `supports[].id`.
    pub supports: Option<Vec<Support>>,
    pub intended_audience: Option<IntendedAudience>,
    /// `description`, by language tag, in file order.
    pub description: Vec<(String, Description)>,
    pub legal: Legal,
    pub maintenance: Maintenance,
    pub localisation: Localisation,
    pub depends_on: Option<DependsOn>,
    /// The Italian section, `IT` (or the deprecated `it` when only it is present).
    pub it: Option<ItSection>,
}

impl Software {
    /// `developmentStatus`, when it is one of the standard's values.
    pub fn development_status(&self) -> Option<vocab::DevelopmentStatus> {
        self.development_status
            .as_deref()
            .and_then(vocab::DevelopmentStatus::from_key)
    }

    /// `softwareType`, when it is one of the standard's values.
    pub fn software_type(&self) -> Option<vocab::SoftwareType> {
        self.software_type.as_deref().and_then(vocab::SoftwareType::from_key)
    }

    /// The description in `language` (a BCP 47 tag, compared without case),
    /// or else in the first language whose primary subtag matches, or else
    /// the first description of the file.
    pub fn description_for(&self, language: &str) -> Option<(&str, &Description)> {
        let primary = |tag: &str| tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
        let wanted = primary(language);
        self.description
            .iter()
            .find(|(tag, _)| tag.eq_ignore_ascii_case(language))
            .or_else(|| self.description.iter().find(|(tag, _)| primary(tag) == wanted))
            .or_else(|| self.description.first())
            .map(|(tag, description)| (tag.as_str(), description))
    }
}

/// An organisation: `organisation`, or an item of `fundedBy`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Organisation {
    pub name: Option<String>,
    /// A URL, a URN, or `urn:x-italian-pa:<codiceIPA>`.
    pub uri: Option<String>,
}

/// An item of `supports`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Support {
    /// `alias:<name>` (see [`vocab::SUPPORTS_ALIASES`]) or a URI.
    pub id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct IntendedAudience {
    pub scope: Option<Vec<String>>,
    /// ISO 3166-1 alpha-2 codes (lower case is deprecated).
    pub countries: Option<Vec<String>>,
    pub unsupported_countries: Option<Vec<String>>,
}

/// The description of the software in one language.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Description {
    pub localised_name: Option<String>,
    /// Deprecated.
    pub generic_name: Option<String>,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub documentation: Option<String>,
    pub api_documentation: Option<String>,
    pub features: Option<Vec<String>>,
    pub screenshots: Vec<String>,
    pub videos: Vec<String>,
    pub awards: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Legal {
    /// An SPDX license expression, as written.
    pub license: Option<String>,
    pub main_copyright_owner: Option<String>,
    /// Deprecated: use `organisation.name`.
    pub repo_owner: Option<String>,
    /// Deprecated.
    pub authors_file: Option<String>,
}

impl Legal {
    /// The license expression in canonical form: deprecated SPDX identifiers
    /// replaced by their exact successors (`GPL-3.0` → `GPL-3.0-only`,
    /// `GPL-3.0+` → `GPL-3.0-or-later`), identifiers in the list's case
    /// (`mit` → `MIT`). `None` when the license is missing or invalid.
    pub fn license_normalised(&self) -> Option<String> {
        crate::license::normalised(self.license.as_deref()?)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Maintenance {
    /// `type` as written; see [`Maintenance::kind`].
    pub kind: Option<String>,
    pub contractors: Option<Vec<Contractor>>,
    pub contacts: Option<Vec<Contact>>,
}

impl Maintenance {
    /// `type`, when it is one of the standard's values.
    pub fn kind(&self) -> Option<vocab::MaintenanceType> {
        self.kind.as_deref().and_then(vocab::MaintenanceType::from_key)
    }
}

/// A company or person paid to maintain the software.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Contractor {
    pub name: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    /// `YYYY-MM-DD`.
    pub until: Option<String>,
}

/// A person maintaining the software.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub affiliation: Option<String>,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Localisation {
    pub localisation_ready: Option<bool>,
    /// BCP 47 tags; `None` when the key is missing or null, empty when `[]`.
    pub available_languages: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DependsOn {
    pub open: Option<Vec<Dependency>>,
    pub proprietary: Option<Vec<Dependency>>,
    pub hardware: Option<Vec<Dependency>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dependency {
    pub name: Option<String>,
    pub version_min: Option<String>,
    pub version_max: Option<String>,
    pub optional: Option<bool>,
    pub version: Option<String>,
}

/// The Italian extension (`IT`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItSection {
    pub country_extension_version: Option<String>,
    /// Deprecated `conforme` block: present or not, and its four flags.
    pub conforme: Option<ItConforme>,
    /// Deprecated `riuso.codiceIPA`: use `organisation.uri`.
    pub riuso_codice_ipa: Option<String>,
    pub piattaforme: ItPiattaforme,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItConforme {
    pub linee_guida_design: Option<bool>,
    pub modello_interoperabilita: Option<bool>,
    pub misure_minime_sicurezza: Option<bool>,
    pub gdpr: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItPiattaforme {
    pub spid: bool,
    pub pagopa: bool,
    pub cie: bool,
    pub anpr: bool,
    pub io: bool,
}
