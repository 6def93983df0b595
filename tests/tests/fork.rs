//! End-to-end tests of `fork()`: real unikernel guests under QEMU/TCG, each
//! fork child a new VM booted on a copy of its parent's RAM. Guest programs:
//! `tests/guest/forktest.c` and `example-apps/c/forkpipe.c` (C interface
//! only). Every daemon runs in its own process group with a deadline.

use std::process::{Command, Output};
use std::time::Duration;

use system_tests::programs;
use system_tests::qemu::{daemon_bin, run_with_deadline};

/// A few forked guests under TCG on a loaded 2-core machine finish well within this.
const LIMIT: Duration = Duration::from_secs(120);
/// For the trees of 16+ VMs.
const LIMIT_MANY: Duration = Duration::from_secs(240);

fn daemon(machine: &str, extra: &[&str], image: &str, args: &[&str]) -> Command {
    let mut c = Command::new(daemon_bin());
    c.args(["run", "--accel", "tcg", "--machine", machine])
        .args(extra)
        .arg(programs::program(image))
        .args(args);
    c
}

fn run_on(machine: &str, extra: &[&str], image: &str, args: &[&str], limit: Duration) -> Output {
    run_with_deadline(daemon(machine, extra, image, args), limit)
        .expect("the daemon finished in time")
}

fn forktest(args: &[&str]) -> Output {
    run_on("microvm", &[], "forktest", args, LIMIT)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_ok(o: &Output, expected: &str) {
    assert_eq!(
        stdout(o),
        expected,
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{o:?}");
}

const PIPE_EXPECTED: &str = "parent read: hello from child, ppid matches: yes, fork returned 0\n\
                             child exited, exit 0, pid differs: yes\n";

#[test]
fn child_writes_a_pipe_the_parent_reads_then_reaps_it() {
    assert_ok(&forktest(&["pipe"]), PIPE_EXPECTED);
}

#[test]
fn fork_works_on_q35_too() {
    let out = run_on("q35", &[], "forktest", &["pipe"], LIMIT);
    assert_ok(&out, PIPE_EXPECTED);
}

#[test]
fn memory_is_isolated_both_ways_after_fork() {
    assert_ok(
        &forktest(&["isolation"]),
        "child saw the parent's values: unchanged\nparent saw the child's writes: no\n",
    );
}

#[test]
fn sixteen_children_forked_in_a_loop_are_all_reaped_with_their_own_status() {
    let out = run_on("microvm", &[], "forktest", &["many", "16"], LIMIT_MANY);
    assert_ok(
        &out,
        "reaped 16 of 16, 16 with their own status, then wait: -1\n",
    );
}

#[test]
fn a_heap_filled_to_the_top_survives_the_childs_boot_on_both_machines() {
    // The firmware writes scratch into RAM it then reports free; a heap
    // that used it would be corrupted in the child.
    for machine in ["microvm", "q35"] {
        let out = run_on(machine, &[], "forktest", &["bigheap"], LIMIT);
        assert_ok(
            &out,
            "filled over 40 MiB of heap; the child found it intact: yes\n",
        );
    }
}

#[test]
fn a_fork_child_forks_a_grandchild() {
    assert_ok(
        &forktest(&["grandchild"]),
        "grandchild: parent is child: yes\nchild exited 4\n",
    );
}

#[test]
fn pipes_to_other_processes_keep_working_across_fork_with_correct_eof() {
    // source -> P -> (forked copier) -> Q -> sink, plus 12 bytes the parent
    // writes to Q itself; the sink's EOF needs both copies of Q's write end closed.
    assert_ok(
        &forktest(&["pipes", "200000"]),
        "sink got 200012 bytes\ncopier 0, source 0, sink 0\n",
    );
}

#[test]
fn fork_at_the_process_limit_fails_with_eagain_and_the_parent_goes_on() {
    let out = run_on(
        "microvm",
        &["--max-processes", "4"],
        "forktest",
        &["limit"],
        LIMIT,
    );
    assert_ok(
        &out,
        "forked 3, then fork returned -1 errno 11; 3 reaped; still running\n",
    );
}

#[test]
fn forkpipe_example_prints_the_childs_messages_and_reaps_it() {
    let out = run_on("microvm", &[], "forkpipe", &[], LIMIT);
    let mut expected = String::new();
    for i in 1..=5 {
        expected += &format!("parent 1 got: message {i} of 5 from child 2 (parent 1)\n");
    }
    expected += "child 2 exited with status 0; 5 lines\n";
    assert_ok(&out, &expected);
}
