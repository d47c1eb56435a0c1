//! Spark SQL's generator forms DataFusion's planner lacks, as SELECT-list
//! generators (`crate::plan::generate` plans those):
//!
//! - `LATERAL VIEW [OUTER] explode(a) t AS x`: the FROM relation becomes
//!   `(SELECT s.*, explode(a) AS x FROM <relation> s) s`, keeping the
//!   relation's name `s`, and `t.x` elsewhere in the query reads `s.x`.
//!   Several views nest in order, so a view may read an earlier one's
//!   columns. An unaliased subquery gets a name of its own. A FROM with
//!   joins is not supported (UNSUPPORTED_FEATURE).
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
    let unsupported = || SparkError::unsupported("LATERAL VIEW over a FROM clause with joins or several relations");
    let [from] = select.from.as_mut_slice() else { return Err(unsupported()) };
    if !from.joins.is_empty() {
        return Err(unsupported());
    }
    let name = match &mut from.relation {
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
            _ => return Err(unsupported()),
        },
        // An unaliased subquery: its columns are read unqualified.
        ast::TableFactor::Derived { alias, .. } => {
            let name = Ident::new("__ember_lateral_from");
            *alias = Some(ast::TableAlias { explicit: true, name: name.clone(), columns: vec![], at: None });
            name
        }
        _ => return Err(unsupported()),
    };
    let mut view_names: Vec<String> = vec![];
    let mut relation = from.relation.clone();
    for view in views {
        let mut generator = view.lateral_view;
        requalify(&mut generator, &view_names, &name);
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
        relation = derived(relation, &name, generator_parts(item))?;
        if let Some(ast::ObjectNamePart::Identifier(i)) = view.lateral_view_name.0.last() {
            view_names.push(i.value.to_ascii_lowercase());
        }
    }
    from.relation = relation;
    requalify(q, &view_names, &name);
    Ok(())
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

/// `t.x` for a view `t` reads `name.x`.
fn requalify<V: VisitMut>(node: &mut V, views: &[String], name: &Ident) {
    struct Requalify<'a>(&'a [String], &'a Ident);
    impl VisitorMut for Requalify<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(parts) = e
                && parts.len() == 2
                && self.0.contains(&parts[0].value.to_ascii_lowercase())
            {
                parts[0] = self.1.clone();
            }
            ControlFlow::Continue(())
        }
    }
    if !views.is_empty() {
        let _ = node.visit(&mut Requalify(views, name));
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
