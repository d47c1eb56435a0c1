"""Aggregation: groupBy/agg, result types, rollup/cube, pivot, global aggregates."""

import datetime
import decimal
import math

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql.functions import col

from ember_testutil import assert_df, assert_rows, assert_schema, rows_of

D = decimal.Decimal


@pytest.fixture(scope="module")
def sales(spark):
    return spark.createDataFrame(
        [
            ("east", "apple", 10, 1.5, D("2.50")),
            ("east", "pear", 5, 2.0, D("1.25")),
            ("east", "apple", 7, None, D("3.00")),
            ("west", "apple", 3, 4.0, None),
            ("west", "kiwi", None, 1.0, D("0.75")),
        ],
        "region string, product string, qty int, price double, fee decimal(10,2)",
    )


def test_group_by_count(sales):
    df = sales.groupBy("region").count()
    assert_df(df, [("region", "string"), ("count", "bigint")], [("east", 3), ("west", 2)])


def test_sum_of_int_is_bigint(sales):
    df = sales.groupBy("region").agg(F.sum("qty").alias("s"))
    assert_df(df, [("region", "string"), ("s", "bigint")], [("east", 22), ("west", 3)])


def test_avg_is_double(sales):
    df = sales.groupBy("region").agg(F.avg("qty").alias("a"))
    assert_df(df, [("region", "string"), ("a", "double")], [("east", 22 / 3), ("west", 3.0)])


def test_min_max_keep_input_type(sales):
    df = sales.groupBy("region").agg(F.min("qty").alias("lo"), F.max("price").alias("hi"))
    assert_df(df, [("region", "string"), ("lo", "int"), ("hi", "double")], [("east", 5, 2.0), ("west", 3, 4.0)])


def test_sum_of_decimal_widens_precision(sales):
    df = sales.groupBy("region").agg(F.sum("fee").alias("s"))
    assert_df(df, [("region", "string"), ("s", "decimal(20,2)")], [("east", D("6.75")), ("west", D("0.75"))])


def test_avg_of_decimal_adds_scale(sales):
    df = sales.groupBy("region").agg(F.avg("fee").alias("a"))
    assert_df(df, [("region", "string"), ("a", "decimal(14,6)")], [("east", D("2.250000")), ("west", D("0.750000"))])


def test_count_column_skips_nulls_count_star_does_not(sales):
    df = sales.groupBy("region").agg(F.count("qty").alias("c"), F.count("*").alias("n"))
    assert_df(df, [("region", "string"), ("c", "bigint"), ("n", "bigint")], [("east", 3, 3), ("west", 1, 2)])


def test_count_distinct(sales):
    df = sales.groupBy("region").agg(F.countDistinct("product").alias("d"))
    assert_df(df, [("region", "string"), ("d", "bigint")], [("east", 2), ("west", 2)])


def test_collect_list_sorted(sales):
    df = sales.groupBy("region").agg(F.sort_array(F.collect_list("product")).alias("ps"))
    assert_df(
        df,
        [("region", "string"), ("ps", "array<string>")],
        [("east", ["apple", "apple", "pear"]), ("west", ["apple", "kiwi"])],
    )


def test_collect_set_sorted(sales):
    df = sales.groupBy("region").agg(F.array_sort(F.collect_set("product")).alias("ps"))
    assert_rows(df, [("east", ["apple", "pear"]), ("west", ["apple", "kiwi"])])


def test_collect_list_skips_nulls(sales):
    df = sales.where("region = 'west'").agg(F.collect_list("qty").alias("q"))
    assert_rows(df, [([3],)])


def test_first_ignore_nulls(spark):
    df = spark.createDataFrame([(1, None), (1, "x")], "k int, v string").coalesce(1)
    out = df.groupBy("k").agg(F.first("v", ignorenulls=True).alias("f"))
    assert_df(out, [("k", "int"), ("f", "string")], [(1, "x")])


