//! Health-check results per service and day (UTC), so a listing can show the uptime the mesh
//! measured over the last 30 days. One row per service and day; deleted with the service.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE service_health_days (\
                   service_id TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE, \
                   day TEXT NOT NULL, \
                   checks INTEGER NOT NULL, \
                   up INTEGER NOT NULL, \
                   PRIMARY KEY (service_id, day)\
                 ) WITHOUT ROWID",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE service_health_days").await.map(|_| ())
    }
}
