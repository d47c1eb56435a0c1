//! Python user code: scalar UDFs, `mapInPandas`/`mapInArrow` and
//! `applyInPandas`/`applyInArrow`, run by PySpark's own worker (see
//! [`worker`]).

pub mod eval;
pub mod map;
pub mod udf;
pub mod worker;

use spark_connect_proto::CommonInlineUserDefinedFunction;
use spark_connect_proto::common_inline_user_defined_function::Function;

use crate::error::{Result, analysis};
use crate::session::SparkSession;
use udf::{PythonEnv, PythonFunction};

/// The session settings PySpark's worker reads (`RunnerConf`), sent when set.
const RUNNER_CONF: [&str; 9] = [
    "spark.sql.execution.pandas.convertToArrowArraySafely",
    "spark.sql.legacy.execution.pandas.groupedMap.assignColumnsByName",
    "spark.sql.execution.arrow.maxRecordsPerBatch",
    "spark.sql.execution.arrow.useLargeVarTypes",
    "spark.sql.execution.pythonUDF.arrow.concurrency.level",
    "spark.sql.legacy.execution.pythonUDF.pandas.conversion.enabled",
    "spark.sql.execution.pythonUDF.pandas.intToDecimalCoercionEnabled",
    "spark.sql.execution.pythonUDF.pandas.preferIntExtensionDtype",
    "spark.sql.execution.pyspark.binaryAsBytes",
];

/// The Python a session's workers run (`spark.pyspark.python`, else
/// `PYSPARK_PYTHON`, else `python3`, as Spark's executors choose) and the
/// settings they get.
pub fn env(session: &SparkSession) -> PythonEnv {
    let python = session
        .conf_get("spark.pyspark.python")
        .filter(|p| !p.is_empty())
        .or_else(|| std::env::var("PYSPARK_PYTHON").ok().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| "python3".into());
    let mut runner_conf = vec![("spark.sql.session.timeZone".to_string(), session.time_zone())];
    for key in RUNNER_CONF {
        if let Some(v) = session.conf_get(key) {
            runner_conf.push((key.to_string(), v));
        }
    }
    // `--py-files`: a .py file's directory, a .zip or .egg itself, as
    // Spark puts them on its workers' path.
    let includes = session
        .conf_get("spark.submit.pyFiles")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let path = std::path::absolute(p.trim()).unwrap_or_else(|_| p.trim().into());
            match path.extension() {
                Some(e) if e == "py" => path.parent().map(|d| d.to_path_buf()).unwrap_or(path),
                _ => path,
            }
            .to_string_lossy()
            .into_owned()
        })
        .collect();
    PythonEnv { python, runner_conf, files_dir: String::new(), includes }
}

/// The Python function of a Connect UDF.
pub fn function(u: &CommonInlineUserDefinedFunction, tz: &str) -> Result<PythonFunction> {
    let Some(Function::PythonUdf(p)) = &u.function else {
        return Err(ember_common::SparkError::unsupported(format!(
            "the user-defined function {} (only Python functions run in ember)",
            u.function_name
        ))
        .into());
    };
    let output_type = p.output_type.as_ref().ok_or_else(|| analysis("a Python UDF without its output type"))?;
    Ok(PythonFunction {
        name: u.function_name.clone(),
        eval_type: p.eval_type,
        command: p.command.to_vec(),
        python_ver: p.python_ver.clone(),
        return_type: crate::types::to_arrow(output_type, tz)?,
    })
}

/// `spark.udf.register(name, f)`: a temporary function SQL text can call.
/// Names are case-insensitive, as Spark's.
pub fn register(session: &SparkSession, u: &CommonInlineUserDefinedFunction) -> Result<()> {
    let mut function = function(u, &session.time_zone())?;
    function.name = function.name.to_lowercase();
    let udf = udf::PythonUdf::try_new(function, vec![], &env(session))?;
    session.ctx().register_udf(datafusion::logical_expr::ScalarUDF::new_from_impl(udf));
    Ok(())
}
