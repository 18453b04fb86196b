//! Assembles the actix application: routes and spec from one registration, extractor error
//! handlers, 404/405 answers, request logging.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{web, App, HttpRequest, HttpResponse};
use utoipa::openapi::OpenApi;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::{ApiError, ErrorCode};
use crate::extract::{path_error, BODY_LIMIT};
use crate::routes::{
    api_keys, changes, company, contacts, credit, customers, directory, events, interactions, jobs,
    leads, notes, orders, receivables, segmentation, session, system, tasks, trials, visits,
    webhooks,
};
use crate::{openapi, request_id};

/// Registers every documented route; the same call feeds the router and the spec.
fn register<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(system::health)
        .service(system::ready)
        .service(system::openapi_json)
        .service(system::conventions)
        .service(system::problem_codes)
        .service(
            scope("/api/v1")
                .service(session::login)
                .service(session::refresh)
                .service(session::logout)
                .service(session::me)
                .service(session::change_my_password)
                .service(directory::create_user)
                .service(directory::list_users)
                .service(directory::get_user)
                .service(directory::update_user)
                .service(directory::create_sales_unit)
                .service(directory::list_sales_units)
                .service(directory::update_sales_unit)
                .service(company::get_settings)
                .service(company::patch_settings)
                .service(company::create_fx_rate)
                .service(company::correct_fx_rate)
                .service(company::list_fx_rate_changes)
                .service(company::get_fx_rate_change)
                .service(company::approve_fx_rate_change)
                .service(company::reject_fx_rate_change)
                .service(company::list_fx_rates)
                .service(company::lookup_fx_rate)
                .service(jobs::get_job)
                .service(changes::list_changes)
                .service(api_keys::create_api_key)
                .service(api_keys::list_api_keys)
                .service(api_keys::revoke_api_key)
                .service(webhooks::create_webhook)
                .service(webhooks::list_webhooks)
                .service(webhooks::get_webhook)
                .service(webhooks::update_webhook)
                .service(webhooks::delete_webhook)
                .service(webhooks::rotate_webhook_secret)
                .service(webhooks::list_webhook_deliveries)
                .service(webhooks::replay_webhook)
                .service(webhooks::test_webhook)
                .service(customers::create_customer)
                .service(customers::list_customers)
                // Before `/customers/{id}`, which would take "stale" for an id.
                .service(events::list_stale)
                .service(customers::get_customer)
                .service(customers::patch_customer)
                .service(customers::archive_customer)
                .service(customers::restore_customer)
                .service(customers::transfer_customer)
                .service(customers::list_transfers)
                .service(customers::customer_history)
                .service(contacts::list_contacts)
                .service(contacts::create_contact)
                .service(contacts::get_contact)
                .service(contacts::patch_contact)
                .service(contacts::delete_contact)
                .service(notes::list_notes)
                .service(notes::create_note)
                .service(notes::list_assessments)
                .service(notes::create_assessment)
                .service(orders::create_order)
                .service(orders::list_orders)
                .service(orders::get_order)
                .service(orders::patch_order)
                .service(orders::confirm_order)
                .service(orders::start_order_production)
                .service(orders::ship_order)
                .service(orders::invoice_order)
                .service(orders::pay_order)
                .service(orders::close_order)
                .service(orders::cancel_order)
                .service(orders::order_history)
                .service(orders::list_claims)
                .service(orders::create_claim)
                .service(orders::decide_claim)
                .service(trials::list_trials)
                .service(trials::create_trial)
                .service(trials::sample_trial)
                .service(trials::drop_trial)
                .service(credit::file_statement)
                .service(credit::list_statements)
                .service(credit::get_statement)
                .service(credit::evaluations::create_evaluation)
                .service(credit::evaluations::get_evaluation)
                .service(credit::applications::create_application)
                .service(credit::applications::list_applications)
                .service(credit::applications::get_application)
                .service(credit::applications::pre_review_application)
                .service(credit::applications::evaluate_application)
                .service(credit::applications::approve_application)
                .service(credit::applications::reject_application)
                .service(credit::agreements::create_agreement)
                .service(credit::agreements::get_agreement)
                .service(credit::agreements::revoke_agreement)
                .service(credit::agreements::get_customer_credit)
                .service(credit::checks::check_credit)
                .service(credit::checks::create_override)
                .service(credit::checks::get_override)
                .service(credit::alerts::list_alerts)
                .service(credit::agreements::reviews_due)
                .service(credit::documents::get_template)
                .service(credit::documents::publish_template)
                .service(credit::documents::get_policy)
                .service(credit::documents::replace_policy)
                .service(segmentation::policy::get_policy)
                .service(segmentation::policy::publish_policy)
                .service(segmentation::policy::get_policy_version)
                .service(segmentation::runs::start_run)
                .service(segmentation::runs::list_runs)
                .service(segmentation::runs::get_run)
                .service(segmentation::runs::list_results)
                .service(segmentation::runs::compare_runs)
                .service(segmentation::runs::get_pareto)
                .service(segmentation::values::get_value)
                .service(segmentation::values::get_grade_history)
                .service(segmentation::values::list_grade_overrides)
                .service(segmentation::values::record_loss)
                .service(segmentation::values::request_override)
                .service(segmentation::values::get_override)
                .service(segmentation::values::get_override_history)
                .service(segmentation::values::approve_override)
                .service(events::list_events)
                .service(events::create_event)
                .service(events::refresh_credit_data)
                .service(interactions::list_interactions)
                .service(interactions::create_interaction)
                .service(interactions::customer_timeline)
                .service(visits::create_visit)
                .service(visits::get_visit)
                .service(visits::check_in)
                .service(visits::check_out)
                .service(visits::cancel_visit)
                .service(visits::my_visits)
                .service(tasks::create_task)
                .service(tasks::list_tasks)
                .service(tasks::get_task)
                .service(tasks::patch_task)
                .service(tasks::my_tasks)
                .service(leads::create_lead)
                .service(leads::import_leads)
                .service(leads::list_leads)
                // Before `/leads/{id}`, which would take "funnel" for an id.
                .service(leads::lead_funnel)
                .service(leads::get_lead)
                .service(leads::patch_lead)
                .service(leads::move_stage)
                .service(leads::convert_lead)
                .service(leads::lead_history)
                .service(receivables::post_receivable)
                .service(receivables::list_receivables)
                // Before `/receivables/{id}`, which would take "ageing" for an id.
                .service(receivables::reports::ageing)
                .service(receivables::post_lease)
                .service(receivables::reports::allowance_report)
                .service(receivables::reports::get_allowance_policy)
                .service(receivables::reports::replace_allowance_policy)
                .service(receivables::reports::double_ten)
                .service(receivables::reports::collection_metrics_report)
                .service(receivables::snapshots::take_snapshot)
                .service(receivables::snapshots::ageing_trend)
                .service(receivables::targets::set_target)
                .service(receivables::targets::target_report)
                .service(receivables::warning::warning_list)
                .service(receivables::warning::list_customer)
                .service(receivables::warning::lift_customer)
                .service(receivables::dunning::get_policy)
                .service(receivables::dunning::replace_policy)
                .service(receivables::dunning::start_run)
                .service(receivables::dunning::list_runs)
                .service(receivables::dunning::get_run)
                .service(receivables::dunning::list_run_actions)
                .service(receivables::dunning::list_run_held_back)
                .service(receivables::get_receivable)
                .service(receivables::list_reductions)
                .service(receivables::create_credit_note)
                .service(receivables::create_write_off)
                .service(receivables::terms::request_extension)
                .service(receivables::terms::list_extensions)
                .service(receivables::terms::decide_extension)
                .service(receivables::terms::open_dispute)
                .service(receivables::terms::resolve_dispute)
                .service(receivables::record_payment)
                .service(receivables::list_payments)
                .service(receivables::get_payment)
                .service(receivables::allocate_payment),
        )
}

