//! Connect commands: `spark.sql` statements, `df.write`, temp views.

use std::sync::Arc;

use datafusion::arrow::ipc::writer::StreamWriter;
use ember_common::SparkError;
use spark_connect_proto::command::CommandType;
use spark_connect_proto::relation::RelType;
use spark_connect_proto::{Command, Relation};

use crate::error::{Result, analysis};
use crate::plan::Planner;
use crate::session::SparkSession;
use crate::sql::SqlOutcome;

/// What a command produced for the client.
pub enum CommandOutcome {
    /// `spark.sql`: the relation the client's DataFrame stands for.
    SqlResult(Relation),
    /// `localCheckpoint`/`checkpoint`: the id of the checkpointed rows.
    Checkpoint(String),
    /// The command ran and has no result.
    Done,
}

pub async fn run(session: &SparkSession, cmd: &Command) -> Result<CommandOutcome> {
    let Some(t) = &cmd.command_type else {
        return Err(analysis("command without a type"));
    };
    match t {
        CommandType::SqlCommand(s) => sql_command(session, s).await,
        CommandType::WriteOperation(w) => {
            crate::write::write(session, w).await?;
            Ok(CommandOutcome::Done)
        }
        CommandType::CreateDataframeView(v) => {
            let mut planner = Planner::new(session);
            let input = v.input.as_ref().ok_or_else(|| analysis("createTempView without input"))?;
            let plan = planner.relation(input).await?;
            if v.is_global {
                crate::catalog::create_global_temp_view(&v.name, plan, v.replace)?;
            } else {
                crate::catalog::create_temp_view(session, &v.name, plan, v.replace)?;
            }
            Ok(CommandOutcome::Done)
        }
        CommandType::RegisterFunction(f) => {
            crate::python::register(session, f)?;
            Ok(CommandOutcome::Done)
        }
        CommandType::CheckpointCommand(c) => {
            let rel = c.relation.as_ref().ok_or_else(|| analysis("checkpoint without a relation"))?;
            Ok(CommandOutcome::Checkpoint(session.cache.checkpoint(session, rel, c.local).await?))
        }
        CommandType::RemoveCachedRemoteRelationCommand(c) => {
            if let Some(r) = &c.relation {
                session.cache.remove_checkpoint(session, &r.relation_id)?;
            }
            Ok(CommandOutcome::Done)
        }
        other => {
            let dbg = format!("{other:?}");
            Err(SparkError::unsupported(format!("the command {}", dbg.split('(').next().unwrap_or("?"))).into())
        }
    }
}

async fn sql_command(session: &SparkSession, s: &spark_connect_proto::SqlCommand) -> Result<CommandOutcome> {
    // 4.x sends the query as an input `sql` relation; older clients inline it.
    let relation = match &s.input {
        Some(r) => r.clone(),
        None => {
            #[allow(deprecated)]
            let sql = spark_connect_proto::Sql {
                query: s.sql.clone(),
                args: s.args.clone(),
                pos_args: s.pos_args.clone(),
                named_arguments: s.named_arguments.clone(),
                pos_arguments: s.pos_arguments.clone(),
            };
            Relation { common: None, rel_type: Some(RelType::Sql(sql)) }
        }
    };
    let Some(RelType::Sql(sql)) = &relation.rel_type else {
        return Ok(CommandOutcome::SqlResult(relation));
    };
    let mut planner = Planner::new(session);
    match crate::sql::run_command(&mut planner, &sql.query).await? {
        SqlOutcome::Query => Ok(CommandOutcome::SqlResult(relation)),
        SqlOutcome::Done(plan) => {
            let schema = Arc::new(plan.schema().as_arrow().clone());
            let batches = planner.collect(plan).await?;
            let mut buf = vec![];
            {
                let mut w = StreamWriter::try_new(&mut buf, &schema)?;
                for b in &batches {
                    w.write(b)?;
                }
                w.finish()?;
            }
            let local = spark_connect_proto::LocalRelation { data: Some(buf.into()), schema: None };
            Ok(CommandOutcome::SqlResult(Relation { common: None, rel_type: Some(RelType::LocalRelation(local)) }))
        }
    }
}
