//! The host baselines, measured in the same run: a Linux pipe between two
//! processes (the child forked with libc and running only async-signal-safe
//! calls), fork + exit, and posix_spawn of `/bin/true`.

use std::ffi::CString;
use std::time::Instant;

use crate::plan::Plan;
use crate::proc::{pin, Pinned, Placement};
use crate::stats::names;
use crate::stats::{Row, Unit, Way};

/// The child's side of the transfer protocol, same as the guest's `echo`:
/// `'p'` is echoed as one byte; `'t'` + u64 total + u64 chunk: read `total`
/// bytes in reads of `chunk`, then answer one byte; anything else: exit.
const CMD_PING: u8 = b'p';
const CMD_TRANSFER: u8 = b't';
const CMD_QUIT: u8 = b'q';

fn read_exact(fd: i32, buf: &mut [u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`.
        let n = unsafe { libc::read(fd, buf[done..].as_mut_ptr().cast(), buf.len() - done) };
        if n <= 0 {
            return false;
        }
        done += n as usize;
    }
    true
}

fn write_all(fd: i32, buf: &[u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: the pointer and length describe the unwritten tail of `buf`.
        let n = unsafe { libc::write(fd, buf[done..].as_ptr().cast(), buf.len() - done) };
        if n <= 0 {
            return false;
        }
        done += n as usize;
    }
    true
}

/// The forked child: serves the protocol on `rx`/`tx` with a buffer
/// allocated before the fork, then `_exit`s. Only read, write and _exit.
fn echo_child(rx: i32, tx: i32, buf: &mut [u8]) -> ! {
    let mut cmd = [0u8; 1];
    while read_exact(rx, &mut cmd) {
        match cmd[0] {
            CMD_PING => {
                if !write_all(tx, &cmd) {
                    break;
                }
            }
            CMD_TRANSFER => {
                let mut hdr = [0u8; 16];
                if !read_exact(rx, &mut hdr) {
                    break;
                }
                let mut left = u64::from_le_bytes(hdr[..8].try_into().unwrap_or_default());
                let chunk = u64::from_le_bytes(hdr[8..].try_into().unwrap_or_default())
                    .clamp(1, buf.len() as u64);
                while left > 0 {
                    let want = left.min(chunk) as usize;
                    // SAFETY: `want` is at most `buf.len()`.
                    let n = unsafe { libc::read(rx, buf.as_mut_ptr().cast(), want) };
                    if n <= 0 {
                        // SAFETY: _exit is async-signal-safe and ends only this child.
                        unsafe { libc::_exit(3) };
                    }
                    left -= n as u64;
                }
                if !write_all(tx, &cmd) {
                    break;
                }
            }
            _ => break,
        }
    }
    // SAFETY: _exit is async-signal-safe and ends only this child.
    unsafe { libc::_exit(0) }
}

/// A forked echo child on two pipes.
struct Echo {
    pid: libc::pid_t,
    to: i32,
    from: i32,
}

fn pipe() -> [i32; 2] {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0, "pipe: {}", std::io::Error::last_os_error());
    fds
}

fn close(fd: i32) {
    // SAFETY: closing a descriptor this module created and owns.
    unsafe { libc::close(fd) };
}

impl Echo {
    fn start(max_chunk: usize) -> Self {
        let to = pipe();
        let from = pipe();
        let mut buf = vec![0u8; max_chunk];
        // SAFETY: the child runs only `echo_child`, which calls read, write
        // and _exit (async-signal-safe), on memory allocated before the fork.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            close(to[1]);
            close(from[0]);
            echo_child(to[0], from[1], &mut buf);
        }
        close(to[0]);
        close(from[1]);
        Self {
            pid,
            to: to[1],
            from: from[0],
        }
    }

    fn ping(&self) {
        let mut b = [CMD_PING];
        assert!(write_all(self.to, &b) && read_exact(self.from, &mut b));
    }

    /// Sends `total` bytes in writes of `data.len()`; returns when the child has read them all.
    fn transfer(&self, data: &[u8], total: u64) {
        let mut hdr = [0u8; 17];
        hdr[0] = CMD_TRANSFER;
        hdr[1..9].copy_from_slice(&total.to_le_bytes());
        hdr[9..].copy_from_slice(&(data.len() as u64).to_le_bytes());
        assert!(write_all(self.to, &hdr));
        let mut sent = 0;
        while sent < total {
            assert!(write_all(self.to, data));
            sent += data.len() as u64;
        }
        let mut ack = [0u8; 1];
        assert!(read_exact(self.from, &mut ack));
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        write_all(self.to, &[CMD_QUIT]);
        close(self.to);
        close(self.from);
        let mut status = 0;
        // SAFETY: reaping the child this struct forked.
        unsafe { libc::waitpid(self.pid, &mut status, 0) };
    }
}

fn rtt(echo: &Echo, plan: &Plan) -> Vec<f64> {
    for _ in 0..plan.warmup {
        echo.ping();
    }
    let mut rtt = Vec::with_capacity(plan.rtt_iters);
    for _ in 0..plan.rtt_iters {
        let t0 = Instant::now();
        echo.ping();
        rtt.push(t0.elapsed().as_nanos() as f64);
    }
    rtt
}

/// Host pipe rows in placement `p`: the 1-byte round trip and throughput
/// at each transfer size. For [`Placement::OneCpu`] both processes run on
/// CPU 0; for [`Placement::TwoCpus`] this process on CPU 0 and the echo
/// child on CPU 1.
pub fn pipe_rows(plan: &Plan, p: Placement) -> Vec<Row> {
    if let Some(why) = p.unavailable() {
        return Row::missing_pipe_rows(&plan.transfers, Way::Host, p, &why);
    }
    let _pin = match p {
        Placement::Free => None,
        Placement::OneCpu | Placement::TwoCpus => Pinned::to(0),
    };
    let max = plan.transfers.iter().map(|t| t.size).max().unwrap_or(1);
    let echo = Echo::start(max);
    if p == Placement::TwoCpus {
        pin(echo.pid, 1);
    }
    let mut rows = vec![Row::measured(
        "pipe",
        names::rtt_at(p),
        Way::Host,
        Unit::Nanos,
        &rtt(&echo, plan),
        format!("{} round trips", plan.rtt_iters),
    )];
    for t in &plan.transfers {
        let data = vec![0x5au8; t.size];
        let total = t.host_total();
        echo.transfer(&data, total);
        let mut samples = Vec::with_capacity(plan.tput_samples);
        for _ in 0..plan.tput_samples {
            let t0 = Instant::now();
            echo.transfer(&data, total);
            samples.push(t0.elapsed().as_nanos() as f64);
        }
        rows.push(Row::measured(
            "pipe",
            names::throughput_at(t.size, p),
            Way::Host,
            Unit::Throughput { bytes: total },
            &samples,
            format!(
                "{} × {} writes of {}",
                plan.tput_samples,
                total / t.size as u64,
                t.label()
            ),
        ));
    }
    rows
}

/// fork(): until the call returns in the parent, and fork + `_exit(0)` in
/// the child + waitpid in the parent.
pub fn fork_rows(plan: &Plan) -> Vec<Row> {
    let mut ret = Vec::with_capacity(plan.process_iters_host);
    let mut total = Vec::with_capacity(plan.process_iters_host);
    for _ in 0..plan.process_iters_host {
        let t0 = Instant::now();
        // SAFETY: the child calls only _exit, which is async-signal-safe.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: see above.
            unsafe { libc::_exit(0) };
        }
        let t1 = Instant::now();
        assert!(pid > 0, "fork: {}", std::io::Error::last_os_error());
        let mut status = 0;
        // SAFETY: reaping the child just forked.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        ret.push((t1 - t0).as_nanos() as f64);
        total.push(t0.elapsed().as_nanos() as f64);
    }
    let n = format!("{} forks", plan.process_iters_host);
    let rss = format!(
        "parent RSS {} MiB",
        crate::proc::vm_rss_kib(std::process::id()).unwrap_or(0) / 1024
    );
    vec![
        Row::measured(
            "process",
            names::FORK_RETURNS,
            Way::Host,
            Unit::Nanos,
            &ret,
            n.clone(),
        )
        .with_note(rss.clone()),
        Row::measured(
            "process",
            names::FORK_TOTAL,
            Way::Host,
            Unit::Nanos,
            &total,
            n,
        )
        .with_note(rss),
    ]
}

/// execve in place: the guests' program itself (`vupbench exec N`, the
/// same static binary) run natively; each step of its exec chain times the
/// call to the next step's `main` with CLOCK_MONOTONIC.
pub fn exec_rows(plan: &Plan, programs: Result<&crate::guest::Programs, &String>) -> Vec<Row> {
    let missing = |why: String| {
        vec![Row::missing(
            "process",
            names::EXEC,
            Way::Host,
            Unit::Nanos,
            why,
        )]
    };
    let programs = match programs {
        Ok(p) => p,
        Err(why) => return missing(why.clone()),
    };
    let count = plan.guest_spawns.clamp(1, 64);
    let out = std::process::Command::new(programs.dir.join(crate::guest::IMAGE))
        .args(["exec", &count.to_string()])
        .current_dir(&programs.dir)
        .output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => return missing(format!("vupbench exec failed: {}", o.status)),
        Err(e) => return missing(format!("cannot run vupbench: {e}")),
    };
    let samples: Vec<f64> = text
        .trim()
        .strip_prefix("exec_ns")
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    vec![Row::measured(
        "process",
        names::EXEC,
        Way::Host,
        Unit::Nanos,
        &samples,
        format!("{} execs", samples.len()),
    )
    .with_note("vupbench (musl, static) natively: execve(/proc/self/exe) chain")]
}

/// posix_spawn of `/bin/echo x` with its stdout on a pipe: until the call
/// returns, until its output arrives (it ran user code), until it was reaped.
pub fn spawn_rows(plan: &Plan) -> Vec<Row> {
    let prog = CString::new("/bin/echo").expect("no NUL");
    let arg0 = CString::new("echo").expect("no NUL");
    let arg1 = CString::new("x").expect("no NUL");
    let argv = [arg0.as_ptr(), arg1.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    let (mut ret, mut ran, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..plan.process_iters_host {
        let p = pipe();
        // SAFETY: an all-zero posix_spawn_file_actions_t is what _init overwrites.
        let mut fa: libc::posix_spawn_file_actions_t = unsafe { std::mem::zeroed() };
        // SAFETY: `fa` is a valid object, initialised here and destroyed below.
        unsafe {
            libc::posix_spawn_file_actions_init(&mut fa);
            libc::posix_spawn_file_actions_adddup2(&mut fa, p[1], 1);
            libc::posix_spawn_file_actions_addclose(&mut fa, p[0]);
        }
        let mut pid: libc::pid_t = 0;
        let t0 = Instant::now();
        // SAFETY: prog, argv and envp are NUL-terminated and outlive the
        // call; `fa` is initialised; null attributes are allowed.
        let rc = unsafe {
            libc::posix_spawn(
                &mut pid,
                prog.as_ptr(),
                &fa,
                std::ptr::null(),
                argv.as_ptr() as *const *mut libc::c_char,
                envp.as_ptr() as *const *mut libc::c_char,
            )
        };
        let t1 = Instant::now();
        // SAFETY: `fa` was initialised above and is not used again.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut fa) };
        assert_eq!(rc, 0, "posix_spawn /bin/echo failed: {rc}");
        close(p[1]);
        let mut b = [0u8; 1];
        assert!(read_exact(p[0], &mut b), "no output from /bin/echo");
        let t2 = Instant::now();
        let mut status = 0;
        // SAFETY: reaping the child just spawned.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        let t3 = Instant::now();
        close(p[0]);
        ret.push((t1 - t0).as_nanos() as f64);
        ran.push((t2 - t0).as_nanos() as f64);
        total.push((t3 - t0).as_nanos() as f64);
    }
    let n = format!("{} spawns", plan.process_iters_host);
    let note = "posix_spawn(/bin/echo x), stdout on a pipe";
    vec![
        Row::measured(
            "process",
            names::SPAWN_RETURNS,
            Way::Host,
            Unit::Nanos,
            &ret,
            n.clone(),
        )
        .with_note(note),
        Row::measured(
            "process",
            names::SPAWN_RUNS,
            Way::Host,
            Unit::Nanos,
            &ran,
            n.clone(),
        )
        .with_note(note),
        Row::measured(
            "process",
            names::SPAWN_TOTAL,
            Way::Host,
            Unit::Nanos,
            &total,
            n,
        )
        .with_note(note),
    ]
}
