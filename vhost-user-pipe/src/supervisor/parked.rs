//! The pool's side of the process manager (`crate::pool` has the policy):
//! the thread that keeps the pool full, parking a VM's `START`, and taking
//! a parked VM for a process (claim, then bind).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use log::{debug, warn};
use virtio_pipe_protocol::Request;
use vm_memory::GuestMemoryMmap;

use super::{name_of, Supervisor, SupervisorError, VmFiles, ROOT};
use crate::binding::Binding;
use crate::io::Io;
use crate::pool;
use crate::process::Pid;
use crate::requests::{Caller, Host};
use crate::sync::{lock, wait, wait_timeout};

/// A parked VM's `START`, held until the VM is given a process, and the
/// VM's RAM (a fork copies its parent's into it).
pub(super) struct Parked {
    pub(super) start: Box<dyn Io>,
    pub(super) memory: Arc<GuestMemoryMmap>,
}

impl std::fmt::Debug for Parked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Parked")
    }
}

impl Supervisor {
    /// Starts the thread that keeps the pool full (`run`, with a pool):
    /// once the root has started, it boots VMs one at a time until the
    /// pool holds [`pool::wanted`] of them, and again whenever one is
    /// taken or dies.
    pub fn start_pool(&self) -> Result<(), SupervisorError> {
        if self.pool_size == 0 || self.kernel_image.is_none() {
            return Ok(());
        }
        let sup = self.arc();
        let t = thread::Builder::new()
            .name("pool".into())
            .spawn(move || sup.fill_pool())
            .map_err(SupervisorError::Thread)?;
        lock(&self.threads).push(t);
        Ok(())
    }

    pub(super) fn fill_pool(&self) {
        let Some(image) = self.kernel_image.clone() else {
            return;
        };
        // The root boots first: on two CPUs a pool booting beside it
        // would delay the program the user is waiting for.
        self.wait_started(ROOT);
        loop {
            let spare = self.kernel().spare_processes();
            let want = pool::wanted(self.pool_size, spare);
            let hosts = self.hosts();
            if self.pool_closed.load(Ordering::Acquire) {
                return;
            }
            let members: Vec<(Pid, bool)> = hosts
                .iter()
                .filter(|(id, r)| pool::is_vm_id(**id) && r.vm.is_some())
                .map(|(id, r)| (*id, r.parked.is_some()))
                .collect();
            if members.len() > want {
                // The tree grew: the pool gives back what the limit needs.
                let extra = members.len() - want;
                for (id, _) in members.iter().filter(|m| m.1).take(extra) {
                    if let Some(vm) = hosts.get(id).and_then(|r| r.vm.clone()) {
                        vm.kill();
                    }
                }
            }
            if members.len() >= want {
                drop(wait(&self.changed, hosts));
                continue;
            }
            // Refill when the tree is quiet: a VM's start-up takes the same
            // CPUs that a process which has just taken a parked VM, or is
            // booting cold, needs for its own start.
            let booting = hosts
                .iter()
                .any(|(id, r)| !pool::is_vm_id(*id) && r.vm.is_some() && !r.started);
            if booting {
                drop(wait(&self.changed, hosts));
                continue;
            }
            let since_take = lock(&self.pool).last_take.map(|t| t.elapsed());
            if let Some(left) = since_take.and_then(|t| pool::REFILL_DELAY.checked_sub(t)) {
                drop(wait_timeout(&self.changed, hosts, left));
                continue;
            }
            drop(hosts);
            let id = lock(&self.pool).next_id();
            let files = VmFiles {
                socket: self
                    .run_dir
                    .join(format!("pool-{}.sock", id - pool::FIRST_VM_ID)),
                serial: self
                    .run_dir
                    .join(format!("pool-{}.serial.log", id - pool::FIRST_VM_ID)),
                qemu_log: self
                    .run_dir
                    .join(format!("pool-{}.qemu.log", id - pool::FIRST_VM_ID)),
            };
            let booted = match self.boot_vm(id, &image, None, files) {
                Ok(binding) => self.wait_parked(id, &binding),
                Err(e) => {
                    warn!("pool: cannot launch a VM: {e}");
                    false
                }
            };
            let mut st = lock(&self.pool);
            if booted {
                st.failures = 0;
            } else {
                st.failures += 1;
                if st.failures >= pool::MAX_FAILURES_IN_A_ROW {
                    warn!(
                        "pool: {} VMs in a row did not boot; no pool for this tree",
                        st.failures
                    );
                    return;
                }
            }
        }
    }

