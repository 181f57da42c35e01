//! Input checks made before anything is sent: the service would refuse these with a 422 after
//! spending a rate-limited request, and a bulk call could fail half way.

use crate::config::MAX_PAGE_SIZE;
use crate::error::{Error, Result};

/// An id of a user or group: 1 to 255 characters.
pub(crate) fn id(field: &str, value: &str) -> Result<()> {
    let len = value.chars().count();
    if len == 0 {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if len > 255 {
        return Err(Error::invalid(
            field,
            format!("is {len} characters long; the limit is 255"),
        ));
    }
    Ok(())
}

/// A page size: 1 to 1000.
pub(crate) fn page_size(value: u32) -> Result<()> {
    if (1..=MAX_PAGE_SIZE).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            "page_size",
            format!("{value} is outside 1..={MAX_PAGE_SIZE}"),
        ))
    }
}

/// An email address, checked loosely: the service is the judge of deliverability, we only
/// refuse what can never be an address. `local@domain`, split at the last `@`; whitespace only
/// inside a quoted local part; no control characters; at most 254 characters.
pub(crate) fn email(field: &str, value: &str) -> Result<()> {
    let refuse = |reason: &str| {
        Err(Error::invalid(
            field,
            format!("{value:?} is not an email address: {reason}"),
        ))
    };
    if value.chars().count() > 254 {
        return refuse("longer than 254 characters");
    }
    if value.chars().any(char::is_control) {
        return refuse("contains a control character");
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return refuse("no @");
    };
    if local.is_empty() || domain.is_empty() {
        return refuse("empty part before or after @");
    }
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    if !quoted && local.chars().any(char::is_whitespace) {
        return refuse("whitespace outside a quoted local part");
    }
    if !quoted && local.contains('@') {
        return refuse("more than one @ outside a quoted local part");
    }
    if domain.chars().any(|c| c.is_whitespace() || c == '@') {
        return refuse("invalid domain");
    }
    Ok(())
}

/// A list that must not be empty, each item checked by `check`. Returns the items as owned strings.
pub(crate) fn list(
    field: &str,
    items: impl IntoIterator<Item = impl Into<String>>,
    check: fn(&str, &str) -> Result<()>,
) -> Result<Vec<String>> {
    let items: Vec<String> = items.into_iter().map(Into::into).collect();
    if items.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    for item in &items {
        check(field, item)?;
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "a@x.com",
            "a+b@x.com",
            "\"a b\"@x.com",
            "é@exämple.org",
            "o'k@x.io",
        ] {
            assert!(email("e", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ax.com",
            "@x.com",
            "a@",
            "a b@x.com",
            "a@x .com",
            "a\n@x.com",
        ] {
            assert!(email("e", bad).is_err(), "{bad:?}");
        }
        assert!(email("e", &format!("{}@x.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn ids_and_pages() {
        assert!(id("id", "u").is_ok());
        assert!(id("id", &"é".repeat(255)).is_ok());
        assert!(id("id", "").is_err());
        assert!(id("id", &"x".repeat(256)).is_err());
        assert!(page_size(1).is_ok() && page_size(1000).is_ok());
        assert!(page_size(0).is_err() && page_size(1001).is_err());
    }
}
