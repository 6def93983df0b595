//! The "kernel" of a process tree: every pipe, every fd table and the process
//! table, and the operations of the spec on them. Spec: *Device Operation*.
//!
//! The kernel is plain data behind one mutex (see `supervisor/`). It has no
//! vhost types: requests arrive already parsed ([`Request`]) with their buffers
//! as `Box<dyn Io>`. A request either completes at once (the kernel calls
//! [`Io::complete`]) or is held (a blocked READ, WRITE, WAIT or POLL) and completed
//! later by whichever call makes progress possible, perhaps on behalf of
//! another guest. Work that must happen outside the lock (stopping a VM,
//! ending the tree) is returned as [`Effect`]s.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use virtio_pipe_protocol::fs::{O_APPEND, O_RDONLY, O_WRONLY};
use virtio_pipe_protocol::signal::{is_stop, SIGCHLD, SIGCONT, SIGKILL, SIGPIPE, SIGSTOP};
use virtio_pipe_protocol::FEATURE_SIGNALS;
use virtio_pipe_protocol::{
    ArgsBlob, Errno, Event, ExitKind, FileAction, Request, RespHeader, StartKind, WaitTarget,
    ARGS_MAX, O_NONBLOCK,
};

use crate::fdtable::{End, FdTable, Ofd, Open, PipeId};
use crate::files::{OpenFile, Root};
use crate::io::Io;
use crate::limits::{args_bytes, Limits};
use crate::pipe::{Note, Notes, Pipe, Waiter};
use crate::process::{
    wait_status, PendingWait, Pid, Process, Start, State, Waker, FIRST_VM_ID, HOST_PID, ROOT_PID,
};

mod devices;
mod files;
mod groups;
mod interrupt;
mod poll;
mod stop;
mod tty;
mod vfork;

pub use poll::PendingPoll;
pub use tty::{HostTerminal, TtyState};
pub use vfork::ExecOutcome;

/// Work for the supervisor, to do once the kernel lock is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The process exited: its VM powers itself off; stop it if it lingers.
    StopVm(Pid),
    /// The process was killed or vanished: end its VM now.
    KillVm(Pid),
    /// The root ended with this wait status: end the tree.
    TreeDone(u32),
    /// A vfork child EXEC'd: launch a VM of its own, running its program.
    LaunchVm(Pid),
    /// The process stopped: stop its VM (`SIGSTOP` to its QEMU).
    SuspendVm(Pid),
    /// The process was continued: resume its VM (`SIGCONT` to its QEMU).
    ResumeVm(Pid),
}

/// Object counts, for leak checks and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Processes, live or zombie (the host not counted).
    pub processes: usize,
    /// Live processes.
    pub running: usize,
    /// Pipes.
    pub pipes: usize,
    /// Open fds, the host's included.
    pub fds: usize,
    /// Bytes sitting in pipe buffers.
    pub buffered: usize,
    /// Blocked requests (reads, writes, waits and polls).
    pub waiting: usize,
}

/// What became of the tree's processes, for the summary `run` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Processes created since the tree began, the root included.
    pub created: usize,
    /// How many processes ended with each wait status.
    pub ended: BTreeMap<u32, usize>,
}

/// The state of one process tree.
#[derive(Debug)]
pub struct Kernel {
    procs: BTreeMap<Pid, Process>,
    next_pid: Pid,
    pipes: Vec<Option<Pipe>>,
    /// The pipes behind the root's standard streams: they are not pipes
    /// for the limits (spec: *Limits*).
    stdio_pipes: BTreeSet<PipeId>,
    /// The daemon's stdin as the root's fd 0, until the root is created.
    host_stdin: Option<(OpenFile, u64)>,
    reserved: usize,
    limits: Limits,
    effects: Vec<Effect>,
    /// The requests held for processes whose device is stopped.
    held: BTreeMap<Pid, Vec<Parked>>,
    /// How many processes ended with each wait status (for the summary).
    ended: BTreeMap<u32, usize>,
    /// The tree's root directory (spec: *Files*); none for a tree that
    /// serves no files.
    root: Option<Root>,
    /// fd references to open files, tree-wide (the `ENFILE` limit).
    open_files: usize,
    /// For each VM, the vfork children borrowing it, innermost last: its
    /// connection's requests are the last one's (spec: *VFORK*).
    borrowers: BTreeMap<Pid, Vec<Pid>>,
    /// Which of the host's fds 0, 1 and 2 are terminals.
    host_ttys: [bool; 3],
    /// The root's standard-stream pipes whose host end is a terminal.
    terminals: BTreeSet<PipeId>,
    /// The root's standard-stream pipes, by fd (0, 1, 2), for `/dev/tty`.
    stdio_ids: [Option<PipeId>; 3],
    /// The blocked `POLL`s of running processes (`poll.rs`).
    polls: Vec<PendingPoll>,
    /// The tree's terminal: the host's, and the foreground group (`tty.rs`).
    tty: TtyState,
}

/// A request held while its process's device is stopped.
pub enum Parked {
    /// Submitted while frozen: run on resume.
    New(Request, Box<dyn Io>),
    /// A READ or WRITE that was blocked on a pipe.
    Pipe {
        /// The pipe.
        pipe: PipeId,
        /// Which end it uses.
        end: End,
        /// The blocked request.
        waiter: Waiter,
    },
    /// A WAIT that was blocked.
    Wait(PendingWait),
    /// A POLL that was blocked.
    Poll(PendingPoll),
}

impl std::fmt::Debug for Parked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Parked::New(req, _) => write!(f, "New({req:?})"),
            Parked::Pipe { pipe, end, waiter } => write!(f, "Pipe({pipe}, {end:?}, {waiter:?})"),
            Parked::Wait(w) => write!(f, "Wait({:?})", w.target),
            Parked::Poll(p) => write!(f, "{p:?}"),
        }
    }
}

/// Acts on a pipe's notes as they come: the process table, borrowed apart
/// from the pipes.
struct Signaller<'a>(&'a mut BTreeMap<Pid, Process>);

impl Notes for Signaller<'_> {
    fn note(&mut self, note: Note) {
        match note {
            Note::SigPipe(pid) => {
                if let Some(p) = self.0.get_mut(&pid) {
                    if p.has_feature(FEATURE_SIGNALS) && p.is_running() {
                        p.post(Event::Signal {
                            signo: SIGPIPE,
                            sender: HOST_PID,
                        });
                    }
                }
            }
        }
    }
}

/// Completes `io` with `bytes` in its writable payload and ret0 = their
/// length (`nul`: one more, a NUL after them); `ERANGE` with ret0 = the
/// length needed when they do not fit.
fn answer_bytes(mut io: Box<dyn Io>, bytes: &[u8], nul: bool) {
    let need = bytes.len() + nul as usize;
    if need > io.writable_len() {
        let mut resp = RespHeader::err(Errno::Erange);
        resp.rets[0].set(need as u64);
        return io.complete(resp, 0);
    }
    let mut out = bytes.to_vec();
    if nul {
        out.push(0);
    }
    let n = io.write_payload(0, &out);
    io.complete(RespHeader::ok([n as u64, 0, 0]), n);
}

fn done(io: Box<dyn Io>, r: Result<[u64; 3], Errno>) {
    match r {
        Ok(rets) => io.complete(RespHeader::ok(rets), 0),
        Err(e) => io.complete(RespHeader::err(e), 0),
    }
}

/// Whether a signal's default action ends the process (POSIX).
fn default_terminates(signo: u32) -> bool {
    // SIGCHLD, SIGURG and SIGWINCH are ignored by default; SIGCONT,
    // SIGSTOP, SIGTSTP, SIGTTIN and SIGTTOU continue or stop, and without
    // job control they are discarded too (spec: `dev-kill-default`).
    !matches!(signo, SIGCHLD | 18..=22 | 23 | 28)
}

impl Kernel {
    /// A kernel with only the host pseudo-process.
    pub fn new(limits: Limits) -> Self {
        let mut procs = BTreeMap::new();
        procs.insert(
            HOST_PID,
            Process::new(
                HOST_PID,
                HOST_PID,
                "<host>".into(),
                vec![],
                vec![],
                Start::Fresh,
            ),
        );
        Self {
            procs,
            next_pid: ROOT_PID,
            pipes: Vec::new(),
            stdio_pipes: BTreeSet::new(),
            host_stdin: None,
            reserved: 0,
            limits,
            effects: Vec::new(),
            held: BTreeMap::new(),
            ended: BTreeMap::new(),
            root: None,
            open_files: 0,
            borrowers: BTreeMap::new(),
            host_ttys: [false; 3],
            terminals: BTreeSet::new(),
            stdio_ids: [None; 3],
            polls: Vec::new(),
            tty: TtyState::default(),
        }
    }

