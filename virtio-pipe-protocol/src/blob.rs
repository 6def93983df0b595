//! Variable-length payloads: the args blob of `GET_ARGS` and the spawn blob
//! of `SPAWN`. Spec: *Fetching argv and env*, *Spawning a named image*.
//!
//! ```text
//! args blob:   le32 argc | le32 envc | argc+envc NUL-terminated strings
//! spawn blob:  virtio_pipe_spawn (16) | nactions × virtio_pipe_file_action (16)
//!              | name (name_len bytes, no NUL) | argc+envc NUL-terminated strings
//! ```
//!
//! Parsing checks every count and offset with checked arithmetic, so a hostile
//! header cannot make a reader index past the buffer.

use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, IntoBytes};

use crate::errno::Errno;
use crate::wire::{FileActionRaw, SpawnHeader, FILE_ACTION_SIZE, SPAWN_HEADER_SIZE};

/// Most bytes of argv plus env strings (NULs included) one process may carry.
pub const ARGS_MAX: usize = 64 * 1024;
/// Most bytes in an image name.
pub const IMAGE_NAME_MAX: usize = 255;
/// Most file actions in one `SPAWN`.
pub const FILE_ACTIONS_MAX: usize = 64;
/// Largest SPAWN payload a device reads: the blob's fixed fields, every
/// file action, the longest image name and `ARGS_MAX` bytes of strings.
pub const SPAWN_MAX: usize =
    SPAWN_HEADER_SIZE + FILE_ACTIONS_MAX * FILE_ACTION_SIZE + IMAGE_NAME_MAX + ARGS_MAX;

const ARGS_HEADER_SIZE: usize = 8;
const FA_CLOSE: u32 = 1;
const FA_DUP2: u32 = 2;

/// A payload that does not parse, or does not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobError {
    /// The buffer ends before the layout says it does: (needed, got).
    Short(usize, usize),
    /// Bytes follow the last string.
    TrailingBytes(usize),
    /// The strings exceed [`ARGS_MAX`].
    TooBig(usize),
    /// More file actions than [`FILE_ACTIONS_MAX`].
    TooManyActions(u32),
    /// A file action kind that is not `CLOSE` or `DUP2`.
    BadActionKind(u32),
    /// A file action names an fd beyond `i32::MAX`.
    BadActionFd(u32),
    /// The image name is empty, holds a NUL, or is not UTF-8.
    BadName,
    /// The image name is longer than [`IMAGE_NAME_MAX`].
    NameTooLong(usize),
    /// The output buffer is too small; this many bytes are needed.
    BufferTooSmall(usize),
}

impl BlobError {
    /// The errno the device answers with.
    pub fn errno(&self) -> Errno {
        match self {
            BlobError::TooBig(_) => Errno::E2big,
            BlobError::NameTooLong(_) => Errno::Enametoolong,
            BlobError::BufferTooSmall(_) => Errno::Erange,
            _ => Errno::Einval,
        }
    }
}

impl core::fmt::Display for BlobError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BlobError::Short(n, g) => write!(f, "payload of {g} bytes, layout needs {n}"),
            BlobError::TrailingBytes(n) => write!(f, "{n} bytes after the last string"),
            BlobError::TooBig(n) => write!(f, "strings of {n} bytes exceed {ARGS_MAX}"),
            BlobError::TooManyActions(n) => write!(f, "{n} file actions exceed {FILE_ACTIONS_MAX}"),
            BlobError::BadActionKind(k) => write!(f, "unknown file action kind {k}"),
            BlobError::BadActionFd(fd) => write!(f, "file action fd {fd} out of range"),
            BlobError::BadName => write!(f, "image name is empty, not UTF-8 or holds a NUL"),
            BlobError::NameTooLong(n) => {
                write!(f, "image name of {n} bytes exceeds {IMAGE_NAME_MAX}")
            }
            BlobError::BufferTooSmall(n) => write!(f, "output needs {n} bytes"),
        }
    }
}

/// `count` NUL-terminated strings, checked to consume a region exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StringTable<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl<'a> StringTable<'a> {
    fn parse(bytes: &'a [u8], count: usize) -> Result<(Self, &'a [u8]), BlobError> {
        let mut at = 0usize;
        for _ in 0..count {
            let rest = &bytes[at..];
            let nul = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(BlobError::Short(at + rest.len() + 1, bytes.len()))?;
            at += nul + 1;
        }
        Ok((
            Self {
                bytes: &bytes[..at],
                count,
            },
            &bytes[at..],
        ))
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes the strings take, NULs included.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// The strings, without their NULs.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let bytes = self.bytes;
        let count = self.count;
        bytes.split(|&b| b == 0).take(count)
    }
}

