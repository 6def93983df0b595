//! The architecture layer: only x86-64, and the virtual memory map it sets up.

pub mod layout;
pub mod x86_64;
