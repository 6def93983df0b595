//! The run directory: where a tree's vhost-user sockets and QEMU logs live.
//!
//! It is private to the daemon's user (mode 0700 whatever the umask) and
//! always fresh: a default one has a random name under the temp dir
//! (`tempfile`), and a `--run-dir` that already exists is refused. Another
//! local user can therefore neither plant symlinks where the daemon will
//! write logs nor swap a socket before QEMU connects to it (and receive a
//! guest's RAM). Files in it are created with `O_EXCL | O_NOFOLLOW` and mode
//! 0600; sockets are made 0600 once bound ([`private_socket`]).
//!
//! The directory is removed at the end unless the user asked to keep it, or
//! something failed that its logs explain ([`RunDir::keep_for`]).

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use thiserror::Error;

/// Why the run directory could not be made.
#[derive(Debug, Error)]
pub enum RunDirError {
    /// The directory given with `--run-dir` exists already.
    #[error("run directory '{0}' already exists; give a path that does not")]
    Exists(PathBuf),
    /// Creating it failed.
    #[error("cannot create run directory '{0}': {1}")]
    Create(PathBuf, #[source] std::io::Error),
}

/// A private, fresh directory for one daemon's sockets and logs.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    keep: AtomicBool,
}

/// Mode of the run directory: its owner only.
const DIR_MODE: u32 = 0o700;
/// Mode of sockets and logs: their owner only.
pub const FILE_MODE: u32 = 0o600;

impl RunDir {
    /// Creates `given` (which must not exist), or a fresh randomly named
    /// directory under the temp dir; `keep` keeps it at the end. A given
    /// directory is always kept: the user named it to look into it.
    pub fn create(given: Option<&Path>, keep: bool) -> Result<Self, RunDirError> {
        let path = match given {
            Some(p) => {
                DirBuilder::new()
                    .mode(DIR_MODE)
                    .create(p)
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::AlreadyExists => RunDirError::Exists(p.to_owned()),
                        _ => RunDirError::Create(p.to_owned(), e),
                    })?;
                // Absolute: QEMU runs in it and finds the sockets by these
                // paths (a relative one would be resolved from there).
                std::path::absolute(p).map_err(|e| RunDirError::Create(p.to_owned(), e))?
            }
            None => tempfile::Builder::new()
                .prefix("vhost-user-pipe.")
                .permissions(Permissions::from_mode(DIR_MODE))
                .tempdir()
                .map_err(|e| RunDirError::Create(std::env::temp_dir(), e))?
                .keep(),
        };
        // The umask may have taken bits away; never leave any to others.
        std::fs::set_permissions(&path, Permissions::from_mode(DIR_MODE))
            .map_err(|e| RunDirError::Create(path.clone(), e))?;
        Ok(Self {
            path,
            keep: AtomicBool::new(keep || given.is_some()),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the directory at the end, because of `why` (printed with the path).
    pub fn keep_for(&self, why: &str) {
        if !self.keep.swap(true, Ordering::AcqRel) {
            log::error!("{why}; run directory kept: {}", self.path.display());
        }
    }

    /// Whether the directory will be kept.
    pub fn is_kept(&self) -> bool {
        self.keep.load(Ordering::Acquire)
    }

    /// Removes the directory now unless it is kept (also used on a fatal signal).
    pub fn remove(&self) {
        if !self.is_kept() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Creates `path` as a new private file (0600): never an existing file and
/// never through a symlink. Close-on-exec, as every fd of the daemon.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    // create_new's mode is filtered by the umask, which can only remove bits.
    f.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(f)
}

/// Binds a listening Unix socket at `path` (replacing a stale socket file)
/// that only its owner can connect to (connecting needs write permission
/// on the file), whatever the umask: the socket's mode is set before
/// `bind` creates the file from it, so there is no moment when another
/// user could connect. Close-on-exec.
pub fn bind_private(path: &Path) -> std::io::Result<UnixListener> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    rustix::fs::fchmod(&fd, rustix::fs::Mode::from_raw_mode(FILE_MODE))?;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        std::fs::remove_file(path)?;
    }
    rustix::net::bind(&fd, &SocketAddrUnix::new(path)?)?;
    rustix::net::listen(&fd, LISTEN_BACKLOG)?;
    Ok(UnixListener::from(fd))
}

/// Connections a socket queues before they are accepted.
const LISTEN_BACKLOG: i32 = 128;

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn a_given_directory_that_exists_is_refused() {
        let d = scratch();
        let e = RunDir::create(Some(d.path()), false).unwrap_err();
        assert!(matches!(e, RunDirError::Exists(_)), "{e}");
    }

    #[test]
    fn the_directory_is_private_whatever_the_umask() {
        let d = scratch();
        let p = d.path().join("run");
        // SAFETY: umask(2) only changes this process's file mode mask.
        let old = unsafe { libc::umask(0) };
        let r = RunDir::create(Some(&p), false);
        // SAFETY: as above, restoring the mask.
        unsafe { libc::umask(old) };
        r.unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, DIR_MODE);
    }

    #[test]
    fn a_default_directory_has_a_fresh_random_name_and_goes_at_the_end() {
        let a = RunDir::create(None, false).unwrap();
        let b = RunDir::create(None, false).unwrap();
        assert_ne!(a.path(), b.path());
        assert_eq!(
            std::fs::metadata(a.path()).unwrap().mode() & 0o777,
            DIR_MODE
        );
        let p = a.path().to_owned();
        drop(a);
        assert!(!p.exists());
    }

    #[test]
    fn a_directory_kept_for_a_failure_stays() {
        let d = RunDir::create(None, false).unwrap();
        let p = d.path().to_owned();
        d.keep_for("test");
        drop(d);
        assert!(p.exists());
        std::fs::remove_dir_all(p).unwrap();
    }

    #[test]
    fn a_socket_is_private_whatever_the_umask() {
        let d = scratch();
        let p = d.path().join("s.sock");
        // SAFETY: umask(2) only changes this process's file mode mask.
        let old = unsafe { libc::umask(0) };
        let r = bind_private(&p);
        // SAFETY: as above, restoring the mask.
        unsafe { libc::umask(old) };
        let _l = r.unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, FILE_MODE);
    }

    #[test]
    fn binding_never_removes_a_file_that_is_not_a_socket() {
        let d = scratch();
        let p = d.path().join("precious");
        std::fs::write(&p, b"data").unwrap();
        assert!(bind_private(&p).is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"data");
    }

    #[test]
    fn a_private_file_is_never_created_through_a_symlink_or_over_a_file() {
        let d = scratch();
        let target = d.path().join("victim");
        std::fs::write(&target, b"keep me").unwrap();
        let link = d.path().join("log");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(create_private(&link).is_err());
        assert!(create_private(&target).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
        let fresh = d.path().join("fresh");
        // SAFETY: umask(2) only changes this process's file mode mask.
        let old = unsafe { libc::umask(0) };
        let r = create_private(&fresh);
        // SAFETY: as above, restoring the mask.
        unsafe { libc::umask(old) };
        r.unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().mode() & 0o777, FILE_MODE);
    }
}
