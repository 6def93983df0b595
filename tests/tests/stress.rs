//! Stress: 32 writers (model guests, each a spawned child on its own
//! thread) send messages of at most `PIPE_BUF` bytes into one pipe that
//! other children read. Every message carries its writer, its sequence
//! number and a checksum; none may be torn, lost or duplicated, and each
//! reader sees every writer's messages in order.
//!
//! The CI versions send 100 messages per writer. With `VUP_LONG_TESTS=1`
//! the long versions run as well: 1000 messages per writer, and a
//! 10-minute soak that repeats the workload while the daemon's RSS and fd
//! count must stay flat (the daemon runs in this process: its RSS and
//! `/proc/self/fd` are this process's).

use std::collections::HashSet;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use system_tests::frontend::TestGuest;
use system_tests::tree::Tree;
use vhost_user_pipe::Limits;
use virtio_pipe_protocol::PIPE_BUF;

const WRITERS: usize = 32;
const HEADER: usize = 8;
const CHECKSUM: usize = 4;
/// The fixed message size of the several-readers test: not a divisor of
/// the pipe capacity, so writers often wait for room for a whole message.
const FIXED: usize = 3000;

fn long_tests() -> bool {
    std::env::var("VUP_LONG_TESTS").is_ok_and(|v| v == "1")
}

fn skip(what: &str) -> bool {
    if long_tests() {
        return false;
    }
    eprintln!("SKIPPED {what}: a long test; it runs only with VUP_LONG_TESTS=1");
    true
}

fn fnv(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

/// Size of message `seq` of `writer`: fixed, or spread over 12..=PIPE_BUF.
fn msg_len(writer: usize, seq: usize, fixed: Option<usize>) -> usize {
    fixed.unwrap_or_else(|| {
        let x = (writer as u64 * 1_000_003 + seq as u64 * 7919).wrapping_mul(0x9e37_79b9);
        HEADER + CHECKSUM + (x >> 7) as usize % (PIPE_BUF - HEADER - CHECKSUM + 1)
    })
}

/// `le16 writer | le32 seq | le16 total length | payload | le32 fnv`.
fn message(writer: usize, seq: usize, len: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(writer as u16).to_le_bytes());
    m.extend_from_slice(&(seq as u32).to_le_bytes());
    m.extend_from_slice(&(len as u16).to_le_bytes());
    m.extend((0..len - HEADER - CHECKSUM).map(|i| (writer * 31 + seq * 7 + i) as u8));
    let sum = fnv(&m);
    m.extend_from_slice(&sum.to_le_bytes());
    m
}

/// The (writer, seq) of a whole message, checked.
fn parse(m: &[u8]) -> (usize, usize) {
    assert!(
        m.len() >= HEADER + CHECKSUM,
        "a torn message of {} bytes",
        m.len()
    );
    let writer = u16::from_le_bytes([m[0], m[1]]) as usize;
    let seq = u32::from_le_bytes([m[2], m[3], m[4], m[5]]) as usize;
    let len = u16::from_le_bytes([m[6], m[7]]) as usize;
    assert_eq!(len, m.len(), "message {writer}/{seq}: length field");
    let (body, sum) = m.split_at(len - CHECKSUM);
    assert_eq!(
        u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]),
        fnv(body),
        "message {writer}/{seq} is torn or corrupt"
    );
    assert_eq!(
        m,
        message(writer, seq, len),
        "message {writer}/{seq} content"
    );
    (writer, seq)
}

/// One run of the workload.
#[derive(Clone, Copy, Debug)]
struct Workload {
    writers: usize,
    readers: usize,
    msgs: usize,
    /// `Some(n)`: every message is n bytes and each read asks for n;
    /// `None`: sizes vary and the (single) reader splits the byte stream.
    fixed: Option<usize>,
}

