//! `overlay(input, replace, pos[, len])` (and `OVERLAY(input PLACING
//! replace FROM pos [FOR len])`): `input` with `len` characters from the
//! 1-based `pos` replaced by `replace`, as Spark computes it: a negative
//! `len` (the default) means the length of `replace`, and `pos` follows
//! SQL's `substring` (0 is the start, negative counts from the end).
//! Binary inputs work on bytes.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BinaryBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Overlay {
    signature: Signature,
}

impl Overlay {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// Spark's `substringSQL(pos, length)` as a range of `0..len`.
fn sql_range(len: usize, pos: i64, length: i64) -> std::ops::Range<usize> {
    let len = len as i64;
    let start = if pos > 0 {
        pos - 1
    } else if pos < 0 {
        len + pos
    } else {
        0
    };
    let end = start.saturating_add(length).min(len);
    let start = start.max(0);
    if start >= end { 0..0 } else { start as usize..end as usize }
}

/// The pieces of the result: `input`'s prefix, then `replace`, then the rest.
fn overlay<T: Clone>(input: &[T], replace: &[T], pos: i64, len: i64) -> Vec<T> {
    let length = if len >= 0 { len } else { replace.len() as i64 };
    let mut out = input[sql_range(input.len(), 1, pos.saturating_sub(1))].to_vec();
    out.extend_from_slice(replace);
    out.extend_from_slice(&input[sql_range(input.len(), pos.saturating_add(length), i32::MAX as i64)]);
    out
}

impl ScalarUDFImpl for Overlay {
    fn name(&self) -> &str {
        "overlay"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if !(3..=4).contains(&types.len()) {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `overlay` requires [3, 4] parameters but the actual number is {}.",
                types.len()
            );
        }
        let binary = |t: &DataType| matches!(t, DataType::Binary | DataType::LargeBinary | DataType::BinaryView);
        let text = if binary(&types[0]) && binary(&types[1]) { DataType::Binary } else { DataType::Utf8 };
        for t in &types[2..] {
            if !(t.is_integer() || t.is_null() || super::is_text(t)) {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] overlay's position and length must be integers, not {}",
                    crate::types::simple_string(t)
                );
            }
        }
        let mut out = vec![text.clone(), text];
        out.extend(types[2..].iter().map(|_| DataType::Int32));
        Ok(out)
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        Ok(types.first().cloned().unwrap_or(DataType::Utf8))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let int = |i: usize| -> Result<Option<Arc<dyn Array>>> {
            arrays.get(i).map(|a| cast(a, &DataType::Int32).map_err(Into::into)).transpose()
        };
        let (pos, len) = (int(2)?, int(3)?);
        let Some(pos) = pos else { return plan_err!("overlay takes a position") };
        let pos = pos.as_primitive::<Int32Type>();
        let len = len.as_ref().map(|l| l.as_primitive::<Int32Type>());
        // The row's position and length, or None when any input is NULL.
        let at = |row: usize| -> Option<(i64, i64)> {
            if arrays[0].is_null(row) || arrays[1].is_null(row) || pos.is_null(row) {
                return None;
            }
            let l = match len {
                Some(l) if l.is_null(row) => return None,
                Some(l) => l.value(row) as i64,
                None => -1,
            };
            Some((pos.value(row) as i64, l))
        };
        if arrays[0].data_type() == &DataType::Binary {
            let (input, replace) = (arrays[0].as_binary::<i32>(), arrays[1].as_binary::<i32>());
            let mut out = BinaryBuilder::new();
            for row in 0..rows {
                match at(row) {
                    Some((p, l)) => out.append_value(overlay(input.value(row), replace.value(row), p, l)),
                    None => out.append_null(),
                }
            }
            return Ok(ColumnarValue::Array(Arc::new(out.finish())));
        }
        let (input, replace) = (cast(&arrays[0], &DataType::Utf8)?, cast(&arrays[1], &DataType::Utf8)?);
        let (input, replace) = (input.as_string::<i32>(), replace.as_string::<i32>());
        let mut out = StringBuilder::new();
        for row in 0..rows {
            match at(row) {
                Some((p, l)) => {
                    let chars: Vec<char> = input.value(row).chars().collect();
                    let with: Vec<char> = replace.value(row).chars().collect();
                    out.append_value(overlay(&chars, &with, p, l).into_iter().collect::<String>());
                }
                None => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(input: &str, replace: &str, pos: i64, len: i64) -> String {
        let (i, r): (Vec<char>, Vec<char>) = (input.chars().collect(), replace.chars().collect());
        overlay(&i, &r, pos, len).into_iter().collect()
    }

    #[test]
    fn spark_results() {
        // Apache Spark 4.2: SELECT overlay('SPARK_SQL' PLACING 'CORE' FROM p [FOR l]).
        assert_eq!(text("SPARK_SQL", "CORE", 7, -1), "SPARK_CORE");
        assert_eq!(text("SPARK_SQL", "CORE", 7, 0), "SPARK_CORESQL");
        assert_eq!(text("SPARK_SQL", "CORE", 7, 2), "SPARK_COREL");
        assert_eq!(text("SPARK_SQL", "CORE", 20, -1), "SPARK_SQLCORE");
        assert_eq!(text("SPARK_SQL", "CORE", -1, -1), "COREARK_SQL");
        assert_eq!(text("Spark SQL", "_", 6, -1), "Spark_SQL");
        assert_eq!(text("Spark SQL", "ANSI ", 7, 0), "Spark ANSI SQL");
    }
}
