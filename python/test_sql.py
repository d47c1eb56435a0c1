"""spark.sql: temp views, CTEs, subqueries, parameters, catalog basics."""

import datetime

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F

from ember_testutil import assert_df, assert_rows, assert_schema, rows_of


@pytest.fixture(scope="module")
def views(spark):
    spark.createDataFrame(
        [(1, "Alice", 10, 1000.0), (2, "Bob", 20, 1500.0), (3, "Carol", 10, 1200.0), (4, "Dan", None, 800.0)],
        "id int, name string, dept_id int, salary double",
    ).createOrReplaceTempView("sql_emp")
    spark.createDataFrame([(10, "Eng"), (20, "Sales"), (30, "Ops")], "dept_id int, dept string").createOrReplaceTempView(
        "sql_dept"
    )
    yield
    spark.catalog.dropTempView("sql_emp")
    spark.catalog.dropTempView("sql_dept")


def test_select_from_temp_view(spark, views):
    df = spark.sql("SELECT id, name FROM sql_emp WHERE salary > 1000 ORDER BY id")
    assert_df(df, [("id", "int"), ("name", "string")], [(2, "Bob"), (3, "Carol")], ordered=True)


def test_sql_result_is_a_dataframe(spark, views):
    df = spark.sql("SELECT * FROM sql_emp").where(F.col("dept_id") == 10).select("name")
    assert_rows(df, [("Alice",), ("Carol",)])


def test_create_or_replace_temp_view_replaces(spark):
    spark.range(3).createOrReplaceTempView("sql_replace_me")
    assert spark.sql("SELECT count(*) FROM sql_replace_me").first()[0] == 3
    spark.range(7).createOrReplaceTempView("sql_replace_me")
    assert spark.sql("SELECT count(*) FROM sql_replace_me").first()[0] == 7
    spark.catalog.dropTempView("sql_replace_me")


def test_create_temp_view_on_existing_name_errors(spark):
    spark.range(1).createTempView("sql_dup_view")
    try:
        with pytest.raises(AnalysisException) as ei:
            spark.range(2).createTempView("sql_dup_view")
        assert ei.value.getCondition() == "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS"
    finally:
        spark.catalog.dropTempView("sql_dup_view")


def test_temp_view_names_are_case_insensitive(spark, views):
    assert spark.sql("SELECT count(*) FROM SQL_EMP").first()[0] == 4


def test_spark_table(spark, views):
    df = spark.table("sql_dept")
    assert_df(df, [("dept_id", "int"), ("dept", "string")], [(10, "Eng"), (20, "Sales"), (30, "Ops")])


def test_spark_read_table(spark, views):
    assert spark.read.table("sql_dept").count() == 3


def test_count_star_type_and_name(spark, views):
    df = spark.sql("SELECT count(*) FROM sql_emp")
    assert_df(df, [("count(1)", "bigint")], [(4,)])


def test_group_by_having_order(spark, views):
    df = spark.sql(
        "SELECT dept_id, count(*) AS n, avg(salary) AS avg_sal FROM sql_emp "
        "GROUP BY dept_id HAVING count(*) >= 1 ORDER BY dept_id NULLS LAST"
    )
    assert_df(
        df,
        [("dept_id", "int"), ("n", "bigint"), ("avg_sal", "double")],
        [(10, 2, 1100.0), (20, 1, 1500.0), (None, 1, 800.0)],
        ordered=True,
    )


def test_join_in_sql(spark, views):
    df = spark.sql("SELECT e.name, d.dept FROM sql_emp e LEFT JOIN sql_dept d ON e.dept_id = d.dept_id")
    assert_rows(df, [("Alice", "Eng"), ("Bob", "Sales"), ("Carol", "Eng"), ("Dan", None)])


