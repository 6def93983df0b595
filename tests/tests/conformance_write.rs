//! Conformance: writing files (spec 1.6.23). A model frontend drives the
//! daemon over real vhost-user sockets; the root is a temporary directory,
//! and every result is checked against what the host's file system holds
//! afterwards.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use common::files::*;
use common::*;
use system_tests::tree::Tree;
use vhost_user_pipe::io::HostIo;
use vhost_user_pipe::process::HOST_PID;
use virtio_pipe_protocol::fs::{
    AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, DT_DIR, DT_LNK, O_APPEND, O_CREAT, O_DIRECTORY,
    O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE,
    SEEK_CUR, SEEK_SET, S_IFCHR, UTIME_NOW, UTIME_OMIT,
};
use virtio_pipe_protocol::{Errno, Op, Request};

/// Every file and directory under `dir`, with its kind, mode, size and
/// content (or link target): what a test compares before and after.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            let what = if m.file_type().is_symlink() {
                format!("link {:?}", fs::read_link(&p).unwrap())
            } else if m.is_dir() {
                stack.push(p.clone());
                format!("dir {:o}", m.mode() & 0o7777)
            } else if m.is_file() {
                format!("file {:o} {:?}", m.mode() & 0o7777, fs::read(&p).unwrap())
            } else {
                // The tree's sockets come and go: not files.
                continue;
            };
            out.push((p.strip_prefix(dir).unwrap().display().to_string(), what));
        }
    }
    out.sort();
    out
}

/// A root with `f` ("data"), `d/` and `d/g`, and a file outside it.
fn populate(tree: &Tree) -> std::path::PathBuf {
    let r = tree.root_dir();
    fs::write(r.join("f"), b"data").unwrap();
    fs::create_dir_all(r.join("d")).unwrap();
    fs::write(r.join("d/g"), b"gee").unwrap();
    fs::write(r.parent().unwrap().join("outside"), b"host").unwrap();
    r
}

// spec: dev-write-readonly
#[test]
fn a_read_only_root_answers_every_write_with_erofs_and_stays_unchanged() {
    let tree = Tree::new();
    let r = populate(&tree);
    let before = snapshot(r.parent().unwrap());
    let mut root = tree.root();
    for flags in [
        O_WRONLY,
        O_RDWR,
        O_CREAT | O_WRONLY,
        O_TRUNC,
        O_APPEND | O_WRONLY,
    ] {
        assert_eq!(
            create(&mut root, b"/f", flags, 0o644),
            Err(Errno::Erofs),
            "{flags:#o}"
        );
    }
    assert_eq!(
        create(&mut root, b"/new", O_CREAT | O_EXCL, 0o644),
        Err(Errno::Erofs)
    );
    let fd = open(&mut root, b"/f").unwrap();
    assert_eq!(root.write(fd, b"x"), Err(Errno::Ebadf));
    assert_eq!(pwrite(&mut root, fd, 0, b"x"), Err(Errno::Ebadf));
    assert_eq!(ftruncate(&mut root, fd, 0), Err(Errno::Einval));
    assert_eq!(fchmod(&mut root, fd, 0o600), Err(Errno::Erofs));
    assert_eq!(mkdir(&mut root, b"/m", 0o755), Err(Errno::Erofs));
    assert_eq!(unlink(&mut root, b"/f", false), Err(Errno::Erofs));
    assert_eq!(unlink(&mut root, b"/d", true), Err(Errno::Erofs));
    assert_eq!(rename(&mut root, b"/f", b"/f2", 0), Err(Errno::Erofs));
    assert_eq!(link(&mut root, b"/f", b"/f2", false), Err(Errno::Erofs));
    assert_eq!(symlink_at(&mut root, b"f", b"/s"), Err(Errno::Erofs));
    assert_eq!(chmod(&mut root, b"/f", 0o600), Err(Errno::Erofs));
    assert_eq!(
        utimens(&mut root, AT_FDCWD, b"/f", [(1, 0), (1, 0)], 0),
        Err(Errno::Erofs)
    );
    assert_eq!(accessat(&mut root, b"/f", 2, 0), Err(Errno::Erofs));
    assert_eq!(snapshot(r.parent().unwrap()), before, "nothing changed");
}

