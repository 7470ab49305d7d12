"""The evaluation protocol: the statistical analysis plan as a TOML file, fixed before the data.

Unknown keys are errors (a typo must not silently switch an analysis off), and every error names the
file and the offending key.

Example:
    >>> p = load_protocol(example_protocol_path())
    >>> p.data.source, p.data.simulate.scale
    ('simulate', 0.02)
"""

from __future__ import annotations

import hashlib
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from joinedup.options import Engine, Period, ScenarioName, TableFormat


class ProtocolError(ValueError):
    """The protocol file is missing, is not TOML, or breaks the protocol's rules."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evaluation(_Strict):
    name: str = Field(description="Title of the evaluation, shown on the report")


class Simulation(_Strict):
    scale: float = Field(0.02, gt=0, le=1.0, description="Share of England simulated (1.0 = all)")
    seed: int = Field(2013, ge=0, description="Seed of the simulated world")
    scenario: ScenarioName = Field("default", description="Scenario of true effects")
    years: tuple[int, int] = Field((2010, 2019), description="First and last calendar year")

    @field_validator("years")
    @classmethod
    def _ordered(cls, years):
        if not (2000 <= years[0] <= years[1] <= 2030):
            raise ValueError(f"years must be [first, last] with 2000 <= first <= last <= 2030; got {list(years)}")
        return years


class Data(_Strict):
    source: str = Field("simulate", description="'simulate', a dataset folder, or an Ibis connection URL")
    engine: Engine = Field("duckdb", description="Engine that runs the definitions")
    memory_limit: str | None = Field(
        None, description="DuckDB memory cap before it spills to disk, e.g. '4GB' (default: "
        "$JOINEDUP_DUCKDB_MEMORY_LIMIT, else 4GB; DuckDB only); see docs/running-on-a-cluster.md")
    simulate: Simulation = Field(default_factory=Simulation)

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value):
        from joinedup.data.duckdb_memory import parse_memory_limit

        return None if value is None else parse_memory_limit(value)


class Indicators(_Strict):
    ids: list[str] | Literal["all"] = Field("all", description="Indicator ids from the catalogue, or 'all'")
    periods: list[Period] = Field(["month", "quarter", "financial_year"],
                                  description="Periods to compute: month, quarter, financial_year")
    headline: str = Field("emergency_admissions", description="Indicator shown per site in SPC and funnel charts")
    breakdowns: list[Literal["imd_quintile", "age_band", "sex", "ethnicity"]] = Field(
        [], description="Break the person-linked indicators down by these (financial years, with "
        "disclosure control; SII/RII per unit from imd_quintile): imd_quintile, age_band, sex, "
        "ethnicity; see docs/inequalities.md")

    @field_validator("ids")
    @classmethod
    def _known(cls, ids):
        from joinedup.indicators.catalogue import CATALOGUE

        unknown = [i for i in ([] if ids == "all" else ids) if i not in CATALOGUE]
        if unknown:
            raise ValueError(f"unknown indicator id(s) {unknown}; known: {', '.join(CATALOGUE)}")
        return ids

    @field_validator("headline")
    @classmethod
    def _headline_known(cls, headline):
        from joinedup.indicators.catalogue import CATALOGUE

        if headline not in CATALOGUE:
            raise ValueError(f"unknown indicator id {headline!r}; known: {', '.join(CATALOGUE)}")
        return headline


class ProgrammeSpec(_Strict):
    name: str = Field(description="Name of the programme, used in the report's wording")
    sites: str = Field(description="Sites file (CSV, relative to the protocol): columns site, unit_code, "
                       "start_date[, wave]; see docs/programme.md")
    unit: Literal["area", "practice"] = Field("area", description="Unit of the sites: 'area' (local authority "
                                              "of residence) or 'practice' (registered GP practice)")
    exclude: list[str] = Field([], description="Files of units in other programmes (same columns), kept out of "
                               "the comparisons; the first is the four-group design's other programme")
    co_interventions: Literal["exclude", "covariate"] = Field(
        "exclude", description="Units in the exclude files' programmes: 'exclude' (left out of the comparisons) "
        "or 'covariate' (kept; exposure to each from its start date is a dated covariate in TWFE and the event "
        "study, membership a covariate of Callaway & Sant'Anna); see docs/analysis-plan.md")
    initiative_register: str | None = Field(None, description="Initiative register (CSV or Excel, relative to the protocol; "
                                 "see docs/process-evaluation.md): each site's start date becomes its go-live, the first "
                                 "period an initiative is implemented or at scale (sites with none keep the sites file's date); "
                                 "\"store\": the register kept in the database by the dashboards ([process] store)")
    initiative_types: list[str] | None = Field(None, description="Initiative types whose go-live counts (omit: any type), "
                                             "e.g. [\"community_mdt\"]")


class Impact(_Strict):
    outcome: str | list[str] = Field("emergency_admissions",
                                     description="Indicator id, or a list of ids, compared between programme and "
                                     "comparison units (rates or proportions)")
    period: Period = Field("quarter", description="Period of the area x period panel")
    scale: Literal["rate", "log"] = Field("log", description="Outcome scale: the rate or its log "
                                          "(effects then read as percentage change)")
    proportion_scale: Literal["pp", "logit"] = Field("pp", description="Scale of proportion outcomes: percentage "
                                                     "points ('pp') or log odds ('logit')")
    primary_outcomes: list[str] | None = Field(None, description="The primary family's outcomes, declared before the "
                                               "data are seen (omit: every listed outcome); the rest is exploratory")
    primary_design: Literal["twfe_wave1", "cs_simple", "sdid"] = Field(
        "twfe_wave1", description="The primary family's design: wave-1 TWFE DiD (cluster-robust), Callaway & "
        "Sant'Anna simple ATT, or synthetic DiD; its p-values are adjusted for multiplicity (Holm, Romano-Wolf)")
    programme: Literal["pioneer"] = Field("pioneer", description="Built-in programme whose areas are treated "
                                          "(used only without [programme])")
    exclude_vanguards: bool = Field(True, description="Drop Vanguard areas (a co-intervention) from the comparison "
                                    "areas (built-in programme only; with [programme] its exclude files decide)")
    matched_controls: int | None = Field(None, ge=1, description="Comparison areas matched to each treated area on "
                                         "baseline deprivation, age structure, outcome level and trend "
                                         "(omit to keep every eligible area)")
    matching_basis: Literal["covariates_and_baseline_outcomes", "covariates", "baseline_outcomes"] = Field(
        "covariates_and_baseline_outcomes", description="What matched_controls are matched on: deprivation and "
        "age structure ('covariates'), the outcome's pre-period level and trend ('baseline_outcomes'), or both; "
        "outcome-based matching risks regression to the mean (docs/analysis-plan.md)")
    baseline: tuple[str, str] = Field(("2010-04-01", "2013-03-31"),
                                      description="Baseline for matching and for the wave-1 two-by-two DiD")
    four_groups: bool = Field(True, description="Also the four-group design: Pioneer only, Vanguard only and "
                              "both, each against areas in neither programme (every area kept)")
    control_group: Literal["nevertreated", "notyettreated"] = Field(
        "nevertreated", description="Callaway & Sant'Anna comparison group")
    est_method: Literal["dr", "ipw", "reg"] = Field("dr", description="Callaway & Sant'Anna estimator")
    anticipation: int = Field(0, ge=0, description="Periods of anticipation before the start date")
    base_period: Literal["varying", "universal"] = Field("varying", description="Pre-period base for ATT(g,t)")
    biters: int = Field(999, ge=99, description="Bootstrap draws (multiplier bootstrap; wild cluster bootstrap)")
    seed: int = Field(2013, ge=0, description="Seed of every bootstrap and placebo draw")
    synthetic_control: bool = Field(True, description="Synthetic control and synthetic DiD for each Pioneer site")
    augmented_synthetic_control: bool = Field(False, description="Also ridge-augmented synthetic control (ASCM, "
                                              "Ben-Michael, Feller & Rothstein 2021) for each site, lambda by "
                                              "cross-validation over the pre-periods; needs synthetic_control")
    conformal_intervals: bool = Field(False, description="Conformal intervals (Chernozhukov, Wuthrich & Zhu 2021) for "
                                      "each site's synthetic control (and ASCM) effect, by period and for a constant "
                                      "effect; needs synthetic_control")
    subgroup_reference: Literal["wild", "hotelling"] = Field(
        "wild", description="Synthetic DiD by subgroup: refer the tests of equal effects and of a linear trend to a "
        "wild bootstrap simulated under equal effects (in a wave with 5 or more sites; size 4%, power 27.5% "
        "with 7 sites, docs/inequalities.md) or to Hotelling's T2 and t(m - 1) (size 0%, power 1.7%)")
    sc_subgroup_statistic: Literal["scaled", "raw"] = Field(
        "scaled", description="Synthetic control per site by subgroup: the placebo test of equal effects on the "
        "noise-weighted heterogeneity H_s (each group's effect over its gap's noise; needs two years before a "
        "site's start) or the raw H. On simulated England with new residual paths each run, 4.55% of null site "
        "tests rejected at 5% with H_s (at most 10.5% at a site) and 5.1% with H (9-16% at sites noisier than "
        "their donors, 0% at quiet ones); power 11.3% against 6.2% (docs/inequalities.md)")
    honest: bool = Field(True, description="HonestDiD sensitivity of the wave-1 event study's first post-period "
                         "effect: robust 95% sets under smoothness (M) and relative-magnitude (Mbar) limits on "
                         "violations of parallel trends, with breakdown values (docs/impact-robust.md; seconds)")
    placebo_prefit: float | None = Field(5.0, gt=0, description="Placebo-in-space: drop placebos whose pre-period "
                                         "MSPE exceeds this multiple of the treated site's (omit to keep all)")
    unbalanced: Literal["available", "drop", "impute", "error"] = Field(
        "available", description="Units missing periods (practices that close, areas with missing quarters): "
        "estimate on the rows that exist (TWFE and event study exactly; Callaway & Sant'Anna as R did's "
        "allow_unbalanced_panel; synthetic control drops incomplete units), drop them, impute by linear "
        "interpolation, or refuse. The report says what was done")
    dose: Literal["none", "register"] = Field(
        "none", description="\"register\": also a dose-response TWFE whose treatment intensity is each site's share "
        "covered by its live initiatives per period, from the initiative register ([process] initiative_register or [programme] "
        "initiative_register); table impact_dose_response; see docs/process-evaluation.md")

    @field_validator("outcome")
    @classmethod
    def _rate_outcome(cls, outcome):
        from joinedup.indicators.catalogue import CATALOGUE
        ids = [outcome] if isinstance(outcome, str) else list(outcome)
        if not ids or len(set(ids)) != len(ids):
            raise ValueError(f"outcome must name one indicator or a list of distinct ones; got {outcome!r}")
        for one in ids:
            if one not in CATALOGUE:
                raise ValueError(f"unknown indicator id {one!r}; known: {', '.join(CATALOGUE)}")
            if CATALOGUE[one].method not in ("crude_rate", "dsr", "rate_per_day", "proportion"):
                raise ValueError(f"indicator {one!r} is a {CATALOGUE[one].method}; impact needs a rate "
                                 "(method crude_rate, dsr or rate_per_day) or a proportion")
        return outcome

    @model_validator(mode="after")
    def _primary_listed(self):
        listed = [self.outcome] if isinstance(self.outcome, str) else list(self.outcome)
        if self.primary_outcomes is not None and not self.primary_outcomes:
            raise ValueError("primary_outcomes is empty: name at least one outcome, or omit it for all")
        extra = [o for o in (self.primary_outcomes or []) if o not in listed]
        if extra:
            raise ValueError(f"primary_outcomes {extra} are not among the outcomes {listed}")
        if self.primary_design == "sdid" and not self.synthetic_control:
            raise ValueError("primary_design = 'sdid' needs synthetic_control = true")
        for key in ("augmented_synthetic_control", "conformal_intervals"):
            if getattr(self, key) and not self.synthetic_control:
                raise ValueError(f"{key} = true needs synthetic_control = true")
        return self

    @field_validator("baseline")
    @classmethod
    def _dates(cls, baseline):
        import datetime as dt
        try:
            first, last = (dt.date.fromisoformat(d) for d in baseline)
        except ValueError:
            raise ValueError(f"baseline must be two ISO dates [first, last]; got {list(baseline)}") from None
        if first >= last:
            raise ValueError(f"baseline must run forwards; got {list(baseline)}")
        return baseline


class Economics(_Strict):
    min_age: int = Field(65, ge=0, le=110, description="Youngest age (in the index year) of enrolled and controls")
    lookback_days: int = Field(365, ge=30, description="Days before the index date for prior use (baseline and DiD)")
    followup_days: Literal[182, 365] = Field(365, description="Days of follow-up after the index date (6 or 12 months: the EQ-5D waves)")
    covariates: list[str] = Field(
        ["age", "sex", "ltc_count", "prior_emergency_admissions", "prior_bed_days", "prior_ae_attendances",
         "prior_social_care_days", "risk_score"],
        description="Cohort columns in the propensity score")
    exact: list[str] = Field(["programme_group"], description="Match exactly within these cohort columns: "
                             "`programme_group` (the area's programmes, e.g. 'pioneer wave 1 + vanguard') makes "
                             "area-level programmes act on both arms alike; `area_code` where controls are plentiful")
    mahvars: list[str] = Field(
        ["prior_emergency_admissions", "prior_ae_attendances", "prior_bed_days", "ltc_count", "age", "risk_score"],
        description="Pick the nearest control by Mahalanobis distance on these, within the propensity-score "
                    "caliper (empty: nearest on the score)")
    distance: Literal["glm", "gbm"] = Field("glm", description="Propensity score: logistic (glm) or gradient boosting (gbm)")
    ratio: int = Field(1, ge=1, le=10, description="Controls per enrolled patient")
    replace: bool = Field(False, description="Match with replacement")
    caliper: float | None = Field(0.2, gt=0, description="Caliper in SDs of the logit of the propensity score "
                                  "(omit for none)")
    price_year: int | None = Field(None, description="Price year of the unit costs (financial year starting; "
                                   "omit for the table's earliest)")
    wtp: float = Field(20_000.0, gt=0, description="Willingness to pay per QALY for the CE plane and INMB "
                       "(NMB is also reported at £20,000 and £30,000)")
    discount_rate: float = Field(0.035, ge=0, le=0.2, description="Annual discount rate of QALYs (NICE: 3.5%)")
    bootstrap: int = Field(2000, ge=99, description="Bootstrap replicates of the cost and QALY increments")
    ci: Literal["percentile", "bca"] = Field("bca", description="Bootstrap interval of the increments")
    cost_model_bootstrap: int = Field(200, ge=20, description="Bootstrap replicates of the two-part cost model")
    seed: int = Field(2013, ge=0, description="Seed of the pseudo-index draw and every bootstrap")
    schemes: list[str] | None = Field(None, description="Community MDT scheme ids to evaluate (e.g. chosen by "
                                      "`joinedup survey typology --write-selection`); omit for every MDT")


class CohortCondition(_Strict):
    field: str = Field(description="age, sex, ltc_count, imd_decile, risk_score, emergency_admissions, bed_days, "
                       "ae_attendances, practice_code or area_code")
    op: str = Field(description=">=, >, <=, <, ==, !=, between, in, not_in, top_share (risk_score), in_scheme / "
                    "not_in_scheme (practice_code)")
    value: float | str | list[float] | list[str] | None = Field(None, description="The number, text or list compared with")
    months: int | None = Field(None, description="Look-back months of a history field (1 = the month before)")


class Cohort(_Strict):
    enrolments: str = Field(description="enrolled.csv: person_id (as in persons), enrolment_date, scheme, site "
                            "(relative to the protocol)")
    eligibility: list[CohortCondition] = Field(
        default_factory=lambda: [CohortCondition(field="age", op=">=", value=65)],
        description="The scheme's eligibility rule as conditions checked each month on the history before it, "
                    "e.g. [{field = 'age', op = '>=', value = 65}, {field = 'emergency_admissions', months = 1, "
                    "op = '>=', value = 1}, {field = 'practice_code', op = 'in_scheme'}]")
    controls: Literal["other_practices", "other_areas", "not_yet_enrolled"] = Field(
        "other_practices", description="Controls from practices where the scheme enrolled nobody, from local "
                                       "authorities where it enrolled nobody (other_areas), or from the "
                                       "scheme's practices among people not (yet) enrolled")
    followup_months: int = Field(12, ge=1, le=36, description="Months of follow-up from the enrolment month")
    history_months: int = Field(12, ge=1, le=24, description="Months of admissions matched on one by one")
    lookback_months: int = Field(24, ge=12, le=36, description="Months of history in the totals matched on "
                                 "(bed days, A&E, older admissions)")
    outcomes: list[Literal["emergency_admissions", "bed_days", "ae_attendances", "died", "cost"]] = Field(
        ["emergency_admissions", "bed_days", "ae_attendances", "died", "cost"], description="Outcomes estimated")
    ratio: int = Field(1, ge=1, le=10, description="Controls per enrolled person in each risk set")
    replace: bool = Field(False, description="A control may match several enrolled people in one risk set")
    reuse_controls: bool = Field(True, description="A person may be a control in several risk sets")
    caliper: float | None = Field(0.2, gt=0, description="Caliper in SDs of the propensity score (omit for none)")
    risk_reference_date: str | None = Field(None, description="Date the risk model is fitted at (default one year "
                                            "into the data)")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Two-sided test level of the MDE")
    power: float = Field(0.8, gt=0.5, lt=1, description="Power of the MDE")
    bootstrap: int = Field(1000, ge=0, description="Bootstrap replicates of matched sets (0: none)")
    seed: int = Field(2013, ge=0, description="Seed of matching ties and the bootstrap")
    scheme_cost_per_year: float | None = Field(None, ge=0, description="The scheme's cost per enrolled "
                                               "person-year (£, price year of the unit costs), added to the "
                                               "enrolled's costs while alive in follow-up (omit: use costs only)")
    price_year: int | None = Field(None, description="Price year of the unit_costs table (default its earliest)")
    eq5d: str | None = Field(None, description="EQ-5D of the matched people where measured: CSV of person_id, "
                             "index_date, wave (0, 1 = 6 and 2 = 12 months), utility (relative to the protocol; "
                             "omit: costs only, no CEA)")
    discount_rate: float = Field(0.035, ge=0, le=0.1, description="Discount rate of QALYs (NICE: 3.5%)")
    wtp: float = Field(20_000.0, gt=0, description="Willingness to pay per QALY of the CEA (£)")

    @field_validator("eligibility")
    @classmethod
    def _rule(cls, conditions):
        from joinedup.cohort.eligibility import parse_conditions

        parse_conditions([c.model_dump() for c in conditions])
        return conditions


class Survey(_Strict):
    invitations: str | None = Field(None, description="invitations.csv of the key-informant survey (relative to "
                                    "the protocol); omit all four files to use a simulated panel")
    responses: str | None = Field(None, description="responses.csv (wide, question names)")
    codes: str | None = Field(None, description="codes.csv of the coded free text (optional)")
    codebook: str | None = Field(None, description="codebook.csv (optional)")
    seed: int = Field(2013, ge=0, description="Seed of the simulated panel (when no files are given)")
    typology: bool = Field(True, description="Also the typology of sites from the schemes table")
    typology_k: int | None = Field(None, ge=2, le=10, description="Clusters of the typology (omit: best silhouette)")
    typology_themes: str | None = Field(None, description="Coded themes per site as extra typology features: the "
                                        "workbench's framework-matrix export (.xlsx) or a site x theme CSV (relative to "
                                        "the protocol); a theme is present with at least one coded segment")


class Process(_Strict):
    initiative_register: str | None = Field(None, description="Initiative register (CSV or Excel, relative to the protocol), or "
                                 "\"simulate\" for a simulated one for the programme's sites (omit: [programme] "
                                 "initiative_register), or \"store\" for the one kept in the database by the dashboards ([process] "
                                 "store); see docs/process-evaluation.md")
    store: str | None = Field(None, description="The survey service's database URL (SQLite or PostgreSQL, as `joinedup "
                              "survey serve --store`) whose initiative register initiative_register = \"store\" reads; "
                              "only reviewed entries are analysed, pending proposals are counted apart")
    scenario: Literal["narrowing", "null"] = Field("narrowing", description="Scenario of a simulated register")
    seed: int = Field(2013, ge=0, description="Seed of a simulated register")
    themes: str | None = Field(None, description="Coded themes per site (framework-matrix export .xlsx or site x theme "
                               "CSV) added to the site-year portfolios as theme:<name> features")

    interviews: str | None = Field(None, description="The interview panel (CSV or Excel, relative to the protocol): one row "
                                  "per interviewee and round (interviewee_id, site, role, panelist_id, round, topic_guide, "
                                  "consent, status, interview_date, transcript_source); counts by round, site and role")
    interview_rounds: str | None = Field(None, description="The interview rounds (CSV or Excel): round, topic_guide, "
                                         "start_date, end_date; needed with interviews")

    @model_validator(mode="after")
    def _interviews_need_rounds(self):
        if bool(self.interviews) != bool(self.interview_rounds):
            raise ValueError("[process] interviews and interview_rounds go together (the panel and its rounds)")
        return self

    @model_validator(mode="after")
    def _store_needs_url(self):
        if self.initiative_register == "store" and not self.store:
            raise ValueError("[process] initiative_register = \"store\" needs [process] store, the survey service's "
                             "database URL (e.g. \"sqlite:///survey.db\")")
        return self


class ReportSpec(_Strict):
    framework_matrix: str | None = Field(None, description="The qualitative workbench's framework-matrix export "
                                         "(.xlsx, relative to the protocol): its cell summaries go into the report")
    framework_themes: list[str] | None = Field(None, description="Only these themes (columns) of the matrix (omit: all)")
    framework_rows: list[str] | None = Field(None, description="Only these rows (sites or cases) of the matrix (omit: all)")
    p3ceq_responses: str | None = Field(None, description="The programme's own service-user survey (P3CEQ): responses "
                                        "exported from the survey service, CSV with wave and the item columns (relative "
                                        "to the protocol); shown as descriptive change within the programme, never as "
                                        "an impact estimate")
    p3ceq_licensed: str | None = Field(None, description="Your licensed P3CEQ wording and scoring file (CSV, relative "
                                       "to the protocol; see docs/person-centred.md); needed with p3ceq_responses")

    @model_validator(mode="after")
    def _p3ceq_pair(self):
        if bool(self.p3ceq_responses) != bool(self.p3ceq_licensed):
            raise ValueError("[report] p3ceq_responses and p3ceq_licensed go together: scoring needs the licensed file")
        return self


class Synthesis(_Strict):
    method: Literal["REML", "DL", "FE", "PM", "ML", "HE", "SJ", "EB"] = Field(
        "REML", description="Estimator of the between-site variance (as metafor's rma method)")
    knha: bool = Field(True, description="Knapp-Hartung adjustment (t with k-1 df): few, heterogeneous sites")
    placebo_draws: int = Field(500, ge=99, description="Placebo groups per site for its sampling variance")
    seed: int = Field(2013, ge=0, description="Seed of the placebo draws")


class Output(_Strict):
    folder: str = Field("out/evaluation", description="Output folder (relative to the working directory)")
    disclosure_control: bool = Field(True, description="Suppress and round small counts in every output")
    table_format: TableFormat = Field("parquet", description="The largest tables (indicators): \"parquet\" "
                                      "only, or \"both\" Parquet and CSV; every other table is written as both")


class Protocol(_Strict):
    evaluation: Evaluation
    data: Data = Field(default_factory=Data)
    programme: ProgrammeSpec | None = Field(None, description="The programme from files (omit the table for "
                                            "the built-in Pioneers, Vanguards excluded)")
    indicators: Indicators | None = Field(None, description="Compute indicators (omit the table to skip)")
    impact: Impact | None = Field(None, description="Compare programme areas with comparison areas (omit the table to skip)")
    survey: Survey | None = Field(None, description="Key-informant survey analysis and the typology of sites "
                                  "(omit the table to skip)")
    economics: Economics | None = Field(None, description="Cost-effectiveness of community MDTs on patient-level "
                                        "data (omit the table to skip)")
    cohort: Cohort | None = Field(None, description="Person-level evaluation of a scheme that enrols people: "
                                  "risk-set matching on monthly histories (omit the table to skip)")
    synthesis: Synthesis | None = Field(None, description="Site effects pooled by meta-analysis and related to "
                                        "the sites' schemes (needs [impact]; omit the table to skip)")
    process: Process | None = Field(None, description="Process evaluation of the initiative register: portfolios, "
                                    "positions, narrowing, delays, triangulation (runs too when [programme] has an "
                                    "initiative_register; omit the table to skip otherwise)")
    report: ReportSpec | None = Field(None, description="Extra content of the report (the framework matrix)")
    output: Output = Field(default_factory=Output)
    path: Path | None = Field(None, exclude=True)
    sha256: str = Field("", exclude=True)

    @model_validator(mode="after")
    def _programme_store_needs_url(self):
        if (self.programme is not None and self.programme.initiative_register == "store"
                and (self.process is None or not self.process.store)):
            raise ValueError("[programme] initiative_register = \"store\" needs [process] store, the survey "
                             "service's database URL")
        return self

    @model_validator(mode="after")
    def _dose_needs_register(self):
        if self.impact is not None and self.impact.dose == "register":
            has = (self.process is not None and self.process.initiative_register) or (
                self.programme is not None and self.programme.initiative_register)
            if not has:
                raise ValueError("[impact] dose = \"register\" needs an initiative register: [process] initiative_register or "
                                 "[programme] initiative_register")
        return self

    def resolve(self, location: str) -> str:
        """A data location relative to the protocol file's folder (URLs unchanged)."""
        if "://" in location or self.path is None or Path(location).is_absolute():
            return location
        return str((self.path.parent / location).resolve())


