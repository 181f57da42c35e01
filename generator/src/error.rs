//! Every way loading, checking or generating can fail, each with a message that names the place.

use std::path::PathBuf;

/// An error of the generator. Messages name the file, line or JSON pointer at fault.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    /// The document could not be read from disk.
    #[error("cannot read OpenAPI document {path}: {source}")]
    Read {
        /// The path that was read.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not a well-formed OpenAPI 3.0 document.
    #[error("{source_name}: invalid OpenAPI document{}: {message}", location(*.line, *.column))]
    Parse {
        /// Where the text came from (a path or a label).
        source_name: String,
        /// 1-based line of the error, when the parser knows it.
        line: Option<usize>,
        /// 1-based column of the error, when the parser knows it.
        column: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// A `$ref` points at nothing in the document.
    #[error("dangling $ref {reference:?} at {at}: no such component in the document")]
    DanglingRef {
        /// The reference as written.
        reference: String,
        /// JSON pointer of the object that holds the `$ref`.
        at: String,
    },
    /// A `$ref` points outside the document, which the generator does not follow.
    #[error("external $ref {reference:?} at {at}: only local references (#/...) are supported")]
    ExternalRef {
        /// The reference as written.
        reference: String,
        /// JSON pointer of the object that holds the `$ref`.
        at: String,
    },
    /// An operation has no `operationId`, which names its Rust method.
    #[error("operation {method} {path} has no operationId")]
    MissingOperationId {
        /// HTTP method, upper case.
        method: String,
        /// Path template.
        path: String,
    },
    /// Two operations share an `operationId`.
    #[error("duplicate operationId {operation_id:?}: used by {first} and {second}")]
    DuplicateOperationId {
        /// The repeated id.
        operation_id: String,
        /// `METHOD path` of the first use.
        first: String,
        /// `METHOD path` of the second use.
        second: String,
    },
    /// An operation has no tag, so it would belong to no resource handler.
    #[error("operation {operation_id:?} has no tag")]
    MissingTag {
        /// The operation without a tag.
        operation_id: String,
    },
    /// A path item is itself a `$ref`, which progenitor cannot follow.
    #[error("path {path:?} is a $ref; path items must be written inline")]
    PathItemRef {
        /// The path template.
        path: String,
    },
    /// A schema marked `x-open-enum` is not a string enum.
    #[error("schema {name:?} has x-open-enum but is not a string schema with enum values")]
    BadOpenEnum {
        /// The schema's name.
        name: String,
    },
    /// progenitor refused the document (or panicked on it).
    #[error("progenitor could not generate the client: {0}")]
    Progenitor(String),
    /// progenitor's output has no request builder (with a `send` method) for an operation, so
    /// the operation table cannot name its request and response types.
    #[error("progenitor generated no request builder for operation {operation_id:?}")]
    MissingBuilder {
        /// The operation without a builder.
        operation_id: String,
    },
    /// The generated tokens are not valid Rust (a bug in a code generator).
    #[error("generated {file} is not valid Rust: {message}")]
    Format {
        /// The file being formatted.
        file: String,
        /// syn's message.
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}
