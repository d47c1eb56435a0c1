//! Spark functions that take arrays where DataFusion's of the same name
//! take strings only (`reverse`, `concat`), `array_position` and
//! `array_size` with Spark's results, and `array_insert`.

use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::arrow::compute::{is_null, nullif};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::expr::Case;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, cast,
    lit,
};

fn is_list(t: &DataType) -> bool {
    matches!(t, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..))
}

/// A string function that, given arrays, is an array function:
/// `reverse(array)` is `array_reverse`, `concat(a, b)` `array_concat` (NULL
/// when any argument is NULL, as Spark's concat is).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ListOrText {
    text: ScalarUDF,
    list: ScalarUDF,
    signature: Signature,
}

impl ListOrText {
    pub fn new(text: ScalarUDF, list: ScalarUDF) -> Self {
        let volatility = text.signature().volatility;
        Self { text, list, signature: Signature::user_defined(volatility) }
    }

    fn for_types(&self, types: &[DataType]) -> &ScalarUDF {
        if types.iter().any(is_list) { &self.list } else { &self.text }
    }
}

impl ScalarUDFImpl for ListOrText {
    fn name(&self) -> &str {
        self.text.name()
    }

    fn aliases(&self) -> &[String] {
        self.text.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        super::coerced_types(types, self.for_types(types))
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.for_types(types).return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        self.for_types(&types).return_field_from_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let types = args.iter().map(|a| info.get_data_type(a)).collect::<Result<Vec<_>>>()?;
        if types.iter().any(is_list) { Ok(ExprSimplifyResult::Original(args)) } else { self.text.simplify(args, info) }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        if !types.iter().any(is_list) {
            return self.text.invoke_with_args(args);
        }
        let rows = args.number_rows;
        let inputs = args.args.clone();
        let mut out = self.list.invoke_with_args(args)?.to_array(rows)?;
        for input in inputs {
            let input = input.to_array(rows)?;
            if input.null_count() > 0 {
                out = nullif(&out, &is_null(&input)?)?;
            }
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// An array function that is NULL for a NULL array, as Spark's are:
/// DataFusion's `array_append(NULL, 4)` is `[4]`, its `flatten` of
/// `[[1], NULL]` is `[1]` (Spark's is NULL); datafusion-spark's
/// `size(NULL)` is -1, which Spark 4 gives only without ANSI mode
/// (`spark.sql.legacy.sizeOfNull`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NullForNullArray {
    inner: ScalarUDF,
    /// NULL for a NULL array only under ANSI mode.
    ansi_only: bool,
    /// NULL too when an array inside the array is NULL (`flatten`, which
    /// in DataFusion skips a NULL inner array).
    inner_nulls: bool,
}

impl ScalarUDFImpl for NullForNullArray {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        super::coerced_types(types, &self.inner)
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = self.inner.return_field_from_args(args)?;
        Ok(Arc::new(field.as_ref().clone().with_nullable(true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        if self.ansi_only && !args.config_options.execution.enable_ansi_mode {
            return self.inner.invoke_with_args(args);
        }
        let array = args.args.first().map(|a| a.to_array(rows)).transpose()?;
        let out = self.inner.invoke_with_args(args)?;
        let Some(array) = array else { return Ok(out) };
        if self.inner_nulls && is_list(array.data_type()) {
            use datafusion::arrow::array::BooleanArray;
            let (ranges, inner) = list_parts(array.as_ref())?;
            if inner.null_count() == 0 && array.null_count() == 0 {
                return Ok(out);
            }
            let null: BooleanArray = ranges
                .iter()
                .enumerate()
                .map(|(row, (from, to))| Some(array.is_null(row) || (*from..*to).any(|i| inner.is_null(i))))
                .collect();
            return Ok(ColumnarValue::Array(nullif(&out.to_array(rows)?, &null)?));
        }
        if array.null_count() > 0 {
            return Ok(ColumnarValue::Array(nullif(&out.to_array(rows)?, &is_null(&array)?)?));
        }
        Ok(out)
    }
}

/// `array_position(array, x)`: the 1-based index of the first `x`, 0 when
/// absent, as a bigint (DataFusion's is NULL when absent, and unsigned).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArrayPosition {
    signature: Signature,
}

impl ArrayPosition {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for ArrayPosition {
    fn name(&self) -> &str {
        "array_position"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.len() != 2 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `array_position` requires 2 parameters but the actual number is {}.",
                types.len()
            );
        }
        super::coerced_types(types, &datafusion::functions_nested::position::array_position_udf())
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn simplify(&self, mut args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let (Some(x), Some(array)) = (args.pop(), args.pop()) else {
            return plan_err!("array_position takes an array and a value");
        };
        let found = datafusion::functions_nested::expr_fn::array_position(array.clone(), x.clone(), lit(1i64));
        let position = datafusion::functions::core::expr_fn::coalesce(vec![cast(found, DataType::Int64), lit(0i64)]);
        Ok(ExprSimplifyResult::Simplified(Expr::Case(Case::new(
            None,
            vec![(
                Box::new(array.is_null().or(x.is_null())),
                Box::new(lit(datafusion::common::ScalarValue::Int64(None))),
            )],
            Some(Box::new(position)),
        ))))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        datafusion::common::internal_err!("array_position is rewritten before it runs")
    }
}

/// `array_size(array)`: the number of elements as an int, NULL for a NULL
/// array (`size` is -1 there; DataFusion's `array_length` is unsigned).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArraySize {
    signature: Signature,
}

impl ArraySize {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for ArraySize {
    fn name(&self) -> &str {
        "array_size"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match types {
            [t] if is_list(t) || t.is_null() => Ok(types.to_vec()),
            _ => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] array_size takes an array, not {}",
                types.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn simplify(&self, mut args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Some(array) = args.pop() else { return plan_err!("array_size takes an array") };
        if info.get_data_type(&array)?.is_null() {
            return Ok(ExprSimplifyResult::Simplified(lit(datafusion::common::ScalarValue::Int32(None))));
        }
        Ok(ExprSimplifyResult::Simplified(cast(
            datafusion::functions_nested::expr_fn::array_length(array),
            DataType::Int32,
        )))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        datafusion::common::internal_err!("array_size is rewritten before it runs")
    }
}

/// Registers `reverse` and `concat` over the session's string versions,
/// `array_append` NULL for a NULL array, and `array_position` and
/// `array_size`.
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    use datafusion::execution::FunctionRegistry;
    use datafusion::functions_nested::{concat::array_concat_udf, reverse::array_reverse_udf};
    for (name, list) in [("reverse", array_reverse_udf()), ("concat", array_concat_udf())] {
        if let Ok(text) = ctx.udf(name) {
            ctx.register_udf(ScalarUDF::from(ListOrText::new(text.as_ref().clone(), list.as_ref().clone())));
        }
    }
    if let Ok(append) = ctx.udf("array_append") {
        ctx.register_udf(ScalarUDF::from(NullForNullArray {
            inner: append.as_ref().clone(),
            ansi_only: false,
            inner_nulls: false,
        }));
    }
    if let Ok(size) = ctx.udf("size") {
        ctx.register_udf(ScalarUDF::from(NullForNullArray {
            inner: size.as_ref().clone(),
            ansi_only: true,
            inner_nulls: false,
        }));
    }
    ctx.register_udf(ScalarUDF::from(ArrayPosition::new()));
    ctx.register_udf(ScalarUDF::from(ArraySize::new()));
    ctx.register_udf(ScalarUDF::from(ArrayInsert::new()));
    if let Ok(flatten) = ctx.udf("flatten") {
        let inner = flatten.as_ref().clone();
        ctx.register_udf(ScalarUDF::from(NullForNullArray { inner, ansi_only: false, inner_nulls: true }));
    }
    ctx.register_udf(ScalarUDF::from(ArraysOverlap::new()));
    if let Ok(repeat) = ctx.udf("array_repeat") {
        ctx.register_udf(ScalarUDF::from(ArrayRepeat { inner: repeat.as_ref().clone() }));
    }
}

/// `array_insert(array, pos, value)`: `value` inserted at the 1-based
/// `pos`; past the end, NULLs fill the gap. A negative `pos` counts from
/// the end (-1 appends); past the start, the value comes first and NULLs
/// fill the gap. `pos` 0 is Spark's INVALID_INDEX_OF_ZERO.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArrayInsert {
    signature: Signature,
}

impl ArrayInsert {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// Spark's largest array (`ByteArrayMethods.MAX_ROUNDED_ARRAY_LENGTH`).
const MAX_ARRAY_LENGTH: u64 = i32::MAX as u64 - 15;

/// The elements of `base` with `item` inserted at Spark's `pos`.
fn insert_at(base: Vec<ScalarValue>, pos: i64, item: ScalarValue, null: &ScalarValue) -> Result<Vec<ScalarValue>> {
    let len = base.len() as u64;
    // The result's length: the gap NULLs fill, if any, counts.
    let total = if pos < 0 { pos.unsigned_abs().max(len + 1) } else { (pos.unsigned_abs() - 1).max(len) + 1 };
    if total > MAX_ARRAY_LENGTH {
        return datafusion::common::exec_err!(
            "[COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER] array_insert at {pos} would make an array of {total} elements, \
             more than the limit of {MAX_ARRAY_LENGTH}."
        );
    }
    if pos < 0 && pos.unsigned_abs() > len {
        // item, NULLs, then the elements: -pos values in all.
        let gap = (pos.unsigned_abs() - len - 1) as usize;
        let mut out = vec![item];
        out.extend(std::iter::repeat_n(null.clone(), gap));
        out.extend(base);
        return Ok(out);
    }
    let at = if pos < 0 { len - pos.unsigned_abs() + 1 } else { pos.unsigned_abs() - 1 } as usize;
    let mut out = base;
    if at > out.len() {
        out.resize(at, null.clone());
    }
    out.insert(at, item);
    Ok(out)
}

impl ScalarUDFImpl for ArrayInsert {
    fn name(&self) -> &str {
        "array_insert"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let [array, pos, item] = types else {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `array_insert` requires 3 parameters but the actual number is {}.",
                types.len()
            );
        };
        if !(pos.is_integer() || pos.is_null()) {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] array_insert's position must be an int, not {pos}"
            );
        }
        // The element and the value take their common type, as array_append's do.
        let both = super::coerced_types(
            &[array.clone(), item.clone()],
            &datafusion::functions_nested::concat::array_append_udf(),
        )?;
        Ok(vec![both[0].clone(), DataType::Int64, both[1].clone()])
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        Ok(match &types[0] {
            DataType::Null => DataType::new_list(types[2].clone(), true),
            t => t.clone(),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args.args[0].to_array(rows)?;
        let positions = args.args[1].to_array(rows)?;
        let items = args.args[2].to_array(rows)?;
        let out_type = args.return_field.data_type().clone();
        let DataType::List(element) = &out_type else {
            return datafusion::common::internal_err!("array_insert returns a list, not {out_type}");
        };
        let null = ScalarValue::try_from(element.data_type())?;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let (base, pos) =
                (ScalarValue::try_from_array(&arrays, row)?, ScalarValue::try_from_array(&positions, row)?);
            let pos = match pos {
                ScalarValue::Int64(Some(p)) => p,
                _ => {
                    out.push(ScalarValue::try_from(&out_type)?);
                    continue;
                }
            };
            if pos == 0 {
                return datafusion::common::exec_err!(
                    "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1)."
                );
            }
            let ScalarValue::List(list) = base else {
                out.push(ScalarValue::try_from(&out_type)?);
                continue;
            };
            if list.is_null(0) {
                out.push(ScalarValue::try_from(&out_type)?);
                continue;
            }
            let values = list.value(0);
            let elements =
                (0..values.len()).map(|i| ScalarValue::try_from_array(&values, i)).collect::<Result<Vec<_>>>()?;
            let item = ScalarValue::try_from_array(&items, row)?.cast_to(element.data_type())?;
            let inserted = insert_at(elements, pos, item, &null)?;
            out.push(ScalarValue::List(ScalarValue::new_list(&inserted, element.data_type(), element.is_nullable())));
        }
        // Built with Arrow's default element field; the planned type names it.
        let built = ScalarValue::iter_to_array(out)?;
        Ok(ColumnarValue::Array(datafusion::arrow::compute::cast(&built, &out_type)?))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::common::ScalarValue;

    use super::insert_at;

    fn ints(v: &[Option<i32>]) -> Vec<ScalarValue> {
        v.iter().map(|x| ScalarValue::Int32(*x)).collect()
    }

    #[test]
    fn array_insert_positions_follow_spark() {
        let null = ScalarValue::Int32(None);
        let nine = || ScalarValue::Int32(Some(9));
        let base = || ints(&[Some(1), Some(2), Some(3)]);
        assert_eq!(insert_at(base(), 2, nine(), &null).unwrap(), ints(&[Some(1), Some(9), Some(2), Some(3)]));
        assert_eq!(insert_at(base(), -1, nine(), &null).unwrap(), ints(&[Some(1), Some(2), Some(3), Some(9)]));
        assert_eq!(insert_at(base(), 5, nine(), &null).unwrap(), ints(&[Some(1), Some(2), Some(3), None, Some(9)]));
        assert_eq!(insert_at(base(), -5, nine(), &null).unwrap(), ints(&[Some(9), None, Some(1), Some(2), Some(3)]));
        assert!(insert_at(base(), i64::MIN, nine(), &null).is_err());
        assert!(insert_at(base(), i64::MAX, nine(), &null).is_err());
    }
}

/// The list arrays of a `List` or `LargeList` column, as offsets into one
/// values array.
fn list_parts(array: &dyn Array) -> Result<(Vec<(usize, usize)>, datafusion::arrow::array::ArrayRef)> {
    use datafusion::arrow::array::AsArray;
    let ranges = |offsets: Vec<usize>| offsets.windows(2).map(|w| (w[0], w[1])).collect::<Vec<_>>();
    match array.data_type() {
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            Ok((ranges(l.offsets().iter().map(|o| *o as usize).collect()), Arc::clone(l.values())))
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            Ok((ranges(l.offsets().iter().map(|o| *o as usize).collect()), Arc::clone(l.values())))
        }
        t => plan_err!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] expected an array, not {t}"),
    }
}

