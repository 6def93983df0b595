//! Conformance: files of the tree's root (spec 1.6.20), EXEC and the
//! program of a process (1.6.21), VFORK (1.6.22). A model frontend drives
//! the daemon over real vhost-user sockets; the root is a temporary
//! directory, and every result is compared with what the host's own file
//! system says about the same file.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};

use common::files::*;
use common::*;
use system_tests::tree::Tree;
use virtio_pipe_protocol::fs::{
    AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, DT_DIR, DT_LNK, DT_REG, O_CREAT, O_DIRECTORY,
    O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, R_OK, SEEK_CUR, SEEK_END, SEEK_SET, S_IFCHR,
    S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, W_OK, X_OK,
};
use virtio_pipe_protocol::signal::{SIGKILL, SIGTERM};
use virtio_pipe_protocol::{Errno, Event, Op, Stat};

const HOSTS: &[u8] = b"127.0.0.1 localhost\n::1 localhost\n";

/// Fills the tree's root: `etc/hosts`, `etc/motd` (empty), `bin/prog`
/// (executable), `bin/sh` -> `prog`, `etc/abs` -> `/etc/hosts`, a link
/// out of the root, `data` (not executable); and a secret next to the
/// root, outside it.
fn populate(tree: &Tree) -> std::path::PathBuf {
    let r = tree.root_dir();
    fs::create_dir_all(r.join("etc")).unwrap();
    fs::create_dir_all(r.join("bin")).unwrap();
    fs::write(r.join("etc/hosts"), HOSTS).unwrap();
    fs::write(r.join("etc/motd"), b"").unwrap();
    fs::write(r.join("bin/prog"), b"\x7fELF program").unwrap();
    fs::set_permissions(r.join("bin/prog"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(r.join("data"), b"not a program").unwrap();
    fs::set_permissions(r.join("data"), fs::Permissions::from_mode(0o644)).unwrap();
    symlink("prog", r.join("bin/sh")).unwrap();
    symlink("/etc/hosts", r.join("etc/abs")).unwrap();
    fs::write(r.parent().unwrap().join("secret"), b"host only").unwrap();
    symlink("../../secret", r.join("etc/escape")).unwrap();
    symlink(r.parent().unwrap().join("secret"), r.join("etc/host-abs")).unwrap();
    r
}

// ---- 1.6.20 Files ----

// spec: dev-file-confine
#[test]
fn no_path_reaches_a_host_file_outside_the_root() {
    let tree = Tree::new();
    let r = populate(&tree);
    let mut root = tree.root();
    let outside: [&[u8]; 6] = [
        b"/../secret",
        b"../secret",
        b"../../../../secret",
        b"/etc/escape",
        b"/etc/../../secret",
        b"etc/host-abs",
    ];
    for path in outside {
        let what = String::from_utf8_lossy(path).into_owned();
        assert_eq!(open(&mut root, path), Err(Errno::Enoent), "open {what}");
        assert_eq!(
            statat(&mut root, AT_FDCWD, path, 0).err(),
            Some(Errno::Enoent),
            "stat {what}"
        );
        assert_eq!(
            accessat(&mut root, path, 0, 0),
            Err(Errno::Enoent),
            "access {what}"
        );
        assert_eq!(chdir(&mut root, path), Err(Errno::Enoent), "chdir {what}");
        assert_eq!(
            exec(&mut root, path, &[b"x"], &[]),
            Err(Errno::Enoent),
            "exec {what}"
        );
    }
    // `..` at the root is the root; an absolute link resolves from it.
    let top = statat(&mut root, AT_FDCWD, b"/..", 0).unwrap();
    same_file(&top, &r);
    let fd = open(&mut root, b"/etc/abs").unwrap();
    assert_eq!(read_to_end(&mut root, fd, 7), HOSTS);
    // From an open directory, `..` stops at the root as well.
    let etc = openat(&mut root, AT_FDCWD, b"/etc", O_DIRECTORY).unwrap();
    assert_eq!(
        openat(&mut root, etc as i64, b"../../secret", O_RDONLY),
        Err(Errno::Enoent)
    );
    let up = statat(&mut root, etc as i64, b"../..", 0).unwrap();
    same_file(&up, &r);
    // Magic links: the root's `/proc` would be the host's procfs only if
    // the root held it; a link to the host's `/proc` resolves inside.
    symlink("/proc/self/root", r.join("magic")).unwrap();
    assert_eq!(open(&mut root, b"/magic/etc/hosts"), Err(Errno::Enoent));
    // Listing `/` lists the root, nothing of its parent.
    let top = open(&mut root, b"/").unwrap();
    let names: Vec<Vec<u8>> = list(&mut root, top, 4096)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(!names.iter().any(|n| n == b"secret"), "{names:?}");
}

// spec: dev-file-open
#[test]
fn openat_installs_a_description_at_the_lowest_free_fd_or_fails() {
    let tree = Tree::new();
    let r = populate(&tree);
    let mut root = tree.root();
    // The root's stdio holds 0, 1 and 2.
    assert_eq!(open(&mut root, b"/etc/hosts"), Ok(3));
    assert_eq!(open(&mut root, b"etc/motd"), Ok(4));
    root.close(3).unwrap();
    assert_eq!(openat(&mut root, AT_FDCWD, b"/etc", O_DIRECTORY), Ok(3));
    for flags in [
        O_WRONLY,
        O_RDWR,
        O_CREAT,
        O_TRUNC,
        O_WRONLY | O_CREAT | O_TRUNC,
    ] {
        assert_eq!(
            openat(&mut root, AT_FDCWD, b"/etc/hosts", flags),
            Err(Errno::Erofs),
            "flags {flags:#o}"
        );
    }
    assert_eq!(
        openat(&mut root, AT_FDCWD, b"/etc/hosts", O_DIRECTORY),
        Err(Errno::Enotdir)
    );
    assert_eq!(
        openat(&mut root, AT_FDCWD, b"/etc/abs", O_NOFOLLOW),
        Err(Errno::Eloop)
    );
    assert_eq!(open(&mut root, b"/etc/missing"), Err(Errno::Enoent));
    assert_eq!(open(&mut root, b"/etc/hosts/x"), Err(Errno::Enotdir));
    // A FIFO in the root is refused at once: the daemon never blocks in
    // a host open.
    let fifo = r.join("etc/fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    assert_eq!(open(&mut root, b"/etc/fifo"), Err(Errno::Eacces));
    // A failed OPENAT installs nothing: the next fd is still 5.
    assert_eq!(open(&mut root, b"/etc/hosts"), Ok(5));
    // Nothing was created or truncated on the host.
    assert_eq!(fs::read(r.join("etc/hosts")).unwrap(), HOSTS);
    assert!(!r.join("etc/missing").exists());
}

// spec: dev-file-read
#[test]
fn read_advances_the_shared_offset_and_pread_does_not() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root();
    let fd = open(&mut root, b"/etc/hosts").unwrap();
    assert_eq!(root.read(fd, 4).unwrap(), &HOSTS[..4]);
    // PREAD reads where it is told and leaves the offset alone.
    assert_eq!(pread(&mut root, fd, 10, 9).unwrap(), &HOSTS[10..19]);
    assert_eq!(pread(&mut root, fd, 1000, 9).unwrap(), b"");
    // A dup shares the description, offset included.
    let dupped = dup(&mut root, fd).unwrap();
    assert_eq!(root.read(dupped, 5).unwrap(), &HOSTS[4..9]);
    assert_eq!(read_to_end(&mut root, fd, 3), &HOSTS[9..]);
    assert_eq!(root.read(fd, 10).unwrap(), b"", "0 at the end");
    // A child shares it too.
    lseek(&mut root, fd, 0, SEEK_SET).unwrap();
    let (_, _l, mut child) = spawn_child(&tree, &mut root);
    assert_eq!(child.read(fd, 6).unwrap(), &HOSTS[..6]);
    assert_eq!(root.read(fd, 3).unwrap(), &HOSTS[6..9]);
    // A directory is EISDIR; a file opened read-only cannot be written.
    let dir = open(&mut root, b"/etc").unwrap();
    assert_eq!(root.read(dir, 10), Err(Errno::Eisdir));
    assert_eq!(root.write(fd, b"x"), Err(Errno::Ebadf));
    // An empty file reads 0 at once; a large read of a small file is short.
    let empty = open(&mut root, b"/etc/motd").unwrap();
    assert_eq!(root.read(empty, 100).unwrap(), b"");
}

// spec: dev-file-seek
#[test]
fn lseek_moves_the_offset_from_start_current_or_end() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root();
    let fd = open(&mut root, b"/etc/hosts").unwrap();
    let len = HOSTS.len() as u64;
    assert_eq!(lseek(&mut root, fd, 5, SEEK_SET), Ok(5));
    assert_eq!(lseek(&mut root, fd, 3, SEEK_CUR), Ok(8));
    assert_eq!(root.read(fd, 2).unwrap(), &HOSTS[8..10]);
    assert_eq!(lseek(&mut root, fd, -4, SEEK_END), Ok(len - 4));
    assert_eq!(root.read(fd, 100).unwrap(), &HOSTS[HOSTS.len() - 4..]);
    // Past the end is allowed and reads nothing.
    assert_eq!(lseek(&mut root, fd, 100, SEEK_END), Ok(len + 100));
    assert_eq!(root.read(fd, 10).unwrap(), b"");
    // Below 0 is EINVAL and leaves the offset where it was.
    assert_eq!(lseek(&mut root, fd, -1, SEEK_SET), Err(Errno::Einval));
    assert_eq!(lseek(&mut root, fd, 0, SEEK_CUR), Ok(len + 100));
    let (r, w) = root.pipe(0).unwrap();
    assert_eq!(lseek(&mut root, r, 0, SEEK_SET), Err(Errno::Espipe));
    assert_eq!(lseek(&mut root, w, 0, SEEK_CUR), Err(Errno::Espipe));
    assert_eq!(lseek(&mut root, 99, 0, SEEK_SET), Err(Errno::Ebadf));
}

// spec: dev-file-stat
#[test]
fn stat_is_the_hosts_struct_stat_of_the_file_or_link() {
    let tree = Tree::new();
    let r = populate(&tree);
    let mut root = tree.root();
    let fd = open(&mut root, b"/etc/hosts").unwrap();
    let st = fstat(&mut root, fd).unwrap();
    same_file(&st, &r.join("etc/hosts"));
    assert_eq!(st.mode.get() & S_IFMT, S_IFREG);
    let st = statat(&mut root, AT_FDCWD, b"/etc/abs", 0).unwrap();
    same_file(&st, &r.join("etc/hosts"));
    let st = statat(&mut root, AT_FDCWD, b"/etc/abs", AT_SYMLINK_NOFOLLOW).unwrap();
    same_file(&st, &r.join("etc/abs"));
    assert_eq!(st.mode.get() & S_IFMT, S_IFLNK);
    let st = statat(&mut root, AT_FDCWD, b"etc", 0).unwrap();
    assert_eq!(st.mode.get() & S_IFMT, S_IFDIR);
    // AT_EMPTY_PATH: the fd itself.
    let st = statat(&mut root, fd as i64, b"", AT_EMPTY_PATH).unwrap();
    same_file(&st, &r.join("etc/hosts"));
    // Relative to an open directory.
    let etc = open(&mut root, b"/etc").unwrap();
    let st = statat(&mut root, etc as i64, b"hosts", 0).unwrap();
    same_file(&st, &r.join("etc/hosts"));
    // A pipe end is a FIFO.
    let (pr, _pw) = root.pipe(0).unwrap();
    assert_eq!(fstat(&mut root, pr).unwrap().mode.get() & S_IFMT, S_IFIFO);
    assert_eq!(
        statat(&mut root, AT_FDCWD, b"/etc/none", 0).err(),
        Some(Errno::Enoent)
    );
    assert_eq!(fstat(&mut root, 77).err(), Some(Errno::Ebadf));
}

// spec: dev-file-dents
#[test]
fn getdents_returns_every_entry_once_in_whole_records() {
    let tree = Tree::new();
    let r = populate(&tree);
    for i in 0..40 {
        fs::write(r.join(format!("etc/file-{i:02}-with-a-longer-name")), b"x").unwrap();
    }
    let mut want: Vec<Vec<u8>> = fs::read_dir(r.join("etc"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_encoded_bytes())
        .chain([b".".to_vec(), b"..".to_vec()])
        .collect();
    want.sort();
    let mut root = tree.root();
    // Buffers from one record's size up: every entry exactly once.
    for len in [48, 100, 4096] {
        let fd = openat(&mut root, AT_FDCWD, b"/etc", O_DIRECTORY).unwrap();
        let entries = list(&mut root, fd, len).unwrap();
        let mut names: Vec<Vec<u8>> = entries.iter().map(|(n, _)| n.clone()).collect();
        names.sort();
        assert_eq!(names, want, "buffers of {len} bytes");
        let kind = |name: &[u8]| entries.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(
            (kind(b"hosts"), kind(b"abs"), kind(b".")),
            (DT_REG, DT_LNK, DT_DIR)
        );
        // At the end: 0, again and again.
        let d = root.call(Op::Getdents, 0, [fd as u64, 0, 0], &[], 4096);
        assert_eq!(d.result(), Ok([0, 0, 0]));
        // LSEEK to 0 starts over.
        assert_eq!(lseek(&mut root, fd, 0, SEEK_SET), Ok(0));
        assert_eq!(list(&mut root, fd, 4096).unwrap().len(), want.len());
    }
    // A buffer too small for the next record places none: EINVAL.
    let fd = open(&mut root, b"/etc").unwrap();
    let d = root.call(Op::Getdents, 0, [fd as u64, 0, 0], &[], 8);
    assert_eq!(d.result(), Err(Errno::Einval));
    let file = open(&mut root, b"/etc/hosts").unwrap();
    let d = root.call(Op::Getdents, 0, [file as u64, 0, 0], &[], 4096);
    assert_eq!(d.result(), Err(Errno::Enotdir));
}

// spec: dev-file-access
#[test]
fn access_answers_for_the_daemons_user_and_writes_are_erofs() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root();
    assert_eq!(accessat(&mut root, b"/etc/hosts", 0, 0), Ok(()));
    assert_eq!(accessat(&mut root, b"/etc/hosts", R_OK, 0), Ok(()));
    assert_eq!(accessat(&mut root, b"/bin/prog", R_OK | X_OK, 0), Ok(()));
    assert_eq!(accessat(&mut root, b"/data", X_OK, 0), Err(Errno::Eacces));
    assert_eq!(
        accessat(&mut root, b"/etc/hosts", W_OK, 0),
        Err(Errno::Erofs)
    );
    assert_eq!(accessat(&mut root, b"/etc/none", 0, 0), Err(Errno::Enoent));
    // NOFOLLOW: the link exists even where its target does not.
    symlink("/nowhere", tree.root_dir().join("dangling")).unwrap();
    assert_eq!(accessat(&mut root, b"/dangling", 0, 0), Err(Errno::Enoent));
    assert_eq!(
        accessat(&mut root, b"/dangling", 0, AT_SYMLINK_NOFOLLOW),
        Ok(())
    );
}

// spec: dev-file-readlink
#[test]
fn readlink_places_the_target_or_the_callers_program() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root();
    assert_eq!(
        readlink(&mut root, b"/etc/abs", 100).unwrap(),
        b"/etc/hosts"
    );
    assert_eq!(
        readlink(&mut root, b"/etc/abs", 4).unwrap(),
        b"/etc",
        "truncated"
    );
    assert_eq!(readlink(&mut root, b"/bin/sh", 100).unwrap(), b"prog");
    assert_eq!(readlink(&mut root, b"/etc/hosts", 100), Err(Errno::Einval));
    assert_eq!(readlink(&mut root, b"/etc/none", 100), Err(Errno::Enoent));
    tree.sup.kernel().set_exe(1, Some(b"/bin/prog".to_vec()));
    assert_eq!(
        readlink(&mut root, b"/proc/self/exe", 100).unwrap(),
        b"/bin/prog"
    );
}

