//! The process manager: it owns the kernel of one process tree and turns
//! its decisions into VMs. For every process it creates the vhost-user
//! socket and serving thread *before* launching the VM, reaps VMs, and
//! carries out the kernel's [`Effect`]s outside the kernel lock.

use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use log::{debug, error, info, warn};
use thiserror::Error;
use vhost::vhost_user::Listener;
use vhost_user_backend::VhostUserDaemon;
use virtio_pipe_protocol::{
    Errno, Event, Request, RespHeader, SpawnBlob, ARGS_MAX, FEATURE_FORK, FEATURE_SPAWN,
    FILE_ACTIONS_MAX, IMAGE_NAME_MAX,
};
use vm_memory::{GuestAddress, GuestMemoryAtomic, GuestMemoryBackend, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;

use crate::device::{PipeDevice, WAKE_EVENT};
use crate::fork::{self, MemFile};
use crate::guest_io::Completions;
use crate::image::ImageDir;
use crate::io::Io;
use crate::kernel::{Effect, Kernel, Stats};
use crate::launcher::{LaunchError, LaunchSpec, Launcher, Vm};
use crate::limits::Limits;
use crate::process::{Pid, ROOT_PID};

/// Largest SPAWN payload the device reads.
pub const SPAWN_MAX: usize = 16 + FILE_ACTIONS_MAX * 16 + IMAGE_NAME_MAX + ARGS_MAX;

/// How long a VM that exited may take to power itself off.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// A process whose VM could not be set up.
#[derive(Debug, Error)]
pub enum SupervisorError {
    /// The socket could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(PathBuf, #[source] std::io::Error),
    /// The vhost-user daemon could not be created.
    #[error("cannot create the vhost-user daemon: {0}")]
    Daemon(vhost_user_backend::Error),
    /// An eventfd or thread could not be created.
    #[error("cannot set up the device: {0}")]
    Io(#[source] std::io::Error),
    /// The VM could not be launched.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// The kernel refused to create the process.
    #[error("cannot create the process: {0}")]
    Refused(Errno),
}

/// The supervisor of one process tree.
#[derive(Debug)]
pub struct Supervisor {
    kernel: Mutex<Kernel>,
    launcher: Arc<dyn Launcher>,
    images: Option<ImageDir>,
    run_dir: PathBuf,
    vms: Mutex<HashMap<Pid, Arc<dyn Vm>>>,
    /// The connections being served, with the socket path to remove at the end.
    sockets: Mutex<HashMap<Pid, Option<PathBuf>>>,
    /// The connections a frontend has opened.
    connected: Mutex<std::collections::HashSet<Pid>>,
    /// Signalled whenever a connection closes (an entry leaves `sockets`).
    disconnected: Condvar,
    images_of: Mutex<HashMap<Pid, PathBuf>>,
    fork_memory: Mutex<HashMap<Pid, MemFile>>,
    tree: Mutex<Option<u32>>,
    tree_cv: Condvar,
    failures: Mutex<Vec<(Pid, String)>>,
    /// Start watchdogs wait here for START or the end of their process.
    starts: Mutex<()>,
    started: Condvar,
    /// How long a launched VM has to reach `START`.
    start_deadline: Duration,
}

/// How long a launched VM has to reach `START` by default: QEMU starts and
/// boots a guest in tens of milliseconds, hundreds of them at once in
/// seconds; a VM that takes this long is hung (a broken firmware or image,
/// too little memory).
pub const START_DEADLINE: Duration = Duration::from_secs(30);

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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The kernel's invariants hold between calls; a panicking worker is
    // logged by its thread and must not take the other guests down.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Supervisor {
    /// A supervisor whose per-process files go in `run_dir`.
    pub fn new(
        limits: Limits,
        launcher: Arc<dyn Launcher>,
        images: Option<ImageDir>,
        run_dir: PathBuf,
    ) -> Arc<Self> {
        Arc::new(Self {
            kernel: Mutex::new(Kernel::new(limits)),
            launcher,
            images,
            run_dir,
            vms: Mutex::new(HashMap::new()),
            sockets: Mutex::new(HashMap::new()),
            connected: Mutex::new(Default::default()),
            disconnected: Condvar::new(),
            images_of: Mutex::new(HashMap::new()),
            fork_memory: Mutex::new(HashMap::new()),
            tree: Mutex::new(None),
            tree_cv: Condvar::new(),
            failures: Mutex::new(Vec::new()),
            starts: Mutex::new(()),
            started: Condvar::new(),
            start_deadline: START_DEADLINE,
        })
    }

    /// The same, with a START deadline other than [`START_DEADLINE`].
    pub fn with_start_deadline(
        limits: Limits,
        launcher: Arc<dyn Launcher>,
        images: Option<ImageDir>,
        run_dir: PathBuf,
        start_deadline: Duration,
    ) -> Arc<Self> {
        let mut sup = Self::new(limits, launcher, images, run_dir);
        Arc::get_mut(&mut sup)
            .expect("not shared yet")
            .start_deadline = start_deadline;
        sup
    }

    /// The kernel, locked.
    pub fn kernel(&self) -> MutexGuard<'_, Kernel> {
        lock(&self.kernel)
    }

    /// Object counts.
    pub fn stats(&self) -> Stats {
        self.kernel().stats()
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

    /// Whether `pid` has asked how to start (its VM booted its program),
    /// or is gone.
    fn has_started(&self, pid: Pid) -> bool {
        self.kernel()
            .process(pid)
            .map_or(true, |p| p.started || !p.is_running())
    }

    /// Waits until `pid` has started (or is gone), at most the start
    /// deadline; whether it did.
    fn wait_started(&self, pid: Pid) -> bool {
        let until = Instant::now() + self.start_deadline;
        let mut guard = lock(&self.starts);
        loop {
            if self.has_started(pid) {
                return true;
            }
            let Some(left) = until.checked_duration_since(Instant::now()) else {
                return false;
            };
            guard = self
                .started
                .wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Wakes the start watchdogs (a process started or ended).
    fn notify_started(&self) {
        let _guard = lock(&self.starts);
        self.started.notify_all();
    }

    /// Records that the VM of `pid` failed; the first failure is what
    /// [`Supervisor::failure`] reports.
    fn fail(&self, pid: Pid, why: String) {
        error!("{why}");
        lock(&self.failures).push((pid, why));
    }

    /// The VM failures so far: (pid, what happened).
    pub fn failures(&self) -> Vec<(Pid, String)> {
        lock(&self.failures).clone()
    }

    /// Starts the root process from `image`, its stdio the host's.
    pub fn start_root(
        self: &Arc<Self>,
        image: &Path,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
    ) -> Result<Pid, SupervisorError> {
        let name = image
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pid = self
            .kernel()
            .create_root(&name, argv, env, true)
            .map_err(SupervisorError::Refused)?;
        self.start_process(pid, Some(image), &self.socket_path(pid), None)?;
        Ok(pid)
    }

    /// Creates the root process and serves it on `socket`; its VM is
    /// launched by someone else.
    pub fn serve_root(
        self: &Arc<Self>,
        socket: &Path,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
    ) -> Result<Pid, SupervisorError> {
        let listener = bind(socket)?;
        self.serve_root_on(listener, Some(socket.to_owned()), argv, env)
    }

    /// Creates the root process and serves the first connection that
    /// `listener` accepts; `socket`, if given, is removed when it ends.
    pub fn serve_root_on(
        self: &Arc<Self>,
        listener: Listener,
        socket: Option<PathBuf>,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
    ) -> Result<Pid, SupervisorError> {
        let pid = self
            .kernel()
            .create_root("<external>", argv, env, true)
            .map_err(SupervisorError::Refused)?;
        if let Err(e) = self.listen(pid, listener, socket) {
            self.kernel().discard(pid);
            return Err(e);
        }
        Ok(pid)
    }

    fn start_process(
        self: &Arc<Self>,
        pid: Pid,
        image: Option<&Path>,
        socket: &Path,
        memory: Option<PathBuf>,
    ) -> Result<(), SupervisorError> {
        self.listen(pid, bind(socket)?, Some(socket.to_owned()))?;
        let Some(image) = image else { return Ok(()) };
        lock(&self.images_of).insert(pid, image.to_owned());
        let spec = LaunchSpec {
            pid,
            image: image.to_owned(),
            socket: socket.to_owned(),
            serial: self.serial_path(pid),
            qemu_log: self.qemu_log_path(pid),
            memory,
            workdir: self.run_dir.clone(),
        };
        let vm = self.launcher.launch(&spec)?;
        lock(&self.vms).insert(pid, vm.clone());
        let sup = self.clone();
        let watch = vm.clone();
        thread::Builder::new()
            .name(format!("start-{pid}"))
            .spawn(move || {
                if !sup.wait_started(pid) {
                    sup.fail(
                        pid,
                        format!(
                            "pid {pid}: its VM did not start the program within {:?}; killed{}",
                            sup.start_deadline,
                            log_tail(&sup.qemu_log_path(pid))
                        ),
                    );
                    watch.kill();
                }
            })
            .map_err(SupervisorError::Io)?;
        let sup = self.clone();
        thread::Builder::new()
            .name(format!("reap-{pid}"))
            .spawn(move || {
                vm.wait();
                if !sup.has_started(pid) {
                    let status = vm.exit_status().unwrap_or_default();
                    sup.fail(
                        pid,
                        format!(
                            "pid {pid}: QEMU ended ({status}) before the guest started{}",
                            log_tail(&sup.qemu_log_path(pid))
                        ),
                    );
                }
                sup.on_vm_exit(pid);
            })
            .map_err(SupervisorError::Io)?;
        info!("pid {pid}: launched {}", image.display());
        Ok(())
    }

    /// Binds the socket and starts the thread that serves the connection.
    fn listen(
        self: &Arc<Self>,
        pid: Pid,
        mut listener: Listener,
        socket: Option<PathBuf>,
    ) -> Result<(), SupervisorError> {
        let dev = Arc::new(PipeDevice::new(pid, self.clone()).map_err(SupervisorError::Io)?);
        let mailbox = dev.mailbox().clone();
        let mem = GuestMemoryAtomic::new(GuestMemoryMmap::new());
        let mut daemon =
            VhostUserDaemon::new(format!("vpipe-{pid}"), dev.clone(), mem).map_err(|e| {
                dev.close_exit_events();
                SupervisorError::Daemon(e)
            })?;
        let registered = daemon.get_epoll_handlers().iter().try_for_each(|h| {
            h.register_listener(mailbox.wake_fd(), EventSet::IN, WAKE_EVENT as u64)
        });
        if let Err(e) = registered {
            drop(daemon);
            dev.close_exit_events();
            return Err(SupervisorError::Io(e));
        }
        let kick = mailbox.clone();
        self.kernel()
            .set_waker(pid, Some(Arc::new(move || kick.kick())));
        lock(&self.sockets).insert(pid, socket);
        let sup = self.clone();
        thread::Builder::new()
            .name(format!("vpipe-{pid}"))
            .spawn(move || {
                match daemon.start(&mut listener) {
                    Ok(()) => {
                        sup.on_connect(pid);
                        if let Err(e) = daemon.wait() {
                            debug!("pid {pid}: connection ended: {e}");
                        }
                    }
                    Err(e) => warn!("pid {pid}: no connection: {e}"),
                }
                for h in daemon.get_epoll_handlers() {
                    h.send_exit_event();
                }
                drop(listener);
                // Joins the epoll threads; then their exit events can go.
                drop(daemon);
                dev.close_exit_events();
                sup.on_disconnect(pid);
            })
            .map_err(SupervisorError::Io)?;
        Ok(())
    }

    /// Runs one request of `pid`: SPAWN and FORK here, the rest in the kernel.
    pub fn dispatch(self: &Arc<Self>, pid: Pid, req: Request, io: Box<dyn Io>) {
        match req {
            Request::Spawn { len } => {
                let negotiated = self
                    .kernel()
                    .process(pid)
                    .is_some_and(|p| p.has_feature(FEATURE_SPAWN));
                let r = if negotiated {
                    self.spawn(pid, len as usize, io.as_ref())
                } else {
                    Err(Errno::Enosys)
                };
                self.answer_new_process(pid, io, r);
            }
            Request::Fork { resume } => {
                let mut io = io;
                let r = self.fork(pid, resume, io.as_mut());
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
                    self.notify_started();
                }
            }
        }
    }

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

    fn spawn(self: &Arc<Self>, parent: Pid, len: usize, io: &dyn Io) -> Result<Pid, Errno> {
        if len > SPAWN_MAX {
            return Err(Errno::E2big);
        }
        let mut buf = vec![0u8; len];
        if io.read_payload(0, &mut buf) != len {
            return Err(Errno::Efault);
        }
        let blob = SpawnBlob::parse(&buf).map_err(|e| e.errno())?;
        let images = self.images.as_ref().ok_or(Errno::Enoent)?;
        let path = images.resolve(blob.name)?;
        let argv = blob.argv.iter().map(<[u8]>::to_vec).collect();
        let env = blob.env.iter().map(<[u8]>::to_vec).collect();
        let pid = self
            .kernel()
            .spawn(parent, blob.name, argv, env, blob.actions())?;
        if let Err(e) = self.start_process(pid, Some(&path), &self.socket_path(pid), None) {
            warn!("pid {pid}: spawn of {} failed: {e}", path.display());
            self.kernel().discard(pid);
            return Err(Errno::Eagain);
        }
        Ok(pid)
    }

    fn fork(self: &Arc<Self>, parent: Pid, resume: u64, io: &mut dyn Io) -> Result<Pid, Errno> {
        let negotiated = self
            .kernel()
            .process(parent)
            .is_some_and(|p| p.has_feature(FEATURE_FORK));
        let Some((mem, undelivered)) = io
            .as_guest()
            .map(|g| (g.memory().clone(), g.others_undelivered()))
            .filter(|_| negotiated)
        else {
            return Err(Errno::Enosys);
        };
        // Pending: blocked, held, or completed but not yet on the used ring
        // (spec: `dev-fork-reject`).
        if undelivered || self.kernel().has_pending(parent) {
            return Err(Errno::Einval);
        }
        if !mem.check_range(GuestAddress(resume), 1) {
            return Err(Errno::Efault);
        }
        let image = lock(&self.images_of)
            .get(&parent)
            .cloned()
            .ok_or(Errno::Enosys)?;
        // The process limit first: a refused FORK copies nothing.
        let child = self.kernel().fork(parent, resume)?;
        let snap = match fork::snapshot(&mem, 0) {
            Ok(snap) => snap,
            Err(e) => {
                warn!("pid {parent}: fork: {e}");
                self.kernel().discard(child);
                return Err(Errno::Enomem);
            }
        };
        debug!(
            "pid {parent}: fork copied {} of {} bytes in {:?}",
            snap.copied, snap.size, snap.elapsed
        );
        let memory = Some(snap.path());
        lock(&self.fork_memory).insert(child, snap);
        if let Err(e) = self.start_process(child, Some(&image), &self.socket_path(child), memory) {
            warn!("pid {child}: fork of {parent} failed: {e}");
            lock(&self.fork_memory).remove(&child);
            self.kernel().discard(child);
            return Err(Errno::Eagain);
        }
        Ok(child)
    }

    /// Ends `pid` as killed (its worker failed): its VM is stopped, its
    /// fds close, its parent's WAIT reports SIGKILL.
    pub fn fail_process(&self, pid: Pid) {
        self.vanished(pid);
    }

    /// Whether FORK can work for `pid`: the daemon launched its VM, so it
    /// knows which image the child boots.
    pub fn can_fork(&self, pid: Pid) -> bool {
        lock(&self.images_of).contains_key(&pid)
    }

    /// Carries out kernel effects.
    pub fn apply(&self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::StopVm(pid) | Effect::KillVm(pid) => {
                    let vm = lock(&self.vms).get(&pid).cloned();
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
            }
        }
    }

    fn on_vm_exit(&self, pid: Pid) {
        debug!("pid {pid}: VM ended");
        lock(&self.vms).remove(&pid);
        self.vanished(pid);
        // A VM that died before connecting leaves its serving thread in
        // accept(); a throwaway connection lets it finish.
        if let Some(Some(socket)) = lock(&self.sockets).get(&pid) {
            let _ = UnixStream::connect(socket);
        }
    }

    fn on_connect(&self, pid: Pid) {
        debug!("pid {pid}: vhost-user connection open");
        lock(&self.connected).insert(pid);
        self.disconnected.notify_all();
    }

    fn on_disconnect(&self, pid: Pid) {
        debug!("pid {pid}: vhost-user connection closed");
        lock(&self.fork_memory).remove(&pid);
        lock(&self.images_of).remove(&pid);
        if let Some(Some(socket)) = lock(&self.sockets).remove(&pid) {
            let _ = std::fs::remove_file(socket);
        }
        lock(&self.connected).remove(&pid);
        self.disconnected.notify_all();
        self.vanished(pid);
    }

    /// Waits until `pid`'s connection is open or has come and gone, or
    /// `deadline` passes; whether it did.
    pub fn wait_connected(&self, pid: Pid, deadline: Option<Instant>) -> bool {
        let mut sockets = lock(&self.sockets);
        loop {
            if !sockets.contains_key(&pid) || lock(&self.connected).contains(&pid) {
                return true;
            }
            sockets = match deadline {
                None => self
                    .disconnected
                    .wait(sockets)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let Some(left) = d.checked_duration_since(Instant::now()) else {
                        return false;
                    };
                    self.disconnected
                        .wait_timeout(sockets, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    fn vanished(&self, pid: Pid) {
        let effects = {
            let mut k = self.kernel();
            k.vanished(pid);
            k.take_effects()
        };
        self.apply(effects);
        self.notify_started();
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
                None => tree = self.tree_cv.wait(tree).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.checked_duration_since(Instant::now())?;
                    tree = self
                        .tree_cv
                        .wait_timeout(tree, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    /// Waits until the connection of `pid` has closed, or `deadline` passes.
    /// After its EXIT the root's completion still has to reach its used ring
    /// and the guest has to power off; ending the daemon before that would
    /// leave the VM waiting on a dead socket.
    pub fn wait_disconnected(&self, pid: Pid, deadline: Instant) -> bool {
        let mut sockets = lock(&self.sockets);
        while sockets.contains_key(&pid) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            sockets = self
                .disconnected
                .wait_timeout(sockets, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Ends every process of the tree and its VM.
    pub fn shutdown(&self) {
        let running = self.kernel().running();
        for pid in running {
            self.vanished(pid);
        }
        let vms: Vec<_> = lock(&self.vms).values().cloned().collect();
        for vm in vms {
            vm.kill();
        }
    }

    /// Whether the VM of `pid` is still tracked (launched and not yet reaped).
    pub fn has_vm(&self, pid: Pid) -> bool {
        lock(&self.vms).contains_key(&pid)
    }

    pub(crate) fn next_event(&self, pid: Pid) -> Option<Event> {
        self.kernel().next_event(pid)
    }

    pub(crate) fn unget_event(&self, pid: Pid, event: Event) {
        self.kernel().unget_event(pid, event)
    }

    /// Drops the pending requests of `pid` and the completions not yet on
    /// its used ring, atomically for every other thread (under the kernel
    /// lock): no WRITE can fill one of its READs in between (a device reset).
    pub(crate) fn cancel_pending(&self, pid: Pid, mailbox: &Completions) {
        let mut k = self.kernel();
        k.cancel_pending(pid);
        mailbox.reset();
    }

    /// Holds the requests of `pid` while its device is stopped.
    pub(crate) fn hold_pending(&self, pid: Pid) {
        self.kernel().freeze(pid);
    }

    /// Resumes the requests held by [`Supervisor::hold_pending`].
    pub(crate) fn resume_pending(&self, pid: Pid) {
        let effects = {
            let mut k = self.kernel();
            k.thaw(pid);
            k.take_effects()
        };
        self.apply(effects);
    }

    /// Whether `pid` is alive.
    pub(crate) fn is_running(&self, pid: Pid) -> bool {
        self.kernel().process(pid).is_some_and(|p| p.is_running())
    }

    pub(crate) fn set_features(&self, pid: Pid, features: u64) {
        self.kernel().set_features(pid, features)
    }
}

/// Binds a vhost-user socket at `path` that only our own user may connect
/// to, whatever the umask (who may connect: README, "Running the daemon").
pub fn bind(path: &Path) -> Result<Listener, SupervisorError> {
    crate::run_dir::bind_private(path)
        .map(Listener::from)
        .map_err(|e| SupervisorError::Bind(path.to_owned(), e))
}

/// The root's pid, for callers that wait on the tree.
pub const ROOT: Pid = ROOT_PID;
