//! `mapInPandas` / `mapInArrow` (each partition through one Python task)
//! and `groupBy(...).applyInPandas` / `applyInArrow` (each group of rows
//! through the function, the groups of a partition in one task).
//!
//! A logical extension node carries the task to the planner, which makes a
//! [`PythonMapExec`]. Grouped maps require their input hash-partitioned on
//! the keys (DataFusion adds the exchange), then sort each partition by the
//! keys and cut it into groups, as Spark's FlatMapGroupsInPandasExec does.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow::compute::{SortColumn, concat_batches, lexsort_to_indices, take_record_batch};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, DFSchemaRef, DataFusionError, Result, internal_err};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, Extension, LogicalPlan, LogicalPlanBuilder, UserDefinedLogicalNodeCore};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::expressions::Column;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, Partitioning, PlanProperties,
};
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use futures::StreamExt;
use spark_connect_proto::{CommonInlineUserDefinedFunction, GroupMap, MapPartitions};

use super::udf::{python_batch, python_type};
use super::worker::{self, Input, TaskSpec, eval_type};
use crate::error::{Result as SqlResult, analysis};
use crate::expr::strip_alias;
use crate::plan::Planner;

/// What a map runs: the task, and for grouped maps the input columns that
/// are the keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MapSpec {
    pub name: String,
    pub task: TaskSpec,
    /// None: one task per partition. Some: groups by these columns.
    pub keys: Option<Vec<usize>>,
    /// The input goes as one struct column `_0` (map iterators, Arrow
    /// grouped maps) rather than as its columns.
    pub wrap_input: bool,
    /// Grouped aggregate functions: one row per group, the keys first.
    pub aggregate: bool,
}

/// The logical node of a Python map.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PythonMap {
    pub input: LogicalPlan,
    pub schema: DFSchemaRef,
    pub spec: MapSpec,
}

impl PartialOrd for PythonMap {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (self == other).then_some(Ordering::Equal)
    }
}

impl UserDefinedLogicalNodeCore for PythonMap {
    fn name(&self) -> &str {
        "PythonMap"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PythonMap: {}", self.spec.name)
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, mut inputs: Vec<LogicalPlan>) -> Result<Self> {
        let Some(input) = inputs.pop() else { return internal_err!("PythonMap has one input") };
        Ok(Self { input, schema: self.schema.clone(), spec: self.spec.clone() })
    }
}

