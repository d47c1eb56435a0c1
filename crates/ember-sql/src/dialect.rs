//! The SQL grammar ember parses: sqlparser's Spark SQL dialect, with
//! backslash escapes in string literals (`'\\d+'` is the regex `\d+`,
//! `'a\tb'` holds a tab), as Spark's `spark.sql.parser.escapedStringLiterals`
//! default (false) has it.

use std::any::TypeId;

use datafusion::sql::sqlparser::ast::Expr;
use datafusion::sql::sqlparser::dialect::{Dialect, SparkSqlDialect};
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

#[derive(Debug, Default)]
pub struct SparkSql;

/// Parses one SQL statement.
pub fn parse_statement(
    sql: &str,
    recursion_limit: usize,
) -> datafusion::common::Result<datafusion::sql::parser::Statement> {
    let mut statements = datafusion::sql::parser::DFParserBuilder::new(sql)
        .with_dialect(&SparkSql)
        .with_recursion_limit(recursion_limit)
        .build()?
        .parse_statements()?;
    if statements.len() > 1 {
        return datafusion::common::not_impl_err!("The context currently only supports a single SQL statement");
    }
    statements
        .pop_front()
        .ok_or_else(|| datafusion::common::plan_datafusion_err!("No SQL statements were provided in the query string"))
}

/// Parses an expression with an optional alias (`a + 1 AS b`).
pub fn parse_expr(
    sql: &str,
    recursion_limit: usize,
) -> datafusion::common::Result<datafusion::sql::sqlparser::ast::ExprWithAlias> {
    use datafusion::sql::sqlparser::ast::{ExprWithAlias, SelectItem, SetExpr, Statement};
    let parsed = datafusion::sql::parser::DFParserBuilder::new(sql)
        .with_dialect(&SparkSql)
        .with_recursion_limit(recursion_limit)
        .build()?
        .parse_into_expr();
    let Err(error) = parsed else { return parsed };
    // `a + 1 b`: Spark's expressions take an alias without AS, as a SELECT
    // item does.
    if let Ok(datafusion::sql::parser::Statement::Statement(stmt)) =
        parse_statement(&format!("SELECT {sql}"), recursion_limit)
        && let Statement::Query(q) = *stmt
        && let SetExpr::Select(select) = *q.body
        && select.from.is_empty()
        && let [SelectItem::ExprWithAlias { expr, alias }] = select.projection.as_slice()
    {
        return Ok(ExprWithAlias { expr: expr.clone(), alias: Some(alias.clone()) });
    }
    Err(error)
}

const SPARK: SparkSqlDialect = SparkSqlDialect;

impl Dialect for SparkSql {
    fn dialect(&self) -> TypeId {
        TypeId::of::<SparkSqlDialect>()
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        SPARK.is_delimited_identifier_start(ch)
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        SPARK.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        SPARK.is_identifier_part(ch)
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        SPARK.supports_filter_during_aggregation()
    }
    fn supports_group_by_expr(&self) -> bool {
        SPARK.supports_group_by_expr()
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        SPARK.supports_group_by_with_modifier()
    }
    /// `extract(S FROM ts)`: Spark's abbreviations of fields.
    fn allow_extract_custom(&self) -> bool {
        true
    }

