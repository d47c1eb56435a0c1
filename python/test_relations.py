"""DataFrame relations: construction, projection, filtering, set operations, display."""

import datetime
import decimal

import pandas as pd
import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql.functions import col
from pyspark.sql.types import DoubleType, StringType, StructField, StructType
from pyspark.storagelevel import StorageLevel
from pyspark.testing import assertSchemaEqual

from ember_testutil import assert_df, assert_rows, assert_schema, rows_of

PEOPLE_SCHEMA = "id int, name string, age int, city string"
PEOPLE = [
    (1, "Alice", 34, "NY"),
    (2, "Bob", 45, "SF"),
    (3, "Carol", None, "NY"),
    (4, "Dan", 23, None),
]


@pytest.fixture(scope="module")
def people(spark):
    return spark.createDataFrame(PEOPLE, PEOPLE_SCHEMA)


# ---------------------------------------------------------------- construction


def test_create_from_tuples_with_ddl_schema(people):
    assert_df(
        people,
        [("id", "int"), ("name", "string"), ("age", "int"), ("city", "string")],
        PEOPLE,
    )


def test_create_from_tuples_with_column_names_infers_types(spark):
    df = spark.createDataFrame([(1, "a", 1.5, True), (2, "b", 2.5, False)], ["i", "s", "d", "b"])
    assert_df(
        df,
        [("i", "bigint"), ("s", "string"), ("d", "double"), ("b", "boolean")],
        [(1, "a", 1.5, True), (2, "b", 2.5, False)],
    )


def test_create_from_rows(spark):
    df = spark.createDataFrame([Row(a=1, b="x"), Row(a=2, b=None)])
    assert_df(df, [("a", "bigint"), ("b", "string")], [(1, "x"), (2, None)])


def test_create_from_rows_keeps_nested_struct(spark):
    df = spark.createDataFrame([Row(id=1, p=Row(x=1.0, y=2.0))])
    assert_schema(df, [("id", "bigint"), ("p", "struct<x:double,y:double>")])
    assert df.first().p.y == 2.0


def test_create_from_dicts(spark):
    df = spark.createDataFrame([{"b": "x", "a": 1}, {"b": "y", "a": 2}])
    # dict keys are sorted into columns
    assert_df(df, [("a", "bigint"), ("b", "string")], [(1, "x"), (2, "y")])


def test_create_with_struct_type_schema(spark):
    schema = StructType([StructField("k", StringType(), False), StructField("v", DoubleType(), True)])
    df = spark.createDataFrame([("a", 1.0), ("b", None)], schema)
    assertSchemaEqual(df.schema, schema)
    assert df.schema.fields[0].nullable is False
    assert df.collect() == [Row(k="a", v=1.0), Row(k="b", v=None)]


def test_create_from_pandas(spark):
    pdf = pd.DataFrame({"a": [1, 2, 3], "b": [1.5, 2.5, None], "c": ["x", "y", None]})
    df = spark.createDataFrame(pdf)
    # pandas' NaN/None arrive as SQL NULL (not NaN)
    assert_df(df, [("a", "bigint"), ("b", "double"), ("c", "string")], [(1, 1.5, "x"), (2, 2.5, "y"), (3, None, None)])
    assert df.where("b IS NULL").count() == 1


def test_create_empty_with_schema(spark):
    df = spark.createDataFrame([], "a int, b string")
    assert_schema(df, [("a", "int"), ("b", "string")])
    assert df.count() == 0
    assert df.collect() == []


def test_create_with_dates_and_decimals(spark):
    import decimal

    df = spark.createDataFrame(
        [(datetime.date(2024, 2, 29), decimal.Decimal("12.50"))], "d date, m decimal(10,2)"
    )
    assert_df(df, [("d", "date"), ("m", "decimal(10,2)")], [(datetime.date(2024, 2, 29), decimal.Decimal("12.50"))])


def test_range_single_arg(spark):
    assert_df(spark.range(5), [("id", "bigint")], [(0,), (1,), (2,), (3,), (4,)], ordered=True)


def test_range_start_end_step(spark):
    assert_rows(spark.range(1, 10, 3), [(1,), (4,), (7,)], ordered=True)


def test_range_negative_step(spark):
    assert_rows(spark.range(5, 0, -2), [(5,), (3,), (1,)], ordered=True)


def test_range_empty(spark):
    assert spark.range(3, 3).count() == 0


# ---------------------------------------------------------------- projection


def test_select_alias_keeps_int_type(people):
    df = people.select(col("id").alias("i"), "name")
    assert_df(df, [("i", "int"), ("name", "string")], [(1, "Alice"), (2, "Bob"), (3, "Carol"), (4, "Dan")])


def test_select_arithmetic_on_int_stays_int(people):
    df = people.select((col("age") + 1).alias("next_age"))
    assert_df(df, [("next_age", "int")], [(35,), (46,), (None,), (24,)])


