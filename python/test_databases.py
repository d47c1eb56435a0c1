"""Databases (schemas, namespaces) of the spark_catalog: CREATE / DROP / USE / DESCRIBE DATABASE,
SHOW DATABASES, tables in a database by their qualified names, ALTER TABLE … RENAME TO, and the
catalog API's view of them. Expected values are Apache Spark 4.2's."""

import os

import pytest
from pyspark.errors import AnalysisException

from ember_testutil import assert_df, assert_rows

DATABASES = ["td_sales", "td_hr", "td_other"]


@pytest.fixture(autouse=True)
def clean(spark):
    def reset():
        spark.sql("USE default")
        for db in DATABASES:
            spark.sql(f"DROP DATABASE IF EXISTS {db} CASCADE")
        for t in ["td_a", "td_b", "td_c"]:
            spark.sql(f"DROP TABLE IF EXISTS {t}")
        for v in ["td_v1", "td_v2", "td_v3"]:
            spark.catalog.dropTempView(v)

    reset()
    yield
    reset()


def warehouse(spark):
    return spark.conf.get("spark.sql.warehouse.dir").removeprefix("file:")


def condition(action):
    with pytest.raises(AnalysisException) as e:
        action()
    return e.value.getCondition()


def test_create_show_and_drop_databases(spark):
    spark.sql("CREATE DATABASE td_sales")
    assert condition(lambda: spark.sql("CREATE DATABASE td_sales")) == "SCHEMA_ALREADY_EXISTS"
    spark.sql("CREATE DATABASE IF NOT EXISTS td_sales")
    spark.sql("CREATE SCHEMA td_hr COMMENT 'people'")
    assert_df(spark.sql("SHOW DATABASES LIKE 'td_*'"), [("namespace", "string")], [("td_hr",), ("td_sales",)])
    assert [r[0] for r in spark.sql("SHOW NAMESPACES").collect() if r[0] in ("default", "td_hr")] == ["default", "td_hr"]
    listed = [(d.name, d.catalog, d.description) for d in spark.catalog.listDatabases("td_*")]
    assert listed == [("td_hr", "spark_catalog", "people"), ("td_sales", "spark_catalog", "")]
    location = os.path.join(os.path.abspath(warehouse(spark)), "td_hr.db")
    assert spark.catalog.getDatabase("td_hr").locationUri == "file:" + location
    assert os.path.isdir(location)
    assert spark.catalog.databaseExists("td_hr") and spark.catalog.databaseExists("spark_catalog.td_hr")
    assert_rows(
        spark.sql("DESCRIBE DATABASE EXTENDED td_hr").filter("info_name != 'Owner'"),
        [
            ("Catalog Name", "spark_catalog"),
            ("Namespace Name", "td_hr"),
            ("Comment", "people"),
            ("Location", "file:" + location),
            ("Properties", ""),
        ],
    )

    spark.sql("DROP DATABASE td_hr")
    assert not os.path.exists(location)
    assert not spark.catalog.databaseExists("td_hr")
    assert condition(lambda: spark.sql("DROP DATABASE td_hr")) == "SCHEMA_NOT_FOUND"
    spark.sql("DROP SCHEMA IF EXISTS td_hr RESTRICT")
    assert condition(lambda: spark.sql("DROP DATABASE default")) == "UNSUPPORTED_FEATURE.DROP_DATABASE"
    assert condition(lambda: spark.catalog.getDatabase("td_hr")) == "SCHEMA_NOT_FOUND"
    assert condition(lambda: spark.sql("CREATE DATABASE `td-x`")) == "INVALID_SCHEMA_OR_RELATION_NAME"


