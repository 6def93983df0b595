//! Starting and stopping the VM of a process: the [`Launcher`] trait and
//! the real [`QemuLauncher`] that renders a `qemu-configs/` template (the
//! test doubles are in `test_utils.rs`).

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use thiserror::Error;

use crate::host_tsc;
use crate::process::Pid;
use crate::qemu::{self, Machine, QemuError};
use crate::run_dir;

/// What a launch needs.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// The process.
    pub pid: Pid,
    /// Its image.
    pub image: PathBuf,
    /// The vhost-user socket, already listening.
    pub socket: PathBuf,
    /// Where its serial console goes.
    pub serial: PathBuf,
    /// Where QEMU's own messages go.
    pub qemu_log: PathBuf,
    /// A file holding the guest's initial RAM (a fork child), else fresh memfd RAM.
    pub memory: Option<PathBuf>,
    /// QEMU's working directory (the private run directory).
    pub workdir: PathBuf,
}

/// Why a VM could not be started.
#[derive(Debug, Error)]
pub enum LaunchError {
    /// The VMM process could not be spawned.
    #[error("cannot start {0}: {1}")]
    Spawn(PathBuf, #[source] std::io::Error),
    /// A log file could not be created.
    #[error("cannot create {0}: {1}")]
    Log(PathBuf, #[source] std::io::Error),
    /// The launcher is closed (a test double's receiver went away).
    #[error("launcher is closed")]
    Closed,
}

/// A running VM.
pub trait Vm: Send + Sync + std::fmt::Debug {
    /// Blocks until the VM has ended.
    fn wait(&self);
    /// Blocks until the VM has ended or `limit` has passed; whether it ended.
    fn wait_for(&self, limit: Duration) -> bool;
    /// How the VMM process ended, in words (`None` while it runs).
    fn exit_status(&self) -> Option<String>;
    /// Whether the VM has ended.
    fn has_exited(&self) -> bool;
    /// Ends the VM now.
    fn kill(&self);
    /// Ends the VM unless it ends by itself within `grace`. Does not block.
    fn stop(self: Arc<Self>, grace: Duration);
    /// Stops the VM where it is (its process stopped, spec 1.6.27): no
    /// guest instruction runs until [`Vm::resume`].
    fn suspend(&self);
    /// Resumes a VM that [`Vm::suspend`] stopped.
    fn resume(&self);
}

/// Starts VMs.
pub trait Launcher: Send + Sync + std::fmt::Debug {
    /// Starts the VM of `spec.pid`, which will connect to `spec.socket`.
    fn launch(&self, spec: &LaunchSpec) -> Result<Arc<dyn Vm>, LaunchError>;
}

/// A template from `qemu-configs/`: whitespace-separated arguments,
/// `#` comments, `${NAME}` placeholders substituted after splitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    args: Vec<Vec<Piece>>,
}

/// Part of one template argument.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text kept as it is.
    Text(String),
    /// `${NAME}`; `in_option` when it follows `=` (a QEMU option value,
    /// whose commas must be doubled).
    Var { name: String, in_option: bool },
}

impl Template {
    /// Parses template text.
    pub fn parse(text: &str) -> Self {
        let args = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(str::split_whitespace)
            .map(Self::pieces)
            .collect();
        Self { args }
    }

    fn pieces(arg: &str) -> Vec<Piece> {
        let mut out = Vec::new();
        let mut rest = arg;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let (text, var) = (&rest[..start], &rest[start + 2..start + len]);
            if !text.is_empty() {
                out.push(Piece::Text(text.to_owned()));
            }
            out.push(Piece::Var {
                name: var.to_owned(),
                in_option: text.ends_with('='),
            });
            rest = &rest[start + len + 1..];
        }
        if !rest.is_empty() {
            out.push(Piece::Text(rest.to_owned()));
        }
        out
    }

    /// The arguments with every `${NAME}` replaced by `vars[NAME]`, once:
    /// a value is never searched for placeholders itself. A value that
    /// follows `=` is a QEMU option value, so its commas are doubled
    /// (QEMU's option syntax); unknown names are left as they are.
    pub fn render(&self, vars: &HashMap<&str, String>) -> Vec<String> {
        self.args
            .iter()
            .map(|pieces| {
                pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Text(t) => t.clone(),
                        Piece::Var { name, in_option } => match vars.get(name.as_str()) {
                            Some(v) if *in_option => escape_option(v),
                            Some(v) => v.clone(),
                            None => format!("${{{name}}}"),
                        },
                    })
                    .collect()
            })
            .collect()
    }
}

/// A value inside a QEMU option list (`key=value,...`): commas doubled.
pub fn escape_option(value: &str) -> String {
    value.replace(',', ",,")
}

