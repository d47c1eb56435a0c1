//! Tables of the databases (`crate::databases`): `CREATE TABLE … USING`,
//! `CREATE TABLE … AS`, `INSERT INTO / OVERWRITE`, `TRUNCATE TABLE`, `DROP
//! TABLE`, `saveAsTable` and `insertInto`.
//!
//! As in Spark without a Hive metastore, the catalog is in memory and
//! shared by the application's sessions (here, the server process). A
//! managed table's files are in its database's directory
//! (`spark.sql.warehouse.dir/<name>` for `default`) and `DROP TABLE`
//! deletes them; an external table (`LOCATION`) keeps its files. Inserts go
//! through `crate::write`, so they commit atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, RwLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::catalog::view::ViewTable;
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder};
use ember_common::{ExceptionClass, SparkError};
use spark_connect_proto::write_operation::SaveMode;

use crate::error::Result;
use crate::plan::Planner;
use crate::read::Options;
use crate::session::SparkSession;

/// The catalog the databases belong to.
pub const CATALOG: &str = "spark_catalog";

/// A table's database and name, lower case, as names are looked up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableName {
    pub database: String,
    pub table: String,
}

impl TableName {
    /// `spark_catalog`.`db`.`name`, as Spark's errors name a table.
    pub fn qualified(&self) -> String {
        format!("`{CATALOG}`.`{}`.`{}`", self.database, self.table)
    }

    /// The name as DataFusion resolves it in a session.
    pub fn reference(&self) -> datafusion::common::TableReference {
        datafusion::common::TableReference::partial(self.database.as_str(), self.table.as_str())
    }
}

impl std::fmt::Display for TableName {
    /// `db.name`: a name that means this table in any session.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.database, self.table)
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: TableName,
    pub format: String,
    pub location: PathBuf,
    /// Data columns, then partition columns (Spark's order).
    pub schema: SchemaRef,
    pub partition_columns: Vec<String>,
    pub managed: bool,
    pub options: Vec<(String, String)>,
    pub comment: Option<String>,
    /// `TBLPROPERTIES`, sorted by key.
    pub properties: Vec<(String, String)>,
    /// The rows: a read of `location`, made again after each write.
    pub scan: Arc<dyn TableProvider>,
}

static TABLES: LazyLock<RwLock<BTreeMap<TableName, Arc<Table>>>> = LazyLock::new(Default::default);

pub fn get(name: &TableName) -> Option<Arc<Table>> {
    TABLES.read().ok()?.get(name).cloned()
}

/// The names of a database's tables, sorted.
pub fn names(database: &str) -> Vec<String> {
    let tables = TABLES.read();
    tables.map(|t| t.keys().filter(|k| k.database == database).map(|k| k.table.clone()).collect()).unwrap_or_default()
}

/// The table a name as written means: `t` (in the session's current
/// database), `db.t` or `spark_catalog.db.t`. The database need not exist.
pub fn table_key(session: &SparkSession, name: &str) -> Result<TableName> {
    let parts = crate::expr::parse_identifier(name)?;
    let (table, namespace) = parts.split_last().ok_or_else(|| SparkError::table_not_found(name))?;
    let database = match namespace {
        [] => crate::catalog::current_database(session),
        [db] => db.to_lowercase(),
        [cat, db] if cat.eq_ignore_ascii_case(CATALOG) => db.to_lowercase(),
        _ => return Err(crate::databases::not_found(&namespace.join("."))),
    };
    Ok(TableName { database, table: table.to_lowercase() })
}

/// INVALID_SCHEMA_OR_RELATION_NAME: Spark's rule for the names it creates,
/// which also keeps a managed table's directory inside its database's.
pub fn invalid_name(name: &str) -> crate::error::Error {
    SparkError::with_class(
        ExceptionClass::Analysis,
        "INVALID_SCHEMA_OR_RELATION_NAME",
        "42602",
        format!("`{name}` is not a valid name for tables/schemas. Valid names only contain alphabet characters, numbers and _."),
    )
    .into()
}