fn strings_len(strings: &[&[u8]]) -> Option<usize> {
    strings
        .iter()
        .try_fold(0usize, |acc, s| acc.checked_add(s.len())?.checked_add(1))
}

fn put_strings(out: &mut [u8], mut at: usize, strings: &[&[u8]]) -> usize {
    for s in strings {
        out[at..at + s.len()].copy_from_slice(s);
        at += s.len();
        out[at] = 0;
        at += 1;
    }
    at
}

fn has_nul(strings: &[&[u8]]) -> bool {
    strings.iter().any(|s| s.contains(&0))
}

/// The `GET_ARGS` payload: argv then env.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgsBlob<'a> {
    /// The argument strings.
    pub argv: StringTable<'a>,
    /// The environment strings (`NAME=value`).
    pub env: StringTable<'a>,
}

impl<'a> ArgsBlob<'a> {
    /// Bytes the encoding of `argv` and `env` takes.
    pub fn encoded_len(argv: &[&[u8]], env: &[&[u8]]) -> Option<usize> {
        strings_len(argv)?
            .checked_add(strings_len(env)?)?
            .checked_add(ARGS_HEADER_SIZE)
    }

    /// Encodes into `out`, returning the bytes written.
    pub fn encode(argv: &[&[u8]], env: &[&[u8]], out: &mut [u8]) -> Result<usize, BlobError> {
        if has_nul(argv) || has_nul(env) {
            return Err(BlobError::BadName);
        }
        let need = Self::encoded_len(argv, env).ok_or(BlobError::TooBig(usize::MAX))?;
        if need - ARGS_HEADER_SIZE > ARGS_MAX {
            return Err(BlobError::TooBig(need - ARGS_HEADER_SIZE));
        }
        if out.len() < need {
            return Err(BlobError::BufferTooSmall(need));
        }
        out[0..4].copy_from_slice(U32::new(argv.len() as u32).as_bytes());
        out[4..8].copy_from_slice(U32::new(env.len() as u32).as_bytes());
        let at = put_strings(out, ARGS_HEADER_SIZE, argv);
        Ok(put_strings(out, at, env))
    }

    /// Parses a payload produced by [`Self::encode`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BlobError> {
        if bytes.len() < ARGS_HEADER_SIZE {
            return Err(BlobError::Short(ARGS_HEADER_SIZE, bytes.len()));
        }
        let argc = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let envc = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        let body = &bytes[ARGS_HEADER_SIZE..];
        if body.len() > ARGS_MAX {
            return Err(BlobError::TooBig(body.len()));
        }
        let (argv, rest) = StringTable::parse(body, argc)?;
        let (env, rest) = StringTable::parse(rest, envc)?;
        if !rest.is_empty() {
            return Err(BlobError::TrailingBytes(rest.len()));
        }
        Ok(Self { argv, env })
    }
}

/// One `posix_spawn` file action, applied in order to the child's copy of
/// the parent's fd table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAction {
    /// `VIRTIO_PIPE_FA_CLOSE`: close `fd`.
    Close { fd: u32 },
    /// `VIRTIO_PIPE_FA_DUP2`: duplicate `fd` onto `newfd`.
    Dup2 { fd: u32, newfd: u32 },
}

impl FileAction {
    fn to_raw(self) -> FileActionRaw {
        let (kind, fd, newfd) = match self {
            FileAction::Close { fd } => (FA_CLOSE, fd, 0),
            FileAction::Dup2 { fd, newfd } => (FA_DUP2, fd, newfd),
        };
        FileActionRaw {
            kind: U32::new(kind),
            fd: U32::new(fd),
            newfd: U32::new(newfd),
            reserved: U32::ZERO,
        }
    }

    fn from_raw(raw: &FileActionRaw) -> Result<Self, BlobError> {
        let fd = raw.fd.get();
        let newfd = raw.newfd.get();
        for v in [fd, newfd] {
            if v > i32::MAX as u32 {
                return Err(BlobError::BadActionFd(v));
            }
        }
        match raw.kind.get() {
            FA_CLOSE => Ok(FileAction::Close { fd }),
            FA_DUP2 => Ok(FileAction::Dup2 { fd, newfd }),
            k => Err(BlobError::BadActionKind(k)),
        }
    }
}

/// The `SPAWN` payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnBlob<'a> {
    /// The image name, a plain file name in the device's image directory.
    pub name: &'a str,
    actions: &'a [u8],
    /// The child's argv.
    pub argv: StringTable<'a>,
    /// The child's env.
    pub env: StringTable<'a>,
}

