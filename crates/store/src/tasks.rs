//! Tasks and reminders. `create` is the one way to make a task, for people through the API
//! and for the rules of later modules (dunning, churn intervention, reviews, birthdays).

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::json::{changes, patched};
use credo_core::webhooks::EventType;
use credo_core::{FieldError, Scope};
use credo_customers::task::TaskFields;
use credo_customers::{Stamps, Task, TaskInput, TaskKind, TaskStatus};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, parse_optional_id, stamps, to_db_time};
use crate::db::{insert_chunks, write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, SortKey, Sorting};
use crate::schema::{customers, tasks};
use crate::versioned::{self, Expected, Updated, Versioned};
use crate::webhooks;
use crate::{audit, now, DbConnection, StoreError};

pub const ENTITY: &str = "task";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tasks, treat_none_as_null = true)]
struct Row {
    id: String,
    kind: String,
    title: String,
    assignee_id: String,
    customer_id: Option<String>,
    due_on: NaiveDate,
    note: Option<String>,
    status: String,
    sales_unit_id: Option<String>,
    completed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    created_by: String,
    updated_at: NaiveDateTime,
    updated_by: String,
    version: i64,
}

impl Row {
    fn from_task(t: &Task) -> Self {
        let f = &t.fields;
        Row {
            id: t.id.to_string(),
            kind: f.kind.as_str().to_owned(),
            title: f.title.clone(),
            assignee_id: f.assignee_id.to_string(),
            customer_id: f.customer_id.map(|c| c.to_string()),
            due_on: f.due_on,
            note: f.note.clone(),
            status: f.status.as_str().to_owned(),
            sales_unit_id: t.sales_unit_id.map(|u| u.to_string()),
            completed_at: t.completed_at.map(to_db_time),
            created_at: to_db_time(t.stamps.created_at),
            created_by: t.stamps.created_by.to_string(),
            updated_at: to_db_time(t.stamps.updated_at),
            updated_by: t.stamps.updated_by.to_string(),
            version: t.stamps.version,
        }
    }

    fn into_task(self) -> Result<Task, StoreError> {
        Ok(Task {
            id: parse_id(&self.id)?,
            fields: TaskFields {
                kind: parse_name(&self.kind, TaskKind::parse)?,
                title: self.title,
                assignee_id: parse_id(&self.assignee_id)?,
                customer_id: parse_optional_id(self.customer_id.as_deref())?,
                due_on: self.due_on,
                note: self.note,
                status: parse_name(&self.status, TaskStatus::parse)?,
            },
            sales_unit_id: parse_optional_id(self.sales_unit_id.as_deref())?,
            completed_at: self.completed_at.map(from_db_time),
            stamps: stamps(
                self.created_at,
                &self.created_by,
                self.updated_at,
                &self.updated_by,
                self.version,
            )?,
        })
    }
}

/// A task to make: its fields, the assignee's unit (for the unit manager's view) and who
/// makes it (a user, or the rule's system user).
#[derive(Clone)]
pub struct NewTask {
    pub fields: TaskFields,
    pub sales_unit_id: Option<Uuid>,
    pub actor: Uuid,
}

pub fn create(conn: &mut DbConnection, new: NewTask) -> Result<Task, StoreError> {
    write_transaction(conn, |conn| {
        create_all(conn, vec![new.clone()])?
            .pop()
            .ok_or_else(|| StoreError::Internal("a task to make was not made".into()))
    })
}

impl Outcome for Task {}

/// Rows per multi-row INSERT of tasks: under SQLite's 32,766 bound parameters (15 columns).
const INSERT_CHUNK: usize = 1000;

