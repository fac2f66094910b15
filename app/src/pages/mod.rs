//! One module per page of the portal.
mod auth;
mod dashboard;
mod keys;
mod landing;
mod not_found;
mod operator;
mod services;

pub use auth::{LogInPage, SignUpPage};
pub use dashboard::DashboardPage;
pub use keys::KeysPage;
pub use landing::LandingPage;
pub use not_found::NotFound;
pub use operator::{JoinTokensPage, NodeDetailPage, NodesPage};
pub use services::{NewServicePage, ServiceDetailPage, ServicesPage};