/// What `create` makes.
pub struct NewTable {
    pub name: String,
    pub format: Option<String>,
    /// Declared columns; without a query they are the schema.
    pub columns: Option<SchemaRef>,
    pub partition_by: Vec<String>,
    pub location: Option<String>,
    pub options: Vec<(String, String)>,
    pub comment: Option<String>,
    pub properties: Vec<(String, String)>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum IfExists {
    Fail,
    Ignore,
    Replace,
}

/// `CREATE TABLE`, with the rows of `query` when given.
pub async fn create(
    session: &SparkSession,
    t: NewTable,
    query: Option<LogicalPlan>,
    if_exists: IfExists,
) -> Result<()> {
    let key = table_key(session, &t.name)?;
    let database = crate::databases::find(&key.database)?;
    if key.table.is_empty() || !key.table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid_name(&key.table));
    }
    let replaced = match (get(&key), if_exists) {
        (None, _) => None,
        (Some(_), IfExists::Ignore) => return Ok(()),
        (Some(_), IfExists::Fail) => return Err(already_exists(&key)),
        (Some(old), IfExists::Replace) => Some(old),
    };
    let format = t
        .format
        .or_else(|| session.conf_get("spark.sql.sources.default"))
        .unwrap_or_else(|| "parquet".into())
        .to_ascii_lowercase();
    if !matches!(format.as_str(), "parquet" | "csv" | "json" | "text") {
        return Err(SparkError::unsupported(format!("tables of the format {format}")).into());
    }
    let managed = t.location.is_none();
    let location = match &t.location {
        Some(l) => local_path(l),
        None => database.location(session).join(&key.table),
    };
    let location = std::path::absolute(&location).unwrap_or(location);
    // A replaced table's files give way to the new ones: a query's rows
    // replace them atomically (the query may read them).
    let in_place = replaced.as_ref().is_some_and(|old| old.location == location);
    let non_empty = !in_place && std::fs::read_dir(&location).is_ok_and(|mut d| d.next().is_some());
    let options = t.options;
    let schema = match query {
        Some(plan) => {
            if t.columns.is_some() {
                return Err(SparkError::with_class(
                    ExceptionClass::Parse,
                    "_LEGACY_ERROR_TEMP_0035",
                    "",
                    "Operation not allowed: Schema may not be specified in a Create Table As Select (CTAS) statement.",
                )
                .into());
            }
            if non_empty {
                return Err(location_exists(&key, &location));
            }
            let schema = with_partitions_last(plan.schema().as_arrow(), &t.partition_by, &key)?;
            let plan = project_to(by_names(plan, &schema, &key, false)?, &schema, &key)?;
            let opts = options_of(&format, &options);
            crate::write::write_path(session, plan, &location, SaveMode::Overwrite, &t.partition_by, &format, &opts)
                .await?;
            schema
        }
        None => {
            if managed && non_empty {
                return Err(location_exists(&key, &location));
            }
            let schema = match t.columns {
                Some(s) => with_partitions_last(&s, &t.partition_by, &key)?,
                // An external table over files takes their schema.
                None if non_empty => {
                    let plan = read_location(session, &format, &location, None, &options).await?;
                    Arc::new(plan.schema().as_arrow().clone())
                }
                None => {
                    return Err(SparkError::with_class(
                        ExceptionClass::Analysis,
                        "UNABLE_TO_INFER_SCHEMA",
                        "42KD9",
                        format!("Unable to infer schema for {}. It must be specified manually.", format.to_uppercase()),
                    )
                    .into());
                }
            };
            std::fs::create_dir_all(&location)?;
            schema
        }
    };
    if let Some(old) = replaced {
        session.cache.uncache_table(session, &key.to_string())?;
        if !in_place && old.managed && old.location.exists() {
            std::fs::remove_dir_all(&old.location)?;
        }
    }
    let table = Table {
        name: key.clone(),
        format,
        location,
        schema,
        partition_columns: t.partition_by,
        managed,
        options,
        comment: t.comment,
        properties: {
            let mut p = t.properties;
            p.sort();
            p
        },
        scan: Arc::new(MemTable::try_new(Arc::new(Schema::empty()), vec![vec![]])?),
    };
    register(session, table).await
}

