//! Field visits, the mobile app's main job (seed 004): planned, checked in and out on site
//! with time and position, with outcome and next step. A visit captured offline arrives
//! whole, under the id the device gave it, with the device's timestamps.

use chrono::{DateTime, Utc};
use credo_core::text::{clean_text, required_text};
use credo_core::{string_enum, FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::interaction::happened;
use crate::Stamps;

string_enum! {
    pub enum VisitStatus {
        Planned = "planned",
        CheckedIn = "checked_in",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

/// A position in WGS 84 decimal degrees, kept to the micro-degree (about 11 cm).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    #[schema(example = 22.543096, minimum = -90, maximum = 90)]
    pub latitude: f64,
    #[schema(example = 114.057865, minimum = -180, maximum = 180)]
    pub longitude: f64,
}

impl GeoPoint {
    /// The point in whole micro-degrees, as stored.
    pub fn micro_degrees(self) -> (i64, i64) {
        // Ranges are checked, so the products fit i64 exactly after rounding.
        (
            (self.latitude * 1e6).round() as i64,
            (self.longitude * 1e6).round() as i64,
        )
    }

    pub fn from_micro_degrees(latitude: i64, longitude: i64) -> Self {
        Self {
            latitude: latitude as f64 / 1e6,
            longitude: longitude as f64 / 1e6,
        }
    }

    fn validate(self, errors: &mut FieldErrors, field: &str) -> Option<GeoPoint> {
        let mut ok = true;
        if !(self.latitude.is_finite() && (-90.0..=90.0).contains(&self.latitude)) {
            errors.push(FieldError::new(
                under(field, "latitude"),
                FieldCode::OutOfRange,
                "latitude is -90 to 90",
            ));
            ok = false;
        }
        if !(self.longitude.is_finite() && (-180.0..=180.0).contains(&self.longitude)) {
            errors.push(FieldError::new(
                under(field, "longitude"),
                FieldCode::OutOfRange,
                "longitude is -180 to 180",
            ));
            ok = false;
        }
        // Stored rounded, so that what is read back equals what was accepted.
        ok.then(|| {
            let (lat, lon) = self.micro_degrees();
            GeoPoint::from_micro_degrees(lat, lon)
        })
    }
}

/// Arriving at (or leaving) the customer: the device's time and position.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInInput {
    /// The device's time; defaults to now.
    pub at: Option<DateTime<Utc>>,
    pub location: GeoPoint,
}

/// Leaving the customer, with what came of the visit.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckOutInput {
    /// The device's time; defaults to now.
    pub at: Option<DateTime<Utc>>,
    pub location: GeoPoint,
    #[schema(
        example = "客户同意试用新型号,需技术部配合演示",
        min_length = 1,
        max_length = 5000
    )]
    pub outcome: String,
    #[schema(example = "两周内安排技术演示", max_length = 2000)]
    pub next_step: Option<String>,
}

/// A time and place on site.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Presence {
    pub at: DateTime<Utc>,
    pub location: GeoPoint,
}

/// A visit as a client plans it, or (offline) as it happened, checks included.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitInput {
    /// The id the device gave the visit; posting the same visit again is answered with the
    /// stored one.
    pub id: Option<Uuid>,
    pub customer_id: Uuid,
    /// Who visits; defaults to the caller.
    pub agent_id: Option<Uuid>,
    /// The contact to meet.
    pub contact_id: Option<Uuid>,
    pub planned_at: DateTime<Utc>,
    #[schema(
        example = "回访设备使用情况,了解二期需求",
        min_length = 1,
        max_length = 2000
    )]
    pub purpose: String,
    /// Offline capture: the check-in that already happened.
    pub check_in: Option<CheckInInput>,
    /// Offline capture: the check-out that already happened (needs `check_in`).
    pub check_out: Option<CheckOutInput>,
}

/// The outcome of a completed visit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VisitReport {
    pub outcome: String,
    pub next_step: Option<String>,
}