def test_first_and_last_follow_a_sorted_input(spark):
    # The usual "value at the earliest / latest time" idiom.
    df = spark.createDataFrame(
        [("a", 2, 1), ("b", 5, 2), ("a", None, 3), ("a", 7, 0), ("b", 1, 9)], "k string, v int, ts int"
    )
    out = df.orderBy("ts").groupBy("k").agg(F.first("v"), F.last("v"), F.first("v", True), F.last("v", True))
    assert_rows(out, [("a", 7, None, 7, 2), ("b", 5, 1, 5, 1)])
    latest = df.orderBy(F.desc("ts")).filter("v > 0").groupBy("k").agg(F.first("v").alias("v"))
    assert_rows(latest, [("a", 2), ("b", 1)])
    # collect_list keeps the sorted order too, also when a select dropped the
    # sort column; a group without values collects [].
    lists = df.orderBy("ts").select("k", "v").groupBy("k").agg(F.collect_list("v").alias("l"))
    assert_df(lists, [("k", "string"), ("l", "array<int>")], [("a", [7, 2]), ("b", [5, 1])])
    empty = df.where("v IS NULL").orderBy("ts").groupBy("k").agg(F.collect_list("v").alias("l"))
    assert_rows(empty, [("a", [])])


def test_first_on_single_row_groups(sales):
    df = sales.where("product != 'apple'").groupBy("product").agg(F.first("qty").alias("q"))
    assert_rows(df, [("pear", 5), ("kiwi", None)])


def test_agg_with_dict(sales):
    df = sales.groupBy("region").agg({"qty": "sum", "price": "max"})
    assert_schema(df, [("region", "string"), ("sum(qty)", "bigint"), ("max(price)", "double")])
    assert_rows(df, [("east", 22, 2.0), ("west", 3, 4.0)])


def test_default_aggregate_column_names(sales):
    df = sales.groupBy("region").agg(F.sum("qty"), F.avg("qty"), F.count("*"), F.countDistinct("product"))
    assert df.columns == ["region", "sum(qty)", "avg(qty)", "count(1)", "count(DISTINCT product)"]


def test_group_by_shortcut_methods(sales):
    assert_rows(sales.groupBy("region").sum("qty"), [("east", 22), ("west", 3)])
    assert_rows(sales.groupBy("region").max("qty"), [("east", 10), ("west", 3)])
    assert sales.groupBy("region").mean("qty").columns == ["region", "avg(qty)"]


def test_group_by_multiple_keys(sales):
    df = sales.groupBy("region", "product").agg(F.sum("qty").alias("q"))
    assert_rows(df, [("east", "apple", 17), ("east", "pear", 5), ("west", "apple", 3), ("west", "kiwi", None)])


def test_group_by_expression(spark):
    df = spark.range(10).groupBy((col("id") % 3).alias("m")).agg(F.count("*").alias("n"))
    assert_df(df, [("m", "bigint"), ("n", "bigint")], [(0, 4), (1, 3), (2, 3)])


def test_group_by_null_key_forms_a_group(spark):
    df = spark.createDataFrame([(None, 1), (None, 2), ("a", 3)], "k string, v int")
    assert_rows(df.groupBy("k").agg(F.sum("v")), [(None, 3), ("a", 3)])


def test_global_aggregate(sales):
    df = sales.agg(F.sum("qty").alias("s"), F.count("*").alias("n"), F.max("region").alias("m"))
    assert_df(df, [("s", "bigint"), ("n", "bigint"), ("m", "string")], [(25, 5, "west")])


def test_global_aggregate_on_empty_input(spark):
    df = spark.createDataFrame([], "x int").agg(F.count("x").alias("c"), F.sum("x").alias("s"))
    assert_df(df, [("c", "bigint"), ("s", "bigint")], [(0, None)])


def test_group_by_on_empty_input_gives_no_rows(spark):
    assert spark.createDataFrame([], "k int, x int").groupBy("k").count().collect() == []


def test_having_via_filter(sales):
    df = sales.groupBy("product").agg(F.count("*").alias("n")).filter(col("n") > 1)
    assert_rows(df, [("apple", 3)])


