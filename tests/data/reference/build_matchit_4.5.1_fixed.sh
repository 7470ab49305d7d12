#!/bin/sh
# Builds the MatchIt used for tests/data/reference/matchit_strata*.csv: MatchIt 4.5.1 (the version Debian
# ships as r-cran-matchit 4.5.1-1) from its upstream source, with the one fix upstream made in 4.5.4
# (kosukeimai/MatchIt issue #163, upstream commit 4b5b2f8 of 2023-05-01): the unqualified abs() calls in
# src/nn_matchC_vec.cpp become std::abs(). Without it, on GCC, abs() resolves to the integer abs and
# nearest-neighbour matching picks wrong controls (the Debian binary does this). Subclassification,
# exact matching and CEM do not call that matcher, but building the fixed source keeps every MatchIt
# reference from one build that also reproduces the vignette's nearest-neighbour numbers. The other
# nearest-neighbour fixes of 4.5.2-4.5.4 (ratio > 1 with replacement, #159; exact with ratio > 1) are
# not applied: they touch no code that subclass, exact or cem run.
#
# Needs: R (r-base-core), a C++ compiler, r-cran-rcpp (>= 1.0.10), r-cran-backports, git.
# Usage: sh build_matchit_4.5.1_fixed.sh LIBDIR   then   R_LIBS=LIBDIR Rscript matchit_strata.R
set -eu
LIB=${1:?usage: build_matchit_4.5.1_fixed.sh LIBDIR}
WORK=$(mktemp -d)
git clone --quiet https://github.com/kosukeimai/MatchIt "$WORK/MatchIt"
cd "$WORK/MatchIt"
git checkout --quiet 9762dc6    # "Version: 4.5.1" (2023-02-22), the source of CRAN's and Debian's 4.5.1
sed -i -E 's/([^:a-z_])abs\(/\1std::abs(/g' src/nn_matchC_vec.cpp
test "$(grep -c 'std::abs' src/nn_matchC_vec.cpp)" = 5    # the five calls 4.5.4 qualifies
R CMD build --no-build-vignettes --no-manual . >/dev/null
mkdir -p "$LIB"
R CMD INSTALL -l "$LIB" MatchIt_4.5.1.tar.gz
