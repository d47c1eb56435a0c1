//! `hash(expr, ...)`: Spark's Murmur3 hash of its arguments, an int.
//!
//! Spark folds the arguments into one 32-bit Murmur3 (x86) hash with seed
//! 42: each non-NULL value is hashed with the running hash as its seed and
//! NULLs leave it unchanged. Integers up to int, booleans and dates hash as
//! an int; bigints, timestamps and decimals of up to 18 digits as a long;
//! floats and doubles by their bits (-0.0 as 0); strings and binaries by
//! their bytes, the tail bytes one at a time (Spark's `hashUnsafeBytes`,
//! not the reference Murmur3 tail); arrays, maps and structs element by
//! element.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

const SEED: u32 = 42;

fn mix_k1(k: u32) -> u32 {
    k.wrapping_mul(0xcc9e_2d51).rotate_left(15).wrapping_mul(0x1b87_3593)
}

fn mix_h1(h: u32, k: u32) -> u32 {
    (h ^ k).rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64)
}

fn fmix(mut h: u32, length: u32) -> u32 {
    h ^= length;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

pub fn hash_int(v: i32, seed: u32) -> u32 {
    fmix(mix_h1(seed, mix_k1(v as u32)), 4)
}

pub fn hash_long(v: i64, seed: u32) -> u32 {
    let h = mix_h1(seed, mix_k1(v as u32));
    fmix(mix_h1(h, mix_k1((v >> 32) as u32)), 8)
}

pub fn hash_bytes(bytes: &[u8], seed: u32) -> u32 {
    let mut h = seed;
    let mut words = bytes.chunks_exact(4);
    for w in &mut words {
        h = mix_h1(h, mix_k1(u32::from_le_bytes([w[0], w[1], w[2], w[3]])));
    }
    // Each tail byte is a sign-extended word of its own.
    for &b in words.remainder() {
        h = mix_h1(h, mix_k1(b as i8 as i32 as u32));
    }
    fmix(h, bytes.len() as u32)
}

/// The hash of `array[row]` with `seed`; NULL leaves `seed`.
fn hash_value(array: &dyn Array, row: usize, seed: u32) -> Result<u32> {
    if array.is_null(row) {
        return Ok(seed);
    }
    Ok(match array.data_type() {
        DataType::Boolean => hash_int(array.as_boolean().value(row) as i32, seed),
        DataType::Int8 => hash_int(array.as_primitive::<Int8Type>().value(row) as i32, seed),
        DataType::Int16 => hash_int(array.as_primitive::<Int16Type>().value(row) as i32, seed),
        DataType::Int32 => hash_int(array.as_primitive::<Int32Type>().value(row), seed),
        DataType::Date32 => hash_int(array.as_primitive::<Date32Type>().value(row), seed),
        DataType::Int64 => hash_long(array.as_primitive::<Int64Type>().value(row), seed),
        DataType::Timestamp(unit, _) => {
            // Spark's timestamps are microseconds.
            let micros = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row).saturating_mul(1_000_000),
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row).saturating_mul(1_000)
                }
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row) / 1_000,
            };
            hash_long(micros, seed)
        }
        DataType::Float32 => {
            let f = array.as_primitive::<Float32Type>().value(row);
            // Java's floatToIntBits: -0.0 hashes as 0 and every NaN alike.
            let bits = if f == 0.0 {
                0
            } else if f.is_nan() {
                0x7fc0_0000
            } else {
                f.to_bits() as i32
            };
            hash_int(bits, seed)
        }
        DataType::Float64 => {
            let d = array.as_primitive::<Float64Type>().value(row);
            let bits = if d == 0.0 {
                0
            } else if d.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                d.to_bits() as i64
            };
            hash_long(bits, seed)
        }
        DataType::Decimal128(precision, _) => {
            let unscaled = array.as_primitive::<Decimal128Type>().value(row);
            if *precision <= 18 {
                hash_long(unscaled as i64, seed)
            } else {
                hash_bytes(&java_big_integer_bytes(unscaled), seed)
            }
        }
        DataType::Utf8 => hash_bytes(array.as_string::<i32>().value(row).as_bytes(), seed),
        DataType::LargeUtf8 => hash_bytes(array.as_string::<i64>().value(row).as_bytes(), seed),
        DataType::Utf8View => hash_bytes(array.as_string_view().value(row).as_bytes(), seed),
        DataType::Binary => hash_bytes(array.as_binary::<i32>().value(row), seed),
        DataType::LargeBinary => hash_bytes(array.as_binary::<i64>().value(row), seed),
        DataType::BinaryView => hash_bytes(array.as_binary_view().value(row), seed),
        DataType::List(_) => hash_elements(array.as_list::<i32>().value(row).as_ref(), seed)?,
        DataType::LargeList(_) => hash_elements(array.as_list::<i64>().value(row).as_ref(), seed)?,
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut h = seed;
            for i in 0..entries.len() {
                h = hash_value(keys.as_ref(), i, h)?;
                h = hash_value(values.as_ref(), i, h)?;
            }
            h
        }
        DataType::Struct(_) => {
            let s = array.as_struct();
            let mut h = seed;
            for c in s.columns() {
                h = hash_value(c.as_ref(), row, h)?;
            }
            h
        }
        DataType::Null => seed,
        other => return exec_err!("hash does not support {other}"),
    })
}

