//! How the process starts: `START`, then `GET_ARGS` for a fresh process.

use alloc::vec;
use alloc::vec::Vec;

use spinning_top::Spinlock;
use virtio_pipe_protocol::{ArgsBlob, Errno, Request, StartKind};

use crate::drivers::pipe as dev;

/// First guess at the args blob's size; the device says if it needs more.
const ARGS_FIRST_TRY: usize = 4096;

/// What `START` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Run `main` with the args of `GET_ARGS`.
    Fresh,
    /// A fork child: resume the record at this guest-physical address.
    Forked(u64),
}

/// Asks the device how this process starts.
pub fn start() -> Result<Start, Errno> {
    let done = dev::request(&Request::Start.header(), &[], &mut []).map_err(|e| e.errno())?;
    let r = done.rets()?;
    Ok(if r[0] == StartKind::Forked as u64 {
        Start::Forked(r[1])
    } else {
        Start::Fresh
    })
}

static BLOB: Spinlock<Option<&'static [u8]>> = Spinlock::new(None);

/// Fetches argv and env once; later calls return the same blob.
pub fn fetch() -> Result<&'static [u8], Errno> {
    if let Some(b) = *BLOB.lock() {
        return Ok(b);
    }
    let mut buf = vec![0u8; ARGS_FIRST_TRY];
    loop {
        let hdr = Request::GetArgs {
            capacity: u32::try_from(buf.len()).unwrap_or(u32::MAX),
        }
        .header();
        let done = dev::request(&hdr, &[], &mut buf).map_err(|e| e.errno())?;
        match done.resp.result() {
            Ok(()) => {
                buf.truncate(done.resp.ret(0) as usize);
                break;
            }
            Err(Errno::Erange) if done.resp.ret(0) as usize > buf.len() => {
                buf = vec![0u8; done.resp.ret(0) as usize];
            }
            Err(e) => return Err(e),
        }
    }
    ArgsBlob::parse(&buf).map_err(|e| e.errno())?;
    let leaked: &'static [u8] = Vec::leak(buf);
    *BLOB.lock() = Some(leaked);
    Ok(leaked)
}

/// The argument strings (without NULs).
pub fn argv() -> impl Iterator<Item = &'static [u8]> {
    let blob = fetch().unwrap_or(&[0; 8]);
    let parsed = ArgsBlob::parse(blob).ok();
    parsed.into_iter().flat_map(|b| b.argv.iter())
}

/// The environment strings (`NAME=value`).
pub fn env() -> impl Iterator<Item = &'static [u8]> {
    let blob = fetch().unwrap_or(&[0; 8]);
    let parsed = ArgsBlob::parse(blob).ok();
    parsed.into_iter().flat_map(|b| b.env.iter())
}
