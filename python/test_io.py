"""Reading and writing files: parquet, csv, json, text; save modes; partitioning; CSV options."""

import datetime
import decimal
import os

import pytest
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import functions as F
from pyspark.sql.functions import col

from ember_testutil import assert_df, assert_rows, assert_schema

D = decimal.Decimal

ROWS = [(1, "a", 1.5, datetime.date(2024, 1, 1)), (2, "b", None, datetime.date(2024, 1, 2)), (3, None, 3.5, None)]
SCHEMA = "id int, s string, x double, d date"


@pytest.fixture
def sample(spark):
    return spark.createDataFrame(ROWS, SCHEMA)


# ---------------------------------------------------------------- round trips


def test_parquet_round_trip_keeps_types(spark, sample, out_dir):
    sample.write.parquet(out_dir)
    back = spark.read.parquet(out_dir)
    assert_df(back, [("id", "int"), ("s", "string"), ("x", "double"), ("d", "date")], ROWS)


def test_parquet_round_trip_nested_and_decimal(spark, out_dir):
    df = spark.createDataFrame(
        [(1, D("12.345"), [1, 2], {"k": "v"}, (1, "x"), datetime.datetime(2024, 5, 6, 7, 8, 9))],
        "id bigint, m decimal(12,3), arr array<int>, mp map<string,string>, st struct<a:int,b:string>, ts timestamp",
    )
    df.write.parquet(out_dir)
    back = spark.read.parquet(out_dir)
    assert_df(
        back,
        [
            ("id", "bigint"),
            ("m", "decimal(12,3)"),
            ("arr", "array<int>"),
            ("mp", "map<string,string>"),
            ("st", "struct<a:int,b:string>"),
            ("ts", "timestamp"),
        ],
        [(1, D("12.345"), [1, 2], {"k": "v"}, (1, "x"), datetime.datetime(2024, 5, 6, 7, 8, 9))],
    )


def test_format_and_save_load(spark, sample, out_dir):
    sample.write.format("parquet").save(out_dir)
    assert spark.read.format("parquet").load(out_dir).count() == 3


def test_parquet_writes_part_files(sample, out_dir):
    sample.write.parquet(out_dir)
    names = os.listdir(out_dir)
    assert any(n.startswith("part-") and n.endswith(".parquet") for n in names)
    assert "_SUCCESS" in names


def test_csv_round_trip_with_header(spark, sample, out_dir):
    sample.write.option("header", True).csv(out_dir)
    back = spark.read.option("header", True).csv(out_dir)
    assert_schema(back, [("id", "string"), ("s", "string"), ("x", "string"), ("d", "string")])
    assert_rows(back, [("1", "a", "1.5", "2024-01-01"), ("2", "b", None, "2024-01-02"), ("3", None, "3.5", None)])


def test_csv_round_trip_with_schema(spark, sample, out_dir):
    sample.write.csv(out_dir, header=True)
    back = spark.read.schema(SCHEMA).csv(out_dir, header=True)
    assert_df(back, [("id", "int"), ("s", "string"), ("x", "double"), ("d", "date")], ROWS)


def test_csv_without_header_names_columns_c0(spark, sample, out_dir):
    sample.select("id", "s").write.csv(out_dir)
    back = spark.read.csv(out_dir)
    assert back.columns == ["_c0", "_c1"]
    assert_rows(back, [("1", "a"), ("2", "b"), ("3", None)])


def test_json_round_trip(spark, sample, out_dir):
    sample.write.json(out_dir)
    back = spark.read.json(out_dir)
    # JSON inference: columns sorted by name, integers as bigint, dates as strings.
    assert_schema(back, [("d", "string"), ("id", "bigint"), ("s", "string"), ("x", "double")])
    assert_rows(back, [("2024-01-01", 1, "a", 1.5), ("2024-01-02", 2, "b", None), (None, 3, None, 3.5)])


