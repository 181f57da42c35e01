//! Finding people by email: the API has no lookup, so one pass over a list (the largest pages
//! the service allows, stopping as soon as every address is found) answers many addresses at
//! once.
//!
//! Emails are compared case-insensitively: the documentation does not say how the service
//! compares them, and treating `Ana@x.com` and `ana@x.com` as one person is the safe reading.
//! An address asked twice (in any case) counts once.

use std::collections::HashMap;

use futures::TryStreamExt;

use crate::config::MAX_PAGE_SIZE;
use crate::email::key as email_key;
use crate::error::Result;
use crate::paginate::Paginator;
use crate::validate;

/// What a lookup by email found, in the order the addresses were first asked.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Lookup<T> {
    /// What matched, one entry per distinct address asked (the first match when the service
    /// holds the same address in two spellings), in the order asked.
    pub found: Vec<T>,
    /// Addresses nothing matched, as first spelt by the caller, in the order asked.
    pub missing: Vec<String>,
}

impl<T> Lookup<T> {
    /// Whether every address matched.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Emails checked (a typed error names the first bad one) and de-duplicated by
/// [`email::key`](crate::email::key), keeping the first spelling and order.
pub(crate) fn distinct_emails(
    field: &str,
    emails: impl IntoIterator<Item = impl AsRef<str>>,
) -> Result<Vec<String>> {
    let emails = validate::emails(field, emails, false)?;
    let mut seen = std::collections::HashSet::new();
    Ok(emails
        .into_iter()
        .filter(|e| seen.insert(email_key(e)))
        .collect())
}

/// Scans `list` for `emails` (already [`distinct_emails`]); `email_of` reads an item's address.
/// Sends nothing when `emails` is empty, and stops reading as soon as all are found.
pub(crate) async fn find<T: Send + 'static>(
    list: Paginator<T>,
    emails: Vec<String>,
    email_of: impl Fn(&T) -> &str,
) -> Result<Lookup<T>> {
    let mut wanted: HashMap<String, usize> = emails
        .iter()
        .enumerate()
        .map(|(i, e)| (email_key(e), i))
        .collect();
    let mut found: Vec<Option<T>> = emails.iter().map(|_| None).collect();
    if !wanted.is_empty() {
        let mut items = list.page_size(MAX_PAGE_SIZE).items();
        while let Some(item) = items.try_next().await? {
            if let Some(slot) = wanted.remove(&email_key(email_of(&item))) {
                found[slot] = Some(item);
                if wanted.is_empty() {
                    break;
                }
            }
        }
    }
    let mut lookup = Lookup {
        found: Vec::new(),
        missing: Vec::new(),
    };
    for (email, item) in emails.into_iter().zip(found) {
        match item {
            Some(item) => lookup.found.push(item),
            None => lookup.missing.push(email),
        }
    }
    Ok(lookup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_asked_twice_in_any_case_count_once() {
        let emails = distinct_emails("emails", ["Ana@X.com", "bo@x.com", "ana@x.COM", "BO@x.com"]);
        assert_eq!(
            emails.ok(),
            Some(vec!["Ana@X.com".to_string(), "bo@x.com".to_string()])
        );
    }

    #[test]
    fn a_bad_address_is_refused_by_name() {
        let err = distinct_emails("emails", ["ok@x.com", "nope"]).expect_err("refused");
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