// spec: dev-write-create
#[test]
fn o_creat_makes_a_file_with_exactly_its_mode_excl_and_trunc_as_linux() {
    let tree = Tree::writable();
    let r = populate(&tree);
    let mut root = tree.root();
    // Whatever the daemon's umask: exactly the mode asked for.
    // Set-user-ID and set-group-ID are never given to a file.
    for (name, mode, got) in [
        (&b"/a"[..], 0o666, 0o666),
        (b"/b", 0o600, 0o600),
        (b"/c", 0o1751, 0o1751),
        (b"/suid", 0o4755, 0o755),
        (b"/sgid", 0o6711, 0o711),
    ] {
        let fd = create(&mut root, name, O_CREAT | O_WRONLY, mode).unwrap();
        root.close(fd).unwrap();
        let host = r.join(std::str::from_utf8(&name[1..]).unwrap());
        assert_eq!(fs::metadata(host).unwrap().mode() & 0o7777, got, "{mode:o}");
    }
    // An existing file opens as it is, mode and content kept.
    let fd = create(&mut root, b"/f", O_CREAT | O_RDWR, 0o600).unwrap();
    assert_eq!(root.read(fd, 10).unwrap(), b"data");
    assert_ne!(fs::metadata(r.join("f")).unwrap().mode() & 0o777, 0o600);
    // O_EXCL: EEXIST when the name exists, a dangling symbolic link too.
    assert_eq!(
        create(&mut root, b"/f", O_CREAT | O_EXCL, 0o644),
        Err(Errno::Eexist)
    );
    symlink("nowhere", r.join("dangling")).unwrap();
    assert_eq!(
        create(&mut root, b"/dangling", O_CREAT | O_EXCL | O_WRONLY, 0o644),
        Err(Errno::Eexist)
    );
    assert!(!r.join("nowhere").exists());
    // Without O_EXCL, a dangling link has its target made, as on Linux:
    // resolved from the root like any path (`..` of the root is the root).
    let fd = create(&mut root, b"/dangling", O_CREAT | O_WRONLY, 0o640).unwrap();
    assert_eq!(root.write(fd, b"via link"), Ok(8));
    root.close(fd).unwrap();
    assert_eq!(fs::read(r.join("nowhere")).unwrap(), b"via link");
    assert_eq!(
        fs::metadata(r.join("nowhere")).unwrap().mode() & 0o777,
        0o640
    );
    assert!(fs::symlink_metadata(r.join("dangling"))
        .unwrap()
        .is_symlink());
    symlink("../escaped", r.join("up-link")).unwrap();
    create(&mut root, b"/up-link", O_CREAT | O_WRONLY, 0o644).unwrap();
    assert!(r.join("escaped").is_file() && !r.parent().unwrap().join("escaped").exists());
    // O_NOFOLLOW: a link is not opened, and nothing is made.
    symlink("nothing", r.join("nofollow")).unwrap();
    assert_eq!(
        create(
            &mut root,
            b"/nofollow",
            O_CREAT | O_WRONLY | O_NOFOLLOW,
            0o644
        ),
        Err(Errno::Eloop)
    );
    assert!(!r.join("nothing").exists());
    // A loop of links: ELOOP, as Linux.
    symlink("loop-b", r.join("loop-a")).unwrap();
    symlink("loop-a", r.join("loop-b")).unwrap();
    assert_eq!(
        create(&mut root, b"/loop-a", O_CREAT | O_WRONLY, 0o644),
        Err(Errno::Eloop)
    );
    // O_TRUNC empties it.
    let fd = create(&mut root, b"/f", O_WRONLY | O_TRUNC, 0).unwrap();
    assert_eq!(fs::read(r.join("f")).unwrap(), b"");
    root.close(fd).unwrap();
    // Directories are not opened for writing.
    assert_eq!(create(&mut root, b"/d", O_WRONLY, 0), Err(Errno::Eisdir));
    assert_eq!(
        create(&mut root, b"/d/", O_CREAT | O_WRONLY, 0o644),
        Err(Errno::Eisdir)
    );
    // A file outside does not come into being.
    assert_eq!(
        create(&mut root, b"/../outside2", O_CREAT | O_WRONLY, 0o644).map(|_| ()),
        Ok(()),
        "`..` of the root is the root"
    );
    assert!(r.join("outside2").is_file() && !r.parent().unwrap().join("outside2").exists());
}

