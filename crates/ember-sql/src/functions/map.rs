//! `map(k1, v1, k2, v2, …)` (and `create_map`) under Spark's
//! `spark.sql.mapKeyDedupPolicy`: DataFusion's `map` refuses a repeated
//! key whatever the policy; with `LAST_WIN` the key keeps its last value,
//! as datafusion-spark's `map_from_arrays` does with the same arguments
//! (an array of keys and an array of values).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::config::MapKeyDedupPolicy;
use datafusion::functions_nested::make_array::make_array;
use datafusion::logical_expr::{ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkMap {
    signature: Signature,
}

impl SparkMap {
    pub fn new() -> Self {
        Self { signature: datafusion::functions_nested::map::map_udf().signature().clone() }
    }

    /// `map(keys…, values…)` as a call of this function.
    pub fn call(keys: Vec<Expr>, values: Vec<Expr>) -> Expr {
        ScalarUDF::from(Self::new()).call(vec![make_array(keys), make_array(values)])
    }
}

impl ScalarUDFImpl for SparkMap {
    fn name(&self) -> &str {
        "map"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        datafusion::functions_nested::map::map_udf().return_type(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.config_options.spark.map_key_dedup_policy == MapKeyDedupPolicy::LastWin {
            datafusion_spark::function::map::map_from_arrays().invoke_with_args(args)
        } else {
            datafusion::functions_nested::map::map_udf().invoke_with_args(args)
        }
    }
}
