//! [`Client`] and its builder: one connection pool, one rate-limit state and one set of
//! counters, shared by every clone.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use segment_iam_api::ClientWorkspacesExt;
use segment_iam_api::types::WorkspaceV1;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};

use crate::cache::Cached;
use crate::config::{
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_URL_LEN, DEFAULT_PAGE_SIZE, Region, RetryConfig,
    TOKEN_ENV, Token,
};
use crate::directory::RoleDirectory;
use crate::error::{Error, Result};
use crate::transport::call::Call;
use crate::transport::metrics::Metrics;
use crate::transport::pacing::Limiter;
use crate::transport::retry::{PerRequest, Policy, RetryingExec};
use crate::validate;

/// A client of the Segment IAM API. Cheap to clone; clones share the connection pool, the
/// rate-limit state and the counters, so pacing holds across every task using it.
///
/// ```no_run
/// # async fn demo() -> segment_iam::Result<()> {
/// use futures::TryStreamExt;
/// let client = segment_iam::Client::builder().token("sgp_...").build()?;
/// let admins = client.groups().create("Admins").await?;
/// let everyone: Vec<_> = client.users().list().items().try_collect().await?;
/// # let _ = (admins, everyone); Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// For [`Client::api`]: the same policy, without a per-call report.
    api: segment_iam_api::Client,
    http: reqwest::Client,
    policy: Arc<Policy>,
    page_size: u32,
    max_url_len: usize,
    base_url: String,
    /// The workspace's roles, looked up once (by [`Roles`](crate::Roles), which owns the lookup).
    roles: Cached<RoleDirectory>,
    /// The token's workspace, looked up once.
    workspace: Cached<WorkspaceV1>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("retry", &self.inner.policy.retry)
            .field("page_size", &self.inner.page_size)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The workspace the token belongs to (id, slug, name): looked up once through
    /// `getWorkspace`, then served from the client's cache. Its id is the resource id of
    /// `WORKSPACE` permissions.
    pub fn workspace(&self) -> impl Future<Output = Result<WorkspaceV1>> + Send + 'static {
        let client = self.clone();
        async move {
            let workspace = client
                .inner
                .workspace
                .get_or_fetch(false, client.fetch_workspace())
                .await?;
            Ok(WorkspaceV1::clone(&workspace))
        }
    }

    /// The client's cache of the workspace's roles (filled by [`Roles`](crate::Roles)).
    pub(crate) fn role_cache(&self) -> &Cached<RoleDirectory> {
        &self.inner.roles
    }

    /// `getWorkspace`, uncached.
    pub(crate) async fn fetch_workspace(&self) -> Result<WorkspaceV1> {
        let call = self.call();
        Ok(call.send(call.api().get_workspace()).await?.data.workspace)
    }

    /// Counters since the client was built, shared by all clones.
    pub fn metrics(&self) -> Metrics {
        let policy = &self.inner.policy;
        let now = std::time::Instant::now();
        let mut metrics = policy.counters.snapshot();
        metrics.waiting_for = policy
            .counters
            .waiting_for(now, policy.limiter.spent_until(now));
        metrics
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The page size list calls use unless told otherwise.
    pub fn page_size(&self) -> u32 {
        self.inner.page_size
    }

    /// The longest request URL this client sends; longer bulk lists are split.
    pub fn max_url_len(&self) -> usize {
        self.inner.max_url_len
    }

    /// How many requests bulk removal `operation` (`delete_users`, `delete_invites`,
    /// `remove_users_from_user_group`) takes for `items` at this client's URL limit, with
    /// `path_values` filling the operation's path: the split the handlers will follow. Behind
    /// the typed counters ([`Users::delete_requests`](crate::Users::delete_requests), ...). An
    /// item too long for any URL, or an operation that is not a bulk removal, is
    /// [`Error::InvalidInput`](crate::Error).
    pub(crate) fn bulk_requests(
        &self,
        operation: segment_iam_api::Operation,
        path_values: &[&str],
        items: &[impl AsRef<str>],
    ) -> crate::Result<usize> {
        if items.is_empty() {
            return Ok(0);
        }
        crate::batch::planned_chunks(
            operation,
            self.base_url(),
            self.max_url_len(),
            path_values,
            "items",
            items,
        )
        .map(|chunks| chunks.len())
    }

    /// The generated low-level client underneath, for anything the facade does not cover.
    /// Its requests go through the same retry layer as the facade's: paced, 429s waited out,
    /// idempotent operations retried. Two differences, as it answers the wire's own values: a
    /// retried deletion that meets a 404 answers that 404 (the facade reads it as done), and
    /// pacing waits for the window however long it takes (the facade gives up with
    /// [`Error::RateLimited`] when the window opens past the retry budget).
    pub fn api(&self) -> &segment_iam_api::Client {
        &self.inner.api
    }

    /// A new [`Call`]: one request of the generated client, through this client's retry layer,
    /// answered with typed errors. For operations the handlers do not wrap.
    pub fn call(&self) -> Call {
        Call::new(&self.inner.base_url, &self.inner.http, &self.inner.policy)
    }
}