/// The complete OpenAPI document of this server.
pub fn api_spec() -> OpenApi {
    let (_, mut api) =
        register(App::new().into_utoipa_app().openapi(openapi::base())).split_for_parts();
    openapi::complete(&mut api);
    api
}

/// The route table of the spec: each path template with its methods and the query
/// parameters each method takes. It tells "no such resource" from "wrong method", and
/// which query parameters are unknown, from the one document clients read.
#[derive(Clone)]
pub struct RouteTable(Vec<Route>);

#[derive(Clone)]
struct Route {
    segments: Vec<String>,
    operations: Vec<(Method, Vec<String>)>,
}

impl RouteTable {
    pub fn from_spec(api: &OpenApi) -> Self {
        let query_names = |operation: &utoipa::openapi::path::Operation| {
            operation
                .parameters
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    utoipa::openapi::RefOr::T(p)
                        if p.parameter_in == utoipa::openapi::path::ParameterIn::Query =>
                    {
                        Some(p.name.clone())
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| Route {
                segments: path
                    .trim_matches('/')
                    .split('/')
                    .map(str::to_owned)
                    .collect(),
                operations: [
                    (Method::GET, &item.get),
                    (Method::POST, &item.post),
                    (Method::PUT, &item.put),
                    (Method::PATCH, &item.patch),
                    (Method::DELETE, &item.delete),
                ]
                .into_iter()
                .filter_map(|(method, operation)| {
                    operation.as_ref().map(|o| (method, query_names(o)))
                })
                .collect(),
            })
            .collect();
        Self(routes)
    }

    /// The route a concrete path is an instance of, if any; a route with more literal
    /// segments wins (`/leads/funnel` over `/leads/{id}`).
    fn route(&self, path: &str) -> Option<&Route> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.0
            .iter()
            .filter(|route| {
                route.segments.len() == segments.len()
                    && route
                        .segments
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            })
            .max_by_key(|route| {
                route
                    .segments
                    .iter()
                    .filter(|t| !t.starts_with('{'))
                    .count()
            })
    }

