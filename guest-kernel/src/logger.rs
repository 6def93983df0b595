//! A `log` backend that writes to the serial console. The level is `info`,
//! or `debug` with the kernel option `kernel.debug`.

use log::{LevelFilter, Log, Metadata, Record};

use crate::arch::x86_64::{serial, time};

struct SerialLogger;

impl Log for SerialLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let us = time::monotonic_ns() / 1_000;
            serial::write_fmt(format_args!(
                "[{:>6}.{:03} {:<5} {}] {}\n",
                us / 1_000,
                us % 1_000,
                record.level(),
                record.target(),
                record.args()
            ));
        }
    }

    fn flush(&self) {}
}

static LOGGER: SerialLogger = SerialLogger;

/// Installs the logger.
pub fn init(debug: bool) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(if debug {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    });
}
