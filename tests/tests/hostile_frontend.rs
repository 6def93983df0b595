//! A hostile vhost-user frontend against `vhost-user-pipe serve`: hundreds
//! of connections in a row, each abusing the control protocol or the queues
//! a different way (RELIABILITY.md, "Hardening"). The daemon must survive
//! every one, serve the next, refuse bad memory tables instead of dying of
//! `SIGBUS`, keep its log bounded, and hold no more fds or memory at the
//! end than after the first rounds.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use system_tests::frontend::{RawDesc, TestGuest};
use system_tests::qemu::{daemon_bin, Group};
use vhost::vhost_user::message::{VhostUserHeaderFlag, VhostUserProtocolFeatures};
use vhost::vhost_user::{Frontend, VhostUserFrontend};
use vhost::{VhostBackend, VhostUserMemoryRegionInfo, VringConfigData};
use virtio_bindings::bindings::virtio_ring::{VRING_DESC_F_NEXT, VRING_DESC_F_WRITE};
use vm_memory::{Bytes, GuestAddress};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

/// Connections in a row.
const ROUNDS: usize = 500;
/// Rounds run before the fd and memory baseline is taken (allocator warm-up).
const WARMUP: usize = 40;
/// Growth of the daemon's resident memory over the measured rounds that
/// still counts as flat (allocator noise).
const RSS_SLACK_KIB: u64 = 8 * 1024;
/// Malformed chains sent in a flood round.
const FLOOD: usize = 2000;
const LIMIT: Duration = Duration::from_secs(60);

