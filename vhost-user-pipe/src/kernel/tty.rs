//! `TTY` (spec 1.6.28): the tree's terminal. When the daemon's stdin,
//! stdout or stderr is a host terminal, the root's standard streams that
//! lead there (and `/dev/tty`) are the tree's terminal: `TCGETS`/`TCSETS*`
//! and the window size act on the host terminal itself (through a
//! [`HostTerminal`], `terminal.rs` in the daemon, a fake in tests), and the
//! foreground process group is a record of this kernel, which the daemon's
//! terminal signals (Ctrl-C, Ctrl-Z, Ctrl-\, resizes) are sent to.
//!
//! Also here: the end-of-input mark a terminal's Ctrl-D leaves in the
//! root's stdin pipe (`pipe.rs`, [`Kernel::mark_end_of_input`]).

use std::sync::Arc;

use virtio_pipe_protocol::tty::{PGRP_SIZE, TERMIOS_SIZE, WINSIZE_SIZE};
use virtio_pipe_protocol::{Errno, RespHeader, SetWhen, Termios, TtyCmd, Winsize};
use zerocopy::{FromBytes, IntoBytes};

use super::{done, Kernel};
use crate::fdtable::{End, Open, PipeId};
use crate::io::Io;
use crate::process::{Pid, HOST_PID, ROOT_PID};

/// The host terminal the tree's terminal is: its modes and window size,
/// on one of the daemon's own fds 0, 1 and 2.
pub trait HostTerminal: Send + Sync + std::fmt::Debug {
    /// `TCGETS` on host fd `fd`.
    fn get_attr(&self, fd: u32) -> std::io::Result<Termios>;
    /// `TCSETS*` on host fd `fd`.
    fn set_attr(&self, fd: u32, when: SetWhen, t: &Termios) -> std::io::Result<()>;
    /// `TIOCGWINSZ` on host fd `fd`.
    fn get_winsize(&self, fd: u32) -> std::io::Result<Winsize>;
    /// `TIOCSWINSZ` on host fd `fd`.
    fn set_winsize(&self, fd: u32, ws: &Winsize) -> std::io::Result<()>;
}

/// The kernel's record of the tree's terminal.
#[derive(Debug)]
pub struct TtyState {
    /// The host terminal, when the daemon has one.
    host: Option<Arc<dyn HostTerminal>>,
    /// The foreground process group (`TIOCSPGRP`); the root's group at
    /// first.
    foreground: Pid,
}

impl Default for TtyState {
    fn default() -> Self {
        Self {
            host: None,
            foreground: ROOT_PID,
        }
    }
}

/// A host error as the guest's (spec 1.8: `EPERM` is never answered).
fn host_errno(e: &std::io::Error) -> Errno {
    match Errno::from_host(e.raw_os_error().unwrap_or(libc::EIO)) {
        Errno::Eperm => Errno::Eacces,
        e => e,
    }
}

impl Kernel {
    /// The host terminal that `TCGETS`, `TCSETS*` and the window size act
    /// on (`None`: they answer `ENOTTY`).
    pub fn set_host_terminal(&mut self, host: Option<Arc<dyn HostTerminal>>) {
        self.tty.host = host;
    }

    /// The tree's foreground process group.
    pub fn foreground_group(&self) -> Pid {
        self.tty.foreground
    }

    /// Whether `pid` is in the background of the tree's terminal (spec
    /// `dev-tty-background`): the tree has a host terminal, and `pid` is
    /// in the session of the foreground process group, which has a live
    /// member, but not in that group.
    fn in_background(&self, pid: Pid) -> bool {
        if self.tty.host.is_none() {
            return false;
        }
        let fg = self.tty.foreground;
        let Some(me) = self.procs.get(&pid) else {
            return false;
        };
        let leader = self.procs.values().find(|p| p.is_running() && p.pgid == fg);
        leader.is_some_and(|l| me.pgid != fg && me.sid == l.sid)
    }

