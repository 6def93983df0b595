//! Files: the constants, layouts and payloads of the file ops (`OPENAT`,
//! `STATAT`, `GETDENTS`, ...) and of `EXEC`. Spec: *Files*, *EXEC*.
//!
//! The numbers and layouts are Linux x86-64's: `O_*`, `AT_*`, `SEEK_*`,
//! `struct stat` and `struct linux_dirent64`, so a guest kernel that speaks
//! the Linux ABI hands them on to its programs unchanged.

use zerocopy::little_endian::{I64, U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::blob::{ArgsBlob, BlobError};

/// `dirfd` meaning "the current working directory" (`AT_FDCWD`).
pub const AT_FDCWD: i64 = -100;
/// `STATAT`/`ACCESSAT`: do not follow a final symbolic link.
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// `ACCESSAT`: check with the effective ids (the device has one identity).
pub const AT_EACCESS: u32 = 0x200;
/// `STATAT`: an empty path names `dirfd` itself.
pub const AT_EMPTY_PATH: u32 = 0x1000;

/// Access mode: read only.
pub const O_RDONLY: u32 = 0;
/// Access mode: write only.
pub const O_WRONLY: u32 = 1;
/// Access mode: read and write.
pub const O_RDWR: u32 = 2;
/// The access-mode bits.
pub const O_ACCMODE: u32 = 3;
/// Create the file if it does not exist.
pub const O_CREAT: u32 = 0o100;
/// With `O_CREAT`: fail if it exists.
pub const O_EXCL: u32 = 0o200;
/// Do not make a terminal the controlling one.
pub const O_NOCTTY: u32 = 0o400;
/// Truncate to zero length.
pub const O_TRUNC: u32 = 0o1000;
/// Every write appends.
pub const O_APPEND: u32 = 0o2000;
/// Large-file support (always on; accepted and ignored).
pub const O_LARGEFILE: u32 = 0o100000;
/// Fail unless the path names a directory.
pub const O_DIRECTORY: u32 = 0o200000;
/// Fail if the final component is a symbolic link.
pub const O_NOFOLLOW: u32 = 0o400000;
/// Close on exec: a per-fd flag the guest keeps (accepted and ignored).
pub const O_CLOEXEC: u32 = 0o2000000;
/// Every flag `OPENAT` accepts.
pub const OPEN_FLAGS: u32 = O_ACCMODE
    | O_CREAT
    | O_EXCL
    | O_NOCTTY
    | O_TRUNC
    | O_APPEND
    | crate::O_NONBLOCK
    | O_LARGEFILE
    | O_DIRECTORY
    | O_NOFOLLOW
    | O_CLOEXEC;

/// `ACCESSAT` modes.
pub const R_OK: u32 = 4;
/// Write permission.
pub const W_OK: u32 = 2;
/// Execute permission.
pub const X_OK: u32 = 1;

/// `LSEEK` whence: from the start.
pub const SEEK_SET: u32 = 0;
/// From the current offset.
pub const SEEK_CUR: u32 = 1;
/// From the end.
pub const SEEK_END: u32 = 2;

/// `st_mode` file types.
pub const S_IFMT: u32 = 0o170000;
/// A FIFO (pipe).
pub const S_IFIFO: u32 = 0o010000;
/// A character device.
pub const S_IFCHR: u32 = 0o020000;
/// A directory.
pub const S_IFDIR: u32 = 0o040000;
/// A regular file.
pub const S_IFREG: u32 = 0o100000;
/// A symbolic link.
pub const S_IFLNK: u32 = 0o120000;

/// `d_type` values of `linux_dirent64`.
pub const DT_UNKNOWN: u8 = 0;
/// A FIFO.
pub const DT_FIFO: u8 = 1;
/// A character device.
pub const DT_CHR: u8 = 2;
/// A directory.
pub const DT_DIR: u8 = 4;
/// A block device.
pub const DT_BLK: u8 = 6;
/// A regular file.
pub const DT_REG: u8 = 8;
/// A symbolic link.
pub const DT_LNK: u8 = 10;
/// A socket.
pub const DT_SOCK: u8 = 12;

/// Longest path a file op takes, in bytes (Linux `PATH_MAX`, NUL excluded).
pub const PATH_MAX: usize = 4095;

/// `CHDIR`: `arg0` is an fd (`fchdir`) instead of a path payload.
pub const CHDIR_F_FD: u32 = 1 << 0;

/// `FSYNC`: the data only (`fdatasync`).
pub const FSYNC_F_DATA: u32 = 1 << 0;

/// `UNLINKAT`: remove a directory (`rmdir`).
pub const AT_REMOVEDIR: u32 = 0x200;
/// `LINKAT`: follow a final symbolic link of the old path.
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
/// `RENAMEAT`: fail if the new name exists.
pub const RENAME_NOREPLACE: u32 = 1 << 0;
/// `RENAMEAT`: exchange the two names.
pub const RENAME_EXCHANGE: u32 = 1 << 1;
/// `UTIMENSAT`: a `tv_nsec` meaning "now".
pub const UTIME_NOW: i64 = (1 << 30) - 1;
/// `UTIMENSAT`: a `tv_nsec` meaning "leave this time alone".
pub const UTIME_OMIT: i64 = (1 << 30) - 2;
/// Bytes of the two `struct timespec` that open a `UTIMENSAT` payload.
pub const TIMES_SIZE: usize = 32;
/// Permission bits and the set-id and sticky bits: what a mode may hold.
pub const MODE_BITS: u32 = 0o7777;
/// The bits of a file mode creation mask (`umask`): `EXEC`'s `arg0` and
/// `START`'s ret2.
pub const UMASK_BITS: u32 = 0o777;
/// The umask of the first process.
pub const DEFAULT_UMASK: u32 = 0o022;

/// Bytes of [`Stat`] on the wire.
pub const STAT_SIZE: usize = 144;

/// The `FSTAT`/`STATAT` result: Linux x86-64 `struct stat`.
#[doc(alias = "virtio_pipe_stat")]
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Stat {
    /// Device.
    pub dev: U64,
    /// Inode.
    pub ino: U64,
    /// Hard links.
    pub nlink: U64,
    /// Type and permission bits.
    pub mode: U32,
    /// Owner.
    pub uid: U32,
    /// Group.
    pub gid: U32,
    /// Padding, zero.
    pub pad0: U32,
    /// Device number (devices only).
    pub rdev: U64,
    /// Size in bytes.
    pub size: I64,
    /// Preferred I/O size.
    pub blksize: I64,
    /// 512-byte blocks.
    pub blocks: I64,
    /// Access time, seconds.
    pub atime: I64,
    /// Access time, nanoseconds.
    pub atime_nsec: I64,
    /// Modification time, seconds.
    pub mtime: I64,
    /// Modification time, nanoseconds.
    pub mtime_nsec: I64,
    /// Status change time, seconds.
    pub ctime: I64,
    /// Status change time, nanoseconds.
    pub ctime_nsec: I64,
    /// Reserved, zero.
    pub unused: [I64; 3],
}

impl Stat {
    /// The encoded bytes.
    pub fn as_bytes_le(&self) -> [u8; STAT_SIZE] {
        let mut out = [0u8; STAT_SIZE];
        out.copy_from_slice(self.as_bytes());
        out
    }

    /// Reads a stat from the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        Self::read_from_prefix(bytes).ok().map(|(s, _)| s)
    }
}

