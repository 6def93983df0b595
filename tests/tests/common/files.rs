//! File-op helpers for the conformance tests of files (`conformance_files.rs`,
//! `conformance_write.rs`): one call each, the way a driver makes them.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use system_tests::frontend::{Done, TestGuest};
use virtio_pipe_protocol::fs::{
    dirents, encode_times, ExecBlob, PathPair, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR,
    AT_SYMLINK_FOLLOW, CHDIR_F_FD, FSYNC_F_DATA, O_RDONLY, STAT_SIZE,
};
use virtio_pipe_protocol::{Errno, Op, Stat};

pub fn openat(g: &mut TestGuest, dirfd: i64, path: &[u8], flags: u32) -> Result<u32, Errno> {
    g.call(Op::OpenAt, 0, [dirfd as u64, flags as u64, 0], path, 0)
        .result()
        .map(|r| r[0] as u32)
}

pub fn open(g: &mut TestGuest, path: &[u8]) -> Result<u32, Errno> {
    openat(g, AT_FDCWD, path, O_RDONLY)
}

pub fn pread(g: &mut TestGuest, fd: u32, offset: u64, len: usize) -> Result<Vec<u8>, Errno> {
    let d = g.call(Op::Pread, 0, [fd as u64, offset, 0], &[], len);
    let n = d.result()?[0] as usize;
    Ok(d.data[..n].to_vec())
}

pub fn lseek(g: &mut TestGuest, fd: u32, offset: i64, whence: u32) -> Result<u64, Errno> {
    g.call(
        Op::Lseek,
        0,
        [fd as u64, offset as u64, whence as u64],
        &[],
        0,
    )
    .result()
    .map(|r| r[0])
}

pub fn stat_of(d: Done) -> Result<Stat, Errno> {
    d.result()?;
    Ok(Stat::parse(&d.data).expect("a whole struct stat"))
}

pub fn fstat(g: &mut TestGuest, fd: u32) -> Result<Stat, Errno> {
    stat_of(g.call(Op::Fstat, 0, [fd as u64, 0, 0], &[], STAT_SIZE))
}

pub fn statat(g: &mut TestGuest, dirfd: i64, path: &[u8], flags: u32) -> Result<Stat, Errno> {
    stat_of(g.call(
        Op::StatAt,
        0,
        [dirfd as u64, flags as u64, 0],
        path,
        STAT_SIZE,
    ))
}

/// Every entry of the directory `fd`, listed with buffers of `len` bytes.
pub fn list(g: &mut TestGuest, fd: u32, len: usize) -> Result<Vec<(Vec<u8>, u8)>, Errno> {
    let mut all = Vec::new();
    loop {
        let d = g.call(Op::Getdents, 0, [fd as u64, 0, 0], &[], len);
        let n = d.result()?[0] as usize;
        if n == 0 {
            return Ok(all);
        }
        all.extend(dirents(&d.data[..n]).map(|e| (e.name.to_vec(), e.kind)));
    }
}

pub fn accessat(g: &mut TestGuest, path: &[u8], mode: u32, flags: u32) -> Result<(), Errno> {
    g.call(
        Op::AccessAt,
        0,
        [AT_FDCWD as u64, mode as u64, flags as u64],
        path,
        0,
    )
    .result()
    .map(|_| ())
}

pub fn readlink(g: &mut TestGuest, path: &[u8], len: usize) -> Result<Vec<u8>, Errno> {
    let d = g.call(Op::ReadlinkAt, 0, [AT_FDCWD as u64, 0, 0], path, len);
    let n = d.result()?[0] as usize;
    Ok(d.data[..n].to_vec())
}

pub fn chdir(g: &mut TestGuest, path: &[u8]) -> Result<(), Errno> {
    g.call(Op::Chdir, 0, [0; 3], path, 0).result().map(|_| ())
}

pub fn fchdir(g: &mut TestGuest, fd: u32) -> Result<(), Errno> {
    g.call(Op::Chdir, CHDIR_F_FD, [fd as u64, 0, 0], &[], 0)
        .result()
        .map(|_| ())
}

/// GETCWD into `len` bytes: the path without its NUL, or the error and the
/// bytes it needs.
pub fn getcwd(g: &mut TestGuest, len: usize) -> Result<Vec<u8>, (Errno, u64)> {
    let d = g.call(Op::Getcwd, 0, [0; 3], &[], len);
    match d.result() {
        Ok(r) => {
            let n = r[0] as usize;
            assert_eq!(d.data[n - 1], 0, "GETCWD places a NUL");
            Ok(d.data[..n - 1].to_vec())
        }
        Err(e) => Err((e, d.resp.ret(0))),
    }
}

pub fn get_exe(g: &mut TestGuest, len: usize) -> Result<Vec<u8>, (Errno, u64)> {
    let d = g.call(Op::GetExe, 0, [0; 3], &[], len);
    match d.result() {
        Ok(r) => Ok(d.data[..r[0] as usize].to_vec()),
        Err(e) => Err((e, d.resp.ret(0))),
    }
}

pub fn exec(g: &mut TestGuest, path: &[u8], argv: &[&[u8]], env: &[&[u8]]) -> Result<(), Errno> {
    exec_umask(g, path, argv, env, 0)
}

/// EXEC passing the caller's umask.
pub fn exec_umask(
    g: &mut TestGuest,
    path: &[u8],
    argv: &[&[u8]],
    env: &[&[u8]],
    umask: u32,
) -> Result<(), Errno> {
    let mut blob = vec![0u8; ExecBlob::encoded_len(path, argv, env).unwrap()];
    let n = ExecBlob::encode(path, argv, env, &mut blob).unwrap();
    g.call(Op::Exec, 0, [umask as u64, 0, 0], &blob[..n], 0)
        .result()
        .map(|_| ())
}