/// Launches each process as a QEMU.
#[derive(Debug, Clone)]
pub struct QemuLauncher {
    /// The QEMU binary.
    pub qemu: PathBuf,
    /// `tcg` or `kvm`.
    pub accel: String,
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// The configuration.
    pub template: Template,
    /// The firmware, an absolute path (never looked up by QEMU).
    pub firmware: PathBuf,
    /// The host's TSC frequency ([`crate::host_tsc`]), passed to every
    /// guest kernel as `kernel.tsc_khz=`; with it the guest needs no PIT
    /// (`${PIT}` is `off`), without it the guest times its TSC against
    /// the PIT (`on`).
    pub tsc_khz: Option<u64>,
}

impl QemuLauncher {
    /// A launcher for `machine` on `qemu`, its firmware found in QEMU's
    /// data directories.
    pub fn new(
        qemu: PathBuf,
        accel: String,
        memory_mib: u32,
        machine: Machine,
    ) -> Result<Self, QemuError> {
        // The measurement (~10 ms) runs while QEMU is asked for its data
        // directories.
        host_tsc::measure_in_background();
        let firmware = qemu::firmware(&qemu, machine.firmware_names())?;
        Ok(Self {
            template: Template::parse(machine.template()),
            qemu,
            accel,
            memory_mib,
            firmware,
            tsc_khz: host_tsc::khz(),
        })
    }

    /// The guest kernel's command line: only what is the same for every VM
    /// of this daemon (a VM may boot before it knows which process it
    /// becomes). Unikernel images ignore `kernel.*` words.
    pub fn kernel_cmdline(&self) -> String {
        self.tsc_khz
            .map(|khz| format!("kernel.tsc_khz={khz}"))
            .unwrap_or_default()
    }

    /// The QEMU arguments for `spec`.
    pub fn args(&self, spec: &LaunchSpec) -> Vec<String> {
        let mem = self.memory_mib;
        let vars: HashMap<&str, String> = [
            ("ACCEL", self.accel.clone()),
            ("MEM_MIB", mem.to_string()),
            (
                "MEMORY",
                match &spec.memory {
                    None => format!("memory-backend-memfd,id=mem,size={mem}M,share=on"),
                    Some(path) => {
                        format!(
                            "memory-backend-file,id=mem,size={mem}M,mem-path={},share=on",
                            escape_option(&path.display().to_string())
                        )
                    }
                },
            ),
            ("SOCKET", spec.socket.display().to_string()),
            ("FIRMWARE", self.firmware.display().to_string()),
            ("KERNEL", spec.image.display().to_string()),
            ("SERIAL", spec.serial.display().to_string()),
            ("CMDLINE", self.kernel_cmdline()),
            (
                "PIT",
                if self.tsc_khz.is_some() { "off" } else { "on" }.to_string(),
            ),
        ]
        .into_iter()
        .collect();
        self.template.render(&vars)
    }
}

impl Launcher for QemuLauncher {
    fn launch(&self, spec: &LaunchSpec) -> Result<Arc<dyn Vm>, LaunchError> {
        let log = run_dir::create_private(&spec.qemu_log)
            .map_err(|e| LaunchError::Log(spec.qemu_log.clone(), e))?;
        // QEMU opens the serial file itself; it must find ours, private.
        run_dir::create_private(&spec.serial)
            .map_err(|e| LaunchError::Log(spec.serial.clone(), e))?;
        let mut cmd = Command::new(&self.qemu);
        // QEMU looks firmware and option ROMs up in its working directory
        // before its data directories: run it where only we can write.
        cmd.args(self.args(spec))
            .current_dir(&spec.workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child =
            spawn_tied_to_daemon(cmd).map_err(|e| LaunchError::Spawn(self.qemu.clone(), e))?;
        Ok(QemuVm::start(child))
    }
}

/// Spawns `cmd` so that it gets `SIGKILL` when the daemon dies: no VM
/// outlives its process manager. It runs in a process group of its own
/// (`setpgid(0, 0)`), so that the host terminal's Ctrl-C, Ctrl-Z and
/// Ctrl-\ reach only the daemon, which hands them to the tree's
/// foreground group (`signals.rs`).
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits,
/// not the process. A SPAWN runs on the parent guest's connection thread,
/// which ends when that guest exits or is killed, and would take the
/// children it started with it (an orphan killed with its parent). So
/// every VM is forked by one launcher thread that lives as long as the
/// daemon.
pub fn spawn_tied_to_daemon(mut cmd: Command) -> std::io::Result<std::process::Child> {
    cmd.process_group(0);
    type Job = (Command, mpsc::Sender<std::io::Result<std::process::Child>>);
    static LAUNCHER: std::sync::OnceLock<Mutex<mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    // SAFETY: the closure runs in the child between fork and exec and
    // only makes system calls (prctl(2), close_range(2)), which are
    // async-signal-safe; it touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // A VM inherits nothing but its stdio: not another guest's RAM,
            // not a vring eventfd received from another QEMU (vhost-user
            // passes fds without close-on-exec). Marking them close-on-exec
            // rather than closing them keeps std's exec-error pipe working.
            if libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let jobs = LAUNCHER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        // The sender lives in a static: this thread never ends before the process.
        let _ = std::thread::Builder::new()
            .name("vm-launcher".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            });
        Mutex::new(tx)
    });
    let (reply, result) = mpsc::channel();
    let sent = jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, reply));
    if sent.is_err() {
        return Err(std::io::Error::other("the launcher thread is gone"));
    }
    result
        .recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the launcher thread is gone")))
}

