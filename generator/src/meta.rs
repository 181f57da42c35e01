//! Emits the operation table: for each operationId its method, path, tag and the query
//! parameters that go over the wire as `name.0=..&name.1=..`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::check::Report;

/// `pub const OPERATIONS: &[crate::OperationMeta]`, in document order.
pub(crate) fn operation_table(report: &Report) -> TokenStream {
    let rows = report.operations.iter().map(|op| {
        let id = &op.operation_id;
        let method = &op.method;
        let path = &op.path;
        let tag = &op.tag;
        let arrays = op.array_query_params.iter().map(|p| &p.name);
        quote! {
            crate::OperationMeta {
                operation_id: #id,
                method: #method,
                path: #path,
                tag: #tag,
                indexed_array_query_params: &[#(#arrays),*],
            }
        }
    });
    let count = report.operations.len();
    quote! {
        //! The operations of the document, for the transport and for tests.

        /// Every operation of the document, in document order.
        pub const OPERATIONS: [crate::OperationMeta; #count] = [#(#rows),*];
    }
}
