//! Names as a session resolves them. Spark's names are case-insensitive,
//! so temp views live in the DataFusion catalog under their lower-case
//! name. An unqualified name is a temp view, else a table of the session's
//! current database (`crate::tables`, `crate::databases`); `db.t` and
//! `spark_catalog.db.t` are tables, `global_temp.v` a global temp view, as
//! in Spark.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{CatalogProvider, MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{ColumnarValue, LogicalPlan, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use ember_common::{ExceptionClass, SparkError};

use crate::error::Result;
use crate::session::SparkSession;
use crate::tables::TableName;

pub fn view_key(name: &str) -> String {
    name.to_lowercase()
}

/// The database of global temp views (`spark.sql.globalTempDatabase`).
pub const GLOBAL_TEMP_DATABASE: &str = "global_temp";

/// Global temp views: one schema shared by every session of the process
/// (an application's sessions, as in Spark), in each session's catalog as
/// `global_temp`.
static GLOBAL_TEMP: LazyLock<Arc<MemorySchemaProvider>> = LazyLock::new(|| Arc::new(MemorySchemaProvider::new()));

/// A session's own part of name resolution: its current database, and the
/// rows of the tables it cached (`cacheTable`), by `db.name`.
#[derive(Debug)]
pub struct SessionNames {
    current_database: RwLock<String>,
    cached_tables: RwLock<HashMap<String, Arc<dyn TableProvider>>>,
}

impl SessionNames {
    fn current_database(&self) -> String {
        self.current_database.read().map(|d| d.clone()).unwrap_or_else(|_| crate::databases::DEFAULT.into())
    }
}

/// The tables of one database as a session reads them: the rows it cached,
/// else their files.
#[derive(Debug)]
struct DatabaseSchema {
    database: String,
    names: Arc<SessionNames>,
}

impl DatabaseSchema {
    fn key(&self, name: &str) -> TableName {
        TableName { database: self.database.clone(), table: name.to_lowercase() }
    }
}

#[async_trait::async_trait]
impl SchemaProvider for DatabaseSchema {
    fn table_names(&self) -> Vec<String> {
        crate::tables::names(&self.database)
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        let key = self.key(name);
        let Some(table) = crate::tables::get(&key) else { return Ok(None) };
        let cached = self.names.cached_tables.read().ok().and_then(|c| c.get(&key.to_string()).cloned());
        Ok(Some(cached.unwrap_or_else(|| table.scan.clone())))
    }

    fn table_exist(&self, name: &str) -> bool {
        crate::tables::get(&self.key(name)).is_some()
    }
}

/// A session's unqualified names: its temp views, then the tables of its
/// current database.
#[derive(Debug)]
pub struct SessionSchema {
    views: MemorySchemaProvider,
    names: Arc<SessionNames>,
}

impl SessionSchema {
    fn tables(&self) -> DatabaseSchema {
        DatabaseSchema { database: self.names.current_database(), names: self.names.clone() }
    }
}

#[async_trait::async_trait]
impl SchemaProvider for SessionSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.views.table_names();
        names.extend(self.tables().table_names().into_iter().filter(|t| !self.views.table_exist(t)));
        names
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        if let Some(v) = self.views.table(name).await? {
            return Ok(Some(v));
        }
        self.tables().table(name).await
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        self.views.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        self.views.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.views.table_exist(name) || self.tables().table_exist(name)
    }
}

/// A session's catalogs: `spark_catalog` has the databases
/// (`spark_catalog.db.t`); DataFusion's default catalog has them too
/// (`db.t`), with the session's unqualified names and `global_temp`.
#[derive(Debug)]
struct SparkCatalog {
    names: Arc<SessionNames>,
    /// The schema of unqualified names, in the default catalog only.
    session: Option<Arc<SessionSchema>>,
}

/// The default catalog's schema that DataFusion resolves unqualified
/// names in.
const SESSION_SCHEMA: &str = "public";

impl CatalogProvider for SparkCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names: Vec<String> = crate::databases::all().into_iter().map(|d| d.name).collect();
        if self.session.is_some() {
            names.extend([SESSION_SCHEMA.to_string(), GLOBAL_TEMP_DATABASE.to_string()]);
        }
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if let Some(session) = &self.session {
            if name == SESSION_SCHEMA {
                return Some(session.clone());
            }
            if name.eq_ignore_ascii_case(GLOBAL_TEMP_DATABASE) {
                return Some(GLOBAL_TEMP.clone());
            }
        }
        let database = crate::databases::get(name)?.name;
        Some(Arc::new(DatabaseSchema { database, names: self.names.clone() }))
    }
}

