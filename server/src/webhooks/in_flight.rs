//! The dispatcher's attempts in flight: which deliveries, and how many per endpoint (so one
//! slow receiver cannot take every slot). Held by the façade, used by the dispatcher.
use crate::db::entities::webhook_deliveries;
use app::types::ids::{WebhookDeliveryId, WebhookId};
use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

/// The attempts in flight: which deliveries, and how many per endpoint.
#[derive(Default)]
pub struct InFlight(Mutex<(HashSet<WebhookDeliveryId>, HashMap<WebhookId, usize>)>);

impl InFlight {
    /// Claims a slot for `delivery` unless it is in flight or its endpoint is at `per_endpoint`.
    pub(super) fn claim(&self, delivery: &webhook_deliveries::Model, per_endpoint: usize) -> bool {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (deliveries, endpoints) = &mut *guard;
        let busy = endpoints.get(&delivery.endpoint_id).copied().unwrap_or(0);
        if busy >= per_endpoint || deliveries.contains(&delivery.id) {
            return false;
        }
        deliveries.insert(delivery.id.clone());
        *endpoints.entry(delivery.endpoint_id.clone()).or_default() += 1;
        true
    }

    pub(super) fn release(&self, delivery: &webhook_deliveries::Model) {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (deliveries, endpoints) = &mut *guard;
        deliveries.remove(&delivery.id);
        if let Some(n) = endpoints.get_mut(&delivery.endpoint_id) {
            *n -= 1;
            if *n == 0 {
                endpoints.remove(&delivery.endpoint_id);
            }
        }
    }
}
