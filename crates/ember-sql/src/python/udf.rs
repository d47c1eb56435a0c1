//! Python scalar UDFs (`@udf`, `@pandas_udf`, `arrow_udf`,
//! `spark.udf.register`) as DataFusion scalar functions: each batch of
//! arguments goes to a Python worker and comes back as one column.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use super::worker::{self, Input, TaskSpec, UdfCommand, eval_type};

/// One Python function called on columns.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PythonUdf {
    name: String,
    return_type: DataType,
    /// A name for each keyword argument, in argument order.
    arg_names: Vec<Option<String>>,
    /// The task of one batch, but for its arguments and input types.
    task: TaskSpec,
    signature: Signature,
}

/// What a Python UDF is, as the client sent it.
pub struct PythonFunction {
    pub name: String,
    pub eval_type: i32,
    pub command: Vec<u8>,
    pub python_ver: String,
    pub return_type: DataType,
}

/// Where and how a session runs Python.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    pub python: String,
    pub runner_conf: Vec<(String, String)>,
    pub files_dir: String,
    pub includes: Vec<String>,
}

impl PythonEnv {
    /// A task of `f` in this environment.
    pub fn task(&self, f: PythonFunction, eval_type: i32, args: Vec<(i32, Option<String>)>) -> TaskSpec {
        TaskSpec {
            python: self.python.clone(),
            python_ver: f.python_ver,
            eval_type,
            runner_conf: self.runner_conf.clone(),
            eval_conf: vec![],
            udfs: vec![UdfCommand { args, command: f.command.into() }],
            files_dir: self.files_dir.clone(),
            includes: self.includes.clone(),
        }
    }
}

impl PythonUdf {
    pub fn try_new(f: PythonFunction, arg_names: Vec<Option<String>>, env: &PythonEnv) -> Result<Self> {
        let eval_type = match f.eval_type {
            // Rows pickled one by one are Spark's legacy path; the worker
            // runs the same function on Arrow batches.
            eval_type::SQL_BATCHED_UDF | eval_type::SQL_ARROW_BATCHED_UDF => eval_type::SQL_ARROW_BATCHED_UDF,
            t @ (eval_type::SQL_SCALAR_PANDAS_UDF
            | eval_type::SQL_SCALAR_PANDAS_ITER_UDF
            | eval_type::SQL_SCALAR_ARROW_UDF) => t,
            other => {
                return plan_err!(
                    "the Python function {} (eval type {other}) cannot be called in a column expression",
                    f.name
                );
            }
        };
        let (name, return_type) = (f.name.clone(), f.return_type.clone());
        Ok(Self::from_parts(name, return_type, arg_names, env.task(f, eval_type, vec![])))
    }

    /// A UDF from its parts (as a stage plan carries it to an executor).
    pub fn from_parts(name: String, return_type: DataType, arg_names: Vec<Option<String>>, task: TaskSpec) -> Self {
        Self {
            name,
            return_type,
            arg_names,
            task,
            signature: Signature::one_of(
                vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
                // Never folded at planning time nor merged: Python runs
                // where Spark would run it.
                Volatility::Volatile,
            ),
        }
    }

    /// The parts [`Self::from_parts`] takes.
    pub fn parts(&self) -> (&str, &DataType, &[Option<String>], &TaskSpec) {
        (&self.name, &self.return_type, &self.arg_names, &self.task)
    }

    pub(crate) fn spec(&self, input: &Schema) -> TaskSpec {
        let mut task = self.task.clone();
        if task.eval_type == eval_type::SQL_ARROW_BATCHED_UDF {
            let input_type = crate::types::spark_json(&DataType::Struct(input.fields().clone()));
            task.eval_conf.push(("input_type".to_string(), input_type.to_string()));
        }
        // Registered functions take any number of positional arguments.
        let args = (0..input.fields().len()).map(|i| (i as i32, self.arg_names.get(i).cloned().flatten())).collect();
        if let Some(udf) = task.udfs.first_mut() {
            udf.args = args;
        }
        task
    }
}

impl ScalarUDFImpl for PythonUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.return_type.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let columns = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let schema = arguments_schema(columns.iter().map(|c| c.data_type()));
        let batch = python_batch(&schema, &columns, rows)?;
        let spec = self.spec(&schema);
        let mut out: Vec<ArrayRef> = vec![];
        let mut input = std::iter::once(Ok(batch));
        worker::run_task(&spec, 0, Input::Stream(schema, &mut input), &mut |b: RecordBatch| {
            match b.columns().first() {
                Some(c) => out.push(c.clone()),
                None => return Err(DataFusionError::Execution("a Python UDF returned no column".into())),
            }
            Ok(())
        })?;
        let refs: Vec<&dyn arrow::array::Array> = out.iter().map(|a| a.as_ref()).collect();
        let result = if refs.is_empty() {
            arrow::array::new_empty_array(&self.return_type)
        } else {
            arrow::compute::concat(&refs)?
        };
        if result.len() != rows {
            return Err(DataFusionError::Execution(format!(
                "the Python UDF {} returned {} rows for {rows}",
                self.name,
                result.len()
            )));
        }
        Ok(ColumnarValue::Array(arrow::compute::cast(&result, &self.return_type)?))
    }
}

/// Arrow as Spark sends it to Python: view types as plain strings and binaries.
pub fn to_python_array(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(arrow::compute::cast(array, &python_type(array.data_type()))?)
}

/// The schema of a UDF's arguments as Python receives them: `_0`, `_1`, …
pub(crate) fn arguments_schema<'a>(types: impl Iterator<Item = &'a DataType>) -> SchemaRef {
    Arc::new(Schema::new(
        types.enumerate().map(|(i, t)| Field::new(format!("_{i}"), python_type(t), true)).collect::<Vec<_>>(),
    ))
}

/// `columns` as a batch of `schema` (Python's types), `rows` long even
/// without columns.
pub(crate) fn python_batch(schema: &SchemaRef, columns: &[ArrayRef], rows: usize) -> Result<RecordBatch> {
    let columns = columns.iter().map(to_python_array).collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )?)
}

pub fn python_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        DataType::Dictionary(_, v) => python_type(v),
        DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) | DataType::LargeListView(f) => {
            DataType::List(Arc::new(f.as_ref().clone().with_data_type(python_type(f.data_type()))))
        }
        DataType::Struct(fields) => DataType::Struct(
            fields.iter().map(|f| f.as_ref().clone().with_data_type(python_type(f.data_type()))).collect(),
        ),
        DataType::Map(entries, sorted) => {
            DataType::Map(Arc::new(entries.as_ref().clone().with_data_type(python_type(entries.data_type()))), *sorted)
        }
        other => other.clone(),
    }
}
