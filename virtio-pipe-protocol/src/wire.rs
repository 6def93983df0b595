//! The `#[repr(C)]` little-endian layouts that travel in descriptor chains.
//! Spec: *Device Operation* (request and response layout), *The event queue*.

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::op::Op;

/// Size of [`ReqHeader`] on the wire.
pub const REQ_HEADER_SIZE: usize = 32;
/// Size of [`RespHeader`] on the wire.
pub const RESP_HEADER_SIZE: usize = 32;
/// Size of [`EventRaw`] on the wire.
pub const EVENT_SIZE: usize = 32;
/// Size of [`SpawnHeader`] on the wire.
pub const SPAWN_HEADER_SIZE: usize = 16;

/// A layout that could not be read from a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The buffer holds fewer bytes than the layout needs: (needed, got).
    Short(usize, usize),
}

impl core::fmt::Display for WireError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WireError::Short(need, got) => write!(f, "buffer of {got} bytes, layout needs {need}"),
        }
    }
}

/// The head of every request: the first bytes of a chain's readable part.
#[doc(alias = "virtio_pipe_req")]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct ReqHeader {
    /// `VIRTIO_PIPE_OP_*`.
    pub op: U32,
    /// Op-specific flags (`VIRTIO_PIPE_REQ_F_*`, `VIRTIO_PIPE_WAIT_F_*`, ...).
    pub flags: U32,
    /// Op-specific arguments; unused ones are zero.
    pub args: [U64; 3],
}

impl ReqHeader {
    /// Builds a header for `op`.
    pub fn new(op: Op, flags: u32, args: [u64; 3]) -> Self {
        Self {
            op: U32::new(op as u32),
            flags: U32::new(flags),
            args: [U64::new(args[0]), U64::new(args[1]), U64::new(args[2])],
        }
    }

    /// Reads a header from the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        Self::read_from_prefix(bytes)
            .map(|(h, _)| h)
            .map_err(|_| WireError::Short(REQ_HEADER_SIZE, bytes.len()))
    }

    /// The encoded bytes.
    pub fn as_bytes_le(&self) -> [u8; REQ_HEADER_SIZE] {
        let mut out = [0u8; REQ_HEADER_SIZE];
        out.copy_from_slice(self.as_bytes());
        out
    }

    /// Argument `i` as a host integer.
    pub fn arg(&self, i: usize) -> u64 {
        self.args[i].get()
    }
}

/// The head of every response: the first bytes of a chain's writable part.
#[doc(alias = "virtio_pipe_resp")]
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct RespHeader {
    /// `0` on success, else an errno value.
    pub status: U32,
    /// Reserved, zero.
    pub reserved: U32,
    /// Op-specific results; unused ones are zero.
    pub rets: [U64; 3],
}

impl RespHeader {
    /// A success response.
    pub fn ok(rets: [u64; 3]) -> Self {
        Self {
            status: U32::ZERO,
            reserved: U32::ZERO,
            rets: [U64::new(rets[0]), U64::new(rets[1]), U64::new(rets[2])],
        }
    }

    /// An error response.
    pub fn err(errno: crate::Errno) -> Self {
        Self {
            status: U32::new(errno.code()),
            ..Self::default()
        }
    }

    /// Reads a response from the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        Self::read_from_prefix(bytes)
            .map(|(h, _)| h)
            .map_err(|_| WireError::Short(RESP_HEADER_SIZE, bytes.len()))
    }

    /// The encoded bytes.
    pub fn as_bytes_le(&self) -> [u8; RESP_HEADER_SIZE] {
        let mut out = [0u8; RESP_HEADER_SIZE];
        out.copy_from_slice(self.as_bytes());
        out
    }

    /// Result `i` as a host integer.
    pub fn ret(&self, i: usize) -> u64 {
        self.rets[i].get()
    }

    /// `Ok(())` on status 0, else the errno (unknown codes read as `EIO`-like `Einval`).
    pub fn result(&self) -> Result<(), crate::Errno> {
        match self.status.get() {
            0 => Ok(()),
            code => Err(crate::Errno::from_code(code).unwrap_or(crate::Errno::Einval)),
        }
    }
}

