"""End to end: ``glance-image-upload`` (client/) imports a file through the presigned multipart URLs.

Against the local stack: the part URLs point at its in-process S3 (moto server), the ObjectCreated
event reaches its pollers, and the glance-direct import runs as on AWS. The command runs as a user
types it (the console script, in a subprocess, auth from OS_IMAGE_URL / OS_AUTH_TOKEN).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
SIZE = 200 * MiB
PARTS = 25  # 200 MiB in the service's 8 MiB parts
COMMAND = Path(sys.executable).with_name("glance-image-upload")  # installed with the package (make install)


@pytest.fixture
def big_file(tmp_path) -> tuple[Path, dict[str, str]]:
    """200 MiB of random bytes, written and hashed 8 MiB at a time."""
    path, md5, sha512 = tmp_path / "disk.img", hashlib.md5(), hashlib.sha512()
    with path.open("wb") as out:
        for _ in range(SIZE // (8 * MiB)):
            chunk = os.urandom(8 * MiB)
            md5.update(chunk)
            sha512.update(chunk)
            out.write(chunk)
    return path, {"checksum": md5.hexdigest(), "os_hash_value": sha512.hexdigest()}


def command(service, tmp_path: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "AWS_", "XDG_"))}
    # HOME: the resume state goes to this test's ~/.cache/glance-image-upload
    env |= {"OS_IMAGE_URL": service.url, "OS_AUTH_TOKEN": service.token, "HOME": str(tmp_path / "home")}
    return [str(COMMAND), *args], env


def create_args(image_file: Path, name: str) -> list[str]:
    return ["--file", str(image_file), "--name", name, "--disk-format", "raw", "--container-format", "bare"]


def shown(stdout: str) -> dict:
    return json.loads(stdout)


def parts_line(stderr: str) -> tuple[int, int, int]:
    """(sent, already stored, in all) from the command's summary line."""
    [line] = [line for line in stderr.splitlines() if line.startswith("parts: ")]
    sent, stored, total = (int(word) for word in line.replace(",", " ").split() if word.isdigit())
    return sent, stored, total


def assert_imported(image: dict, expected: dict[str, str]) -> None:
    assert image["status"] == "active", image
    assert image["size"] == SIZE
    assert image["checksum"] == expected["checksum"]
    assert image["os_hash_algo"] == "sha512" and image["os_hash_value"] == expected["os_hash_value"]


def test_given_a_200_mib_file_when_the_command_runs_then_parts_go_in_parallel_and_the_image_ends_active(
    service, big_file, tmp_path
):
    image_file, expected = big_file
    argv, env = command(service, tmp_path, *create_args(image_file, "e2e-upload-command"), "--property", "k=v")
    started = time.monotonic()
    done = subprocess.run([*argv, "--parallel", "4", "--json"], env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr + service.logs()[-3000:]

    image = shown(done.stdout)
    service.track(image["id"])
    assert_imported(image, expected)
    assert image["k"] == "v" and image["name"] == "e2e-upload-command"
    assert parts_line(done.stderr) == (PARTS, 0, PARTS)
    assert "4 at a time" in done.stderr and "100.0%" in done.stderr  # the progress bar reached the end
    status, _, again = service.request("GET", f"/v2/images/{image['id']}")
    assert status == 200 and again["checksum"] == expected["checksum"]
    print(f"\n200 MiB imported by glance-image-upload in {elapsed:.1f} s; {done.stderr.splitlines()[-6:]}")


def test_given_the_command_killed_mid_way_when_run_again_then_only_the_missing_parts_are_sent(
    service, big_file, tmp_path
):
    image_file, expected = big_file
    argv, env = command(service, tmp_path, *create_args(image_file, "e2e-upload-resumed"), "--json")
    state_dir = tmp_path / "home" / ".cache" / "glance-image-upload"

    first = subprocess.Popen([*argv, "--parallel", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while stored_parts(state_dir) < 4:  # some parts stored, most not
        assert first.poll() is None, "the first run ended before it could be killed"
        assert time.monotonic() < deadline, "no part was stored in 60 s"
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait()
    stored = stored_parts(state_dir)  # read once it is dead: nothing more can be recorded
    assert 4 <= stored < PARTS
    [image_before] = images_named(service, "e2e-upload-resumed")
    service.track(image_before["id"])
    assert image_before["status"] == "queued"

    second = subprocess.run([*argv, "--parallel", "4"], env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr + service.logs()[-3000:]

    assert parts_line(second.stderr) == (PARTS - stored, stored, PARTS)  # only the missing parts were sent
    assert f"resuming: {stored} of {PARTS} parts" in second.stderr
    image = shown(second.stdout)
    assert image["id"] == image_before["id"] and len(images_named(service, "e2e-upload-resumed")) == 1
    assert_imported(image, expected)
    assert not list(state_dir.glob("*.json"))  # imported: nothing left to resume


def stored_parts(state_dir: Path) -> int:
    for path in state_dir.glob("*.json"):
        try:
            return len(json.loads(path.read_text())["done"])
        except ValueError:  # never half-written (os.replace), but be safe
            return 0
    return 0


def images_named(service, name: str) -> list[dict]:
    status, _, body = service.request("GET", f"/v2/images?name={name}")
    assert status == 200, body
    return body["images"]
