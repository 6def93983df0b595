//! The `VhostUserBackend` of one guest process. Only glue: it pumps
//! `requestq` into the request path (`requests.rs`), moves completions onto
//! the used ring, fills `eventq` buffers with events, and tells a VM pause
//! from a device reset. The logic is in `kernel/`; the process manager is
//! behind the [`Host`] trait, so this file never knows who created it.
//!
//! Each guest connection runs one epoll thread (vhost-user-backend's
//! `VringEpollHandler`). Besides the two vring kicks, that loop listens on
//! this device's [`Completions`] eventfd ([`WAKE_EVENT`]): another guest's
//! thread kicks it after completing one of our blocked requests or queueing
//! an event for us. Nothing polls.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex, Weak};

use log::{debug, error, info, warn};
use vhost::vhost_user::message::VhostUserProtocolFeatures;
use vhost_user_backend::{VhostUserBackend, VringRwLock, VringT};
use virtio_bindings::bindings::virtio_config::VIRTIO_F_VERSION_1;
use virtio_bindings::bindings::virtio_ring::VIRTIO_RING_F_INDIRECT_DESC;
use virtio_pipe_protocol::{
    ConfigSpace, Event, EVENT_SIZE, FEATURE_FORK, FEATURE_SIGNALS, FEATURE_SPAWN, QUEUE_EVENT,
    QUEUE_REQUEST,
};
use virtio_queue::{QueueOwnedT, QueueT};
use vm_memory::{GuestAddressSpace, GuestMemoryAtomic, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;
use vmm_sys_util::event::{
    new_event_consumer_and_notifier, EventConsumer, EventFlag, EventNotifier,
};

use crate::binding::Binding;
use crate::chain;
use crate::completions::{Completions, UsedRing};
use crate::guest_memory;
use crate::process::Pid;
use crate::rate_limit::RateLimited;
use crate::requests::{self, Caller, Host, QueueLayout};
use crate::sync::lock;

/// Virtqueues the backend accepts: `requestq`, `eventq`, and two unused
/// ones, because the `vhost-user-snd` carrier sets up and enables four
/// queues and a backend with fewer would drop its connection (spec:
/// `dev-vq-roles`: queues 2 and above are accepted but never used).
pub const NUM_QUEUES: usize = 4;
/// Largest queue the device accepts.
pub const MAX_QUEUE_SIZE: usize = 1024;
/// Epoll id of the completions eventfd (ids up to `NUM_QUEUES` are the library's).
pub const WAKE_EVENT: u16 = NUM_QUEUES as u16 + 1;
/// `VHOST_USER_F_PROTOCOL_FEATURES`.
const VHOST_USER_F_PROTOCOL_FEATURES: u32 = 30;

/// The feature bits the device offers.
pub fn device_features() -> u64 {
    (1 << VIRTIO_F_VERSION_1)
        | (1 << VIRTIO_RING_F_INDIRECT_DESC)
        | (1 << VHOST_USER_F_PROTOCOL_FEATURES)
        | (1 << FEATURE_FORK)
        | (1 << FEATURE_SPAWN)
        | (1 << FEATURE_SIGNALS)
}

/// Where `requestq` stood when the frontend stopped it (`GET_VRING_BASE`).
/// If it restarts at the same place, the VM was paused (QMP `stop`, a
/// migration) and its requests resume; anywhere else, the driver reset the
/// device and they are dropped (spec: 1.5.1). The one ambiguous case, a
/// reset after a multiple of 65536 requests onto rings at the very same
/// addresses, is caught by `START`, the driver's first request after any
/// reset, which drops whatever is still pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StopPoint {
    next_avail: u16,
    desc: u64,
    avail: u64,
    used: u64,
}

impl StopPoint {
    fn of(vring: &VringRwLock) -> Self {
        let state = vring.get_ref();
        let q = state.get_queue();
        Self {
            next_avail: q.next_avail(),
            desc: q.desc_table(),
            avail: q.avail_ring(),
            used: q.used_ring(),
        }
    }
}

