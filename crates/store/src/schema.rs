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
        session_expires_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        username_hash -> Text,
        client -> Text,
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
        credit_review_due_since -> Nullable<Timestamp>,
        credit_data_refreshed_at -> Timestamp,
        name_key -> Text,
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

diesel::table! {
    receivables (id) {
        id -> Text,
        customer_id -> Text,
        sales_unit_id -> Nullable<Text>,
        owner_id -> Text,
        order_id -> Nullable<Text>,
        currency -> Text,
        amount_minor -> BigInt,
        issued_on -> Date,
        due_on -> Date,
        shipped_on -> Nullable<Date>,
        reference -> Text,
        open_minor -> BigInt,
        settled_on -> Nullable<Date>,
        original_due_on -> Nullable<Date>,
        disputed_on -> Nullable<Date>,
        dispute_reason -> Nullable<Text>,
        dispute_until -> Nullable<Date>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    receivable_extensions (id) {
        id -> Text,
        receivable_id -> Text,
        previous_due_on -> Date,
        requested_due_on -> Date,
        reason -> Text,
        status -> Text,
        decision_note -> Nullable<Text>,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        customer_id -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        received_on -> Date,
        reference -> Text,
        unallocated_minor -> BigInt,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    receivable_reductions (id) {
        id -> Text,
        receivable_id -> Text,
        kind -> Text,
        payment_id -> Nullable<Text>,
        amount_minor -> BigInt,
        reduced_on -> Date,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    dunning_actions (id) {
        id -> Text,
        customer_id -> Text,
        as_of -> Date,
        level -> Text,
        action -> Text,
        effect -> Text,
        task_id -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    dunning_notices (receivable_id, level) {
        receivable_id -> Text,
        level -> Text,
        action_id -> Text,
    }
}

diesel::table! {
    warning_list_changes (id) {
        id -> Text,
        customer_id -> Text,
        listed -> Bool,
        reason -> Text,
        changed_on -> Date,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    ageing_snapshots (month_end, currency, sales_unit_key) {
        month_end -> Date,
        currency -> Text,
        sales_unit_key -> Text,
        bucket_limits -> Text,
        buckets_minor -> Text,
        outstanding_minor -> BigInt,
        taken_at -> Timestamp,
    }
}

diesel::table! {
    collection_targets (collector_id, month_start, currency) {
        collector_id -> Text,
        month_start -> Date,
        currency -> Text,
        target_minor -> BigInt,
        set_at -> Timestamp,
        set_by -> Text,
    }
}

diesel::table! {
    financial_statements (id) {
        id -> Text,
        customer_id -> Text,
        period_end -> Date,
        currency -> Text,
        audited -> Bool,
        figures -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    credit_evaluations (id) {
        id -> Text,
        customer_id -> Text,
        statement_id -> Text,
        currency -> Text,
        final_limit_minor -> BigInt,
        rating -> Text,
        record -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    credit_applications (id) {
        id -> Text,
        customer_id -> Text,
        sales_unit_id -> Nullable<Text>,
        currency -> Text,
        requested_limit_minor -> BigInt,
        term_days -> BigInt,
        reason -> Text,
        green_channel -> Bool,
        status -> Text,
        pre_reviewed_by -> Nullable<Text>,
        pre_reviewed_at -> Nullable<Timestamp>,
        pre_review_note -> Nullable<Text>,
        evaluation_id -> Nullable<Text>,
        evaluated_by -> Nullable<Text>,
        evaluated_at -> Nullable<Timestamp>,
        evaluation_note -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
        agreement_id -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    credit_agreements (id) {
        id -> Text,
        customer_id -> Text,
        currency -> Text,
        limit_minor -> BigInt,
        term_days -> BigInt,
        valid_from -> Date,
        valid_to -> Date,
        guarantees -> Text,
        source -> Text,
        application_id -> Nullable<Text>,
        evaluation_id -> Nullable<Text>,
        rating -> Nullable<Text>,
        reason -> Nullable<Text>,
        status -> Text,
        ended_by -> Nullable<Text>,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    credit_overrides (id) {
        id -> Text,
        order_id -> Text,
        customer_id -> Text,
        currency -> Text,
        amount_minor -> BigInt,
        reason -> Text,
        expires_on -> Date,
        used_at -> Nullable<Timestamp>,
        used_step -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    credit_alerts (id) {
        id -> Text,
        customer_id -> Text,
        kind -> Text,
        detail -> Text,
        raised_on -> Date,
        task_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> sales_units (sales_unit_id));
diesel::joinable!(customer_tags -> customers (customer_id));
diesel::joinable!(contacts -> customers (customer_id));

diesel::table! {
    orders (id) {
        id -> Text,
        customer_id -> Text,
        status -> Text,
        reference -> Nullable<Text>,
        currency -> Text,
        ordered_on -> Date,
        prepayment_bp -> BigInt,
        credit_days -> BigInt,
        amount_minor -> BigInt,
        product_trial_id -> Nullable<Text>,
        note -> Nullable<Text>,
        confirmed_on -> Nullable<Date>,
        completed_on -> Nullable<Date>,
        shipped_on -> Nullable<Date>,
        documents_sent_on -> Nullable<Date>,
        paid_on -> Nullable<Date>,
        closed_on -> Nullable<Date>,
        cancelled_on -> Nullable<Date>,
        cancel_reason -> Nullable<Text>,
        owner_id -> Text,
        sales_unit_id -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
        version -> BigInt,
        credit_check -> Nullable<Text>,
        cost_minor -> BigInt,
        product_kinds -> BigInt,
    }
}

diesel::table! {
    order_lines (order_id, line_no) {
        order_id -> Text,
        line_no -> BigInt,
        product_code -> Text,
        product_name -> Text,
        quantity -> BigInt,
        unit_price_minor -> BigInt,
        unit_cost_minor -> BigInt,
    }
}

diesel::table! {
    order_claims (id) {
        id -> Text,
        order_id -> Text,
        customer_id -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        reason -> Text,
        raised_on -> Date,
        status -> Text,
        settled_amount_minor -> Nullable<BigInt>,
        decision_note -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    product_trials (id) {
        id -> Text,
        customer_id -> Text,
        product_code -> Text,
        product_name -> Text,
        stage -> Text,
        inquired_on -> Date,
        sampled_on -> Nullable<Date>,
        ordered_on -> Nullable<Date>,
        dropped_on -> Nullable<Date>,
        order_id -> Nullable<Text>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    customer_events (id) {
        id -> Text,
        customer_id -> Text,
        kind -> Text,
        occurred_on -> Date,
        department -> Text,
        description -> Text,
        opens_credit_review -> Bool,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    interactions (id) {
        id -> Text,
        customer_id -> Text,
        channel -> Text,
        direction -> Text,
        occurred_at -> Timestamp,
        participants -> Text,
        summary -> Text,
        outcome -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    visits (id) {
        id -> Text,
        customer_id -> Text,
        agent_id -> Text,
        contact_id -> Nullable<Text>,
        planned_at -> Timestamp,
        purpose -> Text,
        status -> Text,
        check_in_at -> Nullable<Timestamp>,
        check_in_lat -> Nullable<BigInt>,
        check_in_lon -> Nullable<BigInt>,
        check_out_at -> Nullable<Timestamp>,
        check_out_lat -> Nullable<BigInt>,
        check_out_lon -> Nullable<BigInt>,
        outcome -> Nullable<Text>,
        next_step -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    tasks (id) {
        id -> Text,
        kind -> Text,
        title -> Text,
        assignee_id -> Text,
        customer_id -> Nullable<Text>,
        due_on -> Date,
        note -> Nullable<Text>,
        status -> Text,
        sales_unit_id -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    name_key_rule (id) {
        id -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    leads (id) {
        id -> Text,
        company_name -> Text,
        company_key -> Text,
        contact_name -> Nullable<Text>,
        contact_key -> Text,
        contact_title -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        country -> Nullable<Text>,
        channel -> Text,
        source_detail -> Nullable<Text>,
        note -> Nullable<Text>,
        money -> Bool,
        authority -> Bool,
        need -> Bool,
        stage -> Text,
        furthest_stage -> Text,
        stage_changed_at -> Timestamp,
        lost_reason -> Nullable<Text>,
        customer_id -> Nullable<Text>,
        owner_id -> Text,
        sales_unit_id -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
        version -> BigInt,
    }
}

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
    orders,
    order_lines,
    order_claims,
    product_trials,
    customer_events,
    interactions,
    visits,
    tasks,
    leads,
    receivables,
    payments,
    receivable_reductions,
    receivable_extensions,
    dunning_actions,
    dunning_notices,
    warning_list_changes,
    ageing_snapshots,
    collection_targets,
    financial_statements,
    credit_evaluations,
    credit_applications,
    credit_agreements,
    credit_overrides,
    credit_alerts,
    segmentation_runs,
    segmentation_results,
    segmentation_overrides,
    customer_losses,
    jobs,
    dunning_runs,
    dunning_run_entries,
);

diesel::table! {
    fx_rates (currency, rate_on) {
        currency -> Text,
        rate_on -> Date,
        rate -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        state -> Text,
        payload -> Text,
        schedule_key -> Nullable<Text>,
        run_at -> Timestamp,
        attempts -> BigInt,
        max_attempts -> BigInt,
        runner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        processed -> BigInt,
        total -> Nullable<BigInt>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        error -> Nullable<Text>,
        result -> Nullable<Text>,
        result_link -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    settings_history (key, version) {
        key -> Text,
        version -> BigInt,
        value -> Text,
    }
}

diesel::table! {
    segmentation_runs (id) {
        id -> Text,
        as_of -> Date,
        policy_version -> BigInt,
        sales_unit_id -> Nullable<Text>,
        currency -> Text,
        models -> Nullable<Text>,
        excluded_orders -> Nullable<BigInt>,
        pareto -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
        company_margin_minor -> Nullable<BigInt>,
    }
}

diesel::table! {
    segmentation_results (run_id, customer_id) {
        run_id -> Text,
        customer_id -> Text,
        sales_unit_id -> Nullable<Text>,
        abc_class -> Text,
        abc_rank -> BigInt,
        measure_minor -> BigInt,
        score_total -> Double,
        grade -> Text,
        rfm_segment -> Nullable<Text>,
        quadrant -> Nullable<Text>,
        tier -> Text,
        churn_probability -> Nullable<Double>,
        clv_minor -> Nullable<BigInt>,
        negative_value -> Bool,
        detail -> Text,
    }
}

diesel::table! {
    segmentation_overrides (id) {
        id -> Text,
        customer_id -> Text,
        grade -> Text,
        reason -> Text,
        expires_on -> Date,
        status -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(segmentation_runs -> jobs (id));
diesel::joinable!(segmentation_results -> segmentation_runs (run_id));
diesel::joinable!(segmentation_results -> customers (customer_id));

diesel::table! {
    customer_losses (id) {
        id -> Text,
        customer_id -> Text,
        reason -> Text,
        note -> Nullable<Text>,
        lost_on -> Date,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    fx_rate_changes (id) {
        id -> Text,
        currency -> Text,
        rate_on -> Date,
        rate -> Text,
        previous_rate -> Nullable<Text>,
        reason -> Nullable<Text>,
        deviation_bp -> Nullable<BigInt>,
        status -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    dunning_runs (id) {
        id -> Text,
        as_of -> Date,
        dry_run -> Bool,
        policy_version -> Nullable<BigInt>,
        action_count -> BigInt,
        held_back_count -> BigInt,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    dunning_run_entries (run_id, customer_id) {
        run_id -> Text,
        customer_id -> Text,
        held_back -> Bool,
        level_rank -> BigInt,
        level -> Nullable<Text>,
        entry -> Text,
    }
}

diesel::joinable!(dunning_runs -> jobs (id));
diesel::joinable!(dunning_run_entries -> dunning_runs (run_id));

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        txid -> BigInt,
        entity_type -> Text,
        entity_id -> Text,
        customer_id -> Nullable<Text>,
        op -> Text,
        version -> BigInt,
        owner_id -> Nullable<Text>,
        unit_id -> Nullable<Text>,
        left_owner_id -> Nullable<Text>,
        left_unit_id -> Nullable<Text>,
        creator_id -> Nullable<Text>,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        prefix -> Text,
        secret_hash -> Text,
        name -> Text,
        user_id -> Text,
        expires_on -> Nullable<Date>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::joinable!(api_keys -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(api_keys, users);

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        created_by -> Text,
        updated_at -> Timestamp,
        updated_by -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Text,
        event_type -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        event_id -> Text,
        endpoint_id -> Text,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        sender -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        at -> Timestamp,
        status_code -> Nullable<BigInt>,
        duration_ms -> BigInt,
        response -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(
    webhook_deliveries,
    webhook_events,
    webhook_endpoints,
    webhook_attempts
);
