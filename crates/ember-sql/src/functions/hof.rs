//! Spark's higher-order functions that DataFusion has no form of:
//!
//! - `transform(array, (x, i) -> ...)`: the lambda may also take the
//!   element's 0-based position (an int).
//! - `aggregate(array, zero, (acc, x) -> ..., [acc -> ...])` (also named
//!   `reduce`): folds the elements left to right into `acc`, starting from
//!   `zero`, then applies the optional finish lambda. The merge lambda
//!   must return `zero`'s type, as in Spark. A NULL array gives NULL.
//!
//! - `exists(array, x -> ...)` and `forall(array, x -> ...)`: whether
//!   some (every) element satisfies the predicate, in three-valued logic:
//!   NULL when none decides it and some element's predicate is NULL.
//! - `zip_with(left, right, (x, y) -> ...)`: the lambda of the elements at
//!   each position, the shorter array padded with NULLs; NULL when either
//!   array is NULL.
//!
//! They run on DataFusion's lambda machinery: a lambda is evaluated on
//! whole arrays of arguments, with the columns it captures spread to match.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, ListArray, UInt32Array};
use datafusion::arrow::compute::{interleave, is_null, nullif, take, take_arrays};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::utils::{adjust_offsets_for_slice, list_values, list_values_row_number};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature, HigherOrderUDFImpl,
    LambdaParametersProgress, ValueOrLambda, Volatility,
};

/// Spark arrays are lists with 32-bit offsets; other list layouts are
/// brought to that.
fn coerce_list(name: &str, t: &DataType) -> Result<DataType> {
    Ok(match t {
        DataType::List(_) => t.clone(),
        DataType::LargeList(f) | DataType::ListView(f) | DataType::LargeListView(f) | DataType::FixedSizeList(f, _) => {
            DataType::List(f.clone())
        }
        DataType::Null => DataType::new_list(DataType::Null, true),
        other => {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] The first parameter of {name} requires the \"ARRAY\" type, however it has the type {other}."
            );
        }
    })
}

fn element_field(name: &str, list: &FieldRef) -> Result<FieldRef> {
    match list.data_type() {
        DataType::List(f) => Ok(f.clone()),
        other => plan_err!("{name} expects an array, got {other}"),
    }
}

/// The signature of a function of one array and one lambda.
fn array_and_lambda() -> HigherOrderSignature {
    HigherOrderSignature::exact(vec![ValueOrLambda::Value(()), ValueOrLambda::Lambda(())], Volatility::Immutable)
}

/// The row each element of `list_array` belongs to: the indices that
/// spread the columns a lambda captures to one value per element.
fn element_rows(list_array: &ArrayRef) -> Result<UInt32Array> {
    let rows = list_values_row_number(list_array)?;
    let rows = rows.as_primitive::<datafusion::arrow::datatypes::Int32Type>();
    Ok(rows.iter().map(|r| r.map(|r| r as u32)).collect())
}

/// `transform(array, x -> ...)` and `transform(array, (x, i) -> ...)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Transform {
    signature: HigherOrderSignature,
}

impl Transform {
    pub fn new() -> Self {
        Self { signature: array_and_lambda() }
    }
}

