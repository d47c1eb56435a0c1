//! Temp views: Spark's names are case-insensitive, so views live in the
//! DataFusion catalog under their lower-case name.

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};

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

/// Makes `global_temp.<view>` resolvable in a new session.
pub fn attach_global_temp(ctx: &datafusion::prelude::SessionContext) -> Result<()> {
    if let Some(catalog) = ctx.catalog("datafusion") {
        catalog.register_schema(GLOBAL_TEMP_DATABASE, GLOBAL_TEMP.clone())?;
    }
    Ok(())
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
    if ctx.table_exist(key.as_str())? {
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
    let ctx = session.ctx();
    let mut names = vec![];
    if let Some(catalog) = ctx.catalog("datafusion") {
        if let Some(schema) = catalog.schema("public") {
            names = schema.table_names();
        }
    }
    names.sort();
    names
}