def test_select_star_and_expression(people):
    df = people.select("*", (col("id") * 10).alias("id10")).where("id = 2")
    assert_df(
        df,
        [("id", "int"), ("name", "string"), ("age", "int"), ("city", "string"), ("id10", "int")],
        [(2, "Bob", 45, "SF", 20)],
    )


def test_select_column_attribute_and_item_access(people):
    df = people.select(people.name, people["age"]).where(people.id == 1)
    assert_rows(df, [("Alice", 34)])


def test_unaliased_expression_column_name(people):
    df = people.select(col("age") + 1, F.upper("name"), F.lit(5))
    assert df.columns == ["(age + 1)", "upper(name)", "5"]


# ---------------------------------------------------------------- filter


def test_filter_column_expression(people):
    assert_rows(people.filter(col("age") > 30).select("name"), [("Alice",), ("Bob",)])


def test_where_sql_string(people):
    assert_rows(people.where("age > 30 AND city = 'NY'").select("id"), [(1,)])


def test_filter_drops_null_comparisons(people):
    assert people.filter(col("age") != 34).count() == 2


def test_filter_is_null(people):
    assert_rows(people.filter(col("city").isNull()).select("name"), [("Dan",)])


def test_filter_chained(people):
    df = people.filter(col("age") > 20).filter(col("city") == "NY")
    assert_rows(df.select("name"), [("Alice",)])


# ---------------------------------------------------------------- withColumn / rename / drop


def test_with_column_appends(people):
    df = people.withColumn("age2", col("age") * 2).select("id", "age2")
    assert_df(df, [("id", "int"), ("age2", "int")], [(1, 68), (2, 90), (3, None), (4, 46)])


def test_with_column_replaces_in_place(people):
    df = people.withColumn("age", F.coalesce(col("age"), F.lit(0)))
    assert df.columns == ["id", "name", "age", "city"]
    assert_rows(df.select("id", "age"), [(1, 34), (2, 45), (3, 0), (4, 23)])


def test_with_columns_dict(people):
    df = people.withColumns({"a": F.lit(1), "b": col("id") + 100}).select("id", "a", "b")
    assert_df(df, [("id", "int"), ("a", "int"), ("b", "int")], [(1, 1, 101), (2, 1, 102), (3, 1, 103), (4, 1, 104)])


def test_with_column_renamed(people):
    df = people.withColumnRenamed("name", "full_name")
    assert df.columns == ["id", "full_name", "age", "city"]


def test_with_column_renamed_missing_is_noop(people):
    assert people.withColumnRenamed("nope", "x").columns == ["id", "name", "age", "city"]


def test_with_columns_renamed(people):
    df = people.withColumnsRenamed({"id": "key", "city": "town"})
    assert df.columns == ["key", "name", "age", "town"]


def test_drop_single_and_multiple(people):
    assert people.drop("age").columns == ["id", "name", "city"]
    assert people.drop("age", "city").columns == ["id", "name"]


def test_drop_missing_column_is_noop(people):
    assert people.drop("nope").columns == ["id", "name", "age", "city"]


def test_drop_by_column_object(spark):
    df = spark.createDataFrame(PEOPLE, PEOPLE_SCHEMA)
    assert df.drop(df.name).columns == ["id", "age", "city"]


def test_to_df_renames_all(people):
    df = people.toDF("a", "b", "c", "d")
    assert_schema(df, [("a", "int"), ("b", "string"), ("c", "int"), ("d", "string")])


# ---------------------------------------------------------------- limit / offset / tail


def test_limit(people):
    assert_rows(people.orderBy("id").limit(2).select("id"), [(1,), (2,)], ordered=True)


def test_limit_zero(people):
    assert people.limit(0).collect() == []


def test_offset(people):
    assert_rows(people.orderBy("id").offset(1).select("id"), [(2,), (3,), (4,)], ordered=True)


def test_limit_then_offset(spark):
    assert_rows(spark.range(10).orderBy("id").offset(3).limit(2), [(3,), (4,)], ordered=True)


def test_limit_takes_partitions_in_order(spark):
    # Spark's limit (and show) reads the first partitions first: a union's
    # left side comes before its right, a filtered range keeps its smallest ids.
    a = spark.createDataFrame([(i,) for i in range(5)], "x int")
    b = spark.createDataFrame([(i,) for i in range(100, 105)], "x int")
    assert [r.x for r in a.union(b).limit(7).collect()] == [0, 1, 2, 3, 4, 100, 101]
    assert [r.x for r in b.union(a).limit(7).collect()] == [100, 101, 102, 103, 104, 0, 1]
    filtered = spark.range(0, 40, 1, 4).filter("id % 3 = 0")
    assert [r.id for r in filtered.limit(6).collect()] == [0, 3, 6, 9, 12, 15]
    assert [r.id for r in filtered.offset(10).collect()] == [30, 33, 36, 39]
    assert [r.id for r in filtered.offset(2).limit(3).collect()] == [6, 9, 12]


