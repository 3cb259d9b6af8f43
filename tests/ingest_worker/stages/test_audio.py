"""Audio ingest on real ffmpeg output: poster (cover art or waveform), proxy.m4a, bounds."""

import os
from pathlib import Path

import pytest
import pyvips

from ingest_worker.errors import StageError
from ingest_worker.stages import media
from ingest_worker.stages.sniff import sniff
from shared import media as shared_media
from tests.faults import processes_mentioning
from tests.helpers_media import TAGS, ffmpeg, overstated_flac, sine, tag_args, ten_hour_flac

# (file name, ffmpeg codec options) for each format people upload.
WITH_COVER = {
    "song.mp3": ["-c:a", "libmp3lame", "-c:v", "copy"],
    "song.m4a": ["-c:a", "aac", "-b:a", "96k", "-c:v", "copy"],
    "song.flac": ["-c:a", "flac", "-c:v", "mjpeg"],
}
WITHOUT_COVER = {
    "tone.wav": [],
    "tone.ogg": ["-c:a", "libvorbis"],
    "tone.opus": ["-c:a", "libopus"],
    "tone.aac": ["-c:a", "aac", "-f", "adts"],
    "bare.mp3": ["-c:a", "libmp3lame", "-write_xing", "0", "-id3v2_version", "0"],
    "speech.mp4": ["-c:a", "aac"],  # an .mp4 with sound only
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audio")
    cover = folder / "cover.jpg"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1", cover)
    made = {"cover.jpg": cover}
    for name, codec in WITH_COVER.items():
        made[name] = folder / name
        ffmpeg(*sine(), "-i", cover, "-map", "0", "-map", "1", *codec,
               "-disposition:v", "attached_pic", *tag_args(), made[name])  # fmt: skip
    for name, codec in WITHOUT_COVER.items():
        made[name] = folder / name
        ffmpeg(*sine(), *codec, *tag_args(), made[name])
    return made


def make(path: Path, workdir: Path, settings, reports: list | None = None) -> media.Made:
    reports = [] if reports is None else reports
    workdir.mkdir(exist_ok=True)
    return media.make(
        sniff(path), path, workdir, settings, lambda stage, part: reports.append((stage, part))
    )


def probe_stream(path: Path) -> dict:
    data = shared_media.probe_json(path)
    return next(s for s in data["streams"] if s["codec_type"] == "audio")


def assert_faststart_aac(path: Path) -> dict:
    head = path.read_bytes()
    assert head[4:8] == b"ftyp"
    assert head.index(b"moov") < head.index(b"mdat")  # the index first: seekable at once
    stream = probe_stream(path)
    assert stream["codec_name"] == "aac"
    return stream


@pytest.mark.parametrize("name", sorted(WITH_COVER) + sorted(WITHOUT_COVER))
def test_every_audio_format_is_sniffed_as_media(name, files):
    assert sniff(files[name]).family == "media"


@pytest.mark.parametrize("name", sorted(WITH_COVER))
def test_embedded_cover_art_is_the_poster(name, files, tmp_path, settings):
    reports: list = []
    made = make(files[name], tmp_path / "work", settings, reports)
    assert made.kind == "audio"
    assert made.poster.read_bytes()[:3] == b"\xff\xd8\xff"
    assert (made.poster_width, made.poster_height) == (320, 240)
    poster = pyvips.Image.new_from_file(str(made.poster))
    assert (poster.width, poster.height, poster.interpretation) == (320, 240, "srgb")
    assert made.info.poster_source == "cover_art"
    assert made.info.tags.model_dump() == TAGS
    assert made.info.duration == pytest.approx(2, abs=0.1)
    stream = assert_faststart_aac(made.files["proxy_audio"])
    assert float(stream["duration"]) == pytest.approx(2, abs=0.1)
    assert reports[0] == ("transcode", 0.0)


@pytest.mark.parametrize("name", sorted(WITHOUT_COVER))
def test_without_cover_art_the_poster_is_a_waveform(name, files, tmp_path, settings):
    made = make(files[name], tmp_path / "work", settings)
    assert made.kind == "audio"
    assert made.poster.read_bytes()[:3] == b"\xff\xd8\xff"
    assert (made.poster_width, made.poster_height) == (1200, 300)
    assert made.info.poster_source == "waveform"
    assert made.info.duration == pytest.approx(2, abs=0.1)
    assert_faststart_aac(made.files["proxy_audio"])
    wave = pyvips.Image.new_from_file(str(made.poster))
    r, _, b = wave.getpoint(600, 150)[:3]  # the middle: the sound drawn in blue
    assert b > 200 and r < 100
    assert min(wave.getpoint(600, 5)[:3]) > 230  # the top edge: a 440 Hz tone at -18 dB


def test_ogg_comments_are_read_as_tags(files, tmp_path, settings):
    """Vorbis and Opus keep their tags on the stream, not on the container."""
    for name in ("tone.ogg", "tone.opus"):
        assert make(files[name], tmp_path / name, settings).info.tags.model_dump() == TAGS


def test_aac_is_remuxed_and_other_codecs_transcoded(files, tmp_path, settings):
    copied = make(files["song.m4a"], tmp_path / "m4a", settings)
    assert int(probe_stream(copied.files["proxy_audio"])["bit_rate"]) < 110_000  # the 96k source
    transcoded = make(files["song.flac"], tmp_path / "flac", settings)
    assert int(probe_stream(transcoded.files["proxy_audio"])["bit_rate"]) > 140_000  # 160k


def test_surround_is_downmixed_to_stereo(tmp_path, settings):
    path = tmp_path / "surround.flac"
    ffmpeg(*sine(), "-af", "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", path)
    made = make(path, tmp_path / "work", settings)
    assert made.info.channels == 6
    assert probe_stream(made.files["proxy_audio"])["channels"] == 2


def test_a_cmyk_cover_becomes_an_srgb_poster(files, tmp_path, settings):
    """Cover art from print workflows is often CMYK: browsers show those inverted or not at all."""
    cover = tmp_path / "cmyk.jpg"
    pyvips.Image.new_from_file(str(files["cover.jpg"])).colourspace("cmyk").jpegsave(str(cover))
    path = tmp_path / "song.mp3"
    ffmpeg(*sine(1), "-i", cover, "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v",
           "copy", "-disposition:v", "attached_pic", path)  # fmt: skip
    made = make(path, tmp_path / "work", settings)
    poster = pyvips.Image.new_from_file(str(made.poster))
    assert (poster.interpretation, poster.bands) == ("srgb", 3)
    r, g, b = poster.getpoint(160, 120)  # testsrc's yellow bar
    assert r > 200 and g > 200 and b < 120


def test_a_cover_over_the_pixel_limit_is_not_decoded(files, tmp_path, settings):
    """A bomb in the ID3 tag costs nothing: the waveform stands in."""
    small = settings.model_copy(update={"max_source_pixels": 10_000})  # the cover: 76,800
    made = make(files["song.mp3"], tmp_path / "work", small)
    assert made.info.poster_source == "waveform"
    assert (made.poster_width, made.poster_height) == (1200, 300)


def test_an_mp3_whose_cover_outgrows_the_sniffed_head_is_still_audio(tmp_path, settings):
    """libmagic sees 64 KiB: of an MP3 with a big cover, only the ID3 tag."""
    cover = tmp_path / "noise.jpg"
    ffmpeg("-f", "lavfi", "-i", "nullsrc=s=600x600,geq=random(1)*255:128:128",
           "-frames:v", "1", "-q:v", "1", cover)  # fmt: skip
    assert cover.stat().st_size > 100_000
    path = tmp_path / "song.mp3"
    ffmpeg(*sine(), "-i", cover, "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v",
           "copy", "-disposition:v", "attached_pic", path)  # fmt: skip
    assert (sniff(path).mime, sniff(path).family) == ("audio/mpeg", "media")
    made = make(path, tmp_path / "work", settings)
    assert (made.poster_width, made.poster_height) == (600, 600)


@pytest.mark.faults
def test_a_truncated_mp3_plays_what_is_there(tmp_path, settings):
    """The Xing header promises 4 s; half the frames arrived: the asset is what remains."""
    whole = tmp_path / "whole.mp3"
    ffmpeg(*sine(4), "-c:a", "libmp3lame", "-b:a", "64k", whole)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert shared_media.probe(cut).duration == pytest.approx(4, abs=0.1)
    made = make(cut, tmp_path / "work", settings)
    assert made.info.duration == pytest.approx(2, abs=0.3)
    assert float(probe_stream(made.files["proxy_audio"])["duration"]) < 2.5


@pytest.mark.faults
@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("song.mp3", "unsupported_type"),  # an ID3 tag and nothing after it: not audio
        ("song.flac", "unreadable_media"),  # STREAMINFO, then the end inside the picture
    ],
)
def test_a_file_cut_in_its_header_fails_with_a_code(name, code, files, tmp_path, settings):
    cut = tmp_path / name
    cut.write_bytes(files[name].read_bytes()[:3000])
    with pytest.raises(StageError) as err:
        make(cut, tmp_path / "work", settings)
    assert err.value.code == code
    assert err.value.message and str(tmp_path) not in err.value.message  # no worker paths