// spec: dev-file-cwd
#[test]
fn the_working_directory_starts_at_the_root_and_is_inherited() {
    let tree = Tree::new();
    populate(&tree);
    fs::create_dir_all(tree.root_dir().join("etc/sub")).unwrap();
    let mut root = tree.root();
    assert_eq!(getcwd(&mut root, 100), Ok(b"/".to_vec()));
    chdir(&mut root, b"etc").unwrap();
    assert_eq!(getcwd(&mut root, 100), Ok(b"/etc".to_vec()));
    // Relative paths start there.
    let fd = open(&mut root, b"hosts").unwrap();
    assert_eq!(read_to_end(&mut root, fd, 64), HOSTS);
    chdir(&mut root, b"sub/../sub").unwrap();
    assert_eq!(getcwd(&mut root, 100), Ok(b"/etc/sub".to_vec()));
    assert_eq!(chdir(&mut root, b"/etc/hosts"), Err(Errno::Enotdir));
    assert_eq!(chdir(&mut root, b"/none"), Err(Errno::Enoent));
    assert_eq!(
        getcwd(&mut root, 100),
        Ok(b"/etc/sub".to_vec()),
        "unchanged"
    );
    // Too small a buffer: ERANGE and the bytes needed, NUL included.
    assert_eq!(getcwd(&mut root, 4), Err((Errno::Erange, 9)));
    // A child starts where its parent is.
    let (_, _l, mut child) = spawn_child(&tree, &mut root);
    assert_eq!(getcwd(&mut child, 100), Ok(b"/etc/sub".to_vec()));
    chdir(&mut child, b"/").unwrap();
    assert_eq!(getcwd(&mut root, 100), Ok(b"/etc/sub".to_vec()), "its own");
    // CHDIR to an open directory.
    let etc = open(&mut root, b"/etc").unwrap();
    fchdir(&mut root, etc).unwrap();
    assert_eq!(getcwd(&mut root, 100), Ok(b"/etc".to_vec()));
    assert_eq!(fchdir(&mut root, fd), Err(Errno::Enotdir));
    // `..` from the root is the root.
    chdir(&mut root, b"../../..").unwrap();
    assert_eq!(getcwd(&mut root, 100), Ok(b"/".to_vec()));
}