def _key_path(loc: tuple) -> str:
    head = [str(p) for p in loc]
    if len(head) > 1:
        return "[" + ".".join(head[:-1]) + "] " + head[-1]
    return head[0] if head else "(top level)"


def load_protocol(path: str | Path) -> Protocol:
    """Read and check a protocol file; raise ProtocolError naming the file and key on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(f"protocol file {str(path)!r} does not exist")
    raw = path.read_bytes()
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"{path}: not valid TOML: {exc}") from exc
    try:
        protocol = Protocol.model_validate(doc)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            got = f" (got {err['input']!r})" if err["type"] != "missing" and "input" in err else ""
            message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"  {_key_path(err['loc'])}: {message}{got}")
        raise ProtocolError(f"{path}: {len(lines)} problem(s):\n" + "\n".join(lines)) from None
    return protocol.model_copy(update={"path": path.resolve(), "sha256": hashlib.sha256(raw).hexdigest()})


def example_protocol_path() -> Path:
    """The example protocol of the Pioneer evaluation shipped with joinedup."""
    return Path(str(resources.files("joinedup.protocols") / "pioneer_evaluation.toml"))


def _model_in(annotation):
    """The pydantic model in an annotation (``Model`` or ``Model | None``), else None."""
    from typing import get_args

    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def render_protocol_docs() -> str:
    """The protocol reference page, generated from the models' field descriptions.

    Example:
        >>> "| `scale` |" in render_protocol_docs()
        True
    """
    lines = [
        "# The evaluation protocol\n",
        "Generated from `src/joinedup/protocol.py` by `joinedup docs`; do not edit by hand.\n",
        "A protocol is a TOML file: the statistical analysis plan as code, fixed before the data are seen.",
        "Unknown keys are errors, and every error names the file and the key (`[data.simulate] scael:",
        "unknown key`). Data locations are relative to the protocol's folder; the output folder is relative",
        "to the working directory. Print the example with `joinedup protocol-example`.\n",
    ]

    def table(model: type[BaseModel], section: str) -> None:
        lines.append(f"\n## `[{section}]`\n\n| key | type | default | meaning |\n|---|---|---|---|")
        nested = []
        for name, info in model.model_fields.items():
            if info.exclude:
                continue
            annotation = _model_in(info.annotation)
            if annotation is not None:
                nested.append((annotation, f"{section}.{name}"))
                continue
            annotation = info.annotation
            default = "required" if info.is_required() else repr(
                info.default_factory() if info.default_factory else info.default)
            kind = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
            kind = (kind or str(annotation).replace("typing.", "")).replace("|", "or")
            lines.append(f"| `{name}` | {kind} | {default} | {info.description or ''} |")
        for sub, path in nested:
            table(sub, path)

    for name, info in Protocol.model_fields.items():
        if not info.exclude:
            table(_model_in(info.annotation), name)
    lines.append("\n## Example\n\n```toml\n" + example_protocol_path().read_text(encoding="utf-8") + "```\n")
    return "\n".join(lines)
