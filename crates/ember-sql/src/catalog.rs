//! Temp views: Spark's names are case-insensitive, so views live in the
//! DataFusion catalog under their lower-case name. A session resolves an
//! unqualified name to its temp view, else to the table of the `default`
//! database (`crate::tables`), as Spark does.

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{CatalogProvider, MemorySchemaProvider, SchemaProvider, TableProvider};

use datafusion::catalog::view::ViewTable;
use datafusion::logical_expr::LogicalPlan;
use ember_common::{ExceptionClass, SparkError};

use crate::error::Result;
use crate::session::SparkSession;

pub fn view_key(name: &str) -> String {
    name.to_lowercase()
}

/// The database of global temp views (`spark.sql.globalTempDatabase`).
pub const GLOBAL_TEMP_DATABASE: &str = "global_temp";

/// Global temp views: one schema shared by every session of the process
/// (an application's sessions, as in Spark), in each session's catalog as
/// `global_temp`.
static GLOBAL_TEMP: LazyLock<Arc<MemorySchemaProvider>> = LazyLock::new(|| Arc::new(MemorySchemaProvider::new()));

/// A session's unqualified names: its temp views, then the tables (their
/// rows this session cached, else their files).
#[derive(Debug, Default)]
pub struct SessionSchema {
    views: MemorySchemaProvider,
    cached_tables: std::sync::RwLock<std::collections::HashMap<String, Arc<dyn TableProvider>>>,
}

impl SessionSchema {
    fn cached(&self, name: &str) -> Option<Arc<dyn TableProvider>> {
        self.cached_tables.read().ok()?.get(name).cloned()
    }
}

#[async_trait::async_trait]
impl SchemaProvider for SessionSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.views.table_names();
        names.extend(crate::tables::names().into_iter().filter(|t| !self.views.table_exist(t)));
        names
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        if let Some(v) = self.views.table(name).await? {
            return Ok(Some(v));
        }
        match self.cached(name) {
            Some(rows) if crate::tables::get(name).is_some() => Ok(Some(rows)),
            _ => crate::tables::TablesSchema.table(name).await,
        }
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
        self.views.table_exist(name) || crate::tables::get(name).is_some()
    }
}

/// Sets up a new session's names: its temp views and the tables
/// (`t`, `default.t`, `spark_catalog.default.t`), and `global_temp.<view>`.
pub fn attach(ctx: &datafusion::prelude::SessionContext) -> Result<()> {
    let tables = Arc::new(crate::tables::TablesSchema);
    if let Some(catalog) = ctx.catalog("datafusion") {
        catalog.register_schema("public", Arc::new(SessionSchema::default()))?;
        catalog.register_schema(GLOBAL_TEMP_DATABASE, GLOBAL_TEMP.clone())?;
        catalog.register_schema(crate::tables::DATABASE, tables.clone())?;
    }
    let spark_catalog = datafusion::catalog::MemoryCatalogProvider::new();
    spark_catalog.register_schema(crate::tables::DATABASE, tables)?;
    ctx.register_catalog(crate::tables::CATALOG, Arc::new(spark_catalog));
    Ok(())
}

fn views(session: &SparkSession) -> Option<Arc<dyn SchemaProvider>> {
    session.ctx().catalog("datafusion")?.schema("public")
}

/// Whether `name` (lower case) is a temp view of the session.
pub fn is_view(session: &SparkSession, name: &str) -> bool {
    views(session).is_some_and(|s| match s.downcast_ref::<SessionSchema>() {
        Some(s) => s.views.table_exist(name),
        None => s.table_exist(name),
    })
}

/// Keeps (or with `None` forgets) the rows `cacheTable` computed for a
/// table of the database, which this session then reads.
pub fn cache_table_rows(session: &SparkSession, name: &str, rows: Option<Arc<dyn TableProvider>>) {
    let Some(schema) = views(session) else { return };
    let Some(s) = schema.downcast_ref::<SessionSchema>() else { return };
    if let Ok(mut cached) = s.cached_tables.write() {
        match rows {
            Some(r) => cached.insert(name.to_string(), r),
            None => cached.remove(name),
        };
    }
}

/// What a name means to `spark.catalog`, DESCRIBE and INSERT: a temp view,
/// a global temp view or a table of the database.
pub enum Relation {
    View(String),
    GlobalView(String),
    Table(String),
}

impl Relation {
    pub fn name(&self) -> &str {
        match self {
            Self::View(n) | Self::GlobalView(n) | Self::Table(n) => n,
        }
    }

    /// Its columns.
    pub async fn schema(&self, session: &SparkSession) -> Result<datafusion::arrow::datatypes::SchemaRef> {
        let provider = match self {
            Self::View(v) => session.ctx().table_provider(v.as_str()).await?,
            Self::GlobalView(v) => GLOBAL_TEMP.table(v).await?.ok_or_else(|| SparkError::table_not_found(v))?,
            Self::Table(t) => {
                return Ok(crate::tables::get(t).ok_or_else(|| SparkError::table_not_found(t))?.schema.clone());
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
    let key = crate::tables::table_key(name)?;
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

/// The names a query can read without a qualifier: temp views and tables.
pub fn relation_names(session: &SparkSession) -> Vec<String> {
    let mut names = view_names(session);
    let tables: Vec<String> = crate::tables::names().into_iter().filter(|t| !names.contains(t)).collect();
    names.extend(tables);
    names
}