def test_join_using_in_sql(spark, views):
    df = spark.sql("SELECT * FROM sql_emp JOIN sql_dept USING (dept_id)")
    assert df.columns == ["dept_id", "id", "name", "salary", "dept"]
    # A list spelled out keeps its order.
    df = spark.sql("SELECT id, name, dept_id, salary, dept FROM sql_emp JOIN sql_dept USING (dept_id)")
    assert df.columns == ["id", "name", "dept_id", "salary", "dept"]


def test_outer_join_using_keys_in_sql(spark):
    a = "VALUES (1, 'x'), (2, 'y') AS a(k, v)"
    b = "VALUES (2, 'p'), (3, 'q') AS b(k, w)"
    full = spark.sql(f"SELECT * FROM {a} FULL JOIN {b} USING (k)")
    assert_df(full, [("k", "int"), ("v", "string"), ("w", "string")], [(1, "x", None), (2, "y", "p"), (3, None, "q")])
    right = spark.sql(f"SELECT k, w FROM {a} RIGHT JOIN {b} USING (k)")
    assert_rows(right, [(2, "p"), (3, "q")])
    semi = spark.sql(f"SELECT * FROM VALUES ('x', 2), ('z', 9) AS a(v, k) LEFT SEMI JOIN {b} USING (k)")
    assert_df(semi, [("k", "int"), ("v", "string")], [(2, "x")])


def test_cte(spark, views):
    df = spark.sql(
        "WITH big AS (SELECT * FROM sql_emp WHERE salary >= 1200), "
        "names AS (SELECT name FROM big) SELECT * FROM names ORDER BY name"
    )
    assert_rows(df, [("Bob",), ("Carol",)], ordered=True)


def test_scalar_subquery(spark, views):
    df = spark.sql("SELECT name FROM sql_emp WHERE salary > (SELECT avg(salary) FROM sql_emp)")
    assert_rows(df, [("Bob",), ("Carol",)])


def test_in_subquery(spark, views):
    df = spark.sql("SELECT name FROM sql_emp WHERE dept_id IN (SELECT dept_id FROM sql_dept WHERE dept = 'Eng')")
    assert_rows(df, [("Alice",), ("Carol",)])


def test_not_in_subquery(spark, views):
    df = spark.sql("SELECT dept FROM sql_dept WHERE dept_id NOT IN (SELECT dept_id FROM sql_emp WHERE dept_id IS NOT NULL)")
    assert_rows(df, [("Ops",)])


def test_exists_correlated_subquery(spark, views):
    df = spark.sql("SELECT dept FROM sql_dept d WHERE NOT EXISTS (SELECT 1 FROM sql_emp e WHERE e.dept_id = d.dept_id)")
    assert_rows(df, [("Ops",)])


def test_correlated_scalar_subquery(spark, views):
    df = spark.sql(
        "SELECT d.dept, (SELECT max(salary) FROM sql_emp e WHERE e.dept_id = d.dept_id) AS top FROM sql_dept d"
    )
    assert_df(df, [("dept", "string"), ("top", "double")], [("Eng", 1200.0), ("Sales", 1500.0), ("Ops", None)])


def test_subquery_in_from(spark, views):
    df = spark.sql("SELECT max(n) FROM (SELECT dept_id, count(*) AS n FROM sql_emp GROUP BY dept_id) t")
    assert_rows(df, [(2,)])


def test_named_parameters(spark, views):
    df = spark.sql("SELECT name FROM sql_emp WHERE id > :p ORDER BY id", args={"p": 2})
    assert_rows(df, [("Carol",), ("Dan",)], ordered=True)


def test_named_parameters_of_several_types(spark):
    df = spark.sql(
        "SELECT :i + 1 AS i, :s AS s, :d AS d, :f AS f",
        args={"i": 41, "s": "x", "d": datetime.date(2024, 1, 2), "f": 0.5},
    )
    assert_df(
        df,
        [("i", "int"), ("s", "string"), ("d", "date"), ("f", "double")],
        [(42, "x", datetime.date(2024, 1, 2), 0.5)],
    )


