"""Tables of the default database: CREATE TABLE … USING, CTAS, INSERT INTO/OVERWRITE, TRUNCATE,
DROP TABLE, saveAsTable/insertInto and the catalog's view of them."""

import datetime
import os
import shutil

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql.types import LongType, StringType, StructField, StructType

from ember_testutil import assert_df, assert_rows

TABLES = ["tt_a", "tt_b", "tt_part", "tt_ext", "tt_csv", "tt_saved", "tt_cat", "tt_shadow", "tt_dated", "tt_json"]


@pytest.fixture(autouse=True)
def clean(spark):
    for t in TABLES:
        spark.sql(f"DROP TABLE IF EXISTS {t}")
    yield
    for t in TABLES:
        spark.sql(f"DROP TABLE IF EXISTS {t}")
    spark.catalog.dropTempView("tt_shadow")


def warehouse(spark):
    return spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")


def test_create_insert_select(spark):
    spark.sql("CREATE TABLE tt_a (a INT, b STRING) USING parquet")
    assert_df(spark.table("tt_a"), [("a", "int"), ("b", "string")], [])
    spark.sql("INSERT INTO tt_a VALUES (1, 'x'), (2, 'y')")
    spark.sql("INSERT INTO TABLE tt_a SELECT 3, 'z'")
    assert_df(spark.sql("SELECT * FROM tt_a ORDER BY a"), [("a", "int"), ("b", "string")], [(1, "x"), (2, "y"), (3, "z")])
    # The same table under its qualified names.
    assert spark.sql("SELECT count(*) FROM default.tt_a").first()[0] == 3
    assert spark.sql("SELECT count(*) FROM spark_catalog.default.tt_a").first()[0] == 3


def test_insert_overwrite_replaces_rows(spark):
    spark.sql("CREATE TABLE tt_a (a INT, b STRING) USING parquet")
    spark.sql("INSERT INTO tt_a VALUES (1, 'x'), (2, 'y')")
    spark.sql("INSERT OVERWRITE tt_a SELECT 11, 'x'")
    assert_rows(spark.table("tt_a"), [(11, "x")])
    # Spark refuses to overwrite a table the query reads.
    with pytest.raises(AnalysisException) as e:
        spark.sql("INSERT OVERWRITE tt_a SELECT a + 1, b FROM tt_a")
    assert e.value.getCondition() == "UNSUPPORTED_OVERWRITE.TABLE"
    assert_rows(spark.table("tt_a"), [(11, "x")])


def test_insert_casts_to_the_column_types(spark):
    spark.sql("CREATE TABLE tt_a (a BIGINT, b DOUBLE) USING parquet")
    spark.sql("INSERT INTO tt_a SELECT 1, 2")
    assert_df(spark.table("tt_a"), [("a", "bigint"), ("b", "double")], [(1, 2.0)])


def test_insert_column_list_matches_by_name(spark):
    spark.sql("CREATE TABLE tt_a (a INT, b STRING) USING parquet")
    spark.sql("INSERT INTO tt_a (b, a) VALUES ('x', 1)")
    # Columns left out of the list are NULL.
    spark.sql("INSERT INTO tt_a (a) VALUES (2)")
    assert_rows(spark.sql("SELECT * FROM tt_a ORDER BY a"), [(1, "x"), (2, None)])


def test_insert_errors(spark):
    spark.sql("CREATE TABLE tt_a (a INT, b STRING) USING parquet")
    with pytest.raises(AnalysisException) as e:
        spark.sql("INSERT INTO tt_a VALUES (1, 'x', 3)")
    assert e.value.getCondition() == "INSERT_COLUMN_ARITY_MISMATCH.TOO_MANY_DATA_COLUMNS"
    with pytest.raises(AnalysisException) as e:
        spark.sql("INSERT INTO tt_a VALUES (1)")
    assert e.value.getCondition() == "INSERT_COLUMN_ARITY_MISMATCH.NOT_ENOUGH_DATA_COLUMNS"
    with pytest.raises(AnalysisException) as e:
        spark.sql("INSERT INTO tt_a VALUES ('q', 'x')")
    assert e.value.getCondition() == "INCOMPATIBLE_DATA_FOR_TABLE.CANNOT_SAFELY_CAST"
    with pytest.raises(AnalysisException) as e:
        spark.sql("INSERT INTO tt_nosuch VALUES (1)")
    assert e.value.getCondition() == "TABLE_OR_VIEW_NOT_FOUND"


