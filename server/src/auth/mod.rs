//! Accounts and authentication: sign-up, log-in (throttled), sessions. The Cloud API handlers
//! and the portal's port both call these functions, so the two can never disagree.
pub mod email;
pub mod password;
pub mod session;
pub mod throttle;

use crate::{
    db::{self, entities::accounts},
    error::{Classified, Classify, ErrorCode, Problem, wait},
};
use app::types::{AccountView, Credentials, FieldErrors, ids::AccountId};
use chrono::Utc;
use email::Email;
use password::Password;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use std::net::IpAddr;
use throttle::LoginThrottle;

/// Why an authentication operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the request has invalid fields")]
    Invalid(FieldErrors),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("incorrect email or password")]
    InvalidCredentials,
    #[error("too many failed log-in attempts")]
    Throttled { retry_after_secs: u64 },
    #[error("too many sign-ups from this address")]
    SignUpsThrottled { retry_after_secs: u64 },
    /// Every password-hashing slot was busy for the queue wait.
    #[error("too many password checks at once")]
    Busy,
    #[error("not logged in")]
    Unauthenticated,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Classify for AuthError {
    fn classify(self) -> Classified {
        use ErrorCode as C;
        let problem = match self {
            AuthError::Invalid(fields) => Problem::invalid(
                [("email", fields.email), ("password", fields.password)]
                    .into_iter()
                    .filter_map(|(field, message)| Some((field.to_owned(), message?)))
                    .collect(),
            ),
            AuthError::EmailTaken => {
                Problem::new(C::EmailTaken, "An account with this email already exists.")
            }
            AuthError::InvalidCredentials => {
                Problem::new(C::InvalidCredentials, "Incorrect email or password.")
            }
            AuthError::Throttled { retry_after_secs } => Problem::new(
                C::TooManyLoginAttempts,
                format!("Too many failed log-in attempts. Try again in {}.", wait(retry_after_secs)),
            )
            .retry_after(retry_after_secs),
            AuthError::SignUpsThrottled { retry_after_secs } => Problem::new(
                C::TooManySignUps,
                format!(
                    "Too many accounts were created from this address. Try again in {}.",
                    wait(retry_after_secs)
                ),
            )
            .retry_after(retry_after_secs),
            AuthError::Busy => Problem::new(
                C::Busy,
                "The server is checking too many passwords at once. Try again in a second.",
            )
            .retry_after(1),
            AuthError::Unauthenticated => Problem::new(C::Unauthenticated, "Authentication required."),
            AuthError::Internal(err) => return Classified::Internal(err),
        };
        problem.into()
    }
}

impl From<password::HashError> for AuthError {
    fn from(err: password::HashError) -> Self {
        match err {
            password::HashError::Busy(_) => AuthError::Busy,
            password::HashError::Internal(e) => AuthError::Internal(e),
        }
    }
}

impl From<DbErr> for AuthError {
    fn from(err: DbErr) -> Self {
        AuthError::Internal(err.into())
    }
}

/// Failures of one account from one address (the key is `email address`).
const SCOPE_PAIR: &str = "pair";
/// Failures from one address, whatever the account.
const SCOPE_ADDRESS: &str = "address";

fn view(model: accounts::Model) -> Result<AccountView, AuthError> {
    Ok(AccountView { id: model.id, email: model.email, role: model.role, created_at: model.created_at })
}

