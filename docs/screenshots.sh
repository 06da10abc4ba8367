#!/usr/bin/env bash
# Regenerates the README's pictures from real runs (nothing drawn by hand):
#   docs/images/dashboard.png  the live dashboard at the end of a 500-step default run (the browser test's screenshot)
#   docs/images/accuracy.png   the accuracy plot of the default run
# Needs Debian's chromium (apt-get install chromium) and Fashion-MNIST (dataset-fashion-mnist).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release Actors.sln -v q
dotnet test tests/Actors.Cli.Tests -c Release --no-build --filter "FullyQualifiedName~DashboardSpec" -v q
cp tests/Actors.Cli.Tests/bin/Release/net10.0/artifacts/dashboard.png docs/images/dashboard.png
out=$(mktemp -d)
src/Actors.Cli/bin/Release/net10.0/actors run --quiet --out "$out/default"
cp "$out/default/accuracy.png" docs/images/accuracy.png
rm -rf "$out"
echo "written: docs/images/dashboard.png docs/images/accuracy.png"
