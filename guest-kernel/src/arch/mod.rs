//! The architecture layer: only x86-64.

pub mod x86_64;
