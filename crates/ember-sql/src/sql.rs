//! `spark.sql(...)`: queries become plans (run when an action asks);
//! statements (`CREATE TEMP VIEW`, `DROP VIEW`, `SET`, `SHOW TABLES`,
//! other DDL) run when the command arrives, as in Spark.

use std::ops::ControlFlow;

use datafusion::common::{ParamValues, ScalarValue};
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{self as ast, Value, VisitMut, VisitorMut};
use ember_common::SparkError;
use spark_connect_proto as sc;

use crate::error::Result;
use crate::plan::Planner;

/// What a SQL text is, once parsed.
pub enum SqlOutcome {
    /// A query: the plan, to run when an action asks.
    Query,
    /// A statement that already ran; its output rows (may be empty).
    Done(LogicalPlan),
}

/// Plans a `SQL` relation (a query) with its parameters.
pub async fn query_plan(planner: &mut Planner<'_>, s: &sc::Sql) -> Result<LogicalPlan> {
    let (mut stmt, _files) = parse(planner, &s.query).await?;
    let params = parameters(planner, s)?;
    let grouped = has_group_by(&stmt);
    let plan = planner
        .session
        .ctx()
        .state()
        .statement_to_plan(std::mem::replace(&mut stmt, empty_stmt()))
        .await
        .map_err(|e| missing_aggregation(e, grouped))?;
    // A parameter without a value is UNBOUND_SQL_PARAMETER, whether some
    // arguments were given or none.
    let unbound = |name: &str| -> crate::error::Error {
        let name = name.trim_start_matches('$');
        SparkError::with_class(
            ember_common::ExceptionClass::Analysis,
            "UNBOUND_SQL_PARAMETER",
            "42P02",
            format!("Found the unbound parameter: {name}. Please, fix `args` and provide a mapping of the parameter to either a SQL literal or collection constructor functions such as `map()`, `array()`, `struct()`."),
        )
        .param("name", name)
        .into()
    };
    let mut names: Vec<String> = plan.get_parameter_names()?.into_iter().collect();
    names.sort();
    let plan = match params {
        Some(p) => {
            if let Some(missing) = names.iter().find(|n| match &p {
                ParamValues::Map(m) => !m.contains_key(n.trim_start_matches('$')),
                ParamValues::List(l) => {
                    n.trim_start_matches('$').parse::<usize>().map_or(true, |i| i == 0 || i > l.len())
                }
            }) {
                return Err(unbound(missing));
            }
            plan.with_param_values(p)?
        }
        None if !names.is_empty() => return Err(unbound(&names[0])),
        None => plan,
    };
    let tz = planner.session.time_zone();
    let plan = crate::sql_using::using_joins(plan)?;
    let plan = crate::sql_types::spark_sql_types(plan, planner.sql_types(&tz))?;
    spark_output_names(crate::inline_table::name_values_plan(plan)?)
}

