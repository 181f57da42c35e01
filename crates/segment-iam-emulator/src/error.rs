//! The crate's error type.

use std::path::PathBuf;

/// Why an emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listening socket could not be bound.
    #[error("cannot bind 127.0.0.1:{port}: {source}")]
    Bind {
        /// The requested port.
        port: u16,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A fixture file could not be read.
    #[error("cannot read fixture {}: {source}", path.display())]
    FixtureIo {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A fixture is malformed or inconsistent.
    #[error("invalid fixture: {0}")]
    Fixture(String),
}
