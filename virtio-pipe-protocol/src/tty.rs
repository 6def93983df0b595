//! `TTY`: the terminal ioctls the device serves on the tree's terminal, and
//! the structs they carry, the kernel's `struct termios` and `struct
//! winsize`, defined once for the device, the driver and the guest's
//! `ioctl`. Spec: *TTY*.

use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `TCGETS`: the terminal's modes.
pub const TCGETS: u32 = 0x5401;
/// `TCSETS`: set the modes now.
pub const TCSETS: u32 = 0x5402;
/// `TCSETSW`: set the modes once the output has drained.
pub const TCSETSW: u32 = 0x5403;
/// `TCSETSF`: drain the output, discard the input, set the modes.
pub const TCSETSF: u32 = 0x5404;
/// `TIOCSCTTY`: make the terminal the caller's controlling terminal.
pub const TIOCSCTTY: u32 = 0x540e;
/// `TIOCGPGRP`: the foreground process group.
pub const TIOCGPGRP: u32 = 0x540f;
/// `TIOCSPGRP`: set the foreground process group.
pub const TIOCSPGRP: u32 = 0x5410;
/// `TIOCGWINSZ`: the window size.
pub const TIOCGWINSZ: u32 = 0x5413;
/// `TIOCSWINSZ`: set the window size.
pub const TIOCSWINSZ: u32 = 0x5414;
/// `TIOCNOTTY`: give up the controlling terminal.
pub const TIOCNOTTY: u32 = 0x5422;

/// Control characters in the kernel's `struct termios`.
pub const NCCS: usize = 19;
/// Bytes of a [`Termios`].
pub const TERMIOS_SIZE: usize = 36;
/// Bytes of a [`Winsize`].
pub const WINSIZE_SIZE: usize = 8;
/// Bytes of a process group id (`le32`).
pub const PGRP_SIZE: usize = 4;

/// `TTY` flag: the caller blocks or ignores `SIGTTOU`, so a change of the
/// terminal from a background process group is not refused (spec
/// `dev-tty-background`).
pub const TTY_F_NOJOBCTL: u32 = 1 << 0;

/// The kernel's `struct termios` (`asm-generic/termbits.h`, 36 bytes):
/// what `TCGETS` returns and `TCSETS*` take.
#[doc(alias = "termios")]
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Termios {
    /// Input modes.
    pub c_iflag: U32,
    /// Output modes.
    pub c_oflag: U32,
    /// Control modes.
    pub c_cflag: U32,
    /// Local modes.
    pub c_lflag: U32,
    /// Line discipline.
    pub c_line: u8,
    /// Control characters.
    pub c_cc: [u8; NCCS],
}

/// `ISIG` in `c_lflag`: INTR, QUIT and SUSP raise signals.
pub const ISIG: u32 = 0o1;
/// `ICANON` in `c_lflag`: line by line input.
pub const ICANON: u32 = 0o2;
/// `ECHO` in `c_lflag`.
pub const ECHO: u32 = 0o10;

impl Termios {
    /// What a fresh Linux terminal reports (`tty_std_termios`): cooked
    /// mode, echo, signals, 38400 baud, 8 bits.
    pub const STANDARD: Self = Self {
        c_iflag: U32::new(0o400 | 0o2000),               // ICRNL | IXON
        c_oflag: U32::new(0o1 | 0o4),                    // OPOST | ONLCR
        c_cflag: U32::new(0o17 | 0o60 | 0o200 | 0o2000), // B38400 | CS8 | CREAD | HUPCL
        // ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
        c_lflag: U32::new(0o1 | 0o2 | 0o10 | 0o20 | 0o40 | 0o1000 | 0o4000 | 0o100000),
        c_line: 0,
        // INTR QUIT ERASE KILL EOF TIME MIN SWTC START STOP SUSP EOL
        // REPRINT DISCARD WERASE LNEXT EOL2
        c_cc: [
            3, 0o34, 0o177, 0o25, 4, 0, 1, 0, 0o21, 0o23, 0o32, 0, 0o22, 0o17, 0o27, 0o26, 0, 0, 0,
        ],
    };
}

/// `struct winsize` (8 bytes): what `TIOCGWINSZ` returns and `TIOCSWINSZ`
/// takes.
#[doc(alias = "winsize")]
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct Winsize {
    /// Rows.
    pub ws_row: U16,
    /// Columns.
    pub ws_col: U16,
    /// Width in pixels.
    pub ws_xpixel: U16,
    /// Height in pixels.
    pub ws_ypixel: U16,
}

