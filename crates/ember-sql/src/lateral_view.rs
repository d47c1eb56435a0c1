//! Spark SQL's generator forms DataFusion's planner lacks, as SELECT-list
//! generators (`crate::plan::generate` plans those):
//!
//! - `LATERAL VIEW [OUTER] explode(a) t AS x`: the FROM relation becomes
//!   `(SELECT s.*, explode(a) AS x FROM <relation> s) s`, keeping the
//!   relation's name `s`, and `t.x` elsewhere in the query reads `s.x`.
//!   Several views nest in order, so a view may read an earlier one's
//!   columns. An unaliased subquery gets a name of its own. Over joins a
//!   view goes to the relation its generator names (`explode(b.tags)`),
//!   below the join; on a side an outer join fills with NULLs, a marker
//!   column drops the rows the join adds, as Spark's view (not OUTER) does.
//! - `posexplode(a) AS (p, v)`: a multi-name alias on a generator becomes
//!   one item per name, `__ember_generator_part(a, 'posexplode', i) AS
//!   name`, which the planner sees with each column's name and type
//!   (`crate::plan::generate::SqlGeneratorPart`).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{self, Expr, Ident, ObjectName, SelectItem, VisitMut, VisitorMut};
use ember_common::SparkError;

const GENERATORS: &[&str] = &["explode", "posexplode", "inline", "explode_outer", "posexplode_outer", "inline_outer"];

/// Rewrites the statement's LATERAL VIEWs and generator multi-aliases.
pub fn rewrite(stmt: &mut ast::Statement) -> Result<(), SparkError> {
    struct Rewrite(Option<SparkError>);
    impl VisitorMut for Rewrite {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut ast::Query) -> ControlFlow<()> {
            if let Err(e) = query(q) {
                self.0 = Some(e);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut r = Rewrite(None);
    let _ = stmt.visit(&mut r);
    r.0.map_or(Ok(()), Err)
}

fn query(q: &mut ast::Query) -> Result<(), SparkError> {
    let ast::SetExpr::Select(select) = q.body.as_mut() else { return Ok(()) };
    select.projection = std::mem::take(&mut select.projection).into_iter().flat_map(generator_parts).collect();
    if select.lateral_views.is_empty() {
        return Ok(());
    }
    let views = std::mem::take(&mut select.lateral_views);
    let single = matches!(select.from.as_slice(), [from] if from.joins.is_empty());
    // Each view's generator runs beside the rows of the relation it reads
    // (its host): `view name → host name`.
    let mut hosts: Vec<(String, Ident)> = vec![];
    // The columns each view adds, by host, while every view names them.
    let mut added: Option<Vec<(Ident, Ident)>> = Some(vec![]);
    let mut markers: Vec<(Ident, Ident)> = vec![];
    for view in views {
        let mut generator = view.lateral_view;
        requalify(&mut generator, &hosts);
        let host = if single { None } else { Some(host_of(&generator)?) };
        let (relation, kept) = host_relation(&mut select.from, host.as_deref())?;
        let name = relation_name(relation)?;
        if view.outer
            && let Expr::Function(f) = &mut generator
        {
            let called = f.name.to_string().to_ascii_lowercase();
            if !called.ends_with("_outer") {
                f.name = ObjectName::from(vec![Ident::new(format!("{called}_outer"))]);
            }
        }
        let item = match view.lateral_col_alias.as_slice() {
            [] => SelectItem::UnnamedExpr(generator),
            [one] => SelectItem::ExprWithAlias { expr: generator, alias: one.clone() },
            many => SelectItem::ExprWithAliases { expr: generator, aliases: many.to_vec() },
        };
        let mut items = generator_parts(item);
        // On a side an outer join may fill with NULLs, the rows the join
        // adds for no row of the host (which Spark's view drops) are told by
        // a column that only the host's rows have.
        if !kept && !view.outer {
            let marker = Ident::new(format!("__ember_lateral_row_{}", markers.len()));
            items.push(SelectItem::ExprWithAlias {
                expr: Expr::value(ast::Value::Boolean(true)),
                alias: marker.clone(),
            });
            markers.push((name.clone(), marker));
        }
        *relation = derived(relation.clone(), &name, items)?;
        if view.lateral_col_alias.is_empty() {
            added = None;
        }
        if let Some(added) = &mut added {
            added.extend(view.lateral_col_alias.iter().map(|c| (name.clone(), c.clone())));
        }
        if let Some(ast::ObjectNamePart::Identifier(i)) = view.lateral_view_name.0.last() {
            hosts.push((i.value.to_ascii_lowercase(), name));
        }
    }
    for (host, marker) in &markers {
        let kept = Expr::IsNotNull(Box::new(Expr::CompoundIdentifier(vec![host.clone(), marker.clone()])));
        select.selection = Some(match select.selection.take() {
            Some(w) => Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(w))),
                op: ast::BinaryOperator::And,
                right: Box::new(kept),
            },
            None => kept,
        });
    }
    match (single, added) {
        (false, Some(added)) => star_after_relations(select, &added, &markers)?,
        (_, None) if !markers.is_empty() && select.projection.iter().any(|i| matches!(i, SelectItem::Wildcard(_))) => {
            return Err(unsupported("without column names under SELECT * over an outer join"));
        }
        _ => {}
    }
    requalify(q, &hosts);
    Ok(())
}

