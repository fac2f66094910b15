//! Cloud API: the mesh's control plane. Operator-only management of nodes and join tokens,
//! and the node-facing join protocol and heartbeats (authenticated by the node's key).
use super::error::ErrorBody;
use super::{
    error::ApiError,
    extract::{AppJson, AppPath, ClientIp, Operator},
};
use crate::error::{ErrorCode, Problem};
use crate::{nodes, state::AppState};
use app::types::{
    ids::{JoinTokenId, NodeId},
    nodes::{
        CreateJoinToken, CreatedJoinToken, HeartbeatRequest, JoinChallenge, JoinRequest, JoinTokenView,
        MembershipView, NodeAction, NodeDetail, NodeView, RevokeJoinToken, TopologyView,
    },
};
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/nodes", get(list_nodes))
        .route("/nodes/{id}", get(get_node).delete(delete_node))
        .route("/nodes/{id}/{action}", post(act_on_node))
        .route("/mesh/topology", get(get_topology))
        .route("/join-tokens", get(list_join_tokens).post(create_join_token))
        .route("/join-tokens/{id}/revoke", post(revoke_join_token))
        .route("/mesh/challenges", post(create_challenge))
        .route("/mesh/join", post(join))
        .route("/mesh/heartbeat", post(heartbeat).layer(DefaultBodyLimit::max(512 * 1024)))
}

/// `GET /nodes`: every node with state, trust, last heartbeat, address and labels.
#[utoipa::path(get, path = "/api/v1/nodes", tag = "Mesh (operator)", responses((status = 200, body = Vec<NodeView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_nodes(_: Operator, State(state): State<AppState>) -> Result<AppJson<Vec<NodeView>>, ApiError> {
    Ok(AppJson(state.nodes.list().await?))
}

/// `GET /nodes/{id}`: a node with its trust history.
#[utoipa::path(get, path = "/api/v1/nodes/{id}", tag = "Mesh (operator)", params(("id" = String, Path, description = "The node's id")), responses((status = 200, body = NodeDetail), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_node(
    _: Operator,
    State(state): State<AppState>,
    AppPath(id): AppPath<NodeId>,
) -> Result<AppJson<NodeDetail>, ApiError> {
    Ok(AppJson(state.nodes.get(&id).await?))
}

/// `POST /nodes/{id}/{drain|undrain|block|unblock}`.
#[tracing::instrument(skip_all, fields(node_id = %id, action = %action), err(level = "debug"))]
#[utoipa::path(post, path = "/api/v1/nodes/{id}/{action}", tag = "Mesh (operator)", params(("id" = String, Path, description = "The node's id"), ("action" = String, Path, description = "drain, undrain, block or unblock")), responses((status = 200, body = NodeView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn act_on_node(
    _: Operator,
    State(state): State<AppState>,
    AppPath((id, action)): AppPath<(NodeId, String)>,
) -> Result<AppJson<NodeView>, ApiError> {
    let action = match action.as_str() {
        "drain" => NodeAction::Drain,
        "undrain" => NodeAction::Undrain,
        "block" => NodeAction::Block,
        "unblock" => NodeAction::Unblock,
        other => {
            return Err(ApiError::not_found(format!(
                "No node action {other:?} (drain, undrain, block, unblock)."
            )));
        }
    };
    let node = state.nodes.act(&id, action).await?;
    node.map(AppJson).ok_or_else(|| ApiError::not_found("No such node."))
}