// spec: dev-write-data
#[test]
fn writes_go_at_the_offset_append_at_the_end_and_pwrite_leaves_the_offset() {
    let tree = Tree::writable();
    let r = populate(&tree);
    let mut root = tree.root();
    let fd = create(&mut root, b"/w", O_CREAT | O_RDWR, 0o644).unwrap();
    assert_eq!(root.write(fd, b"hello "), Ok(6));
    assert_eq!(root.write(fd, b"world"), Ok(5));
    assert_eq!(lseek(&mut root, fd, 0, SEEK_CUR), Ok(11));
    assert_eq!(pwrite(&mut root, fd, 0, b"J"), Ok(1));
    assert_eq!(
        lseek(&mut root, fd, 0, SEEK_CUR),
        Ok(11),
        "PWRITE leaves it"
    );
    assert_eq!(fs::read(r.join("w")).unwrap(), b"Jello world");
    // Past the end: a hole of zeros.
    assert_eq!(pwrite(&mut root, fd, 13, b"!"), Ok(1));
    assert_eq!(fs::read(r.join("w")).unwrap(), b"Jello world\0\0!");
    // The offset is the description's: a child that inherited it shares it.
    lseek(&mut root, fd, 0, SEEK_SET).unwrap();
    let (_, _l, mut child) = spawn_child(&tree, &mut root);
    assert_eq!(child.write(fd, b"C"), Ok(1));
    assert_eq!(root.write(fd, b"R"), Ok(1));
    assert_eq!(&fs::read(r.join("w")).unwrap()[..3], b"CRl");
    // O_APPEND from two descriptions of two processes: every write at the
    // end, none over another.
    let a = create(&mut root, b"/log", O_CREAT | O_WRONLY | O_APPEND, 0o644).unwrap();
    let b = create(&mut child, b"/log", O_WRONLY | O_APPEND, 0).unwrap();
    for i in 0..20 {
        let (g, fd) = if i % 2 == 0 {
            (&mut root, a)
        } else {
            (&mut child, b)
        };
        g.write(fd, format!("line {i:02}\n").as_bytes()).unwrap();
    }
    let log = fs::read_to_string(r.join("log")).unwrap();
    let want: String = (0..20).map(|i| format!("line {i:02}\n")).collect();
    assert_eq!(log, want);
    assert_eq!(lseek(&mut root, a, 0, SEEK_CUR), Ok(want.len() as u64 - 8));
    // Access modes: no write through a read-only description, no read
    // through a write-only one.
    let ro = create(&mut root, b"/w", O_RDONLY, 0).unwrap();
    assert_eq!(root.write(ro, b"x"), Err(Errno::Ebadf));
    assert_eq!(root.read(a, 4), Err(Errno::Ebadf));
    assert_eq!(get_flags(&mut root, a).unwrap().1, 1, "O_WRONLY");
    // spec: dev-flags-get: an appending file says so in its status flags.
    assert_eq!(
        get_flags(&mut root, a).unwrap().0 & O_APPEND as u64,
        O_APPEND as u64
    );
    assert_eq!(get_flags(&mut root, fd).unwrap().0 & O_APPEND as u64, 0);
    assert_eq!(get_flags(&mut root, fd).unwrap().1, 2, "O_RDWR");
    // A large write moves all its bytes.
    let big = create(&mut root, b"/big", O_CREAT | O_WRONLY, 0o644).unwrap();
    let data: Vec<u8> = (0..1 << 20).map(|i| (i % 253) as u8).collect();
    let mut put = 0;
    while put < data.len() {
        let n = (data.len() - put).min(200_000);
        put += root.write(big, &data[put..put + n]).unwrap() as usize;
    }
    assert_eq!(fs::read(r.join("big")).unwrap(), data);
}