/// How an insert matches the query's columns to the table's.
#[derive(Clone, Copy, PartialEq)]
pub enum Columns {
    /// `INSERT INTO t SELECT …`, `insertInto`.
    ByPosition,
    /// `saveAsTable` appending: every column by name.
    ByName,
    /// `INSERT INTO t (a, b) …`: by name, the rest NULL.
    Listed,
}

/// `INSERT INTO` (or `OVERWRITE`).
pub async fn insert(session: &SparkSession, name: &str, plan: LogicalPlan, overwrite: bool, by: Columns) -> Result<()> {
    let key = table_key(session, name)?;
    let table = get(&key).ok_or_else(|| SparkError::table_not_found(name))?;
    let plan = match by {
        Columns::ByPosition => plan,
        Columns::ByName => by_names(plan, &table.schema, &key, false)?,
        Columns::Listed => by_names(plan, &table.schema, &key, true)?,
    };
    let plan = project_to(plan, &table.schema, &key)?;
    let mode = if overwrite { SaveMode::Overwrite } else { SaveMode::Append };
    let opts = options_of(&table.format, &table.options);
    crate::write::write_path(session, plan, &table.location, mode, &table.partition_columns, &table.format, &opts)
        .await?;
    register(session, table.as_ref().clone()).await
}

/// A partition column's value in `INSERT … PARTITION (p = v, q)`: given
/// (static) or from the query (dynamic).
pub type PartitionSpec = Vec<(String, Option<ScalarValue>)>;

/// `INSERT INTO | OVERWRITE t PARTITION (…) query`: the query gives the
/// columns without a static value, in the table's order. An overwrite
/// replaces only the partitions the static values select, as Spark's
/// `spark.sql.sources.partitionOverwriteMode=static`.
pub async fn insert_partitions(
    session: &SparkSession,
    name: &str,
    plan: LogicalPlan,
    overwrite: bool,
    spec: PartitionSpec,
) -> Result<()> {
    let key = table_key(session, name)?;
    let table = get(&key).ok_or_else(|| SparkError::table_not_found(name))?;
    let is_partition = |n: &str| table.partition_columns.iter().any(|p| p.eq_ignore_ascii_case(n));
    let unknown: Vec<String> = spec.iter().filter(|(n, _)| !is_partition(n)).map(|(n, _)| format!("`{n}`")).collect();
    if !unknown.is_empty() {
        return Err(SparkError::with_class(
            ExceptionClass::Analysis,
            "PARTITIONS_NOT_FOUND",
            "428FT",
            format!(
                "The partition(s) {} cannot be found in table {}.\nVerify the partition specification and table name.\nTo tolerate the error on drop use ALTER TABLE … DROP IF EXISTS PARTITION.",
                unknown.join(", "),
                key.qualified()
            ),
        )
        .into());
    }
    let value_of =
        |column: &str| spec.iter().find(|(n, _)| n.eq_ignore_ascii_case(column)).and_then(|(_, v)| v.clone());
    let given: Vec<String> =
        table.schema.fields().iter().filter(|f| value_of(f.name()).is_none()).map(|f| f.name().clone()).collect();
    let input = plan.schema().clone();
    if input.fields().len() != given.len() {
        let data: Vec<String> = input.fields().iter().map(|f| f.name().clone()).collect();
        return Err(partition_arity_mismatch(&key, &given, &data));
    }
    let mut from_query = input.columns().into_iter();
    let mut exprs = vec![];
    for f in table.schema.fields() {
        let e = match value_of(f.name()) {
            Some(v) => datafusion::logical_expr::lit(v.cast_to(f.data_type())?),
            None => Expr::Column(from_query.next().ok_or_else(|| partition_arity_mismatch(&key, &given, &[]))?),
        };
        exprs.push(e.alias(f.name()));
    }
    let plan = project_to(LogicalPlanBuilder::from(plan).project(exprs)?.build()?, &table.schema, &key)?;
    let opts = options_of(&table.format, &table.options);
    // The leading partition columns with values name the directory an
    // overwrite replaces.
    let fixed: Vec<(String, ScalarValue)> =
        table.partition_columns.iter().map_while(|p| value_of(p).map(|v| (p.clone(), v))).collect();
    if !overwrite || fixed.is_empty() {
        let mode = if overwrite { SaveMode::Overwrite } else { SaveMode::Append };
        crate::write::write_path(session, plan, &table.location, mode, &table.partition_columns, &table.format, &opts)
            .await?;
        return register(session, table.as_ref().clone()).await;
    }
    let rest = &table.partition_columns[fixed.len()..];
    if rest.iter().any(|p| value_of(p).is_some()) {
        return Err(
            SparkError::unsupported("INSERT OVERWRITE with a static partition value after a dynamic one").into()
        );
    }
    let mut dir = table.location.clone();
    for (column, value) in &fixed {
        dir.push(format!("{column}={value}"));
    }
    let kept: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .filter(|c| !fixed.iter().any(|(p, _)| p.eq_ignore_ascii_case(&c.name)))
        .map(Expr::Column)
        .collect();
    let plan = LogicalPlanBuilder::from(plan).project(kept)?.build()?;
    crate::write::write_path(session, plan, &dir, SaveMode::Overwrite, rest, &table.format, &opts).await?;
    register(session, table.as_ref().clone()).await
}