/// `SELECT *` over joins: the relations' own columns in FROM order, then
/// the views' columns, as Spark orders them.
fn star_after_relations(
    select: &mut ast::Select,
    added: &[(Ident, Ident)],
    markers: &[(Ident, Ident)],
) -> Result<(), SparkError> {
    let Some(star) = select.projection.iter().position(|i| matches!(i, SelectItem::Wildcard(_))) else {
        return Ok(());
    };
    let mut items = vec![];
    for t in select.from.iter_mut() {
        let mut relations = vec![&mut t.relation];
        relations.extend(t.joins.iter_mut().map(|j| &mut j.relation));
        for relation in relations {
            let name = relation_name(relation)?;
            let own: Vec<Ident> =
                added.iter().chain(markers).filter(|(h, _)| h.value == name.value).map(|(_, c)| c.clone()).collect();
            let options = ast::WildcardAdditionalOptions {
                opt_exclude: (!own.is_empty()).then(|| {
                    ast::ExcludeSelectItem::Multiple(own.into_iter().map(|c| ObjectName::from(vec![c])).collect())
                }),
                ..Default::default()
            };
            items.push(SelectItem::QualifiedWildcard(
                ast::SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![name])),
                options,
            ));
        }
    }
    items.extend(
        added.iter().map(|(h, c)| SelectItem::UnnamedExpr(Expr::CompoundIdentifier(vec![h.clone(), c.clone()]))),
    );
    select.projection.splice(star..=star, items);
    Ok(())
}

fn unsupported(what: &str) -> SparkError {
    SparkError::unsupported(format!("LATERAL VIEW {what}"))
}

