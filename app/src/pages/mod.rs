//! One module per page of the portal.
mod auth;
mod billing;
pub(crate) mod common;
mod dashboard;
mod data;
mod docs;
mod earnings;
mod keys;
mod landing;
mod marketplace;
mod not_found;
mod operator;
mod services;
mod usage;

pub use auth::{LogInPage, SignUpPage};
pub use billing::{BillingPage, InvoicePage};
pub use dashboard::DashboardPage;
pub use data::{EventsPage, KvBucketPage, KvPage, WebhookPage, WebhooksPage};
pub use docs::DocsPage;
pub use earnings::EarningsPage;
pub use keys::KeysPage;
pub use landing::LandingPage;
pub use marketplace::{ListingPage, MarketplacePage, MyListingsPage, SubscriptionsPage};
pub use not_found::NotFound;
pub use operator::{JoinTokensPage, NodeDetailPage, NodesPage};
pub use services::{NewServicePage, ServiceDetailPage, ServicesPage};
pub use usage::UsagePage;
