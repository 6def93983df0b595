//! A panic in the middle of a kernel operation is fatal (`vhost-user-pipe/
//! src/sync.rs`): the kernel's state can no longer be trusted, so the daemon
//! stops with exit code 70 and says why, instead of serving on from a
//! half-updated kernel.
//!
//! The daemon side runs in a child process (this test binary again, asked
//! for the hidden helper below), because stopping is the point.

use std::process::Command;
use std::time::Duration;

use system_tests::qemu::run_with_deadline;
use system_tests::tree::Tree;
use vhost_user_pipe::io::{Fill, Io};
use vhost_user_pipe::sync::EXIT_POISONED;
use virtio_pipe_protocol::{Request, RespHeader};
use vm_memory::VolatileSlice;

const LIMIT: Duration = Duration::from_secs(60);
const CHILD: &str = "VUP_POISON_CHILD";

/// A request whose completion panics: it is completed inside the kernel,
/// under the kernel lock.
struct PanicsOnCompletion;

impl Io for PanicsOnCompletion {
    fn readable_len(&self) -> usize {
        0
    }
    fn writable_len(&self) -> usize {
        0
    }
    fn read_into(&self, _off: usize, _dst: &VolatileSlice<'_>) -> usize {
        0
    }
    fn fill_writable(&mut self, _off: usize, _n: usize, _fill: &mut Fill<'_>) -> usize {
        0
    }
    fn complete(self: Box<Self>, _resp: RespHeader, _written: usize) {
        panic!("a bug in the middle of a kernel operation");
    }
}

/// The daemon side: a tree whose kernel lock a panic poisons, then a guest
/// request that needs the kernel.
#[test]
#[ignore = "run by a_panic_inside_a_kernel_operation_ends_the_daemon, in a child process"]
fn poisoned_kernel_helper() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let tree = Tree::new();
    let mut root = tree.root();
    let sup = tree.sup.clone();
    let panicked = std::thread::spawn(move || {
        sup.kernel()
            .submit(1, Request::GetPid, Box::new(PanicsOnCompletion));
    })
    .join();
    assert!(panicked.is_err(), "the operation panicked");
    // The guest's next request finds the kernel poisoned: the daemon ends.
    root.getpid();
    unreachable!("the daemon served a request from a poisoned kernel");
}

#[test]
fn a_panic_inside_a_kernel_operation_ends_the_daemon() {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--exact",
        "poisoned_kernel_helper",
        "--ignored",
        "--nocapture",
    ])
    .env(CHILD, "1");
    let out = run_with_deadline(c, LIMIT).expect("the child ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(EXIT_POISONED), "{err}");
    assert!(
        err.contains("fatal: internal state lost to a panic"),
        "{err}"
    );
}