/// Sets up a new session's names: its temp views, the tables of its
/// current database, `db.t`, `spark_catalog.db.t` and `global_temp.<view>`;
/// and `current_database()`. The session keeps what this returns.
pub fn attach(ctx: &datafusion::prelude::SessionContext) -> Result<Arc<SessionNames>> {
    let names = Arc::new(SessionNames {
        current_database: RwLock::new(crate::databases::DEFAULT.into()),
        cached_tables: Default::default(),
    });
    let session = Arc::new(SessionSchema { views: MemorySchemaProvider::new(), names: names.clone() });
    let default_catalog = ctx.state().config_options().catalog.default_catalog.clone();
    ctx.register_catalog(default_catalog, Arc::new(SparkCatalog { names: names.clone(), session: Some(session) }));
    ctx.register_catalog(crate::tables::CATALOG, Arc::new(SparkCatalog { names: names.clone(), session: None }));
    for name in ["current_database", "current_schema"] {
        let udf = CurrentDatabase { name, names: names.clone(), signature: Signature::nullary(Volatility::Stable) };
        ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(udf));
    }
    Ok(names)
}

/// The session's current database.
pub fn current_database(session: &SparkSession) -> String {
    session.names.current_database()
}

/// `USE db`, `setCurrentDatabase`: the database must exist.
pub fn set_current_database(session: &SparkSession, name: &str) -> Result<()> {
    let name = crate::databases::database_name(name)?;
    if name == GLOBAL_TEMP_DATABASE {
        return Err(SparkError::with_class(
            ExceptionClass::Analysis,
            "_LEGACY_ERROR_TEMP_1068",
            "",
            format!("{name} is a system preserved database, you cannot use it as current database. To access global temporary views, you should use qualified name with the GLOBAL_TEMP_DATABASE, e.g. SELECT * FROM {name}.viewName."),
        )
        .into());
    }
    let database = crate::databases::find(&name)?;
    if let Ok(mut current) = session.names.current_database.write() {
        *current = database.name;
    }
    Ok(())
}

/// `current_database()` / `current_schema()`.
#[derive(Debug)]
struct CurrentDatabase {
    name: &'static str,
    names: Arc<SessionNames>,
    signature: Signature,
}

impl PartialEq for CurrentDatabase {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.names, &other.names)
    }
}

impl Eq for CurrentDatabase {}

impl std::hash::Hash for CurrentDatabase {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for CurrentDatabase {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> datafusion::error::Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(self.names.current_database()))))
    }
}

fn views(session: &SparkSession) -> Option<Arc<dyn SchemaProvider>> {
    let default_catalog = session.ctx().state().config_options().catalog.default_catalog.clone();
    session.ctx().catalog(&default_catalog)?.schema(SESSION_SCHEMA)
}

/// Whether `name` (lower case) is a temp view of the session.
pub fn is_view(session: &SparkSession, name: &str) -> bool {
    views(session).is_some_and(|s| match s.downcast_ref::<SessionSchema>() {
        Some(s) => s.views.table_exist(name),
        None => s.table_exist(name),
    })
}

/// Keeps (or with `None` forgets) the rows `cacheTable` computed for the
/// table `db.name`, which this session then reads.
pub fn cache_table_rows(session: &SparkSession, name: &str, rows: Option<Arc<dyn TableProvider>>) {
    if let Ok(mut cached) = session.names.cached_tables.write() {
        match rows {
            Some(r) => cached.insert(name.to_string(), r),
            None => cached.remove(name),
        };
    }
}

/// What a name means to `spark.catalog`, DESCRIBE and INSERT: a temp view,
/// a global temp view or a table.
pub enum Relation {
    View(String),
    GlobalView(String),
    Table(TableName),
}

impl Relation {
    /// The name without its database.
    pub fn name(&self) -> &str {
        match self {
            Self::View(n) | Self::GlobalView(n) => n,
            Self::Table(t) => &t.table,
        }
    }

    /// A name that means it in this session (the key of a cached table).
    pub fn full_name(&self) -> String {
        match self {
            Self::View(n) => n.clone(),
            Self::GlobalView(n) => format!("{GLOBAL_TEMP_DATABASE}.{n}"),
            Self::Table(t) => t.to_string(),
        }
    }

    /// Its columns.
    pub async fn schema(&self, session: &SparkSession) -> Result<datafusion::arrow::datatypes::SchemaRef> {
        let provider = match self {
            Self::View(v) => session.ctx().table_provider(v.as_str()).await?,
            Self::GlobalView(v) => GLOBAL_TEMP.table(v).await?.ok_or_else(|| SparkError::table_not_found(v))?,
            Self::Table(t) => {
                let table = crate::tables::get(t).ok_or_else(|| SparkError::table_not_found(&t.to_string()))?;
                return Ok(table.schema.clone());
            }
        };
        Ok(provider.schema())
    }
}

/// The relation `name` means: an unqualified name is a temp view before a
/// table, `global_temp.v` a global temp view; `None` when there is none.
pub fn resolve(session: &SparkSession, name: &str) -> Result<Option<Relation>> {
    let parts = crate::expr::parse_identifier(name)?;
    if let [one] = parts.as_slice() {
        if is_view(session, &view_key(one)) {
            return Ok(Some(Relation::View(view_key(one))));
        }
    }
    if let [db, view] = parts.as_slice() {
        if db.eq_ignore_ascii_case(GLOBAL_TEMP_DATABASE) {
            let key = view_key(view);
            return Ok(GLOBAL_TEMP.table_exist(&key).then_some(Relation::GlobalView(key)));
        }
    }
    let key = crate::tables::table_key(session, name)?;
    Ok(crate::tables::get(&key).map(|_| Relation::Table(key)))
}

