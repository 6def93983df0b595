//! The fuzzing corpus on stable Rust: every file of `fuzz/corpus/<target>/`
//! goes through the same entry point the cargo-fuzz target calls
//! (`vhost_user_pipe::fuzzing`), so inputs that once found a bug stay
//! fixed. The seed scripts are written here: `VUP_WRITE_CORPUS=1 cargo test
//! -p system-tests --test fuzz_corpus` rewrites them after a change of the
//! script format (the seeds test fails until then).

use std::path::PathBuf;

use system_tests::fuzz::{self as fuzzing, spawn_blob, Completion, Script, POLL_SHAPED};
use system_tests::qemu::workspace;
use virtio_bindings::bindings::virtio_ring::{
    VRING_DESC_F_INDIRECT, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE,
};
use virtio_pipe_protocol::fs::{
    ExecBlob, PathPair, AT_FDCWD, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, SEEK_SET, STAT_SIZE, X_OK,
};
use virtio_pipe_protocol::tty::{ECHO, ICANON, ISIG, TCGETS, TCSETSW, TIOCSPGRP};
use virtio_pipe_protocol::{
    ArgsBlob, Errno, FileAction, Op, ReqHeader, Termios, EXIT_F_SIGNALED, O_NONBLOCK,
    REQ_F_NONBLOCK, WAIT_F_CONTINUED, WAIT_F_NOHANG, WAIT_F_UNTRACED,
};

use zerocopy::IntoBytes;

const ANY: u64 = u64::MAX;
const R: u16 = 0;
const W: u16 = VRING_DESC_F_WRITE as u16;
const N: u16 = VRING_DESC_F_NEXT as u16;

fn corpus(target: &str) -> PathBuf {
    workspace().join("fuzz").join("corpus").join(target)
}

fn child_blob(actions: &[FileAction]) -> Vec<u8> {
    spawn_blob("child", &[b"child", b"1"], &[b"K=v"], actions)
}

