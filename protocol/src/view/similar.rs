//! Needs that look like a need about to be written: the duplicate a
//! coalition should join instead of splitting its pledges.
//!
//! A draft (title, description, project, tags) is compared with every open
//! or in-progress need:
//!
//! - **the same project** weighs most (0.45 of the score; when either
//!   need names no project, the two other parts make the whole score);
//! - **shared tags**, as the Jaccard index of the two tag sets (0.2);
//! - **matching words** (0.35): the TF-IDF cosine of the two texts over the
//!   open needs, the title counting twice. Words are folded (Unicode NFKD,
//!   accents dropped, lower case), stop words of French and English left
//!   out, and each word stemmed by the Snowball stemmers of French then
//!   English (`rust-stemmers`), so `prélèvements` meets `prelevement` and
//!   `exports` meets `export` whatever the language of each text.
//!
//! Only ASCII words reach the stemmers: `rust-stemmers` 1.2 slices words
//! by byte offsets and can panic inside a multi-byte character, and every
//! byte of a record is an attacker's. Words in other scripts are compared
//! as they are (folded, not stemmed).
//!
//! The ranking is deterministic: the same records and draft give the same
//! list on every node (ties by need id).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Views;
use crate::record::{Body, Kind, NeedStatus, RecordId};

/// What a need about to be written says.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub title: String,
    pub description: String,
    pub project: Option<RecordId>,
    pub tags: Vec<String>,
}

/// An open need that looks like the draft.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Similar {
    pub need: RecordId,
    pub title: String,
    /// 0 to 100: how likely the two are the same need.
    pub score: u32,
    /// Why, most telling first.
    pub reasons: Vec<Reason>,
}

/// Why a need looks like the draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Reason {
    SameProject,
    SharedTags { tags: Vec<String> },
    MatchingWords { words: Vec<String> },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::SameProject => f.write_str("same project"),
            Reason::SharedTags { tags } => write!(f, "shared tags: {}", tags.join(", ")),
            Reason::MatchingWords { words } => write!(f, "matching words: {}", words.join(", ")),
        }
    }
}

/// Below this score (out of 100) a need is not shown as similar: the same
/// project alone (45) is not enough, it takes a shared tag or words too.
/// Chosen on the labelled set (`protocol/tests/similar.rs`): at 15, recall@3
/// 0.81 and precision@3 0.47 (every need of a busy project came up); at 50,
/// 0.74 and 0.66; at 55, 0.59 and 0.60.
pub const MIN_SCORE: u32 = 50;

const PROJECT_WEIGHT: f64 = 0.45;
const TAGS_WEIGHT: f64 = 0.2;
const TEXT_WEIGHT: f64 = 0.35;

/// At most this many words of a text are compared (records bound their
/// texts already; this bounds the work per need whatever the bounds are).
const MAX_WORDS: usize = 2_000;

/// Function words of French and English, folded.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "au", "aux", "be", "by", "ce", "ces", "d", "dans", "de", "des", "du", "en",
    "et", "for", "from", "il", "in", "is", "it", "l", "la", "le", "les", "leur", "of", "on", "or", "ou", "par", "pour",
    "qui", "que", "sur", "the", "this", "to", "un", "une", "with", "avec", "sans", "our", "nos", "notre", "we", "nous",
    "be", "est", "sont", "need", "besoin",
];

/// Folds, splits, drops stop words and stems: the terms of `text`, each
/// with the first surface word that gave it.
pub(crate) fn terms(text: &str) -> Vec<(String, String)> {
    let fr = Stemmer::create(Algorithm::French);
    let en = Stemmer::create(Algorithm::English);
    let folded: String = text
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .take(MAX_WORDS)
        .map(|w| {
            let stem = if w.is_ascii() && w.chars().any(|c| c.is_ascii_alphabetic()) {
                en.stem(&fr.stem(w)).into_owned()
            } else {
                w.to_owned()
            };
            (stem, w.to_owned())
        })
        .collect()
}

/// The terms full-text search indexes, and looks up, for `text`: folded,
/// split, stop words dropped, stemmed, as similar needs compare them (at
/// most `MAX_WORDS`).
pub fn search_terms(text: &str) -> Vec<String> {
    terms(text).into_iter().map(|(stem, _)| stem).collect()
}

/// A text as weighted terms (the title twice).
fn bag(title: &str, description: &str) -> (HashMap<String, f64>, HashMap<String, String>) {
    let mut counts: HashMap<String, f64> = HashMap::new();
    let mut surface: HashMap<String, String> = HashMap::new();
    for (weight, text) in [(2.0, title), (1.0, description)] {
        for (term, word) in terms(text) {
            *counts.entry(term.clone()).or_default() += weight;
            surface.entry(term).or_insert(word);
        }
    }
    (counts, surface)
}

