# Reference values for tests/test_synthesis_meta_parity.py: metafor's rma(), confint() (Q-profile),
# se.tau2 and R^2 on three data sets, for the tau^2 estimators joinedup implements.
#
# Produced with R 4.2.2 and metafor 3.8-1 from Debian bookworm (apt-get install r-base-core
# r-cran-metafor; dat.bcg and dat.hackshaw1998 come from r-cran-metadat). Run from the repository root:
#   Rscript tests/data/reference/metafor_parity.R [output folder]
# It writes metafor_parity.csv (the results) and metafor_parity_data.csv (the yi and vi fitted, at 17
# significant digits) into the folder (default: tests/data/reference). The live test runs it into a
# temporary folder and compares the result with the stored CSVs.
#
# Each fit is computed twice:
#   control = "default": metafor's defaults, i.e. what it prints (Fisher scoring stops once the change in
#     tau^2 is below 1e-5; uniroot() for PM and for the Q-profile bounds stops at a tolerance of about
#     1.2e-4 in tau^2);
#   control = "tight": threshold and tol 1e-12, i.e. the converged values, which joinedup's defaults
#     (tol 1e-10 and Brent's method to 1e-12) are compared with.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/data/reference"

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
hack <- dat.hackshaw1998
toy <- data.frame(yi = c(0.10, 0.12, 0.08, 0.11), vi = c(0.04, 0.05, 0.06, 0.05))  # Q(0) below chi2(0.025)

rows <- list()
add <- function(dataset, model, method, control, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(dataset = dataset, model = model, method = method,
                                          control = control, quantity = quantity, value = value)
}
controls <- list(default = list(), tight = list(threshold = 1e-12, tol = 1e-12))
fit_all <- function(name, data, model, methods) {
  for (ctl in names(controls)) {
    for (m in methods) {
      res <- if (model == "RE") rma(yi, vi, data = data, method = m, control = controls[[ctl]])
             else rma(yi, vi, mods = ~ ablat, data = data, method = m, control = controls[[ctl]])
      b <- as.numeric(res$beta); se <- as.numeric(res$se)
      add(name, model, m, ctl, c("b0", "se0"), c(b[1], se[1]))
      if (model != "RE") add(name, model, m, ctl, c("b1", "se1", "QM", "R2"), c(b[2], se[2], res$QM, res$R2))
      add(name, model, m, ctl, c("tau2", "se_tau2", "I2", "H2", "QE"),
          c(res$tau2, ifelse(is.na(res$se.tau2), NA, res$se.tau2), res$I2, res$H2, res$QE))
      if (m != "FE") {
        ci <- confint(res, control = if (ctl == "tight") list(tol = 1e-12) else list())$random
        for (i in seq_len(4)) {
          q <- c("tau2", "tau", "I2", "H2")[i]
          add(name, model, m, ctl, paste0("ci_", q, c("_estimate", "_low", "_high")), as.numeric(ci[i, ]))
        }
      }
    }
  }
}
re_methods <- c("REML", "DL", "PM", "ML", "HE", "SJ", "EB")
fit_all("bcg", bcg, "RE", c("FE", re_methods))
fit_all("bcg", bcg, "ablat", c("FE", re_methods))
fit_all("hackshaw1998", hack, "RE", re_methods)
fit_all("toy", toy, "RE", c("REML", "DL"))
ref <- do.call(rbind, rows)
out <- file.path(out_dir, "metafor_parity.csv")
write.csv(ref, out, row.names = FALSE)
inputs <- rbind(data.frame(dataset = "bcg", yi = as.numeric(bcg$yi), vi = as.numeric(bcg$vi), ablat = bcg$ablat),
                data.frame(dataset = "hackshaw1998", yi = hack$yi, vi = hack$vi, ablat = NA),
                data.frame(dataset = "toy", yi = toy$yi, vi = toy$vi, ablat = NA))
inputs$yi <- sprintf("%.17g", inputs$yi); inputs$vi <- sprintf("%.17g", inputs$vi)
write.csv(inputs, file.path(out_dir, "metafor_parity_data.csv"), row.names = FALSE)
cat(sprintf("metafor %s, R %s: %d values written to %s\n", packageVersion("metafor"),
            getRversion(), nrow(ref), out))
