//! The host terminal end to end (issue 15's acceptance): `tmux` drives
//! `vhost-user-pipe run --accel tcg --root ROOT /bin/busybox sh -i`, every
//! command a VM, and each check reads the captured pane.
//!
//! Each test starts a detached tmux server of its own (`tmux -L NAME`,
//! a name unique to the test and the process, no config file) whose pane
//! runs a host `sh` script: it saves `stty -g`, runs the daemon in the
//! foreground with the pane as its terminal, says how it exited, and
//! saves `stty -g` again. Keys are sent with `send-keys`; a check polls
//! `capture-pane -p` until the text it wants appears or a generous
//! deadline passes (several VMs boot under TCG on a loaded 2-core
//! machine). The server, and the script's process group with the daemon
//! in it, are killed when the test ends, whatever happened ([`Tmux`]'s
//! drop).
//!
//! Skipped (with a line saying so) without `tmux`, QEMU or Debian's
//! `busybox-static`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use system_tests::programs;
use system_tests::qemu::{daemon_bin, have_qemu};

/// Debian's `busybox-static`.
const BUSYBOX: &str = "/bin/busybox";
/// How long a check waits for the pane to show what it wants.
const LIMIT: Duration = Duration::from_secs(120);
/// The guest shell's prompt (`PS1`), and as the pane shows it at rest.
const PROMPT: &str = "vm> ";
const IDLE: &str = "vm>";
/// How long a Ctrl-C may take to end a foreground `sleep 30` and give
/// the prompt back ("within a second" on an idle machine; this one is
/// loaded).
const INTERRUPT_LIMIT: Duration = Duration::from_secs(10);

fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the tests can run; says why not on stderr.
fn ready() -> bool {
    for (ok, what) in [
        (have_tmux(), "tmux is missing"),
        (have_qemu(), "qemu-system-x86_64 is missing"),
        (
            Path::new(BUSYBOX).is_file(),
            "/bin/busybox is missing (Debian's busybox-static)",
        ),
    ] {
        if !ok {
            eprintln!("SKIPPED terminal: {what}");
            return false;
        }
    }
    true
}

