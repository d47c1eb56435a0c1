#!/usr/bin/env python3
"""Generate a customer file shaped like Kaggle's "Customer Personality Analysis".

Writes 2,240 tab-separated rows with the columns of `marketing_campaign.csv`
(ID, Year_Birth, Education, ..., Response), deterministically (fixed seed):
the same bytes on every run and every machine. The distributions follow the
original: incomes around 52k with a few left blank, spending that rises with
income and falls with children at home, campaign acceptance of a few percent,
and customers who joined between 2012-07-30 and 2014-06-29 (dd-MM-yyyy).

Usage: gen_customers.py [OUT]   (default: data/marketing_campaign.csv)
"""
import datetime as dt
import math
import random
import sys
from pathlib import Path

ROWS = 2240
SEED = 20140629

COLUMNS = [
    "ID", "Year_Birth", "Education", "Marital_Status", "Income", "Kidhome", "Teenhome",
    "Dt_Customer", "Recency", "MntWines", "MntFruits", "MntMeatProducts", "MntFishProducts",
    "MntSweetProducts", "MntGoldProds", "NumDealsPurchases", "NumWebPurchases",
    "NumCatalogPurchases", "NumStorePurchases", "NumWebVisitsMonth", "AcceptedCmp3",
    "AcceptedCmp4", "AcceptedCmp5", "AcceptedCmp1", "AcceptedCmp2", "Complain",
    "Z_CostContact", "Z_Revenue", "Response",
]

EDUCATION = {"Graduation": 0.503, "PhD": 0.217, "Master": 0.165, "2n Cycle": 0.091, "Basic": 0.024}
# Median income by education, relative to Graduation.
EDUCATION_INCOME = {"Graduation": 1.0, "PhD": 1.08, "Master": 1.0, "2n Cycle": 0.92, "Basic": 0.4}
MARITAL = {"Married": 0.386, "Together": 0.259, "Single": 0.215, "Divorced": 0.104, "Widow": 0.036}

FIRST_DAY = dt.date(2012, 7, 30)
LAST_DAY = dt.date(2014, 6, 29)


def pick(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def clamp(x, lo, hi):
    return max(lo, min(hi, x))


def customer(rng, cid):
    education = pick(rng, EDUCATION)
    marital = pick(rng, MARITAL)
    year_birth = clamp(round(rng.gauss(1969, 11.5)), 1940, 1996)
    kids = rng.choices([0, 1, 2], weights=[0.58, 0.40, 0.02])[0]
    teens = rng.choices([0, 1, 2], weights=[0.52, 0.46, 0.02])[0]

    income = 52000 * EDUCATION_INCOME[education] * math.exp(rng.gauss(0, 0.38))
    income *= 1.0 - 0.12 * kids
    income = clamp(round(income), 4000, 160000)
    # 0..1: how much of their income this customer spends with us.
    wealth = clamp((income - 15000) / 85000, 0.0, 1.0)
    spend = wealth ** 2 / (1 + 1.5 * kids + 0.5 * teens)

    def amount(mean, cap):
        return clamp(round(mean * spend * 4 * math.exp(rng.gauss(0, 0.6))), 0, cap) or rng.randint(0, 9)

    wines = amount(300, 1493)
    fruits = amount(26, 199)
    meat = amount(165, 1725)
    fish = amount(37, 259)
    sweets = amount(27, 263)
    gold = amount(44, 362)
    total = wines + fruits + meat + fish + sweets + gold

    store = clamp(round(3 + total / 250 + rng.gauss(0, 1.5)), 0, 13)
    web = clamp(round(2 + total / 400 + rng.gauss(0, 1.5)), 0, 27)
    catalog = clamp(round(total / 300 + rng.gauss(0, 1.0)), 0, 28)
    deals = clamp(round(1 + (kids + teens) * 1.2 + rng.gauss(0, 1.0)), 0, 15)
    visits = clamp(round(7 - 4 * wealth + kids + rng.gauss(0, 1.5)), 0, 20)

    def accepted(p):
        return int(rng.random() < p)

    cmp3 = accepted(0.073)
    cmp4 = accepted(0.02 + 0.10 * wealth)
    cmp5 = accepted(0.25 * wealth ** 3)
    cmp1 = accepted(0.22 * wealth ** 3)
    cmp2 = accepted(0.013)
    recency = rng.randint(0, 99)
    response = accepted(0.05 + 0.2 * (cmp1 + cmp3 + cmp4 + cmp5) + 0.12 * (recency < 30))
    joined = FIRST_DAY + dt.timedelta(days=rng.randint(0, (LAST_DAY - FIRST_DAY).days))

    return [
        cid, year_birth, education, marital, income, kids, teens, joined.strftime("%d-%m-%Y"),
        recency, wines, fruits, meat, fish, sweets, gold, deals, web, catalog, store, visits,
        cmp3, cmp4, cmp5, cmp1, cmp2, accepted(0.009), 3, 11, response,
    ]


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "data/marketing_campaign.csv")
    rng = random.Random(SEED)
    ids = rng.sample(range(11192), ROWS)
    rows = [customer(rng, cid) for cid in ids]
    for i in rng.sample(range(ROWS), 24):  # incomes the customers did not give
        rows[i][4] = ""
    for i, year in zip(rng.sample(range(ROWS), 3), (1893, 1899, 1900)):  # typos, as in the original
        rows[i][1] = year

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        f.write("\t".join(COLUMNS) + "\n")
        for row in rows:
            f.write("\t".join(str(v) for v in row) + "\n")
    tmp.replace(out)
    print(f"wrote {ROWS} customers to {out}")


if __name__ == "__main__":
    main()