/// Creates an account from sign-up credentials sent from `client`. The first account on an
/// empty platform is the operator; every later one is a developer. Valid sign-ups
/// spend the address's budget in `limits` (a typo does not).
#[tracing::instrument(skip_all, fields(client = %client), err(level = "debug"))]
pub async fn sign_up(
    db: &DatabaseConnection,
    limits: &crate::ratelimit::RateLimits,
    credentials: Credentials,
    client: IpAddr,
) -> Result<AccountView, AuthError> {
    let email = Email::parse(&credentials.email);
    let password = Password::parse(credentials.password);
    let (email, password) = match (email, password) {
        (Ok(e), Ok(p)) => (e, p),
        (e, p) => {
            return Err(AuthError::Invalid(FieldErrors { email: e.err(), password: p.err() }));
        }
    };
    limits.sign_up(&client.to_string()).map_err(|retry_after_secs| {
        tracing::warn!("sign-up refused: this address's budget is spent");
        AuthError::SignUpsThrottled { retry_after_secs }
    })?;
    let password_hash = password::hash(password).await?;
    let id = AccountId::new(uuid::Uuid::now_v7().to_string());
    let inserted = db::accounts::insert(
        db,
        db::accounts::NewAccount {
            id: &id,
            email: email.as_str(),
            password_hash: &password_hash,
            now: Utc::now(),
        },
    )
    .await;
    match inserted {
        Ok(model) => {
            tracing::info!(account_id = %model.id, role = model.role.as_str(), "account created");
            view(model)
        }
        Err(e) if db::is_unique_violation(&e) => Err(AuthError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

/// Checks log-in credentials for a client at `client`. Failures are throttled per client
/// address and, with a growing delay, per (account, address) — by normalised email, whether
/// or not it exists, so the throttle reveals nothing; never per account alone, so nobody can
/// lock another person out by failing on purpose (see [`throttle`]). Attempts made at the
/// same instant may each pass the check before either failure is recorded: the limit can be
/// overshot by the number of concurrent requests, which bounds guessing just as well and
/// needs no lock across requests.
#[tracing::instrument(skip_all, fields(client = %client), err(level = "debug"))]
pub async fn log_in(
    db: &DatabaseConnection,
    throttle: LoginThrottle,
    credentials: Credentials,
    client: IpAddr,
) -> Result<AccountView, AuthError> {
    let email = Email::parse(&credentials.email);
    let password_missing = credentials.password.is_empty();
    let email = match email {
        Ok(email) if !password_missing => email,
        email => {
            return Err(AuthError::Invalid(FieldErrors {
                email: email.err(),
                password: password_missing.then(|| "Enter your password.".to_string()),
            }));
        }
    };
    let address = client.to_string();
    let pair = format!("{} {address}", email.as_str());
    let now = Utc::now();
    let start = throttle.window_start(now);
    let by_address =
        db::login_failures::since(db, SCOPE_ADDRESS, &address, start, u64::from(throttle.limit)).await?;
    let by_pair = db::login_failures::since(db, SCOPE_PAIR, &pair, start, throttle.pair_history()).await?;
    let wait = throttle.check(&by_address, now).err().max(throttle.check_pair(&by_pair, now).err());
    if let Some(wait) = wait {
        tracing::warn!(email = %email, "log-in refused: throttled");
        let retry_after_secs = u64::try_from((wait.num_milliseconds() + 999) / 1000).unwrap_or(1);
        return Err(AuthError::Throttled { retry_after_secs });
    }

    let account = db::accounts::find_by_email(db, email.as_str()).await?;
    // An over-long password cannot match any account: refuse it without hashing 1 MB.
    let candidate = credentials.password;
    let matched = if candidate.chars().count() > password::MAX_CHARS {
        false
    } else {
        password::verify(candidate, account.as_ref().map(|a| a.password_hash.clone())).await?
    };
    match account {
        Some(account) if matched => {
            db::login_failures::clear(db, SCOPE_PAIR, &pair).await?;
            view(account)
        }
        _ => {
            let txn = db.begin().await?;
            db::login_failures::record(&txn, SCOPE_PAIR, &pair, now).await?;
            db::login_failures::record(&txn, SCOPE_ADDRESS, &address, now).await?;
            db::login_failures::prune(&txn, start).await?;
            txn.commit().await?;
            tracing::info!(email = %email, "log-in failed");
            Err(AuthError::InvalidCredentials)
        }
    }
}

/// The account with this id, if it still exists.
pub async fn account(db: &DatabaseConnection, id: &AccountId) -> Result<Option<AccountView>, AuthError> {
    db::accounts::find_by_id(db, id).await?.map(view).transpose()
}

/// Accounts' use cases, as the Cloud API and the portal call them.
pub struct Accounts {
    db: DatabaseConnection,
    limits: std::sync::Arc<crate::ratelimit::RateLimits>,
    throttle: LoginThrottle,
}

impl Accounts {
    /// Accounts over `db`, sign-ups held to `limits` and log-ins to `throttle`.
    pub fn new(
        db: DatabaseConnection,
        limits: std::sync::Arc<crate::ratelimit::RateLimits>,
        throttle: LoginThrottle,
    ) -> Self {
        Self { db, limits, throttle }
    }

    /// Creates an account from `client` (the first one is the operator).
    pub async fn sign_up(&self, credentials: Credentials, client: IpAddr) -> Result<AccountView, AuthError> {
        sign_up(&self.db, &self.limits, credentials, client).await
    }

    /// Checks credentials from `client`, throttled per address and per (account, address).
    pub async fn log_in(&self, credentials: Credentials, client: IpAddr) -> Result<AccountView, AuthError> {
        log_in(&self.db, self.throttle, credentials, client).await
    }

    /// The account with `id`, if it exists.
    pub async fn get(&self, id: &AccountId) -> Result<Option<AccountView>, AuthError> {
        account(&self.db, id).await
    }
}