/// `arrays_overlap(a, b)`: true when the arrays share a non-NULL element;
/// otherwise NULL when both are non-empty and either holds a NULL, else
/// false (Spark's three-valued answer).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArraysOverlap {
    signature: Signature,
}

impl ArraysOverlap {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for ArraysOverlap {
    fn name(&self) -> &str {
        "arrays_overlap"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.len() != 2 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `arrays_overlap` requires 2 parameters but the actual number is {}.",
                types.len()
            );
        }
        super::coerced_types(types, &datafusion::functions_nested::array_has::array_has_any_udf())
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::array::BooleanArray;
        use datafusion::arrow::row::{RowConverter, SortField};
        let rows = args.number_rows;
        let [a, b] = args.args.as_slice() else { return plan_err!("arrays_overlap takes two arrays") };
        let (a, b) = (a.to_array(rows)?, b.to_array(rows)?);
        if a.data_type().is_null() || b.data_type().is_null() {
            return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(None)));
        }
        let ((ra, va), (rb, vb)) = (list_parts(a.as_ref())?, list_parts(b.as_ref())?);
        // Elements compare by their row encoding, which is equal for equal values.
        let converter = RowConverter::new(vec![SortField::new(va.data_type().clone())])?;
        let (ea, eb) = (converter.convert_columns(&[Arc::clone(&va)])?, converter.convert_columns(&[vb.clone()])?);
        let out: BooleanArray = (0..rows)
            .map(|row| {
                if a.is_null(row) || b.is_null(row) {
                    return None;
                }
                let ((fa, ta), (fb, tb)) = (ra[row], rb[row]);
                let seen: std::collections::HashSet<_> =
                    (fa..ta).filter(|i| va.is_valid(*i)).map(|i| ea.row(i)).collect();
                if (fb..tb).any(|i| vb.is_valid(i) && seen.contains(&eb.row(i))) {
                    return Some(true);
                }
                let has_null = (fa..ta).any(|i| va.is_null(i)) || (fb..tb).any(|i| vb.is_null(i));
                if has_null && ta > fa && tb > fb { None } else { Some(false) }
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// `array_repeat(x, n)` where `x` is an array: DataFusion's builds the
/// repeated arrays with an `item` element field whatever `x`'s is, so an
/// array read as Spark names its elements (`element`) is renamed first.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArrayRepeat {
    inner: ScalarUDF,
}

impl ScalarUDFImpl for ArrayRepeat {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        use datafusion::arrow::datatypes::Field;
        let mut types = super::coerced_types(types, &self.inner)?;
        if let Some(t) = types.first_mut() {
            let item = |f: &FieldRef| Arc::new(Field::new_list_field(f.data_type().clone(), f.is_nullable()));
            match t {
                DataType::List(f) => *t = DataType::List(item(f)),
                DataType::LargeList(f) => *t = DataType::LargeList(item(f)),
                _ => {}
            }
        }
        Ok(types)
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }
}
