//! Spark's generators in a projection: `explode`, `posexplode`, `inline`
//! and their `_outer` forms. Each becomes an `Unnest` of its input; maps
//! unnest as their entries, `posexplode` unnests a position list beside the
//! values, and `inline` spreads each struct's fields into columns.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Column, DFSchema, NullHandling, Result as DFResult, ScalarValue, UnnestOptions};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::expr::Unnest;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Projection, ReturnFieldArgs,
    ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility, cast, lit,
};
use ember_common::{ExceptionClass, SparkError};

use crate::error::Result;
use crate::expr::NamedExpr;

/// The alias a generator puts on its input: it carries the generator's
/// form (and a multi-name alias) to the projection that plans it.
const MARKER: &str = "__ember_generator";

/// One generator call.
#[derive(Debug, Clone, Default)]
pub(crate) struct Generator {
    /// `_outer`: a NULL or empty input gives one row of NULLs.
    pub outer: bool,
    /// `posexplode`: a 0-based `pos` column first.
    pub position: bool,
    /// `inline`: an array of structs, one column per field.
    pub inline: bool,
    /// `AS (a, b)`: names for the output columns.
    pub aliases: Vec<String>,
}

impl Generator {
    /// The generator for a Spark function name, if it is one.
    pub fn named(function: &str) -> Option<Self> {
        let base = function.strip_suffix("_outer").unwrap_or(function);
        let (position, inline) = match base {
            "explode" => (false, false),
            "posexplode" => (true, false),
            "inline" => (false, true),
            _ => return None,
        };
        Some(Self { outer: base.len() != function.len(), position, inline, aliases: vec![] })
    }

    /// The expression a projection item holds for this generator.
    pub fn expr(&self, input: Expr) -> Expr {
        let tag = format!(
            "{MARKER}|{}|{}|{}|{}",
            self.outer as u8,
            self.position as u8,
            self.inline as u8,
            self.aliases.join("\u{1}")
        );
        Expr::Unnest(Unnest::new(input.alias(tag)))
    }

    /// The generator and its input from an `Unnest` made by
    /// [`Generator::expr`].
    pub fn decode(u: &Unnest) -> Option<(Expr, Self)> {
        if let Expr::Alias(a) = u.expr.as_ref()
            && let Some(rest) = a.name.strip_prefix(MARKER)
        {
            let parts: Vec<&str> = rest.splitn(5, '|').collect();
            if let [_, outer, position, inline, aliases] = parts.as_slice() {
                let aliases =
                    if aliases.is_empty() { vec![] } else { aliases.split('\u{1}').map(String::from).collect() };
                let g = Self { outer: *outer == "1", position: *position == "1", inline: *inline == "1", aliases };
                return Some((a.expr.as_ref().clone(), g));
            }
        }
        None
    }
}

/// What planning one generator added below the final projection.
pub(crate) struct Planned {
    /// The hidden columns to unnest together (positions zip with values).
    pub unnest: Vec<String>,
    pub outer: bool,
    /// The projection items that replace the generator.
    pub outputs: Vec<NamedExpr>,
}

