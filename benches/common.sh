# Shared set-up of the bench scripts (sourced, from the repository root): a release
# build (FEATURES=hyperscan for Hyperscan), BIN, N, a scratch folder $tmp with an
# empty rule file, and median().
N=${N:-5}
BIN=${CARGO_TARGET_DIR:-target}/release/gatewatch
cargo build --release --quiet ${FEATURES:+--features "$FEATURES"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/none.rules"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
