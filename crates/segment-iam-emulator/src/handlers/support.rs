//! What the handlers share: the output shapes, page parameters and cursors, path ids, lookups
//! and body parsing.

pub(super) use serde::Serialize;
pub(super) use serde_json::{Map, Value};

pub(super) use super::{Call, Success};
pub(super) use crate::pagination::{ListKind, Position};
pub(super) use crate::state::{
    InvitePermission, Label, Member, PermissionResource, Policy, RESOURCE_TYPES, Resource,
    SeqIndex, State, Window, email_key, window,
};
pub(super) use crate::wire::{
    ApiError, as_object, check_email, check_id, data_body, opt_array, opt_str, parse_object,
    req_array, req_str,
};

// ---- output shapes -----------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PermV1<'a> {
    pub(super) role_id: &'a str,
    pub(super) role_name: &'a str,
    pub(super) resources: &'a [PermissionResource],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccessPermV1<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) policy_id: Option<&'a str>,
    pub(super) role_id: &'a str,
    pub(super) role_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) subject_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) subject_type: Option<&'static str>,
    pub(super) resources: &'a [PermissionResource],
}

#[derive(Serialize)]
pub(super) struct UserV1<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) email: &'a str,
    pub(super) permissions: Vec<PermV1<'a>>,
}

#[derive(Serialize)]
pub(super) struct MinimalUserV1<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) email: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserGroupV1<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) member_count: usize,
    pub(super) permissions: Vec<PermV1<'a>>,
}

#[derive(Serialize)]
pub(super) struct MinimalUserGroupV1<'a> {
    pub(super) id: &'a str,
    pub(super) name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PageOut {
    pub(super) current: String,
    pub(super) next: Option<String>,
    pub(super) previous: Option<String>,
    pub(super) total_entries: usize,
}

#[derive(Serialize)]
pub(super) struct StatusOut {
    pub(super) status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserGroupOut<'a> {
    pub(super) user_group: UserGroupV1<'a>,
}

pub(super) fn perms<'a>(st: &'a State, policies: &'a [Policy]) -> Vec<PermV1<'a>> {
    policies
        .iter()
        .map(|p| PermV1 {
            role_id: &p.role_id,
            role_name: st.role_name(&p.role_id),
            resources: &p.resources,
        })
        .collect()
}

pub(super) fn ok(status: u16, body: Vec<u8>) -> Result<Success, ApiError> {
    Ok(Success { status, body })
}

pub(super) fn status_success() -> Result<Success, ApiError> {
    ok(200, data_body(&StatusOut { status: "SUCCESS" }))
}

// ---- input helpers -------------------------------------------------------------------

/// The page size and cursor of a list request.
pub(super) fn page_params(call: &Call) -> Result<(usize, Option<String>), ApiError> {
    let to_err = |e: crate::query::QueryError| ApiError::invalid(e.field, e.message);
    let count = match call
        .query
        .field("pagination", "count", call.strict)
        .map_err(to_err)?
    {
        None => 200,
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => n as usize,
            _ => {
                return Err(ApiError::invalid(
                    "pagination.count",
                    "\"pagination.count\" must be an integer from 1 to 1000",
                ));
            }
        },
    };
    let cursor = call
        .query
        .field("pagination", "cursor", call.strict)
        .map_err(to_err)?
        .filter(|c| !c.is_empty());
    Ok((count, cursor))
}

pub(super) fn start_after(
    call: &Call,
    cursor: Option<&str>,
    kind: ListKind,
    scope: u64,
) -> Result<u64, ApiError> {
    match cursor {
        None => Ok(0),
        Some(c) => call
            .codec
            .decode(c, kind, scope)
            .map(|p| p.after)
            .ok_or_else(|| {
                ApiError::invalid(
                    "pagination.cursor",
                    "\"pagination.cursor\" is not a valid cursor",
                )
            }),
    }
}

