//! `parallel [WORKERS [TOTAL]]`: spawns WORKERS `worker` processes (VMs),
//! each summing the squares of its slice of `0..TOTAL` and writing the
//! result into one shared pipe; reads all results, waits for every worker,
//! checks their exit statuses and the total against the closed form.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;

use example_apps::{parse_u64, slice_of, sum_of_squares_closed};
use unikernel::process::{self, args, FileAction};
use unikernel::{eprintln, println};

const DEFAULT_WORKERS: u64 = 4;
const DEFAULT_TOTAL: u64 = 1_000_000;

fn run() -> i32 {
    let mut argv = args::argv().skip(1);
    let workers = argv
        .next()
        .and_then(parse_u64)
        .unwrap_or(DEFAULT_WORKERS)
        .max(1);
    let total = argv.next().and_then(parse_u64).unwrap_or(DEFAULT_TOTAL);
    match parallel(workers, total) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("parallel: {e}");
            1
        }
    }
}

fn parallel(workers: u64, total: u64) -> Result<bool, process::Errno> {
    let [r, w] = process::pipe()?;
    let mut children = Vec::new();
    for i in 0..workers {
        let (lo, hi) = slice_of(total, workers, i);
        let (lo_s, hi_s) = (format!("{lo}"), format!("{hi}"));
        let argv: [&[u8]; 3] = [b"worker", lo_s.as_bytes(), hi_s.as_bytes()];
        let actions = [
            FileAction::Dup2 {
                fd: w as u32,
                newfd: 1,
            },
            FileAction::Close { fd: w as u32 },
            FileAction::Close { fd: r as u32 },
        ];
        let pid = process::spawn("worker", &argv, &[], &actions)?;
        println!("spawned worker {i} (pid {pid}) for {lo}..{hi}");
        children.push(pid);
    }
    process::close(w)?;

    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = process::read(r, &mut buf)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    process::close(r)?;

    let mut sum: u128 = 0;
    let mut reports = 0;
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let s = core::str::from_utf8(line).unwrap_or("");
        if let Some(v) = s.split(' ').nth(2).and_then(|v| v.parse::<u128>().ok()) {
            sum += v;
            reports += 1;
        }
    }

    let mut ok = true;
    for pid in &children {
        let (child, status) = process::waitpid(*pid, false)?.expect("blocking wait");
        if !status.exited() || status.exit_code() != 0 {
            eprintln!("worker pid {child} failed: status {:#x}", status.0);
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

unikernel::entry!(run);
