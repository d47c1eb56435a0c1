//! `sum` of integers under ANSI: a bigint that fails with
//! ARITHMETIC_OVERFLOW where DataFusion's `sum` wraps around (Spark's
//! `Sum` with `spark.sql.ansi.enabled`). Other sums are DataFusion's.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{DFSchema, Result, ScalarValue, exec_err};
use datafusion::logical_expr::expr::{AggregateFunction, WindowFunction};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, ExprSchemable, GroupsAccumulator, Signature, Volatility,
    WindowFunctionDefinition, cast,
};

use super::group_sums::{SumsAndCounts, selected};

pub const NAME: &str = "ember_checked_sum";

/// One argument, of an integer type.
fn one_integer(args: &[Expr], schema: &DFSchema) -> bool {
    matches!(args, [a] if a.get_type(schema).is_ok_and(|t| t.is_integer()))
}

/// `sum(x)` of an integer `x` as the checked sum (x read as a bigint);
/// `None` for any other aggregate.
pub fn checked(f: &AggregateFunction, schema: &DFSchema) -> Option<Expr> {
    if f.func.name() != "sum" || f.params.distinct || !one_integer(&f.params.args, schema) {
        return None;
    }
    let mut params = f.params.clone();
    params.args = vec![cast(params.args[0].clone(), DataType::Int64)];
    Some(Expr::AggregateFunction(AggregateFunction { func: Arc::new(AggregateUDF::from(CheckedSum::new())), params }))
}

/// Whether a window function is `sum` of an integer (not DISTINCT).
pub fn is_integral_sum(w: &WindowFunction, schema: &DFSchema) -> bool {
    matches!(&w.fun, WindowFunctionDefinition::AggregateUDF(f) if f.name() == "sum")
        && !w.params.distinct
        && one_integer(&w.params.args, schema)
}

/// A window's integer `sum` as the checked sum (see [`is_integral_sum`]).
pub fn checked_window(w: &mut WindowFunction) {
    w.fun = WindowFunctionDefinition::AggregateUDF(Arc::new(AggregateUDF::from(CheckedSum::new())));
    w.params.args = w.params.args.drain(..).map(|a| cast(a, DataType::Int64)).collect();
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CheckedSum {
    signature: Signature,
}

impl CheckedSum {
    pub fn new() -> Self {
        Self { signature: Signature::exact(vec![DataType::Int64], Volatility::Immutable) }
    }
}

impl Default for CheckedSum {
    fn default() -> Self {
        Self::new()
    }
}

impl AggregateUDFImpl for CheckedSum {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Sum { sum: 0, count: 0 }))
    }

    /// The sum and how many values it holds (none: the sum is NULL).
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(format!("{}[sum]", args.name), DataType::Int64, true)),
            Arc::new(Field::new(format!("{}[count]", args.name), DataType::Int64, true)),
        ])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(GroupSums::default()))
    }
}

fn overflow() -> datafusion::common::DataFusionError {
    datafusion::common::DataFusionError::ArrowError(
        Box::new(datafusion::arrow::error::ArrowError::ArithmeticOverflow("overflow".into())),
        None,
    )
}

fn add(a: i64, b: i64) -> Result<i64> {
    a.checked_add(b).ok_or_else(overflow)
}

fn state_arrays(states: &[ArrayRef]) -> Result<(&Int64Array, &Int64Array)> {
    let [sums, counts] = states else { return exec_err!("sum state needs a sum and a count") };
    Ok((sums.as_primitive::<Int64Type>(), counts.as_primitive::<Int64Type>()))
}

#[derive(Debug)]
struct Sum {
    sum: i64,
    count: i64,
}

