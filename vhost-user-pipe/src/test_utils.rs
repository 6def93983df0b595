//! Test doubles for the side effects of the process manager (feature
//! `test-utils`, never in the daemon's binary), as Firecracker's
//! `test_utils.rs`: a [`ChannelLauncher`] that hands each launch to a test
//! instead of starting QEMU, its [`FakeVm`], and a [`NullConnector`] that
//! serves no connection (the fuzz targets drive the request path directly).

use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::connection::{Binding, ConnectionError, Connector, Endpoint, Events};
use crate::launcher::{LaunchError, LaunchSpec, Launcher, Vm};
use crate::requests::Host;
use crate::sync::{lock, wait, wait_timeout};

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
        let tx = lock(&self.tx);
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
    suspended: Mutex<bool>,
    cv: Condvar,
}

impl FakeVm {
    /// Marks the VM as ended.
    pub fn end(&self) {
        *lock(&self.ended) = true;
        self.cv.notify_all();
    }

    /// Whether the supervisor killed it.
    pub fn was_killed(&self) -> bool {
        *lock(&self.killed)
    }

    /// Whether it is suspended (its process stopped).
    pub fn is_suspended(&self) -> bool {
        *lock(&self.suspended)
    }
}

impl Vm for FakeVm {
    fn wait(&self) {
        let mut ended = lock(&self.ended);
        while !*ended {
            ended = wait(&self.cv, ended);
        }
    }

    fn wait_for(&self, limit: Duration) -> bool {
        let ended = lock(&self.ended);
        let until = std::time::Instant::now() + limit;
        let mut ended = ended;
        while !*ended {
            let Some(left) = until.checked_duration_since(std::time::Instant::now()) else {
                break;
            };
            ended = wait_timeout(&self.cv, ended, left).0;
        }
        *ended
    }

    fn exit_status(&self) -> Option<String> {
        self.has_exited().then(|| "ended".to_owned())
    }

    fn has_exited(&self) -> bool {
        *lock(&self.ended)
    }

    fn kill(&self) {
        *lock(&self.killed) = true;
        self.end();
    }

    fn stop(self: Arc<Self>, _grace: Duration) {
        self.kill();
    }

    fn suspend(&self) {
        *lock(&self.suspended) = true;
    }

    fn resume(&self) {
        *lock(&self.suspended) = false;
    }
}

/// A launcher whose VMs are [`FakeVm`]s that never run.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullLauncher;

impl Launcher for NullLauncher {
    fn launch(&self, _spec: &LaunchSpec) -> Result<Arc<dyn Vm>, LaunchError> {
        Ok(Arc::new(FakeVm::default()))
    }
}

/// A connector that serves nothing: the process exists in the kernel and
/// its host record is kept, but no socket is bound and no thread started.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullConnector;

impl Connector for NullConnector {
    fn open(
        &self,
        _who: Arc<Binding>,
        _endpoint: Endpoint,
        _host: Arc<dyn Host>,
        _events: Arc<dyn Events>,
    ) -> Result<(), ConnectionError> {
        Ok(())
    }
}

/// A host terminal held in memory, for trees without one: `TCGETS` starts
/// as a fresh terminal's modes, the window 80×24; every fd is the same
/// terminal. It records each `TCSETS*` it is asked for.
#[derive(Debug)]
pub struct FakeTerminal {
    state: Mutex<(virtio_pipe_protocol::Termios, virtio_pipe_protocol::Winsize)>,
    sets: Mutex<Vec<(u32, virtio_pipe_protocol::SetWhen)>>,
}

impl Default for FakeTerminal {
    fn default() -> Self {
        use zerocopy::little_endian::U16;
        let ws = virtio_pipe_protocol::Winsize {
            ws_row: U16::new(24),
            ws_col: U16::new(80),
            ..Default::default()
        };
        Self {
            state: Mutex::new((virtio_pipe_protocol::Termios::STANDARD, ws)),
            sets: Mutex::new(Vec::new()),
        }
    }
}

impl FakeTerminal {
    /// The `TCSETS*` calls so far: (host fd, when).
    pub fn sets(&self) -> Vec<(u32, virtio_pipe_protocol::SetWhen)> {
        lock(&self.sets).clone()
    }
}

impl crate::kernel::HostTerminal for FakeTerminal {
    fn get_attr(&self, _fd: u32) -> std::io::Result<virtio_pipe_protocol::Termios> {
        Ok(lock(&self.state).0)
    }

    fn set_attr(
        &self,
        fd: u32,
        when: virtio_pipe_protocol::SetWhen,
        t: &virtio_pipe_protocol::Termios,
    ) -> std::io::Result<()> {
        lock(&self.state).0 = *t;
        lock(&self.sets).push((fd, when));
        Ok(())
    }

    fn get_winsize(&self, _fd: u32) -> std::io::Result<virtio_pipe_protocol::Winsize> {
        Ok(lock(&self.state).1)
    }

    fn set_winsize(&self, _fd: u32, ws: &virtio_pipe_protocol::Winsize) -> std::io::Result<()> {
        lock(&self.state).1 = *ws;
        Ok(())
    }
}
