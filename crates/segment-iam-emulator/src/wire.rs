//! Envelopes, error bodies and input validation helpers.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// An error answered with the `{"errors": [...]}` envelope.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub data: Option<Value>,
}

impl ApiError {
    pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            field: None,
            data: None,
        }
    }

    /// 422 `input-validation` naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: 422,
            kind: "input-validation",
            message: message.into(),
            field: Some(field.into()),
            data: None,
        }
    }

    /// 422: `"field" is required`.
    pub fn required(field: &str) -> Self {
        Self::invalid(field, format!("\"{field}\" is required"))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not-found", message)
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(409, "conflict", message)
        }
    }

    pub fn body(&self) -> Vec<u8> {
        let mut e = Map::new();
        e.insert("type".into(), Value::from(self.kind));
        e.insert("message".into(), Value::from(self.message.clone()));
        if let Some(f) = &self.field {
            e.insert("field".into(), Value::from(f.clone()));
        }
        if let Some(d) = &self.data {
            e.insert("data".into(), d.clone());
        }
        if self.kind != "RequestError" {
            e.insert("status".into(), Value::from(self.status));
        }
        serde_json::to_vec(&json!({ "errors": [Value::Object(e)] })).unwrap_or_default()
    }
}

/// `{"data": value}` as bytes.
pub(crate) fn data_body<T: Serialize>(value: &T) -> Vec<u8> {
    #[derive(Serialize)]
    struct Env<'a, T> {
        data: &'a T,
    }
    serde_json::to_vec(&Env { data: value }).unwrap_or_default()
}

/// Validates a path or list id: 1..255 characters.
pub(crate) fn check_id(field: &str, id: &str) -> Result<(), ApiError> {
    let n = id.chars().count();
    if n == 0 {
        return Err(ApiError::invalid(
            field,
            format!("\"{field}\" must not be empty"),
        ));
    }
    if n > 255 {
        return Err(ApiError::invalid(
            field,
            format!("\"{field}\" must be at most 255 characters long"),
        ));
    }
    Ok(())
}

/// A simple, sane email rule: one `@`, non-empty local and domain parts, no whitespace or
/// control characters, at most 254 characters. `+`, unicode and other legal characters pass.
pub fn is_valid_email(email: &str) -> bool {
    if email.is_empty() || email.chars().count() > 254 {
        return false;
    }
    if email.chars().any(char::is_control) {
        return false;
    }
    // Split at the last `@`: a quoted local part may itself contain `@` and spaces
    // (`"first last"@example.com` is a valid address); elsewhere whitespace is refused.
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    if local.is_empty()
        || (!quoted && (local.contains('@') || local.chars().any(char::is_whitespace)))
    {
        return false;
    }
    !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.chars().any(char::is_whitespace)
}

pub(crate) fn check_email(field: &str, email: &str) -> Result<(), ApiError> {
    if is_valid_email(email) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("\"{field}\" must be a valid email"),
        ))
    }
}

/// Parses a request body as a JSON object. An empty body counts as `{}`, so that a
/// missing required field is reported by name.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::invalid(
            "body",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::invalid("body", format!("malformed JSON: {e}"))),
    }
}

/// A required array field.
pub(crate) fn req_array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Vec<Value>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(ApiError::required(path)),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(ApiError::invalid(
            path,
            format!("\"{path}\" must be an array"),
        )),
    }
}

/// An optional array field.
pub(crate) fn opt_array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Vec<Value>>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(ApiError::invalid(
            path,
            format!("\"{path}\" must be an array"),
        )),
    }
}

/// A required string field.
pub(crate) fn req_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(ApiError::required(path)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::invalid(
            path,
            format!("\"{path}\" must be a string"),
        )),
    }
}

/// An optional string field.
pub(crate) fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(
            path,
            format!("\"{path}\" must be a string"),
        )),
    }
}

/// An element of an array that must be an object.
pub(crate) fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| ApiError::invalid(path, format!("\"{path}\" must be an object")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid_emails_are_told_apart() {
        for ok in [
            "a@b.c",
            "foo+qa@example.com",
            "ünï@cödé.de",
            "o'brien@x.io",
            "a@localhost",
            "\"weird\"@x.y",
            "\"first last\"@example.com",
            "\"a@b\"@example.com",
        ] {
            assert!(is_valid_email(ok), "{ok}");
        }
        let long = format!("{}@x.io", "a".repeat(250));
        for bad in [
            "",
            "a",
            "@b.c",
            "a@",
            "a@@b",
            "a@b@c",
            "a b@c.d",
            "a@b\n",
            "a@.b",
            "a@b.",
            "a@b..c",
            long.as_str(),
        ] {
            assert!(!is_valid_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn error_body_shape() {
        let e = ApiError::required("id");
        let v: Value = serde_json::from_slice(&e.body()).expect("json");
        assert_eq!(
            v,
            json!({"errors":[{"type":"input-validation","message":"\"id\" is required","field":"id","status":422}]})
        );
    }
}