pub fn vfork(g: &mut TestGuest) -> Result<u32, Errno> {
    g.call(Op::Vfork, 0, [0; 3], &[], 0)
        .result()
        .map(|r| r[0] as u32)
}

/// Reads `fd` to its end with READs of `chunk` bytes.
pub fn read_to_end(g: &mut TestGuest, fd: u32, chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let got = g.read(fd, chunk).unwrap();
        if got.is_empty() {
            return out;
        }
        out.extend(got);
    }
}

/// Whether the wire `struct stat` says what the host says of `path`.
pub fn same_file(st: &Stat, path: &Path) {
    let m = fs::symlink_metadata(path).unwrap();
    assert_eq!(
        (st.dev.get(), st.ino.get(), st.mode.get(), st.size.get()),
        (m.dev(), m.ino(), m.mode(), m.size() as i64),
        "struct stat of {}",
        path.display()
    );
    assert_eq!(
        (st.nlink.get(), st.uid.get(), st.gid.get(), st.mtime.get()),
        (m.nlink(), m.uid(), m.gid(), m.mtime())
    );
}

/// `OPENAT` with a mode (for `O_CREAT`).
pub fn create(g: &mut TestGuest, path: &[u8], flags: u32, mode: u32) -> Result<u32, Errno> {
    create_at(g, AT_FDCWD, path, flags, mode)
}

pub fn create_at(
    g: &mut TestGuest,
    dirfd: i64,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<u32, Errno> {
    g.call(
        Op::OpenAt,
        0,
        [dirfd as u64, flags as u64, mode as u64],
        path,
        0,
    )
    .result()
    .map(|r| r[0] as u32)
}

pub fn pwrite(g: &mut TestGuest, fd: u32, offset: u64, data: &[u8]) -> Result<u64, Errno> {
    g.call(Op::Pwrite, 0, [fd as u64, offset, 0], data, 0)
        .result()
        .map(|r| r[0])
}

pub fn ftruncate(g: &mut TestGuest, fd: u32, len: u64) -> Result<(), Errno> {
    g.call(Op::Ftruncate, 0, [fd as u64, len, 0], &[], 0)
        .result()
        .map(|_| ())
}

pub fn fsync(g: &mut TestGuest, fd: u32, data_only: bool) -> Result<(), Errno> {
    let flags = if data_only { FSYNC_F_DATA } else { 0 };
    g.call(Op::Fsync, flags, [fd as u64, 0, 0], &[], 0)
        .result()
        .map(|_| ())
}

pub fn mkdir(g: &mut TestGuest, path: &[u8], mode: u32) -> Result<(), Errno> {
    g.call(Op::MkdirAt, 0, [AT_FDCWD as u64, mode as u64, 0], path, 0)
        .result()
        .map(|_| ())
}

pub fn unlink(g: &mut TestGuest, path: &[u8], dir: bool) -> Result<(), Errno> {
    let flags = if dir { AT_REMOVEDIR } else { 0 };
    g.call(Op::UnlinkAt, 0, [AT_FDCWD as u64, flags as u64, 0], path, 0)
        .result()
        .map(|_| ())
}

fn pair(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; PathPair::encoded_len(a, b)];
    PathPair::encode(a, b, &mut buf).unwrap();
    buf
}

pub fn rename(g: &mut TestGuest, old: &[u8], new: &[u8], flags: u32) -> Result<(), Errno> {
    let at = AT_FDCWD as u64;
    g.call(Op::RenameAt, 0, [at, at, flags as u64], &pair(old, new), 0)
        .result()
        .map(|_| ())
}

pub fn link(g: &mut TestGuest, old: &[u8], new: &[u8], follow: bool) -> Result<(), Errno> {
    let at = AT_FDCWD as u64;
    let flags = if follow { AT_SYMLINK_FOLLOW } else { 0 };
    g.call(Op::LinkAt, 0, [at, at, flags as u64], &pair(old, new), 0)
        .result()
        .map(|_| ())
}

pub fn symlink_at(g: &mut TestGuest, target: &[u8], link: &[u8]) -> Result<(), Errno> {
    g.call(
        Op::SymlinkAt,
        0,
        [AT_FDCWD as u64, 0, 0],
        &pair(target, link),
        0,
    )
    .result()
    .map(|_| ())
}

pub fn chmod(g: &mut TestGuest, path: &[u8], mode: u32) -> Result<(), Errno> {
    g.call(Op::FchmodAt, 0, [AT_FDCWD as u64, mode as u64, 0], path, 0)
        .result()
        .map(|_| ())
}

pub fn fchmod(g: &mut TestGuest, fd: u32, mode: u32) -> Result<(), Errno> {
    g.call(
        Op::FchmodAt,
        0,
        [fd as u64, mode as u64, AT_EMPTY_PATH as u64],
        &[],
        0,
    )
    .result()
    .map(|_| ())
}

/// `UTIMENSAT` of `path` (or of the fd `dirfd` itself when `path` is empty).
pub fn utimens(
    g: &mut TestGuest,
    dirfd: i64,
    path: &[u8],
    times: [(i64, i64); 2],
    flags: u32,
) -> Result<(), Errno> {
    let mut payload = encode_times(times).to_vec();
    payload.extend_from_slice(path);
    g.call(
        Op::UtimensAt,
        0,
        [dirfd as u64, flags as u64, 0],
        &payload,
        0,
    )
    .result()
    .map(|_| ())
}