def test_positional_parameters(spark, views):
    df = spark.sql("SELECT name FROM sql_emp WHERE id BETWEEN ? AND ?", args=[2, 3])
    assert_rows(df, [("Bob",), ("Carol",)])


def test_unbound_parameter_errors(spark):
    with pytest.raises(AnalysisException) as ei:
        spark.sql("SELECT :missing", args={"other": 1}).collect()
    assert ei.value.getCondition() == "UNBOUND_SQL_PARAMETER"


def test_dataframe_as_sql_format_argument(spark):
    df = spark.createDataFrame([(1,), (2,), (3,)], "x int")
    out = spark.sql("SELECT sum(x) AS s FROM {t} WHERE x > {lo}", t=df, lo=1)
    assert_df(out, [("s", "bigint")], [(5,)])


def test_dataframe_arguments_join_and_leave_no_views(spark):
    df = spark.createDataFrame([(1,), (2,), (3,)], "x int")
    ids = spark.range(3)
    before = {t.name for t in spark.catalog.listTables()}
    out = spark.sql("SELECT {a}.x, {b}.id FROM {a} JOIN {b} ON {a}.x = {b}.id", a=df, b=ids)
    assert_rows(out, [(1, 1), (2, 2)])
    assert {t.name for t in spark.catalog.listTables()} == before


def test_values_clause(spark):
    df = spark.sql("SELECT * FROM VALUES (1, 'a'), (2, 'b') AS t(n, s)")
    assert_df(df, [("n", "int"), ("s", "string")], [(1, "a"), (2, "b")])


def test_range_table_function(spark):
    df = spark.sql("SELECT * FROM range(2, 8, 3)")
    assert_df(df, [("id", "bigint")], [(2,), (5,)])


def test_union_all_and_union_in_sql(spark):
    assert spark.sql("SELECT 1 UNION ALL SELECT 1").count() == 2
    assert spark.sql("SELECT 1 UNION SELECT 1").count() == 1


def test_intersect_except_in_sql(spark):
    assert_rows(spark.sql("SELECT * FROM VALUES 1, 2, 3 AS t(x) INTERSECT SELECT * FROM VALUES 2, 3, 4 AS u(x)"), [(2,), (3,)])
    assert_rows(spark.sql("SELECT * FROM VALUES 1, 2, 3 AS t(x) EXCEPT SELECT * FROM VALUES 2 AS u(x)"), [(1,), (3,)])


def test_inline_tables_without_row_parentheses(spark):
    assert_df(spark.sql("VALUES 1, 2"), [("col1", "int")], [(1,), (2,)])
    assert_df(spark.sql("SELECT * FROM VALUES 'a', 'b,c' t(s)"), [("s", "string")], [("a",), ("b,c",)])
    assert_df(spark.sql("SELECT * FROM VALUES 1 + 1, NULL AS t(x)"), [("x", "int")], [(2,), (None,)])
    assert_df(spark.sql("SELECT * FROM VALUES array(1, 2), array(3) AS t(a)"), [("a", "array<int>")], [([1, 2],), ([3],)])
    assert_df(spark.sql("SELECT x FROM VALUES 1, 2 AS t(x) WHERE x > 1"), [("x", "int")], [(2,)])
    assert_df(spark.sql("SELECT * FROM VALUES (1, 'a'), (2, 'b')"), [("col1", "int"), ("col2", "string")], [(1, "a"), (2, "b")])
    assert_df(spark.sql("VALUES 1, 2 LIMIT 1"), [("col1", "int")], [(1,)])
    assert_df(spark.sql("VALUES 1 UNION ALL VALUES 2"), [("col1", "int")], [(1,), (2,)])
    assert_df(spark.sql("VALUES (2, 'a'), (1, 'b') ORDER BY 1"), [("col1", "int"), ("col2", "string")], [(1, "b"), (2, "a")], ordered=True)


def test_case_expression_and_string_concat(spark, views):
    df = spark.sql(
        "SELECT name || '!' AS shout, CASE WHEN salary >= 1200 THEN 'high' ELSE 'low' END AS band "
        "FROM sql_emp WHERE id <= 3"
    )
    assert_rows(df, [("Alice!", "low"), ("Bob!", "high"), ("Carol!", "high")])


