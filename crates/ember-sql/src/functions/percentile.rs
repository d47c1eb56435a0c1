//! `percentile_approx(col, percentage[, accuracy])`, also named
//! `approx_percentile`: for each percentage `p`, the value at rank
//! `ceil(p * n)` of the column's `n` non-NULL values, of the column's type
//! (an array of them for an array of percentages).
//!
//! Spark answers from a Greenwald-Khanna summary, whose rank is within
//! `n / accuracy` of that one; the exact rank is always within the bound,
//! and is Spark's answer when the values are fewer than `accuracy`.
//! DataFusion's `approx_percentile_cont` interpolates between values (the
//! median of 1 and 2 is 1.5, where Spark's is 1), so it is not used.
//!
//! Each group keeps its values until it is evaluated (memory grows with the
//! group, accounted to the memory pool through `size`), where Spark's
//! summary has a bounded size.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{concat, filter, is_not_null, sort_to_indices, take};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};
use datafusion::physical_expr::expressions::Literal;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PercentileApprox {
    signature: Signature,
    aliases: Vec<String>,
}

impl PercentileApprox {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            aliases: vec!["approx_percentile".to_string()],
        }
    }
}

fn orderable(t: &DataType) -> bool {
    t.is_numeric() || t.is_null() || matches!(t, DataType::Date32 | DataType::Timestamp(..))
}

/// The percentages of a literal `0.5` or `array(0.25, 0.75)`, each in
/// [0, 1].
fn percentages(value: &ScalarValue) -> Result<Vec<f64>> {
    let values: Vec<ScalarValue> = match value {
        ScalarValue::List(list) if list.len() == 1 => {
            let items = list.value(0);
            (0..items.len()).map(|i| ScalarValue::try_from_array(&items, i)).collect::<Result<_>>()?
        }
        v => vec![v.clone()],
    };
    values
        .into_iter()
        .map(|v| match v.cast_to(&DataType::Float64)? {
            ScalarValue::Float64(Some(p)) if (0.0..=1.0).contains(&p) => Ok(p),
            other => plan_err!(
                "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve \"percentile_approx\" due to data type mismatch: \
                 The `percentage` must be between 0.0 and 1.0, but got {other}."
            ),
        })
        .collect()
}

impl AggregateUDFImpl for PercentileApprox {
    fn name(&self) -> &str {
        "percentile_approx"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&t.len()) {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `percentile_approx` requires [2, 3] parameters but the actual number is {}.",
                t.len()
            );
        }
        if !orderable(&t[0]) {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] The first parameter of percentile_approx requires a numeric, date or timestamp type, not {}.",
                t[0]
            );
        }
        let percentage = match &t[1] {
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                DataType::new_list(DataType::Float64, true)
            }
            _ => DataType::Float64,
        };
        // NULL values read as doubles (none of them counts).
        let value = if t[0].is_null() { DataType::Float64 } else { t[0].clone() };
        let mut types = vec![value, percentage];
        if t.len() == 3 {
            if !t[2].is_integer() {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] The `accuracy` of percentile_approx must be an integer, not {}.",
                    t[2]
                );
            }
            types.push(DataType::Int64);
        }
        Ok(types)
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        let value = if t[0].is_null() { DataType::Float64 } else { t[0].clone() };
        Ok(match &t[1] {
            DataType::List(_) => DataType::new_list(value, true),
            _ => value,
        })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let value = args.input_fields[0].data_type().clone();
        Ok(vec![Arc::new(Field::new(format!("{}[values]", args.name), DataType::new_list(value, true), true))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let Some(percentage) = args.exprs.get(1).and_then(|e| e.downcast_ref::<Literal>()) else {
            return plan_err!(
                "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] The `percentage` of percentile_approx must be a constant."
            );
        };
        let many = matches!(percentage.value(), ScalarValue::List(_));
        Ok(Box::new(Values {
            percentages: percentages(percentage.value())?,
            many,
            value_type: args.exprs[0].data_type(args.schema)?,
            return_type: args.return_type().clone(),
            values: vec![],
        }))
    }
}

/// The 1-based rank of percentage `p` among `n` values: `ceil(p * n)`, at
/// least the first.
pub fn quantile_rank(p: f64, n: usize) -> usize {
    ((p * n as f64).ceil() as usize).clamp(1, n.max(1))
}

/// The non-NULL values seen, sorted when evaluated.
#[derive(Debug)]
struct Values {
    percentages: Vec<f64>,
    many: bool,
    value_type: DataType,
    return_type: DataType,
    values: Vec<ArrayRef>,
}

impl Values {
    fn all(&self) -> Result<ArrayRef> {
        let parts: Vec<&dyn Array> = self.values.iter().map(|a| a.as_ref()).collect();
        if parts.is_empty() {
            return Ok(datafusion::arrow::array::new_empty_array(&self.value_type));
        }
        Ok(concat(&parts)?)
    }

    fn push(&mut self, values: &ArrayRef) -> Result<()> {
        // An untyped NULL column: no values (and nothing Arrow can sort).
        if values.data_type().is_null() {
            return Ok(());
        }
        let present = if values.null_count() > 0 { filter(values, &is_not_null(values)?)? } else { values.clone() };
        if !present.is_empty() {
            self.values.push(present);
        }
        Ok(())
    }
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.push(&values[0])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists = states[0].as_list::<i32>();
        for i in 0..lists.len() {
            if lists.is_valid(i) {
                self.push(&lists.value(i))?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let all = self.all()?;
        self.values = vec![all.clone()];
        Ok(vec![ScalarValue::List(Arc::new(
            datafusion::common::utils::SingleRowListArrayBuilder::new(all).build_list_array(),
        ))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let all = self.all()?;
        if all.is_empty() {
            return ScalarValue::try_from(&self.return_type);
        }
        let sorted = take(&all, &sort_to_indices(&all, None, None)?, None)?;
        let n = sorted.len();
        let picked = self
            .percentages
            .iter()
            .map(|p| ScalarValue::try_from_array(&sorted, quantile_rank(*p, n) - 1))
            .collect::<Result<Vec<_>>>()?;
        if self.many {
            Ok(ScalarValue::List(ScalarValue::new_list_nullable(&picked, &self.value_type)))
        } else {
            Ok(picked.into_iter().next().unwrap_or(ScalarValue::Null))
        }
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.values.iter().map(|a| a.get_array_memory_size()).sum::<usize>()
    }
}
