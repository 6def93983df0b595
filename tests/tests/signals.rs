//! Signals that arrive while a process waits, end to end: static musl
//! programs (`tests/linux/sigdeliver.c`, `sigstorm.c`) run as a tree of
//! VMs under TCG and natively, with the same output and exit status.
//! What they check: handlers, masks and `sigsuspend`; `EINTR` and
//! `SA_RESTART` on a blocked pipe read (the guest kernel's `INTERRUPT`,
//! spec `drv-interrupt`); the partial count of an interrupted write;
//! `SIGCHLD`-driven reaping; `alarm`, `pause`, `setitimer` and
//! `nanosleep`; and no lost or reordered byte while thousands of handled
//! signals hit a writer and a reader.

use system_tests::linux_tree::LinuxRoot;

fn sigdeliver(case: &str) -> String {
    LinuxRoot::new(&["sigdeliver"])
        .same_as_host(&["sigdeliver", case], &[])
        .stdout
}

#[test]
fn a_blocked_signal_stays_pending_and_runs_its_handler_when_unblocked() {
    let out = sigdeliver("masks");
    assert!(
        out.contains("blocked while sent: handler ran 0, pending yes\n"),
        "{out}"
    );
    assert!(out.contains("SA_RESETHAND: handler ran 2\n"), "{out}");
}

#[test]
fn sigsuspend_waits_with_its_mask_and_restores_the_programs() {
    let out = sigdeliver("sigsuspend");
    assert!(
        out.contains("returned -1 (EINTR), handler ran 1, SIGUSR1 blocked again yes"),
        "{out}"
    );
}

#[test]
fn eintr_and_sa_restart_on_a_blocked_pipe_read_match_linux() {
    let out = sigdeliver("eintr");
    assert_eq!(
        out,
        "no SA_RESTART: read returned -1 EINTR, handler ran 1\nread again: 1\n\
         SA_RESTART: read returned 1, handler ran 1\n"
    );
}

#[test]
fn an_interrupted_write_returns_what_it_moved_and_loses_nothing() {
    let out = sigdeliver("partial");
    assert!(!out.contains(": no"), "{out}");
}

#[test]
fn sigchld_handlers_reap_every_child() {
    let out = sigdeliver("sigchld");
    assert!(
        out.contains("reaped 3 children, codes 10 11 12: yes"),
        "{out}"
    );
}

#[test]
fn alarm_pause_setitimer_and_nanosleep() {
    let out = sigdeliver("alarm");
    assert!(out.contains("pause: -1 (EINTR), alarms 1\n"), "{out}");
    assert!(out.contains("busy loop ended by the alarm: yes"), "{out}");
    assert!(!out.contains(": no"), "{out}");
}

/// The number after `what ` in the program's report line on stderr.
fn count_after(serial: &str, what: &str) -> u64 {
    let line = serial
        .lines()
        .find(|l| l.contains("sigstorm: "))
        .unwrap_or_else(|| panic!("no report line:\n{serial}"));
    let at = line.find(what).expect(what) + what.len();
    line[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{what} in {line}"))
}

#[test]
fn no_byte_is_lost_or_reordered_under_a_storm_of_handled_signals() {
    let run = LinuxRoot::new(&["sigstorm"]).same_as_host(&["sigstorm", "3000"], &[]);
    assert!(!run.stdout.contains(": no"), "{}", run.stdout);
    assert_eq!(run.status, 0);
    // Standard signals coalesce, so fewer than the 6000 sent are handled;
    // thousands still are (a typical run: about 3,500, some of them
    // ending a blocked read with EINTR).
    let handled =
        count_after(&run.serial, "writer handled ") + count_after(&run.serial, "reader handled ");
    assert!(handled >= 1000, "{handled} handled\n{}", run.serial);
}