def test_skewness_kurtosis_and_product(spark):
    # Spark's own examples; the last bits depend on how rows are split.
    df = spark.sql("SELECT * FROM VALUES (-10), (-20), (100), (1000) AS tab(col)")
    r = df.select(F.skewness("col"), F.kurtosis("col"), F.product("col")).first()
    assert r[0] == pytest.approx(1.1135657469022013, rel=1e-12)
    assert r[1] == pytest.approx(-0.7014368047529618, rel=1e-12)
    assert r[2] == 20000000.0
    assert_schema(df.select(F.skewness("col")), [("skewness(col)", "double")])
    groups = spark.sql("SELECT id % 3 AS m, id AS v FROM range(10)").groupBy("m").agg(F.product("v").alias("p"))
    assert_rows(groups, [(0, 0.0), (1, 28.0), (2, 80.0)])
    same = spark.createDataFrame([(2,), (2,), (None,)], "x int").select(F.skewness("x"), F.kurtosis("x"))
    assert rows_of(same) == [(None, None)]
    empty = spark.range(0).select(F.skewness("id"), F.kurtosis("id"), F.product("id"))
    assert rows_of(empty) == [(None, None, None)]


def test_stddev_variance(spark):
    df = spark.createDataFrame([(2.0,), (4.0,), (4.0,), (4.0,), (5.0,), (5.0,), (7.0,), (9.0,)], "x double")
    out = df.agg(F.stddev_pop("x"), F.var_pop("x"), F.stddev("x"))
    assert out.columns == ["stddev_pop(x)", "var_pop(x)", "stddev(x)"]
    r = out.first()
    assert r[0] == 2.0 and r[1] == 4.0
    assert r[2] == pytest.approx(2.138089935299395, rel=1e-12)


def test_sum_distinct_and_approx(spark):
    df = spark.createDataFrame([(1,), (1,), (2,), (3,)], "x int")
    out = df.agg(F.sum_distinct("x").alias("sd"), F.approx_count_distinct("x").alias("ad"))
    assert_df(out, [("sd", "bigint"), ("ad", "bigint")], [(6, 3)])


def test_rollup(sales):
    df = sales.rollup("region", "product").agg(F.sum("qty").alias("q"))
    assert_schema(df, [("region", "string"), ("product", "string"), ("q", "bigint")])
    assert_rows(
        df,
        [
            ("east", "apple", 17),
            ("east", "pear", 5),
            ("east", None, 22),
            ("west", "apple", 3),
            ("west", "kiwi", None),
            ("west", None, 3),
            (None, None, 25),
        ],
    )


def test_cube_with_grouping_id(sales):
    df = sales.cube("region", "product").agg(F.grouping_id().alias("g"), F.count("*").alias("n"))
    assert_schema(df, [("region", "string"), ("product", "string"), ("g", "bigint"), ("n", "bigint")])
    assert_rows(
        df,
        [
            ("east", "apple", 0, 2),
            ("east", "pear", 0, 1),
            ("west", "apple", 0, 1),
            ("west", "kiwi", 0, 1),
            ("east", None, 1, 3),
            ("west", None, 1, 2),
            (None, "apple", 2, 3),
            (None, "pear", 2, 1),
            (None, "kiwi", 2, 1),
            (None, None, 3, 5),
        ],
    )


def test_grouping_function(sales):
    df = sales.rollup("region").agg(F.grouping("region").alias("g"), F.sum("qty").alias("q"))
    assert_df(df, [("region", "string"), ("g", "tinyint"), ("q", "bigint")], [("east", 0, 22), ("west", 0, 3), (None, 1, 25)])


def test_pivot_with_values(sales):
    df = sales.groupBy("region").pivot("product", ["apple", "pear"]).sum("qty")
    assert_df(
        df,
        [("region", "string"), ("apple", "bigint"), ("pear", "bigint")],
        [("east", 17, 5), ("west", 3, None)],
    )


def test_pivot_without_values_sorts_distinct_values(sales):
    df = sales.groupBy("region").pivot("product").count()
    assert df.columns == ["region", "apple", "kiwi", "pear"]
    assert_rows(df, [("east", 2, None, 1), ("west", 1, 1, None)])


def test_pivot_multiple_aggregates_names(sales):
    df = sales.groupBy("region").pivot("product", ["apple"]).agg(F.sum("qty").alias("s"), F.max("price").alias("m"))
    assert df.columns == ["region", "apple_s", "apple_m"]
    assert_rows(df, [("east", 17, 1.5), ("west", 3, 4.0)])


