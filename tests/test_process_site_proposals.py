"""Dashboard scheme corrections (real SQLite feedback store) become site-submitted register rows:
accepted ones verified, pending ones unverified, rejected ones left out, unusable ones rejected with
a reason; the proposed rows pass the register's own rules."""

from __future__ import annotations

import pandas as pd

from joinedup.process.register import validate_register
from joinedup.process.register_io import write_register
from joinedup.process.site_proposals import proposals_from_corrections
from joinedup.simulate.initiatives import simulate_register
from joinedup.survey.store import SurveyStore
from joinedup.web.feedback import Feedback


def test_corrections_become_register_rows(tmp_path):
    rows = validate_register(simulate_register(seed=2, sites=pd.DataFrame(
        {"site": ["Barnsley", "Kent"], "start_date": ["2013-11-01", "2013-11-01"]}), last_year=2016)[0]).rows
    bar = rows[rows["site"] == "Barnsley"]["initiative_id"].iloc[0]
    store = SurveyStore(f"sqlite:///{tmp_path / 'fb.db'}")
    store.create()
    fb = Feedback(store)
    fb.create()
    ok = fb.add_correction("Barnsley", bar, "status", "implemented", "At scale", "lead")
    fb.add_correction("Barnsley", bar, "status", "implemented", "stopped", "lead")
    refused = fb.add_correction("Barnsley", bar, "status", "implemented", "planned", "lead")
    bad_stage = fb.add_correction("Barnsley", bar, "status", "", "<script>live</script>", "lead")
    other_site = fb.add_correction("Kent", bar, "status", "", "piloting", "lead")
    unknown = fb.add_correction("Barnsley", "new", "status", "", "planned", "lead")
    fb.decide(ok, "accept", "admin")
    fb.decide(refused, "reject", "admin", "documents say otherwise")
    proposed, rejects = proposals_from_corrections(fb.corrections(), rows, period="2017-01-01")
    assert proposed["stage"].tolist() == ["at_scale", "stopped"]
    assert proposed["verified"].tolist() == [True, False]
    assert (proposed["source"] == "site_submission").all()
    assert f"correction {ok} by lead, accepted by admin" in proposed["source_ref"].iloc[0]
    reasons = rejects.set_index("correction_id")["reason"]
    assert set(reasons.index) == {bad_stage, other_site, unknown}
    assert "is not a stage" in reasons[bad_stage]
    assert "belongs to 'Barnsley', not 'Kent'" in reasons[other_site]
    assert "not an initiative in the register" in reasons[unknown]
    # the proposals pass the register's rules when written and read back like any entry
    merged = pd.concat([rows, proposed.iloc[[0]]], ignore_index=True)
    write_register(merged, tmp_path / "reg.csv")
    back = validate_register(pd.read_csv(tmp_path / "reg.csv", dtype=str, keep_default_na=False))
    assert back.rejects.empty and len(back.rows) == len(merged)