    /// A kernel whose processes see `root` as `/`.
    pub fn with_root(limits: Limits, root: Option<Root>) -> Self {
        Self {
            root,
            ..Self::new(limits)
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A process, live or zombie.
    pub fn process(&self, pid: Pid) -> Option<&Process> {
        self.procs.get(&pid)
    }

    /// Sets the program `pid` runs, as `GET_EXE` answers it (a path in
    /// the root; `None`: no program the daemon knows of).
    pub fn set_exe(&mut self, pid: Pid, exe: Option<Vec<u8>>) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.exe = exe;
        }
    }

    /// Creates the root process (pid 1). With `stdio`, its fds 0, 1 and 2 are
    /// pipes whose other ends the host holds at its own fds 0, 1 and 2.
    pub fn create_root(
        &mut self,
        image: &str,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
        stdio: bool,
    ) -> Result<Pid, Errno> {
        // The root's args reach it through GET_ARGS only (spec: `dev-limit-args`).
        if args_bytes(&argv, &env) > ARGS_MAX {
            return Err(Errno::E2big);
        }
        let pid = self.alloc_pid()?;
        self.procs.insert(
            pid,
            Process::new(pid, HOST_PID, image.into(), argv, env, Start::Fresh),
        );
        self.host_mut().children.insert(pid);
        if stdio {
            for fd in 0..3u32 {
                if fd == 0 {
                    if let Some((file, offset)) = self.host_stdin.take() {
                        // The host redirected a file: fd 0 is that file.
                        let ofd = Ofd::file_at(file, 0, offset);
                        self.proc_mut(pid).fds.put(0, ofd.clone());
                        self.add_ref(&ofd);
                        continue;
                    }
                }
                let id = self.new_stdio_pipe();
                let (guest_end, host_end) = if fd == 0 {
                    (End::Read, End::Write)
                } else {
                    (End::Write, End::Read)
                };
                self.proc_mut(pid).fds.put(fd, Ofd::new(id, guest_end, 0));
                self.host_mut().fds.put(fd, Ofd::new(id, host_end, 0));
                if self.host_ttys[fd as usize] {
                    self.terminals.insert(id);
                }
                self.stdio_ids[fd as usize] = Some(id);
            }
        }
        Ok(pid)
    }

    /// The daemon's standard input as a file (and its offset), when the
    /// host redirected a regular file there: the root's fd 0 created after
    /// this is that file, not a stream (spec: `dev-stdio-root`).
    pub fn set_host_stdin(&mut self, file: Option<(OpenFile, u64)>) {
        self.host_stdin = file;
    }

    /// Which of the daemon's own fds 0, 1 and 2 are terminals: the root's
    /// standard streams created after this say so in their `FSTAT`
    /// (spec: `dev-file-tty`).
    pub fn set_host_terminals(&mut self, ttys: [bool; 3]) {
        self.host_ttys = ttys;
    }

    /// Whether pipe `id` is one of the root's standard streams whose host
    /// end is a terminal.
    pub fn is_terminal(&self, id: PipeId) -> bool {
        self.terminals.contains(&id)
    }

    fn host_mut(&mut self) -> &mut Process {
        self.proc_mut(HOST_PID)
    }

    fn proc_mut(&mut self, pid: Pid) -> &mut Process {
        self.procs.get_mut(&pid).expect("pid checked by the caller")
    }

    fn alloc_pid(&mut self) -> Result<Pid, Errno> {
        let count = self.procs.len() - 1;
        if count >= self.limits.max_processes {
            return Err(Errno::Eagain);
        }
        let pid = self.next_pid;
        if pid >= FIRST_VM_ID {
            return Err(Errno::Eagain);
        }
        self.next_pid += 1;
        Ok(pid)
    }

    /// How many more processes the limit allows now.
    pub fn spare_processes(&self) -> usize {
        let count = self.procs.len() - 1;
        self.limits.max_processes.saturating_sub(count)
    }

    fn new_pipe(&mut self) -> Result<PipeId, Errno> {
        let live = self.pipes.iter().flatten().count() - self.stdio_pipes.len();
        if live >= self.limits.max_pipes {
            return Err(Errno::Enfile);
        }
        let cap = self.limits.pipe_capacity;
        if self.reserved + cap > self.limits.max_buffered {
            return Err(Errno::Enomem);
        }
        self.reserved += cap;
        Ok(self.install_pipe(Pipe::new(cap)))
    }

    /// A pipe for one of the root's standard streams: outside the pipe
    /// and buffered-bytes limits, which count pipes only (spec: *Limits*).
    fn new_stdio_pipe(&mut self) -> PipeId {
        let id = self.install_pipe(Pipe::new(self.limits.pipe_capacity));
        self.stdio_pipes.insert(id);
        id
    }

    fn install_pipe(&mut self, pipe: Pipe) -> PipeId {
        if let Some(i) = self.pipes.iter().position(Option::is_none) {
            self.pipes[i] = Some(pipe);
            i
        } else {
            self.pipes.push(Some(pipe));
            self.pipes.len() - 1
        }
    }

    fn pipe_mut(&mut self, id: PipeId) -> &mut Pipe {
        self.pipes[id].as_mut().expect("an fd keeps its pipe alive")
    }

    /// Counts one more fd referring to `ofd` (pipe ends are counted; a
    /// file lives as long as its description).
    fn add_ref(&mut self, ofd: &Ofd) {
        match &ofd.what {
            Open::Pipe { pipe, end } => {
                let p = self.pipe_mut(*pipe);
                match end {
                    End::Read => p.readers += 1,
                    End::Write => p.writers += 1,
                }
            }
            Open::File { .. } => self.open_files += 1,
            Open::Tty { input, output } => {
                if let Some(id) = input {
                    self.pipe_mut(*id).readers += 1;
                }
                if let Some(id) = output {
                    self.pipe_mut(*id).writers += 1;
                }
            }
            Open::Device { .. } | Open::Listing { .. } | Open::Bytes { .. } => {}
        }
    }

    /// Counts one fd fewer referring to `ofd`.
    fn drop_ref(&mut self, ofd: &Ofd) {
        match &ofd.what {
            Open::Pipe { pipe, end } => {
                let (p, mut notes) = self.pipe_and_notes(*pipe);
                p.release(*end);
                p.pump(&mut notes);
                self.free_if_unreferenced(*pipe);
            }
            Open::File { .. } => self.open_files -= 1,
            Open::Tty { input, output } => {
                for (id, end) in [(*input, End::Read), (*output, End::Write)] {
                    if let Some(id) = id {
                        let (p, mut notes) = self.pipe_and_notes(id);
                        p.release(end);
                        p.pump(&mut notes);
                        self.free_if_unreferenced(id);
                    }
                }
            }
            Open::Device { .. } | Open::Listing { .. } | Open::Bytes { .. } => {}
        }
    }

    /// Frees pipe `id` once no fd and no request refers to it; its capacity
    /// returns to the buffered-bytes limit.
    fn free_if_unreferenced(&mut self, id: PipeId) {
        let Some(p) = self.pipes[id].as_ref().filter(|p| p.is_unreferenced()) else {
            return;
        };
        let cap = p.capacity();
        self.pipes[id] = None;
        if !self.stdio_pipes.remove(&id) {
            self.reserved -= cap;
        }
    }

    /// Pipe `id`, and the sink that acts on its notes at once.
    fn pipe_and_notes(&mut self, id: PipeId) -> (&mut Pipe, Signaller<'_>) {
        let pipe = self.pipes[id].as_mut().expect("an fd keeps its pipe alive");
        (pipe, Signaller(&mut self.procs))
    }

    fn install_table(&mut self, fds: &FdTable) {
        let ofds: Vec<Arc<Ofd>> = fds.iter().cloned().collect();
        for ofd in ofds {
            self.add_ref(&ofd);
        }
    }

    /// Runs one request of process `pid`. SPAWN and FORK are the
    /// supervisor's (they launch VMs); they answer `ENOSYS` here.
    pub fn submit(&mut self, pid: Pid, req: Request, io: Box<dyn Io>) {
        self.run(pid, req, io);
        self.wake_polls();
    }

