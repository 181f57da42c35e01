//! Loading the document: YAML or JSON text into `openapiv3::OpenAPI`, keeping the raw tree
//! beside it for the checks that need to see every `$ref` and vendor extension.

use std::path::Path;

use openapiv3::OpenAPI;

use crate::error::GeneratorError;

/// A parsed OpenAPI document together with its raw JSON tree.
#[derive(Debug, Clone)]
pub struct Document {
    /// The typed document, as progenitor reads it.
    pub spec: OpenAPI,
    /// The same document as plain JSON, for reference and extension checks.
    pub raw: serde_json::Value,
    /// Where it came from, for messages.
    pub source_name: String,
}

impl Document {
    /// Reads and parses a document from disk (`.json` as JSON, anything else as YAML).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, GeneratorError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| GeneratorError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let name = path.display().to_string();
        if is_json {
            Self::from_json(&text, &name)
        } else {
            Self::from_yaml(&text, &name)
        }
    }

    /// Parses YAML text (JSON is valid YAML too). Errors carry line and column.
    pub fn from_yaml(text: &str, source_name: &str) -> Result<Self, GeneratorError> {
        let yaml_error = |e: serde_yaml::Error| GeneratorError::Parse {
            source_name: source_name.to_string(),
            line: e.location().map(|l| l.line()),
            column: e.location().map(|l| l.column()),
            message: e.to_string(),
        };
        let spec: OpenAPI = serde_yaml::from_str(text).map_err(yaml_error)?;
        let raw: serde_json::Value = serde_yaml::from_str(text).map_err(yaml_error)?;
        Ok(Self {
            spec,
            raw,
            source_name: source_name.to_string(),
        })
    }

    /// Parses JSON text. Errors carry line and column.
    pub fn from_json(text: &str, source_name: &str) -> Result<Self, GeneratorError> {
        let json_error = |e: serde_json::Error| GeneratorError::Parse {
            source_name: source_name.to_string(),
            line: Some(e.line()),
            column: Some(e.column()),
            message: e.to_string(),
        };
        let spec: OpenAPI = serde_json::from_str(text).map_err(json_error)?;
        let raw: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
        Ok(Self {
            spec,
            raw,
            source_name: source_name.to_string(),
        })
    }
}
