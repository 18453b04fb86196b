//! The three descriptions of the database agree: the SQLite migrations, the PostgreSQL
//! migrations and the hand-kept `schema.rs` that every query is typed by. Compared after
//! migrating: tables, columns, types and nullability.

use std::collections::BTreeMap;

use credo_store::{Backend, DatabaseUrl, Db, PoolOptions, StoreError};
use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::common::TestApp;

/// table -> column -> (portable type, nullable)
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// Tables one backend has for itself: SQLite's FTS5 name index (PostgreSQL searches names
/// with pg_trgm indexes on the tables themselves), and diesel's migration bookkeeping.
fn backend_only(table: &str) -> bool {
    table.starts_with("name_search") || table == "__diesel_schema_migrations"
}

/// The tables of `schema.rs`, read from its `diesel::table!` blocks.
fn declared() -> Columns {
    let source = include_str!("../../crates/store/src/schema.rs");
    let mut tables = Columns::new();
    for block in source.split("diesel::table! {").skip(1) {
        let mut lines = block.lines().map(str::trim).filter(|l| !l.is_empty());
        let header = lines.next().expect("a table name");
        let name = header.split_whitespace().next().unwrap().to_owned();
        let columns = tables.entry(name).or_default();
        for line in lines.take_while(|l| *l != "}") {
            let (column, ty) = line.trim_end_matches(',').split_once(" -> ").expect(line);
            let (ty, nullable) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (ty, false),
            };
            columns.insert(column.to_owned(), (ty.to_owned(), nullable));
        }
    }
    tables
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// The portable type a PostgreSQL column's type stands for.
fn portable(data_type: &str, column: &str) -> String {
    match data_type {
        "text" => "Text",
        "bigint" => "BigInt",
        "boolean" => "Bool",
        "double precision" => "Double",
        "date" => "Date",
        "timestamp without time zone" => "Timestamp",
        other => panic!("{column}: {other} is not a portable type"),
    }
    .to_owned()
}

/// How SQLite stores a portable type: the migrations declare dates and times as TEXT
/// (RFC 3339, as diesel writes them) and booleans as INTEGER, so on SQLite the comparison is
/// by storage class.
fn storage_class(portable: &str) -> String {
    match portable {
        "Text" | "Date" | "Timestamp" => "TEXT",
        "BigInt" | "Bool" => "INTEGER",
        // Scores and probabilities, never money.
        "Double" => "REAL",
        other => panic!("{other} is not a portable type"),
    }
    .to_owned()
}

fn in_storage_classes(columns: &Columns) -> Columns {
    columns
        .iter()
        .map(|(table, columns)| {
            let columns = columns
                .iter()
                .map(|(name, (ty, nullable))| (name.clone(), (storage_class(ty), *nullable)))
                .collect();
            (table.clone(), columns)
        })
        .collect()
}

/// The columns a migrated database has.
fn migrated(url: &DatabaseUrl) -> Columns {
    let db = Db::connect(url, &PoolOptions::default()).expect("connect");
    db.migrate().expect("migrate");
    let query = match url.backend {
        Backend::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             data_type::text AS data_type, is_nullable = 'YES' AS nullable \
             FROM information_schema.columns WHERE table_schema = current_schema()"
        }
        Backend::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
             (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
    };
    let rows = db
        .run(|conn| Ok::<_, StoreError>(diesel::sql_query(query).load::<ColumnRow>(conn)?))
        .expect("introspect");
    let mut tables = Columns::new();
    for row in rows.into_iter().filter(|r| !backend_only(&r.table_name)) {
        let ty = match url.backend {
            Backend::Postgres => portable(&row.data_type, &row.column_name),
            Backend::Sqlite => match row.data_type.to_ascii_uppercase().as_str() {
                "BIGINT" | "INTEGER" | "BOOLEAN" => "INTEGER".to_owned(),
                "TEXT" | "DATE" | "TIMESTAMP" => "TEXT".to_owned(),
                "DOUBLE PRECISION" => "REAL".to_owned(),
                other => panic!("{}: {other} is not a portable type", row.column_name),
            },
        };
        tables
            .entry(row.table_name)
            .or_default()
            .insert(row.column_name, (ty, row.nullable));
    }
    tables
}

#[actix_web::test]
async fn migrations_of_both_backends_and_schema_rs_agree() {
    let declared = declared();
    assert!(
        declared.contains_key("customers") && declared.len() > 20,
        "{declared:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let sqlite = DatabaseUrl::parse(&format!("sqlite://{}/s.db", dir.path().display())).unwrap();
    let sqlite = actix_web::web::block(move || migrated(&sqlite))
        .await
        .unwrap();
    assert_eq!(
        sqlite,
        in_storage_classes(&declared),
        "SQLite migrations differ from schema.rs"
    );
    // On the PostgreSQL leg, this test's database is PostgreSQL: compare it too.
    let app = TestApp::spawn().await;
    let url = app.database_url().clone();
    if url.backend == Backend::Postgres {
        let postgres = actix_web::web::block(move || migrated(&url)).await.unwrap();
        assert_eq!(
            postgres, declared,
            "PostgreSQL migrations differ from schema.rs"
        );
    }
}
