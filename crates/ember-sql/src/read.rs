//! `spark.read` and `spark.table`: csv, json, parquet and text files with
//! Spark's options, and named tables and views.
//!
//! CSV is read as strings and typed afterwards, which gives Spark's
//! semantics in one place: `inferSchema` (int before bigint before double,
//! then boolean, date, timestamp, else string over *all* rows) and the
//! parse modes (PERMISSIVE nulls a bad field, DROPMALFORMED drops its row,
//! FAILFAST fails naming the record).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::common::{Column, ScalarValue};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::options::JsonReadOptions;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, ScalarUDF, lit, try_cast};
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions};
use ember_common::{ExceptionClass, SparkError};
use spark_connect_proto::Read;
use spark_connect_proto::read::{DataSource, NamedTable, ReadType};

use crate::error::{Result, analysis};
use crate::expr::NamedExpr;
use crate::plan::Planner;

/// Reader options with Spark's case-insensitive keys.
pub struct Options(HashMap<String, String>);

impl Options {
    pub fn new<'a>(it: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        Self(it.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect())
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(&k.to_ascii_lowercase()).map(String::as_str)
    }
    pub fn bool(&self, k: &str, default: bool) -> Result<bool> {
        match self.get(k) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(SparkError::illegal_argument(format!("{k} flag can be true or false, but was {v}")).into()),
        }
    }
    pub fn char(&self, keys: &[&str], default: Option<u8>) -> Result<Option<u8>> {
        for k in keys {
            if let Some(v) = self.get(k) {
                let v = match v {
                    "\\t" => "\t",
                    other => other,
                };
                return match v.as_bytes() {
                    [] => Ok(None),
                    [b] => Ok(Some(*b)),
                    _ => {
                        Err(SparkError::illegal_argument(format!("{k} cannot be more than one character: {v}")).into())
                    }
                };
            }
        }
        Ok(default)
    }
}

pub async fn read(planner: &mut Planner<'_>, r: &Read) -> Result<LogicalPlan> {
    if r.is_streaming {
        return Err(SparkError::unsupported("streaming reads").into());
    }
    match &r.read_type {
        Some(ReadType::NamedTable(t)) => named_table(planner, t).await,
        Some(ReadType::DataSource(d)) => data_source(planner, d).await,
        None => Err(analysis("read without a source")),
    }
}

async fn named_table(planner: &mut Planner<'_>, t: &NamedTable) -> Result<LogicalPlan> {
    use datafusion::common::TableReference;
    let parts = crate::expr::parse_identifier(&t.unparsed_identifier)?;
    let name = parts.last().cloned().unwrap_or_default();
    // Names are looked up in lower case: a temp view, `db.t`, `global_temp.v`
    // or `spark_catalog.db.t`.
    let lower: Vec<String> = parts.iter().map(|p| p.to_lowercase()).collect();
    let reference = match lower.as_slice() {
        [t] => TableReference::bare(t.as_str()),
        [db, t] => TableReference::partial(db.as_str(), t.as_str()),
        [cat, db, t] => TableReference::full(cat.as_str(), db.as_str(), t.as_str()),
        _ => return Err(SparkError::table_not_found(&t.unparsed_identifier).into()),
    };
    match planner.session.ctx().table(reference).await {
        Ok(df) => {
            let plan = df.into_unoptimized_plan();
            Ok(LogicalPlanBuilder::from(plan).alias(name.as_str())?.build()?)
        }
        Err(_) => Err(SparkError::table_not_found(&t.unparsed_identifier).into()),
    }
}