    /// Whether a READ of pipe `pipe` by `pid` reads the terminal from the
    /// background: it fails with `EIO`, and the driver turns that into
    /// `SIGTTIN` for its group, or leaves it `EIO` if the process blocks
    /// or ignores the signal (Linux's `__tty_check_change`).
    pub(super) fn background_read(&self, pid: Pid, pipe: PipeId) -> bool {
        self.stdio_ids[0] == Some(pipe) && self.terminals.contains(&pipe) && self.in_background(pid)
    }

    /// The host fd (0, 1 or 2) behind `pid`'s fd `fd` when it is the
    /// tree's terminal; `ENOTTY` for anything else, `EBADF` if not open.
    fn terminal_fd(&self, pid: Pid, fd: u32) -> Result<u32, Errno> {
        let ofd = self.procs[&pid].fds.get(fd)?;
        let id = match &ofd.what {
            Open::Pipe { pipe, .. } if self.terminals.contains(pipe) => *pipe,
            Open::Tty { input, output } => input.or(*output).ok_or(Errno::Enotty)?,
            _ => return Err(Errno::Enotty),
        };
        let host_fd = self.stdio_ids.iter().position(|s| *s == Some(id));
        host_fd.map(|n| n as u32).ok_or(Errno::Enotty)
    }

    /// Serves `TTY`.
    pub(super) fn tty(
        &mut self,
        pid: Pid,
        fd: u32,
        cmd: TtyCmd,
        nojobctl: bool,
        mut io: Box<dyn Io>,
    ) {
        let host_fd = match self.terminal_fd(pid, fd) {
            Ok(n) => n,
            Err(e) => return done(io, Err(e)),
        };
        // A change of the terminal from the background: `SIGTTOU`, which
        // the driver sends unless the caller blocks or ignores it (then it
        // says so with `nojobctl`).
        if cmd.changes_terminal() && !nojobctl && self.in_background(pid) {
            return done(io, Err(Errno::Eio));
        }
        let host = self.tty.host.clone();
        let host = || host.as_deref().ok_or(Errno::Enotty);
        let mut payload = [0u8; TERMIOS_SIZE];
        let input = &mut payload[..cmd.readable()];
        if io.read_payload(0, input) != input.len() {
            return done(io, Err(Errno::Einval));
        }
        let r: Result<Vec<u8>, Errno> = match cmd {
            TtyCmd::GetAttr => host().and_then(|h| {
                let t = h.get_attr(host_fd).map_err(|e| host_errno(&e))?;
                Ok(t.as_bytes().to_vec())
            }),
            TtyCmd::SetAttr(when) => host()
                .and_then(|h| {
                    let t = Termios::read_from_bytes(input).map_err(|_| Errno::Einval)?;
                    h.set_attr(host_fd, when, &t).map_err(|e| host_errno(&e))
                })
                .map(|()| {
                    if when == SetWhen::Flush {
                        // The host discarded what it held; what the stdin
                        // pump already moved goes too.
                        self.discard_terminal_input();
                    }
                    Vec::new()
                }),
            TtyCmd::GetWinsize => host().and_then(|h| {
                let ws = h.get_winsize(host_fd).map_err(|e| host_errno(&e))?;
                Ok(ws.as_bytes().to_vec())
            }),
            TtyCmd::SetWinsize => host().and_then(|h| {
                let ws = Winsize::read_from_bytes(input).map_err(|_| Errno::Einval)?;
                h.set_winsize(host_fd, &ws)
                    .map_err(|e| host_errno(&e))
                    .map(|_| Vec::new())
            }),
            TtyCmd::GetPgrp => Ok(self.tty.foreground.to_le_bytes().to_vec()),
            TtyCmd::SetPgrp => {
                let mut b = [0u8; PGRP_SIZE];
                b.copy_from_slice(input);
                self.set_foreground(i32::from_le_bytes(b))
                    .map(|_| Vec::new())
            }
            // One terminal, already every process's controlling terminal:
            // taking it makes the caller's group the foreground (as Linux's
            // `tiocsctty`), giving it up changes nothing.
            TtyCmd::SetCtty => {
                self.tty.foreground = self.procs[&pid].pgid;
                Ok(Vec::new())
            }
            TtyCmd::NoTty => Ok(Vec::new()),
        };
        match r {
            Ok(out) => {
                debug_assert!(out.len() <= WINSIZE_SIZE.max(TERMIOS_SIZE));
                let n = io.write_payload(0, &out);
                io.complete(RespHeader::ok([0; 3]), n);
            }
            Err(e) => done(io, Err(e)),
        }
    }