pub(super) fn page_out(
    call: &Call,
    w: &Window,
    kind: ListKind,
    scope: u64,
    after: u64,
    total: usize,
) -> PageOut {
    let enc = |after| call.codec.encode(Position { kind, scope, after });
    PageOut {
        current: enc(after),
        next: w.next_after.map(enc),
        previous: w.prev_after.map(enc),
        total_entries: total,
    }
}

pub(super) fn path_id<'a>(call: &'a Call, field: &str) -> Result<&'a str, ApiError> {
    let id = call.id.unwrap_or("");
    check_id(field, id)?;
    Ok(id)
}

pub(super) fn user_seq(st: &State, id: &str) -> Result<u64, ApiError> {
    st.user_by_id
        .get(id)
        .copied()
        .ok_or_else(|| ApiError::not_found(format!("user `{id}` not found")))
}

pub(super) fn group_seq(st: &State, id: &str) -> Result<u64, ApiError> {
    st.group_by_id
        .get(id)
        .copied()
        .ok_or_else(|| ApiError::not_found(format!("user group `{id}` not found")))
}

pub(super) fn query_array(call: &Call, name: &str) -> Result<Vec<String>, ApiError> {
    match call.query.array(name, call.strict) {
        Err(e) => Err(ApiError::invalid(e.field, e.message)),
        Ok(None) => Err(ApiError::required(name)),
        Ok(Some(v)) if v.is_empty() => Err(ApiError::invalid(
            name,
            format!("\"{name}\" must contain at least one item"),
        )),
        Ok(Some(v)) => Ok(v),
    }
}

pub(super) fn parse_labels(obj: &Map<String, Value>, path: &str) -> Result<Vec<Label>, ApiError> {
    let mut out = Vec::new();
    if let Some(labels) = opt_array(obj, "labels", &format!("{path}.labels"))? {
        for (k, l) in labels.iter().enumerate() {
            let lp = format!("{path}.labels.{k}");
            let lo = as_object(l, &lp)?;
            out.push(Label {
                key: req_str(lo, "key", &format!("{lp}.key"))?.to_string(),
                value: req_str(lo, "value", &format!("{lp}.value"))?.to_string(),
                description: opt_str(lo, "description", &format!("{lp}.description"))?
                    .map(str::to_string),
            });
        }
    }
    Ok(out)
}

pub(super) fn check_role(st: &State, role: &str, path: &str) -> Result<(), ApiError> {
    if role.is_empty() {
        return Err(ApiError::invalid(
            path,
            format!("\"{path}\" must not be empty"),
        ));
    }
    if !st.roles.contains_key(role) {
        return Err(ApiError::invalid(
            path,
            format!("\"{path}\": unknown role `{role}`"),
        ));
    }
    Ok(())
}

pub(super) fn parse_resource(
    st_types: &[&str],
    o: &Map<String, Value>,
    path: &str,
) -> Result<(String, String), ApiError> {
    let id = req_str(o, "id", &format!("{path}.id"))?;
    check_id(&format!("{path}.id"), id)?;
    let ty = req_str(o, "type", &format!("{path}.type"))?;
    if !st_types.contains(&ty) {
        return Err(ApiError::invalid(
            format!("{path}.type"),
            format!("\"{path}.type\" must be one of {}", st_types.join(", ")),
        ));
    }
    Ok((id.to_string(), ty.to_string()))
}

pub(super) fn permissions_out(
    st: &State,
    shown: &[Policy],
    subject: &str,
    subject_type: &'static str,
    extras: bool,
) -> Result<Success, ApiError> {
    let permissions: Vec<AccessPermV1> = shown
        .iter()
        .map(|p| AccessPermV1 {
            policy_id: extras.then_some(p.id.as_str()),
            role_id: &p.role_id,
            role_name: st.role_name(&p.role_id),
            subject_id: extras.then_some(subject),
            subject_type: extras.then_some(subject_type),
            resources: &p.resources,
        })
        .collect();
    #[derive(Serialize)]
    struct Out<'a> {
        permissions: Vec<AccessPermV1<'a>>,
    }
    ok(200, data_body(&Out { permissions }))
}