def test_show_prints_union_sides_in_order(spark, capsys):
    a = spark.createDataFrame([(i,) for i in range(3)], "x int")
    b = spark.createDataFrame([(i,) for i in range(100, 103)], "x int")
    b.union(a).show()
    shown = [line.strip("| ") for line in capsys.readouterr().out.splitlines()[3:-2]]
    assert shown == ["100", "101", "102", "0", "1", "2"]


def test_tail(spark):
    rows = spark.range(10).orderBy("id").tail(3)
    assert [r.id for r in rows] == [7, 8, 9]


# ---------------------------------------------------------------- ordering


def test_order_by_default_asc_nulls_first(people):
    assert [r.age for r in people.orderBy("age").collect()] == [None, 23, 34, 45]


def test_order_by_desc_nulls_last(people):
    assert [r.age for r in people.orderBy(col("age").desc()).collect()] == [45, 34, 23, None]


def test_order_by_asc_nulls_last(people):
    assert [r.age for r in people.orderBy(col("age").asc_nulls_last()).collect()] == [23, 34, 45, None]


def test_order_by_desc_nulls_first(people):
    assert [r.age for r in people.orderBy(col("age").desc_nulls_first()).collect()] == [None, 45, 34, 23]


def test_order_by_multiple_keys_ascending_flags(people):
    df = people.orderBy(["city", "id"], ascending=[False, True]).select("city", "id")
    assert rows_of(df) == [("SF", 2), ("NY", 1), ("NY", 3), (None, 4)]


def test_sort_alias_and_string_desc(people):
    assert [r.id for r in people.sort(F.desc("id")).collect()] == [4, 3, 2, 1]


def test_sort_within_partitions_single_partition(spark):
    df = spark.createDataFrame([(3,), (1,), (2,)], "x int").coalesce(1).sortWithinPartitions("x")
    assert [r.x for r in df.collect()] == [1, 2, 3]


# ---------------------------------------------------------------- distinct / dedup


def test_distinct(spark):
    df = spark.createDataFrame([(1, "a"), (1, "a"), (2, "b"), (2, None), (2, None)], "k int, v string")
    assert_rows(df.distinct(), [(1, "a"), (2, "b"), (2, None)])


def test_drop_duplicates_subset(people):
    df = people.dropDuplicates(["city"])
    assert df.count() == 3
    assert sorted(rows_of(df.select("city")), key=lambda r: (r[0] is not None, r[0])) == [(None,), ("NY",), ("SF",)]


def test_drop_duplicates_all_columns(spark):
    df = spark.createDataFrame([(1, 2), (1, 2), (1, 3)], "a int, b int").dropDuplicates()
    assert_rows(df, [(1, 2), (1, 3)])


# ---------------------------------------------------------------- set operations


def test_union_is_positional_and_keeps_duplicates(spark):
    a = spark.createDataFrame([(1, "x")], "id int, v string")
    b = spark.createDataFrame([("y", 2), ("y", 2)], "v string, id int")
    u = a.union(b.select("id", "v"))
    assert_df(u, [("id", "int"), ("v", "string")], [(1, "x"), (2, "y"), (2, "y")])


def test_union_takes_first_sides_column_names(spark):
    a = spark.createDataFrame([(1,)], "a int")
    b = spark.createDataFrame([(2,)], "b int")
    u = a.union(b)
    assert u.columns == ["a"]
    assert_rows(u, [(1,), (2,)])


def test_union_widens_types(spark):
    a = spark.createDataFrame([(1,)], "x int")
    b = spark.createDataFrame([(2.5,)], "x double")
    assert_df(a.union(b), [("x", "double")], [(1.0,), (2.5,)])


def test_union_by_name(spark):
    a = spark.createDataFrame([(1, "x")], "id int, v string")
    b = spark.createDataFrame([("y", 2)], "v string, id int")
    assert_df(a.unionByName(b), [("id", "int"), ("v", "string")], [(1, "x"), (2, "y")])


def test_union_by_name_allow_missing_columns(spark):
    a = spark.createDataFrame([(1, "x")], "id int, v string")
    b = spark.createDataFrame([(2, True)], "id int, flag boolean")
    u = a.unionByName(b, allowMissingColumns=True)
    assert_df(
        u,
        [("id", "int"), ("v", "string"), ("flag", "boolean")],
        [(1, "x", None), (2, None, True)],
    )


def test_intersect_is_distinct(spark):
    a = spark.createDataFrame([(1,), (1,), (2,), (3,)], "x int")
    b = spark.createDataFrame([(1,), (1,), (3,), (4,)], "x int")
    assert_rows(a.intersect(b), [(1,), (3,)])


