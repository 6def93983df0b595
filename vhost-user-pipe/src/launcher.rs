//! Starting and stopping the VM of a process: the [`Launcher`] trait, the
//! real [`QemuLauncher`] that renders a `qemu-configs/` template, and the
//! [`ChannelLauncher`] test double that hands the socket to a test instead.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use thiserror::Error;

use crate::process::Pid;

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
    /// The launcher is closed (test double).
    #[error("launcher is closed")]
    Closed,
}

/// A running VM.
pub trait Vm: Send + Sync + std::fmt::Debug {
    /// Blocks until the VM has ended.
    fn wait(&self);
    /// Whether the VM has ended.
    fn has_exited(&self) -> bool;
    /// Ends the VM now.
    fn kill(&self);
    /// Ends the VM unless it ends by itself within `grace`. Does not block.
    fn stop(self: Arc<Self>, grace: Duration);
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
    args: Vec<String>,
}

impl Template {
    /// Parses template text.
    pub fn parse(text: &str) -> Self {
        let args = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(str::split_whitespace)
            .map(str::to_owned)
            .collect();
        Self { args }
    }

    /// The arguments with every `${NAME}` replaced by `vars[NAME]`.
    pub fn render(&self, vars: &HashMap<&str, String>) -> Vec<String> {
        self.args
            .iter()
            .map(|a| {
                let mut out = a.clone();
                for (k, v) in vars {
                    out = out.replace(&format!("${{{k}}}"), v);
                }
                out
            })
            .collect()
    }
}

/// The QEMU configuration the launcher renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// microvm with the vhost-user-gpio carrier on virtio-mmio (QEMU 9.0 - 10.1).
    MicrovmCarrier,
    /// microvm with the generic vhost-user-test-device (QEMU 10.2+).
    MicrovmGeneric,
    /// q35 with the vhost-user-gpio-pci carrier.
    Q35Carrier,
}

impl Machine {
    /// The template text, from `qemu-configs/`.
    pub fn template(self) -> &'static str {
        match self {
            Machine::MicrovmCarrier => include_str!("../../qemu-configs/microvm-carrier.args"),
            Machine::MicrovmGeneric => include_str!("../../qemu-configs/microvm-generic.args"),
            Machine::Q35Carrier => include_str!("../../qemu-configs/q35-carrier.args"),
        }
    }
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
}

impl QemuLauncher {
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
                            path.display()
                        )
                    }
                },
            ),
            ("SOCKET", spec.socket.display().to_string()),
            ("KERNEL", spec.image.display().to_string()),
            ("SERIAL", spec.serial.display().to_string()),
        ]
        .into_iter()
        .collect();
        self.template.render(&vars)
    }
}

impl Launcher for QemuLauncher {
    fn launch(&self, spec: &LaunchSpec) -> Result<Arc<dyn Vm>, LaunchError> {
        let log =
            File::create(&spec.qemu_log).map_err(|e| LaunchError::Log(spec.qemu_log.clone(), e))?;
        let mut cmd = Command::new(&self.qemu);
        cmd.args(self.args(spec))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child =
            spawn_tied_to_daemon(cmd).map_err(|e| LaunchError::Spawn(self.qemu.clone(), e))?;
        Ok(QemuVm::start(child))
    }
}

/// Spawns `cmd` so that it gets `SIGKILL` when the daemon dies: no VM
/// outlives its process manager.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits,
/// not the process. A SPAWN runs on the parent guest's connection thread,
/// which ends when that guest exits or is killed, and would take the
/// children it started with it (an orphan killed with its parent). So
/// every VM is forked by one launcher thread that lives as long as the
/// daemon.
pub fn spawn_tied_to_daemon(mut cmd: Command) -> std::io::Result<std::process::Child> {
    type Job = (Command, mpsc::Sender<std::io::Result<std::process::Child>>);
    static LAUNCHER: std::sync::OnceLock<Mutex<mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    // SAFETY: the closure runs in the child between fork and exec and
    // only calls prctl(2), which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
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
    cv: Condvar,
}

impl QemuVm {
    fn start(child: std::process::Child) -> Arc<dyn Vm> {
        Arc::new(Self {
            host_pid: child.id(),
            child: Mutex::new(Some(child)),
            exited: Mutex::new(false),
            cv: Condvar::new(),
        })
    }

    /// The host pid of the QEMU process.
    pub fn host_pid(&self) -> u32 {
        self.host_pid
    }
}

