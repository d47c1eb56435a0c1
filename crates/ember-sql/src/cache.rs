//! `df.cache()` / `persist()`: the relation's rows are computed once and
//! kept in memory; later plans containing the same relation read them.
//! `df.localCheckpoint()` / `checkpoint()`: the same, under an id the
//! client then refers to.
//!
//! A relation is identified by its encoded Connect message (the client
//! sends the same bytes, plan ids included, for the same DataFrame).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::MemTable;
use datafusion::prelude::ParquetReadOptions;
use ember_common::ExceptionClass;
use ember_common::SparkError;
use prost::Message;
use spark_connect_proto::Relation;

use crate::error::Result;
use crate::plan::Planner;
use crate::session::SparkSession;

#[derive(Default)]
pub struct Cache {
    /// Encoded relation → the table holding its rows, and its storage level.
    entries: Mutex<HashMap<Vec<u8>, (String, String)>>,
    /// `spark.catalog.cacheTable`: name → the view it replaced (none for a
    /// table, whose rows `crate::catalog` keeps).
    tables: Mutex<HashMap<String, Option<Arc<dyn datafusion::catalog::TableProvider>>>>,
    /// The ids of checkpointed relations.
    checkpoints: Mutex<std::collections::HashSet<String>>,
}

/// A DataFrame's rows, computed, as a table of its partitions. The table
/// takes the executed plan's schema: the batches' nullability can be wider
/// than the logical plan's where a function was rewritten while optimizing.
async fn computed(df: datafusion::dataframe::DataFrame) -> Result<MemTable> {
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let schema = plan.schema();
    let partitions = datafusion::physical_plan::collect_partitioned(plan, task).await?;
    Ok(MemTable::try_new(schema, partitions)?)
}

pub fn cached_table_name(id: &str) -> String {
    format!("__ember_cached_{id}")
}

impl Cache {
    pub fn is_empty(&self) -> bool {
        self.entries.lock().map(|e| e.is_empty()).unwrap_or(true)
    }

    /// The cached table for a relation, if it is cached.
    pub fn lookup(&self, rel: &Relation) -> Option<String> {
        let key = rel.encode_to_vec();
        self.entries.lock().ok()?.get(&key).map(|(t, _)| t.clone())
    }

    pub fn storage_level(&self, rel: &Relation) -> Option<String> {
        let key = rel.encode_to_vec();
        self.entries.lock().ok()?.get(&key).map(|(_, l)| l.clone())
    }

    /// Computes and keeps a relation's rows (no-op when already cached).
    pub async fn persist(&self, session: &SparkSession, rel: &Relation, level: &str) -> Result<()> {
        let key = rel.encode_to_vec();
        if self.entries.lock().map(|e| e.contains_key(&key)).unwrap_or(false) {
            return Ok(());
        }
        let mut planner = Planner::new(session);
        let plan = planner.relation(rel).await?;
        let table = computed(session.ctx().execute_logical_plan(plan).await?).await?;
        let name = cached_table_name(&uuid::Uuid::new_v4().simple().to_string());
        session.ctx().register_table(name.as_str(), Arc::new(table))?;
        if let Ok(mut e) = self.entries.lock() {
            e.insert(key, (name, level.to_string()));
        }
        Ok(())
    }

