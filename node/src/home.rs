//! A member's home directory (`$MUTU_HOME`): identity, replica nonce, store,
//! API token, config.
//!
//! ```text
//! identity.key   the member's secret key, 32 bytes as hex, mode 0600
//! replica.id     this replica's 16-byte actor nonce, hex, created once
//! store.redb     the redb store (see `store`)
//! api.token      bearer token of the local HTTP API, mode 0600
//! config.toml    optional `mutu run` settings
//! web-sessions.json  the web UI's sessions (SHA-256 of each session id and
//!                its expiry; written by `mutu-http`), mode 0600
//! ```
//!
//! Secrets are written to a new temporary file with mode 0600 first, then
//! renamed into place and the directory synced ([`write_atomically`]): a
//! crash never leaves a half-written or world-readable key, and a link
//! planted in the home is never written through. A damaged key file is an
//! error that says how to recover, never a panic.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use mutu_protocol::identity::{ReplicaNonce, SecretKey};

/// Errors about the home directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("no mutu identity in {0}: run `mutu init --name NAME --kind KIND` first")]
    NotInitialised(PathBuf),
    #[error("{0} already holds a mutu identity: use another --home to create a second member")]
    AlreadyInitialised(PathBuf),
    #[error("{path} is damaged: {problem}")]
    Damaged { path: PathBuf, problem: String },
    #[error("cannot find a data directory for mutu: pass --home DIR or set MUTU_HOME")]
    NoDataDir,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// A home directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `dir` if given (from `--home` or `MUTU_HOME`), else the platform data
    /// dir (`~/.local/share/mutu` on Linux).
    pub fn resolve(dir: Option<PathBuf>) -> Result<Self, Error> {
        let root = match dir {
            Some(d) => d,
            None => dirs::data_dir().ok_or(Error::NoDataDir)?.join("mutu"),
        };
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn identity_path(&self) -> PathBuf {
        self.root.join("identity.key")
    }

    pub fn replica_path(&self) -> PathBuf {
        self.root.join("replica.id")
    }

    pub fn store_path(&self) -> PathBuf {
        self.root.join("store.redb")
    }

    /// Written by `mutu restore`: the node fetches the member's newer
    /// changes from a peer before its first write, then removes it.
    pub fn restored_path(&self) -> PathBuf {
        self.root.join("restored")
    }

    pub fn token_path(&self) -> PathBuf {
        self.root.join("api.token")
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    pub fn is_initialised(&self) -> bool {
        self.identity_path().exists()
    }

    /// Creates the directory, a new identity from `secret` and a replica
    /// nonce from `replica`. Refuses to overwrite an identity.
    pub fn create_identity(&self, secret: [u8; 32], replica: [u8; 16]) -> Result<SecretKey, Error> {
        if self.is_initialised() {
            return Err(Error::AlreadyInitialised(self.root.clone()));
        }
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        write_private(&self.replica_path(), hex(&replica).as_bytes())?;
        write_private(&self.identity_path(), hex(&secret).as_bytes())?;
        Ok(SecretKey::from_bytes(&secret))
    }

    /// Reads the identity and the replica nonce.
    pub fn load_identity(&self) -> Result<(SecretKey, ReplicaNonce), Error> {
        let path = self.identity_path();
        if !path.exists() {
            return Err(Error::NotInitialised(self.root.clone()));
        }
        let secret: [u8; 32] = read_hex(&path)?;
        let replica: [u8; 16] = read_hex(&self.replica_path())?;
        Ok((SecretKey::from_bytes(&secret), ReplicaNonce(replica)))
    }

    /// Writes a file readable by the owner only (0600), atomically.
    pub fn write_private(&self, path: &Path, contents: &[u8]) -> Result<(), Error> {
        write_private(path, contents)
    }
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), Error> {
    write_atomically(path, 0o600, |f| f.write_all(contents))
}

/// Writes a file atomically: `write` fills a new temporary file beside
/// `path` (mode `mode` on unix), which is synced, renamed over `path`, and
/// then the directory is synced so the rename itself survives a crash.
///
/// The temporary file has a fresh random name and is created exclusively
/// (`O_CREAT | O_EXCL`), which never follows a symbolic link: a file or a
/// link planted beside `path` is never written through.
pub fn write_atomically(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut fs::File) -> std::io::Result<()>,
) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (tmp, mut file) = create_temporary(&dir, &name, mode)?;
    let written = write(&mut file).and_then(|()| file.sync_all());
    drop(file);
    if let Err(source) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::Io {
            path: path.to_owned(),
            source,
        });
    }
    fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(io(&dir))
}

