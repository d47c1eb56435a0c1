"""Column expressions: arithmetic and type rules, casts, literals, conditionals, strings,
math, dates, nested data, higher-order functions, selectExpr/expr, name resolution."""

import datetime
import decimal
import math

import pytest
from pyspark.errors import AnalysisException, NumberFormatException, PySparkException
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql.functions import col, lit

from ember_testutil import assert_df, assert_rows, assert_schema, rows_of

D = decimal.Decimal


@pytest.fixture(scope="module")
def nums(spark):
    return spark.createDataFrame([(7, 2, 7.5, 10000000000)], "a int, b int, x double, big bigint")


def one(df):
    """The single value of a one-row, one-column result."""
    rows = df.collect()
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


# ---------------------------------------------------------------- arithmetic types


def test_int_plus_int_is_int(nums):
    assert_df(nums.select((col("a") + col("b")).alias("r")), [("r", "int")], [(9,)])


def test_int_division_is_double(nums):
    assert_df(nums.select((col("a") / col("b")).alias("r")), [("r", "double")], [(3.5,)])


def test_int_div_without_ansi_gives_null_for_zero(spark):
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        assert_rows(spark.sql("SELECT 1 div 0 AS z, 7.5BD div 2 AS d"), [(None, 3)])
        assert_rows(spark.range(3).selectExpr("id div 2 AS h"), [(0,), (0,), (1,)])
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")


def test_int_div_operator_is_bigint(spark):
    df = spark.sql("SELECT 7 div 2 AS q, -7 div 2 AS n")
    assert_df(df, [("q", "bigint"), ("n", "bigint")], [(3, -3)])


def test_int_modulo_and_pmod(spark):
    df = spark.sql("SELECT 7 % 3 AS m, -7 % 3 AS neg, pmod(-7, 3) AS p")
    assert_df(df, [("m", "int"), ("neg", "int"), ("p", "int")], [(1, -1, 2)])


def test_int_plus_bigint_is_bigint(nums):
    assert_df(nums.select((col("a") + col("big")).alias("r")), [("r", "bigint")], [(10000000007,)])


def test_int_times_double_is_double(nums):
    assert_df(nums.select((col("a") * col("x")).alias("r")), [("r", "double")], [(52.5,)])


def test_int_plus_python_float_literal_is_double(nums):
    assert_df(nums.select((col("a") + 0.5).alias("r")), [("r", "double")], [(7.5,)])


def test_decimal_arithmetic_types(spark):
    df = spark.sql(
        "SELECT CAST(1.10 AS DECIMAL(5,2)) + CAST(2.205 AS DECIMAL(6,3)) AS s, "
        "CAST(1.5 AS DECIMAL(3,1)) * CAST(2.25 AS DECIMAL(4,2)) AS p"
    )
    assert_df(df, [("s", "decimal(7,3)"), ("p", "decimal(8,3)")], [(D("3.305"), D("3.375"))])


def test_decimal_literal_type_in_sql(spark):
    assert_df(spark.sql("SELECT 12.345 AS d"), [("d", "decimal(5,3)")], [(D("12.345"),)])


def test_decimal_division_type(spark):
    df = spark.sql("SELECT CAST(1 AS DECIMAL(10,2)) / CAST(3 AS DECIMAL(10,2)) AS q")
    assert_df(df, [("q", "decimal(23,13)")], [(D("0.3333333333333"),)])


def test_int_overflow_raises_in_ansi(spark):
    from pyspark.errors import ArithmeticException

    with pytest.raises(ArithmeticException) as ei:
        spark.sql("SELECT 2147483647 + 1").collect()
    assert ei.value.getCondition() == "ARITHMETIC_OVERFLOW"


def test_without_ansi_integers_wrap_and_zero_divisors_give_null(spark):
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        df = spark.sql("SELECT 2147483647 + 1 AS a, 5 % 0 AS b, 1 / 0 AS c, 5.5D % 0 AS d")
        assert_rows(df, [(-2147483648, None, None, None)])
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")


def test_remainder_of_a_double_by_zero_raises_in_ansi(spark):
    from pyspark.errors import ArithmeticException

    with pytest.raises(ArithmeticException) as ei:
        spark.range(1).select(lit(5.5) % lit(0)).collect()
    assert ei.value.getCondition() == "REMAINDER_BY_ZERO"


def test_unary_minus_and_negative(nums):
    assert_rows(nums.select(-col("a"), F.negative("x")), [(-7, -7.5)])


def test_double_division_by_zero_is_error_in_ansi(spark):
    from pyspark.errors import ArithmeticException

    with pytest.raises(ArithmeticException) as ei:
        spark.sql("SELECT 1.0D / 0").collect()
    assert ei.value.getCondition() == "DIVIDE_BY_ZERO"


def test_try_divide_by_zero_is_null(spark):
    assert_df(spark.sql("SELECT try_divide(1, 0) AS r"), [("r", "double")], [(None,)])


# ---------------------------------------------------------------- casts


def test_cast_string_to_int(spark):
    df = spark.createDataFrame([("42",), (" 7 ",)], "s string").select(col("s").cast("int").alias("i"))
    assert_df(df, [("i", "int")], [(42,), (7,)])


def test_invalid_cast_raises_cast_invalid_input(spark):
    df = spark.createDataFrame([("abc",)], "s string").select(col("s").cast("int"))
    with pytest.raises(NumberFormatException) as ei:
        df.collect()
    assert ei.value.getCondition() == "CAST_INVALID_INPUT"
    assert "'abc'" in str(ei.value)


def test_try_mod_by_zero_is_null_and_try_avg(spark):
    df = spark.createDataFrame([(6000, 15), (3, 2), (1234, 0)], "a int, b int")
    got = df.select(F.try_mod("a", "b"))
    assert got.columns == ["try_mod(a, b)"]
    assert [r[0] for r in got.collect()] == [0, 1, None]
    assert_df(df.select(F.try_avg("a")), [("try_avg(a)", "double")], [(2412.3333333333335,)])
    sql = spark.sql("SELECT try_mod(7.5, 0), try_mod(7.5, 2), try_mod(CAST(7 AS BIGINT), 0)")
    assert rows_of(sql) == [(None, decimal.Decimal("1.5"), None)]


def test_try_cast_invalid_is_null(spark):
    df = spark.createDataFrame([("abc",), ("5",)], "s string").select(col("s").try_cast("int").alias("i"))
    assert_df(df, [("i", "int")], [(None,), (5,)])


def test_cast_double_to_int_truncates(spark):
    assert_rows(spark.sql("SELECT CAST(2.9D AS INT), CAST(-2.9D AS INT)"), [(2, -2)])


def test_cast_string_to_double_and_decimal(spark):
    df = spark.sql("SELECT CAST('1.25' AS DOUBLE) AS d, CAST('1.255' AS DECIMAL(4,2)) AS m")
    assert_df(df, [("d", "double"), ("m", "decimal(4,2)")], [(1.25, D("1.26"))])


def test_cast_string_to_date_and_timestamp(spark):
    df = spark.sql("SELECT CAST('2024-03-05' AS DATE) AS d, CAST('2024-03-05 10:11:12' AS TIMESTAMP) AS t")
    assert_df(
        df,
        [("d", "date"), ("t", "timestamp")],
        [(datetime.date(2024, 3, 5), datetime.datetime(2024, 3, 5, 10, 11, 12))],
    )


def test_sql_timestamp_ntz_and_spark_type_names(spark):
    df = spark.sql(
        "SELECT TIMESTAMP_NTZ '2024-01-01 10:00:00' a, CAST('2024-01-02 03:04:05' AS TIMESTAMP_NTZ) b, "
        "CAST('2024-01-01 10:00:00' AS TIMESTAMP_LTZ) c, CAST(1 AS LONG) d, CAST(1 AS SHORT) e, CAST(1 AS BYTE) f"
    )
    assert_df(
        df,
        [("a", "timestamp_ntz"), ("b", "timestamp_ntz"), ("c", "timestamp"), ("d", "bigint"), ("e", "smallint"),
         ("f", "tinyint")],
        [(datetime.datetime(2024, 1, 1, 10), datetime.datetime(2024, 1, 2, 3, 4, 5), datetime.datetime(2024, 1, 1, 10),
          1, 1, 1)],
    )
    assert spark.sql("SELECT TIMESTAMP_NTZ '2024-01-01 10:00:00'").columns == ["TIMESTAMP_NTZ '2024-01-01 10:00:00'"]


def test_cast_to_string(spark):
    df = spark.sql(
        "SELECT CAST(1.0D AS STRING), CAST(true AS STRING), CAST(DATE'2024-01-02' AS STRING), "
        "CAST(CAST(1.50 AS DECIMAL(4,2)) AS STRING), CAST(1e20D AS STRING)"
    )
    assert_rows(df, [("1.0", "true", "2024-01-02", "1.50", "1.0E20")])


def test_cast_bool_from_string(spark):
    assert_rows(spark.sql("SELECT CAST('true' AS BOOLEAN), CAST('N' AS BOOLEAN), CAST('1' AS BOOLEAN)"), [(True, False, True)])


def test_cast_with_datatype_object(spark):
    from pyspark.sql.types import LongType

    df = spark.createDataFrame([(1,)], "i int").select(col("i").cast(LongType()).alias("l"))
    assert_schema(df, [("l", "bigint")])


def test_cast_overflow_raises(spark):
    from pyspark.errors import ArithmeticException

    with pytest.raises(ArithmeticException) as ei:
        spark.sql("SELECT CAST(3000000000 AS INT)").collect()
    assert ei.value.getCondition() == "CAST_OVERFLOW"


# ---------------------------------------------------------------- literals


def test_literal_types(spark):
    df = spark.range(1).select(
        lit(True).alias("bool"),
        lit(1).alias("int"),
        lit(2**40).alias("long"),
        lit(1.5).alias("double"),
        lit(D("1.25")).alias("dec"),
        lit("s").alias("str"),
        lit(datetime.date(2024, 1, 2)).alias("date"),
        lit(datetime.datetime(2024, 1, 2, 3, 4, 5)).alias("ts"),
        lit(bytearray(b"\x01\x02")).alias("bin"),
        lit(None).alias("nul"),
    )
    assert_schema(
        df,
        [
            ("bool", "boolean"),
            ("int", "int"),
            ("long", "bigint"),
            ("double", "double"),
            ("dec", "decimal(10,2)"),
            ("str", "string"),
            ("date", "date"),
            ("ts", "timestamp"),
            ("bin", "binary"),
            ("nul", "void"),
        ],
    )
    assert_rows(
        df,
        [
            (
                True,
                1,
                2**40,
                1.5,
                D("1.25"),
                "s",
                datetime.date(2024, 1, 2),
                datetime.datetime(2024, 1, 2, 3, 4, 5),
                bytearray(b"\x01\x02"),
                None,
            )
        ],
    )


def test_sql_literal_types(spark):
    df = spark.sql(
        "SELECT 1Y AS b, 2S AS s, 3 AS i, 4L AS l, 1.5F AS f, 2.5D AS d, 1.5 AS dec, "
        "X'0A0B' AS bin, DATE'2020-02-29' AS dt, TIMESTAMP'2020-02-29 12:00:00' AS ts"
    )
    assert_schema(
        df,
        [
            ("b", "tinyint"),
            ("s", "smallint"),
            ("i", "int"),
            ("l", "bigint"),
            ("f", "float"),
            ("d", "double"),
            ("dec", "decimal(2,1)"),
            ("bin", "binary"),
            ("dt", "date"),
            ("ts", "timestamp"),
        ],
    )
    assert_rows(
        df,
        [
            (
                1,
                2,
                3,
                4,
                1.5,
                2.5,
                D("1.5"),
                bytearray(b"\x0a\x0b"),
                datetime.date(2020, 2, 29),
                datetime.datetime(2020, 2, 29, 12, 0),
            )
        ],
    )


def test_array_map_struct_literals(spark):
    df = spark.range(1).select(
        F.array(lit(1), lit(2)).alias("arr"),
        F.create_map(lit("k"), lit(1.5)).alias("m"),
        F.struct(lit(1).alias("a"), lit("x").alias("b")).alias("s"),
    )
    assert_schema(df, [("arr", "array<int>"), ("m", "map<string,double>"), ("s", "struct<a:int,b:string>")])
    assert_rows(df, [([1, 2], {"k": 1.5}, (1, "x"))])


def test_lit_of_python_list(spark):
    df = spark.range(1).select(lit([1, 2, 3]).alias("a"))
    assert_df(df, [("a", "array<int>")], [([1, 2, 3],)])


def test_typed_lit(spark):
    from pyspark.sql.types import ByteType

    df = spark.range(1).select(lit(5).cast(ByteType()).alias("b"))
    assert_df(df, [("b", "tinyint")], [(5,)])


# ---------------------------------------------------------------- conditionals and null handling


@pytest.fixture(scope="module")
def vals(spark):
    return spark.createDataFrame([(1, "a"), (5, None), (None, "c"), (10, "d")], "n int, s string")


def test_when_otherwise(vals):
    df = vals.select(F.when(col("n") < 3, "low").when(col("n") < 8, "mid").otherwise("high").alias("c"))
    assert_df(df, [("c", "string")], [("low",), ("mid",), ("high",), ("high",)])


def test_when_without_otherwise_gives_null(vals):
    assert_rows(vals.select(F.when(col("n") > 4, col("n"))), [(None,), (5,), (None,), (10,)])


def test_coalesce(vals):
    df = vals.select(F.coalesce(col("s"), lit("none")).alias("c"))
    assert_rows(df, [("a",), ("none",), ("c",), ("d",)])


def test_isnull_isnotnull(vals):
    df = vals.select(col("n").isNull().alias("a"), col("s").isNotNull().alias("b"), F.isnull("s").alias("c"))
    assert_schema(df, [("a", "boolean"), ("b", "boolean"), ("c", "boolean")])
    assert_rows(df, [(False, True, False), (False, False, True), (True, True, False), (False, True, False)])


def test_isin(vals):
    assert_rows(vals.where(col("n").isin(1, 10)).select("n"), [(1,), (10,)])
    assert_rows(vals.where(col("s").isin(["a", "c"])).select("s"), [("a",), ("c",)])


def test_between_inclusive(vals):
    assert_rows(vals.where(col("n").between(1, 5)).select("n"), [(1,), (5,)])


def test_null_in_boolean_logic(spark):
    df = spark.sql("SELECT NULL AND false, NULL OR true, NULL AND true, NOT CAST(NULL AS BOOLEAN)")
    assert_rows(df, [(False, True, None, None)])


def test_nvl_ifnull_nullif(spark):
    assert_rows(spark.sql("SELECT nvl(NULL, 2), ifnull(3, 4), nullif(5, 5), nullif(5, 6)"), [(2, 3, None, 5)])


def test_like_and_rlike(spark):
    df = spark.createDataFrame([("apple",), ("banana",), ("apricot",)], "s string")
    assert_rows(df.where(col("s").like("ap%")), [("apple",), ("apricot",)])
    assert_rows(df.where(col("s").like("_anana")), [("banana",)])
    assert_rows(df.where(col("s").rlike("^a.*t$")), [("apricot",)])
    assert_rows(df.where(col("s").ilike("AP%")), [("apple",), ("apricot",)])


def test_startswith_endswith_contains(spark):
    df = spark.createDataFrame([("apple",), ("banana",)], "s string")
    assert_rows(df.select(col("s").startswith("ap"), col("s").endswith("na"), col("s").contains("nan")), [(True, False, False), (False, True, True)])


# ---------------------------------------------------------------- strings


@pytest.fixture(scope="module")
def words(spark):
    return spark.createDataFrame([("  Hello World  ", "a,b,,c")], "s string, csv string")


def test_upper_lower(words):
    assert_rows(words.select(F.upper("s"), F.lower("s")), [("  HELLO WORLD  ", "  hello world  ")])


def test_trim_ltrim_rtrim(words):
    assert_rows(words.select(F.trim("s"), F.ltrim("s"), F.rtrim("s")), [("Hello World", "Hello World  ", "  Hello World")])


def test_substring_is_one_based(spark):
    df = spark.range(1).select(
        F.substring(lit("Spark SQL"), 1, 5).alias("a"),
        F.substring(lit("Spark SQL"), -3, 3).alias("b"),
        lit("Spark SQL").substr(7, 100).alias("c"),
    )
    assert_rows(df, [("Spark", "SQL", "SQL")])


def test_concat_and_concat_ws(spark):
    df = spark.createDataFrame([("a", None, "c")], "x string, y string, z string")
    assert_rows(
        df.select(F.concat("x", "z"), F.concat("x", "y"), F.concat_ws("-", "x", "y", "z")),
        [("ac", None, "a-c")],
    )


def test_lpad_rpad(spark):
    df = spark.range(1).select(F.lpad(lit("7"), 3, "0"), F.rpad(lit("ab"), 5, "xy"), F.lpad(lit("abcdef"), 3, "0"))
    assert_rows(df, [("007", "abxyx", "abc")])


