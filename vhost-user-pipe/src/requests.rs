//! The request path of one guest, from descriptor chains to the kernel.
//!
//! [`serve_chains`] takes a batch of chains that one guest made available
//! on its `requestq`, in order, and for each: refuses an indirect table the
//! driver did not negotiate, walks and checks the chain (`chain.rs`),
//! answers a malformed one (spec: *Malformed chains*, with warnings at a
//! bounded rate), decodes the header into a typed [`Request`] and hands it,
//! with its buffers as a [`GuestIo`], to the [`Host`]: the process manager,
//! which runs SPAWN and FORK itself and everything else in the kernel.
//!
//! This is the one place chains become requests. The vhost-user backend
//! (`backend.rs`) calls it on every kick, and the fuzz targets call it on
//! chains built in guest memory with virtio-queue's mock queue, so they
//! exercise exactly what a QEMU guest reaches.

use std::sync::{Arc, MutexGuard};

use log::{debug, warn};
use virtio_bindings::bindings::virtio_ring::{VRING_DESC_F_INDIRECT, VRING_DESC_F_NEXT};
use virtio_pipe_protocol::{Errno, Request, RespHeader, REQ_HEADER_SIZE, RESP_HEADER_SIZE};
use virtio_queue::DescriptorChain;
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

use crate::chain::{self, ChainError, Malformed};
use crate::completions::Completions;
use crate::guest_io::GuestIo;
use crate::io::Io;
use crate::kernel::{Effect, Kernel};
use crate::process::Pid;
use crate::rate_limit::RateLimited;

/// What serving a guest needs from the process manager.
pub trait Host: Send + Sync {
    /// The kernel, locked.
    fn kernel(&self) -> MutexGuard<'_, Kernel>;
    /// Runs one request of `caller`: SPAWN and FORK start VMs, the rest
    /// go to the kernel; then carries out the kernel's effects.
    fn dispatch(&self, caller: &Caller, req: Request, io: Box<dyn Io>);
    /// Carries out kernel effects (stop or kill VMs, end the tree).
    fn apply(&self, effects: Vec<Effect>);
    /// Whether FORK can work for `pid`: the daemon launched its VM, so it
    /// knows which image the child boots.
    fn can_fork(&self, pid: Pid) -> bool;
    /// Ends `pid` as killed (its worker failed).
    fn fail_process(&self, pid: Pid);
    /// Whether `vm` is a parked VM of the pool, not yet given a process:
    /// its `START` is served (and held) all the same.
    fn parked(&self, vm: Pid) -> bool {
        let _ = vm;
        false
    }
}

/// The guest whose requests are served: its pid, memory and mailbox.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The process whose requests these are: the VM's own process, or the
    /// vfork child borrowing the VM ([`Kernel::acting`]).
    pub pid: Pid,
    /// The process the VM was launched for.
    pub vm: Pid,
    /// Its RAM.
    pub memory: Arc<GuestMemoryMmap>,
    /// Where its completions go.
    pub mailbox: Arc<Completions>,
}

impl Caller {
    /// Whether requests of this guest have completed but are not yet on its
    /// used ring: for the driver they are still pending (spec:
    /// `dev-fork-reject`).
    pub fn has_undelivered(&self) -> bool {
        self.mailbox.has_undelivered()
    }
}

/// Where a guest's `requestq` lies, to read a chain's descriptors as stored.
#[derive(Debug, Clone, Copy)]
pub struct QueueLayout {
    /// Guest-physical address of the descriptor table.
    pub desc_table: u64,
    /// Entries in the queue.
    pub size: u16,
    /// Whether the driver negotiated `VIRTIO_RING_F_INDIRECT_DESC`.
    pub indirect_ok: bool,
}