impl Planner<'_> {
    /// `mapInPandas(f, schema)` / `mapInArrow(f, schema)`.
    pub(crate) async fn map_partitions(&mut self, m: &MapPartitions) -> SqlResult<LogicalPlan> {
        let input = self.input(&m.input).await?;
        let func = m.func.as_ref().ok_or_else(|| analysis("mapInPandas without its function"))?;
        let (spec, schema) = self.map_spec(func, &[(0, None)], None)?;
        extension(input, spec, schema)
    }

    /// `groupBy(keys).applyInPandas(f, schema)` / `applyInArrow`.
    pub(crate) async fn group_map(&mut self, g: &GroupMap) -> SqlResult<LogicalPlan> {
        if g.is_map_groups_with_state.unwrap_or(false) || g.initial_input.is_some() {
            return Err(ember_common::SparkError::unsupported("applyInPandasWithState").into());
        }
        let input = self.input(&g.input).await?;
        let func = g.func.as_ref().ok_or_else(|| analysis("applyInPandas without its function"))?;
        // The keys: input columns where they are, other expressions after them.
        let columns: Vec<Expr> = input.schema().columns().into_iter().map(Expr::Column).collect();
        let mut projection = columns.clone();
        let mut keys = vec![];
        for (i, e) in g.grouping_expressions.iter().enumerate() {
            let e = strip_alias(self.expr(e, input.schema())?.expr);
            match columns.iter().position(|c| c == &e) {
                Some(p) => keys.push(p),
                None => {
                    keys.push(projection.len());
                    projection.push(e.alias(format!("__key{i}")));
                }
            }
        }
        let input = if projection.len() > columns.len() {
            LogicalPlanBuilder::from(input).project(projection)?.build()?
        } else {
            input
        };
        // Spark's offsets: the group's length, the key count, the keys, the values.
        let values = 0..columns.len();
        let mut offsets = vec![(1 + keys.len() + values.len()) as i32, keys.len() as i32];
        offsets.extend(keys.iter().map(|&k| k as i32));
        offsets.extend(values.map(|v| v as i32));
        let offsets: Vec<_> = offsets.into_iter().map(|o| (o, None)).collect();
        let (spec, schema) = self.map_spec(func, &offsets, Some(keys))?;
        let plan = extension(input, spec, schema)?;
        Ok(plan)
    }

    /// `groupBy(keys).agg(f(x), …)` where every `f` is a grouped-aggregate
    /// pandas UDF: the groups go to Python, which returns one value each.
    pub(crate) fn python_aggregate(
        &mut self,
        input: LogicalPlan,
        grouping: &[spark_connect_proto::Expression],
        aggregates: &[spark_connect_proto::Expression],
    ) -> SqlResult<LogicalPlan> {
        let schema = input.schema().clone();
        let groups = self.projection(grouping, &schema)?;
        let mut projection: Vec<Expr> =
            groups.iter().enumerate().map(|(i, g)| strip_alias(g.expr.clone()).alias(format!("__key{i}"))).collect();
        let mut udfs = vec![];
        let mut results = vec![];
        let mut python_ver = String::new();
        let pandas: Vec<_> = aggregates.iter().filter_map(grouped_agg_udf).collect();
        if pandas.len() != aggregates.len() {
            let names: Vec<String> = pandas.iter().map(|(u, _)| format!("`{}`", u.function_name)).collect();
            let names = names.join(", ");
            return Err(ember_common::SparkError::with_class(
                ember_common::ExceptionClass::Analysis,
                "INVALID_PANDAS_UDF_PLACEMENT",
                "0A000",
                format!(
                    "The group aggregate pandas UDF {names} cannot be invoked together with as other, non-pandas \
                     aggregate functions."
                ),
            )
            .param("functionList", names)
            .into());
        }
        for (u, alias) in pandas {
            let f = super::function(u, &self.session.time_zone())?;
            let mut args = vec![];
            let mut shown = vec![];
            for a in &u.arguments {
                let v = self.expr(a, &schema)?;
                shown.push(v.name);
                args.push((projection.len() as i32, None));
                projection.push(strip_alias(v.expr).alias(format!("__arg{}", projection.len())));
            }
            let name = alias.unwrap_or_else(|| format!("{}({})", f.name, shown.join(", ")));
            results.push(Field::new(name, f.return_type.clone(), true));
            python_ver = f.python_ver.clone();
            udfs.push(super::worker::UdfCommand { args, command: f.command.into() });
        }
        let input = LogicalPlanBuilder::from(input).project(projection)?.build()?;
        let mut fields: Vec<Field> = groups
            .iter()
            .zip(input.schema().fields())
            .map(|(g, f)| Field::new(&g.name, f.data_type().clone(), true))
            .collect();
        let name = results.iter().map(|f| f.name().to_string()).collect::<Vec<_>>().join(", ");
        fields.extend(results);
        let env = super::env(self.session);
        let task = TaskSpec {
            python: env.python,
            python_ver,
            eval_type: eval_type::SQL_GROUPED_AGG_PANDAS_UDF,
            runner_conf: env.runner_conf,
            eval_conf: vec![],
            udfs,
            files_dir: env.files_dir,
            includes: env.includes,
        };
        let keys = (0..groups.len()).collect();
        let spec = MapSpec { name, task, keys: Some(keys), wrap_input: false, aggregate: true };
        extension(input, spec, DFSchema::try_from(Schema::new(fields))?)
    }

    fn map_spec(
        &mut self,
        func: &CommonInlineUserDefinedFunction,
        args: &[(i32, Option<String>)],
        keys: Option<Vec<usize>>,
    ) -> SqlResult<(MapSpec, DFSchema)> {
        let f = super::function(func, &self.session.time_zone())?;
        let grouped = keys.is_some();
        let wrap_input = match (f.eval_type, grouped) {
            (eval_type::SQL_MAP_PANDAS_ITER_UDF | eval_type::SQL_MAP_ARROW_ITER_UDF, false) => true,
            (eval_type::SQL_GROUPED_MAP_ARROW_UDF, true) => true,
            (eval_type::SQL_GROUPED_MAP_PANDAS_UDF, true) => false,
            (other, _) => {
                return Err(ember_common::SparkError::unsupported(format!(
                    "the Python function {} of eval type {other} here",
                    f.name
                ))
                .into());
            }
        };
        let DataType::Struct(fields) = &f.return_type else {
            return Err(analysis(format!("the output schema of {} must be a struct type", f.name)));
        };
        let fields: Fields = fields.iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
        let schema = DFSchema::try_from(Schema::new(fields))?;
        let name = f.name.clone();
        let eval_type = f.eval_type;
        let task = super::env(self.session).task(f, eval_type, args.to_vec());
        Ok((MapSpec { name, task, keys, wrap_input, aggregate: false }, schema))
    }
}

fn extension(input: LogicalPlan, spec: MapSpec, schema: DFSchema) -> SqlResult<LogicalPlan> {
    Ok(LogicalPlan::Extension(Extension { node: Arc::new(PythonMap { input, schema: Arc::new(schema), spec }) }))
}

