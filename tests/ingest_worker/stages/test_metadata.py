from ingest_worker.stages import metadata
from tests.helpers import corpus_file


def test_camera_gps_and_time_are_normalised():
    path = corpus_file("jpeg/nikon_coolpix_p6000_gps_DSCN0010.jpg")
    meta, _, warning = metadata.extract(path)
    assert meta.camera == {"make": "NIKON", "model": "COOLPIX P6000"}
    assert meta.gps is not None
    assert abs(meta.gps["lat"] - 43.4674483) < 1e-6
    assert abs(meta.gps["lon"] - 11.8851267) < 1e-6
    assert meta.taken_at == "2008-10-22T16:28:39"
    assert meta.exif["Make"] == "NIKON"
    assert warning is None


def test_southern_western_hemispheres_are_negative():
    meta, _, _ = metadata.extract(corpus_file("jpeg/canon_powershot_s5_gps_FurnaceCreekInn.jpg"))
    assert meta.gps is not None
    assert meta.gps["lon"] < 0  # Death Valley is west of Greenwich
    assert 36 < meta.gps["lat"] < 37


def test_iptc_and_xmp_groups_are_kept():
    iptc, _, _ = metadata.extract(corpus_file("jpeg/nokia_n70_iptc.jpg"))
    assert iptc.iptc
    xmp, _, _ = metadata.extract(corpus_file("jpeg/fujifilm_xmp_exiftool.jpg"))
    assert xmp.xmp


def test_icc_description_and_empty_gps_ifd():
    _, tags, _ = metadata.extract(corpus_file("jpeg/nikon_d1x_adobergb_Reagan.jpg"))
    assert metadata.icc_description(tags) == "Adobe RGB (1998)"
    meta, _, _ = metadata.extract(
        corpus_file("jpeg/xiaomi_redmi_note9s_orientation6_empty_gps_ifd.jpg")
    )
    assert meta.gps is None


def test_broken_files_give_a_warning_not_an_exception():
    _meta, _, warning = metadata.extract(corpus_file("hostile/zero_bytes.heic"))
    assert warning and "empty" in warning.lower()
