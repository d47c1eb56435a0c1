//! `size(x)` / `cardinality(x)`: datafusion-spark's, which gives -1 for a
//! NULL array or map (`spark.sql.legacy.sizeOfNull`); Spark 4 gives NULL
//! when ANSI mode is on, as it is by default.

use std::sync::Arc;

use datafusion::arrow::compute::{is_null, nullif};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Size {
    inner: Arc<ScalarUDF>,
}

impl Size {
    pub fn new(inner: Arc<ScalarUDF>) -> Self {
        Self { inner }
    }
}

impl ScalarUDFImpl for Size {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = self.inner.return_field_from_args(args)?;
        Ok(Arc::new(field.as_ref().clone().with_nullable(true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ansi = args.config_options.execution.enable_ansi_mode;
        let input = args.args.first().cloned();
        let n = args.number_rows;
        let out = self.inner.invoke_with_args(args)?;
        let Some(input) = input.filter(|_| ansi) else { return Ok(out) };
        match (input, out) {
            (ColumnarValue::Scalar(s), ColumnarValue::Scalar(o)) => {
                Ok(ColumnarValue::Scalar(if s.is_null() { ScalarValue::try_from(o.data_type())? } else { o }))
            }
            (input, out) => {
                let mask = is_null(&input.to_array(n)?)?;
                let out = out.to_array(n)?;
                Ok(ColumnarValue::Array(nullif(out.as_ref(), &mask)?))
            }
        }
    }
}