// spec: dev-file-cwd
/// The working directory and an open directory are the directories, not
/// their names: renamed, they are found under the new name (as Linux
/// finds them by inode); removed, relative paths and `GETCWD` are
/// `ENOENT`.
#[test]
fn a_renamed_working_directory_is_followed_and_a_removed_one_is_enoent() {
    let tree = Tree::writable();
    let r = tree.root_dir();
    fs::create_dir_all(r.join("a/d")).unwrap();
    let mut root = tree.root();
    chdir(&mut root, b"/a/d").unwrap();
    let dirfd = open(&mut root, b"/a").unwrap();
    let (_, _l, mut child) = spawn_child(&tree, &mut root);
    // Renamed by another process of the tree, and by the host.
    rename(&mut child, b"/a/d", b"/a/e", 0).unwrap();
    fs::rename(r.join("a"), r.join("b")).unwrap();
    assert_eq!(getcwd(&mut root, 100), Ok(b"/b/e".to_vec()));
    assert_eq!(getcwd(&mut child, 100), Ok(b"/b/e".to_vec()), "inherited");
    let fd = create(&mut root, b"made", O_CREAT | O_WRONLY, 0o644).unwrap();
    root.close(fd).unwrap();
    assert!(r.join("b/e/made").is_file());
    let fd = create_at(
        &mut root,
        dirfd as i64,
        b"e/via-fd",
        O_CREAT | O_WRONLY,
        0o644,
    )
    .unwrap();
    root.close(fd).unwrap();
    assert!(r.join("b/e/via-fd").is_file(), "an open directory too");
    // Removed: nothing relative resolves, and nothing is made.
    fs::remove_file(r.join("b/e/made")).unwrap();
    fs::remove_file(r.join("b/e/via-fd")).unwrap();
    fs::remove_dir(r.join("b/e")).unwrap();
    assert_eq!(getcwd(&mut root, 100), Err((Errno::Enoent, 0)));
    assert_eq!(
        create(&mut root, b"late", O_CREAT | O_WRONLY, 0o644),
        Err(Errno::Enoent)
    );
    assert_eq!(
        create(&mut root, b"/late", O_CREAT | O_WRONLY, 0o644).map(|_| ()),
        Ok(()),
        "an absolute path still works"
    );
    assert_eq!(fs::read_dir(r.join("b")).unwrap().count(), 0);
}