/// A valid new visit.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitPlan {
    pub customer_id: Uuid,
    pub contact_id: Option<Uuid>,
    pub planned_at: DateTime<Utc>,
    pub purpose: String,
    pub check_in: Option<Presence>,
    pub check_out: Option<(Presence, VisitReport)>,
}

/// `field` under `prefix`, or `field` alone at the top of the body.
fn under(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

fn presence(
    at: Option<DateTime<Utc>>,
    location: GeoPoint,
    field: &str,
    now: DateTime<Utc>,
    errors: &mut FieldErrors,
) -> Option<Presence> {
    let at = errors.check(&under(field, "at"), happened(at.unwrap_or(now), now));
    let location = location.validate(errors, &under(field, "location"));
    Some(Presence {
        at: at?,
        location: location?,
    })
}

fn report(input: &CheckOutInput, field: &str, errors: &mut FieldErrors) -> Option<VisitReport> {
    let outcome = errors.check(
        &under(field, "outcome"),
        required_text(&input.outcome, 5000),
    );
    let next_step = input.next_step.as_deref().and_then(|n| {
        errors
            .check(&under(field, "next_step"), clean_text(n, 2000))
            .flatten()
    });
    Some(VisitReport {
        outcome: outcome?,
        next_step,
    })
}

fn check_out_after(
    check_in: &Presence,
    check_out: &Presence,
    field: &str,
    errors: &mut FieldErrors,
) {
    if check_out.at < check_in.at {
        errors.push(FieldError::new(
            under(field, "at"),
            FieldCode::BeforeCheckIn,
            "the check-out lies before the check-in",
        ));
    }
}

impl VisitInput {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<VisitPlan, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let purpose = errors.check("purpose", required_text(&self.purpose, 2000));
        let check_in = self
            .check_in
            .as_ref()
            .and_then(|c| presence(c.at, c.location, "check_in", now, &mut errors));
        let check_out = match (&self.check_in, &self.check_out) {
            (None, Some(_)) => {
                errors.push(FieldError::new(
                    "check_out",
                    FieldCode::RequiresCheckIn,
                    "a check-out needs the check-in before it",
                ));
                None
            }
            (_, Some(out)) => {
                let place = presence(out.at, out.location, "check_out", now, &mut errors);
                let report = report(out, "check_out", &mut errors);
                if let (Some(check_in), Some(place)) = (&check_in, &place) {
                    check_out_after(check_in, place, "check_out", &mut errors);
                }
                place.zip(report)
            }
            (_, None) => None,
        };
        errors.finish(|| VisitPlan {
            customer_id: self.customer_id,
            contact_id: self.contact_id,
            planned_at: self.planned_at,
            purpose: purpose.expect("checked"),
            check_in,
            check_out,
        })
    }
}

/// A visit as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Visit {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub agent_id: Uuid,
    pub contact_id: Option<Uuid>,
    pub planned_at: DateTime<Utc>,
    pub purpose: String,
    pub status: VisitStatus,
    pub check_in: Option<Presence>,
    pub check_out: Option<Presence>,
    pub report: Option<VisitReport>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// Why a visit step was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum VisitStepError {
    NotAllowed(VisitStatus),
    Invalid(Vec<FieldError>),
}

impl Visit {
    /// The status a plan starts in.
    pub fn initial_status(plan: &VisitPlan) -> VisitStatus {
        match (&plan.check_in, &plan.check_out) {
            (_, Some(_)) => VisitStatus::Completed,
            (Some(_), None) => VisitStatus::CheckedIn,
            (None, None) => VisitStatus::Planned,
        }
    }

    /// Whether this stored visit is what `plan` by `agent` describes: a replay, not a clash.
    pub fn is_replay_of(&self, plan: &VisitPlan, agent: Uuid) -> bool {
        self.agent_id == agent
            && self.customer_id == plan.customer_id
            && self.contact_id == plan.contact_id
            && self.planned_at == plan.planned_at
            && self.purpose == plan.purpose
            && self.check_in == plan.check_in
            && self.check_out == plan.check_out.as_ref().map(|(p, _)| *p)
            && self.report == plan.check_out.as_ref().map(|(_, r)| r.clone())
    }

