//! The ops on a path's final component: make a directory, remove, rename,
//! link, make a symbolic link, and set permission bits and times (spec:
//! *Writing files*, `dev-write-names`, `dev-write-attrs`).
//!
//! **How a name is reached.** The directory that holds the final component
//! is resolved like every other path (`openat2(RESOLVE_IN_ROOT |
//! RESOLVE_NO_MAGICLINKS)`, an `O_PATH` descriptor), and the op then acts
//! on the name *in that directory*: `mkdirat`, `unlinkat`, `renameat2`,
//! `linkat` and `symlinkat` never follow a final symbolic link. So a
//! symbolic link swapped in while the path resolves leads nowhere outside
//! the root: the directory is the one the kernel resolved inside it, and
//! the name is not followed. Where an op must follow the final component
//! (`chmod`, `utimensat` without `AT_SYMLINK_NOFOLLOW`, `linkat` with
//! `AT_SYMLINK_FOLLOW`), the file is first opened inside the root
//! (`O_PATH`) and the op is applied to that descriptor through the daemon's
//! own `/proc/self/fd/N`: to the inode that was resolved, nothing else.
//! The names `.` and `..` are refused before the host sees them: `..` of
//! the root's directory is the host's.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, Timespec, Timestamps, CWD};
use virtio_pipe_protocol::fs::{RENAME_EXCHANGE, RENAME_NOREPLACE, UTIME_NOW, UTIME_OMIT};
use virtio_pipe_protocol::Errno;

use super::{errno, granted_mode, Root};

/// The two times of `UTIMENSAT`: (seconds, nanoseconds) of the last access
/// and of the last modification, a nanosecond field of `UTIME_NOW` or
/// `UTIME_OMIT` meaning now or unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Times {
    /// The last access.
    pub access: (i64, i64),
    /// The last modification.
    pub modification: (i64, i64),
}

impl Times {
    /// The host's form, `UTIME_NOW` and `UTIME_OMIT` as the host spells them.
    pub(super) fn host(&self) -> Timestamps {
        let one = |(sec, nsec): (i64, i64)| Timespec {
            tv_sec: sec,
            tv_nsec: match nsec {
                UTIME_NOW => rustix::fs::UTIME_NOW,
                UTIME_OMIT => rustix::fs::UTIME_OMIT,
                n => n as _,
            },
        };
        Timestamps {
            last_access: one(self.access),
            last_modification: one(self.modification),
        }
    }

    /// Whether a nanosecond field is out of range (`EINVAL`).
    pub fn is_valid(&self) -> bool {
        [self.access.1, self.modification.1]
            .iter()
            .all(|&n| (0..1_000_000_000).contains(&n) || n == UTIME_NOW || n == UTIME_OMIT)
    }
}

/// A final component that is `.` or `..`: the directory itself or its
/// parent, never a name an op may create, remove or rename.
fn is_dot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

/// The daemon's own name for the descriptor `fd`, to apply a path op to
/// exactly the inode it holds.
fn proc_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