/// Spark names SQL result columns without qualifiers (`sum(l_quantity)`,
/// not `sum(lineitem.l_quantity)`) and counts rows as `count(1)`.
fn spark_output_names(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut qualifiers: Vec<String> = vec![];
    let _ = plan.apply(|p| {
        match p {
            LogicalPlan::TableScan(t) => qualifiers.push(t.table_name.table().to_string()),
            LogicalPlan::SubqueryAlias(a) => qualifiers.push(a.alias.table().to_string()),
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    });
    let pattern = qualifier_pattern(&qualifiers);
    let rename = |name: &str| {
        let name = name.split(crate::sql_names::REPEATED).next().unwrap_or(name);
        spark_name(name, pattern.as_ref())
    };
    let fields: Vec<(Option<datafusion::common::TableReference>, String)> =
        plan.schema().iter().map(|(q, f)| (q.cloned(), f.name().clone())).collect();
    if fields.iter().all(|(_, n)| rename(n) == *n) {
        return Ok(plan);
    }
    // Columns of one name get qualifiers of their own: DataFusion takes
    // `q1.a` and `q2.a` as two names, though not `a` and `q.a`.
    let mut count = std::collections::HashMap::new();
    for (_, n) in &fields {
        *count.entry(rename(n)).or_insert(0) += 1;
    }
    let mut taken = std::collections::HashSet::new();
    let exprs: Vec<datafusion::logical_expr::Expr> = fields
        .into_iter()
        .enumerate()
        .map(|(i, (q, n))| {
            let new = rename(&n);
            let repeated = count[&new] > 1 && (q.is_none() || !taken.insert((q.clone(), new.clone())));
            let c = datafusion::logical_expr::Expr::Column(datafusion::common::Column::new(q, n.clone()));
            if repeated {
                c.alias_qualified(Some(datafusion::common::TableReference::bare(format!("__repeated_{i}"))), new)
            } else if new == n {
                c
            } else {
                c.alias(new)
            }
        })
        .collect();
    Ok(datafusion::logical_expr::LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// Matches `q.` for any of `qualifiers`, only where `q` is a whole word
/// (with a table `t`, the `t.` inside `at.x` is not a qualifier).
fn qualifier_pattern(qualifiers: &[String]) -> Option<regex::Regex> {
    if qualifiers.is_empty() {
        return None;
    }
    let alternatives: Vec<String> = qualifiers.iter().map(|q| regex::escape(q)).collect();
    regex::Regex::new(&format!(r"\b(?:{})\.", alternatives.join("|"))).ok()
}

/// Spark's name for a SQL result column DataFusion named `name`.
fn spark_name(name: &str, qualifiers: Option<&regex::Regex>) -> String {
    if !name.contains('(') {
        return name.to_string();
    }
    let n = name.replace("count(*)", "count(1)");
    match qualifiers {
        Some(re) => re.replace_all(&n, "").into_owned(),
        None => n,
    }
}

/// Whether any SELECT in the statement has a GROUP BY.
fn has_group_by(stmt: &DFStatement) -> bool {
    use datafusion::sql::sqlparser::ast::{Visit, Visitor};
    struct Finder;
    impl Visitor for Finder {
        type Break = ();
        fn pre_visit_query(&mut self, q: &ast::Query) -> ControlFlow<()> {
            match q.body.as_ref() {
                ast::SetExpr::Select(s) => match &s.group_by {
                    ast::GroupByExpr::All(_) => ControlFlow::Break(()),
                    ast::GroupByExpr::Expressions(e, _) if !e.is_empty() => ControlFlow::Break(()),
                    _ => ControlFlow::Continue(()),
                },
                _ => ControlFlow::Continue(()),
            }
        }
    }
    match stmt {
        DFStatement::Statement(s) => s.visit(&mut Finder).is_break(),
        _ => false,
    }
}

/// DataFusion's "Column in SELECT must be in GROUP BY or an aggregate
/// function" is Spark's MISSING_AGGREGATION, or MISSING_GROUP_BY when the
/// query has no GROUP BY.
fn missing_aggregation(e: datafusion::error::DataFusionError, grouped: bool) -> crate::error::Error {
    let datafusion::error::DataFusionError::Plan(m) = e.find_root() else { return e.into() };
    if !m.contains("Column in SELECT must be in GROUP BY or an aggregate function") {
        return e.into();
    }
    if !grouped {
        return SparkError::with_class(
            ember_common::ExceptionClass::Analysis,
            "MISSING_GROUP_BY",
            "42803",
            "The query does not include a GROUP BY clause. Add GROUP BY or turn it into the window functions using OVER clauses.",
        )
        .into();
    }
    let column = m.split("column \"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
    let column = column.rsplit('.').next().unwrap_or(column);
    SparkError::with_class(
        ember_common::ExceptionClass::Analysis,
        "MISSING_AGGREGATION",
        "42803",
        format!("The non-aggregating expression \"{column}\" is based on columns which are not participating in the GROUP BY clause. Add the columns or the expression to the GROUP BY, aggregate the expression, or use \"any_value({column})\" if you do not care which of the values within a group is returned."),
    )
    .param("expression", format!("\"{column}\""))
    .param("expressionAnyValue", format!("\"any_value({column})\""))
    .into()
}

fn empty_stmt() -> DFStatement {
    DFStatement::Statement(Box::new(ast::Statement::Flush {
        object_type: ast::FlushType::Tables,
        location: None,
        channel: None,
        read_lock: false,
        export: false,
        tables: vec![],
    }))
}

/// Runs a SQL text as a command: statements run now, queries are left as
/// plans for later.
pub async fn run_command(planner: &mut Planner<'_>, sql: &str) -> Result<SqlOutcome> {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    let upper = trimmed.to_ascii_uppercase();
    if upper == "SET" || upper.starts_with("SET ") {
        return set_command(planner, trimmed[3..].trim()).map(SqlOutcome::Done);
    }
    if let Some(stmt) = crate::catalog_sql::parse(trimmed) {
        return crate::catalog_sql::run(planner, stmt?).await.map(SqlOutcome::Done);
    }
    if let Some(names) = view_rename(trimmed) {
        let (from, to) = names?;
        rename(planner, &from, &to).await?;
        return Ok(SqlOutcome::Done(empty(planner)?));
    }
    if let Some(plan) = describe(planner, trimmed).await? {
        return Ok(SqlOutcome::Done(plan));
    }
    if let Some(create) = crate::create_table::parse(trimmed) {
        create_table(planner, create?).await?;
        return Ok(SqlOutcome::Done(empty(planner)?));
    }
    let (stmt, _files) = parse(planner, trimmed).await?;
    let DFStatement::Statement(inner) = &stmt else {
        let plan = planner.session.ctx().state().statement_to_plan(stmt).await?;
        planner.collect(plan).await?;
        return Ok(SqlOutcome::Done(empty(planner)?));
    };
    match inner.as_ref() {
        ast::Statement::Query(_) => Ok(SqlOutcome::Query),
        ast::Statement::CreateView(cv) => {
            let name = cv.name.0.last().map(|p| p.to_string()).unwrap_or_default();
            let name = name.trim_matches('`').trim_matches('"').to_string();
            let query = DFStatement::Statement(Box::new(ast::Statement::Query(cv.query.clone())));
            let plan = planner.session.ctx().state().statement_to_plan(query).await?;
            let tz = planner.session.time_zone();
            let plan = crate::sql_using::using_joins(plan)?;
            let mut plan = crate::sql_types::spark_sql_types(plan, planner.sql_types(&tz))?;
            // `CREATE VIEW v (a, b) AS ...` names the view's columns.
            if !cv.columns.is_empty() {
                let cols = plan.schema().columns();
                if cols.len() != cv.columns.len() {
                    return Err(SparkError::analysis(format!(
                        "[CREATE_VIEW_COLUMN_ARITY_MISMATCH] Cannot create view `{name}`: {} columns named, the query returns {}.",
                        cv.columns.len(),
                        cols.len()
                    ))
                    .into());
                }
                let exprs: Vec<datafusion::logical_expr::Expr> = cols
                    .into_iter()
                    .zip(&cv.columns)
                    .map(|(c, def)| datafusion::logical_expr::Expr::Column(c).alias(def.name.value.clone()))
                    .collect();
                plan = datafusion::logical_expr::LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
            }
            crate::catalog::create_temp_view(planner.session, &name, plan, cv.or_replace)?;
            Ok(SqlOutcome::Done(empty(planner)?))
        }
        ast::Statement::Drop {
            object_type: object_type @ (ast::ObjectType::View | ast::ObjectType::Table),
            names,
            if_exists,
            ..
        } => {
            // DROP TABLE drops a temp view of the name first, as in Spark.
            for n in names {
                let name = n.to_string();
                let view = n.0.len() == 1 && crate::catalog::drop_temp_view(planner.session, &name)?;
                let table = !view
                    && *object_type == ast::ObjectType::Table
                    && crate::tables::drop_table(planner.session, &crate::tables::table_key(planner.session, &name)?)?;
                if !view && !table && !*if_exists {
                    return Err(SparkError::table_not_found(&name).into());
                }
            }
            Ok(SqlOutcome::Done(empty(planner)?))
        }
        ast::Statement::AlterTable(alter)
            if matches!(alter.operations.as_slice(), [ast::AlterTableOperation::RenameTable { .. }]) =>
        {
            let [
                ast::AlterTableOperation::RenameTable {
                    table_name: ast::RenameTableNameKind::To(to) | ast::RenameTableNameKind::As(to),
                },
            ] = alter.operations.as_slice()
            else {
                return Err(SparkError::unsupported("this ALTER TABLE").into());
            };
            rename(planner, &alter.name.to_string(), &to.to_string()).await?;
            Ok(SqlOutcome::Done(empty(planner)?))
        }
        ast::Statement::Insert(insert) => {
            insert_into(planner, insert).await?;
            Ok(SqlOutcome::Done(empty(planner)?))
        }
        ast::Statement::Truncate(t) if t.partitions.is_none() => {
            for target in &t.table_names {
                crate::tables::truncate(planner.session, &target.name.to_string()).await?;
            }
            Ok(SqlOutcome::Done(empty(planner)?))
        }
        _ => {
            let plan = planner.session.ctx().state().statement_to_plan(stmt).await?;
            let batches = planner.collect(plan.clone()).await?;
            let schema = std::sync::Arc::new(plan.schema().as_arrow().clone());
            Ok(SqlOutcome::Done(planner.batches_plan(schema, batches)?))
        }
    }
}

/// `ALTER TABLE | VIEW from RENAME TO to`: a temp view, else a table.
async fn rename(planner: &mut Planner<'_>, from: &str, to: &str) -> Result<()> {
    let session = planner.session;
    match crate::catalog::resolve(session, from)? {
        Some(crate::catalog::Relation::View(view)) => {
            let to = crate::expr::parse_identifier(to)?.last().cloned().unwrap_or_default();
            crate::catalog::rename_temp_view(session, &view, &to)
        }
        _ => crate::tables::rename(session, from, to).await,
    }
}

/// `ALTER VIEW from RENAME TO to`, which sqlparser does not read.
fn view_rename(sql: &str) -> Option<Result<(String, String)>> {
    use datafusion::sql::sqlparser::keywords::Keyword;
    let tokens = crate::create_table::tokenize(sql)?;
    let mut p = crate::create_table::Cursor::new(sql, &tokens);
    if !(p.word(Keyword::ALTER) && p.word(Keyword::VIEW)) {
        return None;
    }
    let from = p.name();
    if !p.word(Keyword::RENAME) {
        return None;
    }
    Some(from.and_then(|from| {
        p.expect(Keyword::TO)?;
        let to = p.name()?;
        if p.at_end() { Ok((from, to)) } else { Err(p.error()) }
    }))
}

/// `DESC[RIBE] [TABLE] name` of a temp view or table: Spark's rows
/// (`col_name`, `data_type`, `comment`), then a table's partition columns.
/// None when the statement is another DESCRIBE.
async fn describe(planner: &mut Planner<'_>, sql: &str) -> Result<Option<LogicalPlan>> {
    use datafusion::arrow::array::StringArray;
    use datafusion::arrow::datatypes::{DataType, Field};
    let mut words = sql.split_whitespace();
    if !matches!(words.next().map(str::to_ascii_uppercase).as_deref(), Some("DESC" | "DESCRIBE")) {
        return Ok(None);
    }
    let mut name = words.next().unwrap_or_default();
    if name.eq_ignore_ascii_case("TABLE") {
        name = words.next().unwrap_or_default();
    }
    if name.is_empty()
        || words.next().is_some()
        || ["EXTENDED", "FORMATTED", "QUERY", "FUNCTION"].contains(&name.to_ascii_uppercase().as_str())
    {
        return Ok(None);
    }
    let Some(found) = crate::catalog::resolve(planner.session, name)? else {
        return Err(SparkError::table_not_found(name).into());
    };
    let schema = found.schema(planner.session).await?;
    let partitions = match &found {
        crate::catalog::Relation::Table(t) => {
            crate::tables::get(t).map(|t| t.partition_columns.clone()).unwrap_or_default()
        }
        _ => vec![],
    };
    let mut rows: Vec<(String, String, Option<String>)> =
        schema.fields().iter().map(|f| (f.name().clone(), crate::types::simple_string(f.data_type()), None)).collect();
    if !partitions.is_empty() {
        rows.push(("# Partition Information".into(), String::new(), Some(String::new())));
        rows.push(("# col_name".into(), "data_type".into(), Some("comment".into())));
        for p in &partitions {
            if let Some(f) = schema.fields().iter().find(|f| f.name().eq_ignore_ascii_case(p)) {
                rows.push((f.name().clone(), crate::types::simple_string(f.data_type()), None));
            }
        }
    }
    let plan = planner.rows(
        vec![
            Field::new("col_name", DataType::Utf8, false),
            Field::new("data_type", DataType::Utf8, false),
            Field::new("comment", DataType::Utf8, true),
        ],
        vec![
            std::sync::Arc::new(StringArray::from(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())),
            std::sync::Arc::new(StringArray::from(rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>())),
            std::sync::Arc::new(StringArray::from(rows.iter().map(|r| r.2.as_deref()).collect::<Vec<_>>())),
        ],
    )?;
    Ok(Some(plan))
}

/// `CREATE TABLE`, from columns or a query.
async fn create_table(planner: &mut Planner<'_>, c: crate::create_table::CreateTable) -> Result<()> {
    use crate::tables::IfExists;
    let tz = planner.session.time_zone();
    let columns = c.columns.as_deref().map(|d| crate::types::parse_ddl_schema(d, &tz)).transpose()?;
    // Spark's session catalog cannot replace a table (v1 tables).
    if c.or_replace {
        let name = crate::tables::table_key(planner.session, &c.name)?.qualified();
        let what = if c.query.is_some() { "REPLACE TABLE AS SELECT" } else { "REPLACE TABLE" };
        return Err(SparkError::with_class(
            ember_common::ExceptionClass::Analysis,
            "UNSUPPORTED_FEATURE.TABLE_OPERATION",
            "0A000",
            format!("The feature is not supported: Table {name} does not support {what}. Please check the current catalog and namespace to make sure the qualified table name is expected, and also check the catalog implementation which is configured by \"spark.sql.catalog\"."),
        )
        .into());
    }
    let query = match &c.query {
        Some(q) => Some(query_plan(planner, &sc::Sql { query: q.clone(), ..Default::default() }).await?),
        None => None,
    };
    let if_exists = if c.if_not_exists { IfExists::Ignore } else { IfExists::Fail };
    // `OPTIONS (path '…')` is a location too.
    let mut options = c.options;
    let location = c.location.or_else(|| crate::tables::take_path(&mut options));
    let table = crate::tables::NewTable {
        name: c.name,
        format: c.format,
        columns: columns.map(std::sync::Arc::new),
        partition_by: c.partition_by,
        location,
        options,
        comment: c.comment,
        properties: c.properties,
    };
    crate::tables::create(planner.session, table, query, if_exists).await
}

/// The last part of a name as written, unquoted.
fn object_name(n: &ast::ObjectName) -> String {
    match n.0.last() {
        Some(ast::ObjectNamePart::Identifier(i)) => i.value.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Whether a query names the table `key` (not a temp view that hides it).
fn reads_table(planner: &Planner<'_>, query: &ast::Query, key: &crate::tables::TableName) -> bool {
    let mut found = false;
    let _ = ast::visit_relations(query, |name| {
        let table = crate::catalog::resolve(planner.session, &name.to_string());
        found |= matches!(table, Ok(Some(crate::catalog::Relation::Table(k))) if &k == key);
        ControlFlow::<()>::Continue(())
    });
    found
}

/// `INSERT INTO|OVERWRITE [TABLE] t [(columns)] query`.
async fn insert_into(planner: &mut Planner<'_>, insert: &ast::Insert) -> Result<()> {
    let ast::TableObject::TableName(name) = &insert.table else {
        return Err(SparkError::unsupported("INSERT INTO a table function").into());
    };
    let Some(source) = &insert.source else {
        return Err(SparkError::unsupported("INSERT without a query").into());
    };
    let name = name.to_string();
    let key = crate::tables::table_key(planner.session, &name)?;
    if crate::tables::get(&key).is_none() {
        return Err(SparkError::table_not_found(&name).into());
    }
    let mut plan = query_plan(planner, &sc::Sql { query: source.to_string(), ..Default::default() }).await?;
    if insert.overwrite && reads_table(planner, source, &key) {
        return Err(SparkError::with_class(
            ember_common::ExceptionClass::Analysis,
            "UNSUPPORTED_OVERWRITE.TABLE",
            "42902",
            format!(
                "Can't overwrite the target that is also being read from. The target table is {}.",
                key.qualified()
            ),
        )
        .into());
    }
    if let Some(partitions) = &insert.partitioned {
        if !insert.columns.is_empty() {
            return Err(SparkError::unsupported("INSERT with a PARTITION clause and a column list").into());
        }
        let spec = partition_spec(planner, partitions).await?;
        return crate::tables::insert_partitions(planner.session, &name, plan, insert.overwrite, spec).await;
    }
    // A column list matches the query's columns to the table's by name.
    let by = if insert.columns.is_empty() {
        crate::tables::Columns::ByPosition
    } else {
        let fields = plan.schema().columns();
        if fields.len() != insert.columns.len() {
            let listed: Vec<String> = insert.columns.iter().map(object_name).collect();
            let data: Vec<String> = fields.iter().map(|c| c.name.clone()).collect();
            return Err(crate::tables::arity_mismatch(&key, &listed, &data));
        }
        let exprs: Vec<datafusion::logical_expr::Expr> = fields
            .into_iter()
            .zip(&insert.columns)
            .map(|(c, n)| datafusion::logical_expr::Expr::Column(c).alias(object_name(n)))
            .collect();
        plan = datafusion::logical_expr::LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
        crate::tables::Columns::Listed
    };
    crate::tables::insert(planner.session, &name, plan, insert.overwrite, by).await
}

/// `PARTITION (p = 1, q)`: each column with its value, if given.
async fn partition_spec(planner: &mut Planner<'_>, items: &[ast::Expr]) -> Result<crate::tables::PartitionSpec> {
    let mut spec = vec![];
    for item in items {
        match item {
            ast::Expr::Identifier(column) => spec.push((column.value.clone(), None)),
            ast::Expr::BinaryOp { left, op: ast::BinaryOperator::Eq, right } => {
                let ast::Expr::Identifier(column) = left.as_ref() else {
                    return Err(SparkError::unsupported(format!("the partition value {item}")).into());
                };
                // The value as Spark SQL reads a literal: one row of one column.
                let query = sc::Sql { query: format!("SELECT {right}"), ..Default::default() };
                let plan = query_plan(planner, &query).await?;
                let batches = planner.collect(plan).await?;
                let value = match batches.iter().find(|b| b.num_rows() > 0) {
                    Some(b) => datafusion::common::ScalarValue::try_from_array(b.column(0), 0)?,
                    None => datafusion::common::ScalarValue::Null,
                };
                spec.push((column.value.clone(), Some(value)));
            }
            other => return Err(SparkError::unsupported(format!("the partition value {other}")).into()),
        }
    }
    Ok(spec)
}

fn empty(planner: &mut Planner<'_>) -> Result<LogicalPlan> {
    let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::empty());
    planner.batches_plan(schema, vec![])
}

/// `SET`, `SET k`, `SET k=v` on the session's Spark config.
fn set_command(planner: &mut Planner<'_>, rest: &str) -> Result<LogicalPlan> {
    use datafusion::arrow::array::StringArray;
    use datafusion::arrow::datatypes::{DataType, Field};
    let session = planner.session;
    let rows: Vec<(String, String)> = if rest.is_empty() {
        session.conf().explicit().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    } else if let Some((k, v)) = rest.split_once('=') {
        let (k, v) = (k.trim(), v.trim());
        session.conf_set(k, v)?;
        vec![(k.to_string(), v.to_string())]
    } else {
        let k = rest.trim();
        vec![(k.to_string(), session.conf_get(k).unwrap_or_else(|| "<undefined>".into()))]
    };
    planner.rows(
        vec![Field::new("key", DataType::Utf8, false), Field::new("value", DataType::Utf8, false)],
        vec![
            std::sync::Arc::new(StringArray::from(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())),
            std::sync::Arc::new(StringArray::from(rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>())),
        ],
    )
}

/// Parses one statement, with Spark's case-insensitive names: table and
/// CTE names lower-cased (views are stored so), column names matched to
/// the known columns' spelling, and `:name` / `?` parameters renamed to
/// DataFusion's `$name` / `$n`.
async fn parse<'s>(planner: &mut Planner<'s>, sql: &str) -> Result<(DFStatement, FileViews<'s>)> {
    let state = planner.session.ctx().state();
    let sql = crate::inline_table::rewrite(&crate::literal_suffix::rewrite(sql));
    let mut stmt = crate::dialect::parse_statement(&sql, state.config().options().sql_parser.recursion_limit.get())?;
    let mut files = FileViews(crate::catalog::ScopedViews::new(planner.session));
    if let DFStatement::Statement(inner) = &mut stmt {
        crate::pivot_sql::rewrite(planner, inner.as_mut()).await?;
        crate::dialect::spark_generators(inner.as_mut());
        crate::lateral_view::rewrite(inner.as_mut())?;
        files.register(planner, inner.as_mut()).await?;
        let mut columns = vec![];
        let mut tables = vec![];
        for name in crate::catalog::relation_names(planner.session) {
            if let Ok(t) = planner.session.ctx().table_provider(name.as_str()).await {
                columns.extend(t.schema().fields().iter().map(|f| f.name().clone()));
            }
            tables.push(name);
        }
        let _ = inner.visit(&mut Lowercase);
        crate::expr::fix_identifier_case(inner.as_mut(), &columns, &tables);
        crate::sql_names::alias_select_items(inner.as_mut());
        crate::dialect::spark_operators(inner.as_mut());
        crate::inline_table::name_columns(inner.as_mut());
        let mut n = 0;
        let _ = inner.visit(&mut Placeholders { next: &mut n });
    }
    Ok((stmt, files))
}

/// The files a statement queries directly (``parquet.`/data/t` ``, as
/// Spark's `spark.sql.runSQLOnFiles` has it), as views that exist until
/// the statement is planned.
struct FileViews<'s>(crate::catalog::ScopedViews<'s>);

/// The formats a file relation may name.
const FILE_FORMATS: &[&str] = &["parquet", "csv", "json", "text"];

impl FileViews<'_> {
    /// Reads each ``format.`path` `` relation as a view and points the
    /// statement at it.
    async fn register(&mut self, planner: &mut Planner<'_>, stmt: &mut ast::Statement) -> Result<()> {
        /// (format, path, view) of each file relation.
        struct Files(Vec<(String, String, String)>);
        impl VisitorMut for Files {
            type Break = ();
            fn pre_visit_relation(&mut self, name: &mut ast::ObjectName) -> ControlFlow<()> {
                let [ast::ObjectNamePart::Identifier(format), ast::ObjectNamePart::Identifier(path)] = &name.0[..]
                else {
                    return ControlFlow::Continue(());
                };
                let format = format.value.to_ascii_lowercase();
                if path.quote_style != Some('`') || !FILE_FORMATS.contains(&format.as_str()) {
                    return ControlFlow::Continue(());
                }
                let view = format!("__ember_file_{}_{}", self.0.len(), uuid::Uuid::new_v4().simple());
                let path = path.value.clone();
                *name = ast::ObjectName::from(vec![ast::Ident::new(view.clone())]);
                self.0.push((format, path, view));
                ControlFlow::Continue(())
            }
        }
        let mut files = Files(vec![]);
        let _ = stmt.visit(&mut files);
        for (format, path, view) in files.0 {
            let read = sc::Read {
                read_type: Some(sc::read::ReadType::DataSource(sc::read::DataSource {
                    format: Some(format),
                    paths: vec![path],
                    ..Default::default()
                })),
                is_streaming: false,
            };
            let plan = crate::read::read(planner, &read).await?;
            self.0.add(&view, plan)?;
        }
        Ok(())
    }
}

struct Lowercase;

impl VisitorMut for Lowercase {
    type Break = ();
    fn pre_visit_relation(&mut self, name: &mut ast::ObjectName) -> ControlFlow<()> {
        for part in name.0.iter_mut() {
            if let ast::ObjectNamePart::Identifier(i) = part {
                i.value = i.value.to_lowercase();
            }
        }
        ControlFlow::Continue(())
    }
    fn pre_visit_query(&mut self, q: &mut ast::Query) -> ControlFlow<()> {
        if let Some(w) = &mut q.with {
            for cte in w.cte_tables.iter_mut() {
                cte.alias.name.value = cte.alias.name.value.to_lowercase();
            }
        }
        ControlFlow::Continue(())
    }
}

struct Placeholders<'a> {
    next: &'a mut usize,
}

impl VisitorMut for Placeholders<'_> {
    type Break = ();
    fn pre_visit_value(&mut self, v: &mut ast::ValueWithSpan) -> ControlFlow<()> {
        if let Value::Placeholder(p) = &mut v.value {
            if let Some(name) = p.strip_prefix(':') {
                *p = format!("${name}");
            } else if p == "?" {
                *self.next += 1;
                *p = format!("${}", self.next);
            }
        }
        ControlFlow::Continue(())
    }
}

