"""XLSForm instruments: the shipped Pioneer instrument, broken forms, expressions, answer checks, HTML.

The Pioneer instrument's question names and choice lists are an interface (issue: survey service);
broken workbooks must give errors naming the sheet and row (pyxform's own checks, plus ours for
expressions); the Python evaluator and the page's JavaScript evaluator (run in Debian's Chromium) must
agree on every expression tested.
"""

import openpyxl
import pytest

from joinedup.survey.instrument import FormError, expr, load_form, render_form, validate_answers
from joinedup.survey.pioneer_instrument import build, pioneer_instrument_path

PROG = ["prog_joined_up", "prog_quality", "prog_access", "prog_qol", "prog_independence", "prog_carers", "prog_say",
        "prog_self_manage", "prog_awareness", "prog_gp_centre", "prog_responsive", "prog_readmissions",
        "prog_unplanned", "prog_staff_satisfaction", "prog_costs"]
BAR = ["bar_financial", "bar_it_ig", "bar_national_policy", "bar_info_sharing", "bar_payment", "bar_procurement",
       "bar_workforce", "bar_provider_viability", "bar_culture", "bar_engagement"]
HELP = ["help_new_care_models", "help_bcf", "help_ipc", "help_stp", "help_national_support"]
INV = ["inv_acute", "inv_community", "inv_gps", "inv_social_care", "inv_vcs", "inv_public_health", "inv_mental_health"]


@pytest.fixture(scope="module")
def form():
    return load_form(pioneer_instrument_path())


def test_pioneer_instrument_names_and_choices(form):
    names = [q.name for q in form.questions]
    for n in ["pioneer", "org_type", "is_lead", *PROG, *BAR, *HELP, *INV, "achievements", "challenge"]:
        assert n in names, n
    assert form.question("org_type").choice_names == ("ccg", "la", "nhs_provider", "other")
    assert form.question("is_lead").choice_names == ("yes", "no")
    assert len(form.question("pioneer").choices) == 25
    assert all(form.question(n).choice_names == ("substantial", "some", "little", "none", "too_early", "dont_know")
               for n in PROG)
    assert all(form.question(n).choice_names == ("significant", "minor", "not_barrier", "dont_know") for n in BAR)
    assert all(form.question(n).choice_names == ("very", "fairly", "not_very", "not_at_all", "dont_know")
               for n in HELP + INV)
    assert form.question("achievements").type == form.question("challenge").type == "text"
    assert [g.name for g in form.groups() if g.is_matrix] == [
        "progress", "barriers", "helpfulness", "involvement",
        # the process items, in the committed instrument since version 2017.1 (issue 20)
        "facilitators", "personalisation", "system", "national_barriers", "barrier_origin"]


def test_committed_instrument_holds_the_process_items(form):
    """The items the evaluation reported on (initiatives and stages, objectives and progress,
    facilitators, personalisation, system level, national barriers and their origin) are in the
    committed workbook, which load_form has checked with pyxform; the free text still comes last."""
    from joinedup.process.ki_items import FAMILIES, NATIONAL_BARRIERS

    names = [q.name for q in form.questions]
    for items in FAMILIES.values():
        assert set(items) <= set(names), items
    for k in (1, 2, 3):
        assert {f"init_{k}_name", f"init_{k}_stage", f"obj_{k}_text", f"obj_{k}_progress"} <= set(names)
    assert form.question("init_1_stage").choice_names == ("planned", "piloting", "implemented", "at_scale", "stopped")
    assert form.question("fac_leadership").choice_names == ("major", "minor", "not_facilitator", "dont_know")
    assert all(form.question(f"{n}_origin").choice_names == ("national", "local", "both", "dont_know")
               for n, _ in NATIONAL_BARRIERS)
    assert form.question("obj_2_progress").choice_names == form.question("prog_costs").choice_names
    assert names[-2:] == ["achievements", "challenge"]
    assert form.version == "2017.1"


def test_committed_workbook_is_what_the_builder_makes(tmp_path):
    fresh = openpyxl.load_workbook(build(tmp_path / "x.xlsx"))
    committed = openpyxl.load_workbook(pioneer_instrument_path())
    for sheet in ("survey", "choices", "settings"):
        assert [list(r) for r in fresh[sheet].values] == [list(r) for r in committed[sheet].values], sheet