// spec: dev-write-truncate
#[test]
fn ftruncate_sets_the_length_and_fsync_flushes() {
    let tree = Tree::writable();
    let r = populate(&tree);
    let mut root = tree.root();
    let fd = create(&mut root, b"/f", O_RDWR, 0).unwrap();
    ftruncate(&mut root, fd, 2).unwrap();
    assert_eq!(fs::read(r.join("f")).unwrap(), b"da");
    ftruncate(&mut root, fd, 5).unwrap();
    assert_eq!(fs::read(r.join("f")).unwrap(), b"da\0\0\0");
    fsync(&mut root, fd, false).unwrap();
    fsync(&mut root, fd, true).unwrap();
    let ro = open(&mut root, b"/f").unwrap();
    assert_eq!(ftruncate(&mut root, ro, 0), Err(Errno::Einval));
    let (p, _) = root.pipe(0).unwrap();
    assert_eq!(ftruncate(&mut root, p, 0), Err(Errno::Einval));
    assert_eq!(fsync(&mut root, p, false), Err(Errno::Einval));
    let d = create(&mut root, b"/d", O_DIRECTORY, 0).unwrap();
    assert_eq!(ftruncate(&mut root, d, 0), Err(Errno::Einval));
    assert_eq!(ftruncate(&mut root, 99, 0), Err(Errno::Ebadf));
}

// spec: dev-write-names
#[test]
fn names_are_made_removed_renamed_and_linked_in_their_directory() {
    let tree = Tree::writable();
    let r = populate(&tree);
    let mut root = tree.root();
    mkdir(&mut root, b"/m", 0o750).unwrap();
    assert_eq!(fs::metadata(r.join("m")).unwrap().mode() & 0o7777, 0o750);
    assert_eq!(mkdir(&mut root, b"/m", 0o750), Err(Errno::Eexist));
    assert_eq!(mkdir(&mut root, b"/no/such", 0o750), Err(Errno::Enoent));
    // Relative to the working directory.
    chdir(&mut root, b"/m").unwrap();
    mkdir(&mut root, b"sub/", 0o700).unwrap();
    assert!(r.join("m/sub").is_dir());
    chdir(&mut root, b"/").unwrap();
    // rename: plain, no-replace, exchange; a directory over a file fails.
    rename(&mut root, b"/f", b"/m/f", 0).unwrap();
    assert_eq!(fs::read(r.join("m/f")).unwrap(), b"data");
    assert_eq!(
        rename(&mut root, b"/d/g", b"/m/f", RENAME_NOREPLACE),
        Err(Errno::Eexist)
    );
    rename(&mut root, b"/d/g", b"/m/f", RENAME_EXCHANGE).unwrap();
    assert_eq!(fs::read(r.join("m/f")).unwrap(), b"gee");
    assert_eq!(fs::read(r.join("d/g")).unwrap(), b"data");
    assert_eq!(rename(&mut root, b"/m", b"/d/g", 0), Err(Errno::Enotdir));
    // link: a second name; a symbolic link itself, or (follow) its file.
    link(&mut root, b"/d/g", b"/d/h", false).unwrap();
    assert_eq!(fs::metadata(r.join("d/g")).unwrap().nlink(), 2);
    symlink_at(&mut root, b"g", b"/d/s").unwrap();
    assert_eq!(fs::read_link(r.join("d/s")).unwrap().as_os_str(), "g");
    link(&mut root, b"/d/s", b"/d/s2", false).unwrap();
    assert!(fs::symlink_metadata(r.join("d/s2"))
        .unwrap()
        .file_type()
        .is_symlink());
    link(&mut root, b"/d/s", b"/d/g2", true).unwrap();
    assert_eq!(fs::metadata(r.join("d/g")).unwrap().nlink(), 3);
    assert_eq!(
        link(&mut root, b"/m", b"/m2", false),
        Err(Errno::Eacces),
        "EPERM is EACCES"
    );
    // unlink removes the name, a symbolic link itself; rmdir an empty one.
    unlink(&mut root, b"/d/s", false).unwrap();
    assert!(r.join("d/g").is_file(), "the link's target stays");
    assert_eq!(unlink(&mut root, b"/m", false), Err(Errno::Eisdir));
    assert_eq!(unlink(&mut root, b"/m", true), Err(Errno::Enotempty));
    assert_eq!(unlink(&mut root, b"/d/g", true), Err(Errno::Enotdir));
    unlink(&mut root, b"/m/sub", true).unwrap();
    unlink(&mut root, b"/m/f", false).unwrap();
    unlink(&mut root, b"/m", true).unwrap();
    assert!(!r.join("m").exists());
    // `.` and `..`: never a name to remove or rename.
    assert_eq!(unlink(&mut root, b"/d/..", true), Err(Errno::Enotempty));
    assert_eq!(unlink(&mut root, b"/d/.", true), Err(Errno::Einval));
    assert_eq!(rename(&mut root, b"/d/..", b"/x", 0), Err(Errno::Ebusy));
    assert_eq!(mkdir(&mut root, b"/", 0o755), Err(Errno::Eexist));
}

