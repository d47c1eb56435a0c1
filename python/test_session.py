"""Session-level behaviour: configuration, version, analysis helpers, explain, catalog."""

import datetime
import io
from contextlib import redirect_stdout

import pytest
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

from ember_testutil import assert_rows, assert_schema


def test_version_is_spark_4(spark):
    assert spark.version.startswith("4.")


def test_shuffle_partitions_default(spark):
    assert spark.conf.get("spark.sql.shuffle.partitions") == "200"


def test_conf_set_get_unset(spark):
    spark.conf.set("spark.sql.shuffle.partitions", 7)
    try:
        assert spark.conf.get("spark.sql.shuffle.partitions") == "7"
    finally:
        spark.conf.unset("spark.sql.shuffle.partitions")
    assert spark.conf.get("spark.sql.shuffle.partitions") == "200"


def test_conf_set_string_value(spark):
    spark.conf.set("spark.sql.shuffle.partitions", "3")
    try:
        assert spark.conf.get("spark.sql.shuffle.partitions") == "3"
        assert spark.range(10).groupBy((F.col("id") % 2).alias("k")).count().count() == 2
    finally:
        spark.conf.unset("spark.sql.shuffle.partitions")


def test_ansi_enabled_by_default(spark):
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"


def test_session_time_zone_is_set(spark):
    tz = spark.conf.get("spark.sql.session.timeZone")
    assert isinstance(tz, str) and tz


def test_session_time_zone_changes_rendering(spark):
    old = spark.conf.get("spark.sql.session.timeZone")
    try:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        assert spark.sql("SELECT CAST(TIMESTAMP'2024-01-01 12:00:00' AS STRING)").first()[0] == "2024-01-01 12:00:00"
        assert spark.sql("SELECT from_unixtime(0)").first()[0] == "1970-01-01 00:00:00"
        spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
        assert spark.conf.get("spark.sql.session.timeZone") == "America/Los_Angeles"
        assert spark.sql("SELECT from_unixtime(0)").first()[0] == "1969-12-31 16:00:00"
        assert spark.sql("SELECT hour(to_utc_timestamp(TIMESTAMP'2024-07-01 12:00:00', 'UTC'))").first()[0] == 12
    finally:
        spark.conf.set("spark.sql.session.timeZone", old)


def test_conf_get_with_default_for_unknown_key(spark):
    assert spark.conf.get("spark.ember.test.unknown.key", "fallback") == "fallback"


def test_conf_get_unknown_key_raises(spark):
    with pytest.raises(PySparkException) as ei:
        spark.conf.get("spark.ember.test.unknown.key")
    assert ei.value.getCondition() == "SQL_CONF_NOT_FOUND"


def test_conf_custom_key_round_trip(spark):
    spark.conf.set("spark.ember.test.custom", "hello")
    try:
        assert spark.conf.get("spark.ember.test.custom") == "hello"
    finally:
        spark.conf.unset("spark.ember.test.custom")
    assert spark.conf.get("spark.ember.test.custom", None) is None


def test_conf_get_all_is_dict_with_sql_keys(spark):
    spark.conf.set("spark.sql.shuffle.partitions", 11)
    try:
        everything = spark.conf.getAll
        assert isinstance(everything, dict)
        assert everything.get("spark.sql.shuffle.partitions") == "11"
    finally:
        spark.conf.unset("spark.sql.shuffle.partitions")


def test_conf_is_modifiable(spark):
    assert spark.conf.isModifiable("spark.sql.shuffle.partitions") is True
    assert spark.conf.isModifiable("spark.driver.memory") is False


def test_conf_is_modifiable_only_for_runtime_sql_keys(spark):
    assert spark.conf.isModifiable("spark.sql.warehouse.dir") is False
    assert spark.conf.isModifiable("spark.master") is False


def test_setting_static_conf_fails(spark):
    with pytest.raises(AnalysisException) as ei:
        spark.conf.set("spark.driver.memory", "1g")
    assert ei.value.getCondition() == "CANNOT_MODIFY_CONFIG"