    /// Drops the input the root's stdin pipe holds when it comes from the
    /// host terminal (`TCSETSF`).
    fn discard_terminal_input(&mut self) {
        let Some(id) = self.stdio_ids[0].filter(|id| self.terminals.contains(id)) else {
            return;
        };
        if let Some(p) = self.pipes[id].as_mut() {
            p.discard_buffered();
        }
    }

    /// `TIOCSPGRP`: `EINVAL` for a negative group, `ESRCH` when no live
    /// process of the tree is in group `pgid` (as Linux's `tiocspgrp`).
    fn set_foreground(&mut self, pgid: i32) -> Result<(), Errno> {
        let pgid = Pid::try_from(pgid).map_err(|_| Errno::Einval)?;
        if self.live_members(pgid).is_empty() {
            return Err(Errno::Esrch);
        }
        self.tty.foreground = pgid;
        Ok(())
    }

    /// The live processes of group `pgid` (`groups.rs` keeps the groups).
    fn live_members(&self, pgid: Pid) -> Vec<Pid> {
        self.procs
            .values()
            .filter(|p| p.pid != HOST_PID && p.is_running() && p.pgid == pgid)
            .map(|p| p.pid)
            .collect()
    }

    /// Sends `signo` from the device (the host terminal) to every process
    /// of the foreground group, as `KILL` to the group from pid 0; returns
    /// how many live processes the group had.
    pub fn signal_foreground(&mut self, signo: u32) -> usize {
        let fg = self.tty.foreground;
        let n = self.live_members(fg).len();
        // An empty group (its last member ended) is ESRCH: no one to tell.
        let _ = self.kill_group(HOST_PID, fg, signo);
        n
    }

    /// The terminal's end of input (a 0-byte read of the host terminal,
    /// Ctrl-D): the next `READ` of the root's stdin pipe that reaches this
    /// point returns 0, once; the stream stays open (spec: `dev-tty-eof`).
    pub fn mark_end_of_input(&mut self) {
        let Ok(ofd) = self.procs[&HOST_PID].fds.get(0) else {
            return;
        };
        let Open::Pipe {
            pipe,
            end: End::Write,
        } = ofd.what
        else {
            return;
        };
        let (p, mut notes) = self.pipe_and_notes(pipe);
        p.mark_end_of_input(&mut notes);
        // A blocked `poll` of stdin sees it readable now.
        self.wake_polls();
    }
}

impl HostTerminal for crate::terminal::HostTty {
    fn get_attr(&self, fd: u32) -> std::io::Result<Termios> {
        crate::terminal::HostTty::get_attr(self, fd)
    }

    fn set_attr(&self, fd: u32, when: SetWhen, t: &Termios) -> std::io::Result<()> {
        crate::terminal::HostTty::set_attr(self, fd, when, t)
    }

    fn get_winsize(&self, fd: u32) -> std::io::Result<Winsize> {
        crate::terminal::HostTty::get_winsize(self, fd)
    }

    fn set_winsize(&self, fd: u32, ws: &Winsize) -> std::io::Result<()> {
        crate::terminal::HostTty::set_winsize(self, fd, ws)
    }
}