// spec: dev-write-names
/// The final component is acted on, never followed; the directory that
/// holds it resolves inside the root, so links lead nowhere outside.
#[test]
fn links_out_of_the_root_lead_no_write_outside() {
    let tree = Tree::writable();
    let r = populate(&tree);
    let top = r.parent().unwrap().to_owned();
    symlink(&top, r.join("up")).unwrap();
    symlink("../outside", r.join("rel")).unwrap();
    symlink(top.join("outside"), r.join("abs")).unwrap();
    let before = snapshot(&top);
    let mut root = tree.root();
    // Through a directory link: inside the root, where nothing is.
    assert_eq!(mkdir(&mut root, b"/up/made", 0o755), Err(Errno::Enoent));
    assert_eq!(
        create(&mut root, b"/up/made", O_CREAT | O_WRONLY, 0o644),
        Err(Errno::Enoent)
    );
    assert_eq!(symlink_at(&mut root, b"x", b"/up/made"), Err(Errno::Enoent));
    assert_eq!(rename(&mut root, b"/d/g", b"/up/g", 0), Err(Errno::Enoent));
    assert_eq!(
        link(&mut root, b"/d/g", b"/up/g", false),
        Err(Errno::Enoent)
    );
    // Writing through a link to outside: it resolves inside, to nothing,
    // or (O_CREAT) creates the name it points at inside the root.
    assert_eq!(
        create(&mut root, b"/abs", O_WRONLY | O_TRUNC, 0),
        Err(Errno::Enoent)
    );
    assert_eq!(chmod(&mut root, b"/rel", 0o777), Err(Errno::Enoent));
    assert_eq!(
        utimens(&mut root, AT_FDCWD, b"/abs", [(0, 0), (0, 0)], 0),
        Err(Errno::Enoent)
    );
    // Hard links of what lies outside: the old path resolves inside.
    assert_eq!(
        link(&mut root, b"/../outside", b"/h", false),
        Err(Errno::Enoent)
    );
    assert_eq!(link(&mut root, b"/abs", b"/h", true), Err(Errno::Enoent));
    // Removing or renaming a link acts on the link.
    unlink(&mut root, b"/abs", false).unwrap();
    rename(&mut root, b"/rel", b"/rel2", 0).unwrap();
    let mut after = snapshot(&top);
    after.retain(|(p, _)| !p.starts_with("root"));
    let mut before_outside = before;
    before_outside.retain(|(p, _)| !p.starts_with("root"));
    assert_eq!(after, before_outside, "nothing outside the root changed");
    assert_eq!(fs::read(top.join("outside")).unwrap(), b"host");
}

