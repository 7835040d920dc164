"""steward.engine.files: removal outcomes through fsspec, never an exception."""

from __future__ import annotations

from steward.engine import files


def test_outcomes_removed_already_gone_failed(tmp_path):
    present = tmp_path / "a.wav"
    present.write_bytes(b"RIFF")
    missing = tmp_path / "gone.wav"
    locked_dir = tmp_path / "locked"
    locked_dir.mkdir()
    inside = locked_dir / "b.wav"
    inside.write_bytes(b"RIFF")
    locked_dir.chmod(0o500)  # the file cannot be unlinked
    try:
        results = files.remove([str(present), str(missing), f"file://{inside}"])
    finally:
        locked_dir.chmod(0o700)
    outcomes = {path: (outcome, error) for path, outcome, error in results}
    assert outcomes[str(present)] == ("removed", None)
    assert outcomes[str(missing)] == ("already_gone", None)
    outcome, error = outcomes[f"file://{inside}"]
    if outcome == "failed":  # root may remove anything
        assert error == "PermissionError"
        assert inside.exists()
    assert not present.exists()


def test_exists_and_empty():
    assert files.remove([]) == []
    assert files.exists("/no/such/file.wav") is False
