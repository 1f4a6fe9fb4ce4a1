"""Local files `make setup` prepares: a private SECRET_KEY, the personal-data keys (var/pii-keys,
see geogrid/pii.py and docs/privacy.md) and compiled UI translations.

Runs without Django settings (they need the secret key). Idempotent: existing keys are kept and
.mo files are rebuilt only when their .po is newer.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VAR = Path(os.environ.get("GEOGRID_VAR_DIR", ROOT / "var"))


def ensure_secret_key(path: Path = VAR / "secret-key") -> None:
    if path.is_file() and path.read_text(encoding="ascii").strip():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secrets.token_urlsafe(50) + "\n", encoding="ascii")
    print(f"setup: wrote a private SECRET_KEY to {path}")


def ensure_pii_keys(path: Path = VAR / "pii-keys") -> None:
    """Demo keys for the personal-data fields, in the environment-file format settings read.
    Production sets GEOGRID_PII_KEYS / GEOGRID_PII_HASH_KEY from its secret store instead."""
    if path.is_file() and path.read_text(encoding="ascii").strip():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)

    def key() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")

    path.write_text(f"GEOGRID_PII_KEYS=k1:{key()}\nGEOGRID_PII_HASH_KEY={key()}\n",
                    encoding="ascii")
    print(f"setup: wrote private personal-data keys to {path}")


def compile_messages(root: Path = ROOT) -> None:
    # The project's catalogue (geogrid/locale) and a layer app's own (layers/<app>/locale).
    catalogues = [*root.glob("*/locale/*/LC_MESSAGES/*.po"),
                  *root.glob("layers/*/locale/*/LC_MESSAGES/*.po")]
    for po in sorted(catalogues):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
        print(f"setup: compiled {mo.relative_to(root)}")


if __name__ == "__main__":
    ensure_secret_key()
    ensure_pii_keys()
    compile_messages()
