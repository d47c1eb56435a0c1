//! Stage plans on the wire: datafusion-proto for DataFusion's operators,
//! plus this codec for ember's shuffle writer and reader, its runtime
//! filters, `spark_partition_id()` projections and batch slicers. Functions travel by name and resolve against the executor
//! session's registry, which holds ember's Spark functions as the
//! driver's does.

use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow::ipc::CompressionType;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::ScalarUDF;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::from_proto::parse_protobuf_partitioning;
use datafusion_proto::physical_plan::to_proto::serialize_partitioning;
use datafusion_proto::physical_plan::{
    DeduplicatingProtoConverter, PhysicalExtensionCodec, PhysicalPlanDecodeContext, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf;
use prost::Message;

use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use ember_sql::dynamic_scan_filters::{RuntimeFilter, RuntimeFilterExec};
use ember_sql::functions::range::{RangeExec, RangeSpec};
use ember_sql::partition_id::PartitionIdExec;
use ember_sql::python::eval::PythonEvalExec;
use ember_sql::python::map::{MapSpec, PythonMapExec};
use ember_sql::python::udf::PythonUdf;
use ember_sql::python::worker::{TaskSpec, UdfCommand};
use ember_sql::round_robin::SliceBatchesExec;

use crate::proto::MapLocation;
use crate::shuffle::{ReaderKind, ShuffleReaderExec, ShuffleWriterExec};

#[derive(Clone, PartialEq, prost::Message)]
struct ExtensionNode {
    #[prost(oneof = "Node", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
    node: Option<Node>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Node {
    #[prost(message, tag = "1")]
    Writer(WriterNode),
    #[prost(message, tag = "2")]
    Reader(ReaderNode),
    #[prost(message, tag = "3")]
    RuntimeFilter(RuntimeFilterNode),
    #[prost(message, tag = "4")]
    PartitionId(PartitionIdNode),
    /// A `SliceBatchesExec`: the number of slices.
    #[prost(uint32, tag = "5")]
    SliceBatches(u32),
    #[prost(message, tag = "6")]
    PythonMap(PythonMapNode),
    #[prost(message, tag = "7")]
    PythonEval(PythonEvalNode),
    #[prost(message, tag = "8")]
    Range(RangeNode),
}

/// A `RangeExec`: the range and how many partitions it is split into.
#[derive(Clone, PartialEq, prost::Message)]
struct RangeNode {
    #[prost(int64, tag = "1")]
    start: i64,
    #[prost(int64, tag = "2")]
    end: i64,
    #[prost(int64, tag = "3")]
    step: i64,
    #[prost(uint64, tag = "4")]
    slices: u64,
    #[prost(bool, tag = "5")]
    with_id: bool,
}

/// A `PythonEvalExec`: a Python UDF over a partition's batches.
#[derive(Clone, PartialEq, prost::Message)]
struct PythonEvalNode {
    #[prost(string, tag = "1")]
    function: String,
    #[prost(message, optional, tag = "2")]
    udf: Option<PythonUdfNode>,
    #[prost(message, repeated, tag = "3")]
    args: Vec<protobuf::PhysicalExprNode>,
    /// The name of the column it appends.
    #[prost(string, tag = "4")]
    name: String,
}

/// A Python task as it runs on a worker (see ember-sql's `python::worker`).
#[derive(Clone, PartialEq, prost::Message)]
struct PythonTaskNode {
    #[prost(string, tag = "1")]
    python: String,
    #[prost(string, tag = "2")]
    python_ver: String,
    #[prost(int32, tag = "3")]
    eval_type: i32,
    /// Keys and values, alternating.
    #[prost(string, repeated, tag = "4")]
    runner_conf: Vec<String>,
    #[prost(string, repeated, tag = "5")]
    eval_conf: Vec<String>,
    #[prost(message, repeated, tag = "6")]
    udfs: Vec<PythonCommandNode>,
    #[prost(string, tag = "7")]
    files_dir: String,
    #[prost(string, repeated, tag = "8")]
    includes: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct PythonCommandNode {
    #[prost(int32, repeated, tag = "1")]
    offsets: Vec<i32>,
    /// One per offset; "" for a positional argument.
    #[prost(string, repeated, tag = "2")]
    names: Vec<String>,
    #[prost(bytes = "vec", tag = "3")]
    command: Vec<u8>,
}

/// A Python scalar UDF.
#[derive(Clone, PartialEq, prost::Message)]
struct PythonUdfNode {
    /// The return type, as the one field of a schema.
    #[prost(message, optional, tag = "1")]
    return_type: Option<protobuf::Schema>,
    /// One per argument; "" for a positional one.
    #[prost(string, repeated, tag = "2")]
    arg_names: Vec<String>,
    #[prost(message, optional, tag = "3")]
    task: Option<PythonTaskNode>,
}

/// A `PythonMapExec`.
#[derive(Clone, PartialEq, prost::Message)]
struct PythonMapNode {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    task: Option<PythonTaskNode>,
    #[prost(bool, tag = "3")]
    grouped: bool,
    #[prost(uint32, repeated, tag = "4")]
    keys: Vec<u32>,
    #[prost(bool, tag = "5")]
    wrap_input: bool,
    #[prost(message, optional, tag = "6")]
    schema: Option<protobuf::Schema>,
    #[prost(bool, tag = "7")]
    aggregate: bool,
}

fn conf_to_proto(conf: &[(String, String)]) -> Vec<String> {
    conf.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect()
}

fn conf_from_proto(conf: Vec<String>) -> Vec<(String, String)> {
    conf.chunks(2).filter_map(|kv| Some((kv.first()?.clone(), kv.get(1)?.clone()))).collect()
}

fn task_to_proto(t: &TaskSpec) -> PythonTaskNode {
    PythonTaskNode {
        python: t.python.clone(),
        python_ver: t.python_ver.clone(),
        eval_type: t.eval_type,
        runner_conf: conf_to_proto(&t.runner_conf),
        eval_conf: conf_to_proto(&t.eval_conf),
        udfs: t
            .udfs
            .iter()
            .map(|u| PythonCommandNode {
                offsets: u.args.iter().map(|(o, _)| *o).collect(),
                names: u.args.iter().map(|(_, n)| n.clone().unwrap_or_default()).collect(),
                command: u.command.to_vec(),
            })
            .collect(),
        files_dir: t.files_dir.clone(),
        includes: t.includes.clone(),
    }
}

fn task_from_proto(t: Option<PythonTaskNode>) -> Result<TaskSpec> {
    let t = t.ok_or_else(|| codec_err("a Python node needs its task"))?;
    Ok(TaskSpec {
        python: t.python,
        python_ver: t.python_ver,
        eval_type: t.eval_type,
        runner_conf: conf_from_proto(t.runner_conf),
        eval_conf: conf_from_proto(t.eval_conf),
        udfs: t
            .udfs
            .into_iter()
            .map(|u| UdfCommand {
                args: u.offsets.into_iter().zip(u.names.into_iter().map(non_empty)).collect(),
                command: u.command.into(),
            })
            .collect(),
        files_dir: t.files_dir,
        includes: t.includes,
    })
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn python_udf_to_proto(udf: &PythonUdf) -> Result<PythonUdfNode> {
    let (_, return_type, arg_names, task) = udf.parts();
    let return_type = Schema::new(vec![arrow::datatypes::Field::new("_0", return_type.clone(), true)]);
    Ok(PythonUdfNode {
        return_type: Some(protobuf::Schema::try_from(&return_type).map_err(codec_err)?),
        arg_names: arg_names.iter().map(|n| n.clone().unwrap_or_default()).collect(),
        task: Some(task_to_proto(task)),
    })
}

fn python_udf_from_proto(name: &str, msg: PythonUdfNode) -> Result<Arc<ScalarUDF>> {
    let schema = msg.return_type.as_ref().ok_or_else(|| codec_err("a Python UDF needs its return type"))?;
    let schema: Schema = schema.try_into().map_err(codec_err)?;
    let return_type = schema.field(0).data_type().clone();
    let arg_names = msg.arg_names.into_iter().map(non_empty).collect();
    let udf = PythonUdf::from_parts(name.to_string(), return_type, arg_names, task_from_proto(msg.task)?);
    Ok(Arc::new(ScalarUDF::new_from_impl(udf)))
}

/// Marks a Python UDF among the functions of a stage plan.
const PYTHON_UDF: &[u8] = b"python:";

/// A projection that calls `spark_partition_id()`.
#[derive(Clone, PartialEq, prost::Message)]
struct PartitionIdNode {
    #[prost(message, repeated, tag = "1")]
    exprs: Vec<protobuf::PhysicalExprNode>,
    /// One output name per expression.
    #[prost(string, repeated, tag = "2")]
    names: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RuntimeFilterNode {
    #[prost(message, repeated, tag = "1")]
    filters: Vec<protobuf::PhysicalExprNode>,
    /// One per filter: whether it is a helper.
    #[prost(bool, repeated, tag = "2")]
    helpers: Vec<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct WriterNode {
    #[prost(uint64, tag = "1")]
    shuffle_id: u64,
    /// Absent: the map output stays whole.
    #[prost(message, optional, tag = "2")]
    partitioning: Option<protobuf::Partitioning>,
    /// "", "lz4" or "zstd".
    #[prost(string, tag = "3")]
    compression: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ReaderNode {
    #[prost(uint64, tag = "1")]
    shuffle_id: u64,
    #[prost(uint64, tag = "2")]
    stage_id: u64,
    #[prost(message, optional, tag = "3")]
    schema: Option<protobuf::Schema>,
    #[prost(bool, tag = "4")]
    whole: bool,
    #[prost(uint32, tag = "5")]
    partitions: u32,
    #[prost(message, repeated, tag = "6")]
    locations: Vec<MapLocation>,
}

/// ember's extension codec (the shuffle operators).
#[derive(Debug, Default)]
pub struct EmberCodec;

/// Marks a function that is DataFusion's own, where the session registry
/// holds a Spark function of the same name (datafusion-spark's `date_part`
/// is planned into DataFusion's `date_part`, for instance).
const DATAFUSION_FUNCTION: &[u8] = b"datafusion";

/// DataFusion's scalar functions by name.
static DATAFUSION_FUNCTIONS: std::sync::LazyLock<std::collections::HashMap<String, Arc<ScalarUDF>>> =
    std::sync::LazyLock::new(|| {
        datafusion::functions::all_default_functions()
            .into_iter()
            .chain(datafusion::functions_nested::all_default_nested_functions())
            .map(|f| (f.name().to_string(), f))
            .collect()
    });

fn impl_type(f: &ScalarUDF) -> std::any::TypeId {
    let inner: &dyn std::any::Any = f.inner().as_ref();
    inner.type_id()
}

fn codec_err(e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("stage plan codec: {e}"))
}

impl PhysicalExtensionCodec for EmberCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let node = ExtensionNode::decode(buf).map_err(codec_err)?;
        match node.node {
            Some(Node::Writer(w)) => {
                let [input] = inputs else { return Err(codec_err("a shuffle writer has one input")) };
                let partitioning = match &w.partitioning {
                    Some(p) => {
                        let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
                        parse_protobuf_partitioning(Some(p), &decode_ctx, &input.schema(), proto_converter)?
                    }
                    None => None,
                };
                let compression = match w.compression.as_str() {
                    "lz4" => Some(CompressionType::LZ4_FRAME),
                    "zstd" => Some(CompressionType::ZSTD),
                    _ => None,
                };
                Ok(Arc::new(ShuffleWriterExec::new(input.clone(), w.shuffle_id, partitioning, compression)))
            }
            Some(Node::Reader(r)) => {
                let schema = r.schema.as_ref().ok_or_else(|| codec_err("a shuffle reader needs its schema"))?;
                let schema: Schema = schema.try_into().map_err(codec_err)?;
                let kind = if r.whole { ReaderKind::Whole } else { ReaderKind::Hash };
                Ok(Arc::new(ShuffleReaderExec::new(
                    r.shuffle_id,
                    r.stage_id,
                    Arc::new(schema),
                    kind,
                    r.partitions as usize,
                    r.locations,
                )))
            }
            Some(Node::RuntimeFilter(f)) => {
                let [input] = inputs else { return Err(codec_err("a runtime filter has one input")) };
                let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
                let schema = input.schema();
                if f.helpers.len() != f.filters.len() {
                    return Err(codec_err("a runtime filter needs one helper flag per filter"));
                }
                let filters = f
                    .filters
                    .iter()
                    .zip(&f.helpers)
                    .map(|(expr, &helper)| {
                        let expr = proto_converter.proto_to_physical_expr(expr, &schema, &decode_ctx)?;
                        Ok(RuntimeFilter { expr, helper })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Arc::new(RuntimeFilterExec::new(input.clone(), filters)))
            }
            Some(Node::PartitionId(p)) => {
                let [input] = inputs else { return Err(codec_err("a projection has one input")) };
                if p.names.len() != p.exprs.len() {
                    return Err(codec_err("a projection needs one name per expression"));
                }
                let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
                let schema = input.schema();
                let exprs = p
                    .exprs
                    .iter()
                    .zip(p.names)
                    .map(|(e, alias)| {
                        let expr = proto_converter.proto_to_physical_expr(e, &schema, &decode_ctx)?;
                        Ok(ProjectionExpr { expr, alias })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Arc::new(PartitionIdExec::new(Arc::new(ProjectionExec::try_new(exprs, input.clone())?))))
            }
            Some(Node::PythonMap(m)) => {
                let [input] = inputs else { return Err(codec_err("a Python map has one input")) };
                let schema = m.schema.as_ref().ok_or_else(|| codec_err("a Python map needs its schema"))?;
                let schema: Schema = schema.try_into().map_err(codec_err)?;
                let spec = MapSpec {
                    name: m.name,
                    task: task_from_proto(m.task)?,
                    keys: m.grouped.then(|| m.keys.iter().map(|&k| k as usize).collect()),
                    wrap_input: m.wrap_input,
                    aggregate: m.aggregate,
                };
                Ok(Arc::new(PythonMapExec::new(input.clone(), spec, Arc::new(schema))))
            }
            Some(Node::PythonEval(e)) => {
                let [input] = inputs else { return Err(codec_err("a Python UDF has one input")) };
                let udf = e.udf.ok_or_else(|| codec_err("a Python UDF node needs its function"))?;
                let udf = python_udf_from_proto(&e.function, udf)?;
                let decode_ctx = PhysicalPlanDecodeContext::new(ctx, self);
                let schema = input.schema();
                let args = e
                    .args
                    .iter()
                    .map(|a| proto_converter.proto_to_physical_expr(a, &schema, &decode_ctx))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Arc::new(PythonEvalExec::try_new(input.clone(), udf, args, &e.name)?))
            }
            Some(Node::SliceBatches(slices)) => {
                let [input] = inputs else { return Err(codec_err("a batch slicer has one input")) };
                Ok(Arc::new(SliceBatchesExec::new(input.clone(), slices as usize)))
            }
            Some(Node::Range(r)) => {
                let spec = RangeSpec { start: r.start, end: r.end, step: r.step, partitions: None };
                Ok(Arc::new(RangeExec::new(spec, r.slices as usize, r.with_id)))
            }
            None => Err(codec_err("empty extension node")),
        }
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        let inner: &dyn std::any::Any = node.inner().as_ref();
        if let Some(udf) = inner.downcast_ref::<PythonUdf>() {
            buf.extend_from_slice(PYTHON_UDF);
            return python_udf_to_proto(udf)?.encode(buf).map_err(codec_err);
        }
        if DATAFUSION_FUNCTIONS.get(node.name()).is_some_and(|f| impl_type(f) == impl_type(node)) {
            buf.extend_from_slice(DATAFUSION_FUNCTION);
        }
        Ok(())
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        if let Some(msg) = buf.strip_prefix(PYTHON_UDF) {
            return python_udf_from_proto(name, PythonUdfNode::decode(msg).map_err(codec_err)?);
        }
        match DATAFUSION_FUNCTIONS.get(name) {
            Some(f) if buf == DATAFUSION_FUNCTION => Ok(f.clone()),
            _ => Err(DataFusionError::Plan(format!("unknown function {name} in a stage plan"))),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let any = node.as_ref() as &dyn std::any::Any;
        let msg = if let Some(w) = any.downcast_ref::<ShuffleWriterExec>() {
            let partitioning =
                w.partitioning().map(|p| serialize_partitioning(p, self, proto_converter)).transpose()?;
            let compression = match w.compression() {
                Some(CompressionType::LZ4_FRAME) => "lz4",
                Some(CompressionType::ZSTD) => "zstd",
                _ => "",
            };
            Node::Writer(WriterNode { shuffle_id: w.shuffle_id(), partitioning, compression: compression.into() })
        } else if let Some(r) = any.downcast_ref::<ShuffleReaderExec>() {
            let schema = protobuf::Schema::try_from(r.schema().as_ref()).map_err(codec_err)?;
            Node::Reader(ReaderNode {
                shuffle_id: r.shuffle_id(),
                stage_id: r.stage_id(),
                schema: Some(schema),
                whole: r.kind() == ReaderKind::Whole,
                partitions: r.partitions() as u32,
                locations: r.locations().to_vec(),
            })
        } else if let Some(f) = any.downcast_ref::<RuntimeFilterExec>() {
            let filters = f.filters();
            Node::RuntimeFilter(RuntimeFilterNode {
                filters: filters
                    .iter()
                    .map(|f| proto_converter.physical_expr_to_proto(&f.expr, self))
                    .collect::<Result<_>>()?,
                helpers: filters.iter().map(|f| f.helper).collect(),
            })
        } else if let Some(p) = any.downcast_ref::<PartitionIdExec>() {
            let exprs = p.projection().expr();
            Node::PartitionId(PartitionIdNode {
                exprs: exprs
                    .iter()
                    .map(|e| proto_converter.physical_expr_to_proto(&e.expr, self))
                    .collect::<Result<_>>()?,
                names: exprs.iter().map(|e| e.alias.clone()).collect(),
            })
        } else if let Some(m) = any.downcast_ref::<PythonMapExec>() {
            let spec = m.spec();
            Node::PythonMap(PythonMapNode {
                name: spec.name.clone(),
                task: Some(task_to_proto(&spec.task)),
                grouped: spec.keys.is_some(),
                keys: spec.keys.iter().flatten().map(|&k| k as u32).collect(),
                wrap_input: spec.wrap_input,
                aggregate: spec.aggregate,
                schema: Some(protobuf::Schema::try_from(m.schema().as_ref()).map_err(codec_err)?),
            })
        } else if let Some(e) = any.downcast_ref::<PythonEvalExec>() {
            let inner: &dyn std::any::Any = e.udf().inner().as_ref();
            let udf = inner.downcast_ref::<PythonUdf>().ok_or_else(|| codec_err("not a Python UDF"))?;
            Node::PythonEval(PythonEvalNode {
                function: e.udf().name().to_string(),
                udf: Some(python_udf_to_proto(udf)?),
                args: e
                    .args()
                    .iter()
                    .map(|a| proto_converter.physical_expr_to_proto(a, self))
                    .collect::<Result<_>>()?,
                name: e.name().to_string(),
            })
        } else if let Some(s) = any.downcast_ref::<SliceBatchesExec>() {
            Node::SliceBatches(s.slices() as u32)
        } else if let Some(r) = any.downcast_ref::<RangeExec>() {
            let RangeSpec { start, end, step, .. } = r.spec();
            Node::Range(RangeNode { start, end, step, slices: r.slices() as u64, with_id: r.with_id() })
        } else {
            return Err(DataFusionError::NotImplemented(format!("{} cannot run on executors yet", node.name())));
        };
        ExtensionNode { node: Some(msg) }.encode(buf).map_err(codec_err)
    }
}

/// A stage plan as bytes.
pub fn encode_plan(plan: Arc<dyn ExecutionPlan>) -> Result<Vec<u8>> {
    Ok(datafusion_proto::bytes::physical_plan_to_bytes_with_proto_converter(
        plan,
        &EmberCodec,
        &DeduplicatingProtoConverter {},
    )?
    .to_vec())
}

/// A stage plan from bytes, its functions resolved in `ctx`.
pub fn decode_plan(bytes: &[u8], ctx: &TaskContext) -> Result<Arc<dyn ExecutionPlan>> {
    // Deduplicating keeps a dynamic filter one expression, shared by the
    // operator that fills it and the scans that read it.
    datafusion_proto::bytes::physical_plan_from_bytes_with_proto_converter(
        bytes,
        ctx,
        &EmberCodec,
        &DeduplicatingProtoConverter {},
    )
}
