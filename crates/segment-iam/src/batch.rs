//! Batching: bulk removals whose items travel in the URL (`emails.0=..`, `userIds.0=..`),
//! split into requests that each fit under the client's URL limit, sent in order, with a
//! precise account of what was applied when one of them fails. The path and the array
//! parameter come from the operation's descriptor, never typed by hand.

use segment_iam_api::Deletion;
use segment_iam_api::query::encode_indexed;

use crate::error::{Error, Result};
use crate::transport::call::Call;

/// What a bulk call did.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[non_exhaustive]
pub struct BulkOutcome {
    /// Every item applied, in input order.
    pub applied: Vec<String>,
    /// How many requests it took.
    pub requests: u64,
}

/// Splits `items` into consecutive chunks whose query (`name.0=..&name.1=..`) keeps the URL at
/// most `max_url_len` long, given `base_len` bytes before the `?`. Keeps order, never drops or
/// repeats an item; an item that cannot fit even alone is an error.
pub(crate) fn plan_chunks(
    field: &str,
    name: &str,
    items: &[impl AsRef<str>],
    base_len: usize,
    max_url_len: usize,
) -> Result<Vec<std::ops::Range<usize>>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    // Length of the URL so far: base + '?' + the pairs of the current chunk.
    let mut len = base_len + 1;
    for (i, item) in items.iter().enumerate() {
        let index_in_chunk = i - start;
        let pair = pair_len(name, index_in_chunk, item.as_ref());
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
        let pair = pair_len(name, 0, item.as_ref());
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

/// The chunks removing `items` with bulk deletion `operation` takes at this URL limit: the
/// same plan [`remove`] follows, for callers that state a request count before sending.
pub(crate) fn planned_chunks(
    operation: segment_iam_api::Operation,
    base_url: &str,
    max_url_len: usize,
    path_values: &[&str],
    field: &str,
    items: &[impl AsRef<str>],
) -> Result<Vec<std::ops::Range<usize>>> {
    let meta = operation.meta();
    let [name] = meta.indexed_array_query_params else {
        return Err(Error::invalid(
            field,
            format!("{} is not a bulk removal", meta.operation_id),
        ));
    };
    let base_len = base_url.len() + meta.path_with(path_values).len();
    plan_chunks(field, name, items, base_len, max_url_len)
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

/// The encoded length of `name.index=value`.
fn pair_len(name: &str, index: usize, value: &str) -> usize {
    // encode_indexed writes `name.0=..`; only the index digits differ.
    encode_indexed(name, &[value]).len() - 1 + index.to_string().len()
}

/// Removes `items` with deletion `R`, in planned chunks, in order, stopping at the first
/// failure. `path_values` fill the operation's path placeholders; `build` makes the request
/// for one chunk. When the first request fails, its error is returned as it is (nothing was
/// applied); a later failure is [`Error::Partial`]. Either way a refusal names the item the
/// service pointed at ([`crate::ServiceError::item`]).
pub(crate) async fn remove<'c, R, T, F>(
    call: &'c Call,
    base_url: &str,
    max_url_len: usize,
    path_values: &[&str],
    field: &str,
    items: Vec<T>,
    build: F,
) -> Result<BulkOutcome>
where
    R: Deletion + 'c,
    T: Clone + std::ops::Deref,
    T::Target: AsRef<str>,
    F: Fn(&'c segment_iam_api::Client, Vec<T>) -> R,
{
    let meta = const {
        let meta = R::OPERATION.meta();
        assert!(
            meta.indexed_array_query_params.len() == 1,
            "a bulk removal sends its items in exactly one indexed array parameter"
        );
        meta
    };
    let name = meta.indexed_array_query_params[0];
    let base_len = base_url.len() + meta.path_with(path_values).len();
    let texts: Vec<&str> = items.iter().map(|item| (**item).as_ref()).collect();
    let chunks = plan_chunks(field, name, &texts, base_len, max_url_len)?;
    let mut outcome = BulkOutcome::default();
    for chunk in chunks {
        let batch = items[chunk.clone()].to_vec();
        outcome.requests += 1;
        if let Err(source) = call.delete(build(call.api(), batch)).await {
            let source = source.naming_item(name, &texts[chunk.clone()]);
            if outcome.applied.is_empty() {
                return Err(source);
            }
            tracing::warn!(
                target: "segment_iam::bulk",
                applied = outcome.applied.len(),
                failed_from = chunk.start,
                "a bulk request failed; reporting what was applied"
            );
            return Err(Error::Partial {
                applied: outcome.applied,
                not_applied: owned(&texts[chunk.start..]),
                source: Box::new(source),
            });
        }
        outcome.applied.extend(owned(&texts[chunk]));
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The URL the planner promises to keep under the limit, built the way `reqwest` builds a
    /// query (the `url` crate's form encoding) — not with `encode_indexed`, which the planner
    /// itself uses.
    fn url_len(base_len: usize, items: &[String]) -> usize {
        let mut url = reqwest::Url::parse("http://h/").expect("url");
        {
            let mut query = url.query_pairs_mut();
            for (i, item) in items.iter().enumerate() {
                query.append_pair(&format!("emails.{i}"), item);
            }
        }
        base_len + 1 + url.query().map_or(0, str::len)
    }

    /// Strings from all of Unicode, or from the characters a query treats specially.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[&=#%+ ?/@.\\[\\]\\\\;,\"'<>\u{0}\u{7f}é€😀\u{feff}\u{10ffff}]{0,12}",
            "[a-z0-9._%+-]{1,10}@[a-z0-9.-]{1,10}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// 512 lists of 0..200 arbitrary strings against URL limits of 40..2000 bytes: every
        /// chunk's URL fits, chunks are contiguous, in order, non-empty and cover every item
        /// once, each chunk is as long as it can be; an error only when an item cannot fit alone.
        #[test]
        fn chunks_fit_the_url_limit_and_keep_every_item_once_in_order(
            items in prop::collection::vec(value(), 0..200),
            base_len in 10usize..60,
            extra in 30usize..2000,
        ) {
            let max = base_len + extra;
            match plan_chunks("emails", "emails", &items, base_len, max) {
                Ok(chunks) => {
                    let mut next = 0;
                    for chunk in &chunks {
                        prop_assert_eq!(chunk.start, next);
                        prop_assert!(chunk.end > chunk.start, "no empty chunk");
                        let len = url_len(base_len, &items[chunk.clone()]);
                        prop_assert!(len <= max, "{} > {}", len, max);
                        if chunk.end < items.len() {
                            let more = url_len(base_len, &items[chunk.start..=chunk.end]);
                            prop_assert!(more > max, "chunk {:?} could take one more", chunk);
                        }
                        next = chunk.end;
                    }
                    prop_assert_eq!(next, items.len());
                }
                Err(e) => {
                    prop_assert!(e.is_invalid_input());
                    let too_long = items
                        .iter()
                        .any(|i| url_len(base_len, std::slice::from_ref(i)) > max);
                    prop_assert!(too_long, "refused although every item fits alone: {}", e);
                }
            }
        }
    }

    #[test]
    fn a_url_of_exactly_the_limit_is_one_chunk_and_one_byte_more_is_two() {
        let items: Vec<String> = vec!["a@x.io".into(), "b@x.io".into()];
        let exact = url_len(20, &items);
        assert_eq!(
            plan_chunks("emails", "emails", &items, 20, exact).expect("plan"),
            vec![0..2]
        );
        assert_eq!(
            plan_chunks("emails", "emails", &items, 20, exact - 1).expect("plan"),
            vec![0..1, 1..2]
        );
        let alone = url_len(20, &items[..1]);
        assert_eq!(
            plan_chunks("emails", "emails", &items[..1], 20, alone).expect("plan"),
            vec![0..1]
        );
        let error = plan_chunks("emails", "emails", &items[..1], 20, alone - 1)
            .expect_err("too long alone");
        assert!(error.is_invalid_input(), "{error}");
        // After a split, an item that exactly fills a URL alone still fits.
        let long: Vec<String> = vec!["a@x.io".into(), format!("{}@x.io", "l".repeat(40))];
        let second_alone = url_len(20, &long[1..]);
        assert_eq!(
            plan_chunks("emails", "emails", &long, 20, second_alone).expect("plan"),
            vec![0..1, 1..2]
        );
        assert!(plan_chunks("emails", "emails", &long, 20, second_alone - 1).is_err());
    }

    #[test]
    fn planned_chunks_count_the_base_url_and_the_operations_path() {
        let items: Vec<String> = vec!["a@x.io".into(), "b@x.io".into()];
        let base = "http://127.0.0.1:1234";
        let full = format!("{base}/invites?emails.0=a%40x.io&emails.1=b%40x.io").len();
        let plan = |limit| {
            planned_chunks(
                segment_iam_api::Operation::DeleteInvites,
                base,
                limit,
                &[],
                "emails",
                &items,
            )
            .expect("plan")
        };
        assert_eq!(plan(full), vec![0..2]);
        assert_eq!(plan(full - 1), vec![0..1, 1..2]);
        let not_bulk = planned_chunks(
            segment_iam_api::Operation::GetUser,
            base,
            full,
            &["u"],
            "ids",
            &items,
        );
        assert!(not_bulk.is_err());
    }
}