def test_create_twice(spark):
    spark.sql("CREATE TABLE tt_a (a INT) USING parquet")
    spark.sql("INSERT INTO tt_a VALUES (1)")
    with pytest.raises(AnalysisException) as e:
        spark.sql("CREATE TABLE tt_a (a INT) USING parquet")
    assert e.value.getCondition() == "TABLE_OR_VIEW_ALREADY_EXISTS"
    spark.sql("CREATE TABLE IF NOT EXISTS tt_a (b STRING) USING parquet")
    assert_df(spark.table("tt_a"), [("a", "int")], [(1,)])
    # Spark's session catalog does not replace tables.
    with pytest.raises(AnalysisException) as e:
        spark.sql("CREATE OR REPLACE TABLE tt_a USING parquet AS SELECT 'new' AS b")
    assert e.value.getCondition() == "UNSUPPORTED_FEATURE.TABLE_OPERATION"
    assert_df(spark.table("tt_a"), [("a", "int")], [(1,)])


def test_ctas_partitioned_puts_partition_columns_last(spark):
    spark.sql("CREATE TABLE tt_part USING parquet PARTITIONED BY (p) AS SELECT 'v' AS p, 1 AS x UNION ALL SELECT 'w', 2")
    assert_df(spark.sql("SELECT * FROM tt_part ORDER BY x"), [("x", "int"), ("p", "string")], [(1, "v"), (2, "w")])
    cols = {c.name: c.isPartition for c in spark.catalog.listColumns("tt_part")}
    assert cols == {"x": False, "p": True}
    assert [tuple(r) for r in spark.sql("DESCRIBE tt_part").collect()] == [
        ("x", "int", None),
        ("p", "string", None),
        ("# Partition Information", "", ""),
        ("# col_name", "data_type", "comment"),
        ("p", "string", None),
    ]
    assert sorted(d for d in os.listdir(os.path.join(warehouse(spark), "tt_part")) if not d.startswith((".", "_"))) == [
        "p=v",
        "p=w",
    ]


def test_drop_managed_table_deletes_its_files(spark):
    spark.sql("CREATE TABLE tt_a (a INT) USING parquet")
    spark.sql("INSERT INTO tt_a VALUES (1)")
    location = os.path.join(warehouse(spark), "tt_a")
    assert os.path.isdir(location)
    spark.sql("DROP TABLE tt_a")
    assert not os.path.exists(location)
    assert not spark.catalog.tableExists("tt_a")
    with pytest.raises(AnalysisException) as e:
        spark.sql("DROP TABLE tt_a")
    assert e.value.getCondition() == "TABLE_OR_VIEW_NOT_FOUND"
    # The name is free again.
    spark.sql("CREATE TABLE tt_a (a INT) USING parquet")
    assert spark.table("tt_a").count() == 0


def test_external_table_keeps_its_files(spark, tmp_path):
    location = str(tmp_path / "ext")
    spark.sql(f"CREATE TABLE tt_ext (a INT) USING parquet LOCATION '{location}'")
    spark.sql("INSERT INTO tt_ext VALUES (1), (2)")
    [t] = [t for t in spark.catalog.listTables() if t.name == "tt_ext"]
    assert t.tableType == "EXTERNAL"
    spark.sql("DROP TABLE tt_ext")
    assert_rows(spark.read.parquet(location), [(1,), (2,)])
    # A table over existing files takes their schema.
    spark.sql(f"CREATE TABLE tt_ext USING parquet LOCATION '{location}'")
    assert_df(spark.table("tt_ext"), [("a", "int")], [(1,), (2,)])