    fn supports_lambda_functions(&self) -> bool {
        SPARK.supports_lambda_functions()
    }
    fn supports_select_wildcard_except(&self) -> bool {
        SPARK.supports_select_wildcard_except()
    }
    fn supports_struct_literal(&self) -> bool {
        SPARK.supports_struct_literal()
    }
    fn supports_nested_comments(&self) -> bool {
        SPARK.supports_nested_comments()
    }
    fn supports_create_table_using(&self) -> bool {
        SPARK.supports_create_table_using()
    }
    fn supports_long_type_as_bigint(&self) -> bool {
        SPARK.supports_long_type_as_bigint()
    }
    fn supports_values_as_table_factor(&self) -> bool {
        SPARK.supports_values_as_table_factor()
    }
    fn require_interval_qualifier(&self) -> bool {
        SPARK.require_interval_qualifier()
    }
    fn supports_bang_not_operator(&self) -> bool {
        SPARK.supports_bang_not_operator()
    }
    fn supports_select_item_multi_column_alias(&self) -> bool {
        SPARK.supports_select_item_multi_column_alias()
    }
    fn supports_cte_without_as(&self) -> bool {
        SPARK.supports_cte_without_as()
    }
    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        SPARK.supports_map_literal_with_angle_brackets()
    }
    fn parse_infix(&self, parser: &mut Parser, expr: &Expr, precedence: u8) -> Option<Result<Expr, ParserError>> {
        SPARK.parse_infix(parser, expr, precedence)
    }
    /// `exists(array, x -> ...)` is a function call; `EXISTS (SELECT …)`
    /// stays a subquery predicate. `TRIM(BOTH FROM s)` trims spaces.
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        use datafusion::sql::sqlparser::ast::{Ident, ObjectName};
        use datafusion::sql::sqlparser::keywords::Keyword;
        use datafusion::sql::sqlparser::tokenizer::Token;
        let keyword = |n: usize| match &parser.peek_nth_token_ref(n).token {
            Token::Word(w) => Some(w.keyword),
            _ => None,
        };
        if keyword(0) == Some(Keyword::TRIM)
            && parser.peek_nth_token_ref(1).token == Token::LParen
            && matches!(keyword(2), Some(Keyword::BOTH | Keyword::LEADING | Keyword::TRAILING))
            && keyword(3) == Some(Keyword::FROM)
        {
            return Some(trim_spaces(parser));
        }
        // Spark's interval literals: `INTERVAL 1 DAY 2 HOURS`, `INTERVAL
        // '1-2' YEAR TO MONTH`, `INTERVAL '1 day'`.
        if keyword(0) == Some(Keyword::INTERVAL)
            && matches!(
                parser.peek_nth_token_ref(1).token,
                Token::Number(..) | Token::SingleQuotedString(_) | Token::Minus | Token::Plus
            )
        {
            return Some(crate::interval::parse_literal(parser));
        }
        let is_exists = keyword(0) == Some(Keyword::EXISTS);
        if !is_exists || parser.peek_nth_token_ref(1).token != Token::LParen {
            return None;
        }
        let subquery = match &parser.peek_nth_token_ref(2).token {
            Token::Word(w) => matches!(w.keyword, Keyword::SELECT | Keyword::WITH | Keyword::VALUES | Keyword::FROM),
            Token::LParen => true,
            _ => false,
        };
        if subquery {
            return None;
        }
        parser.next_token();
        Some(parser.parse_function(ObjectName::from(vec![Ident::new("exists")])))
    }
}

/// `TRIM(BOTH | LEADING | TRAILING FROM s)`, the parser at `TRIM`.
fn trim_spaces(parser: &mut Parser) -> Result<Expr, ParserError> {
    use datafusion::sql::sqlparser::ast::TrimWhereField;
    use datafusion::sql::sqlparser::keywords::Keyword;
    use datafusion::sql::sqlparser::tokenizer::Token;
    parser.expect_keyword_is(Keyword::TRIM)?;
    parser.expect_token(&Token::LParen)?;
    let trim_where = match parser.expect_one_of_keywords(&[Keyword::BOTH, Keyword::LEADING, Keyword::TRAILING])? {
        Keyword::LEADING => TrimWhereField::Leading,
        Keyword::TRAILING => TrimWhereField::Trailing,
        _ => TrimWhereField::Both,
    };
    parser.expect_keyword_is(Keyword::FROM)?;
    let expr = parser.parse_expr()?;
    parser.expect_token(&Token::RParen)?;
    Ok(Expr::Trim { expr: Box::new(expr), trim_where: Some(trim_where), trim_what: None, trim_characters: None })
}