/// Plans generator `g` over `input`: pushes the hidden columns it unnests
/// onto `pre` and returns the items that replace it. `alias` is a
/// single-name alias on the call; `hidden` names fresh columns.
pub(crate) fn plan(
    g: &Generator,
    input: Expr,
    alias: Option<&str>,
    schema: &DFSchema,
    pre: &mut Vec<Expr>,
    mut hidden: impl FnMut() -> String,
) -> Result<Planned> {
    let input_type = input.get_type(schema)?;
    let values = hidden();
    let mut unnest = vec![];
    let mut outputs = vec![];
    let mut names = vec![];
    let source = match &input_type {
        DataType::Map(..) => datafusion::functions_nested::expr_fn::map_entries(input),
        _ => input,
    };
    if g.position {
        let positions = hidden();
        let n = datafusion::functions_nested::expr_fn::cardinality(source.clone());
        let n = cast(n, DataType::Int64);
        pre.push(datafusion::functions_nested::expr_fn::range(lit(0i64), n, lit(1i64)).alias(positions.clone()));
        unnest.push(positions.clone());
        outputs.push(cast(Expr::Column(Column::from_name(positions)), DataType::Int32));
        names.push("pos".to_string());
    }
    pre.push(source.alias(values.clone()));
    unnest.push(values.clone());
    let element = Expr::Column(Column::from_name(values));
    let element_type = match &input_type {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Some(f.data_type().clone()),
        _ => None,
    };
    match (&input_type, element_type) {
        (DataType::Map(..), _) if !g.inline => {
            outputs.push(get_field(element.clone(), "key"));
            outputs.push(get_field(element, "value"));
            names.extend(["key".to_string(), "value".to_string()]);
        }
        (_, Some(DataType::Struct(fields))) if g.inline => {
            for f in fields.iter() {
                outputs.push(get_field(element.clone(), f.name().as_str()));
                names.push(f.name().clone());
            }
        }
        (_, Some(_)) if !g.inline => {
            outputs.push(element);
            names.push("col".to_string());
        }
        (t, _) => {
            let (function, wanted) = if g.inline { ("inline", "ARRAY<STRUCT>") } else { ("explode", "ARRAY or MAP") };
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                "42K09",
                format!(
                    "Cannot resolve \"{function}\" due to data type mismatch: the input requires the {wanted} type, \
                     but got \"{}\".",
                    crate::types::simple_string(t).to_uppercase()
                ),
            )
            .into());
        }
    }
    let given: Vec<String> = match alias {
        Some(a) => vec![a.to_string()],
        None => g.aliases.clone(),
    };
    if !given.is_empty() {
        if given.len() != names.len() {
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "UDTF_ALIAS_NUMBER_MISMATCH",
                "42802",
                format!(
                    "The number of aliases supplied in the AS clause does not match the number of columns output \
                     by the UDTF. Expected {} aliases, but got {}.",
                    names.len(),
                    given.join(", ")
                ),
            )
            .into());
        }
        names = given;
    }
    Ok(Planned {
        unnest,
        outer: g.outer,
        outputs: outputs.into_iter().zip(names).map(|(e, n)| NamedExpr::new(e, n)).collect(),
    })
}

/// Plans the generators among a projection's `items` over `input`: the
/// plan to project the returned items on (an unnest of each generator's
/// hidden columns above a projection of them) and the items, each
/// generator replaced by the columns it makes, and how many items each
/// input item became. `fresh` names hidden columns.
pub(crate) fn plan_generators(
    input: LogicalPlan,
    items: Vec<NamedExpr>,
    fresh: &mut dyn FnMut() -> String,
) -> Result<(LogicalPlan, Vec<NamedExpr>, Vec<usize>)> {
    let mut planned = vec![];
    let mut pre: Vec<Expr> = input.schema().columns().into_iter().map(Expr::Column).collect();
    let mut out = Vec::with_capacity(items.len());
    let mut widths = Vec::with_capacity(items.len());
    for n in items {
        let (u, alias) = match &n.expr {
            Expr::Unnest(u) => (u, None),
            Expr::Alias(a) => match a.expr.as_ref() {
                Expr::Unnest(u) => (u, Some(a.name.clone())),
                _ => {
                    out.push(n);
                    widths.push(1);
                    continue;
                }
            },
            _ => {
                out.push(n);
                widths.push(1);
                continue;
            }
        };
        // An unnest ember planned itself (unpivot) keeps its item's name.
        let (expr, g, alias) = match Generator::decode(u) {
            Some((expr, g)) => (expr, g, alias),
            None => (u.expr.as_ref().clone(), Generator::default(), Some(n.name.clone())),
        };
        let p = plan(&g, expr, alias.as_deref(), input.schema(), &mut pre, &mut *fresh)?;
        out.extend(p.outputs.iter().cloned());
        widths.push(p.outputs.len());
        planned.push(p);
    }
    if planned.is_empty() {
        return Ok((input, out, widths));
    }
    let mut b = LogicalPlanBuilder::from(input).project(pre)?;
    for p in &planned {
        let nulls = if p.outer { NullHandling::PreserveAndExpandEmpty } else { NullHandling::Drop };
        let opts = UnnestOptions::new().with_null_handling(nulls);
        let columns = p.unnest.iter().map(|c| Column::from_name(c.clone())).collect();
        b = b.unnest_columns_with_options(columns, opts)?;
    }
    Ok((b.build()?, out, widths))
}