def test_intersect_all_keeps_duplicates(spark):
    a = spark.createDataFrame([(1,), (1,), (1,), (2,)], "x int")
    b = spark.createDataFrame([(1,), (1,), (2,), (2,)], "x int")
    assert_rows(a.intersectAll(b), [(1,), (1,), (2,)])


def test_except_all_keeps_duplicates(spark):
    a = spark.createDataFrame([(1,), (1,), (1,), (2,), (3,)], "x int")
    b = spark.createDataFrame([(1,), (3,)], "x int")
    assert_rows(a.exceptAll(b), [(1,), (1,), (2,)])


def test_subtract_is_distinct(spark):
    a = spark.createDataFrame([(1,), (1,), (2,), (3,)], "x int")
    b = spark.createDataFrame([(3,)], "x int")
    assert_rows(a.subtract(b), [(1,), (2,)])


def test_union_all_alias(spark):
    a = spark.createDataFrame([(1,)], "x int")
    assert a.unionAll(a).count() == 2


# ---------------------------------------------------------------- partitioning


def test_repartition_keeps_rows(spark):
    df = spark.range(100).repartition(5)
    assert sorted(r.id for r in df.collect()) == list(range(100))


def test_repartition_gives_n_partitions(spark):
    df = spark.range(100).repartition(5).select(F.spark_partition_id().alias("p"))
    assert sorted(r.p for r in df.distinct().collect()) == [0, 1, 2, 3, 4]


def test_repartition_by_column_keeps_rows(spark):
    df = spark.range(20).withColumn("k", col("id") % 3).repartition(4, "k")
    assert df.count() == 20
    assert sorted(r.id for r in df.collect()) == list(range(20))


def test_repartition_by_column_gives_n_partitions_grouped_by_key(spark):
    # DataFusion would drop a hash repartition no operator above needs.
    df = spark.range(0, 64, 1, 9).withColumn("k", col("id") % 40).repartition(7, "k")
    parts = df.select("k", F.spark_partition_id().alias("p")).distinct().collect()
    assert sorted({r.p for r in parts}) == list(range(7))
    assert len({r.k for r in parts}) == len(parts), "each key lives in one partition"
    # range(0, 64, 1, 9): nine partitions of 7 or 8 rows.
    sizes = spark.range(0, 64, 1, 9).groupBy(F.spark_partition_id().alias("p")).count().collect()
    assert sorted(r.p for r in sizes) == list(range(9))
    assert {r["count"] for r in sizes} <= {7, 8}


def test_coalesce_to_one_partition(spark):
    df = spark.range(0, 50, 1, 4).coalesce(1).select(F.spark_partition_id().alias("p"))
    assert {r.p for r in df.collect()} == {0}
    assert df.count() == 50


def test_spark_partition_id_type(spark):
    assert_schema(spark.range(1).select(F.spark_partition_id().alias("p")), [("p", "int")])


# ---------------------------------------------------------------- sample


def test_sample_fraction_bounds_and_subset(spark):
    df = spark.range(1000).sample(fraction=0.5, seed=42)
    ids = [r.id for r in df.collect()]
    assert 400 < len(ids) < 600
    assert len(set(ids)) == len(ids)
    assert all(0 <= i < 1000 for i in ids)


def test_sample_same_seed_same_rows(spark):
    base = spark.range(200)
    a = sorted(r.id for r in base.sample(fraction=0.3, seed=7).collect())
    b = sorted(r.id for r in base.sample(fraction=0.3, seed=7).collect())
    assert a == b
    assert 0 < len(a) < 200


def test_sample_fraction_zero_and_one(spark):
    assert spark.range(100).sample(fraction=0.0, seed=1).count() == 0
    assert spark.range(100).sample(fraction=1.0, seed=1).count() == 100


# ---------------------------------------------------------------- na functions


def test_na_fill_number_only_touches_numeric_columns(people):
    df = people.na.fill(0)
    assert_rows(
        df,
        [(1, "Alice", 34, "NY"), (2, "Bob", 45, "SF"), (3, "Carol", 0, "NY"), (4, "Dan", 23, None)],
    )
    assert_schema(df, [("id", "int"), ("name", "string"), ("age", "int"), ("city", "string")])


def test_na_fill_string_only_touches_string_columns(people):
    df = people.na.fill("?")
    assert_rows(df.select("age", "city"), [(34, "NY"), (45, "SF"), (None, "NY"), (23, "?")])


def test_na_fill_dict(people):
    df = people.na.fill({"age": -1, "city": "none"})
    assert_rows(df.select("id", "age", "city"), [(1, 34, "NY"), (2, 45, "SF"), (3, -1, "NY"), (4, 23, "none")])


def test_fillna_subset(people):
    df = people.fillna(99, subset=["age"])
    assert_rows(df.select("age"), [(34,), (45,), (99,), (23,)])