/// The relation `name` means, in the database `db` when one is given
/// (`SHOW COLUMNS IN t IN db`, the catalog API's `dbName`): then only a
/// table.
pub fn resolve_in(session: &SparkSession, name: &str, db: Option<&str>) -> Result<Option<Relation>> {
    let Some(db) = db else { return resolve(session, name) };
    let table = crate::expr::parse_identifier(name)?.last().cloned().unwrap_or_default().to_lowercase();
    let key = TableName { database: crate::databases::database_name(db)?, table };
    Ok(crate::tables::get(&key).map(|_| Relation::Table(key)))
}

/// `createGlobalTempView` / `createOrReplaceGlobalTempView`.
pub fn create_global_temp_view(name: &str, plan: LogicalPlan, replace: bool) -> Result<()> {
    let key = view_key(name);
    if GLOBAL_TEMP.table_exist(&key) {
        if !replace {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS",
                "42P07",
                format!("Cannot create the temporary view `{GLOBAL_TEMP_DATABASE}`.`{name}` because it already exists. Choose a different name, drop or replace the existing view, or add the IF NOT EXISTS clause to tolerate pre-existing views."),
            )
            .param("relationName", format!("`{GLOBAL_TEMP_DATABASE}`.`{name}`"))
            .into());
        }
        GLOBAL_TEMP.deregister_table(&key)?;
    }
    GLOBAL_TEMP.register_table(key, Arc::new(ViewTable::new(plan, None)))?;
    Ok(())
}

/// `dropGlobalTempView`; whether it existed.
pub fn drop_global_temp_view(name: &str) -> Result<bool> {
    Ok(GLOBAL_TEMP.deregister_table(&view_key(name))?.is_some())
}

/// `createTempView` / `createOrReplaceTempView` / `CREATE TEMP VIEW`.
pub fn create_temp_view(session: &SparkSession, name: &str, plan: LogicalPlan, replace: bool) -> Result<()> {
    let key = view_key(name);
    let ctx = session.ctx();
    if is_view(session, &key) {
        if !replace {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS",
                "42P07",
                format!("Cannot create the temporary view `{name}` because it already exists. Choose a different name, drop or replace the existing view, or add the IF NOT EXISTS clause to tolerate pre-existing views."),
            )
            .param("relationName", format!("`{name}`"))
            .into());
        }
        ctx.deregister_table(key.as_str())?;
    }
    ctx.register_table(key.as_str(), Arc::new(ViewTable::new(plan, None)))?;
    Ok(())
}

/// `ALTER TABLE | VIEW v RENAME TO w` of a temp view.
pub fn rename_temp_view(session: &SparkSession, from: &str, to: &str) -> Result<()> {
    let ctx = session.ctx();
    let to_key = view_key(to);
    if is_view(session, &to_key) {
        return Err(crate::tables::relation_exists(&format!("`{to}`")));
    }
    let view = ctx.deregister_table(view_key(from).as_str())?.ok_or_else(|| SparkError::table_not_found(from))?;
    ctx.register_table(to_key.as_str(), view)?;
    Ok(())
}

/// Temp views that exist while one query is planned (a `spark.sql` call's
/// DataFrame arguments, the files it reads); dropped with this.
pub struct ScopedViews<'s> {
    session: &'s SparkSession,
    names: Vec<String>,
}

impl<'s> ScopedViews<'s> {
    pub fn new(session: &'s SparkSession) -> Self {
        Self { session, names: vec![] }
    }

    /// Registers `plan` as the view `name`, which must not exist yet.
    pub fn add(&mut self, name: &str, plan: LogicalPlan) -> Result<()> {
        create_temp_view(self.session, name, plan, false)?;
        self.names.push(name.to_string());
        Ok(())
    }
}

impl Drop for ScopedViews<'_> {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = drop_temp_view(self.session, name);
        }
    }
}

/// Drops a temp view; whether it existed.
pub fn drop_temp_view(session: &SparkSession, name: &str) -> Result<bool> {
    Ok(session.ctx().deregister_table(view_key(name).as_str())?.is_some())
}

/// The temp views' names, sorted.
pub fn view_names(session: &SparkSession) -> Vec<String> {
    let mut names = match views(session) {
        Some(s) => match s.downcast_ref::<SessionSchema>() {
            Some(s) => s.views.table_names(),
            None => s.table_names(),
        },
        None => vec![],
    };
    names.sort();
    names
}

/// The names a query can read without a qualifier: temp views and the
/// tables of the current database.
pub fn relation_names(session: &SparkSession) -> Vec<String> {
    let mut names = view_names(session);
    let tables = crate::tables::names(&current_database(session));
    let tables: Vec<String> = tables.into_iter().filter(|t| !names.contains(t)).collect();
    names.extend(tables);
    names
}
