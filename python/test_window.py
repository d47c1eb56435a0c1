"""Window functions: ranking, offsets, frames, partitioning."""

import pytest
from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql.functions import col

from ember_testutil import assert_df, assert_rows, assert_schema


@pytest.fixture(scope="module")
def scores(spark):
    return spark.createDataFrame(
        [
            ("a", 1, 10),
            ("a", 2, 20),
            ("a", 3, 20),
            ("a", 4, 30),
            ("b", 1, 5),
            ("b", 2, None),
            ("b", 3, 7),
        ],
        "grp string, t int, v int",
    )


@pytest.fixture(scope="module")
def W(spark):
    # Built after the session exists: pyspark picks the Connect Window class at call time.
    return Window.partitionBy("grp").orderBy("t")


def test_row_number(scores, W):
    df = scores.select("grp", "t", F.row_number().over(W).alias("rn"))
    assert_df(
        df,
        [("grp", "string"), ("t", "int"), ("rn", "int")],
        [("a", 1, 1), ("a", 2, 2), ("a", 3, 3), ("a", 4, 4), ("b", 1, 1), ("b", 2, 2), ("b", 3, 3)],
    )


def test_rank_and_dense_rank_with_ties(scores):
    w = Window.partitionBy("grp").orderBy(col("v").desc())
    df = scores.where("grp = 'a'").select("t", F.rank().over(w).alias("r"), F.dense_rank().over(w).alias("d"))
    assert_df(df, [("t", "int"), ("r", "int"), ("d", "int")], [(4, 1, 1), (2, 2, 2), (3, 2, 2), (1, 4, 3)])


def test_percent_rank_and_ntile(scores):
    w = Window.partitionBy("grp").orderBy("t")
    df = scores.where("grp = 'a'").select("t", F.percent_rank().over(w).alias("p"), F.ntile(2).over(w).alias("n"))
    assert_schema(df, [("t", "int"), ("p", "double"), ("n", "int")])
    assert_rows(df, [(1, 0.0, 1), (2, 1 / 3, 1), (3, 2 / 3, 2), (4, 1.0, 2)])


def test_cume_dist(scores):
    w = Window.partitionBy("grp").orderBy("v")
    df = scores.where("grp = 'a'").select("t", F.cume_dist().over(w).alias("c"))
    assert_rows(df, [(1, 0.25), (2, 0.75), (3, 0.75), (4, 1.0)])


def test_lag_lead(scores, W):
    df = scores.select("grp", "t", F.lag("v").over(W).alias("prev"), F.lead("v").over(W).alias("next"))
    assert_df(
        df,
        [("grp", "string"), ("t", "int"), ("prev", "int"), ("next", "int")],
        [
            ("a", 1, None, 20),
            ("a", 2, 10, 20),
            ("a", 3, 20, 30),
            ("a", 4, 20, None),
            ("b", 1, None, None),
            ("b", 2, 5, 7),
            ("b", 3, None, None),
        ],
    )


def test_lag_with_offset_and_default(scores, W):
    df = scores.where("grp = 'a'").select("t", F.lag("v", 2, -1).over(W).alias("p2"))
    assert_rows(df, [(1, -1), (2, -1), (3, 10), (4, 20)])


def test_running_sum_rows_between(scores, W):
    w = W.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    df = scores.select("grp", "t", F.sum("v").over(w).alias("run"))
    assert_df(
        df,
        [("grp", "string"), ("t", "int"), ("run", "bigint")],
        [("a", 1, 10), ("a", 2, 30), ("a", 3, 50), ("a", 4, 80), ("b", 1, 5), ("b", 2, 5), ("b", 3, 12)],
    )


def test_default_frame_with_order_is_range_so_ties_share(scores):
    w = Window.partitionBy("grp").orderBy("v")
    df = scores.where("grp = 'a'").select("t", F.sum("v").over(w).alias("s"))
    assert_rows(df, [(1, 10), (2, 50), (3, 50), (4, 80)])


def test_moving_average_sliding_rows(scores, W):
    w = W.rowsBetween(-1, 1)
    df = scores.where("grp = 'a'").select("t", F.avg("v").over(w).alias("ma"))
    assert_df(df, [("t", "int"), ("ma", "double")], [(1, 15.0), (2, 50 / 3), (3, 70 / 3), (4, 25.0)])


def test_range_between_values(spark):
    df = spark.createDataFrame([(1,), (2,), (4,), (7,)], "x int")
    w = Window.orderBy("x").rangeBetween(-2, 0)
    assert_rows(df.select("x", F.count("*").over(w).alias("n")), [(1, 1), (2, 2), (4, 2), (7, 1)])


def test_range_frame_over_a_sql_view(spark):
    spark.sql("CREATE OR REPLACE TEMP VIEW range_frame_v AS SELECT * FROM VALUES (1, 1.5D), (2, 2.5D), (4, 4.0D), (7, 7.0D) AS t(x, d)")
    df = spark.table("range_frame_v")
    out = df.select(
        "x",
        F.sum("x").over(Window.orderBy("x").rangeBetween(-2, 1)).alias("s"),
        F.count("*").over(Window.orderBy("d").rangeBetween(-1, 0)).alias("n"),
    )
    assert_df(out, [("x", "int"), ("s", "bigint"), ("n", "bigint")], [(1, 3, 1), (2, 3, 2), (4, 6, 1), (7, 7, 1)])


def test_partition_only_aggregate(scores):
    w = Window.partitionBy("grp")
    df = scores.select("grp", "t", F.max("v").over(w).alias("m"), F.count("v").over(w).alias("c"))
    assert_df(
        df,
        [("grp", "string"), ("t", "int"), ("m", "int"), ("c", "bigint")],
        [("a", t, 30, 4) for t in (1, 2, 3, 4)] + [("b", t, 7, 2) for t in (1, 2, 3)],
    )