def test_setting_static_sql_conf_fails(spark):
    with pytest.raises(AnalysisException) as ei:
        spark.conf.set("spark.sql.warehouse.dir", "/tmp/elsewhere")
    assert ei.value.getCondition() == "CANNOT_MODIFY_STATIC_CONFIG"
    assert spark.conf.get("spark.sql.warehouse.dir") != "/tmp/elsewhere"


def test_setting_unregistered_conf_is_kept(spark):
    spark.conf.set("spark.myapp.setting", "x")
    try:
        assert spark.conf.get("spark.myapp.setting") == "x"
    finally:
        spark.conf.unset("spark.myapp.setting")


@pytest.mark.parametrize(
    "key,value,condition,conf_type",
    [
        ("spark.sql.ansi.enabled", "1", "INVALID_CONF_VALUE.TYPE_MISMATCH", "boolean"),
        ("spark.sql.shuffle.partitions", "x", "INVALID_CONF_VALUE.TYPE_MISMATCH", "int"),
        ("spark.sql.shuffle.partitions", "0", "INVALID_CONF_VALUE.REQUIREMENT", None),
        ("spark.sql.session.timeZone", "Foo/Bar", "INVALID_CONF_VALUE.TIME_ZONE", None),
    ],
)
def test_setting_a_badly_typed_conf_fails(spark, key, value, condition, conf_type):
    from pyspark.errors import IllegalArgumentException

    before = spark.conf.get(key)
    with pytest.raises(IllegalArgumentException) as ei:
        spark.conf.set(key, value)
    assert ei.value.getCondition() == condition
    assert ei.value.getMessageParameters()["confName"] == key
    if conf_type:
        assert ei.value.getMessageParameters()["confType"] == conf_type
    assert spark.conf.get(key) == before


def test_conf_values_are_kept_as_given(spark):
    spark.conf.set("spark.sql.ansi.enabled", " TRUE ")
    try:
        assert spark.conf.get("spark.sql.ansi.enabled") == " TRUE "
        assert spark.sql("SELECT 1 AS x").first().x == 1
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")


def test_sql_set_changes_conf(spark):
    spark.sql("SET spark.sql.shuffle.partitions=13").collect()
    try:
        assert spark.conf.get("spark.sql.shuffle.partitions") == "13"
    finally:
        spark.conf.unset("spark.sql.shuffle.partitions")


def test_new_session_is_not_available_in_connect(spark):
    with pytest.raises(PySparkException) as ei:
        spark.newSession()
    assert ei.value.getCondition() == "JVM_ATTRIBUTE_NOT_SUPPORTED"


def test_second_client_session_is_isolated(spark, remote_url):
    other = SparkSession.builder.remote(remote_url).create()
    try:
        assert other.session_id != spark.session_id
        spark.range(2).createOrReplaceTempView("session_private_view")
        assert other.catalog.tableExists("session_private_view") is False
        other.conf.set("spark.sql.shuffle.partitions", 5)
        assert spark.conf.get("spark.sql.shuffle.partitions") == "200"
        assert other.range(4).count() == 4
    finally:
        spark.catalog.dropTempView("session_private_view")
        other.stop()


def test_active_session(spark):
    assert SparkSession.getActiveSession() is spark
    assert SparkSession.active() is spark


def test_session_id_is_uuid_string(spark):
    import uuid

    uuid.UUID(spark.session_id)


# ---------------------------------------------------------------- analysis helpers


def test_ddl_schema_parse_via_empty_dataframe(spark):
    schema = spark.createDataFrame([], "a int, b string").schema
    assert schema == StructType([StructField("a", IntegerType(), True), StructField("b", StringType(), True)])


def test_ddl_schema_with_complex_types(spark):
    df = spark.createDataFrame([], "a array<int>, m map<string, double>, s struct<x: int, y: decimal(10,2)>, t timestamp")
    assert_schema(
        df,
        [
            ("a", "array<int>"),
            ("m", "map<string,double>"),
            ("s", "struct<x:int,y:decimal(10,2)>"),
            ("t", "timestamp"),
        ],
    )


