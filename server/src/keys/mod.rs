//! API keys: `w4k_` and 256 random bits, shown once at creation and stored only as a SHA-256
//! hash; a name, scopes, an optional expiry, created, last-used and revoked times. Every
//! operation is scoped to the owning account (another account's key is "not found").
//! [`KeyAuth`] authenticates bearer keys through a short-lived cache that a revoke clears at
//! once, so a revoked key stops working immediately in this process and within
//! [`CACHE_TTL`] anywhere.
use crate::{
    db,
    error::{Classified, Classify, ErrorCode, Problem},
    pagination, secrets,
};
use app::types::{
    AccountView, Page,
    ids::{AccountId, KeyId},
    keys::{ApiKeyForm, ApiKeyView, CreatedApiKey, KeyState, NewApiKey, Scope},
};
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

/// Longest a cached authentication answer is used before the database is asked again.
pub const CACHE_TTL: Duration = Duration::from_millis(500);
/// How often pending "last used" times are written.
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(2);
/// Longest key name.
pub const MAX_NAME: usize = 100;

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("some fields are invalid")]
    Invalid(BTreeMap<String, String>),
    #[error("no such key")]
    NotFound,
    #[error("a key can only create keys with scopes it holds itself")]
    ScopeEscalation,
    #[error("the account holds {0} API keys, the most it may; revoke one first")]
    LimitReached(u64),
    #[error("the cursor is not one this API returned")]
    BadCursor,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Classify for KeysError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let problem = match self {
            KeysError::Invalid(fields) => Problem::invalid(fields),
            KeysError::NotFound => Problem::not_found("No such API key."),
            KeysError::ScopeEscalation => {
                Problem::new(C::ScopeEscalation, "A key can only create keys with scopes it holds itself.")
            }
            KeysError::LimitReached(limit) => Problem::new(
                C::KeyLimitReached,
                format!("The account holds {limit} API keys, the most it may; revoke one first."),
            ),
            KeysError::BadCursor => {
                Problem::new(C::BadCursor, "That page link (cursor) is not one this API gave out.")
            }
            KeysError::Internal(err) => return Classified::Internal(err),
        };
        problem.into()
    }
}

impl From<DbErr> for KeysError {
    fn from(err: DbErr) -> Self {
        KeysError::Internal(err.into())
    }
}

type Result<T, E = KeysError> = std::result::Result<T, E>;

fn state_of(key: &db::entities::api_keys::Model, now: DateTime<Utc>) -> KeyState {
    if key.revoked_at.is_some() {
        KeyState::Revoked
    } else if key.expires_at.is_some_and(|at| at <= now) {
        KeyState::Expired
    } else {
        KeyState::Active
    }
}

fn view(key: db::entities::api_keys::Model, now: DateTime<Utc>) -> ApiKeyView {
    ApiKeyView {
        state: state_of(&key, now),
        scopes: key.scopes.0.clone(),
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        created_at: key.created_at,
        expires_at: key.expires_at,
        last_used_at: key.last_used_at,
        revoked_at: key.revoked_at,
    }
}

/// Checks a new key's fields; every problem at once.
fn validate(input: &NewApiKey, now: DateTime<Utc>) -> Result<(String, Vec<Scope>)> {
    let mut errors = BTreeMap::new();
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        errors.insert("name".into(), "Give the key a name, e.g. what will use it.".into());
    } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        errors.insert("name".into(), format!("At most {MAX_NAME} characters, no control characters."));
    }
    let mut scopes = input.scopes.clone();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        errors.insert("scopes".into(), "Choose at least one scope: read, write or invoke.".into());
    }
    if input.expires_at.is_some_and(|at| at <= now) {
        errors.insert("expires_at".into(), "The expiry must be in the future.".into());
    }
    if errors.is_empty() { Ok((name, scopes)) } else { Err(KeysError::Invalid(errors)) }
}