// ---- 1.6.21 EXEC ----

// spec: dev-exec-check
#[test]
fn exec_of_what_cannot_run_fails_and_changes_nothing() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root_with(vec![b"root".to_vec()], vec![b"A=1".to_vec()]);
    tree.sup.kernel().set_exe(1, Some(b"/bin/prog".to_vec()));
    assert_eq!(
        exec(&mut root, b"/bin/none", &[b"x"], &[]),
        Err(Errno::Enoent)
    );
    assert_eq!(exec(&mut root, b"/data", &[b"x"], &[]), Err(Errno::Eacces));
    assert_eq!(exec(&mut root, b"/etc", &[b"x"], &[]), Err(Errno::Eacces));
    // Malformed blobs: EINVAL; strings beyond ARGS_MAX: E2BIG.
    for bad in [
        &b""[..],
        b"\x00\x00\x00\x00",
        b"\x09\x00\x00\x00/bin/prog",
        b"\xff\xff\xff\xff/",
    ] {
        let d = root.call(Op::Exec, 0, [0; 3], bad, 0);
        assert_eq!(d.result(), Err(Errno::Einval), "blob {bad:?}");
    }
    // By hand: the blob encoder refuses to build it.
    let mut big = Vec::new();
    big.extend_from_slice(&9u32.to_le_bytes());
    big.extend_from_slice(b"/bin/prog");
    big.extend_from_slice(&1u32.to_le_bytes());
    big.extend_from_slice(&0u32.to_le_bytes());
    big.resize(big.len() + virtio_pipe_protocol::ARGS_MAX, b'a');
    big.push(0);
    let d = root.call(Op::Exec, 0, [0; 3], &big, 0);
    assert_eq!(d.result(), Err(Errno::E2big));
    assert_eq!(get_exe(&mut root, 100), Ok(b"/bin/prog".to_vec()));
    assert_eq!(
        root.get_args(4096).unwrap(),
        (vec![b"root".to_vec()], vec![b"A=1".to_vec()])
    );
    assert!(tree.try_launch().is_none(), "no VM was launched");
}

