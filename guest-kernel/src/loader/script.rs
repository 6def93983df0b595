//! `#!` scripts, as Linux's `binfmt_script` reads them: the first line of
//! the file (within its first [`HEAD_SIZE`] bytes) names an interpreter
//! and at most one argument, and the script runs as
//! `interpreter [argument] script-path argv[1..]`. Pure logic, unit-tested
//! on the host.

use alloc::vec::Vec;

/// Bytes of a file's head that `execve` reads (Linux's `BINPRM_BUF_SIZE`).
pub const HEAD_SIZE: usize = 256;
/// Most interpreters in a chain of scripts (Linux: 4 rewrites in all).
pub const MAX_DEPTH: usize = 4;

/// What a `#!` line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shebang<'a> {
    /// The interpreter's path.
    pub interpreter: &'a [u8],
    /// The one optional argument (the rest of the line, trimmed).
    pub argument: Option<&'a [u8]>,
}

fn blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !blank(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !blank(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// The `#!` line at the start of `head` (the file's first bytes):
/// `None` if the file is not a script, `Some(Err(()))` if it is one this
/// kernel cannot run (no interpreter, or a line longer than the head).
#[allow(clippy::result_unit_err)]
pub fn parse(head: &[u8]) -> Option<Result<Shebang<'_>, ()>> {
    let rest = head.strip_prefix(b"#!")?;
    let Some(end) = rest.iter().position(|&b| b == b'\n') else {
        // Linux runs a line cut by the buffer only if the interpreter's
        // name ends inside it; keep it simple and strict.
        return Some(Err(()));
    };
    let line = trim(&rest[..end]);
    let split = line.iter().position(|&b| blank(b)).unwrap_or(line.len());
    let (interpreter, argument) = line.split_at(split);
    if interpreter.is_empty() || interpreter.contains(&0) {
        return Some(Err(()));
    }
    let argument = trim(argument);
    Some(Ok(Shebang {
        interpreter,
        argument: (!argument.is_empty()).then_some(argument),
    }))
}

/// The argv that runs script `path` (called with `argv`) under `s`.
pub fn argv(s: &Shebang<'_>, path: &[u8], argv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(argv.len() + 2);
    out.push(s.interpreter.to_vec());
    if let Some(a) = s.argument {
        out.push(a.to_vec());
    }
    out.push(path.to_vec());
    out.extend(argv.iter().skip(1).cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreter_and_one_argument_are_split_at_the_first_blank() {
        let s = parse(b"#! /bin/busybox  sh -e \t\nexit 3\n")
            .unwrap()
            .unwrap();
        assert_eq!(s.interpreter, b"/bin/busybox");
        assert_eq!(s.argument, Some(&b"sh -e"[..]));
    }

    #[test]
    fn a_bare_interpreter_has_no_argument() {
        let s = parse(b"#!/bin/sh\necho hi\n").unwrap().unwrap();
        assert_eq!((s.interpreter, s.argument), (&b"/bin/sh"[..], None));
    }

    #[test]
    fn files_without_the_magic_are_not_scripts() {
        assert_eq!(parse(b"\x7fELF\x02\x01"), None);
        assert_eq!(parse(b"echo hi\n"), None);
        assert_eq!(parse(b"#"), None);
    }

    #[test]
    fn an_empty_or_unterminated_line_cannot_run() {
        assert_eq!(parse(b"#!   \n"), Some(Err(())));
        assert_eq!(parse(b"#!/bin/sh"), Some(Err(())));
    }

    #[test]
    fn the_script_path_replaces_argv0() {
        let s = parse(b"#!/bin/busybox sh\n").unwrap().unwrap();
        let args = [b"./run.sh".to_vec(), b"one".to_vec()];
        let got = argv(&s, b"/tmp/run.sh", &args);
        assert_eq!(
            got,
            [&b"/bin/busybox"[..], b"sh", b"/tmp/run.sh", b"one"].map(<[u8]>::to_vec)
        );
    }
}
