//! Queries on accounts.
use super::entities::accounts::{self, Entity as Accounts};
use app::types::ids::AccountId;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, Query, SimpleExpr},
};

/// A new account, validated and hashed by the caller.
pub struct NewAccount<'a> {
    pub id: &'a AccountId,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub now: DateTime<Utc>,
}

/// Inserts an account. Its role is decided inside the same statement: `operator` when the table
/// is empty, `developer` otherwise, so two sign-ups racing on a new platform cannot both
/// become operators. A taken email fails with a unique violation (see `db::is_unique_violation`).
pub async fn insert(db: &impl ConnectionTrait, new: NewAccount<'_>) -> Result<accounts::Model, DbErr> {
    let role: SimpleExpr = Expr::case(
        Expr::exists(Query::select().expr(Expr::val(1)).from(Accounts).to_owned()),
        Expr::val("developer"),
    )
    .finally(Expr::val("operator"))
    .into();
    let insert = Query::insert()
        .into_table(Accounts)
        .columns([
            accounts::Column::Id,
            accounts::Column::Email,
            accounts::Column::PasswordHash,
            accounts::Column::Role,
            accounts::Column::CreatedAt,
            accounts::Column::UpdatedAt,
        ])
        .select_from(
            Query::select()
                .exprs([
                    Expr::val(new.id).into(),
                    Expr::val(new.email).into(),
                    Expr::val(new.password_hash).into(),
                    role,
                    Expr::val(new.now).into(),
                    Expr::val(new.now).into(),
                ])
                .to_owned(),
        )
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .to_owned();
    db.execute(db.get_database_backend().build(&insert)).await?;
    find_by_id(db, new.id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("account {} vanished after insert", new.id)))
}

/// The account with this (normalised) email.
pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<accounts::Model>, DbErr> {
    Accounts::find().filter(accounts::Column::Email.eq(email)).one(db).await
}

/// The emails of the accounts with these ids.
pub async fn emails(
    db: &impl ConnectionTrait,
    ids: &[AccountId],
) -> Result<std::collections::HashMap<AccountId, String>, DbErr> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = Accounts::find().filter(accounts::Column::Id.is_in(chunk.iter().cloned())).all(db).await?;
        out.extend(rows.into_iter().map(|a| (a.id, a.email)));
    }
    Ok(out)
}

/// The account with this id.
pub async fn find_by_id(db: &impl ConnectionTrait, id: &AccountId) -> Result<Option<accounts::Model>, DbErr> {
    Accounts::find_by_id(id.clone()).one(db).await
}

/// The operators' account ids (told about the mesh's nodes).
pub async fn operators(db: &impl ConnectionTrait) -> Result<Vec<AccountId>, DbErr> {
    Ok(Accounts::find()
        .filter(accounts::Column::Role.eq(app::types::Role::Operator))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect())
}