def test_json_omits_null_fields(sample, out_dir):
    sample.coalesce(1).write.json(out_dir)
    part = [n for n in os.listdir(out_dir) if n.startswith("part-")][0]
    lines = open(os.path.join(out_dir, part)).read().splitlines()
    assert lines == [
        '{"id":1,"s":"a","x":1.5,"d":"2024-01-01"}',
        '{"id":2,"s":"b","d":"2024-01-02"}',
        '{"id":3,"x":3.5}',
    ]


def test_csv_written_text(sample, out_dir):
    sample.coalesce(1).write.option("header", True).csv(out_dir)
    part = [n for n in os.listdir(out_dir) if n.startswith("part-")][0]
    assert open(os.path.join(out_dir, part)).read() == "id,s,x,d\n1,a,1.5,2024-01-01\n2,b,,2024-01-02\n3,,3.5,\n"


def test_text_round_trip(spark, out_dir):
    spark.createDataFrame([("hello",), ("world",)], "value string").write.text(out_dir)
    back = spark.read.text(out_dir)
    assert_df(back, [("value", "string")], [("hello",), ("world",)])


def test_text_read_lines(spark, write_file):
    path = write_file("t.txt", "line one\nline two\n\nlast")
    assert_rows(spark.read.text(path), [("line one",), ("line two",), ("",), ("last",)], ordered=True)


# ---------------------------------------------------------------- save modes


def test_mode_error_is_default_and_raises_when_path_exists(spark, sample, out_dir):
    sample.write.parquet(out_dir)
    with pytest.raises(AnalysisException) as ei:
        sample.write.parquet(out_dir)
    assert ei.value.getCondition() == "PATH_ALREADY_EXISTS"


def test_mode_error_explicit_raises(spark, sample, out_dir):
    # (the Connect client itself rejects the alias "errorifexists")
    sample.write.parquet(out_dir)
    with pytest.raises(AnalysisException) as ei:
        sample.write.mode("error").parquet(out_dir)
    assert ei.value.getCondition() == "PATH_ALREADY_EXISTS"


def test_mode_append(spark, sample, out_dir):
    sample.write.parquet(out_dir)
    sample.write.mode("append").parquet(out_dir)
    assert spark.read.parquet(out_dir).count() == 6


def test_mode_overwrite(spark, sample, out_dir):
    sample.write.parquet(out_dir)
    spark.range(2).write.mode("overwrite").parquet(out_dir)
    assert_df(spark.read.parquet(out_dir), [("id", "bigint")], [(0,), (1,)])


def test_read_after_each_write_sees_the_new_files(spark, out_dir):
    # A read between writes must not keep the directory's old listing.
    spark.range(3).write.parquet(out_dir)
    assert spark.read.parquet(out_dir).count() == 3
    spark.range(5).write.mode("overwrite").parquet(out_dir)
    assert spark.read.parquet(out_dir).count() == 5
    spark.range(2).write.mode("append").parquet(out_dir)
    assert spark.read.parquet(out_dir).count() == 7


def test_write_computed_columns_of_a_file_read(spark, out_dir):
    # A projection over a file scan, then a write (it numbers files by partition).
    spark.range(3).write.parquet(out_dir + "/in")
    spark.read.parquet(out_dir + "/in").select((col("id") + 1).alias("x")).write.parquet(out_dir + "/out")
    assert_df(spark.read.parquet(out_dir + "/out"), [("x", "bigint")], [(1,), (2,), (3,)])


def test_mode_ignore(spark, sample, out_dir):
    sample.write.parquet(out_dir)
    spark.range(2).write.mode("ignore").parquet(out_dir)
    assert spark.read.parquet(out_dir).columns == ["id", "s", "x", "d"]
    assert spark.read.parquet(out_dir).count() == 3


def test_mode_keyword_argument(spark, sample, out_dir):
    sample.write.csv(out_dir)
    sample.write.csv(out_dir, mode="overwrite", header=True)
    assert spark.read.csv(out_dir, header=True).count() == 3


# ---------------------------------------------------------------- partitioning