async fn data_source(planner: &mut Planner<'_>, d: &DataSource) -> Result<LogicalPlan> {
    let format = d
        .format
        .clone()
        .or_else(|| planner.session.conf_get("spark.sql.sources.default"))
        .unwrap_or_else(|| "parquet".into());
    let opts = Options::new(&d.options);
    let mut paths: Vec<String> = d.paths.clone();
    if paths.is_empty() {
        if let Some(p) = opts.get("path") {
            paths.push(p.to_string());
        }
    }
    if paths.is_empty() {
        return Err(unable_to_infer(&format));
    }
    for p in &paths {
        check_exists(p)?;
    }
    let tz = planner.session.time_zone();
    let user_schema = d.schema.as_deref().filter(|s| !s.trim().is_empty()).map(|s| {
        if s.trim_start().starts_with('{') {
            crate::types::parse_json_schema(s, &tz)
        } else {
            crate::types::parse_ddl_schema(s, &tz)
        }
    });
    let user_schema = user_schema.transpose()?;
    // Partition columns the schema names take its types (a STRING
    // partition `007` stays text); the rest of the schema is the files'.
    let parts = partition_columns(&paths, user_schema.as_ref());
    let user_schema = user_schema.map(|s| {
        Schema::new(
            s.fields().iter().filter(|f| !parts.iter().any(|(p, _)| p == f.name())).cloned().collect::<Vec<_>>(),
        )
    });
    // Directories without data: with a schema, an empty DataFrame; without
    // one, nothing to infer a schema from (text needs none).
    if parts.is_empty() && !format.eq_ignore_ascii_case("text") && without_data(&paths) {
        let Some(schema) = &user_schema else { return Err(unable_to_infer(&format)) };
        let plan = planner.batches_plan(Arc::new(schema.clone()), vec![])?;
        let alias = planner.fresh_alias();
        return Ok(LogicalPlanBuilder::from(plan).alias(alias)?.build()?);
    }
    let plan = match format.to_ascii_lowercase().as_str() {
        "csv" => read_csv(planner, &paths, &opts, user_schema, parts).await?,
        "json" => read_json(planner, &paths, &opts, user_schema, parts).await?,
        "parquet" => read_parquet(planner, &paths, &opts, user_schema, parts).await?,
        "text" => read_text(planner, &paths, &opts, user_schema.as_ref()).await?,
        other => {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "DATA_SOURCE_NOT_FOUND",
                "42K02",
                format!("Failed to find the data source: {other}."),
            )
            .into());
        }
    };
    let alias = planner.fresh_alias();
    Ok(LogicalPlanBuilder::from(plan).alias(alias)?.build()?)
}

fn unable_to_infer(format: &str) -> crate::error::Error {
    SparkError::with_class(
        ExceptionClass::Analysis,
        "UNABLE_TO_INFER_SCHEMA",
        "42KD9",
        format!("Unable to infer schema for {}. It must be specified manually.", format.to_uppercase()),
    )
    .into()
}

fn check_exists(p: &str) -> Result<()> {
    let local = p.strip_prefix("file://").unwrap_or(p);
    if local.contains("://") {
        return Ok(());
    }
    if local.contains(['*', '?', '[']) {
        let parent = Path::new(local).parent().filter(|x| !x.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if parent.to_string_lossy().contains(['*', '?', '[']) || parent.exists() {
            return Ok(());
        }
    } else if Path::new(local).exists() {
        return Ok(());
    }
    let abs = std::path::absolute(local).map(|a| a.display().to_string()).unwrap_or_else(|_| local.to_string());
    Err(SparkError::path_not_found(&format!("file:{abs}")).into())
}

/// `k=v` directories under a path: Spark's partition discovery. A column
/// `declared` names has its type; the others are int, bigint or string,
/// whichever holds every value.
fn partition_columns(paths: &[String], declared: Option<&Schema>) -> Vec<(String, DataType)> {
    let Some(first) = paths.first() else { return vec![] };
    let mut cols: Vec<(String, Vec<String>)> = vec![];
    let mut dir = std::path::PathBuf::from(first.strip_prefix("file://").unwrap_or(first));
    if !dir.is_dir() {
        return vec![];
    }
    loop {
        let Ok(entries) = std::fs::read_dir(&dir) else { break };
        let sub: Vec<(String, String, std::path::PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                let (k, v) = n.split_once('=')?;
                Some((k.to_string(), v.to_string(), e.path()))
            })
            .collect();
        let Some((k, _, next)) = sub.first().cloned() else { break };
        cols.push((k, sub.iter().map(|s| s.1.clone()).collect()));
        dir = next;
    }
    cols.into_iter()
        .map(|(k, values)| {
            if let Some(f) = declared.and_then(|s| s.fields().iter().find(|f| f.name() == &k)) {
                return (k, f.data_type().clone());
            }
            let t = if values.iter().all(|v| v.parse::<i32>().is_ok()) {
                DataType::Int32
            } else if values.iter().all(|v| v.parse::<i64>().is_ok()) {
                DataType::Int64
            } else {
                DataType::Utf8
            };
            (k, t)
        })
        .collect()
}

