import pytest

from alerts.segments import Segments, count_segments, fits


def test_plain_ascii_is_gsm7_one_septet_per_character():
    assert count_segments("Reply YES 47") == Segments(encoding="GSM-7", units=12, segments=1)


def test_gsm7_accented_and_greek_letters_stay_gsm7():
    result = count_segments("Café £5 ΔΩ ñ ü à ¿¡ §")
    assert result.encoding == "GSM-7"
    assert result.units == len("Café £5 ΔΩ ñ ü à ¿¡ §")


@pytest.mark.parametrize("char", list("^{}\\[~]|€\f"))
def test_extension_characters_count_two_septets(char):
    assert count_segments(f"a{char}b") == Segments(encoding="GSM-7", units=4, segments=1)


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_gsm7_boundaries_160_single_153_multipart(length, segments):
    assert count_segments("a" * length).segments == segments


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_boundaries_70_single_67_multipart(length, segments):
    text = "ш" * length  # Cyrillic: outside GSM-7
    result = count_segments(text)
    assert result.encoding == "UCS-2"
    assert result.units == length
    assert result.segments == segments


def test_one_non_gsm_character_switches_the_whole_message_to_ucs2():
    result = count_segments("a" * 100 + "ç")  # lower-case c-cedilla is not in GSM-7 (only Ç is)
    assert result.encoding == "UCS-2"
    assert result.segments == 2


def test_emoji_counts_two_utf16_code_units():
    result = count_segments("Flood 🌊")
    assert result == Segments(encoding="UCS-2", units=8, segments=1)
    assert count_segments("🌊" * 35).segments == 1
    assert count_segments("🌊" * 36).segments == 2


def test_extension_character_is_not_split_across_parts():
    # 152 septets, then € (2 septets) does not fit in the first 153-septet part and moves whole.
    text = "a" * 152 + "€" + "a" * 152
    result = count_segments(text)
    assert result.units == 306
    assert result.segments == 3  # 306 septets would be 2 parts if € could be split


def test_surrogate_pair_is_not_split_across_parts():
    text = "ш" * 66 + "🌊" + "ш" * 66
    result = count_segments(text)
    assert result.units == 134
    assert result.segments == 3


def test_empty_text_is_one_segment():
    assert count_segments("") == Segments(encoding="GSM-7", units=0, segments=1)


def test_fits():
    assert fits("a" * 306, 2)
    assert not fits("a" * 307, 2)
    assert fits("ш" * 70, 1)
    assert not fits("ш" * 71, 1)
