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
use crate::extract::{path_error, query_error, BODY_LIMIT};
use crate::routes::{
    company, contacts, customers, directory, events, interactions, jobs, leads, notes, orders,
    session, system, tasks, trials, visits,
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
                .service(company::list_fx_rates)
                .service(company::lookup_fx_rate)
                .service(jobs::get_job)
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
                .service(leads::lead_history),
        )
}

/// The complete OpenAPI document of this server.
pub fn api_spec() -> OpenApi {
    let (_, mut api) =
        register(App::new().into_utoipa_app().openapi(openapi::base())).split_for_parts();
    openapi::complete(&mut api);
    api
}

/// The route table of the spec, for telling "no such resource" from "wrong method".
#[derive(Clone)]
pub struct RouteTable(Vec<(Vec<String>, Vec<Method>)>);

impl RouteTable {
    pub fn from_spec(api: &OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .trim_matches('/')
                    .split('/')
                    .map(str::to_owned)
                    .collect();
                let mut methods = Vec::new();
                for (method, present) in [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ] {
                    if present {
                        methods.push(method);
                    }
                }
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods allowed on a concrete path, if any route matches it; a route with more
    /// literal segments wins (`/leads/funnel` over `/leads/{id}`).
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.0
            .iter()
            .filter(|(template, _)| {
                template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            })
            .max_by_key(|(template, _)| template.iter().filter(|t| !t.starts_with('{')).count())
            .map(|(_, methods)| methods.as_slice())
    }

    /// 405 with `Allow` when the path is a route that does not take this method.
    pub fn method_not_allowed(&self, req: &HttpRequest) -> Option<ApiError> {
        let methods = self.allowed(req.path())?;
        if methods.contains(req.method()) {
            return None;
        }
        let allow: Vec<&str> = methods
            .iter()
            .flat_map(|m| match *m {
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
        .wrap(actix_web::middleware::from_fn(crate::reply::not_modified))
        .wrap(actix_web::middleware::from_fn(crate::head::as_get))
        .wrap(actix_web::middleware::from_fn(crate::extract::screen_query))
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
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .route("/docs", web::get().to(docs_redirect))
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/api/v1/openapi.json"])))
        .into_utoipa_app();
    register(app).into_app().default_service(web::to(fallback))
}