impl<'a> SpawnBlob<'a> {
    /// Bytes the encoding takes, or `None` on overflow.
    pub fn encoded_len(
        name: &str,
        argv: &[&[u8]],
        env: &[&[u8]],
        actions: &[FileAction],
    ) -> Option<usize> {
        SPAWN_HEADER_SIZE
            .checked_add(actions.len().checked_mul(FILE_ACTION_SIZE)?)?
            .checked_add(name.len())?
            .checked_add(strings_len(argv)?)?
            .checked_add(strings_len(env)?)
    }

    /// Encodes into `out`, returning the bytes written.
    pub fn encode(
        name: &str,
        argv: &[&[u8]],
        env: &[&[u8]],
        actions: &[FileAction],
        out: &mut [u8],
    ) -> Result<usize, BlobError> {
        if name.is_empty() || name.as_bytes().contains(&0) || has_nul(argv) || has_nul(env) {
            return Err(BlobError::BadName);
        }
        if name.len() > IMAGE_NAME_MAX {
            return Err(BlobError::NameTooLong(name.len()));
        }
        if actions.len() > FILE_ACTIONS_MAX {
            return Err(BlobError::TooManyActions(actions.len() as u32));
        }
        let need =
            Self::encoded_len(name, argv, env, actions).ok_or(BlobError::TooBig(usize::MAX))?;
        let strings = strings_len(argv).unwrap_or(0) + strings_len(env).unwrap_or(0);
        if strings > ARGS_MAX {
            return Err(BlobError::TooBig(strings));
        }
        if out.len() < need {
            return Err(BlobError::BufferTooSmall(need));
        }
        let hdr = SpawnHeader {
            name_len: U32::new(name.len() as u32),
            argc: U32::new(argv.len() as u32),
            envc: U32::new(env.len() as u32),
            nactions: U32::new(actions.len() as u32),
        };
        out[..SPAWN_HEADER_SIZE].copy_from_slice(hdr.as_bytes());
        let mut at = SPAWN_HEADER_SIZE;
        for a in actions {
            out[at..at + FILE_ACTION_SIZE].copy_from_slice(a.to_raw().as_bytes());
            at += FILE_ACTION_SIZE;
        }
        out[at..at + name.len()].copy_from_slice(name.as_bytes());
        at += name.len();
        let at = put_strings(out, at, argv);
        Ok(put_strings(out, at, env))
    }

