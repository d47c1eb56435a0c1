"""Python user code: @udf, @pandas_udf, spark.udf.register, mapInPandas,
mapInArrow, applyInPandas and applyInArrow. Python runs in PySpark's own
worker, so a function sees the values and raises the errors it would on Spark."""

import datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from pyspark.errors import PythonException
from pyspark.sql import functions as F
from pyspark.sql.functions import col, pandas_udf, udf
from pyspark.sql.types import (
    ArrayType,
    IntegerType,
    LongType,
    StringType,
)


@pytest.fixture
def people(spark):
    return spark.createDataFrame(
        [(1, "alice", 34), (2, "bob", None), (3, None, 51)], "id int, name string, age int"
    )


def test_udf_on_columns_with_nulls(people):
    @udf(returnType=StringType())
    def greet(name, age):
        if name is None:
            return None
        return f"{name.title()} ({age if age is not None else '?'})"

    out = people.select("id", greet("name", "age")).orderBy("id")
    assert out.columns == ["id", "greet(name, age)"]
    assert out.schema["greet(name, age)"].dataType == StringType()
    assert [tuple(r) for r in out.collect()] == [(1, "Alice (34)"), (2, "Bob (?)"), (3, None)]


def test_udf_lambda_name_and_declared_type(people):
    plus = udf(lambda x: x + 1 if x is not None else -1, IntegerType())
    out = people.select(plus(col("age")))
    assert out.columns == ["<lambda>(age)"]
    assert out.schema.fields[0].dataType == IntegerType()
    assert sorted(r[0] for r in out.collect()) == [-1, 35, 52]


def test_udf_in_filter_groupby_and_with_column(spark):
    df = spark.range(10)
    parity = udf(lambda n: "even" if n % 2 == 0 else "odd")
    out = (
        df.withColumn("p", parity("id"))
        .where(parity(col("id") + 1) == "odd")
        .groupBy("p")
        .agg(F.count("*").alias("n"), F.sum("id").alias("s"))
    )
    assert [tuple(r) for r in out.collect()] == [("even", 5, 20)]


def test_udf_complex_return_types(spark):
    @udf(returnType=ArrayType(IntegerType()))
    def digits(n):
        return [int(c) for c in str(n)]

    @udf(returnType="struct<word:string,len:int>")
    def describe(s):
        return (s, len(s))

    df = spark.createDataFrame([(1203, "spark")], "n long, s string")
    row = df.select(digits("n").alias("d"), describe("s").alias("w")).first()
    assert row.d == [1, 2, 0, 3]
    assert row.w.word == "spark" and row.w.len == 5


def test_udf_sees_python_dates_and_decimals(spark):
    df = spark.createDataFrame(
        [(datetime.date(2024, 2, 28), Decimal("12.50"))], "d date, amount decimal(10,2)"
    )
    next_day = udf(lambda d: d + datetime.timedelta(days=1), "date")
    kind = udf(lambda a: type(a).__name__ + ":" + str(a * 2))
    row = df.select(next_day("d").alias("n"), kind("amount").alias("k")).first()
    assert row.n == datetime.date(2024, 2, 29)
    assert row.k == "Decimal:25.00"


def test_udf_keyword_arguments(spark):
    @udf(returnType=LongType())
    def scale(x, factor):
        return x * factor

    out = spark.range(1, 4).select(scale(col("id"), factor=F.lit(10)).alias("v"))
    assert [r.v for r in out.collect()] == [10, 20, 30]


