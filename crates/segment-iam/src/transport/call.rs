//! One facade call: a request of the generated client sent through the retry layer. Its
//! outcome becomes this crate's [`Error`](crate::Error) in `error/from_wire.rs`; this file
//! only makes calls.
//!
//! A [`Call`] owns a generated client whose transport writes the retry layer's report into a
//! slot of its own, so concurrent calls never mix and nothing travels in task-locals. The
//! request itself is a generated builder: its type names its operation
//! ([`OperationRequest::OPERATION`]), so no call names an operation by string.

use std::sync::{Arc, Mutex};

use segment_iam_api::{Deletion, OperationRequest, Transport};

use super::retry::{Policy, Report, RetryingExec};
use crate::error::Result;
use crate::error::from_wire::call_error;

/// One request of the generated client, sent through the client's retry layer and answered
/// with this crate's typed [`Error`](crate::Error): the way to any operation the handlers do
/// not wrap. Get one with [`Client::call`](crate::Client::call), build the request on
/// [`Call::api`].
///
/// ```no_run
/// use segment_iam::api::{ClientIamGroupsExt, ClientIamUsersExt};
/// # async fn demo(client: segment_iam::Client) -> segment_iam::Result<()> {
/// let call = client.call();
/// let user = call.send(call.api().get_user().user_id("u1")).await?.data.user;
/// let call = client.call();
/// call.delete(call.api().delete_user_group().user_group_id("g1")).await?;
/// # let _ = user; Ok(()) }
/// ```
///
/// [`Call::delete`] takes deletions only: the operation is known from the request's type, so
/// a request of the wrong operation does not compile.
///
/// ```compile_fail,E0277
/// use segment_iam::api::{ClientIamGroupsExt, ClientIamUsersExt};
/// # async fn demo(client: segment_iam::Client) -> segment_iam::Result<()> {
/// let call = client.call();
/// // `get_user` is not a deletion: error[E0277], `GetUser<'_>: Deletion` is not satisfied.
/// call.delete(call.api().get_user().user_id("u1")).await?;
/// # Ok(()) }
/// ```
pub struct Call {
    api: segment_iam_api::Client,
    /// The generated client's transport, shared with it: its report slot is this call's.
    exec: Arc<RetryingExec>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call").finish_non_exhaustive()
    }
}

impl Call {
    pub(crate) fn new(base_url: &str, http: &reqwest::Client, policy: &Arc<Policy>) -> Self {
        let exec = Arc::new(RetryingExec {
            policy: policy.clone(),
            report: Some(Mutex::default()),
        });
        let transport = Transport::shared(exec.clone());
        Call {
            api: segment_iam_api::Client::new_with_client(base_url, http.clone(), transport),
            exec,
        }
    }

    /// The generated client to build this call's request with. Its answers are meant for
    /// [`send`](Self::send) and [`delete`](Self::delete), which read only their status and
    /// body: a request sent on it directly gets no headers back. For whole answers, use
    /// [`Client::api`](crate::Client::api).
    pub fn api(&self) -> &segment_iam_api::Client {
        &self.api
    }

    /// Sends `request` and answers its documented success body.
    pub async fn send<R: OperationRequest>(&self, request: R) -> Result<R::Response> {
        let result = request.send().await;
        let report = self.take_report();
        match result {
            Ok(value) => Ok(value.into_inner()),
            Err(error) => Err(call_error(report, error)),
        }
    }

    /// Sends a deletion. A retry that met a 404 after an attempt that may have been applied is
    /// success: that attempt did the deletion.
    pub async fn delete<R: Deletion>(&self, request: R) -> Result<()> {
        let result = request.send().await;
        let report = self.take_report();
        match result {
            Ok(_) => Ok(()),
            Err(_) if report.settled_by_earlier_attempt => Ok(()),
            Err(error) => Err(call_error(report, error)),
        }
    }

    /// The report of the request just sent; the slot is left empty for the next one.
    fn take_report(&self) -> Report {
        self.exec.take_report()
    }
}
