//! `createDataFrame` data: a `LocalRelation` of Arrow IPC bytes plus a
//! Spark schema (JSON or DDL) that names and types the columns.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, RecordBatchOptions, new_null_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::logical_expr::LogicalPlan;
use spark_connect_proto as sc;

use super::Planner;
use crate::error::Result;

impl Planner<'_> {
    pub(super) fn local_relation(&mut self, l: &sc::LocalRelation) -> Result<LogicalPlan> {
        let (schema, batches) = self.local_batches(l)?;
        self.batches_plan(schema, batches)
    }

    fn local_batches(
        &mut self,
        l: &sc::LocalRelation,
    ) -> Result<(SchemaRef, Vec<datafusion::arrow::array::RecordBatch>)> {
        let tz = self.session.time_zone();
        let declared: Option<Schema> = match l.schema.as_deref().map(str::trim) {
            Some(s) if s.starts_with('{') => Some(crate::types::parse_json_schema(s, &tz)?),
            Some(s) if !s.is_empty() => Some(crate::types::parse_ddl_schema(s, &tz)?),
            _ => None,
        };
        let mut batches = vec![];
        let mut data_schema: Option<SchemaRef> = None;
        if let Some(data) = &l.data {
            let reader = StreamReader::try_new(Cursor::new(data.as_ref()), None)?;
            data_schema = Some(reader.schema());
            for b in reader {
                batches.push(b?);
            }
        }
        let (schema, batches) = match (declared, data_schema) {
            (Some(decl), Some(_)) => {
                let decl = Arc::new(decl);
                let cast_batches = batches.iter().map(|b| conform(b, &decl)).collect::<Result<Vec<_>>>()?;
                (decl, cast_batches)
            }
            (Some(decl), None) => (Arc::new(decl), vec![]),
            (None, Some(s)) => (s, batches),
            (None, None) => (Arc::new(Schema::empty()), vec![]),
        };
        Ok((schema, batches))
    }
}

impl Planner<'_> {
    /// Large `createDataFrame` data: Arrow IPC chunks (and the schema)
    /// uploaded as `cache/<hash>` artifacts.
    pub(super) fn chunked_local_relation(&mut self, c: &sc::ChunkedCachedLocalRelation) -> Result<LogicalPlan> {
        let artifact = |hash: &str| -> Result<Vec<u8>> {
            let store = self.session.artifacts.lock().map_err(|_| crate::error::analysis("artifact store poisoned"))?;
            store.get(&format!("cache/{hash}")).cloned().ok_or_else(|| {
                ember_common::SparkError::with_class(
                    ember_common::ExceptionClass::Runtime,
                    "CACHE_NOT_FOUND",
                    "HY000",
                    format!("Cached artifact {hash} of a local relation is not on the server."),
                )
                .into()
            })
        };
        let schema = c
            .schema_hash
            .as_deref()
            .map(|h| artifact(h).map(|b| String::from_utf8_lossy(&b).to_string()))
            .transpose()?;
        let mut data = vec![];
        for h in &c.data_hashes {
            data.push(artifact(h)?);
        }
        let mut plans = vec![];
        for d in data {
            plans.push(sc::LocalRelation { data: Some(d.into()), schema: schema.clone() });
        }
        let mut batches = vec![];
        let mut out_schema = None;
        for l in &plans {
            let (s, b) = self.local_batches(l)?;
            out_schema = Some(s);
            batches.extend(b);
        }
        match out_schema {
            Some(s) => self.batches_plan(s, batches),
            None => self.local_relation(&sc::LocalRelation { data: None, schema }),
        }
    }
}

/// Renames the batch's columns to `schema`'s (by position) and casts them
/// to its types; missing columns become nulls.
fn conform(b: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let mut cols = vec![];
    let mut fields: Vec<Field> = vec![];
    for (i, f) in schema.fields().iter().enumerate() {
        let col = match b.columns().get(i) {
            Some(c) if c.data_type() == f.data_type() => c.clone(),
            Some(c) => cast(c, f.data_type())?,
            None => new_null_array(f.data_type(), b.num_rows()),
        };
        // Arrow rejects nulls in a non-nullable field; Spark checks this at
        // createDataFrame time, so the declared nullability is kept only
        // when the data agrees.
        let nullable = f.is_nullable() || col.null_count() > 0;
        fields.push(f.as_ref().clone().with_nullable(nullable));
        cols.push(col);
    }
    let out_schema = Arc::new(Schema::new(fields));
    let opts = RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
    Ok(RecordBatch::try_new_with_options(out_schema, cols, &opts)?)
}