/// Creates a key for `account`. `parent` is the key making the request (`None` for a
/// session, which holds every scope): a key cannot mint a stronger one, nor one that outlives
/// it, and revoking it revokes what it minted. An account holds at most `max_keys` live keys.
#[tracing::instrument(skip_all, fields(account_id = %account), err(level = "debug"))]
async fn create(
    db: &DatabaseConnection,
    account: &AccountId,
    parent: Option<&KeyPrincipal>,
    max_keys: u64,
    input: NewApiKey,
    now: DateTime<Utc>,
) -> Result<CreatedApiKey> {
    let (name, scopes) = validate(&input, now)?;
    if let Some(parent) = parent {
        if scopes.iter().any(|s| !parent.scopes.contains(s)) {
            return Err(KeysError::ScopeEscalation);
        }
        if let Some(limit) = parent.expires_at
            && input.expires_at.is_none_or(|at| at > limit)
        {
            return Err(KeysError::Invalid(BTreeMap::from([(
                "expires_at".to_owned(),
                format!(
                    "A key can only mint keys that expire no later than itself ({}).",
                    limit.to_rfc3339()
                ),
            )])));
        }
    }
    if db::keys::live_count(db, account).await? >= max_keys {
        return Err(KeysError::LimitReached(max_keys));
    }
    let secret = secrets::new_secret(secrets::API_KEY_PREFIX);
    let row = db::entities::api_keys::Model {
        id: KeyId::new(uuid::Uuid::now_v7().to_string()),
        account_id: account.clone(),
        name,
        prefix: secrets::display_prefix(&secret, secrets::API_KEY_PREFIX),
        key_hash: secrets::hash_secret(&secret),
        scopes: db::entities::api_keys::Scopes(scopes.clone()),
        created_at: now,
        expires_at: input.expires_at,
        last_used_at: None,
        revoked_at: None,
        parent_key_id: parent.map(|p| p.key_id.clone()),
    };
    db::keys::insert(db, row.clone()).await?;
    tracing::info!(key_id = %row.id, prefix = %row.prefix, "api key created");
    Ok(CreatedApiKey { key: view(row, now), secret })
}

/// The account's keys, newest first.
async fn list(
    db: &DatabaseConnection,
    account: &AccountId,
    cursor: Option<&str>,
    limit: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Page<ApiKeyView>> {
    let limit = pagination::limit(limit);
    let before = pagination::before(cursor).map_err(|_| KeysError::BadCursor)?;
    let rows = db::keys::page(db, account, before.as_deref(), limit + 1).await?;
    Ok(pagination::finish(rows, limit, |r| &r.id, |r| view(r, now)))
}

/// One of the account's keys.
async fn get(
    db: &DatabaseConnection,
    account: &AccountId,
    id: &KeyId,
    now: DateTime<Utc>,
) -> Result<ApiKeyView> {
    db::keys::owned(db, account, id).await?.map(|k| view(k, now)).ok_or(KeysError::NotFound)
}

/// Parses the portal's key form: scopes ticked, expiry in days (empty: never).
pub fn from_form(form: &ApiKeyForm, now: DateTime<Utc>) -> Result<NewApiKey> {
    let ticked = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty() && v != "false");
    let scopes = [(Scope::Read, &form.read), (Scope::Write, &form.write), (Scope::Invoke, &form.invoke)]
        .into_iter()
        .filter(|(_, v)| ticked(v))
        .map(|(s, _)| s)
        .collect();
    let days = form.expires_in_days.trim();
    let expires_at = match days.parse::<u32>() {
        _ if days.is_empty() => None,
        Ok(d) if (1..=3650).contains(&d) => Some(now + chrono::Duration::days(i64::from(d))),
        _ => {
            // Report the other fields' problems too, all at once.
            let mut errors =
                match validate(&NewApiKey { name: form.name.clone(), scopes, expires_at: None }, now) {
                    Err(KeysError::Invalid(errors)) => errors,
                    _ => BTreeMap::new(),
                };
            errors
                .insert("expires_in_days".into(), "A whole number of days from 1 to 3650, or empty.".into());
            return Err(KeysError::Invalid(errors));
        }
    };
    Ok(NewApiKey { name: form.name.clone(), scopes, expires_at })
}

