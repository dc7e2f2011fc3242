"""The seed's kafkajoin job (sparkpykafkajoin.py) in PySpark Structured Streaming, for the Spark baseline
of `npm run bench -- --vs spark`. It keeps the student solutions' shape on purpose (from_json with
schemas, unbase64, split, a stream-stream inner join, to_json(struct(...)) into Kafka) so the benchmark
measures what the original system ran. Started by bench/harness/spark.ts after bench/spark/setup.sh.

Lines on stdout starting with "stedi-spark " are for the harness; Spark's own logging stays at WARN.
SIGTERM or SIGINT stops the query and the session cleanly.
"""

import argparse
import signal
import sys
import tempfile
import time

from pyspark.sql import SparkSession
from pyspark.sql.functions import col, expr, from_json, split, to_json, struct, unbase64
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DoubleType,
    StringType,
    StructField,
    StructType,
)


def parse_args():
    parser = argparse.ArgumentParser(description="The seed's customer/risk stream-stream join on Spark")
    parser.add_argument("--brokers", required=True, help="comma-separated host:port list")
    parser.add_argument("--redis-topic", required=True)
    parser.add_argument("--events-topic", required=True)
    parser.add_argument("--output-topic", required=True)
    parser.add_argument("--partitions", type=int, required=True, help="spark.sql.shuffle.partitions")
    parser.add_argument("--checkpoint", required=True, help="checkpoint directory (a fresh one starts from earliest)")
    parser.add_argument("--jars", default="", help="comma-separated connector jars for spark.jars")
    return parser.parse_args()


def report(event):
    # The harness reads these to time Spark's start-up apart from the join itself.
    print(f"stedi-spark {event} {int(time.time() * 1000)}", flush=True)


# The Redis source connector's JSON (contracts §1); binary fields are base64 strings.
REDIS_SCHEMA = StructType(
    [
        StructField("key", StringType()),
        StructField("existType", StringType()),
        StructField("ch", BooleanType()),
        StructField("incr", BooleanType()),
        StructField(
            "zSetEntries",
            ArrayType(StructType([StructField("element", StringType()), StructField("score", DoubleType())])),
        ),
    ]
)

CUSTOMER_SCHEMA = StructType(
    [
        StructField("customerName", StringType()),
        StructField("email", StringType()),
        StructField("phone", StringType()),
        StructField("birthDay", StringType()),
    ]
)

# The seed parsed score as a number; cast back to a string it reads "28.5", "-14.0" (contracts §3).
RISK_SCHEMA = StructType(
    [
        StructField("customer", StringType()),
        StructField("score", DoubleType()),
        StructField("riskDate", StringType()),
    ]
)


def kafka_source(spark, brokers, topic):
    return (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", brokers)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
    )


def build_query(spark, args):
    # Customers: ZADDs to the sorted set "Customer"; like the seed, only zSetEntries[0] is read.
    redis = (
        kafka_source(spark, args.brokers, args.redis_topic)
        .select(from_json(col("value").cast("string"), REDIS_SCHEMA).alias("r"))
        .select(
            unbase64(col("r.key")).cast("string").alias("redisKey"),
            col("r.zSetEntries").getItem(0).getField("element").alias("encodedCustomer"),
        )
        .where((col("redisKey") == "Customer") & col("encodedCustomer").isNotNull())
    )
    customers = (
        redis.select(from_json(unbase64(col("encodedCustomer")).cast("string"), CUSTOMER_SCHEMA).alias("c"))
        .select("c.email", "c.birthDay")
        .where(col("email").isNotNull() & col("birthDay").isNotNull())
        .select(col("email"), split(col("birthDay"), "-").getItem(0).alias("birthYear"))
    )

    risks = (
        kafka_source(spark, args.brokers, args.events_topic)
        .select(from_json(col("value").cast("string"), RISK_SCHEMA).alias("e"))
        .select("e.customer", "e.score")
        .where(col("customer").isNotNull())
    )

    # An unbounded inner join (no watermark, as the seed): both sides stay in state for good, and every
    # (customer record, risk event) pair with equal emails is emitted once.
    joined = risks.join(customers, expr("customer = email"))

    return (
        joined.select(
            col("email").alias("key"),
            to_json(
                struct(
                    col("customer"),
                    col("score").cast("string").alias("score"),
                    col("email"),
                    col("birthYear"),
                )
            ).alias("value"),
        )
        .writeStream.format("kafka")
        .option("kafka.bootstrap.servers", args.brokers)
        .option("topic", args.output_topic)
        .option("checkpointLocation", args.checkpoint)
        .outputMode("append")
        .start()
    )


def main():
    args = parse_args()
    stopping = {"requested": False}

    def request_stop(_signum, _frame):
        stopping["requested"] = True

    # Until the session exists a signal just ends the process (the JVM exits with its parent).
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("stedi-spark-kafkajoin")
        .config("spark.sql.shuffle.partitions", str(args.partitions))
        # A headless benchmark has no use for the web UI (and two runs would race for port 4040).
        .config("spark.ui.enabled", "false")
        # The console progress bar is a terminal animation, not a log line.
        .config("spark.ui.showConsoleProgress", "false")
        # The JVM's temp folder follows TMPDIR like Python's, so the harness can clean up after a killed run.
        .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={tempfile.gettempdir()}")
    )
    if args.jars:
        builder = builder.config("spark.jars", args.jars)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    report("session")

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    query = build_query(spark, args)
    report("started")

    # Polling rather than a blocking awaitTermination(): a signal then never interrupts a Py4J call.
    failed = False
    while not stopping["requested"]:
        try:
            if query.awaitTermination(0.5):
                break
        except Exception as error:  # the query died: StreamingQueryException carries Spark's reason
            print(f"stedi-spark failed: {error}", file=sys.stderr, flush=True)
            failed = True
            break
    query.stop()
    spark.stop()
    report("stopped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