    /// `df.localCheckpoint()` / `df.checkpoint()`: the relation's rows,
    /// computed now, under a new id that later plans read as a
    /// `CachedRemoteRelation`. A local checkpoint keeps the rows in the
    /// driver's memory; a reliable one writes them as Parquet under
    /// `spark.checkpoint.dir` and reads them from there. (A lazy checkpoint
    /// is computed now too: the rows are the same, only computed earlier.)
    pub async fn checkpoint(&self, session: &SparkSession, rel: &Relation, local: bool) -> Result<String> {
        let dir = match local {
            true => None,
            false => Some(session.conf_get("spark.checkpoint.dir").ok_or_else(|| {
                SparkError::new(ExceptionClass::Spark, "Checkpoint directory has not been set in the SparkContext")
            })?),
        };
        let mut planner = Planner::new(session);
        let plan = planner.relation(rel).await?;
        let df = session.ctx().execute_logical_plan(plan).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let name = cached_table_name(&id);
        match dir {
            None => {
                session.ctx().register_table(name.as_str(), Arc::new(computed(df).await?))?;
            }
            Some(dir) => {
                let dir = std::path::Path::new(dir.strip_prefix("file:").unwrap_or(&dir)).join(&id);
                let path = format!("{}/", dir.display());
                df.write_parquet(&path, DataFrameWriteOptions::new(), None).await?;
                session.ctx().register_parquet(name.as_str(), &path, ParquetReadOptions::default()).await?;
            }
        }
        if let Ok(mut c) = self.checkpoints.lock() {
            c.insert(id.clone());
        }
        Ok(id)
    }

    /// The client dropped a checkpointed DataFrame
    /// (`RemoveCachedRemoteRelationCommand`): its rows are released.
    pub fn remove_checkpoint(&self, session: &SparkSession, id: &str) -> Result<()> {
        if self.checkpoints.lock().map(|mut c| c.remove(id)).unwrap_or(false) {
            session.ctx().deregister_table(cached_table_name(id).as_str())?;
        }
        Ok(())
    }

    pub fn unpersist(&self, session: &SparkSession, rel: &Relation) -> Result<()> {
        let key = rel.encode_to_vec();
        let removed = self.entries.lock().ok().and_then(|mut e| e.remove(&key));
        if let Some((name, _)) = removed {
            session.ctx().deregister_table(name.as_str())?;
        }
        Ok(())
    }

    pub fn is_table_cached(&self, name: &str) -> bool {
        self.tables.lock().map(|t| t.contains_key(name)).unwrap_or(false)
    }

    /// Replaces a view by its computed rows (`CACHE TABLE`).
    pub async fn cache_table(&self, session: &SparkSession, name: &str) -> Result<()> {
        if self.is_table_cached(name) {
            return Ok(());
        }
        let ctx = session.ctx();
        let provider = ctx.table_provider(name).await.map_err(|_| ember_common::SparkError::table_not_found(name))?;
        let view = crate::catalog::is_view(session, name).then_some(provider);
        let rows = Arc::new(computed(ctx.table(name).await?).await?);
        if view.is_some() {
            ctx.deregister_table(name)?;
            ctx.register_table(name, rows)?;
        } else {
            // A table's rows stay out of the temp views.
            crate::catalog::cache_table_rows(session, name, Some(rows));
        }
        if let Ok(mut t) = self.tables.lock() {
            t.insert(name.to_string(), view);
        }
        Ok(())
    }

    /// A cached table's rows computed again (after a write to it).
    pub async fn refresh_table(&self, session: &SparkSession, name: &str) -> Result<()> {
        if self.is_table_cached(name) {
            self.uncache_table(session, name)?;
            self.cache_table(session, name).await?;
        }
        Ok(())
    }

    pub fn uncache_table(&self, session: &SparkSession, name: &str) -> Result<()> {
        let original = self.tables.lock().ok().and_then(|mut t| t.remove(name));
        match original {
            Some(Some(view)) => {
                session.ctx().deregister_table(name)?;
                session.ctx().register_table(name, view)?;
            }
            Some(None) => crate::catalog::cache_table_rows(session, name, None),
            None => {}
        }
        Ok(())
    }

    pub fn clear(&self, session: &SparkSession) -> Result<()> {
        let names: Vec<String> = self.tables.lock().map(|t| t.keys().cloned().collect()).unwrap_or_default();
        for n in names {
            self.uncache_table(session, &n)?;
        }
        let entries: Vec<String> =
            self.entries.lock().map(|mut e| e.drain().map(|(_, (t, _))| t).collect()).unwrap_or_default();
        for t in entries {
            session.ctx().deregister_table(t.as_str())?;
        }
        Ok(())
    }
}
