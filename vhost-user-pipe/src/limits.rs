//! Limits of one process tree. Spec: *Limits*.

use virtio_pipe_protocol::{PIPE_BUF, PIPE_CAPACITY_DEFAULT};

/// Bytes that argv and env take as `GET_ARGS` strings, NULs included: what
/// `ARGS_MAX` bounds (spec: `dev-limit-args`).
pub fn args_bytes(argv: &[Vec<u8>], env: &[Vec<u8>]) -> usize {
    argv.iter().chain(env).map(|s| s.len() + 1).sum()
}

/// Every limit the device enforces, with the defaults the CLI uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Processes in the tree, live or not yet reaped (`EAGAIN` beyond).
    pub max_processes: usize,
    /// Open fds per process; fd numbers are below this (`EMFILE` beyond).
    pub max_fds: usize,
    /// Pipes in the tree (`ENFILE` beyond).
    pub max_pipes: usize,
    /// Bytes of pipe capacity reserved across the tree (`ENOMEM` beyond).
    pub max_buffered: usize,
    /// Capacity of each pipe.
    pub pipe_capacity: usize,
    /// fd references to open files of the root, in the tree (`ENFILE` beyond).
    pub max_open_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_processes: 64,
            max_fds: 256,
            max_pipes: 1024,
            max_buffered: 64 * 1024 * 1024,
            pipe_capacity: PIPE_CAPACITY_DEFAULT,
            max_open_files: 4096,
        }
    }
}

impl Limits {
    /// Checks that the limits make sense together.
    pub fn validate(&self) -> Result<(), String> {
        if self.pipe_capacity < PIPE_BUF {
            return Err(format!(
                "pipe capacity {} is below PIPE_BUF ({PIPE_BUF})",
                self.pipe_capacity
            ));
        }
        if self.max_fds < 3 {
            return Err("at least 3 fds per process are needed for the standard streams".into());
        }
        if self.max_processes < 1 {
            return Err("at least one process is needed".into());
        }
        Ok(())
    }
}