/// `TRUNCATE TABLE`: a managed table's rows are deleted.
pub async fn truncate(session: &SparkSession, name: &str) -> Result<()> {
    let key = table_key(session, name)?;
    let table = get(&key).ok_or_else(|| SparkError::table_not_found(name))?;
    if !table.managed {
        return Err(SparkError::with_class(
            ExceptionClass::Analysis,
            "CANNOT_TRUNCATE_EXTERNAL_TABLE",
            "0A000",
            format!("Operation not allowed: TRUNCATE TABLE on external tables: {}.", key.qualified()),
        )
        .into());
    }
    std::fs::remove_dir_all(&table.location)?;
    std::fs::create_dir_all(&table.location)?;
    register(session, table.as_ref().clone()).await
}

/// `DROP TABLE`: whether it existed. A managed table's files go too.
pub fn drop_table(session: &SparkSession, key: &TableName) -> Result<bool> {
    let removed = TABLES.write().ok().and_then(|mut t| t.remove(key));
    let Some(table) = removed else { return Ok(false) };
    session.cache.uncache_table(session, &key.to_string())?;
    if table.managed && table.location.exists() {
        std::fs::remove_dir_all(&table.location)?;
    }
    Ok(true)
}

/// `ALTER TABLE from RENAME TO to`, within the table's database: a
/// managed table's directory is renamed too.
pub async fn rename(session: &SparkSession, from: &str, to: &str) -> Result<()> {
    let old = table_key(session, from)?;
    let table = get(&old).ok_or_else(|| SparkError::table_not_found(from))?;
    let new = match crate::expr::parse_identifier(to)?.as_slice() {
        [name] => TableName { database: old.database.clone(), table: name.to_lowercase() },
        _ => table_key(session, to)?,
    };
    if new.database != old.database {
        return Err(SparkError::with_class(
            ExceptionClass::Analysis,
            "_LEGACY_ERROR_TEMP_1073",
            "",
            format!(
                "RENAME TABLE source and destination databases do not match: '{}' != '{}'.",
                old.database, new.database
            ),
        )
        .into());
    }
    if new.table.is_empty() || !new.table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid_name(&new.table));
    }
    if get(&new).is_some() {
        return Err(relation_exists(&format!("`{}`.`{}`", new.database, new.table)));
    }
    let mut renamed = table.as_ref().clone();
    if table.managed {
        let location = table.location.with_file_name(&new.table);
        if location.exists() {
            return Err(location_exists(&new, &location));
        }
        if table.location.exists() {
            std::fs::rename(&table.location, &location)?;
        }
        renamed.location = location;
    }
    session.cache.uncache_table(session, &old.to_string())?;
    if let Ok(mut t) = TABLES.write() {
        t.remove(&old);
    }
    renamed.name = new;
    register(session, renamed).await
}

