#!/usr/bin/env bash
# Regenerates crates/filter/tests/vectors.json with the real rocketmq-filter 4.8.0 (from Maven
# Central): every expression of src/main/java/vectors/Generate.java compiled and evaluated by
# 4.8.0's SqlFilter. Not part of CI; the committed vectors are what the Rust tests read.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
mvn -B -q -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory=target/lib
rm -rf target/classes && mkdir -p target/classes
javac -nowarn -d target/classes -cp "target/lib/*" src/main/java/vectors/*.java
java -cp "target/classes:target/lib/*" vectors.Generate "$HERE/../../crates/filter/tests/vectors.json"
echo "wrote crates/filter/tests/vectors.json"
