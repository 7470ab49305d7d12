"""The process evaluation reads the register the dashboards keep in the database (issue 20):
`joinedup process --store URL`, `[process] initiative_register = "store"` and `[programme]
initiative_register = "store"` (treatment timing), on SQLite and PostgreSQL. Only verified entries
(the team's own, and site submissions the team reviewed) are analysed; unreviewed site submissions
and pending proposals are counted apart per site, and change nothing in the analyses."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.process.register import validate_register
from joinedup.process.register_book import RegisterBook
from joinedup.process.register_io import register_text
from joinedup.simulate.initiatives import _default_sites, simulate_register
from joinedup.survey.store import SurveyStore

runner = CliRunner()
SUBMITTED = {"initiative_id": "unreviewed-1", "initiative": "Claimed scheme", "initiative_type": "community_mdt",
             "target_groups": "older_people", "model": "social", "prevention": "no", "personalisation": "yes",
             "start_date": "2014-01-01", "end_date": "", "period": "2014-01-01", "stage": "at_scale", "scale": "900",
             "scale_unit": "people", "source": "site_submission", "source_ref": "e-mail from the site"}
ACCEPTED = {"initiative": "Carers' hub", "initiative_type": "care_navigator", "target_groups": "carers",
            "model": "social", "prevention": "yes", "personalisation": "yes", "start_date": "2014-06-01",
            "end_date": "", "period": "2015-01-01", "stage": "implemented", "scale": "120", "scale_unit": "people"}


def _yearly_register(seed=3, n_sites=6, last_year=2018) -> pd.DataFrame:
    """A simulated register (narrowing) kept yearly (the first quarter's rows), as text."""
    frame, _ = simulate_register(seed=seed, scenario="narrowing", sites=_default_sites().head(n_sites),
                                 last_year=last_year)
    return frame[pd.to_datetime(frame["period"]).dt.month == 1].reset_index(drop=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'survey.db'}"
    return request.getfixturevalue("pg_server").create_database(f"p_{tmp_path.name.lower().replace('-', '_')[:40]}")


def _fill(url: str, frame: pd.DataFrame) -> tuple[list[str], str]:
    """The team's register plus one unreviewed site submission (imported), one accepted proposal and
    two pending ones; returns the sites (unreviewed, accepted/corrected, pending new) and the accepted id."""
    store = SurveyStore(url)
    store.create()
    book = RegisterBook(store)
    sites = sorted(frame["site"].unique())
    unreviewed = {**SUBMITTED, "site": sites[0]}
    book.import_register(validate_register(pd.concat([frame, pd.DataFrame([unreviewed])], ignore_index=True)),
                         "evaluator", "team register")
    accepted = book.decide(book.propose(sites[1], "lead", "new", ACCEPTED), "accept", "evaluator")
    own = frame.loc[frame["site"] == sites[1], "initiative_id"].iloc[0]
    book.propose(sites[1], "lead", "correction", {"period": "2016-01-01", "stage": "stopped"}, initiative_id=own)
    book.propose(sites[2], "lead2", "new", {**ACCEPTED, "initiative": "Pending hub"})
    store.engine.dispose()
    return sites, accepted


def _tables(out) -> dict[str, pd.DataFrame]:
    return {n: pd.read_csv(out / "tables" / f"{n}.csv") for n in
            ("process_site_years", "process_positions", "process_trends", "process_dose", "process_unreviewed")}


def test_process_command_reads_the_database_register_and_sets_unreviewed_self_report_apart(store_url, tmp_path):
    frame = _yearly_register()
    sites, accepted = _fill(store_url, frame)
    result = runner.invoke(app, ["process", "--store", store_url, "--out", str(tmp_path / "db")])
    assert result.exit_code == 0, result.output
    assert "left aside as unreviewed: 1 site-submitted row(s), 2 pending proposal(s)" in result.output
    db = _tables(tmp_path / "db")
    # the same verified content from a file (the accepted proposal as the team's row) gives the same tables
    accepted_row = {**ACCEPTED, "site": sites[1], "initiative_id": accepted, "source": "document", "source_ref": ""}
    file_rows = pd.concat([frame, pd.DataFrame([accepted_row])], ignore_index=True)
    register_text(validate_register(file_rows).rows).to_csv(tmp_path / "verified.csv", index=False)
    result = runner.invoke(app, ["process", str(tmp_path / "verified.csv"), "--out", str(tmp_path / "file")])
    assert result.exit_code == 0, result.output
    on_file = _tables(tmp_path / "file")
    for name in ("process_site_years", "process_positions", "process_trends", "process_dose"):
        pd.testing.assert_frame_equal(db[name], on_file[name], check_dtype=False, obj=name)
    # the accepted proposal is analysed; the unreviewed submission and the pending ones are not
    years = db["process_site_years"]
    with_accepted = years[(years["site"] == sites[1]) & (years["year"] >= 2015)]
    assert (with_accepted["type:care_navigator"] == 1).all()
    assert "Claimed scheme" not in (tmp_path / "db" / "tables" / "process_dose.csv").read_text()
    assert not db["process_dose"].query(f"site == '{sites[0]}' and period == '2014-01-01' "
                                        "and people_covered >= 900").shape[0]
    unreviewed = db["process_unreviewed"].set_index("site")[["unverified_rows", "unverified_initiatives",
                                                             "pending_new", "pending_corrections"]]
    assert unreviewed.loc[sites[0]].tolist() == [1, 1, 0, 0]
    assert unreviewed.loc[sites[1]].tolist() == [0, 0, 0, 1]
    assert unreviewed.loc[sites[2]].tolist() == [0, 0, 1, 0]
    assert on_file["process_unreviewed"].empty


def test_a_register_file_s_site_submissions_are_set_apart_too(tmp_path):
    frame = _yearly_register(seed=5, n_sites=5)
    site = frame["site"].iloc[0]
    pd.concat([frame, pd.DataFrame([{**SUBMITTED, "site": site}])]).to_csv(tmp_path / "r.csv", index=False)
    frame.to_csv(tmp_path / "team.csv", index=False)
    for name in ("r", "team"):
        result = runner.invoke(app, ["process", str(tmp_path / f"{name}.csv"), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    with_sub, team = _tables(tmp_path / "r"), _tables(tmp_path / "team")
    pd.testing.assert_frame_equal(with_sub["process_site_years"], team["process_site_years"])
    assert with_sub["process_unreviewed"].drop(columns="suppressed").to_dict("records") == [
        {"site": site, "unverified_rows": 1, "unverified_initiatives": 1, "pending_new": 0, "pending_corrections": 0}]


def test_bad_store_input_is_named(tmp_path):
    import sqlalchemy as sa

    result = runner.invoke(app, ["process", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "give a register file or --store" in result.output
    old = tmp_path / "old.db"  # a survey database from before migration 5
    with sa.create_engine(f"sqlite:///{old}").begin() as c:
        c.execute(sa.text("create table admins (username text)"))
    result = runner.invoke(app, ["process", "--store", f"sqlite:///{old}", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "has no table(s) initiative_register, register_proposals" in result.output
    assert "schema version 5" in result.output
    result = runner.invoke(app, ["process", "--store", f"sqlite:///{tmp_path}/no/such/dir/x.db", "--out",
                                 str(tmp_path / "o")])
    assert result.exit_code == 1 and "survey store" in result.output and "Traceback" not in result.output
    from joinedup.process.register_source import _safe

    assert "s3cret" not in _safe("postgresql://evaluator:s3cret@db.example/survey")  # reports name the store
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    SurveyStore(empty).create()
    result = runner.invoke(app, ["process", "--store", empty, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "no verified rows" in result.output


def test_protocol_store_keys_need_a_url(tmp_path):
    from joinedup.protocol import ProtocolError, load_protocol

    for extra in ('[process]\ninitiative_register = "store"\n',
                  '[programme]\nname = "P"\nsites = "s.csv"\ninitiative_register = "store"\n'):
        path = tmp_path / "p.toml"
        path.write_text(f'[evaluation]\nname = "x"\n{extra}')
        with pytest.raises(ProtocolError, match="needs \\[process\\] store"):
            load_protocol(path)


def test_pipeline_timing_dose_and_process_step_from_the_database(small_england, tmp_path):
    """[programme] initiative_register = "store": go-lives from the verified entries (an unreviewed
    site submission live earlier does not move its site's go-live); [process] the same register,
    with the unreviewed counted apart and a sentence written from that table."""
    from html import escape

    from joinedup.data import load_dataset
    from joinedup.pipeline import run_protocol
    from joinedup.process.treatment import go_live
    from joinedup.process.wording import unreviewed_sentence
    from joinedup.programme import programme_of
    from joinedup.protocol import load_protocol

    ds = load_dataset(small_england)
    prog = ds.execute(ds.table("programmes"))
    pioneers = prog[prog["programme"] == "pioneer"].rename(columns={"area_code": "unit_code"})
    pioneers["start_date"] = pd.to_datetime(pioneers["start_date"]).dt.strftime("%Y-%m-%d")
    pioneers[["site", "unit_code", "start_date", "wave"]].to_csv(tmp_path / "sites.csv", index=False)
    frame, _ = simulate_register(seed=4, sites=pioneers.drop_duplicates("site")[["site", "start_date"]],
                                 last_year=2016)
    frame = frame[pd.to_datetime(frame["period"]).dt.month.isin((1, 7))].reset_index(drop=True)
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    store = SurveyStore(url)
    store.create()
    truth = validate_register(frame).rows
    moved = go_live(truth).set_index("site")["go_live"]
    site = moved.index[0]  # a site whose unreviewed claim would go live a year before its verified go-live
    claim = {**SUBMITTED, "site": site, "start_date": "2012-01-01",
             "period": (moved[site] - pd.DateOffset(years=1)).strftime("%Y-%m-%d")}
    RegisterBook(store).import_register(validate_register(pd.concat([frame, pd.DataFrame([claim])])), "evaluator")
    store.engine.dispose()
    path = tmp_path / "protocol.toml"
    path.write_text(f'[evaluation]\nname = "Store"\n[data]\nsource = "{small_england}"\n'
                    '[programme]\nname = "P"\nsites = "sites.csv"\ninitiative_register = "store"\n'
                    f'[process]\ninitiative_register = "store"\nstore = "{url}"\n'
                    f'[output]\nfolder = "{tmp_path / "out"}"\n')
    protocol = load_protocol(path)
    starts = programme_of(protocol, ds).sites.drop_duplicates("site").set_index("site")["start_date"]
    assert (starts[moved.index] == moved).all()  # the claim did not move the go-live
    result = run_protocol(protocol)
    unreviewed = pd.read_csv(result.out_dir / "tables" / "process_unreviewed.csv")
    assert unreviewed.drop(columns="suppressed").to_dict("records") == [
        {"site": site, "unverified_rows": 1, "unverified_initiatives": 1, "pending_new": 0, "pending_corrections": 0}]
    html = result.report.read_text()
    sentence = unreviewed_sentence(unreviewed)
    assert sentence.startswith("Left out of every analysis as unreviewed self-report (the evaluation's caution): "
                               "1 register row (1 initiative) from site submissions nobody reviewed, and 0 proposed "
                               "new initiatives and 0 proposed corrections awaiting review, at 1 site.")
    assert escape(sentence) in html and "the register in the survey store sqlite:///" in html


def test_register_import_loads_a_file_into_the_database_the_dashboards_edit(tmp_path):
    frame = _yearly_register(seed=6, n_sites=5)
    bad = frame.copy()
    bad.loc[2, "stage"] = "live"
    bad.to_csv(tmp_path / "team.csv", index=False)
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    result = runner.invoke(app, ["register-import", str(tmp_path / "team.csv"), "--store", url, "--by", "evaluator",
                                 "--rejects", str(tmp_path / "rejects.csv")])
    assert result.exit_code == 0, result.output
    assert f"{len(frame) - 1} rows imported" in result.output and "1 rejected" in result.output
    assert pd.read_csv(tmp_path / "rejects.csv")["line"].tolist() == [4]
    store = SurveyStore(url)
    book = RegisterBook(store)
    assert len(book.entries()) == len(frame) - 1
    assert set(book.changes()["changed_by"]) == {"evaluator"}
    assert store.audit_log()["action"].eq("register_import").sum() == 1
    store.engine.dispose()
    # the database then gives the same analysis as the file's accepted rows
    for args, out in ((["--store", url], "db"), ([str(tmp_path / "team.csv")], "file")):
        result = runner.invoke(app, ["process", *args, "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(_tables(tmp_path / "db")["process_site_years"],
                                  _tables(tmp_path / "file")["process_site_years"])
    result = runner.invoke(app, ["register-import", str(tmp_path / "none.csv"), "--store", url, "--by", "x"])
    assert result.exit_code == 1 and "does not exist" in result.output
