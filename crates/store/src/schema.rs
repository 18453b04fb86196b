//! The portable schema: only types that work through diesel's MultiConnection on both
//! backends (Text, BigInt, Bool, Date, Timestamp, Nullable). Kept by hand, in step with
//! `migrations/sqlite` and `migrations/postgres`.

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    sales_units (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        role -> Text,
        sales_unit_id -> Nullable<Text>,
        password_hash -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        user_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        username -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Nullable<BigInt>,
        response_body -> Nullable<Text>,
        response_etag -> Nullable<Text>,
        response_location -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    customers (id) {
        id -> Text,
        kind -> Text,
        legal_name -> Text,
        short_name -> Nullable<Text>,
        search_key -> Text,
        country -> Nullable<Text>,
        region -> Nullable<Text>,
        address -> Nullable<Text>,
        industry -> Nullable<Text>,
        source_channel -> Nullable<Text>,
        communication_status -> Nullable<Text>,
        uscc -> Nullable<Text>,
        operating_status -> Nullable<Text>,
        founded_on -> Nullable<Date>,
        birthday -> Nullable<Date>,
        details -> Text,
        lifecycle_stage -> Text,
        owner_id -> Text,
        sales_unit_id -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    customer_tags (customer_id, tag) {
        customer_id -> Text,
        tag -> Text,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        customer_id -> Text,
        name -> Text,
        search_key -> Text,
        role -> Nullable<Text>,
        title -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        decision_authority -> Nullable<Text>,
        is_primary -> Bool,
        notes -> Nullable<Text>,
        archived_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    ownership_transfers (id) {
        id -> Text,
        customer_id -> Text,
        from_owner_id -> Text,
        to_owner_id -> Text,
        from_sales_unit_id -> Nullable<Text>,
        to_sales_unit_id -> Nullable<Text>,
        reason -> Text,
        transferred_by -> Text,
        transferred_at -> Timestamp,
    }
}

diesel::table! {
    customer_notes (id) {
        id -> Text,
        customer_id -> Text,
        department -> Text,
        body -> Text,
        author_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        customer_id -> Text,
        department -> Text,
        topic -> Text,
        rating -> BigInt,
        comment -> Nullable<Text>,
        assessed_on -> Date,
        author_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        entity_type -> Text,
        entity_id -> Text,
        action -> Text,
        actor_id -> Text,
        at -> Timestamp,
        changes -> Text,
    }
}

diesel::joinable!(users -> sales_units (sales_unit_id));
diesel::joinable!(customer_tags -> customers (customer_id));
diesel::joinable!(contacts -> customers (customer_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    sales_units,
    users,
    refresh_tokens,
    login_failures,
    idempotency_keys,
    customers,
    customer_tags,
    contacts,
    ownership_transfers,
    customer_notes,
    assessments,
    audit_log,
);