def test_truncate_table(spark):
    spark.sql("CREATE TABLE tt_a (a INT) USING parquet")
    spark.sql("INSERT INTO tt_a VALUES (1), (2)")
    spark.sql("TRUNCATE TABLE tt_a")
    assert_df(spark.table("tt_a"), [("a", "int")], [])
    spark.sql("INSERT INTO tt_a VALUES (3)")
    assert_rows(spark.table("tt_a"), [(3,)])


def test_csv_table_with_options(spark):
    spark.sql("CREATE TABLE tt_csv (a INT, b STRING) USING csv OPTIONS (header 'true', sep ';')")
    spark.sql("INSERT INTO tt_csv VALUES (1, 'x')")
    assert_df(spark.table("tt_csv"), [("a", "int"), ("b", "string")], [(1, "x")])
    files = os.listdir(os.path.join(warehouse(spark), "tt_csv"))
    [data] = [f for f in files if f.endswith(".csv")]
    with open(os.path.join(warehouse(spark), "tt_csv", data)) as f:
        assert f.read().splitlines() == ["a;b", "1;x"]


def test_save_as_table_modes(spark):
    spark.range(3).write.saveAsTable("tt_saved")
    with pytest.raises(AnalysisException) as e:
        spark.range(3).write.saveAsTable("tt_saved")
    assert e.value.getCondition() == "TABLE_OR_VIEW_ALREADY_EXISTS"
    spark.range(5, 6).write.mode("append").saveAsTable("tt_saved")
    spark.range(100).write.mode("ignore").saveAsTable("tt_saved")
    assert sorted(r.id for r in spark.table("tt_saved").collect()) == [0, 1, 2, 5]
    # insertInto goes by position.
    spark.createDataFrame([(9,)], "x long").write.insertInto("tt_saved")
    assert spark.table("tt_saved").count() == 5
    spark.createDataFrame([("a", 1)], "s string, n long").write.mode("overwrite").saveAsTable("tt_saved")
    assert_df(spark.table("tt_saved"), [("s", "string"), ("n", "bigint")], [("a", 1)])


def test_save_as_table_append_matches_columns_by_name(spark):
    spark.createDataFrame([(1, "x")], "n long, s string").write.saveAsTable("tt_saved")
    spark.createDataFrame([("y", 2)], "s string, n long").write.mode("append").saveAsTable("tt_saved")
    assert_rows(spark.table("tt_saved"), [(1, "x"), (2, "y")])


def test_catalog_lists_tables_then_temp_views(spark):
    spark.sql("CREATE TABLE tt_a (a INT) USING parquet COMMENT 'first'")
    spark.sql("CREATE TABLE tt_b (a INT) USING parquet")
    spark.range(1).createOrReplaceTempView("tt_shadow")
    listed = [(t.name, t.catalog, t.namespace, t.description, t.tableType, t.isTemporary) for t in spark.catalog.listTables(pattern="tt_*")]
    assert listed == [
        ("tt_a", "spark_catalog", ["default"], "first", "MANAGED", False),
        ("tt_b", "spark_catalog", ["default"], None, "MANAGED", False),
        ("tt_shadow", None, [], None, "TEMPORARY", True),
    ]
    assert spark.catalog.getTable("tt_a").description == "first"
    assert spark.catalog.tableExists("tt_b") and spark.catalog.tableExists("default.tt_b")
    shown = [tuple(r) for r in spark.sql("SHOW TABLES").collect() if r.tableName.startswith("tt_")]
    assert shown == [("default", "tt_a", False), ("default", "tt_b", False), ("", "tt_shadow", True)]


def test_temp_view_shadows_table(spark):
    spark.sql("CREATE TABLE tt_shadow (a INT) USING parquet")
    spark.sql("INSERT INTO tt_shadow VALUES (1)")
    spark.range(5).createOrReplaceTempView("tt_shadow")
    assert spark.table("tt_shadow").count() == 5
    spark.catalog.dropTempView("tt_shadow")
    assert_rows(spark.table("tt_shadow"), [(1,)])


