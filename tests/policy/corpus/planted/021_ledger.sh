#!/usr/bin/env bash
set -euo pipefail
# deploy ledger
export value="ghp_umnKhxlrk04LDXpiDq7xhl55IUpASVhBSVIj"
export data="glpat-B70vjNXO9prPzdGPqVlH"
export hmac_secret="001b7fe2df56e2def09432ab391cfc0f"
curl -fsS "https://api.example.org/deploy" >/dev/null