def test_split(words):
    df = words.select(F.split("csv", ",").alias("parts"))
    assert_df(df, [("parts", "array<string>")], [(["a", "b", "", "c"],)])


def test_split_regex_and_limit(spark):
    df = spark.range(1).select(F.split(lit("a1b22c"), "[0-9]+").alias("r"), F.split(lit("a,b,c"), ",", 2).alias("l"))
    assert_rows(df, [(["a", "b", "c"], ["a", "b,c"])])


def test_regexp_replace_and_extract(spark):
    df = spark.range(1).select(
        F.regexp_replace(lit("2024-01-15"), "-", "/").alias("r"),
        F.regexp_replace(lit("abc123def"), r"(\d+)", "<$1>").alias("g"),
        F.regexp_extract(lit("id=42;x=7"), r"id=(\d+)", 1).alias("e"),
    )
    assert_rows(df, [("2024/01/15", "abc<123>def", "42")])


def test_length_and_instr(spark):
    df = spark.range(1).select(
        F.length(lit("héllo")).alias("len"), F.instr(lit("hello"), "ll").alias("i"), F.instr(lit("hello"), "z").alias("z")
    )
    assert_df(df, [("len", "int"), ("i", "int"), ("z", "int")], [(5, 3, 0)])


def test_string_misc(spark):
    df = spark.range(1).select(
        F.initcap(lit("hello wORLD")),
        F.reverse(lit("abc")),
        F.repeat(lit("ab"), 3),
        F.translate(lit("abc"), "ab", "xy"),
        F.locate("b", lit("abcb")),
        F.ascii(lit("A")),
    )
    assert_rows(df, [("Hello World", "cba", "ababab", "xyc", 2, 65)])


def test_format_string_and_number(spark):
    df = spark.range(1).select(F.format_string("%s-%03d", lit("x"), lit(7)), F.format_number(lit(1234567.891), 2))
    assert_rows(df, [("x-007", "1,234,567.89")])


# ---------------------------------------------------------------- math


def test_round_half_up(spark):
    df = spark.sql("SELECT round(2.5), round(-2.5), round(0.125, 2), round(2.5D), round(1234, -2)")
    assert_rows(df, [(D("3"), D("-3"), D("0.13"), 3.0, 1200)])


def test_round_keeps_double_type(spark):
    df = spark.range(1).select(F.round(lit(2.345), 2).alias("r"))
    assert_df(df, [("r", "double")], [(2.35,)])


def test_bround_half_even(spark):
    assert_rows(spark.sql("SELECT bround(2.5D), bround(3.5D), bround(0.125D, 2)"), [(2.0, 4.0, 0.12)])


def test_abs_sqrt_pow(spark):
    df = spark.range(1).select(
        F.abs(lit(-3)).alias("a"), F.sqrt(lit(16)).alias("s"), F.pow(lit(2), lit(10)).alias("p")
    )
    assert_df(df, [("a", "int"), ("s", "double"), ("p", "double")], [(3, 4.0, 1024.0)])


def test_floor_ceil_types(spark):
    df = spark.range(1).select(
        F.floor(lit(2.7)).alias("f"), F.ceil(lit(2.1)).alias("c"), F.floor(lit(-2.5)).alias("n")
    )
    assert_df(df, [("f", "bigint"), ("c", "bigint"), ("n", "bigint")], [(2, 3, -3)])


def test_floor_of_decimal_is_decimal(spark):
    assert_df(spark.sql("SELECT floor(2.75) AS f"), [("f", "decimal(2,0)")], [(D("2"),)])


def test_exp_log_and_trig(spark):
    r = spark.range(1).select(F.exp(lit(0)), F.log(lit(1.0)), F.log10(lit(1000)), F.log2(lit(8)), F.sin(lit(0))).first()
    assert tuple(r) == (1.0, 0.0, 3.0, 3.0, 0.0)


def test_logarithms_outside_their_domain_are_null_and_sqrt_of_negative_is_nan(spark):
    df = spark.sql(
        "SELECT ln(0) a, log2(0) b, log10(-1) c, log(0.0) d, log(2, 0) e, log(-2, 8) f, log1p(-1) g, log1p(0) h, "
        "ln(CAST('NaN' AS DOUBLE)) i, log(100) j"
    )
    r = df.first()
    assert tuple(r)[:8] == (None, None, None, None, None, None, None, 0.0)
    assert math.isnan(r.i)
    assert r.j == pytest.approx(math.log(100))
    assert spark.sql("SELECT log(0.0)").columns == ["LOG(E(), 0.0)"]
    values = spark.createDataFrame([(-1.0,), (0.0,), (4.0,)], "x double")
    got = [tuple(r) for r in values.select(F.ln("x"), F.log10("x"), F.sqrt("x")).collect()]
    assert got[0][:2] == (None, None) and math.isnan(got[0][2])
    assert got[1:] == [(None, None, 0.0), (math.log(4.0), math.log10(4.0), 2.0)]


def test_ceil_and_floor_with_a_scale_are_decimals(spark):
    df = spark.sql(
        "SELECT ceil(-0.1, 1) a, floor(2.1267, 2) b, ceil(1234.5, -2) c, floor(5, 0) d, ceil(2.5D, 0) e, "
        "floor(-1234.5, -2) f"
    )
    assert_df(
        df,
        [("a", "decimal(2,1)"), ("b", "decimal(4,2)"), ("c", "decimal(5,0)"), ("d", "decimal(11,0)"),
         ("e", "decimal(16,0)"), ("f", "decimal(5,0)")],
        [(D("-0.1"), D("2.12"), D("1300"), D("5"), D("3"), D("-1300"))],
    )
    got = spark.range(1).select(F.ceil(lit(-0.15), 1), F.floor(lit(2.1267), lit(2)))
    assert_df(got, [("ceil(-0.15, 1)", "decimal(17,1)"), ("floor(2.1267, 2)", "decimal(18,2)")], [(D("-0.1"), D("2.12"))])
    with pytest.raises(Exception, match="NUMERIC_VALUE_OUT_OF_RANGE"):
        spark.sql("SELECT floor(1e300D, 2)").collect()


def test_values_of_numeric_literals_widen_as_spark_does(spark):
    df = spark.sql("SELECT * FROM VALUES (0.0), (PI()) AS t(v)")
    assert_df(df, [("v", "double")], [(0.0,), (math.pi,)])
    df = spark.sql("SELECT * FROM VALUES (1, 1), (2.5, 2.5f), (NULL, 3L) AS t(a, b)")
    assert_df(df, [("a", "decimal(11,1)"), ("b", "float")], [(D("1.0"), 1.0), (D("2.5"), 2.5), (None, 3.0)])


def test_like_with_an_escape_character(spark):
    df = spark.createDataFrame([("a_b", "a/_b"), ("axb", "a/_b"), ("A_B", "a/_b")], "a string, b string")
    got = df.select(F.like(df.a, df.b, lit("/")), F.ilike(df.a, df.b, lit("/")), F.like("a", lit("a/_b"), lit("/")))
    assert got.columns == ["a LIKE b ESCAPE '/'", "ilike(a, b)", "a LIKE a/_b ESCAPE '/'"]
    assert rows_of(got) == [(True, True, True), (False, False, False), (False, True, False)]
    sql = spark.sql(r"SELECT 'a/b' LIKE 'a//b' ESCAPE '/', 'a\\b' LIKE 'a\\b' ESCAPE '/', 'ab' LIKE 'a#%' ESCAPE '#'")
    assert rows_of(sql) == [(True, True, False)]
    with pytest.raises(AnalysisException, match="INVALID_FORMAT.ESC_IN_THE_MIDDLE"):
        spark.sql("SELECT 'ab' LIKE 'a/b' ESCAPE '/'").collect()
    with pytest.raises(AnalysisException, match="INVALID_FORMAT.ESC_AT_THE_END"):
        spark.sql("SELECT 'a/' LIKE 'a/' ESCAPE '/'").collect()


def test_levenshtein_threshold_replace_default_and_split_by_column(spark):
    df = spark.createDataFrame([("kitten", "sitting", "t"), ("abc", None, "[ac]")], "l string, r string, p string")
    got = df.select(F.levenshtein("l", "r", 2), F.levenshtein("l", "r", 5), F.replace("l", lit("t")), F.split("l", col("p")))
    assert got.columns == ["levenshtein(l, r, 2)", "levenshtein(l, r, 5)", "replace(l, t, )", "split(l, p, -1)"]
    assert rows_of(got) == [(-1, 3, "kien", ["ki", "", "en"]), (None, None, "abc", ["", "b", ""])]
    assert rows_of(spark.sql("SELECT replace('abcabc', 'b'), levenshtein('kitten', 'sitting', 2)")) == [("acac", -1)]


def test_array_append_to_null_and_array_agg_skip_nulls(spark):
    df = spark.sql(
        "SELECT array_append(CAST(NULL AS ARRAY<INT>), 4) a, array_append(array(1), NULL) b, "
        "(SELECT array_agg(x) FROM VALUES (1), (NULL), (2) AS t(x)) c"
    )
    assert rows_of(df) == [(None, [1, None], [1, 2])]


def test_greatest_least(spark):
    df = spark.range(1).select(F.greatest(lit(1), lit(5), lit(3)).alias("g"), F.least(lit(2.5), lit(1)).alias("l"))
    assert_df(df, [("g", "int"), ("l", "double")], [(5, 1.0)])


def test_signum_and_mod_double(spark):
    assert_rows(spark.sql("SELECT signum(-3.5D), 7.5D % 2"), [(-1.0, 1.5)])


# ---------------------------------------------------------------- dates and timestamps


def test_to_date_with_pattern(spark):
    df = spark.createDataFrame([("5-3-2024",), ("25-12-2023",)], "s string").select(F.to_date("s", "d-M-yyyy").alias("d"))
    assert_df(df, [("d", "date")], [(datetime.date(2024, 3, 5),), (datetime.date(2023, 12, 25),)])


def test_to_date_default_format(spark):
    assert_rows(spark.range(1).select(F.to_date(lit("2024-02-29"))), [(datetime.date(2024, 2, 29),)])


def test_date_format(spark):
    df = spark.sql("SELECT date_format(DATE'2024-03-05', 'yyyy/MM/dd') AS a, date_format(TIMESTAMP'2024-03-05 14:07:09', 'HH:mm:ss EEE') AS b")
    assert_df(df, [("a", "string"), ("b", "string")], [("2024/03/05", "14:07:09 Tue")])


def test_add_months_clamps_to_month_end(spark):
    df = spark.sql("SELECT add_months(DATE'2024-01-31', 1) AS a, add_months(DATE'2024-03-15', -3) AS b")
    assert_df(df, [("a", "date"), ("b", "date")], [(datetime.date(2024, 2, 29), datetime.date(2023, 12, 15))])


def test_datediff(spark):
    df = spark.range(1).select(F.datediff(lit(datetime.date(2024, 3, 1)), lit(datetime.date(2024, 2, 1))).alias("d"))
    assert_df(df, [("d", "int")], [(29,)])


def test_year_month_dayofmonth(spark):
    df = spark.range(1).select(
        F.year(lit(datetime.date(2023, 7, 9))).alias("y"),
        F.month(lit(datetime.date(2023, 7, 9))).alias("m"),
        F.dayofmonth(lit(datetime.date(2023, 7, 9))).alias("d"),
        F.dayofweek(lit(datetime.date(2023, 7, 9))).alias("w"),
        F.quarter(lit(datetime.date(2023, 7, 9))).alias("q"),
    )
    assert_df(df, [("y", "int"), ("m", "int"), ("d", "int"), ("w", "int"), ("q", "int")], [(2023, 7, 9, 1, 3)])


def test_current_date_and_timestamp_types(spark):
    df = spark.range(1).select(F.current_date().alias("d"), F.current_timestamp().alias("t"))
    assert_schema(df, [("d", "date"), ("t", "timestamp")])
    d, t = df.first()
    assert isinstance(d, datetime.date) and isinstance(t, datetime.datetime)
    assert abs((d - datetime.date.today()).days) <= 1


def test_date_add_date_sub(spark):
    df = spark.range(1).select(
        F.date_add(lit(datetime.date(2024, 2, 28)), 2).alias("a"),
        F.date_sub(lit(datetime.date(2024, 3, 1)), 1).alias("s"),
    )
    assert_df(df, [("a", "date"), ("s", "date")], [(datetime.date(2024, 3, 1), datetime.date(2024, 2, 29))])


def test_date_plus_interval_in_sql(spark):
    df = spark.sql("SELECT DATE'1998-12-01' - INTERVAL '90' DAY AS d, DATE'2024-01-31' + INTERVAL '1' MONTH AS m")
    assert_df(df, [("d", "date"), ("m", "date")], [(datetime.date(1998, 9, 2), datetime.date(2024, 2, 29))])


def test_interval_literals_are_typed_by_their_fields(spark):
    # (literal, Spark's type, Spark's text of the value)
    cases = [
        ("INTERVAL 1 YEAR", "interval year", "INTERVAL '1' YEAR"),
        ("INTERVAL 14 MONTHS", "interval month", "INTERVAL '14' MONTH"),
        ("INTERVAL 1 YEAR 2 MONTHS", "interval year to month", "INTERVAL '1-2' YEAR TO MONTH"),
        ("INTERVAL -'1-2' YEAR TO MONTH", "interval year to month", "INTERVAL '-1-2' YEAR TO MONTH"),
        ("INTERVAL 3 DAYS", "interval day", "INTERVAL '3' DAY"),
        ("INTERVAL 2 WEEKS 3 DAYS", "interval day", "INTERVAL '17' DAY"),
        ("INTERVAL 2 HOURS", "interval hour", "INTERVAL '02' HOUR"),
        ("INTERVAL 1 DAY -2 HOURS", "interval day to hour", "INTERVAL '0 22' DAY TO HOUR"),
        ("INTERVAL '1 day 2 hours'", "interval day to hour", "INTERVAL '1 02' DAY TO HOUR"),
        ("INTERVAL 1 SECOND 500 MILLISECONDS", "interval second", "INTERVAL '01.5' SECOND"),
        ("INTERVAL '1 02:03:04.5' DAY TO SECOND", "interval day to second", "INTERVAL '1 02:03:04.5' DAY TO SECOND"),
        ("INTERVAL '12:30' MINUTE TO SECOND", "interval minute to second", "INTERVAL '12:30' MINUTE TO SECOND"),
        ("- INTERVAL 3 DAYS", "interval day", "INTERVAL '-3' DAY"),
    ]
    for literal, spark_type, text in cases:
        row = spark.sql(f"SELECT typeof({literal}) AS t, CAST({literal} AS STRING) AS v").collect()[0]
        assert (row.t, row.v) == (spark_type, text), literal
    df = spark.sql("SELECT INTERVAL 3 DAYS AS d, INTERVAL 1 YEAR AS y")
    assert_schema(df, [("d", "interval day"), ("y", "interval year")])
    assert df.select("d").collect() == [Row(d=datetime.timedelta(days=3))]
    assert df.columns == ["d", "y"]
    assert spark.sql("SELECT INTERVAL 3 DAYS").columns == ["INTERVAL '3' DAY"]


def test_malformed_interval_literals_are_parse_errors(spark):
    from pyspark.errors import ParseException

    for literal, message in [
        ("INTERVAL 1 YEAR 2 DAYS", "Cannot mix year-month and day-time fields: INTERVAL 1 YEAR 2 DAYS."),
        ("INTERVAL '1-12' YEAR TO MONTH", "Error parsing '1-12' to interval."),
        ("INTERVAL '1 24' DAY TO HOUR", "requirement failed: hour 24 outside range [0, 23]."),
        ("INTERVAL 'abc' DAY", "but got invalid value: abc."),
    ]:
        with pytest.raises(ParseException) as ei:
            spark.sql(f"SELECT {literal}").collect()
        assert message in str(ei.value), literal
    with pytest.raises(PySparkException) as ei:
        spark.sql("SELECT INTERVAL 1.5 DAYS").collect()
    assert ei.value.getCondition() == "INVALID_INTERVAL_FORMAT.INVALID_FRACTION"


def test_interval_arithmetic(spark):
    df = spark.sql(
        """SELECT d + INTERVAL 36 HOURS AS ts, d - INTERVAL 2 DAYS AS day, d + INTERVAL 1 MONTH AS month,
                  DATE'2024-03-01' - d AS diff, INTERVAL 1 YEAR * 3 AS y3, INTERVAL 3 DAYS / 2 AS half,
                  2.5 * INTERVAL 1 MONTH AS m25, INTERVAL 1 DAY + INTERVAL 2 DAYS AS sum
           FROM VALUES (DATE'2024-01-31') AS t(d)"""
    )
    assert_schema(
        df,
        [
            ("ts", "timestamp"),
            ("day", "date"),
            ("month", "date"),
            ("diff", "interval day"),
            ("y3", "interval year to month"),
            ("half", "interval day to second"),
            ("m25", "interval year to month"),
            ("sum", "interval day"),
        ],
    )
    shown = df.select(*[F.col(c).cast("string") for c in df.columns]).collect()[0]
    assert tuple(shown) == (
        "2024-02-01 12:00:00",
        "2024-01-29",
        "2024-02-29",
        "INTERVAL '30' DAY",
        "INTERVAL '3-0' YEAR TO MONTH",
        "INTERVAL '1 12:00:00' DAY TO SECOND",
        "INTERVAL '0-3' YEAR TO MONTH",
        "INTERVAL '3' DAY",
    )
    with pytest.raises(PySparkException) as ei:
        spark.sql("SELECT INTERVAL 1 DAY / 0").collect()
    assert ei.value.getCondition() == "INTERVAL_DIVIDED_BY_ZERO"


