//! Spark's `avg`: for decimal(p, s) the result is decimal(p+4, s+4) rounded
//! half-up, as Spark computes it (DataFusion's truncates the last digit,
//! which changes TPC-H q1's answer). Other types use DataFusion's `avg`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::functions_aggregate::average::avg_udaf;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature};

use super::group_sums::{SumsAndCounts, selected};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkAvg {
    signature: Signature,
    aliases: Vec<String>,
}

impl SparkAvg {
    pub fn new() -> Self {
        Self { signature: avg_udaf().signature().clone(), aliases: avg_udaf().aliases().to_vec() }
    }
}

fn result_decimal(p: u8, s: i8) -> DataType {
    DataType::Decimal128((p + 4).min(38), (s + 4).min(38))
}

/// The input's decimal (precision, scale) when this avg takes the Spark path.
fn decimal_input(fields: &[FieldRef], distinct: bool) -> Option<(u8, i8)> {
    match fields.first().map(|f| f.data_type()) {
        Some(DataType::Decimal128(p, s)) if !distinct => Some((*p, *s)),
        _ => None,
    }
}

impl AggregateUDFImpl for SparkAvg {
    fn name(&self) -> &str {
        "avg"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        avg_udaf().inner().coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(DataType::Decimal128(p, s)) => Ok(result_decimal(*p, *s)),
            _ => avg_udaf().return_type(arg_types),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        match decimal_input(args.expr_fields, args.is_distinct) {
            Some((p, s)) => Ok(Box::new(DecimalAvg { sum: 0, count: 0, input_precision: p, input_scale: s })),
            None => avg_udaf().accumulator(args),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        match decimal_input(args.input_fields, args.is_distinct) {
            Some((_, s)) => Ok(vec![
                Arc::new(Field::new(format!("{}[count]", args.name), DataType::Int64, true)),
                Arc::new(Field::new(format!("{}[sum]", args.name), DataType::Decimal128(38, s), true)),
            ]),
            None => avg_udaf().inner().state_fields(args),
        }
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        match decimal_input(args.expr_fields, args.is_distinct) {
            Some(_) => true,
            None => avg_udaf().inner().groups_accumulator_supported(args),
        }
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        match decimal_input(args.expr_fields, args.is_distinct) {
            Some((p, s)) => {
                Ok(Box::new(DecimalAvgGroups { state: SumsAndCounts::default(), input_precision: p, input_scale: s }))
            }
            None => avg_udaf().inner().create_groups_accumulator(args),
        }
    }
}

/// Sum and count of a decimal column; the average rounds half-up.
#[derive(Debug)]
struct DecimalAvg {
    sum: i128,
    count: i64,
    input_precision: u8,
    input_scale: i8,
}

impl Accumulator for DecimalAvg {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(v) = values.first() else { return Ok(()) };
        let a = v.as_primitive::<Decimal128Type>();
        for x in a.iter().flatten() {
            self.sum = self.sum.checked_add(x).ok_or_else(overflow)?;
            self.count += 1;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [counts, sums] = states else {
            return exec_err!("avg state needs count and sum");
        };
        let counts = counts.as_primitive::<Int64Type>();
        let sums = sums.as_primitive::<Decimal128Type>();
        for i in 0..counts.len() {
            if counts.is_valid(i) && sums.is_valid(i) {
                self.count += counts.value(i);
                self.sum = self.sum.checked_add(sums.value(i)).ok_or_else(overflow)?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.count)), ScalarValue::Decimal128(Some(self.sum), 38, self.input_scale)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let DataType::Decimal128(p, s) = result_decimal(self.input_precision, self.input_scale) else {
            return exec_err!("avg result type");
        };
        if self.count == 0 {
            return Ok(ScalarValue::Decimal128(None, p, s));
        }
        Ok(ScalarValue::Decimal128(Some(average(self.sum, self.count)?), p, s))
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
    }
}

/// `sum * 10^4 / count` rounded half away from zero (Spark's HALF_UP).
fn average(sum: i128, count: i64) -> Result<i128> {
    let scaled = sum.checked_mul(10_000).ok_or_else(overflow)?;
    let n = i128::from(count);
    let (q, r) = (scaled / n, scaled % n);
    Ok(if r.abs() * 2 >= n { q + scaled.signum() } else { q })
}

/// The grouped form of [`DecimalAvg`] (one sum and count per group), so
/// `GROUP BY` with many groups stays vectorized.
#[derive(Debug)]
struct DecimalAvgGroups {
    state: SumsAndCounts<i128>,
    input_precision: u8,
    input_scale: i8,
}

impl GroupsAccumulator for DecimalAvgGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total: usize,
    ) -> Result<()> {
        self.state.grow(total);
        let Some(v) = values.first() else { return Ok(()) };
        let a = v.as_primitive::<Decimal128Type>();
        for (i, g) in groups.iter().enumerate() {
            if a.is_valid(i) && selected(filter, i) {
                self.state.sums[*g] = self.state.sums[*g].checked_add(a.value(i)).ok_or_else(overflow)?;
                self.state.counts[*g] += 1;
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, values: &[ArrayRef], groups: &[usize], total: usize) -> Result<()> {
        self.state.grow(total);
        let [counts, sums] = values else {
            return exec_err!("avg state needs count and sum");
        };
        let counts = counts.as_primitive::<Int64Type>();
        let sums = sums.as_primitive::<Decimal128Type>();
        for (i, g) in groups.iter().enumerate() {
            if counts.is_valid(i) && sums.is_valid(i) {
                self.state.counts[*g] += counts.value(i);
                self.state.sums[*g] = self.state.sums[*g].checked_add(sums.value(i)).ok_or_else(overflow)?;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (sums, counts) = self.state.take(emit_to);
        let DataType::Decimal128(p, s) = result_decimal(self.input_precision, self.input_scale) else {
            return exec_err!("avg result type");
        };
        let values = sums
            .into_iter()
            .zip(counts)
            .map(|(sum, n)| if n == 0 { Ok(None) } else { average(sum, n).map(Some) })
            .collect::<Result<Decimal128Array>>()?;
        Ok(Arc::new(values.with_precision_and_scale(p, s)?))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (sums, counts) = self.state.take(emit_to);
        Ok(vec![
            Arc::new(Int64Array::from(counts)),
            Arc::new(Decimal128Array::from(sums).with_precision_and_scale(38, self.input_scale)?),
        ])
    }

    fn convert_to_state(&self, values: &[ArrayRef], filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let Some(v) = values.first() else { return exec_err!("avg needs one argument") };
        let a = v.as_primitive::<Decimal128Type>();
        let keep = |i: usize| a.is_valid(i) && selected(filter, i);
        let counts: Int64Array = (0..a.len()).map(|i| Some(i64::from(keep(i)))).collect();
        let sums: Decimal128Array = (0..a.len()).map(|i| Some(if keep(i) { a.value(i) } else { 0 })).collect();
        Ok(vec![Arc::new(counts), Arc::new(sums.with_precision_and_scale(38, self.input_scale)?)])
    }

    fn size(&self) -> usize {
        self.state.size()
    }
}

fn overflow() -> datafusion::common::DataFusionError {
    datafusion::common::DataFusionError::Execution(
        "[ARITHMETIC_OVERFLOW] Decimal sum overflow in avg. SQLSTATE: 22003".to_string(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decimal_average_rounds_half_up() {
        // 0.05, 0.05, 0.06 (scale 2) → 0.053333 at scale 6; 1 and 2 → 1.500000.
        let mut a = DecimalAvg { sum: 0, count: 0, input_precision: 15, input_scale: 2 };
        let v: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(5), Some(5), Some(6), None]).with_precision_and_scale(15, 2).unwrap(),
        );
        a.update_batch(&[v]).unwrap();
        assert_eq!(a.evaluate().unwrap(), ScalarValue::Decimal128(Some(53333), 19, 6));
        let mut b = DecimalAvg { sum: 0, count: 0, input_precision: 10, input_scale: 0 };
        let v: ArrayRef =
            Arc::new(Decimal128Array::from(vec![Some(2), Some(2), Some(3)]).with_precision_and_scale(10, 0).unwrap());
        b.update_batch(&[v]).unwrap();
        // 7/3 = 2.33333 at scale 4 → 2.3333; (2+3)/2 style half case below.
        assert_eq!(b.evaluate().unwrap(), ScalarValue::Decimal128(Some(23333), 14, 4));
        let mut c = DecimalAvg { sum: 0, count: 0, input_precision: 10, input_scale: 0 };
        let v: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(1), Some(0), Some(0), Some(0), Some(0), Some(0), Some(0), Some(0)])
                .with_precision_and_scale(10, 0)
                .unwrap(),
        );
        c.update_batch(&[v]).unwrap();
        // 1/8 = 0.125 → 0.1250 exactly; and the state round-trips through merge.
        assert_eq!(c.evaluate().unwrap(), ScalarValue::Decimal128(Some(1250), 14, 4));
        let state: Vec<ArrayRef> = c.state().unwrap().iter().map(|s| s.to_array().unwrap()).collect();
        // The grouped accumulator gives the same per-group answers.
        let mut g = DecimalAvgGroups { state: SumsAndCounts::default(), input_precision: 15, input_scale: 2 };
        let v: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(5), Some(1), Some(5), Some(6), None])
                .with_precision_and_scale(15, 2)
                .unwrap(),
        );
        g.update_batch(&[v], &[0, 1, 0, 0, 1], None, 2).unwrap();
        let out = g.evaluate(EmitTo::All).unwrap();
        let out = out.as_primitive::<Decimal128Type>();
        assert_eq!((out.value(0), out.value(1), out.precision(), out.scale()), (53333, 10000, 19, 6));
        let mut d = DecimalAvg { sum: 0, count: 0, input_precision: 10, input_scale: 0 };
        d.merge_batch(&state).unwrap();
        assert_eq!(d.evaluate().unwrap(), c.evaluate().unwrap());
    }
}