def test_catalog_create_table(spark):
    schema = StructType([StructField("id", LongType()), StructField("s", StringType())])
    df = spark.catalog.createTable("tt_cat", schema=schema, source="parquet", description="made")
    assert df.columns == ["id", "s"]
    spark.sql("INSERT INTO tt_cat VALUES (1, 'a')")
    assert_rows(spark.table("tt_cat"), [(1, "a")])
    assert spark.catalog.getTable("tt_cat").description == "made"


def test_partition_columns_keep_their_declared_types(spark):
    spark.sql("CREATE TABLE tt_dated (x INT, d DATE, s STRING) USING parquet PARTITIONED BY (d, s)")
    spark.sql("INSERT INTO tt_dated VALUES (1, DATE'2024-01-02', '007')")
    # A text partition value that looks like a number stays text.
    assert_df(
        spark.table("tt_dated"),
        [("x", "int"), ("d", "date"), ("s", "string")],
        [(1, datetime.date(2024, 1, 2), "007")],
    )


def test_drop_table_after_cache_table(spark):
    spark.sql("CREATE TABLE tt_a (a INT) USING parquet")
    spark.sql("INSERT INTO tt_a VALUES (1)")
    spark.catalog.cacheTable("tt_a")
    assert spark.catalog.isCached("tt_a")
    # A cached table is still a table, listed once.
    [t] = [t for t in spark.catalog.listTables() if t.name == "tt_a"]
    assert (t.tableType, t.isTemporary) == ("MANAGED", False)
    spark.sql("DROP TABLE tt_a")
    assert not spark.catalog.tableExists("tt_a")
    assert not os.path.exists(os.path.join(warehouse(spark), "tt_a"))


def test_save_as_table_append_with_an_extra_column_fails(spark):
    spark.range(2).write.saveAsTable("tt_saved")
    with pytest.raises(AnalysisException):
        spark.range(2).selectExpr("id", "id AS extra").write.mode("append").saveAsTable("tt_saved")
    assert spark.table("tt_saved").count() == 2


def test_table_names_are_letters_digits_and_underscores(spark):
    with pytest.raises(AnalysisException) as e:
        spark.sql("CREATE TABLE `tt/x` (a INT) USING parquet")
    assert e.value.getCondition() == "INVALID_SCHEMA_OR_RELATION_NAME"


def test_describe_global_temp_view(spark):
    spark.range(1).createOrReplaceGlobalTempView("tt_global")
    try:
        assert [tuple(r) for r in spark.sql("DESCRIBE global_temp.tt_global").collect()] == [("id", "bigint", None)]
        assert spark.catalog.tableExists("global_temp.tt_global")
    finally:
        spark.catalog.dropGlobalTempView("tt_global")


def test_insert_select_with_spark_only_forms(spark):
    spark.sql("CREATE TABLE tt_a (a INT, b STRING) USING parquet")
    spark.sql("INSERT INTO tt_a SELECT 1, ltrim('*', '**x*')")
    spark.sql("INSERT INTO tt_a SELECT stack(2, 2, 'y', 3, 'z')")
    assert_rows(spark.sql("SELECT * FROM tt_a ORDER BY a"), [(1, "x*"), (2, "y"), (3, "z")])