impl Accumulator for Sum {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(v) = values.first() else { return Ok(()) };
        for x in v.as_primitive::<Int64Type>().iter().flatten() {
            self.sum = add(self.sum, x)?;
            self.count += 1;
        }
        Ok(())
    }

    /// A sliding window frame drops the rows that leave it.
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(v) = values.first() else { return Ok(()) };
        for x in v.as_primitive::<Int64Type>().iter().flatten() {
            self.sum = self.sum.checked_sub(x).ok_or_else(overflow)?;
            self.count -= 1;
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (sums, counts) = state_arrays(states)?;
        for i in 0..sums.len() {
            if sums.is_valid(i) && counts.is_valid(i) {
                self.sum = add(self.sum, sums.value(i))?;
                self.count += counts.value(i);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.sum)), ScalarValue::Int64(Some(self.count))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64((self.count > 0).then_some(self.sum)))
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}

/// [`Sum`] per group, so `GROUP BY` with many groups stays vectorized.
type GroupSums = SumsAndCounts<i64>;

impl GroupsAccumulator for GroupSums {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total: usize,
    ) -> Result<()> {
        self.grow(total);
        let Some(v) = values.first() else { return Ok(()) };
        let a = v.as_primitive::<Int64Type>();
        for (i, g) in groups.iter().enumerate() {
            if a.is_valid(i) && selected(filter, i) {
                self.sums[*g] = add(self.sums[*g], a.value(i))?;
                self.counts[*g] += 1;
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, values: &[ArrayRef], groups: &[usize], total: usize) -> Result<()> {
        self.grow(total);
        let (sums, counts) = state_arrays(values)?;
        for (i, g) in groups.iter().enumerate() {
            if sums.is_valid(i) && counts.is_valid(i) {
                self.sums[*g] = add(self.sums[*g], sums.value(i))?;
                self.counts[*g] += counts.value(i);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (sums, counts) = self.take(emit_to);
        let out: Int64Array = sums.into_iter().zip(counts).map(|(s, n)| (n > 0).then_some(s)).collect();
        Ok(Arc::new(out))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (sums, counts) = self.take(emit_to);
        Ok(vec![Arc::new(Int64Array::from(sums)), Arc::new(Int64Array::from(counts))])
    }

    fn convert_to_state(&self, values: &[ArrayRef], filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let Some(v) = values.first() else { return exec_err!("sum needs one argument") };
        let a = v.as_primitive::<Int64Type>();
        let keep = |i: usize| a.is_valid(i) && selected(filter, i);
        let sums: Int64Array = (0..a.len()).map(|i| Some(if keep(i) { a.value(i) } else { 0 })).collect();
        let counts: Int64Array = (0..a.len()).map(|i| Some(i64::from(keep(i)))).collect();
        Ok(vec![Arc::new(sums), Arc::new(counts)])
    }

    fn size(&self) -> usize {
        SumsAndCounts::size(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sums_fail_on_overflow_and_are_null_without_values() {
        let mut s = Sum { sum: 0, count: 0 };
        assert_eq!(s.evaluate().unwrap(), ScalarValue::Int64(None));
        let v: ArrayRef = Arc::new(Int64Array::from(vec![Some(i64::MAX - 1), None, Some(1)]));
        s.update_batch(&[v]).unwrap();
        assert_eq!(s.evaluate().unwrap(), ScalarValue::Int64(Some(i64::MAX)));
        let one: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        assert!(s.update_batch(&[one.clone()]).unwrap_err().to_string().contains("overflow"));
        let mut g = GroupSums::default();
        let v: ArrayRef = Arc::new(Int64Array::from(vec![Some(i64::MAX), Some(5), None]));
        g.update_batch(&[v], &[0, 1, 2], None, 3).unwrap();
        let state = g.state(EmitTo::All).unwrap();
        let mut h = GroupSums::default();
        h.merge_batch(&state, &[0, 1, 2], 3).unwrap();
        assert!(h.update_batch(&[one], &[0], None, 3).is_err());
        let out = h.evaluate(EmitTo::All).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!((out.value(0), out.value(1), out.is_null(2)), (i64::MAX, 5, true));
    }
}