def test_na_drop_any(people):
    assert_rows(people.na.drop().select("id"), [(1,), (2,)])


def test_na_drop_subset(people):
    assert_rows(people.na.drop(subset=["age"]).select("id"), [(1,), (2,), (4,)])


def test_na_drop_how_all(spark):
    df = spark.createDataFrame([(1, None), (None, None), (None, "x")], "a int, b string")
    assert_rows(df.na.drop(how="all"), [(1, None), (None, "x")])


def test_na_drop_thresh(spark):
    df = spark.createDataFrame([(1, None, None), (1, 2, None), (1, 2, 3)], "a int, b int, c int")
    assert_rows(df.na.drop(thresh=2), [(1, 2, None), (1, 2, 3)])


def test_na_replace(people):
    df = people.na.replace("NY", "New York", subset=["city"])
    assert_rows(df.select("id", "city"), [(1, "New York"), (2, "SF"), (3, "New York"), (4, None)])


def test_replace_numbers_dict(spark):
    df = spark.createDataFrame([(1,), (2,), (3,)], "x int").replace({1: 10, 3: 30})
    assert_df(df, [("x", "int")], [(10,), (2,), (30,)])


# ---------------------------------------------------------------- describe / summary


def test_describe_numeric_column(people):
    df = people.describe("age")
    assert_schema(df, [("summary", "string"), ("age", "string")])
    assert rows_of(df) == [
        ("count", "3"),
        ("mean", "34.0"),
        ("stddev", "11.0"),
        ("min", "23"),
        ("max", "45"),
    ]


def test_describe_string_column(people):
    assert rows_of(people.describe("name")) == [
        ("count", "4"),
        ("mean", None),
        ("stddev", None),
        ("min", "Alice"),
        ("max", "Dan"),
    ]


def test_summary_selected_statistics(people):
    df = people.select("id", "age").summary("count", "min", "max")
    assert_schema(df, [("summary", "string"), ("id", "string"), ("age", "string")])
    assert rows_of(df) == [("count", "4", "3"), ("min", "1", "23"), ("max", "4", "45")]


def test_summary_percentiles(spark):
    df = spark.range(1, 101).summary("25%", "50%", "75%")
    assert rows_of(df) == [("25%", "25"), ("50%", "50"), ("75%", "75")]


# ---------------------------------------------------------------- unpivot


def test_unpivot(spark):
    df = spark.createDataFrame([(1, 11, 12), (2, 21, 22)], "id int, a int, b int")
    out = df.unpivot("id", ["a", "b"], "var", "val")
    assert_df(
        out,
        [("id", "int"), ("var", "string"), ("val", "int")],
        [(1, "a", 11), (1, "b", 12), (2, "a", 21), (2, "b", 22)],
    )


def test_melt_widens_value_type(spark):
    df = spark.createDataFrame([(1, 11, 1.5)], "id int, a int, b double")
    out = df.melt(["id"], ["a", "b"], "var", "val")
    assert_df(out, [("id", "int"), ("var", "string"), ("val", "double")], [(1, "a", 11.0), (1, "b", 1.5)])


# ---------------------------------------------------------------- hints and caching


def test_hint_broadcast_same_result(spark, people):
    cities = spark.createDataFrame([("NY", "East"), ("SF", "West")], "city string, coast string")
    df = people.join(cities.hint("broadcast"), "city").select("name", "coast")
    assert_rows(df, [("Alice", "East"), ("Bob", "West"), ("Carol", "East")])


def test_repartition_hint_in_sql(spark):
    assert spark.sql("SELECT /*+ REPARTITION(3) */ * FROM range(10)").count() == 10


def test_cache_and_unpersist(spark):
    df = spark.range(10).withColumn("sq", col("id") * col("id"))
    df.cache()
    assert df.count() == 10
    assert df.storageLevel == StorageLevel.MEMORY_AND_DISK_DESER
    df.unpersist()
    assert df.storageLevel == StorageLevel.NONE
    assert df.agg(F.sum("sq")).first()[0] == 285


def test_persist_with_level(spark):
    df = spark.range(5)
    df.persist(StorageLevel.MEMORY_ONLY)
    try:
        assert df.storageLevel == StorageLevel.MEMORY_ONLY
        assert df.count() == 5
    finally:
        df.unpersist()


def test_local_checkpoint_keeps_the_rows_it_computed(spark):
    # rand() without a seed draws new values each time its plan runs.
    drawn = spark.range(0, 6, 1, 2).selectExpr("id", "rand() AS r", "spark_partition_id() AS p")
    kept = drawn.localCheckpoint()
    first = rows_of(kept)
    # The values were drawn once: every later plan reads the same rows.
    assert rows_of(kept) == first and [r[0] for r in first] == list(range(6))
    assert [r[2] for r in first] == [0, 0, 0, 1, 1, 1]
    assert kept.columns == ["id", "r", "p"]
    assert kept.join(kept.select("id", F.col("r").alias("r2")), "id").where("r = r2").count() == 6
    assert rows_of(kept.where("id > 3").select("id")) == [(4,), (5,)]
    lazy = spark.range(3).localCheckpoint(eager=False, storageLevel=StorageLevel.MEMORY_ONLY)
    assert rows_of(lazy) == [(0,), (1,), (2,)]