/// One event on `eventq`.
#[doc(alias = "virtio_pipe_event")]
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct EventRaw {
    /// `VIRTIO_PIPE_EVT_*`.
    pub kind: U32,
    /// Signal number for `SIGNAL`, `SIGCHLD` for `CHILD_EXIT`.
    pub signo: U32,
    /// The child (for `CHILD_EXIT`) or the sender (for `SIGNAL`, 0 for the device).
    pub pid: U64,
    /// The wait status, for `CHILD_EXIT`.
    pub status: U64,
    /// Reserved, zero.
    pub reserved: U64,
}

/// The fixed head of a `SPAWN` payload.
#[doc(alias = "virtio_pipe_spawn")]
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct SpawnHeader {
    /// Bytes of the image name that follows the file actions (no NUL).
    pub name_len: U32,
    /// Number of argv strings.
    pub argc: U32,
    /// Number of env strings.
    pub envc: U32,
    /// Number of file actions that follow this header.
    pub nactions: U32,
}

/// One file action of a `SPAWN` payload (`posix_spawn_file_actions_add*`).
#[doc(alias = "virtio_pipe_file_action")]
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct FileActionRaw {
    /// `VIRTIO_PIPE_FA_CLOSE` (1) or `VIRTIO_PIPE_FA_DUP2` (2).
    pub kind: U32,
    /// The fd acted on (the source for `DUP2`).
    pub fd: U32,
    /// The target fd for `DUP2`; zero for `CLOSE`.
    pub newfd: U32,
    /// Reserved, zero.
    pub reserved: U32,
}

/// Size of [`FileActionRaw`] on the wire.
pub const FILE_ACTION_SIZE: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Errno;

    #[test]
    fn layouts_have_the_sizes_the_spec_gives() {
        assert_eq!(core::mem::size_of::<ReqHeader>(), REQ_HEADER_SIZE);
        assert_eq!(core::mem::size_of::<RespHeader>(), RESP_HEADER_SIZE);
        assert_eq!(core::mem::size_of::<EventRaw>(), EVENT_SIZE);
        assert_eq!(core::mem::size_of::<SpawnHeader>(), SPAWN_HEADER_SIZE);
        assert_eq!(core::mem::size_of::<FileActionRaw>(), FILE_ACTION_SIZE);
    }

    #[test]
    fn request_header_is_little_endian_on_the_wire() {
        let h = ReqHeader::new(Op::Dup2, 0x0102, [3, 0x0a0b, 0]);
        let b = h.as_bytes_le();
        assert_eq!(&b[0..4], &[6, 0, 0, 0]);
        assert_eq!(&b[4..8], &[0x02, 0x01, 0, 0]);
        assert_eq!(&b[8..16], &[3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[16..18], &[0x0b, 0x0a]);
        assert_eq!(ReqHeader::parse(&b).unwrap(), h);
    }

    #[test]
    fn short_request_header_is_rejected_with_sizes() {
        assert_eq!(ReqHeader::parse(&[0u8; 31]), Err(WireError::Short(32, 31)));
        assert_eq!(ReqHeader::parse(&[]), Err(WireError::Short(32, 0)));
    }

    #[test]
    fn response_round_trips_status_and_results() {
        let r = RespHeader::err(Errno::Epipe);
        let parsed = RespHeader::parse(&r.as_bytes_le()).unwrap();
        assert_eq!(parsed.result(), Err(Errno::Epipe));
        let ok = RespHeader::ok([7, 8, 9]);
        let parsed = RespHeader::parse(&ok.as_bytes_le()).unwrap();
        assert_eq!(parsed.result(), Ok(()));
        assert_eq!((parsed.ret(0), parsed.ret(1), parsed.ret(2)), (7, 8, 9));
    }

    #[test]
    fn short_response_is_rejected() {
        assert_eq!(RespHeader::parse(&[0u8; 8]), Err(WireError::Short(32, 8)));
    }
}