// spec: dev-exec-replace
#[test]
fn exec_keeps_the_process_and_replaces_program_argv_and_env() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root();
    let (child, _l, mut c) = spawn_child(&tree, &mut root);
    let (cr, cw) = c.pipe(0).unwrap();
    let (grandchild, _gl, _g) = spawn_child(&tree, &mut c);
    chdir(&mut c, b"/etc").unwrap();
    exec(
        &mut c,
        b"../bin/sh",
        &[b"sh", b"-c", b"true"],
        &[b"PATH=/bin"],
    )
    .unwrap();
    assert_eq!(c.getpid(), (child, 1), "same pid and parent");
    assert_eq!(
        get_exe(&mut c, 100),
        Ok(b"/bin/prog".to_vec()),
        "the file it runs"
    );
    assert_eq!(
        c.get_args(4096).unwrap(),
        (
            vec![b"sh".to_vec(), b"-c".to_vec(), b"true".to_vec()],
            vec![b"PATH=/bin".to_vec()]
        )
    );
    // Its fds and children are kept.
    c.write(cw, b"kept").unwrap();
    assert_eq!(c.read(cr, 4).unwrap(), b"kept");
    assert_eq!(
        status(&mut c, Op::Kill, 0, [grandchild as u64, 0, 0]),
        Ok([0; 3])
    );
    assert_eq!(getcwd(&mut c, 100), Ok(b"/etc".to_vec()));
    assert!(tree.try_launch().is_none(), "it runs in its own VM");
}

