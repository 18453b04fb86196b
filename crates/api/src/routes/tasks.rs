//! Tasks and reminders: made by people here, by rules of other modules through
//! `credo_store::tasks::create`; each person's open work at `/me/tasks`.

use crate::any_of::{self, AnyOf};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use credo_core::json::patch_member;
use credo_core::Principal;
use credo_customers::task::TaskFields;
use credo_customers::{Task, TaskInput, TaskKind, TaskStatus};
use credo_store::tasks::{self as repo, NewTask, TaskChange, TaskListQuery};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::export::Export;
use crate::extract::{self, Body, Query};
use crate::merge_patch::{merge_patch, Patch};
use crate::pagination::{list_sort, Page, SortDirection, SortedPage};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, require_writer};
use crate::routes::directory::{active_user, assignable_user, sees_customer};
use crate::state::AppState;

merge_patch!(
    /// Changes to a task, as a JSON merge patch: members sent change, `null` clears, absent
    /// members stay. `status` closes (`done`, `cancelled`) or reopens (`open`) it.
    TaskPatch of TaskInput,
    read_only: ["id"]
);

fn location(id: Uuid) -> String {
    format!("/api/v1/tasks/{id}")
}

/// Whether the caller sees a task: its assignee, its creator, or a supervisor of the
/// assignee's unit.
pub(crate) fn can_see(caller: &Principal, task: &Task) -> bool {
    task.fields.assignee_id == caller.user_id
        || task.stamps.created_by == caller.user_id
        || caller.can_see(task.fields.assignee_id, task.sales_unit_id)
}