impl HigherOrderUDFImpl for Transform {
    fn name(&self) -> &str {
        "transform"
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [list] = arg_types else { return plan_err!("transform takes one array and one lambda") };
        Ok(vec![coerce_list("transform", list)?])
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let [ValueOrLambda::Value(list), ValueOrLambda::Lambda(_)] = fields else {
            return plan_err!("transform takes an array and a lambda");
        };
        let index = Arc::new(Field::new("i", DataType::Int32, false));
        Ok(LambdaParametersProgress::Complete(vec![vec![element_field("transform", list)?, index]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let [ValueOrLambda::Value(list), ValueOrLambda::Lambda(lambda)] = args.arg_fields else {
            return plan_err!("transform takes an array and a lambda");
        };
        let element = Field::new(Field::LIST_FIELD_DEFAULT_NAME, lambda.data_type().clone(), lambda.is_nullable());
        Ok(Arc::new(Field::new("", DataType::List(Arc::new(element)), list.is_nullable())))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let [ValueOrLambda::Value(list), ValueOrLambda::Lambda(lambda)] = args.args.as_slice() else {
            return exec_err!("transform takes an array and a lambda");
        };
        let list_array = list.to_array(args.number_rows)?;
        let list = list_array.as_list::<i32>();
        let values = list_values(&list_array)?;
        let offsets = list.offsets();
        let positions: Int32Array = offsets.windows(2).flat_map(|w| 0..(w[1] - w[0])).collect::<Vec<i32>>().into();
        let values_param = || Ok(values.clone());
        let positions_param = || Ok(Arc::new(positions.clone()) as ArrayRef);
        let rows = element_rows(&list_array)?;
        let out = lambda
            .evaluate(&[&values_param, &positions_param], |captured| Ok(take_arrays(captured, &rows, None)?))?
            .into_array(values.len())?;
        let DataType::List(field) = args.return_field.data_type() else {
            return exec_err!("transform returns an array, not {}", args.return_field.data_type());
        };
        let result = ListArray::try_new(field.clone(), adjust_offsets_for_slice(list), out, list.nulls().cloned())?;
        Ok(ColumnarValue::Array(Arc::new(result)))
    }
}

/// `aggregate(array, zero, merge[, finish])`, also named `reduce`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Aggregate {
    name: &'static str,
    signature: HigherOrderSignature,
}

impl Aggregate {
    pub fn new(name: &'static str) -> Self {
        Self { name, signature: HigherOrderSignature::user_defined(Volatility::Immutable) }
    }
}

impl HigherOrderUDFImpl for Aggregate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [list, zero] = arg_types else {
            return plan_err!("{} takes an array, an initial value and 1 or 2 lambdas", self.name);
        };
        Ok(vec![coerce_list(self.name, list)?, zero.clone()])
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let (list, zero, lambdas) = match fields {
            [ValueOrLambda::Value(l), ValueOrLambda::Value(z), ValueOrLambda::Lambda(_)] => (l, z, 1),
            [ValueOrLambda::Value(l), ValueOrLambda::Value(z), ValueOrLambda::Lambda(_), ValueOrLambda::Lambda(_)] => {
                (l, z, 2)
            }
            _ => return plan_err!("{} takes an array, an initial value and 1 or 2 lambdas", self.name),
        };
        let acc = Arc::new(Field::new("acc", zero.data_type().clone(), true));
        let mut params = vec![vec![acc.clone(), element_field(self.name, list)?]];
        if lambdas == 2 {
            params.push(vec![acc]);
        }
        Ok(LambdaParametersProgress::Complete(params))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let (zero, merge, finish) = match args.arg_fields {
            [ValueOrLambda::Value(_), ValueOrLambda::Value(z), ValueOrLambda::Lambda(m)] => (z, m, None),
            [ValueOrLambda::Value(_), ValueOrLambda::Value(z), ValueOrLambda::Lambda(m), ValueOrLambda::Lambda(f)] => {
                (z, m, Some(f))
            }
            _ => return plan_err!("{} takes an array, an initial value and 1 or 2 lambdas", self.name),
        };
        if merge.data_type() != zero.data_type() {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\": the merge lambda returns {} but the initial value is {}; they must have the same type.",
                self.name,
                merge.data_type(),
                zero.data_type()
            );
        }
        let out = finish.unwrap_or(merge);
        Ok(Arc::new(Field::new("", out.data_type().clone(), true)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let (list, zero, merge, finish) = match args.args.as_slice() {
            [ValueOrLambda::Value(l), ValueOrLambda::Value(z), ValueOrLambda::Lambda(m)] => (l, z, m, None),
            [ValueOrLambda::Value(l), ValueOrLambda::Value(z), ValueOrLambda::Lambda(m), ValueOrLambda::Lambda(f)] => {
                (l, z, m, Some(f))
            }
            _ => return exec_err!("{} takes an array, an initial value and 1 or 2 lambdas", self.name),
        };
        let n = args.number_rows;
        let list_array = list.to_array(n)?;
        let list = list_array.as_list::<i32>();
        let values = list.values();
        let offsets = list.offsets();
        let mut acc = zero.to_array(n)?;
        // Step k folds the k-th element of every array that has one.
        for k in 0.. {
            let active: Vec<u32> =
                (0..n).filter(|&r| list.is_valid(r) && offsets[r + 1] - offsets[r] > k).map(|r| r as u32).collect();
            if active.is_empty() {
                break;
            }
            let active = UInt32Array::from(active);
            let elements: UInt32Array =
                active.values().iter().map(|&r| offsets[r as usize] as u32 + k as u32).collect();
            let acc_in = take(acc.as_ref(), &active, None)?;
            let x = take(values.as_ref(), &elements, None)?;
            let (acc_param, x_param) = (|| Ok(acc_in.clone()), || Ok(x.clone()));
            let merged = merge
                .evaluate(&[&acc_param, &x_param], |captured| Ok(take_arrays(captured, &active, None)?))?
                .into_array(active.len())?;
            if merged.data_type() != acc.data_type() {
                return exec_err!(
                    "{}: the merge lambda returned {}, not {}",
                    self.name,
                    merged.data_type(),
                    acc.data_type()
                );
            }
            // Rows in `active` take the merged value, the rest keep theirs.
            let mut pick: Vec<(usize, usize)> = (0..n).map(|r| (0, r)).collect();
            for (i, &r) in active.values().iter().enumerate() {
                pick[r as usize] = (1, i);
            }
            acc = interleave(&[acc.as_ref(), merged.as_ref()], &pick)?;
        }
        let out = match finish {
            Some(f) if list.null_count() == 0 => {
                let acc_param = || Ok(acc.clone());
                f.evaluate(&[&acc_param], |captured| Ok(captured.to_vec()))?.into_array(n)?
            }
            // The finish runs only for rows with an array: a NULL array is
            // NULL without it (its zero may not finish, `acc.sum / acc.n`).
            Some(f) => {
                let valid: UInt32Array = (0..n).filter(|&r| list.is_valid(r)).map(|r| r as u32).collect();
                let acc_in = take(acc.as_ref(), &valid, None)?;
                let acc_param = || Ok(acc_in.clone());
                let finished = f
                    .evaluate(&[&acc_param], |captured| Ok(take_arrays(captured, &valid, None)?))?
                    .into_array(valid.len())?;
                let mut next = 0u32;
                let positions: UInt32Array = (0..n)
                    .map(|r| {
                        list.is_valid(r).then(|| {
                            next += 1;
                            next - 1
                        })
                    })
                    .collect();
                take(finished.as_ref(), &positions, None)?
            }
            None => acc,
        };
        let out = if list.null_count() > 0 { nullif(&out, &is_null(&list_array)?)? } else { out };
        Ok(ColumnarValue::Array(out))
    }
}

/// `zip_with(left, right, (x, y) -> ...)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ZipWith {
    signature: HigherOrderSignature,
}