def test_date_and_timedelta_columns(spark):
    df = spark.createDataFrame(
        [(datetime.date(2024, 1, 31), datetime.date(2024, 1, 1), datetime.timedelta(days=1, hours=2))],
        "a date, b date, td interval day to second",
    )
    out = df.select(
        (col("a") + col("td")).alias("moved"),
        (col("td") * 2).alias("twice"),
        (-col("td")).alias("neg"),
        (col("a") - col("b")).alias("diff"),
    )
    assert_df(
        out,
        [("moved", "timestamp"), ("twice", "interval day to second"), ("neg", "interval day to second"), ("diff", "interval day")],
        [
            (
                datetime.datetime(2024, 2, 1, 2, 0),
                datetime.timedelta(days=2, hours=4),
                -datetime.timedelta(days=1, hours=2),
                datetime.timedelta(days=30),
            )
        ],
    )


def test_make_ym_and_dt_intervals(spark):
    df = spark.sql("SELECT make_ym_interval(2, 14) AS ym, make_dt_interval(1, 25, 0, 1.25) AS dt, make_ym_interval() AS z")
    assert_schema(df, [("ym", "interval year to month"), ("dt", "interval day to second"), ("z", "interval year to month")])
    shown = df.select(*[F.col(c).cast("string") for c in df.columns]).collect()[0]
    assert tuple(shown) == ("INTERVAL '3-2' YEAR TO MONTH", "INTERVAL '2 01:00:01.25' DAY TO SECOND", "INTERVAL '0-0' YEAR TO MONTH")


def test_try_make_interval_is_null_on_overflow(spark):
    df = spark.sql(
        "SELECT CAST(try_make_interval(1, 2, 1, 1, 12) AS STRING) AS i, try_make_interval(2147483647, 1) IS NULL AS overflow"
    )
    assert df.collect() == [Row(i="1 years 2 months 8 days 12 hours", overflow=True)]


def test_to_timestamp_with_pattern(spark):
    df = spark.createDataFrame([("05/03/2024 13:45",)], "s string").select(F.to_timestamp("s", "dd/MM/yyyy HH:mm").alias("t"))
    assert_df(df, [("t", "timestamp")], [(datetime.datetime(2024, 3, 5, 13, 45),)])


def test_to_date_invalid_input_raises_in_ansi(spark):
    from pyspark.errors import DateTimeException

    df = spark.createDataFrame([("not a date",)], "s string").select(F.to_date("s", "yyyy-MM-dd"))
    with pytest.raises(DateTimeException) as ei:
        df.collect()
    assert ei.value.getCondition() == "CANNOT_PARSE_TIMESTAMP"


def test_hour_minute_second(spark):
    df = spark.sql("SELECT hour(TIMESTAMP'2024-01-01 13:14:15'), minute(TIMESTAMP'2024-01-01 13:14:15'), second(TIMESTAMP'2024-01-01 13:14:15')")
    assert_rows(df, [(13, 14, 15)])


def test_trunc_and_date_trunc(spark):
    df = spark.sql("SELECT trunc(DATE'2024-05-17', 'MM') AS a, date_trunc('year', TIMESTAMP'2024-05-17 10:00:00') AS b")
    assert_df(df, [("a", "date"), ("b", "timestamp")], [(datetime.date(2024, 5, 1), datetime.datetime(2024, 1, 1))])


def test_last_day_next_day_months_between(spark):
    df = spark.sql("SELECT last_day(DATE'2023-02-10'), next_day(DATE'2024-03-05', 'Mon'), months_between(DATE'2024-03-31', DATE'2024-02-29')")
    assert_rows(df, [(datetime.date(2023, 2, 28), datetime.date(2024, 3, 11), 1.0)])


def test_unix_timestamp_roundtrip_utc(spark):
    old = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    try:
        df = spark.sql("SELECT unix_timestamp(TIMESTAMP'1970-01-02 00:00:00') AS u, from_unixtime(86400) AS f")
        assert_df(df, [("u", "bigint"), ("f", "string")], [(86400, "1970-01-02 00:00:00")])
    finally:
        spark.conf.set("spark.sql.session.timeZone", old)


# ---------------------------------------------------------------- nested data


@pytest.fixture(scope="module")
def nested(spark):
    return spark.createDataFrame(
        [(1, (10, "x"), [1, 2, 3], {"k": 1, "j": 2}), (2, (20, "y"), [], {})],
        "id int, s struct<a:int,b:string>, arr array<int>, m map<string,int>",
    )


def test_struct_field_dot_access(nested):
    assert_df(nested.select(col("s.a")), [("a", "int")], [(10,), (20,)])


def test_struct_get_field(nested):
    assert_rows(nested.select(col("s").getField("b")), [("x",), ("y",)])


def test_struct_star_expansion(nested):
    assert nested.select("s.*").columns == ["a", "b"]


def test_array_index_and_get_item(nested):
    df = nested.where("id = 1").select(col("arr")[0].alias("first"), col("arr").getItem(2).alias("third"))
    assert_df(df, [("first", "int"), ("third", "int")], [(1, 3)])


def test_array_index_out_of_bounds_raises_in_ansi(nested):
    from pyspark.errors import ArrayIndexOutOfBoundsException

    with pytest.raises(ArrayIndexOutOfBoundsException) as ei:
        nested.where("id = 2").select(col("arr")[0]).collect()
    assert ei.value.getCondition() == "INVALID_ARRAY_INDEX"


def test_try_element_at_out_of_bounds_is_null(spark):
    assert_rows(spark.sql("SELECT try_element_at(array(1, 2), 5), get(array(1, 2), 5)"), [(None, None)])


def test_element_at_out_of_bounds_raises_in_ansi(spark):
    from pyspark.errors import ArrayIndexOutOfBoundsException

    with pytest.raises(ArrayIndexOutOfBoundsException) as ei:
        spark.sql("SELECT element_at(array(1, 2), 5)").collect()
    assert ei.value.getCondition() == "INVALID_ARRAY_INDEX_IN_ELEMENT_AT"


def test_sql_array_subscript_is_zero_based(spark):
    df = spark.sql("SELECT array(1, 2)[0] AS a, array(array(1, 2), array(3))[1][0] AS b, map('k', 7)['k'] AS c")
    assert_rows(df, [(1, 3, 7)])


def test_sql_subscripts_are_named_as_spark_names_them(spark):
    df = spark.sql("SELECT array(1, 2)[0], map('a', 1)['a'], named_struct('x', 1).x")
    assert df.columns == ["array(1, 2)[0]", "map(a, 1)[a]", "named_struct(x, 1).x"]


def test_element_at_in_sql(spark):
    df = spark.sql(
        "SELECT element_at(array(1, 2), -1) AS a, element_at(map('a', 1), 'a') AS b, element_at(map('a', 1), 'z') AS c"
    )
    assert_df(df, [("a", "int"), ("b", "int"), ("c", "int")], [(2, 1, None)])


def test_element_at_zero_is_invalid(spark):
    with pytest.raises(PySparkException) as ei:
        spark.sql("SELECT element_at(array(1, 2), 0)").collect()
    assert ei.value.getCondition() == "INVALID_INDEX_OF_ZERO"


def test_array_index_out_of_bounds_is_null_without_ansi(spark, nested):
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        assert_rows(spark.sql("SELECT array(1, 2)[5] AS a, element_at(array(1, 2), -3) AS b"), [(None, None)])
        assert_rows(nested.where("id = 1").select(col("arr")[-1]), [(None,)])
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")


def test_map_access(nested):
    df = nested.select(col("m")["k"].alias("k"), col("m").getItem("zz").alias("missing"))
    assert_df(df, [("k", "int"), ("missing", "int")], [(1, None), (None, None)])


def test_map_keys_values(nested):
    df = nested.where("id = 1").select(F.sort_array(F.map_keys("m")), F.sort_array(F.map_values("m")))
    assert_rows(df, [(["j", "k"], [1, 2])])


def test_explode(nested):
    df = nested.select("id", F.explode("arr").alias("v"))
    assert_df(df, [("id", "int"), ("v", "int")], [(1, 1), (1, 2), (1, 3)])


def test_explode_outer_keeps_empty(nested):
    assert_rows(nested.select("id", F.explode_outer("arr")), [(1, 1), (1, 2), (1, 3), (2, None)])


def test_explode_map(nested):
    df = nested.where("id = 1").select(F.explode("m"))
    assert df.columns == ["key", "value"]
    assert_rows(df, [("j", 2), ("k", 1)])


def test_posexplode(nested):
    df = nested.where("id = 1").select(F.posexplode("arr"))
    assert df.columns == ["pos", "col"]
    assert_rows(df, [(0, 1), (1, 2), (2, 3)])


def test_posexplode_outer_and_map(nested):
    df = nested.select("id", F.posexplode_outer("arr").alias("p", "v"))
    assert_df(df, [("id", "int"), ("p", "int"), ("v", "int")], [(1, 0, 1), (1, 1, 2), (1, 2, 3), (2, None, None)])
    df = nested.where("id = 1").select(F.posexplode("m"))
    assert df.columns == ["pos", "key", "value"]
    assert_rows(df, [(0, "k", 1), (1, "j", 2)])


def test_inline_spreads_struct_fields(spark):
    df = spark.createDataFrame([(1, [(1, "a"), (2, "b")]), (2, None)], "id int, st array<struct<x:int,y:string>>")
    assert_df(df.select("id", F.inline("st")), [("id", "int"), ("x", "int"), ("y", "string")], [(1, 1, "a"), (1, 2, "b")])
    assert_rows(df.select("id", F.inline_outer("st")), [(1, 1, "a"), (1, 2, "b"), (2, None, None)])


def test_generator_alias_count_must_match(nested):
    with pytest.raises(AnalysisException) as ei:
        nested.select(F.explode("m").alias("only_one")).collect()
    assert ei.value.getCondition() == "UDTF_ALIAS_NUMBER_MISMATCH"


def test_with_column_explode_takes_the_name(nested):
    df = nested.withColumn("e", F.explode("arr")).select("id", "e")
    assert_df(df, [("id", "int"), ("e", "int")], [(1, 1), (1, 2), (1, 3)])


def test_generators_in_sql(spark):
    assert_df(spark.sql("SELECT explode(array(1, 2)), 5"), [("col", "int"), ("5", "int")], [(1, 5), (2, 5)])
    assert_df(spark.sql("SELECT posexplode(array('a', 'b'))"), [("pos", "int"), ("col", "string")], [(0, "a"), (1, "b")])
    assert_df(spark.sql("SELECT explode(map('a', 1))"), [("key", "string"), ("value", "int")], [("a", 1)])
    df = spark.sql("SELECT inline(array(struct(1 AS a, 'x' AS b)))")
    assert_df(df, [("a", "int"), ("b", "string")], [(1, "x")])
    df = spark.sql("SELECT v FROM (SELECT explode(array(1, 2, 3)) AS v) WHERE v > 1")
    assert_rows(df, [(2,), (3,)])


def test_size(nested):
    df = nested.select(F.size("arr").alias("n"), F.size("m").alias("k"))
    assert_df(df, [("n", "int"), ("k", "int")], [(3, 2), (0, 0)])


def test_array_contains(nested):
    assert_rows(nested.select(F.array_contains("arr", 2)), [(True,), (False,)])


def test_array_functions(spark):
    df = spark.sql(
        "SELECT array_distinct(array(1, 2, 2, 3)), array_union(array(1, 2), array(2, 3)), "
        "array_intersect(array(1, 2), array(2, 3)), array_except(array(1, 2), array(2)), "
        "array_join(array('a', 'b'), '-'), array_max(array(3, 9, 1)), flatten(array(array(1), array(2, 3))), "
        "slice(array(1, 2, 3, 4), 2, 2), array_position(array(5, 6), 6), sequence(1, 5, 2)"
    )
    assert_rows(df, [([1, 2, 3], [1, 2, 3], [2], [1], "a-b", 9, [1, 2, 3], [2, 3], 2, [1, 3, 5])])


def test_struct_construction_and_named_struct(spark):
    df = spark.sql("SELECT named_struct('x', 1, 'y', 'a') AS s, struct(1 AS p, 2 AS q).q AS q")
    assert_df(df, [("s", "struct<x:int,y:string>"), ("q", "int")], [((1, "a"), 2)])


def test_with_field_and_drop_fields(nested):
    df = nested.where("id = 1").select(col("s").withField("c", lit(True)).dropFields("a").alias("s2"))
    assert_df(df, [("s2", "struct<b:string,c:boolean>")], [(("x", True),)])


def test_row_struct_result_is_row(nested):
    r = nested.where("id = 1").select("s").first()
    assert r.s == Row(a=10, b="x")
    assert r.s.b == "x"


def test_map_from_arrays_and_str_to_map(spark):
    df = spark.sql("SELECT map_from_arrays(array('a', 'b'), array(1, 2)) AS m, str_to_map('a:1,b:2') AS s")
    assert_df(df, [("m", "map<string,int>"), ("s", "map<string,string>")], [({"a": 1, "b": 2}, {"a": "1", "b": "2"})])


# ---------------------------------------------------------------- higher-order functions


def test_transform(nested):
    df = nested.select(F.transform("arr", lambda x: x * 10).alias("t"))
    assert_df(df, [("t", "array<int>")], [([10, 20, 30],), ([],)])


def test_zip_with_pads_the_shorter_array_with_nulls(spark):
    df = spark.createDataFrame([([1, 2], [3], 10), ([5], [6, 7], 100), (None, [1], 0)], "a array<int>, b array<int>, k int")
    got = df.select(F.zip_with("a", "b", lambda x, y: F.coalesce(x * y, lit(-1)) + F.col("k")).alias("z"))
    assert_df(got, [("z", "array<int>")], [([13, 9], ), ([130, 99],), (None,)])
    sql = spark.sql("SELECT zip_with(array(1, 2, 3), array('a'), (x, y) -> concat(CAST(x AS STRING), coalesce(y, '-')))")
    assert rows_of(sql) == [(["1a", "2-", "3-"],)]


def test_sql_exists_and_forall_with_lambdas(spark):
    df = spark.sql(
        "SELECT exists(array(1, 2, 3), x -> x > 2) a, forall(array(1, 2), x -> x > 0) b, "
        "exists(array(1, NULL), x -> x > 1) c, forall(array(1, NULL), x -> x > 0) d, forall(array(0, NULL), x -> x > 0) e, "
        "exists(CAST(NULL AS ARRAY<INT>), x -> x > 1) f"
    )
    assert rows_of(df) == [(True, True, None, None, False, None)]
    assert spark.sql("SELECT exists(array(1), x -> x > 0)").columns == [
        "exists(array(1), lambdafunction((namedlambdavariable() > 0), namedlambdavariable()))"
    ]
    # Columns captured by the lambda, and EXISTS (subquery) unchanged.
    captured = spark.sql("SELECT exists(a, x -> x > k) FROM VALUES (array(1, 5), 3), (array(1), 3) AS t(a, k)")
    assert rows_of(captured) == [(True,), (False,)]
    assert rows_of(spark.sql("SELECT 1 WHERE EXISTS (SELECT 1) AND NOT EXISTS (SELECT 1 WHERE false)")) == [(1,)]


def test_transform_with_index(spark):
    df = spark.range(1).select(F.transform(F.array(lit(5), lit(6)), lambda x, i: x + i).alias("t"))
    assert_rows(df, [([5, 7],)])


def test_filter_hof(nested):
    assert_rows(nested.select(F.filter("arr", lambda x: x % 2 == 1)), [([1, 3],), ([],)])


def test_aggregate_hof(nested):
    df = nested.select(F.aggregate("arr", lit(0), lambda acc, x: acc + x).alias("s"))
    assert_df(df, [("s", "int")], [(6,), (0,)])


def test_aggregate_hof_with_finish(spark):
    df = spark.range(1).select(
        F.aggregate(F.array(lit(1.0), lit(2.0)), lit(0.0), lambda a, x: a + x, lambda a: a / 2).alias("r")
    )
    assert_rows(df, [(1.5,)])


