//! An attempt's answer as the retry layer sees it: its head, and its body read whole under the
//! cap, then handed back to the generated client as a `reqwest::Response` again.
//!
//! Every request of the client goes through here, so the state is kept small and allocations
//! few: the futures are written out by hand (an `async` block would hold the response it was
//! built from beside the answer), a body that arrives in one frame is kept as it is, and the
//! rebuilt response gets its URL moved in rather than parsed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use reqwest::header::HeaderMap;

/// Why a body could not be read.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One attempt's answer with its body read, or why the body could not be.
pub(crate) enum Answer {
    Read { head: Head, body: Bytes },
    BodyFailed { head: Head, error: BoxError },
}

impl Answer {
    /// The answer as the generated client should see it: the body re-attached, or the error
    /// that cut it replayed when it is read; its headers only if `with_headers`.
    pub(crate) fn into_response(self, with_headers: bool) -> reqwest::Response {
        match self {
            Answer::Read { head, body } => {
                head.into_response(reqwest::Body::from(body), with_headers)
            }
            Answer::BodyFailed { head, error } => {
                let replay = futures::stream::once(async move { Err::<Bytes, _>(error) });
                head.into_response(reqwest::Body::wrap_stream(replay), with_headers)
            }
        }
    }
}

/// What the generated client reads of an answer besides its body.
pub(crate) struct Head {
    pub(crate) status: http::StatusCode,
    version: http::Version,
    pub(crate) headers: HeaderMap,
    /// Kept so that the rebuilt response has it (without it, reqwest parses a placeholder URL
    /// on every call).
    url: reqwest::Url,
}

impl Head {
    /// A response's head and its body, apart.
    fn split(response: reqwest::Response) -> (Head, reqwest::Body) {
        let url = response.url().clone();
        let response: http::Response<reqwest::Body> = response.into();
        let (parts, body) = response.into_parts();
        let head = Head {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            url,
        };
        (head, body)
    }

    /// The answer as a `reqwest::Response` again, with `body`, and its headers if
    /// `with_headers`.
    fn into_response(self, body: reqwest::Body, with_headers: bool) -> reqwest::Response {
        use reqwest::ResponseBuilderExt;
        let mut response = http::Response::new(body);
        *response.status_mut() = self.status;
        *response.version_mut() = self.version;
        if with_headers {
            *response.headers_mut() = self.headers;
        }
        // reqwest reads the URL from the extensions, which only its builder extension can set.
        if let Ok(carrier) = http::Response::builder().url(self.url).body(()) {
            *response.extensions_mut() = carrier.into_parts().0.extensions;
        }
        reqwest::Response::from(response)
    }
}

/// Reads an attempt's answer: its head, and its body whole, at most `limit` bytes of it. A
/// transport error is handed on as it is.
#[expect(
    clippy::large_enum_variant,
    reason = "boxing the body's state would cost an allocation on every request; a transport error is the rare case"
)]
pub(crate) enum Reading {
    Failed(Option<reqwest::Error>),
    Body { head: Option<Head>, body: ReadWhole },
}

impl Reading {
    pub(crate) fn new(sent: reqwest::Result<reqwest::Response>, limit: usize) -> Self {
        match sent {
            Err(error) => Reading::Failed(Some(error)),
            Ok(response) => {
                let (head, body) = Head::split(response);
                Reading::Body {
                    head: Some(head),
                    body: ReadWhole::new(body, limit),
                }
            }
        }
    }
}

impl Future for Reading {
    type Output = reqwest::Result<Answer>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut *self {
            Reading::Failed(error) => match error.take() {
                Some(error) => Poll::Ready(Err(error)),
                // Polled again after it was ready: nothing is left to hand on.
                None => Poll::Pending,
            },
            Reading::Body { head, body } => {
                let Poll::Ready(read) = Pin::new(body).poll(cx) else {
                    return Poll::Pending;
                };
                let Some(head) = head.take() else {
                    return Poll::Pending;
                };
                Poll::Ready(Ok(match read {
                    Ok(body) => Answer::Read { head, body },
                    Err(error) => Answer::BodyFailed { head, error },
                }))
            }
        }
    }
}

/// Reads a body whole, at most `limit` bytes of it (`http-body-util`'s `Limited`), like
/// `BodyExt::collect`, except that a body in one frame (the service's answers) is kept as it
/// is: no list of chunks is allocated for it.
pub(crate) struct ReadWhole {
    body: Limited<reqwest::Body>,
    first: Option<Bytes>,
    joined: Vec<u8>,
}

impl ReadWhole {
    fn new(body: reqwest::Body, limit: usize) -> Self {
        ReadWhole {
            body: Limited::new(body, limit),
            first: None,
            joined: Vec::new(),
        }
    }
}

