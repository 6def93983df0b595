//! `select`'s fd sets as `POLL` entries and back, as Linux's `do_select`
//! reads an fd's events: readable on `POLLIN`, `POLLRDNORM`,
//! `POLLRDBAND`, `POLLHUP` or `POLLERR`; writable on `POLLOUT`,
//! `POLLWRNORM`, `POLLWRBAND` or `POLLERR`; exceptional on `POLLPRI`.

use alloc::vec::Vec;

use virtio_pipe_protocol::poll::{
    POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND,
    POLLWRNORM,
};
use virtio_pipe_protocol::PollFd;

/// Most fds a set holds (glibc's and musl's `FD_SETSIZE`).
pub const FD_SETSIZE: usize = 1024;
/// 64-bit words of a full set.
pub const WORDS: usize = FD_SETSIZE / 64;

/// The events that make an fd of the read set ready (Linux `POLLIN_SET`).
pub const SELECT_IN: u16 = POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR;
/// The events that make an fd of the write set ready (`POLLOUT_SET`).
pub const SELECT_OUT: u16 = POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR;
/// The events that make an fd of the exception set ready (`POLLEX_SET`).
pub const SELECT_EX: u16 = POLLPRI;

/// The three sets of one `select`: read, write, exception.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sets(pub [[u64; WORDS]; 3]);

/// The 64-bit words that hold `nfds` bits (what `select` reads and
/// writes of each set, as Linux does).
pub fn words(nfds: usize) -> usize {
    nfds.div_ceil(64)
}

fn has(set: &[u64; WORDS], fd: usize) -> bool {
    set[fd / 64] & (1 << (fd % 64)) != 0
}

/// One entry for each fd below `nfds` in any set, asking for the events
/// of the sets it is in.
pub fn entries(sets: &Sets, nfds: usize) -> Vec<PollFd> {
    let nfds = nfds.min(FD_SETSIZE);
    let [r, w, e] = &sets.0;
    (0..nfds)
        .filter_map(|fd| {
            let mut ev = 0;
            if has(r, fd) {
                ev |= SELECT_IN;
            }
            if has(w, fd) {
                ev |= SELECT_OUT;
            }
            if has(e, fd) {
                ev |= SELECT_EX;
            }
            (ev != 0).then(|| PollFd::new(fd as i32, ev))
        })
        .collect()
}

/// Whether an entry's fd is not open (`select` fails with `EBADF`).
pub fn any_closed(entries: &[PollFd]) -> bool {
    entries.iter().any(|e| e.revents.get() & POLLNVAL != 0)
}

/// For each set (read, write, exception): whether the entry's fd is in it
/// (told by the one event only that set asks for) and is ready for it.
fn ready_for(e: &PollFd) -> [bool; 3] {
    let (ev, rev) = (e.events.get(), e.revents.get());
    [
        (POLLIN, SELECT_IN),
        (POLLOUT, SELECT_OUT),
        (POLLPRI, SELECT_EX),
    ]
    .map(|(member, set)| ev & member != 0 && rev & set != 0)
}

/// Whether an entry counts for `select`: one of its sets' events happened.
pub fn counts(e: &PollFd) -> bool {
    ready_for(e).contains(&true)
}

/// The sets of the fds that are ready, and how many bits they hold (an fd
/// ready for reading and writing counts twice, as Linux counts it).
pub fn ready(entries: &[PollFd]) -> (Sets, usize) {
    let mut out = Sets::default();
    let mut n = 0;
    for e in entries {
        let fd = e.fd.get() as usize;
        for (i, r) in ready_for(e).into_iter().enumerate() {
            if r {
                out.0[i][fd / 64] |= 1 << (fd % 64);
                n += 1;
            }
        }
    }
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(r: &[usize], w: &[usize], e: &[usize]) -> Sets {
        let mut s = Sets::default();
        for (i, fds) in [r, w, e].into_iter().enumerate() {
            for &fd in fds {
                s.0[i][fd / 64] |= 1 << (fd % 64);
            }
        }
        s
    }

    #[test]
    fn an_fd_in_several_sets_is_one_entry_asking_for_each_sets_events() {
        let s = sets(&[0, 5, 70], &[5], &[3]);
        let e = entries(&s, 71);
        let got: Vec<(i32, u16)> = e.iter().map(|e| (e.fd.get(), e.events.get())).collect();
        assert_eq!(
            got,
            [
                (0, SELECT_IN),
                (3, SELECT_EX),
                (5, SELECT_IN | SELECT_OUT),
                (70, SELECT_IN)
            ]
        );
        assert_eq!(
            entries(&s, 70).len(),
            3,
            "bits at or above nfds are ignored"
        );
        assert_eq!(words(0), 0);
        assert_eq!(words(1), 1);
        assert_eq!(words(65), 2);
    }

    #[test]
    fn ready_sets_follow_linux_do_select() {
        let mut e = entries(&sets(&[3, 4], &[4, 6], &[7]), 8);
        let rev = [POLLHUP, POLLOUT, POLLERR, POLLHUP];
        for (x, r) in e.iter_mut().zip(rev) {
            x.revents.set(r);
        }
        // 3: HUP is readable; 4: writable only; 6: ERR is writable;
        // 7: HUP does not count for the exception set.
        let (out, n) = ready(&e);
        assert_eq!((out, n), (sets(&[3], &[4, 6], &[]), 3));
        assert!(counts(&e[0]) && counts(&e[1]) && counts(&e[2]) && !counts(&e[3]));
        assert!(!any_closed(&e));
        e[0].revents.set(POLLNVAL);
        assert!(any_closed(&e));
    }
}
