//! The table of requests the driver has handed to the device.
//!
//! Requests complete out of order (a `READ` on an empty pipe stays in the
//! device while later requests complete), so each request lives in a slot
//! until its caller takes the completion. A slot owns the 32-byte request and
//! response headers and remembers where the caller's payload buffers are
//! (up to [`MAX_SEGMENTS`], readable ones first), so the chain can be given
//! back to `VirtQueue::pop_used`, buffer for buffer, whenever the device
//! uses it.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;

use virtio_pipe_protocol::{REQ_HEADER_SIZE, RESP_HEADER_SIZE};

/// Most payload buffers (readable and writable together) one request may
/// carry, besides its two headers; see [`crate::VirtioPipe::submit_sg`]
/// for how it was chosen.
pub const MAX_SEGMENTS: usize = 32;

/// An empty buffer, for the unused entries of a slot's payload table.
fn no_buffer() -> NonNull<[u8]> {
    NonNull::slice_from_raw_parts(NonNull::dangling(), 0)
}

/// Names one submitted request. The generation makes a stale id useless
/// once its slot has been reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestId {
    slot: u16,
    generation: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotState {
    Free,
    /// In the device under this descriptor-chain token.
    InFlight(u16),
    /// Used by the device, which wrote this many bytes into the writable part.
    Done(u32),
}

/// One request's buffers and state.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) req: [u8; REQ_HEADER_SIZE],
    pub(crate) resp: [u8; RESP_HEADER_SIZE],
    /// The payload buffers in chain order: `n_readable` readable ones,
    /// then `n_writable` writable ones; none is empty.
    pub(crate) payload: [NonNull<[u8]>; MAX_SEGMENTS],
    pub(crate) n_readable: usize,
    pub(crate) n_writable: usize,
    pub(crate) state: SlotState,
    generation: u32,
}

/// A fixed pool of slots on the heap, so their header buffers never move
/// while the device may access them.
#[derive(Debug)]
pub(crate) struct Slots {
    slots: Box<[Slot]>,
}

impl Slots {
    pub(crate) fn new(n: usize) -> Self {
        let slots: Vec<Slot> = (0..n)
            .map(|_| Slot {
                req: [0; REQ_HEADER_SIZE],
                resp: [0; RESP_HEADER_SIZE],
                payload: [no_buffer(); MAX_SEGMENTS],
                n_readable: 0,
                n_writable: 0,
                state: SlotState::Free,
                generation: 0,
            })
            .collect();
        Self {
            slots: slots.into_boxed_slice(),
        }
    }

    /// Claims a free slot for a new request.
    pub(crate) fn claim(&mut self) -> Option<(RequestId, &mut Slot)> {
        let (i, slot) = self
            .slots
            .iter_mut()
            .enumerate()
            .find(|(_, s)| s.state == SlotState::Free)?;
        slot.generation = slot.generation.wrapping_add(1);
        slot.resp = [0; RESP_HEADER_SIZE];
        let id = RequestId {
            slot: i as u16,
            generation: slot.generation,
        };
        Some((id, slot))
    }

    /// The slot in flight under descriptor-chain `token`.
    pub(crate) fn by_token(&mut self, token: u16) -> Option<&mut Slot> {
        self.slots
            .iter_mut()
            .find(|s| s.state == SlotState::InFlight(token))
    }

    /// The slot `id` names, if it has not been reused since.
    pub(crate) fn get(&mut self, id: RequestId) -> Option<&mut Slot> {
        self.slots
            .get_mut(id.slot as usize)
            .filter(|s| s.generation == id.generation && s.state != SlotState::Free)
    }

    /// Whether any request is still in the device.
    pub(crate) fn any_in_flight(&self) -> bool {
        self.slots
            .iter()
            .any(|s| matches!(s.state, SlotState::InFlight(_)))
    }

    /// Marks every slot free: after a device reset nothing is in flight.
    pub(crate) fn clear(&mut self) {
        for s in self.slots.iter_mut() {
            s.release();
        }
    }
}

impl Slot {
    pub(crate) fn release(&mut self) {
        self.state = SlotState::Free;
        self.n_readable = 0;
        self.n_writable = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_SLOTS: usize = 2;

    #[test]
    fn claiming_every_slot_leaves_none_free() {
        let mut slots = Slots::new(TWO_SLOTS);
        for token in 0..TWO_SLOTS as u16 {
            let (_, s) = slots.claim().unwrap();
            s.state = SlotState::InFlight(token);
        }
        assert!(slots.claim().is_none());
    }

    #[test]
    fn stale_id_does_not_reach_a_reused_slot() {
        let mut slots = Slots::new(1);
        let (old, s) = slots.claim().unwrap();
        s.state = SlotState::Done(32);
        slots.get(old).unwrap().release();
        let (new, s) = slots.claim().unwrap();
        s.state = SlotState::InFlight(0);
        assert!(slots.get(old).is_none());
        assert!(slots.get(new).is_some());
    }

    #[test]
    fn slot_is_found_by_its_chain_token() {
        let mut slots = Slots::new(TWO_SLOTS);
        let (_, s) = slots.claim().unwrap();
        s.state = SlotState::InFlight(7);
        assert!(slots.by_token(7).is_some());
        assert!(slots.by_token(3).is_none());
        assert!(slots.any_in_flight());
    }
}