/// The fixed head of one `linux_dirent64` record of a `GETDENTS` result.
#[doc(alias = "linux_dirent64")]
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct DirentHead {
    /// Inode.
    pub ino: U64,
    /// Where the next record's position is (opaque to the driver).
    pub off: I64,
    /// Bytes of this record, name and padding included (a multiple of 8).
    pub reclen: U16,
    /// `DT_*`.
    pub kind: u8,
}

/// Bytes of [`DirentHead`] before the name.
pub const DIRENT_HEAD_SIZE: usize = 19;

/// Bytes a `linux_dirent64` record for a name of `name_len` bytes takes:
/// head, name, NUL, padded to 8.
pub const fn dirent_len(name_len: usize) -> usize {
    (DIRENT_HEAD_SIZE + name_len + 1 + 7) & !7
}

/// Writes one `linux_dirent64` record at the start of `out`; returns its
/// length, or `None` when it does not fit.
pub fn put_dirent(out: &mut [u8], ino: u64, off: i64, kind: u8, name: &[u8]) -> Option<usize> {
    let len = dirent_len(name.len());
    let rec = out.get_mut(..len)?;
    rec.fill(0);
    let head = DirentHead {
        ino: U64::new(ino),
        off: I64::new(off),
        reclen: U16::new(u16::try_from(len).ok()?),
        kind,
    };
    rec[..DIRENT_HEAD_SIZE].copy_from_slice(&head.as_bytes()[..DIRENT_HEAD_SIZE]);
    rec[DIRENT_HEAD_SIZE..DIRENT_HEAD_SIZE + name.len()].copy_from_slice(name);
    Some(len)
}

