"""Description and alt text say what was detected, in words people search with."""

import numpy as np

from shared.ai.colors import dominant_colors
from shared.ai.describe import alt_text, description
from shared.ai.summary import extractive_summary
from shared.ai.types import Face, ImageFacts, Label

FACTS = ImageFacts(
    labels=[Label("tabby, tabby cat, extra synonym", 0.6), Label("noise", 0.01)],
    faces=[Face([0.1, 0.1, 0.2, 0.2], 0.9), Face([0.5, 0.1, 0.2, 0.2], 0.8)],
    ocr_text="HAPPY  BIRTHDAY",
    colors=["orange", "grey"],
    camera="NIKON COOLPIX P6000",
    taken_at="2008-10-22T16:29:49",
    filename="party_cat-01.jpg",
)


def test_description_carries_every_fact():
    text = description(FACTS)
    for words in (
        "tabby, tabby cat",
        "2 people",
        "orange",
        "HAPPY BIRTHDAY",
        "COOLPIX",
        "2008-10-22",
    ):
        assert words in text
    assert "party cat 01" in text and "extra synonym" not in text and "noise" not in text


def test_alt_text_is_short_and_only_says_what_was_found():
    text = alt_text(FACTS)
    assert (
        text
        == 'Image of tabby with 2 people mostly orange and grey, with the text "HAPPY BIRTHDAY".'
    )
    assert alt_text(ImageFacts()) == "Image."


def test_colour_names():
    red = np.zeros((50, 50, 3), dtype=np.uint8)
    red[..., 0] = 220
    assert dominant_colors(red) == ["red"]
    half = np.full((50, 50, 3), 255, dtype=np.uint8)
    half[:25] = (20, 40, 200)
    assert set(dominant_colors(half)) == {"white", "blue"}


def test_summary_of_empty_or_tiny_text():
    assert extractive_summary("") == ""
    assert extractive_summary("Just a title") == "Just a title"


SONG = ImageFacts(
    kind="audio",
    duration=192.4,
    media_tags={"title": "Night Train", "artist": "The Sleepers", "album": "Timetables"},
    labels=[Label("jellyfish", 0.5)],
    filename="night_train.mp3",
)


def test_audio_says_it_is_audio_with_its_length_and_tags():
    assert description(SONG).startswith(
        'An audio recording (3:12): "Night Train" by The Sleepers, from Timetables, '
        "with cover art of jellyfish."
    )
    assert alt_text(SONG) == (
        'Audio (3:12): "Night Train" by The Sleepers, from Timetables, with cover art of jellyfish.'
    )
    assert alt_text(ImageFacts(kind="audio", media_tags={"artist": "X"})) == "Audio by X."


def test_video_says_it_is_a_video_with_its_length():
    clip = ImageFacts(kind="video", duration=3723, labels=[Label("seashore, coast", 0.5)])
    assert description(clip) == "A video (1:02:03), showing seashore, coast."
    assert alt_text(clip) == "Video (1:02:03), showing seashore."
    assert alt_text(ImageFacts(kind="video")) == "Video."