def test_agg_expression_over_aggregates(sales):
    df = sales.groupBy("region").agg((F.sum("qty") * 2).alias("dbl"), (F.max("qty") - F.min("qty")).alias("rng"))
    assert_df(df, [("region", "string"), ("dbl", "bigint"), ("rng", "int")], [("east", 44, 5), ("west", 6, 0)])


def test_max_by_min_by(spark):
    df = spark.createDataFrame([("a", 1), ("b", 3), ("c", 2)], "name string, score int")
    out = df.agg(F.max_by("name", "score").alias("best"), F.min_by("name", "score").alias("worst"))
    assert_rows(out, [("b", "a")])


def test_max_by_min_by_of_k_rows(spark):
    df = spark.createDataFrame([("a", 1), ("b", 5), ("c", 3), ("d", None), ("e", 4)], "x string, y int")
    out = df.select(F.max_by("x", "y", 2), F.min_by("x", "y", 10))
    # The best first; rows without an ordering are skipped.
    assert_df(out, [("max_by(x, y, 2)", "array<string>"), ("min_by(x, y, 10)", "array<string>")], [(["b", "e"], ["a", "c", "e", "b"])])
    grouped = df.groupBy((F.col("y") > 3).alias("big")).agg(F.max_by("x", "y", 1).alias("top")).orderBy("big")
    assert_rows(grouped, [(None, None), (False, ["c"]), (True, ["b"])], ordered=True)
    assert_rows(spark.sql("SELECT max_by(x, y, 2) FROM VALUES ('a', 1), ('b', 2) AS t(x, y)"), [(["b", "a"],)])
    with pytest.raises(AnalysisException) as e:
        df.select(F.max_by("x", "y", 0)).collect()
    assert e.value.getCondition() == "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE"
    with pytest.raises(AnalysisException) as e:
        df.select(F.min_by("x", "y", F.col("y"))).collect()
    assert e.value.getCondition() == "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT"


def test_percentile_of_an_array_of_percentages(spark):
    df = spark.range(10).select((F.col("id") % 2).alias("g"), F.col("id").cast("double").alias("v"))
    out = df.groupBy("g").agg(F.percentile("v", [0.5, 1.0]), F.percentile("v", 0.5).alias("m")).orderBy("g")
    assert_df(
        out,
        [("g", "bigint"), ("percentile(v, array(0.5, 1.0), 1)", "array<double>"), ("m", "double")],
        [(0, [4.0, 8.0], 4.0), (1, [5.0, 9.0], 5.0)],
        ordered=True,
    )
    sql = spark.sql("SELECT percentile(v, array(0.5, 0.25)) AS p FROM VALUES (1), (2), (4), (5), (7) AS t(v)")
    assert_df(sql, [("p", "array<double>")], [([4.0, 2.0],)])


def test_bool_and_or(spark):
    df = spark.createDataFrame([(True,), (False,), (True,)], "b boolean")
    assert_rows(df.agg(F.bool_and("b"), F.bool_or("b")), [(False, True)])


def test_sum_of_long_overflow_raises_in_ansi(spark):
    from pyspark.errors import ArithmeticException

    df = spark.createDataFrame([(9223372036854775807,), (1,)], "x bigint")
    with pytest.raises(ArithmeticException) as ei:
        df.agg(F.sum("x")).collect()
    assert ei.value.getCondition() == "ARITHMETIC_OVERFLOW"


def test_integer_sums_in_sql_groups_and_windows(spark):
    from pyspark.errors import ArithmeticException

    df = spark.createDataFrame([(2147483647, 1), (1, 1), (None, 2)], "x int, g int")
    assert_df(df.groupBy("g").agg(F.sum("x").alias("s")), [("g", "int"), ("s", "bigint")], [(1, 2147483648), (2, None)])
    w = Window.orderBy("x").rowsBetween(-1, 0)
    assert_rows(df.select("x", F.sum("x").over(w)), [(None, None), (1, 1), (2147483647, 2147483648)])
    with pytest.raises(ArithmeticException):
        spark.sql("SELECT g, sum(x) FROM VALUES (1, 9223372036854775807L), (1, 1L) AS t(g, x) GROUP BY g").collect()
    with pytest.raises(ArithmeticException):
        spark.sql("SELECT sum(x) OVER (ORDER BY x) FROM VALUES (9223372036854775807L), (1L) AS t(x)").collect()
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        r = spark.sql("SELECT sum(x) FROM VALUES (9223372036854775807L), (1L) AS t(x)").first()
        assert r[0] == -9223372036854775808
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")


