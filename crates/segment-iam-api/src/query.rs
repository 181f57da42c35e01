//! The service's query-array form: `emails.0=a%40x.com&emails.1=b%2Bqa%40x.com`.
//!
//! progenitor (like most generators) writes an array as repeated keys, `emails=a&emails=b`,
//! which the service does not read as an array; a one-element list would even look like a
//! scalar. [`index_array_params`] rewrites those keys in place. It is the only place in the
//! project that knows this encoding.

use std::collections::HashMap;

/// Rewrites every repeated `name=value` pair whose `name` is in `array_params` to
/// `name.N=value`, numbering from 0 in order. Other pairs keep their order and value. Values are
/// re-encoded as `application/x-www-form-urlencoded`: `+` becomes `%2B`, `@` `%40`, space `+`.
pub fn index_array_params(url: &mut reqwest::Url, array_params: &[&str]) {
    if array_params.is_empty() || url.query().is_none() {
        return;
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !pairs
        .iter()
        .any(|(k, _)| array_params.contains(&k.as_str()))
    {
        return;
    }
    let mut next_index: HashMap<&str, usize> = HashMap::new();
    let mut query = url.query_pairs_mut();
    query.clear();
    for (key, value) in &pairs {
        match array_params.iter().find(|name| **name == key.as_str()) {
            Some(name) => {
                let index = next_index.entry(name).or_insert(0);
                query.append_pair(&format!("{name}.{index}"), value);
                *index += 1;
            }
            None => {
                query.append_pair(key, value);
            }
        }
    }
}

/// Builds the query string for `name` and `values` alone, exactly as [`index_array_params`]
/// writes it. The facade uses it to measure a chunk's URL length before sending anything.
pub fn encode_indexed(name: &str, values: &[impl AsRef<str>]) -> String {
    // A throwaway URL gives us the very serializer `index_array_params` uses.
    let Ok(mut url) = reqwest::Url::parse("http://x/") else {
        return String::new();
    };
    {
        let mut query = url.query_pairs_mut();
        for (index, value) in values.iter().enumerate() {
            query.append_pair(&format!("{name}.{index}"), value.as_ref());
        }
    }
    url.query().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(query: &str, names: &[&str]) -> String {
        let mut url = reqwest::Url::parse(&format!("http://h/p?{query}")).expect("test URL");
        index_array_params(&mut url, names);
        url.query().unwrap_or("").to_string()
    }

    #[test]
    fn repeated_keys_become_indexed() {
        assert_eq!(
            rewrite("emails=a%2Bb%40x.com&emails=c%40x.com", &["emails"]),
            "emails.0=a%2Bb%40x.com&emails.1=c%40x.com"
        );
    }

    #[test]
    fn a_single_element_is_still_an_array() {
        assert_eq!(rewrite("userIds=u1", &["userIds"]), "userIds.0=u1");
    }

    #[test]
    fn other_pairs_keep_order() {
        assert_eq!(
            rewrite("pagination.count=2&emails=a&x=1&emails=b", &["emails"]),
            "pagination.count=2&emails.0=a&x=1&emails.1=b"
        );
    }

    #[test]
    fn reserved_and_non_ascii_characters_are_encoded() {
        assert_eq!(
            rewrite("emails=%C3%A9+%26%3D%23%25", &["emails"]),
            "emails.0=%C3%A9+%26%3D%23%25"
        );
    }

    #[test]
    fn untouched_without_array_params() {
        assert_eq!(rewrite("emails=a", &[]), "emails=a");
        assert_eq!(rewrite("other=a", &["emails"]), "other=a");
    }

    #[test]
    fn encode_indexed_matches_rewrite() {
        let values = ["a+b@x.com", "c d", "é"];
        assert_eq!(
            encode_indexed("emails", &values),
            rewrite("emails=a%2Bb%40x.com&emails=c+d&emails=%C3%A9", &["emails"])
        );
    }
}
