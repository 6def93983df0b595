//! The `serve` socket: one listening socket for the daemon's whole life,
//! each accepted connection the root of a new tree, one tree at a time.
//!
//! While a tree is served, a [`Refuser`] accepts every other connection on
//! the socket, logs it and closes it at once: a second frontend learns right
//! away that it was refused (its first read sees end of file) instead of
//! waiting forever in the listen queue for an answer that never comes.

use std::io::ErrorKind;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use rustix::event::{poll, PollFd, PollFlags};
use thiserror::Error;

use crate::run_dir;

/// Why the socket cannot be served.
#[derive(Debug, Error)]
pub enum ServeError {
    /// Binding failed.
    #[error("cannot listen on {0}: {1}")]
    Bind(PathBuf, #[source] std::io::Error),
    /// A descriptor or thread could not be made.
    #[error("cannot serve {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
}

/// The listening socket of `serve`.
#[derive(Debug)]
pub struct Socket {
    listener: UnixListener,
    path: PathBuf,
}

impl Socket {
    /// Binds `path`, private to our user (`run_dir::bind_private`).
    pub fn bind(path: &Path) -> Result<Self, ServeError> {
        let listener =
            run_dir::bind_private(path).map_err(|e| ServeError::Bind(path.to_owned(), e))?;
        Ok(Self {
            listener,
            path: path.to_owned(),
        })
    }

    /// The socket for one tree's root connection (the same socket; dropping
    /// it neither closes nor removes the daemon's).
    pub fn listener(&self) -> Result<UnixListener, ServeError> {
        self.listener
            .try_clone()
            .map_err(|e| ServeError::Io(self.path.clone(), e))
    }

    /// Refuses every connection until the returned [`Refuser`] is dropped.
    pub fn refuse_others(&self) -> Result<Refuser, ServeError> {
        let io = |e| ServeError::Io(self.path.clone(), e);
        let listener = self.listener.try_clone().map_err(io)?;
        let stop = rustix::event::eventfd(
            0,
            rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK,
        )
        .map_err(|e| io(e.into()))?;
        let stop_thread = stop.try_clone().map_err(io)?;
        let thread = std::thread::Builder::new()
            .name("serve-refuse".into())
            .spawn(move || refuse(&listener, &stop_thread))
            .map_err(io)?;
        Ok(Refuser {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn refuse(listener: &UnixListener, stop: &OwnedFd) {
    loop {
        let mut fds = [
            PollFd::new(listener, PollFlags::IN),
            PollFd::new(stop, PollFlags::IN),
        ];
        match poll(&mut fds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                log::warn!("serve: cannot wait for connections: {e}");
                return;
            }
        }
        if !fds[1].revents().is_empty() {
            return;
        }
        if fds[0].revents().is_empty() {
            continue;
        }
        // The socket is shared with the next tree's accept: never block in it.
        match rustix::net::accept_with(
            listener.as_fd(),
            rustix::net::SocketFlags::CLOEXEC | rustix::net::SocketFlags::NONBLOCK,
        ) {
            Ok(conn) => {
                log::warn!("serve: refused a second root connection: a tree is being served");
                drop(conn);
            }
            Err(e) if std::io::Error::from(e).kind() == ErrorKind::WouldBlock => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => log::warn!("serve: accept: {e}"),
        }
    }
}

/// Refuses connections while alive.
#[derive(Debug)]
pub struct Refuser {
    stop: OwnedFd,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Refuser {
    fn drop(&mut self) {
        let _ = rustix::io::write(&self.stop, &1u64.to_ne_bytes());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
