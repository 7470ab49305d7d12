"""Assisted coding on hand-written key-informant answers (four codes, 70 answers, 6 with several codes).

Held-out agreement with the human codes (30% held out, seeds 1-3) must be well above chance: micro kappa
above 0.6 and at least 3 of the 4 codes above 0.4 in every split. Measured: micro 0.76-0.88, per code
0.49-1.0 (IT, with the vaguest wording, is the weakest). With the training labels shuffled the same
check collapses (micro kappa -0.09 to 0.19, asserted below 0.3): the suggestions come from the text, not
from the label frequencies. Suggestions are never accepted until a person accepts one.
"""

import numpy as np
import pandas as pd
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
MULTI = [("Funding cuts mean we cannot recruit enough home care staff", {"FUNDING", "WORKFORCE"}),
         ("Shared records help the joint teams plan care together", {"IT", "JOINT_WORKING"}),
         ("No budget to replace the old IT systems", {"FUNDING", "IT"}),
         ("Integrated teams are short of nurses and social workers", {"JOINT_WORKING", "WORKFORCE"}),
         ("The pooled budget paid for a shared digital care plan", {"FUNDING", "IT"}),
         ("Staff from the council and the trust were trained together on the new record",
          {"WORKFORCE", "IT", "JOINT_WORKING"})]
TEXTS = IT + WORK + FUND + JOINT
SETS = [{"IT"}] * 16 + [{"WORKFORCE"}] * 16 + [{"FUNDING"}] * 16 + [{"JOINT_WORKING"}] * 16
ALL_TEXTS = TEXTS + [t for t, _ in MULTI]
ALL_SETS = SETS + [c for _, c in MULTI]
CODES = ["FUNDING", "IT", "JOINT_WORKING", "WORKFORCE"]


class FakeModel:
    """Counts the texts it embeds; vectors from the words (a word's hash picks its direction)."""

    def __init__(self):
        self.embedded = []

    def encode(self, texts, batch_size=32):
        self.embedded += list(texts)
        out = np.zeros((len(texts), 384), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i] += np.random.default_rng(sum(map(ord, w))).standard_normal(384)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_heldout_agreement_is_from_the_text(seed):
    result = evaluate_heldout(ALL_TEXTS, ALL_SETS, test_size=0.3, seed=seed).set_index("code")
    assert list(result.index) == CODES + ["(micro)"]
    assert list(result.columns) == ["n_train_pos", "n_test_pos", "precision", "recall", "f1", "kappa"]
    assert (result.drop("(micro)")["n_test_pos"] > 0).all()
    assert (result["n_train_pos"] + result["n_test_pos"]).drop("(micro)").to_dict() == {
        c: sum(c in s for s in ALL_SETS) for c in CODES}
    assert result.loc["(micro)", "kappa"] > 0.6
    assert (result.drop("(micro)")["kappa"] > 0.4).sum() >= 3
    shuffled = list(np.random.default_rng(seed).permutation(np.array(ALL_SETS, dtype=object)))
    control = evaluate_heldout(ALL_TEXTS, shuffled, test_size=0.3, seed=seed).set_index("code")
    assert control.loc["(micro)", "kappa"] < 0.3


