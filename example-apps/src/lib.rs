//! Example applications: ordinary static Linux programs, nothing in them
//! is specific to vhost-user-pipe.
//!
//! * `parallel` (Rust std): starts N `worker`s with `std::process::Command`,
//!   each summing the squares of a slice of a range given in its argv and
//!   reporting through a shared pipe; the root checks the total and every
//!   exit status.
//! * `pipeline` (C, `c/`): `producer | filter | consumer`, wired with
//!   `posix_spawn` file actions; the consumer writes to stdout.
//!
//! `example-apps/build` builds them all (C with `musl-gcc -static`, Rust
//! with `-C target-feature=+crt-static`) into `target/programs/`; then
//! e.g. `vhost-user-pipe run target/programs/parallel 4 1000000`.
//!
//! This library holds the arithmetic the programs share, so it is tested on
//! the host:
//!
//! ```
//! use example_apps::{slice_of, sum_of_squares};
//! assert_eq!(sum_of_squares(1, 4), 1 + 4 + 9);
//! assert_eq!(slice_of(10, 3, 2), (6, 10));
//! ```

/// Sum of `k * k` for `k` in `lo..hi`.
pub fn sum_of_squares(lo: u64, hi: u64) -> u128 {
    (lo..hi).map(|k| u128::from(k) * u128::from(k)).sum()
}

/// The same sum in closed form, to check the workers' results against.
pub fn sum_of_squares_closed(lo: u64, hi: u64) -> u128 {
    let f = |n: u64| {
        let n = u128::from(n);
        n * (n + 1) * (2 * n + 1) / 6
    };
    if hi == 0 || hi <= lo {
        return 0;
    }
    f(hi - 1) - if lo == 0 { 0 } else { f(lo - 1) }
}

/// Worker `i` of `n` gets `[lo, hi)` of `0..total`; the last takes the remainder.
pub fn slice_of(total: u64, n: u64, i: u64) -> (u64, u64) {
    let step = total / n.max(1);
    let lo = i * step;
    let hi = if i + 1 == n { total } else { lo + step };
    (lo, hi)
}

/// Parses a decimal number from an argv string.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    core::str::from_utf8(s).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_and_closed_form_agree() {
        for (lo, hi) in [(0, 0), (0, 1), (1, 10), (5, 1000), (999, 1001)] {
            assert_eq!(
                sum_of_squares(lo, hi),
                sum_of_squares_closed(lo, hi),
                "{lo}..{hi}"
            );
        }
    }

    #[test]
    fn slices_cover_the_range_exactly_once() {
        const TOTAL: u64 = 1003;
        const WORKERS: u64 = 4;
        let mut next = 0;
        for i in 0..WORKERS {
            let (lo, hi) = slice_of(TOTAL, WORKERS, i);
            assert_eq!(lo, next);
            next = hi;
        }
        assert_eq!(next, TOTAL);
    }

    #[test]
    fn argv_numbers_parse_and_garbage_does_not() {
        assert_eq!(parse_u64(b"42"), Some(42));
        assert_eq!(parse_u64(b"x"), None);
    }
}