def _workbook(path, survey, choices=(("yn", "yes", "Yes"), ("yn", "no", "No"))):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    for r in [("type", "name", "label", "relevant", "constraint"), *survey]:
        ws.append(r)
    ch = wb.create_sheet("choices")
    for r in [("list_name", "name", "label"), *choices]:
        ch.append(r)
    wb.create_sheet("settings").append(("form_id",))
    wb["settings"].append(("t",))
    wb.save(path)
    return path


@pytest.mark.parametrize("rows, message", [
    ([("select_one zz", "q1", "Q1", "", "")], r"sheet 'survey', row 2: .*List name not in choices sheet: zz"),
    ([("text", "q1", "Q1", "", ""), ("text", "q1", "Q1 again", "", "")], r"sheet 'survey', row 3: .*'q1' is invalid"),
    ([("text", "q1", "Q1", "", ""), ("text", "q2", "Q2", "${nope} = 'x'", "")], r"row 3: .*Could not find the name 'nope'"),
    ([("text", "q1", "Q1", "", "frobnicate(.)")], r"row 2, column 'constraint' of 'q1': constraint 'frobnicate\(.\)': unknown function"),
    ([("blah", "q1", "Q1", "", "")], r"Unknown question type 'blah'"),
])
def test_broken_forms_are_named(tmp_path, rows, message):
    with pytest.raises(FormError, match=message):
        load_form(_workbook(tmp_path / "broken.xlsx", rows))


CASES = [
    ("${a} = 'yes'", {"a": "yes"}, None), ("${a} = 'yes'", {}, None), ("${a} != 'yes'", {"a": "no"}, None),
    ("selected(${m}, 'b') and not(selected(${m}, 'c'))", {"m": "a b"}, None),
    ("count-selected(${m}) >= 2 or ${n} > 10", {"m": "a", "n": "11"}, None),
    ("${n} > 9", {"n": "10"}, None),  # numeric, not string, comparison ('10' < '9' as strings)
    ("${n} + 2 * 3 = 10", {"n": "4"}, None), ("-${n} < 0", {"n": "3"}, None),
    (". >= 0 and . <= 100", {}, "55"), ("string-length(.) <= 3", {}, "abcd"), ("regex(., '^[0-9]+$')", {}, "12a"),
    ("${a} = '' or ${b} = 'x'", {"b": "x"}, None), ("(${n} mod 2) = 1", {"n": "7"}, None),
    ("${n} div 4 > 1.5", {"n": "7"}, None), ("true() and not(false())", {}, None),
]


def test_python_evaluator_cases():
    got = [bool(expr.evaluate(expr.parse(text), answers, cur)) for text, answers, cur in CASES]
    assert got == [True, False, True, True, True, True, True, True, True, False, False, True, True, True, True]


def test_answers_are_checked_like_the_page(form):
    base = {"pioneer": "barnsley", "org_type": "la", "is_lead": "no"}
    clean, errors = validate_answers(form, {**base, "bar_financial": "minor", "bar_significant_detail": "hidden"},
                                     final=True)
    assert errors == {} and "bar_significant_detail" not in clean  # dropped: its question was hidden
    clean, errors = validate_answers(form, {**base, "bar_it_ig": "significant", "bar_significant_detail": "x" * 2001},
                                     final=False)
    assert errors == {"bar_significant_detail": "Please keep this to 2,000 characters."}
    clean, errors = validate_answers(form, {"org_type": "council", "prog_quality": "some"}, final=False)
    assert "org_type" in errors and "pioneer" not in errors and clean == {"prog_quality": "some"}
    _, errors = validate_answers(form, {"prog_quality": "some"}, final=True)
    assert set(errors) == {"pioneer", "org_type", "is_lead"}


def test_html_is_labelled(form):
    from html.parser import HTMLParser

    html = render_form(form, {"org_type": "la"}, {"pioneer": "this question needs an answer"}, "/s/t", "tok")

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.ids, self.fors, self.inputs, self.legends, self.fieldsets = set(), set(), [], 0, 0

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if "id" in a:
                self.ids.add(a["id"])
            if tag == "label":
                self.fors.add(a.get("for"))
            if tag in ("input", "textarea") and a.get("type") != "hidden":
                self.inputs.append(a)
            self.legends += tag == "legend"
            self.fieldsets += tag == "fieldset"

    p = P()
    p.feed(html)
    assert all(i["id"] in p.fors for i in p.inputs)  # every input has a label
    assert p.fieldsets == p.legends and p.fieldsets >= 5
    assert 'id="error-summary"' in html and 'href="#q-pioneer"' in html and 'aria-invalid="true"' in html
    assert 'value="la" checked' in html and "data-relevant=" in html and "(required)" in html
