#![allow(clippy::expect_used, clippy::panic)]
//! A small tmpfs mounted for a test (disk-full tests): needs root and the
//! `mount` program. Unmounted when dropped, whatever the test did.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// A tmpfs of a fixed size mounted on a fresh directory.
#[derive(Debug)]
pub struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `bytes` on a fresh directory under the system's
    /// temporary directory. `Err` says why it could not (not root, no
    /// `mount`, refused): the caller prints it and skips.
    pub fn mount(bytes: u64) -> Result<Self, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mutu-tmpfs-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes},mode=0700"), "tmpfs"])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(Self { dir }),
            Ok(o) => {
                let _ = std::fs::remove_dir(&dir);
                Err(format!(
                    "mount -t tmpfs failed (root is needed): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ))
            }
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(format!("cannot run mount: {e}"))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Fills the filesystem with a ballast file until a write fails for
    /// want of space; returns the file, to be removed to free the space.
    pub fn fill(&self, name: &str) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join(name);
        let mut file = std::fs::File::create(&path).expect("the ballast file can be created");
        let block = vec![0x5a; 4096];
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a file still open (a store a failing test left) does not
        // keep the mount.
        match Command::new("umount").arg("-l").arg(&self.dir).status() {
            Ok(s) if s.success() => {
                let _ = std::fs::remove_dir(&self.dir);
            }
            other => eprintln!("could not unmount {}: {other:?}", self.dir.display()),
        }
    }
}
