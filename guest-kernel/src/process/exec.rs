//! Programs from the tree's root, and `execve`.
//!
//! A program is a file the device serves (spec 1.6.20): [`Program::open`]
//! opens it (`OPENAT`), checks that it is a regular file this process may
//! execute (`FSTAT`, `ACCESSAT`), reads its head (`PREAD`) and either
//! follows a `#!` line to its interpreter (`loader::script`) or checks its
//! ELF headers (`loader::elf`); [`DeviceFile`] then feeds the loader with
//! `PREAD`s. Everything that can fail for a reason the caller should hear
//! is checked before the device is told (`EXEC`), which is `execve`'s
//! point of no return.
//!
//! `execve` in place ([`exec_in_place`], no vfork): `EXEC` makes the new
//! program this process's on the device (same pid, parent, children and
//! fds); then the fds marked close-on-exec are closed, handled signals
//! go back to their default (ignored ones stay ignored), the old address
//! space is dropped and the new program loaded, and the syscall returns
//! into it. A vfork child's `execve` is `vfork::exec`.

use alloc::vec::Vec;

use virtio_pipe_protocol::fs::{O_RDONLY, S_IFMT, S_IFREG, X_OK};
use virtio_pipe_protocol::Dirfd;

use super::{device, Process};
use crate::arch::x86_64::cpu;
use crate::arch::x86_64::frame::TrapFrame;
use crate::linux::sig::{SIGSEGV, SI_KERNEL, SS_DISABLE};
use crate::linux::{Errno, Siginfo, StackT};
use crate::loader::{self, elf, script, ProgramFile, ReadError};

/// A program file read through the device (`PREAD`).
#[derive(Debug)]
pub struct DeviceFile {
    /// The open fd.
    pub fd: u32,
    /// Its size.
    pub size: u64,
}

impl ProgramFile for DeviceFile {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let mut done = 0;
        while done < buf.len() {
            let at = off + done as u64;
            match device::pread(self.fd, at, &mut buf[done..]) {
                Ok(n) if n > 0 => done += n,
                _ => return Err(ReadError { offset: at }),
            }
        }
        Ok(())
    }
}

/// A program opened for running.
#[derive(Debug)]
pub struct Program {
    /// The ELF file, open on the device.
    pub file: DeviceFile,
    /// Its path, as `EXEC` and `GET_EXE` carry it (a script's interpreter).
    pub path: Vec<u8>,
    /// Its argv (for a script: the interpreter's words, the script, the rest).
    pub argv: Vec<Vec<u8>>,
}

/// What the head of an opened file says.
enum Head {
    /// An ELF program of this many bytes.
    Elf(u64),
    /// A script: its `#!` line's interpreter and argument.
    Script(Vec<u8>, Option<Vec<u8>>),
}

fn check(fd: u32, path: &[u8]) -> Result<Head, Errno> {
    let st = device::fstat(fd)?;
    if st.mode.get() & S_IFMT != S_IFREG {
        return Err(Errno::EACCES);
    }
    device::accessat(Dirfd::Cwd, path, X_OK, 0)?;
    let size = st.size.get().max(0) as u64;
    let mut head = [0u8; script::HEAD_SIZE];
    let n = device::pread(fd, 0, &mut head)?;
    match script::parse(&head[..n]) {
        Some(Ok(s)) => Ok(Head::Script(
            s.interpreter.to_vec(),
            s.argument.map(<[u8]>::to_vec),
        )),
        Some(Err(())) => Err(Errno::ENOEXEC),
        None => {
            elf::read_plan(&DeviceFile { fd, size }).map_err(|e| {
                log::debug!("exec of {}: {e}", Bytes(path));
                Errno::ENOEXEC
            })?;
            Ok(Head::Elf(size))
        }
    }
}

