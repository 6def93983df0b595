//! vhost-user-pipe: the virtio-pipe backend and process manager.
pub mod fdtable;
pub mod io;
pub mod kernel;
pub mod limits;
pub mod pipe;
pub mod process;
pub mod guest_io {
    //! placeholder
    #[derive(Debug)]
    pub struct GuestIo;
}