    /// Waits until the pool VM `id` is parked (true) or gone.
    pub(super) fn wait_parked(&self, id: Pid, binding: &Binding) -> bool {
        let until = Instant::now() + self.start_deadline;
        let mut hosts = self.hosts();
        loop {
            if binding.pid() != id {
                // Taken already: it was parked.
                return true;
            }
            match hosts.get(&id) {
                Some(r) if r.parked.is_some() => return true,
                Some(r) if r.vm.is_some() => {}
                _ => return false,
            }
            let Some(left) = until.checked_duration_since(Instant::now()) else {
                return false;
            };
            hosts = wait_timeout(&self.changed, hosts, left).0;
        }
    }

    /// Takes a parked VM for process `pid` ([`Self::claim_parked`], then
    /// [`Self::bind`]).
    pub(super) fn take_parked(&self, pid: Pid) -> Option<(Arc<Binding>, Parked)> {
        let (id, parked) = self.claim_parked()?;
        match self.bind(id, pid) {
            Some(binding) => Some((binding, parked)),
            None => {
                // It died in between: its held START goes with it.
                drop(parked);
                None
            }
        }
    }

    /// Claims a parked VM: its held `START` is the caller's, and nobody
    /// else can take the VM; it stays under its VM id (the pool counts it)
    /// until [`Self::bind`] or its end.
    pub(super) fn claim_parked(&self) -> Option<(Pid, Parked)> {
        let mut hosts = self.hosts();
        let id = hosts
            .iter()
            .filter(|(id, r)| {
                pool::is_vm_id(**id) && r.parked.is_some() && r.vm.is_some() && r.serving
            })
            .map(|(id, _)| *id)
            .min()?;
        let parked = hosts.get_mut(&id)?.parked.take()?;
        Some((id, parked))
    }

    /// Gives the claimed VM `id` to process `pid`: its record moves to
    /// `pid` and its connection serves `pid` from now on. Atomic under the
    /// hosts lock for everyone who looks a VM up by pid (its reaper and its
    /// connection's end included); `None` if the VM has ended meanwhile.
    pub(super) fn bind(&self, id: Pid, pid: Pid) -> Option<Arc<Binding>> {
        let mut hosts = self.hosts();
        if !hosts.get(&id).is_some_and(|r| r.vm.is_some() && r.serving) {
            return None;
        }
        let mut rec = hosts.remove(&id)?;
        let binding = rec.binding.clone()?;
        binding.rebind(pid);
        // Its socket and logs go by the process's name from now on (QEMU
        // is connected, and keeps writing to the files it opened).
        if let Some(socket) = rec.socket.take() {
            let to = self.socket_path(pid);
            rec.socket = Some(match std::fs::rename(&socket, &to) {
                Ok(()) => to,
                Err(_) => socket,
            });
        }
        if let Some((serial, qemu_log)) = rec.logs.take() {
            let (to_serial, to_log) = (self.serial_path(pid), self.qemu_log_path(pid));
            let renamed = std::fs::rename(&serial, &to_serial)
                .and_then(|()| std::fs::rename(&qemu_log, &to_log));
            rec.logs = Some(match renamed {
                Ok(()) => (to_serial, to_log),
                Err(_) => (serial, qemu_log),
            });
        }
        hosts.insert(pid, rec);
        self.changed.notify_all();
        drop(hosts);
        self.vms.fetch_add(1, Ordering::Relaxed);
        {
            let mut st = lock(&self.pool);
            st.taken += 1;
            st.last_take = Some(Instant::now());
        }
        debug!("pid {pid}: takes parked VM {}", name_of(id));
        Some(binding)
    }

    /// Lets the taken parked VM of `pid` start as a fresh process: its held
    /// `START` goes to the kernel, which answers it for `pid`.
    pub(super) fn give_parked(&self, pid: Pid, binding: &Binding, start: Box<dyn Io>) {
        let waker = binding.waker();
        let effects = {
            let mut k = self.kernel();
            k.set_waker(pid, waker.clone());
            k.set_features(pid, binding.features());
            k.submit(pid, Request::Start, start);
            k.take_effects()
        };
        self.apply(effects);
        self.sync_vm(pid);
        // Events queued for `pid` before it had a connection.
        if let Some(w) = waker {
            w();
        }
    }

    /// Holds the `START` of the pool VM `caller.vm`: the VM is parked.
    pub(super) fn park(&self, caller: &Caller, io: Box<dyn Io>) {
        let mut hosts = self.hosts();
        let Some(rec) = hosts.get_mut(&caller.vm).filter(|r| r.vm.is_some()) else {
            return;
        };
        rec.parked = Some(Parked {
            start: io,
            memory: caller.memory.clone(),
        });
        rec.started = true;
        self.changed.notify_all();
        debug!("{}: parked", name_of(caller.vm));
    }
}
