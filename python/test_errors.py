"""Errors a user sees: exception classes, error conditions (classes), SQLSTATEs, parameters."""

import pytest
from pyspark.errors import (
    AnalysisException,
    ArithmeticException,
    DateTimeException,
    NumberFormatException,
    ParseException,
    PySparkException,
)
from pyspark.sql import functions as F
from pyspark.sql.functions import col, lit

from ember_testutil import assert_df


def raised(fn):
    with pytest.raises(PySparkException) as ei:
        fn()
    return ei.value


# ---------------------------------------------------------------- analysis errors


def test_unknown_column_dataframe_api(spark):
    df = spark.createDataFrame([(1, "a")], "id int, name string")
    with pytest.raises(AnalysisException) as ei:
        df.select("nope").collect()
    e = ei.value
    assert e.getCondition() == "UNRESOLVED_COLUMN.WITH_SUGGESTION"
    assert e.getSqlState() == "42703"
    assert e.getMessageParameters()["objectName"] == "`nope`"
    assert "`nope`" in str(e)


def test_get_error_class_matches_condition(spark):
    e = raised(lambda: spark.range(1).select("nope").collect())
    with pytest.warns(FutureWarning):
        assert e.getErrorClass() == e.getCondition() == "UNRESOLVED_COLUMN.WITH_SUGGESTION"


def test_unknown_column_suggests_candidates(spark):
    e = raised(lambda: spark.sql("SELECT nope FROM range(1)").collect())
    assert isinstance(e, AnalysisException)
    assert e.getMessageParameters() == {"objectName": "`nope`", "proposal": "`id`"}


def test_unknown_column_without_candidates(spark):
    e = raised(lambda: spark.sql("SELECT nope").collect())
    assert e.getCondition() == "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION"


def test_unknown_column_in_filter(spark):
    e = raised(lambda: spark.range(3).filter(col("zzz") > 1).collect())
    assert isinstance(e, AnalysisException)
    assert e.getCondition() == "UNRESOLVED_COLUMN.WITH_SUGGESTION"


def test_unknown_column_detected_at_schema_time(spark):
    # analysis errors surface without any action: asking for the schema is enough
    with pytest.raises(AnalysisException):
        spark.range(3).select("zzz").schema


def test_nonexistent_table_sql(spark):
    e = raised(lambda: spark.sql("SELECT * FROM no_such_table_xyz").collect())
    assert isinstance(e, AnalysisException)
    assert e.getCondition() == "TABLE_OR_VIEW_NOT_FOUND"
    assert e.getSqlState() == "42P01"
    assert e.getMessageParameters()["relationName"] == "`no_such_table_xyz`"


def test_nonexistent_table_spark_table(spark):
    e = raised(lambda: spark.table("no_such_table_xyz").collect())
    assert isinstance(e, AnalysisException)
    assert e.getCondition() == "TABLE_OR_VIEW_NOT_FOUND"


def test_unknown_function(spark):
    e = raised(lambda: spark.sql("SELECT no_such_fn(1)").collect())
    assert isinstance(e, AnalysisException)
    assert e.getCondition() == "UNRESOLVED_ROUTINE"
    assert e.getMessageParameters()["routineName"] == "`no_such_fn`"


def test_wrong_number_of_arguments(spark):
    e = raised(lambda: spark.sql("SELECT abs()").collect())
    assert isinstance(e, AnalysisException)
    assert e.getCondition() == "WRONG_NUM_ARGS.WITHOUT_SUGGESTION"


def test_data_type_mismatch(spark):
    e = raised(lambda: spark.sql("SELECT array(1) + 1").collect())
    assert isinstance(e, AnalysisException)
    assert e.getCondition() == "DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES"
    assert e.getSqlState() == "42K09"


def test_missing_group_by(spark):
    e = raised(lambda: spark.sql("SELECT id, count(*) FROM range(3)").collect())
    assert isinstance(e, AnalysisException)
    assert e.getCondition() == "MISSING_GROUP_BY"


def test_non_aggregated_column(spark):
    e = raised(lambda: spark.sql("SELECT id, count(*) FROM range(3) GROUP BY id % 2").collect())
    assert isinstance(e, AnalysisException)
    assert e.getCondition() == "MISSING_AGGREGATION"


def test_group_by_position_out_of_range(spark):
    e = raised(lambda: spark.sql("SELECT id FROM range(2) GROUP BY 2").collect())
    assert e.getCondition() == "GROUP_BY_POS_OUT_OF_RANGE"


# ---------------------------------------------------------------- parse errors


def test_bad_sql_raises_parse_exception(spark):
    with pytest.raises(ParseException) as ei:
        spark.sql("SELEC 1").collect()
    e = ei.value
    assert e.getCondition() == "PARSE_SYNTAX_ERROR"
    assert e.getSqlState() == "42601"
    assert e.getMessageParameters()["error"] == "'SELEC'"


def test_parse_exception_is_analysis_exception(spark):
    with pytest.raises(AnalysisException):
        spark.sql("SELECT 1 +").collect()


def test_parse_error_at_end_of_input(spark):
    with pytest.raises(ParseException) as ei:
        spark.sql("SELECT (1").collect()
    assert ei.value.getCondition() == "PARSE_SYNTAX_ERROR"
    assert ei.value.getMessageParameters()["error"] == "end of input"


def test_bad_expression_string_raises_parse_exception(spark):
    with pytest.raises(ParseException):
        spark.range(1).selectExpr("id +* 2").collect()


def test_bad_ddl_schema_string(spark):
    with pytest.raises(ParseException):
        spark.createDataFrame([(1,)], "a innt").collect()