def test_aggregate_with_a_struct_accumulator(spark):
    # The merge and finish lambdas reach into the accumulator's fields.
    df = spark.createDataFrame([([20.0, 4.0, 2.0, 6.0, 10.0],), (None,)], "values array<double>")

    def merge(acc, x):
        return F.struct((acc["count"] + 1).alias("count"), (acc.sum + x).alias("sum"))

    zero = F.struct(lit(0).alias("count"), lit(0.0).alias("sum"))
    got = df.select(F.aggregate("values", zero, merge, lambda acc: acc.sum / acc["count"]).alias("mean"))
    assert_df(got, [("mean", "double")], [(8.4,), (None,)])
    sql = spark.sql(
        "SELECT aggregate(array(1.0D, 2.0D), named_struct('c', 0, 's', 0.0D), "
        "(acc, x) -> named_struct('c', acc.c + 1, 's', acc.s + x), acc -> acc.s / acc.c) AS m"
    )
    assert_rows(sql, [(1.5,)])


def test_exists_and_forall(nested):
    df = nested.select(F.exists("arr", lambda x: x > 2).alias("e"), F.forall("arr", lambda x: x > 0).alias("f"))
    assert_df(df, [("e", "boolean"), ("f", "boolean")], [(True, True), (False, True)])


def test_exists_and_forall_with_null_elements(spark):
    # Spark's three-valued answers: a NULL from the predicate makes the
    # answer NULL unless some element decides it.
    arr = F.array(lit(1), lit(None).cast("int"), lit(3))
    df = spark.range(1).select(
        F.exists(arr, lambda x: x > 5).alias("e_null"),
        F.exists(arr, lambda x: x > 2).alias("e_true"),
        F.forall(arr, lambda x: x > 0).alias("f_null"),
        F.forall(arr, lambda x: x > 2).alias("f_false"),
        F.transform(arr, lambda x: F.coalesce(x, lit(0)) + 1).alias("t"),
        F.filter(arr, lambda x: x.isNotNull()).alias("nn"),
    )
    assert_rows(df, [(None, True, None, False, [2, 1, 4], [1, 3])])


def test_hof_in_sql(spark):
    df = spark.sql("SELECT transform(array(1, 2), x -> x + 1), filter(array(1, 2, 3), x -> x > 1), aggregate(array(1, 2, 3), 0, (a, x) -> a + x)")
    assert_rows(df, [([2, 3], [2, 3], 6)])


def test_aggregate_over_null_arrays_and_elements(spark):
    df = spark.createDataFrame([([1, 2, 3], 10), ([1, None], 10), (None, 10), ([], 10)], "arr array<int>, k int")
    out = df.select(F.aggregate("arr", F.col("k"), lambda acc, x: acc + x * 2).alias("s"))
    assert_df(out, [("s", "int")], [(22,), (None,), (None,), (10,)])


def test_lambdas_see_the_row_they_run_on(spark):
    df = spark.createDataFrame([([1, 2], 10), ([3], 100), ([], 5)], "arr array<int>, k int")
    out = df.select(
        F.transform("arr", lambda x, i: x * F.col("k") + i).alias("t"),
        F.aggregate("arr", F.lit(0), lambda acc, x: acc + x + F.col("k"), lambda acc: acc * 2).alias("a"),
    )
    assert_rows(out, [([10, 21], 46), ([300], 206), ([], 0)])


def test_lambdas_in_sql(spark):
    df = spark.sql(
        "SELECT transform(array(1, 2), x -> x + 1), aggregate(array(1, 2, 3), 0, (a, x) -> a + x), "
        "transform(array(array(1), array(2, 3)), a -> transform(a, b -> b * 10)) AS nested"
    )
    assert df.columns == [
        "transform(array(1, 2), lambdafunction((namedlambdavariable() + 1), namedlambdavariable()))",
        "aggregate(array(1, 2, 3), 0, lambdafunction((namedlambdavariable() + namedlambdavariable()), "
        "namedlambdavariable(), namedlambdavariable()), lambdafunction(namedlambdavariable(), namedlambdavariable()))",
        "nested",
    ]
    assert_df(
        df,
        [(df.columns[0], "array<int>"), (df.columns[1], "int"), ("nested", "array<array<int>>")],
        [([2, 3], 6, [[10], [20, 30]])],
    )


# ---------------------------------------------------------------- selectExpr / expr / names


def test_select_expr(nums):
    df = nums.selectExpr("a * 2 AS dbl", "b", "a > b AS gt", "cast(x AS int) AS xi")
    assert_df(df, [("dbl", "int"), ("b", "int"), ("gt", "boolean"), ("xi", "int")], [(14, 2, True, 7)])


def test_expr_function(nums):
    df = nums.select(F.expr("a + b").alias("s"), F.expr("upper('q')"))
    assert df.columns == ["s", "upper(q)"]
    assert_rows(df, [(9, "Q")])


def test_expr_in_filter_and_with_column(nums):
    df = nums.withColumn("c", F.expr("CASE WHEN a > 5 THEN 'big' ELSE 'small' END")).where(F.expr("b = 2"))
    assert_rows(df.select("c"), [("big",)])


def test_case_insensitive_column_names(spark):
    df = spark.createDataFrame([(1, "x")], "id int, name string")
    out = df.select("NAME", col("Id"))
    assert out.columns == ["NAME", "Id"]
    assert_rows(out, [("x", 1)])


def test_case_insensitive_in_filter_and_sql_expr(spark):
    df = spark.createDataFrame([(1, "x"), (2, "y")], "id int, name string")
    assert_rows(df.where("ID = 2").select("Name"), [("y",)])


def test_backtick_quoted_names(spark):
    df = spark.createDataFrame([(1, 2)], "`a b` int, `c.d` int")
    assert df.columns == ["a b", "c.d"]
    assert_rows(df.select(col("`a b`"), col("`c.d`")), [(1, 2)])
    assert_rows(df.selectExpr("`a b` + `c.d`"), [(3,)])


def test_col_with_unknown_name_fails(spark):
    with pytest.raises(AnalysisException) as ei:
        spark.range(1).select("nope").collect()
    assert ei.value.getCondition() == "UNRESOLVED_COLUMN.WITH_SUGGESTION"


def test_column_alias_with_metadata_name(spark):
    df = spark.range(3).select(col("id").alias("x"), col("id").name("y"))
    assert df.columns == ["x", "y"]


def test_hash_matches_spark_across_types(spark):
    # Values from Apache Spark 4.2 (Murmur3, seed 42).
    df = spark.sql(
        "SELECT hash(1), hash(CAST(1 AS BIGINT)), hash(true), hash(NULL), hash(1, 'a', NULL, 2.5D), hash(-0.0D), "
        "hash(DATE'2024-01-02'), hash(1.25), hash(CAST(-1 AS DECIMAL(25, 0))), hash(array(1, 2, NULL)), "
        "hash(struct(1 AS a, 'x' AS b)), hash('héllo wörld!')"
    )
    expected = (-559580957, -1712319331, -559580957, 42, 389417474, -1670924195, -21057580, 1910520950,
                1398487324, -222940379, -1305545736, -1532567133)
    assert_rows(df, [expected])
    assert_schema(df.select(df.columns[0]), [("hash(1)", "int")])


def test_hash_of_map_is_rejected(spark):
    with pytest.raises(AnalysisException) as ei:
        spark.sql("SELECT hash(map('a', 1))").collect()
    assert ei.value.getCondition() == "DATATYPE_MISMATCH.HASH_MAP_TYPE"


def test_sequence(spark):
    df = spark.sql(
        "SELECT sequence(5, 1), sequence(1, 1, 0), sequence(CAST(1 AS BIGINT), 3), sequence(NULL, 3), "
        "sequence(DATE'2024-01-03', DATE'2024-01-01'), sequence(DATE'2024-01-01', DATE'2024-03-03', INTERVAL 1 MONTH)"
    )
    assert [t for _, t in df.dtypes] == ["array<int>", "array<int>", "array<bigint>", "array<int>", "array<date>", "array<date>"]
    d = datetime.date
    assert_rows(df, [([5, 4, 3, 2, 1], [1], [1, 2, 3], None, [d(2024, 1, 3), d(2024, 1, 2), d(2024, 1, 1)],
                      [d(2024, 1, 1), d(2024, 2, 1), d(2024, 3, 1)])])


def test_sequence_of_dates_and_timestamps_by_day_time_intervals(spark):
    df = spark.sql(
        "SELECT sequence(DATE'2024-01-01', DATE'2024-01-03', INTERVAL 1 DAY) AS d, "
        "sequence(TIMESTAMP'2024-01-01 00:00:00', TIMESTAMP'2024-01-01 02:00:00', INTERVAL 1 HOUR) AS t"
    )
    d, t = datetime.date, datetime.datetime
    assert_df(
        df,
        [("d", "array<date>"), ("t", "array<timestamp>")],
        [([d(2024, 1, 1), d(2024, 1, 2), d(2024, 1, 3)], [t(2024, 1, 1, 0), t(2024, 1, 1, 1), t(2024, 1, 1, 2)])],
    )


def test_sequence_step_away_from_stop_raises(spark):
    from pyspark.errors import IllegalArgumentException

    for q in ["SELECT sequence(1, 5, -1)", "SELECT sequence(5, 1, 1)"]:
        with pytest.raises(IllegalArgumentException) as ei:
            spark.sql(q).collect()
        assert "Illegal sequence boundaries" in str(ei.value)
    assert_rows(spark.sql("SELECT sequence(5, 1, -2), sequence(1, 5, 2)"), [([5, 3, 1], [1, 3, 5])])


def test_typeof_names_spark_types(spark):
    df = spark.sql(
        "SELECT typeof(1) AS a, typeof('x') AS b, typeof(1.5) AS c, typeof(array(1)) AS d, "
        "typeof(map('k', 1.0D)) AS e, typeof(named_struct('f', 1)) AS f, typeof(NULL) AS g, typeof(DATE'2024-01-01') AS h"
    )
    assert_rows(df, [("int", "string", "decimal(2,1)", "array<int>", "map<string,double>", "struct<f:int>", "void", "date")])
    assert_rows(spark.range(1).select(F.typeof(col("id"))), [("bigint",)])


def test_hash_functions_are_stable(spark):
    df = spark.sql("SELECT md5('abc'), sha1('abc'), crc32('abc'), hash('abc')")
    assert_rows(
        df,
        [("900150983cd24fb0d6963f7d28e17f72", "a9993e364706816aba3e25717850c26c9cd0d89d", 891568578, 1322437556)],
    )


def test_base64_and_hex(spark):
    assert_rows(spark.sql("SELECT base64('hi'), hex('hi'), unhex('6869'), hex(255)"), [("aGk=", "6869", bytearray(b"hi"), "FF")])


def test_bitwise_ops(spark):
    df = spark.range(1).select(lit(12).bitwiseAND(10), lit(12).bitwiseOR(3), lit(12).bitwiseXOR(10), F.shiftleft(lit(1), 4))
    assert_rows(df, [(8, 15, 6, 16)])


def test_monotonically_increasing_id_unique(spark):
    ids = [r[0] for r in spark.range(50).repartition(3).select(F.monotonically_increasing_id()).collect()]
    assert len(set(ids)) == 50


def test_rounding_and_number_formats_follow_spark(spark):
    df = spark.sql(
        "SELECT bround(2.675D, 2) a, bround(25, -1) b, bround(-2.5D) c, format_number(-0.001D, 2) d, "
        "format_number(1234.5D, 0) e, format_number(12, 2) f, format_number(CAST(1234567.125 AS DECIMAL(10,3)), 2) g"
    )
    assert_df(
        df,
        [("a", "double"), ("b", "int"), ("c", "double"), ("d", "string"), ("e", "string"), ("f", "string"), ("g", "string")],
        [(2.68, 20, -2.0, "-0.00", "1,234", "12.00", "1,234,567.12")],
    )


def test_months_between_fractions_and_strings(spark):
    df = spark.sql(
        "SELECT months_between(TIMESTAMP'1997-02-28 10:30:00', DATE'1996-10-30') a, "
        "months_between(DATE'2024-01-15', DATE'2024-03-15') b, "
        "months_between(TIMESTAMP'1997-02-28 10:30:00', DATE'1996-10-30', false) c, "
        "months_between('2024-03-31', '2024-02-29') d"
    )
    assert_rows(df, [(3.94959677, -2.0, 3.9495967741935485, 1.0)])


def test_regexp_extract_and_locate_edges(spark):
    df = spark.sql(
        r"SELECT regexp_extract('abc', 'x(\\d)', 1) a, regexp_extract('a1b2', '([a-z])(\\d)', 0) b, "
        r"regexp_extract('a1', '([a-z])(\\d)?', 2) c, locate('b', 'abcb', 3) d, locate('b', 'abcb', 0) e, "
        "position('c', 'abc') f, locate('z', 'abc') g"
    )
    assert_df(
        df,
        [("a", "string"), ("b", "string"), ("c", "string"), ("d", "int"), ("e", "int"), ("f", "int"), ("g", "int")],
        [("", "a1", "1", 4, 0, 3, 0)],
    )


def test_sort_array_null_placement(spark):
    df = spark.sql("SELECT sort_array(array(3, NULL, 1), false) a, sort_array(array(3, NULL, 1)) b, array_sort(array(3, NULL, 1)) c")
    assert_rows(df, [([3, 1, None], [None, 1, 3], [1, 3, None])])


def test_max_by_skips_null_orderings_but_keeps_null_values(spark):
    df = spark.sql("SELECT max_by(x, y) a, min_by(x, y) b FROM VALUES ('a', 1), ('b', NULL), ('c', 5), (NULL, 7) AS t(x, y)")
    assert_df(df, [("a", "string"), ("b", "string")], [(None, "a")])


def test_date_functions_take_date_strings(spark):
    # Spark casts a string (or timestamp) where a date goes, and a day count to int.
    df = spark.sql(
        "SELECT date_add('2015-04-08', 1) a, date_sub('2015-04-08', '1') b, last_day('2015-04-08') c, "
        "next_day('2015-01-14', 'TU') d, weekday('2015-04-08') e, monthname('2015-04-08') f, "
        "datediff('2015-04-08', '2015-04-01') g, date_add(TIMESTAMP'2015-04-08 23:00:00', 1) h"
    )
    d = datetime.date
    assert_df(
        df,
        [("a", "date"), ("b", "date"), ("c", "date"), ("d", "date"), ("e", "int"), ("f", "string"), ("g", "int"), ("h", "date")],
        [(d(2015, 4, 9), d(2015, 4, 7), d(2015, 4, 30), d(2015, 1, 20), 2, "Apr", 7, d(2015, 4, 9))],
    )
    strings = spark.createDataFrame([("2015-04-08",)], "s string")
    got = strings.select(F.date_add("s", 1), F.dayname("s"), F.last_day(strings.s))
    assert_df(
        got,
        [("date_add(s, 1)", "date"), ("dayname(s)", "string"), ("last_day(s)", "date")],
        [(d(2015, 4, 9), "Wed", d(2015, 4, 30))],
    )
    with pytest.raises(Exception) as e:
        spark.sql("SELECT date_add('x', 1)").collect()
    assert "CAST_INVALID_INPUT" in str(e.value)


def test_functions_spelled_as_other_expressions(spark):
    df = spark.sql(
        "SELECT int('7') a, float('NaN') b, date('2024-01-02') c, decimal('1.5') d, zeroifnull(NULL) e, "
        "nullifzero(0) f, regexp_substr('1a 2b 14m', '[0-9]+') g, date_from_unix_date(1) h, "
        "unix_date(DATE'1970-01-03') i, current_database() j, current_catalog() k"
    )
    row = df.first()
    assert [t for _, t in df.dtypes] == [
        "int", "float", "date", "decimal(10,0)", "int", "int", "string", "date", "int", "string", "string"
    ]
    assert row.a == 7 and row.b != row.b and row.c == datetime.date(2024, 1, 2) and row.d == decimal.Decimal(2)
    assert (row.e, row.f, row.g) == (0, None, "1")
    assert (row.h, row.i, row.j, row.k) == (datetime.date(1970, 1, 2), 2, "default", "spark_catalog")
    assert_df(spark.range(1).select(F.e()), [("E()", "double")], [(2.718281828459045,)])


def test_count_if(spark):
    df = spark.createDataFrame([(1, "a"), (2, "a"), (3, "b"), (None, "b")], "x int, g string")
    assert_df(df.select(F.count_if(df.x > 1)), [("count_if((x > 1))", "bigint")], [(2,)])
    got = spark.sql("SELECT g, count_if(x > 1) AS n FROM VALUES (1, 'a'), (2, 'a'), (NULL, 'b') AS t(x, g) GROUP BY g ORDER BY g")
    assert_df(got, [("g", "string"), ("n", "bigint")], [("a", 1), ("b", 0)])


