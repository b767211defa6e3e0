//! Media processing, apart from any request or row: what a file is ([`sniff`]), still images
//! ([`image`]), video and audio through ffmpeg ([`video`]), and where files are kept ([`store`]).

pub mod image;
pub mod sniff;
pub mod store;
pub mod video;

pub use store::MediaStore;

/// Why a file could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file is refused (422): the message says why, for the uploader.
    #[error("{0}")]
    Invalid(String),
    /// ffmpeg refused the file while transcoding (its last lines of output).
    #[error("ffmpeg failed: {0}")]
    Failed(String),
    /// Something on our side went wrong (a tool missing, a timeout, storage); worth retrying.
    #[error("{0}")]
    Internal(String),
}