/// A new file `.{name}.{random}.tmp` in `dir`, created exclusively.
fn create_temporary(dir: &Path, name: &str, mode: u32) -> Result<(PathBuf, fs::File), Error> {
    let mut attempt = 0;
    loop {
        let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        match opts.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            // Another name taken by chance (or by someone): draw again.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
            Err(e) => return Err(io(&tmp)(e)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Largest key file read: its hex and some whitespace.
const MAX_KEY_FILE: u64 = 4096;

/// What to do with a damaged key file.
const RESTORE: &str = "restore it from a backup of this home (a lost secret key cannot be recovered otherwise)";

fn read_hex<const N: usize>(path: &Path) -> Result<[u8; N], Error> {
    use std::io::Read;
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes))
        .map_err(io(path))?;
    let damaged = |problem: String| Error::Damaged {
        path: path.to_owned(),
        problem: format!("{problem}; {RESTORE}"),
    };
    let text = bytes.trim_ascii();
    if text.len() != 2 * N {
        return Err(damaged(format!(
            "it must hold {} hex characters and holds {} bytes",
            2 * N,
            text.len()
        )));
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        match (digit(pair[0]), digit(pair[1])) {
            (Some(hi), Some(lo)) => *o = hi << 4 | lo,
            _ => {
                return Err(damaged(format!(
                    "it must hold {} hex characters (0-9, a-f) and holds other bytes",
                    2 * N
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().join("h"))).unwrap();
        assert!(matches!(home.load_identity(), Err(Error::NotInitialised(_))));
        let key = home.create_identity([5; 32], [6; 16]).unwrap();
        let (back, replica) = home.load_identity().unwrap();
        assert_eq!(back.member_id(), key.member_id());
        assert_eq!(replica, ReplicaNonce([6; 16]));
        assert!(matches!(
            home.create_identity([1; 32], [1; 16]),
            Err(Error::AlreadyInitialised(_))
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(home.identity_path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// A key file with a non-ASCII byte where a hex digit belongs, or of
    /// the wrong length, or not text at all: an error that says to restore
    /// it (it used to panic on a slice inside a UTF-8 character).
    #[test]
    fn a_damaged_key_file_is_an_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().join("h"))).unwrap();
        home.create_identity([5; 32], [6; 16]).unwrap();
        let mut non_ascii = "a".repeat(61).into_bytes();
        non_ascii.extend_from_slice("é".as_bytes());
        non_ascii.push(b'a');
        assert_eq!(non_ascii.len(), 64);
        let cases: [(&str, Vec<u8>); 5] = [
            ("non-ASCII", non_ascii),
            ("too long", "ab".repeat(33).into_bytes()),
            ("too short", b"abc".to_vec()),
            ("not UTF-8", vec![0xff; 64]),
            ("not hex", "zz".repeat(32).into_bytes()),
        ];
        for (what, bytes) in cases {
            fs::write(home.identity_path(), &bytes).unwrap();
            match home.load_identity() {
                Err(e @ Error::Damaged { .. }) => {
                    let text = e.to_string();
                    assert!(
                        text.contains("identity.key") && text.contains("restore it from a backup"),
                        "{what}: {text}"
                    );
                }
                other => panic!("{what}: {other:?}"),
            }
        }
        // Surrounding whitespace is fine; upper case hex too.
        fs::write(home.identity_path(), format!("\n {}\n", "05".repeat(32).to_uppercase())).unwrap();
        assert!(home.load_identity().is_ok());
    }

    /// Links planted where a temporary file could go are never written
    /// through, and no temporary file is left behind.
    #[cfg(unix)]
    #[test]
    fn planted_links_beside_a_secret_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "untouched").unwrap();
        let root = dir.path().join("h");
        fs::create_dir_all(&root).unwrap();
        let home = Home::resolve(Some(root.clone())).unwrap();
        // The names the temporary files used to have, and the new pattern's.
        for name in [
            "identity.tmp",
            "replica.tmp",
            "api.tmp",
            ".identity.key.tmp",
            ".api.token.tmp",
        ] {
            std::os::unix::fs::symlink(&victim, root.join(name)).unwrap();
        }
        home.create_identity([5; 32], [6; 16]).unwrap();
        home.write_private(&home.token_path(), b"secret-token").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(fs::read_to_string(home.token_path()).unwrap(), "secret-token");
        assert!(home.load_identity().is_ok());
        let mut left: Vec<String> = fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp") && fs::symlink_metadata(root.join(n)).is_ok_and(|m| !m.is_symlink()))
            .collect();
        left.sort();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    }
}