def test_from_json_and_to_json(spark):
    from pyspark.sql.types import ArrayType, IntegerType, LongType, StructField, StructType

    df = spark.createDataFrame([(1, '{"a": 1, "b": [1, 2]}'), (2, None), (3, "oops"), (4, '{"a": "x"}')], "k int, j string")
    schema = StructType([StructField("a", IntegerType()), StructField("b", ArrayType(LongType()))])
    parsed = df.select(F.from_json("j", schema).alias("p"))
    # NULL stays NULL; a record that does not parse or fit is a struct of NULLs.
    assert_df(
        parsed,
        [("p", "struct<a:int,b:array<bigint>>")],
        [(Row(a=1, b=[1, 2]),), (None,), (Row(a=None, b=None),), (Row(a=None, b=None),)],
    )
    assert df.select(F.from_json(df.j, "a INT, b ARRAY<BIGINT>")).columns == ["from_json(j)"]
    got = df.select(F.to_json(F.from_json("j", schema)).alias("t"), F.to_json(F.struct("k", "j")).alias("u"))
    assert [tuple(r) for r in got.collect()] == [
        ('{"a":1,"b":[1,2]}', '{"k":1,"j":"{\\"a\\": 1, \\"b\\": [1, 2]}"}'),
        (None, '{"k":2}'),
        ("{}", '{"k":3,"j":"oops"}'),
        ("{}", '{"k":4,"j":"{\\"a\\": \\"x\\"}"}'),
    ]
    sql = spark.sql(
        "SELECT to_json(named_struct('a', 1, 'b', CAST(NULL AS STRING), 'c', 1.5D, 'd', DATE'2015-01-01', "
        "'f', array(1, 2), 'g', map('k', 1), 'h', 1.50BD)) a, from_json('[1,2]', 'array<int>') b, "
        "from_json('{\"m\": 1}', 'map<string,int>') c"
    )
    assert_rows(sql, [('{"a":1,"c":1.5,"d":"2015-01-01","f":[1,2],"g":{"k":1},"h":1.50}', [1, 2], {"m": 1})])
    # An array or map that does not read is NULL, not empty.
    bad = spark.sql("SELECT from_json('oops', 'array<int>') a, from_json('null', 'map<string,int>') b")
    assert_rows(bad, [(None, None)])


def test_from_json_with_an_array_schema_object(spark):
    from pyspark.sql.types import ArrayType, IntegerType, StructField, StructType

    df = spark.createDataFrame([('[{"a": 1}, {"a": null}]',), ("[1, 2]",), ("oops",)], "value string")
    schema = ArrayType(StructType([StructField("a", IntegerType())]))
    got = df.select(F.from_json(df.value, schema).alias("json"))
    assert_df(got, [("json", "array<struct<a:int>>")], [([Row(a=1), Row(a=None)],), (None,), (None,)])
    ints = df.select(F.from_json(df.value, ArrayType(IntegerType())).alias("json"))
    assert_rows(ints, [(None,), ([1, 2],), (None,)])


def test_to_json_and_to_csv_take_date_and_timestamp_patterns(spark):
    df = spark.sql(
        "SELECT named_struct('d', DATE'2022-02-22', 't', TIMESTAMP'2022-02-22 10:11:12.5', "
        "'n', TIMESTAMP_NTZ'2022-02-22 10:11:12') AS s"
    )
    opts = {"dateFormat": "yyyy/MM/dd", "timestampFormat": "dd.MM.yyyy HH:mm", "timestampNTZFormat": "HH:mm"}
    got = df.select(F.to_json("s"), F.to_json("s", opts), F.to_csv("s"), F.to_csv("s", opts))
    assert got.columns == ["to_json(s)", "to_json(s)", "to_csv(s)", "to_csv(s)"]
    assert_rows(
        got,
        [
            (
                '{"d":"2022-02-22","t":"2022-02-22T10:11:12.500Z","n":"2022-02-22T10:11:12.000"}',
                '{"d":"2022/02/22","t":"22.02.2022 10:11","n":"10:11"}',
                "2022-02-22,2022-02-22T10:11:12.500Z,2022-02-22T10:11:12.000",
                "2022/02/22,22.02.2022 10:11,10:11",
            )
        ],
    )


def test_sql_tuples_are_structs(spark):
    df = spark.sql("SELECT (DATE'2022-02-22', 1) AS d, (x + 1, y) AS t FROM VALUES (1, 2) AS v(x, y)")
    assert_df(df, [("d", "struct<col1:date,col2:int>"), ("t", "struct<col1:int,y:int>")], [(Row(col1=datetime.date(2022, 2, 22), col2=1), Row(col1=2, y=2))])
    # Tuples in IN lists and comparisons compare field by field, as they did.
    inlist = spark.sql("SELECT x FROM VALUES (1, 2), (3, 4) AS v(x, y) WHERE (x, y) IN ((1, 2), (5, 6))")
    assert_rows(inlist, [(1,)])
    assert_rows(spark.sql("SELECT x FROM VALUES (1, 2), (3, 4) AS v(x, y) WHERE (x, y) = (3, 4)"), [(3,)])


def test_json_paths_and_schema(spark):
    df = spark.createDataFrame([('{"a": {"b": [1, {"c": "x"}]}, "d": null}',), ("bad",)], "j string")
    got = df.select(
        F.get_json_object("j", "$.a.b[1].c").alias("c"),
        F.get_json_object("j", "$.a").alias("a"),
        F.get_json_object("j", "$.d").alias("d"),
        F.json_array_length(F.get_json_object("j", "$.a.b")).alias("n"),
        F.json_object_keys("j").alias("k"),
    )
    assert_rows(got, [("x", '{"b":[1,{"c":"x"}]}', None, 2, ["a", "d"]), (None, None, None, None, None)])
    schema = spark.range(1).select(F.schema_of_json(F.lit('{"x": [1], "e": true, "f": null}')).alias("s"))
    assert_rows(schema, [("STRUCT<e: BOOLEAN, f: STRING, x: ARRAY<BIGINT>>",)])
    inferred = spark.createDataFrame([('{"a": 5}',)], "j string").select(F.from_json("j", F.schema_of_json(F.lit('{"a": 1}'))))
    assert_df(inferred, [("from_json(j)", "struct<a:bigint>")], [(Row(a=5),)])


def test_from_csv_reads_one_record_per_string(spark):
    rows = [("1,2.5,x",), ("1,x,3",), ("1",), ("1,2,3,4",), (None,), ('"a,b",2,',), (" 4,5 ,6",), ("",)]
    df = spark.createDataFrame(rows, "v string")
    got = df.select(F.from_csv("v", "a STRING, b INT, c DOUBLE"))
    # Tokens that do not convert and missing tokens are NULL (PERMISSIVE);
    # ints keep their blanks (and fail), doubles are read as Java reads them.
    assert_df(
        got,
        [("from_csv(v)", "struct<a:string,b:int,c:double>")],
        [
            (Row(a="1", b=None, c=None),),
            (Row(a="1", b=None, c=3.0),),
            (Row(a="1", b=None, c=None),),
            (Row(a="1", b=2, c=3.0),),
            (None,),
            (Row(a="a,b", b=2, c=None),),
            (Row(a=" 4", b=None, c=6.0),),
            (Row(a=None, b=None, c=None),),
        ],
    )
    typed = spark.createDataFrame([("02/01/2020;2020-01-02 03:04:05;TRUE;1e3;NA",)], "v string").select(
        F.from_csv("v", "d DATE, t TIMESTAMP, b BOOLEAN, x DECIMAL(10,2), s STRING", {"sep": ";", "dateFormat": "dd/MM/yyyy", "nullValue": "NA"}).alias("r")
    )
    assert_rows(
        typed.select("r.*"),
        [(datetime.date(2020, 1, 2), datetime.datetime(2020, 1, 2, 3, 4, 5), True, D("1000.00"), None)],
    )
    sql = spark.sql("SELECT from_csv('1;2', 'a INT, b INT', map('sep', ';')) AS r, from_csv('7,x', schema_of_csv('1,a')) AS s")
    assert_df(sql, [("r", "struct<a:int,b:int>"), ("s", "struct<_c0:int,_c1:string>")], [(Row(a=1, b=2), Row(_c0=7, _c1="x"))])
    inferred = df.limit(1).select(F.from_csv("v", F.schema_of_csv("1,2.5,x")).alias("r"))
    assert_df(inferred, [("r", "struct<_c0:int,_c1:double,_c2:string>")], [(Row(_c0=1, _c1=2.5, _c2="x"),)])


def test_from_csv_modes_and_bad_schemas(spark):
    df = spark.createDataFrame([("1,x",)], "v string")
    with pytest.raises(PySparkException) as e:
        df.select(F.from_csv("v", "a INT, b INT", {"mode": "FAILFAST"})).collect()
    assert e.value.getCondition() == "MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION"
    assert "record parsing: [1,null]." in str(e.value)
    with pytest.raises(AnalysisException) as e:
        df.select(F.from_csv("v", "a INT, b INT", {"mode": "DROPMALFORMED"})).collect()
    assert e.value.getCondition() == "PARSE_MODE_UNSUPPORTED"
    with pytest.raises(PySparkException) as e:
        df.select(F.from_csv("v", "x array<int>")).collect()
    assert e.value.getCondition() == "UNSUPPORTED_DATATYPE"


def test_to_csv_writes_as_spark(spark):
    df = spark.sql(
        "SELECT named_struct('a', ' a ', 'b', 'b,c', 'c', 'q\"x', 'd', '', 'e', CAST(NULL AS STRING), 'g', 1.5D, "
        "'h', 1e10D, 'i', DATE'2020-01-02', 'j', TIMESTAMP'2020-01-02 03:04:05.5', 'k', array(1, 2), "
        "'l', map('x', 1), 'n', 1.50BD, 'o', true) AS s"
    )
    got = df.select(F.to_csv("s"))
    expected = 'a,"b,c","q\\"x","",,1.5,1.0E10,2020-01-02,2020-01-02T03:04:05.500Z,"[1, 2]",{x -> 1},1.50,true'
    assert_df(got, [("to_csv(s)", "string")], [(expected,)])
    opts = {"sep": ";", "nullValue": "NA", "dateFormat": "dd/MM/yyyy", "timestampFormat": "yyyy-MM-dd HH:mm", "quoteAll": "true"}
    got = spark.sql(
        "SELECT named_struct('a', 'x;y', 'b', CAST(NULL AS INT), 'd', DATE'2020-01-02', 'e', TIMESTAMP'2020-01-02 03:04:05') AS s "
        "UNION ALL SELECT NULL"
    ).select(F.to_csv("s", opts).alias("x"))
    assert_rows(got, [('"x;y";"NA";"02/01/2020";"2020-01-02 03:04"',), (None,)])
    with pytest.raises(AnalysisException) as e:
        spark.sql("SELECT to_csv(array(1, 2))").collect()
    assert e.value.getCondition() == "DATATYPE_MISMATCH.UNSUPPORTED_INPUT_TYPE"


def test_schema_of_csv_infers_as_spark(spark):
    got = spark.range(1).select(
        F.schema_of_csv(F.lit("1|3000000000|2.5|abc|TRUE|2020-01-01|2020-01-01 10:00:00||NaN| 1"), {"sep": "|"})
    )
    assert_df(
        got,
        [("schema_of_csv(1|3000000000|2.5|abc|TRUE|2020-01-01|2020-01-01 10:00:00||NaN| 1)", "string")],
        [
            (
                "STRUCT<_c0: INT, _c1: BIGINT, _c2: DOUBLE, _c3: STRING, _c4: BOOLEAN, _c5: DATE, _c6: TIMESTAMP, "
                "_c7: STRING, _c8: DOUBLE, _c9: DOUBLE>",
            )
        ],
    )


def test_show_escapes_control_characters(spark):
    got = spark.sql("SELECT 'a\nb' AS x, 'c\td' AS y")._show_string(truncate=20)
    assert got.splitlines()[3] == "|a\\nb|c\\td|", got


def test_regexp_extract_with_a_pattern_per_row(spark):
    rows = [("1a 2b 14m", r"(\d+)([a-z]+)"), ("x9", r"([a-z])(\d)"), (None, "a"), ("q", None)]
    df = spark.createDataFrame(rows, "str string, regexp string")
    got = df.select(
        F.regexp_extract_all("str", F.col("regexp")).alias("all1"),
        F.regexp_extract_all("str", F.col("regexp"), 2).alias("all2"),
        F.regexp_extract("str", F.col("regexp"), 1).alias("one"),
    )
    assert_rows(
        got,
        [(["1", "2", "14"], ["a", "b", "m"], "1"), (["x"], ["9"], "x"), (None, None, None), (None, None, None)],
    )


def test_try_arithmetic_is_null_on_integer_overflow(spark):
    df = spark.createDataFrame([(2147483647, 9223372036854775807), (1, 2)], "i int, l long")
    got = df.select(F.try_add("i", F.lit(1)), F.try_subtract(F.lit(-5), "l"), F.try_multiply("l", F.lit(2)), F.try_add("i", "l"))
    assert_df(
        got,
        [("try_add(i, 1)", "int"), ("try_subtract(-5, l)", "bigint"), ("try_multiply(l, 2)", "bigint"), ("try_add(i, l)", "bigint")],
        [(None, None, None, None), (2, -7, 4, 3)],
    )
    assert_rows(spark.sql("SELECT try_add(1.5D, 1) a, try_multiply(CAST(100 AS TINYINT), CAST(2 AS TINYINT)) b"), [(2.5, None)])


def test_regexp_extract_all_array_prepend_map_concat(spark):
    df = spark.sql(
        r"SELECT regexp_extract_all('a1b22', '([a-z])(\\d+)', 2) a, regexp_extract_all('a1b22', '\\d+', 0) b, "
        "array_prepend(array(1, 2), 3L) c, array_prepend(array(1), NULL) d, map_concat(map(1, 'a'), map(2, 'b')) e"
    )
    assert_df(
        df,
        [("a", "array<string>"), ("b", "array<string>"), ("c", "array<bigint>"), ("d", "array<int>"), ("e", "map<int,string>")],
        [(["1", "22"], ["1", "22"], [3, 1, 2], [None, 1], {1: "a", 2: "b"})],
    )
    assert_rows(spark.sql("SELECT regexp_substr('abc', 'x') a, regexp_substr('abc', NULL) b"), [(None, None)])
    with pytest.raises(Exception) as e:
        spark.sql("SELECT map_concat(map(1, 'a'), map(1, 'b'))").collect()
    assert "DUPLICATED_MAP_KEY" in str(e.value)


def test_string_functions_take_numbers_dates_and_timestamps_as_text(spark):
    df = spark.sql(
        "SELECT upper(14) a, substring(20240101, 1, 4) b, substr(12345, 2) c, replace(12321, 2, 9) d, "
        "repeat(12, 2) e, trim(5) f, instr(12345, 3) g, locate(3, 12345) h, levenshtein(123, 124) i, "
        "length(1.5D) j, upper(1e20) k, lower(TIMESTAMP '2020-01-01 10:00:00') l, initcap(true) m, "
        "octet_length(DATE '2020-01-01') n, length(X'0102') o, startswith(123, 1) p"
    )
    assert_df(
        df,
        [("a", "string"), ("b", "string"), ("c", "string"), ("d", "string"), ("e", "string"), ("f", "string"), ("g", "int"),
         ("h", "int"), ("i", "int"), ("j", "int"), ("k", "string"), ("l", "string"), ("m", "string"), ("n", "int"),
         ("o", "int"), ("p", "boolean")],
        [("14", "2024", "2345", "19391", "1212", "5", 3, 3, 1, 3, "1.0E20", "2020-01-01 10:00:00", "True", 10, 2, True)],
    )
    nums = spark.createDataFrame([(20240115, 1.5), (7, None)], "d int, x double")
    assert_rows(nums.select(F.substring("d", 1, 4), F.upper("x"), F.length("d")), [("2024", "1.5", 8), ("7", None, 1)])


def test_like_and_rlike_on_numbers_and_sql_operators(spark):
    df = spark.createDataFrame([(10,), (123,), (5,)], "x int")
    assert_rows(df.where(col("x").like("1%")), [(10,), (123,)])
    df.createOrReplaceTempView("like_nums")
    assert_rows(spark.sql("SELECT x FROM like_nums WHERE x LIKE '1_'"), [(10,)])
    assert_rows(spark.sql("SELECT x FROM like_nums WHERE x RLIKE '^1' AND x NOT REGEXP '3$'"), [(10,)])
    named = spark.sql("SELECT 'abc' RLIKE 'b', rlike('abc', 'z'), lcase('A'), ucase('a'), position('b' IN 'abc')")
    assert named.columns == ["RLIKE(abc, b)", "RLIKE(abc, z)", "lcase(A)", "ucase(a)", "locate(b, abc, 1)"]
    assert_rows(named, [(True, False, "a", "A", 2)])


def test_regexp_replace_in_sql_replaces_every_match_from_a_position(spark):
    df = spark.sql(
        "SELECT regexp_replace('abcb', 'b', 'x') a, regexp_replace('abcb', 'b', 'x', 3) b, "
        "regexp_replace('abcb', 'b', 'x', 10) c, regexp_replace('2020-01-02', '(\\\\d+)-(\\\\d+)-(\\\\d+)', '$3/$2/$1') d"
    )
    assert_rows(df, [("axcx", "abcx", "abcb", "02/01/2020")])
    assert spark.sql("SELECT regexp_replace('ab', 'b', 'x')").columns == ["regexp_replace(ab, b, x, 1)"]
    assert spark.range(1).select(F.regexp_replace(lit("ab"), "b", "x")).columns == ["regexp_replace(ab, b, x, 1)"]


