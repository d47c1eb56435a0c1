//! Joins with Spark's output rules: `on` column names appear once (first),
//! semi/anti joins keep only the left side, and two sides that share
//! column names are told apart by plan id.

use datafusion::common::{Column, JoinType};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use ember_common::{ExceptionClass, SparkError};
use spark_connect_proto as sc;
use spark_connect_proto::join::JoinType as SparkJoin;

use super::Planner;
use crate::error::Result;
use crate::expr::{NamedExpr, strip_alias};

impl Planner<'_> {
    pub(super) async fn join(&mut self, j: &sc::Join) -> Result<LogicalPlan> {
        let mark = self.log_mark();
        let mut left = self.input(&j.left).await?;
        let mid = self.log_mark();
        let mut right = self.input(&j.right).await?;
        let end = self.log_mark();

        // Two sides with the same qualified columns (a self-join, or two
        // reads of one table), or a name one side has unqualified (a
        // renamed column) and the other has at all, get hidden aliases so
        // each stays addressable.
        let lcols = left.schema().columns();
        let rcols = right.schema().columns();
        let clash =
            |c: &Column, r: &Column| c == r || (c.name == r.name && (c.relation.is_none() || r.relation.is_none()));
        if lcols.iter().any(|c| rcols.iter().any(|r| clash(c, r))) {
            let la = self.fresh_alias();
            self.requalify(mark, mid, &lcols, &la);
            left = LogicalPlanBuilder::from(left).alias(la)?.build()?;
            let ra = self.fresh_alias();
            self.requalify(mid, end, &rcols, &ra);
            right = LogicalPlanBuilder::from(right).alias(ra)?.build()?;
        }

        let join_type = match j.join_type() {
            SparkJoin::Inner | SparkJoin::Unspecified => JoinType::Inner,
            SparkJoin::FullOuter => JoinType::Full,
            SparkJoin::LeftOuter => JoinType::Left,
            SparkJoin::RightOuter => JoinType::Right,
            SparkJoin::LeftAnti => JoinType::LeftAnti,
            SparkJoin::LeftSemi => JoinType::LeftSemi,
            SparkJoin::Cross => JoinType::Inner,
        };

        if !j.using_columns.is_empty() {
            return self.join_using(left, right, join_type, &j.using_columns);
        }
        match &j.join_condition {
            Some(cond) => {
                let joined_schema = left.schema().join(right.schema())?;
                let c = self.expr(cond, &joined_schema)?;
                Ok(LogicalPlanBuilder::from(left).join_on(right, join_type, vec![strip_alias(c.expr)])?.build()?)
            }
            None if matches!(join_type, JoinType::Inner) => {
                Ok(LogicalPlanBuilder::from(left).cross_join(right)?.build()?)
            }
            None => Ok(LogicalPlanBuilder::from(left)
                .join_on(right, join_type, vec![datafusion::logical_expr::lit(true)])?
                .build()?),
        }
    }

    /// `df.join(other, ["k"])`: equality on `k`; the output has `k` once,
    /// then the left's other columns, then the right's.
    fn join_using(
        &mut self,
        left: LogicalPlan,
        right: LogicalPlan,
        join_type: JoinType,
        names: &[String],
    ) -> Result<LogicalPlan> {
        let (ls, rs) = (left.schema().clone(), right.schema().clone());
        let mut lkeys = vec![];
        let mut rkeys = vec![];
        for n in names {
            let quoted = format!("`{}`", n.replace('`', "``"));
            let (l, _) = self.resolve_attribute(&quoted, None, &ls).map_err(|_| using_missing(n, "left"))?;
            let (r, _) = self.resolve_attribute(&quoted, None, &rs).map_err(|_| using_missing(n, "right"))?;
            lkeys.push(l);
            rkeys.push(r);
        }
        let as_cols = |v: &[Expr]| -> Vec<Column> {
            v.iter().filter_map(|e| if let Expr::Column(c) = e { Some(c.clone()) } else { None }).collect()
        };
        let (lc, rc) = (as_cols(&lkeys), as_cols(&rkeys));
        let joined = LogicalPlanBuilder::from(left).join(right, join_type, (lc.clone(), rc.clone()), None)?.build()?;

        let mut out = vec![];
        for ((l, r), name) in lc.iter().zip(&rc).zip(names) {
            let key = match join_type {
                JoinType::Right => Expr::Column(r.clone()),
                JoinType::Full => datafusion::functions::core::expr_fn::coalesce(vec![
                    Expr::Column(l.clone()),
                    Expr::Column(r.clone()),
                ]),
                _ => Expr::Column(l.clone()),
            };
            let actual = match &key {
                Expr::Column(c) => c.name.clone(),
                _ => l.name.clone(),
            };
            let _ = name;
            out.push(NamedExpr::new(key, actual));
        }
        for c in ls.columns() {
            if !lc.contains(&c) {
                let n = c.name.clone();
                out.push(NamedExpr::new(Expr::Column(c), n));
            }
        }
        if !matches!(join_type, JoinType::LeftSemi | JoinType::LeftAnti) {
            for c in rs.columns() {
                if !rc.contains(&c) {
                    let n = c.name.clone();
                    out.push(NamedExpr::new(Expr::Column(c), n));
                }
            }
        }
        self.project_named(joined, out)
    }
}

fn using_missing(name: &str, side: &str) -> crate::error::Error {
    SparkError::with_class(
        ExceptionClass::Analysis,
        "UNRESOLVED_USING_COLUMN_FOR_JOIN",
        "42703",
        format!("USING column `{name}` cannot be resolved on the {side} side of the join."),
    )
    .into()
}
