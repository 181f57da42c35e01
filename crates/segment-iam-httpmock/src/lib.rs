//! Typed httpmock helpers for the Segment IAM API, generated from the same document.
