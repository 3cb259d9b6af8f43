from ingest_worker.stages import metadata
from tests.helpers import corpus_file


def test_camera_gps_and_time_are_normalised():
    path = corpus_file("jpeg/nikon_coolpix_p6000_gps_DSCN0010.jpg")
    meta, _, warning = metadata.extract(path)
    assert meta.camera == {"make": "NIKON", "model": "COOLPIX P6000", "name": "NIKON COOLPIX P6000"}
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


def test_people_read_exiftool_prose_while_raw_groups_keep_the_numbers():
    meta, tags, _ = metadata.extract(corpus_file("jpeg/progressive_canon_eos6d.jpg"))
    assert meta.lens == "Canon EF 35mm f/2 IS USM"  # Composite:LensID 505
    assert meta.camera == {"make": "Canon", "model": "Canon EOS 6D", "name": "Canon EOS 6D"}
    assert meta.exposure is not None
    assert meta.exposure.program == "Aperture-priority AE"
    assert meta.exposure.flash == "Off, Did not fire"
    assert (meta.exposure.iso, meta.exposure.f_number) == (100, 2.0)
    assert meta.exposure.focal_length == "35.0 mm"
    assert meta.exif["ExposureProgram"] == 3 and meta.exif["Flash"] == 16
    assert tags["EXIF:Orientation"] == 1


def test_a_nikon_lens_id_is_a_name_not_hex():
    meta, _, _ = metadata.extract(corpus_file("jpeg/nikon_d70_orientation6.jpg"))
    assert meta.lens == "AF-S DX Zoom-Nikkor 18-70mm f/3.5-4.5G IF-ED"  # was 7F 40 2D 5C...
    assert meta.camera["name"] == "NIKON D70"  # make "NIKON CORPORATION" not repeated
    assert meta.exposure.exposure_time and "/" in meta.exposure.exposure_time
    assert meta.exif["Orientation"] == 6


def test_the_camera_name_repeats_the_make_only_when_the_model_lacks_it():
    name = lambda make, model: metadata._camera(make, model)["name"]  # noqa: E731
    assert name("NIKON", "COOLPIX P6000") == "NIKON COOLPIX P6000"
    assert name("Canon", "Canon EOS 6D") == "Canon EOS 6D"
    assert name("NIKON CORPORATION", "NIKON D70") == "NIKON D70"
    assert name(None, "X100") == "X100"
    assert metadata._camera(None, None) is None
