//! One process of the tree, as the kernel sees it: identity, parent and
//! children, fd table, args, state and pending events.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use virtio_pipe_protocol::{wait_status_exited, wait_status_signaled, Event, ExitKind, WaitTarget};

use crate::fdtable::FdTable;
use crate::io::Io;

/// A process id. 0 is the host (the daemon itself), 1 the root guest.
pub type Pid = u32;

/// The first VM id: parked VMs of the pool are recorded under ids from here
/// up, which no process ever gets (the kernel allocates pids below it).
pub const FIRST_VM_ID: Pid = 1 << 30;

/// The daemon's own pseudo-process: it holds the host ends of the root's standard streams.
pub const HOST_PID: Pid = 0;
/// The root guest.
pub const ROOT_PID: Pid = 1;

/// Most events held for a process that has not posted eventq buffers.
pub const EVENT_BACKLOG: usize = 64;

/// How a process started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// From its image: run main.
    Fresh,
    /// As a fork child: resume the record at this guest-physical address.
    Forked(u64),
}

/// Whether the process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Its VM runs (or is starting).
    Running,
    /// It ended with this wait status and awaits its parent's WAIT.
    Zombie(u32),
}

/// How a process ended, as a wait status.
pub fn wait_status(kind: ExitKind) -> u32 {
    match kind {
        ExitKind::Code(c) => wait_status_exited(c),
        ExitKind::Signaled(s) => wait_status_signaled(s),
    }
}

/// Something that wakes the thread serving a process's queues.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// A stop or continue of a process not yet reported to its parent's
/// `WAIT` (with `UNTRACED` or `CONTINUED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateReport {
    /// Stopped by this signal.
    Stopped(u32),
    /// Continued.
    Continued,
}

/// A WAIT held until a child ends (or stops, or is continued).
#[allow(missing_debug_implementations)]
pub struct PendingWait {
    /// Which child (the caller's own group already resolved to `Group`).
    pub target: WaitTarget,
    /// Also a child that stopped (`WAIT_F_UNTRACED`).
    pub untraced: bool,
    /// Also a child that was continued (`WAIT_F_CONTINUED`).
    pub continued: bool,
    /// The request.
    pub io: Box<dyn Io>,
}

/// One process.
pub struct Process {
    /// Its pid.
    pub pid: Pid,
    /// Its parent's pid.
    pub ppid: Pid,
    /// Its children, live or zombie.
    pub children: BTreeSet<Pid>,
    /// Running or ended.
    pub state: State,
    /// Its fd table.
    pub fds: FdTable,
    /// argv, as GET_ARGS returns it.
    pub argv: Vec<Vec<u8>>,
    /// env, as GET_ARGS returns it.
    pub env: Vec<Vec<u8>>,
    /// How it started.
    pub start: Start,
    /// The image it runs.
    pub image: String,
    /// The WAITs it is blocked in, oldest first (several threads of a
    /// process may wait at once).
    pub waits: Vec<PendingWait>,
    /// Events not yet delivered on its eventq.
    pub events: VecDeque<Event>,
    /// Wakes its queue thread when an event is queued.
    pub waker: Option<Waker>,
    /// The feature bits its driver acknowledged.
    pub features: u64,
    /// Whether its device is stopped: the kernel holds its requests
    /// (`Kernel::freeze`).
    pub frozen: bool,
    /// Its working directory, held open so that it is found where it is
    /// now after a rename (`Kernel::cwd_now`); `None`: the root.
    pub cwd: Option<crate::files::HeldDir>,
    /// Its umask as the device knows it: its parent's, or what its last
    /// `EXEC` passed (`START` gives it to a VM that an `EXEC` launched).
    pub umask: u32,
    /// The path of its program in the root (`GET_EXE`); none for a
    /// process that boots an image of its own.
    pub exe: Option<Vec<u8>>,
    /// The VM it borrows, while it is a vfork child that has not yet
    /// EXEC'd or ended (spec: *VFORK*).
    pub lender: Option<Pid>,
    /// A signal that ended it while it borrowed: it takes effect when it
    /// gives the VM back.
    pub deferred_kill: Option<u8>,
    /// Its process group.
    pub pgid: Pid,
    /// Its session.
    pub sid: Pid,
    /// Whether it has run a new program (`EXEC`, or booted by `SPAWN`)
    /// since it was created: its parent may no longer `SETPGID` it.
    pub execd: bool,
    /// The stop signal it is stopped by (spec 1.6.27); its requests are
    /// held meanwhile.
    pub stopped: Option<u32>,
    /// Its stop or continue not yet reported to a `WAIT` of its parent.
    pub report: Option<StateReport>,
    /// Its own `STOP` request, completed when it is continued.
    pub stop_io: Option<Box<dyn Io>>,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid)
            .field("ppid", &self.ppid)
            .field("state", &self.state)
            .field("fds", &self.fds.len())
            .field("image", &self.image)
            .finish()
    }
}