/// The table a name as written means, or TABLE_OR_VIEW_NOT_FOUND.
pub fn lookup(session: &SparkSession, name: &str) -> Result<Arc<Table>> {
    get(&table_key(session, name)?).ok_or_else(|| SparkError::table_not_found(name).into())
}

/// `REFRESH TABLE`, `recoverPartitions`: the table reads its files as they
/// are now (files written by others, partition directories added), and a
/// cached table is computed again.
pub async fn refresh(session: &SparkSession, name: &str) -> Result<()> {
    register(session, lookup(session, name)?.as_ref().clone()).await
}

/// `refreshByPath`, and after a write to `path`: the tables this session
/// cached whose files are in or contain `path` are read again.
pub async fn refresh_by_path(session: &SparkSession, path: &Path) -> Result<()> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let tables: Vec<Arc<Table>> = TABLES.read().map(|t| t.values().cloned().collect()).unwrap_or_default();
    for table in tables {
        let overlaps = table.location.starts_with(&path) || path.starts_with(&table.location);
        if overlaps && session.cache.is_table_cached(&table.name.to_string()) {
            register(session, table.as_ref().clone()).await?;
        }
    }
    Ok(())
}

impl Table {
    /// `SHOW TBLPROPERTIES`: the properties, then the options as
    /// `option.<key>`, sorted by key.
    pub fn all_properties(&self) -> Vec<(String, String)> {
        let mut all = self.properties.clone();
        all.extend(self.options.iter().map(|(k, v)| (format!("option.{k}"), v.clone())));
        all.sort();
        all
    }

    /// `SHOW CREATE TABLE`: the statement that makes this table, as Spark
    /// writes it.
    pub fn create_statement(&self) -> String {
        let quote = |s: &str| s.replace('\\', "\\\\").replace('\'', "\\'");
        let pairs = |pairs: &[(String, String)]| {
            let lines: Vec<String> = pairs.iter().map(|(k, v)| format!("  '{}' = '{}'", quote(k), quote(v))).collect();
            lines.join(",\n")
        };
        let columns: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| format!("  {} {}", identifier(f.name()), ddl_type(f.data_type(), true)))
            .collect();
        let mut out = format!(
            "CREATE TABLE {CATALOG}.{}.{} (\n{})\nUSING {}\n",
            self.name.database,
            self.name.table,
            columns.join(",\n"),
            self.format
        );
        if !self.options.is_empty() {
            let mut options = self.options.clone();
            options.sort();
            out += &format!("OPTIONS (\n{})\n", pairs(&options));
        }
        if !self.partition_columns.is_empty() {
            let names: Vec<String> = self.partition_columns.iter().map(|p| identifier(p)).collect();
            out += &format!("PARTITIONED BY ({})\n", names.join(", "));
        }
        if !self.managed {
            out += &format!("LOCATION 'file:{}'\n", quote(&self.location.display().to_string()));
        }
        if let Some(c) = &self.comment {
            out += &format!("COMMENT '{}'\n", quote(c));
        }
        if !self.properties.is_empty() {
            out += &format!("TBLPROPERTIES (\n{})\n", pairs(&self.properties));
        }
        out
    }

    /// `SHOW PARTITIONS`, `listPartitions`: the partition directories that
    /// hold files, as `p=1/q=a`, sorted.
    pub fn partitions(&self) -> Result<Vec<String>> {
        if self.partition_columns.is_empty() {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "INVALID_PARTITION_OPERATION.PARTITION_SCHEMA_IS_EMPTY",
                "42601",
                format!("The partition command is invalid. Table {} is not partitioned.", self.name.qualified()),
            )
            .into());
        }
        let mut found = vec![];
        partition_dirs(&self.location, &self.partition_columns, String::new(), &mut found);
        found.sort();
        Ok(found)
    }
}

