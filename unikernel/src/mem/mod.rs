//! Memory: the PVH memory map and the kernel heap.

pub mod firmware;
pub mod heap;
pub mod start_info;
