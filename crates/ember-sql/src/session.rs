//! One Spark session: its `SparkConf` and the DataFusion `SessionContext`
//! that holds its temp views and runs its plans.
//!
//! Local mode runs every plan in-process: `local[N]` sets DataFusion's
//! `target_partitions` (the parallelism), `--driver-memory` bounds the
//! memory pool and operators spill to disk beyond it.

use std::sync::{Arc, RwLock};

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::disk_manager::DiskManagerBuilder;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_spark::SessionStateBuilderSpark;
use ember_common::conf::{ByteUnit, Master};
use ember_common::{SparkConf, SparkError};

use crate::error::Result;

/// The fraction of `spark.driver.memory` given to query execution (Spark's
/// `spark.memory.fraction` default, 0.6).
const MEMORY_FRACTION: f64 = 0.6;

pub struct SparkSession {
    pub session_id: String,
    conf: RwLock<SparkConf>,
    ctx: SessionContext,
    parallelism: usize,
    /// Relations kept by `cache()`/`persist()`.
    pub cache: crate::cache::Cache,
    /// Its current database and the tables it cached.
    pub(crate) names: Arc<crate::catalog::SessionNames>,
    /// Plan ids of the `spark.catalog.createTable` relations that ran: the
    /// client analyzes the returned DataFrame again, which must not create
    /// the table twice.
    pub created_tables: std::sync::Mutex<std::collections::HashSet<i64>>,
    /// Artifacts the client uploaded (`AddArtifacts`), by name.
    pub artifacts: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
    /// Runs physical plans on a cluster's executors; `None` runs them here.
    runner: Option<Arc<dyn JobRunner>>,
    /// `spark.sql.ansi.enabled`, for the SQL planner's string promotion.
    ansi: Arc<std::sync::atomic::AtomicBool>,
    /// `spark.sql.session.timeZone`, for the SQL planner's interval
    /// arithmetic.
    planner_time_zone: Arc<std::sync::RwLock<String>>,
}

/// Runs a query's physical plan as a job on executors (the distributed
/// runtime); without one, a session runs plans in-process (local mode).
#[async_trait::async_trait]
pub trait JobRunner: Send + Sync {
    /// Runs `plan` and streams its rows in partition order.
    async fn run_job(
        &self,
        plan: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
        spark: &SparkSession,
    ) -> Result<datafusion::physical_plan::SendableRecordBatchStream>;
}

impl SparkSession {
    /// A session for `conf`, whose `spark.master` picks the parallelism.
    pub fn try_new(session_id: impl Into<String>, conf: SparkConf) -> Result<Arc<Self>> {
        Self::try_new_with_runner(session_id, conf, None)
    }

