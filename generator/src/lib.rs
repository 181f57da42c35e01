//! Turns the hand-curated OpenAPI document of the Segment IAM API into Rust source.
//!
//! The pipeline is: [`Document::load`] (YAML or JSON, read with `openapiv3`), [`Document::check`]
//! (the rules progenitor and our transport rely on, reported as typed errors instead of panics),
//! then [`generate`], which drives progenitor and formats every file with `prettyplease`.
//!
//! This crate does no file I/O beyond reading the document: it returns [`GeneratedFile`]s and
//! leaves writing or diffing them to `cargo xtask codegen`.

mod check;
mod document;
mod error;
mod generate;
mod meta;
mod open_enum;

pub use check::{ArrayQueryParam, OperationSummary, Report};
pub use document::Document;
pub use error::GeneratorError;
pub use generate::{GeneratedFile, generate};