def test_heldout_is_deterministic_for_a_seed():
    a = evaluate_heldout(ALL_TEXTS, ALL_SETS, seed=7)
    b = evaluate_heldout(ALL_TEXTS, ALL_SETS, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = evaluate_heldout(ALL_TEXTS, ALL_SETS, seed=8)
    assert not a[["n_train_pos", "n_test_pos"]].equals(c[["n_train_pos", "n_test_pos"]])


def test_suggestions_are_never_final():
    s = CodeSuggester().fit(ALL_TEXTS, ALL_SETS)
    got = s.suggest(["There are not enough home carers to cover the visits",
                     "Cuts to the council budget leave us unable to hire care workers"], threshold=0.3)
    assert got[0] and got[0][0].code == "WORKFORCE"
    assert {x.code for x in got[1]} >= {"FUNDING", "WORKFORCE"}  # several codes for one answer
    assert all(not x.accepted for sug in got for x in sug)
    assert all(len(sug) <= 1 for sug in s.suggest(ALL_TEXTS[:5], top_k=1, threshold=0.0))
    assert all(x.score >= 0.9 for sug in s.suggest(ALL_TEXTS[:5], threshold=0.9) for x in sug)
    row = accept(got[0][0], "ab", "p9/1/challenge")
    assert row["code"] == "WORKFORCE" and row["coder"] == "ab" and row["source"] == "assisted (accepted by ab)"
    assert row["source_id"] == "p9/1/challenge" and row["memo"].startswith("assisted (accepted by ab")
    assert not got[0][0].accepted  # the suggestion itself is unchanged; only the row is a coding
    assert accept(Suggestion("IT", 0.7), "cd")["source"] == "assisted (accepted by cd)"
    with pytest.raises(ValueError, match="named coder"):
        accept(Suggestion("IT", 0.9), "", "s")
    with pytest.raises(TypeError, match="Suggestion"):
        accept({"code": "IT"}, "ab")


def test_accepted_row_goes_into_a_coding_project():
    from joinedup.survey.coding.project import CODING_COLUMNS

    row = accept(Suggestion("IT", 0.8), "ab", "p1/1/achievements")
    assert set(CODING_COLUMNS) <= set(row)


def test_bad_training_input():
    with pytest.raises(ValueError, match="no training data"):
        CodeSuggester(FakeModel()).fit([], [])
    with pytest.raises(ValueError, match="no training data"):
        CodeSuggester(FakeModel()).fit(["a", "b"], [set(), set()])
    with pytest.raises(ValueError, match="as many code sets as texts"):
        CodeSuggester(FakeModel()).fit(["a", "b"], [{"IT"}])
    with pytest.raises(ValueError, match="not in the codebook: NEW"):
        CodeSuggester(FakeModel()).fit(["a", "b"], [{"NEW"}, {"IT"}], codes=["IT"])
    with pytest.raises(ValueError, match="fit the suggester"):
        CodeSuggester(FakeModel()).scores(["a"])
    with pytest.raises(ValueError, match="no training data"):
        evaluate_heldout(["a"], [{"IT"}], model=FakeModel())
    s = CodeSuggester(FakeModel()).fit(["a b", "c d"], [{"IT"}, {"FUNDING"}])
    with pytest.raises(TypeError, match="list of texts"):
        s.suggest("a b")
    with pytest.raises(ValueError, match="top_k"):
        s.suggest(["a b"], top_k=0)


def test_rare_codes_use_nearest_centroid_and_unseen_codes_score_zero():
    texts = ALL_TEXTS[:32] + ["Care home residents can be seen by video link", "Video consultations with care homes"]
    sets = SETS[:32] + [{"TELEHEALTH"}, {"TELEHEALTH"}]
    s = CodeSuggester(FakeModel()).fit(texts, sets, codes=["IT", "WORKFORCE", "TELEHEALTH", "CARERS"])
    assert s._fits["TELEHEALTH"][0] == "centroid" and s._fits["IT"][0] == "logistic" and "CARERS" not in s._fits
    scores = s.scores(["Video link to the care home", "Recruitment of staff"])
    assert list(scores.columns) == ["IT", "WORKFORCE", "TELEHEALTH", "CARERS"]
    assert ((scores >= 0) & (scores <= 1)).all().all() and (scores["CARERS"] == 0).all()
    assert scores.loc[0, "TELEHEALTH"] > 0.5 > scores.loc[1, "TELEHEALTH"]
    assert all(x.code != "CARERS" for sug in s.suggest(texts, threshold=0.0) for x in sug)


def test_embeddings_are_cached_by_text():
    fake = FakeModel()
    s = CodeSuggester(fake).fit(ALL_TEXTS, ALL_SETS)
    assert sorted(fake.embedded) == sorted(set(ALL_TEXTS))
    s.suggest(ALL_TEXTS[:10] + ["a new answer", "a new answer"])
    CodeSuggester(fake).fit(ALL_TEXTS, ALL_SETS)  # another suggester on the same model shares the cache
    evaluate_heldout(ALL_TEXTS, ALL_SETS, model=fake)
    assert sorted(fake.embedded) == sorted(set(ALL_TEXTS) | {"a new answer"})


def test_lazy_package_exports():
    from joinedup.survey import coding

    assert coding.CodeSuggester is CodeSuggester and coding.accept is accept
    assert coding.MiniLM.__name__ == "MiniLM"
    with pytest.raises(AttributeError):
        _ = coding.nothing_here


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
