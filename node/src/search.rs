//! Full-text search over the visible records (issue 11): a tantivy index in
//! `$MUTU_HOME/search/`, derived from the record index and rebuilt from it
//! whenever it may be behind.
//!
//! **What is indexed.** Each visible, searchable record
//! ([`mutu_protocol::view::searchable`]: needs, projects with their
//! publiccode.yml, catalogues, offers, profiles) is one tantivy document:
//! its record id (stored), its author's document (to delete a document's
//! records at once), its tags (for a tag filter), and its text as terms.
//! The terms are made by the protocol ([`view::search_terms`]): accents
//! folded, split on what is not a letter or digit, French and English stop
//! words dropped, each ASCII word stemmed by the French then the English
//! Snowball stemmer (so `prélèvements`, `prelevement` and `prélèvement` meet),
//! the same terms similar needs compare. tantivy sees them through its
//! `whitespace` tokenizer: none of its own analysers runs (its stemmer
//! shares `rust-stemmers`' panic on some multi-byte words, which the
//! protocol's terms never reach).
//!
//! **A query** is made into terms the same way; a record matches if it has
//! every term (a conjunction), ranked by BM25, ties by id. At most
//! [`MAX_QUERY_TERMS`] terms of at most [`MAX_QUERY_BYTES`] bytes of text are
//! read, and at most [`MAX_HITS`] hits are returned.
//!
//! **Keeping up.** The state re-indexes the documents each admission
//! touched ([`Engine::update`]: delete the document's records, add its
//! visible ones) and commits at most every [`COMMIT_EVERY_MS`] while
//! changes keep coming, or at once for a local write; the node commits
//! what is left on its timer and when the state closes. Each commit
//! records the store's arrival counter in tantivy's commit payload. On
//! open, an index whose payload is not the store's counter (a crash
//! between the two commits, `mutu reindex`, an older version), or that
//! cannot be opened at all, is thrown away and rebuilt from the record
//! index: what the search index holds never stops a node from starting.
//! Hits are looked up in the snapshot's record index, so a record retracted
//! since the last commit is never shown.

use std::fmt;
use std::path::{Path, PathBuf};

use mutu_protocol::Timestamp;
use mutu_protocol::identity::MemberId;
use mutu_protocol::record::{RecordId, SignedRecord};
use mutu_protocol::view::{self, Filter, Hit, Index};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The search index's directory under the home.
pub const DIR: &str = "search";

/// The layout of the documents: a commit payload naming another version
/// is rebuilt.
const SCHEMA_VERSION: u32 = 1;

/// While changes keep coming (a catch-up), commits are at most this far
/// apart: a record is found at most this late (a local write at once).
pub const COMMIT_EVERY_MS: u64 = 1_000;

/// Terms read from a query.
pub const MAX_QUERY_TERMS: usize = 32;

/// Bytes of query text read (the rest is ignored).
pub const MAX_QUERY_BYTES: usize = 1_000;

/// Hits returned at most.
pub const MAX_HITS: usize = 1_000;

/// Longer terms are not indexed (nobody searches a 65-letter word, and
/// tantivy refuses terms over 64 KiB).
const MAX_TERM_BYTES: usize = 64;

/// The indexing memory tantivy asks for at least, with one thread.
const WRITER_MEMORY: usize = 15_000_000;

/// Errors of the search index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("search index in {}: {source}", path.display())]
    Index {
        path: PathBuf,
        source: tantivy::TantivyError,
    },
    #[error("cannot remove the out-of-date search index {}: {source}", path.display())]
    Remove { path: PathBuf, source: std::io::Error },
    #[error("the store's arrival counter: {0}")]
    Store(String),
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    doc: Field,
    tag: Field,
    text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("whitespace")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        doc: b.add_text_field("doc", STRING),
        tag: b.add_text_field("tag", STRING),
        text: b.add_text_field("text", text),
    };
    (b.build(), fields)
}

