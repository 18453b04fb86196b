//! The editable profile of a customer and the rules it must satisfy.

use chrono::NaiveDate;
use credo_core::text::{clean_text, required_text};
use credo_core::{CountryCode, Email, FieldCode, FieldError, FieldErrors, Phone, Tag, Uscc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kinds::{
    CommunicationStatus, CustomerKind, LifecycleStage, OperatingStatus, SourceChannel,
};

const NAME_MAX: usize = 200;
const TEXT_MAX: usize = 500;
const LIST_MAX: usize = 20;

/// A customer profile as a client sends it. `id` and `owner_id` are read on create only.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    /// Client-chosen id (UUID), so an offline client can create and retry safely.
    pub id: Option<Uuid>,
    /// Owning account manager; defaults to the caller. Agents may only name themselves.
    pub owner_id: Option<Uuid>,
    pub kind: CustomerKind,
    #[schema(example = "深圳市华强贸易有限公司", min_length = 1, max_length = 200)]
    pub legal_name: String,
    #[schema(example = "华强贸易", max_length = 200)]
    pub short_name: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "CN", pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
    #[schema(example = "广东省深圳市", max_length = 500)]
    pub region: Option<String>,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    #[schema(example = "machinery", max_length = 500)]
    pub industry: Option<String>,
    #[schema(max_length = 500)]
    pub main_products: Option<String>,
    pub source_channel: Option<SourceChannel>,
    pub communication_status: Option<CommunicationStatus>,
    #[schema(max_length = 200)]
    pub legal_representative: Option<String>,
    #[schema(max_length = 200)]
    pub business_manager: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Phone>, max_items = 20)]
    pub phones: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Email>, max_items = 20)]
    pub emails: Vec<String>,
    /// Unified social credit code (GB 32100-2015), check character verified.
    #[schema(example = "91350100M000100Y43", min_length = 18, max_length = 18)]
    pub uscc: Option<String>,
    #[schema(max_length = 200)]
    pub tax_number: Option<String>,
    #[schema(max_length = 200)]
    pub bank_name: Option<String>,
    #[schema(max_length = 200)]
    pub bank_account: Option<String>,
    pub operating_status: Option<OperatingStatus>,
    pub founded_on: Option<NaiveDate>,
    /// Persons only.
    pub birthday: Option<NaiveDate>,
    /// Persons only.
    #[schema(max_length = 200)]
    pub age_band: Option<String>,
    /// Persons only.
    #[schema(max_length = 200)]
    pub education: Option<String>,
    /// Persons only.
    #[schema(max_length = 200)]
    pub needs_category: Option<String>,
    #[serde(default)]
    /// Compared case-insensitively: stored lower case, each once.
    #[schema(value_type = Vec<Tag>, max_items = 20)]
    pub tags: Vec<String>,
    /// Defaults to `lead`.
    pub lifecycle_stage: Option<LifecycleStage>,
}

/// A valid customer profile: every field checked, texts trimmed, codes normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerProfile {
    pub kind: CustomerKind,
    #[schema(example = "深圳市华强贸易有限公司")]
    pub legal_name: String,
    pub short_name: Option<String>,
    #[schema(value_type = Option<String>, example = "CN")]
    pub country: Option<CountryCode>,
    pub region: Option<String>,
    pub address: Option<String>,
    pub industry: Option<String>,
    pub main_products: Option<String>,
    pub source_channel: Option<SourceChannel>,
    pub communication_status: Option<CommunicationStatus>,
    pub legal_representative: Option<String>,
    pub business_manager: Option<String>,
    pub phones: Vec<Phone>,
    pub emails: Vec<Email>,
    #[schema(value_type = Option<String>, example = "91350100M000100Y43")]
    pub uscc: Option<Uscc>,
    pub tax_number: Option<String>,
    pub bank_name: Option<String>,
    pub bank_account: Option<String>,
    pub operating_status: Option<OperatingStatus>,
    pub founded_on: Option<NaiveDate>,
    pub birthday: Option<NaiveDate>,
    pub age_band: Option<String>,
    pub education: Option<String>,
    pub needs_category: Option<String>,
    /// Sorted, unique, lower case.
    pub tags: Vec<Tag>,
    pub lifecycle_stage: LifecycleStage,
}