/// Spark operators DataFusion's SQL planner lacks, as forms it plans:
/// `a DIV b` becomes `div(a, b)`, `s RLIKE p` `regexp_like(s, p)`, `~x`
/// `bitwise_not(x)`, `ceil(x, 1)` a call of `ceil`, Spark's type names
/// (`TIMESTAMP_NTZ`, `SHORT`) ones DataFusion knows, `struct(..)` a
/// `named_struct` with Spark's field names, and a field of an expression's
/// struct, `struct(1 AS p).p`, is looked up by the field's name as a string. Function calls of other
/// forms: `spark_function`.
pub fn spark_operators<V: datafusion::sql::sqlparser::ast::VisitMut>(node: &mut V) {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, VisitorMut};
    /// `compared`: how many `IN` lists or comparisons with a tuple the
    /// visit is inside, whose tuples (`(a, b) IN ((1, 2))`, `(a, b) = (1,
    /// 2)`) stay tuples, compared field by field.
    struct Rewrite {
        compared: usize,
    }
    fn compares_tuples(e: &Expr) -> bool {
        match e {
            Expr::InList { .. } | Expr::InSubquery { .. } => true,
            Expr::BinaryOp { left, right, .. } => matches!(**left, Expr::Tuple(_)) || matches!(**right, Expr::Tuple(_)),
            _ => false,
        }
    }
    impl VisitorMut for Rewrite {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &mut Expr) -> std::ops::ControlFlow<()> {
            if compares_tuples(e) {
                self.compared += 1;
            }
            match e {
                Expr::Lambda(l) => lambda_fields(l),
                // `(DATE'2022-02-22', 1)`: a struct of fields col1, col2 (or
                // the columns' names), as Spark makes it.
                Expr::Tuple(values) if self.compared == 0 => *e = named_struct(std::mem::take(values)),
                _ => {}
            }
            std::ops::ControlFlow::Continue(())
        }
        fn post_visit_expr(&mut self, e: &mut Expr) -> std::ops::ControlFlow<()> {
            if compares_tuples(e) {
                self.compared -= 1;
            }
            if let Expr::CompoundFieldAccess { access_chain, .. } = e {
                for access in access_chain.iter_mut() {
                    if let datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Identifier(i)) = access {
                        let field = datafusion::sql::sqlparser::ast::Value::SingleQuotedString(i.value.clone());
                        *access = datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::value(field));
                    }
                }
            }
            let call = |name: &str, args: &[&Expr]| ast_call(name, args.iter().map(|a| (*a).clone()).collect());
            match e {
                // `-INTERVAL 1 DAY`: the literal's value negated
                // (DataFusion's `-` takes no durations).
                Expr::UnaryOp { op: datafusion::sql::sqlparser::ast::UnaryOperator::Minus, expr } => {
                    if let Some(negated) = crate::interval::negated_literal(expr) {
                        *e = negated;
                    }
                }
                Expr::BinaryOp { left, op: BinaryOperator::MyIntegerDivide, right } => *e = call("div", &[left, right]),
                // `s RLIKE p` and `s REGEXP p`, which DataFusion does not plan.
                Expr::RLike { negated, expr, pattern, .. } => {
                    let like = call("regexp_like", &[expr, pattern]);
                    *e = if *negated {
                        Expr::UnaryOp { op: datafusion::sql::sqlparser::ast::UnaryOperator::Not, expr: Box::new(like) }
                    } else {
                        like
                    };
                }
                // `ceil(x, scale)`, which DataFusion does not plan.
                Expr::Ceil { expr, field: datafusion::sql::sqlparser::ast::CeilFloorKind::Scale(v) } => {
                    *e = call("ceil", &[expr, &Expr::Value(v.clone())]);
                }
                Expr::Floor { expr, field: datafusion::sql::sqlparser::ast::CeilFloorKind::Scale(v) } => {
                    *e = call("floor", &[expr, &Expr::Value(v.clone())]);
                }
                // Spark's type names DataFusion lacks: SHORT, BYTE, LONG,
                // TIMESTAMP_NTZ (a timestamp without time zone, in microseconds)
                // and TIMESTAMP_LTZ (TIMESTAMP).
                Expr::Cast { data_type, .. } => {
                    if let Some(t) = spark_sql_type(data_type) {
                        *data_type = t;
                    }
                }
                Expr::TypedString(t) if spark_sql_type(&t.data_type).is_some() => {
                    *e = Expr::Cast {
                        kind: datafusion::sql::sqlparser::ast::CastKind::Cast,
                        expr: Box::new(Expr::Value(t.value.clone())),
                        data_type: spark_sql_type(&t.data_type).unwrap_or_else(|| t.data_type.clone()),
                        array: false,
                        format: None,
                    };
                }
                // `~x`, which DataFusion does not plan.
                Expr::UnaryOp { op: datafusion::sql::sqlparser::ast::UnaryOperator::BitwiseNot, expr } => {
                    *e = call("bitwise_not", &[expr]);
                }
                Expr::Function(f) => {
                    if let Some(other) = spark_function(f) {
                        *e = other;
                    }
                }
                Expr::Struct { values, fields } if fields.is_empty() => {
                    *e = named_struct(std::mem::take(values));
                }
                _ => {}
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let _ = node.visit(&mut Rewrite { compared: 0 });
}

