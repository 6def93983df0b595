//! Unmodified static Linux programs on the guest kernel (`guest-kernel/`),
//! each compared with the same binary run natively on the host: standard
//! output and exit status (128 + signal for a death by signal) must be
//! the same.
//!
//! Two ways to run one:
//! * one process, booted the way `qemu-configs/README.md` launches a VM by
//!   hand: `vhost-user-pipe serve --once`, then QEMU with `-kernel
//!   target/images/guest-kernel -initrd PROGRAM -append "ARGV"`;
//! * a tree of processes (fork, exec, vfork, files): `vhost-user-pipe run
//!   --root DIR PROGRAM ARGS`, with a root directory built for the test
//!   ([`Root`]: busybox and its applets, the test programs, data files);
//!   the host runs the same binary from that directory.
//!
//! Every VM runs under TCG. The programs come from `tests/linux/`
//! (`tests/linux/build`, into `target/linux/`) and from Debian's
//! `busybox-static`; the kernel image from `guest-kernel/build-image`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use system_tests::linux_tree::{assert_same, run_natively, LinuxRoot as Root, Run as Outcome};
use system_tests::programs;
use system_tests::qemu::{daemon_bin, run_with_deadline, status_of, Group};

/// One boot and run under TCG on a loaded 2-core machine takes a few
/// seconds at most; this is the hard limit.
const LIMIT: Duration = Duration::from_secs(90);
/// Debian's `busybox-static`.
const BUSYBOX: &str = "/bin/busybox";
/// `ld`'s default base for non-PIE programs: the kernel image must end below it.
const USER_START: u64 = 0x40_0000;

fn kernel() -> PathBuf {
    let p = programs::images().join("guest-kernel");
    assert!(
        p.is_file(),
        "{} is missing: run `sh guest-kernel/build-image` first",
        p.display()
    );
    p
}

fn program(name: &str) -> PathBuf {
    system_tests::programs::linux(name)
}

fn busybox() -> PathBuf {
    let p = PathBuf::from(BUSYBOX);
    assert!(
        p.is_file(),
        "{BUSYBOX} is missing: install Debian's busybox-static"
    );
    p
}

fn run_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "vup-linux-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The kernel command line for `argv`: words quoted when they hold spaces.
fn append(argv: &[&str]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(' ') {
                format!("'{a}'")
            } else {
                (*a).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the guest kernel takes the program's argv from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArgvFrom {
    /// The kernel command line (`-append`).
    CommandLine,
    /// The device's `GET_ARGS` (the daemon's trailing arguments; the root's
    /// `argv[0]` is then "root"), with an empty command line.
    Device,
}

/// The machine a guest boots on, with its carrier of the device.
#[derive(Clone, Copy, Debug)]
enum Machine {
    /// microvm with qboot, virtio-mmio (the reference configuration).
    Microvm,
    /// q35 with SeaBIOS, virtio-pci.
    Q35,
}

impl Machine {
    fn args(self) -> &'static [&'static str] {
        match self {
            Machine::Microvm => &[
                "-machine",
                "microvm,memory-backend=mem,pit=on,pic=on,rtc=on,isa-serial=on",
                "-bios",
                "/usr/share/qemu/qboot.rom",
                "-device",
                "vhost-user-gpio-device,chardev=vpipe",
                "-global",
                "virtio-mmio.force-legacy=false",
            ],
            Machine::Q35 => &[
                "-machine",
                "q35,memory-backend=mem",
                "-device",
                "vhost-user-gpio-pci,chardev=vpipe",
            ],
        }
    }
}