/// Makes the tasks in the caller's transaction, with their audit entries, in multi-row
/// inserts.
fn create_all(conn: &mut DbConnection, news: Vec<NewTask>) -> Result<Vec<Task>, StoreError> {
    let at = now();
    let made: Vec<Task> = news
        .into_iter()
        .map(|new| Task {
            id: Uuid::now_v7(),
            completed_at: (new.fields.status == TaskStatus::Done).then_some(at),
            fields: new.fields,
            sales_unit_id: new.sales_unit_id,
            stamps: Stamps {
                created_at: at,
                created_by: new.actor,
                updated_at: at,
                updated_by: new.actor,
                version: 1,
            },
        })
        .collect();
    let rows: Vec<Row> = made.iter().map(Row::from_task).collect();
    insert_chunks!(conn, tasks::table, rows, INSERT_CHUNK);
    let created = made
        .iter()
        .map(|task| {
            Ok(changes(
                &serde_json::Value::Null,
                &serde_json::to_value(&task.fields)?,
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let entries: Vec<(Uuid, Uuid, &[_])> = made
        .iter()
        .zip(&created)
        .map(|(task, changes)| (task.id, task.stamps.created_by, changes.as_slice()))
        .collect();
    audit::record_all(conn, ENTITY, AuditAction::Created, &entries)?;
    webhooks::Outbox::open(conn)?.emit_all(conn, EventType::TaskCreated, &made)?;
    Ok(made)
}

/// Gives the customer's account manager (its owner, in the customer's sales unit) an open
/// task of `kind` due `due_on`, made by `actor` in the caller's transaction: what a rule
/// asks of them. `describe` writes the title and the note from the customer's name.
pub(crate) fn for_account_manager(
    conn: &mut DbConnection,
    customer_id: Uuid,
    kind: TaskKind,
    due_on: NaiveDate,
    actor: Uuid,
    describe: impl Fn(&str) -> (String, String),
) -> Result<Task, StoreError> {
    for_account_managers(conn, &[customer_id], kind, due_on, actor, |_, name| {
        describe(name)
    })?
    .pop()
    .ok_or(StoreError::NotFound)
}

/// `for_account_manager` for many customers at once, in a few statements (`describe` hears
/// the customer's id too); customers that do not exist get none.
pub(crate) fn for_account_managers(
    conn: &mut DbConnection,
    customer_ids: &[Uuid],
    kind: TaskKind,
    due_on: NaiveDate,
    actor: Uuid,
    describe: impl Fn(Uuid, &str) -> (String, String),
) -> Result<Vec<Task>, StoreError> {
    let mut news = Vec::with_capacity(customer_ids.len());
    for ids in customer_ids.chunks(INSERT_CHUNK) {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let accounts = customers::table
            .filter(customers::id.eq_any(&ids))
            .select((
                customers::id,
                customers::owner_id,
                customers::sales_unit_id,
                customers::legal_name,
            ))
            .order(customers::id.asc())
            .load::<(String, String, Option<String>, String)>(conn)?;
        for (id, owner, unit, name) in accounts {
            let customer_id = parse_id(&id)?;
            let (title, note) = describe(customer_id, &name);
            news.push(NewTask {
                fields: TaskFields {
                    kind,
                    title,
                    assignee_id: parse_id(&owner)?,
                    customer_id: Some(customer_id),
                    due_on,
                    note: Some(note),
                    status: TaskStatus::Open,
                },
                sales_unit_id: parse_optional_id(unit.as_deref())?,
                actor,
            });
        }
    }
    create_all(conn, news)
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Task>, StoreError> {
    tasks::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_task)
        .transpose()
}

/// A JSON merge patch of a task's fields (the `TaskInput` form).
pub struct TaskChange {
    pub patch: serde_json::Value,
    /// Who patches: the assignee when the patch clears it.
    pub caller: Uuid,
    /// The assignee the patch names, checked by the caller of `update`: (id, sales unit).
    pub assignee: Option<(Uuid, Option<Uuid>)>,
}

pub type UpdateTaskOutcome = Updated<Task, Vec<FieldError>>;

impl Versioned for Task {
    const TABLE: &'static str = "tasks";
    const ENTITY: &'static str = ENTITY;

    versioned::stamps_field!();

    /// The fields: the unit and completion time follow from them.
    fn audit_view(&self) -> Result<serde_json::Value, StoreError> {
        Ok(serde_json::to_value(&self.fields)?)
    }

    fn write(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<usize, StoreError> {
        Ok(diesel::update(
            tasks::table
                .find(current.id.to_string())
                .filter(tasks::version.eq(current.stamps.version)),
        )
        .set(Row::from_task(next))
        .execute(conn)?)
    }
}

/// Applies a patch to the task's fields if it is still at `expected_version`.
pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    expected: &Expected,
    change: TaskChange,
    actor: Uuid,
) -> Result<UpdateTaskOutcome, StoreError> {
    versioned::update(
        conn,
        id,
        expected,
        actor,
        |conn| get(conn, id),
        |_, current| {
            let fields = patched::<TaskInput>(&current.fields.input(), &change.patch)
                .and_then(|input| input.validate(change.caller));
            let fields = match fields {
                Ok(fields) => fields,
                Err(errors) => return Ok(Err(errors)),
            };
            let mut next = current.clone();
            next.completed_at = match (current.fields.status, fields.status) {
                (TaskStatus::Done, TaskStatus::Done) => current.completed_at,
                (_, TaskStatus::Done) => Some(now()),
                _ => None,
            };
            if let Some((assignee, unit)) = change.assignee {
                if assignee == fields.assignee_id {
                    next.sales_unit_id = unit;
                }
            }
            next.fields = fields;
            Ok(Ok((next, AuditAction::Updated)))
        },
    )
}

#[derive(Debug, Clone)]
pub struct TaskListQuery {
    /// Agents see the tasks assigned to them; unit managers those of their unit.
    pub scope: Scope,
    pub assignee_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    /// Any of these; all when empty.
    pub statuses: Vec<TaskStatus>,
    /// Any of these; all when empty.
    pub kinds: Vec<TaskKind>,
    pub due_before: Option<NaiveDate>,
    /// Only records changed at or after this time.
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// The columns the task list sorts by.
#[derive(Debug, Clone, Copy)]
pub enum SortField {
    DueOn,
    CreatedAt,
    UpdatedAt,
}

/// A task's value in the sort column, to continue after it.
pub fn sort_key(task: &Task, sort: SortField) -> SortKey {
    match sort {
        SortField::DueOn => SortKey::Day(task.fields.due_on),
        SortField::CreatedAt => SortKey::at(task.stamps.created_at),
        SortField::UpdatedAt => SortKey::at(task.stamps.updated_at),
    }
}

pub fn list(
    conn: &mut DbConnection,
    q: &TaskListQuery,
    sorting: &Sorting<SortField>,
    limit: i64,
) -> Result<Vec<Task>, StoreError> {
    let mut query = tasks::table
        .select(Row::as_select())
        .into_boxed::<MultiBackend>();
    match &q.scope {
        Scope::All => {}
        Scope::Unit(None) => return Ok(Vec::new()),
        Scope::Unit(Some(unit)) => query = query.filter(tasks::sales_unit_id.eq(unit.to_string())),
        Scope::Owner(user) => query = query.filter(tasks::assignee_id.eq(user.to_string())),
    }
    if let Some(assignee) = q.assignee_id {
        query = query.filter(tasks::assignee_id.eq(assignee.to_string()));
    }
    if let Some(customer) = q.customer_id {
        query = query.filter(tasks::customer_id.eq(customer.to_string()));
    }
    if !q.statuses.is_empty() {
        query = query.filter(tasks::status.eq_any(q.statuses.iter().map(|s| s.as_str())));
    }
    if !q.kinds.is_empty() {
        query = query.filter(tasks::kind.eq_any(q.kinds.iter().map(|k| k.as_str())));
    }
    if let Some(before) = q.due_before {
        query = query.filter(tasks::due_on.lt(before));
    }
    if let Some(since) = q.updated_since {
        query = query.filter(tasks::updated_at.ge(to_db_time(since)));
    }
    let descending = sorting.descending;
    match sorting.field {
        SortField::DueOn => {
            let after = sorting.after(SortKey::day)?;
            keyset!(query, tasks::due_on, tasks::id, after, descending);
        }
        SortField::CreatedAt => {
            let after = sorting.after(SortKey::time)?;
            keyset!(query, tasks::created_at, tasks::id, after, descending);
        }
        SortField::UpdatedAt => {
            let after = sorting.after(SortKey::time)?;
            keyset!(query, tasks::updated_at, tasks::id, after, descending);
        }
    }
    query
        .limit(limit)
        .load::<Row>(conn)?
        .into_iter()
        .map(Row::into_task)
        .collect()
}

/// Hands the open tasks of `customer` held by its former owner `from` to its new owner and
/// unit, each a new version with its history entry: whoever now holds the account follows it
/// up.
pub(crate) fn hand_over(
    conn: &mut DbConnection,
    customer: Uuid,
    from: Uuid,
    to: (Uuid, Option<Uuid>),
    actor: Uuid,
) -> Result<(), StoreError> {
    let (owner, unit) = (to.0.to_string(), to.1.map(|u| u.to_string()));
    let held: Vec<String> = tasks::table
        .filter(tasks::customer_id.eq(customer.to_string()))
        .filter(tasks::assignee_id.eq(from.to_string()))
        .filter(tasks::status.eq(TaskStatus::Open.as_str()))
        .select(tasks::id)
        .load(conn)?;
    let at = to_db_time(now());
    for id in held {
        diesel::update(tasks::table.find(&id))
            .set((
                tasks::assignee_id.eq(&owner),
                tasks::sales_unit_id.eq(&unit),
                tasks::version.eq(tasks::version + 1),
                tasks::updated_at.eq(at),
                tasks::updated_by.eq(actor.to_string()),
            ))
            .execute(conn)?;
        let change = credo_core::json::FieldChange {
            field: "assignee_id".into(),
            old: Some(serde_json::Value::String(from.to_string())),
            new: Some(serde_json::Value::String(owner.clone())),
        };
        audit::record(
            conn,
            ENTITY,
            parse_id(&id)?,
            AuditAction::Transferred,
            actor,
            &[change],
        )?;
    }
    Ok(())
}