/// `(acc, x) -> acc.count + 1`: a field of a lambda's parameter, which
/// DataFusion would read as a column of a table `acc`, as
/// `get_field(acc, 'count')`.
fn lambda_fields(lambda: &mut datafusion::sql::sqlparser::ast::LambdaFunction) {
    use datafusion::sql::sqlparser::ast::{OneOrManyWithParens, Value, VisitMut, VisitorMut};
    let params: Vec<String> = match &lambda.params {
        OneOrManyWithParens::One(p) => vec![p.name.value.clone()],
        OneOrManyWithParens::Many(ps) => ps.iter().map(|p| p.name.value.clone()).collect(),
    };
    struct Fields(Vec<String>);
    impl VisitorMut for Fields {
        type Break = ();
        fn post_visit_expr(&mut self, e: &mut Expr) -> std::ops::ControlFlow<()> {
            if let Expr::CompoundIdentifier(parts) = e
                && let [first, fields @ ..] = parts.as_slice()
                && !fields.is_empty()
                && self.0.iter().any(|p| p.eq_ignore_ascii_case(&first.value))
            {
                let mut out = Expr::Identifier(first.clone());
                for f in fields {
                    out = ast_call("get_field", vec![out, Expr::value(Value::SingleQuotedString(f.value.clone()))]);
                }
                *e = out;
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let _ = lambda.body.visit(&mut Fields(params));
}

/// `body` with the identifiers named in `to` replaced by their expressions.
fn substitute(body: &Expr, to: &[(String, Expr)]) -> Expr {
    use datafusion::sql::sqlparser::ast::{VisitMut, VisitorMut};
    struct Substitute<'a>(&'a [(String, Expr)]);
    impl VisitorMut for Substitute<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, e: &mut Expr) -> std::ops::ControlFlow<()> {
            if let Expr::Identifier(i) = e
                && let Some((_, to)) = self.0.iter().find(|(n, _)| i.value.eq_ignore_ascii_case(n))
            {
                *e = to.clone();
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let mut body = body.clone();
    let _ = body.visit(&mut Substitute(to));
    body
}

/// `map_zip_with(m1, m2, (k, v1, v2) -> e)`: a map of every key of `m1`,
/// then those only in `m2`, to `e` of the key and its value in each map
/// (NULL where a map lacks it); NULL when either map is.
fn map_zip_with(m1: &Expr, m2: &Expr, lambda: &datafusion::sql::sqlparser::ast::LambdaFunction) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{LambdaFunction, LambdaSyntax, OneOrManyWithParens, Value};
    let OneOrManyWithParens::Many(params) = &lambda.params else { return None };
    let [k, v1, v2] = params.as_slice() else { return None };
    let key = Expr::Identifier(k.name.clone());
    let value_in = |m: &Expr| {
        let one = Expr::value(Value::Number("1".into(), false));
        ast_call("array_element", vec![ast_call("map_extract", vec![m.clone(), key.clone()]), one])
    };
    let body =
        substitute(&lambda.body, &[(v1.name.value.clone(), value_in(m1)), (v2.name.value.clone(), value_in(m2))]);
    let keys =
        ast_call("array_union", vec![ast_call("map_keys", vec![m1.clone()]), ast_call("map_keys", vec![m2.clone()])]);
    let lambda = Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(k.clone()),
        body: Box::new(body),
        syntax: LambdaSyntax::Arrow,
    });
    let zipped = ast_call("map_from_arrays", vec![keys.clone(), ast_call("transform", vec![keys, lambda])]);
    let either_null = Expr::BinaryOp {
        left: Box::new(Expr::IsNull(Box::new(m1.clone()))),
        op: datafusion::sql::sqlparser::ast::BinaryOperator::Or,
        right: Box::new(Expr::IsNull(Box::new(m2.clone()))),
    };
    Some(Expr::Case {
        case_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        end_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![datafusion::sql::sqlparser::ast::CaseWhen {
            condition: either_null,
            result: Expr::value(Value::Null),
        }],
        else_result: Some(Box::new(zipped)),
    })
}