fn extension(paths: &[String], default: &'static str) -> &'static str {
    if paths.iter().all(|p| Path::new(p.strip_prefix("file://").unwrap_or(p)).is_dir()) { default } else { "" }
}

async fn read_parquet(
    planner: &mut Planner<'_>,
    paths: &[String],
    opts: &Options,
    schema: Option<Schema>,
    parts: Vec<(String, DataType)>,
) -> Result<LogicalPlan> {
    // `mergeSchema`: the union of every path's columns (DataFusion infers
    // the schema of several paths from the first; within one path it
    // merges the files' schemas already).
    let merge_default = planner.session.conf_get("spark.sql.parquet.mergeSchema").is_some_and(|v| v == "true");
    let schema = match schema {
        None if paths.len() > 1 && opts.bool("mergeSchema", merge_default)? => {
            let mut schemas = vec![];
            for p in paths {
                let mut one = ParquetReadOptions::default();
                one.file_extension = extension(std::slice::from_ref(p), ".parquet");
                let df = planner.session.ctx().read_parquet(p.as_str(), one).await?;
                schemas.push(df.schema().as_arrow().clone());
            }
            Some(Schema::try_merge(schemas)?)
        }
        other => other,
    };
    let mut o = ParquetReadOptions::default();
    o.table_partition_cols = parts;
    o.file_extension = extension(paths, ".parquet");
    o.schema = schema.as_ref();
    let df = planner.session.ctx().read_parquet(paths.to_vec(), o).await?;
    Ok(df.into_unoptimized_plan())
}

async fn read_json(
    planner: &mut Planner<'_>,
    paths: &[String],
    opts: &Options,
    schema: Option<Schema>,
    parts: Vec<(String, DataType)>,
) -> Result<LogicalPlan> {
    let mut o = JsonReadOptions::default();
    o.file_extension = extension(paths, ".json");
    o.table_partition_cols = parts;
    o.schema = schema.as_ref();
    o.schema_infer_max_records = 1_000_000;
    o.newline_delimited = !opts.bool("multiLine", false)?;
    if let Some(c) = opts.get("compression") {
        o.file_compression_type = compression(c)?;
    }
    let multi_line = !o.newline_delimited;
    let df = match planner.session.ctx().read_json(paths.to_vec(), o).await {
        Ok(df) => df,
        // Lines that are no JSON object in local, uncompressed files:
        // Spark's parse modes apply.
        Err(e)
            if !multi_line
                && schema.is_none()
                && opts.get("compression").is_none()
                && paths.iter().all(|p| !p.strip_prefix("file://").unwrap_or(p).contains("://"))
                && is_json_error(&e) =>
        {
            return read_json_lines(planner, paths, opts);
        }
        Err(e) => return Err(e.into()),
    };
    let mut plan = df.into_unoptimized_plan();
    if multi_line {
        plan = driver_only(plan, "multi-line JSON")?;
    }
    if schema.is_some() {
        return Ok(plan);
    }
    // Spark orders inferred JSON fields by name.
    let mut cols = plan.schema().columns();
    cols.sort_by(|a, b| a.name.cmp(&b.name));
    let exprs: Vec<NamedExpr> = cols
        .into_iter()
        .map(|c| {
            let n = c.name.clone();
            NamedExpr::new(Expr::Column(c), n)
        })
        .collect();
    planner.project_named(plan, exprs)
}

fn is_json_error(e: &datafusion::error::DataFusionError) -> bool {
    matches!(e.find_root(), datafusion::error::DataFusionError::ArrowError(a, _)
        if matches!(a.as_ref(), datafusion::arrow::error::ArrowError::JsonError(_)))
}

/// JSON lines with malformed ones, read here with Spark's parse modes:
/// PERMISSIVE keeps a bad line whole in the corrupt-record column
/// (`_corrupt_record`, or `columnNameOfCorruptRecord`) with the other
/// fields NULL, DROPMALFORMED drops it, FAILFAST fails naming it. The
/// schema is inferred from the good lines, fields in name order.
fn read_json_lines(planner: &mut Planner<'_>, paths: &[String], opts: &Options) -> Result<LogicalPlan> {
    use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, StringArray};
    let mode = parse_mode(opts)?;
    let corrupt = opts.get("columnNameOfCorruptRecord").unwrap_or("_corrupt_record").to_string();
    let mut rows: Vec<(String, bool)> = vec![];
    let mut good = vec![];
    for f in list_files(paths)? {
        for line in std::fs::read_to_string(&f)?.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(v @ serde_json::Value::Object(_)) => {
                    good.push(v);
                    rows.push((line.to_string(), true));
                }
                // Spark fails while it infers the schema, not naming the file.
                _ if mode == Mode::FailFast => return Err(crate::functions::malformed_record(line).into()),
                _ if mode == Mode::DropMalformed => {}
                _ => rows.push((line.to_string(), false)),
            }
        }
    }
    let inferred = datafusion::arrow::json::reader::infer_json_schema_from_iterator(good.iter().map(Ok))?;
    let mut columns: Vec<(Field, ArrayRef)> = vec![];
    if !inferred.fields().is_empty() {
        let inferred = Arc::new(inferred);
        let mut decoder = datafusion::arrow::json::ReaderBuilder::new(inferred.clone())
            .with_batch_size(rows.len().max(1))
            .with_coerce_primitive(true)
            .build_decoder()?;
        // A bad line is a row of NULLs.
        let text: String =
            rows.iter().map(|(line, ok)| format!("{}\n", if *ok { line.as_str() } else { "{}" })).collect();
        let mut at = 0;
        while at < text.len() {
            let n = decoder.decode(&text.as_bytes()[at..])?;
            if n == 0 {
                break;
            }
            at += n;
        }
        if let Some(batch) = decoder.flush()? {
            columns.extend(inferred.fields().iter().map(|f| f.as_ref().clone()).zip(batch.columns().iter().cloned()));
        }
    }
    if mode == Mode::Permissive {
        let values: StringArray = rows.iter().map(|(line, ok)| (!ok).then_some(line.as_str())).collect();
        columns.push((Field::new(&corrupt, DataType::Utf8, true), Arc::new(values)));
    }
    columns.sort_by(|a, b| a.0.name().cmp(b.0.name()));
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    let schema = Arc::new(Schema::new(fields));
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    let batch = RecordBatch::try_new_with_options(schema.clone(), arrays, &options)?;
    planner.batches_plan(schema, vec![batch])
}