    fn run(&mut self, pid: Pid, req: Request, io: Box<dyn Io>) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return done(io, Err(Errno::Esrch));
        };
        if !p.is_running() {
            // A process that exited submits nothing more; drop the request.
            return;
        }
        if p.frozen || p.stopped.is_some() {
            // Its device is stopped: nothing runs until it restarts
            // (`thaw`) or is reset (`cancel_pending`). Or the process is
            // stopped: nothing runs until it is continued (`stop.rs`).
            self.held.entry(pid).or_default().push(Parked::New(req, io));
            return;
        }
        match req {
            Request::Pipe { flags } => {
                let r = self.pipe(pid, flags);
                done(io, r.map(|(r, w)| [r as u64, w as u64, 0]))
            }
            Request::Read { fd, nonblock, .. } => self.rw(pid, fd, End::Read, nonblock, io),
            Request::Write { fd, nonblock, .. } => self.rw(pid, fd, End::Write, nonblock, io),
            Request::Close { fd } => {
                let r = self.proc_mut(pid).fds.remove(fd);
                done(
                    io,
                    r.map(|ofd| {
                        self.drop_ref(&ofd);
                        [0; 3]
                    }),
                )
            }
            Request::Dup { fd } => done(io, self.dup(pid, fd).map(|n| [n as u64, 0, 0])),
            Request::Dup2 { fd, newfd } => {
                done(io, self.dup2(pid, fd, newfd).map(|n| [n as u64, 0, 0]))
            }
            Request::SetFlags { fd, flags } => {
                let r = self.proc_mut(pid).fds.get(fd).map(|o| o.set_flags(flags));
                done(io, r.map(|_| [0; 3]))
            }
            Request::GetFlags { fd } => {
                let r = self.proc_mut(pid).fds.get(fd).map(|o| {
                    // An appending file says so with its status flags
                    // (fixed at open: `SET_FLAGS` leaves it).
                    let append = o.open_file().is_some_and(|(f, _)| f.appends());
                    let flags = o.flags() | if append { O_APPEND } else { 0 };
                    // ret1 is the access mode: 0 = O_RDONLY, 1 = O_WRONLY, 2 = O_RDWR.
                    [flags as u64, o.access() as u64, 0]
                });
                done(io, r)
            }
            Request::Start => {
                // The driver's first request after any reset: whatever is
                // still pending belongs to a driver that is gone (spec:
                // `dev-start-cancel`).
                if self.has_pending(pid) {
                    self.cancel_pending(pid);
                }
                self.end_borrowers(pid);
                let p = &self.procs[&pid];
                let rets = match p.start {
                    Start::Fresh => [StartKind::Fresh as u64, 0, p.umask as u64],
                    Start::Forked(at) => [StartKind::Forked as u64, at, p.umask as u64],
                };
                done(io, Ok(rets))
            }
            Request::GetArgs { capacity } => self.get_args(pid, capacity as usize, io),
            Request::Wait {
                target,
                nohang,
                untraced,
                continued,
            } => {
                let target = match target {
                    WaitTarget::OwnGroup => WaitTarget::Group(self.procs[&pid].pgid),
                    t => t,
                };
                let w = PendingWait {
                    target,
                    untraced,
                    continued,
                    io,
                };
                self.wait(pid, w, nohang)
            }
            Request::Exit(kind) => {
                // A borrowing child killed meanwhile ends by that signal
                // (spec: `dev-vfork-end`).
                let kind = match self.procs[&pid].deferred_kill {
                    Some(signo) => ExitKind::Signaled(signo),
                    None => kind,
                };
                self.end(pid, kind, Effect::StopVm(pid));
                done(io, Ok([0; 3]))
            }
            Request::Kill { target, signo } => {
                let r = self.kill_target(pid, target, signo);
                // (A parent's pending WAIT may even have reaped it already.)
                if !self.procs.get(&pid).is_some_and(Process::is_running) {
                    // The KILL ended its caller: it is discarded with the
                    // caller's other requests (spec: `dev-kill-sigkill`).
                    return;
                }
                done(io, r.map(|_| [0; 3]))
            }
            Request::GetPid => {
                let ppid = self.procs[&pid].ppid;
                done(io, Ok([pid as u64, ppid as u64, 0]))
            }
            Request::Interrupt => {
                let n = self.interrupt(pid);
                done(io, Ok([n as u64, 0, 0]))
            }
            Request::Spawn { .. } | Request::Fork { .. } => done(io, Err(Errno::Enosys)),
            Request::Vfork => done(io, self.vfork(pid).map(|c| [c as u64, 0, 0])),
            Request::Poll { nfds, nonblock } => self.poll(pid, nfds, nonblock, io),
            // A borrowing child's EXEC needs a VM: the supervisor's.
            Request::Exec { len, umask } => {
                let r = self
                    .exec_blob(pid, len as usize, umask, io.as_ref())
                    .map(|_| [0; 3]);
                done(io, r)
            }
            Request::GetExe { .. } => match self.procs[&pid].exe.clone() {
                Some(exe) => answer_bytes(io, &exe, false),
                None => done(io, Err(Errno::Enoent)),
            },
            Request::Tty {
                fd, cmd, nojobctl, ..
            } => self.tty(pid, fd, cmd, nojobctl, io),
            Request::Setpgid { pid: target, pgid } => {
                done(io, self.setpgid(pid, target, pgid).map(|()| [0; 3]))
            }
            Request::Getpgid { pid: target } => {
                done(io, self.getpgid(pid, target).map(|g| [g as u64, 0, 0]))
            }
            Request::Setsid => done(io, self.setsid(pid).map(|s| [s as u64, 0, 0])),
            Request::Getsid { pid: target } => {
                done(io, self.getsid(pid, target).map(|s| [s as u64, 0, 0]))
            }
            Request::Stop { signo } => self.stop_self(pid, signo, io),
            file_op => self.file_op(pid, file_op, io),
        }
    }

    fn pipe(&mut self, pid: Pid, flags: u32) -> Result<(u32, u32), Errno> {
        let max = self.limits.max_fds;
        if self.procs[&pid].fds.free_slots(max) < 2 {
            return Err(Errno::Emfile);
        }
        let id = self.new_pipe()?;
        let fds = &mut self.proc_mut(pid).fds;
        let r = fds.insert_lowest(Ofd::new(id, End::Read, flags & O_NONBLOCK), max)?;
        let w = fds.insert_lowest(Ofd::new(id, End::Write, flags & O_NONBLOCK), max)?;
        Ok((r, w))
    }

    fn rw(&mut self, pid: Pid, fd: u32, want: End, nonblock: bool, io: Box<dyn Io>) {
        let ofd = match self.procs[&pid].fds.get(fd) {
            Ok(o) => o.clone(),
            Err(e) => return done(io, Err(e)),
        };
        let pipe = match (&ofd.what, want) {
            (Open::Pipe { pipe, end }, _) if *end == want => *pipe,
            (Open::File { file, offset }, End::Read) => {
                return files::read(file, offset, None, io);
            }
            (Open::File { file, offset }, End::Write) => {
                return files::write(file, offset, None, io);
            }
            (Open::Tty { input: Some(p), .. }, End::Read) => *p,
            (
                Open::Tty {
                    output: Some(p), ..
                },
                End::Write,
            ) => *p,
            (Open::Device { dev, access }, End::Read) if *access != O_WRONLY => {
                return devices::read_device(*dev, io);
            }
            (Open::Device { access, .. }, End::Write) if *access != O_RDONLY => {
                let n = io.readable_len();
                return io.complete(RespHeader::ok([n as u64, 0, 0]), 0);
            }
            (Open::Bytes { data, offset }, End::Read) => {
                return devices::read_bytes(data, offset, None, io);
            }
            (Open::Listing { .. }, End::Read) => return done(io, Err(Errno::Eisdir)),
            _ => return done(io, Err(Errno::Ebadf)),
        };
        if want == End::Read && self.background_read(pid, pipe) {
            return done(io, Err(Errno::Eio));
        }
        let nonblock = nonblock || ofd.flags() & O_NONBLOCK != 0;
        // A request that blocks holds its end until it ends (`pipe.rs`).
        let (p, mut notes) = self.pipe_and_notes(pipe);
        match want {
            End::Read => p.read(pid, io, nonblock, &mut notes),
            End::Write => p.write(pid, io, nonblock, &mut notes),
        };
    }

    fn dup(&mut self, pid: Pid, fd: u32) -> Result<u32, Errno> {
        let max = self.limits.max_fds;
        let fds = &mut self.proc_mut(pid).fds;
        let ofd = fds.get(fd)?.clone();
        let n = fds.insert_lowest(ofd.clone(), max)?;
        self.add_ref(&ofd);
        Ok(n)
    }

    fn dup2(&mut self, pid: Pid, fd: u32, newfd: u32) -> Result<u32, Errno> {
        if newfd as usize >= self.limits.max_fds {
            return Err(Errno::Ebadf);
        }
        let fds = &mut self.proc_mut(pid).fds;
        let ofd = fds.get(fd)?.clone();
        if fd == newfd {
            return Ok(newfd);
        }
        let old = fds.put(newfd, ofd.clone());
        self.add_ref(&ofd);
        if let Some(old) = old {
            self.drop_ref(&old);
        }
        Ok(newfd)
    }

    fn get_args(&mut self, pid: Pid, capacity: usize, mut io: Box<dyn Io>) {
        let p = &self.procs[&pid];
        let argv: Vec<&[u8]> = p.argv.iter().map(Vec::as_slice).collect();
        let env: Vec<&[u8]> = p.env.iter().map(Vec::as_slice).collect();
        let need = ArgsBlob::encoded_len(&argv, &env).unwrap_or(usize::MAX);
        if need > capacity {
            let mut resp = RespHeader::err(Errno::Erange);
            resp.rets[0].set(need as u64);
            return io.complete(resp, 0);
        }
        let mut blob = vec![0u8; need];
        match ArgsBlob::encode(&argv, &env, &mut blob) {
            Ok(n) => {
                let written = io.write_payload(0, &blob[..n]);
                let rets = [n as u64, argv.len() as u64, env.len() as u64];
                io.complete(RespHeader::ok(rets), written);
            }
            Err(e) => done(io, Err(e.errno())),
        }
    }

    /// A `WAIT` of `pid` (its own group already resolved): a child that
    /// ended, else one that stopped or was continued if `w` asks for
    /// those, else pending (or 0 with `nohang`).
    fn wait(&mut self, pid: Pid, w: PendingWait, nohang: bool) {
        let matching: Vec<Pid> = self.procs[&pid]
            .children
            .iter()
            .copied()
            .filter(|&c| self.wait_matches(w.target, c))
            .collect();
        if matching.is_empty() {
            return done(w.io, Err(Errno::Echild));
        }
        let zombie = matching
            .iter()
            .copied()
            .find(|c| matches!(self.procs[c].state, State::Zombie(_)));
        if let Some(child) = zombie {
            let status = self.reap(pid, child);
            return done(w.io, Ok([child as u64, status as u64, 0]));
        }
        for &child in &matching {
            if let Some(status) = self.take_report(child, w.untraced, w.continued) {
                return done(w.io, Ok([child as u64, status as u64, 0]));
            }
        }
        if nohang {
            return done(w.io, Ok([0; 3]));
        }
        self.proc_mut(pid).waits.push(w);
    }

    /// Reaps `child` of `parent`; the parent's pending WAITs left with no
    /// matching child complete with `ECHILD` (spec: `dev-wait-echild`).
    fn reap(&mut self, parent: Pid, child: Pid) -> u32 {
        let p = self.proc_mut(parent);
        p.children.remove(&child);
        let waits = std::mem::take(&mut p.waits);
        let p = &self.procs[&parent];
        let (orphaned, kept): (Vec<PendingWait>, Vec<PendingWait>) =
            waits.into_iter().partition(|w| {
                !p.children
                    .iter()
                    .any(|&c| c != child && self.wait_matches(w.target, c))
            });
        self.proc_mut(parent).waits = kept;
        for w in orphaned {
            done(w.io, Err(Errno::Echild));
        }
        match self.procs.remove(&child).map(|p| p.state) {
            Some(State::Zombie(status)) => status,
            _ => unreachable!("only zombies are reaped"),
        }
    }

    /// Tells `parent` that `child` ended: completes a matching WAIT, or
    /// posts a CHILD_EXIT event.
    fn child_ended(&mut self, parent: Pid, child: Pid, status: u32) {
        if parent == HOST_PID {
            return;
        }
        if !self.procs[&parent].is_running() {
            return;
        }
        let first = self.procs[&parent]
            .waits
            .iter()
            .position(|w| self.wait_matches(w.target, child));
        let p = self.proc_mut(parent);
        p.post(Event::ChildExit { pid: child, status });
        if let Some(i) = first {
            let w = p.waits.remove(i);
            let status = self.reap(parent, child);
            done(w.io, Ok([child as u64, status as u64, 0]));
        }
    }

    /// Creates a spawned child of `parent`: a copy of its fd table with
    /// `actions` applied in order. The caller launches its VM, or calls
    /// [`Kernel::discard`] if that fails.
    pub fn spawn(
        &mut self,
        parent: Pid,
        image: &str,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
        actions: impl Iterator<Item = FileAction>,
    ) -> Result<Pid, Errno> {
        let mut fds = self
            .procs
            .get(&parent)
            .filter(|p| p.is_running())
            .ok_or(Errno::Esrch)?
            .fds
            .clone();
        for action in actions {
            match action {
                FileAction::Close { fd } => {
                    fds.remove(fd)?;
                }
                FileAction::Dup2 { fd, newfd } => {
                    if newfd as usize >= self.limits.max_fds {
                        return Err(Errno::Ebadf);
                    }
                    let ofd = fds.get(fd)?.clone();
                    fds.put(newfd, ofd);
                }
            }
        }
        let child = self.add_child(parent, image, argv, env, Start::Fresh, fds)?;
        // It boots an image, not a program of the root: a new program,
        // as after an exec (spec: `dev-setpgid`).
        let c = self.proc_mut(child);
        c.exe = None;
        c.execd = true;
        Ok(child)
    }

    /// Creates a fork child of `parent`: same args, same fd table.
    pub fn fork(&mut self, parent: Pid, resume: u64) -> Result<Pid, Errno> {
        let p = self
            .procs
            .get(&parent)
            .filter(|p| p.is_running())
            .ok_or(Errno::Esrch)?;
        let (image, argv, env, fds, features) = (
            p.image.clone(),
            p.argv.clone(),
            p.env.clone(),
            p.fds.clone(),
            p.features,
        );
        let child = self.add_child(parent, &image, argv, env, Start::Forked(resume), fds)?;
        // Its runtime is the parent's, handlers included, from the moment
        // it exists: a signal sent while its VM boots waits for it as an
        // event instead of taking the default action (spec 1.6.18).
        self.proc_mut(child).features = features;
        Ok(child)
    }

    fn add_child(
        &mut self,
        parent: Pid,
        image: &str,
        argv: Vec<Vec<u8>>,
        env: Vec<Vec<u8>>,
        start: Start,
        fds: FdTable,
    ) -> Result<Pid, Errno> {
        let pid = self.alloc_pid()?;
        self.install_table(&fds);
        let mut child = Process::new(pid, parent, image.into(), argv, env, start);
        child.fds = fds;
        child.cwd = self.procs[&parent].cwd.clone();
        child.umask = self.procs[&parent].umask;
        child.exe = self.procs[&parent].exe.clone();
        child.pgid = self.procs[&parent].pgid;
        child.sid = self.procs[&parent].sid;
        self.procs.insert(pid, child);
        self.proc_mut(parent).children.insert(pid);
        Ok(pid)
    }

    /// Removes a child whose VM could not be launched, as if it never was.
    pub fn discard(&mut self, pid: Pid) {
        let Some(mut p) = self.procs.remove(&pid) else {
            return;
        };
        for ofd in p.fds.drain() {
            self.drop_ref(&ofd);
        }
        if let Some(parent) = self.procs.get_mut(&p.ppid) {
            parent.children.remove(&pid);
        }
        self.wake_polls();
    }

    /// Process `pid` exited by itself (its EXIT request).
    pub fn exit(&mut self, pid: Pid, kind: ExitKind) {
        self.end(pid, kind, Effect::StopVm(pid));
        self.wake_polls();
    }

    /// Process `pid` ended. Closes its fds, drops its blocked requests,
    /// hands its children to the root and tells its parent.
    fn end(&mut self, pid: Pid, kind: ExitKind, stop: Effect) {
        let Some(p) = self
            .procs
            .get_mut(&pid)
            .filter(|p| p.is_running() && p.pid != HOST_PID)
        else {
            return;
        };
        let status = wait_status(kind);
        *self.ended.entry(status).or_default() += 1;
        let lender = p.lender.take();
        p.state = State::Zombie(status);
        p.waits.clear();
        p.frozen = false;
        p.stopped = None;
        p.report = None;
        p.stop_io = None;
        let parked = self.held.remove(&pid).unwrap_or_default();
        p.events.clear();
        p.waker = None;
        // Its blocked POLLs go unanswered, like its WAITs.
        drop(self.take_polls(pid));
        let p = self.proc_mut(pid);
        let fds = p.fds.drain();
        let children: Vec<Pid> = std::mem::take(&mut p.children).into_iter().collect();
        let ppid = p.ppid;
        if let Some(vm) = lender {
            self.stop_borrowing(vm, pid);
        }
        self.end_borrowers(pid);
        self.drop_parked(parked);
        for id in 0..self.pipes.len() {
            if self.pipes[id].is_some() {
                let (p, mut notes) = self.pipe_and_notes(id);
                p.cancel(pid, &mut notes);
                self.free_if_unreferenced(id);
            }
        }
        for ofd in fds {
            self.drop_ref(&ofd);
        }
        for child in children {
            self.reparent(child);
        }
        self.effects.push(stop);
        if pid == ROOT_PID {
            self.effects.push(Effect::TreeDone(status));
        }
        self.child_ended(ppid, pid, status);
        if pid == ROOT_PID {
            // The tree is over: every remaining process ends as by SIGKILL
            // (spec: `dev-exit-root`).
            for other in self.running() {
                self.end(
                    other,
                    ExitKind::Signaled(SIGKILL as u8),
                    Effect::KillVm(other),
                );
            }
        }
    }

    fn reparent(&mut self, child: Pid) {
        let new_parent = if self.procs.get(&ROOT_PID).is_some_and(Process::is_running) {
            ROOT_PID
        } else {
            HOST_PID
        };
        let c = self.proc_mut(child);
        c.ppid = new_parent;
        let zombie = match c.state {
            State::Zombie(s) => Some(s),
            State::Running => None,
        };
        self.proc_mut(new_parent).children.insert(child);
        if let Some(status) = zombie {
            self.child_ended(new_parent, child, status);
        }
    }

    /// The VM of `pid` is gone without an EXIT: it was killed.
    pub fn vanished(&mut self, pid: Pid) {
        self.end(pid, ExitKind::Signaled(SIGKILL as u8), Effect::KillVm(pid));
        self.wake_polls();
    }

    /// Sends `signo` from `sender` to `target`.
    pub fn kill(&mut self, sender: Pid, target: Pid, signo: u32) -> Result<(), Errno> {
        let r = self.send(sender, target, signo);
        self.wake_polls();
        r
    }

    fn send(&mut self, sender: Pid, target: Pid, signo: u32) -> Result<(), Errno> {
        if !self
            .procs
            .get(&target)
            .is_some_and(|p| p.is_running() && p.pid != HOST_PID)
        {
            return Err(Errno::Esrch);
        }
        if signo == 0 {
            return Ok(());
        }
        if signo == SIGSTOP {
            // Never an event: it cannot be caught; the device stops the
            // target itself (spec: `dev-kill-stop`).
            self.stop(target, SIGSTOP);
            return Ok(());
        }
        if signo == SIGCONT {
            // Continued at once, caught or not; then delivered as any
            // other signal (spec: `dev-stop-continue`).
            self.cont(target);
        }
        let t = self.proc_mut(target);
        // A stop signal discards a pending SIGCONT and SIGCONT pending
        // stop signals (POSIX).
        if is_stop(signo) {
            t.events
                .retain(|e| !matches!(e, Event::Signal { signo: SIGCONT, .. }));
        } else if signo == SIGCONT {
            t.events
                .retain(|e| !matches!(e, Event::Signal { signo: s, .. } if is_stop(*s)));
        }
        if is_stop(signo) && !t.has_feature(FEATURE_SIGNALS) {
            // No runtime to apply the default action: the device does.
            self.stop(target, signo);
        } else if signo != SIGKILL && t.has_feature(FEATURE_SIGNALS) {
            t.post(Event::Signal { signo, sender });
        } else if (signo == SIGKILL || default_terminates(signo)) && t.lender.is_some() {
            // A borrowing child ends when it gives the VM back (`vfork.rs`),
            // unless it kills itself (abort() before exec): then at once.
            if sender == target {
                self.end(
                    target,
                    ExitKind::Signaled(signo as u8),
                    Effect::KillVm(target),
                );
            } else {
                t.deferred_kill.get_or_insert(signo as u8);
            }
        } else if signo == SIGKILL || default_terminates(signo) {
            self.end(
                target,
                ExitKind::Signaled(signo as u8),
                Effect::KillVm(target),
            );
        }
        Ok(())
    }

    /// Whether `pid` has a request held (a blocked READ, WRITE, WAIT or
    /// POLL, or one held while its device is stopped).
    pub fn has_pending(&self, pid: Pid) -> bool {
        self.procs
            .get(&pid)
            .is_some_and(|p| !p.waits.is_empty() || p.stop_io.is_some())
            || self.has_blocked_poll(pid)
            || self.held.get(&pid).is_some_and(|h| !h.is_empty())
            || self.pipes.iter().flatten().any(|p| p.has_waiter(pid))
    }

    /// Drops the pending requests of `pid` without completing them: its
    /// device was reset. Its fds stay open (spec: `dev-reset-cancel`).
    pub fn cancel_pending(&mut self, pid: Pid) {
        self.freeze(pid);
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        p.frozen = false;
        // Its STOP belongs to the driver that is gone; it stays stopped.
        p.stop_io = None;
        let parked = self.held.remove(&pid).unwrap_or_default();
        self.drop_parked(parked);
        self.wake_polls();
    }

    /// Drops held requests without completing them; those taken from a
    /// pipe let go of their end there.
    fn drop_parked(&mut self, parked: Vec<Parked>) {
        for item in parked {
            if let Parked::Pipe { pipe, end, .. } = item {
                let (p, mut notes) = self.pipe_and_notes(pipe);
                p.release(end);
                p.pump(&mut notes);
                self.free_if_unreferenced(pipe);
            }
        }
    }

    /// Holds every request of `pid` still for as long as its device is
    /// stopped (a VM paused, or a reset under way): its blocked requests
    /// leave their pipes and wait lists, so that no other process can
    /// complete them (a WRITE filling a READ, a child's exit reaped by a
    /// WAIT) while its driver cannot be told; requests it submits meanwhile
    /// are kept unrun. [`Kernel::thaw`] resumes them, [`Kernel::cancel_pending`]
    /// drops them.
    pub fn freeze(&mut self, pid: Pid) {
        let Some(p) = self.procs.get_mut(&pid).filter(|p| p.is_running()) else {
            return;
        };
        p.frozen = true;
        self.park(pid);
    }

    /// Moves the blocked requests of `pid` out of their pipes and wait
    /// lists into its held ones (its device stopped, or it stopped).
    fn park(&mut self, pid: Pid) {
        let p = self.proc_mut(pid);
        let mut parked = std::mem::take(&mut p.waits)
            .into_iter()
            .map(Parked::Wait)
            .collect::<Vec<_>>();
        parked.extend(self.take_polls(pid).into_iter().map(Parked::Poll));
        for (id, pipe) in self.pipes.iter_mut().enumerate() {
            if let Some(pipe) = pipe {
                parked.extend(pipe.take_waiters(pid).into_iter().map(|(end, waiter)| {
                    Parked::Pipe {
                        pipe: id,
                        end,
                        waiter,
                    }
                }));
            }
        }
        self.held.entry(pid).or_default().extend(parked);
    }

    /// Resumes `pid` after [`Kernel::freeze`]: its blocked requests wait
    /// again (and complete if they can now), then the requests it submitted
    /// while frozen run, in order.
    pub fn thaw(&mut self, pid: Pid) {
        let Some(p) = self.procs.get_mut(&pid).filter(|p| p.frozen) else {
            return;
        };
        p.frozen = false;
        if p.stopped.is_none() {
            self.unpark(pid);
        }
    }

    /// Puts the held requests of `pid` back (those it submitted while
    /// held run now, in order).
    fn unpark(&mut self, pid: Pid) {
        let parked = self.held.remove(&pid).unwrap_or_default();
        for item in parked {
            match item {
                Parked::New(req, io) => self.submit(pid, req, io),
                Parked::Pipe { pipe, end, waiter } => {
                    let (p, mut notes) = self.pipe_and_notes(pipe);
                    p.requeue(end, waiter, &mut notes);
                }
                Parked::Wait(w) => self.wait(pid, w, false),
                Parked::Poll(poll) => self.requeue_poll(poll),
            }
        }
        self.wake_polls();
    }

    /// Sets what wakes `pid`'s queue thread.
    pub fn set_waker(&mut self, pid: Pid, waker: Option<Waker>) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.waker = waker;
        }
    }

    /// Records the feature bits `pid`'s driver acknowledged. A driver that
    /// no longer negotiates signals gets none of those still held (spec:
    /// `dev-feat-unnegotiated` over `dev-reset-persist`).
    pub fn set_features(&mut self, pid: Pid, features: u64) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.features = features;
            if !p.has_feature(FEATURE_SIGNALS) {
                p.events.retain(|e| !matches!(e, Event::Signal { .. }));
            }
        }
    }

    /// The next undelivered event of `pid`.
    pub fn next_event(&mut self, pid: Pid) -> Option<Event> {
        self.procs.get_mut(&pid)?.events.pop_front()
    }

    /// Puts back an event that found no buffer. A SIGNAL event is dropped
    /// instead when the driver no longer negotiates signals: a
    /// renegotiation may have run between [`Self::next_event`] and this
    /// (regression: the event came back after `set_features` had dropped
    /// it, and was delivered; spec `dev-feat-unnegotiated`).
    pub fn unget_event(&mut self, pid: Pid, event: Event) {
        if let Some(p) = self.procs.get_mut(&pid) {
            if matches!(event, Event::Signal { .. }) && !p.has_feature(FEATURE_SIGNALS) {
                return;
            }
            p.events.push_front(event);
        }
    }

    /// Takes the work queued for the supervisor.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Live pids, the host not included.
    pub fn running(&self) -> Vec<Pid> {
        self.procs
            .values()
            .filter(|p| p.pid != HOST_PID && p.is_running())
            .map(|p| p.pid)
            .collect()
    }

    /// Object counts.
    pub fn stats(&self) -> Stats {
        let pipes: Vec<&Pipe> = self.pipes.iter().flatten().collect();
        Stats {
            processes: self.procs.len() - 1,
            running: self.running().len(),
            pipes: pipes.len(),
            fds: self.procs.values().map(|p| p.fds.len()).sum(),
            buffered: pipes.iter().map(|p| p.buffered()).sum(),
            waiting: pipes.iter().map(|p| p.waiting()).sum::<usize>()
                + self.procs.values().map(|p| p.waits.len()).sum::<usize>()
                + self.held.values().map(Vec::len).sum::<usize>()
                + self.blocked_polls(),
        }
    }

    /// What became of the tree's processes so far.
    pub fn tally(&self) -> Tally {
        Tally {
            created: self.next_pid.saturating_sub(ROOT_PID) as usize,
            ended: self.ended.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::Receiver;

    use virtio_pipe_protocol::signal::SIGTERM;

    use super::*;
    use crate::io::{HostCompletion, HostIo};
    use virtio_pipe_protocol::KillTarget;

    /// A `WAIT` without `UNTRACED` or `CONTINUED`.
    pub(super) fn wait_req(target: WaitTarget, nohang: bool) -> Request {
        Request::Wait {
            target,
            nohang,
            untraced: false,
            continued: false,
        }
    }

    /// The race behind a flaky conformance test: the backend took a held
    /// SIGNAL event, found no buffer, and a renegotiation without signals
    /// ran before it put the event back.
    #[test]
    fn a_signal_put_back_after_signals_were_dropped_is_dropped() {
        let mut k = kernel();
        let root = k.create_root("root", vec![], vec![], false).unwrap();
        k.set_features(root, 1 << FEATURE_SIGNALS);
        k.kill(root, root, SIGTERM).unwrap();
        let e = k.next_event(root).expect("the signal is held");
        k.set_features(root, 0);
        k.unget_event(root, e);
        assert_eq!(k.next_event(root), None);
        // A CHILD_EXIT is put back whatever the features.
        let exit = Event::ChildExit { pid: 9, status: 0 };
        k.unget_event(root, exit);
        assert_eq!(k.next_event(root), Some(exit));
    }

    pub(super) fn kernel() -> Kernel {
        Kernel::new(Limits {
            max_processes: 4,
            max_fds: 8,
            max_pipes: 4,
            ..Limits::default()
        })
    }

    pub(super) fn root(k: &mut Kernel) -> Pid {
        k.create_root("root", vec![b"root".to_vec()], vec![b"A=1".to_vec()], true)
            .unwrap()
    }

    pub(super) fn call(
        k: &mut Kernel,
        pid: Pid,
        req: Request,
        data: &[u8],
        out: usize,
    ) -> Receiver<HostCompletion> {
        let (io, rx) = HostIo::boxed(data.to_vec(), out);
        k.submit(pid, req, io);
        rx
    }

    pub(super) fn ok(rx: &Receiver<HostCompletion>) -> [u64; 3] {
        let c = rx.try_recv().expect("completed");
        assert_eq!(c.resp.result(), Ok(()), "{:?}", c.resp);
        [c.resp.ret(0), c.resp.ret(1), c.resp.ret(2)]
    }

    pub(super) fn err(rx: &Receiver<HostCompletion>) -> Errno {
        rx.try_recv().expect("completed").resp.result().unwrap_err()
    }

    pub(super) fn pipe(k: &mut Kernel, pid: Pid) -> (u32, u32) {
        let r = ok(&call(k, pid, Request::Pipe { flags: 0 }, &[], 0));
        (r[0] as u32, r[1] as u32)
    }

    pub(super) fn spawn(k: &mut Kernel, parent: Pid, actions: &[FileAction]) -> Pid {
        k.spawn(parent, "child", vec![], vec![], actions.iter().copied())
            .unwrap()
    }

    #[test]
    fn root_has_stdio_on_fds_0_1_2_and_pipe_takes_3_4() {
        let mut k = kernel();
        let r = root(&mut k);
        assert_eq!(pipe(&mut k, r), (3, 4));
    }

    #[test]
    fn root_stdout_reaches_the_host_end() {
        let mut k = kernel();
        let r = root(&mut k);
        ok(&call(
            &mut k,
            r,
            Request::Write {
                fd: 1,
                len: 2,
                nonblock: false,
            },
            b"hi",
            0,
        ));
        let got = call(
            &mut k,
            HOST_PID,
            Request::Read {
                fd: 1,
                len: 10,
                nonblock: false,
            },
            &[],
            10,
        );
        assert_eq!(got.try_recv().unwrap().data, b"hi");
    }

    #[test]
    fn read_on_write_end_is_ebadf() {
        let mut k = kernel();
        let r = root(&mut k);
        let (_, w) = pipe(&mut k, r);
        assert_eq!(
            err(&call(
                &mut k,
                r,
                Request::Read {
                    fd: w,
                    len: 1,
                    nonblock: false
                },
                &[],
                1
            )),
            Errno::Ebadf
        );
    }

    #[test]
    fn closing_every_write_end_gives_eof_across_processes() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, wr) = pipe(&mut k, r);
        let c = spawn(&mut k, r, &[]);
        ok(&call(&mut k, r, Request::Close { fd: wr }, &[], 0));
        let blocked = call(
            &mut k,
            r,
            Request::Read {
                fd: rd,
                len: 4,
                nonblock: false,
            },
            &[],
            4,
        );
        assert!(
            blocked.try_recv().is_err(),
            "the child still holds a write end"
        );
        ok(&call(&mut k, c, Request::Close { fd: wr }, &[], 0));
        assert_eq!(ok(&blocked)[0], 0);
    }

    #[test]
    fn exit_closes_fds_so_readers_see_eof() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, wr) = pipe(&mut k, r);
        let c = spawn(&mut k, r, &[]);
        ok(&call(&mut k, r, Request::Close { fd: wr }, &[], 0));
        let blocked = call(
            &mut k,
            r,
            Request::Read {
                fd: rd,
                len: 4,
                nonblock: false,
            },
            &[],
            4,
        );
        k.exit(c, ExitKind::Code(0));
        assert_eq!(ok(&blocked)[0], 0);
    }

    #[test]
    fn dup2_onto_an_open_fd_closes_it_first() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, wr) = pipe(&mut k, r);
        assert_eq!(
            ok(&call(
                &mut k,
                r,
                Request::Dup2 { fd: wr, newfd: rd },
                &[],
                0
            ))[0],
            rd as u64
        );
        assert_eq!(
            err(&call(
                &mut k,
                r,
                Request::Read {
                    fd: rd,
                    len: 1,
                    nonblock: false
                },
                &[],
                1
            )),
            Errno::Ebadf
        );
        // The only read end was closed by dup2: writing now is EPIPE.
        assert_eq!(
            err(&call(
                &mut k,
                r,
                Request::Write {
                    fd: rd,
                    len: 1,
                    nonblock: false
                },
                b"x",
                0
            )),
            Errno::Epipe
        );
    }

    #[test]
    fn dup_takes_the_lowest_free_fd_and_shares_flags() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, _) = pipe(&mut k, r);
        let d = ok(&call(&mut k, r, Request::Dup { fd: rd }, &[], 0))[0] as u32;
        assert_eq!(d, 5);
        ok(&call(
            &mut k,
            r,
            Request::SetFlags {
                fd: d,
                flags: O_NONBLOCK,
            },
            &[],
            0,
        ));
        assert_eq!(
            ok(&call(&mut k, r, Request::GetFlags { fd: rd }, &[], 0))[0],
            O_NONBLOCK as u64
        );
        assert_eq!(
            err(&call(
                &mut k,
                r,
                Request::Read {
                    fd: rd,
                    len: 1,
                    nonblock: false
                },
                &[],
                1
            )),
            Errno::Eagain
        );
    }

    #[test]
    fn spawn_applies_file_actions_to_a_copy() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, wr) = pipe(&mut k, r);
        let c = spawn(
            &mut k,
            r,
            &[
                FileAction::Dup2 { fd: wr, newfd: 1 },
                FileAction::Close { fd: wr },
            ],
        );
        assert!(k.process(c).unwrap().fds.get(wr).is_err());
        ok(&call(
            &mut k,
            c,
            Request::Write {
                fd: 1,
                len: 3,
                nonblock: false,
            },
            b"abc",
            0,
        ));
        assert_eq!(
            call(
                &mut k,
                r,
                Request::Read {
                    fd: rd,
                    len: 9,
                    nonblock: false
                },
                &[],
                9
            )
            .try_recv()
            .unwrap()
            .data,
            b"abc"
        );
        assert!(
            k.process(r).unwrap().fds.get(wr).is_ok(),
            "the parent's table is untouched"
        );
    }

    #[test]
    fn spawn_action_on_closed_fd_is_ebadf_and_creates_nothing() {
        let mut k = kernel();
        let r = root(&mut k);
        let e = k
            .spawn(
                r,
                "c",
                vec![],
                vec![],
                [FileAction::Close { fd: 7 }].into_iter(),
            )
            .unwrap_err();
        assert_eq!(e, Errno::Ebadf);
        assert_eq!(k.stats().processes, 1);
    }

    #[test]
    fn process_limit_is_eagain() {
        let mut k = kernel();
        let r = root(&mut k);
        for _ in 0..3 {
            spawn(&mut k, r, &[]);
        }
        assert_eq!(
            k.spawn(r, "c", vec![], vec![], [].into_iter()).unwrap_err(),
            Errno::Eagain
        );
        assert_eq!(k.fork(r, 0).unwrap_err(), Errno::Eagain);
    }

    #[test]
    fn pipe_limit_is_enfile_and_fd_limit_is_emfile() {
        let mut k = Kernel::new(Limits {
            max_pipes: 2,
            ..Limits::default()
        });
        let r = root(&mut k);
        // The standard streams are not pipes for the limit.
        pipe(&mut k, r);
        pipe(&mut k, r);
        assert_eq!(
            err(&call(&mut k, r, Request::Pipe { flags: 0 }, &[], 0)),
            Errno::Enfile
        );
        let mut k = Kernel::new(Limits {
            max_fds: 4,
            ..Limits::default()
        });
        let r = root(&mut k);
        assert_eq!(
            err(&call(&mut k, r, Request::Pipe { flags: 0 }, &[], 0)),
            Errno::Emfile
        );
    }

    #[test]
    fn buffered_bytes_limit_is_enomem_at_pipe_creation() {
        let mut k = Kernel::new(Limits {
            max_buffered: 2 * 65536,
            ..Limits::default()
        });
        let r = root(&mut k);
        // The standard streams reserve nothing.
        let (rd, wr) = pipe(&mut k, r);
        pipe(&mut k, r);
        assert_eq!(
            err(&call(&mut k, r, Request::Pipe { flags: 0 }, &[], 0)),
            Errno::Enomem
        );
        // A pipe with no end left returns its capacity.
        ok(&call(&mut k, r, Request::Close { fd: rd }, &[], 0));
        ok(&call(&mut k, r, Request::Close { fd: wr }, &[], 0));
        pipe(&mut k, r);
    }

    #[test]
    fn root_args_beyond_args_max_are_e2big() {
        let mut k = kernel();
        let big = vec![b'a'; ARGS_MAX];
        assert_eq!(
            k.create_root("root", vec![big], vec![], true),
            Err(Errno::E2big)
        );
        let fits = vec![b'a'; ARGS_MAX - 1];
        assert!(k.create_root("root", vec![fits], vec![], true).is_ok());
    }

    #[test]
    fn without_signals_stop_signals_stop_and_the_others_are_discarded() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        for signo in [17, 18, 19, 20, 21, 22, 23, 28] {
            ok(&call(
                &mut k,
                r,
                Request::Kill {
                    target: KillTarget::Pid(c),
                    signo,
                },
                &[],
                0,
            ));
            // SIGSTOP to SIGTTOU stop it; it stays stopped.
            assert_eq!(k.is_stopped(c), signo >= 19, "{signo}");
        }
        assert!(k.process(c).unwrap().is_running());
        assert!(k.process(c).unwrap().events.is_empty(), "no event");
        ok(&call(
            &mut k,
            r,
            Request::Kill {
                target: KillTarget::Pid(c),
                signo: 1,
            },
            &[],
            0,
        ));
        assert!(!k.process(c).unwrap().is_running());
    }

    #[test]
    fn kill_that_ends_its_caller_is_not_completed() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        // The parent's pending WAIT reaps the caller as it ends.
        let w = call(&mut k, r, wait_req(WaitTarget::Pid(c), false), &[], 0);
        let rx = call(
            &mut k,
            c,
            Request::Kill {
                target: KillTarget::Pid(c),
                signo: SIGKILL,
            },
            &[],
            0,
        );
        assert!(rx.try_recv().is_err(), "discarded, never completed");
        assert_eq!(ok(&w), [c as u64, 9, 0]);
        assert!(k.process(c).is_none(), "reaped");
    }

    #[test]
    fn pending_wait_left_without_a_child_gets_echild() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        let wait = |k: &mut Kernel, target| call(k, r, wait_req(target, false), &[], 0);
        let any = wait(&mut k, WaitTarget::Any);
        let one = wait(&mut k, WaitTarget::Pid(c));
        k.exit(c, ExitKind::Code(2));
        // The older WAIT reaps; the other has no matching child left.
        assert_eq!(ok(&any), [c as u64, 2 << 8, 0]);
        assert_eq!(err(&one), Errno::Echild);
    }

    #[test]
    fn root_exit_ends_every_other_process() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        let g = spawn(&mut k, c, &[]);
        k.exit(r, ExitKind::Code(0));
        assert_eq!(k.running(), Vec::<Pid>::new());
        let effects = k.take_effects();
        assert!(effects.contains(&Effect::KillVm(c)), "{effects:?}");
        assert!(effects.contains(&Effect::KillVm(g)), "{effects:?}");
        assert!(k.spawn(c, "x", vec![], vec![], [].into_iter()).is_err());
    }

    #[test]
    fn wait_blocks_until_the_child_exits_then_reaps() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        let w = call(&mut k, r, wait_req(WaitTarget::Any, false), &[], 0);
        assert!(w.try_recv().is_err());
        k.exit(c, ExitKind::Code(7));
        assert_eq!(ok(&w), [c as u64, 7 << 8, 0]);
        assert_eq!(
            err(&call(
                &mut k,
                r,
                wait_req(WaitTarget::Pid(c), false),
                &[],
                0
            )),
            Errno::Echild
        );
    }

    #[test]
    fn wait_nohang_with_a_running_child_returns_zero() {
        let mut k = kernel();
        let r = root(&mut k);
        spawn(&mut k, r, &[]);
        assert_eq!(
            ok(&call(&mut k, r, wait_req(WaitTarget::Any, true), &[], 0))[0],
            0
        );
    }

    #[test]
    fn wait_for_a_pid_that_is_not_a_child_is_echild() {
        let mut k = kernel();
        let r = root(&mut k);
        assert_eq!(
            err(&call(
                &mut k,
                r,
                wait_req(WaitTarget::Pid(9), false),
                &[],
                0
            )),
            Errno::Echild
        );
    }

    #[test]
    fn child_exit_posts_an_event_to_the_parent() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        k.exit(c, ExitKind::Code(1));
        assert_eq!(
            k.next_event(r),
            Some(Event::ChildExit {
                pid: c,
                status: 1 << 8
            })
        );
    }

    #[test]
    fn orphans_are_reparented_to_the_root() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        let g = spawn(&mut k, c, &[]);
        k.exit(c, ExitKind::Code(0));
        assert_eq!(
            ok(&call(&mut k, g, Request::GetPid, &[], 0)),
            [g as u64, ROOT_PID as u64, 0]
        );
        k.exit(g, ExitKind::Code(3));
        let mut reaped = vec![];
        for _ in 0..2 {
            reaped.push(ok(&call(&mut k, r, wait_req(WaitTarget::Any, true), &[], 0))[0]);
        }
        reaped.sort();
        assert_eq!(reaped, vec![c as u64, g as u64]);
    }

    #[test]
    fn sigkill_ends_the_target_with_signal_status() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        ok(&call(
            &mut k,
            r,
            Request::Kill {
                target: KillTarget::Pid(c),
                signo: SIGKILL,
            },
            &[],
            0,
        ));
        assert_eq!(k.take_effects(), vec![Effect::KillVm(c)]);
        assert_eq!(
            ok(&call(
                &mut k,
                r,
                wait_req(WaitTarget::Pid(c), false),
                &[],
                0
            ))[1],
            9
        );
    }

    #[test]
    fn catchable_signal_goes_to_the_event_queue_when_signals_are_negotiated() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = spawn(&mut k, r, &[]);
        k.set_features(c, 1 << FEATURE_SIGNALS);
        ok(&call(
            &mut k,
            r,
            Request::Kill {
                target: KillTarget::Pid(c),
                signo: SIGTERM,
            },
            &[],
            0,
        ));
        assert_eq!(
            k.next_event(c),
            Some(Event::Signal {
                signo: SIGTERM,
                sender: r
            })
        );
        assert!(k.process(c).unwrap().is_running());
    }

    #[test]
    fn kill_of_a_missing_process_is_esrch() {
        let mut k = kernel();
        let r = root(&mut k);
        assert_eq!(
            err(&call(
                &mut k,
                r,
                Request::Kill {
                    target: KillTarget::Pid(42),
                    signo: 0,
                },
                &[],
                0
            )),
            Errno::Esrch
        );
    }

    #[test]
    fn epipe_posts_sigpipe_when_signals_are_negotiated() {
        let mut k = kernel();
        let r = root(&mut k);
        k.set_features(r, 1 << FEATURE_SIGNALS);
        let (rd, wr) = pipe(&mut k, r);
        ok(&call(&mut k, r, Request::Close { fd: rd }, &[], 0));
        assert_eq!(
            err(&call(
                &mut k,
                r,
                Request::Write {
                    fd: wr,
                    len: 1,
                    nonblock: false
                },
                b"x",
                0
            )),
            Errno::Epipe
        );
        assert_eq!(
            k.next_event(r),
            Some(Event::Signal {
                signo: SIGPIPE,
                sender: HOST_PID
            })
        );
    }

    /// An `Io` that records its completion in a shared log.
    struct Logged(Arc<std::sync::Mutex<Vec<&'static str>>>);

    impl Io for Logged {
        fn readable_len(&self) -> usize {
            1
        }
        fn writable_len(&self) -> usize {
            0
        }
        fn read_into(&self, _off: usize, dst: &vm_memory::VolatileSlice<'_>) -> usize {
            dst.len().min(1)
        }
        fn fill_writable(
            &mut self,
            _off: usize,
            _n: usize,
            _fill: &mut crate::io::Fill<'_>,
        ) -> usize {
            0
        }
        fn complete(self: Box<Self>, resp: RespHeader, _written: usize) {
            assert_eq!(resp.result(), Err(Errno::Epipe));
            self.0.lock().unwrap().push("EPIPE completed");
        }
    }

    /// Regression: the EPIPE completion reached the used ring before the
    /// SIGPIPE event was queued.
    #[test]
    fn sigpipe_is_queued_before_the_epipe_completes() {
        let mut k = kernel();
        let r = root(&mut k);
        k.set_features(r, 1 << FEATURE_SIGNALS);
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let on_event = log.clone();
        k.set_waker(
            r,
            Some(Arc::new(move || {
                on_event.lock().unwrap().push("SIGPIPE queued")
            })),
        );
        let (rd, wr) = pipe(&mut k, r);
        ok(&call(&mut k, r, Request::Close { fd: rd }, &[], 0));
        let write = Request::Write {
            fd: wr,
            len: 1,
            nonblock: false,
        };
        k.submit(r, write, Box::new(Logged(log.clone())));
        assert_eq!(*log.lock().unwrap(), ["SIGPIPE queued", "EPIPE completed"]);
    }

    #[test]
    fn requests_held_while_frozen_run_on_thaw_and_are_dropped_on_cancel() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, wr) = pipe(&mut k, r);
        let c = spawn(&mut k, r, &[]);
        let read = |k: &mut Kernel| {
            call(
                k,
                r,
                Request::Read {
                    fd: rd,
                    len: 8,
                    nonblock: false,
                },
                &[],
                8,
            )
        };
        let blocked = read(&mut k);
        k.freeze(r);
        let later = call(&mut k, r, Request::GetPid, &[], 0);
        assert!(later.try_recv().is_err(), "nothing runs while frozen");
        ok(&call(
            &mut k,
            c,
            Request::Write {
                fd: wr,
                len: 2,
                nonblock: false,
            },
            b"hi",
            0,
        ));
        assert!(blocked.try_recv().is_err(), "a held READ takes nothing");
        k.exit(c, ExitKind::Code(4));
        k.thaw(r);
        assert_eq!(blocked.try_recv().unwrap().data, b"hi");
        assert_eq!(ok(&later)[0], r as u64);
        // Held again, then dropped: the data stays for the next READ.
        let dropped = read(&mut k);
        k.freeze(r);
        ok(&call(
            &mut k,
            HOST_PID,
            Request::Write {
                fd: 0,
                len: 1,
                nonblock: false,
            },
            b"x",
            0,
        ));
        k.cancel_pending(r);
        ok(&call(&mut k, r, Request::Close { fd: wr }, &[], 0));
        assert!(dropped.try_recv().is_err(), "never completed");
        assert_eq!(k.stats().waiting, 0);
        let wait = call(&mut k, r, wait_req(WaitTarget::Pid(c), false), &[], 0);
        assert_eq!(
            ok(&wait),
            [c as u64, 4 << 8, 0],
            "the exit held for the WAIT"
        );
    }

    #[test]
    fn get_args_reports_the_needed_size_when_the_buffer_is_small() {
        let mut k = kernel();
        let r = root(&mut k);
        let c = call(&mut k, r, Request::GetArgs { capacity: 4 }, &[], 4)
            .try_recv()
            .unwrap();
        assert_eq!(c.resp.result(), Err(Errno::Erange));
        let need = c.resp.ret(0) as usize;
        let c = call(
            &mut k,
            r,
            Request::GetArgs {
                capacity: need as u32,
            },
            &[],
            need,
        )
        .try_recv()
        .unwrap();
        let blob = ArgsBlob::parse(&c.data).unwrap();
        assert_eq!(blob.argv.iter().next(), Some(&b"root"[..]));
    }

    #[test]
    fn root_exit_ends_the_tree() {
        let mut k = kernel();
        let r = root(&mut k);
        k.exit(r, ExitKind::Code(4));
        assert_eq!(
            k.take_effects(),
            vec![Effect::StopVm(r), Effect::TreeDone(4 << 8)]
        );
    }

    #[test]
    fn everything_is_released_when_all_processes_end() {
        let mut k = kernel();
        let r = root(&mut k);
        let (rd, _) = pipe(&mut k, r);
        let c = spawn(&mut k, r, &[]);
        call(
            &mut k,
            c,
            Request::Read {
                fd: rd,
                len: 1,
                nonblock: false,
            },
            &[],
            1,
        );
        k.vanished(c);
        k.exit(r, ExitKind::Code(0));
        // The host still holds its ends of stdio until its pumps close them.
        for fd in 0..3 {
            ok(&call(&mut k, HOST_PID, Request::Close { fd }, &[], 0));
        }
        let s = k.stats();
        assert_eq!((s.pipes, s.fds, s.waiting, s.running), (0, 0, 0, 0));
    }
}
