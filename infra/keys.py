"""The installation's keyring (yiwang/keys.py) from the command line.

``python -m infra.keys init``           create it (random keys; kept if it exists)
``python -m infra.keys rotate token``   new current key for a purpose (token, pii, qr); the
                                        old keys stay to verify/decrypt. Restart the
                                        processes (``make down && make up``) to use it.
``python -m infra.keys show``           key ids per purpose (never the keys)
``python -m infra.keys import-legacy``  add the former single secret (``--secret``) as the
                                        ``legacy`` personal-data and index key, so data
                                        encrypted before keyrings still decrypts and is found
"""

from __future__ import annotations

import hashlib
import os

import typer

from yiwang.config import Settings
from yiwang.keys import (
    ROTATABLE,
    Keyring,
    KeyringError,
    KeySet,
    ensure_keyring,
    keys_path,
    read_keyring,
    write_keyring,
)

app = typer.Typer(add_completion=False, help="Manage the installation's keys.")


def _path() -> str:
    return keys_path(Settings())


@app.command()
def init() -> None:
    """Create the keyring (random keys, mode 0600) unless it exists."""
    path = _path()
    existed = os.path.exists(path)
    ensure_keyring(path)
    typer.echo(f"{'kept' if existed else 'created'} {path}")


@app.command()
def rotate(purpose: str) -> None:
    """Make a new key current for PURPOSE (token, pii or qr); old keys stay valid."""
    if purpose not in ROTATABLE:
        typer.echo(f"purpose must be one of: {', '.join(ROTATABLE)}", err=True)
        raise typer.Exit(2)
    path = _path()
    try:
        keyring = read_keyring(path).rotated(purpose)
    except KeyringError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    write_keyring(path, keyring)
    typer.echo(
        f"{purpose}: current key is now {keyring[purpose].current} "
        f"({len(keyring[purpose].keys)} kept); restart to use it"
    )


@app.command()
def show() -> None:
    """Key ids per purpose (the current one marked)."""
    keyring = read_keyring(_path())
    for purpose, ks in keyring.sets.items():
        kids = ", ".join(f"{k}{' (current)' if k == ks.current else ''}" for k in ks.keys)
        typer.echo(f"{purpose}: {kids}")


@app.command("import-legacy")
def import_legacy(secret: str = typer.Option(..., prompt=True, hide_input=True)) -> None:
    """Add the former YIWANG_SECRET_KEY for personal data encrypted before keyrings."""
    path = _path()
    keyring = ensure_keyring(path)
    raw = secret.encode()
    pii = keyring["pii"]
    sets = dict(keyring.sets)
    sets["pii"] = KeySet(pii.current, {**pii.keys, "legacy": raw})
    sets["pii_index"] = KeySet("legacy", {"legacy": raw})
    write_keyring(path, Keyring(sets))
    fingerprint = hashlib.sha256(raw).hexdigest()[:8]  # names the key, reveals nothing of it
    typer.echo(f"added the legacy key (sha256 {fingerprint}…) to {path}")


if __name__ == "__main__":
    app()
