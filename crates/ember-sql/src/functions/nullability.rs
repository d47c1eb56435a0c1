//! Spark's nullability of a function's result, where DataFusion's differs.
//!
//! DataFusion calls most functions nullable whatever their arguments, so
//! `upper(name)` over a non-null `name`, `id * 2` or `struct(id)` would show
//! `nullable = true` in `df.schema` and `printSchema()`, where Spark shows
//! `false`. Spark derives it from the arguments: a null-intolerant function
//! (`NullIntolerant`) is null only for a null argument; `greatest`/`least`
//! only when every argument is; `concat_ws` only for a null separator; and
//! constructors (`struct`, `map`, `hash`, `uuid`, …) never. [`SparkNulls`]
//! wraps a registered function and gives its result that nullability; it
//! only ever narrows DataFusion's answer, never widens it.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::LogicalPlan;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::interval_arithmetic::Interval;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::prelude::SessionContext;

/// How a result's nullability follows from the arguments'.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Nulls {
    /// Null only when an argument is (Spark's `NullIntolerant`).
    AnyArgument,
    /// Null only when every argument is (`greatest`, `least`).
    EveryArgument,
    /// Null only when the first argument is (`concat_ws`'s separator).
    FirstArgument,
    /// Null only when an argument after the first is (`if`'s branches).
    LaterArguments,
    /// Never null.
    Never,
}

/// The functions whose nullability is Spark's, by registry name.
const RULES: &[(&[&str], Nulls)] = &[
    (
        &[
            "upper",
            "lower",
            "btrim",
            "trim",
            "ltrim",
            "rtrim",
            "replace",
            "lpad",
            "rpad",
            "reverse",
            "repeat",
            "initcap",
            "strpos",
            "instr",
            "locate",
            "translate",
            "md5",
            "hex",
            "split",
            "regexp_replace",
            "regexp_extract",
            "pow",
            "power",
            "year",
            "month",
            "dayofmonth",
            "dayofweek",
            "weekofyear",
            "quarter",
            "hour",
            "minute",
            "second",
            "date_add",
            "date_sub",
            "datediff",
            "date_diff",
            "add_months",
            "date_format",
            "last_day",
            "unix_timestamp",
            "regexp_like",
            "rlike",
            "starts_with",
            "startswith",
            "ends_with",
            "endswith",
            "contains",
            "bit_length",
            "octet_length",
            "char_length",
            "character_length",
            "length",
            "left",
            "sort_array",
            "array_distinct",
            "array_join",
            "array_to_string",
            "map_keys",
            "map_values",
            "soundex",
            "levenshtein",
            "hypot",
            "atan2",
            "nanvl",
            "ember_checked_add",
            "ember_checked_subtract",
            "ember_checked_multiply",
            "string",
            "date_part",
            "size",
            "cardinality",
            "map_entries",
        ],
        Nulls::AnyArgument,
    ),
    (&["greatest", "least"], Nulls::EveryArgument),
    (&["concat_ws"], Nulls::FirstArgument),
    (&["if", "nvl2"], Nulls::LaterArguments),
    (
        &[
            "hash",
            "xxhash64",
            "uuid",
            "current_database",
            "current_schema",
            "current_catalog",
            "struct",
            "named_struct",
            "map",
            "current_date",
            "now",
            "current_timestamp",
        ],
        Nulls::Never,
    ),
];

/// `f` with Spark's nullability, if [`RULES`] name it and it lacks it.
fn with_spark_nulls(f: &ScalarUDF) -> Option<ScalarUDF> {
    if (f.inner().as_ref() as &dyn std::any::Any).is::<SparkNulls>() {
        return None;
    }
    let (_, rule) = RULES.iter().find(|(names, _)| names.contains(&f.name()))?;
    Some(ScalarUDF::from(SparkNulls { inner: f.clone(), rule: *rule }))
}

/// Wraps the session's functions named in [`RULES`]: SQL text finds them,
/// and executors decode stage plans with them.
pub fn register(ctx: &SessionContext) {
    for (names, _) in RULES {
        for name in *names {
            if let Ok(inner) = datafusion::execution::FunctionRegistry::udf(ctx, name)
                && inner.name() == *name
                && let Some(f) = with_spark_nulls(&inner)
            {
                ctx.register_udf(f);
            }
        }
    }
}

/// Wraps the calls that were built without the registry (DataFrame
/// functions made with DataFusion's `expr_fn`, ember's operators).
#[derive(Debug, Default)]
pub struct SparkNullability;

impl AnalyzerRule for SparkNullability {
    fn name(&self) -> &str {
        "spark_nullability"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let node = node.map_expressions(|e| {
                e.transform_up(|e| match &e {
                    Expr::ScalarFunction(call) => match with_spark_nulls(&call.func) {
                        Some(f) => Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction {
                            func: Arc::new(f),
                            args: call.args.clone(),
                        }))),
                        None => Ok(Transformed::no(e)),
                    },
                    _ => Ok(Transformed::no(e)),
                })
            })?;
            // A node above a changed one has its schema derived again too.
            node.map_data(|p| p.recompute_schema())
        })
        .map(|t| t.data)
    }
}

/// A registered function with Spark's nullability.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkNulls {
    inner: ScalarUDF,
    rule: Nulls,
}

impl ScalarUDFImpl for SparkNulls {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.inner().schema_name(args)
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let spark = match self.rule {
            Nulls::AnyArgument => args.arg_fields.iter().any(|f| f.is_nullable()),
            Nulls::EveryArgument => !args.arg_fields.is_empty() && args.arg_fields.iter().all(|f| f.is_nullable()),
            Nulls::FirstArgument => args.arg_fields.first().is_none_or(|f| f.is_nullable()),
            Nulls::LaterArguments => args.arg_fields.iter().skip(1).any(|f| f.is_nullable()),
            Nulls::Never => false,
        };
        let field = self.inner.return_field_from_args(args)?;
        Ok(match field.is_nullable() && !spark {
            true => Arc::new(field.as_ref().clone().with_nullable(false)),
            false => field,
        })
    }

    fn is_strict(&self) -> bool {
        self.inner.inner().is_strict()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn short_circuits(&self) -> bool {
        self.inner.short_circuits()
    }

    fn evaluate_bounds(&self, input: &[&Interval]) -> Result<Interval> {
        self.inner.evaluate_bounds(input)
    }

    fn propagate_constraints(&self, interval: &Interval, inputs: &[&Interval]) -> Result<Option<Vec<Interval>>> {
        self.inner.propagate_constraints(interval, inputs)
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.output_ordering(inputs)
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.preserves_lex_ordering(inputs)
    }
}
