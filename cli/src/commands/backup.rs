//! `mutu backup` and `mutu restore` (the file format: `mutu_node::backup`).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use mutu_node::backup;
use mutu_node::home::Home;
use mutu_node::state::State;
use mutu_protocol::Timestamp;
use mutu_protocol::bundle::{Bundle, MAX_BUNDLE_BYTES};

use crate::fail::user;

/// A passphrase file is one line: at most this long.
const MAX_PASSPHRASE_FILE_BYTES: usize = 4096;

/// The passphrase: the first line of `path` (a file, so it never shows in
/// a process list or a shell history).
fn passphrase(path: &Path) -> anyhow::Result<String> {
    let text = super::read_file_within(path, MAX_PASSPHRASE_FILE_BYTES)
        .with_context(|| format!("the passphrase file {}", path.display()))?;
    if text.len() > MAX_PASSPHRASE_FILE_BYTES {
        return Err(user(format!("{}: a passphrase file holds one line", path.display())));
    }
    let text = String::from_utf8(text).map_err(|_| user(format!("{}: the passphrase is not UTF-8", path.display())))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// Writes the backup of `home`'s member holding `bundle` to `file` (0600,
/// atomically: a reader never sees half of it).
pub fn write(
    home: &Home,
    bundle: &Bundle,
    file: &Path,
    passphrase_file: &Path,
    now: Timestamp,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if file.file_name().is_none_or(|n| n.is_empty()) {
        return Err(user(format!("--out {}: give a file name", file.display())));
    }
    let pass = passphrase(passphrase_file)?;
    let (key, _) = home.load_identity()?;
    let bytes = backup::seal(&key, bundle, now, &pass)?;
    mutu_node::home::write_atomically(file, 0o600, |f| f.write_all(&bytes))
        .with_context(|| format!("cannot write {}", file.display()))?;
    let changes: usize = bundle.documents.iter().map(|d| d.changes.len()).sum();
    writeln!(
        out,
        "backed up member {} and {changes} changes to {}",
        key.member_id(),
        file.display()
    )?;
    Ok(())
}

/// Restores `file` into `home`, which must hold no identity: the key from
/// the backup, a new replica nonce, the changes admitted as an import's.
pub fn restore(
    home: Home,
    file: &Path,
    passphrase_file: &Path,
    now: Timestamp,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if home.is_initialised() {
        return Err(user(format!(
            "{} already holds a mutu identity: restore into a new --home",
            home.root().display()
        )));
    }
    let pass = passphrase(passphrase_file)?;
    let bytes = super::read_file_within(file, MAX_BUNDLE_BYTES + 64 * 1024)?;
    // Everything is checked before anything is written to the home.
    let opened = backup::open(&bytes, &pass)?;
    drop(bytes);
    let member = opened.key.member_id();
    backup::install(&home, &opened.key)?;
    let mut st = State::open(home)?;
    let report = st.import(&opened.bundle, now)?;
    writeln!(
        out,
        "restored member {member}: {} changes admitted, {} refused; this home signs with a new replica, and `mutu run` fetches what the member published since the backup",
        report.admitted.len(),
        report.rejected.len()
    )?;
    Ok(())
}