/// Configures a [`Client`]; every knob has a sensible default.
#[derive(Debug, Default)]
pub struct ClientBuilder {
    token: Option<Token>,
    region: Region,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    retry: Option<RetryConfig>,
    pacing: Option<bool>,
    page_size: Option<u32>,
    max_url_len: Option<usize>,
    max_response_bytes: Option<usize>,
    http_client: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// The Public API token. Without one, `SEGMENT_PUBLIC_API_TOKEN` is read at `build`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token(token.into()));
        self
    }

    /// The workspace's region (default US). Ignored when a base URL is set.
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Sends to this base URL instead of the region's, e.g. the local emulator's. Plain
    /// `http://` is refused except on loopback, so a token never crosses a network in clear.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The most one request may take, from sending to the end of the body (default 30 s). With
    /// [`http_client`](Self::http_client), set on each request instead, where it overrides
    /// that client's own timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The most connecting may take (default 10 s). Not with
    /// [`http_client`](Self::http_client): connecting is that client's, so `build` refuses the
    /// pair with [`Error::Config`]; set it on the `reqwest::ClientBuilder` instead.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header (default `segment-iam-rust/<version>`). With
    /// [`http_client`](Self::http_client), set on each request only when called here;
    /// otherwise that client's own (reqwest sends none by default).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The retry policy (default [`RetryConfig::standard`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Whether to hold requests when the rate-limit headers say the window is spent (default
    /// on). Off, the client only reacts to 429s.
    pub fn pacing(mut self, on: bool) -> Self {
        self.pacing = Some(on);
        self
    }

    /// The page size of list calls, 1..=1000 (default 200).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// The longest request URL to send (default 8 KiB); bulk lists are split to fit.
    pub fn max_url_len(mut self, len: usize) -> Self {
        self.max_url_len = Some(len);
        self
    }

    /// The most bytes of one response body to read (default 32 MiB).
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// Sends through this `reqwest::Client` instead of one the SDK builds: for a proxy, extra
    /// TLS roots or a client certificate, default headers (a tracing or tenancy header), a
    /// connection pool shared with other code.
    ///
    /// The given client's own settings govern the connection and are kept as they are:
    /// proxies, TLS (roots, certificates, versions), its default headers, redirects, pooling,
    /// HTTP version, the connect timeout, and its whole-request timeout unless
    /// [`timeout`](Self::timeout) is set here. The SDK still sets on every request, over any
    /// default header of the same name: `Authorization` (the token, marked sensitive so it is
    /// never logged), `User-Agent` only when [`user_agent`](Self::user_agent) is set here, and
    /// the request timeout only when [`timeout`](Self::timeout) is set here (reqwest lets a
    /// request's timeout override its client's; without either, a request has no time limit).
    /// Everything above the connection applies unchanged: the base URL and its checks,
    /// retries, pacing and 429 handling, the response size limit, URL splitting, counters.
    /// [`connect_timeout`](Self::connect_timeout) cannot apply and is refused at `build`.
    ///
    /// ```no_run
    /// # fn demo() -> segment_iam::Result<()> {
    /// let mut headers = reqwest::header::HeaderMap::new();
    /// headers.insert("x-team", reqwest::header::HeaderValue::from_static("platform"));
    /// let http = reqwest::Client::builder()
    ///     .default_headers(headers)
    ///     .connect_timeout(std::time::Duration::from_secs(5))
    ///     .build()
    ///     .expect("a reqwest client");
    /// let client = segment_iam::Client::builder().token("sgp_...").http_client(http).build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client> {
        let token = match self.token {
            Some(token) => token,
            None => Token(std::env::var(TOKEN_ENV).map_err(|_| {
                Error::Config(format!(
                    "no token: call ClientBuilder::token or set {TOKEN_ENV}"
                ))
            })?),
        };
        let token = token.0.trim().to_string();
        if token.is_empty() {
            return Err(Error::Config("the token is empty".into()));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Error::Config("the token contains characters not allowed in a header".into())
        })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let user_agent = self
            .user_agent
            .as_deref()
            .map(|agent| {
                HeaderValue::from_str(agent).map_err(|_| {
                    Error::Config(
                        "the user agent contains characters not allowed in a header".into(),
                    )
                })
            })
            .transpose()?;

        let base_url = self
            .base_url
            .unwrap_or_else(|| self.region.base_url().to_string())
            .trim_end_matches('/')
            .to_string();
        check_base_url(&base_url)?;

        let page_size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        validate::page_size(page_size)?;
        let max_url_len = self.max_url_len.unwrap_or(DEFAULT_MAX_URL_LEN);
        if max_url_len < base_url.len() + 64 {
            return Err(Error::Config(format!(
                "max_url_len {max_url_len} is too small for {base_url}"
            )));
        }
        let retry = self.retry.unwrap_or_default();

        let (http, per_request) = match self.http_client {
            Some(given) => {
                if self.connect_timeout.is_some() {
                    return Err(Error::Config(
                        "connect_timeout cannot apply to a given http_client: \
                         set it on its reqwest::ClientBuilder"
                            .into(),
                    ));
                }
                if let Some(agent) = user_agent {
                    headers.insert(USER_AGENT, agent);
                }
                let per_request = PerRequest {
                    headers,
                    timeout: self.timeout,
                };
                (given, Some(per_request))
            }
            None => {
                let agent = match user_agent {
                    Some(agent) => agent,
                    None => HeaderValue::from_static(concat!(
                        "segment-iam-rust/",
                        env!("CARGO_PKG_VERSION")
                    )),
                };
                headers.insert(USER_AGENT, agent);
                let http = reqwest::Client::builder()
                    .default_headers(headers)
                    .timeout(self.timeout.unwrap_or(Duration::from_secs(30)))
                    .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)))
                    .build()
                    .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
                (http, None)
            }
        };
        let policy = Arc::new(Policy {
            retry,
            limiter: Limiter::default(),
            counters: Default::default(),
            pacing: self.pacing.unwrap_or(true),
            max_response_bytes: self
                .max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            per_request,
        });
        let exec = RetryingExec {
            policy: policy.clone(),
            report: None,
        };
        let api = segment_iam_api::Client::with_exec(&base_url, http.clone(), exec);
        Ok(Client {
            inner: Arc::new(Inner {
                api,
                http,
                policy,
                page_size,
                max_url_len,
                base_url,
                roles: Cached::default(),
                workspace: Cached::default(),
            }),
        })
    }
}

fn check_base_url(base_url: &str) -> Result<()> {
    let url = reqwest::Url::parse(base_url)
        .map_err(|e| Error::Config(format!("base URL {base_url:?}: {e}")))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = url.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(Error::Config(format!(
                    "base URL {base_url:?} is plain http: only loopback may be reached without TLS"
                )))
            }
        }
        other => Err(Error::Config(format!(
            "base URL scheme {other:?} is not http(s)"
        ))),
    }
}
