//! Device conformance tests: a model frontend drives the daemon over real
//! vhost-user sockets with memfd guest memory; no QEMU. Each test cites the
//! normative statement of `spec/virtio-pipe.md` it checks (`spec: label`);
//! `spec/conformance-report.md` maps them back.

use std::time::Duration;

use system_tests::tree::Tree;
use virtio_pipe_protocol::{ConfigSpace, Errno, Op, MAGIC, VERSION};

/// How long a request must stay pending to count as blocked.
const BLOCKED: Duration = Duration::from_millis(200);

// spec: dev-cfg-layout
#[test]
fn config_space_holds_magic_and_version_and_zero_padding() {
    let tree = Tree::new();
    let mut root = tree.root();
    let c = root.config_space();
    assert_eq!(
        (c.magic.get(), c.version.get(), c.reserved.get()),
        (MAGIC, VERSION, 0)
    );
    assert_eq!(
        &root.config(12)[8..],
        &[0, 0, 0, 0],
        "bytes past 8 read as zero (snd carrier)"
    );
    assert_eq!(
        root.config(ConfigSpace::SIZE as u32),
        root.config(ConfigSpace::SIZE as u32)
    );
}

// spec: dev-proc-identity, dev-getpid-ids
#[test]
fn root_is_pid_1_with_parent_0() {
    let tree = Tree::new();
    let mut root = tree.root();
    assert_eq!(root.getpid(), (1, 0));
}

// spec: dev-read-block, dev-write-direct, dev-req-out-of-order
#[test]
fn blocked_read_in_one_guest_is_woken_by_a_write_in_another() {
    let tree = Tree::new();
    let mut root = tree.root();
    let (r, w) = root.pipe(0).unwrap();
    let child = root.spawn("child", &[b"child"], &[], &[]).unwrap();
    let (_l, mut c) = tree.accept_child();
    assert_eq!(c.getpid(), (child, 1));
    let t = root.submit_read(r, 100, 0);
    root.assert_pending(t, BLOCKED);
    assert_eq!(
        root.getpid().0,
        1,
        "a later request completes while the read blocks"
    );
    assert_eq!(c.write(w, b"hello").unwrap(), 5);
    let d = root.wait(t);
    assert_eq!(d.data, b"hello");
}

// spec: dev-req-invalid
#[test]
fn unknown_op_is_enosys() {
    let tree = Tree::new();
    let mut root = tree.root();
    let mut hdr = virtio_pipe_protocol::ReqHeader::new(Op::GetPid, 0, [0; 3]);
    hdr.op.set(77);
    let t = root.submit(hdr, &[], 0);
    assert_eq!(root.wait(t).result(), Err(Errno::Enosys));
}