fn qemu(machine: Machine, socket: &Path, serial: &Path, prog: &Path, cmdline: &str) -> Command {
    let mut q = Command::new("qemu-system-x86_64");
    q.args([
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-m",
        "64M",
        "-object",
        "memory-backend-memfd,id=mem,size=64M,share=on",
    ])
    .arg("-chardev")
    .arg(format!("socket,id=vpipe,path={}", socket.display()))
    .args(machine.args())
    .arg("-kernel")
    .arg(kernel())
    .arg("-initrd")
    .arg(prog)
    .arg("-append")
    .arg(cmdline)
    .arg("-serial")
    .arg(format!("file:{}", serial.display()))
    .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
    .args([
        "-display",
        "none",
        "-monitor",
        "none",
        "-nodefaults",
        "-no-reboot",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    q
}

/// Runs `prog` with `argv` and `env` as the root process of a tree: the
/// daemon serves one hand-launched QEMU booting the guest kernel.
fn in_guest(machine: Machine, from: ArgvFrom, prog: &Path, argv: &[&str], env: &[&str]) -> Outcome {
    let d = run_dir(argv[0]);
    let socket = d.join("vpipe.sock");
    let serial = d.join("serial.log");
    let mut serve = Command::new(daemon_bin());
    serve
        .args(["serve", "--once", "--accel", "tcg", "--socket-path"])
        .arg(&socket)
        .arg("--run-dir")
        .arg(d.join("run"))
        .env("RUST_LOG", "info");
    for e in env {
        serve.arg("--env").arg(e);
    }
    let cmdline = match from {
        ArgvFrom::CommandLine => append(argv),
        ArgvFrom::Device => {
            assert_eq!(argv[0], "root", "the daemon names its root \"root\"");
            serve.args(&argv[1..]);
            String::new()
        }
    };
    // The daemon must be listening before QEMU connects.
    let daemon = std::thread::spawn(move || run_with_deadline(serve, LIMIT));
    let until = Instant::now() + LIMIT;
    while !socket.exists() {
        assert!(
            Instant::now() < until,
            "daemon never created {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut vm = Group::spawn(qemu(machine, &socket, &serial, prog, &cmdline));
    let vm_err = vm.child.stderr.take().unwrap();
    let vm_err = std::thread::spawn(move || std::io::read_to_string(vm_err).unwrap_or_default());
    let vm_status = vm.wait_deadline(LIMIT);
    let out = daemon.join().unwrap();
    let log = std::fs::read_to_string(&serial).unwrap_or_default();
    let vm_err = vm_err.join().unwrap_or_default();
    let out = out.unwrap_or_else(|| panic!("daemon did not exit; serial:\n{log}\nQEMU:\n{vm_err}"));
    assert!(
        vm_status.is_some(),
        "QEMU did not finish\nserial:\n{log}\nQEMU:\n{vm_err}\ndaemon:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&d);
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        status: status_of(out.status),
        serial: log,
    }
}

/// Runs `prog` natively with the same argv (`argv[0]` included) and env.
fn on_host(prog: &Path, argv: &[&str], env: &[&str]) -> Outcome {
    let mut c = Command::new(prog);
    c.arg0(argv[0]).args(&argv[1..]).env_clear();
    for e in env {
        let (k, v) = e.split_once('=').expect("NAME=value");
        c.env(k, v);
    }
    run_natively(c)
}

/// Runs `prog` in the guest (on microvm) and on the host and checks that
/// both print the same and end the same; returns the guest's outcome.
fn same_as_host(prog: &Path, argv: &[&str], env: &[&str]) -> Outcome {
    same_as_host_on(Machine::Microvm, ArgvFrom::CommandLine, prog, argv, env)
}

fn same_as_host_on(
    machine: Machine,
    from: ArgvFrom,
    prog: &Path,
    argv: &[&str],
    env: &[&str],
) -> Outcome {
    let host = on_host(prog, argv, env);
    let guest = in_guest(machine, from, prog, argv, env);
    assert_same(&guest, &host);
    guest
}

#[test]
fn musl_hello_world_prints_and_exits_with_its_code() {
    let g = same_as_host(&program("hello"), &["hello"], &[]);
    assert_eq!(g.status, 3);
    assert!(g.stdout.starts_with("hello, world\n"), "{}", g.stdout);
}

#[test]
fn musl_argv_and_environment_are_echoed() {
    let g = same_as_host(
        &program("args"),
        &["args", "one", "two words", ""],
        &["ALPHA=1", "BETA=two words"],
    );
    assert!(g.stdout.contains("argv[2]=two words\n"), "{}", g.stdout);
    assert!(g.stdout.contains("env BETA=two words\n"), "{}", g.stdout);
}

#[test]
fn argv_comes_from_the_device_when_the_command_line_has_none() {
    let g = same_as_host_on(
        Machine::Microvm,
        ArgvFrom::Device,
        &program("args"),
        &["root", "from", "the device"],
        &["GAMMA=3"],
    );
    assert!(g.stdout.contains("argv[2]=the device\n"), "{}", g.stdout);
}

#[test]
fn musl_malloc_of_10_mib_is_used_and_freed() {
    same_as_host(&program("malloc"), &["malloc"], &[]);
}

#[test]
fn musl_brk_mmap_munmap_mprotect_mremap_madvise() {
    let g = same_as_host(&program("memory"), &["memory"], &[]);
    assert!(!g.stdout.contains(": no"), "{}", g.stdout);
}

#[test]
fn musl_clock_gettime_and_nanosleep() {
    let g = same_as_host(&program("clock"), &["clock"], &[]);
    assert!(!g.stdout.contains(": no"), "{}", g.stdout);
}

#[test]
fn musl_thread_local_variable_lives_behind_fs() {
    same_as_host(&program("tls"), &["tls"], &[]);
}

#[test]
fn musl_pipe_inside_one_process_and_the_fd_calls() {
    same_as_host(&program("pipe"), &["pipe"], &[]);
}

#[test]
fn musl_sigusr1_handler_runs_before_kill_to_self_returns() {
    let g = same_as_host(&program("signals"), &["signals"], &[]);
    assert!(
        g.stdout.contains("handler ran before kill returned: yes"),
        "{}",
        g.stdout
    );
}

#[test]
fn musl_sigpipe_handler_runs_and_the_default_action_kills() {
    let g = same_as_host(&program("sigpipe"), &["sigpipe"], &[]);
    assert!(g.stdout.contains("handler ran: yes"), "{}", g.stdout);
    assert_eq!(g.status, 128 + 13);
}

#[test]
fn musl_null_pointer_write_dies_of_sigsegv() {
    let g = same_as_host(&program("segv"), &["segv"], &[]);
    assert_eq!(g.status, 139);
}

#[test]
fn musl_abort_dies_of_sigabrt() {
    let g = same_as_host(&program("abort"), &["abort"], &[]);
    assert_eq!(g.status, 134);
}

#[test]
fn musl_cpu_faults_reach_their_signal_handlers() {
    same_as_host(&program("faults"), &["faults"], &[]);
}

#[test]
fn unknown_syscall_returns_enosys_and_is_logged_once() {
    let g = same_as_host(&program("enosys"), &["enosys"], &[]);
    assert_eq!(
        g.serial.matches("unknown syscall 999: ENOSYS").count(),
        1,
        "{}",
        g.serial
    );
}

#[test]
fn hostile_pointers_and_numbers_fail_as_on_linux_and_the_kernel_survives() {
    let g = same_as_host(&program("hostile"), &["hostile"], &[]);
    assert!(g.stdout.ends_with("survived\n"), "{}", g.stdout);
    assert!(g.stdout.contains("EFAULT"), "{}", g.stdout);
}

#[test]
fn glibc_static_hello_world() {
    let g = same_as_host(&program("hello-glibc"), &["hello"], &[]);
    assert_eq!(g.status, 3);
}

#[test]
fn glibc_static_pie_hello_world() {
    let g = same_as_host(&program("hello-glibc-pie"), &["hello"], &[]);
    assert_eq!(g.status, 3);
}

#[test]
fn rust_std_program_runs_as_static_pie() {
    let g = same_as_host(&program("rust_std"), &["rust_std", "x", "y"], &[]);
    assert_eq!(g.status, 5);
    assert!(g.stdout.contains("vec of 1048576 bytes"), "{}", g.stdout);
}

#[test]
fn busybox_echo_prints_its_arguments() {
    same_as_host(&busybox(), &["busybox", "echo", "hi", "there"], &[]);
}

#[test]
fn busybox_true_and_false_exit_0_and_1() {
    assert_eq!(
        same_as_host(&busybox(), &["busybox", "true"], &[]).status,
        0
    );
    assert_eq!(
        same_as_host(&busybox(), &["busybox", "false"], &[]).status,
        1
    );
}

#[test]
fn busybox_seq_counts() {
    let g = same_as_host(&busybox(), &["busybox", "seq", "1", "5"], &[]);
    assert_eq!(g.stdout, "1\n2\n3\n4\n5\n");
}

#[test]
fn q35_with_virtio_pci_runs_programs_too() {
    let q35 = |prog: &Path, argv: &[&str]| {
        same_as_host_on(Machine::Q35, ArgvFrom::CommandLine, prog, argv, &[])
    };
    q35(&program("signals"), &["signals"]);
    q35(&busybox(), &["busybox", "seq", "3"]);
}

/// The loadable segments of an ELF64 file: (p_vaddr, p_paddr, p_memsz).
fn load_segments(elf: &[u8]) -> Vec<(u64, u64, u64)> {
    const PT_LOAD: u32 = 1;
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap());
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap());
    assert_eq!(&elf[..4], b"\x7fELF");
    let (phoff, phentsize, phnum) = (u64_at(32) as usize, u16_at(54) as usize, u16_at(56));
    (0..phnum as usize)
        .map(|i| phoff + i * phentsize)
        .filter(|&o| u32_at(o) == PT_LOAD)
        .map(|o| (u64_at(o + 16), u64_at(o + 24), u64_at(o + 40)))
        .collect()
}

#[test]
fn kernel_image_ends_below_the_user_half() {
    let image = std::fs::read(kernel()).unwrap();
    let segments = load_segments(&image);
    assert!(!segments.is_empty());
    for (vaddr, paddr, memsz) in segments {
        assert!(
            vaddr + memsz <= USER_START && paddr + memsz <= USER_START,
            "segment {vaddr:#x}+{memsz:#x} reaches into the user half at {USER_START:#x}"
        );
    }
}

/// `PATH` for programs that look commands up (`execvp`, the shell).
const PATH: &str = "PATH=/bin";

/// How many processes (VMs) a tree ran, from its serial logs.
fn vms(o: &Outcome) -> usize {
    o.serial.matches("== pid-").count()
}

/// Process groups: three children killed as one with `kill(-pgid,
/// SIGKILL)` and reaped with `waitpid(-pgid)`, a second group ended by
/// SIGTERM while its members sleep, a child of the parent's group left
/// alone and reaped with `waitpid(0)`.
#[test]
fn musl_process_group_killed_as_one_and_reaped_by_group() {
    let g = Root::new(&["pgroup"]).same_as_host(&["pgroup"], &[]);
    assert!(
        g.stdout
            .contains("reaped 3 of the group, all by SIGKILL: yes"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout.contains("second group ended by SIGTERM: 2 of 2"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout
            .contains("waitpid(0) reaps the other child: yes, exit 3"),
        "{}",
        g.stdout
    );
}

/// getpgrp, getpgid, getsid, setpgid and setsid with their results and
/// errors, EACCES for a child that exec'd among them.
#[test]
fn musl_sessions_and_groups_follow_posix() {
    let g = Root::new(&["session"]).same_as_host(&["session"], &[PATH]);
    for line in [
        "child: setsid again: EPERM",
        "parent: setpgid(child in another session): EPERM",
        "parent: setpgid(exec'd child): EACCES",
        "getpgid(reaped): ESRCH",
        "children exited 0: yes",
    ] {
        assert!(g.stdout.contains(line), "{line}: {}", g.stdout);
    }
}

/// SIGSTOP really stops a child's VM (no write for 300 ms), waitpid sees
/// it with WUNTRACED and WCONTINUED, SIGCONT resumes it; raise(SIGTSTP)
/// stops a child by the default action; SIGCHLD reports both changes.
#[test]
fn musl_sigstop_stops_a_child_until_sigcont() {
    let g = Root::new(&["stop_cont"]).same_as_host(&["stop_cont"], &[]);
    for line in [
        "waitpid(WUNTRACED): stopped by SIGSTOP: yes",
        "bytes written while stopped: 0 (EAGAIN)",
        "waitpid(WCONTINUED): continued: yes",
        "then exits: 7",
        "raise(SIGTSTP) stops it: yes",
        "SIGCHLD saw a stop: yes, a continue: yes",
    ] {
        assert!(g.stdout.contains(line), "{line}: {}", g.stdout);
    }
}

#[test]
fn musl_fork_pipe_and_waitpid() {
    let g = Root::new(&["fork_pipe"]).same_as_host(&["fork_pipe"], &[]);
    assert!(g.stdout.contains("hello from the child\n"), "{}", g.stdout);
    assert!(g.stdout.contains("code 7"), "{}", g.stdout);
    assert_eq!(vms(&g), 2, "{}", g.serial);
}

/// `poll`, `ppoll`, `select` and `pselect6` over two pipes, each one
/// `POLL` request (`tests/linux/poll.c`): the fd a child writes to becomes
/// ready and the other not, timeouts return 0, `POLLHUP` after the writer
/// closed, `POLLERR` without a reader, `POLLNVAL` and `EBADF` for a closed
/// fd, `EINTR` for a handled signal whatever `SA_RESTART`, and the masks
/// of `ppoll` and `pselect6`.
#[test]
fn musl_poll_and_select_over_two_pipes_with_timeouts() {
    let g = Root::new(&["poll"]).same_as_host(&["poll"], &[]);
    for line in [
        "poll, timeout 100 ms: 0 [0]=0 [1]=0\nwaited at least 100 ms: yes\n",
        "poll, child writes A: 1 [0]=0x1 [1]=0\n",
        "select, child writes A: 1, A 1, B 0\n",
        "poll, SIGUSR1 (SA_RESTART 1): -1 (Interrupted system call), handler ran 2\n",
        "poll, child closed A: 1 [0]=0x10\n",
        "poll, B's reader closed, B closed, -1: 2 [0]=0xc [1]=0x20 [2]=0\n",
        "select, closed fd: -1 (Bad file descriptor)\n",
    ] {
        assert!(g.stdout.contains(line), "{line:?} in\n{}", g.stdout);
    }
    assert_eq!(vms(&g), 2, "{}", g.serial);
}

/// The guest kernel hands a program's pages to the device in place, one
/// descriptor per run of contiguous frames: buffers whose every page is a
/// run of its own (many requests per call), 1024 one-byte `iovec`s (one
/// atomic write still), overlapping `iovec`s, pages never touched,
/// read-only and `PROT_NONE` pages, `pread64` and `mmap` of a file.
#[test]
fn musl_buffers_of_scattered_pages_go_to_the_device_in_place() {
    let g = Root::new(&["scatter"]).same_as_host(&["scatter"], &[]);
    assert!(
        g.stdout.contains("1048576 bytes, 0 wrong, writer exit 0"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout.contains("read back 1024, as written: yes"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout
            .contains("pread into scattered pages matches read: yes"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout.contains("mmap of the file matches read: yes"),
        "{}",
        g.stdout
    );
}

#[test]
fn musl_fork_copies_unflushed_stdio() {
    let g = Root::new(&["fork_stdio"]).same_as_host(&["fork_stdio"], &[]);
    assert_eq!(
        g.stdout,
        "unflushed before fork; child\nunflushed before fork; parent\n"
    );
}

#[test]
fn musl_execv_execvp_and_dup2_onto_stdout_before_exec() {
    let g = Root::new(&["exec"]).same_as_host(&["exec"], &[PATH]);
    assert!(g.stdout.contains("from execvp\n"), "{}", g.stdout);
    assert!(
        g.stdout
            .contains("read from the child's stdout: through the pipe"),
        "{}",
        g.stdout
    );
}

/// Files written by several processes of a writable root: a description
/// opened before fork shares its offset, `O_APPEND` lines of four writers
/// (forked and spawned) all arrive whole, `pwrite` leaves the offset,
/// `ftruncate` cuts and a seek past the end leaves a hole;
/// `copy_file_range` and `sendfile` between two files, with offsets given
/// or the fds' own.
#[test]
fn musl_processes_share_offsets_and_append_whole_lines() {
    let root = Root::new(&["write_share"]).writable();
    let g = root.same_as_host(&["write_share"], &["PATH=/bin"]);
    assert!(g.stdout.contains("child\nparent after\n"), "{}", g.stdout);
    assert!(
        g.stdout
            .contains("200 whole lines, 0 broken, in order per writer: yes"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout
            .contains("copy_file_range: 6, offsets 19 6, in's own 0\n"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout.contains("sendfile: 13, offset 32\n"),
        "{}",
        g.stdout
    );
    for f in ["shared.txt", "log.txt", "edit.bin", "copy.txt"] {
        assert!(!root.path().join(f).exists(), "{f} was removed");
    }
}

/// A process's umask reaches its children however they start: a VM that
/// an exec launched (posix_spawn, vfork + exec) gets it from the device
/// (spec `dev-exec-umask`), a forked one has it in its copied memory.
// spec: dev-exec-umask
#[test]
fn musl_umask_is_inherited_by_spawn_vfork_fork_and_exec() {
    let g = Root::new(&["umask"]).same_as_host(&["umask"], &["PATH=/bin"]);
    assert!(
        g.stdout.contains("posix_spawnp child: umask 027\n"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout.contains("fork+exec child: umask 077\n"),
        "{}",
        g.stdout
    );
}

#[test]
fn musl_posix_spawn_with_file_actions_and_a_sigchld_handler() {
    let g = Root::new(&["spawn"]).same_as_host(&["spawn"], &[]);
    assert!(
        g.stdout.contains("the child wrote: SPAWNED THROUGH A PIPE"),
        "{}",
        g.stdout
    );
    assert!(g.stdout.contains("SIGCHLD handled: yes"), "{}", g.stdout);
}

#[test]
fn musl_vfork_then_exit_or_exec_resumes_the_parent() {
    let g = Root::new(&["vfork"]).same_as_host(&["vfork"], &[]);
    assert!(g.stdout.contains("code 42"), "{}", g.stdout);
    assert!(
        g.stdout
            .contains("the child's write to memory is the parent's: yes"),
        "{}",
        g.stdout
    );
    // The exiting child borrowed the parent's VM; only the exec got one.
    assert_eq!(vms(&g), 2, "{}", g.serial);
}

#[test]
fn glibc_static_fork_and_exec() {
    let g = Root::new(&["fork_exec-glibc"]).same_as_host(&["fork_exec-glibc"], &[]);
    assert!(
        g.stdout.contains("the child execs busybox\n"),
        "{}",
        g.stdout
    );
}

#[test]
fn rust_std_command_with_piped_stdio() {
    let g = Root::new(&["rust_command"]).same_as_host(&["rust_command"], &[]);
    assert!(
        g.stdout.contains("child said: HELLO FROM RUST\n"),
        "{}",
        g.stdout
    );
}

#[test]
fn busybox_sh_three_stage_pipeline() {
    let g = Root::new(&[]).same_as_host(&["sh", "-c", "echo a b c | tr a-z A-Z | wc -c"], &[PATH]);
    assert_eq!(g.stdout.trim(), "6");
    assert!(vms(&g) >= 4, "{}", g.serial);
}

/// busybox's `read -t` waits for its standard input with `poll`: a pipe
/// that gets a line in time, and one whose writer is too slow (the
/// timeout, status 1).
#[test]
fn busybox_sh_read_with_a_timeout_polls_a_pipe() {
    let g = Root::new(&[]).same_as_host(
        &[
            "sh",
            "-c",
            "echo hi | { read -t 20 x; echo \"status $? x=$x\"; }; \
             (sleep 6; echo late) | { read -t 1 x; echo \"status $? x=$x\"; }",
        ],
        &[PATH],
    );
    assert_eq!(g.stdout, "status 0 x=hi\nstatus 1 x=\n");
}

/// The shell's `kill -STOP`, `kill -CONT` and `kill -TERM` of a
/// background job, then `wait` for its status (143, as natively).
#[test]
fn busybox_sh_stops_continues_and_terminates_a_background_job() {
    let g = Root::new(&[]).same_as_host(
        &[
            "sh",
            "-c",
            "busybox sleep 30 & p=$!; kill -STOP $p; kill -CONT $p; kill -TERM $p; wait $p; echo \"status $?\"",
        ],
        &[PATH],
    );
    assert_eq!(g.stdout, "status 143\n");
}

#[test]
fn busybox_sh_command_substitution_and_and_or() {
    let g = Root::new(&[]).same_as_host(
        &[
            "sh",
            "-c",
            "x=$(echo inner | tr a-z A-Z); echo \"got $x\"; true && echo and; false || echo or; false && echo never; exit 3",
        ],
        &[PATH],
    );
    assert_eq!(g.stdout, "got INNER\nand\nor\n");
    assert_eq!(g.status, 3);
}

#[test]
fn busybox_sh_redirection_from_a_file_and_a_for_loop() {
    let g = Root::new(&[]).same_as_host(
        &[
            "sh",
            "-c",
            "sort < etc/fruits; for f in etc/fruits data/a.txt; do cat $f | wc -l; done",
        ],
        &[PATH],
    );
    assert_eq!(g.stdout, "apple\nfig\npear\n3\n1\n");
}

#[test]
fn busybox_sh_runs_scripts_with_and_without_a_shebang() {
    let g = Root::new(&[]).same_as_host(
        &[
            "sh",
            "-c",
            "hello.sh one; echo \"status $?\"; noshebang two; echo \"status $?\"",
        ],
        &[PATH],
    );
    assert_eq!(
        g.stdout,
        "script says one\nstatus 5\nno shebang: two\nstatus 0\n"
    );
}

#[test]
fn busybox_ls_lists_a_tree() {
    let g = Root::new(&[]).same_as_host(&["ls", "-ln", "data"], &["TZ=UTC"]);
    assert!(g.stdout.contains("link -> a.txt"), "{}", g.stdout);
}

#[test]
fn musl_files_open_read_lseek_fstat_list_readlink_and_cwd() {
    let g = Root::new(&["files"]).same_as_host(&["files"], &[]);
    assert!(!g.stdout.contains("no\n"), "{}", g.stdout);
    assert!(
        g.stdout.contains("data holds: . .. a.txt link sub\n"),
        "{}",
        g.stdout
    );
}

/// Hostile programs are contained: a program tries every way out of its
/// root (`..` from the top and from a directory, relative and absolute
/// links, the host's absolute path, `/proc/self/root` and other magic
/// links, climbing with `chdir`), by open, stat, opendir and execve, and
/// sees only the root's files. The secret sits next to the root.
#[test]
fn a_program_cannot_reach_host_files_outside_its_root() {
    let root = Root::new(&["escape"]);
    let name = format!(
        "{}-SECRET",
        root.path().file_name().unwrap().to_string_lossy()
    );
    let secret = root.path().parent().unwrap().join(&name);
    std::fs::write(&secret, "HOST-SECRET-CONTENT\n").unwrap();
    let host_abs = secret.to_str().unwrap().to_string();
    std::os::unix::fs::symlink(format!("../../{name}"), root.path().join("data/out-rel")).unwrap();
    std::os::unix::fs::symlink(&host_abs, root.path().join("data/out-abs")).unwrap();
    std::os::unix::fs::symlink("/proc/self/root", root.path().join("data/magic")).unwrap();
    let paths = [
        format!("../{name}"),
        format!("/../{name}"),
        format!("data/../../{name}"),
        host_abs.clone(),
        "data/out-rel".to_string(),
        "data/out-abs".to_string(),
        format!("data/magic{host_abs}"),
        format!("/proc/self/root{host_abs}"),
        format!("/proc/self/cwd/../{name}"),
        format!("/proc/1/root{host_abs}"),
        "/etc/hostname".to_string(),
        "..".to_string(),
        "/..".to_string(),
    ];
    let mut argv = vec!["escape"];
    argv.extend(paths.iter().map(String::as_str));
    let g = root.run(&argv, &[]);
    // The same program on the host, unconfined, does reach it: the check
    // below can fail.
    let host = root.run_on_host(&argv, &[]);
    let _ = std::fs::remove_file(&secret);
    assert!(host.stdout.contains("HOST-SECRET"), "{}", host.stdout);
    assert_eq!(g.status, 0, "{}", g.serial);
    assert!(
        !g.stdout.contains("HOST-SECRET"),
        "a host file leaked:\n{}",
        g.stdout
    );
    // Each outside path is simply not there (or a refused magic link).
    for p in &paths[..11] {
        let line = g
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("open {p}:")))
            .unwrap_or_else(|| panic!("no open line for {p}:\n{}", g.stdout));
        assert!(
            line.ends_with("ENOENT") || line.ends_with("ELOOP") || line.ends_with("EXDEV"),
            "{line}"
        );
        assert!(
            g.stdout.contains(&format!("execv {p}: ")),
            "execv of {p} must fail:\n{}",
            g.stdout
        );
    }
    // `..` of the root is the root: no secret in its listing.
    assert!(
        g.stdout.contains("opendir ..: 0 secret entries"),
        "{}",
        g.stdout
    );
    assert!(
        g.stdout.contains("opendir /..: 0 secret entries"),
        "{}",
        g.stdout
    );
    assert!(g.stdout.contains("after climbing: /\n"), "{}", g.stdout);
    assert!(g.stdout.contains("open SECRET: ENOENT"), "{}", g.stdout);
}

/// `isatty` tells the truth about the host's stdio: the daemon's stdin and
/// stderr on a pseudo-terminal, its stdout on a pipe; the program sees the
/// same as on the host with the same descriptors (spec: `dev-file-tty`).
#[test]
fn isatty_tells_the_truth_about_the_hosts_stdio() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two fds into our ints; no name, termios or size.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty just returned these two fds, and nothing else owns them.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let run = |mut c: Command| {
        c.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        let mut g = Group::spawn_keep_stdin(c);
        let out = g.child.stdout.take().unwrap();
        let out = std::thread::spawn(move || std::io::read_to_string(out).unwrap_or_default());
        let status = g.wait_deadline(LIMIT).expect("finished in time");
        (out.join().unwrap(), status_of(status))
    };
    let prog = program("isatty");
    let host = run(Command::new(&prog));
    assert_eq!(
        host.0,
        "fd 0: terminal, window size known\nfd 1: not a terminal\nfd 2: terminal, window size known\n"
    );
    let root = Root::new(&["isatty"]);
    let mut c = Command::new(daemon_bin());
    c.args(["run", "--accel", "tcg", "--root"])
        .arg(root.path())
        .arg("--kernel")
        .arg(kernel())
        .arg("isatty");
    assert_eq!(run(c), host);
    drop(master);
}

/// Terminal control on the host's terminal (spec 1.6.28, `TTY`): a musl
/// program's `tcgetattr`, `tcsetattr` (raw, then back), window size,
/// `setsid` + `TIOCSCTTY`, `tcgetpgrp` and `tcsetpgrp` on a fresh
/// pseudo-terminal give what they give on the host with the same
/// descriptors (stdin and stderr the terminal, stdout a pipe); a pipe is
/// `ENOTTY`.
#[test]
fn terminal_control_acts_on_the_hosts_terminal() {
    use std::os::fd::{FromRawFd, OwnedFd};
    let run = |mut c: Command| {
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two fds into our ints; no name, termios or size.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty just returned these two fds, and nothing else owns them.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        c.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(slave));
        let mut g = Group::spawn_keep_stdin(c);
        let out = g.child.stdout.take().unwrap();
        let out = std::thread::spawn(move || std::io::read_to_string(out).unwrap_or_default());
        let status = g.wait_deadline(LIMIT).expect("finished in time");
        drop(master);
        (out.join().unwrap(), status_of(status))
    };
    let host = run(Command::new(program("tty")));
    assert!(
        host.0
            .contains("raw on fd 2 too: icanon 0 echo 0 opost 0, as set yes\n")
            && host.0.contains("TIOCSWINSZ: 0, now 30x100\n")
            && host.0.contains("child: the foreground group is mine yes\n"),
        "{}",
        host.0
    );
    let root = Root::new(&["tty"]);
    let mut c = Command::new(daemon_bin());
    c.args(["run", "--accel", "tcg", "--root"])
        .arg(root.path())
        .arg("--kernel")
        .arg(kernel())
        .arg("tty");
    assert_eq!(run(c), host);
}

/// Signals from another process: a handled SIGTERM runs the child's
/// handler while it sleeps, an unhandled one kills it, and two SIGUSR1s
/// run the handler twice; as on the host.
#[test]
fn musl_signals_from_another_process_run_handlers_or_kill() {
    let g = Root::new(&["sigterm"]).same_as_host(&["sigterm"], &[]);
    assert!(
        g.stdout.contains("handled SIGTERM: exited 3\n")
            && g.stdout.contains("default SIGTERM: killed by signal 15\n")
            && g.stdout.contains("child: SIGUSR1 handler ran 2 times\n"),
        "{}",
        g.stdout
    );
}

/// Threads are not there yet: `clone` with `CLONE_THREAD` is `ENOSYS` with
/// a log line that says so, `pthread_create` fails (musl reports
/// `EAGAIN`), and the process goes on.
#[test]
fn threads_are_refused_cleanly_and_the_process_goes_on() {
    let g = Root::new(&["threads"]).run(&["threads"], &[]);
    assert_eq!(g.status, 0, "{}", g.serial);
    assert_eq!(
        g.stdout,
        "pthread_create: Resource temporarily unavailable\nstill running\n"
    );
    assert!(
        g.serial
            .contains("clone: threads (CLONE_THREAD) are not supported: ENOSYS"),
        "{}",
        g.serial
    );
}