fn hash_elements(elements: &dyn Array, seed: u32) -> Result<u32> {
    let mut h = seed;
    for i in 0..elements.len() {
        h = hash_value(elements, i, h)?;
    }
    Ok(h)
}

/// Java's `BigInteger.toByteArray`: the shortest big-endian two's
/// complement bytes.
fn java_big_integer_bytes(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes[start..].to_vec()
}

fn contains_map(t: &DataType) -> bool {
    match t {
        DataType::Map(..) => true,
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => contains_map(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| contains_map(f.data_type())),
        _ => false,
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkHash {
    signature: Signature,
}

impl SparkHash {
    pub fn new() -> Self {
        Self { signature: Signature::variadic_any(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for SparkHash {
    fn name(&self) -> &str {
        "hash"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.is_empty() {
            return plan_err!("[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `hash` requires > 0 parameters but got 0.");
        }
        if arg_types.iter().any(contains_map) {
            return plan_err!(
                "[DATATYPE_MISMATCH.HASH_MAP_TYPE] Cannot resolve \"hash\" due to data type mismatch: Input to the \
                 function `hash` cannot contain elements of the \"MAP\" type. In Spark, same maps may have different \
                 hashcode, thus hash expressions are prohibited on \"MAP\" elements."
            );
        }
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = args.args.iter().map(|a| a.to_array(n)).collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(n);
        for row in 0..n {
            let mut h = SEED;
            for a in &arrays {
                h = hash_value(a.as_ref(), row, h)?;
            }
            out.push(h as i32);
        }
        Ok(ColumnarValue::Array(Arc::new(Int32Array::from(out))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_integer_bytes_are_minimal_twos_complement() {
        assert_eq!(java_big_integer_bytes(0), vec![0]);
        assert_eq!(java_big_integer_bytes(127), vec![0x7f]);
        assert_eq!(java_big_integer_bytes(128), vec![0x00, 0x80]);
        assert_eq!(java_big_integer_bytes(-1), vec![0xff]);
        assert_eq!(java_big_integer_bytes(-129), vec![0xff, 0x7f]);
    }

    #[test]
    fn matches_apache_spark() {
        // hash('abc'), hash('abcd'), hash(''), hash(1), hash(1L) in Spark 4.2.
        assert_eq!(hash_bytes(b"abc", SEED) as i32, 1322437556);
        assert_eq!(hash_bytes(b"abcd", SEED) as i32, -396302900);
        assert_eq!(hash_bytes(b"", SEED) as i32, 142593372);
        assert_eq!(hash_int(1, SEED) as i32, -559580957);
        assert_eq!(hash_long(1, SEED) as i32, -1712319331);
    }
}
