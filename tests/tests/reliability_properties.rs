//! Property tests: the `name.N` query encoding round-trips through the emulator's decoder for
//! arbitrary strings; decoding arbitrary JSON into every response type never panics. (The
//! chunking property lives beside the planner, in the facade's `batch` unit tests.)

use proptest::prelude::*;
use segment_iam_api::query::{encode_indexed, index_array_params};
use segment_iam_api::types;
use segment_iam_emulator::query::DecodedQuery;

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

    /// Cases: 512 lists of 0..8 arbitrary strings. Asserts: `encode_indexed` output decodes
    /// with the emulator's strict decoder to exactly the same list, in order.
    #[test]
    fn indexed_encoding_of_arbitrary_strings_round_trips_through_the_emulator_decoder(
        values in prop::collection::vec(value(), 0..8)
    ) {
        let query = encode_indexed("emails", &values);
        let decoded = DecodedQuery::parse(&query).expect("decodable");
        let array = decoded.array("emails", true).expect("an array");
        if values.is_empty() {
            prop_assert_eq!(array, None);
        } else {
            prop_assert_eq!(array, Some(values));
        }
    }

    /// Cases: 512 lists of 1..8 arbitrary strings sent as repeated keys (what the generated
    /// client writes) beside other parameters. Asserts: after the transport's rewrite the
    /// emulator reads the array intact and the other parameters untouched.
    #[test]
    fn rewritten_repeated_keys_of_arbitrary_strings_round_trip_through_the_emulator_decoder(
        values in prop::collection::vec(value(), 1..8),
        other in value(),
    ) {
        let mut url = reqwest::Url::parse("http://127.0.0.1/invites").expect("url");
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("pagination.count", "5");
            for v in &values {
                pairs.append_pair("emails", v);
            }
            pairs.append_pair("other", &other);
        }
        index_array_params(&mut url, &["emails"]);
        let decoded = DecodedQuery::parse(url.query().unwrap_or("")).expect("decodable");
        prop_assert_eq!(decoded.array("emails", true).expect("array"), Some(values));
        prop_assert_eq!(decoded.field("pagination", "count", true).expect("field"), Some("5".to_string()));
        let others: Vec<&str> = decoded.pairs.iter().filter(|p| p.name == "other").map(|p| p.value.as_str()).collect();
        prop_assert_eq!(others, vec![other.as_str()]);
    }
}

/// Arbitrary JSON, nested up to a few levels, with the shapes the response types use.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)),
        any::<String>().prop_map(serde_json::Value::from),
        prop_oneof![
            Just("data"),
            Just("errors"),
            Just("pagination"),
            Just("users"),
            Just("userGroup"),
            Just("SUCCESS"),
            Just("WORKSPACE"),
            Just("current"),
            Just("totalEntries"),
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let keys = prop_oneof![
            Just("data".to_string()),
            Just("errors".to_string()),
            Just("pagination".to_string()),
            Just("users".to_string()),
            Just("user".to_string()),
            Just("userGroup".to_string()),
            Just("userGroups".to_string()),
            Just("invites".to_string()),
            Just("emails".to_string()),
            Just("groups".to_string()),
            Just("permissions".to_string()),
            Just("status".to_string()),
            Just("id".to_string()),
            Just("name".to_string()),
            Just("email".to_string()),
            Just("memberCount".to_string()),
            Just("current".to_string()),
            Just("next".to_string()),
            Just("totalEntries".to_string()),
            Just("type".to_string()),
            Just("resources".to_string()),
            any::<String>(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys, inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Decodes `text` into every response type of the API; only returns (the property is that
/// nothing panics). Returns how many types accepted it.
fn decode_everything(text: &[u8]) -> usize {
    macro_rules! each {
        ($($t:ty),* $(,)?) => {{
            let mut ok = 0;
            $( ok += usize::from(serde_json::from_slice::<$t>(text).is_ok()); )*
            ok
        }};
    }
    each!(
        types::AddPermissionsToUser200Response,
        types::AddPermissionsToUserGroup200Response,
        types::AddUsersToUserGroup200Response,
        types::CreateInvites201Response,
        types::CreateUserGroup200Response,
        types::DeleteInvites200Response,
        types::DeleteUserGroup200Response,
        types::DeleteUsers200Response,
        types::GetUser200Response,
        types::GetUserGroup200Response,
        types::ListInvites200Response,
        types::ListInvitesFromUserGroup200Response,
        types::ListUserGroups200Response,
        types::ListUserGroupsFromUser200Response,
        types::ListUsers200Response,
        types::ListUsersFromUserGroup200Response,
        types::RemoveUsersFromUserGroup200Response,
        types::ReplacePermissionsForUser200Response,
        types::ReplacePermissionsForUserGroup200Response,
        types::ReplaceUsersInUserGroup200Response,
        types::UpdateUserGroup200Response,
        types::RequestErrorEnvelope,
        types::PaginationOutput,
        types::UserV1,
        types::UserGroupV1,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Cases: 1024 arbitrary JSON documents x 25 response types (the 21 operations' answers,
    /// the error envelope, pagination, users, groups). Asserts: each decode returns a value or
    /// an error, never panics.
    #[test]
    fn decoding_arbitrary_json_into_every_response_type_returns_a_value_or_an_error(
        doc in json()
    ) {
        let text = serde_json::to_vec(&doc).expect("serializable");
        let _ = decode_everything(&text);
        let wrapped = serde_json::to_vec(&serde_json::json!({"data": doc})).expect("serializable");
        let _ = decode_everything(&wrapped);
    }

    /// Cases: 1024 arbitrary byte strings (not JSON at all) x 25 response types. Asserts:
    /// every decode is an error, never a panic.
    #[test]
    fn decoding_arbitrary_bytes_into_every_response_type_is_an_error_not_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..256)
    ) {
        let accepted = decode_everything(&bytes);
        if serde_json::from_slice::<serde_json::Value>(&bytes).is_err() {
            prop_assert_eq!(accepted, 0);
        }
    }
}

/// Cases: 1 (the documented success examples). Asserts: the generator of arbitrary JSON is
/// not vacuous: valid envelopes do decode.
#[test]
fn the_response_types_accept_documented_envelopes() {
    let list = br#"{"data":{"invites":["a@x.com"],"pagination":{"current":"MA=="}}}"#;
    assert!(serde_json::from_slice::<types::ListInvites200Response>(list).is_ok());
    let status = br#"{"data":{"status":"SUCCESS"}}"#;
    assert!(decode_everything(status) >= 4);
}