// spec: dev-exe-path
#[test]
fn get_exe_answers_the_program_path_from_the_root() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root();
    tree.sup.kernel().set_exe(1, Some(b"/bin/prog".to_vec()));
    assert_eq!(get_exe(&mut root, 100), Ok(b"/bin/prog".to_vec()));
    assert_eq!(get_exe(&mut root, 3), Err((Errno::Erange, 9)));
    // After an EXEC through a link: the file it resolved to.
    exec(&mut root, b"/bin/sh", &[b"sh"], &[]).unwrap();
    assert_eq!(get_exe(&mut root, 100), Ok(b"/bin/prog".to_vec()));
    // `/proc/self/exe` is the program for the ops that take a path.
    let fd = open(&mut root, b"/proc/self/exe").unwrap();
    assert_eq!(read_to_end(&mut root, fd, 64), b"\x7fELF program");
    let st = statat(&mut root, AT_FDCWD, b"/proc/self/exe", 0).unwrap();
    same_file(&st, &tree.root_dir().join("bin/prog"));
    assert_eq!(accessat(&mut root, b"/proc/self/exe", X_OK, 0), Ok(()));
    exec(&mut root, b"/proc/self/exe", &[b"again"], &[]).unwrap();
    assert_eq!(get_exe(&mut root, 100), Ok(b"/bin/prog".to_vec()));
    // A vfork child runs its parent's program until it EXECs.
    let child = vfork(&mut root).unwrap();
    assert_eq!(root.getpid().0, child);
    assert_eq!(get_exe(&mut root, 100), Ok(b"/bin/prog".to_vec()));
    root.exit(0).result().unwrap();
    // A SPAWN child boots an image: no program of the root.
    let (_, _l, mut c) = spawn_child(&tree, &mut root);
    assert_eq!(get_exe(&mut c, 100), Err((Errno::Enoent, 0)));
}

// ---- 1.6.22 VFORK ----

// spec: dev-vfork-create
#[test]
fn vfork_creates_a_child_without_a_vm() {
    let tree = Tree::with_limits(vhost_user_pipe::Limits {
        max_processes: 3,
        ..Default::default()
    });
    populate(&tree);
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    chdir(&mut root, b"/etc").unwrap();
    let child = vfork(&mut root).unwrap();
    assert_ne!(child, 1);
    assert!(tree.try_launch().is_none(), "no VM");
    assert_eq!(
        root.getpid(),
        (child, 1),
        "the connection acts for the child"
    );
    // A copy of the fd table (the same descriptions) and the working directory.
    root.write(w, b"shared").unwrap();
    assert_eq!(root.read(r, 6).unwrap(), b"shared");
    assert_eq!(getcwd(&mut root, 100), Ok(b"/etc".to_vec()));
    // The process limit (root, child, and one more).
    let grandchild = vfork(&mut root).unwrap();
    assert_eq!(vfork(&mut root), Err(Errno::Eagain));
    assert_eq!(root.getpid(), (grandchild, child));
}