impl Views<'_> {
    /// The open (or in progress) needs most like `draft`, best first, at
    /// most `limit`, each scoring at least [`MIN_SCORE`].
    pub fn similar(&self, draft: &Draft, limit: usize) -> Vec<Similar> {
        let candidates: Vec<_> = self
            .index
            .of_kind(Kind::Need)
            .into_iter()
            .filter_map(|r| match &r.record().body {
                Body::Need(n) if matches!(n.status, NeedStatus::Open | NeedStatus::InProgress) => {
                    Some((r.record().id, n))
                }
                _ => None,
            })
            .collect();
        let bags: Vec<_> = candidates.iter().map(|(_, n)| bag(&n.title, &n.description)).collect();
        // Inverse document frequency over the candidates and the draft.
        let (draft_bag, draft_words) = bag(&draft.title, &draft.description);
        let mut df: HashMap<&str, f64> = HashMap::new();
        for b in bags.iter().map(|(b, _)| b).chain(std::iter::once(&draft_bag)) {
            for term in b.keys() {
                *df.entry(term.as_str()).or_default() += 1.0;
            }
        }
        let docs = (bags.len() + 1) as f64;
        let idf = |t: &str| (1.0 + docs / df.get(t).copied().unwrap_or(1.0)).ln();
        let weigh = |b: &HashMap<String, f64>| -> BTreeMap<String, f64> {
            b.iter().map(|(t, c)| (t.clone(), c * idf(t))).collect()
        };
        let norm = |v: &BTreeMap<String, f64>| v.values().map(|x| x * x).sum::<f64>().sqrt();
        let q = weigh(&draft_bag);
        let q_norm = norm(&q);
        let draft_tags: BTreeSet<String> = draft
            .tags
            .iter()
            .map(|t| crate::record::validate::normalize_tag(t))
            .collect();

        let mut found: Vec<Similar> = Vec::new();
        for ((id, need), (b, _)) in candidates.iter().zip(&bags) {
            let mut reasons = Vec::new();
            let mut score = 0.0;
            if draft.project.is_some() && draft.project == need.project {
                score += PROJECT_WEIGHT;
                reasons.push(Reason::SameProject);
            }
            let tags: BTreeSet<String> = need.tags.iter().cloned().collect();
            let shared: Vec<String> = draft_tags.intersection(&tags).cloned().collect();
            if !shared.is_empty() {
                let union = draft_tags.union(&tags).count() as f64;
                score += TAGS_WEIGHT * shared.len() as f64 / union;
                reasons.push(Reason::SharedTags { tags: shared });
            }
            let d = weigh(b);
            let dot: f64 = q.iter().filter_map(|(t, w)| d.get(t).map(|x| w * x)).sum();
            let denominator = q_norm * norm(&d);
            if dot > 0.0 && denominator > 0.0 {
                score += TEXT_WEIGHT * dot / denominator;
                let mut words: Vec<(f64, &String)> = q
                    .iter()
                    .filter(|(t, _)| d.contains_key(*t))
                    .filter_map(|(t, w)| draft_words.get(t).map(|s| (*w, s)))
                    .collect();
                words.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
                reasons.push(Reason::MatchingWords {
                    words: words.into_iter().take(5).map(|(_, s)| s.clone()).collect(),
                });
            }
            // Without a project on both sides, the project says nothing
            // either way: the tags and words make the whole score.
            if draft.project.is_none() || need.project.is_none() {
                score /= TAGS_WEIGHT + TEXT_WEIGHT;
            }
            // Rounded down to a whole percent: equal on every node.
            let score = (score * 100.0).floor().clamp(0.0, 100.0) as u32;
            if score >= MIN_SCORE {
                found.push(Similar {
                    need: *id,
                    title: need.title.clone(),
                    score,
                    reasons,
                });
            }
        }
        found.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.need.cmp(&b.need)));
        found.truncate(limit);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str) -> Vec<String> {
        terms(text).into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn words_fold_accents_plurals_and_stop_words_in_french_and_english() {
        assert_eq!(stems("Prélèvements SEPA"), stems("prelevement sepa"));
        assert_eq!(stems("the exports"), stems("export"));
        assert_eq!(stems("des factures"), stems("facture"));
        assert!(stems("le la les of the").is_empty());
    }

    proptest::proptest! {
        /// Record texts are an attacker's: any string folds and stems
        /// without a panic, and yields at most `MAX_WORDS` terms.
        #[test]
        fn any_string_folds_without_panic(text in "\\PC{0,300}", ascii in "[a-zA-Z ]{0,300}") {
            proptest::prop_assert!(terms(&text).len() <= MAX_WORDS);
            proptest::prop_assert!(terms(&ascii).len() <= MAX_WORDS);
        }
    }

    #[test]
    fn any_text_is_folded_without_panic() {
        // Scripts the stemmers do not know, and words that are all suffix.
        for text in [
            "αντιθετ ισα",
            "ион ies ied aed",
            "ﬁ ǅ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
            "\u{0301}\u{0301}a",
            &"é".repeat(10_000),
        ] {
            let _ = terms(text);
        }
    }
}