impl Future for ReadWhole {
    type Output = Result<Bytes, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            let frame = match Pin::new(&mut this.body.frame()).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => break,
                Poll::Ready(Some(frame)) => frame?,
            };
            // Trailers carry nothing the decoder reads.
            let Ok(data) = frame.into_data() else {
                continue;
            };
            match this.first.take() {
                None if this.joined.is_empty() => this.first = Some(data),
                earlier => {
                    this.joined
                        .extend_from_slice(earlier.as_deref().unwrap_or_default());
                    this.joined.extend_from_slice(&data);
                }
            }
        }
        let whole = match this.first.take() {
            Some(first) => first,
            None => Bytes::from(std::mem::take(&mut this.joined)),
        };
        Poll::Ready(Ok(whole))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of several frames, as `wrap_stream` gives them one by one.
    fn framed(chunks: &[&'static str]) -> reqwest::Body {
        let frames: Vec<Result<Bytes, std::io::Error>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from_static(c.as_bytes())))
            .collect();
        reqwest::Body::wrap_stream(futures::stream::iter(frames))
    }

    #[tokio::test]
    async fn a_body_in_several_frames_is_joined_in_order_and_one_frame_is_kept_as_it_is() {
        let joined = ReadWhole::new(framed(&["{\"a\":", "", "1}"]), 64).await;
        assert_eq!(joined.ok().as_deref(), Some(&b"{\"a\":1}"[..]));
        // One frame is handed on as it is, not copied into a buffer of its own.
        let frame = "{\"data\":{}}";
        let one = ReadWhole::new(framed(&[frame]), 64)
            .await
            .expect("one frame");
        assert_eq!(&one[..], frame.as_bytes());
        assert_eq!(one.as_ptr(), frame.as_ptr(), "the frame was copied");
        let empty = ReadWhole::new(framed(&[]), 64).await;
        assert_eq!(empty.ok().as_deref(), Some(&b""[..]));
    }

    #[tokio::test]
    async fn a_body_past_the_limit_is_refused_with_the_limit_error() {
        let refused = ReadWhole::new(framed(&["12345", "67890"]), 8).await;
        let error = refused.expect_err("past the limit");
        assert!(
            error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some(),
            "{error}"
        );
        let exact = ReadWhole::new(framed(&["1234", "5678"]), 8).await;
        assert_eq!(exact.ok().as_deref(), Some(&b"12345678"[..]));
    }

    #[tokio::test]
    async fn a_rebuilt_answer_keeps_status_version_headers_url_and_body() {
        use reqwest::ResponseBuilderExt;
        let url = reqwest::Url::parse("http://127.0.0.1:9/users/u1?x=1").expect("a URL");
        let original = http::Response::builder()
            .status(404)
            .version(http::Version::HTTP_11)
            .url(url)
            .header("x-ratelimit-remaining", "7")
            .body("{\"errors\":[]}")
            .expect("a response");
        let original = reqwest::Response::from(original);
        let answer = Reading::new(Ok(original), 1024)
            .await
            .expect("no transport error");
        let rebuilt = answer.into_response(true);
        assert_eq!(rebuilt.status(), 404);
        assert_eq!(rebuilt.version(), http::Version::HTTP_11);
        assert_eq!(rebuilt.url().as_str(), "http://127.0.0.1:9/users/u1?x=1");
        assert_eq!(
            rebuilt
                .headers()
                .get("x-ratelimit-remaining")
                .and_then(|v| v.to_str().ok()),
            Some("7")
        );
        assert_eq!(
            rebuilt.text().await.ok().as_deref(),
            Some("{\"errors\":[]}")
        );
    }

    #[tokio::test]
    async fn an_answer_handed_back_without_headers_keeps_its_status_and_body() {
        let original = http::Response::builder()
            .status(201)
            .header("x-ratelimit-remaining", "7")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body("{\"data\":{}}")
            .expect("a response");
        let answer = Reading::new(Ok(reqwest::Response::from(original)), 1024)
            .await
            .expect("no transport error");
        let rebuilt = answer.into_response(false);
        assert_eq!(rebuilt.status(), 201);
        assert!(rebuilt.headers().is_empty(), "{:?}", rebuilt.headers());
        assert_eq!(rebuilt.text().await.ok().as_deref(), Some("{\"data\":{}}"));
    }

    #[tokio::test]
    async fn a_cut_body_is_replayed_as_an_error_when_the_decoder_reads_it() {
        let cut: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"{\"da")),
            Err(std::io::Error::other("connection reset")),
        ];
        let response = reqwest::Response::from(http::Response::new(reqwest::Body::wrap_stream(
            futures::stream::iter(cut),
        )));
        let answer = Reading::new(Ok(response), 1024)
            .await
            .expect("no transport error");
        assert!(matches!(answer, Answer::BodyFailed { .. }));
        let error = answer
            .into_response(false)
            .bytes()
            .await
            .expect_err("the cut is replayed");
        let text = format!("{error:?}");
        assert!(text.contains("connection reset"), "{text}");
    }
}