/// Well-formed requests of every op, and a few hostile scripts.
fn seeds() -> Vec<(&'static str, Script)> {
    let s = Script::new;
    let getpid = ReqHeader::new(Op::GetPid, 0, [0; 3]).as_bytes_le();
    vec![
        (
            "op-pipe",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0).call(
                1,
                Op::Pipe,
                [O_NONBLOCK as u64, 0, 0],
                &[],
                0,
                1,
            ),
        ),
        (
            "op-write-read",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Write, [4, 0, 0], b"hello", 0, 1)
                .call(1, Op::Read, [3, 0, 0], &[], 16, 2),
        ),
        (
            "op-read-blocks-until-write",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Read, [3, 0, 0], &[], 64, 1)
                .req(1, Op::Write, 0, [4, 0, 0], b"split write", 0, 2, 0b0111),
        ),
        (
            "op-poll",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .req(
                    1,
                    Op::Poll,
                    REQ_F_NONBLOCK,
                    [3, 0, 0],
                    &[4, 1, 0, 5, 4, 0, 0, 1, 0],
                    0,
                    1,
                    POLL_SHAPED,
                )
                .req(1, Op::Poll, 0, [1, 0, 0], &[4, 1, 0], 0, 2, POLL_SHAPED)
                .call(1, Op::Write, [4, 0, 0], b"wake", 0, 3)
                .call(1, Op::Close, [4, 0, 0], &[], 0, 4)
                .req(1, Op::Poll, 0, [1, 0, 0], &[4, 0, 0], 0, 5, POLL_SHAPED),
        ),
        (
            "op-interrupt-blocked-read",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Read, [3, 0, 0], &[], 64, 1)
                .call(1, Op::Interrupt, [0; 3], &[], 0, 2)
                .call(1, Op::Read, [3, 0, 0], &[], 64, 3)
                .call(1, Op::Write, [4, 0, 0], b"after", 0, 4),
        ),
        (
            "op-close",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Close, [4, 0, 0], &[], 0, 1)
                .call(1, Op::Read, [3, 0, 0], &[], 8, 2)
                .call(1, Op::Close, [4, 0, 0], &[], 0, 3),
        ),
        (
            "op-dup-dup2",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Dup, [3, 0, 0], &[], 0, 1)
                .call(1, Op::Dup2, [4, 10, 0], &[], 0, 2)
                .call(1, Op::Dup2, [4, 3, 0], &[], 0, 3)
                .call(1, Op::Write, [10, 0, 0], b"x", 0, 4),
        ),
        (
            "op-flags-nonblock",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::SetFlags, [3, O_NONBLOCK as u64, 0], &[], 0, 1)
                .call(1, Op::GetFlags, [3, 0, 0], &[], 0, 2)
                .call(1, Op::Read, [3, 0, 0], &[], 8, 3)
                .req(1, Op::Read, REQ_F_NONBLOCK, [4, 0, 0], &[], 8, 4, 0),
        ),
        (
            "op-start-getpid-getargs",
            s().call(1, Op::Start, [0; 3], &[], 0, 0)
                .call(1, Op::GetPid, [0; 3], &[], 0, 1)
                .call(1, Op::GetArgs, [0; 3], &[], 4, 2)
                .call(1, Op::GetArgs, [0; 3], &[], 256, 3),
        ),
        (
            "op-spawn-write-exit-wait",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(
                    1,
                    Op::Spawn,
                    [0; 3],
                    &child_blob(&[
                        FileAction::Dup2 { fd: 4, newfd: 1 },
                        FileAction::Close { fd: 3 },
                    ]),
                    0,
                    1,
                )
                .call(2, Op::GetArgs, [0; 3], &[], 128, 0)
                .call(2, Op::Write, [1, 0, 0], b"from the child", 0, 1)
                .call(2, Op::Exit, [7, 0, 0], &[], 0, 2)
                .call(1, Op::Read, [3, 0, 0], &[], 64, 2)
                .call(1, Op::Wait, [ANY, 0, 0], &[], 0, 3),
        ),
        (
            "op-fork",
            s().call(1, Op::Fork, [0x2000, 0, 0], &[], 0, 0)
                .call(2, Op::Start, [0; 3], &[], 0, 0)
                .call(2, Op::Exit, [0; 3], &[], 0, 1)
                .call(1, Op::Wait, [2, 0, 0], &[], 0, 1),
        ),
        (
            "op-kill-blocked-waiter",
            s().call(1, Op::Spawn, [0; 3], &child_blob(&[]), 0, 0)
                .call(2, Op::Spawn, [0; 3], &child_blob(&[]), 0, 0)
                .call(2, Op::Wait, [ANY, 0, 0], &[], 0, 1)
                .call(1, Op::Kill, [2, 9, 0], &[], 0, 1)
                .call(1, Op::Wait, [2, 0, 0], &[], 0, 2)
                .req(1, Op::Wait, WAIT_F_NOHANG, [ANY, 0, 0], &[], 0, 3, 0),
        ),
        (
            "op-kill-signal-event",
            s().call(1, Op::Spawn, [0; 3], &child_blob(&[]), 0, 0)
                .call(1, Op::Kill, [2, 15, 0], &[], 0, 1)
                .events(2)
                .call(1, Op::Kill, [2, 0, 0], &[], 0, 2)
                .call(1, Op::Kill, [42, 9, 0], &[], 0, 3),
        ),
        ("op-exit-root", s().call(1, Op::Exit, [3, 0, 0], &[], 0, 0)),
        (
            "op-exit-signaled",
            s().call(1, Op::Spawn, [0; 3], &child_blob(&[]), 0, 0)
                .req(2, Op::Exit, EXIT_F_SIGNALED, [0, 6, 0], &[], 0, 0, 0)
                .call(1, Op::Wait, [ANY, 0, 0], &[], 0, 1),
        ),
        (
            "stdio-through-the-host",
            s().call(1, Op::Write, [1, 0, 0], b"to stdout", 0, 0)
                .host(0, 1, 64)
                .call(1, Op::Read, [0, 0, 0], &[], 64, 1)
                .host(1, 0, 5)
                .host(2, 0, 0),
        ),
        (
            "large-write-streams",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Write, [4, 0, 0], &[0x5a; 12000], 0, 1)
                .call(1, Op::Read, [3, 0, 0], &[], 4096, 0x40)
                .call(1, Op::Read, [3, 0, 0], &[], 4096, 0x60)
                .call(1, Op::Read, [3, 0, 0], &[], 4096, 0x80),
        ),
        (
            "full-pipe-nonblocking-write",
            s().call(1, Op::Pipe, [O_NONBLOCK as u64, 0, 0], &[], 0, 0)
                .call(1, Op::Write, [4, 0, 0], &[1; 8192], 0, 1)
                .call(1, Op::Write, [4, 0, 0], &[2; 100], 0, 0x30)
                .call(1, Op::Read, [3, 0, 0], &[], 200, 0x32),
        ),
        (
            "epipe-sigpipe",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Close, [3, 0, 0], &[], 0, 1)
                .call(1, Op::Write, [4, 0, 0], b"nobody", 0, 2)
                .events(1),
        ),
        (
            "child-blocked-then-vanishes",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Spawn, [0; 3], &child_blob(&[]), 0, 1)
                .call(2, Op::Read, [3, 0, 0], &[], 16, 0)
                .call(1, Op::Write, [4, 0, 0], &[7; 8192], 0, 2)
                .call(2, Op::Write, [4, 0, 0], &[8; 4000], 0, 0x30)
                .vanish(2)
                .call(1, Op::Wait, [ANY, 0, 0], &[], 0, 3)
                .call(1, Op::Close, [3, 0, 0], &[], 0, 4)
                .call(1, Op::Write, [4, 0, 0], b"x", 0, 5),
        ),
        (
            "reset-with-requests-pending",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Read, [3, 0, 0], &[], 16, 1)
                .call(1, Op::Wait, [ANY, 0, 0], &[], 0, 2)
                .reset(1)
                .call(1, Op::Write, [4, 0, 0], b"after reset", 0, 0)
                .call(1, Op::Read, [3, 0, 0], &[], 16, 1),
        ),
        (
            "spawn-until-eagain",
            (0..6).fold(s(), |s, i| {
                s.call(1, Op::Spawn, [0; 3], &child_blob(&[]), 0, i)
            }),
        ),
        (
            "spawn-bad-names-and-actions",
            s().call(
                1,
                Op::Spawn,
                [0; 3],
                &spawn_blob("../child", &[], &[], &[]),
                0,
                0,
            )
            .call(
                1,
                Op::Spawn,
                [0; 3],
                &spawn_blob("/etc/passwd", &[], &[], &[]),
                0,
                1,
            )
            .call(
                1,
                Op::Spawn,
                [0; 3],
                &spawn_blob("nope", &[], &[], &[]),
                0,
                2,
            )
            .call(1, Op::Spawn, [0; 3], &spawn_blob("..", &[], &[], &[]), 0, 3)
            .call(
                1,
                Op::Spawn,
                [0; 3],
                &child_blob(&[FileAction::Close { fd: 9 }]),
                0,
                4,
            )
            .call(
                1,
                Op::Spawn,
                [0; 3],
                &child_blob(&[FileAction::Dup2 { fd: 0, newfd: 1000 }]),
                0,
                5,
            )
            .call(1, Op::Spawn, [0; 3], b"\x05\0\0\0garbage", 0, 6),
        ),
        (
            "wait-variants",
            s().req(1, Op::Wait, WAIT_F_NOHANG, [ANY, 0, 0], &[], 0, 0, 0)
                .call(1, Op::Wait, [5, 0, 0], &[], 0, 1)
                .call(1, Op::Wait, [0, 0, 0], &[], 0, 2)
                .call(1, Op::Spawn, [0; 3], &child_blob(&[]), 0, 3)
                .call(1, Op::Wait, [ANY, 0, 0], &[], 0, 4)
                .call(1, Op::Wait, [ANY, 0, 0], &[], 0, 5)
                .call(2, Op::Exit, [1, 0, 0], &[], 0, 0),
        ),
        (
            "bad-args-and-flags",
            s().req(1, Op::Pipe, 0, [1, 0, 0], &[], 0, 0, 0)
                .req(1, Op::Close, 2, [3, 0, 0], &[], 0, 1, 0)
                .call(1, Op::Close, [1 << 40, 0, 0], &[], 0, 2)
                .call(1, Op::GetPid, [0; 3], b"payload", 0, 3)
                .call(1, Op::Read, [0, 0, 0], &[], 0, 4)
                .call(1, Op::Exit, [256, 0, 0], &[], 0, 5)
                .call(1, Op::Kill, [0, 9, 0], &[], 0, 6)
                .call(1, Op::Kill, [1, 99, 0], &[], 0, 7)
                .unknown_op(1, 0x7f),
        ),
        (
            "malformed-writable-before-readable",
            s().req(1, Op::GetPid, 0, [0; 3], &[], 0, 0, 0x10),
        ),
        (
            "malformed-loop",
            s().raw(1, &[(0x1000, 32, R | N, 1), (0x1100, 32, W | N, 0)], false),
        ),
        (
            "malformed-out-of-range",
            s().mem(1, 0x1000, &getpid)
                .raw(1, &[(0x1000, 32, R, 0), (0x20000, 32, W, 0)], true)
                .raw(1, &[(0x1000, 32, R, 0), (0xffff_ffff, 32, W, 0)], true)
                .raw(1, &[(0x1000, 0xffff_ffff, R, 0), (0x1100, 32, W, 0)], true),
        ),
        (
            "malformed-next-beyond-queue",
            s().raw(1, &[(0x1000, 32, R | N, 200)], false),
        ),
        (
            "malformed-no-room-for-a-response",
            s().mem(1, 0x1000, &getpid)
                .raw(1, &[(0x1000, 32, R, 0)], true)
                .raw(1, &[(0x1000, 32, R, 0), (0x1100, 16, W, 0)], true),
        ),
        (
            "malformed-short-header",
            s().mem(1, 0x1000, &getpid)
                .raw(1, &[(0x1000, 16, R, 0), (0x1100, 32, W, 0)], true),
        ),
        (
            "indirect-chain",
            s().indirect(1)
                .mem(1, 0x1000, &getpid)
                .mem(
                    1,
                    0x8000,
                    &[
                        desc_bytes(0x1000, 32, R | N, 1),
                        desc_bytes(0x1100, 32, W, 0),
                    ]
                    .concat(),
                )
                .raw(1, &[(0x8000, 32, VRING_DESC_F_INDIRECT as u16, 0)], true)
                .raw(1, &[(0x8000, 31, VRING_DESC_F_INDIRECT as u16, 0)], true),
        ),
        (
            // The same table without VIRTIO_RING_F_INDIRECT_DESC: the daemon
            // refuses it, so the fuzzer, on the same request path, does too.
            "indirect-chain-not-negotiated",
            s().mem(1, 0x1000, &getpid)
                .mem(
                    1,
                    0x8000,
                    &[
                        desc_bytes(0x1000, 32, R | N, 1),
                        desc_bytes(0x1100, 32, W, 0),
                    ]
                    .concat(),
                )
                .raw(1, &[(0x8000, 32, VRING_DESC_F_INDIRECT as u16, 0)], true),
        ),
        (
            "zero-length-descriptors",
            s().mem(1, 0x1000, &getpid).raw(
                1,
                &[
                    (0x1000, 0, R, 0),
                    (0x1000, 32, R, 0),
                    (0x1100, 0, W, 0),
                    (0x1100, 32, W, 0),
                ],
                true,
            ),
        ),
        (
            "parts-across-regions",
            s().call(1, Op::Pipe, [0; 3], &[], 0, 0)
                .call(1, Op::Write, [4, 0, 0], &[3; 600], 0, 0xef)
                .call(1, Op::Read, [3, 0, 0], &[], 700, 0xee),
        ),
        ("avail-head-beyond-queue", s().avail(1, 500).avail(1, 15)),
        (
            "file-ops",
            s().call(1, Op::OpenAt, [AT_FDCWD as u64, 0, 0], b"/etc/hosts", 0, 0)
                .call(1, Op::Read, [3, 0, 0], &[], 64, 1)
                .call(1, Op::Lseek, [3, 4, SEEK_SET as u64], &[], 0, 2)
                .call(1, Op::Pread, [3, 0, 0], &[], 9, 3)
                .call(1, Op::Fstat, [3, 0, 0], &[], STAT_SIZE, 4)
                .call(
                    1,
                    Op::StatAt,
                    [AT_FDCWD as u64, 0, 0],
                    b"/etc/out",
                    STAT_SIZE,
                    5,
                )
                .call(
                    1,
                    Op::OpenAt,
                    [AT_FDCWD as u64, O_DIRECTORY as u64, 0],
                    b"/etc",
                    0,
                    6,
                )
                .call(1, Op::Getdents, [4, 0, 0], &[], 512, 7)
                .call(1, Op::Chdir, [0; 3], b"etc/dir/..", 0, 8)
                .call(1, Op::Getcwd, [0; 3], &[], 64, 9)
                .call(
                    1,
                    Op::ReadlinkAt,
                    [AT_FDCWD as u64, 0, 0],
                    b"/bin/sh",
                    64,
                    10,
                )
                .call(
                    1,
                    Op::AccessAt,
                    [AT_FDCWD as u64, X_OK as u64, 0],
                    b"/bin/prog",
                    0,
                    11,
                ),
        ),
        (
            "write-ops",
            s().call(
                1,
                Op::OpenAt,
                [AT_FDCWD as u64, (O_CREAT | O_RDWR) as u64, 0o644],
                b"/new",
                0,
                0,
            )
            .call(1, Op::Write, [3, 0, 0], b"written", 0, 1)
            .call(1, Op::Pwrite, [3, 0, 0], b"W", 0, 2)
            .call(1, Op::Ftruncate, [3, 5, 0], &[], 0, 3)
            .call(1, Op::MkdirAt, [AT_FDCWD as u64, 0o755, 0], b"/up/d", 0, 4)
            .call(1, Op::MkdirAt, [AT_FDCWD as u64, 0o755, 0], b"/d", 0, 5)
            .call(
                1,
                Op::RenameAt,
                [AT_FDCWD as u64, AT_FDCWD as u64, 0],
                &pair(b"/new", b"/d/n"),
                0,
                6,
            )
            .call(
                1,
                Op::SymlinkAt,
                [AT_FDCWD as u64, 0, 0],
                &pair(b"../../secret", b"/d/s"),
                0,
                7,
            )
            .call(
                1,
                Op::LinkAt,
                [AT_FDCWD as u64, AT_FDCWD as u64, 0],
                &pair(b"/d/n", b"/d/h"),
                0,
                8,
            )
            .call(1, Op::UnlinkAt, [AT_FDCWD as u64, 0, 0], b"/d/s", 0, 9)
            .call(
                1,
                Op::OpenAt,
                [AT_FDCWD as u64, O_RDONLY as u64, 0],
                b"/dev/zero",
                0,
                10,
            )
            .call(1, Op::Read, [4, 0, 0], &[], 16, 11),
        ),
        (
            "vfork-exec-exit",
            s().call(1, Op::Vfork, [0; 3], &[], 0, 0)
                .call(1, Op::GetPid, [0; 3], &[], 0, 1)
                .call(1, Op::Exec, [0; 3], &exec_blob(b"/bin/sh", &[b"sh"]), 0, 2)
                .call(1, Op::GetPid, [0; 3], &[], 0, 3)
                .call(1, Op::Vfork, [0; 3], &[], 0, 4)
                .call(1, Op::Exit, [5, 0, 0], &[], 0, 5)
                .call(1, Op::Wait, [3, 0, 0], &[], 0, 6)
                .call(2, Op::GetExe, [0; 3], &[], 64, 0),
        ),
        (
            "groups-stop-continue",
            s().call(1, Op::Spawn, [0; 3], &child_blob(&[]), 0, 0)
                .call(2, Op::Setpgid, [0; 3], &[], 0, 0)
                .call(1, Op::Getpgid, [2, 0, 0], &[], 0, 1)
                .call(1, Op::Kill, [(-2i64) as u64, 0, 0], &[], 0, 2)
                .call(2, Op::Stop, [20, 0, 0], &[], 0, 1)
                .req(
                    1,
                    Op::Wait,
                    WAIT_F_UNTRACED,
                    [(-2i64) as u64, 0, 0],
                    &[],
                    0,
                    3,
                    0,
                )
                .call(1, Op::Kill, [2, 18, 0], &[], 0, 4)
                .req(1, Op::Wait, WAIT_F_CONTINUED, [0; 3], &[], 0, 5, 0)
                .call(2, Op::Setsid, [0; 3], &[], 0, 2)
                .call(2, Op::Getsid, [0; 3], &[], 0, 3)
                .call(1, Op::Kill, [u64::MAX, 9, 0], &[], 0, 6)
                .call(1, Op::Wait, [u64::MAX, 0, 0], &[], 0, 7),
        ),
        (
            "tty-terminal",
            s().call(1, Op::Tty, [0, TCGETS as u64, 0], &[], 36, 0)
                .call(1, Op::Tty, [0, TCSETSW as u64, 0], &raw_modes(), 0, 1)
                .call(1, Op::Tty, [2, TCGETS as u64, 0], &[], 36, 2)
                .call(1, Op::Tty, [1, TCGETS as u64, 0], &[], 36, 3)
                .call(
                    1,
                    Op::Tty,
                    [0, TIOCSPGRP as u64, 0],
                    &42u32.to_le_bytes(),
                    0,
                    4,
                )
                .call(1, Op::Tty, [0, 0x5421, 0], &[], 0, 5)
                .host(3 | 0x80, 0, 0)
                .call(1, Op::Read, [0, 0, 0], &[], 16, 6)
                .host(3, 0, 1),
        ),
        (
            "blob-in-a-script",
            s().blob(&child_blob(&[FileAction::Dup2 { fd: 1, newfd: 2 }])),
        ),
    ]
}