def test_subquery_order_by_orders_the_rows_above(spark):
    # DataFusion drops a subquery's ORDER BY without a LIMIT; Spark keeps it.
    df = spark.sql("SELECT id + 1 AS n FROM (SELECT id FROM range(5) ORDER BY id DESC)")
    assert [r.n for r in df.collect()] == [5, 4, 3, 2, 1]
    firsts = spark.sql(
        "SELECT k, first(v) AS f, last(v) AS l FROM "
        "(SELECT * FROM VALUES ('a', 1, 2), ('a', 2, 1), ('a', 3, 3) AS t(k, v, ts) ORDER BY ts) GROUP BY k"
    )
    assert [tuple(r) for r in firsts.collect()] == [("a", 2, 3)]


def test_order_by_ordinal_and_limit(spark, views):
    df = spark.sql("SELECT name, salary FROM sql_emp ORDER BY 2 DESC LIMIT 2")
    assert_rows(df, [("Bob", 1500.0), ("Carol", 1200.0)], ordered=True)


def test_group_by_all(spark, views):
    df = spark.sql("SELECT dept_id, sum(salary) AS s FROM sql_emp GROUP BY ALL")
    assert_rows(df, [(10, 2200.0), (20, 1500.0), (None, 800.0)])


def test_create_temp_view_in_sql_and_drop(spark):
    spark.sql("CREATE OR REPLACE TEMP VIEW sql_made_in_sql AS SELECT 1 AS one")
    assert_rows(spark.table("sql_made_in_sql"), [(1,)])
    spark.sql("DROP VIEW sql_made_in_sql")
    with pytest.raises(AnalysisException) as ei:
        spark.table("sql_made_in_sql").collect()
    assert ei.value.getCondition() == "TABLE_OR_VIEW_NOT_FOUND"


def test_catalog_drop_temp_view_returns_flag(spark):
    spark.range(1).createOrReplaceTempView("sql_drop_flag")
    assert spark.catalog.dropTempView("sql_drop_flag") is True
    assert spark.catalog.dropTempView("sql_drop_flag") is False


def test_catalog_list_tables_includes_temp_view(spark, views):
    tables = {t.name: t for t in spark.catalog.listTables()}
    assert "sql_emp" in tables
    assert tables["sql_emp"].isTemporary is True
    assert tables["sql_emp"].tableType == "TEMPORARY"


def test_catalog_table_exists(spark, views):
    assert spark.catalog.tableExists("sql_emp") is True
    assert spark.catalog.tableExists("sql_no_such_view") is False


def test_catalog_current_database(spark):
    assert spark.catalog.currentDatabase() == "default"


def test_show_tables_lists_temp_views(spark, views):
    df = spark.sql("SHOW TABLES")
    assert df.columns == ["namespace", "tableName", "isTemporary"]
    rows = {r.tableName: r for r in df.collect()}
    assert rows["sql_emp"].isTemporary is True


def test_global_temp_view(spark):
    spark.range(4).createOrReplaceGlobalTempView("sql_global_v")
    try:
        assert spark.sql("SELECT count(*) FROM global_temp.sql_global_v").first()[0] == 4
    finally:
        spark.catalog.dropGlobalTempView("sql_global_v")


def test_sql_comments_and_trailing_semicolon(spark):
    df = spark.sql("-- leading comment\nSELECT /* inline */ 1 AS x;")
    assert_rows(df, [(1,)])


def test_set_command_returns_key_value(spark):
    df = spark.sql("SET spark.sql.shuffle.partitions")
    assert_schema(df, [("key", "string"), ("value", "string")])
    assert df.first().key == "spark.sql.shuffle.partitions"