    pub fn check_in(
        &self,
        input: &CheckInInput,
        now: DateTime<Utc>,
    ) -> Result<Visit, VisitStepError> {
        if self.status != VisitStatus::Planned {
            return Err(VisitStepError::NotAllowed(self.status));
        }
        let mut errors = FieldErrors::new();
        let place = presence(input.at, input.location, "", now, &mut errors);
        let place = errors
            .finish(|| place.expect("checked"))
            .map_err(VisitStepError::Invalid)?;
        let mut next = self.clone();
        next.status = VisitStatus::CheckedIn;
        next.check_in = Some(place);
        Ok(next)
    }

    pub fn check_out(
        &self,
        input: &CheckOutInput,
        now: DateTime<Utc>,
    ) -> Result<Visit, VisitStepError> {
        let (VisitStatus::CheckedIn, Some(check_in)) = (self.status, &self.check_in) else {
            return Err(VisitStepError::NotAllowed(self.status));
        };
        let mut errors = FieldErrors::new();
        let place = presence(input.at, input.location, "", now, &mut errors);
        let report = report(input, "", &mut errors);
        if let Some(place) = &place {
            check_out_after(check_in, place, "", &mut errors);
        }
        let (place, report) = errors
            .finish(|| (place.expect("checked"), report.expect("checked")))
            .map_err(VisitStepError::Invalid)?;
        let mut next = self.clone();
        next.status = VisitStatus::Completed;
        next.check_out = Some(place);
        next.report = Some(report);
        Ok(next)
    }

    pub fn cancel(&self) -> Result<Visit, VisitStepError> {
        if self.status != VisitStatus::Planned {
            return Err(VisitStepError::NotAllowed(self.status));
        }
        let mut next = self.clone();
        next.status = VisitStatus::Cancelled;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proptest::prelude::*;

    fn point(latitude: f64, longitude: f64) -> GeoPoint {
        GeoPoint {
            latitude,
            longitude,
        }
    }

    fn input(now: DateTime<Utc>) -> VisitInput {
        VisitInput {
            id: None,
            customer_id: Uuid::nil(),
            agent_id: None,
            contact_id: None,
            planned_at: now,
            purpose: "回访".into(),
            check_in: None,
            check_out: None,
        }
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(VisitStatus::names_agree_with_serde());
    }

    #[test]
    fn positions_are_in_range() {
        let now = Utc::now();
        let mut bad = input(now);
        bad.check_in = Some(CheckInInput {
            at: None,
            location: point(91.0, f64::NAN),
        });
        let fields: Vec<_> = bad
            .validate(now)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["check_in.location.latitude", "check_in.location.longitude"]
        );
    }

    #[test]
    fn an_offline_visit_arrives_whole_and_in_order() {
        let now = Utc::now();
        let mut whole = input(now);
        whole.check_in = Some(CheckInInput {
            at: Some(now - Duration::hours(2)),
            location: point(22.5, 114.0),
        });
        whole.check_out = Some(CheckOutInput {
            at: Some(now - Duration::hours(3)),
            location: point(22.5, 114.0),
            outcome: "ok".into(),
            next_step: None,
        });
        let errors = whole.validate(now).unwrap_err();
        assert_eq!(errors[0].code, FieldCode::BeforeCheckIn);
        whole.check_out.as_mut().unwrap().at = Some(now - Duration::hours(1));
        let plan = whole.validate(now).unwrap();
        assert_eq!(Visit::initial_status(&plan), VisitStatus::Completed);
        let mut orphan = input(now);
        orphan.check_out = whole.check_out.clone();
        assert_eq!(
            orphan.validate(now).unwrap_err()[0].code,
            FieldCode::RequiresCheckIn
        );
    }

    proptest! {
        #[test]
        fn accepted_points_survive_storage(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0) {
            let mut errors = FieldErrors::new();
            let accepted = point(lat, lon).validate(&mut errors, "p").unwrap();
            let (a, b) = accepted.micro_degrees();
            prop_assert_eq!(GeoPoint::from_micro_degrees(a, b), accepted);
        }
    }
}