/// What the readers got: per reader, the (writer, seq) in reading order.
fn run(tree: &Tree, root: &mut TestGuest, w: Workload) -> Vec<Vec<(usize, usize)>> {
    assert!(
        w.fixed.is_some() || w.readers == 1,
        "varying sizes need one reader"
    );
    let (r, wr) = root.pipe(0).unwrap();
    let mut guests = Vec::new();
    for _ in 0..w.writers + w.readers {
        let pid = root.spawn("child", &[b"stress"], &[], &[]).unwrap();
        let (l, g) = tree.accept_child();
        assert_eq!(l.spec.pid, pid);
        guests.push((pid, g));
    }
    root.close(r).unwrap();
    root.close(wr).unwrap();
    let mut pids = Vec::new();
    let mut writers: Vec<JoinHandle<()>> = Vec::new();
    let mut readers: Vec<JoinHandle<Vec<(usize, usize)>>> = Vec::new();
    for (i, (pid, mut g)) in guests.into_iter().enumerate() {
        pids.push(pid);
        if i < w.writers {
            writers.push(std::thread::spawn(move || {
                g.close(r).unwrap();
                for seq in 0..w.msgs {
                    let m = message(i, seq, msg_len(i, seq, w.fixed));
                    assert_eq!(g.write(wr, &m), Ok(m.len() as u64), "a short write");
                }
                g.exit(0);
            }));
        } else {
            readers.push(std::thread::spawn(move || {
                g.close(wr).unwrap();
                let mut got = Vec::new();
                let mut stream = Vec::new();
                loop {
                    let chunk = g.read(r, w.fixed.unwrap_or(4 * PIPE_BUF)).unwrap();
                    if chunk.is_empty() {
                        break;
                    }
                    match w.fixed {
                        Some(n) => {
                            assert_eq!(chunk.len(), n, "a read of a partial message");
                            got.push(parse(&chunk));
                        }
                        None => {
                            stream.extend_from_slice(&chunk);
                            let mut at = 0;
                            while stream.len() - at >= HEADER {
                                let len =
                                    u16::from_le_bytes([stream[at + 6], stream[at + 7]]) as usize;
                                if stream.len() - at < len {
                                    break;
                                }
                                got.push(parse(&stream[at..at + len]));
                                at += len;
                            }
                            stream.drain(..at);
                        }
                    }
                }
                assert!(
                    stream.is_empty(),
                    "{} bytes of a torn message",
                    stream.len()
                );
                g.exit(0);
                got
            }));
        }
    }
    for t in writers {
        t.join().expect("a writer failed");
    }
    let got: Vec<_> = readers
        .into_iter()
        .map(|t| t.join().expect("a reader failed"))
        .collect();
    for pid in pids {
        assert_eq!(root.wait_child(pid as i64, 0), Ok((pid, 0)));
    }
    got
}

/// Every message arrived once, and each reader saw each writer in order.
fn check(w: Workload, got: &[Vec<(usize, usize)>]) {
    let mut seen = HashSet::new();
    for (reader, msgs) in got.iter().enumerate() {
        let mut last = vec![None; w.writers];
        for &(writer, seq) in msgs {
            assert!(
                writer < w.writers && seq < w.msgs,
                "no such message {writer}/{seq}"
            );
            assert!(seen.insert((writer, seq)), "message {writer}/{seq} twice");
            assert!(
                !matches!(last[writer], Some(l) if l >= seq),
                "reader {reader} saw writer {writer} out of order"
            );
            last[writer] = Some(seq);
        }
    }
    assert_eq!(seen.len(), w.writers * w.msgs, "messages were lost");
    if w.readers == 1 {
        // One reader sees each writer's messages all in sequence.
        let per_writer = got[0].iter().filter(|m| m.0 == 0).count();
        assert_eq!(per_writer, w.msgs);
    }
}

fn stress(w: Workload) {
    let tree = Tree::new();
    let mut root = tree.root();
    root.getpid();
    let base = tree.sup.stats();
    let t0 = Instant::now();
    let got = run(&tree, &mut root, w);
    let elapsed = t0.elapsed();
    check(w, &got);
    let total: usize = (0..w.writers)
        .flat_map(|i| (0..w.msgs).map(move |s| msg_len(i, s, w.fixed)))
        .sum();
    eprintln!(
        "{w:?}: {} messages, {total} bytes in {elapsed:?} ({:.1} MB/s); per reader {:?}",
        w.writers * w.msgs,
        total as f64 / elapsed.as_secs_f64() / 1e6,
        got.iter().map(Vec::len).collect::<Vec<_>>()
    );
    tree.wait_for("every child to be gone", |s| *s == base);
}