// spec: dev-vfork-borrow, dev-exec-umask
#[test]
fn requests_act_for_the_child_until_it_execs_or_exits() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root();
    // EXIT gives the VM back.
    let first = vfork(&mut root).unwrap();
    let fd = open(&mut root, b"/etc/hosts").unwrap();
    assert_eq!(fd, 3, "in the child's table");
    root.exit(3).result().unwrap();
    assert_eq!(root.getpid(), (1, 0), "the parent again");
    assert_eq!(
        root.read(3, 1),
        Err(Errno::Ebadf),
        "the child's fd was its own"
    );
    assert_eq!(root.wait_child(first as i64, 0), Ok((first, 3 << 8)));
    // EXEC gives the VM back and launches one for the child.
    let (r, w) = root.pipe(0).unwrap();
    let child = vfork(&mut root).unwrap();
    root.close(r).unwrap();
    exec_umask(
        &mut root,
        b"/bin/sh",
        &[b"sh", b"-c", b"x"],
        &[b"E=1"],
        0o027,
    )
    .unwrap();
    assert_eq!(root.getpid(), (1, 0), "the parent again");
    let (l, mut c) = tree.accept_child();
    assert_eq!(l.spec.pid, child);
    assert_eq!(l.spec.image, tree.kernel_image(), "the process kernel");
    assert_eq!(c.getpid(), (child, 1));
    // spec: dev-exec-umask: the new VM starts with the umask EXEC passed.
    assert_eq!(
        common::status(&mut c, Op::Start, 0, [0; 3]),
        Ok([0, 0, 0o027])
    );
    assert_eq!(
        common::status(&mut root, Op::Start, 0, [0; 3]).map(|r| r[2]),
        Ok(0o022),
        "the parent's is its own"
    );
    assert_eq!(get_exe(&mut c, 100), Ok(b"/bin/prog".to_vec()));
    assert_eq!(
        c.get_args(4096).unwrap(),
        (
            vec![b"sh".to_vec(), b"-c".to_vec(), b"x".to_vec()],
            vec![b"E=1".to_vec()]
        )
    );
    // The child's table lost `r`, the parent's did not.
    assert_eq!(c.read(r, 1), Err(Errno::Ebadf));
    c.write(w, b"hi").unwrap();
    assert_eq!(root.read(r, 2).unwrap(), b"hi");
    c.exit(0);
    assert_eq!(root.wait_child(child as i64, 0), Ok((child, 0)));
    // Nested: the newest child acts; each EXIT hands back one level.
    let a = vfork(&mut root).unwrap();
    let b = vfork(&mut root).unwrap();
    assert_eq!(root.getpid(), (b, a));
    root.exit(1).result().unwrap();
    assert_eq!(root.getpid(), (a, 1));
    assert_eq!(root.wait_child(b as i64, 0), Ok((b, 1 << 8)));
    root.exit(2).result().unwrap();
    assert_eq!(root.getpid(), (1, 0));
    assert_eq!(root.wait_child(a as i64, 0), Ok((a, 2 << 8)));
}

// spec: dev-vfork-end
#[test]
fn borrowing_children_end_with_the_vm_and_kills_wait_for_the_hand_back() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root();
    // The VM of a child that has a borrower ends: both end, SIGKILL.
    let (c, l, mut cg) = spawn_child(&tree, &mut root);
    let g = vfork(&mut cg).unwrap();
    l.vm.end();
    assert_eq!(root.wait_child(c as i64, 0), Ok((c, SIGKILL)));
    eventually("the borrower ends", || {
        !tree.sup.kernel().process(g).is_some_and(|p| p.is_running())
    });
    assert_eq!(root.wait_child(g as i64, 0), Ok((g, SIGKILL)), "reparented");
    // A KILL from elsewhere waits for the EXIT, which reports the signal.
    let (other_pid, _l2, mut other) = spawn_child(&tree, &mut root);
    let k = vfork(&mut root).unwrap();
    assert_eq!(kill(&mut other, k, SIGKILL), Ok(()));
    assert!(tree.sup.kernel().process(k).is_some_and(|p| p.is_running()));
    assert_eq!(root.getpid().0, k, "still borrowing");
    root.exit(0).result().unwrap();
    assert_eq!(root.getpid(), (1, 0));
    assert_eq!(root.wait_child(k as i64, 0), Ok((k, SIGKILL)));
    // ... or the EXEC, which then launches nothing.
    let k = vfork(&mut root).unwrap();
    assert_eq!(kill(&mut other, k, SIGKILL), Ok(()));
    exec(&mut root, b"/bin/prog", &[b"prog"], &[]).unwrap();
    assert_eq!(root.getpid(), (1, 0));
    assert_eq!(root.wait_child(k as i64, 0), Ok((k, SIGKILL)));
    assert!(tree.try_launch().is_none(), "no VM for a killed child");
    // A signal its driver handles is held for the VM the EXEC launches.
    let k = vfork(&mut root).unwrap();
    assert_eq!(kill(&mut other, k, SIGTERM), Ok(()));
    exec(&mut root, b"/bin/prog", &[b"prog"], &[]).unwrap();
    let (l, mut kg) = tree.accept_child();
    assert_eq!(l.spec.pid, k);
    kg.post_event_buffers(1);
    assert_eq!(
        kg.wait_event(std::time::Instant::now() + system_tests::frontend::DEADLINE),
        Some(Event::Signal {
            signo: SIGTERM,
            sender: other_pid
        })
    );
}