/// `map_filter(m, (k, v) -> p)` as `map_from_entries(filter(map_entries(m),
/// e -> p))` with `k` and `v` the entry's fields; `transform_values` and
/// `transform_keys` transform the entries' value or key.
fn map_lambda(name: &str, map: &Expr, lambda: &datafusion::sql::sqlparser::ast::LambdaFunction) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{
        Ident, LambdaFunction, LambdaFunctionParameter, LambdaSyntax, OneOrManyWithParens, Value,
    };
    let OneOrManyWithParens::Many(params) = &lambda.params else { return None };
    let [k, v] = params.as_slice() else { return None };
    let entry = Ident::new("__ember_map_entry");
    let field = |f: &str| {
        ast_call("get_field", vec![Expr::Identifier(entry.clone()), Expr::value(Value::SingleQuotedString(f.into()))])
    };
    let body =
        substitute(&lambda.body, &[(k.name.value.clone(), field("key")), (v.name.value.clone(), field("value"))]);
    let struct_of = |key: Expr, value: Expr| {
        let name = |n: &str| Expr::value(Value::SingleQuotedString(n.into()));
        ast_call("named_struct", vec![name("key"), key, name("value"), value])
    };
    let (function, body) = match name {
        "map_filter" => ("filter", body),
        "transform_values" => ("transform", struct_of(field("key"), body)),
        _ => ("transform", struct_of(body, field("value"))),
    };
    let lambda = Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter { name: entry, data_type: None }),
        body: Box::new(body),
        syntax: LambdaSyntax::Arrow,
    });
    let entries = ast_call(function, vec![ast_call("map_entries", vec![map.clone()]), lambda]);
    Some(ast_call("map_from_entries", vec![entries]))
}

/// A Spark SQL type name DataFusion does not plan, as one it does.
fn spark_sql_type(t: &datafusion::sql::sqlparser::ast::DataType) -> Option<datafusion::sql::sqlparser::ast::DataType> {
    use datafusion::sql::sqlparser::ast::{DataType, TimezoneInfo};
    // Microseconds and no zone: `crate::sql_types` leaves this one as it is.
    let ntz = DataType::Timestamp(Some(6), TimezoneInfo::WithoutTimeZone);
    match t {
        DataType::TimestampNtz(_) => Some(ntz),
        DataType::Binary(_) | DataType::Varbinary(_) => Some(DataType::Bytea),
        DataType::Custom(name, args) if args.is_empty() => match name.to_string().to_ascii_uppercase().as_str() {
            "TIMESTAMP_NTZ" => Some(ntz),
            "TIMESTAMP_LTZ" => Some(DataType::Timestamp(None, TimezoneInfo::None)),
            "LONG" => Some(DataType::BigInt(None)),
            "SHORT" => Some(DataType::SmallInt(None)),
            "BYTE" => Some(DataType::TinyInt(None)),
            _ => None,
        },
        _ => None,
    }
}

/// `stack(n, v1, v2, …)`: n rows of the values in order, in columns col0,
/// col1, … (the last row padded with NULLs). It becomes `inline()` of an
/// array of structs before LATERAL VIEW and the select items' names see it,
/// so it is a generator to both.
pub fn spark_generators<V: datafusion::sql::sqlparser::ast::VisitMut>(node: &mut V) {
    use datafusion::sql::sqlparser::ast::VisitorMut;
    struct Rewrite;
    impl VisitorMut for Rewrite {
        type Break = ();
        fn post_visit_expr(&mut self, e: &mut Expr) -> std::ops::ControlFlow<()> {
            if let Expr::Function(f) = e {
                stack(f);
            }
            json_tuple(e);
            std::ops::ControlFlow::Continue(())
        }
    }
    let _ = node.visit(&mut Rewrite);
}