/// `DELETE /nodes/{id}`: removes a node from the mesh.
#[utoipa::path(delete, path = "/api/v1/nodes/{id}", tag = "Mesh (operator)", params(("id" = String, Path, description = "The node's id")), responses((status = 204, description = "Removed"), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn delete_node(
    _: Operator,
    State(state): State<AppState>,
    AppPath(id): AppPath<NodeId>,
) -> Result<StatusCode, ApiError> {
    state.nodes.act(&id, NodeAction::Remove).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /mesh/topology`: nodes and live links.
#[utoipa::path(get, path = "/api/v1/mesh/topology", tag = "Mesh (operator)", responses((status = 200, body = TopologyView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn get_topology(_: Operator, State(state): State<AppState>) -> Result<AppJson<TopologyView>, ApiError> {
    Ok(AppJson(state.nodes.topology().await?))
}

/// `GET /join-tokens`.
#[utoipa::path(get, path = "/api/v1/join-tokens", tag = "Mesh (operator)", responses((status = 200, body = Vec<JoinTokenView>), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn list_join_tokens(
    _: Operator,
    State(state): State<AppState>,
) -> Result<AppJson<Vec<JoinTokenView>>, ApiError> {
    Ok(AppJson(state.nodes.list_join_tokens().await?))
}

/// `POST /join-tokens`: 201 with the secret, shown this once.
#[utoipa::path(post, path = "/api/v1/join-tokens", tag = "Mesh (operator)", request_body = CreateJoinToken, responses((status = 201, body = CreatedJoinToken), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn create_join_token(
    Operator(account): Operator,
    State(state): State<AppState>,
    AppJson(req): AppJson<CreateJoinToken>,
) -> Result<(StatusCode, AppJson<CreatedJoinToken>), ApiError> {
    let created = state.nodes.create_join_token(&account.id, req).await?;
    Ok((StatusCode::CREATED, AppJson(created)))
}

/// `POST /join-tokens/{id}/revoke`, optionally with `{ "block_nodes": true }`.
#[utoipa::path(post, path = "/api/v1/join-tokens/{id}/revoke", tag = "Mesh (operator)", params(("id" = String, Path, description = "The join token's id")), request_body(content = Option<RevokeJoinToken>, description = "Optional: an empty body (or `null`) revokes without blocking"), responses((status = 200, body = JoinTokenView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn revoke_join_token(
    _: Operator,
    State(state): State<AppState>,
    AppPath(id): AppPath<JoinTokenId>,
    body: Bytes,
) -> Result<AppJson<JoinTokenView>, ApiError> {
    let options: RevokeJoinToken = if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null"
    {
        RevokeJoinToken::default()
    } else if !super::extract::is_object(&body) {
        return Err(ApiError::new(
            ErrorCode::MalformedJson,
            "The body must be a JSON object, `null` or empty.",
        ));
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new(ErrorCode::MalformedJson, e.to_string()))?
    };
    let block_nodes = options.block_nodes;
    let token = state.nodes.revoke_join_token(&id, block_nodes).await?;
    Ok(AppJson(token))
}

/// `POST /mesh/challenges`: a nonce for a joining node to sign.
#[utoipa::path(post, path = "/api/v1/mesh/challenges", tag = "Mesh (nodes)", security(()), responses((status = 201, body = JoinChallenge), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn create_challenge(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
) -> Result<(StatusCode, AppJson<JoinChallenge>), ApiError> {
    // Per address first: one stranger must not fill the pool every joining node draws from.
    state.limits.challenge(&client.to_string()).map_err(|retry_after_secs| {
        ApiError::Problem(
            Problem::new(
                ErrorCode::TooManyChallenges,
                format!(
                    "Too many join challenges from this address. Try again in {}.",
                    app::error::human_duration(retry_after_secs)
                ),
            )
            .retry_after(retry_after_secs),
        )
    })?;
    Ok((StatusCode::CREATED, AppJson(state.nodes.create_challenge()?)))
}

/// `POST /mesh/join`: a node proves its key and presents a join token.
#[tracing::instrument(skip_all, err(level = "info"))]
#[utoipa::path(post, path = "/api/v1/mesh/join", tag = "Mesh (nodes)", security(()), request_body = JoinRequest, responses((status = 200, body = MembershipView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn join(
    State(state): State<AppState>,
    AppJson(req): AppJson<JoinRequest>,
) -> Result<AppJson<MembershipView>, ApiError> {
    Ok(AppJson(state.nodes.join(req).await?))
}

/// `POST /mesh/heartbeat`: signed by the node (`x-web4-node-id`, `x-web4-signature`).
#[utoipa::path(post, path = "/api/v1/mesh/heartbeat", tag = "Mesh (nodes)", security(()), params(("x-web4-node-id" = String, Header, description = "The node's id"), ("x-web4-signature" = String, Header, description = "Ed25519 signature over the body's SHA-256")), request_body = HeartbeatRequest, responses((status = 200, body = MembershipView), (status = "4XX", description = "The one error shape: `{\"error\": {\"code\", \"message\", \"details\"?}}`", body = ErrorBody)))]
async fn heartbeat(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<AppJson<MembershipView>, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let node = nodes::verify_heartbeat(header("x-web4-node-id"), header("x-web4-signature"), &body)?;
    // Signed, so counted against the node itself: a member cannot make the control plane
    // write as fast as it can send.
    state.limits.heartbeat(&node.to_string()).map_err(|retry_after_secs| {
        ApiError::Problem(
            Problem::new(
                ErrorCode::TooManyHeartbeats,
                "This node sends heartbeats much faster than its interval.",
            )
            .retry_after(retry_after_secs),
        )
    })?;
    let req: HeartbeatRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::new(ErrorCode::MalformedJson, e.to_string()))?;
    if req.node_id != nodes::stored_id(node) {
        return Err(ApiError::new(
            ErrorCode::NodeIdMismatch,
            "The body's node_id differs from x-web4-node-id.",
        ));
    }
    Ok(AppJson(state.nodes.heartbeat(node, req).await?))
}
