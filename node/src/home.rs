//! A member's home directory (`$MUTU_HOME`): identity, replica nonce, store,
//! API token, config.
//!
//! ```text
//! identity.key   the member's secret key, 32 bytes as hex, mode 0600
//! replica.id     this replica's 16-byte actor nonce, hex, created once
//! store.redb     the redb store (see `store`)
//! api.token      bearer token of the local HTTP API, mode 0600
//! config.toml    optional `mutu run` settings
//! ```
//!
//! Secrets are written to a temporary file with mode 0600 first, then renamed
//! into place: a crash never leaves a half-written or world-readable key.

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
    let tmp = path.with_extension("tmp");
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(io(&tmp))?;
        f.write_all(contents).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_hex<const N: usize>(path: &Path) -> Result<[u8; N], Error> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    let damaged = |problem: &str| Error::Damaged {
        path: path.to_owned(),
        problem: problem.to_owned(),
    };
    let text = text.trim();
    if text.len() != 2 * N {
        return Err(damaged(&format!("expected {} hex characters", 2 * N)));
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| damaged("not hex"))?;
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
}
