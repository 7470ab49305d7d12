"""The example protocol end to end on PySpark local mode gives the same tables as on DuckDB.

One simulated England (scale 0.002, seed 2013), the example protocol (every step: validate,
overview, indicators at every period and level, impact, synthesis, survey, economics, report) run
twice, ``[data] engine = "duckdb"`` and ``"spark"``, and every table in ``tables/*.parquet``
compared.

Tolerance: text, dates, integers and booleans exactly; floating-point columns to a relative and
absolute 1e-9, because Spark and DuckDB add the same numbers in a different order (sums of
floating-point values are not associative) and everything downstream inherits the last bits.
Rows are compared after sorting by every non-floating-point column, since neither engine promises
an order where a table does not impose one.
"""

import numpy as np
import pandas as pd
import pytest

from joinedup.pipeline import run_protocol
from joinedup.protocol import example_protocol_path, load_protocol
from joinedup.simulate import simulate

RTOL = ATOL = 1e-9


def _protocol(tmp_path, data, engine):
    text = example_protocol_path().read_text(encoding="utf-8")
    text = text.replace('source = "simulate"', f'source = "{data}"', 1)
    text = text.replace('engine = "duckdb"', f'engine = "{engine}"', 1)
    path = tmp_path / f"{engine}.toml"
    path.write_text(text, encoding="utf-8")
    return load_protocol(path)


def _sorted(frame):
    keys = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    keys = [c for c in keys if frame[c].map(lambda v: isinstance(v, (list, np.ndarray, dict))).sum() == 0]
    return frame.sort_values(keys, ignore_index=True, kind="stable") if keys else frame


def differing_tables(duck_dir, spark_dir, names) -> list[str]:
    """The tables among ``names`` (``tables/*.parquet`` of both runs) that differ beyond the
    tolerance, each with the first lines of how (also used by benchmarks/spark_end_to_end.py)."""
    differ = []
    for name in names:
        duck = _sorted(pd.read_parquet(duck_dir / "tables" / name))
        spark = _sorted(pd.read_parquet(spark_dir / "tables" / name))
        try:
            pd.testing.assert_frame_equal(spark, duck, check_exact=False, rtol=RTOL, atol=ATOL, obj=name)
        except AssertionError as exc:
            differ.append(f"{name}: {str(exc).splitlines()[0:4]}")
    return differ


@pytest.mark.spark
def test_the_example_protocol_gives_identical_tables_on_spark_and_duckdb(tmp_path, spark_backend):
    data = tmp_path / "data"
    simulate(data, scale=0.002, seed=2013)
    runs = {e: run_protocol(_protocol(tmp_path, data, e), out=tmp_path / e) for e in ("duckdb", "spark")}
    duck_tables = sorted(p.name for p in (runs["duckdb"].out_dir / "tables").glob("*.parquet"))
    spark_tables = sorted(p.name for p in (runs["spark"].out_dir / "tables").glob("*.parquet"))
    assert duck_tables == spark_tables and len(duck_tables) > 30
    assert differing_tables(runs["duckdb"].out_dir, runs["spark"].out_dir, duck_tables) == []