# ---------------------------------------------------------------- runtime errors (ANSI)


def test_divide_by_zero_sql(spark):
    with pytest.raises(ArithmeticException) as ei:
        spark.sql("SELECT 1/0").collect()
    e = ei.value
    assert e.getCondition() == "DIVIDE_BY_ZERO"
    assert e.getSqlState() == "22012"
    assert "try_divide" in str(e)


def test_divide_by_zero_dataframe(spark):
    df = spark.createDataFrame([(1, 0)], "a int, b int")
    with pytest.raises(ArithmeticException) as ei:
        df.select(col("a") / col("b")).collect()
    assert ei.value.getCondition() == "DIVIDE_BY_ZERO"


def test_integral_divide_by_zero(spark):
    e = raised(lambda: spark.sql("SELECT 1 div 0").collect())
    assert isinstance(e, ArithmeticException)
    assert e.getCondition() == "DIVIDE_BY_ZERO"


def test_remainder_by_zero(spark):
    e = raised(lambda: spark.sql("SELECT 5 % 0").collect())
    assert isinstance(e, ArithmeticException)
    assert e.getCondition() == "REMAINDER_BY_ZERO"


def test_divide_by_zero_only_when_row_reaches_it(spark):
    df = spark.createDataFrame([(1, 0), (2, 1)], "a int, b int")
    rows = df.where("b != 0").select((col("a") / col("b")).alias("q")).collect()
    assert [r.q for r in rows] == [2.0]


def test_invalid_cast_string_to_int(spark):
    with pytest.raises(NumberFormatException) as ei:
        spark.sql("SELECT CAST('12x' AS INT)").collect()
    e = ei.value
    assert e.getCondition() == "CAST_INVALID_INPUT"
    assert e.getSqlState() == "22018"
    assert e.getMessageParameters()["expression"] == "'12x'"
    assert e.getMessageParameters()["targetType"] == '"INT"'


def test_invalid_cast_string_to_date(spark):
    with pytest.raises(DateTimeException) as ei:
        spark.sql("SELECT CAST('x' AS DATE)").collect()
    assert ei.value.getCondition() == "CAST_INVALID_INPUT"


def test_implicit_string_to_number_in_arithmetic(spark):
    with pytest.raises(NumberFormatException) as ei:
        spark.sql("SELECT 'a' + 1").collect()
    assert ei.value.getCondition() == "CAST_INVALID_INPUT"
    assert ei.value.getMessageParameters()["targetType"] == '"BIGINT"'


def test_numeric_string_in_arithmetic_works(spark):
    r = spark.sql("SELECT '2' + 1 AS x").first()
    assert r.x == 3


def test_numeric_strings_take_the_other_operands_type(spark):
    df = spark.sql("SELECT '2' * 2L AS a, '2' + 1.5 AS b, 1 / '2' AS c, '7' div 2 AS d, '7' % 2 AS e")
    assert_df(df, [("a", "bigint"), ("b", "double"), ("c", "double"), ("d", "bigint"), ("e", "bigint")], [(4, 3.5, 0.5, 3, 1)])
    df = spark.range(1).select((F.lit("2") + F.col("id")).alias("x"))
    assert_df(df, [("x", "bigint")], [(2,)])


def test_numeric_strings_are_doubles_without_ansi(spark):
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        df = spark.sql("SELECT '2' + 1 AS a, 'a' + 1 AS b")
        assert_df(df, [("a", "double"), ("b", "double")], [(3.0, None)])
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")


def test_cast_overflow(spark):
    e = raised(lambda: spark.sql("SELECT CAST(1e40D AS INT)").collect())
    assert isinstance(e, ArithmeticException)
    assert e.getCondition() == "CAST_OVERFLOW"


def test_long_overflow_in_multiplication(spark):
    e = raised(lambda: spark.range(1).select(lit(9223372036854775807) * 2).collect())
    assert isinstance(e, ArithmeticException)
    assert e.getCondition() == "ARITHMETIC_OVERFLOW"


def test_raise_error_function(spark):
    e = raised(lambda: spark.sql("SELECT raise_error('custom boom')").collect())
    assert e.getCondition() == "USER_RAISED_EXCEPTION"
    assert "custom boom" in str(e)


def test_assert_true_passes_and_raise_error_needs_a_row(spark):
    df = spark.sql("SELECT assert_true(1 < 2) AS a")
    assert [f.dataType.simpleString() for f in df.schema.fields] == ["void"]
    assert df.collect() == [(None,)]
    assert spark.sql("SELECT raise_error('never') FROM range(0)").collect() == []


def test_assert_true_failure(spark):
    e = raised(lambda: spark.range(1).select(F.assert_true(lit(False), "must hold")).collect())
    assert "must hold" in str(e)


# ---------------------------------------------------------------- recovery


def test_session_usable_after_errors(spark):
    for q in ("SELECT 1/0", "SELEC", "SELECT nope"):
        with pytest.raises(PySparkException):
            spark.sql(q).collect()
    assert spark.range(3).count() == 3


def test_all_errors_share_pyspark_exception_base(spark):
    for q in ("SELECT 1/0", "SELEC", "SELECT nope", "SELECT CAST('x' AS INT)"):
        with pytest.raises(PySparkException):
            spark.sql(q).collect()


def test_function_argument_of_wrong_type_is_datatype_mismatch(spark):
    for q in ("SELECT md5(5)", "SELECT soundex(12)", "SELECT base64(5)"):
        with pytest.raises(AnalysisException) as e:
            spark.sql(q).collect()
        assert e.value.getCondition() == "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE", q
        assert e.value.getSqlState() == "42K09"
