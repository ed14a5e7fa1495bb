"""The README's first sessions with openstacksdk and the openstack CLI, run as written against the local stack.

The README tells a newcomer how to configure keystoneauth for a stack without Keystone (clouds.yaml with
``auth_type: admin_token`` and an image endpoint override); these tests take that clouds.yaml and those
commands out of the README itself, so the page cannot drift from what works.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

openstack = pytest.importorskip("openstack", reason="openstacksdk is not installed: pip install -e '.[dev]'")

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCUMENTED_ENDPOINT = "http://127.0.0.1:9292"


def block(section: str, language: str) -> str:
    """The first fenced block of ``language`` under the README heading ``section``."""
    body = README[README.index(f"\n### {section}\n") :]
    body = body[: body.find("\n## ", 1) if "\n## " in body[1:] else None]
    match = re.search(rf"```{language}\n(.*?)```", body, re.S)
    assert match, f"no {language} block under {section!r}"
    return match[1]


@pytest.fixture
def clouds_yaml(service, tmp_path, monkeypatch) -> Path:
    """The README's clouds.yaml, pointed at this test's stack, the only configuration keystoneauth reads."""
    text = block("Configuring them: clouds.yaml or OS_ variables", "yaml")
    assert DOCUMENTED_ENDPOINT in text
    path = tmp_path / "clouds.yaml"
    path.write_text(text.replace(DOCUMENTED_ENDPOINT, service.url))
    for name in [n for n in os.environ if n.startswith("OS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "disk.img").write_bytes(os.urandom(300_000))
    return path


def test_the_readmes_openstacksdk_session_imports_an_image_with_the_readmes_clouds_yaml(clouds_yaml, capsys):
    # Given the README's clouds.yaml; When its openstacksdk snippet runs as written
    namespace: dict = {}
    exec(block("A session with openstacksdk", "python"), namespace)  # noqa: S102 - the README's own code

    # Then the image is active with the shipped chain's injected property, and the import methods print
    image = namespace["image"]
    assert image.status == "active"
    assert image.size == (clouds_yaml.parent / "disk.img").stat().st_size
    assert "value1" in capsys.readouterr().out
    namespace["conn"].close()


@pytest.mark.skipif(
    shutil.which("openstack", path=str(Path(sys.executable).parent)) is None,
    reason="the openstack CLI is not installed: .venv/bin/pip install python-openstackclient",
)
def test_the_readmes_openstack_cli_session_runs_with_the_readmes_clouds_yaml(clouds_yaml, service):
    cli = str(Path(sys.executable).parent / "openstack")
    commands = [line.split("#")[0].strip() for line in block("A session with the openstack CLI", "sh").splitlines()]
    assert commands[0] == "export OS_CLOUD=local"
    env = {**os.environ, "OS_CLOUD": "local"}
    for command in filter(None, commands[1:]):
        argv = shlex.split(command)
        assert argv[0] == "openstack"
        if argv[1:3] == ["image", "save"]:  # as a reader would: once `image show` says active
            conn = openstack.connect(cloud="local")
            conn.image.wait_for_status(conn.image.find_image("osc-demo"), "active", interval=0.2, wait=60)
            conn.close()
        done = subprocess.run(
            [cli, *argv[1:]], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
        assert done.returncode == 0, (command, done.stderr)
    assert (clouds_yaml.parent / "copy.img").read_bytes() == (clouds_yaml.parent / "disk.img").read_bytes()