def test_ddl_not_null(spark):
    df = spark.createDataFrame([(1,)], "a int not null")
    assert df.schema.fields[0].nullable is False


def test_explain_default_prints_physical_plan(spark, capsys):
    spark.range(3).explain()
    out = capsys.readouterr().out
    assert out.startswith("== Physical Plan ==\n")


def test_explain_extended_prints_all_plans(spark, capsys):
    spark.range(3).where("id > 0").explain(True)
    out = capsys.readouterr().out
    headers = [
        "== Parsed Logical Plan ==",
        "== Analyzed Logical Plan ==",
        "== Optimized Logical Plan ==",
        "== Physical Plan ==",
    ]
    positions = [out.find(h) for h in headers]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_explain_modes_do_not_raise(spark, capsys):
    df = spark.range(3).groupBy((F.col("id") % 2).alias("k")).count()
    for mode in ("simple", "extended", "codegen", "cost", "formatted"):
        df.explain(mode=mode)
    assert capsys.readouterr().out.count("Plan") >= 5


def test_is_local(spark):
    assert spark.createDataFrame([(1,)], "a int").isLocal() is True
    assert spark.range(3).isLocal() is False


def test_same_semantics(spark):
    assert spark.range(3).sameSemantics(spark.range(3)) is True
    assert spark.range(3).sameSemantics(spark.range(4)) is False
    assert spark.range(3).select("id").sameSemantics(spark.range(3).select(F.col("id").alias("id"))) is True


def test_semantic_hash(spark):
    h = spark.range(3).semanticHash()
    assert isinstance(h, int)
    assert h == spark.range(3).semanticHash()
    assert h != spark.range(5).semanticHash()


def test_input_files_for_file_read(spark, tmp_path):
    path = str(tmp_path / "data")
    spark.range(10).coalesce(1).write.parquet(path)
    files = spark.read.parquet(path).inputFiles()
    assert len(files) == 1 and files[0].endswith(".parquet")
    assert spark.range(3).inputFiles() == []


def test_storage_level_default_is_none(spark):
    from pyspark.storagelevel import StorageLevel

    assert spark.range(1).storageLevel == StorageLevel.NONE


def test_schema_json_round_trip(spark):
    df = spark.createDataFrame([], "a int, b array<string>")
    assert StructType.fromJson(df.schema.jsonValue()) == df.schema


# ---------------------------------------------------------------- catalog


def test_catalog_current_catalog_and_database(spark):
    assert spark.catalog.currentCatalog() == "spark_catalog"
    assert spark.catalog.currentDatabase() == "default"


def test_catalog_list_databases_has_default(spark):
    assert "default" in [d.name for d in spark.catalog.listDatabases()]


def test_catalog_function_exists(spark):
    assert spark.catalog.functionExists("abs") is True
    assert spark.catalog.functionExists("no_such_function_xyz") is False


def test_catalog_list_columns_of_temp_view(spark):
    spark.createDataFrame([], "a int, b string").createOrReplaceTempView("session_cols_view")
    try:
        cols = spark.catalog.listColumns("session_cols_view")
        assert [(c.name, c.dataType, c.nullable) for c in cols] == [("a", "int", True), ("b", "string", True)]
    finally:
        spark.catalog.dropTempView("session_cols_view")


def test_catalog_cache_table(spark):
    spark.range(5).createOrReplaceTempView("session_cache_view")
    try:
        assert spark.catalog.isCached("session_cache_view") is False
        spark.catalog.cacheTable("session_cache_view")
        assert spark.catalog.isCached("session_cache_view") is True
        spark.catalog.uncacheTable("session_cache_view")
        assert spark.catalog.isCached("session_cache_view") is False
    finally:
        spark.catalog.dropTempView("session_cache_view")


def test_range_then_local_collect_types(spark):
    r = spark.sql("SELECT 1 AS i, 'x' AS s, DATE'2024-01-01' AS d, 1.5D AS f").first()
    assert (type(r.i), type(r.s), type(r.d), type(r.f)) == (int, str, datetime.date, float)