def test_sql_column_names_follow_spark(spark):
    spark.createDataFrame([(1, 2, "x")], "a int, b bigint, s string").createOrReplaceTempView("names_t")
    df = spark.sql(
        "SELECT 1, a + b, t.a * 2, -5, 'q', upper(s), s || 'y', CAST(a AS BIGINT), CAST(a + 1 AS STRING), "
        "a IS NULL, a NOT IN (1, 2), CASE WHEN a = 1 THEN 'one' ELSE 'other' END, a <> 1, "
        "DATE'2024-01-01', 1.50, count(*) OVER () AS n FROM names_t AS t"
    )
    assert df.columns == [
        "1", "(a + b)", "(a * 2)", "-5", "q", "upper(s)", "concat(s, y)", "a", "CAST((a + 1) AS STRING)",
        "(a IS NULL)", "(NOT (a IN (1, 2)))", "CASE WHEN (a = 1) THEN one ELSE other END", "(NOT (a = 1))",
        "DATE '2024-01-01'", "1.50", "n",
    ]
    agg = spark.sql("SELECT count(*), sum(a), count(DISTINCT s), max(a) + 1 FROM names_t")
    assert agg.columns == ["count(1)", "sum(a)", "count(DISTINCT s)", "(max(a) + 1)"]


def test_typed_literals_are_named_as_written(spark):
    df = spark.sql("SELECT 10L, 1.5D, 2F, 1.50BD, 1Y + 2S, CAST('10' AS BIGINT)")
    assert df.columns == ["10", "1.5", "2.0", "1.50", "(1 + 2)", "CAST(10 AS BIGINT)"]
    assert [t for _, t in df.dtypes] == ["bigint", "double", "float", "decimal(3,2)", "smallint", "bigint"]


def test_negative_typed_literals(spark):
    # The minus belongs to the literal: the smallest bigint and tinyint are literals too.
    df = spark.sql("SELECT -9223372036854775808L, -128Y, 5 -1L, x -1L FROM VALUES (3) AS t(x)")
    assert_df(
        df,
        [("-9223372036854775808", "bigint"), ("-128", "tinyint"), ("(5 - 1)", "bigint"), ("(x - 1)", "bigint")],
        [(-9223372036854775808, -128, 4, 2)],
    )


def test_integer_division_in_sql_gives_double(spark):
    df = spark.sql("SELECT 7 / 2 AS x, 7 % 2 AS m, id / 4 AS q FROM range(2, 3)")
    assert_df(df, [("x", "double"), ("m", "int"), ("q", "double")], [(3.5, 1, 0.5)])


def test_global_temp_view_replace_and_drop(spark):
    spark.range(2).createGlobalTempView("g_replace_v")
    try:
        with pytest.raises(AnalysisException) as ei:
            spark.range(3).createGlobalTempView("g_replace_v")
        assert ei.value.getCondition() == "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS"
        spark.range(5).createOrReplaceGlobalTempView("g_replace_v")
        assert spark.table("global_temp.g_replace_v").count() == 5
        assert spark.sql("SELECT max(id) FROM global_temp.G_REPLACE_V").first()[0] == 4
    finally:
        assert spark.catalog.dropGlobalTempView("g_replace_v") is True
    assert spark.catalog.dropGlobalTempView("g_replace_v") is False


@pytest.fixture
def lateral_source(spark):
    spark.createDataFrame(
        [(1, [1, 2], {"a": 1}), (2, [], {})], "id int, arr array<int>, m map<string,int>"
    ).createOrReplaceTempView("lv_src")
    yield "lv_src"
    spark.catalog.dropTempView("lv_src")


def test_lateral_view_explodes_beside_the_row(spark, lateral_source):
    df = spark.sql("SELECT id, t.x FROM lv_src LATERAL VIEW explode(arr) t AS x")
    assert_df(df, [("id", "int"), ("x", "int")], [(1, 1), (1, 2)])
    outer = spark.sql("SELECT id, k, v FROM lv_src LATERAL VIEW OUTER explode(m) t AS k, v")
    assert_df(outer, [("id", "int"), ("k", "string"), ("v", "int")], [(1, "a", 1), (2, None, None)])
    star = spark.sql("SELECT * FROM lv_src s LATERAL VIEW posexplode(s.arr) t")
    assert star.columns == ["id", "arr", "m", "pos", "col"]


