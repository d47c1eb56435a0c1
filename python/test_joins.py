"""Joins: every join type, the three ways to give `on`, disambiguation and self-joins."""

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F
from pyspark.sql.functions import col

from ember_testutil import assert_df, assert_rows, assert_schema


@pytest.fixture(scope="module")
def emp(spark):
    return spark.createDataFrame(
        [(1, "Alice", 10), (2, "Bob", 20), (3, "Carol", 10), (4, "Dan", None)],
        "id int, name string, dept_id int",
    )


@pytest.fixture(scope="module")
def dept(spark):
    return spark.createDataFrame(
        [(10, "Eng"), (20, "Sales"), (30, "Ops")],
        "dept_id int, dept string",
    )


def test_inner_join_on_column_name(emp, dept):
    df = emp.join(dept, "dept_id")
    assert_df(
        df,
        [("dept_id", "int"), ("id", "int"), ("name", "string"), ("dept", "string")],
        [(10, 1, "Alice", "Eng"), (20, 2, "Bob", "Sales"), (10, 3, "Carol", "Eng")],
    )


def test_using_join_puts_key_first(emp, dept):
    assert emp.join(dept, "dept_id").columns == ["dept_id", "id", "name", "dept"]
    assert dept.join(emp, "dept_id").columns == ["dept_id", "dept", "id", "name"]


def test_inner_join_is_default_how(emp, dept):
    assert emp.join(dept, "dept_id").count() == emp.join(dept, "dept_id", "inner").count() == 3


def test_left_join(emp, dept):
    df = emp.join(dept, "dept_id", "left").select("name", "dept")
    assert_rows(df, [("Alice", "Eng"), ("Bob", "Sales"), ("Carol", "Eng"), ("Dan", None)])


def test_left_outer_alias(emp, dept):
    assert emp.join(dept, "dept_id", "left_outer").count() == 4
    assert emp.join(dept, "dept_id", "leftouter").count() == 4


def test_right_join(emp, dept):
    df = emp.join(dept, "dept_id", "right").select("dept_id", "name", "dept")
    assert_rows(df, [(10, "Alice", "Eng"), (10, "Carol", "Eng"), (20, "Bob", "Sales"), (30, None, "Ops")])


def test_full_outer_join_using_coalesces_key(emp, dept):
    df = emp.join(dept, "dept_id", "full").select("dept_id", "name", "dept")
    assert_rows(
        df,
        [
            (10, "Alice", "Eng"),
            (10, "Carol", "Eng"),
            (20, "Bob", "Sales"),
            (30, None, "Ops"),
            (None, "Dan", None),
        ],
    )


def test_full_outer_join_with_condition_keeps_both_keys(emp, dept):
    df = emp.join(dept, emp.dept_id == dept.dept_id, "outer").select(emp.name, dept.dept_id, dept.dept)
    assert_rows(
        df,
        [("Alice", 10, "Eng"), ("Carol", 10, "Eng"), ("Bob", 20, "Sales"), (None, 30, "Ops"), ("Dan", None, None)],
    )


def test_left_semi_join(emp, dept):
    df = emp.join(dept, "dept_id", "left_semi")
    assert df.columns == ["dept_id", "id", "name"]
    assert_rows(df.select("name"), [("Alice",), ("Bob",), ("Carol",)])


def test_left_semi_join_keeps_left_columns_only(emp, dept):
    df = emp.join(dept, emp.dept_id == dept.dept_id, "leftsemi")
    assert_schema(df, [("id", "int"), ("name", "string"), ("dept_id", "int")])


def test_left_anti_join(emp, dept):
    df = emp.join(dept, emp.dept_id == dept.dept_id, "left_anti")
    assert_df(df, [("id", "int"), ("name", "string"), ("dept_id", "int")], [(4, "Dan", None)])


def test_anti_join_alias(emp, dept):
    assert_rows(emp.join(dept, "dept_id", "anti").select("id"), [(4,)])


def test_cross_join(spark):
    a = spark.createDataFrame([(1,), (2,)], "x int")
    b = spark.createDataFrame([("a",), ("b",), ("c",)], "y string")
    df = a.crossJoin(b)
    assert_df(df, [("x", "int"), ("y", "string")], [(x, y) for x in (1, 2) for y in "abc"])


def test_join_without_condition_is_cartesian(spark):
    a = spark.createDataFrame([(1,), (2,)], "x int")
    b = spark.createDataFrame([(3,), (4,)], "y int")
    assert a.join(b).count() == 4


def test_join_how_cross_with_condition(spark):
    a = spark.createDataFrame([(1,), (2,)], "x int")
    b = spark.createDataFrame([(1,), (5,)], "y int")
    assert_rows(a.join(b, a.x < b.y, "cross"), [(1, 5), (2, 5)])


def test_join_on_list_of_names(spark):
    a = spark.createDataFrame([(1, "a", 100), (1, "b", 200), (2, "a", 300)], "k1 int, k2 string, v int")
    b = spark.createDataFrame([(1, "a", "x"), (2, "b", "y")], "k1 int, k2 string, w string")
    df = a.join(b, ["k1", "k2"])
    assert_df(
        df,
        [("k1", "int"), ("k2", "string"), ("v", "int"), ("w", "string")],
        [(1, "a", 100, "x")],
    )


