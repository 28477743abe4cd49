//! The standard's vocabularies, from its text (publiccode.yml 0.5,
//! `docs/standard/`: `schema.core.rst`, `categories-list.rst`,
//! `scope-list.rst`, `aliases-list.rst`).

/// The `publiccodeYmlVersion` values accepted. All are read with the rules
/// of the latest 0.x (0.7, `"0"`); the older ones get a warning. There is no
/// 0.6: its release changed nothing in the standard.
pub const SUPPORTED_VERSIONS: &[&str] = &[
    "0", "0.2", "0.2.0", "0.2.1", "0.2.2", "0.3", "0.3.0", "0.4", "0.4.0", "0.5.0", "0.5", "0.7.0", "0.7",
];

/// The latest version, which every 0.x file is read as.
pub const LATEST_VERSION: &str = "0.7";

macro_rules! keyed_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $key:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the standard's order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value as the file writes it.
            pub fn key(self) -> &'static str {
                match self {
                    $($name::$variant => $key,)+
                }
            }

            /// The value a file's text names, if any (exact spelling).
            pub fn from_key(key: &str) -> Option<$name> {
                match key {
                    $($key => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

keyed_enum! {
    /// `developmentStatus`.
    DevelopmentStatus {
        Concept = "concept",
        Development = "development",
        Beta = "beta",
        Stable = "stable",
        Obsolete = "obsolete",
    }
}

keyed_enum! {
    /// `softwareType`.
    SoftwareType {
        StandaloneMobile = "standalone/mobile",
        StandaloneIot = "standalone/iot",
        StandaloneDesktop = "standalone/desktop",
        StandaloneWeb = "standalone/web",
        StandaloneBackend = "standalone/backend",
        StandaloneOther = "standalone/other",
        Addon = "addon",
        Library = "library",
        ConfigurationFiles = "configurationFiles",
    }
}

keyed_enum! {
    /// `maintenance.type`.
    MaintenanceType {
        /// Maintained by the owner's own staff: needs `contacts`.
        Internal = "internal",
        /// Maintained by contractors: needs `contractors`.
        Contract = "contract",
        /// Maintained by a community: needs `contacts`.
        Community = "community",
        /// Not maintained.
        None = "none",
    }
}

/// `categories`: the standard's list (`categories-list.rst`).
pub const CATEGORIES: &[&str] = &[
    "accounting",
    "agile-project-management",
    "applicant-tracking",
    "application-development",
    "appointment-scheduling",
    "backup",
    "billing-and-invoicing",
    "blog",
    "budgeting",
    "business-intelligence",
    "business-process-management",
    "cad",
    "call-center-management",
    "cloud-management",
    "collaboration",
    "communications",
    "compliance-management",
    "contact-management",
    "content-management",
    "crm",
    "customer-service-and-support",
    "data-analytics",
    "data-collection",
    "data-visualization",
    "design",
    "design-system",
    "digital-asset-management",
    "digital-citizenship",
    "document-management",
    "donor-management",
    "e-commerce",
    "e-signature",
    "educational-content",
    "email-management",
    "email-marketing",
    "employee-management",
    "enterprise-project-management",
    "enterprise-social-networking",
    "erp",
    "event-management",
    "facility-management",
    "feedback-and-reviews-management",
    "financial-reporting",
    "fleet-management",
    "fundraising",
    "gamification",
    "geographic-information-systems",
    "grant-management",
    "graphic-design",
    "help-desk",
    "hr",
    "ide",
    "identity-management",
    "instant-messaging",
    "integrated-library-system",
    "inventory-management",
    "it-asset-management",
    "it-development",
    "it-management",
    "it-security",
    "it-service-management",
    "knowledge-management",
    "learning-management-system",
    "marketing",
    "mind-mapping",
    "mobile-marketing",
    "mobile-payment",
    "network-management",
    "office",
    "online-booking",
    "online-community",
    "payment-gateway",
    "payroll",
    "predictive-analysis",
    "procurement",
    "productivity-suite",
    "project-collaboration",
    "project-management",
    "property-management",
    "real-estate-management",
    "regulations-and-directives",
    "remote-support",
    "resource-management",
    "sales-management",
    "seo",
    "service-desk",
    "social-media-management",
    "survey",
    "talent-management",
    "task-management",
    "taxes-management",
    "test-management",
    "time-management",
    "time-tracking",
    "translation",
    "video-conferencing",
    "video-editing",
    "visitor-management",
    "voip",
    "warehouse-management",
    "web-collaboration",
    "web-conferencing",
    "website-builder",
    "whistleblowing",
    "workflow-management",
    "other",
];

/// `intendedAudience.scope`: the standard's list (`scope-list.rst`).
pub const SCOPES: &[&str] = &[
    "agriculture",
    "culture",
    "defence",
    "education",
    "emergency-services",
    "employment",
    "energy",
    "environment",
    "finance-and-economic-development",
    "foreign-affairs",
    "government",
    "healthcare",
    "infrastructures",
    "justice",
    "local-authorities",
    "manufacturing",
    "research",
    "science-and-technology",
    "security",
    "society",
    "sport",
    "tourism",
    "transportation",
    "welfare",
];

/// `supports[].id` aliases (`alias:<name>`) and the resource each stands
/// for (`aliases-list.rst`).
pub const SUPPORTS_ALIASES: &[(&str, &str)] = &[
    ("gdpr", "https://eur-lex.europa.eu/eli/reg/2016/679/oj"),
    ("eidas", "https://eur-lex.europa.eu/eli/reg/2014/910/oj"),
    ("nis2", "https://eur-lex.europa.eu/eli/dir/2022/2555/oj"),
    ("cra", "https://eur-lex.europa.eu/eli/reg/2024/2847/oj"),
    ("spid", "https://www.spid.gov.it/"),
    ("cie", "https://www.cartaidentita.interno.gov.it/"),
    ("anpr", "https://www.anpr.interno.it/"),
    ("pagopa", "https://www.pagopa.gov.it/"),
    ("io", "https://io.italia.it/"),
];

/// `IT.countryExtensionVersion`.
pub const IT_EXTENSION_VERSIONS: &[&str] = &["0.2", "1.0"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_have_no_duplicates_and_keys_round_trip() {
        for list in [CATEGORIES, SCOPES] {
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len());
        }
        assert_eq!(CATEGORIES.len(), 106);
        for status in DevelopmentStatus::ALL {
            assert_eq!(DevelopmentStatus::from_key(status.key()), Some(*status));
        }
        for kind in SoftwareType::ALL {
            assert_eq!(SoftwareType::from_key(kind.key()), Some(*kind));
        }
        assert_eq!(MaintenanceType::from_key("Contract"), None);
    }
}
