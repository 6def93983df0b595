//! The process manager: it owns the kernel of one process tree and turns
//! its decisions into VMs. For every process it opens the vhost-user
//! endpoint *before* launching the VM (`connection.rs`), reaps VMs, and
//! carries out the kernel's [`Effect`]s outside the kernel lock.
//!
//! What the host holds for a process (its socket, connection state, VM,
//! image, a fork child's RAM) is one [`HostProc`] record in one map behind
//! one lock; a record goes, in one place ([`Supervisor::settle`]), once the
//! process's VM has ended and its connection has closed.
//!
//! It is the [`Host`] of every backend (it runs SPAWN and FORK, which
//! launch VMs, and hands the rest to the kernel) and hears about their
//! connections through [`Events`]; the backends never know who created
//! them.

use std::collections::HashMap;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread;
use std::time::{Duration, Instant};

use log::{debug, error, info, warn};
use thiserror::Error;
use virtio_pipe_protocol::{Errno, Request, RespHeader, SpawnBlob, FEATURE_SPAWN, SPAWN_MAX};

use crate::binding::Binding;
use crate::connection::{ConnectionError, Connector, Endpoint, Events, VhostUserConnector};
use crate::files::{OpenFile, Root};
use crate::image::ImageDir;
use crate::io::Io;
use crate::kernel::{Effect, HostTerminal, Kernel, Stats};
use crate::launcher::{LaunchError, LaunchSpec, Launcher, Vm};
use crate::limits::Limits;
use crate::pool::{self, PoolState};
use crate::process::{Pid, HOST_PID, ROOT_PID};
use crate::ram_copy::RamCopy;
use crate::requests::{Caller, Host};
pub use crate::summary::Summary;
use crate::sync::{lock, wait, wait_timeout};

mod fork;
mod parked;

use parked::Parked;

/// How long a VM that exited may take to power itself off.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// How long a launched VM has to reach `START` by default: QEMU starts and
/// boots a guest in tens of milliseconds, hundreds of them at once in
/// seconds; a VM that takes this long is hung (a broken firmware or image,
/// too little memory).
pub const START_DEADLINE: Duration = Duration::from_secs(30);

/// The root's pid, for callers that wait on the tree.
pub const ROOT: Pid = ROOT_PID;

/// A process whose VM could not be set up.
#[derive(Debug, Error)]
pub enum SupervisorError {
    /// Its vhost-user endpoint could not be opened.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// A thread could not be started.
    #[error("cannot start a thread: {0}")]
    Thread(#[source] std::io::Error),
    /// The VM could not be launched.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// The kernel refused to create the process.
    #[error("cannot create the process: {0}")]
    Refused(Errno),
    /// A program is to run but no process kernel image is configured.
    #[error("no process kernel image to boot programs with")]
    NoKernel,
}

/// What the host holds for one process, or for a VM of the pool (under its
/// VM id until it is taken).
#[derive(Debug, Default)]
struct HostProc {
    /// Whom its connection serves (re-bound when a parked VM is taken).
    binding: Option<Arc<Binding>>,
    /// Its serial and QEMU logs, when the daemon launched its VM.
    logs: Option<(PathBuf, PathBuf)>,
    /// A parked VM's held `START`.
    parked: Option<Parked>,
    /// Its socket file, removed when the connection closes (`None` for a
    /// `serve` root, whose socket is the daemon's).
    socket: Option<PathBuf>,
    /// Its connection is being served: open, or waiting for the frontend.
    serving: bool,
    /// Its frontend has connected.
    connected: bool,
    /// Its program has asked how to start (`START`): its VM booted.
    started: bool,
    /// Its VM, until it has ended.
    vm: Option<Arc<dyn Vm>>,
    /// The image its VM boots, when the daemon launched it (FORK needs it).
    image: Option<PathBuf>,
    /// A fork child's RAM, kept until its connection closes (QEMU opens it
    /// by path).
    ram: Option<RamCopy>,
}

/// Builds a [`Supervisor`].
#[derive(Debug)]
pub struct Builder {
    limits: Limits,
    launcher: Arc<dyn Launcher>,
    connector: Arc<dyn Connector>,
    images: Option<ImageDir>,
    run_dir: PathBuf,
    start_deadline: Duration,
    root: Option<Root>,
    kernel_image: Option<PathBuf>,
    host_ttys: [bool; 3],
    host_terminal: Option<Arc<dyn HostTerminal>>,
    host_stdin: Option<(OpenFile, u64)>,
    pool: usize,
}

impl Builder {
    /// How many parked VMs to keep ready (`pool.rs`; 0: none).
    pub fn pool(mut self, n: usize) -> Self {
        self.pool = n;
        self
    }

