//! vhost-user-pipe: the virtio-pipe backend and process manager.
//!
//! One daemon serves every unikernel VM of a process tree. Each VM (one
//! process) has its own vhost-user connection; all of them share one
//! [`kernel::Kernel`]: the pipes, the fd tables and the process table.
//! The daemon launches a QEMU for the root and for every SPAWN.
//!
//! ```no_run
//! use vhost_user_pipe::{run, Config};
//!
//! let config = Config::default();
//! let code = run(&config, "target/images/pipeline".as_ref(), vec![]).unwrap();
//! std::process::exit(code);
//! ```
//!
//! Layout (`ARCHITECTURE.md`, "Where things are"): `supervisor/` is
//! the process manager, `connection.rs` serves one vhost-user connection,
//! `backend.rs` is the only `VhostUserBackend`, `requests.rs` turns chains
//! into typed requests (parsing at the edge in `chain.rs`), `guest_io.rs`
//! and `completions.rs` move bytes and completions in guest memory, and
//! `kernel/`, `pipe.rs`, `fdtable.rs` and `process.rs` hold the logic
//! with no vhost types; `launcher.rs` starts QEMU, `stdio.rs` connects the
//! root's stdio to the daemon's.

pub mod accel;
pub mod backend;
pub mod binding;
pub mod chain;
pub mod completions;
pub mod connection;
pub mod fdtable;
pub mod files;
pub mod guest_io;
pub mod guest_memory;
pub mod host_tsc;
pub mod image;
pub mod io;
pub mod kernel;
pub mod launcher;
pub mod limits;
pub mod pipe;
pub mod pool;
pub mod process;
pub mod program;
pub mod qemu;
pub mod ram_copy;
pub mod rate_limit;
pub mod requests;
pub mod run_dir;
pub mod serve;
pub mod signals;
pub mod stdio;
pub mod summary;
pub mod supervisor;
pub mod sync;
pub mod terminal;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use log::info;
use thiserror::Error;

pub use crate::accel::Accel;
use crate::files::Root;
use crate::image::ImageDir;
use crate::kernel::HostTerminal;
use crate::launcher::QemuLauncher;
pub use crate::limits::Limits;
use crate::program::{Boot, Resolved};
use crate::qemu::Machine;
use crate::run_dir::RunDir;
use crate::signals::{CleanupOnSignal, OnSignal};
use crate::supervisor::{Supervisor, SupervisorError};
use virtio_pipe_protocol::Errno;

/// How long `run` waits for the root's output to drain after it exits.
const DRAIN: Duration = Duration::from_secs(5);

/// Which machine to boot guests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MachineChoice {
    /// microvm (virtio-mmio), the configuration chosen by QEMU's version.
    #[default]
    Microvm,
    /// q35 (virtio-pci).
    Q35,
}

/// Everything a daemon needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The QEMU binary.
    pub qemu: PathBuf,
    /// The accelerator.
    pub accel: Accel,
    /// The machine type.
    pub machine: MachineChoice,
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// Limits of the tree.
    pub limits: Limits,
    /// Where SPAWN finds images (`run`: default the root image's directory).
    pub image_dir: Option<PathBuf>,
    /// Where sockets and logs go (default: a fresh directory under the temp dir).
    pub run_dir: Option<PathBuf>,
    /// Keep the run directory at the end.
    pub keep_run_dir: bool,
    /// Extra environment strings for the root.
    pub env: Vec<String>,
    /// How long a launched VM has to start its program.
    pub start_deadline: Duration,
    /// The tree's root directory: where programs and the files processes
    /// open are (`run`: default the program's directory).
    pub root: Option<PathBuf>,
    /// The process kernel Linux programs boot on (default:
    /// [`program::default_kernel`]).
    pub kernel: Option<PathBuf>,
    /// `run`: print a one-line summary of the tree on stderr at the end.
    pub summary: bool,
    /// Let the tree write its root (create, write, remove, rename files);
    /// without it the root is read-only (`EROFS`).
    pub writable: bool,
    /// `run`: parked VMs to keep ready for new processes (`pool.rs`; 0:
    /// none). `serve` has no pool.
    pub pool: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            qemu: "qemu-system-x86_64".into(),
            accel: Accel::Auto,
            machine: MachineChoice::Microvm,
            memory_mib: 64,
            limits: Limits::default(),
            image_dir: None,
            run_dir: None,
            keep_run_dir: false,
            env: Vec::new(),
            start_deadline: supervisor::START_DEADLINE,
            root: None,
            kernel: None,
            summary: false,
            writable: false,
            pool: 0,
        }
    }
}

