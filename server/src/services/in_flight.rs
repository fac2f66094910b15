//! Invokes in flight, in total and per account: what lets the gateway refuse a call at the
//! account's or the platform's limit instead of queueing it.
use app::types::ids::AccountId;
use std::collections::HashMap;

/// Why a call got no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    /// The platform runs `limit` calls, all it takes.
    Platform { limit: u32 },
    /// The account has `limit` calls in flight, all it may.
    Account { limit: u32 },
}

/// Invokes in flight, in total and per account: each call holds a [`Slot`] until it ends.
#[derive(Default)]
pub struct InFlight(std::sync::Mutex<(u32, HashMap<AccountId, u32>)>);

/// One call's place in [`InFlight`]; given back on drop.
pub struct Slot<'a> {
    in_flight: &'a InFlight,
    account: AccountId,
}

impl InFlight {
    /// Takes a slot for `account`, unless it or the platform is at its limit.
    pub fn take(&self, account: &AccountId, total: u32, per_account: u32) -> Result<Slot<'_>, Full> {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (running, accounts) = &mut *guard;
        if *running >= total {
            return Err(Full::Platform { limit: total });
        }
        let mine = accounts.entry(account.clone()).or_default();
        if *mine >= per_account {
            return Err(Full::Account { limit: per_account });
        }
        *mine += 1;
        *running += 1;
        Ok(Slot { in_flight: self, account: account.clone() })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut guard = self.in_flight.0.lock().unwrap_or_else(|e| e.into_inner());
        let (running, accounts) = &mut *guard;
        *running = running.saturating_sub(1);
        if let Some(mine) = accounts.get_mut(&self.account) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                accounts.remove(&self.account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_in_flight_are_capped_per_account_and_in_total() {
        let in_flight = InFlight::default();
        let a1 = in_flight.take(&AccountId::new("a"), 3, 2).unwrap();
        let _a2 = in_flight.take(&AccountId::new("a"), 3, 2).unwrap();
        assert_eq!(in_flight.take(&AccountId::new("a"), 3, 2).err(), Some(Full::Account { limit: 2 }));
        let _b1 = in_flight.take(&AccountId::new("b"), 3, 2).unwrap();
        assert_eq!(in_flight.take(&AccountId::new("c"), 3, 2).err(), Some(Full::Platform { limit: 3 }));
        drop(a1);
        assert!(in_flight.take(&AccountId::new("a"), 3, 2).is_ok(), "an ended call gives its slot back");
    }
}