def test_join_on_condition_keeps_both_key_columns(emp, dept):
    df = emp.join(dept, emp["dept_id"] == dept["dept_id"])
    assert df.columns == ["id", "name", "dept_id", "dept_id", "dept"]
    assert df.count() == 3


def test_join_condition_disambiguates_by_dataframe(emp, dept):
    df = emp.join(dept, emp["dept_id"] == dept["dept_id"]).select(emp["name"], dept["dept_id"], "dept")
    assert_rows(df, [("Alice", 10, "Eng"), ("Bob", 20, "Sales"), ("Carol", 10, "Eng")])


def test_ambiguous_column_reference_raises(emp, dept):
    df = emp.join(dept, emp["dept_id"] == dept["dept_id"])
    with pytest.raises(AnalysisException) as ei:
        df.select("dept_id").collect()
    assert ei.value.getCondition() == "AMBIGUOUS_REFERENCE"


def test_join_compound_condition(spark):
    a = spark.createDataFrame([(1, 5), (2, 6), (3, 7)], "id int, v int")
    b = spark.createDataFrame([(1, 1), (2, 10), (3, 2)], "id int, lim int")
    df = a.join(b, (a.id == b.id) & (a.v > b.lim)).select(a.id)
    assert_rows(df, [(1,), (3,)])


def test_join_condition_list_of_columns_is_and(spark):
    a = spark.createDataFrame([(1, "x"), (2, "y")], "id int, t string")
    b = spark.createDataFrame([(1, "x"), (2, "z")], "id int, t string")
    df = a.join(b, [a.id == b.id, a.t == b.t]).select(a.id)
    assert_rows(df, [(1,)])


def test_self_join_with_aliases(spark):
    df = spark.createDataFrame([(1, None), (2, 1), (3, 1), (4, 2)], "id int, manager_id int")
    out = (
        df.alias("e")
        .join(df.alias("m"), col("e.manager_id") == col("m.id"))
        .select(col("e.id").alias("emp"), col("m.id").alias("mgr"))
    )
    assert_df(out, [("emp", "int"), ("mgr", "int")], [(2, 1), (3, 1), (4, 2)])


def test_self_join_alias_star(spark):
    df = spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string")
    out = df.alias("a").join(df.alias("b"), col("a.id") == col("b.id")).select("a.*")
    assert_df(out, [("id", "int"), ("v", "string")], [(1, "a"), (2, "b")])


def test_join_null_keys_do_not_match(spark):
    a = spark.createDataFrame([(None, "a"), (1, "b")], "k int, v string")
    b = spark.createDataFrame([(None, "x"), (1, "y")], "k int, w string")
    assert_rows(a.join(b, "k"), [(1, "b", "y")])


def test_join_null_safe_equality(spark):
    a = spark.createDataFrame([(None, "a"), (1, "b")], "k int, v string")
    b = spark.createDataFrame([(None, "x"), (1, "y")], "k int, w string")
    out = a.join(b, a.k.eqNullSafe(b.k)).select("v", "w")
    assert_rows(out, [("a", "x"), ("b", "y")])


def test_join_duplicate_keys_multiply(spark):
    a = spark.createDataFrame([(1, "a1"), (1, "a2")], "k int, v string")
    b = spark.createDataFrame([(1, "b1"), (1, "b2"), (1, "b3")], "k int, w string")
    assert a.join(b, "k").count() == 6


def test_join_widens_key_types(spark):
    a = spark.createDataFrame([(1, "a")], "k int, v string")
    b = spark.createDataFrame([(1, "b")], "k bigint, w string")
    df = a.join(b, "k")
    assert_df(df, [("k", "int"), ("v", "string"), ("w", "string")], [(1, "a", "b")])


def test_left_join_then_filter_on_null(emp, dept):
    df = emp.join(dept, "dept_id", "left").where(col("dept").isNull()).select("name")
    assert_rows(df, [("Dan",)])


def test_join_after_aggregate(emp, dept):
    counts = emp.groupBy("dept_id").agg(F.count("*").alias("n"))
    df = dept.join(counts, "dept_id", "left").select("dept", "n")
    assert_df(df, [("dept", "string"), ("n", "bigint")], [("Eng", 2), ("Sales", 1), ("Ops", None)])


def test_using_anti_join_puts_key_first(emp, dept):
    assert emp.join(dept, "dept_id", "left_anti").columns == ["dept_id", "id", "name"]


def test_invalid_join_type_raises(emp, dept):
    with pytest.raises(AnalysisException) as ei:
        emp.join(dept, "dept_id", "sideways").collect()
    assert ei.value.getCondition() == "UNSUPPORTED_JOIN_TYPE"


def test_using_join_on_a_renamed_column(spark):
    people = spark.createDataFrame([(1, "x"), (2, "y")], "id int, name string")
    orders = spark.createDataFrame([(1, 10.0)], "pid int, total double")
    renamed = orders.withColumnRenamed("pid", "id")
    assert_df(
        people.join(renamed, on=["id"], how="left").select("id", "name", "total"),
        [("id", "int"), ("name", "string"), ("total", "double")],
        [(1, "x", 10.0), (2, "y", None)],
    )
    assert_rows(people.join(orders.select(F.col("pid").alias("id")), "id"), [(1, "x")])
    # The condition form reads each side's column by its DataFrame.
    assert_rows(people.join(renamed, people.id == renamed.id).select(people.name, renamed.total), [("x", 10.0)])
