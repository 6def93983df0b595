//! Wait statuses, encoded as Linux does (`WIFEXITED` and friends).

/// A child's wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitStatus(pub u32);

impl WaitStatus {
    /// `WIFEXITED`.
    pub fn exited(self) -> bool {
        self.0 & 0x7f == 0
    }
    /// `WEXITSTATUS`.
    pub fn exit_code(self) -> u8 {
        ((self.0 >> 8) & 0xff) as u8
    }
    /// `WIFSIGNALED`.
    pub fn signaled(self) -> bool {
        let s = self.0 & 0x7f;
        s != 0 && s != 0x7f
    }
    /// `WTERMSIG`.
    pub fn signal(self) -> u8 {
        (self.0 & 0x7f) as u8
    }
}

#[cfg(test)]
mod tests {
    use virtio_pipe_protocol::{wait_status_exited, wait_status_signaled};

    use super::*;

    #[test]
    fn exited_status_reports_its_code() {
        let s = WaitStatus(wait_status_exited(3));
        assert!(s.exited() && !s.signaled());
        assert_eq!(s.exit_code(), 3);
    }

    #[test]
    fn signaled_status_reports_its_signal() {
        let s = WaitStatus(wait_status_signaled(6));
        assert!(s.signaled() && !s.exited());
        assert_eq!(s.signal(), 6);
    }
}