fn stack(f: &mut datafusion::sql::sqlparser::ast::Function) {
    use datafusion::sql::sqlparser::ast::{
        FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName, ObjectNamePart, Value,
    };
    let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else { return };
    if !name.value.eq_ignore_ascii_case("stack") {
        return;
    }
    let FunctionArguments::List(list) = &mut f.args else { return };
    let Some(args) = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect::<Option<Vec<Expr>>>()
    else {
        return;
    };
    let [Expr::Value(v), values @ ..] = args.as_slice() else { return };
    if values.is_empty() {
        return;
    }
    let Value::Number(n, _) = &v.value else { return };
    let Some(rows) = n.parse::<usize>().ok().filter(|n| *n > 0) else { return };
    let structs: Vec<Expr> =
        crate::functions::stack_rows(values, rows, || Expr::value(Value::Null)).into_iter().map(named_fields).collect();
    let arg = |e: Expr| FunctionArg::Unnamed(FunctionArgExpr::Expr(e));
    let array = ast_call("array", structs);
    list.args = vec![arg(array)];
    f.name = ObjectName::from(vec![Ident::new("inline")]);
}

/// `json_tuple(json, 'f1', 'f2', …)`: one row of columns c0, c1, … (NULLs
/// when the text is NULL or not a JSON object), as `inline()` of a
/// one-element array of datafusion-spark's struct. The call inside is not
/// visited again.
fn json_tuple(e: &mut Expr) {
    use datafusion::sql::sqlparser::ast::ObjectNamePart;
    let Expr::Function(f) = e else { return };
    let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else { return };
    if !name.value.eq_ignore_ascii_case("json_tuple") {
        return;
    }
    let call = std::mem::replace(e, Expr::value(datafusion::sql::sqlparser::ast::Value::Null));
    *e = ast_call("inline", vec![ast_call("array", vec![call])]);
}

/// `struct(a, 1, 2 AS b)`: Spark names a struct's fields after its columns
/// and aliases, else col1, col2, … (DataFusion: c0, c1, …), so it becomes
/// `named_struct('a', a, 'col2', 1, 'b', 2)`.
fn named_struct(values: Vec<Expr>) -> Expr {
    let fields = values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Expr::Named { expr, name } => (name.value, *expr),
            Expr::Identifier(ref id) => (id.value.clone(), v),
            Expr::CompoundIdentifier(ref p) => (p.last().map_or(String::new(), |id| id.value.clone()), v),
            other => (format!("col{}", i + 1), other),
        })
        .collect();
    named_fields(fields)
}

/// `named_struct('name', value, …)`.
fn named_fields(fields: Vec<(String, Expr)>) -> Expr {
    use datafusion::sql::sqlparser::ast::Value;
    let args = fields.into_iter().flat_map(|(name, value)| [Expr::value(Value::SingleQuotedString(name)), value]);
    ast_call("named_struct", args.collect())
}

