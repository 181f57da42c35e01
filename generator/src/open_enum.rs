//! Emits "open" enums: the known values of a string enum as variants, plus `Other(String)` so
//! a value the service adds later decodes as data instead of failing the whole response.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::check::OpenEnum;

/// One module body with every open enum of the document.
pub(crate) fn emit_all(enums: &[OpenEnum]) -> TokenStream {
    let items = enums.iter().map(emit);
    quote! {
        //! String enums that keep unknown values (`x-open-enum` in the document).

        #(#items)*
    }
}

fn emit(open: &OpenEnum) -> TokenStream {
    let name = Ident::new(&open.name, Span::call_site());
    let doc = open
        .description
        .clone()
        .unwrap_or_else(|| format!("The `{}` values of the service.", open.name));
    let doc = doc.trim();
    let variants: Vec<Ident> = open
        .values
        .iter()
        .map(|v| Ident::new(&variant_name(v), Span::call_site()))
        .collect();
    let values = &open.values;
    let schema_name = &open.name;
    let variant_docs = values.iter().map(|v| format!("`{v}`"));
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #(#[doc = #variant_docs] #variants,)*
            /// A value this version of the client does not know, kept verbatim.
            Other(String),
        }

        impl #name {
            /// Every value this client knows, in document order.
            pub const KNOWN: &'static [#name] = &[#(#name::#variants),*];

            /// The value as the service writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#name::#variants => #values,)*
                    #name::Other(value) => value.as_str(),
                }
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(match value {
                    #(#values => #name::#variants,)*
                    other => #name::Other(other.to_string()),
                })
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value.parse() {
                    Ok(v) => v,
                    Err(never) => match never {},
                }
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(#name::from(value.as_str()))
            }
        }

        impl ::schemars::JsonSchema for #name {
            fn schema_name() -> String {
                #schema_name.to_string()
            }
            fn json_schema(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                <String as ::schemars::JsonSchema>::json_schema(generator)
            }
        }
    }
}

/// `WORKSPACE` -> `Workspace`, `user-group` -> `UserGroup`, `3d` -> `V3d`.
fn variant_name(value: &str) -> String {
    let mut out = String::new();
    for word in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'V');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::variant_name;

    #[test]
    fn variant_names_are_idents() {
        assert_eq!(variant_name("WORKSPACE"), "Workspace");
        assert_eq!(variant_name("user-group"), "UserGroup");
        assert_eq!(variant_name("3d"), "V3d");
    }
}
