//! union / unionByName / intersect / except, with Spark's column rules:
//! positional by default, by name (case-insensitive) for `unionByName`,
//! and `allowMissingColumns` filling absent columns with nulls.

use datafusion::common::{NullEquality, ScalarValue};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::logical_expr::{ExprFunctionExt, JoinType};
use ember_common::{ExceptionClass, SparkError};
use spark_connect_proto as sc;
use spark_connect_proto::set_operation::SetOpType;

use super::Planner;
use crate::error::{Result, analysis};
use crate::expr::NamedExpr;

impl Planner<'_> {
    pub(super) async fn set_op(&mut self, s: &sc::SetOperation) -> Result<LogicalPlan> {
        let mut left = self.input(&s.left_input).await?;
        let mut right = self.input(&s.right_input).await?;
        let is_all = s.is_all.unwrap_or(false);
        if s.by_name.unwrap_or(false) {
            (left, right) = self.align_by_name(left, right, s.allow_missing_columns.unwrap_or(false))?;
        }
        let (ln, rn) = (left.schema().fields().len(), right.schema().fields().len());
        let op = s.set_op_type();
        if ln != rn {
            let name = match op {
                SetOpType::Union => "UNION",
                SetOpType::Intersect => "INTERSECT",
                _ => "EXCEPT",
            };
            return Err(SparkError::with_class(
                ExceptionClass::Analysis,
                "NUM_COLUMNS_MISMATCH",
                "42826",
                format!("{name} can only be performed on inputs with the same number of columns, but the first input has {ln} columns and the second input has {rn} columns."),
            )
            .into());
        }
        // The right side takes the left side's names (Spark names by the first input).
        let names: Vec<String> = left.schema().fields().iter().map(|f| f.name().clone()).collect();
        let rcols = right.schema().columns();
        let renamed: Vec<NamedExpr> =
            rcols.into_iter().zip(&names).map(|(c, n)| NamedExpr::new(Expr::Column(c), n.clone())).collect();
        let right = self.project_named(right, renamed)?;
        let b = LogicalPlanBuilder::from(left);
        Ok(match op {
            SetOpType::Union => {
                if is_all {
                    b.union(right)?.build()?
                } else {
                    b.union_distinct(right)?.build()?
                }
            }
            SetOpType::Intersect if is_all => self.with_multiplicity(b.build()?, right, JoinType::LeftSemi)?,
            SetOpType::Except if is_all => self.with_multiplicity(b.build()?, right, JoinType::LeftAnti)?,
            SetOpType::Intersect => LogicalPlanBuilder::intersect(b.build()?, right, false)?,
            SetOpType::Except => LogicalPlanBuilder::except(b.build()?, right, false)?,
            SetOpType::Unspecified => return Err(analysis("set operation without a type")),
        })
    }

    /// `intersectAll` (semi join) and `exceptAll` (anti join): a row
    /// that appears m times on the left and n times on the right is kept
    /// min(m, n) times, or max(m - n, 0) times. The k-th copy of a row on
    /// either side is numbered k, and rows match on their values (NULLs
    /// equal) and their number. DataFusion's INTERSECT ALL keeps all m.
    fn with_multiplicity(&mut self, left: LogicalPlan, right: LogicalPlan, join: JoinType) -> Result<LogicalPlan> {
        const COPY: &str = "__ember_copy";
        let row_number = self.session.ctx().udwf("row_number")?;
        let mut number = |plan: LogicalPlan| -> Result<LogicalPlan> {
            let columns: Vec<Expr> = plan.schema().columns().into_iter().map(Expr::Column).collect();
            let copy =
                Expr::from(WindowFunction::new(row_number.clone(), vec![])).partition_by(columns).build()?.alias(COPY);
            let alias = self.fresh_alias();
            Ok(LogicalPlanBuilder::from(plan).window(vec![copy])?.alias(alias)?.build()?)
        };
        let (left, right) = (number(left)?, number(right)?);
        let keys = |p: &LogicalPlan| p.schema().columns();
        let (lkeys, rkeys) = (keys(&left), keys(&right));
        let outputs: Vec<Expr> = lkeys.iter().filter(|c| c.name != COPY).cloned().map(Expr::Column).collect();
        Ok(LogicalPlanBuilder::from(left)
            .join_detailed(right, join, (lkeys, rkeys), None, NullEquality::NullEqualsNull)?
            .project(outputs)?
            .build()?)
    }

    /// Reorders `right` to `left`'s column names; with `allow_missing`,
    /// columns either side lacks become nulls (left's first, then right's extras).
    fn align_by_name(
        &mut self,
        left: LogicalPlan,
        right: LogicalPlan,
        allow_missing: bool,
    ) -> Result<(LogicalPlan, LogicalPlan)> {
        let ls = left.schema().clone();
        let rs = right.schema().clone();
        let find = |schema: &datafusion::common::DFSchema, name: &str| {
            schema
                .iter()
                .find(|(_, f)| f.name().eq_ignore_ascii_case(name))
                .map(|(q, f)| (datafusion::common::Column::new(q.cloned(), f.name()), f.data_type().clone()))
        };
        let mut left_out = vec![];
        let mut right_out = vec![];
        for (q, f) in ls.iter() {
            left_out.push(NamedExpr::new(
                Expr::Column(datafusion::common::Column::new(q.cloned(), f.name())),
                f.name().clone(),
            ));
            match find(&rs, f.name()) {
                Some((c, _)) => right_out.push(NamedExpr::new(Expr::Column(c), f.name().clone())),
                None if allow_missing => right_out.push(NamedExpr::new(null_of(f.data_type())?, f.name().clone())),
                None => {
                    return Err(SparkError::with_class(
                        ExceptionClass::Analysis,
                        "NUM_COLUMNS_MISMATCH",
                        "42826",
                        format!("UNION can only be performed on inputs with the same number of columns, but column `{}` is missing from the second input.", f.name()),
                    )
                    .into());
                }
            }
        }
        for (q, f) in rs.iter() {
            if find(&ls, f.name()).is_none() {
                if !allow_missing {
                    return Err(analysis(format!(
                        "[NUM_COLUMNS_MISMATCH] column `{}` of the second input is missing from the first input",
                        f.name()
                    )));
                }
                left_out.push(NamedExpr::new(null_of(f.data_type())?, f.name().clone()));
                right_out.push(NamedExpr::new(
                    Expr::Column(datafusion::common::Column::new(q.cloned(), f.name())),
                    f.name().clone(),
                ));
            }
        }
        Ok((self.project_named(left, left_out)?, self.project_named(right, right_out)?))
    }
}

fn null_of(t: &datafusion::arrow::datatypes::DataType) -> Result<Expr> {
    Ok(Expr::Literal(ScalarValue::try_from(t)?, None))
}