fn payload(generation: u64) -> String {
    format!("mutu-search/{SCHEMA_VERSION}/{generation}")
}

/// The writing side, owned by the state.
pub struct Engine {
    path: PathBuf,
    index: tantivy::Index,
    writer: IndexWriter,
    reader: Reader,
    /// Updates not committed yet.
    dirty: bool,
    last_commit: Timestamp,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("search::Engine")
            .field("path", &self.path)
            .field("dirty", &self.dirty)
            .finish_non_exhaustive()
    }
}

/// The reading side, shared by snapshots (cheap to clone).
#[derive(Clone)]
pub struct Reader {
    reader: IndexReader,
    fields: Fields,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("search::Reader(..)")
    }
}

impl Engine {
    /// Opens the search index in `dir`, rebuilding it from `records` unless
    /// its last commit is of `generation` (the store's arrival counter).
    pub fn open(dir: &Path, records: &Index, generation: u64, now: Timestamp) -> Result<Self, Error> {
        match Self::open_current(dir, generation, now) {
            Ok(Some(engine)) => return Ok(engine),
            Ok(None) => tracing::info!(dir = %dir.display(), "the search index is behind the store: rebuilding it"),
            Err(e) => tracing::warn!(error = %e, "the search index cannot be opened: rebuilding it"),
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|source| Error::Remove {
                path: dir.to_owned(),
                source,
            })?;
        }
        let mut engine = Self::create(dir, now)?;
        let started = std::time::Instant::now();
        let mut count = 0usize;
        for r in records.visible() {
            count += usize::from(engine.add(r)?);
        }
        engine.commit(generation, now)?;
        tracing::info!(records = count, took = ?started.elapsed(), "search index rebuilt");
        Ok(engine)
    }

    /// The index in `dir` if it exists, is readable and is of `generation`.
    fn open_current(dir: &Path, generation: u64, now: Timestamp) -> Result<Option<Self>, Error> {
        if !dir.join("meta.json").exists() {
            return Ok(None);
        }
        let err = |source| Error::Index {
            path: dir.to_owned(),
            source,
        };
        let index = tantivy::Index::open_in_dir(dir).map_err(err)?;
        let (expected, _) = schema();
        if index.schema() != expected {
            return Ok(None);
        }
        let metas = index.load_metas().map_err(err)?;
        if metas.payload.as_deref() != Some(payload(generation).as_str()) {
            return Ok(None);
        }
        Self::with_index(dir, index, now).map(Some)
    }

    fn create(dir: &Path, now: Timestamp) -> Result<Self, Error> {
        let err = |source| Error::Index {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(e.into()))?;
        let index = tantivy::Index::create_in_dir(dir, schema().0).map_err(err)?;
        Self::with_index(dir, index, now)
    }

    fn with_index(dir: &Path, index: tantivy::Index, now: Timestamp) -> Result<Self, Error> {
        let err = |source| Error::Index {
            path: dir.to_owned(),
            source,
        };
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY).map_err(err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(err)?;
        Ok(Self {
            path: dir.to_owned(),
            index,
            writer,
            reader: Reader {
                reader,
                fields: schema().1,
            },
            dirty: false,
            last_commit: now,
        })
    }

    /// What snapshots search.
    pub fn reader(&self) -> Reader {
        self.reader.clone()
    }

    /// Adds a record if it is searchable; returns whether it was.
    fn add(&mut self, r: &SignedRecord) -> Result<bool, Error> {
        let Some(s) = view::searchable(r) else {
            return Ok(false);
        };
        let f = self.reader.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, r.id().to_string());
        doc.add_text(f.doc, r.record().author.to_string());
        for tag in s.tags {
            doc.add_text(f.tag, tag);
        }
        let terms: Vec<String> = view::search_terms(&s.text)
            .into_iter()
            .filter(|t| t.len() <= MAX_TERM_BYTES)
            .collect();
        doc.add_text(f.text, terms.join(" "));
        self.writer.add_document(doc).map_err(|source| Error::Index {
            path: self.path.clone(),
            source,
        })?;
        self.dirty = true;
        Ok(true)
    }

    /// Re-indexes the records of `docs` as `records` holds them now.
    pub fn update(&mut self, records: &Index, docs: impl IntoIterator<Item = MemberId>) -> Result<(), Error> {
        for doc in docs {
            self.remove(&doc);
            for r in records.doc_records(&doc) {
                self.add(r)?;
            }
        }
        Ok(())
    }

    /// Forgets the records of `doc` (blocked or evicted).
    pub fn remove(&mut self, doc: &MemberId) {
        self.writer
            .delete_term(Term::from_field_text(self.reader.fields.doc, &doc.to_string()));
        self.dirty = true;
    }

    /// Commits if there are updates and the last commit is at least
    /// [`COMMIT_EVERY_MS`] old.
    pub fn commit_due(&mut self, generation: u64, now: Timestamp) -> Result<(), Error> {
        if self.dirty && now.as_millis().saturating_sub(self.last_commit.as_millis()) >= COMMIT_EVERY_MS {
            self.commit(generation, now)?;
        }
        Ok(())
    }

    /// Commits the updates (if any), marked as of `generation`, and makes
    /// them visible to readers.
    pub fn commit(&mut self, generation: u64, now: Timestamp) -> Result<(), Error> {
        if !self.dirty {
            return Ok(());
        }
        let err = |source| Error::Index {
            path: self.path.clone(),
            source,
        };
        let mut prepared = self.writer.prepare_commit().map_err(err)?;
        prepared.set_payload(&payload(generation));
        prepared.commit().map_err(err)?;
        self.reader.reader.reload().map_err(err)?;
        self.dirty = false;
        self.last_commit = now;
        Ok(())
    }

    /// Whether updates wait for a commit.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The tantivy index (for tests and benchmarks).
    pub fn index(&self) -> &tantivy::Index {
        &self.index
    }
}