def test_tables_in_a_database(spark):
    spark.sql("CREATE DATABASE td_sales")
    spark.sql("CREATE TABLE td_sales.orders (id INT, amt DOUBLE) USING parquet")
    spark.sql("INSERT INTO td_sales.orders VALUES (1, 2.5), (2, 3.5)")
    assert_df(
        spark.sql("SELECT * FROM spark_catalog.td_sales.orders ORDER BY id"),
        [("id", "int"), ("amt", "double")],
        [(1, 2.5), (2, 3.5)],
    )
    assert os.path.isdir(os.path.join(warehouse(spark), "td_sales.db", "orders"))
    # Not a table of the current database.
    assert condition(lambda: spark.sql("SELECT * FROM orders").collect()) == "TABLE_OR_VIEW_NOT_FOUND"
    assert not spark.catalog.tableExists("orders")

    spark.range(3).write.saveAsTable("td_sales.staff")
    spark.range(2).write.mode("append").saveAsTable("td_sales.staff")
    spark.range(1).write.insertInto("td_sales.staff")
    assert spark.table("td_sales.staff").count() == 6
    assert spark.read.table("spark_catalog.td_sales.staff").count() == 6

    spark.range(2).createOrReplaceTempView("td_v1")
    assert_rows(
        spark.sql("SHOW TABLES IN td_sales").filter("tableName LIKE 'td_%' OR namespace != ''"),
        [("td_sales", "orders", False), ("td_sales", "staff", False), ("", "td_v1", True)],
    )
    assert_rows(spark.sql("SHOW TABLES FROM td_sales LIKE 'o*'"), [("td_sales", "orders", False)])
    listed = [(t.name, t.namespace, t.tableType) for t in spark.catalog.listTables("td_sales") if not t.isTemporary]
    assert listed == [("orders", ["td_sales"], "MANAGED"), ("staff", ["td_sales"], "MANAGED")]
    assert spark.catalog.tableExists("td_sales.orders")
    assert spark.catalog.getTable("td_sales.orders").namespace == ["td_sales"]
    assert [c.name for c in spark.catalog.listColumns("td_sales.orders")] == ["id", "amt"]
    assert_rows(spark.sql("SHOW COLUMNS IN orders IN td_sales"), [("id",), ("amt",)])

    spark.catalog.cacheTable("td_sales.orders")
    assert spark.catalog.isCached("td_sales.orders")
    spark.sql("INSERT INTO td_sales.orders VALUES (3, 4.5)")
    assert spark.table("td_sales.orders").count() == 3

    assert condition(lambda: spark.sql("CREATE TABLE td_nope.t (a INT) USING parquet")) == "SCHEMA_NOT_FOUND"
    assert condition(lambda: spark.range(1).write.saveAsTable("td_nope.t")) == "SCHEMA_NOT_FOUND"
    assert condition(lambda: spark.catalog.listTables("td_nope")) == "SCHEMA_NOT_FOUND"
    assert condition(lambda: spark.sql("DROP DATABASE td_sales")) == "SCHEMA_NOT_EMPTY"
    spark.sql("DROP TABLE td_sales.staff")
    spark.sql("DROP DATABASE td_sales CASCADE")
    assert not os.path.exists(os.path.join(warehouse(spark), "td_sales.db"))
    assert condition(lambda: spark.table("td_sales.orders").collect()) == "TABLE_OR_VIEW_NOT_FOUND"


