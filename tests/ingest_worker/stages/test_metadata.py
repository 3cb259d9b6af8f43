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


def test_taken_at_carries_the_offset_the_file_states():
    heic, tags, _ = metadata.extract(corpus_file("heif/iphone_xr_orientation6_gps.heic"))
    assert heic.taken_at == "2021-02-13T11:03:31-06:00"  # EXIF OffsetTimeOriginal
    assert metadata.icc_description(tags) == "Display P3"
    pdf, _, _ = metadata.extract(corpus_file("pdf/openoffice_3_pages_mixed_sizes.pdf"))
    assert pdf.taken_at == "2011-06-26T08:26:03-05:00"  # offset inside the PDF date
    # No offset in the file: a naive time, never a guessed zone.
    assert metadata.extract(corpus_file("jpeg/nikon_coolpix_p6000_gps_DSCN0010.jpg"))[
        0
    ].taken_at == ("2008-10-22T16:28:39")


def test_page_count_and_duration():
    assert metadata.extract(corpus_file("pdf/openoffice_3_pages_mixed_sizes.pdf"))[0].pages == 3
    webp, _, _ = metadata.extract(corpus_file("webp/animated_lossy_loop3.webp"))
    assert webp.duration == 29.712


def test_raw_types_are_refined_from_exiftool_only_when_libmagic_was_vague():
    _, tags, _ = metadata.extract(corpus_file("raw/nikon_d70.nef"))
    assert metadata.refine_mime("image/x-raw", tags) == "image/x-nikon-nef"
    _, tags, _ = metadata.extract(corpus_file("hostile/jpeg_exif_claims_dng.jpg"))
    assert metadata.refine_mime("image/jpeg", tags) == "image/jpeg"  # EXIF claims DNG
