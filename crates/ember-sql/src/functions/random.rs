//! `rand([seed])` and `randn([seed])`, as Spark's `Rand` and `Randn`: the
//! rows of partition `p` take, in order, the next `nextDouble()` (or
//! `nextGaussian()`) of Spark's `XORShiftRandom` seeded with `seed + p`, so
//! a seed gives Spark's numbers for the same partitioning.
//!
//! A scalar function does not know its partition: the functions mark where
//! the numbers go, and `crate::partition_id` gives each partition of a
//! projection that calls them a [`PartitionRandom`] of its own. Elsewhere
//! (a filter) each batch draws from a generator of a fresh seed.

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::Float64Array;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use datafusion::physical_expr::PhysicalExpr;

/// Spark's `org.apache.spark.util.random.XORShiftRandom`, with
/// `java.util.Random`'s `nextDouble` and `nextGaussian` over it.
#[derive(Debug, Clone)]
pub struct XorShiftRandom {
    seed: i64,
    next_gaussian: Option<f64>,
}

impl XorShiftRandom {
    pub fn new(init: i64) -> Self {
        Self { seed: hash_seed(init), next_gaussian: None }
    }

    fn next(&mut self, bits: u32) -> i64 {
        let mut s = self.seed ^ (self.seed << 21);
        s ^= ((s as u64) >> 35) as i64;
        s ^= s << 4;
        self.seed = s;
        s & ((1i64 << bits) - 1)
    }

    pub fn next_double(&mut self) -> f64 {
        let high = self.next(26) << 27;
        let low = self.next(27);
        (high + low) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Java's polar method, which makes two numbers and keeps the second.
    pub fn next_gaussian(&mut self) -> f64 {
        if let Some(g) = self.next_gaussian.take() {
            return g;
        }
        loop {
            let v1 = 2.0 * self.next_double() - 1.0;
            let v2 = 2.0 * self.next_double() - 1.0;
            let s = v1 * v1 + v2 * v2;
            if s < 1.0 && s != 0.0 {
                // StrictMath.log: fdlibm's, as libm's is.
                let multiplier = (-2.0 * libm::log(s) / s).sqrt();
                self.next_gaussian = Some(v2 * multiplier);
                return v1 * multiplier;
            }
        }
    }
}

/// `XORShiftRandom.hashSeed`: Scala's MurmurHash3 of the seed's bytes.
fn hash_seed(seed: i64) -> i64 {
    let bytes = seed.to_be_bytes();
    let low = bytes_hash(&bytes, 0x3c07_4a61);
    let high = bytes_hash(&bytes, low);
    (i64::from(high) << 32) | (i64::from(low) & 0xFFFF_FFFF)
}

/// `scala.util.hashing.MurmurHash3.bytesHash`.
fn bytes_hash(data: &[u8], seed: i32) -> i32 {
    fn mix_last(hash: i32, data: i32) -> i32 {
        let k = data.wrapping_mul(0xcc9e_2d51_u32 as i32).rotate_left(15).wrapping_mul(0x1b87_3593);
        hash ^ k
    }
    fn mix(hash: i32, data: i32) -> i32 {
        mix_last(hash, data).rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64_u32 as i32)
    }
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        h = mix(h, i32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut k = 0i32;
        for (i, b) in tail.iter().enumerate() {
            k ^= i32::from(*b) << (8 * i);
        }
        h = mix_last(h, k);
    }
    let mut h = h ^ data.len() as i32;
    h ^= ((h as u32) >> 16) as i32;
    h = h.wrapping_mul(0x85eb_ca6b_u32 as i32);
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(0xc2b2_ae35_u32 as i32);
    h ^ ((h as u32) >> 16) as i32
}

/// The marker `rand(seed)` / `randn(seed)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkRandom {
    gaussian: bool,
    signature: Signature,
}

impl SparkRandom {
    pub fn rand() -> Self {
        Self { gaussian: false, signature: Signature::user_defined(Volatility::Volatile) }
    }

    pub fn randn() -> Self {
        Self { gaussian: true, signature: Signature::user_defined(Volatility::Volatile) }
    }
}

/// Whether `name` is one of these functions.
pub fn is_random(name: &str) -> bool {
    matches!(name, "rand" | "randn")
}

/// The seed of a call's literal argument (none: a fresh one).
pub fn seed_of(arg: Option<&ScalarValue>) -> i64 {
    match arg {
        Some(ScalarValue::Int64(Some(s))) => *s,
        Some(ScalarValue::Int32(Some(s))) => i64::from(*s),
        _ => fresh_seed(),
    }
}

fn fresh_seed() -> i64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    i64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])
}

impl ScalarUDFImpl for SparkRandom {
    fn name(&self) -> &str {
        if self.gaussian { "randn" } else { "rand" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [] => Ok(vec![]),
            [DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Null] => {
                Ok(vec![DataType::Int64])
            }
            [other] => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: the seed requires the \"INT\" or \"BIGINT\" type, however it has the type \"{other}\".",
                self.name()
            ),
            _ => plan_err!("[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires [0, 1] parameters.", self.name()),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn return_field_from_args(&self, _: datafusion::logical_expr::ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(self.name(), DataType::Float64, false)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut rng = XorShiftRandom::new(fresh_seed());
        Ok(ColumnarValue::Array(Arc::new(draw(&mut rng, self.gaussian, args.number_rows))))
    }
}

fn draw(rng: &mut XorShiftRandom, gaussian: bool, n: usize) -> Float64Array {
    (0..n).map(|_| Some(if gaussian { rng.next_gaussian() } else { rng.next_double() })).collect()
}

/// One partition's `rand(seed)`: its generator goes on from batch to batch.
#[derive(Debug)]
pub struct PartitionRandom {
    gaussian: bool,
    seed: i64,
    rng: Mutex<XorShiftRandom>,
}

impl PartitionRandom {
    pub fn new(name: &str, seed: i64, partition: usize) -> Self {
        let init = seed.wrapping_add(partition as i64);
        Self { gaussian: name == "randn", seed: init, rng: Mutex::new(XorShiftRandom::new(init)) }
    }
}

impl fmt::Display for PartitionRandom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", if self.gaussian { "randn" } else { "rand" }, self.seed)
    }
}

impl PartialEq for PartitionRandom {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for PartitionRandom {}

impl std::hash::Hash for PartitionRandom {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.seed.hash(state);
    }
}

impl PhysicalExpr for PartitionRandom {
    fn data_type(&self, _: &Schema) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn nullable(&self, _: &Schema) -> Result<bool> {
        Ok(false)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let mut rng = self.rng.lock().map_err(|e| datafusion::common::DataFusionError::Execution(e.to_string()))?;
        Ok(ColumnarValue::Array(Arc::new(draw(&mut rng, self.gaussian, batch.num_rows()))))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![]
    }

    fn with_new_children(self: Arc<Self>, _: Vec<Arc<dyn PhysicalExpr>>) -> Result<Arc<dyn PhysicalExpr>> {
        Ok(self)
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_numbers_for_a_seed() {
        // Apache Spark 4.2: SELECT rand(42), rand(0), randn(42).
        assert_eq!(XorShiftRandom::new(42).next_double(), 0.619189370225301);
        assert_eq!(XorShiftRandom::new(0).next_double(), 0.7604953758285915);
        assert_eq!(XorShiftRandom::new(42).next_gaussian(), 2.384479054241165);
        // The pair one draw makes; the last digits follow StrictMath.log.
        let mut rng = XorShiftRandom::new(3);
        assert_eq!((rng.next_gaussian(), rng.next_gaussian()), (-1.1854930781734352, 0.8301167121353836));
    }
}
