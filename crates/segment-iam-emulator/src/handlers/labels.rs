//! `/labels`: list (not paginated), create (422 malformed, 409 existing), delete (404 unknown,
//! 409 in use on a source or narrowing a permission, nothing changed).

use super::support::*;
use crate::state::LabelUse;

#[derive(Serialize)]
struct LabelOut<'a> {
    label: &'a Label,
}

/// `ListLabels`: every label at once, in creation order.
pub(super) fn list(st: &mut State, _call: &Call) -> Result<Success, ApiError> {
    #[derive(Serialize)]
    struct Out<'a> {
        labels: &'a [Label],
    }
    ok(200, data_body(&Out { labels: &st.labels }))
}

/// `CreateLabel`: body `{label: {key, value, description?}}`.
pub(super) fn create(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let obj = parse_object(call.body)?;
    let label = match obj.get("label") {
        None | Some(Value::Null) => return Err(ApiError::required("label")),
        Some(v) => as_object(v, "label")?,
    };
    let key = req_str(label, "key", "label.key")?;
    let value = req_str(label, "value", "label.value")?;
    let description = opt_str(label, "description", "label.description")?;
    for (field, part) in [("label.key", key), ("label.value", value)] {
        if let Some(problem) = Label::part_problem(part) {
            return Err(ApiError::invalid(
                field,
                format!(
                    "\"{field}\" {problem} (labels are `key:value`; each part starts with a letter and holds letters, digits and hyphens)"
                ),
            ));
        }
    }
    if st.has_label(key, value) {
        return Err(ApiError::conflict(
            "label",
            format!("label {key}:{value} already exists"),
        ));
    }
    let created = Label {
        key: key.to_string(),
        value: value.to_string(),
        description: description.map(str::to_string),
    };
    st.audit(
        "Label Created",
        AuditResource::label(&created),
        created.to_string(),
        description.unwrap_or(""),
    );
    st.labels.push(created);
    let label = st.labels.last().ok_or_else(|| {
        ApiError::new(
            500,
            "server-error",
            "the created label is not in the workspace",
        )
    })?;
    ok(201, data_body(&LabelOut { label }))
}

/// `DeleteLabel`: `/labels/{key}/{value}`.
pub(super) fn delete(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let key = call.params.first().map(String::as_str).unwrap_or("");
    let value = call.params.get(1).map(String::as_str).unwrap_or("");
    check_id("key", key)?;
    check_id("value", value)?;
    let Some(at) = st.labels.iter().position(|l| l.is(key, value)) else {
        return Err(ApiError::not_found(format!(
            "label {key}:{value} not found"
        )));
    };
    let used: LabelUse = st.label_use(key, value);
    if !used.is_unused() {
        return Err(ApiError::new(
            409,
            "conflict",
            format!("label {key}:{value} is in use by {used}"),
        ));
    }
    let removed = st.labels.remove(at);
    st.audit(
        "Label Deleted",
        AuditResource::label(&removed),
        removed.to_string(),
        "",
    );
    status_success()
}
