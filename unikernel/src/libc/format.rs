//! The printf engine: C format strings over any argument source.
//!
//! Handles `%d %i %u %o %x %X %p %s %c %f %e %g %%` with the flags `-0+ #`,
//! field width and precision (numbers or `*`), and the length modifiers
//! `hh h l ll z j t L`. The caller supplies arguments through [`ArgSource`]
//! (a C `va_list` in the kernel, a slice in tests) and receives output
//! through a byte sink.

/// Where the arguments of a format come from, in order.
pub trait ArgSource {
    /// The next integer-class argument (integers, pointers), as 64 bits.
    fn next_int(&mut self) -> u64;
    /// The next floating-point argument.
    fn next_double(&mut self) -> f64;
}

#[derive(Clone, Copy, Default)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Len {
    Char,
    Short,
    Int,
    Long,
}

/// Formats `fmt` (without its NUL) into `out`, returning the bytes produced.
///
/// # Safety
///
/// Every `%s` argument must be NULL or point to a NUL-terminated string (or
/// to at least `precision` readable bytes), as C's printf requires.
pub unsafe fn format(fmt: &[u8], args: &mut dyn ArgSource, out: &mut dyn FnMut(&[u8])) -> usize {
    let mut total = 0usize;
    let mut emit = |b: &[u8]| {
        total += b.len();
        out(b);
    };
    let mut i = 0;
    while i < fmt.len() {
        let start = i;
        while i < fmt.len() && fmt[i] != b'%' {
            i += 1;
        }
        if i > start {
            emit(&fmt[start..i]);
        }
        if i >= fmt.len() {
            break;
        }
        i += 1; // '%'
        let mut spec = Spec::default();
        while i < fmt.len() {
            match fmt[i] {
                b'-' => spec.left = true,
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'#' => spec.alt = true,
                _ => break,
            }
            i += 1;
        }
        if i < fmt.len() && fmt[i] == b'*' {
            let w = args.next_int() as i32;
            if w < 0 {
                spec.left = true;
            }
            spec.width = w.unsigned_abs() as usize;
            i += 1;
        } else {
            while i < fmt.len() && fmt[i].is_ascii_digit() {
                spec.width = spec.width * 10 + usize::from(fmt[i] - b'0');
                i += 1;
            }
        }
        if i < fmt.len() && fmt[i] == b'.' {
            i += 1;
            if i < fmt.len() && fmt[i] == b'*' {
                let p = args.next_int() as i32;
                spec.precision = (p >= 0).then_some(p as usize);
                i += 1;
            } else {
                let mut p = 0;
                while i < fmt.len() && fmt[i].is_ascii_digit() {
                    p = p * 10 + usize::from(fmt[i] - b'0');
                    i += 1;
                }
                spec.precision = Some(p);
            }
        }
        let mut len = Len::Int;
        while i < fmt.len() {
            match fmt[i] {
                b'h' => {
                    len = if len == Len::Short {
                        Len::Char
                    } else {
                        Len::Short
                    }
                }
                b'l' | b'z' | b'j' | b't' | b'L' | b'q' => len = Len::Long,
                _ => break,
            }
            i += 1;
        }
        let Some(&conv) = fmt.get(i) else { break };
        i += 1;
        match conv {
            b'd' | b'i' => {
                let raw = args.next_int();
                let v: i64 = match len {
                    Len::Char => raw as i8 as i64,
                    Len::Short => raw as i16 as i64,
                    Len::Int => raw as i32 as i64,
                    Len::Long => raw as i64,
                };
                let sign: &[u8] = if v < 0 {
                    b"-"
                } else if spec.plus {
                    b"+"
                } else if spec.space {
                    b" "
                } else {
                    b""
                };
                integer(&mut emit, spec, sign, v.unsigned_abs(), 10, false);
            }
            b'u' | b'x' | b'X' | b'o' => {
                let raw = args.next_int();
                let v = match len {
                    Len::Char => raw as u8 as u64,
                    Len::Short => raw as u16 as u64,
                    Len::Int => raw as u32 as u64,
                    Len::Long => raw,
                };
                let (base, upper) = match conv {
                    b'x' => (16, false),
                    b'X' => (16, true),
                    b'o' => (8, false),
                    _ => (10, false),
                };
                let prefix: &[u8] = match (spec.alt && v != 0, conv) {
                    (true, b'x') => b"0x",
                    (true, b'X') => b"0X",
                    (true, b'o') => b"0",
                    _ => b"",
                };
                integer(&mut emit, spec, prefix, v, base, upper);
            }
            b'p' => {
                let v = args.next_int();
                if v == 0 {
                    pad(&mut emit, spec, b"(nil)");
                } else {
                    integer(
                        &mut emit,
                        Spec {
                            precision: None,
                            ..spec
                        },
                        b"0x",
                        v,
                        16,
                        false,
                    );
                }
            }
            b'c' => {
                let c = [args.next_int() as u8];
                pad(&mut emit, spec, &c);
            }
            b's' => {
                let p = args.next_int() as *const u8;
                if p.is_null() {
                    let s: &[u8] = b"(null)";
                    pad(
                        &mut emit,
                        spec,
                        &s[..spec.precision.unwrap_or(s.len()).min(s.len())],
                    );
                } else {
                    let mut n = 0;
                    // SAFETY: the caller guarantees a NUL-terminated string,
                    // or `precision` readable bytes.
                    while spec.precision.map_or(true, |p| n < p) && unsafe { *p.add(n) } != 0 {
                        n += 1;
                    }
                    // SAFETY: the `n` bytes just read.
                    pad(&mut emit, spec, unsafe {
                        core::slice::from_raw_parts(p, n)
                    });
                }
            }
            b'f' | b'F' | b'e' | b'E' | b'g' | b'G' => {
                let v = args.next_double();
                float(&mut emit, spec, v);
            }
            b'%' => emit(b"%"),
            b'n' => {
                let _ = args.next_int();
            }
            other => emit(&[b'%', other]),
        }
    }
    total
}