fn parameters(planner: &mut Planner<'_>, s: &sc::Sql) -> Result<Option<ParamValues>> {
    let tz = planner.session.time_zone();
    let empty_schema = datafusion::common::DFSchema::empty();
    // A literal, or what folds to one: `array(lit(1), lit(2))`,
    // `create_map(lit('a'), lit(1))`, as Spark takes them.
    let mut literal_of = |e: &sc::Expression| -> Result<ScalarValue> {
        use datafusion::logical_expr::simplify::SimplifyContext;
        use datafusion::optimizer::simplify_expressions::ExprSimplifier;
        let n = planner.expr(e, &empty_schema)?;
        let e = crate::expr::strip_alias(n.expr);
        let folded = match e {
            datafusion::logical_expr::Expr::Literal(..) => e,
            other => {
                let context = SimplifyContext::builder().with_schema(std::sync::Arc::new(empty_schema.clone())).build();
                ExprSimplifier::new(context).simplify(other)?
            }
        };
        match folded {
            datafusion::logical_expr::Expr::Literal(v, _) => Ok(v),
            _ => Err(SparkError::analysis("[INVALID_SQL_ARG] SQL parameters must be literals").into()),
        }
    };
    if !s.named_arguments.is_empty() {
        let mut m = std::collections::HashMap::new();
        for (k, v) in &s.named_arguments {
            m.insert(k.clone(), literal_of(v)?.into());
        }
        return Ok(Some(ParamValues::Map(m)));
    }
    if !s.pos_arguments.is_empty() {
        let v = s.pos_arguments.iter().map(|e| literal_of(e).map(Into::into)).collect::<Result<Vec<_>>>()?;
        return Ok(Some(ParamValues::List(v)));
    }
    #[allow(deprecated)]
    {
        if !s.args.is_empty() {
            let mut m = std::collections::HashMap::new();
            for (k, v) in &s.args {
                m.insert(k.clone(), crate::literal::literal(v, &tz)?.0.into());
            }
            return Ok(Some(ParamValues::Map(m)));
        }
        if !s.pos_args.is_empty() {
            let v = s
                .pos_args
                .iter()
                .map(|l| crate::literal::literal(l, &tz).map(|x| x.0.into()))
                .collect::<datafusion::common::Result<Vec<_>>>()?;
            return Ok(Some(ParamValues::List(v)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::{qualifier_pattern, spark_name};

    #[test]
    fn result_names_drop_whole_word_qualifiers_only() {
        let re = qualifier_pattern(&["lineitem".to_string(), "t".to_string()]);
        assert_eq!(spark_name("sum(lineitem.l_quantity)", re.as_ref()), "sum(l_quantity)");
        assert_eq!(spark_name("sum(at.x) + max(t.y)", re.as_ref()), "sum(at.x) + max(y)");
        assert_eq!(spark_name("count(*)", re.as_ref()), "count(1)");
        assert_eq!(spark_name("t.plain", re.as_ref()), "t.plain");
    }
}
