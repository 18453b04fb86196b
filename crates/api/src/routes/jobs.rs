//! Background jobs: where long work started with 202 stands.

use actix_web::{get, web, HttpResponse};
use credo_core::job::Job;
use credo_core::Role;
use credo_store::jobs;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::reply::Reply;
use crate::state::AppState;

/// Get a job
///
/// Its state, progress, times, last error and result. Admins and credit managers see every
/// job; everyone else the jobs they started.
#[utoipa::path(
    tag = "jobs",
    operation_id = "getJob",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = Job)),
    security(("bearer" = []))
)]
#[get("/jobs/{id}")]
pub async fn get_job(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let job = state.db(move |conn| jobs::get(conn, id)).await?;
    let sees_all = matches!(caller.role, Role::Admin | Role::CreditManager);
    let job = job
        .filter(|job| sees_all || job.created_by == Some(caller.user_id))
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&job).into_response())
}
