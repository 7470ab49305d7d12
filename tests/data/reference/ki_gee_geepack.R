# Reference for joinedup.process.ki_clustered (lead vs non-lead, clustered by site).
# Written with R 4.2.2, geepack 1.3.9 (GPL >= 3), Debian's r-cran-geepack.
# Reads ki_gee_data.csv (beside this script: item, cluster, lead, positive; written from
# joinedup.process.ki_sim.simulate_process_answers(seed=1) by tests/test_process_ki_clustered.py's
# write_reference_data) and writes ki_gee_geepack.csv: per item the lead coefficient (log odds ratio),
# its robust (sandwich) SE, the Wald p-value and the exchangeable correlation alpha.
# Run: Rscript tests/data/reference/ki_gee_geepack.R [OUT_DIR]   (OUT_DIR defaults to this folder)
suppressPackageStartupMessages(library(geepack))
args <- commandArgs(trailingOnly = TRUE)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
out_dir <- if (length(args) >= 1) args[1] else here
d <- read.csv(file.path(here, "ki_gee_data.csv"), stringsAsFactors = FALSE)
rows <- list()
for (it in unique(d$item)) {
  x <- d[d$item == it, ]
  x <- x[order(x$cluster), ]
  x$id <- as.integer(factor(x$cluster))
  fit <- geeglm(positive ~ lead, id = id, data = x, family = binomial, corstr = "exchangeable")
  s <- summary(fit)$coefficients
  rows[[it]] <- data.frame(item = it, log_or = s["lead", "Estimate"], se_robust = s["lead", "Std.err"],
                           p_value = s["lead", "Pr(>|W|)"], alpha = as.numeric(summary(fit)$corr[1, "Estimate"]))
}
out <- do.call(rbind, rows)
write.csv(out, file.path(out_dir, "ki_gee_geepack.csv"), row.names = FALSE)
cat(sprintf("geepack %s: %d items written\n", as.character(packageVersion("geepack")), nrow(out)))