fn compression(c: &str) -> Result<FileCompressionType> {
    Ok(match c.to_ascii_lowercase().as_str() {
        "none" | "uncompressed" => FileCompressionType::UNCOMPRESSED,
        "gzip" => FileCompressionType::GZIP,
        "bzip2" => FileCompressionType::BZIP2,
        "zstd" => FileCompressionType::ZSTD,
        "xz" => FileCompressionType::XZ,
        other => return Err(SparkError::illegal_argument(format!("Codec [{other}] is not available.")).into()),
    })
}

/// Whether every path is a local directory holding nothing but hidden
/// files (`.x`, `_SUCCESS`).
fn without_data(paths: &[String]) -> bool {
    paths.iter().all(|p| {
        let local = p.strip_prefix("file://").unwrap_or(p);
        std::fs::read_dir(local).is_ok_and(|mut entries| {
            entries.all(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with(['.', '_'])))
        })
    })
}

/// `text`: one string column, `value` unless the schema names it.
async fn read_text(
    planner: &mut Planner<'_>,
    paths: &[String],
    opts: &Options,
    user_schema: Option<&Schema>,
) -> Result<LogicalPlan> {
    let name = match user_schema.map(|s| s.fields().iter().collect::<Vec<_>>()) {
        None => "value".to_string(),
        Some(fields) => match fields.as_slice() {
            [f] if f.data_type() == &DataType::Utf8 => f.name().clone(),
            _ => {
                return Err(SparkError::with_class(
                    ExceptionClass::Analysis,
                    "UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE",
                    "0A000",
                    format!(
                        "The Text datasource doesn't support the schema {}: it takes one column of the \"STRING\" type.",
                        fields.iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
                .into());
            }
        },
    };
    let whole = opts.bool("wholetext", false)?;
    let mut values: Vec<String> = vec![];
    for f in list_files(paths)? {
        let text = std::fs::read_to_string(&f)?;
        if whole {
            values.push(text);
        } else {
            values.extend(text.lines().map(str::to_string));
        }
    }
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, true)]));
    let batch = datafusion::arrow::array::RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(datafusion::arrow::array::StringArray::from(values))],
    )?;
    planner.batches_plan(schema, vec![batch])
}

