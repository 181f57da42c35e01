//! The rules a document must follow before progenitor sees it, and the facts about it that the
//! transport needs (which query parameters are arrays, which operations mutate).
//!
//! progenitor panics on some malformed input (a path item given as `$ref`, for one); these
//! checks turn every such case we know of into a [`GeneratorError`] first.

use std::collections::BTreeMap;

use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
};

use crate::document::Document;
use crate::error::GeneratorError;

/// What the checks learned about the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Every operation, in document order.
    pub operations: Vec<OperationSummary>,
    /// Every schema marked `x-open-enum`, with its known values.
    pub open_enums: Vec<OpenEnum>,
}

/// One operation as the transport sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSummary {
    /// The `operationId`, which is also the generated method's name.
    pub operation_id: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template, e.g. `/group/{userGroupId}/users`.
    pub path: String,
    /// The first tag: the resource the operation belongs to.
    pub tag: String,
    /// Query parameters whose schema is an array: sent as `name.0=..&name.1=..`.
    pub array_query_params: Vec<ArrayQueryParam>,
}

impl OperationSummary {
    /// Whether the service counts it against the mutation limit (60 per window): every method
    /// but GET, as the documentation's rate-limit table says.
    pub fn is_mutation(&self) -> bool {
        self.method != "GET"
    }

    /// Whether sending it twice cannot apply it twice: every method but POST.
    pub fn is_idempotent(&self) -> bool {
        self.method != "POST"
    }

    /// Whether it removes something, so that a repeat after it was applied meets a 404.
    pub fn is_deletion(&self) -> bool {
        self.method == "DELETE"
    }
}

/// A query parameter whose schema is an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayQueryParam {
    /// The parameter's wire name.
    pub name: String,
    /// Whether the operation cannot be called without it.
    pub required: bool,
}

/// A string enum whose unknown values must decode as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEnum {
    /// The schema name.
    pub name: String,
    /// The schema's description, if any.
    pub description: Option<String>,
    /// The known values, in document order.
    pub values: Vec<String>,
}

impl Report {
    /// Every `(operationId, parameter)` pair that needs indexed array encoding.
    pub fn array_query_params(&self) -> impl Iterator<Item = (&str, &ArrayQueryParam)> {
        self.operations.iter().flat_map(|op| {
            op.array_query_params
                .iter()
                .map(move |p| (op.operation_id.as_str(), p))
        })
    }
}

impl Document {
    /// Checks the document and reports what the generator and transport need to know.
    pub fn check(&self) -> Result<Report, GeneratorError> {
        check_refs(&self.raw, &self.raw, &mut String::new())?;
        let operations = collect_operations(&self.spec)?;
        let open_enums = collect_open_enums(&self.spec)?;
        Ok(Report {
            operations,
            open_enums,
        })
    }
}

/// Walks the raw tree and resolves every `$ref` as a JSON pointer into the document itself.
fn check_refs(
    root: &serde_json::Value,
    node: &serde_json::Value,
    at: &mut String,
) -> Result<(), GeneratorError> {
    match node {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(reference)) = map.get("$ref") {
                let pointer_at = if at.is_empty() {
                    "/".to_string()
                } else {
                    at.clone()
                };
                let Some(pointer) = reference.strip_prefix('#') else {
                    return Err(GeneratorError::ExternalRef {
                        reference: reference.clone(),
                        at: pointer_at,
                    });
                };
                if root.pointer(pointer).is_none() {
                    return Err(GeneratorError::DanglingRef {
                        reference: reference.clone(),
                        at: pointer_at,
                    });
                }
            }
            for (key, value) in map {
                let len = at.len();
                at.push('/');
                at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                check_refs(root, value, at)?;
                at.truncate(len);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                check_refs(root, value, at)?;
                at.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

fn collect_operations(spec: &OpenAPI) -> Result<Vec<OperationSummary>, GeneratorError> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut operations = Vec::new();
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            return Err(GeneratorError::PathItemRef { path: path.clone() });
        };
        for (method, operation) in item.iter() {
            let method = method.to_ascii_uppercase();
            let place = format!("{method} {path}");
            let operation_id = operation.operation_id.clone().ok_or_else(|| {
                GeneratorError::MissingOperationId {
                    method: method.clone(),
                    path: path.clone(),
                }
            })?;
            if let Some(first) = seen.insert(operation_id.clone(), place.clone()) {
                return Err(GeneratorError::DuplicateOperationId {
                    operation_id,
                    first,
                    second: place,
                });
            }
            let tag =
                operation
                    .tags
                    .first()
                    .cloned()
                    .ok_or_else(|| GeneratorError::MissingTag {
                        operation_id: operation_id.clone(),
                    })?;
            let mut array_query_params = Vec::new();
            for parameter in item.parameters.iter().chain(&operation.parameters) {
                if let Some(Parameter::Query { parameter_data, .. }) =
                    resolve_parameter(spec, parameter)
                    && let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format
                    && resolve_schema(spec, schema)
                        .is_some_and(|s| matches!(s.schema_kind, SchemaKind::Type(Type::Array(_))))
                {
                    array_query_params.push(ArrayQueryParam {
                        name: parameter_data.name.clone(),
                        required: parameter_data.required,
                    });
                }
            }
            operations.push(OperationSummary {
                operation_id,
                method,
                path: path.clone(),
                tag,
                array_query_params,
            });
        }
    }
    Ok(operations)
}

fn collect_open_enums(spec: &OpenAPI) -> Result<Vec<OpenEnum>, GeneratorError> {
    let mut found = Vec::new();
    let Some(components) = &spec.components else {
        return Ok(found);
    };
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        let marked = schema
            .schema_data
            .extensions
            .get("x-open-enum")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        if !marked {
            continue;
        }
        let SchemaKind::Type(Type::String(string)) = &schema.schema_kind else {
            return Err(GeneratorError::BadOpenEnum { name: name.clone() });
        };
        let values: Vec<String> = string.enumeration.iter().flatten().cloned().collect();
        if values.is_empty() {
            return Err(GeneratorError::BadOpenEnum { name: name.clone() });
        }
        found.push(OpenEnum {
            name: name.clone(),
            description: schema.schema_data.description.clone(),
            values,
        });
    }
    Ok(found)
}

/// Follows a parameter `$ref` into `components.parameters` (one level, as the document writes them).
fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    parameter: &'a ReferenceOr<Parameter>,
) -> Option<&'a Parameter> {
    match parameter {
        ReferenceOr::Item(p) => Some(p),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/parameters/")?;
            match spec.components.as_ref()?.parameters.get(name)? {
                ReferenceOr::Item(p) => Some(p),
                ReferenceOr::Reference { .. } => None,
            }
        }
    }
}

/// Follows a schema `$ref` into `components.schemas`, up to a fixed depth (no cycles possible).
fn resolve_schema<'a>(spec: &'a OpenAPI, schema: &'a ReferenceOr<Schema>) -> Option<&'a Schema> {
    let mut current = schema;
    for _ in 0..16 {
        match current {
            ReferenceOr::Item(s) => return Some(s),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/schemas/")?;
                current = spec.components.as_ref()?.schemas.get(name)?;
            }
        }
    }
    None
}
