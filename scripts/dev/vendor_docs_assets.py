"""Refresh the offline assets of /docs (Swagger UI) and /redoc (Redoc) from npm.

The files are committed under api/web/vendor/ so the service needs no Node and
no CDN: this script is only for a developer moving to newer versions. It packs
the pinned npm packages with `npm pack`, copies the few files the pages use
and each package's licence, and refuses a package whose licence is not the
one recorded here (Swagger UI: Apache-2.0; Redoc: MIT).

One edit is made, and written into the VERSION file beside it: Redoc's
"API docs by Redocly" badge loads its logo from Redocly's CDN (2.x and 3.x
alike, with no option to turn it off); that address becomes an empty inline
SVG, so the page asks no other host for anything.

    python3 scripts/dev/vendor_docs_assets.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "api" / "web" / "vendor"

# package -> (version, licence, directory under vendor/, {file in the package: name there})
PACKAGES: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "swagger-ui-dist": ("5.35.0", "Apache-2.0", "swagger-ui", {
        "swagger-ui-bundle.js": "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
        "swagger-ui.css": "swagger-ui.css",
        "oauth2-redirect.html": "oauth2-redirect.html",
        "oauth2-redirect.js": "oauth2-redirect.js",
        "favicon-32x32.png": "favicon-32x32.png",
        "LICENSE": "LICENSE",
        "NOTICE": "NOTICE",
    }),
    # Redoc 3 loads its logo from its CDN; the 2.x line does not.
    "redoc": ("2.5.4", "MIT", "redoc", {
        "bundles/redoc.standalone.js": "redoc.standalone.js",
        "bundles/redoc.standalone.js.LICENSE.txt": "redoc.standalone.js.LICENSE.txt",
        "LICENSE": "LICENSE",
    }),
}

# (file under vendor/, text found exactly once, replacement)
EDITS = [
    ("redoc/redoc.standalone.js", '"https://cdn.redoc.ly/redoc/logo-mini.svg"',
     '"data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%221%22 height=%221%22/%3E"'),
]


def apply_edits(target: str) -> list[str]:
    done = []
    for name, old, new in EDITS:
        if not name.startswith(target + "/"):
            continue
        path = VENDOR / name
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            sys.exit(f"{name}: expected {old} exactly once, found it {text.count(old)} times; review the edit")
        path.write_text(text.replace(old, new), encoding="utf-8")
        done.append(f"edited {Path(name).name}: {old} -> an empty inline SVG\n")
    return done


def vendor(name: str, version: str, licence: str, target: str, files: dict[str, str], work: Path) -> None:
    packed = subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=work, check=True,
                            capture_output=True, text=True).stdout.strip().splitlines()[-1]
    unpacked = work / name
    with tarfile.open(work / packed) as archive:
        archive.extractall(unpacked, filter="data")
    package = unpacked / "package"
    manifest = json.loads((package / "package.json").read_text())
    if manifest.get("license") != licence or manifest.get("version") != version:
        sys.exit(f"{name}: expected {version} under {licence}, got {manifest.get('version')} "
                 f"under {manifest.get('license')}")
    destination = VENDOR / target
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    for source, kept in files.items():
        shutil.copyfile(package / source, destination / kept)
    edits = apply_edits(target)
    (destination / "VERSION").write_text(f"{name} {version} ({licence}), from the npm registry\n" + "".join(edits))
    print(f"{name} {version} ({licence}) -> {destination.relative_to(ROOT)}")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for name, (version, licence, target, files) in PACKAGES.items():
            vendor(name, version, licence, target, files, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
