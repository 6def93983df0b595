//! The kernel command line (QEMU's `-append`): kernel options, then the
//! program's argv. Pure logic, unit-tested on the host.
//!
//! Words are separated by spaces; single or double quotes group a word
//! that holds spaces (`-append "sh -c 'echo hi'"`). Leading words that
//! start with `kernel.` are options for the kernel (`kernel.debug` logs at
//! debug level, `kernel.strace` logs every syscall, `kernel.tsc_khz=KHZ`
//! gives the TSC's frequency, which the daemon measured on the host, so
//! the boot need not time it against the PIT); the first word that
//! does not is `argv[0]`, and everything from there is argv. An empty
//! argv means "ask the device" (`GET_ARGS`).

use alloc::vec::Vec;

/// The prefix of a kernel option.
pub const OPTION_PREFIX: &[u8] = b"kernel.";

/// A parsed command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cmdline {
    /// Kernel options, without the `kernel.` prefix.
    pub options: Vec<Vec<u8>>,
    /// The program's arguments.
    pub argv: Vec<Vec<u8>>,
}

impl Cmdline {
    /// Whether option `name` was given.
    pub fn has(&self, name: &[u8]) -> bool {
        self.options.iter().any(|o| o == name)
    }

    /// The value of option `name=VALUE` (the last one given).
    pub fn value(&self, name: &[u8]) -> Option<&[u8]> {
        self.options.iter().rev().find_map(|o| {
            o.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(b"="))
        })
    }

    /// The value of option `name=DIGITS` as a number; `None` when absent,
    /// empty, not all decimal digits, or too large.
    pub fn number(&self, name: &[u8]) -> Option<u64> {
        let digits = self.value(name)?;
        if digits.is_empty() {
            return None;
        }
        digits.iter().try_fold(0u64, |n, &d| {
            if d.is_ascii_digit() {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            } else {
                None
            }
        })
    }
}

/// Splits `line` into words, honouring quotes.
pub fn words(line: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    let mut quote: Option<u8> = None;
    for &b in line {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => cur.get_or_insert_with(Vec::new).push(b),
            None if b == b'"' || b == b'\'' => {
                quote = Some(b);
                cur.get_or_insert_with(Vec::new);
            }
            None if b == b' ' || b == b'\t' || b == b'\n' => {
                if let Some(w) = cur.take() {
                    out.push(w);
                }
            }
            None => cur.get_or_insert_with(Vec::new).push(b),
        }
    }
    if let Some(w) = cur {
        out.push(w);
    }
    out
}

/// Parses the whole command line.
pub fn parse(line: &[u8]) -> Cmdline {
    let mut c = Cmdline::default();
    let mut in_options = true;
    for w in words(line) {
        if in_options && w.starts_with(OPTION_PREFIX) {
            c.options.push(w[OPTION_PREFIX.len()..].to_vec());
        } else {
            in_options = false;
            c.argv.push(w);
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[Vec<u8>]) -> Vec<&str> {
        v.iter().map(|w| core::str::from_utf8(w).unwrap()).collect()
    }

    #[test]
    fn plain_words_are_argv() {
        let c = parse(b"busybox echo hi");
        assert!(c.options.is_empty());
        assert_eq!(strs(&c.argv), ["busybox", "echo", "hi"]);
    }

    #[test]
    fn leading_kernel_words_are_options() {
        let c = parse(b"kernel.debug kernel.strace hello kernel.not-an-option");
        assert_eq!(strs(&c.options), ["debug", "strace"]);
        assert_eq!(strs(&c.argv), ["hello", "kernel.not-an-option"]);
        assert!(c.has(b"debug"));
    }

    #[test]
    fn option_values_and_numbers() {
        let c = parse(b"kernel.tsc_khz=2592000 kernel.debug kernel.tsc_khzx=1 prog");
        assert_eq!(c.value(b"tsc_khz"), Some(&b"2592000"[..]));
        assert_eq!(c.number(b"tsc_khz"), Some(2_592_000));
        assert_eq!(c.value(b"debug"), None);
        assert_eq!(c.number(b"absent"), None);
        assert_eq!(c.value(b"tsc_khzx"), Some(&b"1"[..]));
        // The last one wins, as Linux's options do.
        assert_eq!(parse(b"kernel.n=1 kernel.n=2").number(b"n"), Some(2));
        for bad in [
            &b"kernel.n="[..],
            b"kernel.n=12a",
            b"kernel.n=-1",
            b"kernel.n=0x10",
            b"kernel.n=18446744073709551616",
        ] {
            assert_eq!(
                parse(bad).number(b"n"),
                None,
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
        assert_eq!(
            parse(b"kernel.n=18446744073709551615").number(b"n"),
            Some(u64::MAX)
        );
        // After argv starts, `kernel.` words are the program's.
        assert_eq!(parse(b"prog kernel.tsc_khz=1").number(b"tsc_khz"), None);
    }

    #[test]
    fn quotes_group_words_and_may_be_empty() {
        let c = parse(b"sh -c 'echo a  b' \"\" x\"y z\"");
        assert_eq!(strs(&c.argv), ["sh", "-c", "echo a  b", "", "xy z"]);
    }

    #[test]
    fn empty_line_gives_empty_argv() {
        assert_eq!(parse(b"   "), Cmdline::default());
        assert_eq!(parse(b""), Cmdline::default());
    }
}
