//! `df.write`: parquet, csv, json and text output with Spark's save modes,
//! committed atomically. Files are written to a staging directory next to
//! the target and moved into place only when every task succeeded, so a
//! failed write leaves what was there untouched.

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::DataType;
use datafusion::config::{CsvOptions, TableParquetOptions};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::logical_expr::{Expr, LogicalPlan, ScalarUDF};
use ember_common::{ExceptionClass, SparkError};
use spark_connect_proto::WriteOperation;
use spark_connect_proto::write_operation::{SaveMode, SaveType};

use crate::error::{Result, analysis};
use crate::plan::Planner;
use crate::read::Options;
use crate::session::SparkSession;

pub async fn write(session: &SparkSession, w: &WriteOperation) -> Result<()> {
    let mut planner = Planner::new(session);
    let input = match &w.input {
        Some(r) => planner.relation(r).await?,
        None => return Err(analysis("write without input")),
    };
    let format = w
        .source
        .clone()
        .or_else(|| session.conf_get("spark.sql.sources.default"))
        .unwrap_or_else(|| "parquet".into())
        .to_ascii_lowercase();
    let opts = Options::new(&w.options);
    let path = match &w.save_type {
        Some(SaveType::Path(p)) => PathBuf::from(p.strip_prefix("file://").unwrap_or(p)),
        Some(SaveType::Table(t)) => return save_to_table(session, input, t, w, &format).await,
        None => match opts.get("path") {
            Some(p) => PathBuf::from(p),
            None => return Err(analysis("Expected exactly one path to be specified, but got: ")),
        },
    };
    write_path(session, input, &path, w.mode(), &w.partitioning_columns, &format, &opts).await?;
    // Tables cached from these files read them again, as Spark recaches by path.
    crate::tables::refresh_by_path(session, &path).await
}

pub(crate) async fn write_path(
    session: &SparkSession,
    input: LogicalPlan,
    path: &Path,
    mode: SaveMode,
    partition_by: &[String],
    format: &str,
    opts: &Options,
) -> Result<()> {
    // A dynamic overwrite replaces only the partitions it writes; ember's
    // replaces all of them, so it refuses rather than drop partitions.
    let dynamic = |v: Option<String>| v.is_some_and(|v| v.eq_ignore_ascii_case("dynamic"));
    if mode == SaveMode::Overwrite
        && !partition_by.is_empty()
        && (dynamic(opts.get("partitionOverwriteMode").map(str::to_string))
            || dynamic(session.conf_get("spark.sql.sources.partitionOverwriteMode")))
    {
        return Err(SparkError::unsupported(
            "spark.sql.sources.partitionOverwriteMode=DYNAMIC (an overwrite that replaces only the partitions it writes)",
        )
        .into());
    }
    let exists = path.exists();
    match mode {
        SaveMode::Unspecified | SaveMode::ErrorIfExists if exists => {
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "PATH_ALREADY_EXISTS",
                "42K04",
                format!(
                    "Path file:{} already exists. Set mode as \"overwrite\" to overwrite the existing path.",
                    abs.display()
                ),
            )
            .into());
        }
        SaveMode::Ignore if exists => return Ok(()),
        _ => {}
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "output".into());
    let id = uuid::Uuid::new_v4().simple().to_string();
    let staging = parent.join(format!(".{name}.ember-staging-{id}"));
    std::fs::create_dir_all(&staging)?;
    let result = write_files(session, input.clone(), &staging, partition_by, format, opts, true).await;
    let result = match result.and_then(|()| flatten_partition_dirs(&staging)) {
        // No rows, so no partition: one file that keeps the schema.
        Ok(0) if partition_by.is_empty() && format != "text" => {
            write_files(session, input, &staging, &[], format, opts, false).await
        }
        other => other.map(|_| ()),
    };
    let codec = opts.get("compression").map(str::to_ascii_lowercase);
    let result = result.and_then(|()| spark_file_names(&staging, format, codec.as_deref(), &mut 0));
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    std::fs::write(staging.join("_SUCCESS"), b"")?;
    let committed = commit(&staging, path, mode, parent, &name, &id);
    if committed.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    committed
}

/// Renames the data files of a finished write as Spark names them:
/// `part-00000-<write id>-c000.snappy.parquet`, numbered across the
/// directories of a partitioned write.
fn spark_file_names(dir: &Path, format: &str, codec: Option<&str>, next: &mut usize) -> Result<()> {
    let id = uuid::Uuid::new_v4().to_string();
    rename_parts(dir, format, codec, &id, next)
}