/// Collects the `a=1/b=2` paths under `dir` whose directories name the
/// partition columns in order and hold data.
fn partition_dirs(dir: &Path, columns: &[String], prefix: String, found: &mut Vec<String>) {
    let Some((column, rest)) = columns.split_first() else {
        if has_data(dir) {
            found.push(prefix);
        }
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()) {
        let name = e.file_name().to_string_lossy().to_string();
        let Some((k, _)) = name.split_once('=') else { continue };
        if k.eq_ignore_ascii_case(column) {
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            partition_dirs(&e.path(), rest, path, found);
        }
    }
}

/// A column name as Spark's DDL writes it: quoted unless a plain word.
fn identifier(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain { name.to_string() } else { format!("`{}`", name.replace('`', "``")) }
}

/// A type as Spark's `SHOW CREATE TABLE` writes it; a column's text type
/// names its collation.
fn ddl_type(t: &DataType, column: bool) -> String {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if column => "STRING COLLATE UTF8_BINARY".into(),
        DataType::List(f) | DataType::LargeList(f) => format!("ARRAY<{}>", ddl_type(f.data_type(), false)),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("MAP<{}, {}>", ddl_type(kv[0].data_type(), false), ddl_type(kv[1].data_type(), false))
            }
            other => crate::types::simple_string(other).to_uppercase(),
        },
        DataType::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", identifier(f.name()), ddl_type(f.data_type(), false)))
                .collect();
            format!("STRUCT<{}>", fields.join(", "))
        }
        other => crate::types::simple_string(other).to_uppercase(),
    }
}

/// Makes the table's scan read its files as they are now, and enters it.
async fn register(session: &SparkSession, mut table: Table) -> Result<()> {
    table.scan = scan(session, &table).await?;
    let name = table.name.clone();
    if let Ok(mut t) = TABLES.write() {
        t.insert(name.clone(), Arc::new(table));
    }
    session.cache.refresh_table(session, &name.to_string()).await
}