def test_exponent_literals_are_doubles(spark):
    df = spark.sql("SELECT 1e20 a, -2.5E2 b, 1.5e0 * 2 c")
    assert_df(df, [("a", "double"), ("b", "double"), ("c", "double")], [(1e20, -250.0, 3.0)])
    assert spark.sql("SELECT 1e20").columns == ["1.0E20"]


def test_spark_function_names_in_sql(spark):
    agg = spark.sql("SELECT std(x) a, variance(x) b, every(x > 0) c, some(x > 1) d FROM VALUES (1), (2) AS t(x)")
    assert [d for _, d in agg.dtypes] == ["double", "double", "boolean", "boolean"]
    (a, b, c, d), = rows_of(agg)
    assert abs(a - 0.7071067811865476) < 1e-12 and (b, c, d) == (0.5, True, True)
    scalars = spark.sql("SELECT sign(-2) e, cardinality(map(1, 2)) f, array_size(array(1, 2)) g, char_length('ab') h")
    assert_df(scalars, [("e", "double"), ("f", "int"), ("g", "int"), ("h", "int")], [(-1.0, 1, 2, 2)])


def test_round_and_bround_of_decimals_keep_spark_types(spark):
    df = spark.sql(
        "SELECT round(2.5) a, round(2.345, 2) b, bround(2.5) c, bround(2.345, 2) d, round(155.5, -1) e, "
        "round(CAST(9.99 AS DECIMAL(3,2)), 1) f, round(CAST(123.456 AS DECIMAL(6,3)), 5) g"
    )
    assert_df(
        df,
        [("a", "decimal(2,0)"), ("b", "decimal(4,2)"), ("c", "decimal(2,0)"), ("d", "decimal(4,2)"), ("e", "decimal(4,0)"),
         ("f", "decimal(3,1)"), ("g", "decimal(7,3)")],
        [(D("3"), D("2.35"), D("2"), D("2.34"), D("160"), D("10.0"), D("123.456"))],
    )
    dec = spark.createDataFrame([(D("1.25"),), (D("-1.35"),), (None,)], "x decimal(4,2)")
    got = dec.select(F.round("x", 1), F.bround("x", 1), F.round("x"))
    assert_df(
        got,
        [("round(x, 1)", "decimal(4,1)"), ("bround(x, 1)", "decimal(4,1)"), ("round(x, 0)", "decimal(3,0)")],
        [(D("1.3"), D("1.2"), D("1")), (D("-1.4"), D("-1.4"), D("-1")), (None, None, None)],
    )


def test_reverse_concat_remove_and_position_of_arrays(spark):
    df = spark.createDataFrame([([1, 2, 1], [3]), (None, [4])], "a array<int>, b array<int>")
    got = df.select(F.reverse("a"), F.concat("a", "b"), F.array_remove("a", 1), F.array_position("a", 2), F.array_position("a", 9))
    assert_df(
        got,
        [("reverse(a)", "array<int>"), ("concat(a, b)", "array<int>"), ("array_remove(a, 1)", "array<int>"),
         ("array_position(a, 2)", "bigint"), ("array_position(a, 9)", "bigint")],
        [([1, 2, 1], [1, 2, 1, 3], [2], 2, 0), (None, None, None, None, None)],
    )
    assert_rows(spark.sql("SELECT reverse(array(1, 2)), concat(array(1), array(2L)), reverse('ab')"), [([2, 1], [1, 2], "ba")])


def test_sql_select_list_may_repeat_a_name(spark):
    df = spark.sql("SELECT 1 AS a, 2 AS a, count(*), count(1), id, id FROM range(2) GROUP BY id ORDER BY id")
    assert df.columns == ["a", "a", "count(1)", "count(1)", "id", "id"]
    assert_rows(df, [(1, 2, 1, 1, 0, 0), (1, 2, 1, 1, 1, 1)])


def test_struct_fields_are_named_as_in_spark(spark):
    df = spark.range(1).select(F.struct(lit(1), "id"), F.struct(lit(1).alias("a"), col("id") + 1).alias("s"))
    assert_schema(df, [("struct(1, id)", "struct<col1:int,id:bigint>"), ("s", "struct<a:int,col2:bigint>")])
    assert_rows(spark.range(1).select(F.to_json(F.struct(lit(1), "id"))), [('{"col1":1,"id":0}',)])
    sql = spark.sql("SELECT struct(id, id + 1, 3 AS c) s, struct(t.id).id i, to_json(struct(1, 'a')) j FROM range(1) t")
    assert_df(
        sql,
        [("s", "struct<id:bigint,col2:bigint,c:int>"), ("i", "bigint"), ("j", "string")],
        [(Row(id=0, col2=1, c=3), 0, '{"col1":1,"col2":"a"}')],
    )
    assert spark.sql("SELECT struct(1 AS a, 'x')").columns == ["struct(1 AS a, x)"]
    assert spark.sql("SELECT inline(array(struct(1, 'a')))").columns == ["col1", "col2"]


def test_months_between_strings_keep_their_time_of_day(spark):
    df = spark.createDataFrame([("1997-02-28 10:30:00", "1996-10-30")], "d1 string, d2 string")
    got = df.select(F.months_between("d1", "d2"), F.months_between("d1", "d2", False))
    assert_df(
        got,
        [("months_between(d1, d2, true)", "double"), ("months_between(d1, d2, false)", "double")],
        [(3.94959677, 3.9495967741935485)],
    )


def test_sql_trim_side_from_without_characters_trims_spaces(spark):
    df = spark.sql("SELECT TRIM(BOTH FROM '  a  '), TRIM(LEADING FROM '  a '), TRIM(TRAILING FROM ' a  ')")
    assert df.columns == ["trim(  a  )", "ltrim(  a )", "rtrim( a  )"]
    assert rows_of(df) == [("a", "a ", " a")]


def test_two_argument_trims_take_the_characters_first(spark):
    df = spark.createDataFrame([("***Spark*",)], "v string")
    got = df.select(F.ltrim("v", lit("*")), F.rtrim("v", lit("*")), F.trim("v", lit("*")))
    assert_df(
        got,
        [("TRIM(LEADING * FROM v)", "string"), ("TRIM(TRAILING * FROM v)", "string"), ("TRIM(BOTH * FROM v)", "string")],
        [("Spark*", "***Spark", "Spark")],
    )
    sql = spark.sql("SELECT ltrim('*', '***Spark*') a, rtrim('*', '***Spark*') b, btrim('**a**', '*') c")
    assert_rows(sql, [("Spark*", "***Spark", "a")])


def test_math_function_names_follow_spark(spark):
    df = spark.range(1).select(
        F.sin("id"), F.pow("id", 2), F.log(2.0, "id"), F.log("id"), F.ceil("id"), F.ceiling("id"), F.lcase(lit("A")),
        F.negative("id"), F.signum("id"), F.pi(),
    )
    assert df.columns == [
        "SIN(id)", "POWER(id, 2)", "LOG(2.0, id)", "ln(id)", "CEIL(id)", "ceiling(id)", "lcase(A)", "negative(id)",
        "SIGNUM(id)", "PI()",
    ]
    assert spark.sql("SELECT tanh(0), pow(2, 3), log(2, 8), sign(-1)").columns == ["TANH(0)", "pow(2, 3)", "LOG(2, 8)", "sign(-1)"]


def test_equal_null_and_substr_names_follow_spark(spark):
    df = spark.createDataFrame([("Spark SQL", 5)], "a string, b int")
    assert df.select(F.substr(df.a, df.b), F.equal_null("a", "b")).columns == ["substr(a, b, 2147483647)", "equal_null(a, b)"]


def test_spark_edges_of_substring_regexp_replace_array_size_and_decimal_round(spark):
    df = spark.sql(
        "SELECT substring('hello', -3, 2) a, substr('hello', 0, 2) b, substr('hello', -3) c, "
        "regexp_replace(CAST(NULL AS STRING), 'a', 'b', 2) d, regexp_replace('abcabc', 'b', NULL, 3) e, "
        "array_size(NULL) f, array_size(array(1, 2)) g, percentile_approx(NULL, 0.5) h, "
        "round(CAST(60000000000000000000 AS DECIMAL(38,18)), -21) i, "
        "round(CAST(0.99999999999999999999999999999999999999 AS DECIMAL(38,38)), 0) j"
    )
    assert_rows(df, [("ll", "he", "llo", None, None, None, 2, None, D("0"), D("1"))])


def test_dataframe_stack(spark):
    df = spark.createDataFrame([(1, 2, 3)], "a bigint, b bigint, c bigint")
    got = df.select("*", F.stack(lit(2), df.a, df.b, "c"))
    assert_df(
        got,
        [("a", "bigint"), ("b", "bigint"), ("c", "bigint"), ("col0", "bigint"), ("col1", "bigint")],
        [(1, 2, 3, 1, 2), (1, 2, 3, 3, None)],
    )
    assert_df(df.select(F.stack(lit(2), "a", "b", "c").alias("x", "y")), [("x", "bigint"), ("y", "bigint")], [(1, 2), (3, None)])


def test_mask_map_contains_key_and_get_names(spark):
    df = spark.createDataFrame([("AbC123", {1: "a"}, ["a", "b"])], "s string, m map<int,string>, a array<string>")
    got = df.select(F.mask("s"), F.mask("s", lit("Y"), lit("y"), lit("d")), F.map_contains_key("m", 1), F.map_contains_key("m", 2), F.get("a", 1))
    assert_df(
        got,
        [("mask(s, X, x, n, NULL)", "string"), ("mask(s, Y, y, d, NULL)", "string"), ("map_contains_key(m, 1)", "boolean"),
         ("map_contains_key(m, 2)", "boolean"), ("get(a, 1)", "string")],
        [("XxXnnn", "YyYddd", True, False, "b")],
    )
    assert_rows(spark.sql("SELECT mask('Ab-1', NULL, NULL, NULL, '*')"), [("Ab*1",)])


def test_map_filter_and_transform_keys_and_values(spark):
    df = spark.createDataFrame([(1, {"foo": 42.0, "bar": 1.0}), (2, None)], "id int, data map<string,double>")
    got = df.select(
        F.map_filter("data", lambda _, v: v > 30.0).alias("f"),
        F.transform_values("data", lambda k, v: F.when(k == "bar", v + 1).otherwise(v)).alias("v"),
        F.transform_keys("data", lambda k, _: F.upper(k)).alias("k"),
    ).orderBy(F.col("f").isNull())
    assert_df(
        got,
        [("f", "map<string,double>"), ("v", "map<string,double>"), ("k", "map<string,double>")],
        [({"foo": 42.0}, {"foo": 42.0, "bar": 2.0}, {"FOO": 42.0, "BAR": 1.0}), (None, None, None)],
        ordered=True,
    )
    named = df.select(F.map_filter("data", lambda k, v: k.startswith("b")))
    assert named.columns == [
        "map_filter(data, lambdafunction(startswith(namedlambdavariable(), b), namedlambdavariable(), namedlambdavariable()))"
    ]


def test_map_zip_with(spark):
    df = spark.createDataFrame(
        [(1, {"A": 1, "B": 2}, {"B": 3, "C": 4}), (2, None, {"x": 1}), (3, {}, {"q": 5})], "id int, m1 map<string,bigint>, m2 map<string,bigint>"
    )
    got = df.select(
        F.map_zip_with("m1", "m2", lambda k, v1, v2: F.when(v2.isNull(), v1).when(k == "B", v1 + v2).otherwise(-v2)).alias("z")
    ).orderBy(F.col("z").isNull())
    # Every key of either map, the first map's first; a key's missing value is NULL.
    assert_df(got, [("z", "map<string,bigint>")], [({"A": 1, "B": 5, "C": -4},), ({"q": -5},), (None,)], ordered=True)
    got = df.where("id = 1").select(F.map_zip_with("m1", "m2", lambda _, v1, v2: v1 + v2))
    assert got.columns == [
        "map_zip_with(m1, m2, lambdafunction((namedlambdavariable() + namedlambdavariable()), "
        "namedlambdavariable(), namedlambdavariable(), namedlambdavariable()))"
    ]
    assert list(got.first()[0].items()) == [("A", None), ("B", 5), ("C", None)]
    sql = spark.sql(
        "SELECT map_zip_with(map(1, 'a', 2, 'b'), map(1, 'x', 3, 'y'), "
        "(k, v1, v2) -> concat(k, coalesce(v1, '-'), coalesce(v2, '-'))) AS m"
    )
    assert_rows(sql, [({1: "1ax", 2: "2b-", 3: "3-y"},)])


def test_intervals_show_as_spark_prints_them(spark, capsys):
    df = spark.createDataFrame([(100, 11, 1, 12, 30, 1.001001)], "y int, mo int, d int, h int, mi int, s double")
    df.select(
        F.make_interval("y", "mo", lit(1), "d", "h", "mi", "s").alias("c"), F.make_dt_interval("d", "h", "mi", "s").alias("dt")
    ).show(truncate=False)
    out = capsys.readouterr().out
    assert "|100 years 11 months 8 days 12 hours 30 minutes 1.001001 seconds|" in out
    assert "|INTERVAL '1 12:30:01.001001' DAY TO SECOND|" in out


def test_array_insert(spark):
    df = spark.sql(
        "SELECT array_insert(array(1, 2, 3), 2, 9) a, array_insert(array(1, 2, 3), -1, 9) b, array_insert(array(1), 3, 2) c, "
        "array_insert(array(5, 3, 2, 1), -4, 4) d, array_insert(array(1), -3, 9) e, array_insert(array(1), 2, 2L) f"
    )
    assert_df(
        df,
        [("a", "array<int>"), ("b", "array<int>"), ("c", "array<int>"), ("d", "array<int>"), ("e", "array<int>"), ("f", "array<bigint>")],
        [([1, 9, 2, 3], [1, 2, 3, 9], [1, None, 2], [5, 4, 3, 2, 1], [9, None, 1], [1, 2])],
    )
    with pytest.raises(Exception) as e:
        spark.sql("SELECT array_insert(array(1), 0, 2)").collect()
    assert "INVALID_INDEX_OF_ZERO" in str(e.value)


def test_make_timestamp(spark):
    df = spark.sql(
        "SELECT make_timestamp(2020, 1, 2, 3, 4, 5.5) a, make_timestamp(2019, 12, 31, 23, 59, 60) b, "
        "make_timestamp(2020, 1, 2, 3, 4, NULL) c, try_make_timestamp(2020, 2, 30, 0, 0, 0) d"
    )
    assert_df(
        df,
        [("a", "timestamp"), ("b", "timestamp"), ("c", "timestamp"), ("d", "timestamp")],
        [(datetime.datetime(2020, 1, 2, 3, 4, 5, 500000), datetime.datetime(2020, 1, 1, 0, 0), None, None)],
    )
    with pytest.raises(Exception) as e:
        spark.sql("SELECT make_timestamp(2020, 13, 1, 0, 0, 0)").collect()
    assert "DATETIME_FIELD_OUT_OF_BOUNDS" in str(e.value)


def test_timestamp_ntz_and_ltz_constructors_and_epoch_units(spark):
    df = spark.sql(
        "SELECT make_timestamp_ntz(2014, 12, 28, 6, 30, 45.887) a, try_make_timestamp_ntz(2014, 13, 28, 6, 30, 45.887) b, "
        "unix_micros(make_timestamp_ltz(2014, 12, 28, 6, 30, 45.887, 'UTC')) c, "
        "unix_micros(timestamp_seconds(1230219000)) d, unix_micros(timestamp_millis(1230219000123)) e, "
        "unix_micros(timestamp_micros(1230219000123123)) f, unix_micros(timestamp_seconds(1.5d)) g, "
        "timestamp_seconds(double('NaN')) h"
    )
    assert_df(
        df,
        [("a", "timestamp_ntz"), ("b", "timestamp_ntz"), ("c", "bigint"), ("d", "bigint"), ("e", "bigint"),
         ("f", "bigint"), ("g", "bigint"), ("h", "timestamp")],
        [(datetime.datetime(2014, 12, 28, 6, 30, 45, 887000), None, 1419748245887000,
          1230219000000000, 1230219000123000, 1230219000123123, 1500000, None)],
    )
    with pytest.raises(Exception, match="long overflow"):
        spark.sql("SELECT timestamp_seconds(9223372036854775807)").collect()
    with pytest.raises(Exception, match="DATETIME_FIELD_OUT_OF_BOUNDS"):
        spark.sql("SELECT make_timestamp_ntz(2014, 13, 28, 6, 30, 45)").collect()


