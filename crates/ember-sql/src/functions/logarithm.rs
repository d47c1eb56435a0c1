//! Spark's logarithms, `exp` and square root, on doubles: a logarithm
//! outside its domain is NULL (`ln(0)`, `log10(-1)`, `log1p(-1)`,
//! `log(2, 0)`), and `sqrt(-1)` is NaN. DataFusion's give -Infinity and
//! NaN, and its `sqrt` of a negative number fails; its one-argument `log`
//! is base 10, Spark's base e. Spark computes these with Java's
//! `StrictMath` (fdlibm), as libm's functions do, so the last digits agree
//! (`exp(1)` is 2.7182818284590455).

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Ln,
    Log2,
    Log10,
    Log1p,
    /// `log(x)` is `ln(x)`; `log(base, x)`.
    Log,
    Sqrt,
    Exp,
}

impl Kind {
    pub const ALL: [Kind; 7] = [Kind::Ln, Kind::Log2, Kind::Log10, Kind::Log1p, Kind::Log, Kind::Sqrt, Kind::Exp];

    fn name(self) -> &'static str {
        match self {
            Kind::Ln => "ln",
            Kind::Log2 => "log2",
            Kind::Log10 => "log10",
            Kind::Log1p => "log1p",
            Kind::Log => "log",
            Kind::Sqrt => "sqrt",
            Kind::Exp => "exp",
        }
    }

    /// The function of one double, NULL outside its domain.
    fn of(self, x: f64) -> Option<f64> {
        match self {
            Kind::Sqrt => Some(x.sqrt()),
            Kind::Exp => Some(libm::exp(x)),
            Kind::Log1p if x <= -1.0 => None,
            Kind::Log1p => Some(libm::log1p(x)),
            _ if x <= 0.0 => None,
            Kind::Ln | Kind::Log => Some(libm::log(x)),
            // Spark's log2 is ln(x) / ln(2).
            Kind::Log2 => Some(libm::log(x) / libm::log(2.0)),
            Kind::Log10 => Some(libm::log10(x)),
        }
    }
}

/// `log(base, x)`: NULL unless both are positive (NaN passes through).
fn log_base(base: f64, x: f64) -> Option<f64> {
    if base <= 0.0 || x <= 0.0 { None } else { Some(libm::log(x) / libm::log(base)) }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Logarithm {
    kind: Kind,
    signature: Signature,
}

impl Logarithm {
    pub fn new(kind: Kind) -> Self {
        Self { kind, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for Logarithm {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let arity_ok = match self.kind {
            Kind::Log => matches!(arg_types.len(), 1 | 2),
            _ => arg_types.len() == 1,
        };
        if !arity_ok {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` does not take {} arguments.",
                self.name(),
                arg_types.len()
            );
        }
        arg_types.iter().map(|t| super::as_double(self.name(), t)).collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let doubles = arrays.iter().map(|a| cast(a, &DataType::Float64)).collect::<Result<Vec<_>, _>>()?;
        let out: Float64Array = match doubles.as_slice() {
            [x] => x.as_primitive::<Float64Type>().iter().map(|x| x.and_then(|x| self.kind.of(x))).collect(),
            [base, x] => base
                .as_primitive::<Float64Type>()
                .iter()
                .zip(x.as_primitive::<Float64Type>().iter())
                .map(|(b, x)| log_base(b?, x?))
                .collect(),
            _ => return exec_err!("{} takes one or two arguments", self.name()),
        };
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_outside_the_domain() {
        assert_eq!(Kind::Ln.of(0.0), None);
        assert_eq!(Kind::Log10.of(-1.0), None);
        assert_eq!(Kind::Log2.of(8.0), Some(3.0));
        assert_eq!(Kind::Exp.of(1.0), Some(2.7182818284590455));
        assert_eq!(Kind::Log1p.of(-1.0), None);
        assert_eq!(Kind::Log1p.of(0.0), Some(0.0));
        assert!(Kind::Ln.of(f64::NAN).unwrap().is_nan());
        assert!(Kind::Sqrt.of(-1.0).unwrap().is_nan());
        assert_eq!(log_base(2.0, 0.0), None);
        assert_eq!(log_base(-2.0, 8.0), None);
        assert_eq!(log_base(2.0, 8.0), Some(3.0));
    }
}