/// A vring kept by the device (the library's type has no `Debug`).
struct Vring(VringRwLock);

impl std::fmt::Debug for Vring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vring")
    }
}

/// The virtio-pipe device of one guest process.
pub struct Backend {
    /// The process served (re-bound when a parked VM of the pool is given one).
    who: Arc<Binding>,
    host: Arc<dyn Host>,
    mem: Mutex<Option<GuestMemoryAtomic<GuestMemoryMmap>>>,
    mailbox: Arc<Completions>,
    /// Held while this guest's thread serves an event, and by `stop_vring`:
    /// a stop waits for the batch being served, so no request collected
    /// before it runs after it. Holds where `requestq` stopped, if it did.
    serving: Mutex<Option<StopPoint>>,
    /// `requestq`, once seen (to read where it stands when it stops).
    request_vring: std::sync::OnceLock<Vring>,
    /// Malformed chains, counted and logged at a bounded rate.
    malformed: RateLimited,
    /// The consumer fds of the exit events given to vhost-user-backend,
    /// which takes them with `into_raw_fd` and never closes them: see
    /// [`PipeDevice::close_exit_events`].
    exit_fds: Mutex<Vec<RawFd>>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").field("pid", &self.pid()).finish()
    }
}

impl Backend {
    /// The device of the process `who` names, serving it for `host`.
    pub fn new(who: Arc<Binding>, host: Arc<dyn Host>) -> std::io::Result<Self> {
        Ok(Self {
            who,
            host,
            mem: Mutex::new(None),
            mailbox: Arc::new(Completions::new()?),
            serving: Mutex::new(None),
            request_vring: std::sync::OnceLock::new(),
            malformed: RateLimited::default(),
            exit_fds: Mutex::new(Vec::new()),
        })
    }

    /// The process served now.
    fn pid(&self) -> Pid {
        self.who.pid()
    }

    /// The mailbox other threads complete this guest's requests through.
    pub fn mailbox(&self) -> &Arc<Completions> {
        &self.mailbox
    }

    /// Closes the exit events' consumer fds, which vhost-user-backend
    /// leaks (one per connection). Call it only once the `VhostUserDaemon`
    /// that serves this device is dropped: its epoll threads are joined and
    /// their epoll sets closed, so nothing refers to those fds any more.
    pub fn close_exit_events(&self) {
        let fds = std::mem::take(&mut *lock(&self.exit_fds));
        for fd in fds {
            // SAFETY: `fd` is a consumer `exit_event` created and the
            // library took over without ever closing it; the caller
            // guarantees the library's handler is gone, so this closes
            // that eventfd and nothing else, once.
            unsafe { libc::close(fd) };
        }
    }

    fn memory(&self) -> Option<Arc<GuestMemoryMmap>> {
        lock(&self.mem).as_ref().map(|m| m.memory().into_inner())
    }