// spec: dev-vfork-borrow
#[test]
fn a_borrowing_child_forks_from_the_vm_it_borrows() {
    let tree = Tree::new();
    populate(&tree);
    let mut root = tree.root();
    // A launched child: the daemon knows its VM's image, so FORK works.
    let (c, _l, mut cg) = spawn_child(&tree, &mut root);
    let g = vfork(&mut cg).unwrap();
    let d = cg.call(Op::Fork, 0, [0x20_0000, 0, 0], &[], 0);
    let f = d.result().expect("FORK of a borrowing child")[0] as u32;
    let (l, mut fg) = tree.accept_child();
    assert_eq!(l.spec.pid, f);
    assert!(l.spec.memory.is_some(), "booted on a copy of the VM's RAM");
    assert_eq!(fg.getpid(), (f, g), "the borrower's child");
    fg.exit(0);
    assert_eq!(cg.wait_child(f as i64, 0), Ok((f, 0)));
    cg.exit(0).result().unwrap();
    assert_eq!(cg.getpid(), (c, 1));
}

// spec: dev-file-null
#[test]
fn dev_null_is_the_devices_own() {
    let tree = Tree::new();
    populate(&tree);
    // Even where the root holds a file of that name.
    fs::create_dir_all(tree.root_dir().join("dev")).unwrap();
    fs::write(tree.root_dir().join("dev/null"), b"not null").unwrap();
    let mut root = tree.root();
    let flags = O_WRONLY | O_CREAT | O_TRUNC;
    let w = openat(&mut root, AT_FDCWD, b"/dev/null", flags).unwrap();
    assert_eq!(root.write(w, &[7; 5000]), Ok(5000), "all of it, discarded");
    assert_eq!(root.read(w, 10), Err(Errno::Ebadf), "opened write-only");
    assert_eq!(get_flags(&mut root, w).unwrap().1, 1, "O_WRONLY");
    let r = open(&mut root, b"/dev/null").unwrap();
    assert_eq!(root.read(r, 100).unwrap(), b"");
    assert_eq!(pread(&mut root, r, 10, 100).unwrap(), b"");
    assert_eq!(root.write(r, b"x"), Err(Errno::Ebadf), "opened read-only");
    assert_eq!(lseek(&mut root, r, 100, SEEK_SET), Ok(0));
    let rw = openat(&mut root, AT_FDCWD, b"/dev/null", O_RDWR).unwrap();
    assert_eq!(root.write(rw, b"abc"), Ok(3));
    assert_eq!(root.read(rw, 3).unwrap(), b"");
    for st in [
        fstat(&mut root, r).unwrap(),
        statat(&mut root, AT_FDCWD, b"/dev/null", 0).unwrap(),
    ] {
        assert_eq!(st.mode.get(), S_IFCHR | 0o666);
        assert_eq!(st.rdev.get(), libc::makedev(1, 3));
    }
    assert_eq!(accessat(&mut root, b"/dev/null", R_OK | W_OK, 0), Ok(()));
    // Relative to a working directory, it is the same path.
    chdir(&mut root, b"/dev").unwrap();
    let rel = open(&mut root, b"null").unwrap();
    assert_eq!(root.read(rel, 10).unwrap(), b"", "dev/null from /dev");
    // The root's own file is untouched.
    assert_eq!(
        fs::read(tree.root_dir().join("dev/null")).unwrap(),
        b"not null"
    );
}

// spec: dev-file-tty
#[test]
fn standard_streams_on_a_host_terminal_stat_as_terminals() {
    let tree = Tree::new();
    // As if the daemon's stdin and stderr were a terminal, its stdout a pipe.
    tree.sup.kernel().set_host_terminals([true, false, true]);
    let mut root = tree.root();
    let mode = |st: Stat| (st.mode.get(), st.rdev.get());
    let tty = (S_IFCHR | 0o620, libc::makedev(136, 0));
    assert_eq!(mode(fstat(&mut root, 0).unwrap()), tty);
    assert_eq!(fstat(&mut root, 1).unwrap().mode.get() & S_IFMT, S_IFIFO);
    assert_eq!(mode(fstat(&mut root, 2).unwrap()), tty);
    assert_eq!(mode(statat(&mut root, 0, b"", AT_EMPTY_PATH).unwrap()), tty);
    // The description is what says so: a dup, and a child's inherited fd.
    let d = dup(&mut root, 0).unwrap();
    assert_eq!(mode(fstat(&mut root, d).unwrap()), tty);
    let (_, _l, mut c) = spawn_child(&tree, &mut root);
    assert_eq!(mode(fstat(&mut c, 2).unwrap()), tty);
    // Any other pipe is a FIFO.
    let (r, _w) = root.pipe(0).unwrap();
    assert_eq!(fstat(&mut root, r).unwrap().mode.get() & S_IFMT, S_IFIFO);
}