/// When `TCSETS*` applies the new modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetWhen {
    /// `TCSETS`: now.
    Now,
    /// `TCSETSW`: once the output has drained.
    Drain,
    /// `TCSETSF`: once the output has drained, discarding pending input.
    Flush,
}

/// The terminal ioctl a `TTY` request carries (`arg1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtyCmd {
    /// `TCGETS`: a [`Termios`] out.
    GetAttr,
    /// `TCSETS`, `TCSETSW`, `TCSETSF`: a [`Termios`] in.
    SetAttr(SetWhen),
    /// `TIOCGWINSZ`: a [`Winsize`] out.
    GetWinsize,
    /// `TIOCSWINSZ`: a [`Winsize`] in.
    SetWinsize,
    /// `TIOCGPGRP`: the foreground process group out (`le32`).
    GetPgrp,
    /// `TIOCSPGRP`: the foreground process group in (`le32`).
    SetPgrp,
    /// `TIOCSCTTY` (`arg2` = force): no payload.
    SetCtty,
    /// `TIOCNOTTY`: no payload.
    NoTty,
}

impl TtyCmd {
    /// Every command, in ioctl number order.
    pub const ALL: [TtyCmd; 10] = [
        TtyCmd::GetAttr,
        TtyCmd::SetAttr(SetWhen::Now),
        TtyCmd::SetAttr(SetWhen::Drain),
        TtyCmd::SetAttr(SetWhen::Flush),
        TtyCmd::SetCtty,
        TtyCmd::GetPgrp,
        TtyCmd::SetPgrp,
        TtyCmd::GetWinsize,
        TtyCmd::SetWinsize,
        TtyCmd::NoTty,
    ];

    /// The command of a Linux ioctl request number.
    pub fn from_ioctl(number: u64) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.ioctl() as u64 == number)
    }

    /// Its Linux ioctl request number.
    pub const fn ioctl(self) -> u32 {
        match self {
            TtyCmd::GetAttr => TCGETS,
            TtyCmd::SetAttr(SetWhen::Now) => TCSETS,
            TtyCmd::SetAttr(SetWhen::Drain) => TCSETSW,
            TtyCmd::SetAttr(SetWhen::Flush) => TCSETSF,
            TtyCmd::GetWinsize => TIOCGWINSZ,
            TtyCmd::SetWinsize => TIOCSWINSZ,
            TtyCmd::GetPgrp => TIOCGPGRP,
            TtyCmd::SetPgrp => TIOCSPGRP,
            TtyCmd::SetCtty => TIOCSCTTY,
            TtyCmd::NoTty => TIOCNOTTY,
        }
    }

    /// Whether it changes the terminal: from a background process group
    /// it is refused unless the caller blocks or ignores `SIGTTOU`
    /// (Linux's `tty_check_change` for these ioctls).
    pub const fn changes_terminal(self) -> bool {
        matches!(self, TtyCmd::SetAttr(_) | TtyCmd::SetPgrp)
    }

    /// Bytes of its readable payload (exactly this many).
    pub const fn readable(self) -> usize {
        match self {
            TtyCmd::SetAttr(_) => TERMIOS_SIZE,
            TtyCmd::SetWinsize => WINSIZE_SIZE,
            TtyCmd::SetPgrp => PGRP_SIZE,
            _ => 0,
        }
    }

    /// Bytes of its writable payload (at least this many).
    pub const fn writable(self) -> usize {
        match self {
            TtyCmd::GetAttr => TERMIOS_SIZE,
            TtyCmd::GetWinsize => WINSIZE_SIZE,
            TtyCmd::GetPgrp => PGRP_SIZE,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_structs_have_the_kernels_sizes() {
        assert_eq!(core::mem::size_of::<Termios>(), TERMIOS_SIZE);
        assert_eq!(core::mem::size_of::<Winsize>(), WINSIZE_SIZE);
    }

    #[test]
    fn every_command_round_trips_through_its_ioctl_number() {
        for c in TtyCmd::ALL {
            assert_eq!(TtyCmd::from_ioctl(c.ioctl() as u64), Some(c));
        }
        assert_eq!(TtyCmd::from_ioctl(0x5421), None, "FIONBIO is not TTY's");
        assert_eq!(TtyCmd::from_ioctl(TCGETS as u64 | 1 << 32), None);
    }

    #[test]
    fn standard_termios_is_cooked_with_echo_and_signals() {
        let t = Termios::STANDARD;
        let l = t.c_lflag.get();
        assert_eq!(l & (ISIG | ICANON | ECHO), ISIG | ICANON | ECHO);
        assert_eq!(t.c_cc[0], 3, "VINTR is ^C");
        assert_eq!(t.c_cc[4], 4, "VEOF is ^D");
    }
}