/// Plans [`PythonMap`] nodes; everything else as DataFusion does.
#[derive(Debug, Default)]
pub struct PythonQueryPlanner;

#[async_trait]
impl QueryPlanner for PythonQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(PythonMapPlanner)])
            .create_physical_plan(logical_plan, session_state)
            .await
    }
}

#[derive(Debug)]
struct PythonMapPlanner;

#[async_trait]
impl ExtensionPlanner for PythonMapPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn datafusion::logical_expr::UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session_state: &dyn Session,
        _planning_ctx: &datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(map) = node.as_any().downcast_ref::<PythonMap>() else { return Ok(None) };
        let [input] = physical_inputs else { return internal_err!("PythonMap has one input") };
        let schema = Arc::new(map.schema.as_arrow().clone());
        Ok(Some(Arc::new(PythonMapExec::new(input.clone(), map.spec.clone(), schema))))
    }
}

/// Runs a [`PythonMap`]: one Python task per partition.
#[derive(Debug)]
pub struct PythonMapExec {
    input: Arc<dyn ExecutionPlan>,
    spec: MapSpec,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl PythonMapExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, spec: MapSpec, schema: SchemaRef) -> Self {
        let partitions = input.properties().output_partitioning().partition_count();
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self { input, spec, schema, properties }
    }

    pub fn spec(&self) -> &MapSpec {
        &self.spec
    }
}

impl DisplayAs for PythonMapExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PythonMapExec: {}", self.spec.name)
    }
}

impl ExecutionPlan for PythonMapExec {
    fn name(&self) -> &str {
        "PythonMapExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        let schema = self.input.schema();
        vec![match &self.spec.keys {
            None => Distribution::UnspecifiedDistribution,
            Some(keys) if keys.is_empty() => Distribution::SinglePartition,
            Some(keys) => Distribution::KeyPartitioned(
                keys.iter()
                    .map(|&k| Arc::new(Column::new(schema.field(k).name(), k)) as Arc<dyn PhysicalExpr>)
                    .collect(),
            ),
        }]
    }

    /// A map's function sees the partitions of its input as they are: no
    /// round-robin exchange is put below it.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("PythonMapExec has one child");
        }
        Ok(Arc::new(Self::new(children.swap_remove(0), self.spec.clone(), self.schema.clone())))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|e| DataFusionError::Internal(format!("a Python map runs inside the runtime: {e}")))?;
        let mut builder = RecordBatchReceiverStream::builder(self.schema.clone(), 2);
        let tx = builder.tx();
        let spec = self.spec.clone();
        let schema = self.schema.clone();
        builder.spawn_blocking(move || {
            let mut source = Blocking { handle, stream: input };
            let send = |b: RecordBatch| {
                tx.blocking_send(Ok(b)).map_err(|_| DataFusionError::Execution("the query was cancelled".into()))
            };
            let mut emit = |b: RecordBatch| send(unwrap_output(&b, &schema)?);
            let in_schema = python_schema(&source.stream.schema());
            match &spec.keys {
                None => {
                    let wrapped = wrapped_schema(&in_schema);
                    let mut batches = source.by_ref().map(|b| b.and_then(|b| wrap(&b, &wrapped)));
                    worker::run_task(&spec.task, partition, Input::Stream(wrapped.clone(), &mut batches), &mut emit)
                }
                Some(keys) => {
                    let batches = source
                        .by_ref()
                        .map(|b| b.and_then(|b| python_batch(&in_schema, b.columns(), b.num_rows())))
                        .collect::<Result<Vec<_>>>()?;
                    let groups = groups(&in_schema, &batches, keys)?;
                    if spec.aggregate {
                        if groups.is_empty() {
                            return Ok(());
                        }
                        let firsts = groups.iter().map(|g| g[0].slice(0, 1)).collect::<Vec<_>>();
                        let mut results = vec![];
                        let mut groups = groups.into_iter().map(Ok);
                        worker::run_task(
                            &spec.task,
                            partition,
                            Input::Groups(in_schema.clone(), &mut groups),
                            &mut |b| {
                                results.push(b);
                                Ok(())
                            },
                        )?;
                        return send(aggregate_output(&schema, &firsts, keys, &results)?);
                    }
                    if spec.wrap_input {
                        let wrapped = wrapped_schema(&in_schema);
                        let mut groups =
                            groups.into_iter().map(|g| g.iter().map(|b| wrap(b, &wrapped)).collect::<Result<Vec<_>>>());
                        worker::run_task(&spec.task, partition, Input::Groups(wrapped.clone(), &mut groups), &mut emit)
                    } else {
                        let mut groups = groups.into_iter().map(Ok);
                        worker::run_task(
                            &spec.task,
                            partition,
                            Input::Groups(in_schema.clone(), &mut groups),
                            &mut emit,
                        )
                    }
                }
            }
        });
        Ok(builder.build())
    }
}