def test_udf_error_is_python_exception(spark):
    boom = udf(lambda x: 1 // (x - x), IntegerType())
    with pytest.raises(PythonException) as ei:
        spark.range(3).select(boom("id")).collect()
    assert "ZeroDivisionError" in str(ei.value)


def test_pandas_udf_series_to_series(spark):
    @pandas_udf("double")
    def times_half(s: pd.Series) -> pd.Series:
        return s * 0.5

    out = spark.range(5).select(times_half("id"))
    assert out.columns == ["times_half(id)"]
    assert [r[0] for r in out.collect()] == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_pandas_udf_iterator(spark):
    from typing import Iterator

    @pandas_udf("long")
    def plus_ten(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        for s in batches:
            yield s + 10

    assert [r[0] for r in spark.range(3).select(plus_ten("id")).collect()] == [10, 11, 12]


def test_register_for_sql(spark):
    spark.udf.register("shout", lambda s: s.upper() + "!", StringType())
    out = spark.sql("SELECT shout(name) AS s FROM VALUES ('hi'), ('yo') AS t(name) ORDER BY s")
    assert [r.s for r in out.collect()] == ["HI!", "YO!"]
    assert spark.sql("SELECT SHOUT('x')").collect()[0][0] == "X!"


def test_map_in_pandas(spark):
    df = spark.createDataFrame([(1, 21), (2, 30), (3, 45)], ("id", "age"))

    def adults_over_25(batches):
        for pdf in batches:
            pdf = pdf[pdf.age > 25]
            yield pdf.assign(decade=pdf.age // 10)

    out = df.mapInPandas(adults_over_25, "id long, age long, decade long")
    assert out.columns == ["id", "age", "decade"]
    assert sorted(tuple(r) for r in out.collect()) == [(2, 30, 3), (3, 45, 4)]


def test_map_in_arrow(spark):
    def doubled(batches):
        for b in batches:
            yield pa.RecordBatch.from_pydict({"id": b.column("id"), "twice": pa.compute.multiply(b.column("id"), 2)})

    out = spark.range(4).mapInArrow(doubled, "id long, twice long")
    assert sorted(tuple(r) for r in out.collect()) == [(0, 0), (1, 2), (2, 4), (3, 6)]


def test_apply_in_pandas_per_group(spark):
    df = spark.createDataFrame(
        [(1, 1.0), (1, 2.0), (2, 3.0), (2, 5.0), (2, 10.0)], ("id", "v")
    )

    def subtract_mean(pdf):
        return pdf.assign(v=pdf.v - pdf.v.mean())

    out = df.groupBy("id").applyInPandas(subtract_mean, schema="id long, v double")
    assert sorted(tuple(r) for r in out.collect()) == [
        (1, -0.5),
        (1, 0.5),
        (2, -3.0),
        (2, -1.0),
        (2, 4.0),
    ]


def test_apply_in_pandas_with_key_and_expression(spark):
    df = spark.createDataFrame([(1, 1.0), (2, 2.0), (3, 3.0), (4, 5.0)], ("id", "v"))

    def summarize(key, pdf):
        return pd.DataFrame([(key[0], len(pdf), pdf.v.sum())])

    out = df.groupBy(col("id") % 2).applyInPandas(summarize, "parity long, n long, total double")
    assert sorted(tuple(r) for r in out.collect()) == [(0, 2, 7.0), (1, 2, 4.0)]


def test_apply_in_arrow(spark):
    def count_rows(table):
        return pa.table({"name": [table.column("name")[0].as_py()], "n": [table.num_rows]})

    df = spark.createDataFrame([("a",), ("b",), ("a",)], ["name"])
    out = df.groupBy("name").applyInArrow(count_rows, "name string, n long")
    assert sorted(tuple(r) for r in out.collect()) == [("a", 2), ("b", 1)]


def test_map_in_pandas_error_is_python_exception(spark):
    def bad(batches):
        for pdf in batches:
            raise ValueError("no thanks")
            yield pdf

    with pytest.raises(PythonException) as ei:
        spark.range(3).mapInPandas(bad, "id long").collect()
    assert "ValueError: no thanks" in str(ei.value)


def test_grouped_aggregate_pandas_udf(spark):
    @pandas_udf("double")
    def mean_udf(v: pd.Series) -> float:
        return v.mean()

    @pandas_udf("long")
    def spread(v: pd.Series) -> int:
        return int(v.max() - v.min())

    df = spark.createDataFrame([(1, 1.0), (1, 2.0), (2, 3.0), (2, 5.0), (2, 10.0)], ("id", "v"))
    out = df.groupBy("id").agg(mean_udf("v"), spread(col("v")).alias("range")).orderBy("id")
    assert out.columns == ["id", "mean_udf(v)", "range"]
    assert [tuple(r) for r in out.collect()] == [(1, 1.5, 1), (2, 6.0, 7)]
    assert [tuple(r) for r in df.agg(mean_udf(df.v)).collect()] == [(4.2,)]


def test_grouped_aggregate_pandas_udf_with_builtin_is_an_error(spark):
    from pyspark.errors import AnalysisException

    @pandas_udf("double")
    def mean_udf(v: pd.Series) -> float:
        return v.mean()

    df = spark.createDataFrame([(1, 1.0)], ("id", "v"))
    with pytest.raises(AnalysisException) as ei:
        df.groupBy("id").agg(mean_udf("v"), F.sum("v")).collect()
    assert ei.value.getCondition() == "INVALID_PANDAS_UDF_PLACEMENT"
    assert ei.value.getMessageParameters() == {"functionList": "`mean_udf`"}


def test_map_in_pandas_that_stops_early(spark):
    def first_batch_only(batches):
        yield next(batches).head(2)

    out = spark.range(0, 50000, numPartitions=1).mapInPandas(first_batch_only, "id long")
    assert [r.id for r in out.collect()] == [0, 1]


def test_failed_input_fails_the_python_task(spark, write_file):
    from pyspark.errors import PySparkException

    path = write_file("bad.csv", "a\n1\nx\n")
    df = spark.read.schema("a int").option("mode", "FAILFAST").csv(path)
    # The scan's own error, not Python's (and not a hang).
    with pytest.raises(PySparkException) as ei:
        df.mapInPandas(lambda it: it, "a int").collect()
    assert not isinstance(ei.value, PythonException)
    assert ei.value.getCondition() == "FAILED_READ_FILE.NO_HINT"


def test_udf_sees_its_partition(spark):
    # A select-list UDF runs as one Python task per partition, as on Spark.
    from pyspark import TaskContext

    pid = udf(lambda x: TaskContext.get().partitionId(), IntegerType())
    out = spark.range(0, 6, numPartitions=2).select("id", pid("id").alias("p")).orderBy("id")
    assert [tuple(r) for r in out.collect()] == [(0, 0), (1, 0), (2, 0), (3, 1), (4, 1), (5, 1)]
    # In a filter and an aggregate too.
    second = spark.range(0, 6, numPartitions=2).where(pid("id") == 1)
    assert sorted(r.id for r in second.collect()) == [3, 4, 5]
    per_partition = spark.range(0, 6, numPartitions=2).groupBy(pid("id").alias("p")).agg(F.sum(pid("id")))
    assert sorted(tuple(r) for r in per_partition.collect()) == [(0, 0), (1, 3)]
