#!/usr/bin/env bash
# Installs the official Temporal servers the tests and `npm start` use, into a cache outside the
# work tree (idempotent: a second run with everything present does nothing):
#   - the Temporal CLI (`temporal server start-dev`: the real server on SQLite, with the Web UI),
#     built with `go install` from the Go module proxy;
#   - the Java SDK's time-skipping test server (io.temporal:temporal-test-server) and its runtime
#     dependencies from Maven Central, behind an executable wrapper that @temporalio/testing's
#     `createTimeSkipping({ server: { executable: { type: 'existing-path', path } } })` launches.
# It prints the two paths as shell assignments (eval-able); tests/helpers/temporal-servers.ts
# and worker/temporal.ts find them in the same cache without that.
#
# On a machine with internet, the SDK's own downloads serve instead and this script is optional.
set -euo pipefail

CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"           # newest tag installable by `go install` (no replace directive)
TEST_SERVER_VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.38.0}"
CACHE="${LOOPWRIGHT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/loopwright}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

cli="$BIN/temporal"
stamp="$CACHE/temporal-cli.version"
if [ ! -x "$cli" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$CLI_VERSION" ]; then
  command -v go >/dev/null || { echo "install-temporal: Go is needed to build the Temporal CLI (go install)" >&2; exit 1; }
  echo "install-temporal: building the Temporal CLI $CLI_VERSION with go install (minutes on a cold cache)" >&2
  GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$CLI_VERSION"
  echo "$CLI_VERSION" > "$stamp"
fi

ts_dir="$CACHE/temporal-test-server-$TEST_SERVER_VERSION"
wrapper="$BIN/temporal-test-server"
if [ ! -f "$ts_dir/lib/temporal-test-server-$TEST_SERVER_VERSION.jar" ] || ! grep -q "$ts_dir" "$wrapper" 2>/dev/null; then
  command -v mvn >/dev/null || { echo "install-temporal: Maven is needed to fetch io.temporal:temporal-test-server" >&2; exit 1; }
  command -v java >/dev/null || { echo "install-temporal: a JDK (17+) is needed to run the test server" >&2; exit 1; }
  echo "install-temporal: fetching io.temporal:temporal-test-server:$TEST_SERVER_VERSION from Maven Central" >&2
  mkdir -p "$ts_dir"
  cat > "$ts_dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.loopwright</groupId><artifactId>temporal-test-server-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>$TEST_SERVER_VERSION</version></dependency>
  </dependencies>
</project>
POM
  mvn -q -B -f "$ts_dir/pom.xml" dependency:copy-dependencies -DoutputDirectory="$ts_dir/lib" -DincludeScope=runtime >&2
  # `exec`: @temporalio/testing stops the server with SIGKILL to its direct child.
  cat > "$wrapper" <<WRAP
#!/bin/sh
# Official Temporal time-skipping test server $TEST_SERVER_VERSION (Java). Usage: temporal-test-server <port>
exec java \${LOOPWRIGHT_TEST_SERVER_JAVA_OPTS:--Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1} -cp "$ts_dir/lib/*" io.temporal.testserver.TestServer "\$@"
WRAP
  chmod +x "$wrapper"
fi

echo "LOOPWRIGHT_TEMPORAL_CLI=$cli"
echo "LOOPWRIGHT_TEMPORAL_TEST_SERVER=$wrapper"