// spec: dev-write-attrs
#[test]
fn chmod_and_times_change_the_file_or_the_link_itself() {
    let tree = Tree::writable();
    let r = populate(&tree);
    let mut root = tree.root();
    chmod(&mut root, b"/f", 0o640).unwrap();
    assert_eq!(fs::metadata(r.join("f")).unwrap().mode() & 0o7777, 0o640);
    let fd = open(&mut root, b"/f").unwrap();
    fchmod(&mut root, fd, 0o604).unwrap();
    assert_eq!(fs::metadata(r.join("f")).unwrap().mode() & 0o7777, 0o604);
    // Through a link: the file.
    symlink("f", r.join("s")).unwrap();
    chmod(&mut root, b"/s", 0o600).unwrap();
    assert_eq!(fs::metadata(r.join("f")).unwrap().mode() & 0o7777, 0o600);
    // No set-user-ID or set-group-ID file, by path or by fd; a directory
    // keeps set-group-ID (it only passes the group on) and the sticky bit.
    chmod(&mut root, b"/f", 0o6755).unwrap();
    assert_eq!(fs::metadata(r.join("f")).unwrap().mode() & 0o7777, 0o755);
    fchmod(&mut root, fd, 0o4700).unwrap();
    assert_eq!(fs::metadata(r.join("f")).unwrap().mode() & 0o7777, 0o700);
    chmod(&mut root, b"/d", 0o7755).unwrap();
    assert_eq!(fs::metadata(r.join("d")).unwrap().mode() & 0o7777, 0o3755);
    mkdir(&mut root, b"/sd", 0o6777).unwrap();
    assert_eq!(fs::metadata(r.join("sd")).unwrap().mode() & 0o7777, 0o2777);
    // Times: as given, OMIT leaves one alone, NOW is now.
    utimens(&mut root, AT_FDCWD, b"/f", [(1000, 5), (2000, 7)], 0).unwrap();
    let m = fs::metadata(r.join("f")).unwrap();
    assert_eq!(
        (m.atime(), m.atime_nsec(), m.mtime(), m.mtime_nsec()),
        (1000, 5, 2000, 7)
    );
    utimens(
        &mut root,
        AT_FDCWD,
        b"/f",
        [(0, UTIME_OMIT), (0, UTIME_NOW)],
        0,
    )
    .unwrap();
    let m = fs::metadata(r.join("f")).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(m.atime(), 1000);
    assert!((m.mtime() - now).abs() < 60, "{} vs {now}", m.mtime());
    // The fd itself; the link itself with NOFOLLOW.
    utimens(&mut root, fd as i64, b"", [(3, 0), (4, 0)], AT_EMPTY_PATH).unwrap();
    assert_eq!(fs::metadata(r.join("f")).unwrap().mtime(), 4);
    utimens(
        &mut root,
        AT_FDCWD,
        b"/s",
        [(5, 0), (6, 0)],
        AT_SYMLINK_NOFOLLOW,
    )
    .unwrap();
    assert_eq!(fs::symlink_metadata(r.join("s")).unwrap().mtime(), 6);
    assert_eq!(fs::metadata(r.join("f")).unwrap().mtime(), 4);
    assert_eq!(
        utimens(&mut root, AT_FDCWD, b"/f", [(0, 1_000_000_000), (0, 0)], 0),
        Err(Errno::Einval)
    );
    // What the device serves itself keeps no attributes: nothing changes.
    let (p, _) = root.pipe(0).unwrap();
    assert_eq!(fchmod(&mut root, p, 0o600), Ok(()));
    assert_eq!(chmod(&mut root, b"/dev/null", 0o600), Err(Errno::Eacces));
}

/// Reads what the host end of the root's standard stream `fd` holds now.
fn host_read(tree: &Tree, fd: u32) -> Vec<u8> {
    let (io, rx) = HostIo::boxed(Vec::new(), 4096);
    let req = Request::Read {
        fd,
        len: 4096,
        nonblock: true,
    };
    tree.sup.kernel().submit(HOST_PID, req, io);
    let c = rx.recv().unwrap();
    c.data
}

