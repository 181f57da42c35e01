//! Property tests: the `name.N` query encoding round-trips through the emulator's decoder for
//! arbitrary strings; the generated answer types ignore unknown fields anywhere, refuse a
//! missing or mistyped required field, and refuse what is not JSON. (The
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

/// Arbitrary JSON values, nested a few levels, for the values of unknown fields.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A documented answer of each kind, with the JSON pointers of its required fields.
fn examples() -> Vec<(&'static str, serde_json::Value, &'static [&'static str])> {
    use serde_json::json;
    let user = json!({"id": "u1", "name": "Ann", "email": "ann@x.com",
        "permissions": [{"roleId": "r", "roleName": "Owner", "resources": [{"id": "w", "type": "WORKSPACE"}]}]});
    let page = json!({"current": "MA==", "next": "MQ==", "totalEntries": 3});
    vec![
        (
            "get_user",
            json!({"data": {"user": user}}),
            &[
                "/data",
                "/data/user",
                "/data/user/id",
                "/data/user/email",
                "/data/user/permissions/0/roleId",
                "/data/user/permissions/0/resources/0/type",
            ],
        ),
        (
            "list_users",
            json!({"data": {"users": [user], "pagination": page}}),
            &[
                "/data/users",
                "/data/pagination",
                "/data/pagination/current",
                "/data/users/0/name",
            ],
        ),
        (
            "list_user_groups",
            json!({"data": {"userGroups": [{"id": "g", "name": "G", "memberCount": 2}], "pagination": page}}),
            &[
                "/data/userGroups/0/id",
                "/data/userGroups/0/memberCount",
                "/data/pagination",
            ],
        ),
        (
            "create_invites",
            json!({"data": {"emails": ["a@x.com"]}}),
            &["/data/emails"],
        ),
        (
            "delete_users",
            json!({"data": {"status": "SUCCESS"}}),
            &["/data/status"],
        ),
        (
            "list_roles",
            json!({"data": {"roles": [{"id": "r", "name": "Owner", "description": "all"}], "pagination": page}}),
            &[
                "/data/roles/0/id",
                "/data/roles/0/description",
                "/data/roles",
            ],
        ),
        (
            "get_workspace",
            json!({"data": {"workspace": {"id": "w", "slug": "s", "name": "n"}}}),
            &["/data/workspace/slug", "/data/workspace"],
        ),
    ]
}

/// Decodes `doc` as operation `op`'s documented answer and re-encodes it: `Err` when the
/// generated type refuses it.
fn decode(op: &str, doc: &serde_json::Value) -> Result<serde_json::Value, String> {
    fn via<T: serde::de::DeserializeOwned + serde::Serialize>(
        doc: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let text = serde_json::to_vec(doc).map_err(|e| e.to_string())?;
        let value: T = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
        serde_json::to_value(value).map_err(|e| e.to_string())
    }
    match op {
        "get_user" => via::<types::GetUser200Response>(doc),
        "list_users" => via::<types::ListUsers200Response>(doc),
        "list_user_groups" => via::<types::ListUserGroups200Response>(doc),
        "create_invites" => via::<types::CreateInvites201Response>(doc),
        "delete_users" => via::<types::DeleteUsers200Response>(doc),
        "list_roles" => via::<types::ListRoles200Response>(doc),
        "get_workspace" => via::<types::GetWorkspace200Response>(doc),
        other => Err(format!("no type for {other}")),
    }
}

/// Every object of `doc` (by JSON pointer), to graft unknown fields onto.
fn object_pointers(doc: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match doc {
        serde_json::Value::Object(map) => {
            out.push(at.clone());
            for (k, v) in map {
                object_pointers(v, format!("{at}/{k}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                object_pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Cases: 512 documented answers (7 kinds) with 1..4 arbitrary unknown fields grafted
    /// onto arbitrary objects in them. Asserts: each still decodes, to exactly what the
    /// untouched answer decodes to (the service may add fields; clients must ignore them).
    #[test]
    fn unknown_fields_anywhere_in_an_answer_are_ignored(
        which in 0usize..7,
        grafts in prop::collection::vec(("[a-z]{1,6}X[a-z]{0,4}", json(), any::<prop::sample::Index>()), 1..4),
    ) {
        let (op, doc, _) = examples().swap_remove(which);
        let plain = decode(op, &doc).expect("the documented example decodes");
        let mut grafted = doc.clone();
        for (key, value, at) in grafts {
            let mut pointers = Vec::new();
            object_pointers(&grafted, String::new(), &mut pointers);
            let pointer = at.get(&pointers).clone();
            if let Some(serde_json::Value::Object(map)) = grafted.pointer_mut(&pointer) {
                map.insert(key, value);
            }
        }
        prop_assert_eq!(decode(op, &grafted), Ok(plain));
    }

    /// Cases: 512 documented answers (7 kinds) with one required field removed, or replaced
    /// by a value of the wrong type. Asserts: the decode is an error — never a default value
    /// standing in for what the service did not say.
    #[test]
    fn a_missing_or_mistyped_required_field_is_an_error(
        which in 0usize..7,
        field in any::<prop::sample::Index>(),
        replace_with in prop_oneof![Just(None), Just(Some(serde_json::json!(true))), Just(Some(serde_json::json!(null)))],
    ) {
        let (op, mut doc, required) = examples().swap_remove(which);
        let pointer = field.get(required);
        let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
        match (doc.pointer_mut(parent), &replace_with) {
            (Some(serde_json::Value::Object(map)), None) => { map.remove(key); }
            (Some(serde_json::Value::Object(map)), Some(v)) => { map.insert(key.to_string(), v.clone()); }
            (Some(serde_json::Value::Array(items)), None) => { items.clear(); items.push(serde_json::json!(7)); }
            (Some(serde_json::Value::Array(items)), Some(v)) => { items.clear(); items.push(v.clone()); }
            _ => prop_assert!(false, "{} is not in the {} example", pointer, op),
        }
        prop_assert!(decode(op, &doc).is_err(), "{} accepted without a valid {}: {}", op, pointer, doc);
    }

    /// Cases: 1024 arbitrary byte strings that are not JSON. Asserts: every answer type
    /// refuses them (an error, never a panic or a default value).
    #[test]
    fn bytes_that_are_not_json_are_refused_by_every_answer_type(
        bytes in prop::collection::vec(any::<u8>(), 0..256)
    ) {
        prop_assume!(serde_json::from_slice::<serde_json::Value>(&bytes).is_err());
        for (op, _, _) in examples() {
            let refused = match op {
                "get_user" => serde_json::from_slice::<types::GetUser200Response>(&bytes).is_err(),
                "list_users" => serde_json::from_slice::<types::ListUsers200Response>(&bytes).is_err(),
                "list_user_groups" => serde_json::from_slice::<types::ListUserGroups200Response>(&bytes).is_err(),
                "create_invites" => serde_json::from_slice::<types::CreateInvites201Response>(&bytes).is_err(),
                "delete_users" => serde_json::from_slice::<types::DeleteUsers200Response>(&bytes).is_err(),
                "list_roles" => serde_json::from_slice::<types::ListRoles200Response>(&bytes).is_err(),
                _ => serde_json::from_slice::<types::GetWorkspace200Response>(&bytes).is_err(),
            };
            prop_assert!(refused, "{} accepted non-JSON", op);
        }
    }
}