/// The data files of the given paths: a directory's files in name order,
/// without hidden ones (`.x`, `_SUCCESS`).
fn list_files(paths: &[String]) -> Result<Vec<std::path::PathBuf>> {
    let mut files = vec![];
    for p in paths {
        let local = p.strip_prefix("file://").unwrap_or(p);
        if Path::new(local).is_dir() {
            let mut v: Vec<_> = std::fs::read_dir(local)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(['.', '_'])))
                .collect();
            v.sort();
            files.extend(v);
        } else {
            files.push(local.into());
        }
    }
    Ok(files)
}

/// The parse mode of CSV and JSON reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Permissive,
    DropMalformed,
    FailFast,
}

fn parse_mode(opts: &Options) -> Result<Mode> {
    Ok(match opts.get("mode").map(str::to_ascii_uppercase).as_deref() {
        None | Some("PERMISSIVE") => Mode::Permissive,
        Some("DROPMALFORMED") => Mode::DropMalformed,
        Some("FAILFAST") => Mode::FailFast,
        Some(other) => {
            return Err(SparkError::illegal_argument(format!(
                "{other} is not a valid parse mode. Valid modes are PERMISSIVE, DROPMALFORMED and FAILFAST."
            ))
            .into());
        }
    })
}

async fn read_csv(
    planner: &mut Planner<'_>,
    paths: &[String],
    opts: &Options,
    user_schema: Option<Schema>,
    parts: Vec<(String, DataType)>,
) -> Result<LogicalPlan> {
    let header = opts.bool("header", false)?;
    let infer = opts.bool("inferSchema", false)?;
    let sep = opts.char(&["sep", "delimiter"], Some(b','))?.unwrap_or(b',');
    let quote = opts.char(&["quote"], Some(b'"'))?.unwrap_or(b'\0');
    // Spark's default escape is a backslash (\" inside a quoted value).
    let escape = opts.char(&["escape"], Some(b'\\'))?;
    let comment = opts.char(&["comment"], None)?;
    let multiline = opts.bool("multiLine", false)?;
    let null_value = opts.get("nullValue").unwrap_or("").to_string();
    let mode = parse_mode(opts)?;
    if let Some(enc) = opts.get("encoding").or(opts.get("charset")) {
        let e = enc.to_ascii_lowercase().replace(['-', '_'], "");
        if e != "utf8" {
            return Err(SparkError::unsupported(format!("CSV encoding {enc} (only UTF-8 is supported)")).into());
        }
    }

    let mut o = CsvReadOptions::new()
        .has_header(header)
        .delimiter(sep)
        .quote(quote)
        .newlines_in_values(multiline)
        .file_extension(extension(paths, ".csv"))
        .schema_infer_max_records(1000);
    o.escape = escape;
    o.comment = comment;
    o.truncated_rows = true;
    o.null_regex = Some(format!("^{}$", regex::escape(&null_value)));
    if let Some(c) = opts.get("compression") {
        o.file_compression_type = compression(c)?;
    }
    let part_cols = parts;
    o.table_partition_cols = part_cols.clone();

    // First the column names (from the header, or _c0, _c1, ...).
    let probe = planner.session.ctx().read_csv(paths.to_vec(), o.clone()).await?;
    let n_cols = probe.schema().fields().len() - part_cols.len();
    let names: Vec<String> = if header {
        probe.schema().fields().iter().take(n_cols).map(|f| f.name().clone()).collect()
    } else {
        (0..n_cols).map(|i| format!("_c{i}")).collect()
    };
    let string_schema = Schema::new(names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect::<Vec<_>>());
    o.schema = Some(&string_schema);
    let raw = planner.session.ctx().read_csv(paths.to_vec(), o.clone()).await?.into_unoptimized_plan();
    // nullValue (default "") marks nulls; DataFusion's null_regex leaves
    // string columns alone, so apply it here to every read column.
    let nulled: Vec<Expr> = raw
        .schema()
        .columns()
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let name = c.name.clone();
            let e = Expr::Column(c);
            if i < n_cols {
                datafusion::functions::core::expr_fn::nullif(e, lit(null_value.clone())).alias(name)
            } else {
                e
            }
        })
        .collect();
    let raw = LogicalPlanBuilder::from(raw).project(nulled)?.alias(planner.fresh_alias())?.build()?;
    let raw_cols: Vec<Column> = raw.schema().columns();

    let tz = planner.session.time_zone();
    let target: Vec<Field> = match (&user_schema, infer) {
        (Some(s), _) => s.fields().iter().map(|f| f.as_ref().clone()).collect(),
        (None, true) => infer_csv_types(planner, &raw, &raw_cols[..n_cols], &tz).await?,
        (None, false) => string_schema.fields().iter().map(|f| f.as_ref().clone()).collect(),
    };

    let mut typed = vec![];
    let mut bad_conditions = vec![];
    for (i, f) in target.iter().enumerate() {
        let Some(c) = raw_cols.get(i).filter(|_| i < n_cols) else {
            typed.push(NamedExpr::new(Expr::Literal(ScalarValue::try_from(f.data_type())?, None), f.name().clone()));
            continue;
        };
        let src = Expr::Column(c.clone());
        let conv = convert(src.clone(), f.data_type(), opts);
        if f.data_type() != &DataType::Utf8 {
            bad_conditions.push(src.clone().is_not_null().and(conv.clone().is_null()));
        }
        typed.push(NamedExpr::new(conv, f.name().clone()));
    }
    for c in raw_cols.iter().skip(n_cols) {
        let n = c.name.clone();
        typed.push(NamedExpr::new(Expr::Column(c.clone()), n));
    }
    let bad = bad_conditions.into_iter().reduce(|a, b| a.or(b));
    let plan = match (mode, bad) {
        (Mode::DropMalformed, Some(bad)) => LogicalPlanBuilder::from(raw).filter(Expr::Not(Box::new(bad)))?.build()?,
        (Mode::FailFast, Some(bad)) => {
            // The record as parsed (`[null,y]`: the values that did not
            // parse are null), as Spark shows it.
            let values = typed[..target.len()]
                .iter()
                .map(|t| {
                    let v = datafusion::logical_expr::cast(t.expr.clone(), DataType::Utf8);
                    datafusion::functions::core::expr_fn::coalesce(vec![v, lit("null")])
                })
                .collect();
            let record = datafusion::functions::string::expr_fn::concat(vec![
                lit("["),
                datafusion::functions::string::expr_fn::concat_ws(lit(","), values),
                lit("]"),
            ]);
            let check =
                ScalarUDF::from(crate::functions::FailFast::new()).call(vec![bad, record, lit(file_uri(paths))]);
            LogicalPlanBuilder::from(raw).filter(check)?.build()?
        }
        _ => raw,
    };
    planner.project_named(plan, typed)
}