fn repeat(emit: &mut dyn FnMut(&[u8]), byte: u8, mut n: usize) {
    let chunk = [byte; 16];
    while n > 0 {
        let k = n.min(16);
        emit(&chunk[..k]);
        n -= k;
    }
}

fn pad(emit: &mut dyn FnMut(&[u8]), spec: Spec, body: &[u8]) {
    let fill = spec.width.saturating_sub(body.len());
    if !spec.left {
        repeat(emit, b' ', fill);
    }
    emit(body);
    if spec.left {
        repeat(emit, b' ', fill);
    }
}

fn integer(
    emit: &mut dyn FnMut(&[u8]),
    spec: Spec,
    prefix: &[u8],
    mut v: u64,
    base: u64,
    upper: bool,
) {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut buf = [0u8; 24];
    let mut n = 0;
    while v > 0 {
        buf[23 - n] = digits[(v % base) as usize];
        v /= base;
        n += 1;
    }
    let precision = spec.precision.unwrap_or(1);
    let zeros = precision.saturating_sub(n);
    let body = prefix.len() + zeros + n;
    let fill = spec.width.saturating_sub(body);
    let zero_fill = spec.zero && !spec.left && spec.precision.is_none();
    if !spec.left && !zero_fill {
        repeat(emit, b' ', fill);
    }
    emit(prefix);
    if zero_fill {
        repeat(emit, b'0', fill);
    }
    repeat(emit, b'0', zeros);
    emit(&buf[24 - n..]);
    if spec.left {
        repeat(emit, b' ', fill);
    }
}