def test_lateral_view_over_an_unaliased_subquery(spark):
    df = spark.sql(
        "SELECT id, k, v FROM (SELECT 1 AS id, map('a', 1, 'b', 2) AS m) LATERAL VIEW explode(m) t AS k, v WHERE v > 1"
    )
    assert_df(df, [("id", "int"), ("k", "string"), ("v", "int")], [(1, "b", 2)])


def test_lateral_views_chain_and_feed_where_and_group_by(spark, lateral_source):
    df = spark.sql(
        "SELECT s.id, t.x, u.y FROM lv_src s LATERAL VIEW explode(s.arr) t AS x "
        "LATERAL VIEW explode(array(t.x, t.x * 10)) u AS y WHERE u.y > 1 ORDER BY u.y"
    )
    assert_rows(df, [(1, 2, 2), (1, 1, 10), (1, 2, 20)], ordered=True)
    counts = spark.sql("SELECT x, count(*) AS n FROM lv_src LATERAL VIEW explode(arr) t AS x GROUP BY x")
    assert_rows(counts, [(1, 1), (2, 1)])


def test_generator_with_several_names_in_a_subquery(spark, lateral_source):
    df = spark.sql("SELECT p, c + 1 AS c1 FROM (SELECT posexplode(arr) AS (p, c) FROM lv_src)")
    assert_df(df, [("p", "int"), ("c1", "int")], [(0, 2), (1, 3)])
    assert spark.sql("SELECT * FROM (SELECT posexplode(arr) FROM lv_src)").columns == ["pos", "col"]


def test_sql_range_takes_a_partition_count(spark):
    df = spark.sql("SELECT spark_partition_id() AS p, count(*) AS n FROM range(0, 10, 1, 3) GROUP BY 1")
    rows = rows_of(df)
    assert sorted(p for p, _ in rows) == [0, 1, 2] and sum(n for _, n in rows) == 10
    from pyspark.errors import IllegalArgumentException

    with pytest.raises(IllegalArgumentException):
        spark.sql("SELECT * FROM range(0, 4, 1, 0)").collect()


def test_spark_only_sql_forms(spark):
    df = spark.sql(
        "SELECT ~5 a, equal_null(NULL, NULL) b, equal_null(1, 2) c, approx_count_distinct(x) d, "
        "first(x, true) e, last(x, true) f, first(x) g FROM VALUES (NULL), (1), (2), (1), (NULL) AS t(x)"
    )
    assert_df(
        df,
        [("a", "int"), ("b", "boolean"), ("c", "boolean"), ("d", "bigint"), ("e", "int"), ("f", "int"), ("g", "int")],
        [(-6, True, False, 2, 1, 1, None)],
    )
    assert spark.sql("SELECT first(x, true) FROM VALUES (1) AS t(x)").columns == ["first(x)"]


def test_stack_unpivots_in_sql_and_select_expr(spark):
    df = spark.sql("SELECT k, stack(2, 'x', a, 'y', b) FROM VALUES (1, 10, 20) AS t(k, a, b)")
    assert_df(df, [("k", "int"), ("col0", "string"), ("col1", "int")], [(1, "x", 10), (1, "y", 20)])
    assert_rows(spark.sql("SELECT stack(2, 1, 2, 3)"), [(1, 2), (3, None)])
    lateral = spark.sql(
        "SELECT name, value FROM VALUES (1, 10, 20) AS t(k, a, b) LATERAL VIEW stack(2, 'x', a, 'y', b) s AS name, value"
    )
    assert_rows(lateral, [("x", 10), ("y", 20)])
    wide = spark.createDataFrame([(1, 10, 20)], "k int, a int, b int")
    long = wide.selectExpr("k", "stack(2, 'a', a, 'b', b) AS (name, value)")
    assert_df(long, [("k", "int"), ("name", "string"), ("value", "int")], [(1, "a", 10), (1, "b", 20)])
    assert_rows(wide.selectExpr("posexplode(array(a, b)) AS (p, v)"), [(0, 10), (1, 20)])
    with pytest.raises(AnalysisException) as e:
        wide.selectExpr("a + 1 AS (x, y)").collect()
    assert e.value.getCondition() == "MULTI_ALIAS_WITHOUT_GENERATOR"