def test_partition_by_round_trip(spark, out_dir):
    df = spark.createDataFrame([(1, "x", 2024), (2, "y", 2024), (3, "z", 2025)], "id int, v string, year int")
    df.write.partitionBy("year").parquet(out_dir)
    assert sorted(n for n in os.listdir(out_dir) if n.startswith("year=")) == ["year=2024", "year=2025"]
    back = spark.read.parquet(out_dir)
    assert_df(back, [("id", "int"), ("v", "string"), ("year", "int")], [(1, "x", 2024), (2, "y", 2024), (3, "z", 2025)])


def test_partition_pruning_filter(spark, out_dir):
    df = spark.createDataFrame([(1, "a"), (2, "b"), (3, "a")], "id int, part string")
    df.write.partitionBy("part").parquet(out_dir)
    back = spark.read.parquet(out_dir).where(col("part") == "a")
    assert_df(back, [("id", "int"), ("part", "string")], [(1, "a"), (3, "a")])


def test_partition_by_string_values_on_csv(spark, out_dir):
    df = spark.createDataFrame([(1, "n1"), (2, "n2")], "id int, k string")
    df.write.partitionBy("k").option("header", True).csv(out_dir)
    back = spark.read.option("header", True).csv(out_dir)
    assert back.columns == ["id", "k"]
    assert_rows(back, [("1", "n1"), ("2", "n2")])


def test_read_single_partition_directory(spark, out_dir):
    spark.createDataFrame([(1, 7), (2, 8)], "id int, p int").write.partitionBy("p").parquet(out_dir)
    back = spark.read.parquet(os.path.join(out_dir, "p=7"))
    assert_df(back, [("id", "int")], [(1,)])


# ---------------------------------------------------------------- CSV reading options


def test_csv_infer_schema_types(spark, write_file):
    path = write_file(
        "infer.csv",
        "small,big,dec,day,ts,word,flag\n"
        "1,10000000000,1.5,2024-01-15,2024-01-15 10:30:00,abc,true\n"
        "2,20000000000,2.25,2024-02-29,2024-02-29 23:59:59,def,false\n",
    )
    df = spark.read.csv(path, header=True, inferSchema=True)
    assert_df(
        df,
        [
            ("small", "int"),
            ("big", "bigint"),
            ("dec", "double"),
            ("day", "date"),
            ("ts", "timestamp"),
            ("word", "string"),
            ("flag", "boolean"),
        ],
        [
            (1, 10000000000, 1.5, datetime.date(2024, 1, 15), datetime.datetime(2024, 1, 15, 10, 30), "abc", True),
            (2, 20000000000, 2.25, datetime.date(2024, 2, 29), datetime.datetime(2024, 2, 29, 23, 59, 59), "def", False),
        ],
    )


def test_csv_infer_schema_mixed_column_falls_back_to_string(spark, write_file):
    path = write_file("mixed.csv", "a,b\n1,2\nx,3.5\n")
    df = spark.read.csv(path, header=True, inferSchema=True)
    assert_df(df, [("a", "string"), ("b", "double")], [("1", 2.0), ("x", 3.5)])


def test_csv_without_infer_schema_is_all_strings(spark, write_file):
    path = write_file("plain.csv", "a,b\n1,2.5\n")
    assert_df(spark.read.csv(path, header=True), [("a", "string"), ("b", "string")], [("1", "2.5")])


def test_csv_sep_option(spark, write_file):
    path = write_file("semi.csv", "a;b\n1;x\n2;y\n")
    df = spark.read.option("sep", ";").option("header", "true").option("inferSchema", "true").csv(path)
    assert_df(df, [("a", "int"), ("b", "string")], [(1, "x"), (2, "y")])


def test_csv_delimiter_option_tab(spark, write_file):
    path = write_file("tab.tsv", "a\tb\n1\tx y\n")
    df = spark.read.options(delimiter="\t", header=True).csv(path)
    assert_rows(df, [("1", "x y")])


def test_csv_null_value(spark, write_file):
    path = write_file("nulls.csv", "a,b\n1,NA\nNA,x\n")
    df = spark.read.csv(path, header=True, nullValue="NA", inferSchema=True)
    assert_df(df, [("a", "int"), ("b", "string")], [(1, None), (None, "x")])