/// The relation a generator over several relations reads: the one all its
/// qualified columns name (`explode(b.tags)`).
fn host_of(generator: &Expr) -> Result<String, SparkError> {
    let mut names: Vec<String> = vec![];
    let mut unqualified = false;
    let _ = datafusion::sql::sqlparser::ast::visit_expressions(generator, |e| {
        match e {
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let name = parts[0].value.to_ascii_lowercase();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            Expr::Identifier(_) => unqualified = true,
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    match names.as_slice() {
        [one] if !unqualified => Ok(one.clone()),
        _ => Err(unsupported(
            "over joins or several relations whose generator does not name its columns by one relation (write `explode(t.col)`)",
        )),
    }
}

/// Whether a join keeps every row of its left side (and so of the
/// relations joined before it), and of its right side.
fn preserves(op: &ast::JoinOperator) -> (bool, bool) {
    use ast::JoinOperator as J;
    match op {
        J::Left(_) | J::LeftOuter(_) => (true, false),
        J::Right(_) | J::RightOuter(_) => (false, true),
        J::FullOuter(_) => (false, false),
        _ => (true, true),
    }
}

/// The relation `host` names in the FROM clause (the only one when none is
/// named), and whether the joins keep every row of its side (else they may
/// add rows of NULLs for it).
fn host_relation<'a>(
    from: &'a mut [ast::TableWithJoins],
    host: Option<&str>,
) -> Result<(&'a mut ast::TableFactor, bool), SparkError> {
    let named = |r: &ast::TableFactor| match (r, host) {
        (_, None) => true,
        (
            ast::TableFactor::Table { alias: Some(a), .. } | ast::TableFactor::Derived { alias: Some(a), .. },
            Some(h),
        ) => a.name.value.eq_ignore_ascii_case(h),
        (ast::TableFactor::Table { name, alias: None, .. }, Some(h)) => {
            matches!(name.0.last(), Some(ast::ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case(h))
        }
        _ => false,
    };
    for t in from.iter_mut() {
        // The join index of the host (0 for the leftmost relation).
        let position =
            if named(&t.relation) { Some(0) } else { t.joins.iter().position(|j| named(&j.relation)).map(|i| i + 1) };
        let Some(position) = position else { continue };
        let kept = t.joins.iter().enumerate().all(|(i, j)| {
            let (left, right) = preserves(&j.join_operator);
            if i + 1 < position {
                true
            } else if i + 1 == position {
                right
            } else {
                left
            }
        });
        if let Some(j) = position.checked_sub(1).and_then(|i| t.joins.get(i))
            && matches!(
                j.join_operator,
                ast::JoinOperator::Semi(_)
                    | ast::JoinOperator::LeftSemi(_)
                    | ast::JoinOperator::Anti(_)
                    | ast::JoinOperator::LeftAnti(_)
            )
        {
            return Err(unsupported("of the right side of a semi or anti join"));
        }
        let relation = match position {
            0 => &mut t.relation,
            i => &mut t.joins[i - 1].relation,
        };
        return Ok((relation, kept));
    }
    Err(unsupported(&format!("of `{}`, which the FROM clause does not name", host.unwrap_or_default())))
}

/// The name a relation's columns are read by, given one when it has none.
fn relation_name(relation: &mut ast::TableFactor) -> Result<Ident, SparkError> {
    Ok(match relation {
        ast::TableFactor::Table { alias: Some(a), .. } | ast::TableFactor::Derived { alias: Some(a), .. } => {
            a.name.clone()
        }
        // An unaliased table (or table function: `range(3)`) is aliased by its name.
        ast::TableFactor::Table { name, alias, .. } => match name.0.last() {
            Some(ast::ObjectNamePart::Identifier(i)) => {
                let i = i.clone();
                *alias = Some(ast::TableAlias { explicit: true, name: i.clone(), columns: vec![], at: None });
                i
            }
            _ => return Err(unsupported("over this relation")),
        },
        // An unaliased subquery: its columns are read unqualified.
        ast::TableFactor::Derived { alias, .. } => {
            let name = Ident::new("__ember_lateral_from");
            *alias = Some(ast::TableAlias { explicit: true, name: name.clone(), columns: vec![], at: None });
            name
        }
        _ => return Err(unsupported("over this relation")),
    })
}

/// `(SELECT name.*, items FROM relation) name`.
fn derived(relation: ast::TableFactor, name: &Ident, items: Vec<SelectItem>) -> Result<ast::TableFactor, SparkError> {
    let template = "SELECT __lateral.*, 1 FROM __lateral";
    let parsed = crate::dialect::parse_statement(template, 64).map_err(|e| SparkError::analysis(e.to_string()))?;
    let datafusion::sql::parser::Statement::Statement(stmt) = parsed else {
        return Err(SparkError::analysis("LATERAL VIEW template"));
    };
    let ast::Statement::Query(mut subquery) = *stmt else { return Err(SparkError::analysis("LATERAL VIEW template")) };
    let ast::SetExpr::Select(select) = subquery.body.as_mut() else {
        return Err(SparkError::analysis("LATERAL VIEW template"));
    };
    select.projection = vec![SelectItem::QualifiedWildcard(
        ast::SelectItemQualifiedWildcardKind::ObjectName(ObjectName::from(vec![name.clone()])),
        ast::WildcardAdditionalOptions::default(),
    )];
    select.projection.extend(items);
    select.from[0].relation = relation;
    Ok(ast::TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(ast::TableAlias { explicit: true, name: name.clone(), columns: vec![], at: None }),
        sample: None,
    })
}

/// `t.x` for a view `t` reads `host.x`, the relation the view's columns
/// were added to.
fn requalify<V: VisitMut>(node: &mut V, hosts: &[(String, Ident)]) {
    struct Requalify<'a>(&'a [(String, Ident)]);
    impl VisitorMut for Requalify<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(parts) = e
                && parts.len() == 2
                && let Some((_, host)) = self.0.iter().find(|(v, _)| parts[0].value.eq_ignore_ascii_case(v))
            {
                parts[0] = host.clone();
            }
            ControlFlow::Continue(())
        }
    }
    if !hosts.is_empty() {
        let _ = node.visit(&mut Requalify(hosts));
    }
}

/// `gen(a) AS (x, y)` as `part(a, 'gen', 0) AS x, part(a, 'gen', 1) AS y`;
/// any other item as it is.
fn generator_parts(item: SelectItem) -> Vec<SelectItem> {
    let SelectItem::ExprWithAliases { expr: Expr::Function(f), aliases } = &item else { return vec![item] };
    let called = f.name.to_string().to_ascii_lowercase();
    let ast::FunctionArguments::List(list) = &f.args else { return vec![item] };
    let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(input))] = list.args.as_slice() else {
        return vec![item];
    };
    if !GENERATORS.contains(&called.as_str()) {
        return vec![item];
    }
    let arg = |e: Expr| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e));
    aliases
        .iter()
        .enumerate()
        .map(|(i, alias)| {
            let call = ast::Function {
                name: ObjectName::from(vec![Ident::new(crate::plan::generate::SqlGeneratorPart::NAME)]),
                uses_odbc_syntax: false,
                parameters: ast::FunctionArguments::None,
                args: ast::FunctionArguments::List(ast::FunctionArgumentList {
                    duplicate_treatment: None,
                    args: vec![
                        arg(input.clone()),
                        arg(Expr::value(ast::Value::SingleQuotedString(called.clone()))),
                        arg(Expr::value(ast::Value::Number(i.to_string(), false))),
                    ],
                    clauses: vec![],
                }),
                filter: None,
                null_treatment: None,
                over: None,
                within_group: vec![],
            };
            SelectItem::ExprWithAlias { expr: Expr::Function(call), alias: alias.clone() }
        })
        .collect()
}