/// Why the daemon could not run.
#[derive(Debug, Error)]
pub enum Error {
    /// QEMU is missing or unusable.
    #[error(transparent)]
    Qemu(#[from] qemu::QemuError),
    /// The image does not exist.
    #[error("image '{0}' not found")]
    ImageNotFound(PathBuf),
    /// The image directory does not exist.
    #[error("image directory '{0}' not found")]
    ImageDirNotFound(PathBuf),
    /// Something listens on the socket path already.
    #[error("socket path '{0}' is already in use")]
    SocketInUse(PathBuf),
    /// The root's argv and env exceed `ARGS_MAX`.
    #[error("argv and env of the root take {0} bytes, more than ARGS_MAX ({max})", max = virtio_pipe_protocol::ARGS_MAX)]
    ArgsTooBig(usize),
    /// The limits contradict each other.
    #[error("bad limits: {0}")]
    Limits(String),
    /// The run directory could not be created.
    #[error(transparent)]
    RunDir(#[from] run_dir::RunDirError),
    /// The root process could not be started.
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
    /// The root's VM failed before its program ran.
    #[error("the root's VM failed: {0}")]
    RootFailed(String),
    /// The signal handlers could not be installed.
    #[error("cannot watch for signals: {0}")]
    Signals(#[source] std::io::Error),
    /// The `serve` socket could not be used.
    #[error(transparent)]
    Serve(#[from] serve::ServeError),
    /// The program to run could not be found.
    #[error(transparent)]
    Program(#[from] program::ProgramError),
    /// The root directory could not be opened.
    #[error(transparent)]
    Root(#[from] files::RootError),
}

/// The exit code a shell would show for a wait status.
pub fn exit_code(status: u32) -> i32 {
    let sig = status & 0x7f;
    if sig == 0 {
        ((status >> 8) & 0xff) as i32
    } else {
        128 + sig as i32
    }
}

/// The launcher for QEMU `version` (from [`qemu::probe`], which comes
/// first: a missing QEMU is the first thing to say).
fn launcher(config: &Config, version: qemu::Version) -> Result<QemuLauncher, Error> {
    let machine = match config.machine {
        MachineChoice::Microvm => qemu::machine_for(version),
        MachineChoice::Q35 => Machine::Q35Carrier,
    };
    let accel = accel::resolve(config.accel, &config.qemu);
    info!(
        "QEMU {}.{}, {machine:?}, accel {accel}",
        version.0, version.1
    );
    Ok(QemuLauncher::new(
        config.qemu.clone(),
        accel.to_string(),
        config.memory_mib,
        machine,
    )?)
}

fn root_env(config: &Config) -> Vec<Vec<u8>> {
    config.env.iter().map(|e| e.as_bytes().to_vec()).collect()
}

/// The error for a root the kernel refused: too many bytes of argv and env
/// for `GET_ARGS` (spec: `dev-limit-args`), or whatever else it said.
fn root_refused(e: SupervisorError, argv: &[Vec<u8>], env: &[Vec<u8>]) -> Error {
    match e {
        SupervisorError::Refused(Errno::E2big) => Error::ArgsTooBig(limits::args_bytes(argv, env)),
        e => Error::Supervisor(e),
    }
}

/// File descriptors the daemon holds per process, with room to spare: 18
/// measured for a guest on a four-queue carrier (its vhost-user socket and
/// listener, guest memory, a kick and a call eventfd per queue, the epoll
/// set and its wake-up and exit events).
const FDS_PER_PROCESS: u64 = 24;

/// Raises the soft limit on open files towards the hard one when the
/// process limit needs more than it allows: with the common soft limit of
/// 1024, a tree of 64 processes would run out of fds at about 50, and
/// SPAWN, accept or eventfd creation would fail short of the process limit.
/// Returns the soft limit in force.
pub fn raise_fd_limit(limits: &Limits) -> u64 {
    let need = (limits.max_processes as u64 + 1) * FDS_PER_PROCESS + 64;
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return 0;
    }
    if rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: need.min(rl.rlim_max),
            rlim_max: rl.rlim_max,
        };
        // SAFETY: setrlimit(2) reads the struct we own; a soft limit up to
        // the hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            rl = raised;
        }
    }
    if rl.rlim_cur < need {
        log::warn!(
            "{} open files allowed: fewer than the {need} that {} processes may need",
            rl.rlim_cur,
            limits.max_processes
        );
    }
    rl.rlim_cur
}

/// Runs `program` as the root of a new tree with `args`; returns the exit
/// code of the root (128 + signal when it was killed). `program` is a name
/// in `config.root` when one is given, else a host path whose directory is
/// the root ([`program::resolve`]); a unikernel image boots by itself, a
/// Linux program on the process kernel. Signals to the daemon go to the
/// tree ([`forward_signals`]); the host terminal's modes are put back at
/// the end.
pub fn run(config: &Config, program: &Path, args: Vec<String>) -> Result<i32, Error> {
    config.limits.validate().map_err(Error::Limits)?;
    raise_fd_limit(&config.limits);
    let version = qemu::probe(&config.qemu)?;
    let kernel = config
        .kernel
        .clone()
        .unwrap_or_else(program::default_kernel);
    let Resolved { root, boot } = program::resolve(config.root.as_deref(), program, &kernel)?;
    // SPAWN's images: an image's directory by default (paths are absolute:
    // QEMU runs in the run directory).
    let images = match &boot {
        Boot::Image(image) => {
            let dir = match &config.image_dir {
                Some(d) => d.clone(),
                None => image.parent().unwrap_or(Path::new("/")).to_owned(),
            };
            Some(ImageDir::new(&dir).map_err(|_| Error::ImageDirNotFound(dir.clone()))?)
        }
        Boot::Program { .. } => image_dir(config)?,
    };
    let launcher = launcher(config, version)?;
    let run_dir = Arc::new(RunDir::create(
        config.run_dir.as_deref(),
        config.keep_run_dir,
    )?);
    let ttys = stdio::host_terminals();
    // Put back at the end (this guard's drop), on a signal that ends us,
    // or before a poisoned lock does.
    let _modes = terminal::save(ttys);
    sync::before_fatal_exit(terminal::restore_saved);
    let tree = Arc::new(OnceLock::new());
    let _signals = forward_signals(run_dir.clone(), tree.clone(), ttys[0])?;
    // A regular file on the daemon's stdin is the root's fd 0 as a file
    // (seekable, as on Linux); anything else is pumped as a stream.
    let stdin_file = files::OpenFile::host_stdin();
    let pump_stdin = stdin_file.is_none();
    let sup = Supervisor::builder(config.limits, Arc::new(launcher), run_dir.path().to_owned())
        .host_terminals(ttys)
        .host_terminal(host_terminal(ttys))
        .host_stdin(stdin_file)
        .images(images)
        .root(Some(root.writable(config.writable)))
        .kernel_image(Some(kernel.canonicalize().unwrap_or(kernel)))
        .start_deadline(config.start_deadline)
        .pool(config.pool)
        .build();
    // argv[0] is the name as given, as a shell passes it; an image's is
    // its file name.
    let name = match &boot {
        Boot::Image(image) => image.file_name().unwrap_or_default().to_owned(),
        Boot::Program { .. } => program.as_os_str().to_owned(),
    };
    let argv: Vec<Vec<u8>> = std::iter::once(name.to_string_lossy().into_owned())
        .chain(args)
        .map(String::into_bytes)
        .collect();
    let env = root_env(config);
    // The host ends of the root's stdio exist once the root does.
    match &boot {
        Boot::Image(image) => sup.start_root(image, argv.clone(), env.clone()),
        Boot::Program { exe, .. } => sup.start_program(exe, argv.clone(), env.clone()),
    }
    .map_err(|e| root_refused(e, &argv, &env))?;
    if let Err(e) = sup.start_pool() {
        log::warn!("no pool of parked VMs: {e}");
    }
    let _ = tree.set(sup.clone());
    let status = serve_tree(&sup, pump_stdin);
    if config.summary {
        eprintln!("vhost-user-pipe: {}", sup.summary());
    }
    let failures = sup.failures();
    if !failures.is_empty() {
        run_dir.keep_for("a VM failed (see its logs)");
    }
    if let Some((_, why)) = failures
        .into_iter()
        .find(|(pid, _)| *pid == supervisor::ROOT)
    {
        return Err(Error::RootFailed(why));
    }
    Ok(exit_code(status))
}

/// The host terminal, when one of the daemon's stdio fds is one.
fn host_terminal(ttys: [bool; 3]) -> Option<Arc<dyn HostTerminal>> {
    ttys.contains(&true)
        .then(|| Arc::new(terminal::HostTty) as Arc<dyn HostTerminal>)
}

/// Hands `run`'s signals to its tree once `tree` is set (`signals.rs`):
/// with a terminal on stdin, the terminal's signals (`SIGINT`, `SIGQUIT`,
/// `SIGTSTP`, `SIGWINCH`) to the foreground process group, and `SIGTERM`
/// and `SIGHUP` to the root; without one, `SIGINT`, `SIGTERM` and `SIGHUP`
/// to the root. `run` then ends as the root does (128 + the signal when
/// it dies of it). Before the tree exists, an ending signal ends the
/// daemon at once, as `serve`'s do.
fn forward_signals(
    run_dir: Arc<RunDir>,
    tree: Arc<OnceLock<Arc<Supervisor>>>,
    stdin_is_terminal: bool,
) -> Result<OnSignal, Error> {
    let to_root = signals::for_the_root(stdin_is_terminal);
    let mut caught = to_root.to_vec();
    if stdin_is_terminal {
        caught.extend(signals::FROM_TERMINAL);
    }
    OnSignal::install(&caught, move |signo| match tree.get() {
        Some(sup) if to_root.contains(&signo) => {
            info!("signal {signo}: to the root");
            sup.signal_root(signo as u32);
        }
        Some(sup) => {
            let n = sup.signal_foreground(signo as u32);
            info!("signal {signo} from the terminal: to {n} processes");
        }
        None if signals::ENDING.contains(&signo) => {
            info!("signal {signo}: ending before the tree started");
            terminal::restore_saved();
            run_dir.remove();
            std::process::exit(128 + signo);
        }
        None => {}
    })
    .map_err(Error::Signals)
}

/// The image directory SPAWN uses, when one is configured.
fn image_dir(config: &Config) -> Result<Option<ImageDir>, Error> {
    match &config.image_dir {
        Some(d) => Ok(Some(
            ImageDir::new(d).map_err(|_| Error::ImageDirNotFound(d.clone()))?,
        )),
        None => Ok(None),
    }
}

/// Pumps the root's stdio until the tree ends; then ends every VM left and
/// drains the root's output. Returns the root's wait status.
fn serve_tree(sup: &Arc<Supervisor>, pump_stdin: bool) -> u32 {
    let pumps = stdio::start(sup, pump_stdin);
    let status = sup.wait_tree(None).unwrap_or(0);
    sup.wait_disconnected(
        supervisor::ROOT,
        Instant::now() + supervisor::STOP_GRACE + DRAIN,
    );
    sup.shutdown();
    sup.join_threads();
    pumps.finish(Instant::now() + DRAIN);
    status
}

/// Serves root VMs that someone else launches on `socket`: each connection
/// is the root of a new tree, one tree at a time (a frontend that connects
/// while a tree is served is refused), with argv `root ARGS...`. With
/// `once`, returns after the first tree with the exit code of its root.
pub fn serve(config: &Config, socket: &Path, once: bool, args: Vec<String>) -> Result<i32, Error> {
    config.limits.validate().map_err(Error::Limits)?;
    raise_fd_limit(&config.limits);
    if socket.exists() && UnixStream::connect(socket).is_ok() {
        return Err(Error::SocketInUse(socket.to_owned()));
    }
    let images = image_dir(config)?;
    let root = match &config.root {
        Some(d) => Some(
            d.canonicalize()
                .map_err(|e| files::RootError::Open(d.clone(), e))?,
        ),
        None => None,
    };
    let kernel = config
        .kernel
        .clone()
        .unwrap_or_else(program::default_kernel);
    let kernel = kernel.canonicalize().ok();
    let launcher: Arc<dyn launcher::Launcher> =
        Arc::new(launcher(config, qemu::probe(&config.qemu)?)?);
    let run_dir = Arc::new(RunDir::create(
        config.run_dir.as_deref(),
        config.keep_run_dir,
    )?);
    let ttys = stdio::host_terminals();
    let _modes = terminal::save(ttys);
    sync::before_fatal_exit(terminal::restore_saved);
    let _cleanup = CleanupOnSignal::install(run_dir.clone()).map_err(Error::Signals)?;
    let argv: Vec<Vec<u8>> = std::iter::once("root".to_owned())
        .chain(args)
        .map(String::into_bytes)
        .collect();
    let env = root_env(config);
    let listener = serve::Socket::bind(socket)?;
    info!("serving {}", socket.display());
    for tree in 1.. {
        let dir = run_dir.path().join(format!("tree-{tree}"));
        let dir = RunDir::create(Some(&dir), true)?.path().to_owned();
        let tree_root = root
            .as_deref()
            .map(|d| Root::open(d).map(|r| r.writable(config.writable)))
            .transpose()?;
        let sup = Supervisor::builder(config.limits, launcher.clone(), dir)
            .host_terminals(ttys)
            .host_terminal(host_terminal(ttys))
            .images(images.clone())
            .root(tree_root)
            .kernel_image(kernel.clone())
            .start_deadline(config.start_deadline)
            .build();
        sup.serve_root_on(listener.listener()?, argv.clone(), env.clone())
            .map_err(|e| root_refused(e, &argv, &env))?;
        // Wait for the root's frontend; then refuse any other until the tree ends.
        sup.wait_connected(supervisor::ROOT, None);
        let refuser = listener.refuse_others()?;
        let status = serve_tree(&sup, true);
        drop(refuser);
        info!("tree {tree} ended with wait status {status:#x}");
        if !sup.failures().is_empty() {
            run_dir.keep_for("a VM failed (see its logs)");
        }
        if once {
            return Ok(exit_code(status));
        }
    }
    unreachable!("the loop over trees never ends")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_refused_for_its_args_names_their_size() {
        let big = vec![vec![b'a'; virtio_pipe_protocol::ARGS_MAX]];
        let e = root_refused(SupervisorError::Refused(Errno::E2big), &big, &[]);
        assert!(matches!(e, Error::ArgsTooBig(n) if n == virtio_pipe_protocol::ARGS_MAX + 1));
    }

    /// Regression: with a soft limit of 1024 open files, the default
    /// process limit (64) could not be reached.
    #[test]
    fn the_fd_limit_is_raised_for_the_process_limit() {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit(2) into a struct we own.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) }, 0);
        let limits = Limits::default();
        let need = (limits.max_processes as u64 + 1) * FDS_PER_PROCESS + 64;
        if rl.rlim_max < need {
            eprintln!("hard limit {} below {need}: nothing to check", rl.rlim_max);
            return;
        }
        let low = libc::rlimit {
            rlim_cur: 256.max(rl.rlim_cur.min(need - 1)).min(need - 1),
            rlim_max: rl.rlim_max,
        };
        // SAFETY: setrlimit(2) from a struct we own; lowering needs no privilege.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &low) }, 0);
        assert!(raise_fd_limit(&limits) >= need);
        // SAFETY: as above; restores the limit this test found.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) }, 0);
    }

    #[test]
    fn exit_code_follows_the_shell_convention() {
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(9), 137);
        assert_eq!(exit_code(0), 0);
    }
}