/// The file a read names, as Spark writes it in errors (`file:///data/a.csv`);
/// a read of several files or a directory names what was given.
fn file_uri(paths: &[String]) -> String {
    let given = paths.join(", ");
    let [path] = paths else { return given };
    let local = path.strip_prefix("file://").unwrap_or(path);
    if local.contains("://") || !Path::new(local).is_file() {
        return given;
    }
    let abs = std::path::absolute(local).map(|a| a.display().to_string()).unwrap_or_else(|_| local.to_string());
    format!("file://{abs}")
}

/// A string column as type `t`, null where it does not parse.
fn convert(src: Expr, t: &DataType, opts: &Options) -> Expr {
    match t {
        DataType::Utf8 => src,
        DataType::Boolean => {
            let l =
                datafusion::functions::string::expr_fn::lower(datafusion::functions::string::expr_fn::btrim(vec![src]));
            Expr::Case(datafusion::logical_expr::expr::Case::new(
                None,
                vec![
                    (Box::new(l.clone().eq(lit("true"))), Box::new(lit(true))),
                    (Box::new(l.eq(lit("false"))), Box::new(lit(false))),
                ],
                Some(Box::new(lit(ScalarValue::Boolean(None)))),
            ))
        }
        DataType::Date32 => match opts.get("dateFormat") {
            Some(fmt) => crate::functions::try_parse_datetime(src, fmt, t.clone()),
            None => try_cast(src, t.clone()),
        },
        DataType::Timestamp(..) => match opts.get("timestampFormat") {
            Some(fmt) => crate::functions::try_parse_datetime(src, fmt, t.clone()),
            None => try_cast(src, t.clone()),
        },
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(..) => try_cast(datafusion::functions::string::expr_fn::btrim(vec![src]), t.clone()),
        other => try_cast(src, other.clone()),
    }
}