def test_convert_timezone_moves_the_wall_clock(spark):
    df = spark.sql(
        "SELECT convert_timezone('Europe/Brussels', 'America/Los_Angeles', timestamp_ntz'2021-12-06 00:00:00') a, "
        "convert_timezone('UTC', 'Asia/Tokyo', timestamp_ntz'2021-12-31 20:30:00') b, "
        "convert_timezone('Asia/Tokyo', timestamp_ntz'2021-12-31 20:30:00') c"
    )
    assert df.dtypes == [("a", "timestamp_ntz"), ("b", "timestamp_ntz"), ("c", "timestamp_ntz")]
    tz = spark.conf.get("spark.sql.session.timeZone")
    row = df.first()
    assert (row.a, row.b) == (datetime.datetime(2021, 12, 5, 15, 0), datetime.datetime(2022, 1, 1, 5, 30))
    # Two arguments: the source is the session zone.
    assert row.c == spark.sql(f"SELECT convert_timezone('{tz}', 'Asia/Tokyo', timestamp_ntz'2021-12-31 20:30:00')").first()[0]


def test_to_binary_formats(spark):
    df = spark.range(1).select(
        F.to_binary(lit("YWJj"), lit("base64")),
        F.to_binary(lit("YWJ"), lit("BASE64")),
        F.to_binary(lit("abc"), lit("UTF8")),
        F.to_binary(lit("F"), lit("hex")),
        F.to_binary(lit("616263")),
        F.try_to_binary(lit("zz")),
        F.try_to_binary(lit("!!"), lit("base64")),
    )
    assert df.columns[0] == "to_binary(YWJj, base64)" and df.columns[4] == "to_binary(616263)"
    assert tuple(df.first()) == (b"abc", b"ab", b"abc", b"\x0f", b"abc", None, None)
    with pytest.raises(Exception, match="CONVERSION_INVALID_INPUT"):
        spark.range(1).select(F.to_binary(lit("zz"), lit("hex"))).collect()
    with pytest.raises(Exception, match="INVALID_ARG_VALUE"):
        spark.range(1).select(F.to_binary(lit("abc"), lit("xx"))).collect()


def test_try_add_and_subtract_move_dates(spark):
    df = spark.sql("SELECT DATE'2015-09-30' d, INTERVAL 1 YEAR i").select(
        F.try_add("d", lit(1)), F.try_subtract("d", lit(1)), F.try_add("d", "i"), F.try_subtract("d", "i")
    )
    assert df.columns == ["try_add(d, 1)", "try_subtract(d, 1)", "try_add(d, i)", "try_subtract(d, i)"]
    assert tuple(df.first()) == (
        datetime.date(2015, 10, 1), datetime.date(2015, 9, 29), datetime.date(2016, 9, 30), datetime.date(2014, 9, 30)
    )
    days = spark.sql(
        "SELECT try_add(DATE'2024-01-01', INTERVAL 1 DAY) AS d, try_add(TIMESTAMP'2024-01-01 00:00:00', INTERVAL 1 HOUR) AS t"
    )
    assert_df(days, [("d", "date"), ("t", "timestamp")], [(datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 1, 1))])


def test_cast_and_field_names_follow_spark(spark):
    df = spark.createDataFrame([(Row(a=1, b="b"), "123")], "r struct<a:int,b:string>, name string")
    got = df.select(df.name.cast("long"), df.name.try_cast("long"), (col("name") + 1).cast("string"), df.r.getField("b"), df.r["b"], col("r.b"))
    assert got.columns == ["name", "name", "CAST((name + 1) AS STRING)", "r.b", "r.b", "b"]
    assert_rows(got, [(123, 123, "124", "b", "b", "b")])


def test_timestampadd_and_timestampdiff(spark):
    df = spark.sql(
        "SELECT timestampadd(YEAR, 1, TIMESTAMP'2016-02-29 10:00:00') a, "
        "dateadd(MONTH, -1, TIMESTAMP'2016-03-31 10:00:00') b, "
        "timestampadd(QUARTER, 1, DATE'2016-01-31') c, "
        "timestampdiff(MONTH, TIMESTAMP'2016-01-31 10:00:00', TIMESTAMP'2016-02-29 09:00:00') d, "
        "datediff(WEEK, TIMESTAMP'2016-02-29 10:00:00', TIMESTAMP'2016-03-14 10:00:00') e, "
        "timestampdiff(SECOND, TIMESTAMP'2016-02-29 10:00:00', TIMESTAMP'2016-02-29 09:59:58.5') f"
    )
    assert_df(
        df.selectExpr("string(a)", "string(b)", "string(c)", "d", "e", "f"),
        [("a", "string"), ("b", "string"), ("c", "string"), ("d", "bigint"), ("e", "bigint"), ("f", "bigint")],
        [("2017-02-28 10:00:00", "2016-02-29 10:00:00", "2016-04-30 00:00:00", 0, 2, -1)],
    )
    assert df.dtypes[:3] == [("a", "timestamp"), ("b", "timestamp"), ("c", "timestamp")]
    assert spark.sql("SELECT datediff(DAY, DATE'2016-01-31', DATE'2016-02-02')").columns == [
        "timestampdiff(DAY, DATE '2016-01-31', DATE '2016-02-02')"
    ]
    # DAY moves the wall clock of the session time zone; HOUR the instant.
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        df = spark.sql(
            "SELECT string(timestampadd(DAY, 1, TIMESTAMP'2016-03-12 12:00:00')) day, "
            "string(timestampadd(HOUR, 24, TIMESTAMP'2016-03-12 12:00:00')) hours"
        )
        assert_rows(df, [("2016-03-13 12:00:00", "2016-03-13 13:00:00")])
    finally:
        spark.conf.unset("spark.sql.session.timeZone")
    ts = spark.createDataFrame([(datetime.datetime(2016, 3, 11, 9, 0, 7), 2)], ["ts", "quantity"])
    out = ts.select(F.timestamp_add("year", "quantity", "ts"), F.timestamp_diff("WEEK", "ts", F.timestamp_add("DAY", lit(15), "ts")))
    assert out.columns == ["timestampadd(year, quantity, ts)", "timestampdiff(WEEK, ts, timestampadd(DAY, 15, ts))"]
    assert out.first() == (datetime.datetime(2018, 3, 11, 9, 0, 7), 2)


def test_rand_and_randn_with_a_seed_give_sparks_numbers(spark):
    assert_df(
        spark.sql("SELECT rand(42) a, rand(0) b, randn(42) c"),
        [("a", "double"), ("b", "double"), ("c", "double")],
        [(0.619189370225301, 0.7604953758285915, 2.384479054241165)],
    )
    # Partition p draws from the generator seeded with seed + p, row by row.
    df = spark.range(0, 6, 1, 2).select("id", F.rand(42), F.randn(3).alias("n"))
    assert df.columns == ["id", "rand(42)", "n"]
    rows = [tuple(r) for r in df.orderBy("id").collect()]
    assert [r[1] for r in rows] == [
        0.619189370225301,
        0.5096018842446481,
        0.8325259388871524,
        0.8017532427858894,
        0.6565552949992319,
        0.2515595782593636,
    ]
    assert [r[2] for r in rows[:2]] == [-1.1854930781734352, 0.8301167121353836]
    # Without a seed the client picks one: every value is in [0, 1).
    values = [r[0] for r in spark.range(0, 50, 1, 3).select(F.rand()).collect()]
    assert len(set(values)) == 50 and all(0 <= v < 1 for v in values)


def test_to_timestamp_ltz_ntz_and_the_session_time_zone(spark):
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        df = spark.sql(
            "SELECT to_timestamp_ntz('2016-12-31 00:12:00') n, to_timestamp_ltz('2016-12-31 00:12:00') l, "
            "string(to_timestamp('2016-12-31 00:12:00')) s, hour(to_timestamp('2016-12-31 00:12:00')) h"
        )
        assert df.dtypes == [("n", "timestamp_ntz"), ("l", "timestamp"), ("s", "string"), ("h", "int")]
        # The text is read and shown in the session's zone; NTZ keeps the wall clock.
        assert_rows(df.selectExpr("string(n)", "string(l)", "s", "h"), [("2016-12-31 00:12:00", "2016-12-31 00:12:00", "2016-12-31 00:12:00", 0)])
    finally:
        spark.conf.unset("spark.sql.session.timeZone")
    assert spark.range(1).select(F.to_timestamp_ntz(lit("2016-12-31"), lit("yyyy-MM-dd"))).columns == [
        "to_timestamp_ntz(2016-12-31, yyyy-MM-dd)"
    ]


def test_empty_map_and_regexp_extract_default_group(spark):
    df = spark.sql("SELECT map() m, map_keys(map()) k, size(map()) n")
    assert_df(df, [("m", "map<void,void>"), ("k", "array<void>"), ("n", "int")], [({}, [], 0)])
    assert spark.range(1).select(F.create_map()).columns == ["map()"]
    df = spark.sql("SELECT regexp_extract('100-200', '(\\\\d+)-(\\\\d+)'), regexp_extract_all('100-200, 300-400', '(\\\\d+)-(\\\\d+)')")
    assert df.columns == ["regexp_extract(100-200, (\\d+)-(\\d+), 1)", "regexp_extract_all(100-200, 300-400, (\\d+)-(\\d+), 1)"]
    assert df.first() == ("100", ["100", "300"])


def test_map_key_dedup_policy(spark):
    from pyspark.errors import SparkRuntimeException, IllegalArgumentException

    assert spark.conf.get("spark.sql.mapKeyDedupPolicy") == "EXCEPTION"
    with pytest.raises(SparkRuntimeException) as e:
        spark.sql("SELECT map_concat(map(1, 'a', 2, 'b'), map(2, 'c'))").collect()
    assert e.value.getCondition() == "DUPLICATED_MAP_KEY"
    assert "Duplicate map key 2 was found" in str(e.value) and "spark.sql.mapKeyDedupPolicy" in str(e.value)
    with pytest.raises(SparkRuntimeException) as e:
        spark.sql("SELECT map(1, 'a', 1, 'b')").collect()
    assert e.value.getCondition() == "DUPLICATED_MAP_KEY"
    with pytest.raises(IllegalArgumentException) as e:
        spark.conf.set("spark.sql.mapKeyDedupPolicy", "FIRST_WIN")
    assert e.value.getCondition() == "INVALID_CONF_VALUE.OUT_OF_RANGE_OF_OPTIONS"
    spark.conf.set("spark.sql.mapKeyDedupPolicy", "last_win")
    try:
        df = spark.sql("SELECT map_concat(map(1, 'a', 2, 'b'), map(2, 'c')) m, map_from_arrays(array(1, 1), array('x', 'y')) f")
        assert df.first() == ({1: "a", 2: "c"}, {1: "y"})
        # map() keeps a repeated key's last value, in SQL and the DataFrame API.
        assert spark.sql("SELECT map(1, 'a', 1, 'b') m").first().m == {1: "b"}
        m = spark.range(1).select(F.create_map(F.lit("k"), F.lit(1), F.lit("k"), F.lit(2)).alias("m"))
        assert m.first().m == {"k": 2}
    finally:
        spark.conf.unset("spark.sql.mapKeyDedupPolicy")


def test_select_expr_alias_without_as(spark):
    df = spark.range(2).selectExpr("id + 1 x", "id AS z", "`id` w")
    assert_df(df, [("x", "bigint"), ("z", "bigint"), ("w", "bigint")], [(1, 0, 0), (2, 1, 1)])


def test_utc_conversions_take_java_zone_ids(spark):
    df = spark.sql("SELECT to_timestamp('2023-10-01 12:00:00') ts")
    out = df.select(
        F.from_utc_timestamp("ts", "PST").alias("pst"),
        F.to_utc_timestamp("ts", "JST").alias("jst"),
        F.from_utc_timestamp("ts", "GMT+8").alias("gmt8"),
    )
    assert_rows(
        out.selectExpr("string(pst)", "string(jst)", "string(gmt8)"),
        [("2023-10-01 05:00:00", "2023-10-01 03:00:00", "2023-10-01 20:00:00")],
    )


def test_select_expr_star(spark):
    df = spark.range(2)
    assert_df(df.selectExpr("*", "id + 1 AS x"), [("id", "bigint"), ("x", "bigint")], [(0, 1), (1, 2)])
    assert df.alias("t").selectExpr("t.*").columns == ["id"]
    assert_df(df.select(F.count(F.expr("*"))), [("count(1)", "bigint")], [(2,)])
    assert spark.sql("SELECT try_make_timestamp(2014, 12, 28, 6, 30, 45.887, 'CET')").columns == [
        "try_make_timestamp(2014, 12, 28, 6, 30, 45.887)"
    ]


def test_ansi_size_of_null_and_overflows(spark):
    from pyspark.errors import ArithmeticException, ArrayIndexOutOfBoundsException

    df = spark.sql("SELECT size(CAST(NULL AS ARRAY<INT>)) a, size(array(1, 2)) b, cardinality(map(1, 2)) c")
    assert_df(df, [("a", "int"), ("b", "int"), ("c", "int")], [(None, 2, 1)])
    with pytest.raises(ArithmeticException) as e:
        spark.sql("SELECT abs(-2147483648)").collect()
    assert e.value.getCondition() == "ARITHMETIC_OVERFLOW"
    with pytest.raises(ArrayIndexOutOfBoundsException) as e:
        spark.sql("SELECT elt(4, 'a', 'b')").collect()
    assert e.value.getCondition() == "INVALID_ARRAY_INDEX"
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        assert spark.sql("SELECT size(CAST(NULL AS ARRAY<INT>)), elt(4, 'a', 'b')").first() == (-1, None)
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")


def test_cast_names_inside_and_outside_expressions(spark):
    df = spark.createDataFrame([(1, "2020-01-02")], "a int, d string")
    out = df.select(F.col("a").cast("string"), F.upper(F.col("a").cast("string")), F.col("a").cast("long").cast("string"))
    assert out.columns == ["a", "upper(CAST(a AS STRING))", "CAST(CAST(a AS BIGINT) AS STRING)"]
    grouped = df.groupBy(F.col("a").cast("string")).agg(F.max(F.col("d").cast("date")))
    assert grouped.columns == ["a", "max(CAST(d AS DATE))"]
    folded = spark.range(1).select(F.aggregate(F.array(F.lit(1), F.lit(2)), F.lit(0), lambda acc, x: acc + x))
    assert folded.columns == [
        "aggregate(array(1, 2), 0, lambdafunction((namedlambdavariable() + namedlambdavariable()), "
        "namedlambdavariable(), namedlambdavariable()), lambdafunction(namedlambdavariable(), namedlambdavariable()))"
    ]


def test_conv_and_dayofyear(spark):
    df = spark.sql(
        "SELECT conv('ff', 16, 10) a, conv('-10', 16, -10) b, conv('-10', 16, 10) c, conv('12xyz', 10, 16) d, "
        "conv('zz', 10, 16) e, conv('', 10, 2) f, dayofyear('2024-12-31') g"
    )
    assert_rows(df, [("255", "-16", "18446744073709551600", "C", "0", None, 366)])
    from pyspark.errors import ArithmeticException

    with pytest.raises(ArithmeticException) as e:
        spark.sql("SELECT conv('FFFFFFFFFFFFFFFFFF', 16, 10)").collect()
    assert e.value.getCondition() == "ARITHMETIC_OVERFLOW"


def test_casts_between_numbers_and_timestamps_are_seconds(spark):
    df = spark.sql(
        "SELECT string(CAST(1230219000 AS TIMESTAMP)) a, string(CAST(1230219000.5 AS TIMESTAMP)) b, "
        "CAST(TIMESTAMP'2008-12-25 15:30:00.7' AS BIGINT) c, CAST(TIMESTAMP'1969-12-31 23:59:59.5' AS BIGINT) d, "
        "CAST(TIMESTAMP'2008-12-25 15:30:00.5' AS DOUBLE) e"
    )
    assert_rows(df, [("2008-12-25 15:30:00", "2008-12-25 15:30:00.5", 1230219000, -1, 1230219000.5)])
    ts = spark.range(1).select(F.lit(1230219000).cast("timestamp").alias("t"))
    duration = ts.select((F.col("t").cast("long") - F.lit(1230218000)).alias("d"))
    assert_df(duration, [("d", "bigint")], [(1000,)])


def test_exp_and_logs_have_sparks_last_digits(spark):
    df = spark.sql("SELECT exp(1) e, exp(0.5) h, ln(3) l, log2(3) b, log(3, 10) g")
    assert_rows(df, [(2.7182818284590455, 1.6487212707001282, 1.0986122886681096, 1.584962500721156, 2.095903274289385)])
    assert spark.range(1).select(F.exp(F.lit(1))).first()[0] == 2.7182818284590455


# ------------------------------------------- Spark's semantics where DataFusion's differ


def test_like_with_an_escape_character_keeps_its_wildcards(spark):
    df = spark.createDataFrame([("%SystemDrive%/Users/John", "/%SystemDrive/%//Users%")], ["a", "b"])
    assert one(df.select(F.like(df.a, df.b, lit("/")))) is True
    assert one(df.select(F.ilike(df.a, df.b, lit("/")))) is True
    r = spark.sql(
        "select '%x' like '/%%' escape '/', 'a%x' like 'a/%%' escape '/', 'ab' like 'a/%' escape '/'"
    ).collect()[0]
    assert tuple(r) == (True, True, False)