#[test]
fn thirty_two_writers_four_readers_100_whole_messages_each() {
    stress(Workload {
        writers: WRITERS,
        readers: 4,
        msgs: 100,
        fixed: Some(FIXED),
    });
}

#[test]
fn thirty_two_writers_one_reader_100_messages_of_varying_size_each() {
    stress(Workload {
        writers: WRITERS,
        readers: 1,
        msgs: 100,
        fixed: None,
    });
}

#[test]
fn long_thirty_two_writers_four_readers_1000_whole_messages_each() {
    if skip("32 writers x 1000 messages, 4 readers") {
        return;
    }
    stress(Workload {
        writers: WRITERS,
        readers: 4,
        msgs: 1000,
        fixed: Some(FIXED),
    });
}

#[test]
fn long_thirty_two_writers_one_reader_1000_messages_of_varying_size_each() {
    if skip("32 writers x 1000 messages of varying size, 1 reader") {
        return;
    }
    stress(Workload {
        writers: WRITERS,
        readers: 1,
        msgs: 1000,
        fixed: None,
    });
}

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The workload again and again for 10 minutes (`VUP_SOAK_SECS` to change
/// it): after the first rounds, RSS and fd count at the end of each round
/// must stay flat.
#[test]
fn long_soak_ten_minutes_rss_and_fds_stay_flat() {
    if skip("10-minute soak") {
        return;
    }
    /// RSS may wander this much (allocator caches) once warmed up.
    const RSS_SLACK_KIB: u64 = 16 * 1024;
    const WARMUP: usize = 3;
    let secs: u64 = std::env::var("VUP_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let tree = Tree::with_limits(Limits::default());
    let mut root = tree.root();
    root.getpid();
    let base = tree.sup.stats();
    let t0 = Instant::now();
    let mut samples: Vec<(Duration, u64, usize)> = Vec::new();
    let mut round = 0usize;
    while t0.elapsed() < Duration::from_secs(secs) || round <= WARMUP {
        let w = if round % 2 == 0 {
            Workload {
                writers: WRITERS,
                readers: 4,
                msgs: 100,
                fixed: Some(FIXED),
            }
        } else {
            Workload {
                writers: 16,
                readers: 1,
                msgs: 200,
                fixed: None,
            }
        };
        let got = run(&tree, &mut root, w);
        check(w, &got);
        tree.wait_for("every child to be gone", |s| *s == base);
        // The children's daemon threads finish closing asynchronously.
        let mut fds = open_fds();
        let settle = Instant::now() + Duration::from_secs(10);
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = open_fds();
            if now == fds || Instant::now() > settle {
                break;
            }
            fds = now;
        }
        let sample = (t0.elapsed(), vm_rss_kib(), fds);
        eprintln!(
            "soak round {round}: t={:?} VmRSS {} KiB, {} fds",
            sample.0, sample.1, sample.2
        );
        samples.push(sample);
        round += 1;
    }
    let steady = &samples[WARMUP..];
    let fds: HashSet<usize> = steady.iter().map(|s| s.2).collect();
    let rss_min = steady.iter().map(|s| s.1).min().unwrap();
    let rss_max = steady.iter().map(|s| s.1).max().unwrap();
    eprintln!(
        "soak: {round} rounds in {:?}; after warm-up VmRSS {rss_min}..{rss_max} KiB, fds {fds:?}",
        t0.elapsed()
    );
    assert_eq!(fds.len(), 1, "the fd count moved: {fds:?}");
    assert!(
        rss_max - rss_min <= RSS_SLACK_KIB,
        "VmRSS grew from {rss_min} to {rss_max} KiB"
    );
}
