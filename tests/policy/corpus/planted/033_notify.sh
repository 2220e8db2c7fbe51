#!/usr/bin/env bash
set -euo pipefail
# deploy notify
export data="AIza_G-vxTA5yDDl9wk-u280F3GJZALyyMypvHU"
export upstream="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"
export data="ghp_7TLdWBm5zRItU9Tu2MXVFN4g8xNAkcYQMiAG"
curl -fsS "https://api.example.org/deploy" >/dev/null