fn pair(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; PathPair::encoded_len(a, b)];
    PathPair::encode(a, b, &mut out).unwrap();
    out
}

fn exec_blob(path: &[u8], argv: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![0u8; ExecBlob::encoded_len(path, argv, &[]).unwrap()];
    let n = ExecBlob::encode(path, argv, &[], &mut out).unwrap();
    out.truncate(n);
    out
}

fn desc_bytes(addr: u64, len: u32, flags: u16, next: u16) -> Vec<u8> {
    let mut v = addr.to_le_bytes().to_vec();
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(&flags.to_le_bytes());
    v.extend_from_slice(&next.to_le_bytes());
    v
}

fn args_blob(argv: &[&[u8]], env: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![0u8; ArgsBlob::encoded_len(argv, env).unwrap()];
    let n = ArgsBlob::encode(argv, env, &mut out).unwrap();
    out.truncate(n);
    out
}

fn blob_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let spawn = child_blob(&[
        FileAction::Dup2 { fd: 3, newfd: 0 },
        FileAction::Close { fd: 3 },
    ]);
    let mut bad_kind = spawn.clone();
    bad_kind[16] = 9;
    vec![
        ("spawn", spawn.clone()),
        ("spawn-truncated", spawn[..spawn.len() - 1].to_vec()),
        ("spawn-bad-action-kind", bad_kind),
        ("args", args_blob(&[b"prog", b"arg"], &[b"A=1"])),
        ("args-empty", args_blob(&[], &[])),
        ("args-missing-nul", b"\x01\0\0\0\0\0\0\0abc".to_vec()),
        ("exec", exec_blob(b"/bin/sh", &[b"sh", b"-c", b"true"])),
    ]
}

