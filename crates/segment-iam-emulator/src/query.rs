//! The query-string decoder.
//!
//! The documentation of the Segment Public API sends arrays as indexed, dotted keys
//! (`emails.0=a&emails.1=b`) and pagination as `pagination.count=..&pagination.cursor=..`.
//! The official Go and TypeScript SDKs send `pagination[count]=..` and `emails[0]=..`, and
//! their list calls work, so the live service evidently accepts both notations. This
//! decoder does the same:
//!
//! * `name.N=v` (documented) and `name[N]=v` / `name[]=v` (bracketed, non-documented)
//!   both give array elements;
//! * `obj.field=v` (documented) and `obj[field]=v` (bracketed) both give object fields;
//! * a lone `name=v` (or a repeated `name=a&name=b`) is a scalar: asking for an array
//!   named `name` then fails with a message that names the expected form.
//!
//! Keys and values are percent-decoded after `+` is turned into a space, the way HTML
//! form encoding writes it, so a literal `+` must arrive as `%2B`.
//!
//! [`DecodedQuery::nonstandard_for`] tells whether a non-documented form was used for the
//! arrays and objects an operation reads; the emulator records it in the journal and, in
//! strict mode, refuses such requests.

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;

/// How one query key was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notation {
    /// `name=value`.
    Plain,
    /// `name.sub=value` — the documented form.
    Dotted,
    /// `name[sub]=value` or `name[]=value` — what the official SDKs send.
    Bracketed,
}

/// One decoded `key=value` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The base name (`emails` for `emails.0`).
    pub name: String,
    /// The sub-key (`0` for `emails.0`, `count` for `pagination[count]`, empty for
    /// `emails[]`), `None` for a plain key.
    pub sub: Option<String>,
    /// How the key was written.
    pub notation: Notation,
    /// The decoded value.
    pub value: String,
}

/// Why a query string or one of its parameters is unacceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// The parameter concerned, as the documentation names it (`emails`, `pagination.count`).
    pub field: String,
    /// A human-readable explanation, naming the expected form.
    pub message: String,
}

impl QueryError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A decoded query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedQuery {
    /// Every pair in order of appearance.
    pub pairs: Vec<Pair>,
}

/// Decodes one component: `+` is a space, then percent-decoding, then UTF-8.
pub fn decode_component(raw: &str) -> Result<String, String> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| format!("`{raw}` is not valid percent-encoded UTF-8"))
}

/// Splits a decoded key into its base name, sub-key and notation.
fn split_key(key: &str) -> (String, Option<String>, Notation) {
    if let Some(open) = key.find('[')
        && open > 0
        && key.ends_with(']')
    {
        let inner = &key[open + 1..key.len() - 1];
        if !inner.contains('[') && !inner.contains(']') {
            return (
                key[..open].to_string(),
                Some(inner.to_string()),
                Notation::Bracketed,
            );
        }
    }
    if let Some(dot) = key.find('.')
        && dot > 0
        && dot + 1 < key.len()
    {
        return (
            key[..dot].to_string(),
            Some(key[dot + 1..].to_string()),
            Notation::Dotted,
        );
    }
    (key.to_string(), None, Notation::Plain)
}

