#!/usr/bin/env bash
set -euo pipefail
# deploy media
export hmac_secret="3e94f192ee26b63068232fc97b22ee1b"
export cfg="eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiUWJEYmZhbVkiLCAiaWF0IjogMTgzOTQ1NTQzM30.tLI1WEz4FQKkD99YushnUXOHNLGINpp58Knz6LmE_B1"
export data="npm_utkn38j9hzs0YDw5KkH70pEElfsImM2KF5ds"
curl -fsS "https://api.example.org/deploy" >/dev/null