/// One record of a `GETDENTS` result, as a driver reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dirent<'a> {
    /// Inode.
    pub ino: u64,
    /// Position cookie.
    pub off: i64,
    /// `DT_*`.
    pub kind: u8,
    /// The name, without its NUL.
    pub name: &'a [u8],
}

/// Reads the records of a `GETDENTS` result.
pub fn dirents(mut bytes: &[u8]) -> impl Iterator<Item = Dirent<'_>> {
    core::iter::from_fn(move || {
        let (head, _) = DirentHead::read_from_prefix(bytes).ok()?;
        let len = head.reclen.get() as usize;
        let rec = bytes.get(..len).filter(|_| len > DIRENT_HEAD_SIZE)?;
        let name = &rec[DIRENT_HEAD_SIZE..];
        let name = &name[..name.iter().position(|&b| b == 0)?];
        bytes = &bytes[len..];
        Some(Dirent {
            ino: head.ino.get(),
            off: head.off.get(),
            kind: head.kind,
            name,
        })
    })
}

/// The `EXEC` payload: the program's path, then its argv and env as an
/// [`ArgsBlob`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecBlob<'a> {
    /// The program, a path in the tree's root (absolute, or relative to the
    /// caller's working directory).
    pub path: &'a [u8],
    /// Its argv and env.
    pub args: ArgsBlob<'a>,
}

impl<'a> ExecBlob<'a> {
    /// Bytes the encoding takes.
    pub fn encoded_len(path: &[u8], argv: &[&[u8]], env: &[&[u8]]) -> Option<usize> {
        ArgsBlob::encoded_len(argv, env)?.checked_add(4 + path.len())
    }

    /// Encodes into `out`; returns the bytes written.
    pub fn encode(
        path: &[u8],
        argv: &[&[u8]],
        env: &[&[u8]],
        out: &mut [u8],
    ) -> Result<usize, BlobError> {
        if path.is_empty() || path.len() > PATH_MAX || path.contains(&0) {
            return Err(BlobError::BadName);
        }
        let need = Self::encoded_len(path, argv, env).ok_or(BlobError::TooBig(usize::MAX))?;
        if out.len() < need {
            return Err(BlobError::BufferTooSmall(need));
        }
        out[..4].copy_from_slice(U32::new(path.len() as u32).as_bytes());
        out[4..4 + path.len()].copy_from_slice(path);
        let n = ArgsBlob::encode(argv, env, &mut out[4 + path.len()..])?;
        Ok(4 + path.len() + n)
    }

    /// Parses a payload produced by [`Self::encode`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BlobError> {
        let len = bytes
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or(BlobError::Short(4, bytes.len()))?;
        if len == 0 || len > PATH_MAX {
            return Err(BlobError::BadName);
        }
        let path = bytes
            .get(4..4 + len)
            .ok_or(BlobError::Short(4 + len, bytes.len()))?;
        if path.contains(&0) {
            return Err(BlobError::BadName);
        }
        Ok(Self {
            path,
            args: ArgsBlob::parse(&bytes[4 + len..])?,
        })
    }
}

/// Two paths in one payload (`RENAMEAT`, `LINKAT`, `SYMLINKAT`): `le32`
/// length of the first, its bytes, then the second's bytes to the end.
/// Each is 1 to [`PATH_MAX`] bytes without NUL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathPair<'a> {
    /// The first path (the old name; `SYMLINKAT`: the link's target).
    pub first: &'a [u8],
    /// The second path (the new name; `SYMLINKAT`: where the link goes).
    pub second: &'a [u8],
}

impl<'a> PathPair<'a> {
    /// Bytes the encoding takes.
    pub fn encoded_len(first: &[u8], second: &[u8]) -> usize {
        4 + first.len() + second.len()
    }

    /// Encodes into `out`; returns the bytes written.
    pub fn encode(first: &[u8], second: &[u8], out: &mut [u8]) -> Result<usize, BlobError> {
        for p in [first, second] {
            if p.is_empty() || p.len() > PATH_MAX || p.contains(&0) {
                return Err(BlobError::BadName);
            }
        }
        let need = Self::encoded_len(first, second);
        if out.len() < need {
            return Err(BlobError::BufferTooSmall(need));
        }
        out[..4].copy_from_slice(U32::new(first.len() as u32).as_bytes());
        out[4..4 + first.len()].copy_from_slice(first);
        out[4 + first.len()..need].copy_from_slice(second);
        Ok(need)
    }

    /// Parses a payload produced by [`Self::encode`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BlobError> {
        let len = bytes
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or(BlobError::Short(4, bytes.len()))?;
        let first = bytes
            .get(4..4usize.saturating_add(len))
            .ok_or(BlobError::Short(4usize.saturating_add(len), bytes.len()))?;
        let second = &bytes[4 + len..];
        for p in [first, second] {
            if p.is_empty() || p.len() > PATH_MAX || p.contains(&0) {
                return Err(BlobError::BadName);
            }
        }
        Ok(Self { first, second })
    }
}