impl DecodedQuery {
    /// Decodes a raw query string (without the leading `?`).
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        let mut pairs = Vec::new();
        for part in raw.split('&') {
            if part.is_empty() {
                continue;
            }
            let (k, v) = match part.split_once('=') {
                Some((k, v)) => (k, v),
                None => (part, ""),
            };
            let key = decode_component(k).map_err(|m| QueryError::new("query", m))?;
            let value = decode_component(v).map_err(|m| QueryError::new(key.clone(), m))?;
            let (name, sub, notation) = split_key(&key);
            pairs.push(Pair {
                name,
                sub,
                notation,
                value,
            });
        }
        Ok(Self { pairs })
    }

    /// Whether any pair among `names` used a non-documented form (bracketed keys, or a plain
    /// key where an array or object is expected). Only the parameters an operation reads
    /// are considered; unknown parameters are ignored, as the service ignores them.
    pub fn nonstandard_for(&self, arrays: &[&str], objects: &[&str]) -> bool {
        self.pairs.iter().any(|p| {
            let relevant = arrays.contains(&p.name.as_str()) || objects.contains(&p.name.as_str());
            relevant && p.notation != Notation::Dotted
        })
    }

    /// The array parameter `name`, from `name.N` or `name[N]` / `name[]` keys, in index
    /// order. `Ok(None)` when the parameter is absent. A plain `name=v` is a scalar and an
    /// error, as are duplicate or non-numeric indices. With `strict`, bracketed keys are an
    /// error too.
    pub fn array(&self, name: &str, strict: bool) -> Result<Option<Vec<String>>, QueryError> {
        let expected =
            format!("\"{name}\" must be an array, sent as indexed keys: `{name}.0=..&{name}.1=..`");
        let mut indexed: BTreeMap<usize, String> = BTreeMap::new();
        let mut appended: Vec<String> = Vec::new();
        let mut seen = false;
        for p in self.pairs.iter().filter(|p| p.name == name) {
            seen = true;
            match (&p.sub, p.notation) {
                (None, _) | (_, Notation::Plain) => {
                    return Err(QueryError::new(
                        name,
                        format!("{expected}; got a plain `{name}=..`, which is a scalar"),
                    ));
                }
                (Some(_), Notation::Bracketed) if strict => {
                    return Err(QueryError::new(
                        name,
                        format!("{expected}; bracketed `{name}[..]` keys are not accepted"),
                    ));
                }
                (Some(sub), Notation::Bracketed) if sub.is_empty() => {
                    appended.push(p.value.clone());
                }
                (Some(sub), _) => {
                    let idx: usize = sub.parse().map_err(|_| {
                        QueryError::new(name, format!("{expected}; `{sub}` is not an array index"))
                    })?;
                    if sub.len() > 1 && sub.starts_with('0') {
                        return Err(QueryError::new(
                            name,
                            format!("{expected}; `{sub}` is not an array index"),
                        ));
                    }
                    if indexed.insert(idx, p.value.clone()).is_some() {
                        return Err(QueryError::new(
                            name,
                            format!("{expected}; index {idx} is given twice"),
                        ));
                    }
                }
            }
        }
        if !seen {
            return Ok(None);
        }
        let mut out: Vec<String> = indexed.into_values().collect();
        out.extend(appended);
        Ok(Some(out))
    }

    /// The plain scalar parameter `name` (`name=v`). `Ok(None)` when absent; given twice, or
    /// in an array or object form, it is an error.
    pub fn scalar(&self, name: &str) -> Result<Option<String>, QueryError> {
        let mut found: Option<String> = None;
        for p in self.pairs.iter().filter(|p| p.name == name) {
            if p.notation != Notation::Plain || p.sub.is_some() {
                return Err(QueryError::new(
                    name,
                    format!("\"{name}\" must be a single value: `{name}=..`"),
                ));
            }
            if found.is_some() {
                return Err(QueryError::new(name, format!("`{name}` is given twice")));
            }
            found = Some(p.value.clone());
        }
        Ok(found)
    }

    /// The field `field` of the object parameter `object` (`pagination.count` or
    /// `pagination[count]`). `Ok(None)` when absent. A field given twice is an error; with
    /// `strict`, the bracketed form is an error.
    pub fn field(
        &self,
        object: &str,
        field: &str,
        strict: bool,
    ) -> Result<Option<String>, QueryError> {
        let dotted = format!("{object}.{field}");
        let mut found: Option<String> = None;
        for p in self.pairs.iter().filter(|p| p.name == object) {
            if p.sub.as_deref() != Some(field) {
                continue;
            }
            if strict && p.notation == Notation::Bracketed {
                return Err(QueryError::new(
                    dotted.clone(),
                    format!("send `{dotted}=..`; `{object}[{field}]` is not accepted"),
                ));
            }
            if found.is_some() {
                return Err(QueryError::new(
                    dotted.clone(),
                    format!("`{dotted}` is given twice"),
                ));
            }
            found = Some(p.value.clone());
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    use proptest::prelude::*;

    fn q(raw: &str) -> DecodedQuery {
        DecodedQuery::parse(raw).expect("parse")
    }

    #[test]
    fn dotted_arrays_decode_in_order() {
        let d = q("emails.0=foo%40example.com&emails.1=bar%2Bqa%40example.com");
        assert_eq!(
            d.array("emails", true).expect("ok"),
            Some(vec![
                "foo@example.com".to_string(),
                "bar+qa@example.com".to_string()
            ])
        );
        assert!(!d.nonstandard_for(&["emails"], &[]));
    }

    #[test]
    fn bracketed_array_and_encoded_brackets() {
        let d = q("emails%5B1%5D=b&emails[0]=a&emails[]=c");
        assert_eq!(
            d.array("emails", false).expect("ok"),
            Some(vec!["a".to_string(), "b".to_string(), "c".to_string()])
        );
        assert!(d.nonstandard_for(&["emails"], &[]));
        assert!(d.array("emails", true).is_err());
    }

    #[test]
    fn order_of_indices_does_not_matter() {
        let d = q("ids.1=b&ids.0=a&ids.10=k&ids.2=c");
        assert_eq!(
            d.array("ids", true).expect("ok"),
            Some(vec!["a".into(), "b".into(), "c".into(), "k".into()])
        );
    }

    #[test]
    fn lone_scalar_is_rejected_with_expected_form() {
        let d = q("emails=x%40y.com");
        let e = d.array("emails", false).expect_err("scalar");
        assert_eq!(e.field, "emails");
        assert!(e.message.contains("emails.0="), "{}", e.message);
        assert!(q("emails=a&emails=b").array("emails", false).is_err());
        assert!(d.nonstandard_for(&["emails"], &[]));
    }

    #[test]
    fn malformed_array_indices_are_refused() {
        assert!(q("e.x=1").array("e", false).is_err());
        assert!(q("e.0=1&e.0=2").array("e", false).is_err());
        assert!(q("e.01=1").array("e", false).is_err());
        assert!(q("e.-1=1").array("e", false).is_err());
    }

    #[test]
    fn an_absent_array_is_none_not_an_error() {
        assert_eq!(q("other.0=1").array("emails", true).expect("ok"), None);
        assert_eq!(q("").array("emails", true).expect("ok"), None);
    }

    #[test]
    fn pagination_both_notations() {
        let d = q("pagination.count=3&pagination.cursor=Mw%3D%3D");
        assert_eq!(
            d.field("pagination", "count", true).expect("ok"),
            Some("3".into())
        );
        assert_eq!(
            d.field("pagination", "cursor", true).expect("ok"),
            Some("Mw==".into())
        );
        let b = q("pagination%5Bcount%5D=7&pagination[cursor]=a+b");
        assert_eq!(
            b.field("pagination", "count", false).expect("ok"),
            Some("7".into())
        );
        assert_eq!(
            b.field("pagination", "cursor", false).expect("ok"),
            Some("a b".into())
        );
        assert!(b.field("pagination", "count", true).is_err());
        assert!(b.nonstandard_for(&[], &["pagination"]));
        assert!(!d.nonstandard_for(&[], &["pagination"]));
        assert!(
            q("pagination.count=1&pagination[count]=2")
                .field("pagination", "count", false)
                .is_err()
        );
    }

    #[test]
    fn plus_is_space_and_percent_2b_is_plus() {
        let d = q("emails.0=a+b%2Bc%20d");
        assert_eq!(
            d.array("emails", true).expect("ok"),
            Some(vec!["a b+c d".to_string()])
        );
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert!(DecodedQuery::parse("emails.0=%FF%FE").is_err());
        // A lone `%` that is not an escape stays literal, as browsers and the WHATWG parser do.
        assert_eq!(
            q("e.0=100%").array("e", true).expect("ok"),
            Some(vec!["100%".into()])
        );
    }

    proptest! {
        #[test]
        fn encode_decode_roundtrip(values in proptest::collection::vec(any::<String>(), 1..8)) {
            let raw: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("emails.{i}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
                .collect();
            let d = DecodedQuery::parse(&raw.join("&")).expect("parse");
            prop_assert_eq!(d.array("emails", true).expect("array"), Some(values));
        }

        #[test]
        fn form_encoding_with_plus_roundtrip(v in "[ -~]{0,40}") {
            // Form encoding: space -> '+', everything else non-alphanumeric escaped.
            let enc: String = v
                .split(' ')
                .map(|s| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string())
                .collect::<Vec<_>>()
                .join("+");
            let d = DecodedQuery::parse(&format!("emails[0]={enc}")).expect("parse");
            prop_assert_eq!(d.array("emails", false).expect("array"), Some(vec![v]));
        }

        #[test]
        fn never_panics(raw in ".{0,200}") {
            if let Ok(d) = DecodedQuery::parse(&raw) {
                let _ = d.array("emails", false);
                let _ = d.field("pagination", "count", true);
            }
        }
    }
}
