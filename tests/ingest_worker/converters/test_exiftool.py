"""ExifTool runs as ONE persistent process per worker process, not one per file."""

import os

from ingest_worker.converters import exiftool
from tests.helpers import corpus_file


def test_one_process_serves_many_files():
    files = [
        corpus_file("jpeg/nikon_coolpix_p6000_gps_DSCN0010.jpg"),
        corpus_file("jpeg/canon_eos40d.jpg"),
        corpus_file("png/rgba_alpha_transparent.png"),
    ]
    pid = exiftool.process_pid()
    assert pid is not None and os.path.exists(f"/proc/{pid}")
    for path in files * 3:
        assert exiftool.read_tags(str(path)).values["File:FileName"] == path.name
    assert exiftool.process_pid() == pid


def test_a_dead_process_is_replaced(tmp_path):
    path = corpus_file("jpeg/canon_eos40d.jpg")
    pid = exiftool.process_pid()
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    assert exiftool.read_tags(str(path)).values["EXIF:Make"] == "Canon"
    assert exiftool.process_pid() != pid
