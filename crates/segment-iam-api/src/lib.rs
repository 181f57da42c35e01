//! Generated low-level client for the Segment Public API IAM operations.
