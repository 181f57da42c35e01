//! Reads the Segment IAM OpenAPI document and generates the client crate through progenitor.
