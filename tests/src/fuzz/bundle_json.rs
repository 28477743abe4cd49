//! `bundle_json`: a bundle file (`mutu import`, `mutu verify`, the import
//! API and form).
//!
//! Checks:
//! - `Bundle::parse` returns a bundle or an error, never panics;
//! - a bundle that parses round-trips: its JSON parses to the same bundle;
//! - `bundle::verify` accepts it (one summary per document, each counting
//!   that document's changes) or refuses it with an error that says what is
//!   wrong; an accepted bundle's changes are admitted by a fresh registry
//!   with none rejected or left waiting, and that registry re-opens the
//!   same from what it stored.

use mutu_protocol::bundle::{self, Bundle};

use super::check;
use super::fixtures::{self, NOW};

pub fn run(data: &[u8]) {
    let Ok(bundle) = Bundle::parse(data) else {
        return;
    };
    let json = bundle.to_json();
    assert_eq!(
        Bundle::parse(json.as_bytes()).ok().as_ref(),
        Some(&bundle),
        "a bundle round-trips through its JSON"
    );
    match bundle::verify(&bundle, NOW) {
        Ok(summaries) => {
            assert_eq!(summaries.len(), bundle.documents.len());
            for (s, d) in summaries.iter().zip(&bundle.documents) {
                assert_eq!((s.doc, s.changes), (d.doc, d.changes.len()));
            }
            let mut registry = fixtures::registry();
            let (report, stored) = check::admit_untrusted(&mut registry, bundle.changes());
            assert!(
                report.rejected.is_empty() && report.pending == 0,
                "a verified bundle is admitted whole: {report:?}"
            );
            check::reopens_the_same(&check::views_json(&registry), stored);
        }
        Err(e) => assert!(!e.to_string().is_empty(), "a refusal says why"),
    }
}