impl Root {
    /// The directory that holds the final component of `path` (absolute in
    /// the root), opened `O_PATH` inside the root, and that component.
    /// Trailing slashes are dropped (`mkdir dir/`), and reported.
    fn parent(&self, path: &[u8]) -> Result<(OwnedFd, Vec<u8>, bool), Errno> {
        let trimmed = {
            let mut end = path.len();
            while end > 1 && path[end - 1] == b'/' {
                end -= 1;
            }
            &path[..end]
        };
        let slash = trimmed.len() != path.len();
        let (dir, name): (&[u8], &[u8]) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(0) => (b"/", &trimmed[1..]),
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => (b".", trimmed),
        };
        // The root itself ("/"): no name in a directory.
        let name = if name.is_empty() { b"." } else { name };
        let fd = self.at(dir, OFlags::PATH | OFlags::DIRECTORY)?;
        Ok((fd, name.to_vec(), slash))
    }

    /// `MKDIRAT`: a directory with exactly `mode` (made, then `chmod`ed
    /// through a descriptor of it: the daemon's umask must not filter it).
    pub fn mkdir(&self, path: &[u8], mode: u32) -> Result<(), Errno> {
        self.check_writable()?;
        let (dir, name, _) = self.parent(path)?;
        if is_dot(&name) {
            return Err(Errno::Eexist);
        }
        let mode = Mode::from_raw_mode(granted_mode(mode, true));
        rustix::fs::mkdirat(&dir, OsStr::from_bytes(&name), mode).map_err(errno)?;
        let made = rustix::fs::openat(
            &dir,
            OsStr::from_bytes(&name),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno)?;
        rustix::fs::chmod(proc_path(&made).as_str(), mode).map_err(errno)
    }

    /// `UNLINKAT`: removes the name (a directory with `dir`).
    pub fn unlink(&self, path: &[u8], dir: bool) -> Result<(), Errno> {
        self.check_writable()?;
        let (parent, name, slash) = self.parent(path)?;
        match (&name[..], dir) {
            (b".", true) => return Err(Errno::Einval),
            (b"..", true) => return Err(Errno::Enotempty),
            (b"." | b"..", false) => return Err(Errno::Eisdir),
            _ => {}
        }
        let flags = if dir {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        if slash && !dir {
            // `unlink("file/")`: a trailing slash names a directory.
            let st =
                rustix::fs::statat(&parent, OsStr::from_bytes(&name), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(errno)?;
            if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Directory {
                return Err(Errno::Enotdir);
            }
        }
        rustix::fs::unlinkat(&parent, OsStr::from_bytes(&name), flags).map_err(errno)
    }

    /// `RENAMEAT`: renames (or, with `RENAME_EXCHANGE`, exchanges) two names.
    pub fn rename(&self, old: &[u8], new: &[u8], flags: u32) -> Result<(), Errno> {
        self.check_writable()?;
        let (od, on, _) = self.parent(old)?;
        let (nd, nn, _) = self.parent(new)?;
        if is_dot(&on) || is_dot(&nn) {
            return Err(Errno::Ebusy);
        }
        let mut f = RenameFlags::empty();
        if flags & RENAME_NOREPLACE != 0 {
            f |= RenameFlags::NOREPLACE;
        }
        if flags & RENAME_EXCHANGE != 0 {
            f |= RenameFlags::EXCHANGE;
        }
        rustix::fs::renameat_with(&od, OsStr::from_bytes(&on), &nd, OsStr::from_bytes(&nn), f)
            .map_err(errno)
    }

    /// `LINKAT`: a new name for the file `old` names (its final symbolic
    /// link followed, inside the root, with `follow`).
    pub fn link(&self, old: &[u8], new: &[u8], follow: bool) -> Result<(), Errno> {
        self.check_writable()?;
        let (nd, nn, _) = self.parent(new)?;
        if is_dot(&nn) {
            return Err(Errno::Eexist);
        }
        let nn = OsStr::from_bytes(&nn);
        if follow {
            let file = self.at(old, OFlags::PATH)?;
            return rustix::fs::linkat(
                CWD,
                proc_path(&file).as_str(),
                &nd,
                nn,
                AtFlags::SYMLINK_FOLLOW,
            )
            .map_err(errno);
        }
        let (od, on, _) = self.parent(old)?;
        if is_dot(&on) {
            return Err(Errno::Eacces);
        }
        rustix::fs::linkat(&od, OsStr::from_bytes(&on), &nd, nn, AtFlags::empty()).map_err(errno)
    }

    /// `SYMLINKAT`: a symbolic link at `link` whose target is `target`, as
    /// given (it resolves inside the root when followed).
    pub fn symlink(&self, target: &[u8], link: &[u8]) -> Result<(), Errno> {
        self.check_writable()?;
        let (dir, name, _) = self.parent(link)?;
        if is_dot(&name) {
            return Err(Errno::Eexist);
        }
        rustix::fs::symlinkat(OsStr::from_bytes(target), &dir, OsStr::from_bytes(&name))
            .map_err(errno)
    }

    /// `FCHMODAT` of a path: the permission bits of the file it resolves to.
    pub fn chmod(&self, path: &[u8], mode: u32) -> Result<(), Errno> {
        self.check_writable()?;
        let file = self.at(path, OFlags::PATH)?;
        let st = rustix::fs::fstat(&file).map_err(errno)?;
        let is_dir = rustix::fs::FileType::from_raw_mode(st.st_mode).is_dir();
        rustix::fs::chmod(
            proc_path(&file).as_str(),
            Mode::from_raw_mode(granted_mode(mode, is_dir)),
        )
        .map_err(errno)
    }

    /// `UTIMENSAT` of a path: the times of the file it resolves to, or of
    /// the symbolic link itself with `nofollow`.
    pub fn set_times(&self, path: &[u8], times: &Times, nofollow: bool) -> Result<(), Errno> {
        self.check_writable()?;
        if !times.is_valid() {
            return Err(Errno::Einval);
        }
        if nofollow {
            let (dir, name, _) = self.parent(path)?;
            return rustix::fs::utimensat(
                &dir,
                OsStr::from_bytes(&name),
                &times.host(),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(errno);
        }
        let file = self.at(path, OFlags::PATH)?;
        rustix::fs::utimensat(
            CWD,
            proc_path(&file).as_str(),
            &times.host(),
            AtFlags::empty(),
        )
        .map_err(errno)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    use super::*;

    /// A writable root `r` inside `d`, with `d/outside` a file next to it.
    fn tree() -> (tempfile::TempDir, Root) {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("outside"), b"host").unwrap();
        fs::create_dir_all(d.path().join("r/sub")).unwrap();
        fs::write(d.path().join("r/sub/f"), b"data").unwrap();
        let root = Root::open(&d.path().join("r")).unwrap().writable(true);
        (d, root)
    }

    #[test]
    fn a_read_only_root_refuses_every_name_op() {
        let (d, root) = tree();
        let root = root.writable(false);
        let t = Times {
            access: (1, 0),
            modification: (1, 0),
        };
        assert_eq!(root.mkdir(b"/x", 0o755), Err(Errno::Erofs));
        assert_eq!(root.unlink(b"/sub/f", false), Err(Errno::Erofs));
        assert_eq!(root.rename(b"/sub/f", b"/g", 0), Err(Errno::Erofs));
        assert_eq!(root.link(b"/sub/f", b"/g", false), Err(Errno::Erofs));
        assert_eq!(root.symlink(b"f", b"/g"), Err(Errno::Erofs));
        assert_eq!(root.chmod(b"/sub/f", 0o600), Err(Errno::Erofs));
        assert_eq!(root.set_times(b"/sub/f", &t, false), Err(Errno::Erofs));
        assert!(d.path().join("r/sub/f").exists());
    }

    #[test]
    fn directories_get_exactly_their_mode_and_names_come_and_go() {
        let (d, root) = tree();
        let r = d.path().join("r");
        root.mkdir(b"/a/", 0o751).unwrap();
        assert_eq!(fs::metadata(r.join("a")).unwrap().mode() & 0o7777, 0o751);
        assert_eq!(root.mkdir(b"/a", 0o755), Err(Errno::Eexist));
        assert_eq!(root.mkdir(b"/", 0o755), Err(Errno::Eexist));
        root.rename(b"/sub/f", b"/a/g", 0).unwrap();
        assert_eq!(fs::read(r.join("a/g")).unwrap(), b"data");
        root.link(b"/a/g", b"/a/h", false).unwrap();
        assert_eq!(fs::metadata(r.join("a/h")).unwrap().nlink(), 2);
        root.symlink(b"g", b"/a/s").unwrap();
        assert_eq!(fs::read_link(r.join("a/s")).unwrap().as_os_str(), "g");
        assert_eq!(root.unlink(b"/a", true), Err(Errno::Enotempty));
        assert_eq!(root.unlink(b"/a/g/", false), Err(Errno::Enotdir));
        for n in [&b"/a/g"[..], b"/a/h", b"/a/s"] {
            root.unlink(n, false).unwrap();
        }
        root.unlink(b"/a", true).unwrap();
        assert!(!r.join("a").exists());
        assert_eq!(root.unlink(b"/..", true), Err(Errno::Enotempty));
        assert_eq!(root.rename(b"/sub", b"/..", 0), Err(Errno::Ebusy));
        assert!(d.path().join("r").is_dir() && d.path().join("outside").is_file());
    }

    /// Links out of the root: a symlink at the final component is acted
    /// on, never followed; followed ones resolve inside the root.
    #[test]
    fn no_name_op_reaches_a_host_file_outside_the_root() {
        let (d, root) = tree();
        let r = d.path().join("r");
        let outside = d.path().join("outside");
        symlink(&outside, r.join("abs")).unwrap();
        symlink("../outside", r.join("rel")).unwrap();
        symlink(d.path(), r.join("updir")).unwrap();
        // Removing or renaming the link removes or renames the link.
        root.unlink(b"/abs", false).unwrap();
        root.rename(b"/rel", b"/rel2", 0).unwrap();
        assert!(outside.is_file());
        // Through a directory link: it resolves inside the root, to nothing.
        assert_eq!(root.mkdir(b"/updir/made", 0o755), Err(Errno::Enoent));
        assert_eq!(root.symlink(b"x", b"/updir/made"), Err(Errno::Enoent));
        assert!(!d.path().join("made").exists());
        // chmod and times follow the link, inside the root: nothing there.
        assert_eq!(root.chmod(b"/rel2", 0o777), Err(Errno::Enoent));
        let t = Times {
            access: (0, 0),
            modification: (0, 0),
        };
        assert_eq!(root.set_times(b"/rel2", &t, false), Err(Errno::Enoent));
        assert_eq!(fs::metadata(&outside).unwrap().mode() & 0o777, 0o644);
        // A hard link of the outside file: its path does not resolve.
        assert_eq!(
            root.link(b"/../outside", b"/h", true),
            Err(Errno::Enoent),
            "followed: resolved inside the root"
        );
        assert_eq!(root.link(b"/../outside", b"/h", false), Err(Errno::Enoent));
        assert!(!r.join("h").exists());
        // The link's own times, with nofollow.
        root.set_times(b"/rel2", &t, true).unwrap();
        assert_eq!(fs::symlink_metadata(r.join("rel2")).unwrap().mtime(), 0);
        fs::set_permissions(r.join("sub/f"), fs::Permissions::from_mode(0o600)).unwrap();
        root.chmod(b"/sub/f", 0o640).unwrap();
        assert_eq!(fs::metadata(r.join("sub/f")).unwrap().mode() & 0o777, 0o640);
    }
}
