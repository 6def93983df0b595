//! Serving one process's vhost-user connection: a listening socket, a
//! [`Backend`] for it, and the thread that runs vhost-user-backend's daemon
//! until the frontend hangs up.
//!
//! The process manager asks for it through the [`Connector`] trait (a side
//! effect behind a small trait, as [`crate::launcher::Launcher`] is for
//! VMs) and hears back through [`Events`]: it never names a vhost type, and
//! the fuzz targets plug in a connector that serves nothing.

use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use log::{debug, warn};
use thiserror::Error;
use vhost::vhost_user::Listener;
use vhost_user_backend::VhostUserDaemon;
use vm_memory::{GuestMemoryAtomic, GuestMemoryMmap};
use vmm_sys_util::epoll::EventSet;

use crate::backend::{Backend, WAKE_EVENT};
pub use crate::binding::Binding;
use crate::process::Waker;
use crate::requests::Host;
use crate::run_dir;

/// Where a process's frontend connects.
#[derive(Debug)]
pub enum Endpoint {
    /// A socket to create (in the run directory) and listen on.
    Path(PathBuf),
    /// A socket already listening (`serve`).
    Listening(UnixListener),
}

/// Why a connection could not be served.
#[derive(Debug, Error)]
pub enum ConnectionError {
    /// The socket could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(PathBuf, #[source] std::io::Error),
    /// The vhost-user daemon could not be created.
    #[error("cannot create the vhost-user daemon: {0}")]
    Daemon(vhost_user_backend::Error),
    /// An eventfd or thread could not be created.
    #[error("cannot set up the device: {0}")]
    Io(#[source] std::io::Error),
}

/// What a connection reports to whoever opened it.
pub trait Events: Send + Sync {
    /// The frontend of `who` connected.
    fn connected(&self, who: &Binding);
    /// The connection of `who` is over (or never came): its backend is gone.
    fn closed(&self, who: &Binding);
}

/// Opens connections.
pub trait Connector: Send + Sync + std::fmt::Debug {
    /// Serves the process (or parked VM) of `who` for `host` on
    /// `endpoint`, reporting to `events`.
    fn open(
        &self,
        who: Arc<Binding>,
        endpoint: Endpoint,
        host: Arc<dyn Host>,
        events: Arc<dyn Events>,
    ) -> Result<(), ConnectionError>;
}

/// The real connector: a [`Backend`] served by vhost-user-backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct VhostUserConnector;

impl Connector for VhostUserConnector {
    fn open(
        &self,
        who: Arc<Binding>,
        endpoint: Endpoint,
        host: Arc<dyn Host>,
        events: Arc<dyn Events>,
    ) -> Result<(), ConnectionError> {
        let pid = who.pid();
        let listener = match endpoint {
            Endpoint::Path(path) => {
                run_dir::bind_private(&path).map_err(|e| ConnectionError::Bind(path, e))?
            }
            Endpoint::Listening(l) => l,
        };
        let mut listener = Listener::from(listener);
        let dev = Arc::new(Backend::new(who.clone(), host.clone()).map_err(ConnectionError::Io)?);
        let mailbox = dev.mailbox().clone();
        let mem = GuestMemoryAtomic::new(GuestMemoryMmap::new());
        let mut daemon =
            VhostUserDaemon::new(format!("vpipe-{pid}"), dev.clone(), mem).map_err(|e| {
                dev.close_exit_events();
                ConnectionError::Daemon(e)
            })?;
        let registered = daemon.get_epoll_handlers().iter().try_for_each(|h| {
            h.register_listener(mailbox.wake_fd(), EventSet::IN, WAKE_EVENT as u64)
        });
        if let Err(e) = registered {
            drop(daemon);
            dev.close_exit_events();
            return Err(ConnectionError::Io(e));
        }
        let kick = mailbox.clone();
        let waker: Waker = Arc::new(move || kick.kick());
        who.set_waker(waker.clone());
        host.kernel().set_waker(pid, Some(waker));
        thread::Builder::new()
            .name(format!("vpipe-{pid}"))
            .spawn(move || {
                match daemon.start(&mut listener) {
                    Ok(()) => {
                        events.connected(&who);
                        if let Err(e) = daemon.wait() {
                            debug!("pid {}: connection ended: {e}", who.pid());
                        }
                    }
                    Err(e) => warn!("pid {}: no connection: {e}", who.pid()),
                }
                for h in daemon.get_epoll_handlers() {
                    h.send_exit_event();
                }
                drop(listener);
                // Joins the epoll threads; then their exit events can go.
                drop(daemon);
                dev.close_exit_events();
                events.closed(&who);
            })
            .map_err(ConnectionError::Io)?;
        Ok(())
    }
}
