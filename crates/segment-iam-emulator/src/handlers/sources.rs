//! `/sources`: the workspace's sources, paginated like the other lists. Each answers as a
//! complete `SourceV1` (catalogue metadata, settings, write keys), so that the official SDKs,
//! which require those fields, parse it.

use super::support::*;
use crate::state::Source;

#[derive(Serialize)]
struct LogosV1 {
    default: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SourceMetadataV1 {
    id: &'static str,
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    logos: LogosV1,
    options: [(); 0],
    categories: [&'static str; 0],
    is_cloud_event_source: bool,
}

/// Every emulated source is of one catalogue kind: the HTTP API source.
const METADATA: SourceMetadataV1 = SourceMetadataV1 {
    id: "xE6aTBEKgSw6iCK5QWaN9S",
    slug: "http-api",
    name: "HTTP API",
    description: "Send data to Segment from any device or server with the HTTP tracking API.",
    logos: LogosV1 {
        default: "https://cdn.filepicker.io/api/file/Rx5BGX26SVO7w85NNIMY",
    },
    options: [],
    categories: [],
    is_cloud_event_source: false,
};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SourceV1<'a> {
    id: &'a str,
    slug: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    workspace_id: &'a str,
    enabled: bool,
    write_keys: &'a [String],
    metadata: &'static SourceMetadataV1,
    settings: Map<String, Value>,
    labels: &'a [Label],
}

fn source_v1<'a>(st: &'a State, s: &'a Source) -> SourceV1<'a> {
    SourceV1 {
        id: &s.id,
        slug: &s.slug,
        name: s.name.as_deref(),
        workspace_id: &st.workspace.id,
        enabled: s.enabled,
        write_keys: &s.write_keys,
        metadata: &METADATA,
        settings: Map::new(),
        labels: &s.labels,
    }
}

/// `ListSources`.
pub(super) fn list(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let request = PageRequest::parse(call.query, call.strict)?;
    let page = request
        .start(call.codec, ListKind::Sources, 0)?
        .slice(&st.sources);
    let sources: Vec<SourceV1> = page
        .items
        .iter()
        .filter_map(|seq| st.sources.get(seq))
        .map(|s| source_v1(st, s))
        .collect();
    #[derive(Serialize)]
    struct Out<'a> {
        sources: Vec<SourceV1<'a>>,
        pagination: PageOut,
    }
    let pagination = page.out;
    ok(
        200,
        data_body(&Out {
            sources,
            pagination,
        }),
    )
}
