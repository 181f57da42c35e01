//! The transport: everything between a built request of the generated client and its answer,
//! in one layer below the generated client (its `Exec` hook), so facade calls and
//! [`Client::api`](crate::Client::api) calls are treated alike.
//!
//! * [`call`]: one facade call — a request sent and its report taken; the report becomes an
//!   [`Error`](crate::Error) in `error/from_wire.rs`, not here.
//! * [`retry`]: the one place an attempt is classified and retried.
//! * [`answer`]: an attempt's answer, its body read whole under the cap, handed back.
//! * [`pacing`]: requests held while the service's rate-limit window is spent.
//! * [`metrics`]: the counters every clone of a client shares.

pub(crate) mod answer;
pub(crate) mod call;
pub(crate) mod metrics;
pub(crate) mod pacing;
pub(crate) mod retry;

pub use call::Call;
pub use metrics::{Metrics, Wait};