impl Reader {
    /// The records matching `text` and `filter`, best first, as `records`
    /// holds them (a record retracted since the last commit is left out).
    /// A text with no terms (empty, or stop words only) lists what the
    /// filter keeps, as [`view::Views::search`] does.
    pub fn search(&self, records: &Index, text: &str, filter: &Filter) -> Result<Vec<Hit>, tantivy::TantivyError> {
        let text = truncate(text, MAX_QUERY_BYTES);
        let mut terms = view::search_terms(text);
        terms.truncate(MAX_QUERY_TERMS);
        terms.sort();
        terms.dedup();
        if terms.is_empty() {
            // Stop words only, or no words: nothing a term index can answer.
            return Ok(view::Views::new(records, Timestamp::from_millis(0))
                .search("", filter)
                .into_iter()
                .take(MAX_HITS)
                .collect());
        }
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| term_clause(Term::from_field_text(f.text, t), IndexRecordOption::WithFreqs))
            .collect();
        if let Some(tag) = &filter.tag {
            clauses.push(term_clause(Term::from_field_text(f.tag, tag), IndexRecordOption::Basic));
        }
        if let Some(author) = &filter.author {
            clauses.push(term_clause(
                Term::from_field_text(f.doc, &author.to_string()),
                IndexRecordOption::Basic,
            ));
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(MAX_HITS))?;
        let mut found: Vec<(f32, RecordId)> = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc
                .get_first(f.id)
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<RecordId>().ok())
            {
                found.push((score, id));
            }
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        found.dedup_by_key(|(_, id)| *id);
        Ok(found
            .into_iter()
            .filter_map(|(_, id)| records.get(&id))
            .filter(|r| filter.keeps(r))
            .filter_map(|r| view::searchable(r).map(|s| s.hit))
            .collect())
    }
}

fn term_clause(term: Term, option: IndexRecordOption) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(TermQuery::new(term, option)))
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests;