def test_count_of_many_rows(spark):
    df = spark.range(0, 100000, 1, 4).groupBy((col("id") % 10).alias("k")).count()
    assert sorted(rows_of(df)) == [(k, 10000) for k in range(10)]


def test_listagg_and_string_agg(spark):
    df = spark.createDataFrame([("a", 1), ("b", 1), (None, 2), ("c", 2), ("a", 2)], "s string, g int")
    got = df.groupBy("g").agg(F.listagg("s"), F.string_agg("s", "-"), F.listagg_distinct("s", ",")).orderBy("g")
    assert got.columns == ["g", "listagg(s, NULL)", "string_agg(s, -)", "listagg(DISTINCT s, ,)"]
    # The order within a group is not defined without WITHIN GROUP: compare sorted parts.
    rows = [(r[0], sorted(r[1]), sorted(r[2].split("-")), sorted(r[3].split(","))) for r in got.collect()]
    assert rows == [(1, ["a", "b"], ["a", "b"], ["a", "b"]), (2, ["a", "c"], ["a", "c"], ["a", "c"])]
    ordered = spark.sql(
        "SELECT g, listagg(s, ',') WITHIN GROUP (ORDER BY s DESC) AS l FROM VALUES ('a', 1), ('b', 1), (NULL, 1), "
        "('c', 2) AS t(s, g) GROUP BY g ORDER BY g"
    )
    assert_df(ordered, [("g", "int"), ("l", "string")], [(1, "b,a"), (2, "c")])


def test_stat_corr_cov_approx_quantile_crosstab(spark):
    from pyspark.errors import IllegalArgumentException

    df = spark.createDataFrame(
        [(1, 10.0, "a", "x"), (2, 19.0, "b", "y"), (3, 33.0, "a", "y"), (4, 38.0, "a", None), (None, 1.0, None, "x")],
        "i int, d double, k string, v string",
    )
    # Spark's StatFunctions count a NULL as 0.
    assert df.corr("i", "d") == pytest.approx(0.9926943020776646)
    assert df.cov("i", "d") == pytest.approx(24.25)
    assert df.stat.cov("d", "d") == pytest.approx(238.7)
    # Exact quantiles: the value at rank ceil(p * n), NULLs skipped.
    assert df.approxQuantile("d", [0.0, 0.25, 0.5, 0.75, 1.0], 0.0) == [1.0, 10.0, 19.0, 33.0, 38.0]
    assert df.approxQuantile(["i", "d"], [0.5], 0.01) == [[2.0], [19.0]]
    assert spark.range(100).approxQuantile("id", [0.1, 0.5, 0.99], 0.0) == [9.0, 49.0, 98.0]
    assert spark.range(0).approxQuantile("id", [0.5], 0.0) == []
    # Without enough rows, corr is NaN and cov 0, as in Spark.
    one = spark.createDataFrame([(1, 2.0)], "a int, b double")
    assert math.isnan(one.corr("a", "b")) and one.cov("a", "b") == 0.0
    ct = df.crosstab("k", "v")
    assert ct.dtypes == [("k_v", "string"), ("null", "bigint"), ("x", "bigint"), ("y", "bigint")]
    assert sorted(tuple(r) for r in ct.collect()) == [("a", 1, 1, 1), ("b", 0, 0, 1), ("null", 0, 1, 0)]
    with pytest.raises(IllegalArgumentException):
        df.corr("i", "k")
    with pytest.raises(IllegalArgumentException):
        df.approxQuantile("k", [0.5], 0.0)


def test_summary_percentiles_are_values_of_the_column(spark):
    # Spark's percentiles are column values (rank ceil(p * n)), not interpolated.
    df = spark.createDataFrame([(1, 10.0), (2, 19.0), (3, 33.0), (4, 38.0), (None, 1.0), (7, 2.5)], "i int, d double")
    got = [tuple(r) for r in df.summary("25%", "50%", "75%").collect()]
    assert got == [("25%", "2", "2.5"), ("50%", "3", "10.0"), ("75%", "4", "33.0")]