async fn scan(session: &SparkSession, table: &Table) -> Result<Arc<dyn TableProvider>> {
    if !has_data(&table.location) {
        return Ok(Arc::new(MemTable::try_new(table.schema.clone(), vec![vec![]])?));
    }
    let plan = read_location(session, &table.format, &table.location, Some(&table.schema), &table.options).await?;
    let plan = project_to(plan, &table.schema, &table.name)?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

async fn read_location(
    session: &SparkSession,
    format: &str,
    location: &Path,
    schema: Option<&Schema>,
    options: &[(String, String)],
) -> Result<LogicalPlan> {
    let mut planner = Planner::new(session);
    let options = io_options(format, options);
    let ddl = schema.map(|s| {
        s.fields()
            .iter()
            .map(|f| format!("`{}` {}", f.name().replace('`', "``"), crate::types::simple_string(f.data_type())))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let read = spark_connect_proto::Read {
        read_type: Some(spark_connect_proto::read::ReadType::DataSource(spark_connect_proto::read::DataSource {
            format: Some(format.to_string()),
            schema: ddl,
            options: options.iter().cloned().collect(),
            paths: vec![location.display().to_string()],
            predicates: vec![],
            source_name: None,
        })),
        is_streaming: false,
    };
    crate::read::read(&mut planner, &read).await
}

/// Whether a directory holds data files (not `_SUCCESS`, `.crc` or other
/// hidden files), in it or in its partition directories.
fn has_data(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.filter_map(|e| e.ok()).any(|e| {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name.starts_with('_') {
            return false;
        }
        if e.path().is_dir() { has_data(&e.path()) } else { true }
    })
}

/// A query's columns in the table's order: data, then partition columns.
fn with_partitions_last(schema: &Schema, partition_by: &[String], table: &TableName) -> Result<SchemaRef> {
    for p in partition_by {
        if !schema.fields().iter().any(|f| f.name().eq_ignore_ascii_case(p)) {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "COLUMN_NOT_DEFINED_IN_TABLE",
                "42703",
                format!(
                    "partition column `{p}` is not defined in table {}, defined table columns are: {}.",
                    table.qualified(),
                    column_list(schema)
                ),
            )
            .into());
        }
    }
    let is_partition = |f: &Field| partition_by.iter().any(|p| p.eq_ignore_ascii_case(f.name()));
    let data = schema.fields().iter().filter(|f| !is_partition(f));
    let parts = partition_by.iter().filter_map(|p| schema.fields().iter().find(|f| f.name().eq_ignore_ascii_case(p)));
    let fields: Vec<Field> = data.chain(parts).map(|f| f.as_ref().clone().with_nullable(true)).collect();
    Ok(Arc::new(Schema::new(fields)))
}

fn column_list(schema: &Schema) -> String {
    schema.fields().iter().map(|f| format!("`{}`", f.name())).collect::<Vec<_>>().join(", ")
}

/// The query's columns in the order of the table's, matched by name. A
/// table column the query lacks is NULL when `fill` (an INSERT's column
/// list), an error otherwise, as is a query column the table lacks.
fn by_names(plan: LogicalPlan, schema: &Schema, table: &TableName, fill: bool) -> Result<LogicalPlan> {
    if let Some((_, extra)) =
        plan.schema().iter().find(|(_, c)| !schema.fields().iter().any(|f| f.name().eq_ignore_ascii_case(c.name())))
    {
        return Err(SparkError::with_class(
            ExceptionClass::Analysis,
            "INCOMPATIBLE_DATA_FOR_TABLE.EXTRA_COLUMNS",
            "KD000",
            format!(
                "Cannot write incompatible data for the table {}: Cannot find extra column `{}`.",
                table.qualified(),
                extra.name()
            ),
        )
        .into());
    }
    let mut exprs = vec![];
    for f in schema.fields() {
        let found = plan.schema().iter().find(|(_, c)| c.name().eq_ignore_ascii_case(f.name()));
        if found.is_none() && fill {
            exprs.push(
                datafusion::logical_expr::lit(datafusion::common::ScalarValue::try_from(f.data_type())?)
                    .alias(f.name()),
            );
            continue;
        }
        let Some((q, c)) = found else {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "INCOMPATIBLE_DATA_FOR_TABLE.CANNOT_FIND_DATA",
                "KD000",
                format!(
                    "Cannot write incompatible data for the table {}: Cannot find data for the output column `{}`.",
                    table.qualified(),
                    f.name()
                ),
            )
            .into());
        };
        exprs.push(Expr::Column(datafusion::common::Column::new(q.cloned(), c.name())));
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// The query's columns, by position, as the table's: its names and types.
/// Spark's store assignment (ANSI) rejects text for a non-text column.
fn project_to(plan: LogicalPlan, schema: &Schema, table: &TableName) -> Result<LogicalPlan> {
    let input = plan.schema().clone();
    let given = input.fields().len();
    let wanted = schema.fields().len();
    if given != wanted {
        let data: Vec<String> = input.fields().iter().map(|f| f.name().clone()).collect();
        let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        return Err(arity_mismatch(table, &columns, &data));
    }
    let mut exprs = vec![];
    for ((q, from), to) in input.iter().zip(schema.fields()) {
        let c = Expr::Column(datafusion::common::Column::new(q.cloned(), from.name()));
        let source = c.get_type(&input)?;
        let e = if &source == to.data_type() {
            c
        } else if matches!(source, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
            && !matches!(to.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
        {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "INCOMPATIBLE_DATA_FOR_TABLE.CANNOT_SAFELY_CAST",
                "KD000",
                format!(
                    "Cannot write incompatible data for the table {}: Cannot safely cast `{}` \"{}\" to \"{}\".",
                    table.qualified(),
                    to.name(),
                    crate::types::simple_string(&source).to_uppercase(),
                    crate::types::simple_string(to.data_type()).to_uppercase()
                ),
            )
            .into());
        } else {
            crate::functions::spark_cast(c, to.data_type(), false, &input)?
        };
        exprs.push(e.alias(to.name()));
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// Takes the `path` option out of write or catalog options: the table's
/// location.
pub fn take_path(options: &mut Vec<(String, String)>) -> Option<String> {
    options.iter().position(|(k, _)| k.eq_ignore_ascii_case("path")).map(|i| options.remove(i).1)
}

/// INSERT_COLUMN_ARITY_MISMATCH: the table's (or the listed) columns and
/// the query's differ in number.
pub fn arity_mismatch(table: &TableName, columns: &[String], data: &[String]) -> crate::error::Error {
    arity_error(table, columns, data).into()
}

/// An insert with a PARTITION clause whose query has too many or too few
/// columns: Spark reports it as INSERT_PARTITION_COLUMN_ARITY_MISMATCH
/// with the text of INSERT_COLUMN_ARITY_MISMATCH.
fn partition_arity_mismatch(table: &TableName, columns: &[String], data: &[String]) -> crate::error::Error {
    let mut e = arity_error(table, columns, data);
    e.error_class = Some("INSERT_PARTITION_COLUMN_ARITY_MISMATCH".into());
    e.into()
}

fn arity_error(table: &TableName, columns: &[String], data: &[String]) -> SparkError {
    let (sub, reason) = if data.len() > columns.len() {
        ("TOO_MANY_DATA_COLUMNS", "too many data columns")
    } else {
        ("NOT_ENOUGH_DATA_COLUMNS", "not enough data columns")
    };
    let quoted = |names: &[String]| names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    SparkError::with_class(
        ExceptionClass::Analysis,
        &format!("INSERT_COLUMN_ARITY_MISMATCH.{sub}"),
        "21S01",
        format!(
            "Cannot write to {}, the reason is {reason}:\nTable columns: {}.\nData columns: {}.",
            table.qualified(),
            quoted(columns),
            quoted(data)
        ),
    )
}

/// A table's options as its reads and writes take them: a CSV table has
/// no header unless an option says so.
fn io_options(format: &str, options: &[(String, String)]) -> Vec<(String, String)> {
    let mut all = options.to_vec();
    if format == "csv" && !options.iter().any(|(k, _)| k.eq_ignore_ascii_case("header")) {
        all.push(("header".into(), "false".into()));
    }
    all
}

fn options_of(format: &str, options: &[(String, String)]) -> Options {
    let map: std::collections::HashMap<String, String> = io_options(format, options).into_iter().collect();
    Options::new(&map)
}

pub fn warehouse(session: &SparkSession) -> PathBuf {
    let dir = session.conf_get("spark.sql.warehouse.dir").unwrap_or_else(|| "spark-warehouse".into());
    local_path(&dir)
}

/// A local path from a path or a `file:` URI.
pub fn local_path(p: &str) -> PathBuf {
    PathBuf::from(
        p.strip_prefix("file:")
            .map(|p| p.trim_start_matches("//"))
            .map(|p| format!("/{}", p.trim_start_matches('/')))
            .unwrap_or_else(|| p.to_string()),
    )
}

pub fn already_exists(name: &TableName) -> crate::error::Error {
    relation_exists(&name.qualified())
}

/// TABLE_OR_VIEW_ALREADY_EXISTS for a name as Spark quotes it
/// (`` `db`.`t` ``).
pub fn relation_exists(quoted: &str) -> crate::error::Error {
    SparkError::with_class(
        ExceptionClass::Analysis,
        "TABLE_OR_VIEW_ALREADY_EXISTS",
        "42P07",
        format!(
            "Cannot create table or view {quoted} because it already exists.\nChoose a different name, drop or replace the existing object, or add the IF NOT EXISTS clause to tolerate pre-existing objects."
        ),
    )
    .param("relationName", quoted)
    .into()
}

fn location_exists(name: &TableName, location: &Path) -> crate::error::Error {
    SparkError::with_class(
        ExceptionClass::Runtime,
        "LOCATION_ALREADY_EXISTS",
        "42710",
        format!(
            "Cannot name the managed table as {}, as its associated location 'file:{}' already exists. Please pick a different table name, or remove the existing location first.",
            name.qualified(),
            location.display()
        ),
    )
    .into()
}
