"""A plain pandas implementation of every indicator's monthly counts: the test oracle for the Ibis
definitions (it shares no code with them) and the straightforward baseline the benchmark times.

It reads whole tables into memory, so it is for tests and benchmarks, not for national data.

Example:
    >>> tables = load_tables("out/demo/data")                         # doctest: +SKIP
    >>> oracle_monthly(tables, "readmissions_30d").head()             # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from joinedup.indicators import codelists as cl

TABLES = ("admissions", "ae_attendances", "persons", "social_care_services", "delayed_transfers")


def load_tables(folder) -> dict[str, pd.DataFrame]:
    """Read the tables the indicators need into pandas, dates as datetime64."""
    out = {}
    for name in TABLES:
        path = Path(folder) / name
        frame = pd.read_parquet(path if path.is_dir() else Path(folder) / f"{name}.parquet")
        for col in frame.columns:
            if col.endswith("_date") or col == "month":
                frame[col] = pd.to_datetime(frame[col])
        out[name] = frame
    return out


def _starts(codes: pd.Series, prefixes) -> pd.Series:
    return codes.fillna("").str.startswith(tuple(prefixes))


def _counts(frame: pd.DataFrame, date: str, value: str | None = None, hit: str | None = None,
            strata: bool = False) -> pd.DataFrame:
    frame = frame.assign(month=frame[date].dt.to_period("M").dt.start_time)
    keys = ["area_code", "month"]
    if strata:
        frame = frame.assign(band_start=np.minimum(frame["age"] // 5 * 5, 90))
        keys += ["sex", "band_start"]
    if hit is not None:
        out = frame.groupby(keys)[hit].agg(numerator="sum", denominator="size").reset_index()
        return out.astype({"numerator": "int64"})
    column = value or "_one"
    frame = frame.assign(_one=1.0)
    return frame.groupby(keys)[column].sum().rename("numerator").reset_index()


def _followed_by_transfer(adm: pd.DataFrame) -> pd.Series:
    """Spells whose CIPS goes on: a later spell of the CIPS began as a transfer on or after discharge."""
    nxt = adm.loc[adm["transfer_in"].astype(bool), ["cips_id", "spell_id", "admission_date"]]
    pairs = adm[["cips_id", "spell_id", "admission_date", "discharge_date"]].merge(
        nxt, on="cips_id", suffixes=("", "_n"))
    later = (pairs["admission_date_n"] > pairs["admission_date"]) | (
        (pairs["admission_date_n"] == pairs["admission_date"]) & (pairs["spell_id_n"] > pairs["spell_id"]))
    keep = later & (pairs["spell_id_n"] != pairs["spell_id"]) & (pairs["admission_date_n"] >= pairs["discharge_date"])
    return pairs.loc[keep, "spell_id"]


def oracle_monthly(t: dict[str, pd.DataFrame], indicator_id: str) -> pd.DataFrame:
    """Counts by area and month (and sex and band for standardised rates), like monthly_counts."""
    adm = t["admissions"]
    spells = adm[adm["admission_method"] == "emergency"]  # transfers in included: bed days
    spells = spells[spells["discharge_date"].notna()]
    spells = spells.assign(los=(spells["discharge_date"] - spells["admission_date"]).dt.days.astype(float))
    em = adm[(adm["admission_method"] == "emergency") & ~adm["transfer_in"].astype(bool)]  # CIPS starts
    ended = adm[adm["discharge_date"].notna()]
    alive = ended[(ended["discharge_destination"] != "died") & (ended["admission_method"] != "maternity")]
    if indicator_id == "emergency_admissions":
        return _counts(em, "admission_date", strata=True)
    if indicator_id == "emergency_admissions_65plus":
        return _counts(em[em["age"] >= 65], "admission_date", strata=True)
    if indicator_id == "acsc_chronic":
        dx = em["primary_diagnosis"]
        codes = [c for cs in cl.ACSC_CHRONIC.values() for c in cs]
        listed = _starts(dx.str[:3], [c for c in codes if len(c) == 3]) | dx.isin([c for c in codes if len(c) == 4])
        second = em["secondary_diagnoses"].fillna("").str.split(";")
        copd_second = second.map(lambda cs: any(c.startswith(cl.ACSC_BRONCHITIS_SECONDARY) for c in cs))
        bronchitis = _starts(dx, cl.ACSC_BRONCHITIS) & copd_second
        surgical = [c for k in cl.ACSC_EXCLUDED_CONDITIONS for c in cl.ACSC_CHRONIC[k]]
        is_surgical = _starts(dx.str[:3], [c for c in surgical if len(c) == 3]) | dx.isin([c for c in surgical if len(c) == 4])
        excluded = is_surgical & _starts(em["procedure"].str[:3], cl.ACSC_EXCLUDED_PROCEDURES)
        return _counts(em[(listed | bronchitis) & ~excluded], "admission_date", strata=True)
    if indicator_id == "falls_65plus":
        old = em[em["age"] >= 65]
        injury = old["primary_diagnosis"].str.match(cl.INJURY_PRIMARY_PATTERN)
        fall = old["secondary_diagnoses"].fillna("").str.contains(cl.FALL_EXTERNAL_PATTERN)
        return _counts(old[injury & fall], "admission_date", strata=True)
    if indicator_id == "emergency_bed_days":
        return _counts(spells, "discharge_date", value="los")
    if indicator_id == "los_p90_emergency_65plus":
        old = spells[spells["age"] >= 65].assign(month=lambda f: f["discharge_date"].dt.to_period("M").dt.start_time)
        return old.groupby(["area_code", "month", "los"]).size().rename("n").reset_index().rename(
            columns={"los": "amount"})
    if indicator_id == "ae_attendances":
        return _counts(t["ae_attendances"], "arrival_date")
    if indicator_id == "readmissions_30d":
        index = alive[alive["admission_method"].isin(["emergency", "elective"])]
        index = index[~index["spell_id"].isin(_followed_by_transfer(adm))]
        pairs = index[["spell_id", "person_id", "discharge_date", "cips_id"]].merge(
            em[["person_id", "admission_date", "spell_id", "cips_id"]], on="person_id", suffixes=("", "_r"))
        gap = (pairs["admission_date"] - pairs["discharge_date"]).dt.days
        hit_ids = pairs.loc[(gap >= 0) & (gap < 30) & (pairs["spell_id_r"] != pairs["spell_id"])
                            & (pairs["cips_id_r"] != pairs["cips_id"]), "spell_id"]
        return _counts(index.assign(hit=index["spell_id"].isin(hit_ids)), "discharge_date", hit="hit")
    if indicator_id == "discharges_usual_residence":
        return _counts(alive.assign(hit=alive["discharge_destination"] == "usual_residence"), "discharge_date", hit="hit")
    if indicator_id == "weekend_discharges":
        return _counts(alive.assign(hit=alive["discharge_date"].dt.dayofweek >= 5), "discharge_date", hit="hit")
    if indicator_id == "deaths_in_hospital":
        dead = t["persons"][t["persons"]["death_date"].notna()]
        died = adm[adm["discharge_destination"] == "died"][["person_id", "discharge_date"]]
        keys = set(zip(died["person_id"], died["discharge_date"]))
        hit = [k in keys for k in zip(dead["person_id"], dead["death_date"])]
        return _counts(dead.assign(hit=hit), "death_date", hit="hit")
    sc = t["social_care_services"]
    care_home = sc[sc["service_type"].isin(["residential", "nursing"]) & sc["permanent"]]
    if indicator_id == "care_home_admissions_65plus":
        funded = care_home[care_home["funding"].isin(["la_funded", "joint_nhs"])]
        funded = funded.merge(t["persons"][["person_id", "birth_year"]], on="person_id")
        funded = funded[funded["start_date"].dt.year - funded["birth_year"] >= 65]
        return _counts(funded, "start_date")
    reab = sc[(sc["service_type"] == "reablement") & (sc["referral_source"] == "hospital_discharge")
              & sc["spell_id"].notna()]
    reab = reab.merge(adm[["spell_id", "discharge_date", "age"]], on="spell_id")
    reab = reab[reab["age"] >= 65]
    if indicator_id == "reablement_at_home_91d":
        reab = reab.merge(t["persons"][["person_id", "death_date"]], on="person_id", how="left")
        day91 = reab["discharge_date"] + pd.Timedelta(days=91)
        moves = reab[["service_id", "person_id", "discharge_date"]].merge(
            care_home[["person_id", "start_date"]], on="person_id")
        moved = moves.loc[(moves["start_date"] > moves["discharge_date"])
                          & (moves["start_date"] <= moves["discharge_date"] + pd.Timedelta(days=91)), "service_id"]
        alive91 = reab["death_date"].isna() | (reab["death_date"] > day91)
        return _counts(reab.assign(hit=alive91 & ~reab["service_id"].isin(moved)), "discharge_date", hit="hit")
    if indicator_id == "reablement_coverage":
        old = alive[alive["age"] >= 65]
        return _counts(old.assign(hit=old["spell_id"].isin(reab["spell_id"])), "discharge_date", hit="hit")
    if indicator_id.startswith("delayed_transfers"):
        dt = t["delayed_transfers"]
        org = indicator_id.removeprefix("delayed_transfers").removeprefix("_")
        if org:
            dt = dt[dt["responsible_org"] == org]
        return _counts(dt.assign(delayed_days=dt["delayed_days"].astype(float)), "month", value="delayed_days")
    raise KeyError(f"the oracle has no definition of {indicator_id!r}")
