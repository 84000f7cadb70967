#!/usr/bin/env bash
# Set up and run hefa's whole test suite from a clean clone: a fresh virtual
# environment, the project and its test extras, the system packages the browser
# and PDF tests use (when this machine lets us install them), PostgreSQL started
# if it is installed but stopped. Tests that need a missing part skip cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
export PREFECT_SERVER_ANALYTICS_ENABLED=false

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  [ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
  command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (browser and PDF tests)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null) \
      || echo "could not install ${need[*]}: those tests will skip"
  fi
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# The project's own modules compiled once: an environment with PYTHONDONTWRITEBYTECODE set would
# otherwise recompile them in every hefa, flow and server process the suite starts.
.venv/bin/python -m compileall -q -j 0 app cli desk flows forms review web >/dev/null
.venv/bin/ruff check .
# Two workers, a test file each at a time (its served installation stays in one process): most
# of the suite waits on Prefect servers and runs, so two overlap well even on two cores. Files run
# in collection order, longest first (tests/conftest.py: LONGEST_FIRST), not xdist's default of
# most tests first, which left the few long end-to-end files running alone at the end.
exec .venv/bin/python -m pytest -n "${HEFA_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