def test_csv_empty_field_is_null(spark, write_file):
    path = write_file("empty.csv", "a,b\n1,\n,x\n")
    assert_rows(spark.read.csv(path, header=True), [("1", None), (None, "x")])


def test_csv_quoted_fields_with_delimiter(spark, write_file):
    path = write_file("quoted.csv", 'a,b\n1,"x, y"\n2,"say ""hi"""\n')
    assert_rows(spark.read.csv(path, header=True, escape='"'), [("1", "x, y"), ("2", 'say "hi"')])


def test_csv_custom_quote(spark, write_file):
    path = write_file("squote.csv", "a,b\n1,'x,y'\n")
    assert_rows(spark.read.csv(path, header=True, quote="'"), [("1", "x,y")])


def test_csv_default_escape_is_backslash(spark, write_file):
    path = write_file("escape.csv", 'a,b\n1,"he said \\"ok\\""\n')
    assert_rows(spark.read.csv(path, header=True), [("1", 'he said "ok"')])


def test_csv_custom_escape(spark, write_file):
    path = write_file("escape2.csv", 'a,b\n1,"x#"y"\n')
    assert_rows(spark.read.csv(path, header=True, escape="#"), [("1", 'x"y')])


def test_csv_comment(spark, write_file):
    path = write_file("comment.csv", "a,b\n# a comment line\n1,x\n#another\n2,y\n")
    assert_rows(spark.read.csv(path, header=True, comment="#"), [("1", "x"), ("2", "y")])


def test_csv_multiline(spark, write_file):
    path = write_file("multi.csv", 'id,text\n1,"line one\nline two"\n2,plain\n')
    df = spark.read.csv(path, header=True, multiLine=True)
    assert_rows(df, [("1", "line one\nline two"), ("2", "plain")])


def test_csv_date_format(spark, write_file):
    path = write_file("dates.csv", "d\n15/01/2024\n29/02/2024\n")
    df = spark.read.schema("d date").csv(path, header=True, dateFormat="dd/MM/yyyy")
    assert_df(df, [("d", "date")], [(datetime.date(2024, 1, 15),), (datetime.date(2024, 2, 29),)])


def test_csv_timestamp_format(spark, write_file):
    path = write_file("ts.csv", "t\n15/01/2024 08:09\n")
    df = spark.read.schema("t timestamp").csv(path, header=True, timestampFormat="dd/MM/yyyy HH:mm")
    assert_rows(df, [(datetime.datetime(2024, 1, 15, 8, 9),)])


def test_csv_permissive_mode_nulls_bad_fields(spark, write_file):
    path = write_file("bad.csv", "a,b\n1,x\noops,y\n3,z\n")
    df = spark.read.schema("a int, b string").csv(path, header=True)
    assert_rows(df, [(1, "x"), (None, "y"), (3, "z")])


def test_csv_drop_malformed(spark, write_file):
    path = write_file("bad.csv", "a,b\n1,x\noops,y\n3,z\n")
    df = spark.read.schema("a int, b string").csv(path, header=True, mode="DROPMALFORMED")
    assert_rows(df, [(1, "x"), (3, "z")])


def test_csv_failfast_names_malformed_record(spark, write_file):
    path = write_file("bad.csv", "a,b\n1,x\noops,y\n3,z\n")
    df = spark.read.schema("a int, b string").csv(path, header=True, mode="FAILFAST")
    with pytest.raises(PySparkException) as ei:
        df.collect()
    # Spark reports the file, with the parse failure (and the partially parsed record) as its cause.
    assert ei.value.getCondition() == "FAILED_READ_FILE.NO_HINT"
    msg = str(ei.value)
    assert path in msg
    assert "MALFORMED_RECORD_IN_PARSING" in msg
    assert "[null,y]" in msg


def test_csv_schema_from_ddl_with_fewer_columns_in_file(spark, write_file):
    path = write_file("short.csv", "1,x\n2\n")
    df = spark.read.schema("a int, b string").csv(path)
    assert_rows(df, [(1, "x"), (2, None)])


