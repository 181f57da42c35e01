//! Ergonomic Rust SDK for the Segment Public API IAM surface: pagination, rate-limit pacing, retries, batching.
