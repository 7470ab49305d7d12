"""Assisted coding on hand-written key-informant answers (four codes, 64 answers).

Held-out agreement with the human codes must be well above chance (micro kappa > 0.5) and must
collapse when the training labels are shuffled (micro kappa < 0.3): a check that the suggestions come
from the text, not from the label frequencies. Suggestions are never accepted until a person accepts one.
"""

import numpy as np
import pytest

from joinedup.survey.coding.suggest import CodeSuggester, Suggestion, accept, evaluate_heldout

IT = ["The shared care record went live across all GP practices", "GPs and social workers can now see the same patient record",
      "We linked hospital and council IT systems", "Information governance agreements now let us share data",
      "A single electronic care record for older people", "Interoperable IT between the trust and the council",
      "Care homes got access to the GP record", "We built a data warehouse joining health and social care data",
      "The risk stratification tool draws on linked records", "Digital care plans are visible to every team",
      "Paramedics can read the shared care record", "Our new integrated IT platform replaced three systems",
      "Patients' records now follow them between services", "Information sharing across the system has improved",
      "Data sharing agreements were signed by every partner", "An online portal shows care plans to all professionals"]
WORK = ["We cannot recruit enough home care workers", "Staff shortages in district nursing", "High turnover of care staff",
        "Vacancies in social work teams slow everything down", "GP recruitment is a serious problem",
        "The workforce is exhausted after winter", "Agency staff costs are rising because posts are empty",
        "Not enough nurses to staff the community teams", "Care workers leave for better paid retail jobs",
        "Training new staff takes too long", "We lost experienced managers this year", "Recruiting occupational therapists is hard",
        "Too few carers to deliver packages of care", "Burnout among frontline staff", "Workforce gaps in mental health teams",
        "Rota gaps leave the rapid response service short"]
FUND = ["Funding cuts to adult social care", "The council's budget was cut again", "We have no recurrent funding for the pilots",
        "The Better Care Fund pooled budget is too small", "Financial pressure on the acute trust",
        "Money was taken back to cover hospital deficits", "Savings targets make investment impossible",
        "Short-term grants end before schemes can prove themselves", "Budgets are not aligned between NHS and council",
        "Austerity has hit preventive services", "The CCG overspent and froze new schemes", "Cost pressures in residential care",
        "No money to double run services during the change", "Payment by results works against integration",
        "Our transformation fund was halved", "Council tax rises do not cover demand"]
JOINT = ["Much better joint working between the council and the CCG", "Leaders now meet every month across organisations",
         "Trust between partners has grown", "Integrated teams share one manager", "Health and social care staff work in the same office",
         "The health and wellbeing board leads the programme together", "Partners agreed one vision for integrated care",
         "Joint commissioning of community services", "Relationships with the voluntary sector are stronger",
         "Multi-disciplinary team meetings happen every week", "GPs and social workers plan care together",
         "A single leadership team for the whole system", "Joint appointments between the trust and the council",
         "We co-designed services with patients and partners", "Collaboration with the hospital has improved",
         "Colleagues from different organisations now solve problems together"]
TEXTS = IT + WORK + FUND + JOINT
SETS = [{"IT"}] * 16 + [{"WORKFORCE"}] * 16 + [{"FUNDING"}] * 16 + [{"JOINT_WORKING"}] * 16


def test_heldout_agreement_is_from_the_text():
    result = evaluate_heldout(TEXTS, SETS, test_size=0.3, seed=1).set_index("code")
    assert result.loc["(micro)", "kappa"] > 0.5
    assert (result.drop("(micro)")["n_test_pos"] > 0).all()
    shuffled = list(np.random.default_rng(0).permutation(np.array(SETS, dtype=object)))
    control = evaluate_heldout(TEXTS, shuffled, test_size=0.3, seed=1).set_index("code")
    assert control.loc["(micro)", "kappa"] < 0.3


def test_suggestions_are_never_final():
    s = CodeSuggester().fit(TEXTS, SETS)
    got = s.suggest(["There are not enough home carers to cover the visits"], threshold=0.3)[0]
    assert got and got[0].code == "WORKFORCE" and not any(x.accepted for x in got)
    row = accept(got[0], "ab", "p9/1/challenge")
    assert row["coder"] == "ab" and row["memo"].startswith("assisted (accepted by ab")
    with pytest.raises(ValueError, match="named coder"):
        accept(Suggestion("IT", 0.9), "", "s")


def test_bad_training_input():
    with pytest.raises(ValueError, match="as many code sets as texts"):
        CodeSuggester().fit(["a", "b"], [{"IT"}])
    with pytest.raises(ValueError, match="not in the codebook"):
        CodeSuggester().fit(["a"], [{"NEW"}], codes=["IT"])
    with pytest.raises(ValueError, match="fit the suggester"):
        CodeSuggester().scores(["a"])


def test_cli_suggests_for_uncoded_answers_only(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from joinedup.cli import app

    resp = pd.DataFrame({"panelist_id": [f"p{i}" for i in range(len(TEXTS))], "wave": 1, "challenge": TEXTS})
    codes = pd.DataFrame([{"panelist_id": f"p{i}", "wave": 1, "question": "challenge", "code": next(iter(s)),
                           "coder": "ab"} for i, s in enumerate(SETS) if i % 8])  # every 8th left uncoded
    resp.to_csv(tmp_path / "responses.csv", index=False)
    codes.to_csv(tmp_path / "codes.csv", index=False)
    run = CliRunner().invoke(app, ["survey", "suggest-codes", "--responses", str(tmp_path / "responses.csv"),
                                   "--codes", str(tmp_path / "codes.csv"), "--out", str(tmp_path / "o"),
                                   "--question", "challenge"])
    assert run.exit_code == 0, run.output
    sug = pd.read_csv(tmp_path / "o" / "suggestions.csv")
    assert set(sug.panelist_id) <= {f"p{i}" for i in range(0, len(TEXTS), 8)} and not sug.accepted.any()
    best = sug.sort_values("score").groupby("panelist_id").tail(1).set_index("panelist_id")["code"]
    truth = {f"p{i}": next(iter(SETS[i])) for i in range(0, len(TEXTS), 8)}
    assert sum(best.get(k) == v for k, v in truth.items()) >= 6  # of 8 uncoded answers