    /// A session whose queries run as jobs through `runner` (when given).
    pub fn try_new_with_runner(
        session_id: impl Into<String>,
        conf: SparkConf,
        runner: Option<Arc<dyn JobRunner>>,
    ) -> Result<Arc<Self>> {
        let master = conf.get("spark.master").unwrap_or_else(|| "local[*]".into());
        let mut parallelism = Master::parse(&master)?.parallelism();
        if runner.is_some()
            && let Some(n) = conf.get_explicit("spark.sql.shuffle.partitions").and_then(|n| n.trim().parse().ok())
        {
            // On a cluster, exchanges have spark.sql.shuffle.partitions partitions.
            parallelism = n;
        }
        let memory = conf.get_bytes("spark.driver.memory", ByteUnit::MiB)?.unwrap_or(1 << 30);
        let tz = conf.get("spark.sql.session.timeZone").unwrap_or_else(|| "UTC".into());

        let mut config = SessionConfig::new()
            .with_target_partitions(parallelism)
            .with_information_schema(true)
            .with_create_default_catalog_and_schema(true);
        let opts = config.options_mut();
        // Spark resolves names itself and keeps their case.
        opts.sql_parser.enable_ident_normalization = false;
        // Spark SQL's grammar: lambdas (`x -> x + 1`), backtick-quoted
        // names, double-quoted strings.
        opts.sql_parser.dialect = datafusion::config::Dialect::Spark;
        // Spark's string type is one type: never hand view types to clients.
        opts.execution.parquet.schema_force_view_types = false;
        opts.sql_parser.map_string_types_to_utf8view = false;
        // `1.5` is a decimal in Spark SQL, not a double.
        opts.sql_parser.parse_float_as_decimal = true;
        // Identifiers carry their source spans: `crate::sql_using` tells a
        // spelled-out column list from `*` by them.
        opts.sql_parser.collect_spans = true;
        // A subquery's ORDER BY orders its rows for the query above, as in
        // Spark (`SELECT * FROM (… ORDER BY x)`, first() over it).
        opts.sql_parser.enable_subquery_sort_elimination = false;
        // NULL is the smallest value: ORDER BY x puts NULLs first, ORDER BY
        // x DESC last, as Spark SQL sorts.
        opts.sql_parser.default_null_ordering = "nulls_min".into();
        opts.execution.time_zone = Some(tz.clone());
        opts.execution.parquet.pushdown_filters = false;
        // DataFusion 55's pushdown of struct field reads below projections
        // resolves a field against the wrong column when a projection reuses
        // an input column's name (`select(struct(…).alias("a"))` over a
        // column `a`, then `a.d`): planning fails or rows are wrong
        // (apache/datafusion#25414, #25446).
        opts.optimizer.enable_leaf_expression_pushdown = false;
        if runner.is_some() {
            // Stages cut at every exchange: a round-robin exchange would be a
            // shuffle of its own.
            // A task runs one partition: its files must not be shared with
            // sibling partitions (they run elsewhere).
            opts.optimizer.enable_round_robin_repartition = false;
            opts.execution.enable_file_stream_work_stealing = false;
            // Scalar subqueries as joins: a ScalarSubqueryExec must wrap the
            // expressions that read its results, which stages would split.
            opts.optimizer.enable_physical_uncorrelated_scalar_subquery = false;
            // Dynamic filters stay on: a filter reaches the scans of its own
            // stage (tasks narrow their plan to one partition, see
            // ember-exec's task module); scans across a shuffle keep it `true`.
        }

        let pool_bytes = ((memory as f64) * MEMORY_FRACTION) as usize;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(pool_bytes.max(64 << 20))))
            .with_disk_manager_builder(DiskManagerBuilder::default())
            // No cache of directory listings: a read sees the files a write
            // just committed, as Spark lists them per query.
            .with_cache_manager(
                datafusion::execution::cache::cache_manager::CacheManagerConfig::default()
                    .with_list_files_cache_limit(0),
            )
            .build_arc()?;
        let ansi = Arc::new(std::sync::atomic::AtomicBool::new(conf.get_bool("spark.sql.ansi.enabled")?));
        // datafusion-spark's functions follow spark.sql.ansi.enabled too.
        config.options_mut().execution.enable_ansi_mode = conf.get_bool("spark.sql.ansi.enabled")?;
        let mut builder = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_spark_features()
            .with_query_planner(Arc::new(crate::python::map::PythonQueryPlanner))
            .with_optimizer_rules(crate::nondeterministic::optimizer_rules())
            .with_physical_optimizer_rules(first_physical_rules())
            .with_physical_optimizer_rule(Arc::new(crate::dynamic_scan_filters::RuntimeFiltersAboveScans))
            .with_physical_optimizer_rule(Arc::new(crate::partition_id::PartitionIdInProjections))
            .with_physical_optimizer_rule(Arc::new(crate::round_robin::RestoreRepartitions))
            .with_physical_optimizer_rule(Arc::new(crate::python::eval::PythonUdfsInProjections));
        let promote = crate::functions::promote_strings::PromoteStrings { ansi: ansi.clone() };
        let planner_time_zone =
            Arc::new(std::sync::RwLock::new(conf.get("spark.sql.session.timeZone").unwrap_or_else(|| "UTC".into())));
        let intervals = crate::functions::intervals::IntervalArithmetic { time_zone: planner_time_zone.clone() };
        let planners = builder.expr_planners().get_or_insert_with(Vec::new);
        planners.insert(0, Arc::new(promote));
        planners.insert(0, Arc::new(intervals));
        planners.insert(0, Arc::new(crate::functions::implicit_casts::SqlForms));
        let state = builder.build();
        let ctx = SessionContext::new_with_state(state);
        ctx.add_analyzer_rule(Arc::new(crate::decimal_divide::SparkDecimalDivide));
        ctx.add_analyzer_rule(Arc::new(crate::partition_id::PartitionIdBelowAggregates));
        ctx.add_analyzer_rule(Arc::new(crate::ordered_aggregates::OrderedAggregates));
        ctx.add_analyzer_rule(Arc::new(crate::python::eval::PythonUdfsBelowFiltersAndAggregates));
        ctx.add_analyzer_rule(Arc::new(crate::functions::nullability::SparkNullability));
        crate::functions::register(&ctx, &tz)?;
        let names = crate::catalog::attach(&ctx)?;
        Ok(Arc::new(Self {
            session_id: session_id.into(),
            conf: RwLock::new(conf),
            ctx,
            parallelism,
            cache: Default::default(),
            names,
            created_tables: Default::default(),
            artifacts: Default::default(),
            runner,
            ansi,
            planner_time_zone,
        }))
    }

    /// Runs a logical plan: on the cluster when the session has a job
    /// runner, else here. Rows come in partition order.
    pub async fn execute(
        &self,
        plan: datafusion::logical_expr::LogicalPlan,
    ) -> Result<datafusion::physical_plan::SendableRecordBatchStream> {
        let df = self.ctx.execute_logical_plan(plan).await?;
        match &self.runner {
            None => {
                let task_ctx = Arc::new(df.task_ctx());
                let physical = crate::ordered_coalesce::in_partition_order(df.create_physical_plan().await?)?;
                let stream = datafusion::physical_plan::execute_stream(physical.clone(), task_ctx)?;
                if tracing::enabled!(target: "ember_sql::metrics", tracing::Level::DEBUG) {
                    Ok(log_metrics_at_end(stream, physical))
                } else {
                    Ok(stream)
                }
            }
            Some(runner) => {
                let physical = df.create_physical_plan().await?;
                runner.run_job(physical, self).await
            }
        }
    }

    /// Runs a logical plan and returns its batches.
    pub async fn collect(
        &self,
        plan: datafusion::logical_expr::LogicalPlan,
    ) -> Result<Vec<datafusion::arrow::array::RecordBatch>> {
        use futures::TryStreamExt;
        Ok(self.execute(plan).await?.try_collect().await?)
    }

    pub fn ctx(&self) -> &SessionContext {
        &self.ctx
    }

    /// The plan after DataFusion's and ember's analyzer rules: its schema
    /// is the one results have (type coercion, Spark's decimal division).
    pub fn analyzed(
        &self,
        plan: datafusion::logical_expr::LogicalPlan,
    ) -> Result<datafusion::logical_expr::LogicalPlan> {
        let state = self.ctx.state();
        Ok(state.analyzer().execute_and_check(plan, state.config_options(), |_, _| {})?)
    }

    /// The number of tasks that run at once (`N` of `local[N]`).
    pub fn parallelism(&self) -> usize {
        self.parallelism
    }

    pub fn conf(&self) -> SparkConf {
        self.conf.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// `getWithDefault`: an explicit setting wins over the client's default,
    /// which wins over Spark's default.
    pub fn conf_get_explicit_or(&self, key: &str, default: Option<String>) -> Option<String> {
        let explicit = self.conf.read().ok().and_then(|c| c.get_explicit(key).map(str::to_string));
        explicit.or(default).or_else(|| self.conf_get(key))
    }

    pub fn conf_get(&self, key: &str) -> Option<String> {
        self.conf.read().ok().and_then(|c| c.get(key))
    }

    /// Sets a session config; `spark.sql.session.timeZone` also reaches DataFusion.
    pub fn conf_set(&self, key: &str, value: &str) -> Result<()> {
        use ember_common::conf::Settable;
        let refused = match SparkConf::settable(key) {
            Settable::Yes => None,
            Settable::Static => Some(("CANNOT_MODIFY_STATIC_CONFIG", "static Spark config")),
            Settable::Core => Some(("CANNOT_MODIFY_CONFIG", "Spark config")),
        };
        if let Some((error_class, kind)) = refused {
            return Err(SparkError::with_class(
                ember_common::ExceptionClass::Analysis,
                error_class,
                "46110",
                format!("Cannot modify the value of the {kind}: \"{key}\"."),
            )
            .param("key", format!("\"{key}\""))
            .into());
        }
        SparkConf::check_value(key, value)?;
        if key == "spark.sql.session.timeZone" && !crate::functions::datetime::valid_time_zone(value) {
            let text = "Cannot resolve the given timezone.";
            return Err(ember_common::conf::invalid_conf_value(key, value, "TIME_ZONE", text, None).into());
        }
        if let Ok(mut c) = self.conf.write() {
            c.set(key, value);
        }
        self.conf_changed(key);
        Ok(())
    }

    pub fn conf_unset(&self, key: &str) {
        if let Ok(mut c) = self.conf.write() {
            c.unset(key);
        }
        self.conf_changed(key);
    }

    /// Passes a changed key on to the session's state that follows it.
    fn conf_changed(&self, key: &str) {
        match key {
            "spark.sql.session.timeZone" => {
                let tz = self.time_zone();
                self.ctx.state_ref().write().config_mut().options_mut().execution.time_zone = Some(tz.clone());
                if let Ok(mut zone) = self.planner_time_zone.write() {
                    zone.clone_from(&tz);
                }
                // Their result types carry the session zone: `hour(to_timestamp(s))`
                // and its text read the new one.
                if let Err(e) = crate::functions::datetime::register(&self.ctx, &tz) {
                    tracing::warn!("time zone {tz}: {e}");
                }
            }
            "spark.sql.ansi.enabled" => {
                self.ansi.store(self.ansi(), std::sync::atomic::Ordering::Relaxed);
                self.ctx.state_ref().write().config_mut().options_mut().execution.enable_ansi_mode = self.ansi();
            }
            // datafusion-spark's map functions follow their own key.
            "spark.sql.mapKeyDedupPolicy" => {
                let policy = self.conf_get(key).unwrap_or_else(|| "EXCEPTION".into()).to_ascii_uppercase();
                let state = self.ctx.state_ref();
                let mut state = state.write();
                if let Err(e) = state.config_mut().options_mut().set("datafusion.spark.map_key_dedup_policy", &policy) {
                    tracing::warn!("spark.sql.mapKeyDedupPolicy={policy}: {e}");
                }
            }
            _ => {}
        }
    }

    pub fn time_zone(&self) -> String {
        self.conf_get("spark.sql.session.timeZone").unwrap_or_else(|| "UTC".into())
    }

    /// `spark.sql.shuffle.partitions`: the partition count after a shuffle.
    pub fn shuffle_partitions(&self) -> usize {
        self.conf.read().ok().and_then(|c| c.get_usize("spark.sql.shuffle.partitions").ok().flatten()).unwrap_or(200)
    }

    pub fn ansi(&self) -> bool {
        self.conf.read().ok().and_then(|c| c.get_bool("spark.sql.ansi.enabled").ok()).unwrap_or(true)
    }

    pub fn case_sensitive(&self) -> bool {
        self.conf.read().ok().and_then(|c| c.get_bool("spark.sql.caseSensitive").ok()).unwrap_or(false)
    }
}