def test_parameters_may_be_collection_constructors(spark):
    df = spark.createDataFrame([(1, 4), (3, 6)], "a int, b int")
    got = spark.sql("SELECT a, element_at(?, 2) AS c FROM {df} WHERE {df[b]} > ?", args=[F.array(F.lit(7), F.lit(8)), 5], df=df)
    assert_rows(got, [(3, 8)])


def test_lateral_view_over_joins(spark):
    a = "VALUES (1), (2), (3) AS a(id)"
    b = "VALUES (1, array('x', 'y')), (2, array()) AS b(id, tags)"
    inner = spark.sql(f"SELECT a.id, t.tag FROM {a} JOIN {b} ON a.id = b.id LATERAL VIEW explode(b.tags) t AS tag")
    assert_rows(inner, [(1, "x"), (1, "y")])
    # A row the outer join adds for no row of b has no tags: the view drops
    # it, an OUTER view keeps it with NULL.
    left = f"SELECT a.id, tag FROM {a} LEFT JOIN {b} ON a.id = b.id LATERAL VIEW %s explode(b.tags) t AS tag ORDER BY a.id, tag"
    assert_rows(spark.sql(left % ""), [(1, "x"), (1, "y")], ordered=True)
    assert_rows(spark.sql(left % "OUTER"), [(1, "x"), (1, "y"), (2, None), (3, None)], ordered=True)
    # SELECT * lists the relations' columns, then the views'.
    star = spark.sql(
        "SELECT * FROM VALUES (1, array('p', 'q')) AS a(id, tags) JOIN VALUES (1, 'z') AS b(x, y) ON a.id = b.x "
        "LATERAL VIEW posexplode(a.tags) t AS pos, tag ORDER BY pos"
    )
    assert star.columns == ["id", "tags", "x", "y", "pos", "tag"]
    assert [tuple(r) for r in star.collect()] == [(1, ["p", "q"], 1, "z", 0, "p"), (1, ["p", "q"], 1, "z", 1, "q")]


def test_sql_order_by_puts_nulls_first_ascending(spark):
    rows = "VALUES (1), (NULL), (0) AS a(id)"
    assert [r[0] for r in spark.sql(f"SELECT id FROM {rows} ORDER BY id").collect()] == [None, 0, 1]
    assert [r[0] for r in spark.sql(f"SELECT id FROM {rows} ORDER BY id DESC").collect()] == [1, 0, None]
    ranked = spark.sql(f"SELECT id, row_number() OVER (ORDER BY id) r, rank() OVER (ORDER BY id DESC) k FROM {rows} ORDER BY r")
    assert_df(ranked, [("id", "int"), ("r", "int"), ("k", "int")], [(None, 1, 3), (0, 2, 2), (1, 3, 1)])


def test_values_mixing_decimals_and_doubles_are_double(spark):
    df = spark.sql("SELECT * FROM VALUES (0.0, 1), (PI() / 4, 2), (sqrt(2), 3) AS t(v, n)")
    assert_df(df, [("v", "double"), ("n", "int")], [(0.0, 1), (0.7853981633974483, 2), (1.4142135623730951, 3)])
    assert spark.sql("SELECT * FROM VALUES (1), (2.5) AS t(v)").dtypes == [("v", "decimal(11,1)")]


def test_current_timezone_is_the_session_zone(spark):
    spark.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")
    try:
        assert_df(spark.sql("SELECT current_timezone()"), [("current_timezone()", "string")], [("Asia/Tokyo",)])
    finally:
        spark.conf.unset("spark.sql.session.timeZone")


