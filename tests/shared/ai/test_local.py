"""The local provider on known images: what a person would check in the manifest."""

import numpy as np
import pytest
import pyvips

from shared.ai import describe
from shared.ai.prepare import model_jpeg
from shared.ai.types import CapabilityMissing, ImageFacts
from tests.helpers_ai import skimage_jpeg, text_jpeg


def prepared(jpeg: bytes) -> bytes:
    return model_jpeg(jpeg, 1024, 8 * 1024 * 1024)


def names(labels) -> str:
    return " | ".join(lb.name for lb in labels).lower()


def test_labels_name_the_cat_and_the_coffee(local_provider):
    cat = local_provider.labels(prepared(skimage_jpeg("chelsea")))
    assert "cat" in names(cat[:3])
    assert all(0 < lb.confidence <= 1 for lb in cat)
    assert cat == sorted(cat, key=lambda lb: -lb.confidence)
    assert "espresso" in names(local_provider.labels(prepared(skimage_jpeg("coffee")))[:2])


def test_faces_found_on_a_portrait_and_not_on_a_cup(local_provider):
    faces = local_provider.faces(prepared(skimage_jpeg("astronaut")))
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    assert 0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 and 0 < h <= 1
    assert 0.3 < x + w / 2 < 0.7  # her face is mid-frame, upper half
    assert y + h / 2 < 0.5
    assert len(faces[0].embedding) == 128  # dlib descriptor, for grouping people
    assert local_provider.faces(prepared(skimage_jpeg("coffee"))) == []


def test_ocr_reads_rendered_text(local_provider):
    text = local_provider.ocr(prepared(text_jpeg("Quarterly invoice 2024\nTotal due: 1250 EUR")))
    assert "invoice" in text.lower() and "1250" in text


def test_ocr_of_a_photo_without_text_is_empty(local_provider):
    assert local_provider.ocr(prepared(skimage_jpeg("coffee"))) == ""


def test_query_and_description_share_one_space(local_provider):
    cat = local_provider.embed_asset("A photo of tabby cat; Egyptian cat. Colours: orange.", None)
    cup = local_provider.embed_asset("A photo of espresso; cup. Colours: brown, white.", None)
    query = local_provider.embed_query("kitten")
    assert cat.model == query.model and cat.vector.shape == (384,)
    assert float(np.linalg.norm(cat.vector)) == pytest.approx(1, abs=1e-4)
    assert float(cat.vector @ query.vector) > float(cup.vector @ query.vector)


def test_alt_text_is_composed_from_the_facts(local_provider):
    jpeg = prepared(skimage_jpeg("chelsea"))
    facts = ImageFacts(labels=local_provider.labels(jpeg), colors=["orange", "grey"])
    text, source = local_provider.alt_text(facts, jpeg)
    assert text.startswith("Image of ") and "cat" in text.lower()
    assert source == describe.ALT_TEXT_SOURCE_LABELS


def test_summary_is_extractive(local_provider):
    text = (
        "Picsha ingests every upload. The ingest worker finds the true type of each upload. "
        "It is sunny today. Every upload gets web samples and an index entry for search."
    )
    summary = local_provider.summarize(text)
    assert summary and all(s.strip(". ") in text for s in summary.split(". "))
    assert "sunny" not in summary


def test_text_to_image_is_a_missing_capability(local_provider):
    with pytest.raises(CapabilityMissing, match="text-to-image"):
        local_provider.generate_image("a cat")


def test_a_one_pixel_image_gives_empty_results_not_errors(local_provider):
    one = pyvips.Image.black(1, 1, bands=3).copy(interpretation="srgb").jpegsave_buffer()
    jpeg = prepared(one)
    assert local_provider.faces(jpeg) == []
    assert local_provider.ocr(jpeg) == ""
    assert isinstance(local_provider.labels(jpeg), list)
