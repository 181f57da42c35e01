//! Emits the typed operation table (`crates/segment-iam-api/src/operations.rs`): one
//! `Operation` variant per operationId with its descriptor (method, path, tag, rate-limit
//! bucket, idempotency, deletion, indexed array parameters), and, for every request builder
//! progenitor generated, the `OperationRequest` impl that ties the builder to its operation and
//! response type — so code generic over requests learns everything from the builder's type and
//! never names an operation by string.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::check::{OperationSummary, Report};
use crate::error::GeneratorError;

/// The operation table for `report`, given progenitor's client tokens (to read each builder's
/// response type from its `send` signature).
pub(crate) fn operation_table(
    report: &Report,
    client: &TokenStream,
) -> Result<TokenStream, GeneratorError> {
    let builders = builders(client)?;
    let variants: Vec<Ident> = report
        .operations
        .iter()
        .map(|op| variant(&op.operation_id))
        .collect();
    let docs = report
        .operations
        .iter()
        .map(|op| format!("`{}` — `{} {}`.", op.operation_id, op.method, op.path));
    let metas = report.operations.iter().map(meta);
    let ids = report.operations.iter().map(|op| &op.operation_id);
    let count = report.operations.len();

    let mut requests = Vec::new();
    let mut checks = Vec::new();
    for (op, variant) in report.operations.iter().zip(&variants) {
        let builder = builders
            .iter()
            .find(|b| b.operation_id == op.operation_id)
            .ok_or_else(|| GeneratorError::MissingBuilder {
                operation_id: op.operation_id.clone(),
            })?;
        let name = &builder.name;
        let response = &builder.response;
        checks.push(quote! {
            Operation::#variant => ::serde_json::from_slice::<crate::#response>(body).map(drop)
        });
        requests.push(quote! {
            impl<'a> crate::OperationRequest for crate::builder::#name<'a> {
                const OPERATION: Operation = Operation::#variant;
                type Response = crate::#response;
                fn send(self) -> impl ::std::future::Future<Output = crate::SendResult<Self::Response>> + Send {
                    crate::builder::#name::send(self)
                }
            }
        });
        if op.is_deletion() {
            requests.push(quote! {
                impl<'a> crate::Deletion for crate::builder::#name<'a> {}
            });
        }
    }

    Ok(quote! {
        //! The operations of the document as types: [`Operation`] and its descriptors, and the
        //! [`OperationRequest`](crate::OperationRequest) impl of every request builder.

        use crate::{Method, OperationMeta, RateLimitBucket};

        /// Every operation of the document.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Operation {
            #( #[doc = #docs] #variants, )*
        }

        impl Operation {
            /// Every operation, in document order.
            pub const ALL: [Operation; #count] = [#(Operation::#variants),*];

            /// How the operation goes over the wire.
            pub const fn meta(self) -> &'static OperationMeta {
                match self {
                    #( Operation::#variants => &#metas, )*
                }
            }

            /// Whether `body` decodes as the operation's documented success body, so a
            /// transport can tell a proxy's or a cut answer under a 2xx from the service's
            /// before the caller sees it.
            pub fn check_success_body(self, body: &[u8]) -> Result<(), ::serde_json::Error> {
                match self {
                    #(#checks,)*
                }
            }

            /// The operation whose `operationId` this is. Only the generated client's hook
            /// needs it (progenitor hands hooks the id as a string); code of ours names
            /// operations through this type.
            pub fn from_operation_id(operation_id: &str) -> Option<Operation> {
                match operation_id {
                    #( #ids => Some(Operation::#variants), )*
                    _ => None,
                }
            }
        }

        #(#requests)*
    })
}

/// The descriptor of one operation, as a constant expression.
fn meta(op: &OperationSummary) -> TokenStream {
    let id = &op.operation_id;
    let method = Ident::new(
        match op.method.as_str() {
            "GET" => "Get",
            "POST" => "Post",
            "PUT" => "Put",
            "PATCH" => "Patch",
            "DELETE" => "Delete",
            "HEAD" => "Head",
            "OPTIONS" => "Options",
            _ => "Trace",
        },
        Span::call_site(),
    );
    let path = &op.path;
    let tag = &op.tag;
    let bucket = Ident::new(
        if op.is_mutation() {
            "Mutations"
        } else {
            "Reads"
        },
        Span::call_site(),
    );
    let idempotent = op.is_idempotent();
    let deletion = op.is_deletion();
    let arrays = op.array_query_params.iter().map(|p| &p.name);
    quote! {
        OperationMeta {
            operation_id: #id,
            method: Method::#method,
            path: #path,
            tag: #tag,
            bucket: RateLimitBucket::#bucket,
            idempotent: #idempotent,
            deletion: #deletion,
            indexed_array_query_params: &[#(#arrays),*],
        }
    }
}

/// `list_users` → `ListUsers`.
fn variant(operation_id: &str) -> Ident {
    let mut name = String::new();
    for word in operation_id.split(['_', '-', '.']) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    Ident::new(&name, Span::call_site())
}

/// A request builder progenitor generated: its type name, the operation its `send` names, and
/// the success type `send` answers (a path under `types::`).
struct Builder {
    name: Ident,
    operation_id: String,
    response: syn::Type,
}

/// Reads every builder out of progenitor's `pub mod builder`: each `impl<'a> Name<'a>` with a
/// `send(self) -> Result<ResponseValue<T>, Error<E>>` whose body names its `operation_id`.
fn builders(client: &TokenStream) -> Result<Vec<Builder>, GeneratorError> {
    let file: syn::File = syn::parse2(client.clone()).map_err(|e| GeneratorError::Format {
        file: "progenitor output".to_string(),
        message: e.to_string(),
    })?;
    let mut found = Vec::new();
    for item in &file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        if module.ident != "builder" {
            continue;
        }
        for item in module.content.iter().flat_map(|(_, items)| items) {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            if block.trait_.is_some() {
                continue;
            }
            let syn::Type::Path(self_ty) = &*block.self_ty else {
                continue;
            };
            let Some(name) = self_ty.path.segments.last().map(|s| s.ident.clone()) else {
                continue;
            };
            for item in &block.items {
                let syn::ImplItem::Fn(method) = item else {
                    continue;
                };
                if method.sig.ident != "send" {
                    continue;
                }
                let (Some(response), Some(operation_id)) = (
                    success_type(&method.sig.output),
                    operation_id_in(&method.block),
                ) else {
                    continue;
                };
                found.push(Builder {
                    name: name.clone(),
                    operation_id,
                    response,
                });
            }
        }
    }
    Ok(found)
}

/// `T` of `-> Result<ResponseValue<T>, Error<E>>`.
fn success_type(output: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let result = generic_args(ty)?;
    let value = generic_args(result.first()?)?;
    value.first().cloned()
}

/// The type arguments of the last segment of a path type.
fn generic_args(ty: &syn::Type) -> Option<Vec<syn::Type>> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    Some(
        args.args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
    )
}

/// The string in `OperationInfo { operation_id: "..." }` inside a `send` body.
fn operation_id_in(block: &syn::Block) -> Option<String> {
    let text = quote!(#block).to_string();
    let (_, rest) = text.split_once("operation_id : \"")?;
    let (id, _) = rest.split_once('"')?;
    Some(id.to_string())
}
