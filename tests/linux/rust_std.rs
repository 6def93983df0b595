//! A Rust std program: println!, std::env::args, a Vec of 1 MiB,
//! std::time::Instant. Built with `rustc -C target-feature=+crt-static`
//! (a static-pie glibc program).

use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("args: {:?}", &args[1..]);
    let t = Instant::now();
    let v: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let sum: u64 = v.iter().map(|&b| u64::from(b)).sum();
    println!("vec of {} bytes, sum {sum}", v.len());
    std::thread::sleep(Duration::from_millis(10));
    let e = t.elapsed();
    println!(
        "instant: elapsed at least 10 ms: {}",
        if e >= Duration::from_millis(10) { "yes" } else { "no" }
    );
    let mut m = std::collections::HashMap::new();
    m.insert("key", 7);
    println!("hashmap: {:?}", m.get("key"));
    std::process::exit(if args.len() == 3 { 5 } else { 0 });
}
