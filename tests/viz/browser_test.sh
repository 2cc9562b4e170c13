#!/bin/sh
# Checks a `raycc viz` page in headless Chromium (see browser_check.js):
#
#   tests/viz/browser_test.sh PAGE.html [--nodes N] [--groups N] [--workers N]
#       [--search TEXT [--click-shows TEXT]] [--screenshot OUT.png [--eval JS]]
#
# Exits 0 when every check passes, 1 when one fails, and 77 (skipped, for
# ctest's SKIP_RETURN_CODE) when node or Chromium is not installed.
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: the browser tests need node (apt-get install nodejs)"
  exit 77
fi
found=
for c in "$CHROMIUM" chromium chromium-browser google-chrome; do
  if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then
    found=$c
    break
  fi
done
if [ -z "$found" ]; then
  echo "SKIP: the browser tests need Chromium (apt-get install chromium)"
  exit 77
fi
CHROMIUM=$found exec node "$here/browser_check.js" "$@"