/// The call `name(args…)`.
pub(crate) fn ast_call(name: &str, args: Vec<Expr>) -> Expr {
    use datafusion::sql::sqlparser::ast::{
        Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    };
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// Spark function calls that DataFusion has in another form:
/// `first(x, true)` is `first_value(x) IGNORE NULLS` (changed in place),
/// `equal_null(a, b)` is `a IS NOT DISTINCT FROM b`, and
/// `approx_count_distinct(x)` a bigint `approx_distinct(x)` (returned),
/// `replace(s, x)` `replace(s, x, '')` and `levenshtein(a, b, threshold)`
/// -1 past the threshold.
/// Their names were taken before, from the text (`crate::sql_names`).
/// The schema text of `schema_of_csv('1,a'[, map('sep', ';')])` or
/// `schema_of_json('{"a": 1}')` of literals.
fn literal_schema(f: &datafusion::sql::sqlparser::ast::Function) -> Option<String> {
    use datafusion::sql::sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments, ObjectNamePart, Value};
    let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else { return None };
    let FunctionArguments::List(list) = &f.args else { return None };
    let text = |e: &FunctionArg| match e {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    match (name.value.to_ascii_lowercase().as_str(), list.args.as_slice()) {
        ("schema_of_json", [json]) => crate::functions::json::schema_of_json(&text(json)?),
        ("schema_of_csv", [csv, options @ ..]) => {
            let mut given = std::collections::HashMap::new();
            if let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Function(map)))] = options {
                let FunctionArguments::List(pairs) = &map.args else { return None };
                let is_map = matches!(map.name.0.as_slice(), [ObjectNamePart::Identifier(n)] if n.value.eq_ignore_ascii_case("map"));
                if !is_map || pairs.args.len() % 2 != 0 {
                    return None;
                }
                for pair in pairs.args.chunks(2) {
                    given.insert(text(&pair[0])?.to_ascii_lowercase(), text(&pair[1])?);
                }
            } else if !options.is_empty() {
                return None;
            }
            crate::functions::csv::schema_of_literal(&text(csv)?, &given, "UTC").ok()
        }
        _ => None,
    }
}

