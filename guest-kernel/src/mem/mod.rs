//! Memory (on the virtual layout, `arch::layout`): the PVH start info, the kernel
//! heap, the frame allocator, and the program's address space (areas in
//! [`vma`], page tables kept in step by [`address_space`]); a program's
//! buffer as runs of frames for the device ([`segments`]), and the one
//! reusable kernel buffer for payloads that cannot go in place ([`bounce`]).

pub mod bounce;
pub mod frames;
pub mod pod;
pub mod segments;
pub mod vma;

#[cfg(not(test))]
pub mod address_space;
pub mod firmware;
#[cfg(not(test))]
pub mod heap;
#[cfg(not(test))]
pub mod start_info;
