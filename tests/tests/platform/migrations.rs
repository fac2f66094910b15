//! The schema: migrations apply on a fresh database, and every `down()` really undoes its `up()`.
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

async fn tables(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> 'seaql_migrations' ORDER BY name",
        ))
        .await
        .unwrap();
    rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

#[tokio::test]
async fn migrations_apply_on_a_fresh_database_and_roll_back_completely() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let db = server::db::connect(&url).await.unwrap();

    let applied = server::startup::migrate(&db).await.unwrap();
    assert_eq!(applied, Migrator::migrations().len());
    let created = tables(&db).await;
    assert_eq!(
        created,
        [
            "accounts",
            "api_keys",
            "event_consumers",
            "event_deliveries",
            "event_messages",
            "idempotency_records",
            "invoice_lines",
            "invoices",
            "join_tokens",
            "kv_buckets",
            "kv_entries",
            "listings",
            // FTS5's own tables behind the listings' search index.
            "listings_fts",
            "listings_fts_config",
            "listings_fts_content",
            "listings_fts_data",
            "listings_fts_docsize",
            "listings_fts_idx",
            "login_failures",
            "node_rollups",
            "node_trust_events",
            "nodes",
            "plans",
            "reviews",
            "service_health_days",
            "service_placements",
            "service_rollups",
            "services",
            "subscriptions",
            "tower_sessions",
            "usage_events",
            "webhook_attempts",
            "webhook_deliveries",
            "webhook_endpoints"
        ]
    );
    assert_eq!(server::startup::migrate(&db).await.unwrap(), 0, "a second run applies nothing");

    Migrator::down(&db, None).await.unwrap();
    assert!(tables(&db).await.is_empty(), "down() left tables behind");

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(tables(&db).await, created);
}

#[tokio::test]
async fn the_database_runs_in_wal_mode() {
    let app = web4_tests::spawn_app().await;

    let mode = app.query_strings("PRAGMA journal_mode").await;

    assert_eq!(mode, ["wal"]);
}

#[tokio::test]
async fn an_operator_stored_under_the_old_role_name_is_renamed_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let db = server::db::connect(&url).await.unwrap();
    let migrations = Migrator::migrations();
    let rename = migrations
        .iter()
        .position(|m| m.name() == "m20261126_000011_operator_role")
        .expect("the rename is a migration");
    Migrator::up(&db, Some(u32::try_from(rename).unwrap())).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO accounts (id, email, password_hash, role, created_at, updated_at) VALUES \
         ('a', 'op@example.com', 'x', 'admin', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z'), \
         ('b', 'dev@example.com', 'x', 'developer', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')",
    )
    .await
    .unwrap();
    let roles = |db: &sea_orm::DatabaseConnection| {
        let db = db.clone();
        async move {
            let rows = db
                .query_all(Statement::from_string(
                    db.get_database_backend(),
                    "SELECT role FROM accounts ORDER BY id",
                ))
                .await
                .unwrap();
            rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect::<Vec<_>>()
        }
    };

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(roles(&db).await, ["operator", "developer"]);
    // Back to before the rename (and the migrations after it).
    Migrator::down(&db, Some(u32::try_from(migrations.len() - rename).unwrap())).await.unwrap();
    assert_eq!(roles(&db).await, ["admin", "developer"]);
}
