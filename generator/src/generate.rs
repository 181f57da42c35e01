//! Drives progenitor and our two small emitters, and formats every file the same way.

use std::panic::{AssertUnwindSafe, catch_unwind};

use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

use crate::check::Report;
use crate::document::Document;
use crate::error::GeneratorError;
use crate::{meta, open_enum};

/// The Rust path of the client crate, as the httpmock crate names it.
const CLIENT_CRATE: &str = "segment_iam_api";

/// One file to write, relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the workspace root, with `/` separators.
    pub path: String,
    /// The complete, formatted contents.
    pub contents: String,
}

/// Generates every file derived from the document: the client, its operation table, its open
/// enums and the httpmock helpers. Deterministic: the same document gives the same bytes.
pub fn generate(document: &Document) -> Result<Vec<GeneratedFile>, GeneratorError> {
    let report = document.check()?;
    let settings = settings(&report);

    let client = run_progenitor(|| Generator::new(&settings).generate_tokens(&document.spec))?;
    // progenitor's httpmock matchers cannot express array query parameters (they would match
    // `emails=a`, which is not what goes over the wire anyway), so the mocks are generated from
    // a copy of the document without them; tests match those parameters by hand if they must.
    let mock_spec = without_array_query_params(&document.spec, &report);
    let mocks = run_progenitor(|| Generator::new(&settings).httpmock(&mock_spec, CLIENT_CRATE))?;

    Ok(vec![
        render(
            "crates/segment-iam-api/src/generated.rs",
            &document.source_name,
            quote! { #client },
        )?,
        render(
            "crates/segment-iam-api/src/operations.rs",
            &document.source_name,
            meta::operation_table(&report, &client)?,
        )?,
        render(
            "crates/segment-iam-api/src/open_enums.rs",
            &document.source_name,
            open_enum::emit_all(&report.open_enums),
        )?,
        render(
            "crates/segment-iam-httpmock/src/generated.rs",
            &document.source_name,
            mocks,
        )?,
    ])
}

/// The progenitor settings of this project: builder methods grouped by tag, every request
/// routed through `crate::Transport`, schemars derives, open enums swapped for our own types.
fn settings(report: &Report) -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Separate)
        .with_inner_type(quote! { crate::Transport })
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq");
    for open in &report.open_enums {
        settings.with_replacement(
            &open.name,
            format!("crate::open_enums::{}", open.name),
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
    settings
}

/// A copy of `spec` whose operations lack the array query parameters the report found.
fn without_array_query_params(spec: &openapiv3::OpenAPI, report: &Report) -> openapiv3::OpenAPI {
    let mut spec = spec.clone();
    let array_names: Vec<&str> = report
        .array_query_params()
        .map(|(_, p)| p.name.as_str())
        .collect();
    for item in spec.paths.paths.values_mut() {
        let openapiv3::ReferenceOr::Item(item) = item else {
            continue;
        };
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            operation.parameters.retain(|parameter| match parameter {
                openapiv3::ReferenceOr::Item(openapiv3::Parameter::Query {
                    parameter_data,
                    ..
                }) => !array_names.contains(&parameter_data.name.as_str()),
                _ => true,
            });
        }
    }
    spec
}

/// Runs a progenitor step, turning both its errors and its panics into [`GeneratorError`].
fn run_progenitor(
    step: impl FnOnce() -> Result<TokenStream, progenitor::Error>,
) -> Result<TokenStream, GeneratorError> {
    match catch_unwind(AssertUnwindSafe(step)) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(GeneratorError::Progenitor(e.to_string())),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panicked".to_string());
            Err(GeneratorError::Progenitor(message))
        }
    }
}

/// Parses tokens as a file, pretty-prints them, and puts the do-not-edit header on top.
fn render(
    path: &str,
    source_name: &str,
    tokens: TokenStream,
) -> Result<GeneratedFile, GeneratorError> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| GeneratorError::Format {
        file: path.to_string(),
        message: e.to_string(),
    })?;
    let source = source_name.replace('\\', "/");
    let source = source
        .rsplit_once("openapi/")
        .map_or(source.as_str(), |(_, rest)| rest);
    let contents = format!(
        "// @generated by `cargo xtask codegen` from openapi/{source}.\n\
         // Do not edit: change the document or the generator and run `cargo xtask codegen`.\n\n{}",
        prettyplease::unparse(&file)
    );
    Ok(GeneratedFile {
        path: path.to_string(),
        contents,
    })
}