def test_use_sets_the_current_database(spark):
    spark.sql("CREATE DATABASE td_sales")
    spark.sql("CREATE TABLE td_a USING parquet AS SELECT 'in default' AS s")
    spark.sql("USE td_sales")
    assert_df(spark.sql("SELECT current_database()"), [("current_schema()", "string")], [("td_sales",)])
    assert spark.catalog.currentDatabase() == "td_sales"
    # Unqualified names are tables of the current database.
    spark.sql("CREATE TABLE td_a USING parquet AS SELECT 'in td_sales' AS s")
    assert_rows(spark.table("td_a"), [("in td_sales",)])
    assert_rows(spark.table("default.td_a"), [("in default",)])
    assert_rows(spark.sql("SHOW TABLES").filter("namespace != ''"), [("td_sales", "td_a", False)])
    assert [t.name for t in spark.catalog.listTables() if not t.isTemporary] == ["td_a"]
    assert condition(lambda: spark.sql("USE td_nope")) == "SCHEMA_NOT_FOUND"
    assert condition(lambda: spark.catalog.setCurrentDatabase("td_nope")) == "SCHEMA_NOT_FOUND"
    assert spark.catalog.currentDatabase() == "td_sales"

    spark.catalog.setCurrentDatabase("default")
    assert_rows(spark.table("td_a"), [("in default",)])
    spark.sql("USE spark_catalog.td_sales")
    assert spark.sql("SELECT current_schema()").first()[0] == "td_sales"


def test_rename_table_and_temp_view(spark):
    spark.sql("CREATE DATABASE td_other")
    spark.sql("CREATE TABLE td_a USING parquet AS SELECT 1 AS a")
    spark.sql("CREATE TABLE td_c USING parquet AS SELECT 3 AS a")
    spark.sql("ALTER TABLE td_a RENAME TO td_b")
    assert_rows(spark.table("td_b"), [(1,)])
    assert condition(lambda: spark.table("td_a").collect()) == "TABLE_OR_VIEW_NOT_FOUND"
    assert not os.path.exists(os.path.join(warehouse(spark), "td_a"))
    assert os.path.isdir(os.path.join(warehouse(spark), "td_b"))
    assert condition(lambda: spark.sql("ALTER TABLE td_b RENAME TO td_c")) == "TABLE_OR_VIEW_ALREADY_EXISTS"
    # A table stays in its database.
    with pytest.raises(AnalysisException, match="source and destination databases do not match"):
        spark.sql("ALTER TABLE td_b RENAME TO td_other.td_b")
    assert_rows(spark.table("td_c"), [(3,)])

    spark.sql("CREATE TEMP VIEW td_v1 AS SELECT 2 AS b")
    spark.sql("ALTER TABLE td_v1 RENAME TO td_v2")
    spark.sql("ALTER VIEW td_v2 RENAME TO td_v3")
    assert_rows(spark.table("td_v3"), [(2,)])
    assert not spark.catalog.tableExists("td_v1")


def test_catalog_creates_and_drops_databases(spark):
    spark.catalog.createDatabase("td_other", properties={"comment": "hello", "x": "y"})
    assert spark.catalog.getDatabase("td_other").description == "hello"
    assert spark.sql("DESCRIBE DATABASE EXTENDED td_other").filter("info_name = 'Properties'").first()[1] == "((x,y))"
    assert condition(lambda: spark.catalog.createDatabase("td_other")) == "SCHEMA_ALREADY_EXISTS"
    spark.catalog.createDatabase("td_other", ifNotExists=True)
    spark.sql("CREATE TABLE td_other.t USING parquet AS SELECT 1 AS a")
    assert condition(lambda: spark.catalog.dropDatabase("td_other")) == "SCHEMA_NOT_EMPTY"
    spark.catalog.dropDatabase("td_other", cascade=True)
    assert not spark.catalog.databaseExists("td_other")
    assert condition(lambda: spark.catalog.dropDatabase("td_other")) == "SCHEMA_NOT_FOUND"
    spark.catalog.dropDatabase("td_other", ifExists=True)


def test_catalog_lists_views(spark):
    spark.sql("CREATE TEMP VIEW td_v1 AS SELECT 1 AS c")
    spark.range(1).createOrReplaceTempView("td_v2")
    views = [(v.name, v.tableType, v.isTemporary) for v in spark.catalog.listViews(pattern="td_v*")]
    assert views == [("td_v1", "TEMPORARY", True), ("td_v2", "TEMPORARY", True)]
    assert [v.name for v in spark.catalog.listViews("default", "td_v1")] == ["td_v1"]