/// Checks an optional text field into `errors`; `None` when absent, empty or invalid.
fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Option<String> {
    raw.and_then(|raw| errors.check(field, clean_text(raw, max)).flatten())
}

/// Parses every entry of a list field, reporting each bad entry at its index.
fn list<T: Ord>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &[String],
    parse: impl Fn(&str) -> Result<T, FieldError>,
) -> Vec<T> {
    if raw.len() > LIST_MAX {
        errors.push(FieldError::new(
            field,
            FieldCode::TooMany,
            format!("at most {LIST_MAX} entries"),
        ));
        return Vec::new();
    }
    let mut values: Vec<T> = raw
        .iter()
        .enumerate()
        .filter_map(|(i, item)| errors.check(&format!("{field}[{i}]"), parse(item)))
        .collect();
    values.sort();
    values.dedup();
    values
}

impl CustomerInput {
    /// An input with only the kind and legal name set, for building a profile in code.
    pub fn named(kind: CustomerKind, legal_name: &str) -> Self {
        Self {
            id: None,
            owner_id: None,
            kind,
            legal_name: legal_name.to_owned(),
            short_name: None,
            country: None,
            region: None,
            address: None,
            industry: None,
            main_products: None,
            source_channel: None,
            communication_status: None,
            legal_representative: None,
            business_manager: None,
            phones: Vec::new(),
            emails: Vec::new(),
            uscc: None,
            tax_number: None,
            bank_name: None,
            bank_account: None,
            operating_status: None,
            founded_on: None,
            birthday: None,
            age_band: None,
            education: None,
            needs_category: None,
            tags: Vec::new(),
            lifecycle_stage: None,
        }
    }
}

impl CustomerInput {
    /// A valid profile; founding dates and birthdays lie on or before `today`.
    pub fn validate(self, today: NaiveDate) -> Result<CustomerProfile, Vec<FieldError>> {
        let input = self;
        let mut errors = FieldErrors::new();
        let legal_name = errors.check("legal_name", required_text(&input.legal_name, NAME_MAX));
        let text = |errors: &mut FieldErrors, field: &str, raw: &Option<String>, max: usize| {
            optional_text(errors, field, raw.as_deref(), max)
        };
        let short_name = text(&mut errors, "short_name", &input.short_name, NAME_MAX);
        let country = input
            .country
            .as_deref()
            .and_then(|c| errors.check("country", CountryCode::parse(c)));
        let region = text(&mut errors, "region", &input.region, TEXT_MAX);
        let address = text(&mut errors, "address", &input.address, TEXT_MAX);
        let industry = text(&mut errors, "industry", &input.industry, TEXT_MAX);
        let main_products = text(&mut errors, "main_products", &input.main_products, TEXT_MAX);
        let legal_representative = text(
            &mut errors,
            "legal_representative",
            &input.legal_representative,
            NAME_MAX,
        );
        let business_manager = text(
            &mut errors,
            "business_manager",
            &input.business_manager,
            NAME_MAX,
        );
        let phones = list(&mut errors, "phones", &input.phones, Phone::parse);
        let emails = list(&mut errors, "emails", &input.emails, Email::parse);
        let uscc = input
            .uscc
            .as_deref()
            .and_then(|u| errors.check("uscc", Uscc::parse(u)));
        let tax_number = text(&mut errors, "tax_number", &input.tax_number, NAME_MAX);
        let bank_name = text(&mut errors, "bank_name", &input.bank_name, NAME_MAX);
        let bank_account = text(&mut errors, "bank_account", &input.bank_account, NAME_MAX);
        let age_band = text(&mut errors, "age_band", &input.age_band, NAME_MAX);
        let education = text(&mut errors, "education", &input.education, NAME_MAX);
        let needs_category = text(
            &mut errors,
            "needs_category",
            &input.needs_category,
            NAME_MAX,
        );
        let tags = list(&mut errors, "tags", &input.tags, Tag::parse);

        if input.kind == CustomerKind::Organization {
            let person_fields = [
                ("birthday", input.birthday.is_some()),
                ("age_band", age_band.is_some()),
                ("education", education.is_some()),
                ("needs_category", needs_category.is_some()),
            ];
            for (field, present) in person_fields {
                if present {
                    errors.push(FieldError::new(
                        field,
                        FieldCode::PersonOnly,
                        "only a person customer has this field",
                    ));
                }
            }
        }
        for (field, date) in [
            ("founded_on", input.founded_on),
            ("birthday", input.birthday),
        ] {
            if date.is_some_and(|d| d > today) {
                errors.push(FieldError::new(
                    field,
                    FieldCode::InFuture,
                    "the date lies in the future",
                ));
            }
        }

        errors.finish(|| CustomerProfile {
            kind: input.kind,
            legal_name: legal_name.expect("checked"),
            short_name,
            country,
            region,
            address,
            industry,
            main_products,
            source_channel: input.source_channel,
            communication_status: input.communication_status,
            legal_representative,
            business_manager,
            phones,
            emails,
            uscc,
            tax_number,
            bank_name,
            bank_account,
            operating_status: input.operating_status,
            founded_on: input.founded_on,
            birthday: input.birthday,
            age_band,
            education,
            needs_category,
            tags,
            lifecycle_stage: input.lifecycle_stage.unwrap_or(LifecycleStage::Lead),
        })
    }
}

