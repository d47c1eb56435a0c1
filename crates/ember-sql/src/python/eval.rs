//! Python UDFs in a select list run as one task per partition, as Spark's
//! ArrowEvalPythonExec runs them: a physical rule takes each Python call out
//! of a projection into a [`PythonEvalExec`] below it, which streams the
//! partition's argument batches through one worker and appends the result
//! column to each input batch. An analyzer rule first moves the calls of
//! filters and aggregates into projections; calls anywhere else (join
//! conditions, sort keys) run batch by batch through the scalar function.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Aggregate, Expr, Filter, LogicalPlan, LogicalPlanBuilder};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, ScalarFunctionExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::expressions::Column;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

use super::map::Blocking;
use super::udf::{PythonUdf, arguments_schema, python_batch};
use super::worker::{self, Input};

/// Appends `udf(args)` to each input batch, one Python task per partition.
#[derive(Debug)]
pub struct PythonEvalExec {
    input: Arc<dyn ExecutionPlan>,
    udf: Arc<datafusion::logical_expr::ScalarUDF>,
    args: Vec<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl PythonEvalExec {
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        udf: Arc<datafusion::logical_expr::ScalarUDF>,
        args: Vec<Arc<dyn PhysicalExpr>>,
        name: &str,
    ) -> Result<Self> {
        let Some(python) = python_udf(&udf) else { return internal_err!("{} is not a Python UDF", udf.name()) };
        let mut fields: Vec<Field> = input.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new(name, python.parts().1.clone(), true));
        let schema = Arc::new(Schema::new(fields));
        let p = input.properties();
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            p.output_partitioning().clone(),
            p.emission_type,
            p.boundedness,
        ));
        Ok(Self { input, udf, args, schema, properties })
    }

    pub fn udf(&self) -> &Arc<datafusion::logical_expr::ScalarUDF> {
        &self.udf
    }

    pub fn args(&self) -> &[Arc<dyn PhysicalExpr>] {
        &self.args
    }

    /// The name of the column it appends.
    pub fn name(&self) -> &str {
        self.schema.fields().last().map(|f| f.name().as_str()).unwrap_or_default()
    }
}

fn python_udf(udf: &datafusion::logical_expr::ScalarUDF) -> Option<&PythonUdf> {
    let inner: &dyn std::any::Any = udf.inner().as_ref();
    inner.downcast_ref::<PythonUdf>()
}

impl DisplayAs for PythonEvalExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PythonEvalExec: {}", self.name())
    }
}