fn float(emit: &mut dyn FnMut(&[u8]), spec: Spec, v: f64) {
    let precision = spec.precision.unwrap_or(6).min(18);
    let mut buf = [0u8; 64];
    let mut n = 0;
    let mut put = |b: u8, n: &mut usize| {
        if *n < buf.len() {
            buf[*n] = b;
            *n += 1;
        }
    };
    let neg = v.is_sign_negative();
    let a = if neg { -v } else { v };
    if neg {
        put(b'-', &mut n);
    } else if spec.plus {
        put(b'+', &mut n);
    }
    if a.is_nan() || a.is_infinite() {
        for &b in if a.is_nan() { b"nan" } else { b"inf" } {
            put(b, &mut n);
        }
    } else {
        let scale = 10u64.pow(precision as u32) as f64;
        let scaled = a * scale + 0.5;
        let (int, frac) = if scaled < 1.8e19 {
            let s = scaled as u64;
            (s / scale as u64, s % scale as u64)
        } else {
            (u64::MAX, 0)
        };
        let mut digits = [0u8; 20];
        let mut k = 0;
        let mut x = int;
        loop {
            digits[k] = b'0' + (x % 10) as u8;
            x /= 10;
            k += 1;
            if x == 0 {
                break;
            }
        }
        for j in (0..k).rev() {
            put(digits[j], &mut n);
        }
        if precision > 0 {
            put(b'.', &mut n);
            let mut div = scale as u64 / 10;
            for _ in 0..precision {
                put(b'0' + ((frac / div.max(1)) % 10) as u8, &mut n);
                div /= 10;
            }
        }
    }
    if spec.zero
        && !spec.left
        && buf[..n]
            .iter()
            .all(|b| b.is_ascii_digit() || *b == b'.' || *b == b'-' || *b == b'+')
    {
        let sign = usize::from(n > 0 && (buf[0] == b'-' || buf[0] == b'+'));
        emit(&buf[..sign]);
        repeat(emit, b'0', spec.width.saturating_sub(n));
        emit(&buf[sign..n]);
    } else {
        pad(emit, spec, &buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Arg {
        I(i64),
        S(&'static [u8]),
        F(f64),
    }

    struct Slice<'a>(&'a [Arg], usize);

    impl ArgSource for Slice<'_> {
        fn next_int(&mut self) -> u64 {
            let a = &self.0[self.1];
            self.1 += 1;
            match a {
                Arg::I(v) => *v as u64,
                Arg::S(s) => s.as_ptr() as u64,
                Arg::F(_) => 0,
            }
        }
        fn next_double(&mut self) -> f64 {
            let a = &self.0[self.1];
            self.1 += 1;
            match a {
                Arg::F(v) => *v,
                _ => 0.0,
            }
        }
    }

    fn fmt(f: &str, args: &[Arg]) -> String {
        let mut out = Vec::new();
        // SAFETY: every string argument in these tests is NUL-terminated.
        let n = unsafe {
            format(f.as_bytes(), &mut Slice(args, 0), &mut |b| {
                out.extend_from_slice(b)
            })
        };
        assert_eq!(n, out.len());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn signed_and_unsigned_integers_of_every_length() {
        assert_eq!(
            fmt("%d %i %u", &[Arg::I(-5), Arg::I(7), Arg::I(-1)]),
            "-5 7 4294967295"
        );
        assert_eq!(
            fmt("%ld %lu", &[Arg::I(-5), Arg::I(-1)]),
            "-5 18446744073709551615"
        );
        assert_eq!(
            fmt("%lld %llu %zu", &[Arg::I(i64::MIN), Arg::I(3), Arg::I(9)]),
            "-9223372036854775808 3 9"
        );
        assert_eq!(fmt("%hhd %hu", &[Arg::I(255), Arg::I(65537)]), "-1 1");
    }

    #[test]
    fn hex_octal_and_pointers() {
        assert_eq!(
            fmt(
                "%x %X %#x %o",
                &[Arg::I(255), Arg::I(255), Arg::I(255), Arg::I(8)]
            ),
            "ff FF 0xff 10"
        );
        assert_eq!(fmt("%lx", &[Arg::I(0x1_0000_0000)]), "100000000");
        assert_eq!(fmt("%p %p", &[Arg::I(0x1000), Arg::I(0)]), "0x1000 (nil)");
    }

    #[test]
    fn width_zero_pad_and_left_justify() {
        assert_eq!(
            fmt("[%5d][%-5d][%05d]", &[Arg::I(42), Arg::I(42), Arg::I(-42)]),
            "[   42][42   ][-0042]"
        );
        assert_eq!(
            fmt("[%*d][%08x]", &[Arg::I(4), Arg::I(7), Arg::I(0xbeef)]),
            "[   7][0000beef]"
        );
        assert_eq!(
            fmt("[%.3d][%5.3d]", &[Arg::I(5), Arg::I(5)]),
            "[005][  005]"
        );
    }

    #[test]
    fn strings_chars_precision_and_percent() {
        assert_eq!(
            fmt(
                "%s|%.2s|%-4s|%4s",
                &[
                    Arg::S(b"abc\0"),
                    Arg::S(b"abc\0"),
                    Arg::S(b"ab\0"),
                    Arg::S(b"ab\0")
                ]
            ),
            "abc|ab|ab  |  ab"
        );
        assert_eq!(
            fmt("%c%c %% 100%%", &[Arg::I(b'o' as i64), Arg::I(b'k' as i64)]),
            "ok % 100%"
        );
        assert_eq!(fmt("%s", &[Arg::I(0)]), "(null)");
    }

    #[test]
    fn floats_with_precision() {
        assert_eq!(
            fmt(
                "%f %.2f %.0f",
                &[Arg::F(1.5), Arg::F(-1.23456), Arg::F(2.5)]
            ),
            "1.500000 -1.23 3"
        );
        assert_eq!(
            fmt("%8.3f|%-8.1f|", &[Arg::F(1.23456), Arg::F(2.0)]),
            "   1.235|2.0     |"
        );
    }

    #[test]
    fn unknown_conversion_is_printed_verbatim() {
        assert_eq!(fmt("%y", &[]), "%y");
    }
}