    /// The host terminal the tree's terminal acts on (`TTY`, spec 1.6.28).
    pub fn host_terminal(mut self, t: Option<Arc<dyn HostTerminal>>) -> Self {
        self.host_terminal = t;
        self
    }

    /// The daemon's standard input as a file, when the host redirected one
    /// (`OpenFile::host_stdin`): the root's fd 0 is then that file.
    pub fn host_stdin(mut self, file: Option<(OpenFile, u64)>) -> Self {
        self.host_stdin = file;
        self
    }

    /// The tree's root directory (spec: *Files*).
    pub fn root(mut self, root: Option<Root>) -> Self {
        self.root = root;
        self
    }

    /// Which of the daemon's fds 0, 1 and 2 are terminals (the root's
    /// standard streams then say so).
    pub fn host_terminals(mut self, ttys: [bool; 3]) -> Self {
        self.host_ttys = ttys;
        self
    }

    /// The process kernel every Linux program's VM boots (`guest-kernel`).
    pub fn kernel_image(mut self, image: Option<PathBuf>) -> Self {
        self.kernel_image = image;
        self
    }

    /// Where SPAWN finds images.
    pub fn images(mut self, images: Option<ImageDir>) -> Self {
        self.images = images;
        self
    }

    /// How long a launched VM has to reach `START`.
    pub fn start_deadline(mut self, d: Duration) -> Self {
        self.start_deadline = d;
        self
    }

    /// How endpoints are opened (the default serves vhost-user).
    pub fn connector(mut self, c: Arc<dyn Connector>) -> Self {
        self.connector = c;
        self
    }

    /// The supervisor.
    pub fn build(self) -> Arc<Supervisor> {
        Arc::new_cyclic(|me| Supervisor {
            me: me.clone(),
            kernel: Mutex::new({
                let mut k = Kernel::with_root(self.limits, self.root);
                k.set_host_terminals(self.host_ttys);
                k.set_host_terminal(self.host_terminal);
                k.set_host_stdin(self.host_stdin);
                k
            }),
            kernel_image: self.kernel_image,
            launcher: self.launcher,
            connector: self.connector,
            images: self.images,
            run_dir: self.run_dir,
            start_deadline: self.start_deadline,
            hosts: Mutex::new(HashMap::new()),
            changed: Condvar::new(),
            tree: Mutex::new(None),
            tree_cv: Condvar::new(),
            failures: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            vms: AtomicUsize::new(0),
            fork_copies: AtomicUsize::new(0),
            pausing: Mutex::new(()),
            pool_size: self.pool,
            pool: Mutex::new(PoolState::default()),
            pool_closed: AtomicBool::new(false),
        })
    }
}

/// The supervisor of one process tree.
#[derive(Debug)]
pub struct Supervisor {
    me: Weak<Supervisor>,
    kernel: Mutex<Kernel>,
    launcher: Arc<dyn Launcher>,
    connector: Arc<dyn Connector>,
    images: Option<ImageDir>,
    run_dir: PathBuf,
    start_deadline: Duration,
    /// The process kernel Linux programs boot on.
    kernel_image: Option<PathBuf>,
    /// The host side of every process that has one.
    hosts: Mutex<HashMap<Pid, HostProc>>,
    /// Signalled, with `hosts`, whenever a record changes.
    changed: Condvar,
    tree: Mutex<Option<u32>>,
    tree_cv: Condvar,
    failures: Mutex<Vec<(Pid, String)>>,
    /// The start and reap threads of every VM launched.
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    /// VMs launched, and how many of them on a copy of a parent's RAM.
    vms: AtomicUsize,
    fork_copies: AtomicUsize,
    /// Held while a VM is suspended or resumed (see `apply`).
    pausing: Mutex<()>,
    /// Parked VMs to keep ready, the refill thread's state, and whether
    /// the pool takes no more VMs (the tree is ending).
    pool_size: usize,
    pool: Mutex<PoolState>,
    pool_closed: AtomicBool,
}

/// Where a VM's socket and logs go.
struct VmFiles {
    socket: PathBuf,
    serial: PathBuf,
    qemu_log: PathBuf,
}

/// `pid 5`, or `pool VM 2` for a VM id.
fn name_of(id: Pid) -> String {
    if pool::is_vm_id(id) {
        format!("pool VM {}", id - pool::FIRST_VM_ID)
    } else {
        format!("pid {id}")
    }
}

/// The last lines of the log at `path`, as a suffix for a message.
fn log_tail(path: &Path) -> String {
    const LINES: usize = 5;
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = lines[lines.len().saturating_sub(LINES)..].join("\n  ");
    format!("; QEMU said:\n  {tail}")
}

impl Supervisor {
    /// A supervisor whose per-process files go in `run_dir`.
    pub fn new(
        limits: Limits,
        launcher: Arc<dyn Launcher>,
        images: Option<ImageDir>,
        run_dir: PathBuf,
    ) -> Arc<Self> {
        Self::builder(limits, launcher, run_dir)
            .images(images)
            .build()
    }