fn files(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(corpus(target))
        .unwrap_or_else(|e| panic!("{}: {e}", corpus(target).display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// Rewrites the seeds with `VUP_WRITE_CORPUS=1`; otherwise checks that the
/// committed seeds are what this file writes.
#[test]
fn committed_seeds_match_the_script_format() {
    let write = std::env::var_os("VUP_WRITE_CORPUS").is_some();
    let all: Vec<(String, &str, Vec<u8>)> = seeds()
        .into_iter()
        .map(|(n, s)| (format!("seed-{n}"), "process_chain", s.into_bytes()))
        .chain(
            blob_seeds()
                .into_iter()
                .map(|(n, b)| (format!("seed-{n}"), "blobs", b)),
        )
        .collect();
    for (name, target, bytes) in all {
        let path = corpus(target).join(&name);
        if write {
            std::fs::create_dir_all(corpus(target)).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else {
            let have = std::fs::read(&path).unwrap_or_default();
            assert!(
                have == bytes,
                "{} is stale or missing: run VUP_WRITE_CORPUS=1 cargo test -p system-tests --test fuzz_corpus",
                path.display()
            );
        }
    }
}

#[test]
fn every_process_chain_corpus_file_runs_clean() {
    let files = files("process_chain");
    assert!(files.len() >= seeds().len(), "corpus missing");
    for (name, data) in files {
        let r = std::panic::catch_unwind(|| fuzzing::process_chain(&data));
        assert!(r.is_ok(), "corpus file {name} found a bug");
    }
}

#[test]
fn every_blobs_corpus_file_runs_clean() {
    for (name, data) in files("blobs") {
        let r = std::panic::catch_unwind(|| fuzzing::parse_blobs(&data));
        assert!(r.is_ok(), "corpus file {name} found a bug");
    }
}

fn result(c: &Completion) -> Result<[u64; 2], Errno> {
    let r = c.resp.expect("a response");
    r.result().map(|_| [r.ret(0), r.ret(1)])
}

/// Raw mode: the fresh modes without `ICANON`, `ECHO` and `ISIG`.
fn raw_modes() -> Vec<u8> {
    let mut t = Termios::STANDARD;
    t.c_lflag.set(t.c_lflag.get() & !(ICANON | ECHO | ISIG));
    t.as_bytes().to_vec()
}

fn trace(name: &str) -> Vec<Completion> {
    let (_, s) = seeds().into_iter().find(|(n, _)| *n == name).unwrap();
    fuzzing::trace(&s.into_bytes())
}

/// The seeds do what their names say: the script format reaches the device.
#[test]
fn seeds_exercise_what_they_name() {
    let t = trace("op-write-read");
    assert_eq!(t[2].data, b"hello");

    let t = trace("op-poll");
    let polls: Vec<_> = t
        .iter()
        .filter(|c| c.data.len() % 8 == 0 && !c.data.is_empty())
        .collect();
    assert_eq!(polls.len(), 3, "{t:?}");
    // NONBLOCK: fd 3 POLLIN not ready, fd 4 POLLOUT ready, fd -1 skipped.
    assert_eq!(result(polls[0]), Ok([1, 0]));
    let e = virtio_pipe_protocol::PollFd::parse_all(&polls[0].data).unwrap();
    assert_eq!(
        e.iter().map(|e| e.revents.get()).collect::<Vec<_>>(),
        [0, 4, 0]
    );
    assert_eq!(result(polls[1]), Ok([1, 0]), "woken by the WRITE");
    assert_eq!(result(polls[2]), Ok([1, 0]), "data and POLLHUP");
    let e = virtio_pipe_protocol::PollFd::parse_all(&polls[2].data).unwrap();
    assert_eq!(e[0].revents.get(), 0x10, "POLLHUP unasked");

    let t = trace("op-read-blocks-until-write");
    assert!(t.iter().any(|c| c.data == b"split write"), "{t:?}");

    let t = trace("op-interrupt-blocked-read");
    let r: Vec<_> = t.iter().map(result).collect();
    assert!(r.contains(&Err(Errno::Eintr)), "the blocked READ: {r:?}");
    assert!(
        r.contains(&Ok([1, 0])),
        "INTERRUPT ended one request: {r:?}"
    );
    assert!(t.iter().any(|c| c.data == b"after"), "the next READ: {t:?}");

    let t = trace("op-spawn-write-exit-wait");
    assert_eq!(result(&t[1]), Ok([2, 0]), "spawn");
    assert!(t.iter().any(|c| c.data == b"from the child"));
    assert_eq!(result(t.last().unwrap()), Ok([2, 7 << 8]));

    let t = trace("op-kill-blocked-waiter");
    let waits: Vec<_> = t.iter().filter(|c| c.pid == 1).map(result).collect();
    assert!(waits.contains(&Ok([2, 9])), "{waits:?}");

    let t = trace("spawn-until-eagain");
    let r: Vec<_> = t.iter().map(result).collect();
    // The fuzzed tree holds 4 processes: the root and 3 children.
    assert_eq!(r[2], Ok([4, 0]));
    assert_eq!(r[3..], [Err(Errno::Eagain); 3]);

    let t = trace("spawn-bad-names-and-actions");
    let r: Vec<_> = t.iter().map(|c| result(c).err()).collect();
    assert_eq!(
        r,
        vec![
            Some(Errno::Einval),
            Some(Errno::Einval),
            Some(Errno::Enoent),
            Some(Errno::Einval),
            Some(Errno::Ebadf),
            Some(Errno::Ebadf),
            Some(Errno::Einval),
        ]
    );

    let t = trace("full-pipe-nonblocking-write");
    assert_eq!(result(&t[2]), Err(Errno::Eagain));

    let t = trace("malformed-loop");
    assert_eq!(t[0].used, 0, "a looping chain gets no response");

    let t = trace("indirect-chain");
    assert_eq!(
        result(&t[0]),
        Ok([1, 0]),
        "GETPID through an indirect table"
    );
    let t = trace("indirect-chain-not-negotiated");
    assert_eq!(
        (t.len(), t[0].used, t[0].resp),
        (1, 0, None),
        "an indirect table without the feature is refused, as by the daemon"
    );

    let t = trace("file-ops");
    let hosts = b"127.0.0.1 localhost\n";
    assert_eq!(result(&t[0]), Ok([3, 0]), "OPENAT");
    assert_eq!(t[1].data, hosts);
    assert_eq!(result(&t[2]), Ok([4, 0]), "LSEEK");
    assert_eq!(t[3].data, &hosts[..9], "PREAD");
    assert_eq!(result(&t[5]), Err(Errno::Enoent), "a link out of the root");
    assert_eq!(result(&t[6]), Ok([4, 0]), "OPENAT of a directory");
    assert!(result(&t[7]).unwrap()[0] > 0, "GETDENTS");
    assert_eq!(t[9].data, b"/etc\0", "GETCWD");
    assert_eq!(t[10].data, b"prog", "READLINKAT");
    assert_eq!(result(&t[11]), Ok([0, 0]), "ACCESSAT");

    let t = trace("write-ops");
    assert_eq!(result(&t[0]), Ok([3, 0]), "OPENAT with O_CREAT");
    assert_eq!(result(&t[1]), Ok([7, 0]), "WRITE");
    assert_eq!(result(&t[2]), Ok([1, 0]), "PWRITE");
    assert_eq!(result(&t[3]), Ok([0, 0]), "FTRUNCATE");
    assert_eq!(
        result(&t[4]),
        Err(Errno::Enoent),
        "MKDIRAT through a link out"
    );
    for (i, what) in [
        (5, "MKDIRAT"),
        (6, "RENAMEAT"),
        (7, "SYMLINKAT"),
        (8, "LINKAT"),
        (9, "UNLINKAT"),
    ] {
        assert_eq!(result(&t[i]), Ok([0, 0]), "{what}");
    }
    assert_eq!(t[11].data, vec![0u8; 16], "READ of /dev/zero");

    let t = trace("vfork-exec-exit");
    assert_eq!(result(&t[0]), Ok([2, 0]), "VFORK");
    assert_eq!(result(&t[1]), Ok([2, 1]), "the child acts");
    assert_eq!(result(&t[2]), Ok([0, 0]), "EXEC");
    assert_eq!(result(&t[3]), Ok([1, 0]), "the parent again");
    assert_eq!(result(&t[5]), Ok([0, 0]), "the child's EXIT");
    assert_eq!(result(&t[6]), Ok([3, 5 << 8]), "WAIT");
    assert_eq!(t[7].data, b"/bin/prog", "GET_EXE of the exec'd child");

    let t = trace("parts-across-regions");
    assert_eq!(t[2].data, vec![3; 600]);

    let t = trace("tty-terminal");
    assert_eq!(t[0].data, Termios::STANDARD.as_bytes(), "TCGETS");
    assert_eq!(result(&t[1]), Ok([0, 0]), "TCSETSW");
    assert_eq!(t[2].data, raw_modes(), "the same terminal on fd 2");
    assert_eq!(result(&t[3]), Err(Errno::Enotty), "stdout is no terminal");
    assert_eq!(result(&t[4]), Err(Errno::Esrch), "no group 42");
    assert_eq!(result(&t[5]), Err(Errno::Enotty), "not a TTY ioctl");
    assert_eq!(result(&t[6]), Ok([0, 0]), "Ctrl-D: one READ of 0 bytes");

    let t = trace("child-blocked-then-vanishes");
    assert!(t.iter().any(|c| c.pid == 1 && result(c) == Ok([2, 9])));
    assert_eq!(result(t.last().unwrap()), Err(Errno::Epipe));
}