def test_percentile_approx_is_a_value_of_the_column(spark):
    df = spark.createDataFrame([("a", 1), ("a", 2), ("b", 7), ("b", None), ("b", 3), ("b", 10)], "k string, v int")
    got = df.groupBy("k").agg(F.percentile_approx("v", 0.5), F.percentile_approx("v", [0.0, 0.9], 100)).orderBy("k")
    assert_df(
        got,
        [("k", "string"), ("percentile_approx(v, 0.5, 10000)", "int"), ("percentile_approx(v, array(0.0, 0.9), 100)", "array<int>")],
        [("a", 1, [1, 2]), ("b", 7, [3, 10])],
        ordered=True,
    )
    sql = spark.sql("SELECT approx_percentile(d, 0.5) FROM VALUES (DATE'2020-01-01'), (DATE'2020-03-01') AS t(d)")
    assert_df(sql, [("approx_percentile(d, 0.5, 10000)", "date")], [(datetime.date(2020, 1, 1),)])
    assert_rows(df.where("v > 100").agg(F.percentile_approx("v", 0.5)), [(None,)])
    with pytest.raises(AnalysisException):
        df.agg(F.percentile_approx("v", 1.5)).collect()


def test_mode_is_the_most_frequent_value(spark):
    df = spark.createDataFrame([("a", 1.5), ("a", 1.5), ("a", 2.0), ("b", None), ("c", 3.0)], "k string, v double")
    got = df.groupBy("k").agg(F.mode("v")).orderBy("k")
    assert_df(got, [("k", "string"), ("mode(v)", "double")], [("a", 1.5), ("b", None), ("c", 3.0)], ordered=True)
    assert_rows(spark.sql("SELECT mode(x) FROM VALUES (1), (7), (7), (NULL), (NULL), (NULL) AS t(x)"), [(7,)])


def test_pivot_on_null_names_the_column_null(spark):
    df = spark.createDataFrame([("a", None, 1), ("a", 2, 3)], "k string, p int, v int")
    assert df.groupBy("k").pivot("p").sum("v").columns == ["k", "null", "2"]


def test_group_by_time_windows(spark):
    import datetime

    t = datetime.datetime
    df = spark.createDataFrame(
        [(t(2016, 3, 11, 9, 0, 7), 1), (t(2016, 3, 11, 9, 4, 0), 2), (t(2016, 3, 11, 9, 12, 0), 3), (None, 4)],
        "date timestamp, val int",
    )
    tumbling = df.groupBy(F.window("date", "5 minutes")).agg(F.sum("val").alias("sum"))
    assert tumbling.schema["window"].dataType.simpleString() == "struct<start:timestamp,end:timestamp>"
    start = F.col("window.start").cast("string")
    assert rows_of(tumbling.select(start, "sum").orderBy(start)) == [
        ("2016-03-11 09:00:00", 3),
        ("2016-03-11 09:10:00", 3),
    ]
    # Sliding windows: a row counts in every window it falls in; a NULL time in none.
    sliding = df.groupBy(F.window("date", "10 minutes", "5 minutes")).agg(F.sum("val"), F.count("*"))
    assert rows_of(sliding.select(start, "sum(val)", "count(1)").orderBy(start)) == [
        ("2016-03-11 08:55:00", 3, 2),
        ("2016-03-11 09:00:00", 3, 2),
        ("2016-03-11 09:05:00", 3, 1),
        ("2016-03-11 09:10:00", 3, 1),
    ]
    shifted = df.select("val", F.window("date", "10 minutes", startTime="3 minutes").start.cast("string"))
    assert rows_of(shifted.orderBy("val")) == [
        (1, "2016-03-11 08:53:00"),
        (2, "2016-03-11 09:03:00"),
        (3, "2016-03-11 09:03:00"),
    ]
    last = df.select(F.window_time(F.window("date", "1 hour")).cast("string")).where("val = 1")
    assert rows_of(last) == [("2016-03-11 09:59:59.999999",)]
