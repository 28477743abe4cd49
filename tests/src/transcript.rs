//! Transcript tests: markdown files whose ```` ```console ```` blocks are run
//! against the real `mutu` binary (modelled on radicle-heartwood's
//! `radicle-cli/examples/*.md`). They document the CLI and test it at once.
//!
//! Inside a `console` block (other blocks are prose and are not run):
//!
//! - `$ mutu ARGS…` runs the binary. Words split on spaces; '…' and "…"
//!   quote. No shell: no pipes, globs or redirections.
//! - Built-in helpers damage a bundle file in place: `$ tamper FILE DOC`
//!   flips one byte inside the first change of document DOC,
//!   `$ swap-sigs FILE DOC` swaps the signatures of DOC's first two changes,
//!   `$ move-change FILE FROM TO` moves FROM's last change into document TO.
//! - The lines after a command, up to the next `$ `, are its expected output:
//!   stdout, then stderr (as a terminal shows them). `[..]` in a line matches
//!   any text; a line `...` matches any number of lines (zero or more).
//! - `? N` after the output asserts the exit code (default: 0).
//! - `$ mutu … # => NAME` stores the command's stdout (trimmed) in `$NAME`;
//!   if no output lines follow, its output is not checked.
//! - `$NAME` is replaced in commands and expected output. `$TMP` is the
//!   transcript's working directory (every command runs there), and any
//!   `$HOME_X` names a fresh home directory `$TMP/home_x`. Any other unknown
//!   `$NAME` is an error, so a typo cannot match by accident.
//!
//! Every transcript gets a fresh temporary directory; `HOME` and
//! `XDG_DATA_HOME` point into it and `MUTU_HOME`/`RUST_LOG` are cleared, so
//! commands without `--home` use a default home inside it and never touch
//! the real one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mutu_protocol::bundle::Bundle;

/// One command of a transcript and what it must produce.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    capture: Option<String>,
    expected: Vec<String>,
    code: i32,
}

/// Parses the `console` blocks of a markdown text into steps.
fn parse(text: &str) -> Result<Vec<Step>, String> {
    let mut steps: Vec<Step> = Vec::new();
    let mut fence: Option<bool> = None; // Some(runnable) while inside a block
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if let Some(info) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(info.split_whitespace().next() == Some("console")),
            };
            continue;
        }
        if fence != Some(true) {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            let (command, capture) = match cmd.rsplit_once("# =>") {
                Some((c, name)) => (c.trim().to_owned(), Some(name.trim().to_owned())),
                None => (cmd.trim().to_owned(), None),
            };
            steps.push(Step {
                line: i + 1,
                command,
                capture,
                expected: Vec::new(),
                code: 0,
            });
            continue;
        }
        let step = steps
            .last_mut()
            .ok_or_else(|| format!("line {}: output before any `$ ` command", i + 1))?;
        if let Some(code) = line.strip_prefix("? ") {
            step.code = code
                .trim()
                .parse()
                .map_err(|_| format!("line {}: `? N` needs a number", i + 1))?;
        } else {
            step.expected.push(line.to_owned());
        }
    }
    Ok(steps)
}

/// Splits a command line into words, with '…' and "…" quoting.
fn words(line: &str) -> Result<Vec<String>, String> {
    let (mut out, mut cur, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => (quote, in_word) = (Some(c), true),
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                }
                in_word = false;
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unclosed quote in `{line}`"));
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// Whether `line` matches `pattern`, where `[..]` matches any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line[first.len()..].ends_with(last) || line.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether `actual` matches `expected`, where a line `...` matches any lines.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => (0..=actual.len()).any(|k| lines_match(rest, &actual[k..])),
        Some((e, rest)) => actual.first().is_some_and(|a| line_matches(e, a)) && lines_match(rest, &actual[1..]),
    }
}

/// A transcript being run: its variables and working directory.
struct Run {
    bin: PathBuf,
    dir: PathBuf,
    vars: HashMap<String, String>,
}

