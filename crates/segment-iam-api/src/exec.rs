//! The one hook every generated operation goes through.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::Operation;

/// The future an [`Exec`] returns.
pub type ExecFuture<'a> =
    Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a>>;

/// Sends one prepared request. The facade crate plugs its pacing and rate-limit bookkeeping in
/// here; the default, [`PassThrough`], just sends.
pub trait Exec: Send + Sync + 'static {
    /// Sends `request` (its query already in the service's wire form) for `operation` (`None`
    /// only for an operation id missing from the table, which the generator rules out).
    fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation: Option<Operation>,
    ) -> ExecFuture<'a>;
}

/// Sends every request as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThrough;

impl Exec for PassThrough {
    fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        _operation: Option<Operation>,
    ) -> ExecFuture<'a> {
        Box::pin(client.execute(request))
    }
}

/// The generated client's inner value: a shared, cheaply cloned [`Exec`].
#[derive(Clone)]
pub struct Transport(Arc<dyn Exec>);

impl Transport {
    /// Wraps an [`Exec`].
    pub fn new(exec: impl Exec) -> Self {
        Self(Arc::new(exec))
    }

    /// Uses an [`Exec`] that is already shared, so that its owner keeps a handle to it (to read
    /// what it recorded, say) without a second allocation.
    pub fn shared(exec: Arc<dyn Exec>) -> Self {
        Self(exec)
    }

    /// Sends one request through the wrapped [`Exec`].
    pub fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation: Option<Operation>,
    ) -> ExecFuture<'a> {
        self.0.exec(client, request, operation)
    }
}

impl Default for Transport {
    fn default() -> Self {
        Self::new(PassThrough)
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Transport")
    }
}