def test_checkpoint_writes_to_the_checkpoint_dir(spark):
    import os

    try:
        directory = spark.conf.get("spark.checkpoint.dir")
    except Exception:
        directory = None
    if directory is None:
        # Spark's message when the application set no checkpoint directory.
        with pytest.raises(Exception, match="Checkpoint directory has not been set"):
            spark.range(3).checkpoint()
        return
    kept = spark.range(4).selectExpr("id", "id * 10 AS t").checkpoint()
    assert rows_of(kept.orderBy("id")) == [(0, 0), (1, 10), (2, 20), (3, 30)]
    local = directory.removeprefix("file:")
    assert any(files for _, _, files in os.walk(local))


def test_observe_reports_metrics_after_an_action(spark):
    from pyspark.sql import Observation

    obs = Observation("metrics")
    df = spark.createDataFrame([(1, "a"), (2, "b"), (3, None)], "id int, s string")
    observed = df.observe(obs, F.count(F.lit(1)).alias("rows"), F.max("id"), F.sum("id").alias("total"), F.count("s"))
    # The rows pass through unchanged.
    assert rows_of(observed) == [(1, "a"), (2, "b"), (3, None)]
    assert obs.get == {"rows": 3, "max(id)": 3, "total": 6, "count(s)": 2}
    # Other actions report them too: count() over an observed DataFrame.
    later = Observation()
    assert spark.range(10).observe(later, F.max("id").alias("top")).where("id > 3").count() == 6
    assert later.get == {"top": 9}
    typed = Observation("typed")
    spark.range(5).observe(
        typed, F.sum(F.col("id").cast("decimal(10,2)")).alias("d"), F.lit(None).cast("string").alias("n")
    ).collect()
    assert typed.get == {"d": decimal.Decimal("10.00"), "n": None}


def test_dataframe_subqueries_scalar_exists_and_isin(spark):
    pay = spark.createDataFrame(
        [(1, "Alice", 45000), (2, "Bob", 54000), (3, "Carl", 29000), (4, "Dan", 61000)], ["id", "name", "salary"]
    )
    above = pay.where(F.col("salary") > pay.select(F.avg("salary")).scalar()).select("name")
    assert sorted(rows_of(above)) == [("Bob",), ("Dan",)]
    top = pay.select("id", pay.select(F.max("salary")).scalar())
    assert top.columns == ["id", "scalarsubquery()"] and rows_of(top.where("id = 1")) == [(1, 61000)]
    assert pay.where(spark.range(0).exists()).count() == 0
    assert pay.where(spark.range(1).exists()).count() == 4
    chosen = pay.where(F.col("id").isin(spark.range(2, 4))).select("name")
    assert sorted(rows_of(chosen)) == [("Bob",), ("Carl",)]
    assert sorted(rows_of(pay.where(~F.col("id").isin(spark.range(2, 4))).select("id"))) == [(1,), (4,)]
    with pytest.raises(AnalysisException, match="SCALAR_SUBQUERY_RETURN_MORE_THAN_ONE_OUTPUT_COLUMN"):
        pay.select(pay.select("id", "salary").scalar()).collect()
    with pytest.raises(Exception, match="SCALAR_SUBQUERY_TOO_MANY_ROWS"):
        pay.select(pay.select("id").scalar()).collect()


# ---------------------------------------------------------------- actions


def test_count(people):
    assert people.count() == 4


def test_first_and_head(people):
    ordered = people.orderBy("id")
    assert ordered.first() == Row(id=1, name="Alice", age=34, city="NY")
    assert ordered.head() == Row(id=1, name="Alice", age=34, city="NY")
    assert [r.id for r in ordered.head(2)] == [1, 2]


def test_first_on_empty_is_none(spark):
    assert spark.range(0).first() is None


def test_take(people):
    assert [r.name for r in people.orderBy("id").take(3)] == ["Alice", "Bob", "Carol"]


def test_is_empty(spark, people):
    assert people.isEmpty() is False
    assert people.filter("id > 100").isEmpty() is True


def test_row_field_access(people):
    r = people.where("id = 2").first()
    assert r.name == "Bob" and r["age"] == 45 and r[3] == "SF"
    assert r.asDict() == {"id": 2, "name": "Bob", "age": 45, "city": "SF"}


def test_columns_and_dtypes(people):
    assert people.columns == ["id", "name", "age", "city"]
    assert people.dtypes == [("id", "int"), ("name", "string"), ("age", "int"), ("city", "string")]


