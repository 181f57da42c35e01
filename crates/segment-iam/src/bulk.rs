//! Bulk removals whose items travel in the URL (`emails.0=..`, `userIds.0=..`): split into
//! requests that each fit under the client's URL limit, sent in order, with a precise account
//! of what was applied when one of them fails.

use std::future::Future;

use segment_iam_api::query::encode_indexed;

use crate::error::{Error, Result};

/// What a bulk call did.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct BulkOutcome {
    /// Every item applied, in input order.
    pub applied: Vec<String>,
    /// How many requests it took.
    pub requests: usize,
}

/// Splits `items` into consecutive chunks whose query (`name.0=..&name.1=..`) keeps the URL at
/// most `max_url_len` long, given `base_len` bytes before the `?`. Keeps order, never drops or
/// repeats an item; an item that cannot fit even alone is an error.
pub fn plan_chunks(
    field: &str,
    name: &str,
    items: &[String],
    base_len: usize,
    max_url_len: usize,
) -> Result<Vec<std::ops::Range<usize>>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    // Length of the URL so far: base + '?' + the pairs of the current chunk.
    let mut len = base_len + 1;
    for (i, item) in items.iter().enumerate() {
        let index_in_chunk = i - start;
        let pair = pair_len(name, index_in_chunk, item);
        let separator = usize::from(index_in_chunk > 0);
        if len + separator + pair <= max_url_len {
            len += separator + pair;
            continue;
        }
        if index_in_chunk == 0 {
            return Err(Error::invalid(
                field,
                format!(
                    "item {i} needs a {} byte URL, over the {max_url_len}-byte limit",
                    base_len + 1 + pair
                ),
            ));
        }
        chunks.push(start..i);
        start = i;
        let pair = pair_len(name, 0, item);
        len = base_len + 1 + pair;
        if len > max_url_len {
            return Err(Error::invalid(
                field,
                format!("item {i} needs a {len} byte URL, over the {max_url_len}-byte limit"),
            ));
        }
    }
    if start < items.len() {
        chunks.push(start..items.len());
    }
    Ok(chunks)
}

/// The encoded length of `name.index=value`.
fn pair_len(name: &str, index: usize, value: &str) -> usize {
    // encode_indexed writes `name.0=..`; only the index digits differ.
    encode_indexed(name, &[value]).len() - 1 + index.to_string().len()
}

/// Sends `items` in planned chunks through `send`, in order, stopping at the first failure.
pub(crate) async fn run<F, Fut>(
    field: &str,
    name: &str,
    items: Vec<String>,
    base_len: usize,
    max_url_len: usize,
    mut send: F,
) -> Result<BulkOutcome>
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let chunks = plan_chunks(field, name, &items, base_len, max_url_len)?;
    let mut outcome = BulkOutcome::default();
    for chunk in chunks {
        let end = chunk.end;
        let batch = items[chunk.clone()].to_vec();
        outcome.requests += 1;
        if let Err(source) = send(batch).await {
            tracing::warn!(
                target: "segment_iam::bulk",
                applied = outcome.applied.len(),
                failed_from = chunk.start,
                "a bulk request failed; reporting what was applied"
            );
            return Err(Error::Partial {
                applied: outcome.applied,
                not_applied: items[chunk.start..].to_vec(),
                source: Box::new(source),
            });
        }
        outcome.applied.extend_from_slice(&items[chunk.start..end]);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_fit_and_keep_order() {
        let items: Vec<String> = (0..500).map(|i| format!("user+{i}@example.com")).collect();
        let base = "http://127.0.0.1:1234/invites".len();
        let chunks = plan_chunks("emails", "emails", &items, base, 1024).expect("plan");
        assert!(chunks.len() > 1);
        let mut next = 0;
        for chunk in &chunks {
            assert_eq!(chunk.start, next);
            next = chunk.end;
            let url_len = base + 1 + encode_indexed("emails", &items[chunk.clone()]).len();
            assert!(url_len <= 1024, "{url_len}");
            // A greedy plan: one more item would not have fit.
            if chunk.end < items.len() {
                let more =
                    base + 1 + encode_indexed("emails", &items[chunk.start..=chunk.end]).len();
                assert!(more > 1024);
            }
        }
        assert_eq!(next, items.len());
    }

    #[test]
    fn an_item_too_long_alone_is_refused() {
        let items = vec!["a@x.com".to_string(), format!("{}@x.com", "b".repeat(2000))];
        let err = plan_chunks("emails", "emails", &items, 30, 1024).expect_err("too long");
        assert!(err.is_invalid_input());
    }
}
