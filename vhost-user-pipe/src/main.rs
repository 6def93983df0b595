//! `vhost-user-pipe`: run a multi-process application as a tree of
//! unikernel VMs, or serve a hand-launched QEMU.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use vhost_user_pipe::{Accel, Config, Limits, MachineChoice};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "virtio-pipe vhost-user backend and process manager for unikernel process trees"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AccelArg {
    /// KVM where it runs guests at hardware speed, else TCG.
    Auto,
    /// KVM.
    Kvm,
    /// TCG (software emulation).
    Tcg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MachineArg {
    /// microvm with virtio-mmio (reference).
    Microvm,
    /// q35 with virtio-pci.
    Q35,
}

#[derive(Debug, clap::Args)]
struct Common {
    /// The QEMU binary.
    #[arg(long, default_value = "qemu-system-x86_64")]
    qemu: PathBuf,
    /// The accelerator.
    #[arg(long, value_enum, default_value = "auto")]
    accel: AccelArg,
    /// The machine type guests boot on.
    #[arg(long, value_enum, default_value = "microvm")]
    machine: MachineArg,
    /// Guest RAM per process, in MiB (at least 16).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(16..=65536))]
    memory: u32,
    /// Seconds a launched VM has to start its program before it is killed
    /// with an error (a hung firmware or image, too little memory).
    #[arg(long, default_value_t = vhost_user_pipe::supervisor::START_DEADLINE.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    start_timeout: u64,
    /// The tree's root directory: processes see it as `/`, find programs
    /// and open files in it, and cannot reach outside it. With it, `run`
    /// looks PROGRAM up in the root (a bare name in /usr/local/bin,
    /// /usr/bin, /bin, /sbin); without it, PROGRAM is a host path and its
    /// directory is the root.
    #[arg(long)]
    root: Option<PathBuf>,
    /// Let the tree write its root: create, write, remove and rename files
    /// and directories in it. Without it the root is read-only and every
    /// write fails with EROFS.
    #[arg(long)]
    writable: bool,
    /// The process kernel image Linux programs boot on (default:
    /// images/guest-kernel next to the directory of this binary, where
    /// guest-kernel/build-image puts it).
    #[arg(long)]
    kernel: Option<PathBuf>,
    /// Directory where spawn finds unikernel images (default: the root
    /// image's directory).
    #[arg(long)]
    image_dir: Option<PathBuf>,
    /// Directory for sockets and guest logs (kept at the end when given).
    #[arg(long)]
    run_dir: Option<PathBuf>,
    /// Keep the run directory at the end.
    #[arg(long)]
    keep_run_dir: bool,
    /// Environment strings (NAME=value) for the root process.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// Most processes in the tree.
    #[arg(long, default_value_t = Limits::default().max_processes)]
    max_processes: usize,
    /// Most open fds per process.
    #[arg(long, default_value_t = Limits::default().max_fds)]
    max_fds: usize,
    /// Most pipes in the tree.
    #[arg(long, default_value_t = Limits::default().max_pipes)]
    max_pipes: usize,
    /// Most bytes of pipe capacity reserved in the tree.
    #[arg(long, default_value_t = Limits::default().max_buffered)]
    max_buffered: usize,
    /// Capacity of each pipe in bytes.
    #[arg(long, default_value_t = Limits::default().pipe_capacity)]
    pipe_capacity: usize,
    /// Most fds of the tree's processes that refer to files of the root.
    #[arg(long, default_value_t = Limits::default().max_open_files)]
    max_open_files: usize,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the daemon and the root process PROGRAM; exit with its status.
    Run {
        #[command(flatten)]
        common: Common,
        /// The root program: a static x86-64 Linux program (musl, glibc,
        /// Rust, busybox), booted on the process kernel, or a unikernel
        /// image (a PVH ELF), booted by itself.
        program: PathBuf,
        /// At the end, print on stderr how many processes and VMs the tree
        /// had and how they ended.
        #[arg(long)]
        summary: bool,
        /// Booted VMs to keep parked, ready to become new processes (spawn,
        /// exec into a new VM, fork) in milliseconds; 0 for none. They count
        /// against memory, and never outnumber what --max-processes leaves.
        #[arg(long, env = "VHOST_USER_PIPE_POOL", default_value_t = vhost_user_pipe::pool::DEFAULT_SIZE)]
        pool: usize,
        /// Arguments for the root process.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Serve root QEMUs launched by hand, one tree after another (see
    /// qemu-configs/README.md).
    Serve {
        #[command(flatten)]
        common: Common,
        /// The vhost-user socket to listen on (mode 0600: only this user
        /// may connect).
        #[arg(long)]
        socket_path: PathBuf,
        /// Exit after the first tree, with its root's status. Without it the
        /// daemon serves one tree after another until it gets a signal.
        #[arg(long)]
        once: bool,
        /// Arguments for each root process (its argv[0] is "root").
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

impl From<Common> for Config {
    fn from(c: Common) -> Self {
        Config {
            qemu: c.qemu,
            accel: match c.accel {
                AccelArg::Auto => Accel::Auto,
                AccelArg::Kvm => Accel::Kvm,
                AccelArg::Tcg => Accel::Tcg,
            },
            machine: match c.machine {
                MachineArg::Microvm => MachineChoice::Microvm,
                MachineArg::Q35 => MachineChoice::Q35,
            },
            memory_mib: c.memory,
            limits: Limits {
                max_processes: c.max_processes,
                max_fds: c.max_fds,
                max_pipes: c.max_pipes,
                max_buffered: c.max_buffered,
                pipe_capacity: c.pipe_capacity,
                max_open_files: c.max_open_files,
            },
            image_dir: c.image_dir,
            run_dir: c.run_dir,
            keep_run_dir: c.keep_run_dir,
            env: c.env,
            start_deadline: std::time::Duration::from_secs(c.start_timeout),
            root: c.root,
            kernel: c.kernel,
            summary: false,
            writable: c.writable,
            pool: 0,
        }
    }
}

fn main() -> ExitCode {
    // Microseconds: the debug log is how a VM's start-up is profiled
    // (BENCHMARKS.md, "Issue 16: cold boot floor").
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format_timestamp_micros()
        .init();
    let args = Args::parse();
    let result = match args.command {
        Command::Run {
            common,
            program,
            summary,
            pool,
            args,
        } => {
            let config = Config {
                summary,
                pool,
                ..common.into()
            };
            vhost_user_pipe::run(&config, &program, args)
        }
        Command::Serve {
            common,
            socket_path,
            once,
            args,
        } => vhost_user_pipe::serve(&common.into(), &socket_path, once, args),
    };
    match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("vhost-user-pipe: {e}");
            ExitCode::from(125)
        }
    }
}
