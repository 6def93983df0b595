//! `worker LO HI`: prints `LO HI SUM` (the sum of squares of `LO..HI`) on
//! stdout, which its parent has connected to a pipe.

use std::process::ExitCode;

use example_apps::{parse_u64, sum_of_squares};

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let (Some(lo), Some(hi)) = (
        argv.next().and_then(|a| parse_u64(a.as_bytes())),
        argv.next().and_then(|a| parse_u64(a.as_bytes())),
    ) else {
        eprintln!("usage: worker LO HI");
        return ExitCode::from(2);
    };
    println!("{lo} {hi} {}", sum_of_squares(lo, hi));
    ExitCode::SUCCESS
}
