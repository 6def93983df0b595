//! FORK: a child on a copy of its parent's RAM, in a new VM or landed in a
//! parked one (`ARCHITECTURE.md`, "fork()" and "Fork into a parked VM").

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use log::{debug, warn};
use virtio_pipe_protocol::{Errno, RespHeader, StartKind, FEATURE_FORK};
use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

use super::parked::Parked;
use super::{name_of, Supervisor};
use crate::launcher::Vm;
use crate::pool;
use crate::process::Pid;
use crate::ram_copy::{self, RamCopy};
use crate::requests::Caller;
use crate::sync::lock;

/// A parked VM told to land for a fork (`Supervisor::start_landing`);
/// killed when dropped unless it was given to the child.
struct Landing {
    id: Pid,
    memory: Arc<GuestMemoryMmap>,
    mailbox: u64,
    vm: Option<Arc<dyn Vm>>,
    began: Instant,
}

impl Drop for Landing {
    fn drop(&mut self) {
        // A VM told to land can never be anything else.
        if let Some(vm) = self.vm.take() {
            vm.kill();
        }
    }
}

impl Supervisor {
    /// FORK of `caller.pid`: a child booted on a copy of the VM's RAM. The
    /// caller may be a vfork child borrowing the VM: the copy and the image
    /// are the VM's, the new process the borrower's child.
    pub(super) fn fork(&self, caller: &Caller, resume: u64, mailbox: u64) -> Result<Pid, Errno> {
        let parent = caller.pid;
        let negotiated = self
            .kernel()
            .process(caller.vm)
            .is_some_and(|p| p.has_feature(FEATURE_FORK));
        let image = self.hosts().get(&caller.vm).and_then(|r| r.image.clone());
        let Some(image) = image.filter(|_| negotiated) else {
            return Err(Errno::Enosys);
        };
        // Pending: blocked, held, or completed but not yet on the used ring
        // (spec: `dev-fork-reject`).
        if caller.has_undelivered() || self.kernel().has_pending(parent) {
            return Err(Errno::Einval);
        }
        let mem = &caller.memory;
        if !mem.check_range(GuestAddress(resume), 1) {
            return Err(Errno::Efault);
        }
        // The process limit first: a refused FORK copies nothing.
        let child = self.kernel().fork(parent, resume)?;
        // A parked VM starts landing now, while the parent's RAM is copied.
        let landing = if mailbox != 0 && self.kernel_image.as_deref() == Some(image.as_path()) {
            self.start_landing(caller, mailbox)
        } else {
            None
        };
        let ram = match ram_copy::copy(mem, 0) {
            Ok(ram) => ram,
            Err(e) => {
                warn!("pid {parent}: fork: {e}");
                drop(landing);
                self.kernel().discard(child);
                return Err(Errno::Enomem);
            }
        };
        debug!(
            "pid {parent}: fork copied {} of {} bytes in {:?}",
            ram.copied, ram.size, ram.elapsed
        );
        if let Some(landing) = landing {
            // The parent goes on now: the child's VM is finished off its
            // critical path, from the copy (the parent's RAM changes from
            // here on).
            let sup = self.arc();
            let like = caller.memory.clone();
            let t = thread::Builder::new()
                .name(format!("fork-{child}"))
                .spawn(move || sup.finish_landing(landing, child, &like, ram, image));
            match t {
                Ok(t) => lock(&self.threads).push(t),
                Err(e) => {
                    warn!("pid {child}: fork of {parent} failed: {e}");
                    self.kernel().discard(child);
                    return Err(Errno::Eagain);
                }
            }
            return Ok(child);
        }
        if let Err(e) = self.start_process(child, &image, Some(ram)) {
            warn!("pid {child}: fork of {parent} failed: {e}");
            self.kernel().discard(child);
            return Err(Errno::Eagain);
        }
        Ok(child)
    }

    /// Claims a parked VM for a fork of `caller` and answers its held
    /// `START` with "land" (spec: `dev-start-land`): it resets its device
    /// and spins on its mailbox, touching nothing else. `None` when no VM
    /// is parked or it does not fit the parent (another memory layout): it
    /// stays parked, and the fork is cold.
    fn start_landing(&self, caller: &Caller, mailbox: u64) -> Option<Landing> {
        let (id, parked) = self.claim_parked()?;
        if let Err(e) = ram_copy::check_overlay(&caller.memory, &parked.memory, mailbox) {
            debug!("pid {}: no fork into {}: {e}", caller.pid, name_of(id));
            if let Some(r) = self.hosts().get_mut(&id) {
                r.parked = Some(parked);
            }
            return None;
        }
        let vm = self.hosts().get(&id).and_then(|r| r.vm.clone())?;
        let Parked { start, memory } = parked;
        start.complete(RespHeader::ok([StartKind::Land as u64, 0, 0]), 0);
        Some(Landing {
            id,
            memory,
            mailbox,
            vm: Some(vm),
            began: Instant::now(),
        })
    }

    /// Finishes a FORK into a landing VM (spec: `dev-fork-land`), on a
    /// thread of its own: once the VM has landed, `ram` (the parent's RAM at
    /// the fork, laid out `like` the parent's memory) is copied over the
    /// VM's own, the VM becomes `child`'s, and the mailbox word goes last,
    /// on which the child resumes as a cold fork child does
    /// (`ARCHITECTURE.md`, "Fork into a parked VM"). If the VM cannot be
    /// used, the child boots cold on `ram`.
    fn finish_landing(
        &self,
        mut landing: Landing,
        child: Pid,
        like: &GuestMemoryMmap,
        ram: RamCopy,
        image: PathBuf,
    ) {
        let id = landing.id;
        let alive = || self.hosts().get(&id).is_some_and(|r| r.vm.is_some());
        let deadline = landing.began + pool::LAND_DEADLINE;
        let held = ram_copy::wait_landed(&landing.memory, landing.mailbox, deadline, alive)
            .and_then(|()| ram.memory(like))
            .and_then(|src| ram_copy::overlay_held(&src, &landing.memory, landing.mailbox));
        let landed = landing.began.elapsed();
        match held {
            // The VM is the child's before the child can run: its first
            // requests must find the child's record.
            Ok(held) => match self.bind(id, child) {
                Some(binding) => {
                    landing.vm = None;
                    self.kernel().set_waker(child, binding.waker());
                    match held.release(&landing.memory) {
                        Ok(stats) => debug!(
                            "pid {child}: forked into {}: landed and copied {} KiB (punched {} KiB) in {landed:?}, overlay {:?}",
                            name_of(id),
                            stats.copied / 1024,
                            stats.punched / 1024,
                            stats.elapsed
                        ),
                        Err(e) => {
                            // The child cannot resume: it ends as killed.
                            warn!("pid {child}: fork into {} failed: {e}", name_of(id));
                            self.kill_vm(child);
                        }
                    }
                    self.fork_copies.fetch_add(1, Ordering::Relaxed);
                    self.sync_vm(child);
                    return;
                }
                None => warn!("pid {child}: {} ended while it landed", name_of(id)),
            },
            Err(e) => warn!("pid {child}: fork into {} failed: {e}", name_of(id)),
        }
        // Kills the VM that did not land.
        drop(landing);
        if self.pool_closed.load(Ordering::Acquire) {
            self.vanished(child);
            return;
        }
        if let Err(e) = self.start_process(child, &image, Some(ram)) {
            warn!("pid {child}: no VM for its fork: {e}");
            self.vanished(child);
        }
    }
}