    fn process_requests(&self, vring: &VringRwLock) {
        let Some(memory) = self.memory() else { return };
        // One kernel lock per kick: whether the process still runs, the
        // features its driver acked, and who borrows the VM.
        let pid = self.pid();
        let found = {
            let k = self.host.kernel();
            k.process(pid)
                .filter(|p| p.is_running())
                .map(|p| (p.features, k.acting(pid)))
        };
        // A parked VM of the pool has no process yet: its driver's START
        // goes to the process manager, which holds it.
        let found = found.or_else(|| self.host.parked(pid).then(|| (self.who.features(), pid)));
        let Some((features, acting)) = found else {
            // An ended process's requests are never processed, SPAWN and
            // FORK included (spec: `dev-exit-sequence`).
            debug!("pid {}: has ended; requests ignored", self.pid());
            return;
        };
        let queue = {
            let v = vring.get_ref();
            QueueLayout {
                desc_table: v.get_queue().desc_table(),
                size: v.get_queue().size(),
                indirect_ok: features & (1 << VIRTIO_RING_F_INDIRECT_DESC) != 0,
            }
        };
        let chains: Vec<_> = match vring.get_mut().get_queue_mut().iter(memory.clone()) {
            Ok(iter) => iter.collect(),
            Err(e) => {
                warn!("pid {}: requestq unusable: {e}", self.pid());
                return;
            }
        };
        let mut caller = Caller {
            pid: acting,
            vm: pid,
            memory,
            mailbox: self.mailbox.clone(),
        };
        // Our own requests completed in this batch are flushed below with
        // one signal; other guests' are delivered to them at once.
        let draining = self.mailbox.draining();
        requests::serve_chains(
            &mut caller,
            self.host.as_ref(),
            queue,
            &self.malformed,
            chains,
        );
        drop(draining);
        self.flush_completions(vring);
    }

    /// The next undelivered event (the kernel lock is released at once:
    /// it must not be held across the loop that delivers events).
    fn next_event(&self) -> Option<Event> {
        self.host.kernel().next_event(self.pid())
    }

    /// Puts back an event that found no buffer.
    fn unget_event(&self, event: Event) {
        self.host.kernel().unget_event(self.pid(), event)
    }

    fn flush_completions(&self, vring: &VringRwLock) {
        let done = self.mailbox.take();
        if done.is_empty() {
            return;
        }
        for (head, used) in done {
            if let Err(e) = vring.add_used(head, used) {
                warn!("pid {}: add_used({head}): {e}", self.pid());
            }
        }
        if let Err(e) = vring.signal_used_queue() {
            debug!("pid {}: signal requestq: {e}", self.pid());
        }
    }

    /// Lets other threads put completions straight on our used ring.
    fn install_used_ring(&self, vring: &VringRwLock) {
        self.mailbox.set_used_ring(|| {
            Box::new(RequestRing {
                who: Arc::downgrade(&self.who),
                vring: vring.clone(),
            })
        });
    }

    fn deliver_events(&self, vring: &VringRwLock) {
        let Some(mem) = self.memory() else { return };
        // Events queued while the driver has not enabled eventq wait for it
        // (spec: `dev-init-ready`).
        let usable = {
            let state = vring.get_ref();
            state.is_enabled() && state.get_queue().ready()
        };
        if !usable {
            return;
        }
        let mut delivered = false;
        while let Some(event) = self.next_event() {
            let chain = vring
                .get_mut()
                .get_queue_mut()
                .pop_descriptor_chain(mem.clone());
            let Some(chain) = chain else {
                self.unget_event(event);
                break;
            };
            let head = chain.head_index();
            let used = match chain::walk(chain, &mem) {
                Ok(p) if p.writable.len >= EVENT_SIZE => {
                    p.writable.write(&mem, 0, &event.to_bytes());
                    EVENT_SIZE as u32
                }
                Ok(_) | Err(_) => {
                    // Returned empty; the event waits for the next buffer
                    // (spec: `dev-event-format`, `dev-event-hold`).
                    warn!("pid {}: eventq buffer {head} unusable", self.pid());
                    self.unget_event(event);
                    0
                }
            };
            if let Err(e) = vring.add_used(head, used) {
                warn!("pid {}: eventq add_used: {e}", self.pid());
            }
            delivered = true;
        }
        if delivered {
            let _ = vring.signal_used_queue();
        }
    }

    /// Whether `requestq` runs again after a stop: started, with an
    /// interrupt to tell the driver of completions.
    fn restarted(&self, requestq: &VringRwLock) -> bool {
        let state = requestq.get_ref();
        state.get_queue().ready() && state.get_call().is_some()
    }