/// SQL text's generator calls (the placeholder functions of
/// [`SqlGenerator`]) in a projection, planned as the DataFrame ones are;
/// `None` when the projection has none.
/// `unaliased` flags the items that were bare generator calls before
/// other rewrites gave them aliases that keep their names. Also gives the
/// columns each generator item became, by the item's planned name: a
/// query over this one (`SELECT *` of a subquery) still lists that name.
pub(crate) fn sql_projection(
    p: &Projection,
    unaliased: &[bool],
) -> Result<Option<(LogicalPlan, Vec<(String, Vec<String>)>)>> {
    let inner = |e: &Expr| match e {
        Expr::Alias(a) => a.expr.as_ref().clone(),
        e => e.clone(),
    };
    let has_generator =
        p.expr.iter().any(|e| generator_call(&inner(e)).is_some() || SqlGeneratorPart::decode(&inner(e)).is_some());
    if !has_generator {
        return Ok(None);
    }
    // The items to plan, each with the names it had.
    let mut items = vec![];
    let mut planned_names: Vec<Vec<String>> = vec![];
    let mut i = 0;
    while i < p.expr.len() {
        let e = &p.expr[i];
        let name = p.schema.field(i).name().clone();
        // A run of parts of one call: the generator, with the parts' names.
        if let Some((input, mut g, 0)) = SqlGeneratorPart::decode(&inner(e)) {
            let mut names = vec![name];
            while let Some(next) = p.expr.get(i + names.len())
                && let Some((next_input, _, k)) = SqlGeneratorPart::decode(&inner(next))
                && next_input == input
                && k == names.len()
            {
                names.push(p.schema.field(i + names.len()).name().clone());
            }
            i += names.len();
            g.aliases = names.clone();
            items.push(NamedExpr::new(g.expr(input), "col"));
            planned_names.push(names);
            continue;
        }
        let (call, alias) = match e {
            Expr::Alias(a) if unaliased.get(i) == Some(&true) => (a.expr.as_ref(), None),
            Expr::Alias(a) => (a.expr.as_ref(), Some(a.name.clone())),
            e => (e, None),
        };
        let item = match (generator_call(call), call) {
            (Some(g), Expr::ScalarFunction(f)) => {
                let u = g.expr(f.args[0].clone());
                match alias {
                    Some(a) => NamedExpr::new(u.alias(a.clone()), a),
                    None => NamedExpr::new(u, "col"),
                }
            }
            _ => NamedExpr::new(e.clone(), name.clone()),
        };
        items.push(item);
        planned_names.push(vec![name]);
        i += 1;
    }
    let mut next = 0;
    let mut fresh = || {
        next += 1;
        format!("__ember_generated_{next}")
    };
    let (plan, items, widths) = plan_generators(p.input.as_ref().clone(), items, &mut fresh)?;
    let mut replaced = vec![];
    let mut at = 0;
    for (before, width) in planned_names.into_iter().zip(widths) {
        let names: Vec<String> = items[at..at + width].iter().map(|n| n.name.clone()).collect();
        if let [one] = before.as_slice()
            && names != before
        {
            replaced.push((one.clone(), names));
        }
        at += width;
    }
    let items: Vec<Expr> = items.into_iter().map(NamedExpr::into_projection).collect();
    Ok(Some((LogicalPlanBuilder::from(plan).project(items)?.build()?, replaced)))
}

/// The generator a SQL call is, if it is one.
pub(crate) fn generator_call(e: &Expr) -> Option<Generator> {
    match e {
        Expr::ScalarFunction(f) if f.args.len() == 1 => Generator::named(f.func.name()),
        _ => None,
    }
}

