//! `ember_sample_rand(seed, cols...)`: a value in [0, 1) per row, from a
//! seeded hash of the row and its position, so `sample(fraction, seed)`
//! keeps the same rows for the same input and seed.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::hash_utils::{QualityRandomState, create_hashes};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SampleRand {
    signature: Signature,
}

impl SampleRand {
    pub fn new() -> Self {
        Self { signature: Signature::variadic_any(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for SampleRand {
    fn name(&self) -> &str {
        "ember_sample_rand"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let mut it = args.args.into_iter();
        let seed = match it.next() {
            Some(ColumnarValue::Scalar(ScalarValue::Int64(Some(s)))) => s as u64,
            _ => return exec_err!("ember_sample_rand needs a literal seed"),
        };
        let arrays: Vec<ArrayRef> = it.map(|c| c.to_array(n)).collect::<Result<_>>()?;
        let mut hashes = vec![0u64; n];
        if !arrays.is_empty() {
            create_hashes(&arrays, &QualityRandomState::with_seed(seed), &mut hashes)?;
        }
        let values: Float64Array = hashes
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let x = splitmix64(h ^ seed.wrapping_add(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                Some((x >> 11) as f64 / (1u64 << 53) as f64)
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(values)))
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