async fn visible_task(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<Task> {
    state
        .db(move |conn| repo::get(conn, id))
        .await?
        .filter(|t| can_see(caller, t))
        .ok_or_else(ApiError::not_found)
}

const ASSIGNEE_SCOPE: &str = "you may assign tasks to yourself and people in your data scope";

/// Checks the assignee and customer of task fields; answers the assignee's unit.
async fn check_fields(
    state: &AppState,
    caller: &Principal,
    fields: &TaskFields,
) -> ApiResult<Option<Uuid>> {
    let assignee = assignable_user(
        state,
        caller,
        fields.assignee_id,
        "assignee_id",
        ASSIGNEE_SCOPE,
    )
    .await?;
    if let Some(customer) = fields.customer_id {
        let customer = referenced_customer(state, caller, customer, "customer_id").await?;
        sees_customer(&assignee, &customer, "assignee_id")?;
    }
    Ok(assignee.sales_unit_id)
}

/// Create a task
///
/// For the caller unless `assignee_id` names someone in the caller's data scope.
#[utoipa::path(
    tag = "activity",
    operation_id = "createTask",
    request_body = TaskInput,
    responses((status = 201, description = "Created", body = Task, headers(("ETag" = String), ("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/tasks")]
pub async fn create_task(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<TaskInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let fields = input
            .validate(caller.user_id)
            .map_err(ApiError::validation)?;
        let sales_unit_id = check_fields(&state, &caller, &fields).await?;
        let new = NewTask {
            fields,
            sales_unit_id,
            actor: caller.user_id,
        };
        reply::write(&state, move |conn| {
            let task = repo::create(conn, new.clone())?;
            Ok(Ok(
                Reply::created(&task, location(task.id)).with_version(task.stamps.version)
            ))
        })
        .await
    })
    .await
}

/// Get a task
///
/// A task with its kind, assignee, customer, due day and status, and its `ETag`.
#[utoipa::path(
    tag = "activity",
    operation_id = "getTask",
    params(("id" = Uuid, Path, description = "Task id")),
    responses((status = 200, description = "The task", body = Task, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/tasks/{id}")]
pub async fn get_task(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let task = visible_task(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&task)
        .with_version(task.stamps.version)
        .into_response())
}

/// Change a task
///
/// A JSON merge patch of the `TaskInput` fields; `status` `done` or `cancelled` closes the
/// task, `open` reopens it. `If-Match` is required.
#[utoipa::path(
    tag = "activity",
    operation_id = "patchTask",
    params(
        ("id" = Uuid, Path, description = "Task id"),
        ("If-Match" = String, Header, description = "ETag of the version you changed"),
    ),
    request_body(content = TaskPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = Task, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the task", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/tasks/{id}")]
pub async fn patch_task(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    patch: Patch<TaskPatch>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let expected = extract::if_match(&req)?;
    let patch = patch.body;
    let current = visible_task(&state, &caller, id.into_inner()).await?;
    // What the patch names is checked here; what it leaves alone was checked when written.
    let named_assignee = patch_member::<Uuid>(&patch, "assignee_id");
    let named_customer = patch_member::<Uuid>(&patch, "customer_id");
    let assignee = match named_assignee {
        Some(named) => {
            let assignee = named.unwrap_or(caller.user_id);
            Some(assignable_user(&state, &caller, assignee, "assignee_id", ASSIGNEE_SCOPE).await?)
        }
        None => None,
    };
    if let Some(Some(customer)) = named_customer {
        referenced_customer(&state, &caller, customer, "customer_id").await?;
    }
    // A new assignee or a new customer: the assignee after the patch must see the customer
    // after it.
    if assignee.is_some() || named_customer.is_some() {
        let customer_id = named_customer.unwrap_or(current.fields.customer_id);
        if let Some(customer_id) = customer_id {
            let user = match &assignee {
                Some(user) => user.clone(),
                None => active_user(&state, current.fields.assignee_id, "assignee_id").await?,
            };
            let customer = referenced_customer(&state, &caller, customer_id, "customer_id").await?;
            sees_customer(&user, &customer, "assignee_id")?;
        }
    }
    let assignee = assignee.map(|user| (user.id, user.sales_unit_id));
    let change = TaskChange {
        patch,
        caller: caller.user_id,
        assignee,
    };
    let (id, actor) = (current.id, caller.user_id);
    let outcome = state
        .db(move |conn| repo::update(conn, id, &expected, change, actor))
        .await?;
    Ok(
        reply::updated(outcome, "task", |t| t.stamps.version, ApiError::validation)?
            .into_response(),
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    /// Any of these statuses, comma-separated.
    #[param(inline, value_type = Option<Vec<TaskStatus>>, style = Form, explode = false)]
    pub status: Option<AnyOf<TaskStatus>>,
    /// Any of these kinds, comma-separated.
    #[param(inline, value_type = Option<Vec<TaskKind>>, style = Form, explode = false)]
    pub kind: Option<AnyOf<TaskKind>>,
    /// Only tasks due before this day (e.g. tomorrow: what is due by today).
    pub due_before: Option<NaiveDate>,
    /// Only records changed at or after this time (RFC 3339): what a sync has not seen.
    pub updated_since: Option<DateTime<Utc>>,
    /// The column to sort by (default `due_on`).
    #[param(inline)]
    pub sort: Option<TaskSort>,
    /// Which way (default `asc`: earliest due first).
    #[param(inline)]
    pub order: Option<SortDirection>,
}

list_sort!(
    /// Columns the task list sorts by.
    TaskSort => repo::SortField { DueOn, CreatedAt, UpdatedAt }
);

async fn task_page(
    state: &web::Data<AppState>,
    scope: credo_core::Scope,
    p: TaskListParams,
    export: Export,
) -> ApiResult<HttpResponse> {
    let page = SortedPage::read(
        p.limit,
        p.cursor.as_deref(),
        p.sort.unwrap_or_default(),
        p.order.unwrap_or(SortDirection::Asc),
    )?;
    let query = TaskListQuery {
        scope,
        assignee_id: p.assignee_id,
        customer_id: p.customer_id,
        statuses: any_of::values(p.status),
        kinds: any_of::values(p.kind),
        updated_since: p.updated_since,
        due_before: p.due_before,
    };
    page.answer(
        state,
        export,
        move |conn, sorting, rows| repo::list(conn, &query, &sorting, rows),
        |item, sort| (repo::sort_key(item, sort.into()), item.id),
    )
    .await
}

/// List tasks
///
/// Earliest due first. Agents see their own tasks, unit managers their unit's.
#[utoipa::path(
    tag = "activity",
    operation_id = "listTasks",
    params(TaskListParams),
    responses((status = 200, description = "One page", body = Page<Task>)),
    security(("bearer" = []))
)]
#[get("/tasks")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<TaskListParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    task_page(&state, caller.scope(), params.into_inner(), export).await
}

/// My tasks
///
/// The caller's own tasks, earliest due first; filter with `status=open` for the to-do list.
#[utoipa::path(
    tag = "activity",
    operation_id = "listMyTasks",
    params(TaskListParams),
    responses((status = 200, description = "One page", body = Page<Task>)),
    security(("bearer" = []))
)]
#[get("/me/tasks")]
pub async fn my_tasks(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<TaskListParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    task_page(
        &state,
        credo_core::Scope::Owner(caller.user_id),
        params.into_inner(),
        export,
    )
    .await
}
