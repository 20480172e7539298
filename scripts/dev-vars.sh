#!/usr/bin/env bash
# Creates .dev.vars (local secrets, gitignored) and adds any secret it lacks, so a checkout
# made before a secret existed gets it too. Idempotent: existing values are kept.
#   VOTER_SECRET      signs visitor identities
#   ADMIN_TOKEN       bearer token of the admin routes (export, import, rebuilds)
#   MODERATOR_TOKENS  name:token pairs of the moderators (here one, `local`)
set -euo pipefail
cd "$(dirname "$0")/.."
file=.dev.vars
touch "$file"
add() {
  local name=$1 value=$2
  if ! grep -q "^$name=" "$file"; then
    echo "$name=$value" >> "$file"
    echo "added $name to $file (local only, gitignored)"
  fi
}
add VOTER_SECRET "$(openssl rand -hex 32)"
add ADMIN_TOKEN "$(openssl rand -hex 24)"
add MODERATOR_TOKENS "local:$(openssl rand -hex 24)"
