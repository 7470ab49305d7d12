"""Typology of sites: Jaccard hierarchical clustering, k-modes, bootstrap stability, scheme selection.

Checks against independent computations: the distance matrix equals scipy's pdist(metric="jaccard")
on the 0/1 features; planted groups of sites are recovered exactly (adjusted Rand index 1) by both
methods and found stable (> 0.75), while a structureless registry gives clusters that are not; the
selection written to a protocol loads back as ``[economics] schemes``.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist, squareform

from joinedup.protocol import load_protocol
from joinedup.survey.typology import scheme_registry, select_schemes, site_features, typology, write_selection
from joinedup.survey.typology_plots import dendrogram_figure, heatmap_figure

GROUPS = {  # three kinds of site, each with its own scheme mix
    "A": [("community_mdt", "frail_elderly"), ("risk_stratification", "long_term_conditions"),
          ("care_navigator", "older_people")],
    "B": [("shared_care_record", "all_adults"), ("single_point_of_access", "mental_health"),
          ("vcs_navigation", "all_adults")],
    "C": [("reablement", "older_people"), ("rapid_response", "frail_elderly"),
          ("integrated_discharge", "older_people"), ("community_mdt", "older_people")],
}


def planted(seed=0) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    for g, schemes in GROUPS.items():
        for s in range(6):
            site = f"{g}{s}"
            truth[site] = g
            for j, (stype, target) in enumerate(schemes):
                if j == 0 or rng.random() < 0.9:  # a site may lack one of its group's schemes
                    rows.append({"scheme_id": f"{site}-{j}", "site": site, "scheme_type": stype,
                                 "target_group": target})
    return pd.DataFrame(rows), truth


def test_distances_are_jaccard_and_groups_are_recovered():
    reg, truth = planted()
    typ = typology(reg, k=3, B=100, seed=1)
    f = site_features(reg)
    ref = squareform(pdist(f.to_numpy().astype(bool), metric="jaccard"))
    assert np.allclose(typ.distance.to_numpy(), ref)
    from sklearn.metrics import adjusted_rand_score
    planted_labels = [truth[s] for s in typ.clusters["site"]]
    assert adjusted_rand_score(planted_labels, typ.clusters["cluster"]) == 1.0
    assert adjusted_rand_score(planted_labels, typ.clusters["kmodes_cluster"]) == 1.0
    assert (typ.stability["stability"] > 0.75).all() and typ.agreement_ari == 1.0


def test_k_chosen_by_silhouette_and_noise_is_unstable():
    reg, _ = planted()
    typ = typology(reg, B=20, seed=1)
    sil = typ.silhouette.set_index("k")["silhouette"]
    assert sil[3] > sil[2] and sil[3] > sil[4]  # three kinds of site: a local peak at 3
    assert sil[typ.k] == sil.max()  # (beyond 3, sites identical within a kind split off: silhouette rises)
    rng = np.random.default_rng(5)
    from joinedup.data.codes import SCHEME_TYPES, TARGET_GROUPS
    noise = pd.DataFrame([{"scheme_id": f"s{i}-{j}", "site": f"s{i}", "scheme_type": t,
                           "target_group": TARGET_GROUPS[rng.integers(len(TARGET_GROUPS))]}
                          for i in range(18) for j, t in enumerate(SCHEME_TYPES) if rng.random() < 0.4])
    typ = typology(noise, k=3, B=100, seed=1)
    # No structure: the two methods disagree (planted groups: ARI 1), and average linkage makes one big
    # cluster plus outlying singletons (singletons look "stable" in Hennig's measure, so sizes are checked).
    assert typ.agreement_ari < 0.3
    assert typ.stability["size"].max() >= 14


def test_selection_and_protocol(tmp_path):
    reg, truth = planted()
    typ = typology(reg, k=3, B=20, seed=1)
    sel = select_schemes(typ, reg)
    chosen = sel.dropna(subset=["site"])
    assert len(chosen) == 2  # group B runs no community MDT
    assert set(chosen["site"].str[0]) == {"A", "C"}
    ids = " ".join(chosen["scheme_ids"]).split()
    assert set(reg.set_index("scheme_id").loc[ids, "scheme_type"]) == {"community_mdt"}
    proto = tmp_path / "p.toml"
    proto.write_text('[evaluation]\nname = "x"\n\n[economics]\nratio = 2\n\n[output]\nfolder = "o"\n')
    write_selection(proto, ids)
    p = load_protocol(proto)
    assert p.economics.schemes == ids and p.economics.ratio == 2
    write_selection(proto, ids[:1])  # replaces, does not add a second key
    assert load_protocol(proto).economics.schemes == ids[:1]


def test_bad_registry_named():
    reg, _ = planted()
    reg.loc[4, "scheme_type"] = "teleporter"
    with pytest.raises(ValueError, match=r"row 6: scheme_type 'teleporter'"):
        scheme_registry(reg)


def test_figures_have_text_alternatives():
    reg, _ = planted()
    typ = typology(reg, k=3, B=10, seed=1)
    d, h = dendrogram_figure(typ), heatmap_figure(typ)
    assert "3 clusters" in d.alt_text and d.svg.startswith("<svg")
    assert "18 sites" in h.alt_text


def test_cli_on_simulated_england(small_england, tmp_path):
    from typer.testing import CliRunner

    from joinedup.cli import app
    from joinedup.protocol import example_protocol_path

    proto = tmp_path / "p.toml"
    proto.write_text(example_protocol_path().read_text())
    out = tmp_path / "typ"
    run = CliRunner().invoke(app, ["survey", "typology", "--data", str(small_england), "--out", str(out),
                                   "--k", "3", "--protocol", str(proto), "--write-selection"])
    assert run.exit_code == 0, run.output
    clusters = pd.read_csv(out / "typology_clusters.csv")
    assert len(clusters) == 25 and clusters.cluster.nunique() == 3
    chosen = load_protocol(proto).economics.schemes
    schemes = pd.read_parquet(small_england / "schemes.parquet").set_index("scheme_id")
    assert chosen and set(schemes.loc[chosen, "scheme_type"]) == {"community_mdt"}
    assert (out / "figures" / "typology-heatmap.svg").is_file()