    /// `requestq` restarted after stopping at `stop`: a pause resumes the
    /// held requests, a reset drops them.
    fn resume_after(&self, stop: StopPoint, requestq: &VringRwLock) {
        if StopPoint::of(requestq) == stop {
            debug!(
                "pid {}: requestq restarted where it stopped: resuming",
                self.pid()
            );
            let draining = self.mailbox.draining();
            let effects = {
                let mut k = self.host.kernel();
                k.thaw(self.pid());
                k.take_effects()
            };
            self.host.apply(effects);
            drop(draining);
            self.flush_completions(requestq);
        } else {
            debug!(
                "pid {}: requestq restarted afresh: device reset",
                self.pid()
            );
            self.cancel();
        }
    }

    /// Drops every pending request and every completion not yet on the
    /// used ring, atomically for the other threads (under the kernel lock:
    /// no WRITE can fill one of its READs in between): a device reset
    /// (spec: `dev-reset-cancel`).
    fn cancel(&self) {
        let mut k = self.host.kernel();
        k.cancel_pending(self.pid());
        self.mailbox.reset();
    }
}

/// The pid a weak binding names (0 once it is gone), for log lines.
fn pid_of(who: &Weak<Binding>) -> Pid {
    who.upgrade().map_or(0, |b| b.pid())
}

/// `requestq`'s used ring, for [`Completions`] on other threads.
struct RequestRing {
    /// For log lines only (weak: the binding's waker leads back here).
    who: Weak<Binding>,
    vring: VringRwLock,
}

impl UsedRing for RequestRing {
    fn add_used(&self, head: u16, used: u32) {
        if let Err(e) = self.vring.add_used(head, used) {
            warn!("pid {}: add_used({head}): {e}", pid_of(&self.who));
        }
    }

    fn signal(&self) {
        // Notify on a duplicate of the call eventfd so that the vring lock
        // is not held while the woken guest runs (it would then find the
        // lock taken when its own thread parses its next request).
        let call = self
            .vring
            .get_ref()
            .get_call()
            .as_ref()
            .map(|c| c.try_clone());
        match call {
            Some(Ok(c)) => {
                if let Err(e) = c.notify() {
                    debug!("pid {}: signal requestq: {e}", pid_of(&self.who));
                }
            }
            Some(Err(e)) => {
                // No fd to spare: signal under the lock rather than not at all.
                debug!(
                    "pid {}: cannot duplicate the call eventfd: {e}",
                    pid_of(&self.who)
                );
                if let Err(e) = self.vring.signal_used_queue() {
                    debug!("pid {}: signal requestq: {e}", pid_of(&self.who));
                }
            }
            None => {}
        }
    }
}

impl Backend {
    fn serve_event(&self, device_event: u16, vrings: &[VringRwLock]) {
        log::trace!("pid {}: device event {device_event}", self.pid());
        let requestq = &vrings[QUEUE_REQUEST as usize];
        let _ = self.request_vring.set(Vring(requestq.clone()));
        let mut serving = lock(&self.serving);
        if let Some(stop) = *serving {
            if !self.restarted(requestq) {
                // Stopped: nothing is served until the frontend restarts it.
                return;
            }
            *serving = None;
            self.resume_after(stop, requestq);
        }
        self.install_used_ring(requestq);
        match device_event {
            QUEUE_REQUEST => self.process_requests(&vrings[QUEUE_REQUEST as usize]),
            QUEUE_EVENT => self.deliver_events(&vrings[QUEUE_EVENT as usize]),
            WAKE_EVENT => {
                self.mailbox.clear_kick();
                self.flush_completions(&vrings[QUEUE_REQUEST as usize]);
                self.deliver_events(&vrings[QUEUE_EVENT as usize]);
            }
            // Queues 2 and above exist for carriers that create them; their
            // buffers are never used (spec: `dev-vq-roles`).
            other if (other as usize) < NUM_QUEUES => {
                debug!("pid {}: kick on unused queue {other} ignored", self.pid())
            }
            other => warn!("pid {}: unknown device event {other}", self.pid()),
        }
    }
}