/// An input stream read from a blocking thread.
pub(crate) struct Blocking {
    pub(crate) handle: tokio::runtime::Handle,
    pub(crate) stream: SendableRecordBatchStream,
}

impl Iterator for Blocking {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.handle.block_on(self.stream.next())
    }
}

fn python_schema(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_data_type(python_type(f.data_type())))
            .collect::<Fields>(),
    ))
}

fn wrapped_schema(schema: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("_0", DataType::Struct(schema.fields().clone()), false)]))
}

/// A batch as one struct column `_0`.
fn wrap(batch: &RecordBatch, wrapped: &SchemaRef) -> Result<RecordBatch> {
    let DataType::Struct(fields) = wrapped.field(0).data_type() else { return internal_err!("wrapped schema") };
    let columns = batch.columns().iter().map(super::udf::to_python_array).collect::<Result<Vec<_>>>()?;
    let array = if fields.is_empty() {
        StructArray::new_empty_fields(batch.num_rows(), None)
    } else {
        StructArray::try_new(fields.clone(), columns, None)?
    };
    Ok(RecordBatch::try_new(wrapped.clone(), vec![Arc::new(array)])?)
}

/// Python's output (struct `_0`) as rows of the declared schema.
fn unwrap_output(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let Some(array) = batch.columns().first().and_then(|c| c.as_any().downcast_ref::<StructArray>()) else {
        return Err(DataFusionError::Execution("a Python map returned no struct column".into()));
    };
    if array.num_columns() != schema.fields().len() {
        return Err(DataFusionError::Execution(format!(
            "a Python map returned {} columns for a schema of {}",
            array.num_columns(),
            schema.fields().len()
        )));
    }
    let columns = array
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(array.len())),
    )?)
}

/// One row per group: its keys (from the group's first row), then what
/// Python returned for it (one row per group, in group order).
fn aggregate_output(
    schema: &SchemaRef,
    firsts: &[RecordBatch],
    keys: &[usize],
    results: &[RecordBatch],
) -> Result<RecordBatch> {
    let firsts = concat_batches(&firsts[0].schema(), firsts)?;
    let Some(first) = results.first() else {
        return Err(DataFusionError::Execution("a Python aggregate returned no rows".into()));
    };
    let results = concat_batches(&first.schema(), results)?;
    if results.num_rows() != firsts.num_rows() || results.num_columns() + keys.len() != schema.fields().len() {
        return Err(DataFusionError::Execution(format!(
            "a Python aggregate returned {} rows of {} columns for {} groups",
            results.num_rows(),
            results.num_columns(),
            firsts.num_rows()
        )));
    }
    let columns = keys
        .iter()
        .map(|&k| firsts.column(k))
        .chain(results.columns())
        .zip(schema.fields())
        .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// A partition's rows sorted by the keys and cut where the keys change.
fn groups(schema: &SchemaRef, batches: &[RecordBatch], keys: &[usize]) -> Result<Vec<Vec<RecordBatch>>> {
    let all = concat_batches(schema, batches)?;
    if all.num_rows() == 0 {
        return Ok(vec![]);
    }
    if keys.is_empty() {
        return Ok(vec![vec![all]]);
    }
    let sort: Vec<SortColumn> =
        keys.iter().map(|&k| SortColumn { values: all.column(k).clone(), options: None }).collect();
    let sorted = take_record_batch(&all, &lexsort_to_indices(&sort, None)?)?;
    let key_columns: Vec<ArrayRef> = keys.iter().map(|&k| sorted.column(k).clone()).collect();
    let ranges = arrow::compute::partition(&key_columns)?.ranges();
    Ok(ranges.into_iter().map(|r| vec![sorted.slice(r.start, r.end - r.start)]).collect())
}

/// A grouped-aggregate pandas UDF (eval type 202), and its alias.
pub(crate) fn grouped_agg_udf(
    e: &spark_connect_proto::Expression,
) -> Option<(&CommonInlineUserDefinedFunction, Option<String>)> {
    use spark_connect_proto::common_inline_user_defined_function::Function;
    use spark_connect_proto::expression::ExprType;
    match e.expr_type.as_ref()? {
        ExprType::Alias(a) => {
            let (u, _) = grouped_agg_udf(a.expr.as_deref()?)?;
            Some((u, a.name.first().cloned()))
        }
        ExprType::CommonInlineUserDefinedFunction(u) => match &u.function {
            Some(Function::PythonUdf(p)) if p.eval_type == eval_type::SQL_GROUPED_AGG_PANDAS_UDF => Some((u, None)),
            _ => None,
        },
        _ => None,
    }
}
