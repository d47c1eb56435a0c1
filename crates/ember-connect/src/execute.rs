//! `ExecutePlan`: a root relation streams Arrow batches; a command runs
//! and reports its result. Every response carries the session and
//! operation ids and a unique response id; the last is `ResultComplete`.

use std::sync::Arc;

use arrow::array::RecordBatch;
use futures::StreamExt;
use spark_connect_proto::execute_plan_response::{ArrowBatch, ResponseType, ResultComplete, SqlCommandResult};
use spark_connect_proto::plan::OpType;
use spark_connect_proto::{ExecutePlanResponse, Plan};

use crate::arrow_out;
use crate::operation::Operation;
use crate::sessions::Session;

/// Rows per ArrowBatch message (the client reassembles them).
const MAX_ROWS_PER_MESSAGE: usize = 32 * 1024;
/// Bytes per ArrowBatch message, well under the gRPC message limit.
const MAX_BYTES_PER_MESSAGE: usize = 4 << 20;

pub struct Responder {
    session: Arc<Session>,
    op: Arc<Operation>,
}

impl Responder {
    fn send(&self, response_type: Option<ResponseType>, schema: Option<spark_connect_proto::DataType>) {
        self.op.push(ExecutePlanResponse {
            session_id: self.session.session_id.clone(),
            server_side_session_id: self.session.server_side_session_id.clone(),
            operation_id: self.op.operation_id.clone(),
            response_id: uuid::Uuid::new_v4().to_string(),
            response_type,
            schema,
            ..Default::default()
        });
    }
}

/// Runs the plan to completion, pushing responses into the operation.
pub async fn run(session: Arc<Session>, op: Arc<Operation>, plan: Plan) {
    let r = Responder { session: session.clone(), op: op.clone() };
    let result = match plan.op_type {
        Some(OpType::Root(rel)) => stream_relation(&r, &rel).await,
        Some(OpType::Command(cmd)) => run_command(&r, &cmd).await,
        Some(OpType::CompressedOperation(_)) => Err(ember_common::SparkError::unsupported("compressed plans").into()),
        None => Err(ember_sql::error::analysis("plan without a relation or command")),
    };
    match result {
        Ok(()) => {
            r.send(Some(ResponseType::ResultComplete(ResultComplete {})), None);
            op.finish(None);
        }
        Err(e) => {
            let spark = ember_sql::error::classify(&e);
            tracing::debug!(error = %spark.message, "operation failed");
            let id = session.remember_error(spark.clone());
            op.finish(Some(crate::status::to_status(&spark, Some(&id))));
        }
    }
}

async fn run_command(r: &Responder, cmd: &spark_connect_proto::Command) -> ember_sql::Result<()> {
    match ember_sql::command::run(&r.session.spark, cmd).await? {
        ember_sql::command::CommandOutcome::SqlResult(relation) => {
            r.send(Some(ResponseType::SqlCommandResult(SqlCommandResult { relation: Some(relation) })), None);
        }
        ember_sql::command::CommandOutcome::Checkpoint(relation_id) => {
            let relation = spark_connect_proto::CachedRemoteRelation { relation_id };
            r.send(
                Some(ResponseType::CheckpointCommandResult(spark_connect_proto::CheckpointCommandResult {
                    relation: Some(relation),
                })),
                None,
            );
        }
        ember_sql::command::CommandOutcome::Done => {}
    }
    Ok(())
}

async fn stream_relation(r: &Responder, rel: &spark_connect_proto::Relation) -> ember_sql::Result<()> {
    let spark = &r.session.spark;
    let mut planner = ember_sql::Planner::new(spark);
    let plan = spark.analyzed(planner.relation(rel).await?)?;
    let tz = spark.time_zone();
    let schema = arrow_out::client_schema(plan.schema().as_arrow(), &tz);
    r.send(None, Some(ember_sql::types::schema_to_spark(&schema)?));

    // Spark returns rows in partition order: merge partitions in order.
    let mut stream = spark.execute(plan).await?;
    let mut offset: i64 = 0;
    let mut pending: Vec<RecordBatch> = vec![];
    let mut pending_rows = 0usize;
    let mut pending_bytes = 0usize;
    let mut sent_any = false;
    while let Some(batch) = stream.next().await {
        let batch = arrow_out::to_client(&batch?, &schema)?;
        if batch.num_rows() == 0 {
            continue;
        }
        pending_rows += batch.num_rows();
        pending_bytes += batch.get_array_memory_size();
        pending.push(batch);
        if pending_rows >= MAX_ROWS_PER_MESSAGE || pending_bytes >= MAX_BYTES_PER_MESSAGE {
            offset = send_batches(r, &schema, std::mem::take(&mut pending), offset)?;
            pending_rows = 0;
            pending_bytes = 0;
            sent_any = true;
        }
    }
    if !pending.is_empty() || !sent_any {
        send_batches(r, &schema, pending, offset)?;
    }
    send_observed_metrics(r, planner.take_observed()).await
}

/// `df.observe(...)`: each observation's metrics, once the rows went out.
async fn send_observed_metrics(r: &Responder, observed: Vec<ember_sql::plan::Observed>) -> ember_sql::Result<()> {
    if observed.is_empty() {
        return Ok(());
    }
    let mut metrics = vec![];
    for o in observed {
        let keys: Vec<String> = o.metrics.schema().fields().iter().map(|f| f.name().clone()).collect();
        let batches = r.session.spark.collect(o.metrics).await?;
        let mut values = vec![];
        if let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) {
            for column in batch.columns() {
                let v = datafusion::common::ScalarValue::try_from_array(column, 0)?;
                values.push(ember_sql::literal::to_proto(&v)?);
            }
        }
        metrics.push(spark_connect_proto::execute_plan_response::ObservedMetrics {
            name: o.name,
            values,
            keys,
            plan_id: o.plan_id,
            ..Default::default()
        });
    }
    r.op.push(ExecutePlanResponse {
        session_id: r.session.session_id.clone(),
        server_side_session_id: r.session.server_side_session_id.clone(),
        operation_id: r.op.operation_id.clone(),
        response_id: uuid::Uuid::new_v4().to_string(),
        observed_metrics: metrics,
        ..Default::default()
    });
    Ok(())
}

fn send_batches(
    r: &Responder,
    schema: &arrow::datatypes::SchemaRef,
    batches: Vec<RecordBatch>,
    offset: i64,
) -> ember_sql::Result<i64> {
    // The client needs one batch even for zero rows.
    let batches =
        if batches.is_empty() { vec![RecordBatch::new_empty(arrow_out::batch_schema(schema))] } else { batches };
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let batch_schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| schema.clone());
    let batches =
        if batches.len() > 1 { vec![arrow::compute::concat_batches(&batch_schema, &batches)?] } else { batches };
    let data = arrow_out::ipc_stream(&batch_schema, &batches)?;
    r.send(
        Some(ResponseType::ArrowBatch(ArrowBatch {
            row_count: rows as i64,
            data: data.into(),
            start_offset: Some(offset),
            chunk_index: None,
            num_chunks_in_batch: None,
        })),
        None,
    );
    Ok(offset + rows as i64)
}