impl Vm for QemuVm {
    fn wait(&self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            let _ = child.wait();
            *self.exited.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.cv.notify_all();
        } else {
            let mut exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
            while !*exited {
                exited = self.cv.wait(exited).unwrap_or_else(|e| e.into_inner());
            }
        }
    }

    fn has_exited(&self) -> bool {
        *self.exited.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn kill(&self) {
        let exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
        if !*exited {
            // SAFETY: kill(2) on a pid we spawned and have not reaped (the
            // `exited` flag is set only after wait(2) under this lock).
            unsafe { libc::kill(self.host_pid as libc::pid_t, libc::SIGKILL) };
        }
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

/// A launch the [`ChannelLauncher`] hands to a test.
#[derive(Debug)]
pub struct Launched {
    /// What the supervisor asked for.
    pub spec: LaunchSpec,
    /// The fake VM: call [`FakeVm::end`] to make it "exit".
    pub vm: Arc<FakeVm>,
}

/// A test double: every launch is sent to a channel; the test connects its
/// own vhost-user frontend to `spec.socket`.
#[derive(Debug)]
pub struct ChannelLauncher {
    tx: Mutex<mpsc::Sender<Launched>>,
}

impl ChannelLauncher {
    /// The launcher and the receiving end.
    pub fn new() -> (Self, mpsc::Receiver<Launched>) {
        let (tx, rx) = mpsc::channel();
        (Self { tx: Mutex::new(tx) }, rx)
    }
}

impl Launcher for ChannelLauncher {
    fn launch(&self, spec: &LaunchSpec) -> Result<Arc<dyn Vm>, LaunchError> {
        let vm = Arc::new(FakeVm::default());
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        tx.send(Launched {
            spec: spec.clone(),
            vm: vm.clone(),
        })
        .map_err(|_| LaunchError::Closed)?;
        Ok(vm)
    }
}

/// The VM of a [`ChannelLauncher`] launch.
#[derive(Debug, Default)]
pub struct FakeVm {
    ended: Mutex<bool>,
    killed: Mutex<bool>,
    cv: Condvar,
}

impl FakeVm {
    /// Marks the VM as ended.
    pub fn end(&self) {
        *self.ended.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_all();
    }

    /// Whether the supervisor killed it.
    pub fn was_killed(&self) -> bool {
        *self.killed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Vm for FakeVm {
    fn wait(&self) {
        let mut ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        while !*ended {
            ended = self.cv.wait(ended).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn has_exited(&self) -> bool {
        *self.ended.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn kill(&self) {
        *self.killed.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.end();
    }

    fn stop(self: Arc<Self>, _grace: Duration) {
        self.kill();
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

    #[test]
    fn every_shipped_template_uses_shared_memory_and_the_socket() {
        for m in [
            Machine::MicrovmCarrier,
            Machine::MicrovmGeneric,
            Machine::Q35Carrier,
        ] {
            let l = QemuLauncher {
                qemu: "qemu".into(),
                accel: "tcg".into(),
                memory_mib: 64,
                template: Template::parse(m.template()),
            };
            let spec = LaunchSpec {
                pid: 1,
                image: "/img".into(),
                socket: "/s.sock".into(),
                serial: "/serial".into(),
                qemu_log: "/log".into(),
                memory: None,
            };
            let args = l.args(&spec).join(" ");
            assert!(
                args.contains("memory-backend-memfd,id=mem,size=64M,share=on"),
                "{m:?}"
            );
            assert!(args.contains("socket,id=vpipe,path=/s.sock"), "{m:?}");
            assert!(args.contains("-kernel /img"), "{m:?}");
            assert!(!args.contains("${"), "{m:?}: unreplaced placeholder");
        }
    }

    #[test]
    fn fork_child_boots_on_the_copied_memory_file() {
        let l = QemuLauncher {
            qemu: "qemu".into(),
            accel: "tcg".into(),
            memory_mib: 64,
            template: Template::parse(Machine::MicrovmCarrier.template()),
        };
        let spec = LaunchSpec {
            pid: 2,
            image: "/img".into(),
            socket: "/s.sock".into(),
            serial: "/serial".into(),
            qemu_log: "/log".into(),
            memory: Some("/proc/1/fd/9".into()),
        };
        let args = l.args(&spec).join(" ");
        assert!(
            args.contains("memory-backend-file,id=mem,size=64M,mem-path=/proc/1/fd/9,share=on"),
            "{args}"
        );
    }
}