def test_to_pandas(people):
    pdf = people.orderBy("id").toPandas()
    assert list(pdf.columns) == ["id", "name", "age", "city"]
    assert list(pdf["name"]) == ["Alice", "Bob", "Carol", "Dan"]
    assert len(pdf) == 4


def test_local_iterator(spark):
    assert [r.id for r in spark.range(5).orderBy("id").toLocalIterator()] == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------- show / printSchema text


def test_show_default(capsys, people):
    people.orderBy("id").show()
    assert capsys.readouterr().out == (
        "+---+-----+----+----+\n"
        "| id| name| age|city|\n"
        "+---+-----+----+----+\n"
        "|  1|Alice|  34|  NY|\n"
        "|  2|  Bob|  45|  SF|\n"
        "|  3|Carol|NULL|  NY|\n"
        "|  4|  Dan|  23|NULL|\n"
        "+---+-----+----+----+\n"
        "\n"
    )


def test_show_n_rows_footer(capsys, spark):
    spark.range(5).show(2)
    assert capsys.readouterr().out == (
        "+---+\n"
        "| id|\n"
        "+---+\n"
        "|  0|\n"
        "|  1|\n"
        "+---+\n"
        "only showing top 2 rows\n"
    )


def test_show_truncates_long_strings(capsys, spark):
    # Cells are cut at 20 characters; headers are never cut.
    df = spark.createDataFrame([("abcdefghijklmnopqrstuvwxyz", 1)], "s string, a_header_longer_than_twenty int")
    df.show()
    assert capsys.readouterr().out == (
        "+--------------------+---------------------------+\n"
        "|                   s|a_header_longer_than_twenty|\n"
        "+--------------------+---------------------------+\n"
        "|abcdefghijklmnopq...|                          1|\n"
        "+--------------------+---------------------------+\n"
        "\n"
    )


def test_show_no_truncate(capsys, spark):
    df = spark.createDataFrame([("abcdefghijklmnopqrstuvwxyz",)], "s string")
    df.show(truncate=False)
    assert capsys.readouterr().out == (
        "+--------------------------+\n"
        "|s                         |\n"
        "+--------------------------+\n"
        "|abcdefghijklmnopqrstuvwxyz|\n"
        "+--------------------------+\n"
        "\n"
    )


def test_show_vertical(capsys, spark):
    df = spark.createDataFrame([(1, "a"), (2, None)], "id int, v string")
    df.show(vertical=True)
    assert capsys.readouterr().out == (
        "-RECORD 0---\n"
        " id  | 1    \n"
        " v   | a    \n"
        "-RECORD 1---\n"
        " id  | 2    \n"
        " v   | NULL \n"
        "\n"
    )


def test_show_types_rendering(capsys, spark):
    df = spark.sql(
        "SELECT 1.5D AS d, CAST(2.50 AS DECIMAL(5,2)) AS m, true AS b, DATE'2024-01-02' AS dt, "
        "array(1, 2) AS arr, map('k', 1) AS mp, named_struct('a', 1, 'b', 'x') AS st"
    )
    df.show()
    assert capsys.readouterr().out == (
        "+---+----+----+----------+------+--------+------+\n"
        "|  d|   m|   b|        dt|   arr|      mp|    st|\n"
        "+---+----+----+----------+------+--------+------+\n"
        "|1.5|2.50|true|2024-01-02|[1, 2]|{k -> 1}|{1, x}|\n"
        "+---+----+----+----------+------+--------+------+\n"
        "\n"
    )


def test_show_empty(capsys, spark):
    spark.createDataFrame([], "a int, b string").show()
    assert capsys.readouterr().out == "+---+---+\n|  a|  b|\n+---+---+\n+---+---+\n\n"


def test_print_schema(capsys, spark):
    df = spark.createDataFrame(
        [], "id bigint not null, name string, tags array<string>, props map<string,int>, s struct<a:int,b:double>"
    )
    df.printSchema()
    assert capsys.readouterr().out == (
        "root\n"
        " |-- id: long (nullable = false)\n"
        " |-- name: string (nullable = true)\n"
        " |-- tags: array (nullable = true)\n"
        " |    |-- element: string (containsNull = true)\n"
        " |-- props: map (nullable = true)\n"
        " |    |-- key: string\n"
        " |    |-- value: integer (valueContainsNull = true)\n"
        " |-- s: struct (nullable = true)\n"
        " |    |-- a: integer (nullable = true)\n"
        " |    |-- b: double (nullable = true)\n"
        "\n"
    )


def test_schema_simple_string(people):
    assert people.schema.simpleString() == "struct<id:int,name:string,age:int,city:string>"


