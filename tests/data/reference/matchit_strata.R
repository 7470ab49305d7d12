# Reference values for tests/test_economics_matching_strata.py: MatchIt's method = "subclass", "exact"
# and "cem" with MatchIt's defaults on lalonde (614 rows), for the ATT and the ATC, and exact matching on
# a coarser formula (more matched strata); and 40 subclasses, where some classes have no controls and
# MatchIt moves units between neighbouring classes (subclass_scoot).
#
# Produced with R 4.2.2 and MatchIt 4.5.1 built from upstream source with its 4.5.4 abs() fix, by
# build_matchit_4.5.1_fixed.sh beside this file (Debian's r-cran-matchit 4.5.1 binary computes wrong
# nearest-neighbour matches on GCC; subclass, exact and cem never call that matcher, so the Debian
# binary gives the same numbers for them, but these references come from the fixed build, which also
# reproduces the MatchIt vignette's nearest-neighbour balance table). Run from the repository root:
#   R_LIBS=/path/to/fixed/lib Rscript tests/data/reference/matchit_strata.R [output folder]
# It writes into the folder (default tests/data/reference):
#   matchit_strata_units.csv    fit, row name, treat, distance (subclass only), weights, subclass
#                               (match.data(m, drop.unmatched = FALSE) columns; NA subclass = unmatched)
#   matchit_strata_balance.csv  fit, sample ("all"/"matched"), variable, summary(m)'s 7 statistics
#   matchit_strata_sizes.csv    fit, row of summary(m)$nn, Control, Treated
# The data set is MatchIt's own data(lalonde), the same rows as tests/data/external/lalonde_matchit_614.csv.
suppressPackageStartupMessages(library(MatchIt))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/data/reference"
data("lalonde", package = "MatchIt")

full <- treat ~ age + educ + race + married + nodegree + re74 + re75
fits <- list(
  subclass_att = list(full, "subclass", "ATT"),
  subclass_atc = list(full, "subclass", "ATC"),
  subclass40_att = list(full, "subclass", "ATT", 40),  # 40 classes: some lack controls, units are moved

  exact_att = list(full, "exact", "ATT"),
  exact_atc = list(full, "exact", "ATC"),
  exact_small_att = list(treat ~ race + married + nodegree, "exact", "ATT"),
  cem_att = list(full, "cem", "ATT"),
  cem_atc = list(full, "cem", "ATC")
)

units <- list(); balance <- list(); sizes <- list()
for (name in names(fits)) {
  f <- fits[[name]]
  m <- if (length(f) == 4) matchit(f[[1]], data = lalonde, method = f[[2]], estimand = f[[3]], subclass = f[[4]])
       else matchit(f[[1]], data = lalonde, method = f[[2]], estimand = f[[3]])
  md <- match.data(m, drop.unmatched = FALSE)
  units[[name]] <- data.frame(fit = name, row = rownames(md), treat = md$treat,
                              distance = if (is.null(md$distance)) NA_real_ else md$distance,
                              weights = md$weights, subclass = as.integer(as.character(md$subclass)))
  s <- summary(m)
  for (sample in c("all", "matched")) {
    tab <- if (sample == "all") s$sum.all else if (f[[2]] == "subclass") s$sum.across else s$sum.matched
    tab <- as.data.frame(tab)
    if (!"Std. Pair Dist." %in% names(tab)) tab[["Std. Pair Dist."]] <- NA_real_
    balance[[paste(name, sample)]] <- data.frame(fit = name, sample = sample, variable = rownames(tab),
      mean_treated = tab[["Means Treated"]], mean_control = tab[["Means Control"]],
      smd = tab[["Std. Mean Diff."]], var_ratio = tab[["Var. Ratio"]], ecdf_mean = tab[["eCDF Mean"]],
      ecdf_max = tab[["eCDF Max"]], pair_dist = tab[["Std. Pair Dist."]])
  }
  nn <- as.data.frame(s$nn)
  sizes[[name]] <- data.frame(fit = name, row = rownames(nn), Control = nn$Control, Treated = nn$Treated)
}
w <- function(x, file) write.csv(do.call(rbind, x), file.path(out_dir, file), row.names = FALSE)
w(units, "matchit_strata_units.csv")
w(balance, "matchit_strata_balance.csv")
w(sizes, "matchit_strata_sizes.csv")
cat(sprintf("MatchIt %s (%s), R %s: %d fits written to %s\n", packageVersion("MatchIt"),
            find.package("MatchIt"), getRversion(), length(fits), out_dir))