@pytest.mark.faults
def test_an_audio_stream_without_samples_fails_empty(tmp_path, settings):
    path = tmp_path / "empty.wav"
    ffmpeg(*sine(), "-t", "0", path)
    assert shared_media.probe(path).audio_codec == "pcm_s16le"
    with pytest.raises(StageError) as err:
        make(path, tmp_path / "work", settings)
    assert err.value.code == "empty_audio"


@pytest.mark.faults
def test_an_m4a_without_any_samples_has_no_stream(tmp_path, settings):
    path = tmp_path / "empty.m4a"
    ffmpeg(*sine(), "-t", "0", "-c:a", "aac", path)
    with pytest.raises(StageError) as err:
        make(path, tmp_path / "work", settings)
    assert err.value.code == "no_streams"


@pytest.mark.faults
def test_ten_hours_fails_too_long_before_any_transcode(tmp_path, settings):
    path = ten_hour_flac(tmp_path)
    assert shared_media.probe(path).duration == pytest.approx(36000)
    with pytest.raises(StageError) as err:
        make(path, tmp_path / "work", settings)
    assert err.value.code == "too_long"
    assert not (tmp_path / "work" / "proxy.m4a").exists()


@pytest.mark.faults
def test_a_header_that_overstates_the_length_is_measured(tmp_path, settings):
    path = overstated_flac(tmp_path)
    assert shared_media.probe(path).duration == pytest.approx(36000)  # what the header says
    made = make(path, tmp_path / "work", settings)
    assert made.info.duration == pytest.approx(1.0, abs=0.1)