/// Runs every partition of `plan` at once and yields their rows in
/// partition order, as Spark's `collect` does (`df1.union(df2)` gives
/// df1's rows first). Partitions that finish early are buffered.
/// DataFusion's physical rules, after ember's that must see the plan as
/// the planner made it (see `round_robin`).
fn first_physical_rules() -> Vec<Arc<dyn datafusion::physical_optimizer::PhysicalOptimizerRule + Send + Sync>> {
    let mut rules: Vec<Arc<dyn datafusion::physical_optimizer::PhysicalOptimizerRule + Send + Sync>> = vec![
        Arc::new(crate::round_robin::KeepRepartitions),
        // Before DataFusion's projection pushdown, which would move a
        // projection calling spark_partition_id() into a file scan, where
        // nothing gives it the partition index. (It runs last too, for the
        // projections later rules make.)
        Arc::new(crate::partition_id::PartitionIdInProjections),
    ];
    rules.extend(datafusion::physical_optimizer::optimizer::PhysicalOptimizer::new().rules);
    rules
}

/// `EMBER_LOG=ember_sql::metrics=debug`: each local query's physical plan
/// with its operators' metrics (rows, elapsed compute), logged when its
/// stream ends, as EXPLAIN ANALYZE shows them.
fn log_metrics_at_end(
    stream: datafusion::physical_plan::SendableRecordBatchStream,
    plan: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> datafusion::physical_plan::SendableRecordBatchStream {
    use futures::StreamExt;
    let schema = stream.schema();
    let logged = stream.chain(futures::stream::poll_fn(move |_| {
        let shown = datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(plan.as_ref());
        tracing::debug!(target: "ember_sql::metrics", "plan with metrics:\n{}", shown.indent(true));
        std::task::Poll::Ready(None)
    }));
    Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, logged))
}
