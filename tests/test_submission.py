"""Submission intake: where the exercise files are, what is refused (zip slip, symlinks, size), hashing, pack."""

from __future__ import annotations

import json
import os
import stat
import warnings
import zipfile
from pathlib import Path

import pytest

from grader.host import intake as intake
from grader.host.intake import content_hash, load_submission
from grader.student.pack import pack
from grader.vocabulary.exercises import EXERCISE_FILES

SOURCES = {name: f"# {name}\nVALUE = {i}\n".encode() for i, name in enumerate(EXERCISE_FILES)}


def write_dir(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_a_directory_with_the_files_at_its_root(tmp_path):
    sub = load_submission(write_dir(tmp_path / "alice", SOURCES))
    assert (sub.student, sub.status, sub.message) == ("alice", "ok", "")
    assert sub.files == SOURCES
    assert sub.content_hash == content_hash(SOURCES)


def test_an_exercises_subfolder_is_found_and_other_files_are_reported_as_ignored(tmp_path):
    files = {f"exercises/{n}": d for n, d in SOURCES.items()}
    files |= {"exercises/_utils.py": b"x = 1\n", "exercises/__init__.py": b"", "notes.txt": b"hi"}
    sub = load_submission(write_dir(tmp_path / "bob", files))
    assert sub.status == "ok" and sub.files == SOURCES
    assert sub.ignored == ["exercises/__init__.py", "exercises/_utils.py", "notes.txt"]
    assert "ignored exercises/__init__.py, exercises/_utils.py, notes.txt" in sub.message


@pytest.mark.parametrize("prefix", ["", "exercises/", "bob-hw/", "bob-hw/exercises/"])
def test_a_zip_hashes_like_the_same_files_in_a_directory(tmp_path, prefix):
    archive = write_zip(tmp_path / "bob.zip", {prefix + n: d for n, d in SOURCES.items()} | {"__MACOSX/._x": b"."})
    sub = load_submission(archive)
    assert (sub.student, sub.status) == ("bob", "ok")
    assert sub.files == SOURCES
    assert sub.content_hash == load_submission(write_dir(tmp_path / "dir", SOURCES)).content_hash


def test_the_hash_is_stable_and_changes_with_any_byte_or_name(tmp_path):
    reordered = dict(reversed(list(SOURCES.items())))
    assert content_hash(SOURCES) == content_hash(reordered)
    assert content_hash(SOURCES) != content_hash({**SOURCES, "relu.py": SOURCES["relu.py"] + b" "})
    assert content_hash({"conv.py": b"ab"}) != content_hash({"relu.py": b"ab"})
    first = load_submission(write_dir(tmp_path / "a", SOURCES)).content_hash
    os.utime(tmp_path / "a" / "relu.py", (0, 0))  # timestamps do not count
    assert load_submission(tmp_path / "a").content_hash == first


def test_missing_modules_are_noted_and_the_rest_is_graded(tmp_path):
    sub = load_submission(write_dir(tmp_path / "carol", {"relu.py": b"x = 1\n"}))
    assert sub.status == "ok" and list(sub.files) == ["relu.py"]
    assert "missing conv.py, pooling.py, softmax_ce.py, residual.py" in sub.message


def test_no_exercise_files_at_all(tmp_path):
    sub = load_submission(write_dir(tmp_path / "dan", {"homework.py": b"", "deep/x/relu.py": b""}))
    assert sub.status == "no_files" and "no exercise files found" in sub.message
    assert not sub.gradable


@pytest.mark.parametrize(("member", "problem"), [
    ("../relu.py", "climbs out"),
    ("exercises/../../conv.py", "climbs out"),
    ("/etc/relu.py", "absolute path"),
    ("C:/temp/relu.py", "absolute path"),
])
def test_zip_slip_members_make_a_bad_archive(tmp_path, member, problem):
    sub = load_submission(write_zip(tmp_path / "eve.zip", {**SOURCES, member: b"x = 1\n"}))
    assert sub.status == "bad_archive" and problem in sub.message
    assert sub.files == {} and sub.content_hash.startswith("archive:")


def test_a_symlink_member_makes_a_bad_archive(tmp_path):
    path = tmp_path / "eve.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in SOURCES.items():
            archive.writestr(name, data)
        link = zipfile.ZipInfo("exercises/relu.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    sub = load_submission(path)
    assert sub.status == "bad_archive" and "symbolic link" in sub.message


def test_a_symlinked_exercise_file_in_a_directory_is_refused(tmp_path):
    root = write_dir(tmp_path / "eve", {n: d for n, d in SOURCES.items() if n != "relu.py"})
    (root / "relu.py").symlink_to(tmp_path / "elsewhere.py")
    sub = load_submission(root)
    assert sub.status == "bad_archive" and "relu.py is a symbolic link" in sub.message


def test_oversize_members_and_too_many_files(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "MAX_MEMBER_BYTES", 4000)
    sub = load_submission(write_zip(tmp_path / "big.zip", {**SOURCES, "data.bin": bytes(5000)}))
    assert sub.status == "bad_archive" and "too large (5000 bytes)" in sub.message
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 100)
    sub = load_submission(write_zip(tmp_path / "long.zip", {**SOURCES, "conv.py": b"#" * 101}))
    assert sub.status == "bad_archive" and "conv.py is over" in sub.message
    monkeypatch.setattr(intake, "MAX_FILES", 6)
    many = {**SOURCES, **{f"junk{i}.txt": b"" for i in range(3)}}
    assert load_submission(write_zip(tmp_path / "many.zip", many)).status == "bad_archive"
    assert "more than 6 files" in load_submission(write_dir(tmp_path / "many", many)).message


def test_duplicate_encrypted_and_corrupt_archives(tmp_path):
    path = tmp_path / "dup.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate it writes
        write_zip(path, SOURCES)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("relu.py", b"x = 2\n")
    assert "appears twice" in load_submission(path).message
    raw = bytearray(write_zip(tmp_path / "enc.zip", {"relu.py": b"??"}).read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set the "encrypted" flag bit
        raw[raw.index(signature) + offset] |= 0x1
    (tmp_path / "enc.zip").write_bytes(bytes(raw))
    assert "encrypted" in load_submission(tmp_path / "enc.zip").message
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    sub = load_submission(tmp_path / "junk.zip")
    assert sub.status == "bad_archive" and "unreadable zip" in sub.message


def test_non_utf8_source_is_bad_source(tmp_path):
    sub = load_submission(write_dir(tmp_path / "fay", {**SOURCES, "pooling.py": b"x = '\xff\xfe'\n"}))
    assert sub.status == "bad_source" and "pooling.py is not UTF-8" in sub.message
    assert sub.content_hash  # still hashed: an unchanged bad file is not regraded


def test_materialize_writes_the_allowlisted_files_only(tmp_path):
    sub = load_submission(write_dir(tmp_path / "gus", {**SOURCES, "evil.py": b"import os\n"}))
    out = sub.materialize(tmp_path / "stage")
    assert sorted(p.name for p in out.iterdir()) == sorted(EXERCISE_FILES)
    assert (out / "conv.py").read_bytes() == SOURCES["conv.py"]


def test_pack_round_trip_and_manifest_check(tmp_path):
    folder = write_dir(tmp_path / "exercises", {**SOURCES, "_utils.py": b"", "test_my_conv.py": b""})
    zipped = tmp_path / "out" / "submission.zip"
    assert pack(folder, zipped) == sorted(EXERCISE_FILES)
    with zipfile.ZipFile(zipped) as archive:
        assert sorted(archive.namelist()) == sorted([*EXERCISE_FILES, "MANIFEST.json"])
        manifest = json.loads(archive.read("MANIFEST.json"))
    assert set(manifest["files"]) == set(EXERCISE_FILES)
    sub = load_submission(zipped)
    assert (sub.student, sub.status, sub.message, sub.files) == ("submission", "ok", "", SOURCES)
    first = zipped.read_bytes()
    pack(folder, zipped)
    assert zipped.read_bytes() == first  # reproducible
    with zipfile.ZipFile(zipped) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    write_zip(zipped, {**members, "relu.py": b"edited after packing\n"})
    assert load_submission(zipped).message == "manifest mismatch: changed after packing: relu.py"
    assert load_submission(zipped).status == "ok"  # still graded


def test_pack_refuses_a_folder_without_exercise_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds none of"):
        pack(tmp_path, tmp_path / "submission.zip")
    assert not (tmp_path / "submission.zip").exists()


# ----- hostile and broken archives: each gets a status and a one-line message, never an exception -----

def test_a_zip_bomb_member_is_refused_by_its_compression_ratio(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in SOURCES.items():
            archive.writestr(name, data)
        archive.writestr("data/zeros.bin", bytes(4 << 20))  # 4 MiB of zeros deflate about 1000:1
    sub = load_submission(bomb)
    assert sub.status == "bad_archive" and sub.files == {}
    assert "member 'data/zeros.bin' expands" in sub.message and "over 200:1: a zip bomb?" in sub.message
    fine = tmp_path / "fine.zip"  # highly compressible but small, or large but incompressible: accepted
    with zipfile.ZipFile(fine, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in SOURCES.items():
            archive.writestr(name, data)
        archive.writestr("small.bin", bytes(512 << 10))
        archive.writestr("noise.bin", os.urandom(2 << 20))
    assert load_submission(fine).status == "ok"


def test_an_archive_too_large_on_disk_or_listing_too_many_members(tmp_path, monkeypatch):
    many = write_zip(tmp_path / "many.zip", {**SOURCES, **{f"junk/{i}.txt": b"" for i in range(20)}})
    monkeypatch.setattr(intake, "MAX_FILES", 10)
    sub = load_submission(many)
    assert (sub.status, sub.message) == ("bad_archive", "more than 10 members")
    monkeypatch.setattr(intake, "MAX_ARCHIVE_BYTES", 1000)
    sub = load_submission(many)
    assert sub.status == "bad_archive" and "over the 0 MiB limit: submit the exercise files only" in sub.message


def test_a_member_name_flagged_utf8_that_is_not(tmp_path):
    path = write_zip(tmp_path / "eve.zip", {**SOURCES, "notes-\u00e9\u00e9.txt": b"hi"})
    raw = path.read_bytes()
    assert raw.count("notes-\u00e9\u00e9".encode()) == 2  # local header and central directory
    path.write_bytes(raw.replace("notes-\u00e9\u00e9".encode(), b"notes-\xff\xfe\xff\xfe"))
    sub = load_submission(path)
    assert (sub.status, sub.message) == ("bad_archive", "eve.zip: a member name is marked UTF-8 but is not valid UTF-8")


def test_non_utf8_member_names_without_the_flag_are_read_as_cp437(tmp_path):
    path = write_zip(tmp_path / "max.zip", {f"Xbung/{n}": d for n, d in SOURCES.items()} | {"Xbung/n\x01.txt": b""})
    path.write_bytes(path.read_bytes().replace(b"Xbung", b"\x9abung"))  # "Übung" from an old Windows zip tool
    sub = load_submission(path)
    assert sub.status == "ok" and sub.files == SOURCES
    assert sub.message == "ignored Übung/n?.txt"  # printable: a control character shown as "?"


def test_non_utf8_and_control_characters_in_directory_names_are_shown_safely(tmp_path):
    root = write_dir(tmp_path / "ned", SOURCES)
    with open(os.path.join(os.fsencode(root), b"notes-\xff.txt"), "wb") as handle:
        handle.write(b"hi")
    (root / "line\nbreak.txt").write_text("")
    sub = load_submission(root)
    assert sub.status == "ok" and sub.files == SOURCES
    assert sub.message == "ignored line?break.txt, notes-\ufffd.txt"
    sub.message.encode("utf-8")  # writable into feedback and JSON


def test_a_fifo_named_like_an_exercise_is_refused_without_blocking(tmp_path):
    root = write_dir(tmp_path / "pip", {n: d for n, d in SOURCES.items() if n != "conv.py"})
    os.mkfifo(root / "conv.py")
    sub = load_submission(root)
    assert (sub.status, sub.message) == ("bad_archive", "conv.py is not a regular file")


def test_empty_and_missing_files_are_noted_and_the_rest_is_graded(tmp_path):
    files = {**SOURCES, "pooling.py": b"", "residual.py": b"\n  \n"}
    del files["softmax_ce.py"]
    sub = load_submission(write_zip(tmp_path / "kim.zip", files))
    assert sub.status == "ok" and sorted(sub.files) == sorted(n for n in EXERCISE_FILES if n != "softmax_ce.py")
    assert sub.message == "missing softmax_ce.py; empty pooling.py, residual.py"


def test_an_empty_zip_and_a_zero_byte_zip(tmp_path):
    write_zip(tmp_path / "none.zip", {})
    sub = load_submission(tmp_path / "none.zip")
    assert sub.status == "no_files" and "no exercise files found" in sub.message
    (tmp_path / "zero.zip").write_bytes(b"")
    sub = load_submission(tmp_path / "zero.zip")
    assert sub.status == "bad_archive" and sub.message == "zero.zip: unreadable zip (File is not a zip file)"


def test_the_non_utf8_message_names_the_line_and_the_byte(tmp_path):
    files = {**SOURCES, "relu.py": b"x = 1\n# caf\xe9\n"}
    sub = load_submission(write_dir(tmp_path / "lea", files))
    assert sub.status == "bad_source"
    assert sub.message == "relu.py is not UTF-8 text (line 2: byte 0xe9); save it as UTF-8 and submit again"
