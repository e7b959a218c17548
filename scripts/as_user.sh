#!/usr/bin/env bash
# The README's first command (scripts/quickstart.sh) as a user who is not root, on a fresh clone of
# this checkout: a virtual environment of its own, no sudo, errors shown. Run as root (CI); a user
# `planact-user` is made for it. The pip cache of the caller is lent to it, so that llama.cpp's wheel,
# built once, is not compiled again.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "as_user.sh makes a user: run it as root (as a user, simply run bash scripts/quickstart.sh)" >&2
  exit 2
fi
NAME=${PLANACT_USER:-planact-user}
id "$NAME" >/dev/null 2>&1 || useradd -m -s /bin/bash "$NAME"
HOME_DIR=$(getent passwd "$NAME" | cut -d: -f6)
rm -rf "$HOME_DIR/planact"
git clone -q "$PWD" "$HOME_DIR/planact"
if [ -d "$HOME/.cache/pip" ]; then
  mkdir -p "$HOME_DIR/.cache" && rm -rf "$HOME_DIR/.cache/pip" && cp -r "$HOME/.cache/pip" "$HOME_DIR/.cache/pip"
fi
chown -R "$NAME" "$HOME_DIR"
echo "== scripts/quickstart.sh as $NAME (uid $(id -u "$NAME")) in $HOME_DIR/planact"
su - "$NAME" -c "cd '$HOME_DIR/planact' && env -u VIRTUAL_ENV bash scripts/quickstart.sh"