def test_insert_into_partitions(spark):
    spark.sql("CREATE TABLE tt_part (id INT, s STRING, p INT, q STRING) USING parquet PARTITIONED BY (p, q)")
    spark.sql("INSERT INTO tt_part PARTITION (p = 1, q = 'a') SELECT 1, 'x'")
    spark.sql("INSERT INTO tt_part PARTITION (p = 2, q) SELECT 2, 'y', 'b'")
    spark.sql("INSERT INTO tt_part PARTITION (p, q) SELECT 3, 'z', 3, 'c'")
    spark.sql("INSERT INTO tt_part PARTITION (p = 1, q = 'a') VALUES (9, 'w')")
    expected = [(1, "x", 1, "a"), (2, "y", 2, "b"), (3, "z", 3, "c"), (9, "w", 1, "a")]
    assert_rows(spark.sql("SELECT * FROM tt_part ORDER BY id"), expected)
    assert_df(spark.sql("SHOW PARTITIONS tt_part"), [("partition", "string")], [("p=1/q=a",), ("p=2/q=b",), ("p=3/q=c",)])
    assert [x.partition for x in spark.catalog.listPartitions("tt_part")] == ["p=1/q=a", "p=2/q=b", "p=3/q=c"]

    # An overwrite replaces only the partition its values select.
    spark.sql("INSERT OVERWRITE tt_part PARTITION (p = 1, q = 'a') SELECT 5, 'v'")
    assert_rows(spark.sql("SELECT * FROM tt_part ORDER BY id"), [(2, "y", 2, "b"), (3, "z", 3, "c"), (5, "v", 1, "a")])

    with pytest.raises(AnalysisException) as e:
        spark.sql("INSERT INTO tt_part PARTITION (p = 1, q = 'a') SELECT 1, 'x', 7")
    assert e.value.getCondition() == "INSERT_PARTITION_COLUMN_ARITY_MISMATCH"
    assert "too many data columns" in str(e.value)
    with pytest.raises(AnalysisException) as e:
        spark.sql("INSERT INTO tt_part PARTITION (nope = 1) SELECT 1, 'x', 7, 'a'")
    assert e.value.getCondition() == "PARTITIONS_NOT_FOUND"
    spark.sql("CREATE TABLE tt_a (a INT) USING parquet")
    with pytest.raises(AnalysisException) as e:
        spark.sql("SHOW PARTITIONS tt_a")
    assert e.value.getCondition() == "INVALID_PARTITION_OPERATION.PARTITION_SCHEMA_IS_EMPTY"


def test_show_create_table_and_properties(spark, tmp_path):
    spark.sql(
        "CREATE TABLE tt_part (id INT, s STRING, p INT, q STRING) USING parquet PARTITIONED BY (p, q) "
        "COMMENT 'cmt' TBLPROPERTIES ('k1'='v1', 'a'='b') OPTIONS (compression 'snappy')"
    )
    assert spark.sql("SHOW CREATE TABLE tt_part").first()[0] == (
        "CREATE TABLE spark_catalog.default.tt_part (\n  id INT,\n  s STRING COLLATE UTF8_BINARY,\n  p INT,\n"
        "  q STRING COLLATE UTF8_BINARY)\nUSING parquet\nOPTIONS (\n  'compression' = 'snappy')\nPARTITIONED BY (p, q)\n"
        "COMMENT 'cmt'\nTBLPROPERTIES (\n  'a' = 'b',\n  'k1' = 'v1')\n"
    )
    assert_df(
        spark.sql("SHOW TBLPROPERTIES tt_part"),
        [("key", "string"), ("value", "string")],
        [("a", "b"), ("k1", "v1"), ("option.compression", "snappy")],
    )
    assert spark.catalog.getTableProperties("tt_part") == {"a": "b", "k1": "v1", "option.compression": "snappy"}

    location = str(tmp_path / "ext")
    spark.sql(f"CREATE TABLE tt_ext (id INT) USING csv OPTIONS (header 'true', sep ';') LOCATION '{location}'")
    assert spark.catalog.getCreateTableString("tt_ext") == (
        "CREATE TABLE spark_catalog.default.tt_ext (\n  id INT)\nUSING csv\nOPTIONS (\n  'header' = 'true',\n"
        f"  'sep' = ';')\nLOCATION 'file:{location}'\n"
    )
    spark.sql("CREATE TABLE tt_json USING json AS SELECT 1 AS a, 'x' AS b")
    assert spark.sql("SHOW CREATE TABLE tt_json").first()[0] == (
        "CREATE TABLE spark_catalog.default.tt_json (\n  a INT,\n  b STRING COLLATE UTF8_BINARY)\nUSING json\n"
    )
    assert spark.catalog.getTableProperties("tt_json") == {}
    # Tables of every format the session writes; a truncated external table keeps its rows.
    with pytest.raises(AnalysisException) as e:
        spark.catalog.truncateTable("tt_ext")
    assert e.value.getCondition() == "CANNOT_TRUNCATE_EXTERNAL_TABLE"
    spark.catalog.truncateTable("tt_json")
    assert spark.table("tt_json").count() == 0
    spark.catalog.analyzeTable("tt_json")
    with pytest.raises(AnalysisException) as e:
        spark.catalog.analyzeTable("tt_nope")
    assert e.value.getCondition() == "TABLE_OR_VIEW_NOT_FOUND"


