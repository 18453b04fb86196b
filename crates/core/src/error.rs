use serde::Serialize;
use utoipa::ToSchema;

crate::string_enum! {
    /// Which rule a field broke: a closed set, so the OpenAPI document lists every value and
    /// a client can switch on it.
    pub enum FieldCode {
        /// The field is missing or empty.
        Required = "required",
        /// The body has a member this operation does not take.
        UnknownField = "unknown_field",
        /// The query has a parameter this operation does not take.
        UnknownParameter = "unknown_parameter",
        /// The value is not of the declared JSON type.
        InvalidType = "invalid_type",
        /// The query value does not parse.
        InvalidValue = "invalid_value",
        /// The field cannot be changed by this operation.
        ReadOnly = "read_only",
        /// The field contradicts another field of the same input.
        Conflicting = "conflicting",
        /// The field does not apply in this case (e.g. a reason for a step that takes none).
        NotApplicable = "not_applicable",
        /// The text is longer than allowed.
        TooLong = "too_long",
        /// The list has more entries than allowed.
        TooMany = "too_many",
        /// The amount exceeds what can be represented (2^53 - 1 minor units).
        TooLarge = "too_large",
        /// The number or date is outside the allowed range.
        OutOfRange = "out_of_range",
        /// The date or time lies in the future.
        InFuture = "in_future",
        /// The date lies before an earlier date of the same record.
        BeforeEarlierDate = "before_earlier_date",
        /// Production cannot finish after shipping.
        AfterShipping = "after_shipping",
        /// The check-out lies before the check-in.
        BeforeCheckIn = "before_check_in",
        /// A check-out needs a check-in before it.
        RequiresCheckIn = "requires_check_in",
        /// The claim exceeds the order amount.
        ExceedsOrder = "exceeds_order",
        /// The text holds a control character.
        ControlCharacter = "control_character",
        /// The text holds a bidirectional override or isolate character.
        BidiControl = "bidi_control",
        /// Not an e-mail address.
        InvalidEmail = "invalid_email",
        /// Not a phone number.
        InvalidPhone = "invalid_phone",
        /// Not a tag.
        InvalidTag = "invalid_tag",
        /// Not an ISO 3166-1 alpha-2 country code.
        InvalidCountry = "invalid_country",
        /// Not an active ISO 4217 currency code.
        InvalidCurrency = "invalid_currency",
        /// Not an IANA time zone.
        InvalidTimeZone = "invalid_time_zone",
        /// Not an exchange rate.
        InvalidRate = "invalid_rate",
        /// The company currency needs no exchange rate.
        HomeCurrency = "home_currency",
        /// Not a username.
        InvalidUsername = "invalid_username",
        /// The password is too short, too common or the username.
        WeakPassword = "weak_password",
        /// The current password is not right.
        WrongPassword = "wrong_password",
        /// A USCC has 18 characters.
        InvalidLength = "invalid_length",
        /// A USCC character outside GB 32100-2015's alphabet.
        InvalidCharacter = "invalid_character",
        /// A USCC whose administrative division code is not digits.
        InvalidRegionCode = "invalid_region_code",
        /// A USCC whose check character does not match.
        ChecksumMismatch = "checksum_mismatch",
        /// The field applies to person customers only.
        PersonOnly = "person_only",
        /// Another record already has this value.
        Duplicate = "duplicate",
        /// No record with this id in the caller's scope.
        NotFound = "not_found",
        /// The server may not call this address (a webhook URL on a private network).
        NotAllowed = "not_allowed",
        /// The referenced customer is archived.
        Archived = "archived",
        /// No active user has this id.
        UnknownUser = "unknown_user",
        /// No live contact of this customer has this id.
        UnknownContact = "unknown_contact",
        /// No active sales unit has this id.
        UnknownSalesUnit = "unknown_sales_unit",
        /// This user cannot be given the work.
        NotAssignable = "not_assignable",
        /// The referenced record is outside the caller's scope.
        OutOfScope = "out_of_scope",
        /// The user cannot see the customer.
        CannotSeeCustomer = "cannot_see_customer",
        /// An admin cannot disable or demote themself.
        SelfLockout = "self_lockout",
        /// The referenced record belongs to another customer.
        OtherCustomer = "other_customer",
        /// The referenced record is in another currency.
        CurrencyMismatch = "currency_mismatch",
        /// The product trial is closed already.
        TrialClosed = "trial_closed",
        /// A part is larger than the whole it belongs to (inventory above current assets).
        ExceedsWhole = "exceeds_whole",
        /// Total assets differ from total liabilities plus equity by more than 1 %.
        Unbalanced = "unbalanced",
        /// No entry of the template or policy has this key.
        UnknownKey = "unknown_key",
    }
}

/// One offending input field: which field, which rule (a stable code) and a readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `uscc` or `contacts[2].email`.
    #[schema(example = "uscc")]
    pub field: String,
    pub code: FieldCode,
    #[schema(example = "the check character does not match GB 32100-2015")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    /// The same error reported under a parent path (`email` -> `contacts[0].email`).
    pub fn nested(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// Collects field errors while a whole input is checked, so a client learns every problem at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Keeps the value when it parsed, records the error under `field` when it did not.
    pub fn check<T>(&mut self, field: &str, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(error.nested(field));
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self.0)
        }
    }
}

impl From<FieldError> for Vec<FieldError> {
    fn from(error: FieldError) -> Self {
        vec![error]
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::FieldCode;

    #[test]
    fn field_codes_are_named_as_serde_names_them() {
        assert!(FieldCode::names_agree_with_serde());
    }
}