/// Spark's CSV type inference over all rows: each column gets the first
/// type of int, bigint, double, boolean, date, timestamp that every
/// non-null value parses as; otherwise string.
async fn infer_csv_types(
    planner: &mut Planner<'_>,
    raw: &LogicalPlan,
    cols: &[Column],
    tz: &str,
) -> Result<Vec<Field>> {
    let candidates = [
        DataType::Int32,
        DataType::Int64,
        DataType::Float64,
        DataType::Boolean,
        DataType::Date32,
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz.into())),
    ];
    let no_opts = Options(HashMap::new());
    let mut aggs = vec![];
    for c in cols {
        let src = Expr::Column(c.clone());
        aggs.push(planner.aggregate_call("count", vec![src.clone()], false)?.alias(format!("n{}", aggs.len())));
        for t in &candidates {
            let mut ok = convert(src.clone(), t, &no_opts).is_not_null();
            if matches!(t, DataType::Date32) {
                // Spark infers dates only for yyyy-MM-dd shaped values.
                ok = ok.and(datafusion::functions::unicode::expr_fn::character_length(src.clone()).lt_eq(lit(10)));
            }
            if matches!(t, DataType::Int32 | DataType::Int64) {
                // "1.0" is a double in Spark, and try_cast would truncate.
                ok = ok.and(datafusion::functions::regex::expr_fn::regexp_like(
                    src.clone(),
                    lit(r"^\s*[+-]?\d+\s*$"),
                    None,
                ));
            }
            let n = aggs.len();
            let hit = Expr::Case(datafusion::logical_expr::expr::Case::new(
                None,
                vec![(Box::new(ok), Box::new(lit(1i32)))],
                None,
            ));
            aggs.push(planner.aggregate_call("count", vec![hit], false)?.alias(format!("n{n}")));
        }
    }
    let plan = LogicalPlanBuilder::from(raw.clone()).aggregate(Vec::<Expr>::new(), aggs)?.build()?;
    let batches = planner.collect(plan).await?;
    let row = batches.iter().find(|b| b.num_rows() > 0);
    let width = candidates.len() + 1;
    let mut fields = vec![];
    for (i, c) in cols.iter().enumerate() {
        let get = |j: usize| -> i64 {
            row.and_then(|b| {
                let a = b.column(i * width + j);
                datafusion::arrow::array::AsArray::as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>(
                    a.as_ref(),
                )
                .map(|p| p.value(0))
            })
            .unwrap_or(0)
        };
        let non_null = get(0);
        let t = if non_null == 0 {
            DataType::Utf8
        } else {
            candidates
                .iter()
                .enumerate()
                .find(|(j, _)| get(j + 1) == non_null)
                .map(|(_, t)| t.clone())
                .unwrap_or(DataType::Utf8)
        };
        fields.push(Field::new(c.name.clone(), t, true));
    }
    Ok(fields)
}

/// The scan of `plan` (a bare table scan) made driver-only (see `driver_only`).
fn driver_only(plan: LogicalPlan, reason: &'static str) -> Result<LogicalPlan> {
    let LogicalPlan::TableScan(scan) = plan else { return Ok(plan) };
    let inner = datafusion::datasource::source_as_provider(&scan.source)?;
    let table = Arc::new(crate::driver_only::DriverOnlyTable::new(inner, reason));
    let source = datafusion::datasource::provider_as_source(table);
    let scan = datafusion::logical_expr::logical_plan::TableScanBuilder::new(scan.table_name, source)
        .with_projection(scan.projection)
        .with_filters(scan.filters)
        .with_fetch(scan.fetch)
        .build()?;
    Ok(LogicalPlan::TableScan(scan))
}
