//! Results as the client reads them: Arrow IPC streams of batches whose
//! types are ones the PySpark client knows (view types, unsigned ints and
//! nanosecond timestamps are converted to Spark's types).

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::ipc::writer::StreamWriter;

/// The Arrow type the client receives for `t`.
pub fn client_type(t: &DataType, tz: &str) -> DataType {
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary | DataType::FixedSizeBinary(_) => DataType::Binary,
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::UInt64 => DataType::Decimal128(20, 0),
        DataType::Float16 => DataType::Float32,
        DataType::Date64 => DataType::Date32,
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) => DataType::Decimal128(*p, *s),
        DataType::Timestamp(_, Some(_)) => DataType::Timestamp(TimeUnit::Microsecond, Some(tz.into())),
        DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::Dictionary(_, v) => client_type(v, tz),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => DataType::List(client_field(f, tz)),
        DataType::Struct(fields) => DataType::Struct(fields.iter().map(|f| client_field(f, tz)).collect()),
        DataType::Map(entries, sorted) => DataType::Map(client_field(entries, tz), *sorted),
        other => other.clone(),
    }
}

fn client_field(f: &FieldRef, tz: &str) -> FieldRef {
    Arc::new(Field::new(f.name(), client_type(f.data_type(), tz), f.is_nullable()))
}

pub fn client_schema(s: &Schema, tz: &str) -> SchemaRef {
    Arc::new(Schema::new(
        s.fields()
            .iter()
            .map(|f| {
                let client = Field::new(f.name(), client_type(f.data_type(), tz), f.is_nullable());
                // An interval's fields (`interval day`) ride in its metadata.
                match ember_sql::interval::Interval::of_field(f) {
                    Some(i) if client.data_type() == f.data_type() => client.with_metadata(i.metadata()),
                    _ => client,
                }
            })
            .collect::<Vec<_>>(),
    ))
}

/// The schema result batches carry: every field nullable, so all batches of
/// a result share one schema (the declared nullability travels in the
/// Spark schema message).
pub fn batch_schema(schema: &SchemaRef) -> SchemaRef {
    Arc::new(Schema::new(schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>()))
}

/// Converts a batch to the client schema.
pub fn to_client(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let cols: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| if c.data_type() == f.data_type() { Ok(c.clone()) } else { cast(c, f.data_type()) })
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new_with_options(
        batch_schema(schema),
        cols,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}

/// One complete IPC stream (schema + batches).
pub fn ipc_stream(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>, ArrowError> {
    let mut buf = vec![];
    {
        let mut w = StreamWriter::try_new(&mut buf, schema)?;
        for b in batches {
            w.write(b)?;
        }
        w.finish()?;
    }
    Ok(buf)
}
