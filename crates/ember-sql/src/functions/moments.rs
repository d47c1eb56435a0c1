//! Spark's `skewness`, `kurtosis` and `product` aggregates, of doubles.
//!
//! The moments follow Spark's one-pass central-moment updates (count,
//! mean, and the sums of the squared, cubed and fourth powers of the
//! deviations), merged pairwise as in Chan et al., so results agree with
//! Spark's but for the last bits, which depend on how the rows were split
//! among partitions. Both are NULL without values and when every value is
//! the same.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

/// One number (`super::as_double`) as a double.
fn doubles(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    match t {
        [t] => Ok(vec![super::as_double(name, t)?]),
        _ => plan_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires 1 parameters but the actual number is {}.",
            t.len()
        ),
    }
}

/// `skewness` (order 3) or `kurtosis` (order 4).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CentralMoment {
    order: u8,
    signature: Signature,
}

impl CentralMoment {
    pub fn skewness() -> Self {
        Self { order: 3, signature: Signature::user_defined(Volatility::Immutable) }
    }

    pub fn kurtosis() -> Self {
        Self { order: 4, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl AggregateUDFImpl for CentralMoment {
    fn name(&self) -> &str {
        if self.order == 3 { "skewness" } else { "kurtosis" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        doubles(self.name(), t)
    }

    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(["n", "avg", "m2", "m3", "m4"]
            .iter()
            .map(|s| Arc::new(Field::new(format!("{}[{s}]", args.name), DataType::Float64, false)))
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Moments { order: self.order, ..Default::default() }))
    }
}

#[derive(Debug, Default)]
struct Moments {
    order: u8,
    n: f64,
    avg: f64,
    m2: f64,
    m3: f64,
    m4: f64,
}

impl Moments {
    fn add(&mut self, x: f64) {
        let n = self.n + 1.0;
        let delta = x - self.avg;
        let delta_n = delta / n;
        let (delta2, delta_n2) = (delta * delta, delta_n * delta_n);
        let m2 = self.m2 + delta * (delta - delta_n);
        let m3 = self.m3 - 3.0 * delta_n * m2 + delta * (delta2 - delta_n2);
        if self.order >= 4 {
            self.m4 =
                self.m4 - 4.0 * delta_n * m3 - 6.0 * delta_n2 * m2 + delta * (delta * delta2 - delta_n * delta_n2);
        }
        (self.n, self.avg, self.m2, self.m3) = (n, self.avg + delta_n, m2, m3);
    }

    fn merge(&mut self, other: &Moments) {
        let (n1, n2) = (self.n, other.n);
        let n = n1 + n2;
        let delta = other.avg - self.avg;
        let delta_n = if n == 0.0 { 0.0 } else { delta / n };
        let m2 = self.m2 + other.m2 + delta * delta_n * n1 * n2;
        let m3 = self.m3
            + other.m3
            + delta_n * delta_n * delta * n1 * n2 * (n1 - n2)
            + 3.0 * delta_n * (n1 * other.m2 - n2 * self.m2);
        let m4 = self.m4
            + other.m4
            + delta_n * delta_n * delta_n * delta * n1 * n2 * (n1 * n1 - n1 * n2 + n2 * n2)
            + 6.0 * delta_n * delta_n * (n1 * n1 * other.m2 + n2 * n2 * self.m2)
            + 4.0 * delta_n * (n1 * other.m3 - n2 * self.m3);
        (self.n, self.avg, self.m2, self.m3, self.m4) = (n, self.avg + delta_n * n2, m2, m3, m4);
    }
}

impl Accumulator for Moments {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for x in cast(&values[0], &DataType::Float64)?.as_primitive::<Float64Type>().iter().flatten() {
            self.add(x);
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let columns: Vec<_> = states.iter().map(|s| s.as_primitive::<Float64Type>()).collect();
        for row in 0..states[0].len() {
            let other = Moments {
                order: self.order,
                n: columns[0].value(row),
                avg: columns[1].value(row),
                m2: columns[2].value(row),
                m3: columns[3].value(row),
                m4: columns[4].value(row),
            };
            self.merge(&other);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok([self.n, self.avg, self.m2, self.m3, self.m4].map(|v| ScalarValue::Float64(Some(v))).to_vec())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        // Spark 4 (without spark.sql.legacy.statisticalAggregate) gives
        // NULL where the moments divide by zero.
        let value = match (self.n, self.m2) {
            (n, m2) if n == 0.0 || m2 == 0.0 => None,
            (n, m2) if self.order == 3 => Some(n.sqrt() * self.m3 / (m2 * m2 * m2).sqrt()),
            (n, m2) => Some(n * self.m4 / (m2 * m2) - 3.0),
        };
        Ok(ScalarValue::Float64(value))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

/// `product(x)`: the product of the non-NULL values, as a double.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Product {
    signature: Signature,
}

impl Product {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl AggregateUDFImpl for Product {
    fn name(&self) -> &str {
        "product"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        doubles("product", t)
    }

    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format!("{}[product]", args.name), DataType::Float64, true))])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Multiply(None)))
    }
}

/// The product so far; `None` before any value.
#[derive(Debug)]
struct Multiply(Option<f64>);

impl Multiply {
    fn times(&mut self, values: &ArrayRef) -> Result<()> {
        for x in cast(values, &DataType::Float64)?.as_primitive::<Float64Type>().iter().flatten() {
            self.0 = Some(self.0.unwrap_or(1.0) * x);
        }
        Ok(())
    }
}

impl Accumulator for Multiply {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.times(&values[0])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.times(&states[0])
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Float64(self.0)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.0))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(order: u8, xs: &[f64]) -> Moments {
        let mut m = Moments { order, ..Default::default() };
        xs.iter().for_each(|x| m.add(*x));
        m
    }

    fn value(m: &mut Moments) -> f64 {
        match m.evaluate().unwrap() {
            ScalarValue::Float64(Some(v)) => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn skewness_and_kurtosis_match_spark_examples() {
        // The examples of Spark's own documentation (the last bits depend
        // on how the rows were split among partitions).
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12 * b.abs();
        let xs = [-10.0, -20.0, 100.0, 1000.0];
        assert!(close(value(&mut moments(3, &xs)), 1.1135657469022013));
        assert!(close(value(&mut moments(4, &xs)), -0.7014368047529618));
        let ys = [1.0, 10.0, 100.0, 10.0, 1.0];
        assert!(close(value(&mut moments(4, &ys)), 0.19432323191698986));
        assert!(close(value(&mut moments(4, &[1.0, 1.0, 2.0])), -1.5));
    }

    #[test]
    fn merged_halves_agree_with_one_pass() {
        let xs = [3.0, -1.5, 8.25, 0.0, 12.0, 7.5];
        let whole = moments(4, &xs);
        let mut left = moments(4, &xs[..2]);
        left.merge(&moments(4, &xs[2..]));
        for (a, b) in [(whole.m2, left.m2), (whole.m3, left.m3), (whole.m4, left.m4), (whole.avg, left.avg)] {
            assert!((a - b).abs() < 1e-9 * a.abs().max(1.0), "{a} vs {b}");
        }
        assert_eq!(moments(3, &[]).evaluate().unwrap(), ScalarValue::Float64(None));
        assert_eq!(moments(3, &[2.0, 2.0]).evaluate().unwrap(), ScalarValue::Float64(None));
    }
}