    /// The query parameters the operation a request names takes, when the spec has it
    /// (`HEAD` is `GET`'s).
    pub fn query_parameters(&self, path: &str, method: &Method) -> Option<&[String]> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.route(path)?
            .operations
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, names)| names.as_slice())
    }

    /// 405 with `Allow` when the path is a route that does not take this method.
    pub fn method_not_allowed(&self, req: &HttpRequest) -> Option<ApiError> {
        let operations = &self.route(req.path())?.operations;
        if operations.iter().any(|(m, _)| m == req.method()) {
            return None;
        }
        let allow: Vec<&str> = operations
            .iter()
            .flat_map(|(m, _)| match *m {
                Method::GET => vec!["GET", "HEAD"],
                ref other => vec![other.as_str()],
            })
            .collect();
        Some(
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("{} is not allowed here", req.method()),
            )
            .with_allow(allow.join(", ")),
        )
    }
}

/// Unknown path: 404. Known path, other method: 405 with `Allow`.
async fn fallback(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    Err(routes
        .method_not_allowed(&req)
        .unwrap_or_else(|| ApiError::new(ErrorCode::NotFound, "no such resource")))
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/docs/"))
        .finish()
}

/// CORS for the listed browser origins, answering their preflights; `None` without origins
/// (then no `Access-Control-*` header is ever sent). Frontends send a bearer token, never
/// cookies, so credentials are not allowed.
fn cors(origins: &[String]) -> Option<actix_cors::Cors> {
    if origins.is_empty() {
        return None;
    }
    let cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "if-none-match",
            "idempotency-key",
            "x-request-id",
        ])
        .expose_headers(["etag", "location", "retry-after", "x-request-id"])
        .max_age(600);
    Some(
        origins
            .iter()
            .fold(cors, |cors, origin| cors.allowed_origin(origin)),
    )
}

/// The application with its shared state.
pub fn build(
    state: web::Data<crate::state::AppState>,
    spec: web::Data<system::SpecJson>,
    routes: web::Data<RouteTable>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // API answers are per caller: never cached, never sniffed into another type.
    let headers = actix_web::middleware::DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Cache-Control", "no-store"));
    let cors = cors(&state.cors_origins);
    let app = App::new()
        .wrap(actix_web::middleware::from_fn(crate::limits::headers))
        .wrap(actix_web::middleware::from_fn(crate::reply::not_modified))
        .wrap(actix_web::middleware::from_fn(crate::head::as_get))
        .wrap(actix_web::middleware::from_fn(crate::extract::screen_query))
        .wrap(actix_web::middleware::from_fn(crate::extract::screen_head))
        .wrap(headers)
        .wrap(actix_web::middleware::Condition::new(
            cors.is_some(),
            cors.unwrap_or_default(),
        ))
        .wrap(tracing_actix_web::TracingLogger::<request_id::RequestSpan>::new())
        .wrap(actix_web::middleware::from_fn(request_id::assign))
        .app_data(state)
        .app_data(spec)
        .app_data(routes)
        .app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .route("/docs", web::get().to(docs_redirect))
        .into_utoipa_app();
    // The documented pages under /docs (conventions, problem codes) come before Swagger UI's
    // catch-all there.
    register(app)
        .into_app()
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/api/v1/openapi.json"])))
        .default_service(web::to(fallback))
}