def test_union_rows_come_in_input_order(spark):
    df = spark.range(0, 3).union(spark.range(3, 6)).union(spark.range(6, 9))
    assert [r.id for r in df.collect()] == list(range(9))
    sql = spark.sql("SELECT 'a' AS v UNION ALL SELECT 'b' UNION ALL SELECT 'c'")
    assert [r.v for r in sql.collect()] == ["a", "b", "c"]


def test_intersect_all_and_except_all_match_rows_with_nulls(spark):
    a = spark.createDataFrame([(1, None), (1, None), (1, None), (2, "x"), (3, "y")], "k int, v string")
    b = spark.createDataFrame([(1, None), (1, None), (2, "x"), (2, "x"), (4, "z")], "k int, v string")
    assert_rows(a.intersectAll(b).orderBy("k"), [(1, None), (1, None), (2, "x")])
    assert_rows(a.exceptAll(b).orderBy("k"), [(1, None), (3, "y")])
    assert_rows(b.exceptAll(a).orderBy("k"), [(2, "x"), (4, "z")])


def test_repartition_spreads_rows_evenly(spark):
    # 100 rows in one batch: every partition gets a share, as in Spark.
    df = spark.range(100).repartition(4).groupBy(F.spark_partition_id().alias("p")).count()
    counts = {r.p: r["count"] for r in df.collect()}
    assert sorted(counts) == [0, 1, 2, 3]
    assert sum(counts.values()) == 100 and all(20 <= c <= 30 for c in counts.values())


def test_coalesce_after_repartition_is_one_partition(spark):
    df = spark.range(1000).repartition(8).coalesce(1).select(F.spark_partition_id().alias("p"), "id")
    assert {r.p for r in df.collect()} == {0}
    assert spark.range(3).select(F.spark_partition_id()).columns == ["SPARK_PARTITION_ID()"]


def test_sample_by_keeps_each_stratum_with_its_fraction(spark):
    from pyspark.errors import IllegalArgumentException

    df = spark.range(0, 3000).select((F.col("id") % 3).alias("key"), "id")
    sampled = df.sampleBy("key", fractions={0: 0.1, 1: 0.5}, seed=7)
    counts = dict((r.key, r["count"]) for r in sampled.groupBy("key").count().collect())
    # Key 2 has no fraction, so none of its rows; the others about 100 and 500 of 1000.
    assert set(counts) == {0, 1}
    assert 60 < counts[0] < 140 and 430 < counts[1] < 570
    # The same seed keeps the same rows.
    again = df.sampleBy(F.col("key"), fractions={0: 0.1, 1: 0.5}, seed=7)
    assert sorted(r.id for r in again.collect()) == sorted(r.id for r in sampled.collect())
    with pytest.raises(IllegalArgumentException):
        df.sampleBy("key", fractions={0: 1.5}, seed=0).count()


def test_select_may_repeat_an_expression_name(spark):
    df = spark.range(2).select(F.lit(1), F.lit(1), col("id"), col("id"))
    assert df.columns == ["1", "1", "id", "id"]
    assert_rows(df, [(1, 1, 0, 0), (1, 1, 1, 1)])
    agg = spark.range(3).select(F.count("*"), F.count("*"), F.max("id"))
    assert agg.columns == ["count(1)", "count(1)", "max(id)"]
    assert_rows(agg, [(3, 3, 2)])


def test_range_partitions_are_contiguous_runs(spark):
    df = spark.range(3, 20, 3, 4).select("id", F.spark_partition_id().alias("p"))
    assert_rows(df, [(3, 0), (6, 1), (9, 1), (12, 2), (15, 3), (18, 3)], ordered=True)
    ids = spark.range(0, 10, 1, 2).select("id", F.monotonically_increasing_id().alias("m"))
    assert [r for r in rows_of(ids) if r[0] in (0, 4, 5, 9)] == [(0, 0), (4, 4), (5, 8589934592), (9, 8589934596)]
    # show() takes its rows after the limit: the ids still come per partition.
    assert "|  5|                   2|" in spark.range(10, numPartitions=5).select(
        "id", F.spark_partition_id()
    )._show_string()
    assert spark.range(10, 0, -3).count() == 4 and spark.range(0, 10, -1).count() == 0
    assert spark.sql("select count(*) from range(5, 10)").collect()[0][0] == 5


def test_a_filter_stays_above_a_nondeterministic_projection(spark):
    # Spark never pushes a filter below a projection with nondeterministic
    # expressions: the ids are numbered before rows are dropped.
    ids = spark.range(0, 10, 1, 2).select("id", F.monotonically_increasing_id().alias("m"))
    assert rows_of(ids.where("id in (4, 9)")) == [(4, 4), (9, 8589934596)]
    # The same values a row gets without the filter, for rand(seed) too.
    drawn = spark.range(0, 10, 1, 2).select("id", F.rand(7).alias("r"))
    every = dict(rows_of(drawn))
    assert rows_of(drawn.where("id in (4, 9)")) == [(4, every[4]), (9, every[9])]
