//! What the handlers share: the output shapes, path ids, lookups and body parsing (paging is
//! `crate::pagination`'s).

pub(super) use serde::Serialize;
pub(super) use serde_json::{Map, Value};

pub(super) use super::{Call, Success};
pub(super) use crate::pagination::{ListKind, PageOut, PageRequest};
pub(super) use crate::state::{
    AuditResource, InvitePermission, Label, Member, PermissionResource, Policy, RESOURCE_TYPES,
    Resource, State, email_key,
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

/// Refuses (422, nothing changed) a permission narrowed by a label the workspace does not
/// have; `path` names the `labels` array.
pub(super) fn check_known_labels(st: &State, labels: &[Label], path: &str) -> Result<(), ApiError> {
    match st.unknown_label(labels) {
        None => Ok(()),
        Some(l) => {
            let k = labels.iter().position(|x| x == l).unwrap_or(0);
            Err(ApiError::invalid(
                format!("{path}.{k}"),
                format!("\"{path}.{k}\": the workspace has no label `{l}`"),
            ))
        }
    }
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