@pytest.mark.faults
def test_ffmpeg_over_its_time_fails_timeout_and_leaves_no_process(files, tmp_path, settings):
    quick = settings.model_copy(
        update={"media_timeout_seconds": 0.001, "media_timeout_per_second": 0.0}
    )
    with pytest.raises(StageError) as err:
        make(files["tone.wav"], tmp_path / "work", quick)
    assert err.value.code == "timeout"
    assert processes_mentioning(str(files["tone.wav"])) == []
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    for pid in children:
        assert "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


@pytest.mark.faults
def test_a_length_the_header_understates_is_bounded_by_what_decodes(tmp_path, settings):
    """No Xing header: ffprobe guesses the length from the first frames' bit rate. 1 s of
    loud noise then 20 s of silence (VBR: cheap frames) is guessed at ~6 s."""
    path = tmp_path / "vbr.mp3"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=1:a=0.5", "-f", "lavfi", "-i",
           "anullsrc=r=48000:cl=mono", "-filter_complex", "[1]atrim=0:20[s];[0][s]concat=v=0:a=1",
           "-c:a", "libmp3lame", "-q:a", "0", "-write_xing", "0", "-id3v2_version", "0",
           path)  # fmt: skip
    claimed = shared_media.probe(path).duration
    assert claimed < 10
    limit = settings.model_copy(update={"max_media_seconds": 10.0})
    with pytest.raises(StageError) as err:
        make(path, tmp_path / "work", limit)
    assert err.value.code == "too_long"
    assert "21 s" in err.value.message
    made = make(path, tmp_path / "again", settings)
    assert made.info.duration == pytest.approx(21, abs=0.2)  # what plays, not the guess


def test_a_transcode_reports_its_progress(tmp_path, settings):
    song = tmp_path / "long.flac"
    ffmpeg(*sine(30), "-c:a", "flac", song)
    reports: list = []
    make(song, tmp_path / "work", settings, reports)
    fractions = [part for stage, part in reports if stage == "transcode"]
    assert fractions[0] == 0.0 and max(fractions) > 0.9
    assert fractions == sorted(fractions)
