//! Spark's array indexing: `arr[i]` (0-based) and `element_at(arr, i)`
//! (1-based, negative from the end). An index outside the array is NULL,
//! or under ANSI `INVALID_ARRAY_INDEX` / `INVALID_ARRAY_INDEX_IN_ELEMENT_AT`;
//! `element_at(arr, 0)` is always `INVALID_INDEX_OF_ZERO`.
//!
//! [`CheckIndex`] turns the Spark index and the array's length into the
//! index DataFusion's `array_element` takes (1-based, negative from the
//! end), NULL where Spark gives NULL, or raises.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub struct CheckIndex {
    /// `element_at` (1-based) rather than `[]` (0-based).
    element_at: bool,
    ansi: bool,
}

/// Every form, registered so stage plans that hold them decode.
pub const FORMS: [CheckIndex; 4] = [
    CheckIndex { element_at: false, ansi: false },
    CheckIndex { element_at: false, ansi: true },
    CheckIndex { element_at: true, ansi: false },
    CheckIndex { element_at: true, ansi: true },
];

static SIGNATURE: std::sync::LazyLock<Signature> =
    std::sync::LazyLock::new(|| Signature::exact(vec![DataType::Int64, DataType::Int64], Volatility::Immutable));

impl CheckIndex {
    /// The `array_element` index for Spark index `index` into `array`.
    fn call(self, array: Expr, index: Expr) -> Expr {
        let length =
            datafusion::logical_expr::cast(datafusion::functions_nested::expr_fn::cardinality(array), DataType::Int64);
        let index = datafusion::logical_expr::cast(index, DataType::Int64);
        ScalarUDF::from(self).call(vec![index, length])
    }
}

/// Whether `e` is an index [`CheckIndex`] made already.
fn is_checked(e: &Expr) -> bool {
    matches!(e, Expr::ScalarFunction(f) if f.func.name().starts_with("ember_array_index"))
}

/// `array[index]`, 0-based.
pub fn get_item(array: Expr, index: Expr, ansi: bool) -> Expr {
    let index = CheckIndex { element_at: false, ansi }.call(array.clone(), index);
    datafusion::functions_nested::expr_fn::array_element(array, index)
}

/// `element_at(array, index)`, 1-based.
pub fn element_at(array: Expr, index: Expr, ansi: bool) -> Expr {
    let index = CheckIndex { element_at: true, ansi }.call(array.clone(), index);
    datafusion::functions_nested::expr_fn::array_element(array, index)
}

/// SQL text's `arr[i]` (DataFusion's 1-based `array_element`) as Spark's
/// 0-based one; `None` when `e` is not such an access or is one already.
pub fn sql_subscript(e: &Expr, ansi: bool) -> Option<Expr> {
    let Expr::ScalarFunction(f) = e else { return None };
    if f.func.name() != "array_element" || f.args.len() != 2 || is_checked(&f.args[1]) {
        return None;
    }
    // A map lookup (`functions::map_lookup`) takes the first of the values.
    if matches!(&f.args[0], Expr::ScalarFunction(m) if m.func.name() == "map_extract") {
        return None;
    }
    Some(get_item(f.args[0].clone(), f.args[1].clone(), ansi))
}

impl ScalarUDFImpl for CheckIndex {
    fn name(&self) -> &str {
        match (self.element_at, self.ansi) {
            (false, false) => "ember_array_index",
            (false, true) => "ember_array_index_ansi",
            (true, false) => "ember_array_index_element_at",
            (true, true) => "ember_array_index_element_at_ansi",
        }
    }

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let index = cast(&args.args[0].to_array(n)?, &DataType::Int64)?;
        let length = cast(&args.args[1].to_array(n)?, &DataType::Int64)?;
        let (index, length) = (index.as_primitive::<Int64Type>(), length.as_primitive::<Int64Type>());
        let mut out = Vec::with_capacity(n);
        for row in 0..n {
            if index.is_null(row) || length.is_null(row) {
                out.push(None);
                continue;
            }
            let (i, len) = (index.value(row), length.value(row));
            let inside = if self.element_at { i != 0 && i.unsigned_abs() <= len as u64 } else { 0 <= i && i < len };
            if inside {
                out.push(Some(if self.element_at { i } else { i + 1 }));
                continue;
            }
            if self.element_at && i == 0 {
                return exec_err!(
                    "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first \
                     element has index 1). SQLSTATE: 22003"
                );
            }
            if !self.ansi {
                out.push(None);
                continue;
            }
            return if self.element_at {
                exec_err!(
                    "[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index {i} is out of bounds. The array has {len} \
                     elements. Use `try_element_at` to tolerate accessing element at invalid index and return NULL \
                     instead. SQLSTATE: 22003"
                )
            } else {
                exec_err!(
                    "[INVALID_ARRAY_INDEX] The index {i} is out of bounds. The array has {len} elements. Use the SQL \
                     function `get()` to tolerate accessing element at invalid index and return NULL instead. \
                     SQLSTATE: 22003"
                )
            };
        }
        Ok(ColumnarValue::Array(Arc::new(Int64Array::from(out))))
    }
}