impl ZipWith {
    pub fn new() -> Self {
        Self {
            signature: HigherOrderSignature::exact(
                vec![ValueOrLambda::Value(()), ValueOrLambda::Value(()), ValueOrLambda::Lambda(())],
                Volatility::Immutable,
            ),
        }
    }
}

impl HigherOrderUDFImpl for ZipWith {
    fn name(&self) -> &str {
        "zip_with"
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [left, right] = arg_types else { return plan_err!("zip_with takes two arrays and a lambda") };
        Ok(vec![coerce_list("zip_with", left)?, coerce_list("zip_with", right)?])
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let [ValueOrLambda::Value(left), ValueOrLambda::Value(right), ValueOrLambda::Lambda(_)] = fields else {
            return plan_err!("zip_with takes two arrays and a lambda");
        };
        // Padding makes either element NULL.
        let padded = |f: FieldRef| Arc::new(f.as_ref().clone().with_nullable(true));
        let (x, y) = (element_field("zip_with", left)?, element_field("zip_with", right)?);
        Ok(LambdaParametersProgress::Complete(vec![vec![padded(x), padded(y)]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let [ValueOrLambda::Value(left), ValueOrLambda::Value(right), ValueOrLambda::Lambda(lambda)] = args.arg_fields
        else {
            return plan_err!("zip_with takes two arrays and a lambda");
        };
        let element = Field::new(Field::LIST_FIELD_DEFAULT_NAME, lambda.data_type().clone(), true);
        let nullable = left.is_nullable() || right.is_nullable();
        Ok(Arc::new(Field::new("", DataType::List(Arc::new(element)), nullable)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let [ValueOrLambda::Value(left), ValueOrLambda::Value(right), ValueOrLambda::Lambda(lambda)] =
            args.args.as_slice()
        else {
            return exec_err!("zip_with takes two arrays and a lambda");
        };
        let n = args.number_rows;
        let (left, right) = (left.to_array(n)?, right.to_array(n)?);
        let (l, r) = (left.as_list::<i32>(), right.as_list::<i32>());
        let len = |list: &ListArray, row: usize| (list.offsets()[row + 1] - list.offsets()[row]) as usize;
        // Per output element: its row, and its index into each side's values
        // (none past that side's end).
        let mut rows: Vec<u32> = vec![];
        let (mut at_left, mut at_right): (Vec<Option<u32>>, Vec<Option<u32>>) = (vec![], vec![]);
        let mut offsets: Vec<i32> = vec![0];
        for row in 0..n {
            let width = if l.is_valid(row) && r.is_valid(row) { len(l, row).max(len(r, row)) } else { 0 };
            for j in 0..width {
                rows.push(row as u32);
                let index = |list: &ListArray| (j < len(list, row)).then(|| list.offsets()[row] as u32 + j as u32);
                at_left.push(index(l));
                at_right.push(index(r));
            }
            offsets.push(rows.len() as i32);
        }
        let xs = take(l.values().as_ref(), &UInt32Array::from(at_left), None)?;
        let ys = take(r.values().as_ref(), &UInt32Array::from(at_right), None)?;
        let rows = UInt32Array::from(rows);
        let (x_param, y_param) = (|| Ok(xs.clone()), || Ok(ys.clone()));
        let out = lambda
            .evaluate(&[&x_param, &y_param], |captured| Ok(take_arrays(captured, &rows, None)?))?
            .into_array(rows.len())?;
        let DataType::List(field) = args.return_field.data_type() else {
            return exec_err!("zip_with returns an array, not {}", args.return_field.data_type());
        };
        let nulls = datafusion::arrow::buffer::NullBuffer::union(l.nulls(), r.nulls());
        let offsets = datafusion::arrow::buffer::OffsetBuffer::new(offsets.into());
        Ok(ColumnarValue::Array(Arc::new(ListArray::try_new(field.clone(), offsets, out, nulls)?)))
    }
}

/// `exists(array, p)` (`all` false) and `forall(array, p)` (`all` true).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Quantifier {
    all: bool,
    signature: HigherOrderSignature,
}

impl Quantifier {
    pub fn new(all: bool) -> Self {
        Self { all, signature: array_and_lambda() }
    }
}

impl HigherOrderUDFImpl for Quantifier {
    fn name(&self) -> &str {
        if self.all { "forall" } else { "exists" }
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [list] = arg_types else { return plan_err!("{} takes one array and one lambda", self.name()) };
        Ok(vec![coerce_list(self.name(), list)?])
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let [ValueOrLambda::Value(list), ValueOrLambda::Lambda(_)] = fields else {
            return plan_err!("{} takes an array and a lambda", self.name());
        };
        Ok(LambdaParametersProgress::Complete(vec![vec![element_field(self.name(), list)?]]))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let [ValueOrLambda::Value(_), ValueOrLambda::Lambda(lambda)] = args.arg_fields else {
            return plan_err!("{} takes an array and a lambda", self.name());
        };
        if lambda.data_type() != &DataType::Boolean {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] The lambda of {} must return a boolean, not {}.",
                self.name(),
                lambda.data_type()
            );
        }
        Ok(Arc::new(Field::new("", DataType::Boolean, true)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let [ValueOrLambda::Value(list), ValueOrLambda::Lambda(lambda)] = args.args.as_slice() else {
            return exec_err!("{} takes an array and a lambda", self.name());
        };
        let n = args.number_rows;
        let list_array = list.to_array(n)?;
        let list = list_array.as_list::<i32>();
        let values = list_values(&list_array)?;
        let rows = element_rows(&list_array)?;
        let values_param = || Ok(values.clone());
        let tests = lambda
            .evaluate(&[&values_param], |captured| Ok(take_arrays(captured, &rows, None)?))?
            .into_array(values.len())?;
        let tests = tests.as_boolean();
        // The value that decides: true for exists, false for forall.
        let decisive = !self.all;
        let offsets = adjust_offsets_for_slice(list);
        let out: datafusion::arrow::array::BooleanArray = (0..n)
            .map(|row| {
                if list.is_null(row) {
                    return None;
                }
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                let mut unknown = false;
                for i in start..end {
                    match tests.is_valid(i).then(|| tests.value(i)) {
                        Some(t) if t == decisive => return Some(decisive),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                if unknown { None } else { Some(!decisive) }
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
