//! What the platform keeps in a portal session: only the account id. The session itself
//! (cookie, SQLite-backed store, expiry) is tower-sessions'.
use app::types::ids::AccountId;
use tower_sessions::Session;

const ACCOUNT_ID: &str = "account_id";

/// Starts an authenticated session for `account_id`. The session id is cycled first so that
/// an id planted before log-in (session fixation) never becomes an authenticated one.
pub async fn begin(session: &Session, account_id: &AccountId) -> anyhow::Result<()> {
    session.cycle_id().await?;
    session.insert(ACCOUNT_ID, account_id).await?;
    Ok(())
}

/// The account id this session is logged in as, if any.
pub async fn account_id(session: &Session) -> anyhow::Result<Option<AccountId>> {
    Ok(session.get::<AccountId>(ACCOUNT_ID).await?)
}

/// Ends the session: deletes it from the store and expires the cookie.
pub async fn end(session: &Session) -> anyhow::Result<()> {
    session.flush().await?;
    Ok(())
}