def test_refresh_table_reads_files_written_elsewhere(spark, tmp_path):
    location = str(tmp_path / "plain")
    spark.range(2).write.format("json").save(location)
    spark.sql(f"CREATE TABLE tt_ext (id LONG) USING json LOCATION '{location}'")
    spark.catalog.cacheTable("tt_ext")
    assert spark.table("tt_ext").count() == 2
    # A write to the table's files reads them again (Spark recaches by path).
    spark.range(2, 5).write.mode("append").format("json").save(location)
    assert spark.table("tt_ext").count() == 5
    # Files added by another program: the cached rows stay until REFRESH TABLE.
    part = next(f for f in sorted(os.listdir(location)) if f.endswith(".json") and os.path.getsize(os.path.join(location, f)))
    rows_in_part = sum(1 for _ in open(os.path.join(location, part)))
    shutil.copy(os.path.join(location, part), os.path.join(location, "copied-" + part))
    assert spark.table("tt_ext").count() == 5
    spark.sql("REFRESH TABLE tt_ext")
    assert spark.table("tt_ext").count() == 5 + rows_in_part
    spark.catalog.uncacheTable("tt_ext")

    # A partitioned table over partition directories written elsewhere.
    location = str(tmp_path / "parted")
    spark.range(1).selectExpr("id AS key", "id AS value").write.partitionBy("key").format("csv").save(location)
    spark.sql(
        f"CREATE TABLE tt_csv (key LONG, value LONG) USING csv OPTIONS (header false, path '{location}') "
        "PARTITIONED BY (key)"
    )
    spark.range(1, 3).selectExpr("id AS key", "id AS value").write.mode("append").partitionBy("key").format("csv").save(location)
    spark.catalog.recoverPartitions("tt_csv")
    assert_rows(spark.sql("SELECT * FROM tt_csv ORDER BY key"), [(0, 0), (1, 1), (2, 2)])


def test_text_table(spark, tmp_path):
    location = str(tmp_path / "text")
    spark.sql(f"CREATE TABLE tt_ext (col STRING) USING TEXT LOCATION '{location}'")
    spark.sql("INSERT INTO tt_ext SELECT 'abc'")
    assert_df(spark.table("tt_ext"), [("col", "string")], [("abc",)])


def test_dynamic_partition_overwrite_is_refused_not_run_as_static(spark, tmp_path):
    """ember has no dynamic partition overwrite yet (Spark replaces only the partitions
    written): it refuses one with a clear error instead of replacing every partition."""
    from pyspark.errors import PySparkException

    assert spark.conf.get("spark.sql.sources.partitionOverwriteMode") == "STATIC"
    path = str(tmp_path / "parted")
    df = spark.createDataFrame([(1, "a"), (2, "b")], "v int, p string")
    df.write.partitionBy("p").parquet(path)
    with pytest.raises(PySparkException):
        df.filter("p = 'a'").write.mode("overwrite").option("partitionOverwriteMode", "dynamic").partitionBy("p").parquet(path)
    # Nothing was lost.
    assert spark.read.parquet(path).count() == 2
