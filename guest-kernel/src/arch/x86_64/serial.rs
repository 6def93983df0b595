//! The kernel console on COM1, through the `uart_16550` crate.

use core::fmt::{self, Write};

use spinning_top::Spinlock;
use uart_16550::backend::PioBackend;
use uart_16550::{Config, Uart16550};

const COM1: u16 = 0x3f8;

static CONSOLE: Spinlock<Option<Uart16550<PioBackend>>> = Spinlock::new(None);

/// Initialises COM1. Output before this is dropped.
pub fn init() {
    // SAFETY: COM1 is the ISA serial port of both q35 and microvm, and only
    // this module drives it.
    let Ok(mut uart) = (unsafe { Uart16550::new_port(COM1) }) else {
        return;
    };
    if uart.init(Config::default()).is_ok() {
        *CONSOLE.lock() = Some(uart);
    }
}

struct Console<'a>(&'a mut Uart16550<PioBackend>);

impl Write for Console<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.0.send_bytes_exact(b"\r");
            }
            self.0.send_bytes_exact(&[b]);
        }
        Ok(())
    }
}

/// Writes to the console.
pub fn write_fmt(args: fmt::Arguments<'_>) {
    if let Some(uart) = CONSOLE.lock().as_mut() {
        let _ = Console(uart).write_fmt(args);
    }
}

/// Writes to the console even if the lock is held (the holder never
/// resumes: we are panicking or dying of an exception).
pub fn write_fmt_emergency(args: fmt::Arguments<'_>) {
    if CONSOLE.is_locked() {
        // SAFETY: called only on the way to powering off; the interrupted
        // holder never runs again, so nothing else uses the UART.
        unsafe { CONSOLE.force_unlock() };
    }
    write_fmt(args);
}

/// Prints a line to the kernel console.
#[macro_export]
macro_rules! kprintln {
    ($($arg:tt)*) => {
        $crate::arch::x86_64::serial::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
