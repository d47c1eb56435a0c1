//! Temp views: Spark's names are case-insensitive, so views live in the
//! DataFusion catalog under their lower-case name.

use std::sync::Arc;

use datafusion::catalog::view::ViewTable;
use datafusion::logical_expr::LogicalPlan;
use ember_common::{ExceptionClass, SparkError};

use crate::error::Result;
use crate::session::SparkSession;

pub fn view_key(name: &str) -> String {
    name.to_lowercase()
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
