//! `worker LO HI`: prints `LO HI SUM` (the sum of squares of `LO..HI`) on
//! stdout, which its parent has connected to a pipe.

#![no_std]
#![no_main]

use example_apps::{parse_u64, sum_of_squares};
use unikernel::process::args;
use unikernel::{eprintln, println};

fn run() -> i32 {
    let mut argv = args::argv().skip(1);
    let (Some(lo), Some(hi)) = (
        argv.next().and_then(parse_u64),
        argv.next().and_then(parse_u64),
    ) else {
        eprintln!("usage: worker LO HI");
        return 2;
    };
    println!("{lo} {hi} {}", sum_of_squares(lo, hi));
    0
}

unikernel::entry!(run);