    /// A builder with the defaults: no image directory, the [`START_DEADLINE`],
    /// vhost-user connections.
    pub fn builder(limits: Limits, launcher: Arc<dyn Launcher>, run_dir: PathBuf) -> Builder {
        Builder {
            limits,
            launcher,
            connector: Arc::new(VhostUserConnector),
            images: None,
            run_dir,
            start_deadline: START_DEADLINE,
            root: None,
            kernel_image: None,
            host_ttys: [false; 3],
            host_terminal: None,
            host_stdin: None,
            pool: 0,
        }
    }

    fn arc(&self) -> Arc<Self> {
        self.me
            .upgrade()
            .expect("a supervisor is used through its Arc")
    }

    /// The kernel, locked.
    pub fn kernel(&self) -> MutexGuard<'_, Kernel> {
        lock(&self.kernel)
    }

    fn hosts(&self) -> MutexGuard<'_, HashMap<Pid, HostProc>> {
        lock(&self.hosts)
    }

    /// Object counts.
    pub fn stats(&self) -> Stats {
        self.kernel().stats()
    }

    /// What the tree did: its processes, their VMs and how they ended.
    pub fn summary(&self) -> Summary {
        Summary {
            tally: self.kernel().tally(),
            vms: self.vms.load(Ordering::Relaxed),
            fork_copies: self.fork_copies.load(Ordering::Relaxed),
            pooled: lock(&self.pool).taken,
        }
    }

    /// The run directory.
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The socket of process `pid`.
    pub fn socket_path(&self, pid: Pid) -> PathBuf {
        self.run_dir.join(format!("pid-{pid}.sock"))
    }

    /// The serial log of process `pid`.
    pub fn serial_path(&self, pid: Pid) -> PathBuf {
        self.run_dir.join(format!("pid-{pid}.serial.log"))
    }

    /// The QEMU log (its stderr) of process `pid`.
    pub fn qemu_log_path(&self, pid: Pid) -> PathBuf {
        self.run_dir.join(format!("pid-{pid}.qemu.log"))
    }

    /// Records that the VM of `pid` failed (logged, unless it is the
    /// root's, which the caller of `run` reports).
    fn fail(&self, pid: Pid, why: String) {
        if pid != ROOT {
            error!("{why}");
        }
        lock(&self.failures).push((pid, why));
    }

    /// The VM failures so far: (pid, what happened).
    pub fn failures(&self) -> Vec<(Pid, String)> {
        lock(&self.failures).clone()
    }

    // ---- creating processes ----

    /// Starts the root process from `image`, its stdio the host's.
    pub fn start_root(
        &self,
        image: &Path,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
    ) -> Result<Pid, SupervisorError> {
        let name = image
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.launch_root(image, &name, None, argv, env)
    }

    /// Starts the root process running the Linux program `exe`, a path in
    /// the tree's root, on the process kernel; its stdio the host's.
    pub fn start_program(
        &self,
        exe: &[u8],
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
    ) -> Result<Pid, SupervisorError> {
        let image = self.kernel_image.clone().ok_or(SupervisorError::NoKernel)?;
        let name =
            String::from_utf8_lossy(exe.rsplit(|&b| b == b'/').next().unwrap_or(exe)).into_owned();
        self.launch_root(&image, &name, Some(exe.to_vec()), argv, env)
    }

    fn launch_root(
        &self,
        image: &Path,
        name: &str,
        exe: Option<Vec<u8>>,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
    ) -> Result<Pid, SupervisorError> {
        let pid = {
            let mut k = self.kernel();
            let pid = k
                .create_root(name, argv, env, true)
                .map_err(SupervisorError::Refused)?;
            k.set_exe(pid, exe);
            pid
        };
        if let Err(e) = self.start_process(pid, image, None) {
            self.kernel().discard(pid);
            return Err(e);
        }
        Ok(pid)
    }

    /// Creates the root process and serves it on a new socket at `socket`
    /// (removed when the connection ends); its VM is launched by someone else.
    pub fn serve_root(
        &self,
        socket: &Path,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
    ) -> Result<Pid, SupervisorError> {
        self.adopt_root(Endpoint::Path(socket.to_owned()), Some(socket), argv, env)
    }

    /// Creates the root process and serves the first connection `listener`
    /// accepts; its VM is launched by someone else.
    pub fn serve_root_on(
        &self,
        listener: UnixListener,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
    ) -> Result<Pid, SupervisorError> {
        self.adopt_root(Endpoint::Listening(listener), None, argv, env)
    }

    fn adopt_root(
        &self,
        endpoint: Endpoint,
        socket: Option<&Path>,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
    ) -> Result<Pid, SupervisorError> {
        let pid = self
            .kernel()
            .create_root("<external>", argv, env, true)
            .map_err(SupervisorError::Refused)?;
        let record = HostProc {
            socket: socket.map(Path::to_owned),
            ..HostProc::default()
        };
        if let Err(e) = self.open(pid, endpoint, record) {
            self.kernel().discard(pid);
            return Err(e);
        }
        Ok(pid)
    }

    /// Records `pid` (a process, or a VM id of the pool) and opens its
    /// endpoint.
    fn open(
        &self,
        pid: Pid,
        endpoint: Endpoint,
        record: HostProc,
    ) -> Result<Arc<Binding>, SupervisorError> {
        let binding = Binding::new(pid);
        self.hosts().insert(
            pid,
            HostProc {
                serving: true,
                binding: Some(binding.clone()),
                ..record
            },
        );
        let me = self.arc();
        if let Err(e) = self
            .connector
            .open(binding.clone(), endpoint, me.clone(), me)
        {
            self.hosts().remove(&pid);
            return Err(e.into());
        }
        Ok(binding)
    }

    /// Gives process `pid` a VM booting `image`: a parked one of the pool
    /// when it has one for that image, else a new one (on a copy of another
    /// guest's RAM for a fork child).
    fn start_process(
        &self,
        pid: Pid,
        image: &Path,
        ram: Option<RamCopy>,
    ) -> Result<(), SupervisorError> {
        if ram.is_none() && self.kernel_image.as_deref() == Some(image) {
            if let Some((binding, parked)) = self.take_parked(pid) {
                self.give_parked(pid, &binding, parked.start);
                return Ok(());
            }
        }
        let files = VmFiles {
            socket: self.socket_path(pid),
            serial: self.serial_path(pid),
            qemu_log: self.qemu_log_path(pid),
        };
        self.boot_vm(pid, image, ram, files)?;
        self.vms.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Opens the endpoint of `id` (a pid, or a VM id of the pool) and
    /// launches its VM from `image`.
    fn boot_vm(
        &self,
        id: Pid,
        image: &Path,
        ram: Option<RamCopy>,
        files: VmFiles,
    ) -> Result<Arc<Binding>, SupervisorError> {
        let memory = ram.as_ref().map(RamCopy::path);
        let record = HostProc {
            socket: Some(files.socket.clone()),
            image: Some(image.to_owned()),
            logs: Some((files.serial.clone(), files.qemu_log.clone())),
            ram,
            ..HostProc::default()
        };
        let binding = self.open(id, Endpoint::Path(files.socket.clone()), record)?;
        let spec = LaunchSpec {
            pid: id,
            image: image.to_owned(),
            socket: files.socket,
            serial: files.serial,
            qemu_log: files.qemu_log,
            memory,
            workdir: self.run_dir.clone(),
        };
        let vm = match self.launcher.launch(&spec) {
            Ok(vm) => vm,
            Err(e) => {
                // Unblocks the connection waiting for a frontend: it ends.
                self.wake_accept(id);
                return Err(e.into());
            }
        };
        if let Some(rec) = self.hosts().get_mut(&id) {
            rec.vm = Some(vm.clone());
        }
        if spec.memory.is_some() {
            self.fork_copies.fetch_add(1, Ordering::Relaxed);
        }
        // A pool VM launched while the tree was ending goes at once.
        if pool::is_vm_id(id) && self.pool_closed.load(Ordering::Acquire) {
            vm.kill();
        }
        let sup = self.arc();
        let watch = vm.clone();
        let who = binding.clone();
        let reaped = binding.clone();
        let start = thread::Builder::new()
            .name(format!("start-{id}"))
            .spawn(move || {
                // A process stopped before it started (a `kill -STOP` just
                // after its spawn) gets the deadline again. A parked VM has
                // started once its START is held.
                let started = loop {
                    if sup.wait_started(who.pid()) {
                        break true;
                    }
                    if !sup.kernel().is_stopped(who.pid()) {
                        break false;
                    }
                };
                if !started {
                    let pid = who.pid();
                    sup.fail(
                        pid,
                        format!(
                            "pid {pid}: its VM did not start the program within {:?}; killed{}",
                            sup.start_deadline,
                            log_tail(&sup.qemu_log_of(pid))
                        ),
                    );
                    watch.kill();
                }
            })
            .map_err(SupervisorError::Thread)?;
        let sup = self.arc();
        let reap = thread::Builder::new()
            .name(format!("reap-{id}"))
            .spawn(move || {
                vm.wait();
                sup.on_vm_exit(&reaped, vm.as_ref());
            })
            .map_err(SupervisorError::Thread)?;
        let mut threads = lock(&self.threads);
        threads.retain(|t| !t.is_finished());
        threads.extend([start, reap]);
        drop(threads);
        info!("{}: launched {}", name_of(id), image.display());
        Ok(binding)
    }

    /// The QEMU log of `pid`'s VM (a parked VM's keeps its pool name).
    fn qemu_log_of(&self, pid: Pid) -> PathBuf {
        self.hosts()
            .get(&pid)
            .and_then(|r| r.logs.as_ref().map(|l| l.1.clone()))
            .unwrap_or_else(|| self.qemu_log_path(pid))
    }

    /// Waits until `pid` has started, or its VM or record is gone, at most
    /// the start deadline; whether it did.
    fn wait_started(&self, pid: Pid) -> bool {
        let until = Instant::now() + self.start_deadline;
        let mut hosts = self.hosts();
        loop {
            let done = hosts
                .get(&pid)
                .map_or(true, |r| r.started || r.vm.is_none());
            if done {
                return true;
            }
            let Some(left) = until.checked_duration_since(Instant::now()) else {
                return false;
            };
            hosts = wait_timeout(&self.changed, hosts, left).0;
        }
    }

    /// Gives a vfork child that EXEC'd a VM of its own, booting the process
    /// kernel, which loads its program (spec: `dev-vfork-borrow`). A launch
    /// that fails ends it as killed.
    fn launch_execd(&self, pid: Pid) {
        let r = match &self.kernel_image {
            Some(image) => self.start_process(pid, image, None),
            None => Err(SupervisorError::NoKernel),
        };
        if let Err(e) = r {
            warn!("pid {pid}: no VM for its exec: {e}");
            self.vanished(pid);
        }
    }

    // ---- requests ----

    /// Completes a SPAWN or FORK. A caller that ended while the request was
    /// being carried out gets no answer at all, like any request of an
    /// ended process (spec: `dev-exit-sequence`), rather than an `ESRCH`
    /// the spec does not list for these ops.
    fn answer_new_process(&self, pid: Pid, io: Box<dyn Io>, r: Result<Pid, Errno>) {
        match r {
            Ok(child) => io.complete(RespHeader::ok([child as u64, 0, 0]), 0),
            Err(_) if !self.kernel().process(pid).is_some_and(|p| p.is_running()) => drop(io),
            Err(e) => io.complete(RespHeader::err(e), 0),
        }
    }

    fn spawn(&self, parent: Pid, len: usize, io: &dyn Io) -> Result<Pid, Errno> {
        let negotiated = self
            .kernel()
            .process(parent)
            .is_some_and(|p| p.has_feature(FEATURE_SPAWN));
        if !negotiated {
            return Err(Errno::Enosys);
        }
        let buf = io.read_blob(len, SPAWN_MAX)?;
        let blob = SpawnBlob::parse(&buf).map_err(|e| e.errno())?;
        let images = self.images.as_ref().ok_or(Errno::Enoent)?;
        let path = images.resolve(blob.name)?;
        let argv = blob.argv.iter().map(<[u8]>::to_vec).collect();
        let env = blob.env.iter().map(<[u8]>::to_vec).collect();
        let pid = self
            .kernel()
            .spawn(parent, blob.name, argv, env, blob.actions())?;
        if let Err(e) = self.start_process(pid, &path, None) {
            warn!("pid {pid}: spawn of {} failed: {e}", path.display());
            self.kernel().discard(pid);
            return Err(Errno::Eagain);
        }
        Ok(pid)
    }

    /// Makes `pid`'s freshly bound VM what the kernel says it should be
    /// now: ended if the process ended before it had a VM, stopped if it
    /// was stopped (the effects went nowhere then).
    fn sync_vm(&self, pid: Pid) {
        let running = self.kernel().process(pid).is_some_and(|p| p.is_running());
        if running {
            self.apply(vec![Effect::ResumeVm(pid)]);
        } else {
            self.kill_vm(pid);
        }
    }

    /// Kills the VM recorded under `id`, if it still runs.
    fn kill_vm(&self, id: Pid) {
        if let Some(vm) = self.hosts().get(&id).and_then(|r| r.vm.clone()) {
            vm.kill();
        }
    }

    // ---- VMs and connections ending ----

    /// A VM that died before its frontend connected leaves its connection
    /// waiting in accept(); a throwaway connection lets it finish.
    fn wake_accept(&self, pid: Pid) {
        let socket = self
            .hosts()
            .get(&pid)
            .filter(|r| r.serving && !r.connected)
            .and_then(|r| r.socket.clone());
        if let Some(socket) = socket {
            let _ = UnixStream::connect(socket);
        }
    }

    fn on_vm_exit(&self, who: &Binding, vm: &dyn Vm) {
        let (pid, started) = {
            let mut hosts = self.hosts();
            // Read under the lock a take re-binds under: the record is
            // where the binding says.
            let pid = who.pid();
            let rec = hosts.get_mut(&pid);
            let started = rec.as_ref().is_some_and(|r| r.started);
            if let Some(r) = rec {
                r.vm = None;
                // A parked VM's held START goes with it.
                r.parked = None;
            }
            self.changed.notify_all();
            (pid, started)
        };
        debug!("{}: VM ended", name_of(pid));
        if pool::is_vm_id(pid) {
            // A pool VM that died (killed by hand, or at the tree's end):
            // the pool thread replaces it.
            if !started && self.tree_status().is_none() {
                warn!(
                    "{}: QEMU ended before it parked{}",
                    name_of(pid),
                    log_tail(&self.qemu_log_of(pid))
                );
            }
            self.wake_accept(pid);
            self.settle(pid);
            return;
        }
        // A VM still booting when the tree ended was ended by `shutdown`
        // (a signal to `run` that the root died of, say): no failure.
        if !started && self.tree_status().is_none() {
            let status = vm.exit_status().unwrap_or_default();
            self.fail(
                pid,
                format!(
                    "pid {pid}: QEMU ended ({status}) before the guest started{}",
                    log_tail(&self.qemu_log_of(pid))
                ),
            );
        }
        self.vanished(pid);
        self.wake_accept(pid);
        self.settle(pid);
    }

    /// Forgets the record of `pid` once its VM has ended and its
    /// connection closed: the one place records go.
    fn settle(&self, pid: Pid) {
        let mut hosts = self.hosts();
        if hosts
            .get(&pid)
            .is_some_and(|r| !r.serving && r.vm.is_none())
        {
            hosts.remove(&pid);
            self.changed.notify_all();
        }
    }

    fn vanished(&self, pid: Pid) {
        let effects = {
            let mut k = self.kernel();
            k.vanished(pid);
            k.take_effects()
        };
        self.apply(effects);
    }

    // ---- the tree ----

    /// Sends `signo` from the host to every process of the tree's
    /// foreground group (a signal from the host terminal); returns how
    /// many processes it went to.
    pub fn signal_foreground(&self, signo: u32) -> usize {
        let (n, effects) = {
            let mut k = self.kernel();
            let n = k.signal_foreground(signo);
            (n, k.take_effects())
        };
        self.apply(effects);
        n
    }

    /// Sends `signo` from the host to the root (a signal to `run` itself);
    /// false when the root has already ended.
    pub fn signal_root(&self, signo: u32) -> bool {
        let (r, effects) = {
            let mut k = self.kernel();
            let r = k.kill(HOST_PID, ROOT, signo);
            (r, k.take_effects())
        };
        self.apply(effects);
        r.is_ok()
    }

    /// The root's wait status once it has exited.
    pub fn tree_status(&self) -> Option<u32> {
        *lock(&self.tree)
    }

    /// Blocks until the root has exited, or `deadline` passes; returns its wait status.
    pub fn wait_tree(&self, deadline: Option<Instant>) -> Option<u32> {
        let mut tree = lock(&self.tree);
        loop {
            if let Some(status) = *tree {
                return Some(status);
            }
            match deadline {
                None => tree = wait(&self.tree_cv, tree),
                Some(d) => {
                    let left = d.checked_duration_since(Instant::now())?;
                    tree = wait_timeout(&self.tree_cv, tree, left).0;
                }
            }
        }
    }

    /// Waits until the connection of `pid` has closed, or `deadline` passes.
    /// After its EXIT the root's completion still has to reach its used ring
    /// and the guest has to power off; ending the daemon before that would
    /// leave the VM waiting on a dead socket.
    pub fn wait_disconnected(&self, pid: Pid, deadline: Instant) -> bool {
        let mut hosts = self.hosts();
        while hosts.get(&pid).is_some_and(|r| r.serving) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            hosts = wait_timeout(&self.changed, hosts, left).0;
        }
        true
    }

    /// Waits until `pid`'s frontend has connected, or its connection is
    /// over, or `deadline` passes; whether it did.
    pub fn wait_connected(&self, pid: Pid, deadline: Option<Instant>) -> bool {
        let mut hosts = self.hosts();
        loop {
            if hosts.get(&pid).map_or(true, |r| r.connected || !r.serving) {
                return true;
            }
            hosts = match deadline {
                None => wait(&self.changed, hosts),
                Some(d) => {
                    let Some(left) = d.checked_duration_since(Instant::now()) else {
                        return false;
                    };
                    wait_timeout(&self.changed, hosts, left).0
                }
            };
        }
    }

    /// Ends every process of the tree and its VM, and the pool's VMs.
    pub fn shutdown(&self) {
        {
            let _hosts = self.hosts();
            self.pool_closed.store(true, Ordering::Release);
            self.changed.notify_all();
        }
        let running = self.kernel().running();
        for pid in running {
            self.vanished(pid);
        }
        let vms: Vec<_> = self.hosts().values().filter_map(|r| r.vm.clone()).collect();
        for vm in vms {
            vm.kill();
        }
    }

    /// After [`Self::shutdown`]: waits until every thread that watches a VM
    /// has ended (each does once its VM has), so nothing of the tree runs
    /// on, and removes the socket files left. Must not be called from one
    /// of them.
    pub fn join_threads(&self) {
        // A thread joined may have started others (the pool's launches).
        loop {
            let threads = std::mem::take(&mut *lock(&self.threads));
            if threads.is_empty() {
                break;
            }
            for t in threads {
                let _ = t.join();
            }
        }
        // Every VM has ended; a connection that has not noticed yet leaves
        // its socket file behind (the pool's, at the end of a short tree).
        let sockets: Vec<PathBuf> = self
            .hosts()
            .values_mut()
            .filter_map(|r| r.socket.take())
            .collect();
        for s in sockets {
            let _ = std::fs::remove_file(s);
        }
    }

    /// Whether the VM of `pid` is still tracked (launched and not yet reaped).
    pub fn has_vm(&self, pid: Pid) -> bool {
        self.hosts().get(&pid).is_some_and(|r| r.vm.is_some())
    }
}