fn rename_parts(dir: &Path, format: &str, codec: Option<&str>, id: &str, next: &mut usize) -> Result<()> {
    let mut entries: Vec<std::path::PathBuf> =
        std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<_>>()?;
    entries.sort();
    for path in entries {
        let Some(file) = path.file_name().map(|n| n.to_string_lossy().to_string()) else { continue };
        if path.is_dir() {
            rename_parts(&path, format, codec, id, next)?;
            continue;
        }
        if file.starts_with('_') || file.starts_with('.') {
            continue;
        }
        // The extension as written (`.parquet`, `.csv`, `.csv.gz`), with
        // parquet's codec in front as Spark does.
        let ext = file.split_once('.').map(|(_, e)| e.to_string()).unwrap_or_default();
        let ext = match (format, codec.unwrap_or("snappy")) {
            ("parquet", "none" | "uncompressed") => ext,
            ("parquet", c) if ext == "parquet" => format!("{c}.parquet"),
            _ => ext,
        };
        let target = dir.join(format!("part-{:05}-{id}-c000.{ext}", *next));
        *next += 1;
        std::fs::rename(&path, target)?;
    }
    Ok(())
}

/// Moves staged output into place: a rename for new or overwritten
/// output, a move of each file for append.
fn commit(staging: &Path, path: &Path, mode: SaveMode, parent: &Path, name: &str, id: &str) -> Result<()> {
    if !path.exists() {
        std::fs::rename(staging, path)?;
        return Ok(());
    }
    match mode {
        SaveMode::Overwrite => {
            let trash = parent.join(format!(".{name}.ember-trash-{id}"));
            std::fs::rename(path, &trash)?;
            if let Err(e) = std::fs::rename(staging, path) {
                // Put the old output back: a failed write loses nothing.
                let _ = std::fs::rename(&trash, path);
                return Err(e.into());
            }
            if trash.is_dir() {
                std::fs::remove_dir_all(&trash)?
            } else {
                std::fs::remove_file(&trash)?
            }
            Ok(())
        }
        _ => {
            move_tree(staging, path)?;
            std::fs::remove_dir_all(staging)?;
            Ok(())
        }
    }
}

fn move_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            move_tree(&entry.path(), &target)?;
        } else {
            std::fs::rename(entry.path(), target)?;
        }
    }
    Ok(())
}

/// The hidden column a write without `partitionBy` is partitioned by.
const PARTITION_INDEX: &str = "__ember_partition_index";

/// Moves the files of each `PARTITION_INDEX=<i>` directory up into `dir`,
/// in partition order (named `<i>-<n>.<ext>` until renamed); returns how
/// many it moved.
fn flatten_partition_dirs(dir: &Path) -> Result<usize> {
    let prefix = format!("{PARTITION_INDEX}=");
    let mut moved = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(index) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let index: usize = index.parse().map_err(|_| analysis(format!("unexpected output directory {index}")))?;
        let mut files: Vec<std::path::PathBuf> =
            std::fs::read_dir(&path)?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<_>>()?;
        files.sort();
        for (n, file) in files.into_iter().enumerate() {
            let name = file.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
            let ext = name.split_once('.').map(|(_, e)| e.to_string()).unwrap_or_default();
            std::fs::rename(&file, dir.join(format!("{index:010}-{n:05}.{ext}")))?;
            moved += 1;
        }
        std::fs::remove_dir(&path)?;
    }
    Ok(moved)
}