impl Process {
    /// A running process with an empty fd table.
    pub fn new(
        pid: Pid,
        ppid: Pid,
        image: String,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
        start: Start,
    ) -> Self {
        Self {
            pid,
            ppid,
            children: BTreeSet::new(),
            state: State::Running,
            fds: FdTable::new(),
            argv,
            env,
            start,
            image,
            waits: Vec::new(),
            events: VecDeque::new(),
            waker: None,
            features: 0,
            frozen: false,
            cwd: None,
            umask: virtio_pipe_protocol::fs::DEFAULT_UMASK,
            exe: None,
            lender: None,
            deferred_kill: None,
            pgid: pid,
            sid: pid,
            execd: false,
            stopped: None,
            report: None,
            stop_io: None,
        }
    }

    /// Whether its driver negotiated feature bit `bit`.
    pub fn has_feature(&self, bit: u32) -> bool {
        self.features & (1 << bit) != 0
    }

    /// Whether its VM still runs.
    pub fn is_running(&self) -> bool {
        self.state == State::Running
    }

    /// Queues an event and wakes its queue thread. Past the backlog, the
    /// oldest event is dropped: a child exit stays visible through WAIT.
    pub fn post(&mut self, event: Event) {
        if let Event::Signal { signo, .. } = event {
            if self
                .events
                .iter()
                .any(|e| matches!(e, Event::Signal { signo: s, .. } if *s == signo))
            {
                return;
            }
        }
        if self.events.len() >= EVENT_BACKLOG {
            // Signals are never dropped (they coalesce); a child exit stays
            // visible through WAIT, so the oldest of those goes.
            match self
                .events
                .iter()
                .position(|e| matches!(e, Event::ChildExit { .. }))
            {
                Some(i) => {
                    self.events.remove(i);
                }
                None if matches!(event, Event::ChildExit { .. }) => return,
                None => {}
            }
        }
        self.events.push_back(event);
        if let Some(w) = &self.waker {
            w();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc() -> Process {
        Process::new(2, 1, "img".into(), vec![], vec![], Start::Fresh)
    }

    #[test]
    fn duplicate_pending_signals_coalesce() {
        let mut p = proc();
        p.post(Event::Signal {
            signo: 13,
            sender: 0,
        });
        p.post(Event::Signal {
            signo: 13,
            sender: 0,
        });
        assert_eq!(p.events.len(), 1);
    }

    #[test]
    fn event_backlog_is_bounded() {
        let mut p = proc();
        for pid in 0..(EVENT_BACKLOG as u32 + 10) {
            p.post(Event::ChildExit { pid, status: 0 });
        }
        assert_eq!(p.events.len(), EVENT_BACKLOG);
        assert_eq!(
            p.events.front(),
            Some(&Event::ChildExit { pid: 10, status: 0 })
        );
    }

    #[test]
    fn wait_status_encodes_like_linux() {
        assert_eq!(wait_status(ExitKind::Code(3)), 0x300);
        assert_eq!(wait_status(ExitKind::Signaled(9)), 9);
    }
}
