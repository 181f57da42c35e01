//! Input checks made before anything is sent: the service would refuse these with a 422 after
//! spending a rate-limited request, and a bulk call could fail half way.

use crate::config::MAX_PAGE_SIZE;
use crate::error::{Error, Result};

/// Parses an id into its generated newtype (`UserId`, `UserGroupId`), which carries the
/// document's limits (1 to 255 characters): one parse, and its refusal as a typed error.
pub(crate) fn id<T>(field: &str, value: &str) -> Result<T>
where
    T: std::str::FromStr<Err = segment_iam_api::types::error::ConversionError>,
{
    value
        .parse()
        .map_err(|e: segment_iam_api::types::error::ConversionError| {
            Error::invalid(field, format!("{value:?} is {e}"))
        })
}

/// A value that must not be empty or only whitespace.
pub(crate) fn non_empty(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        Err(Error::invalid(field, "must not be empty"))
    } else {
        Ok(())
    }
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

/// Email addresses, each checked; with `non_empty`, an empty list is refused too (where
/// sending nothing would waste a request or mean something else).
pub(crate) fn emails(
    field: &str,
    items: impl IntoIterator<Item = impl AsRef<str>>,
    non_empty: bool,
) -> Result<Vec<String>> {
    let items: Vec<String> = items
        .into_iter()
        .map(|item| item.as_ref().to_string())
        .collect();
    if non_empty && items.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    for item in &items {
        email(field, item)?;
    }
    Ok(items)
}

/// Ids, each parsed into its generated newtype; an empty list is refused.
pub(crate) fn ids<T>(
    field: &str,
    items: impl IntoIterator<Item = impl AsRef<str>>,
) -> Result<Vec<T>>
where
    T: std::str::FromStr<Err = segment_iam_api::types::error::ConversionError>,
{
    let ids = items
        .into_iter()
        .map(|item| id::<T>(field, item.as_ref()))
        .collect::<Result<Vec<T>>>()?;
    if ids.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    Ok(ids)
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
        use segment_iam_api::types::{UserGroupId, UserId};
        assert!(id::<UserId>("id", "u").is_ok());
        assert!(id::<UserGroupId>("id", &"é".repeat(255)).is_ok());
        let empty = id::<UserId>("user_id", "").expect_err("empty");
        assert_eq!(
            empty.to_string(),
            "invalid user_id: \"\" is shorter than 1 characters"
        );
        assert!(id::<UserGroupId>("id", &"x".repeat(256)).is_err());
        assert!(page_size(1).is_ok() && page_size(1000).is_ok());
        assert!(page_size(0).is_err() && page_size(1001).is_err());
    }
}