def test_unbounded_following_frame(scores, W):
    w = W.rowsBetween(Window.currentRow, Window.unboundedFollowing)
    df = scores.where("grp = 'a'").select("t", F.sum("v").over(w).alias("rest"))
    assert_rows(df, [(1, 80), (2, 70), (3, 50), (4, 30)])


def test_first_last_value_in_window(scores, W):
    w = W.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    df = scores.where("grp = 'a'").select("t", F.first("v").over(w).alias("f"), F.last("v").over(w).alias("l"))
    assert_rows(df, [(1, 10, 30), (2, 10, 30), (3, 10, 30), (4, 10, 30)])


def test_window_without_partition(spark):
    df = spark.createDataFrame([(3,), (1,), (2,)], "x int")
    out = df.select("x", F.row_number().over(Window.orderBy(col("x").desc())).alias("rn"))
    assert_rows(out, [(3, 1), (2, 2), (1, 3)])


def test_top_n_per_group(scores):
    w = Window.partitionBy("grp").orderBy(col("v").desc_nulls_last(), "t")
    df = scores.withColumn("rn", F.row_number().over(w)).where("rn = 1").select("grp", "t", "v")
    assert_rows(df, [("a", 4, 30), ("b", 3, 7)])


def test_window_in_sql(spark, scores):
    scores.createOrReplaceTempView("win_scores")
    df = spark.sql(
        "SELECT grp, t, sum(v) OVER (PARTITION BY grp ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run "
        "FROM win_scores WHERE grp = 'b'"
    )
    assert_df(df, [("grp", "string"), ("t", "int"), ("run", "bigint")], [("b", 1, 5), ("b", 2, 5), ("b", 3, 12)])


def test_named_window_in_sql(spark):
    df = spark.sql(
        "SELECT x, rank() OVER w AS r FROM VALUES (1), (1), (2) AS t(x) WINDOW w AS (ORDER BY x)"
    )
    assert_rows(df, [(1, 1), (1, 1), (2, 3)])


def test_ranking_without_order_by_fails(scores):
    from pyspark.errors import AnalysisException

    with pytest.raises(AnalysisException) as ei:
        scores.select(F.row_number().over(Window.partitionBy("grp"))).collect()
    assert ei.value.getCondition() == "WINDOW_FUNCTION_FRAME_NOT_ORDERED"


def test_forward_and_backward_fill_with_ignore_nulls(spark):
    # last(v, ignorenulls=True) over the rows so far fills forward; first(v,
    # True) over the rows to come fills backward; nth_value may skip NULLs.
    df = spark.createDataFrame([(1, 10), (2, None), (3, None), (4, 40), (5, None)], "t int, v int")
    so_far = Window.orderBy("t").rowsBetween(Window.unboundedPreceding, 0)
    to_come = Window.orderBy("t").rowsBetween(0, Window.unboundedFollowing)
    out = df.select(
        "t",
        F.last("v", ignorenulls=True).over(so_far).alias("ffill"),
        F.first("v", True).over(to_come).alias("bfill"),
        F.nth_value("v", 2).over(Window.orderBy("t")).alias("second"),
        F.nth_value("v", 2, True).over(Window.orderBy("t")).alias("second_value"),
    ).orderBy("t")
    assert_df(
        out,
        [("t", "int"), ("ffill", "int"), ("bfill", "int"), ("second", "int"), ("second_value", "int")],
        [(1, 10, 10, None, None), (2, 10, 40, None, None), (3, 10, 40, None, None), (4, 40, 40, None, 40),
         (5, 40, None, None, 40)],
        ordered=True,
    )
    sql = spark.sql(
        "SELECT t, first_value(v) OVER (ORDER BY t ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS h "
        "FROM VALUES (1, 10), (2, NULL), (3, NULL), (4, 40) AS f(t, v) ORDER BY t"
    )
    assert [r.h for r in sql.collect()] == [10, 10, None, None]


def test_window_column_names_show_spark_frames(spark):
    df = spark.createDataFrame([(1, 1, 10)], "k int, t int, v int")
    o = Window.orderBy("t")
    cols = df.select(
        F.row_number().over(Window.partitionBy("k").orderBy("t")),
        F.sum("v").over(Window.partitionBy("k")),
        F.sum("v").over(o.rowsBetween(-1, 1)),
        F.lag("v").over(o),
        F.rank().over(Window.orderBy(F.desc("t"))),
        F.cume_dist().over(o),
        F.sum("v").over(o.rangeBetween(-5, Window.currentRow)),
        F.max("v").over(o),
    ).columns
    assert cols == [
        "row_number() OVER (PARTITION BY k ORDER BY t ASC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
        "sum(v) OVER (PARTITION BY k ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)",
        "sum(v) OVER (ORDER BY t ASC NULLS FIRST ROWS BETWEEN -1 FOLLOWING AND 1 FOLLOWING)",
        "lag(v, 1, NULL) OVER (ORDER BY t ASC NULLS FIRST ROWS BETWEEN -1 FOLLOWING AND -1 FOLLOWING)",
        "RANK() OVER (ORDER BY t DESC NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
        "cume_dist() OVER (ORDER BY t ASC NULLS FIRST RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
        "sum(v) OVER (ORDER BY t ASC NULLS FIRST RANGE BETWEEN -5 FOLLOWING AND CURRENT ROW)",
        "max(v) OVER (ORDER BY t ASC NULLS FIRST RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
    ]