impl Host for Supervisor {
    fn kernel(&self) -> MutexGuard<'_, Kernel> {
        Supervisor::kernel(self)
    }

    fn dispatch(&self, caller: &Caller, req: Request, io: Box<dyn Io>) {
        let pid = caller.pid;
        if pool::is_vm_id(caller.vm) {
            // A parked VM's driver submits START and nothing else before it
            // completes (spec: `drv-init-start`).
            match req {
                Request::Start => self.park(caller, io),
                other => debug!("{}: {other:?} before START ignored", name_of(caller.vm)),
            }
            return;
        }
        match req {
            Request::Spawn { len } => {
                let r = self.spawn(pid, len as usize, io.as_ref());
                self.answer_new_process(pid, io, r);
            }
            Request::Fork { resume, mailbox } => {
                let r = self.fork(caller, resume, mailbox);
                self.answer_new_process(pid, io, r);
            }
            _ => {
                let start = matches!(req, Request::Start);
                let effects = {
                    let mut k = self.kernel();
                    k.submit(pid, req, io);
                    k.take_effects()
                };
                self.apply(effects);
                if start {
                    if let Some(r) = self.hosts().get_mut(&pid) {
                        r.started = true;
                    }
                    self.changed.notify_all();
                }
            }
        }
    }

    fn apply(&self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::StopVm(pid) | Effect::KillVm(pid) => {
                    let vm = self.hosts().get(&pid).and_then(|r| r.vm.clone());
                    if let Some(vm) = vm {
                        if matches!(e, Effect::KillVm(_)) {
                            vm.kill();
                        } else {
                            vm.stop(STOP_GRACE);
                        }
                    }
                }
                Effect::TreeDone(status) => {
                    info!("root exited with wait status {status:#x}");
                    *lock(&self.tree) = Some(status);
                    self.tree_cv.notify_all();
                }
                Effect::LaunchVm(pid) => self.launch_execd(pid),
                Effect::SuspendVm(pid) | Effect::ResumeVm(pid) => {
                    // Effects of a stop and a continue applied by two
                    // threads may arrive in either order: what the VM gets
                    // is what the kernel says now, one VM change at a time.
                    let _one = lock(&self.pausing);
                    let paused = self.kernel().vm_paused(pid);
                    if let Some(vm) = self.hosts().get(&pid).and_then(|r| r.vm.clone()) {
                        if paused {
                            vm.suspend();
                        } else {
                            vm.resume();
                        }
                    }
                }
            }
        }
    }

    fn can_fork(&self, pid: Pid) -> bool {
        self.hosts().get(&pid).is_some_and(|r| r.image.is_some())
    }

    fn fail_process(&self, pid: Pid) {
        self.vanished(pid);
    }

    fn parked(&self, vm: Pid) -> bool {
        pool::is_vm_id(vm) && self.hosts().contains_key(&vm)
    }
}

impl Events for Supervisor {
    fn connected(&self, who: &Binding) {
        let mut hosts = self.hosts();
        let pid = who.pid();
        debug!("{}: vhost-user connection open", name_of(pid));
        if let Some(r) = hosts.get_mut(&pid) {
            r.connected = true;
        }
        self.changed.notify_all();
    }

    fn closed(&self, who: &Binding) {
        let (pid, socket) = {
            let mut hosts = self.hosts();
            let pid = who.pid();
            debug!("{}: vhost-user connection closed", name_of(pid));
            let socket = hosts.get_mut(&pid).and_then(|r| {
                r.serving = false;
                r.connected = false;
                r.ram = None;
                r.parked = None;
                r.socket.take()
            });
            self.changed.notify_all();
            (pid, socket)
        };
        if let Some(socket) = socket {
            let _ = std::fs::remove_file(socket);
        }
        self.vanished(pid);
        self.settle(pid);
    }
}