def test_arrays_overlap_is_null_when_only_nulls_could_match(spark):
    df = spark.sql(
        "SELECT * FROM VALUES (1, ARRAY(1, 2), ARRAY(3, NULL)), (2, ARRAY(3), ARRAY(1, 2)), "
        "(3, ARRAY(1, NULL), ARRAY(1)), (4, ARRAY(NULL), ARRAY()), (5, ARRAY(1), NULL) AS t(k, x, y)"
    )
    assert_rows(
        df.select("k", F.arrays_overlap("x", "y")),
        [(1, None), (2, False), (3, True), (4, False), (5, None)],
    )


def test_flatten_is_null_when_an_inner_array_is_null(spark):
    df = spark.sql(
        "SELECT * FROM VALUES (1, ARRAY(ARRAY(1, 2), NULL)), (2, ARRAY(ARRAY(1), ARRAY())), (3, NULL) AS t(k, a)"
    )
    assert_rows(df.select("k", F.flatten("a")), [(1, None), (2, [1]), (3, None)])


def test_overlay_defaults_to_the_replacements_length(spark):
    df = spark.createDataFrame([("SPARK_SQL", "CORE")], ("x", "y"))
    r = df.select(
        F.overlay("x", "y", 7), F.overlay("x", "y", 7, 0), F.overlay("x", "y", 20), F.overlay("x", "y", -1)
    )
    assert r.columns == ["overlay(x, y, 7, -1)", "overlay(x, y, 7, 0)", "overlay(x, y, 20, -1)", "overlay(x, y, -1, -1)"]
    assert rows_of(r) == [("SPARK_CORE", "SPARK_CORESQL", "SPARK_SQLCORE", "COREARK_SQL")]
    assert one(spark.sql("select overlay('Spark SQL' placing 'ANSI ' from 7 for 0)")) == "Spark ANSI SQL"


def test_assert_true_names_its_message_and_returns_null(spark):
    df = spark.createDataFrame([(0, 1)], ["a", "b"])
    r = df.select(F.assert_true(df.a < df.b))
    assert r.columns == ["assert_true((a < b), '(a < b)' is not true!)"]
    assert "|NULL|" in r._show_string().replace(" ", "")
    with pytest.raises(Exception, match=r"'\(a > b\)' is not true!"):
        df.select(F.assert_true(df.a > df.b)).collect()


def test_with_field_and_drop_fields_reach_nested_structs(spark):
    df = spark.createDataFrame([Row(a=Row(b=1, c=2, e=Row(f=4, g=5, h=6)))])
    assert rows_of(df.select(col("a").dropFields("e.g", "e.h"))) == [((1, 2, (4,)),)]
    assert rows_of(df.select(col("a").withField("e.f", lit(9)))) == [((1, 2, (9, 5, 6)),)]
    added = df.withColumn("a", col("a").withField("d", lit(7)))
    assert rows_of(added.select("a.d")) == [(7,)]
    nulls = spark.sql("select cast(null as struct<b:int,c:int>) a union all select named_struct('b', 1, 'c', 2)")
    assert_rows(nulls.select(col("a").withField("b", lit(7))), [(None,), ((7, 2),)])
    with pytest.raises(AnalysisException, match="CANNOT_DROP_ALL_FIELDS"):
        nulls.select(col("a").dropFields("b", "c")).collect()


def test_field_of_a_struct_that_reuses_its_inputs_name(spark):
    base = spark.sql("select named_struct('b', 1, 'c', 2) a")
    df = base.select(F.struct(col("a.b"), lit(4).alias("d")).alias("a"))
    assert_df(df.select("a.d"), [("d", "int")], [(4,)])
    r = spark.sql("select a.d from (select named_struct('b', a.b, 'd', 4) a from (select named_struct('b', 1) a))")
    assert_df(r, [("d", "int")], [(4,)])


def test_a_star_among_function_arguments_is_every_column(spark):
    df = spark.createDataFrame([(1, "a"), (2, "b")], ["x", "y"])
    assert_df(
        df.select(F.hash("*"), F.xxhash64("*")),
        [("hash(x, y)", "int"), ("xxhash64(x, y)", "bigint")],
        [(573093329, -8527884376001292090), (-436607593, -7687314219880041104)],
    )


def test_encode_and_decode_take_charsets(spark):
    df = spark.createDataFrame([("aé",)], ["c"])
    r = df.select(F.encode("c", "UTF-8"), F.encode("c", "UTF-16"), F.encode("c", "ISO-8859-1"))
    assert rows_of(r) == [(bytearray(b"a\xc3\xa9"), bytearray(b"\xfe\xff\x00a\x00\xe9"), bytearray(b"a\xe9"))]
    assert one(df.select(F.decode(F.encode("c", "utf-16le"), "UTF-16LE"))) == "aé"
    with pytest.raises(Exception, match="MALFORMED_CHARACTER_CODING"):
        df.select(F.encode("c", "US-ASCII")).collect()
    with pytest.raises(Exception, match="INVALID_PARAMETER_VALUE.CHARSET"):
        df.select(F.encode("c", "EBCDIC")).collect()


def test_functions_named_and_typed_as_spark(spark):
    spark.udf.register("intX2", lambda i: i * 2, "int")
    df = spark.createDataFrame([("2015-04-08 12:12:12", "1a 2b", ["x", None])], ["ts", "s", "arr"])
    r = df.select(
        F.to_unix_timestamp("ts"),
        F.regexp_instr("s", lit(r"\d+b")),
        F.array_repeat("arr", 2),
        F.call_function("intX2", lit(3)),
        F.bitwise_not(lit(1)),
        F.factorial(F.length("s")),
    )
    assert r.columns == [
        "to_unix_timestamp(ts, yyyy-MM-dd HH:mm:ss)",
        "regexp_instr(s, \\d+b, 0)",
        "array_repeat(arr, 2)",
        "intX2(3)",
        "~1",
        "factorial(length(s))",
    ]
    assert rows_of(r.drop("to_unix_timestamp(ts, yyyy-MM-dd HH:mm:ss)")) == [
        (4, [["x", None], ["x", None]], 6, -2, 120)
    ]


def test_result_nullability_follows_the_arguments(spark):
    # Spark's nullability: a function of non-null columns is non-null
    # (upper, arithmetic, date parts), greatest only when every argument
    # may be NULL, concat_ws only for a NULL separator; constructors never.
    df = spark.createDataFrame(
        [(1, "a", None, datetime.date(2020, 1, 2))],
        "id bigint not null, s string not null, n string, d date not null",
    )
    exprs = {
        "upper(s)": False,
        "upper(n)": True,
        "id * 2": False,
        "id - 1": False,
        "lpad(s, 5, '0')": False,
        "year(d)": False,
        "date_add(d, 1)": False,
        "datediff(d, d)": False,
        "greatest(id, 1)": False,
        "greatest(n, n)": True,
        "concat_ws('-', s, n)": False,
        "struct(id, n)": False,
        "map('a', n)": False,
        "hash(n)": False,
        "rand()": False,
        "if(id > 1, s, 'x')": False,
        "if(id > 1, n, 'x')": True,
        "nvl2(n, 1, 2)": False,
        "current_date()": False,
        "split(s, ',')": False,
    }
    schema = df.selectExpr(*exprs).schema
    assert {e: f.nullable for e, f in zip(exprs, schema.fields)} == exprs
    assert schema["nvl2(n, 1, 2)"].dataType.simpleString() == "int"
    # The rows agree with the schema, NULLs where it says so.
    row = df.selectExpr("upper(s)", "upper(n)", "greatest(n, n)", "concat_ws('-', s, n)").first()
    assert tuple(row) == ("A", None, None, "a")


def test_json_tuple_is_a_generator_of_columns(spark):
    data = [("1", '{"f1": "value1", "f2": "value2"}'), ("2", '{"f1": "value12"}'), ("3", None), ("4", "bad")]
    df = spark.createDataFrame(data, ("key", "jstring"))
    rows = df.select(df.key, F.json_tuple(df.jstring, "f1", "f2")).collect()
    assert rows[0].asDict() == {"key": "1", "c0": "value1", "c1": "value2"}
    # One row per input row: NULLs for a missing field, a NULL or bad text.
    assert [tuple(r) for r in rows[1:]] == [("2", "value12", None), ("3", None, None), ("4", None, None)]
    named = df.select(F.json_tuple(df.jstring, "f1", "f2").alias("a", "b"))
    assert named.columns == ["a", "b"] and named.count() == 4
    sql = spark.sql("""SELECT k, json_tuple(v, 'a', 'b') FROM VALUES (1, '{"a": {"x": 1.50}, "b": [1, 2]}') t(k, v)""")
    assert sql.columns == ["k", "c0", "c1"]
    assert tuple(sql.first()) == (1, '{"x":1.5}', "[1,2]")
    view = spark.sql("""SELECT k, x FROM VALUES (1, '{"a": 7}') t(k, v) LATERAL VIEW json_tuple(v, 'a') j AS x""")
    assert tuple(view.first()) == (1, "7")


def test_get_json_object_wildcards_and_text(spark):
    df = spark.createDataFrame(
        [(1, '[{"f1":"value1"},{"f1":"value2"}]'), (2, '[{"f1":"value12"},{"f2":"value13"}]')], ["key", "jarray"]
    )
    rows = df.select(
        F.get_json_object("jarray", "$[*].f1").alias("c0"), F.get_json_object("jarray", "$[*].f2").alias("c1")
    ).collect()
    # Several matches make an array; one match is itself; none is NULL.
    assert [tuple(r) for r in rows] == [('["value1","value2"]', None), ('"value12"', '"value13"')]
    row = spark.sql(
        """SELECT get_json_object('[[1,[2]],[3]]', '$[*][*]') flat,
                  get_json_object('[{"a":[1,2]},{"a":[3]}]', '$[*].a[*]') nested,
                  get_json_object('{"b":1,"a":2e20,"c":1.50}', '$') copied,
                  get_json_object('{"a":12345678901234567890123}', '$.a') big,
                  get_json_object("{'a':'x'}", '$.a') single_quoted,
                  get_json_object('{"a":null}', '$.a') json_null"""
    ).first()
    assert row.asDict() == {
        "flat": "[1,2,3]",
        "nested": "[[1,2],[3]]",
        # Keys in the text's order, doubles as Java prints them.
        "copied": '{"b":1,"a":2.0E20,"c":1.5}',
        "big": "12345678901234567890123",
        "single_quoted": "x",
        "json_null": None,
    }


def test_string_functions_on_binary(spark):
    row = spark.sql(
        """SELECT contains(X'0102', X'02') c, startswith(X'0102', X'02') s, endswith(X'0102', X'02') e,
                  contains(X'0102', X'') empty, hex(reverse(X'010203')) r, hex(concat(X'0102', X'03')) cat,
                  typeof(concat(X'01', X'02')) t, typeof(concat(X'01', 'a')) mixed, contains(X'6162', 'b') text,
                  reverse(CAST(NULL AS BINARY)) n"""
    ).first()
    assert row.asDict() == {
        "c": True, "s": False, "e": True, "empty": True, "r": "030201", "cat": "010203",
        "t": "binary", "mixed": "string", "text": True, "n": None,
    }
    df = spark.createDataFrame([(bytearray(b"abc"), bytearray(b"bc"))], ["c", "d"])
    got = df.select(F.contains("c", "d"), F.startswith("c", "d"), F.endswith("c", "d"), F.reverse("c")).first()
    assert tuple(got) == (True, False, True, bytearray(b"cba"))


def test_aes_encrypt_and_decrypt(spark):
    from pyspark.errors import SparkRuntimeException

    df = spark.createDataFrame(
        [("Spark", "abcdefghijklmnop12345678ABCDEFGH", "GCM", "DEFAULT", "000000000000000000000000", "an AAD")],
        ["input", "key", "mode", "padding", "iv", "aad"],
    )
    iv = F.to_binary(df.iv, F.lit("hex"))
    sealed = df.select(F.base64(F.aes_encrypt(df.input, df.key, "mode", df.padding, iv, df.aad)).alias("b"))
    # A given IV makes the ciphertext Spark's, byte for byte (the IV first).
    assert sealed.first().b == "AAAAAAAAAAAAAAAAQiYi+sQ0cBqrpZo2YEkRpnOxhgKe"
    opened = sealed.select(
        F.aes_decrypt(F.unbase64("b"), F.lit("abcdefghijklmnop12345678ABCDEFGH"), F.lit("GCM"), F.lit("DEFAULT"), F.lit("an AAD"))
        .cast("string")
        .alias("s")
    )
    assert opened.first().s == "Spark"
    row = spark.sql(
        """SELECT hex(aes_encrypt('Spark', '0000111122223333', 'ECB')) ecb,
                  CAST(aes_decrypt(aes_encrypt('Spark SQL', '0000111122223333'), '0000111122223333') AS STRING) gcm,
                  CAST(aes_decrypt(aes_encrypt('Spark SQL', '000011112222333344445555', 'CBC'),
                                   '000011112222333344445555', 'CBC') AS STRING) cbc,
                  length(aes_encrypt('x', '0000111122223333')) gcm_length,
                  try_aes_decrypt(aes_encrypt('x', '0000111122223333'), '0000111122223334') wrong_key"""
    ).first()
    assert row.asDict() == {
        "ecb": "348FF37EBDE05B7880BA339068FBDA5E",
        "gcm": "Spark SQL",
        "cbc": "Spark SQL",
        # 12 bytes of IV, 1 of ciphertext, 16 of tag.
        "gcm_length": 29,
        "wrong_key": None,
    }
    assert spark.range(1).select(F.aes_encrypt(F.lit("x"), F.lit("0000111122223333"))).columns == [
        "aes_encrypt(x, 0000111122223333, GCM, DEFAULT, , )"
    ]
    for sql, condition in [
        ("aes_encrypt('Spark', 'abc')", "INVALID_PARAMETER_VALUE.AES_KEY_LENGTH"),
        ("aes_encrypt('Spark', '0000111122223333', 'CBC', 'NONE')", "UNSUPPORTED_FEATURE.AES_MODE"),
        ("aes_encrypt('Spark', '0000111122223333', 'ECB', 'PKCS', X'00')", "UNSUPPORTED_FEATURE.AES_MODE_IV"),
        ("aes_decrypt(aes_encrypt('x', '0000111122223333'), '0000111122223334')", "INVALID_PARAMETER_VALUE.AES_CRYPTO_ERROR"),
    ]:
        with pytest.raises(SparkRuntimeException) as e:
            spark.sql(f"SELECT {sql}").collect()
        assert e.value.getCondition() == condition, sql


def test_extract_takes_sparks_fields_and_abbreviations(spark):
    import datetime

    df = spark.createDataFrame([(datetime.datetime(2015, 4, 8, 13, 8, 15, 120004),)], ["ts"])
    got = df.select(
        F.extract(F.lit("YEAR"), "ts").alias("year"),
        F.extract(F.lit("WEEK"), "ts").alias("week"),
        F.extract(F.lit("D"), "ts").alias("day"),
        F.extract(F.lit("M"), "ts").alias("minute"),
        F.extract(F.lit("S"), "ts").alias("second"),
        F.date_part(F.lit("dow"), "ts").alias("dow"),
        F.datepart(F.lit("doy"), "ts").alias("doy"),
    )
    from decimal import Decimal

    assert tuple(got.first()) == (2015, 15, 8, 8, Decimal("15.120004"), 4, 98)
    assert got.schema["second"].dataType.simpleString() == "decimal(8,6)"
    assert df.select(F.extract(F.lit("YEAR"), "ts"), F.datepart(F.lit("doy"), "ts")).columns == [
        "extract(YEAR FROM ts)",
        "datepart(doy FROM ts)",
    ]
    row = spark.sql(
        """SELECT extract(S FROM TIMESTAMP '1969-12-31 23:59:58.25') s, extract(dow_iso FROM DATE '2015-04-08') iso,
                  date_part('qtr', DATE '2015-04-08') q, extract(yearofweek FROM DATE '2021-01-01') yw,
                  extract(hrs FROM TIMESTAMP '2015-04-08 13:08:15') h,
                  extract(month FROM INTERVAL '3-2' YEAR TO MONTH) m,
                  extract(second FROM INTERVAL '5 04:03:02.5' DAY TO SECOND) si,
                  date_part(NULL, DATE '2020-01-01') n"""
    ).first()
    assert row.asDict() == {
        "s": Decimal("58.250000"), "iso": 3, "q": 2, "yw": 2020, "h": 13, "m": 2, "si": Decimal("2.500000"), "n": None,
    }
    with pytest.raises(AnalysisException) as e:
        spark.sql("SELECT extract(foo FROM DATE '2015-04-08')").collect()
    assert e.value.getCondition() == "INVALID_EXTRACT_FIELD"