/// Quotes `s` for a POSIX shell.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A tmux server of one test, its pane running the daemon with a busybox
/// root; killed on drop.
struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts the server; its pane runs `busybox sh -i` under the daemon.
    fn start(test: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "vup-{test}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = tempfile::Builder::new()
            .prefix("vup-terminal-")
            .tempdir()
            .unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::copy(BUSYBOX, root.join("bin/busybox")).unwrap();
        std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
        let d = |name: &str| quoted(dir.path().join(name).to_str().unwrap());
        let script = format!(
            "set -m\n\
             echo $$ > {pid}\n\
             stty -g > {before}\n\
             {daemon} run --accel tcg --kernel {kernel} --run-dir {run} --root {root} \
             --env PATH=/bin --env {ps1} /bin/busybox sh -i\n\
             echo \"run exited $?\"\n\
             stty -g > {after}.tmp && mv {after}.tmp {after}\n\
             exec sleep 600\n",
            pid = d("pid"),
            before = d("before"),
            after = d("after"),
            daemon = quoted(daemon_bin().to_str().unwrap()),
            kernel = quoted(programs::kernel().to_str().unwrap()),
            run = d("run"),
            root = quoted(root.to_str().unwrap()),
            ps1 = quoted(&format!("PS1={PROMPT}")),
        );
        let path = dir.path().join("pane.sh");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let t = Self { socket, dir };
        let shell = format!(
            "env -i PATH=/usr/bin:/bin TERM=vt100 RUST_LOG=warn /bin/sh {}",
            quoted(path.to_str().unwrap())
        );
        let ok = t
            .tmux()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "t"])
            .args(["-x", "100", "-y", "30", &shell])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        t
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L")
            .arg(&self.socket)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Types `text` as it is.
    fn type_text(&self, text: &str) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", "t", "-l", text])
            .status();
        assert!(ok.unwrap().success(), "send-keys {text:?}");
    }

    /// Presses keys by tmux's names (`Enter`, `BSpace`, `Left`, `C-c`).
    fn keys(&self, keys: &[&str]) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", "t"])
            .args(keys)
            .status();
        assert!(ok.unwrap().success(), "send-keys {keys:?}");
    }

    /// Types a command line and presses Enter.
    fn command(&self, line: &str) {
        self.type_text(line);
        self.keys(&["Enter"]);
    }

    /// The pane and its history, one string per line, blanks trimmed at
    /// both ends (in raw mode a newline does not return the carriage).
    fn lines(&self) -> Vec<String> {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "t", "-S", "-"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().to_owned())
            .collect()
    }

    /// Polls the pane until `cond` holds; panics with the pane and the
    /// guests' complaints after `limit`. Returns how long it took.
    fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        cond: impl Fn(&[String]) -> bool,
    ) -> Duration {
        let start = Instant::now();
        loop {
            let lines = self.lines();
            if cond(&lines) {
                return start.elapsed();
            }
            if start.elapsed() > limit {
                panic!(
                    "timed out after {limit:?} waiting for {what}; the pane:\n{}\n{}",
                    lines.join("\n"),
                    self.complaints()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for a line that is exactly `line` (or ends with it, after
    /// a prompt: in raw mode the shell leaves the cursor after its own).
    fn wait_line(&self, line: &str) -> Duration {
        self.wait_until(&format!("the line {line:?}"), LIMIT, |l| {
            l.iter()
                .any(|x| x == line || x.strip_prefix(PROMPT) == Some(line))
        })
    }

    /// Waits until the pane's last non-blank line is the bare prompt and
    /// at least `n` lines start with it (so a new one has appeared).
    fn wait_prompt(&self, n: usize, limit: Duration) -> Duration {
        self.wait_until(&format!("prompt number {n}"), limit, |l| {
            let last = l.iter().rev().find(|x| !x.is_empty());
            last.is_some_and(|x| after_echo(x) == IDLE) && prompts(l) >= n
        })
    }

    /// Waits for a line that ends with `end` (after whatever the shell
    /// printed on that line without a newline).
    fn wait_end(&self, end: &str) -> Duration {
        self.wait_until(&format!("a line ending with {end:?}"), LIMIT, |l| {
            l.iter().any(|x| x.ends_with(end))
        })
    }

    /// Waits until the pane's last non-blank line is `line`.
    fn wait_last(&self, line: &str) {
        self.wait_until(&format!("{line:?} as the last line"), LIMIT, |l| {
            l.iter()
                .rev()
                .find(|x| !x.is_empty())
                .is_some_and(|x| x == line)
        });
    }

    /// The last lines of each guest's serial log that say something went
    /// wrong, for a failure message.
    fn complaints(&self) -> String {
        let mut out = String::new();
        let Ok(entries) = std::fs::read_dir(self.file("run")) else {
            return out;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".serial.log") {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            out += &format!(
                "{name}:\n  {}\n",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n  ")
            );
        }
        out
    }

    /// The pid of the pane's script (the leader of its process group).
    fn script_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.file("pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The daemon's pid: the script's child.
    fn daemon_pid(&self) -> i32 {
        let script = self.script_pid().expect("the script wrote its pid");
        let children = std::fs::read_to_string(format!("/proc/{script}/task/{script}/children"))
            .unwrap_or_default();
        children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the daemon runs under the script")
    }

    /// `stty -g` of the pane's terminal, read from outside it.
    fn host_modes(&self) -> String {
        let out = self
            .tmux()
            .args(["display-message", "-p", "-t", "t", "#{pane_tty}"])
            .output()
            .unwrap();
        let tty = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let out = Command::new("stty")
            .args(["-F", &tty, "-g"])
            .output()
            .unwrap();
        assert!(out.status.success(), "stty -F {tty} -g");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Runs `command` as a foreground job and returns once it runs: the
    /// shell makes a job's group the terminal's foreground in the job's
    /// own process (after `fork`, as Linux's ash does), which here boots
    /// a VM first; a Ctrl-C sent before that would go to the shell. So
    /// the job says when it has started (`exec` keeps its group).
    fn foreground(&self, command: &str) {
        self.command(&format!("sh -c 'echo job-started; exec {command}'"));
        self.wait_line("job-started");
    }

    /// Runs `jobs` once a second until a line of the pane says `what`
    /// (`line`): the shell reports a job's change when it next looks.
    fn jobs_until(&self, what: &str, line: impl Fn(&str) -> bool) {
        let until = Instant::now() + LIMIT;
        for n in 0.. {
            // The shell's own report may end its line without a newline
            // before the echo: the marker is looked for at a line's end,
            // and is computed so that the command line itself is not it.
            self.command(&format!("jobs; echo listed-$((1000+{n}))"));
            self.wait_end(&format!("listed-{}", 1000 + n));
            let lines = self.lines();
            if lines.iter().any(|x| line(x)) {
                return;
            }
            assert!(Instant::now() < until, "never saw {what}: {lines:?}");
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Waits for the shell's first prompt.
    fn booted(&self) {
        self.wait_prompt(1, LIMIT);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        if let Some(script) = self.script_pid() {
            let children =
                std::fs::read_to_string(format!("/proc/{script}/task/{script}/children"))
                    .unwrap_or_default();
            for child in children
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                // SAFETY: kill(2) of the process group of a job our pane's
                // script started (`set -m`: the daemon leads its own); its
                // VMs die with it (PR_SET_PDEATHSIG).
                unsafe { libc::kill(-child, libc::SIGKILL) };
            }
            // SAFETY: kill(2) of the process group our pane's script leads
            // (tmux made it a session leader).
            unsafe { libc::kill(-script, libc::SIGKILL) };
        }
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// A line without the `^C` or `^Z` the terminal echoed at its start (the
/// shell may print its prompt right after it).
fn after_echo(line: &str) -> &str {
    line.strip_prefix("^C")
        .or_else(|| line.strip_prefix("^Z"))
        .unwrap_or(line)
}

/// How many lines start with the prompt.
fn prompts(lines: &[String]) -> usize {
    lines
        .iter()
        .map(|l| after_echo(l))
        .filter(|l| l.starts_with(PROMPT) || *l == IDLE)
        .count()
}

#[test]
fn line_editing_runs_the_edited_command() {
    if !ready() {
        return;
    }
    let t = Tmux::start("edit");
    t.booted();
    // A typo, a backspace, the cursor moved back and a letter inserted:
    // "echo ab_hllox" becomes "echo ab_hello".
    t.type_text("echo ab_hllox");
    t.wait_last("vm> echo ab_hllox");
    t.keys(&["BSpace", "Left", "Left", "Left"]);
    t.type_text("e");
    t.wait_last("vm> echo ab_hello");
    t.keys(&["Enter"]);
    t.wait_line("ab_hello");
    t.wait_prompt(2, LIMIT);
    assert!(
        !t.lines().iter().any(|l| l == "ab_hllo" || l == "ab_hllox"),
        "{:?}",
        t.lines()
    );
}

#[test]
fn ctrl_c_ends_a_foreground_sleep_and_the_shell_lives_on() {
    if !ready() {
        return;
    }
    let t = Tmux::start("intr");
    t.booted();
    t.foreground("sleep 30");
    t.keys(&["C-c"]);
    let took = t.wait_prompt(2, INTERRUPT_LIMIT);
    eprintln!("Ctrl-C to the prompt: {took:?}");
    t.command("echo alive-$((6*7))");
    t.wait_line("alive-42");
}

/// Ctrl-\\ is `SIGQUIT` to the foreground job, whose default action
/// ends it (with a core, which the shell reports).
#[test]
fn ctrl_backslash_quits_a_foreground_job() {
    if !ready() {
        return;
    }
    let t = Tmux::start("quit");
    t.booted();
    t.foreground("sleep 30");
    t.keys(&["C-\\"]);
    t.wait_until("the shell's report of SIGQUIT", INTERRUPT_LIMIT, |l| {
        l.iter().any(|x| x.contains("Quit"))
    });
    t.wait_until("the prompt", LIMIT, |l| {
        l.iter()
            .rev()
            .find(|x| !x.is_empty())
            .is_some_and(|x| x.ends_with(IDLE))
    });
}

#[test]
fn ctrl_d_ends_cat_into_grep() {
    if !ready() {
        return;
    }
    let t = Tmux::start("eof");
    t.booted();
    // `echo` runs once the line editor has put the terminal back in
    // cooked mode with echo: lines typed before that would not be echoed
    // (as on Linux, where that window is far shorter).
    t.command("echo go; cat | grep x");
    t.wait_line("go");
    t.command("abc");
    t.command("xyz");
    // The terminal echoes both lines; grep prints the one with an x.
    t.wait_until("grep's xyz", LIMIT, |l| {
        l.iter().filter(|x| *x == "xyz").count() == 2
    });
    t.keys(&["C-d"]);
    t.wait_prompt(2, LIMIT);
    assert_eq!(
        t.lines().iter().filter(|x| *x == "abc").count(),
        1,
        "abc only echoed: {:?}",
        t.lines()
    );
    // Fd 0 is still open: the shell reads on.
    t.command("echo still-$((2+3))");
    t.wait_line("still-5");
}

#[test]
fn a_background_job_is_listed_and_killed() {
    if !ready() {
        return;
    }
    let t = Tmux::start("jobs");
    t.booted();
    // The job says when it runs: a signal that reaches a forked shell
    // before it has reset the handlers it inherited (an interactive shell
    // ignores SIGTERM) is lost, here as on Linux, where the window is
    // far shorter than a VM's boot.
    t.command("sh -c 'echo job-started; exec sleep 30' &");
    // (It may print after the next prompt, on its line.)
    t.wait_line("job-started");
    t.command("jobs");
    t.wait_until("a running job", LIMIT, |l| {
        l.iter()
            .any(|x| x.starts_with("[1]+") && x.contains("Running") && x.contains("exec sleep 30"))
    });
    t.command("kill %1");
    // The job ends as the signal is delivered, a moment after `kill`
    // returns; the shell says so when it next looks (here, `jobs`).
    t.jobs_until("the job ended", |x| {
        x.contains("Terminated") && x.contains("exec sleep 30")
    });
}

#[test]
fn ctrl_z_stops_a_foreground_job_and_fg_resumes_it() {
    if !ready() {
        return;
    }
    let t = Tmux::start("stop");
    t.booted();
    t.foreground("sleep 30");
    t.keys(&["C-z"]);
    t.wait_until("the job stopped", LIMIT, |l| {
        l.iter()
            .any(|x| x.contains("Stopped") && x.contains("exec sleep 30"))
    });
    t.wait_prompt(2, LIMIT);
    t.command("fg");
    // fg names the job it resumes, and the prompt stays away.
    t.wait_until("fg naming the job", LIMIT, |l| {
        let last = l.iter().rev().find(|x| !x.is_empty());
        last.is_some_and(|x| x.starts_with("sh -c") && x.contains("exec sleep 30"))
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(prompts(&t.lines()), 2, "{:?}", t.lines());
    t.keys(&["C-c"]);
    t.wait_prompt(3, INTERRUPT_LIMIT);
}

/// The window size is the host terminal's (`TIOCGWINSZ` through `TTY`),
/// and a resize reaches the foreground job as `SIGWINCH`.
#[test]
fn a_resize_changes_the_size_and_signals_the_foreground_job() {
    if !ready() {
        return;
    }
    let t = Tmux::start("winch");
    t.booted();
    t.command("busybox stty size");
    t.wait_line("30 100");
    t.command("sh -c 'trap \"echo got-winch\" WINCH; echo trapped; sleep 5; echo slept'");
    t.wait_line("trapped");
    let ok = t
        .tmux()
        .args(["resize-window", "-t", "t", "-x", "120", "-y", "40"])
        .status()
        .unwrap()
        .success();
    assert!(ok, "tmux resize-window");
    t.wait_line("slept");
    assert!(
        t.lines().iter().any(|l| l == "got-winch"),
        "{:?}",
        t.lines()
    );
    t.command("busybox stty size");
    t.wait_line("40 120");
}

/// `stty -g` in the pane's host shell, before the run and after it.
fn modes_before_and_after(t: &Tmux) -> (String, String) {
    let after = t.file("after");
    let until = Instant::now() + LIMIT;
    while !after.exists() {
        assert!(
            Instant::now() < until,
            "no stty -g after the run: {:?}",
            t.lines()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let read = |p: PathBuf| std::fs::read_to_string(p).unwrap().trim().to_owned();
    (read(t.file("before")), read(after))
}

#[test]
fn exit_leaves_the_terminal_as_it_was() {
    if !ready() {
        return;
    }
    let t = Tmux::start("exit");
    t.booted();
    t.command("exit");
    t.wait_line("run exited 0");
    let (before, after) = modes_before_and_after(&t);
    assert!(!before.is_empty());
    assert_eq!(before, after, "stty -g before and after the run");
}

/// A program that changes the host terminal's modes (`stty raw -echo`
/// in the guest, through `TCSETS`) changes them for real, and the daemon
/// puts them back when the shell exits with the terminal still raw.
#[test]
fn modes_a_program_set_are_put_back_at_exit() {
    if !ready() {
        return;
    }
    let t = Tmux::start("raw");
    t.booted();
    let before = t.host_modes();
    t.command("busybox stty raw -echo; echo set-$((1+1))");
    t.wait_line("set-2");
    t.wait_prompt(2, LIMIT);
    let raw = t.host_modes();
    assert_ne!(raw, before, "stty in the guest changed the host terminal");
    // Raw, without echo: the shell's line editor takes a carriage return.
    t.type_text("exit");
    t.keys(&["Enter"]);
    t.wait_line("run exited 0");
    let (before, after) = modes_before_and_after(&t);
    assert_eq!(before, after, "stty -g before and after the run");
}

/// `cat` blocked reading the terminal: Ctrl-C must end it at once.
#[test]
fn ctrl_c_ends_a_cat_blocked_reading_the_terminal() {
    if !ready() {
        return;
    }
    let t = Tmux::start("intr-read");
    t.booted();
    t.foreground("cat");
    t.keys(&["C-c"]);
    t.wait_prompt(2, INTERRUPT_LIMIT);
}

/// The shell dies of `SIGHUP` with the terminal in raw mode (its line
/// editor waits at the prompt): the daemon puts the modes back.
#[test]
fn sighup_to_the_daemon_ends_the_shell_and_the_modes_come_back() {
    if !ready() {
        return;
    }
    let t = Tmux::start("hup");
    t.booted();
    let daemon = t.daemon_pid();
    // SAFETY: kill(2) of the daemon our pane's script started.
    assert_eq!(unsafe { libc::kill(daemon, libc::SIGHUP) }, 0);
    t.wait_line("run exited 129");
    let (before, after) = modes_before_and_after(&t);
    assert_eq!(before, after, "stty -g before and after the run");
}

/// A background job that reads the terminal stops with "Stopped (tty
/// input)", and `fg` brings it back to read, as natively: the device
/// answers its READ with `EIO` (spec `dev-tty-background`) and its guest
/// kernel sends its group `SIGTTIN` (`drv-tty-background`), whose default
/// action stops it.
#[test]
fn a_background_read_of_the_terminal_stops_the_job_until_fg() {
    if !ready() {
        return;
    }
    let t = Tmux::start("ttin");
    t.booted();
    t.command("sh -c 'echo job-started; exec cat' &");
    t.wait_line("job-started");
    // The shell says so when it next looks (here, `jobs`).
    t.jobs_until("the job stopped for input", |x| {
        x.contains("Stopped (tty input)") && x.contains("exec cat")
    });
    t.command("fg");
    t.wait_until("fg naming the job", LIMIT, |l| {
        let last = l.iter().rev().find(|x| !x.is_empty());
        last.is_some_and(|x| x.starts_with("sh -c") && x.contains("exec cat"))
    });
    t.command("hello");
    // The terminal echoes the line and cat, in the foreground, prints it.
    t.wait_until("cat's hello", LIMIT, |l| {
        l.iter().filter(|x| *x == "hello").count() == 2
    });
    let n = prompts(&t.lines());
    t.keys(&["C-d"]);
    t.wait_prompt(n + 1, LIMIT);
}

/// A background job that changes the terminal's modes stops with
/// "Stopped (tty output)" and the modes stay as they were, as natively:
/// the device refuses its `TCSETS` (spec `dev-tty-background`) and its
/// guest kernel sends its group `SIGTTOU` (`drv-tty-background`).
#[test]
fn a_background_stty_stops_with_tty_output() {
    if !ready() {
        return;
    }
    let t = Tmux::start("ttou");
    t.booted();
    let before = t.host_modes();
    t.command("sh -c 'echo job-started; exec stty -echo' &");
    t.wait_line("job-started");
    t.jobs_until("the job stopped for output", |x| {
        x.contains("Stopped (tty output)") && x.contains("exec stty -echo")
    });
    t.command("kill -9 %1; echo killed-$((2+3))");
    t.wait_end("killed-5");
    assert_eq!(
        t.host_modes(),
        before,
        "the background stty changed nothing"
    );
}