    /// Parses and checks a payload.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, BlobError> {
        let (hdr, rest) = SpawnHeader::read_from_prefix(bytes)
            .map_err(|_| BlobError::Short(SPAWN_HEADER_SIZE, bytes.len()))?;
        let nactions = hdr.nactions.get();
        if nactions as usize > FILE_ACTIONS_MAX {
            return Err(BlobError::TooManyActions(nactions));
        }
        let actions_len = nactions as usize * FILE_ACTION_SIZE;
        let name_len = hdr.name_len.get() as usize;
        if name_len > IMAGE_NAME_MAX {
            return Err(BlobError::NameTooLong(name_len));
        }
        let fixed = actions_len + name_len;
        if rest.len() < fixed {
            return Err(BlobError::Short(SPAWN_HEADER_SIZE + fixed, bytes.len()));
        }
        let (actions, rest) = rest.split_at(actions_len);
        let (name, strings) = rest.split_at(name_len);
        if strings.len() > ARGS_MAX {
            return Err(BlobError::TooBig(strings.len()));
        }
        let name = core::str::from_utf8(name).map_err(|_| BlobError::BadName)?;
        if name.is_empty() || name.contains('\0') {
            return Err(BlobError::BadName);
        }
        let (argv, rest) = StringTable::parse(strings, hdr.argc.get() as usize)?;
        let (env, rest) = StringTable::parse(rest, hdr.envc.get() as usize)?;
        if !rest.is_empty() {
            return Err(BlobError::TrailingBytes(rest.len()));
        }
        let blob = Self {
            name,
            actions,
            argv,
            env,
        };
        for a in blob.actions_raw() {
            FileAction::from_raw(&a)?;
        }
        Ok(blob)
    }

    fn actions_raw(&self) -> impl Iterator<Item = FileActionRaw> + 'a {
        self.actions
            .chunks_exact(FILE_ACTION_SIZE)
            .map(|c| FileActionRaw::read_from_bytes(c).unwrap_or_default())
    }

    /// The file actions, in order. Already checked by [`Self::parse`].
    pub fn actions(&self) -> impl Iterator<Item = FileAction> + 'a {
        self.actions_raw()
            .filter_map(|r| FileAction::from_raw(&r).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGV: [&[u8]; 2] = [b"worker", b"3"];
    const ENV: [&[u8]; 1] = [b"MODE=fast"];

    fn encode_spawn(actions: &[FileAction]) -> Vec<u8> {
        let mut out = vec![0u8; 512];
        let n = SpawnBlob::encode("filter", &ARGV, &ENV, actions, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn args_blob_round_trips() {
        let mut out = [0u8; 64];
        let n = ArgsBlob::encode(&ARGV, &ENV, &mut out).unwrap();
        assert_eq!(Some(n), ArgsBlob::encoded_len(&ARGV, &ENV));
        let b = ArgsBlob::parse(&out[..n]).unwrap();
        assert_eq!(b.argv.iter().collect::<Vec<_>>(), ARGV.to_vec());
        assert_eq!(b.env.iter().collect::<Vec<_>>(), ENV.to_vec());
    }

    #[test]
    fn args_blob_into_small_buffer_says_how_much_is_needed() {
        let mut out = [0u8; 4];
        let need = ArgsBlob::encoded_len(&ARGV, &ENV).unwrap();
        assert_eq!(
            ArgsBlob::encode(&ARGV, &ENV, &mut out),
            Err(BlobError::BufferTooSmall(need))
        );
        assert_eq!(BlobError::BufferTooSmall(need).errno(), Errno::Erange);
    }

    #[test]
    fn args_blob_with_a_missing_nul_is_short() {
        let mut out = [0u8; 64];
        let n = ArgsBlob::encode(&ARGV, &ENV, &mut out).unwrap();
        assert!(matches!(
            ArgsBlob::parse(&out[..n - 1]),
            Err(BlobError::Short(..))
        ));
    }

    #[test]
    fn args_blob_claiming_billions_of_strings_is_short_not_a_panic() {
        let mut bytes = vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        bytes.extend_from_slice(b"a\0");
        assert!(matches!(ArgsBlob::parse(&bytes), Err(BlobError::Short(..))));
    }

    #[test]
    fn spawn_blob_round_trips_with_actions() {
        let actions = [
            FileAction::Dup2 { fd: 4, newfd: 1 },
            FileAction::Close { fd: 4 },
        ];
        let bytes = encode_spawn(&actions);
        let b = SpawnBlob::parse(&bytes).unwrap();
        assert_eq!(b.name, "filter");
        assert_eq!(b.actions().collect::<Vec<_>>(), actions.to_vec());
        assert_eq!(b.argv.iter().collect::<Vec<_>>(), ARGV.to_vec());
        assert_eq!(b.env.len(), 1);
    }

    #[test]
    fn spawn_blob_shorter_than_its_header_is_rejected() {
        assert_eq!(SpawnBlob::parse(&[0u8; 15]), Err(BlobError::Short(16, 15)));
    }

    #[test]
    fn spawn_blob_with_huge_counts_is_rejected_without_overflow() {
        let mut bytes = encode_spawn(&[]);
        bytes[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            SpawnBlob::parse(&bytes),
            Err(BlobError::TooManyActions(u32::MAX))
        );
        let mut bytes = encode_spawn(&[]);
        bytes[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            SpawnBlob::parse(&bytes),
            Err(BlobError::NameTooLong(u32::MAX as usize))
        );
        let mut bytes = encode_spawn(&[]);
        bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            SpawnBlob::parse(&bytes),
            Err(BlobError::Short(..))
        ));
    }

    #[test]
    fn spawn_blob_with_trailing_bytes_is_rejected() {
        let mut bytes = encode_spawn(&[]);
        bytes.push(b'x');
        assert_eq!(SpawnBlob::parse(&bytes), Err(BlobError::TrailingBytes(1)));
    }

    #[test]
    fn spawn_blob_with_unknown_action_kind_is_rejected() {
        let mut bytes = encode_spawn(&[FileAction::Close { fd: 3 }]);
        bytes[16..20].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(SpawnBlob::parse(&bytes), Err(BlobError::BadActionKind(7)));
    }

    #[test]
    fn spawn_blob_with_empty_or_nul_name_is_rejected() {
        let mut out = [0u8; 128];
        assert_eq!(
            SpawnBlob::encode("", &ARGV, &ENV, &[], &mut out),
            Err(BlobError::BadName)
        );
        let mut bytes = encode_spawn(&[]);
        bytes[16] = 0;
        assert_eq!(SpawnBlob::parse(&bytes), Err(BlobError::BadName));
    }

    #[test]
    fn oversized_strings_are_e2big() {
        let big = vec![b'a'; ARGS_MAX];
        let argv = [big.as_slice()];
        let mut out = vec![0u8; ARGS_MAX + 64];
        let e = SpawnBlob::encode("x", &argv, &[], &[], &mut out).unwrap_err();
        assert_eq!(e.errno(), Errno::E2big);
    }
}
