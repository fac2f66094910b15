//! The API reference page's content, derived by the server from the OpenAPI document.
use serde::{Deserialize, Serialize};

/// One parameter of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamDoc {
    pub name: String,
    /// `path`, `query` or `header`.
    pub location: String,
    pub required: bool,
    pub description: String,
}

/// One endpoint (method and path).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointDoc {
    /// HTML id, e.g. `post-api-v1-keys`.
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    /// Who may call it, e.g. "API key with the `read` scope, or the portal session".
    pub auth: String,
    pub params: Vec<ParamDoc>,
    /// An example JSON body, generated from the request schema.
    pub request_example: Option<String>,
    /// Status and description of each documented answer.
    pub responses: Vec<(String, String)>,
    /// A complete curl command against this platform.
    pub curl: String,
}

/// A group of endpoints (an OpenAPI tag).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocGroup {
    pub name: String,
    pub description: String,
    pub endpoints: Vec<EndpointDoc>,
}

/// The whole reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDocsView {
    pub title: String,
    pub description: String,
    pub version: String,
    pub groups: Vec<DocGroup>,
}