fn spark_function(f: &mut datafusion::sql::sqlparser::ast::Function) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{
        BinaryOperator, CastKind, DataType, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, NullTreatment,
        ObjectName, ObjectNamePart, TrimWhereField, Value,
    };
    let [ObjectNamePart::Identifier(name)] = f.name.0.as_slice() else { return None };
    let name = name.value.to_ascii_lowercase();
    let FunctionArguments::List(list) = &mut f.args else { return None };
    let args: Vec<Expr> = list
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match (name.as_str(), args.as_slice()) {
        ("first" | "last" | "first_value" | "last_value", [_, Expr::Value(v)]) => {
            let Value::Boolean(ignore) = v.value else { return None };
            list.args.truncate(1);
            let function = if name.starts_with("first") { "first_value" } else { "last_value" };
            f.name = ObjectName::from(vec![Ident::new(function)]);
            f.null_treatment = ignore.then_some(NullTreatment::IgnoreNulls);
            None
        }
        // ltrim(trimStr, str): the characters come first in Spark. As
        // TRIM(LEADING trimStr FROM str), which a second parse of the
        // statement's text (INSERT) leaves as it is.
        ("ltrim" | "rtrim", [chars, s]) => Some(Expr::Trim {
            expr: Box::new(s.clone()),
            trim_where: Some(if name == "ltrim" { TrimWhereField::Leading } else { TrimWhereField::Trailing }),
            trim_what: Some(Box::new(chars.clone())),
            trim_characters: None,
        }),
        // timestampadd(YEAR, n, ts), timestampdiff(DAY, a, b) and their
        // other spellings: the unit is a bare word, passed as text.
        (
            "timestampadd" | "dateadd" | "date_add" | "timestampdiff" | "datediff" | "date_diff",
            [Expr::Identifier(unit), _, _],
        ) if crate::functions::datetime::is_unit(&unit.value) => {
            let function = if name.contains("add") { "timestampadd" } else { "timestampdiff" };
            let unit = Expr::value(Value::SingleQuotedString(unit.value.to_ascii_uppercase()));
            list.args[0] = FunctionArg::Unnamed(FunctionArgExpr::Expr(unit));
            f.name = ObjectName::from(vec![Ident::new(function)]);
            None
        }
        // map_filter / transform_values / transform_keys(m, (k, v) -> e):
        // the lambda over the map's entries, a map again.
        ("map_filter" | "transform_values" | "transform_keys", [m, Expr::Lambda(l)]) => map_lambda(&name, m, l),
        ("map_zip_with", [m1, m2, Expr::Lambda(l)]) => map_zip_with(m1, m2, l),
        // percentile(x, array(p1, p2)[, f]): an array of each percentile.
        ("percentile", [x, Expr::Function(ps), rest @ ..]) if rest.len() <= 1 => {
            let [ObjectNamePart::Identifier(array)] = ps.name.0.as_slice() else { return None };
            let FunctionArguments::List(ps) = &ps.args else { return None };
            if !array.value.eq_ignore_ascii_case("array") {
                return None;
            }
            let each = ps
                .args
                .iter()
                .map(|p| match p {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(p)) => Some(ast_call(
                        "percentile",
                        [x.clone(), p.clone()].into_iter().chain(rest.iter().cloned()).collect(),
                    )),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some(ast_call("array", each))
        }
        // from_csv(s, schema_of_csv('1,a')): the schema, known while
        // planning, as its text (likewise from_json and schema_of_json).
        ("from_csv" | "from_json", [_, Expr::Function(inner), ..]) => {
            let schema = literal_schema(inner)?;
            list.args[1] = FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(Value::SingleQuotedString(schema))));
            None
        }
        ("isnull", [x]) => Some(Expr::IsNull(Box::new(x.clone()))),
        ("isnotnull", [x]) => Some(Expr::IsNotNull(Box::new(x.clone()))),
        ("curdate", []) => Some(ast_call("current_date", vec![])),
        // The user running the application.
        ("current_user" | "user" | "session_user", []) => {
            let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
            Some(Expr::value(Value::SingleQuotedString(user)))
        }
        // timestamp(x): a cast function, as `int(x)` and `date(x)`.
        ("timestamp", [x]) => Some(Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(x.clone()),
            data_type: DataType::Timestamp(None, datafusion::sql::sqlparser::ast::TimezoneInfo::None),
            array: false,
            format: None,
        }),
        // year(d), month(d), …: a field of the date (text is read as a
        // date), an int.
        ("year" | "month" | "quarter" | "day" | "dayofmonth" | "dayofyear" | "weekofyear" | "dayofweek", [d]) => {
            let part = match name.as_str() {
                "day" | "dayofmonth" => "day",
                "dayofyear" => "doy",
                "weekofyear" => "week",
                "dayofweek" => "dow",
                other => other,
            };
            let date = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(d.clone()),
                data_type: DataType::Date,
                array: false,
                format: None,
            };
            // Spark's date_part (functions::extract), whose `dow` counts from Sunday = 1.
            let field = ast_call("date_part", vec![Expr::value(Value::SingleQuotedString(part.into())), date]);
            Some(Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(field),
                data_type: DataType::Int(None),
                array: false,
                format: None,
            })
        }
        // map(): an empty map, of keys and values of no type.
        ("map", []) => {
            let empty = ast_call("make_array", vec![]);
            Some(ast_call("map", vec![empty.clone(), empty]))
        }
        // replace(s, search): the replacement defaults to ''.
        ("replace", [_, _]) => {
            let empty = Expr::value(Value::SingleQuotedString(String::new()));
            list.args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(empty)));
            None
        }
        // levenshtein(a, b, threshold): -1 past the threshold.
        ("levenshtein", [a, b, threshold]) => {
            let distance = ast_call("levenshtein", vec![a.clone(), b.clone()]);
            let past = Expr::BinaryOp {
                left: Box::new(distance.clone()),
                op: BinaryOperator::Gt,
                right: Box::new(threshold.clone()),
            };
            let minus_one = Expr::value(Value::Number("-1".into(), false));
            Some(Expr::Case {
                case_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                end_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
                operand: None,
                conditions: vec![
                    datafusion::sql::sqlparser::ast::CaseWhen {
                        condition: Expr::IsNull(Box::new(threshold.clone())),
                        result: Expr::value(Value::Null),
                    },
                    datafusion::sql::sqlparser::ast::CaseWhen { condition: past, result: minus_one },
                ],
                else_result: Some(Box::new(distance)),
            })
        }
        ("equal_null", [a, b]) => Some(Expr::BinaryOp {
            left: Box::new(a.clone()),
            op: BinaryOperator::Spaceship,
            right: Box::new(b.clone()),
        }),
        ("approx_count_distinct", [_, ..]) => {
            list.args.truncate(1);
            f.name = ObjectName::from(vec![Ident::new("approx_distinct")]);
            Some(Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(Expr::Function(f.clone())),
                data_type: DataType::BigInt(None),
                array: false,
                format: None,
            })
        }
        _ => None,
    }
}