impl Run {
    /// Replaces `$NAME`s in `text`.
    fn substitute(&mut self, text: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            // `$` is one byte: `i + 1` is the next character's start.
            let name_len = if c == '$' {
                text[i + 1..]
                    .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                    .unwrap_or(text.len() - i - 1)
            } else {
                0
            };
            if name_len == 0 {
                out.push(c);
                continue;
            }
            let name = &text[i + 1..i + 1 + name_len];
            if name.starts_with("HOME_") && !self.vars.contains_key(name) {
                let home = self.dir.join(name.to_lowercase());
                self.vars.insert(name.to_owned(), home.display().to_string());
            }
            out.push_str(self.vars.get(name).ok_or_else(|| format!("unknown variable ${name}"))?);
            for _ in 0..name_len {
                chars.next();
            }
        }
        Ok(out)
    }

    /// Runs one step; returns its exit code and combined output.
    fn execute(&mut self, argv: &[String]) -> Result<(i32, String, String), String> {
        let (program, args) = argv.split_first().ok_or("empty command")?;
        match program.as_str() {
            "mutu" => {
                let out = Command::new(&self.bin)
                    .args(args)
                    .current_dir(&self.dir)
                    .env("HOME", &self.dir)
                    .env("XDG_DATA_HOME", self.dir.join("data"))
                    .env_remove("MUTU_HOME")
                    .env_remove("RUST_LOG")
                    .output()
                    .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
                let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
                Ok((out.status.code().unwrap_or(-1), stdout, all))
            }
            "tamper" | "swap-sigs" | "move-change" => {
                let (file, docs) = args
                    .split_first()
                    .ok_or_else(|| format!("usage: {program} FILE DOC…"))?;
                damage(program, &self.dir.join(file), docs)?;
                Ok((0, String::new(), String::new()))
            }
            other => Err(format!(
                "unknown command `{other}`: only `mutu` and the built-in helpers run"
            )),
        }
    }

    fn step(&mut self, step: &Step) -> Result<(), String> {
        let line = self.substitute(&step.command)?;
        let argv = words(&line)?;
        let (code, stdout, all) = self.execute(&argv)?;
        let expected = step
            .expected
            .iter()
            .map(|l| self.substitute(l))
            .collect::<Result<Vec<_>, _>>()?;
        let mut actual: Vec<&str> = all.lines().map(str::trim_end).collect();
        while actual.last() == Some(&"") {
            actual.pop();
        }
        let check_output = step.capture.is_none() || !expected.is_empty();
        if code != step.code || (check_output && !lines_match(&expected, &actual)) {
            return Err(format!(
                "$ {line}\n--- expected (exit {}):\n{}\n--- actual (exit {code}):\n{}",
                step.code,
                expected.join("\n"),
                actual.join("\n")
            ));
        }
        if let Some(name) = &step.capture {
            self.vars.insert(name.clone(), stdout.trim().to_owned());
        }
        Ok(())
    }
}

/// The built-in helpers that damage a bundle file in place.
fn damage(helper: &str, file: &Path, docs: &[String]) -> Result<(), String> {
    let text = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut bundle = Bundle::parse(&text).map_err(|e| e.to_string())?;
    let position = |bundle: &Bundle, doc: &str| {
        bundle
            .documents
            .iter()
            .position(|d| d.doc.to_string() == doc)
            .ok_or_else(|| format!("no document {doc} in the bundle"))
    };
    match (helper, docs) {
        ("tamper", [doc]) => {
            let d = position(&bundle, doc)?;
            let change = &mut bundle.documents[d]
                .changes
                .first_mut()
                .ok_or("the document has no change")?
                .change;
            let at = change.len() / 2;
            *change.get_mut(at).ok_or("the change is empty")? ^= 0x01;
        }
        ("swap-sigs", [doc]) => {
            let d = position(&bundle, doc)?;
            let [a, b, ..] = bundle.documents[d].changes.as_mut_slice() else {
                return Err("the document has fewer than two changes".into());
            };
            std::mem::swap(&mut a.sig, &mut b.sig);
        }
        ("move-change", [from, to]) => {
            let (from, to) = (position(&bundle, from)?, position(&bundle, to)?);
            let change = bundle.documents[from]
                .changes
                .pop()
                .ok_or("the document has no change")?;
            bundle.documents[to].changes.push(change);
        }
        _ => {
            return Err(format!(
                "usage: tamper FILE DOC | swap-sigs FILE DOC | move-change FILE FROM TO (not {helper} {docs:?})"
            ));
        }
    }
    std::fs::write(file, bundle.to_json()).map_err(|e| format!("{}: {e}", file.display()))
}

/// Runs the transcript `md` against the binary `bin`; panics with the failing
/// command, the expected and the actual output.
pub fn run(bin: &Path, md: &Path) {
    let text = std::fs::read_to_string(md).unwrap_or_else(|e| panic!("{}: {e}", md.display()));
    let steps = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", md.display()));
    assert!(
        !steps.is_empty(),
        "{}: no ```console block with a `$ ` command",
        md.display()
    );
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let dir = tmp.path().to_owned();
    let vars = HashMap::from([("TMP".to_owned(), dir.display().to_string())]);
    let mut run = Run {
        bin: bin.to_owned(),
        dir,
        vars,
    };
    for step in &steps {
        if let Err(e) = run.step(step) {
            panic!("{}:{}: transcript failed\n{e}", md.display(), step.line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_text_and_lines() {
        assert!(line_matches("id: [..]", "id: abc"));
        assert!(line_matches("[..]EUR[..]", "1250.50 EUR total"));
        assert!(!line_matches("a[..]b", "ab-c"));
        assert!(!line_matches("aa[..]aa", "aaa"));
        let exp = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(lines_match(&exp(&["{", "...", "}"]), &["{", "x", "y", "}"]));
        assert!(lines_match(&exp(&["...", "b", "..."]), &["a", "b", "c"]));
        assert!(!lines_match(&exp(&["a"]), &["a", "b"]));
    }

    #[test]
    fn commands_parse_with_quotes_and_captures() {
        assert_eq!(
            words(r#"mutu need add --title "Export ODS" --tag 'a b'"#).unwrap(),
            ["mutu", "need", "add", "--title", "Export ODS", "--tag", "a b"]
        );
        assert_eq!(words("mutu x ''").unwrap(), ["mutu", "x", ""]);
        let steps =
            parse("```console\n$ mutu init # => ME\n$ mutu ls\nout\n? 2\n```\n```text\n$ not run\n```\n").unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].capture.as_deref(), Some("ME"));
        assert_eq!((steps[1].expected.clone(), steps[1].code), (vec!["out".to_owned()], 2));
    }
}