/// `by_partition`: without `partition_by`, a file per partition.
async fn write_files(
    session: &SparkSession,
    input: LogicalPlan,
    dir: &Path,
    partition_by: &[String],
    format: &str,
    opts: &Options,
    by_partition: bool,
) -> Result<()> {
    let df = session.ctx().execute_logical_plan(input).await?;
    // Spark names the partition columns as given; match them case-insensitively.
    let cols: Vec<String> = partition_by
        .iter()
        .map(|p| {
            df.schema()
                .fields()
                .iter()
                .find(|f| f.name().eq_ignore_ascii_case(p))
                .map(|f| f.name().clone())
                .ok_or_else(|| SparkError::unresolved_column(p, &[]).into())
        })
        .collect::<Result<_>>()?;
    // Spark writes a file per partition (coalesce(1) gives one file,
    // repartition(n) n): the rows are written partitioned by their
    // partition index, and `flatten_partition_dirs` lifts the files out.
    let (df, cols) = if cols.is_empty() && format != "text" && by_partition {
        let mut exprs: Vec<Expr> = df.schema().columns().into_iter().map(Expr::Column).collect();
        let index = ScalarUDF::from(crate::partition_id::SparkPartitionId::new()).call(vec![]);
        exprs.push(index.alias(PARTITION_INDEX));
        (df.select(exprs)?, vec![PARTITION_INDEX.to_string()])
    } else {
        (df, cols)
    };
    let write_opts = DataFrameWriteOptions::new().with_partition_by(cols).with_single_file_output(false);
    let target = format!("{}/", dir.display());
    match format {
        "parquet" => {
            let mut p = TableParquetOptions::default();
            p.global.compression = Some(opts.get("compression").unwrap_or("snappy").to_ascii_lowercase());
            df.write_parquet(&target, write_opts, Some(p)).await?;
        }
        "csv" => {
            let mut c = CsvOptions::default();
            c.has_header = Some(opts.bool("header", false)?);
            if let Some(d) = opts.char(&["sep", "delimiter"], Some(b','))? {
                c.delimiter = d;
            }
            c.null_value = Some(opts.get("nullValue").unwrap_or("").to_string());
            df.write_csv(&target, write_opts, Some(c)).await?;
        }
        "json" => {
            df.write_json(&target, write_opts, None).await?;
        }
        "text" => {
            let fields = df.schema().fields();
            if fields.len() != 1 {
                return Err(SparkError::with_class(
                    ExceptionClass::Analysis,
                    "_LEGACY_ERROR_TEMP_1290",
                    "",
                    format!("Text data source supports only a single column, and you have {} columns.", fields.len()),
                )
                .param("numberOfColumns", fields.len().to_string())
                .into());
            }
            let field = &fields[0];
            if !matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
                let sql_type = crate::types::simple_string(field.data_type()).to_uppercase();
                return Err(SparkError::with_class(
                    ExceptionClass::Analysis,
                    "UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE",
                    "0A000",
                    format!(
                        "The Text datasource doesn't support the column `{}` of the type \"{sql_type}\".",
                        field.name()
                    ),
                )
                .param("columnName", format!("`{}`", field.name()))
                .param("columnType", format!("\"{sql_type}\""))
                .param("format", "Text")
                .into());
            }
            let batches = df.collect().await?;
            let mut text = String::new();
            for b in &batches {
                for r in 0..b.num_rows() {
                    text.push_str(&crate::display::cell(b.column(0), r));
                    text.push('\n');
                }
            }
            std::fs::write(dir.join(format!("part-00000-{}.txt", uuid::Uuid::new_v4())), text)?;
        }
        other => {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "DATA_SOURCE_NOT_FOUND",
                "42K02",
                format!("Failed to find the data source: {other}."),
            )
            .into());
        }
    }
    Ok(())
}

/// `saveAsTable(name)` and `insertInto(name)` on the tables of
/// `crate::tables`. Appending to a table matches columns by name,
/// `insertInto` by position.
async fn save_to_table(
    session: &SparkSession,
    input: LogicalPlan,
    table: &spark_connect_proto::write_operation::SaveTable,
    w: &WriteOperation,
    format: &str,
) -> Result<()> {
    use crate::tables::{IfExists, NewTable};
    use spark_connect_proto::write_operation::save_table::TableSaveMethod;
    let name = &table.table_name;
    if table.save_method() == TableSaveMethod::InsertInto {
        let by = crate::tables::Columns::ByPosition;
        return crate::tables::insert(session, name, input, w.mode() == SaveMode::Overwrite, by).await;
    }
    let key = crate::tables::table_key(session, name)?;
    let exists = crate::tables::get(&key).is_some();
    let if_exists = match w.mode() {
        _ if !exists => IfExists::Fail,
        SaveMode::Append => {
            return crate::tables::insert(session, name, input, false, crate::tables::Columns::ByName).await;
        }
        SaveMode::Overwrite => IfExists::Replace,
        SaveMode::Ignore => return Ok(()),
        _ => return Err(crate::tables::already_exists(&key)),
    };
    let mut options: Vec<(String, String)> = w.options.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let location = crate::tables::take_path(&mut options);
    let new = NewTable {
        name: name.clone(),
        format: Some(format.to_string()),
        columns: None,
        partition_by: w.partitioning_columns.clone(),
        location,
        options,
        comment: None,
        properties: vec![],
    };
    crate::tables::create(session, new, Some(input), if_exists).await
}
