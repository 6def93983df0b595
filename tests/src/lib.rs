//! Test support for the system tests.
//!
//! - [`frontend::TestGuest`]: a model vhost-user frontend and virtio driver
//!   in one. It shares memfd-backed "guest" memory with the daemon, lays out
//!   split virtqueues in it, and submits virtio-pipe requests exactly as a
//!   guest driver would, so the daemon can be driven without QEMU.
//! - [`tree::Tree`]: a daemon (a [`vhost_user_pipe::supervisor::Supervisor`])
//!   whose launcher hands each new process's socket to the test, which
//!   connects another `TestGuest` to it.
//! - [`qemu`]: helpers for the tests that boot real QEMU.
//! - [`linux_tree::LinuxRoot`]: static Linux programs run as a tree and
//!   natively, to compare the two.
//! - [`fuzz`]: the fuzz harness of the request path (the cargo-fuzz
//!   targets in `fuzz/` and the corpus replay test call it).
//!
//! ```no_run
//! use system_tests::tree::Tree;
//! use virtio_pipe_protocol::Request;
//!
//! let tree = Tree::new();
//! let mut root = tree.root();
//! let (r, w) = root.pipe(0).unwrap();
//! assert_eq!(root.write(w, b"hi").unwrap(), 2);
//! ```

pub mod frontend;
pub mod fuzz;
pub mod linux_tree;
pub mod programs;
pub mod qemu;
pub mod tree;