impl CustomerProfile {
    /// The key the customer's names are searched by.
    pub fn search_key(&self) -> String {
        let short = self.short_name.as_deref().unwrap_or("");
        credo_core::text::search_key(&format!("{} {short}", self.legal_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validated(input: CustomerInput) -> Result<CustomerProfile, Vec<FieldError>> {
        input.validate("2026-06-30".parse().unwrap())
    }
    use serde_json::json;

    fn input(value: serde_json::Value) -> CustomerInput {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_minimal_organization_is_a_lead() {
        let profile = validated(input(
            json!({"kind": "organization", "legal_name": "  ACME  "}),
        ))
        .unwrap();
        assert_eq!(profile.legal_name, "ACME");
        assert_eq!(profile.lifecycle_stage, LifecycleStage::Lead);
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let errors = validated(input(json!({
            "kind": "organization",
            "legal_name": " ",
            "country": "XX",
            "uscc": "91350100M000100Y44",
            "emails": ["ok@example.com", "nope"],
            "birthday": "1990-01-01",
            "tags": ["a", ""],
        })))
        .unwrap_err();
        let fields: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("legal_name", "required"),
                ("country", "invalid_country"),
                ("emails[1]", "invalid_email"),
                ("uscc", "checksum_mismatch"),
                ("tags[1]", "invalid_tag"),
                ("birthday", "person_only"),
            ]
        );
    }

    #[test]
    fn lists_are_normalised_sorted_and_unique() {
        let profile = validated(input(json!({
            "kind": "person", "legal_name": "李雷",
            "tags": ["VIP", "export", "vip"], "phones": ["138-0013-8000", "13800138000"],
        })))
        .unwrap();
        assert_eq!(
            profile.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
            ["export", "vip"]
        );
        assert_eq!(profile.phones.len(), 1);
    }

    #[test]
    fn a_profile_round_trips_through_its_input_form() {
        let profile = validated(input(json!({
            "kind": "organization", "legal_name": "华强贸易", "country": "cn",
            "uscc": "91350100m000100y43", "founded_on": "2001-05-01", "tags": ["b", "a"],
        })))
        .unwrap();
        let again = validated(input(serde_json::to_value(&profile).unwrap())).unwrap();
        assert_eq!(again, profile);
    }
}