/// The types of the columns generator `g` makes from an input of type `t`
/// (empty when it cannot take `t`).
fn output_types(g: &Generator, t: &DataType) -> Vec<DataType> {
    let mut out = if g.position { vec![DataType::Int32] } else { vec![] };
    match t {
        DataType::Map(entries, _) if !g.inline => match entries.data_type() {
            DataType::Struct(fields) => out.extend(fields.iter().map(|f| f.data_type().clone())),
            _ => return vec![],
        },
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => match f.data_type() {
            DataType::Struct(fields) if g.inline => out.extend(fields.iter().map(|f| f.data_type().clone())),
            _ if g.inline => return vec![],
            t => out.push(t.clone()),
        },
        _ => return vec![],
    }
    out
}

/// `__ember_generator_part(input, 'posexplode', i)`: column `i` of a
/// generator's output, so that `posexplode(a) AS (p, v)` in SQL text
/// plans as the items `part(a, .., 0) AS p, part(a, .., 1) AS v` with the
/// right names and types; [`sql_projection`] plans each run of parts as
/// one generator.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SqlGeneratorPart {
    signature: Signature,
}

impl SqlGeneratorPart {
    pub const NAME: &'static str = "__ember_generator_part";

    pub fn new() -> Self {
        Self { signature: Signature::any(3, Volatility::Immutable) }
    }

    /// (input, generator, column index) of a part call.
    fn decode(e: &Expr) -> Option<(Expr, Generator, usize)> {
        let Expr::ScalarFunction(f) = e else { return None };
        if f.func.name() != Self::NAME {
            return None;
        }
        let [input, Expr::Literal(ScalarValue::Utf8(Some(name)), _), Expr::Literal(index, _)] = f.args.as_slice()
        else {
            return None;
        };
        let index = match index {
            ScalarValue::Int64(Some(i)) => usize::try_from(*i).ok()?,
            ScalarValue::Int32(Some(i)) => usize::try_from(*i).ok()?,
            _ => return None,
        };
        Some((input.clone(), Generator::named(name)?, index))
    }
}

impl Default for SqlGeneratorPart {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for SqlGeneratorPart {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _t: &[DataType]) -> DFResult<DataType> {
        Ok(DataType::Null)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DFResult<FieldRef> {
        let name = match args.scalar_arguments.get(1) {
            Some(Some(ScalarValue::Utf8(Some(n)))) => n.as_str(),
            _ => "",
        };
        let index = match args.scalar_arguments.get(2) {
            Some(Some(ScalarValue::Int64(Some(i)))) => usize::try_from(*i).unwrap_or(usize::MAX),
            Some(Some(ScalarValue::Int32(Some(i)))) => usize::try_from(*i).unwrap_or(usize::MAX),
            _ => usize::MAX,
        };
        let g = Generator::named(name).unwrap_or_default();
        let t = args.arg_fields.first().map(|f| f.data_type().clone()).unwrap_or(DataType::Null);
        let t = output_types(&g, &t).get(index).cloned().unwrap_or(DataType::Null);
        Ok(Arc::new(Field::new(self.name(), t, true)))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        datafusion::common::plan_err!(
            "[UNSUPPORTED_GENERATOR.OUTSIDE_SELECT] The generator is not supported: outside the SELECT clause."
        )
    }
}

/// `explode`, `posexplode`, `inline` and their `_outer` forms as functions
/// SQL text can call: [`sql_projection`] replaces each call in a SELECT
/// list; one anywhere else fails.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SqlGenerator {
    name: &'static str,
    signature: Signature,
}

impl SqlGenerator {
    pub const NAMES: [&'static str; 6] =
        ["explode", "explode_outer", "posexplode", "posexplode_outer", "inline", "inline_outer"];

    pub fn new(name: &'static str) -> Self {
        Self { name, signature: Signature::any(1, Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for SqlGenerator {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The type of the first column it makes.
    fn return_type(&self, t: &[DataType]) -> DFResult<DataType> {
        let g = Generator::named(self.name).unwrap_or_default();
        let first = t.first().and_then(|t| output_types(&g, t).first().cloned());
        Ok(first.unwrap_or(DataType::Null))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        datafusion::common::plan_err!(
            "[UNSUPPORTED_GENERATOR.OUTSIDE_SELECT] The generator is not supported: outside the SELECT clause, \
             found: {}.",
            self.name
        )
    }
}
