//! What a read answers: typed data for the CLI to lay out. A [`Report`] is
//! either JSON (the `--json` output, as text so its field order is kept) or
//! blocks of `key: value` lines and tables. The node and the offline CLI
//! build it with the same code ([`super::read`]); only the CLI prints it
//! (`cli/src/output.rs`), so what `mutu` prints does not depend on where the
//! command ran.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// A read's answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// The view as JSON, pretty-printed.
    Json {
        #[schema(value_type = Object)]
        value: Box<RawValue>,
    },
    /// Blocks of text, printed one after the other.
    Text { blocks: Vec<Block> },
}

/// One block of a text report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// `key: value` lines with aligned values.
    Fields(Fields),
    /// A table, under a title line when it has one; never empty.
    Table(Table),
    /// Lines as they are.
    Lines(Vec<String>),
}

impl Report {
    /// `value` as pretty JSON.
    pub fn json(value: &impl Serialize) -> Result<Self, serde_json::Error> {
        let text = serde_json::to_string_pretty(value)?;
        Ok(Report::Json {
            value: RawValue::from_string(text)?,
        })
    }

    /// A text report of these blocks.
    pub fn text(blocks: impl IntoIterator<Item = Block>) -> Self {
        Report::Text {
            blocks: blocks.into_iter().collect(),
        }
    }

    /// A text report of one table (empty when the table has no rows).
    pub fn table(table: Table) -> Self {
        Report::text(table.into_block())
    }

    /// A text report of `key: value` lines.
    pub fn fields(fields: Fields) -> Self {
        Report::text([Block::Fields(fields)])
    }
}

/// Rows under a header; a row may be shorter than the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Table {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            title: None,
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// The same table under `title`.
    pub fn titled(mut self, title: String) -> Self {
        self.title = Some(title);
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as a block, or none when it has no rows.
    pub fn into_block(self) -> Option<Block> {
        (!self.is_empty()).then_some(Block::Table(self))
    }
}

/// `key: value` lines. Empty values are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Fields {
    pub lines: Vec<(String, String)>,
}

impl Fields {
    pub fn add(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        if !value.is_empty() {
            self.lines.push((key.to_owned(), value));
        }
        self
    }

    pub fn opt(&mut self, key: &str, value: Option<impl ToString>) -> &mut Self {
        if let Some(v) = value {
            self.add(key, v.to_string());
        }
        self
    }

    pub fn into_block(self) -> Block {
        Block::Fields(self)
    }
}

/// `1 change` / `2 changes`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip_through_json_with_the_json_text_kept_as_is() {
        let mut t = Table::new(&["ID", "TITLE"]);
        t.row(vec!["abc".into(), "x".into()]);
        let mut f = Fields::default();
        f.add("id", "abc").add("empty", "").opt("none", None::<u8>);
        let text = Report::text(
            [f.into_block()]
                .into_iter()
                .chain(t.titled("1 row".into()).into_block()),
        );
        let back: Report = serde_json::from_str(&serde_json::to_string(&text).unwrap()).unwrap();
        let Report::Text { blocks } = back else {
            panic!("not text")
        };
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            blocks[0],
            Block::Fields(Fields {
                lines: vec![("id".into(), "abc".into())]
            })
        );

        #[derive(Serialize)]
        struct Ordered {
            zeta: u8,
            alpha: u8,
        }
        let json = Report::json(&Ordered { zeta: 1, alpha: 2 }).unwrap();
        let back: Report = serde_json::from_str(&serde_json::to_string(&json).unwrap()).unwrap();
        let Report::Json { value: raw } = back else {
            panic!("not json")
        };
        assert_eq!(raw.get(), "{\n  \"zeta\": 1,\n  \"alpha\": 2\n}");
    }

    #[test]
    fn an_empty_table_is_no_block() {
        assert!(Table::new(&["ID"]).into_block().is_none());
        assert!(matches!(Report::table(Table::new(&["ID"])), Report::Text { blocks } if blocks.is_empty()));
    }
}
