"""A typology of sites from their schemes: registry, features, clusters, stability, scheme selection.

* The **scheme registry** is the ``schemes`` table (one row per scheme: site, scheme type, target group,
  start date), checked against the code lists.
* **Features**: one 0/1 column per scheme type and per target group a site runs (``type:reablement``,
  ``target:frail_elderly``).
* **Clusters**: agglomerative clustering on Jaccard distances between sites (average linkage by
  default; shared absences say nothing about similarity, hence Jaccard), and k-modes (Huang) as a
  check; agreement between them is reported (adjusted Rand index). k is chosen by the average
  silhouette on the Jaccard distances unless given.
* **Stability** (Hennig 2007, R ``fpc::clusterboot``): resample sites with replacement, recluster,
  and for each original cluster record the best Jaccard similarity with a bootstrap cluster over the
  resampled sites; the mean over replicates is the cluster's stability (> 0.75 stable, < 0.5 dissolved).
* **Selection** of schemes for the economic evaluation: in each cluster, the site nearest the cluster's
  centre (smallest mean Jaccard distance to its members) that runs the scheme type (community MDT by
  default); :func:`write_selection` writes their ids to the protocol's ``[economics] schemes``.

Latent class analysis is not implemented (optional in the brief): with 25 sites and 16 binary features
it is not identified without strong restrictions.

Example:
    >>> reg = scheme_registry(ds.execute(ds.table("schemes")))                   # doctest: +SKIP
    >>> typ = typology(reg, seed=1)                                               # doctest: +SKIP
    >>> typ.clusters.head(), typ.stability                                        # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, leaves_list, linkage
from scipy.spatial.distance import pdist, squareform

from joinedup.data.codes import SCHEME_TYPES, TARGET_GROUPS


@dataclass(frozen=True)
class Typology:
    features: pd.DataFrame      # site x feature, 0/1
    distance: pd.DataFrame      # site x site Jaccard distance
    linkage: np.ndarray         # scipy linkage matrix of the hierarchical clustering
    clusters: pd.DataFrame      # site, cluster (hierarchical), kmodes_cluster
    k: int
    silhouette: pd.DataFrame    # k, average silhouette (Jaccard)
    stability: pd.DataFrame     # cluster, size, mean bootstrap Jaccard, dissolved share
    agreement_ari: float        # adjusted Rand index between hierarchical and k-modes clusters

    def profiles(self) -> pd.DataFrame:
        """Share of the sites of each cluster running each scheme type / serving each target group."""
        f = self.features.join(self.clusters.set_index("site")["cluster"])
        return f.groupby("cluster").mean().T.rename_axis("feature").reset_index()


def scheme_registry(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a scheme registry (columns scheme_id, site, scheme_type, target_group); errors name rows.

    Example:
        >>> scheme_registry(pd.DataFrame({"scheme_id": ["a-1"], "site": ["A"], "scheme_type": ["reablement"],
        ...                               "target_group": ["older_people"]})).shape
        (1, 4)
    """
    need = ["scheme_id", "site", "scheme_type", "target_group"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise ValueError(f"scheme registry is missing column(s) {', '.join(missing)}")
    problems = []
    for col, allowed in (("scheme_type", SCHEME_TYPES), ("target_group", TARGET_GROUPS)):
        for i, v in frame.loc[~frame[col].isin(allowed), col].items():
            problems.append(f"row {i + 2}: {col} {v!r} is not one of {', '.join(allowed)}")
    for i in frame.index[frame["scheme_id"].duplicated()]:
        problems.append(f"row {i + 2}: scheme_id {frame.at[i, 'scheme_id']!r} appears twice")
    if problems:
        raise ValueError("scheme registry: " + "; ".join(problems[:20]))
    return frame.reset_index(drop=True)


def site_features(registry: pd.DataFrame, targets: bool = True) -> pd.DataFrame:
    """Site x feature 0/1 matrix: ``type:<scheme type>`` and (with ``targets``) ``target:<group>``."""
    parts = [pd.crosstab(registry["site"], "type:" + registry["scheme_type"])]
    if targets:
        parts.append(pd.crosstab(registry["site"], "target:" + registry["target_group"]))
    f = pd.concat(parts, axis=1).clip(upper=1).astype(int)
    f.columns.name = None
    return f.sort_index()


def _hier(x: np.ndarray, k: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    z = linkage(pdist(x.astype(bool), metric="jaccard"), method=method)
    return fcluster(z, k, criterion="maxclust"), z


def _kmodes(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from kmodes.kmodes import KModes

    return KModes(n_clusters=k, init="Huang", n_init=10, random_state=seed).fit_predict(x) + 1


def _jaccard_sets(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def stability(x: np.ndarray, labels: np.ndarray, k: int, method: str = "average", B: int = 200,
              seed: int = 2013) -> pd.DataFrame:
    """Hennig's clusterwise bootstrap stability of hierarchical clusters (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = len(x)
    scores = {c: [] for c in np.unique(labels)}
    for _ in range(B):
        idx = rng.integers(0, n, n)
        uniq = np.unique(idx)
        if len(uniq) <= k:
            continue
        boot, _ = _hier(x[uniq], k, method)
        boot_sets = [set(uniq[boot == b]) for b in np.unique(boot)]
        for c in scores:
            orig = set(np.flatnonzero(labels == c)) & set(uniq)
            if orig:
                scores[c].append(max(_jaccard_sets(orig, s) for s in boot_sets))
    return pd.DataFrame([{"cluster": int(c), "size": int((labels == c).sum()),
                          "stability": float(np.mean(v)) if v else float("nan"),
                          "dissolved_share": float(np.mean(np.array(v) < 0.5)) if v else float("nan"),
                          "replicates": len(v)} for c, v in scores.items()])


def typology(registry: pd.DataFrame, k: int | None = None, ks=range(2, 7), method: str = "average",
             targets: bool = True, B: int = 200, seed: int = 2013, themes: pd.DataFrame | None = None) -> Typology:
    """Cluster the sites of a scheme registry (see the module docstring).

    ``themes``: site x theme counts of coded segments (:mod:`joinedup.qual.themes`), added as 0/1
    ``theme:<name>`` features (present with one coded segment or more; sites without coded material 0).

    Example:
        >>> typ = typology(scheme_registry(schemes), seed=3)                      # doctest: +SKIP
    """
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    if method not in ("average", "complete", "single", "weighted"):
        raise ValueError(f"method must be one of average, complete, single, weighted; got {method!r}")
    f = site_features(scheme_registry(registry), targets)
    if themes is not None:
        from joinedup.qual.themes import theme_features
        feats = theme_features(themes)
        f = f.join(feats, how="left").fillna(0).astype(int)
    x = f.to_numpy()
    if len(f) < 3:
        raise ValueError(f"a typology needs at least 3 sites; the registry has {len(f)}")
    d = squareform(pdist(x.astype(bool), metric="jaccard"))
    sil = []
    for kk in [kk for kk in ks if 2 <= kk < len(f)]:
        lab, _ = _hier(x, kk, method)
        score = silhouette_score(d, lab, metric="precomputed") if len(np.unique(lab)) > 1 else float("nan")
        sil.append({"k": kk, "silhouette": float(score)})
    sil = pd.DataFrame(sil)
    if k is None:
        k = int(sil.loc[sil["silhouette"].idxmax(), "k"])
    labels, z = _hier(x, k, method)
    km = _kmodes(x, k, seed)
    clusters = pd.DataFrame({"site": f.index, "cluster": labels, "kmodes_cluster": km})
    return Typology(f, pd.DataFrame(d, index=f.index, columns=f.index), z, clusters, k, sil,
                    stability(x, labels, k, method, B, seed), float(adjusted_rand_score(labels, km)))


def select_schemes(typ: Typology, registry: pd.DataFrame, scheme_type: str = "community_mdt") -> pd.DataFrame:
    """Per cluster, the most central site running ``scheme_type`` and its scheme ids (clusters with
    no such site are listed with no scheme)."""
    if scheme_type not in SCHEME_TYPES:
        raise ValueError(f"scheme_type must be one of {', '.join(SCHEME_TYPES)}; got {scheme_type!r}")
    rows = []
    for c, members in typ.clusters.groupby("cluster"):
        sites = list(members["site"])
        centrality = typ.distance.loc[sites, sites].mean(axis=1).sort_values(kind="stable")
        running = registry[(registry["scheme_type"] == scheme_type) & registry["site"].isin(sites)]
        chosen = next((s for s in centrality.index if s in set(running["site"])), None)
        ids = sorted(running.loc[running["site"] == chosen, "scheme_id"]) if chosen else []
        rows.append({"cluster": int(c), "sites": len(sites), "site": chosen,
                     "mean_distance": float(centrality.get(chosen, np.nan)) if chosen else np.nan,
                     "scheme_ids": " ".join(ids)})
    return pd.DataFrame(rows)


def write_selection(protocol_path: str | Path, scheme_ids: list[str]) -> None:
    """Set ``schemes = [...]`` in the protocol's ``[economics]`` table (added when missing), leaving
    everything else in the file as it was; the result must still load as a protocol."""
    from joinedup.protocol import load_protocol

    path = Path(protocol_path)
    text = path.read_text(encoding="utf-8")
    line = "schemes = [" + ", ".join(f'"{s}"' for s in scheme_ids) + "]   # chosen by the typology"
    header = re.search(r"^\[economics\][^\n]*\n", text, flags=re.M)
    if header is None:
        text = text.rstrip("\n") + f"\n\n[economics]\n{line}\n"
    else:
        end = re.search(r"^\[", text[header.end():], flags=re.M)
        body_end = header.end() + (end.start() if end else len(text) - header.end())
        body = text[header.end():body_end]
        body = (re.sub(r"^schemes\s*=.*$", line, body, count=1, flags=re.M) if re.search(r"^schemes\s*=", body, re.M)
                else line + "\n" + body)
        text = text[:header.end()] + body + text[body_end:]
    old = path.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    try:
        load_protocol(path)
    except ValueError:
        path.write_text(old, encoding="utf-8")  # never leave a broken protocol behind
        raise


def leaf_order(typ: Typology) -> list[str]:
    """Sites in dendrogram order (for the heat map)."""
    return [typ.features.index[i] for i in leaves_list(typ.linkage)]
