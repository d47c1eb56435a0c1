"""When did each customer join, and when is their six-year anniversary?

The classic first Spark program from tutorials on Spark's architecture: read
a file, pick columns, derive one, spread the rows over partitions, and bring
them back to the driver. The input is a tab-separated customer file shaped
like Kaggle's "Customer Personality Analysis" (`marketing_campaign.csv`);
`make data/marketing_campaign.csv` generates one (scripts/gen_customers.py).

    ember submit examples/customer_personality.py [data/marketing_campaign.csv]
"""
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql.functions import add_months, col, to_date


def main():
    path = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "data/marketing_campaign.csv")
    if not os.path.exists(path):
        sys.exit(f"{path} not found: run `make data/marketing_campaign.csv`")

    spark = SparkSession.builder.appName("customer-personality").getOrCreate()

    df = (
        spark.read.option("header", True)
        .option("inferSchema", True)
        .option("sep", "\t")
        .csv(path)
    )

    customers = df.select(
        col("ID"),
        col("Year_Birth"),
        col("Education"),
        col("Marital_Status"),
        col("Income"),
        col("Dt_Customer").alias("date_customer"),
    ).withColumn("date_joined", add_months(to_date(col("date_customer"), "d-M-yyyy"), 72))

    rows = customers.repartition(5).collect()

    for row in rows[:20]:
        print(row)
    print(f"customers: {len(rows)}")

    spark.stop()


if __name__ == "__main__":
    main()
