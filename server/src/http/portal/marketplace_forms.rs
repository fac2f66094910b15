//! The portal's marketplace forms (every field a string) read into the marketplace's typed
//! input; what does not parse is reported under the form's own input names.
use app::types::{
    billing::{Currency, MICROS_PER_UNIT, parse_price},
    ids::ServiceId,
    marketplace::{
        Category, ListingForm, NewListing, NewPlan, NewReview, PlanForm, QuotaKind, ReviewForm, Visibility,
    },
};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

type Errors = BTreeMap<String, String>;

/// A whole number typed in `field`; `None` when empty.
pub(super) fn whole<N: std::str::FromStr>(errors: &mut Errors, field: &str, value: &str) -> Option<N> {
    let value = value.trim().replace(['_', ','], "");
    if value.is_empty() {
        return None;
    }
    value.parse().map_err(|_| errors.insert(field.into(), "Enter a whole number.".into())).ok()
}

/// The "New listing" form as the marketplace's input.
pub fn new_listing(form: &ListingForm) -> Result<NewListing, Errors> {
    let mut errors = Errors::new();
    let service_id = form.service_id.trim();
    if service_id.is_empty() {
        errors.insert("service_id".into(), "Choose one of your services.".into());
    }
    let category = Category::parse(form.category.trim());
    if category.is_none() {
        errors.insert("category".into(), "Choose a category.".into());
    }
    let tags = form.tags.split(',').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
    match category {
        Some(category) if errors.is_empty() => Ok(NewListing {
            service_id: ServiceId::new(service_id.to_owned()),
            title: form.title.clone(),
            summary: form.summary.clone(),
            description: form.description.clone(),
            category,
            tags,
            publisher: None,
            openapi: None,
            approval: None,
        }),
        _ => Err(errors),
    }
}

/// The "Add plan" form as the marketplace's input: the price in currency units becomes micros.
pub fn new_plan(form: &PlanForm) -> Result<NewPlan, Errors> {
    let mut errors = Errors::new();
    let free_calls_per_month = whole(&mut errors, "free_calls_per_month", &form.free_calls_per_month);
    let quota_per_month = whole(&mut errors, "quota_per_month", &form.quota_per_month);
    let rate_per_minute = whole(&mut errors, "rate_per_minute", &form.rate_per_minute);
    let price_per_call_micros = match parse_price(&form.price_per_call) {
        Ok(micros) => Some(micros),
        Err(message) => {
            errors.insert("price_per_call".into(), message);
            None
        }
    };
    let quota_kind = match form.quota_kind.trim() {
        "" => None,
        kind => QuotaKind::parse(kind).or_else(|| {
            errors.insert("quota_kind".into(), "Choose hard or soft.".into());
            None
        }),
    };
    // Without a quota there is nothing to be hard or soft about: the select always sends one.
    let quota_kind = quota_kind.filter(|_| quota_per_month.is_some());
    let visibility = match form.visibility.trim() {
        "" => None,
        v => Visibility::parse(v).or_else(|| {
            errors.insert("visibility".into(), "Choose public or private.".into());
            None
        }),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewPlan {
        name: form.name.clone(),
        free_calls_per_month,
        price_per_call_micros,
        tiers: None,
        quota_per_month,
        quota_kind,
        visibility,
        rate_per_minute,
    })
}

/// A spending cap typed in currency units (`25`, `12.50`) as minor units; `None` when empty.
pub fn spending_cap_minor(text: &str, currency: &Currency) -> Result<Option<i64>, Errors> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let error = || {
        let message = format!("Give an amount like 25 or 12.50 (at most {} decimals).", currency.exponent);
        Errors::from([("spending_cap".to_string(), message)])
    };
    let micros = parse_price(text).map_err(|_| error())?;
    let per_minor = MICROS_PER_UNIT / 10i64.pow(currency.exponent);
    if micros % per_minor != 0 {
        return Err(error());
    }
    Ok(Some(micros / per_minor))
}

/// The review form as the marketplace's input: the rating must be a whole number.
pub fn new_review(form: &ReviewForm) -> Result<NewReview, Errors> {
    match form.rating.trim().parse::<i64>() {
        Ok(rating) => Ok(NewReview { rating, body: form.body.clone() }),
        Err(_) => Err(Errors::from([("rating".to_string(), "Choose a rating from 1 to 5.".to_string())])),
    }
}

/// A deprecation's sunset date (`YYYY-MM-DD`, from a date input) as midnight UTC; `None` when
/// empty (the marketplace then asks for it).
pub fn sunset(text: &str) -> Result<Option<DateTime<Utc>>, Errors> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| Errors::from([("sunset_at".to_string(), "Give a date like 2027-01-31.".to_string())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spending_cap_in_units_becomes_minor_units() {
        let usd = Currency::usd();
        assert_eq!(spending_cap_minor("", &usd), Ok(None));
        assert_eq!(spending_cap_minor("25", &usd), Ok(Some(2_500)));
        assert_eq!(spending_cap_minor("$12.5", &usd), Ok(Some(1_250)));
        assert!(spending_cap_minor("0.001", &usd).is_err());
        assert!(spending_cap_minor("ten", &usd).is_err());
    }

    #[test]
    fn a_plan_form_reads_prices_in_units_and_names_bad_fields() {
        let form = PlanForm {
            name: "Starter".into(),
            free_calls_per_month: "1_000".into(),
            price_per_call: "0.002".into(),
            quota_per_month: "".into(),
            rate_per_minute: "60".into(),
            quota_kind: "hard".into(),
            visibility: "private".into(),
        };
        let plan = new_plan(&form).unwrap_or_default();
        assert_eq!(plan.free_calls_per_month, Some(1_000));
        assert_eq!(plan.price_per_call_micros, Some(2_000));
        assert_eq!(plan.quota_kind, None);
        assert_eq!(plan.rate_per_minute, Some(60));
        assert_eq!(plan.visibility, Some(Visibility::Private));

        let bad = PlanForm { free_calls_per_month: "many".into(), price_per_call: "-1".into(), ..form };
        let errors = new_plan(&bad).err().unwrap_or_default();
        assert!(errors.contains_key("free_calls_per_month"), "{errors:?}");
        assert!(errors.contains_key("price_per_call"), "{errors:?}");
    }

    #[test]
    fn a_listing_form_needs_a_service_and_a_category() {
        let errors = new_listing(&ListingForm::default()).err().unwrap_or_default();
        assert!(errors.contains_key("service_id") && errors.contains_key("category"), "{errors:?}");
        let form = ListingForm {
            service_id: "svc_1".into(),
            category: "weather".into(),
            tags: "Rain, , forecast".into(),
            ..ListingForm::default()
        };
        let listing = new_listing(&form).map_err(|e| format!("{e:?}"));
        assert_eq!(
            listing.map(|l| (l.category, l.tags)),
            Ok((Category::Weather, vec!["rain".into(), "forecast".into()]))
        );
    }

    #[test]
    fn a_sunset_date_is_midnight_utc() {
        assert_eq!(sunset(""), Ok(None));
        assert_eq!(
            sunset("2027-01-31").ok().flatten().map(|t| t.to_rfc3339()),
            Some("2027-01-31T00:00:00+00:00".into())
        );
        assert!(sunset("31/01/2027").is_err());
    }
}