impl VhostUserBackend for Backend {
    type Bitmap = ();
    type Vring = VringRwLock;

    fn num_queues(&self) -> usize {
        NUM_QUEUES
    }

    fn max_queue_size(&self) -> usize {
        MAX_QUEUE_SIZE
    }

    fn features(&self) -> u64 {
        // FORK boots the child from the parent's image: a process whose VM
        // someone else launched (`serve`) has none the daemon knows.
        if self.host.can_fork(self.pid()) {
            device_features()
        } else {
            device_features() & !(1 << FEATURE_FORK)
        }
    }

    fn acked_features(&self, features: u64) {
        info!("pid {}: driver acked features {features:#x}", self.pid());
        self.who.set_features(features);
        self.host.kernel().set_features(self.pid(), features);
    }

    fn protocol_features(&self) -> VhostUserProtocolFeatures {
        VhostUserProtocolFeatures::CONFIG
            | VhostUserProtocolFeatures::MQ
            | VhostUserProtocolFeatures::REPLY_ACK
    }

    fn reset_device(&self) {
        let mut serving = lock(&self.serving);
        *serving = None;
        self.cancel();
    }

    fn set_event_idx(&self, _enabled: bool) {}

    fn get_config(&self, offset: u32, size: u32) -> Vec<u8> {
        let cfg = ConfigSpace::current();
        let bytes = cfg.to_bytes();
        (offset..offset.saturating_add(size))
            .map(|i| bytes.get(i as usize).copied().unwrap_or(0))
            .collect()
    }

    fn update_memory(&self, mem: GuestMemoryAtomic<GuestMemoryMmap>) -> std::io::Result<()> {
        let mut current = lock(&self.mem);
        if let Err(e) = guest_memory::accept(&mem.memory()) {
            // The device stops using guest memory; the frontend gets the
            // error and the library ends the connection.
            error!("pid {}: memory table refused: {e}", self.pid());
            *current = None;
            self.mailbox.reset();
            return Err(std::io::Error::other(e));
        }
        *current = Some(mem);
        Ok(())
    }

    fn exit_event(&self, _thread_index: usize) -> Option<(EventConsumer, EventNotifier)> {
        let (consumer, notifier) = new_event_consumer_and_notifier(EventFlag::NONBLOCK).ok()?;
        lock(&self.exit_fds).push(consumer.as_raw_fd());
        Some((consumer, notifier))
    }

    fn stop_vring(&self, queue_index: u32) -> std::io::Result<()> {
        log::trace!("pid {}: stop vring {queue_index}", self.pid());
        if queue_index != QUEUE_REQUEST as u32 {
            return Ok(());
        }
        // Waits for the batch being served; then nothing runs until the
        // restart tells a pause from a reset (`resume_after`).
        let mut serving = lock(&self.serving);
        if let Some(Vring(vring)) = self.request_vring.get() {
            if serving.is_none() {
                *serving = Some(StopPoint::of(vring));
            }
            self.host.kernel().freeze(self.pid());
        }
        Ok(())
    }

    fn handle_event(
        &self,
        device_event: u16,
        evset: EventSet,
        vrings: &[VringRwLock],
        _thread_id: usize,
    ) -> std::io::Result<()> {
        if evset != EventSet::IN {
            return Err(std::io::Error::other(format!(
                "unexpected epoll events {evset:?}"
            )));
        }
        // A worker never dies silently: a panic while serving this guest
        // ends this guest's process (its VM is killed, its parent's WAIT
        // reports SIGKILL) and the daemon goes on serving the others.
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.serve_event(device_event, vrings)
        }));
        if let Err(panic) = served {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            error!(
                "pid {}: worker panicked ({what}); ending the process",
                self.pid()
            );
            self.host.fail_process(self.pid());
        }
        Ok(())
    }
}