def test_csv_read_directory_of_files(spark, tmp_path):
    d = tmp_path / "many"
    d.mkdir()
    (d / "p1.csv").write_text("a\n1\n")
    (d / "p2.csv").write_text("a\n2\n")
    assert_rows(spark.read.csv(str(d), header=True, inferSchema=True), [(1,), (2,)])


def test_csv_read_list_of_paths(spark, write_file):
    p1 = write_file("one.csv", "a\n1\n")
    p2 = write_file("two.csv", "a\n2\n")
    assert spark.read.csv([p1, p2], header=True).count() == 2


def test_csv_ignore_leading_trailing_whitespace_defaults(spark, write_file):
    path = write_file("ws.csv", "a,b\n  x  , y\n")
    assert_rows(spark.read.csv(path, header=True), [("  x  ", " y")])


# ---------------------------------------------------------------- JSON reading


def test_json_lines_infer(spark, write_file):
    path = write_file("d.json", '{"a": 1, "b": "x", "c": [1, 2]}\n{"a": 2, "n": {"k": true}}\n')
    df = spark.read.json(path)
    assert_schema(df, [("a", "bigint"), ("b", "string"), ("c", "array<bigint>"), ("n", "struct<k:boolean>")])
    assert_rows(df, [(1, "x", [1, 2], None), (2, None, None, (True,))])


def test_json_multiline(spark, write_file):
    path = write_file("multi.json", '[\n  {"a": 1, "b": 2.5},\n  {"a": 3, "b": null}\n]\n')
    df = spark.read.option("multiLine", True).json(path)
    assert_df(df, [("a", "bigint"), ("b", "double")], [(1, 2.5), (3, None)])


def test_json_with_schema(spark, write_file):
    path = write_file("s.json", '{"a": 1, "b": "2024-01-02"}\n')
    df = spark.read.schema("a int, b date").json(path)
    assert_df(df, [("a", "int"), ("b", "date")], [(1, datetime.date(2024, 1, 2))])


def test_json_corrupt_record_column(spark, write_file):
    path = write_file("bad.json", '{"a": 1}\nnot json\n')
    df = spark.read.json(path)
    assert df.columns == ["_corrupt_record", "a"]
    assert_rows(df, [(None, 1), ("not json", None)])


def test_json_malformed_lines_follow_the_parse_mode(spark, write_file):
    path = write_file("bad2.json", '{"a": 1, "b": "x"}\n{"a": "q"}\n{"a": 2\n')
    df = spark.read.json(path)
    assert_df(df, [("_corrupt_record", "string"), ("a", "string"), ("b", "string")],
              [(None, "1", "x"), (None, "q", None), ('{"a": 2', None, None)])
    assert_df(spark.read.json(path, mode="DROPMALFORMED"), [("a", "string"), ("b", "string")], [("1", "x"), ("q", None)])
    assert spark.read.json(path, columnNameOfCorruptRecord="bad").columns == ["a", "b", "bad"]
    with pytest.raises(PySparkException) as ei:
        spark.read.json(path, mode="FAILFAST").collect()
    assert ei.value.getCondition() == "MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION"


# ---------------------------------------------------------------- errors and misc


def test_read_nonexistent_path_raises_path_not_found(spark, tmp_path):
    with pytest.raises(AnalysisException) as ei:
        spark.read.parquet(str(tmp_path / "does-not-exist")).collect()
    assert ei.value.getCondition() == "PATH_NOT_FOUND"


def test_read_nonexistent_csv_raises_path_not_found(spark, tmp_path):
    with pytest.raises(AnalysisException) as ei:
        spark.read.csv(str(tmp_path / "nope.csv")).collect()
    assert ei.value.getCondition() == "PATH_NOT_FOUND"


def test_input_files(spark, sample, out_dir):
    sample.coalesce(1).write.parquet(out_dir)
    files = spark.read.parquet(out_dir).inputFiles()
    assert len(files) == 1
    assert files[0].endswith(".parquet") and out_dir in files[0]