impl Program {
    /// Opens the program at `path` (from the working directory, or the
    /// root if absolute) to run with `argv`, following `#!` lines.
    /// `ENOENT`, `EACCES` (not a regular file, not executable), `ENOEXEC`
    /// (neither a script nor an x86-64 static ELF program), `ELOOP` (too
    /// many interpreters), or the device's error.
    pub fn open(path: &[u8], argv: Vec<Vec<u8>>) -> Result<Self, Errno> {
        let (mut path, mut argv) = (path.to_vec(), argv);
        for _ in 0..=script::MAX_DEPTH {
            let fd = device::openat(Dirfd::Cwd, &path, O_RDONLY, 0)?;
            match check(fd, &path) {
                Ok(Head::Elf(size)) => {
                    return Ok(Self {
                        file: DeviceFile { fd, size },
                        path,
                        argv,
                    })
                }
                Ok(Head::Script(interpreter, argument)) => {
                    let _ = device::close(fd);
                    let s = script::Shebang {
                        interpreter: &interpreter,
                        argument: argument.as_deref(),
                    };
                    argv = script::argv(&s, &path, &argv);
                    path = interpreter;
                }
                Err(e) => {
                    let _ = device::close(fd);
                    return Err(e);
                }
            }
        }
        Err(Errno::ELOOP)
    }

    /// Closes the program's fd.
    pub fn close(self) {
        let _ = device::close(self.file.fd);
    }

    /// `argv` as slices.
    pub fn argv_refs(&self) -> Vec<&[u8]> {
        self.argv.iter().map(Vec::as_slice).collect()
    }
}

/// A byte string for log lines.
#[derive(Debug)]
pub struct Bytes<'a>(pub &'a [u8]);

impl core::fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
}

/// Closes the fds marked close-on-exec (the guest's bookkeeping; the
/// device knows no such flag).
pub fn close_cloexec(p: &mut Process) {
    let fds: Vec<u32> = p.fd_flags.cloexec_fds().collect();
    for fd in fds {
        let _ = device::close(fd);
        p.fd_flags.closed(fd);
    }
}

/// The signal state `execve` leaves: handlers reset (ignored signals stay
/// ignored), mask and pending signals kept, no alternate stack.
fn reset_signals(p: &mut Process) {
    p.signals.reset_handlers();
    p.signals.altstack = StackT {
        ss_flags: SS_DISABLE,
        ..StackT::default()
    };
}

/// Sets the program's name (`comm`, `prctl(PR_GET_NAME)`) and path.
pub fn set_names(p: &mut Process, execfn: &[u8]) {
    let base = execfn.rsplit(|&b| b == b'/').next().unwrap_or(&[]);
    p.comm = [0; 16];
    let n = base.len().min(p.comm.len() - 1);
    p.comm[..n].copy_from_slice(&base[..n]);
    p.exe = execfn.to_vec();
}

/// `execve` in place: see the module docs. On `Ok` the frame `f` is the
/// new program's first context. `execfn` is the path the caller gave
/// (`AT_EXECFN`).
pub fn exec_in_place(
    p: &mut Process,
    f: &mut TrapFrame,
    prog: Program,
    env: &[Vec<u8>],
    execfn: &[u8],
) -> Result<(), Errno> {
    let argv = prog.argv_refs();
    let env: Vec<&[u8]> = env.iter().map(Vec::as_slice).collect();
    if let Err(e) = device::exec(&prog.path, &argv, &env, p.umask) {
        prog.close();
        return Err(e);
    }
    // The point of no return: the device runs the new program now.
    close_cloexec(p);
    reset_signals(p);
    p.space.clear();
    cpu::set_fs_base(0);
    cpu::set_gs_base(0);
    p.clear_child_tid = 0;
    p.robust_list = (0, 0);
    set_names(p, execfn);
    let loaded = loader::load::load(&mut p.space, &prog.file, &argv, &env, execfn);
    let path = prog.path.clone();
    prog.close();
    match loaded {
        Ok(entry) => {
            *f = TrapFrame::program_start(entry.rip, entry.rsp);
            Ok(())
        }
        Err(e) => {
            // Too late to fail the call: the process dies of it, as on Linux.
            log::info!(
                "pid {}: execve of {} failed after the point of no return: {e}",
                p.pid,
                Bytes(&path)
            );
            p.signals
                .force(SIGSEGV, Siginfo::fault(SIGSEGV, SI_KERNEL, 0));
            Ok(())
        }
    }
}