/// Who a valid bearer key speaks for.
#[derive(Clone, Debug)]
pub struct KeyPrincipal {
    pub key_id: KeyId,
    pub account: AccountView,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a bearer key was refused (every one answers 401).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefused {
    #[error("the API key is not valid")]
    Unknown,
    #[error("the API key has expired")]
    Expired,
    #[error("the API key has been revoked")]
    Revoked,
}

/// The API keys' use cases: list, read, create (a key minting another is held to its own
/// scopes and expiry) and revoke (with what it minted, effective at once); and bearer
/// authentication, with a cache in front of the database.
pub struct Keys {
    db: DatabaseConnection,
    /// Live keys one account may hold.
    max_keys: u64,
    /// Key hash → the key (or `Err` for an unknown or revoked one).
    cache: moka::sync::Cache<String, std::result::Result<Arc<KeyPrincipal>, KeyRefused>>,
    /// Key id → when it was last used, not yet written.
    touched: Mutex<HashMap<KeyId, DateTime<Utc>>>,
}

impl Keys {
    /// The keys over `db`, at most `max_keys` live ones per account.
    pub fn new(db: DatabaseConnection, max_keys: u64) -> Arc<Self> {
        Arc::new(Self {
            db,
            max_keys,
            cache: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(CACHE_TTL).build(),
            touched: Mutex::new(HashMap::new()),
        })
    }