/// A QEMU process.
#[derive(Debug)]
pub struct QemuVm {
    host_pid: u32,
    child: Mutex<Option<std::process::Child>>,
    exited: Mutex<bool>,
    status: Mutex<Option<std::process::ExitStatus>>,
    cv: Condvar,
}

impl QemuVm {
    fn start(child: std::process::Child) -> Arc<dyn Vm> {
        Arc::new(Self {
            host_pid: child.id(),
            child: Mutex::new(Some(child)),
            exited: Mutex::new(false),
            status: Mutex::new(None),
            cv: Condvar::new(),
        })
    }

    /// The host pid of the QEMU process.
    pub fn host_pid(&self) -> u32 {
        self.host_pid
    }

    /// Sends `signo` to the QEMU process unless it has been reaped.
    fn signal(&self, signo: libc::c_int) {
        let exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
        if !*exited {
            // SAFETY: kill(2) on a pid we spawned and have not reaped (the
            // `exited` flag is set only after wait(2) under this lock).
            unsafe { libc::kill(self.host_pid as libc::pid_t, signo) };
        }
    }
}

impl Vm for QemuVm {
    fn wait(&self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            let status = child.wait().ok();
            *self.status.lock().unwrap_or_else(|e| e.into_inner()) = status;
            *self.exited.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.cv.notify_all();
        } else {
            let mut exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
            while !*exited {
                exited = self.cv.wait(exited).unwrap_or_else(|e| e.into_inner());
            }
        }
    }

    fn wait_for(&self, limit: Duration) -> bool {
        // The reaper thread calls `wait`; this only watches the flag.
        let exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
        let (exited, _) = self
            .cv
            .wait_timeout_while(exited, limit, |e| !*e)
            .unwrap_or_else(|e| e.into_inner());
        *exited
    }

    fn exit_status(&self) -> Option<String> {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map(|s| s.to_string())
    }

    fn has_exited(&self) -> bool {
        *self.exited.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn kill(&self) {
        self.signal(libc::SIGKILL);
    }

    fn suspend(&self) {
        self.signal(libc::SIGSTOP);
    }

    fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    fn stop(self: Arc<Self>, grace: Duration) {
        std::thread::spawn(move || {
            let exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
            let (exited, _) = self
                .cv
                .wait_timeout_while(exited, grace, |e| !*e)
                .unwrap_or_else(|e| e.into_inner());
            drop(exited);
            self.kill();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a VM forked from a guest's connection thread died with
    /// that thread (`PR_SET_PDEATHSIG` is per thread), so an orphan's QEMU
    /// was killed when its parent exited.
    #[test]
    fn a_vm_outlives_the_thread_that_launched_it() {
        let child = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            spawn_tied_to_daemon(cmd).unwrap()
        })
        .join()
        .unwrap();
        let mut child = child;
        // The death signal would arrive at once; give it time to.
        let until = std::time::Instant::now() + Duration::from_millis(300);
        while std::time::Instant::now() < until {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the VM died with the thread that launched it"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }

    fn launcher(m: Machine) -> QemuLauncher {
        QemuLauncher {
            qemu: "qemu".into(),
            accel: "tcg".into(),
            memory_mib: 64,
            template: Template::parse(m.template()),
            firmware: "/fw/qboot.rom".into(),
            tsc_khz: Some(2_596_130),
        }
    }

    fn spec(memory: Option<PathBuf>) -> LaunchSpec {
        LaunchSpec {
            pid: 1,
            image: "/img".into(),
            socket: "/s.sock".into(),
            serial: "/serial".into(),
            qemu_log: "/log".into(),
            memory,
            workdir: "/run".into(),
        }
    }

    #[test]
    fn template_substitutes_after_splitting() {
        let t = Template::parse("# comment\n-kernel ${KERNEL} # trailing\n-m ${MEM_MIB}M\n");
        let vars: HashMap<&str, String> = [
            ("KERNEL", "/a b/img".to_string()),
            ("MEM_MIB", "64".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(t.render(&vars), vec!["-kernel", "/a b/img", "-m", "64M"]);
    }

    /// Regression: values were substituted again, in `HashMap` order, so an
    /// image named `${SOCKET}` became the socket path in some runs.
    #[test]
    fn a_value_that_looks_like_a_placeholder_is_substituted_once() {
        let t = Template::parse("-kernel ${KERNEL} -chardev socket,path=${SOCKET}");
        let vars: HashMap<&str, String> = [
            ("KERNEL", "/images/${SOCKET}".to_string()),
            ("SOCKET", "/run/${KERNEL}.sock".to_string()),
        ]
        .into_iter()
        .collect();
        for _ in 0..32 {
            assert_eq!(
                t.render(&vars),
                vec![
                    "-kernel",
                    "/images/${SOCKET}",
                    "-chardev",
                    "socket,path=/run/${KERNEL}.sock"
                ]
            );
        }
    }

    /// Regression: a run directory with a comma broke `-chardev socket,path=`.
    #[test]
    fn commas_in_option_values_are_doubled_and_elsewhere_kept() {
        let mut s = spec(Some("/proc/1/fd/9".into()));
        s.socket = "/tmp/a,b/pid-1.sock".into();
        s.serial = "/tmp/a,b/pid-1.serial.log".into();
        s.image = "/tmp/a,b/img".into();
        let args = launcher(Machine::MicrovmCarrier).args(&s);
        assert!(
            args.contains(&"socket,id=vpipe,path=/tmp/a,,b/pid-1.sock".to_string()),
            "{args:?}"
        );
        // `-serial file:` and `-kernel` take the path as it is.
        assert!(
            args.contains(&"file:/tmp/a,b/pid-1.serial.log".to_string()),
            "{args:?}"
        );
        assert!(args.contains(&"/tmp/a,b/img".to_string()), "{args:?}");
    }

    #[test]
    fn every_shipped_template_uses_shared_memory_the_socket_and_absolute_firmware() {
        for m in [
            Machine::MicrovmCarrier,
            Machine::MicrovmGeneric,
            Machine::Q35Carrier,
        ] {
            let args = launcher(m).args(&spec(None)).join(" ");
            assert!(
                args.contains("memory-backend-memfd,id=mem,size=64M,share=on"),
                "{m:?}"
            );
            assert!(args.contains("socket,id=vpipe,path=/s.sock"), "{m:?}");
            assert!(args.contains("-kernel /img"), "{m:?}");
            assert!(args.contains("-bios /fw/qboot.rom"), "{m:?}");
            assert!(!args.contains("${"), "{m:?}: unreplaced placeholder");
        }
    }

    /// The host's TSC rate goes to every guest kernel on its command line
    /// (the same for every VM), and then the PIT is left out; without it
    /// the guest times its TSC against the PIT.
    #[test]
    fn tsc_rate_goes_on_the_command_line_and_the_pit_only_without_it() {
        for m in [Machine::MicrovmCarrier, Machine::MicrovmGeneric] {
            let mut l = launcher(m);
            let args = l.args(&spec(None));
            let at = args.iter().position(|a| a == "-append").expect("-append");
            assert_eq!(args[at + 1], "kernel.tsc_khz=2596130", "{m:?}");
            assert!(
                args[..at].iter().any(|a| a.contains(",pit=off,")),
                "{args:?}"
            );
            l.tsc_khz = None;
            let args = l.args(&spec(None));
            let at = args.iter().position(|a| a == "-append").expect("-append");
            assert_eq!(args[at + 1], "", "{m:?}");
            assert!(args.iter().any(|a| a.contains(",pit=on,")), "{args:?}");
        }
        let args = launcher(Machine::Q35Carrier).args(&spec(None)).join(" ");
        assert!(args.contains("-append kernel.tsc_khz=2596130"), "{args}");
    }

    /// microvm without ACPI would append `virtio_mmio.device=` words to
    /// the command line, which the guest kernel would take for argv.
    #[test]
    fn microvm_has_no_acpi_and_adds_nothing_to_the_command_line() {
        for m in [Machine::MicrovmCarrier, Machine::MicrovmGeneric] {
            let args = launcher(m).args(&spec(None));
            let machine = &args[args.iter().position(|a| a == "-machine").unwrap() + 1];
            assert!(machine.contains(",acpi=off,"), "{machine}");
            assert!(machine.contains(",auto-kernel-cmdline=off"), "{machine}");
            assert!(args.contains(&"-no-user-config".to_string()), "{args:?}");
        }
    }

    #[test]
    fn fork_child_boots_on_the_copied_memory_file() {
        let args = launcher(Machine::MicrovmCarrier)
            .args(&spec(Some("/proc/1/fd/9".into())))
            .join(" ");
        assert!(
            args.contains("memory-backend-file,id=mem,size=64M,mem-path=/proc/1/fd/9,share=on"),
            "{args}"
        );
    }
}
