//! `parallel [WORKERS [TOTAL]]`: starts WORKERS `worker` processes (each
//! its own VM under vhost-user-pipe), each summing the squares of its
//! slice of `0..TOTAL` and writing the result into one shared pipe; reads
//! all results, waits for every worker, checks their exit statuses and the
//! total against the closed form. An ordinary Rust std program:
//! `std::process::Command` (a vfork and an exec: `clone3` with
//! `CLONE_VM | CLONE_VFORK`) and `std::io::pipe`.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};

use example_apps::{parse_u64, slice_of, sum_of_squares_closed};

const DEFAULT_WORKERS: u64 = 4;
const DEFAULT_TOTAL: u64 = 1_000_000;

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let workers = argv
        .next()
        .and_then(|a| parse_u64(a.as_bytes()))
        .unwrap_or(DEFAULT_WORKERS)
        .max(1);
    let total = argv
        .next()
        .and_then(|a| parse_u64(a.as_bytes()))
        .unwrap_or(DEFAULT_TOTAL);
    match parallel(workers, total) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("parallel: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parallel(workers: u64, total: u64) -> std::io::Result<bool> {
    // The worker is the program next to this one.
    let worker = std::env::current_exe()?.with_file_name("worker");
    let (mut r, w) = std::io::pipe()?;
    let mut children = Vec::new();
    for i in 0..workers {
        let (lo, hi) = slice_of(total, workers, i);
        let child = Command::new(&worker)
            .arg0("worker")
            .args([lo.to_string(), hi.to_string()])
            .stdout(Stdio::from(w.try_clone()?))
            .spawn()?;
        println!("spawned worker {i} (pid {}) for {lo}..{hi}", child.id());
        children.push(child);
    }
    drop(w);

    let mut out = String::new();
    r.read_to_string(&mut out)?;
    let mut sum: u128 = 0;
    let mut reports = 0;
    for line in out.lines() {
        if let Some(v) = line.split(' ').nth(2).and_then(|v| v.parse::<u128>().ok()) {
            sum += v;
            reports += 1;
        }
    }

    let mut ok = true;
    for mut child in children {
        let status = child.wait()?;
        if !status.success() {
            eprintln!("worker pid {} failed: {status}", child.id());
            ok = false;
        }
    }
    let expected = sum_of_squares_closed(0, total);
    println!(
        "{reports}/{workers} workers reported; sum of squares 0..{total} = {sum} (expected {expected})"
    );
    ok &= reports == workers && sum == expected;
    println!("parallel: {}", if ok { "OK" } else { "FAILED" });
    Ok(ok)
}
