//! A daemon for conformance tests: a [`Supervisor`] whose launcher hands
//! each new process's socket to the test instead of starting QEMU.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vhost_user_pipe::files::Root;
use vhost_user_pipe::image::ImageDir;
use vhost_user_pipe::supervisor::Supervisor;
use vhost_user_pipe::test_utils::{ChannelLauncher, Launched};
use vhost_user_pipe::Limits;

use crate::frontend::{TestGuest, DEADLINE};

/// The process kernel image's file name, next to the image directory.
const KERNEL: &str = "guest-kernel";

/// Image names that exist in every test tree's image directory.
pub const IMAGES: [&str; 2] = ["child", "worker"];

/// A test daemon with its directories.
#[derive(Debug)]
pub struct Tree {
    /// The supervisor.
    pub sup: Arc<Supervisor>,
    launches: Receiver<Launched>,
    dir: PathBuf,
}

fn unique_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("vup-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("images")).unwrap();
    std::fs::create_dir_all(d.join("run")).unwrap();
    std::fs::create_dir_all(d.join("root")).unwrap();
    d
}

impl Tree {
    /// A tree with the default limits.
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A tree with `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        Self::make(limits, false)
    }

    /// A tree whose processes may write its root (`run --writable`).
    pub fn writable() -> Self {
        Self::make(Limits::default(), true)
    }

    /// A tree with a pool of `n` parked VMs (`run --pool N`). Its process
    /// kernel is image "child", so a SPAWN of "child" takes a parked VM and
    /// such a child's FORK can land in another; every VM the pool boots is
    /// a launch the test accepts (its `spec.pid` is a VM id).
    pub fn with_pool(n: usize) -> Self {
        let tree = Self::build(Limits::default(), false, n);
        tree.sup.start_pool().unwrap();
        tree
    }

    fn make(limits: Limits, writable: bool) -> Self {
        Self::build(limits, writable, 0)
    }

    fn build(limits: Limits, writable: bool, pool: usize) -> Self {
        let dir = unique_dir();
        for name in IMAGES {
            std::fs::write(dir.join("images").join(name), b"not really an ELF").unwrap();
        }
        let (launcher, launches) = ChannelLauncher::new();
        std::fs::write(dir.join(KERNEL), b"not really a kernel").unwrap();
        let images = ImageDir::new(&dir.join("images")).unwrap();
        let root = Root::open(&dir.join("root")).unwrap().writable(writable);
        let kernel = if pool > 0 {
            images.resolve("child").unwrap()
        } else {
            dir.join(KERNEL)
        };
        let sup = Supervisor::builder(limits, Arc::new(launcher), dir.join("run"))
            .images(Some(images))
            .root(Some(root))
            .kernel_image(Some(kernel))
            .pool(pool)
            .build();
        Self { sup, launches, dir }
    }

    /// Creates the root (pid 1) and connects a guest to it.
    pub fn root(&self) -> TestGuest {
        self.root_with(vec![b"root".to_vec()], vec![])
    }

    /// Creates the root with `argv` and `env` and connects a guest to it.
    pub fn root_with(&self, argv: Vec<Vec<u8>>, env: Vec<Vec<u8>>) -> TestGuest {
        self.root_connect(argv, env, TestGuest::connect)
    }

    /// Creates the root and connects to its socket with `connect` (for a
    /// guest that negotiates other features or sets its queues up itself).
    pub fn root_connect(
        &self,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
        connect: impl FnOnce(&Path) -> TestGuest,
    ) -> TestGuest {
        let socket = self.dir.join("root.sock");
        self.sup.serve_root(&socket, argv, env).unwrap();
        connect(&socket)
    }

    /// Waits for the next launch and connects a guest to its socket.
    pub fn accept_child(&self) -> (Launched, TestGuest) {
        let l = self.next_launch();
        let g = TestGuest::connect(&l.spec.socket);
        (l, g)
    }

    /// Waits for the next launch and connects a guest that negotiates
    /// `features` (masked by what the device offers).
    pub fn accept_child_with(&self, features: u64) -> (Launched, TestGuest) {
        let l = self.next_launch();
        let g = TestGuest::connect_with(&l.spec.socket, features);
        (l, g)
    }

    /// Waits for the next launch without connecting to it.
    pub fn next_launch(&self) -> Launched {
        self.launches.recv_timeout(DEADLINE).expect("a VM launch")
    }

    /// Whether a launch is waiting.
    pub fn try_launch(&self) -> Option<Launched> {
        self.launches.try_recv().ok()
    }

    /// Waits until `cond` holds on the kernel stats, or panics at the deadline.
    pub fn wait_for(&self, what: &str, cond: impl Fn(&vhost_user_pipe::kernel::Stats) -> bool) {
        let until = Instant::now() + DEADLINE;
        while !cond(&self.sup.stats()) {
            assert!(
                Instant::now() < until,
                "timed out waiting for {what}: {:?}",
                self.sup.stats()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The image directory.
    pub fn images(&self) -> PathBuf {
        self.dir.join("images")
    }

    /// The tree's root directory (empty at first).
    pub fn root_dir(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// The process kernel image a VM launched for a Linux program boots.
    pub fn kernel_image(&self) -> PathBuf {
        self.dir.join(KERNEL)
    }
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        self.sup.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