    /// The account's keys, newest first.
    pub async fn list(
        &self,
        account: &AccountId,
        cursor: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Page<ApiKeyView>> {
        list(&self.db, account, cursor, limit, Utc::now()).await
    }

    /// One of the account's keys.
    pub async fn get(&self, account: &AccountId, id: &KeyId) -> Result<ApiKeyView> {
        get(&self.db, account, id, Utc::now()).await
    }

    /// Creates a key for `account`, minted by `parent` (`None`: a session, which holds every
    /// scope); the answer holds the secret, this once.
    pub async fn create(
        &self,
        account: &AccountId,
        parent: Option<&KeyPrincipal>,
        input: NewApiKey,
    ) -> Result<CreatedApiKey> {
        create(&self.db, account, parent, self.max_keys, input, Utc::now()).await
    }

    /// Creates a key from the portal's form (by a session).
    pub async fn create_from_form(&self, account: &AccountId, form: &ApiKeyForm) -> Result<CreatedApiKey> {
        let now = Utc::now();
        let input = from_form(form, now)?;
        create(&self.db, account, None, self.max_keys, input, now).await
    }

    /// The principal of `secret`, or why it is refused.
    pub async fn authenticate(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<Arc<KeyPrincipal>, KeyRefused>, DbErr> {
        if !secret.starts_with(secrets::API_KEY_PREFIX) {
            return Ok(Err(KeyRefused::Unknown));
        }
        let hash = secrets::hash_secret(secret);
        let found = match self.cache.get(&hash) {
            Some(found) => found,
            None => {
                let found = self.load(&hash, now).await?;
                self.cache.insert(hash, found.clone());
                found
            }
        };
        Ok(found.and_then(|principal| {
            if principal.expires_at.is_some_and(|at| at <= now) {
                return Err(KeyRefused::Expired);
            }
            let mut touched = self.touched.lock().expect("touched lock");
            match touched.get_mut(&principal.key_id) {
                Some(at) => *at = now,
                None => {
                    touched.insert(principal.key_id.clone(), now);
                }
            }
            Ok(principal)
        }))
    }

    async fn load(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<Arc<KeyPrincipal>, KeyRefused>, DbErr> {
        let Some((key, owner)) = db::keys::by_hash(&self.db, hash).await? else {
            return Ok(Err(KeyRefused::Unknown));
        };
        match state_of(&key, now) {
            KeyState::Revoked => return Ok(Err(KeyRefused::Revoked)),
            KeyState::Expired => return Ok(Err(KeyRefused::Expired)),
            KeyState::Active => {}
        }
        let role = owner.role;
        Ok(Ok(Arc::new(KeyPrincipal {
            key_id: key.id,
            scopes: key.scopes.0.clone(),
            expires_at: key.expires_at,
            account: AccountView { id: owner.id, email: owner.email, role, created_at: owner.created_at },
        })))
    }

    /// Revokes the account's key, effective at once: the cache forgets it before this returns.
    #[tracing::instrument(skip_all, fields(account_id = %account, key_id = %id), err(level = "debug"))]
    pub async fn revoke(&self, account: &AccountId, id: &KeyId) -> Result<ApiKeyView> {
        let now = Utc::now();
        let key = db::keys::owned(&self.db, account, id).await?.ok_or(KeysError::NotFound)?;
        // The key and everything minted from it, generation by generation, in one transaction;
        // the cache forgets each before the answer is sent.
        let txn = self.db.begin().await?;
        let mut revoked = vec![key.clone()];
        let mut generation = vec![key.id.clone()];
        db::keys::revoke(&txn, account, id, now).await?;
        while !generation.is_empty() {
            let children = db::keys::live_children(&txn, account, &generation).await?;
            for child in &children {
                db::keys::revoke(&txn, account, &child.id, now).await?;
            }
            generation = children.iter().map(|c| c.id.clone()).collect();
            revoked.extend(children);
        }
        txn.commit().await?;
        for k in &revoked {
            self.cache.invalidate(&k.key_hash);
        }
        tracing::info!(prefix = %key.prefix, minted = revoked.len() - 1, "api key revoked");
        get(&self.db, account, id, now).await
    }

    /// Writes the "last used" times gathered since the last call.
    pub async fn flush_touched(&self) -> Result<(), DbErr> {
        let pending = std::mem::take(&mut *self.touched.lock().expect("touched lock"));
        for (id, at) in pending {
            db::keys::touch(&self.db, &id, at).await?;
        }
        Ok(())
    }

    /// Flushes "last used" times every [`TOUCH_INTERVAL`] until the task is aborted.
    pub fn start(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let auth = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TOUCH_INTERVAL);
            loop {
                tick.tick().await;
                let Some(auth) = auth.upgrade() else { return };
                if let Err(err) = auth.flush_touched().await {
                    tracing::warn!(error = %err, "cannot record when API keys were last used");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, scopes: &[Scope]) -> NewApiKey {
        NewApiKey { name: name.into(), scopes: scopes.to_vec(), expires_at: None }
    }

    #[test]
    fn validation_reports_every_field() {
        let now = Utc::now();
        let mut bad = input(" ", &[]);
        bad.expires_at = Some(now - chrono::Duration::seconds(1));
        let Err(KeysError::Invalid(errors)) = validate(&bad, now) else { panic!("accepted") };
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["expires_at", "name", "scopes"]);
        let (name, scopes) =
            validate(&input(" ci ", &[Scope::Write, Scope::Read, Scope::Write]), now).unwrap();
        assert_eq!(name, "ci");
        assert_eq!(scopes, [Scope::Read, Scope::Write]);
    }

    #[test]
    fn the_form_maps_ticks_and_days() {
        let now = Utc::now();
        let form = ApiKeyForm {
            name: "ci".into(),
            read: Some("on".into()),
            invoke: Some("on".into()),
            expires_in_days: "30".into(),
            ..ApiKeyForm::default()
        };
        let parsed = from_form(&form, now).unwrap();
        assert_eq!(parsed.scopes, [Scope::Read, Scope::Invoke]);
        assert_eq!(parsed.expires_at, Some(now + chrono::Duration::days(30)));
        let bad = ApiKeyForm { expires_in_days: "soon".into(), ..form };
        assert!(
            matches!(from_form(&bad, now), Err(KeysError::Invalid(e)) if e.contains_key("expires_in_days"))
        );
    }
}
