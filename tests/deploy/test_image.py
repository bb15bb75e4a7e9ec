"""The image as the Dockerfile builds it: multi-stage, a base pinned by digest, not root, and a
build context of only what it needs."""
import fnmatch
import os
import re
from pathlib import Path

from tests.deploy.manifests import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def stages():
    return re.findall(r"^FROM (\S+)(?: AS (\S+))?$", DOCKERFILE, re.MULTILINE)


def final_stage():
    return DOCKERFILE[DOCKERFILE.rindex("\nFROM "):]


def image_environment(virtualenv_bin):
    """The final stage's ENV, with the image's virtual environment replaced by `virtualenv_bin`."""
    env = {}
    for line in re.findall(r"^ENV (.+)$", final_stage(), re.MULTILINE):
        for pair in line.split():
            name, _, value = pair.partition("=")
            env[name] = value
    env["PATH"] = env["PATH"].replace("/opt/smartcity/bin", virtualenv_bin).replace("$PATH", "/usr/bin:/bin")
    return env


def test_multi_stage_on_one_base_pinned_by_digest():
    images = [image for image, _ in stages()]
    assert len(images) >= 2 and [name for _, name in stages()][0] == "build"
    assert len(set(images)) == 1, "build and run stages use the same base"
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", images[0])
    assert "COPY --from=build /opt/smartcity /opt/smartcity" in final_stage()


def test_the_image_runs_as_the_pods_user_from_its_virtual_environment():
    stage = final_stage()
    assert re.search(r"^USER 10001:10001$", stage, re.MULTILINE)
    assert "useradd --uid 10001" in stage
    env = image_environment("/venv/bin")
    assert env["PATH"].startswith("/venv/bin:")
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["HOME"] == "/tmp"


def context_files():
    """The files `docker build .` would send, by .dockerignore (last matching pattern wins)."""
    patterns = [(line.startswith("!"), line.lstrip("!")) for line in
                (line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines())
                if line and not line.startswith("#")]

    def included(relative):
        parts = relative.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        result = True
        for negate, pattern in patterns:
            if any(fnmatch.fnmatchcase(p, pattern) or fnmatch.fnmatchcase(p, pattern.replace("**/", ""))
                   for p in prefixes):
                result = negate
        return result

    reincluded = [pattern for negate, pattern in patterns if negate]
    for folder, folders, files in os.walk(ROOT):
        base = Path(folder).relative_to(ROOT).as_posix()

        def relative(name):
            return name if base == "." else f"{base}/{name}"

        # an excluded folder is not entered unless a `!pattern` could bring something in it back
        folders[:] = [f for f in folders if included(relative(f))
                      or any(p.startswith(relative(f) + "/") for p in reincluded)]
        for name in files:
            if included(relative(name)):
                yield relative(name), (Path(folder) / name).stat().st_size


def test_the_build_context_holds_only_the_code():
    files = dict(context_files())
    assert "pyproject.toml" in files and "shared/runner.py" in files and "services/ideas/service.py" in files
    assert any(name.startswith("services/ideas/migrations/") for name in files)
    assert not [name for name in files if name.split("/")[0] in (".venv", ".git", "var", "tests", "bench", "docs")]
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    assert sum(files.values()) < 5 * 1024 * 1024