def test_sql_date_field_functions(spark):
    df = spark.sql(
        "SELECT year(DATE'2024-01-01') y, month('2024-03-01') m, quarter(DATE'2024-05-01') q, dayofmonth('2024-03-05') d, "
        "weekofyear('2021-01-03') w, dayofweek(DATE'2024-03-05') dw, dayofyear('2024-12-31') dy"
    )
    assert_df(
        df,
        [("y", "int"), ("m", "int"), ("q", "int"), ("d", "int"), ("w", "int"), ("dw", "int"), ("dy", "int")],
        [(2024, 3, 2, 5, 53, 3, 366)],
    )


def test_sql_pivot_and_unpivot(spark):
    sales = "VALUES ('east', '2024-01', 100), ('east', '2024-02', 150), ('west', '2024-01', 80), ('east', '2024-01', 20) AS t(region, month, amt)"
    pivoted = spark.sql(
        f"SELECT * FROM (SELECT region, month, amt FROM {sales}) PIVOT (SUM(amt) FOR month IN ('2024-01' AS jan, '2024-02' AS feb)) ORDER BY region"
    )
    assert_df(pivoted, [("region", "string"), ("jan", "bigint"), ("feb", "bigint")], [("east", 120, 150), ("west", 80, None)])
    two = spark.sql(
        f"SELECT * FROM (SELECT region, month, amt FROM {sales}) PIVOT (SUM(amt) AS s, COUNT(amt) AS c FOR month IN ('2024-02')) ORDER BY region"
    )
    assert_df(two, [("region", "string"), ("2024-02_s", "bigint"), ("2024-02_c", "bigint")], [("east", 150, 1), ("west", None, None)])
    unpivoted = spark.sql("SELECT * FROM (SELECT 'a' k, 1 x, CAST(NULL AS INT) y) UNPIVOT (v FOR c IN (x AS first, y))")
    assert_df(unpivoted, [("k", "string"), ("c", "string"), ("v", "int")], [("a", "first", 1)])
    with_nulls = spark.sql("SELECT * FROM (SELECT 'a' k, 1 x, CAST(NULL AS INT) y) UNPIVOT INCLUDE NULLS (v FOR c IN (x, y)) ORDER BY c")
    assert_rows(with_nulls, [("a", "x", 1), ("a", "y", None)], ordered=True)


def test_sql_functions_the_dataframe_api_had(spark):
    df = spark.sql(
        "SELECT isnull(NULL) a, isnotnull(1) b, curdate() = current_date() c, user() = current_user() d, "
        "timestamp('2020-01-01 10:00:00') = TIMESTAMP'2020-01-01 10:00:00' e"
    )
    assert_rows(df, [(True, True, True, True, True)])
    assert spark.sql("SELECT curdate(), timestamp('2020-01-01')").columns == ["current_date()", "2020-01-01"]
    pct = spark.sql("SELECT percentile(x, 0.5), percentile(x, 0.25) FROM VALUES (1), (2), (3), (4) t(x)")
    assert_df(pct, [("percentile(x, 0.5, 1)", "double"), ("percentile(x, 0.25, 1)", "double")], [(2.5, 1.75)])
    from pyspark.sql import functions as F

    assert spark.range(1, 5).select(F.percentile("id", 0.5)).first()[0] == 2.5


def test_sql_map_lambdas(spark):
    df = spark.sql(
        "SELECT map_filter(map(1, 'a', 2, 'b'), (k, v) -> k > 1) f, transform_values(map(1, 1, 2, 5), (k, v) -> v + k) tv, "
        "transform_keys(map('a', 1), (k, v) -> upper(k)) tk"
    )
    assert_df(df, [("f", "map<int,string>"), ("tv", "map<int,int>"), ("tk", "map<string,int>")], [({2: "b"}, {1: 2, 2: 7}, {"A": 1})])