/// The two times of `UTIMENSAT` (access, then modification), each seconds
/// and nanoseconds as Linux's `struct timespec`; a nanosecond field of
/// [`UTIME_NOW`] or [`UTIME_OMIT`] means now or leave it.
pub fn parse_times(bytes: &[u8]) -> Option<[(i64, i64); 2]> {
    let word = |i: usize| -> Option<i64> {
        Some(i64::from_le_bytes(
            bytes.get(i * 8..i * 8 + 8)?.try_into().ok()?,
        ))
    };
    Some([(word(0)?, word(1)?), (word(2)?, word(3)?)])
}

/// Encodes the two times of `UTIMENSAT`.
pub fn encode_times(times: [(i64, i64); 2]) -> [u8; TIMES_SIZE] {
    let mut out = [0u8; TIMES_SIZE];
    for (i, v) in [times[0].0, times[0].1, times[1].0, times[1].1]
        .into_iter()
        .enumerate()
    {
        out[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_pairs_round_trip_and_refuse_empty_or_nul_paths() {
        let mut buf = [0u8; 64];
        let n = PathPair::encode(b"old/name", b"new", &mut buf).unwrap();
        assert_eq!(n, 4 + 8 + 3);
        let p = PathPair::parse(&buf[..n]).unwrap();
        assert_eq!((p.first, p.second), (&b"old/name"[..], &b"new"[..]));
        assert_eq!(
            PathPair::parse(&buf[..12]),
            Err(BlobError::BadName),
            "no second path"
        );
        assert!(PathPair::parse(b"\xff\xff\xff\xffab").is_err());
        assert!(PathPair::encode(b"a\0b", b"c", &mut buf).is_err());
        let t = encode_times([(1, 2), (3, UTIME_OMIT)]);
        assert_eq!(parse_times(&t), Some([(1, 2), (3, UTIME_OMIT)]));
        assert_eq!(parse_times(&t[..31]), None);
    }

    #[test]
    fn stat_has_the_linux_x86_64_layout() {
        assert_eq!(core::mem::size_of::<Stat>(), STAT_SIZE);
        let s = Stat {
            mode: U32::new(S_IFREG | 0o644),
            size: I64::new(1234),
            ..Stat::default()
        };
        let b = s.as_bytes_le();
        assert_eq!(
            u32::from_le_bytes(b[24..28].try_into().unwrap()),
            S_IFREG | 0o644
        );
        assert_eq!(i64::from_le_bytes(b[48..56].try_into().unwrap()), 1234);
        assert_eq!(Stat::parse(&b), Some(s));
    }

    #[test]
    fn dirent_records_are_padded_to_8_and_read_back() {
        let mut buf = [0u8; 128];
        let a = put_dirent(&mut buf, 7, 1, DT_REG, b"hello").unwrap();
        assert_eq!(a, 32);
        let b = put_dirent(&mut buf[a..], 8, 2, DT_DIR, b"d").unwrap();
        assert_eq!(b, 24);
        let got: Vec<_> = dirents(&buf[..a + b]).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].ino, got[0].kind, got[0].name),
            (7, DT_REG, &b"hello"[..])
        );
        assert_eq!((got[1].off, got[1].name), (2, &b"d"[..]));
    }

    #[test]
    fn a_record_that_does_not_fit_is_not_written() {
        let mut buf = [0u8; 20];
        assert_eq!(put_dirent(&mut buf, 1, 1, DT_REG, b"a-long-name"), None);
    }

    #[test]
    fn exec_blob_round_trips_and_refuses_bad_paths() {
        let mut buf = [0u8; 128];
        let n = ExecBlob::encode(b"/bin/sh", &[b"sh", b"-c", b"x"], &[b"A=1"], &mut buf).unwrap();
        let e = ExecBlob::parse(&buf[..n]).unwrap();
        assert_eq!(e.path, b"/bin/sh");
        assert_eq!(
            e.args.argv.iter().collect::<Vec<_>>(),
            [&b"sh"[..], b"-c", b"x"]
        );
        assert_eq!(e.args.env.iter().next(), Some(&b"A=1"[..]));
        assert!(ExecBlob::encode(b"", &[], &[], &mut buf).is_err());
        assert!(ExecBlob::encode(b"a\0b", &[], &[], &mut buf).is_err());
        assert!(ExecBlob::parse(&[0, 0, 0, 0]).is_err());
    }
}