impl ExecutionPlan for PythonEvalExec {
    fn name(&self) -> &str {
        "PythonEvalExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        for a in &self.args {
            if f(a)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("PythonEvalExec has one child");
        }
        Ok(Arc::new(Self::try_new(children.swap_remove(0), self.udf.clone(), self.args.clone(), self.name())?))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|e| DataFusionError::Internal(format!("a Python UDF runs inside the runtime: {e}")))?;
        let mut builder = RecordBatchReceiverStream::builder(self.schema.clone(), 2);
        let tx = builder.tx();
        let udf = self.udf.clone();
        let args = self.args.clone();
        let schema = self.schema.clone();
        builder.spawn_blocking(move || {
            let Some(python) = python_udf(&udf) else { return internal_err!("not a Python UDF") };
            let mut source = Blocking { handle, stream: input };
            let arg_types = args.iter().map(|a| a.data_type(&source.stream.schema())).collect::<Result<Vec<_>>>()?;
            let arg_schema = arguments_schema(arg_types.iter());
            let spec = python.spec(&arg_schema);
            // Input batches wait here for their results.
            let waiting: Mutex<VecDeque<RecordBatch>> = Mutex::default();
            let mut batches = source.by_ref().filter(|b| !matches!(b, Ok(b) if b.num_rows() == 0)).map(|b| {
                let b = b?;
                let columns =
                    args.iter().map(|a| a.evaluate(&b)?.into_array(b.num_rows())).collect::<Result<Vec<_>>>()?;
                let arg_batch = python_batch(&arg_schema, &columns, b.num_rows())?;
                waiting.lock().map_err(|_| DataFusionError::Internal("poisoned".into()))?.push_back(b);
                Ok(arg_batch)
            });
            let mut results: Vec<ArrayRef> = vec![];
            let mut ready = 0;
            let return_type = python.parts().1.clone();
            let mut emit = |out: RecordBatch| {
                let Some(c) = out.columns().first() else {
                    return Err(DataFusionError::Execution("a Python UDF returned no column".into()));
                };
                ready += c.len();
                results.push(c.clone());
                loop {
                    let mut queue = waiting.lock().map_err(|_| DataFusionError::Internal("poisoned".into()))?;
                    let Some(rows) = queue.front().map(|b| b.num_rows()).filter(|&n| n <= ready) else { break };
                    let Some(front) = queue.pop_front() else { break };
                    drop(queue);
                    // Python answers batch for batch: no copy then.
                    let all = match results.as_slice() {
                        [one] => one.clone(),
                        many => arrow::compute::concat(&many.iter().map(|a| a.as_ref()).collect::<Vec<_>>())?,
                    };
                    results = vec![all.slice(rows, all.len() - rows)];
                    ready -= rows;
                    let mut columns = front.columns().to_vec();
                    columns.push(arrow::compute::cast(&all.slice(0, rows), &return_type)?);
                    let batch = RecordBatch::try_new(schema.clone(), columns)?;
                    tx.blocking_send(Ok(batch))
                        .map_err(|_| DataFusionError::Execution("the query was cancelled".into()))?;
                }
                Ok(())
            };
            worker::run_task(&spec, partition, Input::Stream(arg_schema.clone(), &mut batches), &mut emit)?;
            let left = waiting.lock().map(|q| q.len()).unwrap_or(0);
            if left > 0 || ready > 0 {
                return Err(DataFusionError::Execution(format!(
                    "the Python UDF {} returned a different number of rows than it was given",
                    udf.name()
                )));
            }
            Ok(())
        });
        Ok(builder.build())
    }
}

/// Takes the Python calls of each projection into [`PythonEvalExec`]s
/// below it (the innermost first, so a call's arguments are plain columns
/// or expressions of them).
#[derive(Debug, Default)]
pub struct PythonUdfsInProjections;