def test_input_file_name(spark, write_file):
    path = write_file("ifn.csv", "a\n1\n")
    r = spark.read.csv(path, header=True).select(F.input_file_name()).first()
    assert r[0].endswith("/ifn.csv")


def test_write_then_sql_on_files(spark, sample, out_dir):
    sample.write.parquet(out_dir)
    df = spark.sql(f"SELECT count(*) FROM parquet.`{out_dir}`")
    assert_rows(df, [(3,)])


def test_sql_on_files_joins_and_names_missing_paths(spark, out_dir):
    spark.range(5).selectExpr("id", "id * 2 AS Two").write.parquet(out_dir)
    df = spark.sql(f"SELECT a.id FROM parquet.`{out_dir}` a JOIN parquet.`{out_dir}` b ON a.id = b.Two")
    assert_rows(df, [(0,), (2,), (4,)])
    assert [t.name for t in spark.catalog.listTables() if "file" in t.name] == []
    with pytest.raises(AnalysisException) as ei:
        spark.sql(f"SELECT * FROM parquet.`{out_dir}-missing`").collect()
    assert ei.value.getCondition() == "PATH_NOT_FOUND"


def test_save_as_text_requires_single_string_column(spark, out_dir):
    with pytest.raises(AnalysisException) as ei:
        spark.range(2).write.text(out_dir)
    assert ei.value.getCondition() == "UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE"
    assert ei.value.getMessageParameters()["columnType"] == '"BIGINT"'
    with pytest.raises(AnalysisException) as ei:
        spark.sql("SELECT 'a' AS x, 'b' AS y").write.text(out_dir)
    assert "supports only a single column" in str(ei.value)
    assert not os.path.exists(out_dir)


def test_read_parquet_multiple_files_unions(spark, tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    spark.range(3).write.parquet(a)
    spark.range(10, 12).write.parquet(b)
    assert sorted(r.id for r in spark.read.parquet(a, b).collect()) == [0, 1, 2, 10, 11]


def _data_files(path):
    return sorted(f for f in os.listdir(path) if f.startswith("part-"))


def test_coalesce_one_writes_one_file(spark, tmp_path):
    out = str(tmp_path / "one")
    spark.range(200_000).coalesce(1).write.csv(out)
    assert len(_data_files(out)) == 1
    assert spark.read.csv(out).count() == 200_000


def test_repartition_n_writes_n_files(spark, tmp_path):
    out = str(tmp_path / "three")
    spark.range(100).repartition(3).write.parquet(out)
    assert len(_data_files(out)) == 3
    assert sorted(r.id for r in spark.read.parquet(out).collect()) == list(range(100))


def test_text_schema_names_the_column_and_empty_directories_read_with_a_schema(spark, tmp_path):
    text = str(tmp_path / "text")
    spark.createDataFrame([("a",), ("b",)], "alphabets string").write.format("text").save(text)
    got = spark.read.schema("alphabets string").text(text).sort("alphabets")
    assert_df(got, [("alphabets", "string")], [("a",), ("b",)], ordered=True)
    with pytest.raises(AnalysisException):
        spark.read.schema("a string, b int").text(text).collect()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_df(spark.read.schema("col0 INT, col1 DOUBLE").csv(str(empty)), [("col0", "int"), ("col1", "double")], [])
    assert spark.read.schema("col0 INT").parquet(str(empty)).count() == 0
    with pytest.raises(AnalysisException) as e:
        spark.read.csv(str(empty)).collect()
    assert e.value.getCondition() == "UNABLE_TO_INFER_SCHEMA"


def test_parquet_merge_schema_of_several_paths(spark, tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    spark.createDataFrame([(100, "x")], "age bigint, name string").write.parquet(a)
    spark.createDataFrame([(170, "y")], "height bigint, name string").write.parquet(b)
    merged = spark.read.option("mergeSchema", "true").parquet(a, b).select("name", "age", "height")
    assert_df(merged, [("name", "string"), ("age", "bigint"), ("height", "bigint")], [("x", 100, None), ("y", None, 170)])
