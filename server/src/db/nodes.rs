//! Queries of the mesh control plane: join tokens, nodes and their trust events.
use super::entities::{
    join_tokens::{self, Entity as JoinTokens},
    node_trust_events::{self, Entity as NodeTrustEvents},
    nodes::{self, Entity as Nodes},
};
use crate::mesh::trust::{TrustEvent, TrustLevel};
use app::types::ids::{JoinTokenId, NodeId};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};

/// Inserts a join token.
pub async fn insert_token(db: &impl ConnectionTrait, token: join_tokens::Model) -> Result<(), DbErr> {
    join_tokens::ActiveModel::from(token).insert(db).await.map(|_| ())
}

/// All join tokens, newest first.
pub async fn tokens(db: &impl ConnectionTrait) -> Result<Vec<join_tokens::Model>, DbErr> {
    JoinTokens::find().order_by_desc(join_tokens::Column::CreatedAt).all(db).await
}

/// The token with this id.
pub async fn token(db: &impl ConnectionTrait, id: &JoinTokenId) -> Result<Option<join_tokens::Model>, DbErr> {
    JoinTokens::find_by_id(id.clone()).one(db).await
}

/// The token whose secret hashes to `hash`.
pub async fn token_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<join_tokens::Model>, DbErr> {
    JoinTokens::find().filter(join_tokens::Column::SecretHash.eq(hash)).one(db).await
}

/// Counts one use of a token. A one-time token is only counted if it was unused, in the same
/// statement, so two nodes racing with it cannot both join; returns whether it was counted.
pub async fn use_token(db: &impl ConnectionTrait, token: &join_tokens::Model) -> Result<bool, DbErr> {
    let mut update = JoinTokens::update_many()
        .col_expr(join_tokens::Column::Uses, Expr::col(join_tokens::Column::Uses).add(1))
        .filter(join_tokens::Column::Id.eq(&token.id))
        .filter(join_tokens::Column::RevokedAt.is_null());
    if !token.reusable {
        update = update.filter(join_tokens::Column::Uses.eq(0));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Marks a token revoked at `at` (once: a second revoke keeps the first time).
pub async fn revoke_token(
    db: &impl ConnectionTrait,
    id: &JoinTokenId,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = JoinTokens::update_many()
        .col_expr(join_tokens::Column::RevokedAt, Expr::value(at))
        .filter(join_tokens::Column::Id.eq(id))
        .filter(join_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// All nodes, by name.
pub async fn nodes(db: &impl ConnectionTrait) -> Result<Vec<nodes::Model>, DbErr> {
    Nodes::find().order_by_asc(nodes::Column::Name).all(db).await
}

/// The node with this id.
pub async fn node(db: &impl ConnectionTrait, id: &NodeId) -> Result<Option<nodes::Model>, DbErr> {
    Nodes::find_by_id(id.clone()).one(db).await
}

/// Nodes admitted with a token.
pub async fn nodes_of_token(
    db: &impl ConnectionTrait,
    token_id: &JoinTokenId,
) -> Result<Vec<nodes::Model>, DbErr> {
    Nodes::find().filter(nodes::Column::JoinTokenId.eq(token_id)).all(db).await
}

/// Inserts or replaces a node row.
pub async fn save_node(db: &impl ConnectionTrait, node: nodes::Model, existed: bool) -> Result<(), DbErr> {
    let active = nodes::ActiveModel::from(node);
    if existed {
        active.reset_all().update(db).await.map(|_| ())
    } else {
        active.insert(db).await.map(|_| ())
    }
}

/// Records a heartbeat: its time and the node's report.
pub async fn heartbeat(
    db: &impl ConnectionTrait,
    id: &NodeId,
    at: DateTime<Utc>,
    stats: serde_json::Value,
) -> Result<bool, DbErr> {
    let res = Nodes::update_many()
        .col_expr(nodes::Column::LastHeartbeatAt, Expr::value(at))
        .col_expr(nodes::Column::Stats, Expr::value(stats))
        .filter(nodes::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Deletes a node (its trust events go with it).
pub async fn delete_node(db: &impl ConnectionTrait, id: &NodeId) -> Result<bool, DbErr> {
    Ok(Nodes::delete_by_id(id.clone()).exec(db).await?.rows_affected == 1)
}

/// Appends a trust transition.
pub async fn insert_trust_event(
    db: &impl ConnectionTrait,
    node_id: &NodeId,
    from: TrustLevel,
    to: TrustLevel,
    reason: TrustEvent,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    node_trust_events::ActiveModel {
        id: NotSet,
        node_id: Set(node_id.clone()),
        from_level: Set(from),
        to_level: Set(to),
        reason: Set(reason),
        at: Set(at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// A node's trust transitions, newest first.
pub async fn trust_events(
    db: &impl ConnectionTrait,
    node_id: &NodeId,
) -> Result<Vec<node_trust_events::Model>, DbErr> {
    NodeTrustEvents::find()
        .filter(node_trust_events::Column::NodeId.eq(node_id))
        .order_by_desc(node_trust_events::Column::Id)
        .all(db)
        .await
}