impl PhysicalOptimizerRule for PythonUdfsInProjections {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(p) = (node.as_ref() as &dyn std::any::Any).downcast_ref::<ProjectionExec>() else {
                return Ok(Transformed::no(node));
            };
            let mut input = p.input().clone();
            let mut exprs: Vec<ProjectionExpr> = p.expr().to_vec();
            let mut changed = false;
            while let Some(call) = exprs.iter().find_map(|e| innermost_python_call(&e.expr)) {
                let Some(f) = (call.as_ref() as &dyn std::any::Any).downcast_ref::<ScalarFunctionExpr>() else { break };
                let index = input.schema().fields().len();
                let name = format!("__python{index}");
                let exec = PythonEvalExec::try_new(input, Arc::new(f.fun().clone()), f.args().to_vec(), &name)?;
                let column: Arc<dyn PhysicalExpr> = Arc::new(Column::new(&name, index));
                let mut replaced = false;
                exprs = exprs
                    .into_iter()
                    .map(|pe| {
                        let expr = pe.expr.transform_up(|e| {
                            Ok(if e.as_ref() == call.as_ref() {
                                Transformed::yes(column.clone())
                            } else {
                                Transformed::no(e)
                            })
                        })?;
                        replaced |= expr.transformed;
                        Ok(ProjectionExpr { expr: expr.data, alias: pe.alias })
                    })
                    .collect::<Result<_>>()?;
                if !replaced {
                    return internal_err!("a Python call of a projection was not replaced");
                }
                input = Arc::new(exec);
                changed = true;
            }
            if !changed {
                return Ok(Transformed::no(node));
            }
            Ok(Transformed::yes(Arc::new(ProjectionExec::try_new(exprs, input)?) as Arc<dyn ExecutionPlan>))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "python_udfs_in_projections"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn is_python_call(e: &Arc<dyn PhysicalExpr>) -> bool {
    (e.as_ref() as &dyn std::any::Any)
        .downcast_ref::<ScalarFunctionExpr>()
        .is_some_and(|f| python_udf(f.fun()).is_some())
}

/// A Python call in `e` whose arguments call no Python.
fn innermost_python_call(e: &Arc<dyn PhysicalExpr>) -> Option<Arc<dyn PhysicalExpr>> {
    let mut found = None;
    let _ = e.apply(|node| {
        if is_python_call(node) && !node.children().iter().any(|c| contains_python_call(c)) {
            found = Some(node.clone());
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

fn contains_python_call(e: &Arc<dyn PhysicalExpr>) -> bool {
    let mut found = false;
    let _ = e.apply(|node| {
        found = is_python_call(node);
        Ok(if found { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    found
}

/// Moves the Python calls of filters and aggregates into a projection below
/// them (Spark's ExtractPythonUDFs), where [`PythonUdfsInProjections`] runs
/// them one task per partition.
#[derive(Debug, Default)]
pub struct PythonUdfsBelowFiltersAndAggregates;

fn is_python_expr(e: &Expr) -> bool {
    matches!(e, Expr::ScalarFunction(f) if python_udf(&f.func).is_some())
}

/// The outermost Python calls in `exprs`, each once.
fn python_calls<'a>(exprs: impl Iterator<Item = &'a Expr>) -> Vec<Expr> {
    let mut calls: Vec<Expr> = vec![];
    for e in exprs {
        let _ = e.apply(|x| {
            if is_python_expr(x) {
                if !calls.contains(x) {
                    calls.push(x.clone());
                }
                return Ok(TreeNodeRecursion::Jump);
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    calls
}

impl AnalyzerRule for PythonUdfsBelowFiltersAndAggregates {
    fn name(&self) -> &str {
        "python_udfs_below_filters_and_aggregates"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        Ok(plan
            .transform_up_with_subqueries(|node| {
                let calls = match &node {
                    LogicalPlan::Filter(f) => python_calls(std::iter::once(&f.predicate)),
                    LogicalPlan::Aggregate(a) => python_calls(a.group_expr.iter().chain(&a.aggr_expr)),
                    _ => return Ok(Transformed::no(node)),
                };
                if calls.is_empty() {
                    return Ok(Transformed::no(node));
                }
                let input = node.inputs()[0].clone();
                let columns: Vec<Expr> = input.schema().columns().into_iter().map(Expr::Column).collect();
                let names: Vec<String> = (0..calls.len()).map(|i| format!("__python_{i}")).collect();
                let mut below = columns.clone();
                below.extend(calls.iter().zip(&names).map(|(c, n)| c.clone().alias(n)));
                let below = Arc::new(LogicalPlanBuilder::from(input).project(below)?.build()?);
                let preserver = NamePreserver::new(&node);
                let replace = |e: &Expr| -> Result<Expr> {
                    let saved = preserver.save(e);
                    let e = e
                        .clone()
                        .transform_down(|x| match calls.iter().position(|c| c == &x) {
                            Some(i) => Ok(Transformed::new(
                                Expr::Column(datafusion::common::Column::from_name(&names[i])),
                                true,
                                TreeNodeRecursion::Jump,
                            )),
                            None => Ok(Transformed::no(x)),
                        })?
                        .data;
                    Ok(saved.restore(e))
                };
                let plan = match &node {
                    LogicalPlan::Filter(f) => {
                        let filter = LogicalPlan::Filter(Filter::try_new(replace(&f.predicate)?, below)?);
                        LogicalPlanBuilder::from(filter).project(columns)?.build()?
                    }
                    LogicalPlan::Aggregate(a) => {
                        let group = a.group_expr.iter().map(replace).collect::<Result<Vec<_>>>()?;
                        let aggr = a.aggr_expr.iter().map(replace).collect::<Result<Vec<_>>>()?;
                        LogicalPlan::Aggregate(Aggregate::try_new(below, group, aggr)?)
                    }
                    _ => return Ok(Transformed::no(node)),
                };
                Ok(Transformed::yes(plan))
            })?
            .data)
    }
}