fn memfd(len: u64) -> std::fs::File {
    // SAFETY: memfd_create with a valid NUL-terminated name; checked below.
    let fd = unsafe { libc::memfd_create(c"hostile".as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0);
    // SAFETY: a fresh fd that nothing else owns.
    let f = unsafe { std::fs::File::from_raw_fd(fd) };
    f.set_len(len).unwrap();
    f
}

/// A connection the daemon serves: while the previous tree winds down, a
/// new root is refused (closed at once), so try again until one is answered.
fn connect(socket: &Path) -> Frontend {
    let until = Instant::now() + LIMIT;
    loop {
        if let Ok(f) = Frontend::connect(socket, 2) {
            if f.get_features().is_ok() {
                return f;
            }
        }
        assert!(Instant::now() < until, "no connection served");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn negotiate(f: &mut Frontend) {
    f.set_owner().unwrap();
    let offered = f.get_features().unwrap();
    f.set_features(offered).unwrap();
    let proto = f.get_protocol_features().unwrap();
    f.set_protocol_features(
        proto & (VhostUserProtocolFeatures::MQ | VhostUserProtocolFeatures::REPLY_ACK),
    )
    .unwrap();
}

/// A memory table whose one region claims 16 MiB of a 1 MiB file, rings
/// inside the missing part, and a kick: the old daemon read the avail ring
/// past the end of the file and died of `SIGBUS`.
fn region_past_end_of_file(socket: &Path) {
    const CLAIMED: u64 = 16 << 20;
    const FAKE_VA: u64 = 0x7000_0000_0000;
    let mut f = connect(socket);
    negotiate(&mut f);
    f.set_hdr_flags(VhostUserHeaderFlag::NEED_REPLY);
    let file = memfd(1 << 20);
    let region = VhostUserMemoryRegionInfo {
        guest_phys_addr: 0,
        memory_size: CLAIMED,
        userspace_addr: FAKE_VA,
        mmap_offset: 0,
        mmap_handle: file.as_raw_fd(),
    };
    // Refused: with REPLY_ACK the frontend hears it; then the connection ends.
    let refused = f.set_mem_table(&[region]).is_err();
    let kick = EventFd::new(EFD_NONBLOCK).unwrap();
    let ring_at = FAKE_VA + (8 << 20);
    let _ = f.set_vring_num(0, 64);
    let _ = f.set_vring_addr(
        0,
        &VringConfigData {
            queue_max_size: 64,
            queue_size: 64,
            flags: 0,
            desc_table_addr: ring_at,
            used_ring_addr: ring_at + 0x2000,
            avail_ring_addr: ring_at + 0x1000,
            log_addr: None,
        },
    );
    let _ = f.set_vring_base(0, 0);
    let _ = f.set_vring_kick(0, &kick);
    let _ = f.set_vring_enable(0, true);
    let _ = kick.write(1);
    assert!(refused, "the bad memory table is refused");
}

/// Bytes that are not vhost-user at all.
fn garbage(socket: &Path, round: usize) {
    let mut s = UnixStream::connect(socket).unwrap();
    let junk: Vec<u8> = (0..4096).map(|i| (i * 31 + round * 7) as u8).collect();
    let _ = s.write_all(&junk);
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 64];
    let _ = s.read(&mut buf);
}

/// Messages out of order, out of range, or for queues that do not exist.
fn protocol_abuse(socket: &Path) {
    let mut f = connect(socket);
    let _ = f.get_vring_base(0);
    let _ = f.set_features(u64::MAX);
    // The daemon may hang up at any of these: a protocol error ends the
    // connection, which is all a hostile frontend may get.
    let _ = f.set_owner();
    let _ = f.set_owner();
    let _ = f.set_vring_num(0, 0);
    let _ = f.set_vring_num(0, 65535);
    let _ = f.set_vring_num(7, 64);
    let _ = f.set_vring_base(9, 1);
    let _ = f.set_vring_enable(3, true);
    let _ = f.get_vring_base(1);
    let _ = f.set_mem_table(&[]);
}

/// A well-behaved guest floods malformed chains, leaves a READ pending and
/// vanishes without a word.
fn flood_then_vanish(socket: &Path) {
    let mut g = TestGuest::connect(socket);
    for i in 0..FLOOD {
        // A readable descriptor after a writable one.
        let t = g.submit_raw(
            0,
            &[
                RawDesc {
                    addr: 0x50_0000,
                    len: 32,
                    flags: (VRING_DESC_F_WRITE | VRING_DESC_F_NEXT) as u16,
                    next: 0,
                },
                RawDesc {
                    addr: 0x50_1000,
                    len: 32,
                    flags: 0,
                    next: 0,
                },
            ],
            false,
        );
        let _ = g.wait(t);
        if i == 0 {
            g.mem
                .write_slice(&[0u8; 32], GuestAddress(0x50_0000))
                .unwrap();
        }
    }
    let (r, _w) = g.pipe(0).unwrap();
    let _pending = g.submit_read(r, 8, 0);
}

/// A normal root connects, asks its pid and goes; then the daemon's fds are
/// counted once the count has not changed for a while (the tree has wound
/// down and the next one waits for its root).
fn settled(socket: &Path, pid: u32) -> usize {
    const STILL: Duration = Duration::from_millis(500);
    let mut g = TestGuest::connect(socket);
    assert_eq!(g.getpid(), (1, 0));
    drop(g);
    let until = Instant::now() + LIMIT;
    let (mut last, mut since) = (daemon_fds(pid), Instant::now());
    while since.elapsed() < STILL && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        let now = daemon_fds(pid);
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    last
}

fn daemon_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

fn daemon_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("vup-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn hundreds_of_hostile_connections_leave_the_daemon_serving_and_flat() {
    let d = scratch();
    let socket = d.join("v.sock");
    let log = d.join("daemon.log");
    let mut c = Command::new(daemon_bin());
    c.args(["serve", "--accel", "tcg", "--socket-path"])
        .arg(&socket)
        .arg("--run-dir")
        .arg(d.join("run"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut daemon = Group::spawn(c);
    let pid = daemon.child.id();
    let until = Instant::now() + LIMIT;
    while !socket.exists() {
        assert!(Instant::now() < until, "the daemon listens");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut baseline = None;
    for round in 0..ROUNDS {
        match round % 5 {
            0 => region_past_end_of_file(&socket),
            1 => garbage(&socket, round),
            2 => protocol_abuse(&socket),
            3 => flood_then_vanish(&socket),
            _ => drop(connect(&socket)),
        }
        assert!(
            daemon.child.try_wait().unwrap().is_none(),
            "round {round}: the daemon died"
        );
        if round == WARMUP {
            baseline = Some((settled(&socket, pid), daemon_rss_kib(pid)));
        }
    }
    // The daemon still serves a normal root; then, idle again, it holds no
    // more than it did after the first rounds.
    let (fds0, rss0) = baseline.unwrap();
    settled(&socket, pid);
    let (fds1, rss1) = (daemon_fds(pid), daemon_rss_kib(pid));
    eprintln!(
        "daemon fds {fds0} -> {fds1}, RSS {rss0} -> {rss1} KiB over {} rounds",
        ROUNDS - WARMUP
    );
    let open: Vec<_> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .collect();
    assert!(fds1 <= fds0, "fds grew: {fds0} -> {fds1}: {open:?}");
    assert!(
        rss1 <= rss0 + RSS_SLACK_KIB,
        "memory grew: {rss0} -> {rss1} KiB"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let malformed = text.lines().filter(|l| l.contains("malformed")).count();
    let floods = ROUNDS / 5;
    assert!(
        malformed <= floods * (vhost_user_pipe::rate_limit::BURST as usize + 1),
        "{malformed} malformed-chain lines for {floods} floods of {FLOOD}"
    );
    daemon.kill();
    let _ = std::fs::remove_dir_all(&d);
}