/// Serves `chains`, one guest's batch, in order. The batch stops at an EXIT
/// (or a KILL) that ended the VM's process: nothing after it is processed,
/// not even a malformed chain's answer (spec: `dev-exit-sequence`). When a
/// vfork child borrowing the VM ends or EXECs, the requests after it are
/// the parent's again (spec: `dev-vfork-borrow`).
pub fn serve_chains(
    caller: &mut Caller,
    host: &dyn Host,
    queue: QueueLayout,
    malformed: &RateLimited,
    chains: Vec<DescriptorChain<Arc<GuestMemoryMmap>>>,
) {
    let mem = &caller.memory;
    for chain in chains {
        let head = chain.head_index();
        if !queue.indirect_ok && uses_indirect(mem, queue, head) {
            let m = Malformed {
                error: ChainError::IndirectNotNegotiated,
                writable: None,
            };
            reject(caller, malformed, head, m);
            continue;
        }
        let parsed = match chain::walk(chain, mem) {
            Ok(p) => p,
            Err(m) => {
                reject(caller, malformed, head, m);
                continue;
            }
        };
        if !parsed.can_respond() {
            // No room for a response: a malformed chain with no effect.
            if malformed.allow().is_some() {
                warn!(
                    "pid {}: chain {head} has no room for a response",
                    caller.pid
                );
            }
            let mailbox = &caller.mailbox;
            mailbox.post(mailbox.generation(), head, 0);
            continue;
        }
        let request = parsed.request(mem);
        let io = Box::new(GuestIo::new(
            mem.clone(),
            parsed,
            REQ_HEADER_SIZE,
            caller.mailbox.clone(),
        ));
        match request {
            Ok((_, req)) => {
                debug!("pid {}: {req:?}", caller.pid);
                // START belongs to the VM's driver, whoever borrows it.
                if matches!(req, Request::Start) {
                    caller.pid = caller.vm;
                }
                let may_change = matches!(
                    req,
                    Request::Exit(_) | Request::Kill { .. } | Request::Vfork | Request::Exec { .. }
                );
                host.dispatch(caller, req, io);
                if may_change {
                    let k = host.kernel();
                    if !k.process(caller.vm).is_some_and(|p| p.is_running()) {
                        break;
                    }
                    caller.pid = k.acting(caller.vm);
                }
            }
            Err(e) => {
                debug!("pid {}: {e}", caller.pid);
                io.complete(RespHeader::err(e.errno()), 0);
            }
        }
    }
}

/// Answers a malformed chain: `EINVAL` in its writable part when that part
/// is usable, else nothing (used length 0).
fn reject(caller: &Caller, malformed: &RateLimited, head: u16, m: Malformed) {
    if let Some(skipped) = malformed.allow() {
        let more = if skipped > 0 {
            format!(" ({skipped} more not logged)")
        } else {
            String::new()
        };
        warn!(
            "pid {}: malformed descriptor chain {head}: {}{more}",
            caller.pid, m.error
        );
    }
    let used = match m.writable {
        Some(w) => {
            w.write(
                &caller.memory,
                0,
                &RespHeader::err(Errno::Einval).as_bytes_le(),
            );
            RESP_HEADER_SIZE as u32
        }
        None => 0,
    };
    let mailbox = &caller.mailbox;
    mailbox.post(mailbox.generation(), head, used);
}

/// Whether the chain whose head is `head` contains an indirect descriptor,
/// read from the descriptor table itself (virtio-queue's iterator follows
/// indirect tables without saying so). Unreadable or looping chains answer
/// `false`: the walk rejects those anyway.
pub fn uses_indirect(mem: &GuestMemoryMmap, queue: QueueLayout, head: u16) -> bool {
    /// Bytes of one split-queue descriptor, and where its flags and next are.
    const DESC: u64 = 16;
    const FLAGS_AT: u64 = 12;
    const NEXT_AT: u64 = 14;
    let mut idx = head;
    for _ in 0..queue.size {
        if idx >= queue.size {
            return false;
        }
        let at = queue.desc_table.wrapping_add(DESC * idx as u64);
        let (Ok(flags), Ok(next)) = (
            mem.read_obj::<u16>(GuestAddress(at.wrapping_add(FLAGS_AT))),
            mem.read_obj::<u16>(GuestAddress(at.wrapping_add(NEXT_AT))),
        ) else {
            return false;
        };
        let (flags, next) = (u16::from_le(flags), u16::from_le(next));
        if flags & VRING_DESC_F_INDIRECT as u16 != 0 {
            return true;
        }
        if flags & VRING_DESC_F_NEXT as u16 == 0 {
            return false;
        }
        idx = next;
    }
    false
}