// spec: dev-write-devices
#[test]
fn zero_urandom_tty_and_proc_self_are_the_devices_own() {
    let tree = Tree::writable();
    let r = populate(&tree);
    fs::create_dir_all(r.join("dev")).unwrap();
    fs::write(r.join("dev/zero"), b"not zero").unwrap();
    // As if the daemon's stdin and stderr were a terminal.
    tree.sup.kernel().set_host_terminals([true, false, true]);
    let mut root = tree.root_with(vec![b"root".to_vec(), b"-x".to_vec()], vec![]);
    let z = open(&mut root, b"/dev/zero").unwrap();
    assert_eq!(root.read(z, 1000).unwrap(), vec![0u8; 1000]);
    assert_eq!(pread(&mut root, z, 5, 10).unwrap(), vec![0u8; 10]);
    let w = create(&mut root, b"/dev/zero", O_WRONLY, 0).unwrap();
    assert_eq!(root.write(w, b"gone"), Ok(4));
    assert_eq!(
        fs::read(r.join("dev/zero")).unwrap(),
        b"not zero",
        "the root's file"
    );
    let u = open(&mut root, b"/dev/urandom").unwrap();
    let (a, b) = (root.read(u, 64).unwrap(), root.read(u, 64).unwrap());
    assert_eq!((a.len(), b.len()), (64, 64));
    assert_ne!(a, b, "random bytes");
    assert_eq!(fstat(&mut root, u).unwrap().mode.get(), S_IFCHR | 0o666);
    assert_eq!(
        statat(&mut root, AT_FDCWD, b"/dev/zero", 0)
            .unwrap()
            .rdev
            .get(),
        libc::makedev(1, 5)
    );
    // /dev/tty: reads the root's stdin, writes its stderr (the terminals).
    let t = create(&mut root, b"/dev/tty", O_RDWR, 0).unwrap();
    assert_eq!(root.write(t, b"to the terminal\n"), Ok(16));
    assert_eq!(host_read(&tree, 2), b"to the terminal\n");
    assert!(host_read(&tree, 1).is_empty(), "not stdout");
    // /proc/self/fd lists the fds; each entry reads as what it refers to.
    let d = create(&mut root, b"/proc/self/fd", O_DIRECTORY, 0).unwrap();
    let entries = list(&mut root, d, 4096).unwrap();
    let names: Vec<&[u8]> = entries.iter().map(|(n, _)| &n[..]).collect();
    for want in [&b"."[..], b"..", b"0", b"1", b"2"] {
        assert!(names.contains(&want), "{names:?}");
    }
    assert!(entries.iter().any(|(n, k)| n == b"0" && *k == DT_LNK));
    assert!(entries.iter().any(|(n, k)| n == b"." && *k == DT_DIR));
    let f = open(&mut root, b"/d/g").unwrap();
    let link = format!("/proc/self/fd/{f}");
    assert_eq!(readlink(&mut root, link.as_bytes(), 100).unwrap(), b"/d/g");
    let (p, _) = root.pipe(0).unwrap();
    let plink = readlink(&mut root, format!("/proc/self/fd/{p}").as_bytes(), 100).unwrap();
    assert!(
        plink.starts_with(b"pipe:["),
        "{}",
        String::from_utf8_lossy(&plink)
    );
    // Opening one opens the file anew, with its own offset.
    let again = open(&mut root, link.as_bytes()).unwrap();
    root.read(f, 2).unwrap();
    assert_eq!(root.read(again, 3).unwrap(), b"gee");
    // /dev/stdout opens the standard output anew.
    let out = create(&mut root, b"/dev/stdout", O_WRONLY, 0).unwrap();
    root.write(out, b"via /dev/stdout").unwrap();
    assert_eq!(host_read(&tree, 1), b"via /dev/stdout");
    // /proc/self/cmdline: argv, each with its NUL.
    let c = open(&mut root, b"/proc/self/cmdline").unwrap();
    assert_eq!(root.read(c, 100).unwrap(), b"root\0-x\0");
    assert_eq!(root.write(c, b"x"), Err(Errno::Ebadf));
    // None of them can be removed or replaced.
    assert_eq!(unlink(&mut root, b"/dev/tty", false), Err(Errno::Eacces));
    assert_eq!(
        rename(&mut root, b"/d/g", b"/dev/null", 0),
        Err(Errno::Eacces)
    );
    let _ = Op::OpenAt;
}

// spec: dev-write-devices
#[test]
fn dev_tty_without_a_terminal_is_enxio() {
    let tree = Tree::writable();
    let mut root = tree.root();
    assert_eq!(create(&mut root, b"/dev/tty", O_RDWR, 0), Err(Errno::Enxio));
    assert_eq!(
        statat(&mut root, AT_FDCWD, b"/dev/tty", 0).err(),
        Some(Errno::Enxio)
    );
}
