"""JPEG headers: the traits `read_header` reads, checked against Pillow and libjpeg, and the segments the simulators
write."""

import numpy as np
import pytest
from PIL import Image

import forensiclib as fl
from forensiclib.data.synth._segments import rewrite_segments, segment_bytes
from forensiclib.data.synth.cameras import camera_devices, camera_models, capture_jpeg
from forensiclib.data.synth.platforms import share
from forensiclib.provenance.header import TRAITS, read_header, table_key


@pytest.fixture(scope="module")
def photo():
    return fl.load_photo("chelsea")[:200, :264]


def test_tables_size_and_subsampling_are_those_libjpeg_reads(tmp_path, photo):
    for quality, subsampling in ((50, "4:2:0"), (90, "4:4:4"), (75, "4:2:2")):
        path = fl.encode_jpeg(photo, tmp_path / f"q{quality}.jpg", quality=quality, subsampling=subsampling)
        header, image = read_header(path), fl.read_dct(path)
        assert np.array_equal(header.luminance_table, image.quantization_table)
        assert np.array_equal(header.chroma_table, image.chroma_quantization_table)
        assert (header.width, header.height, header.subsampling) == (image.width, image.height, image.subsampling)
        assert header.traits()["table"] == table_key(fl.ijg_quantization_table(quality))
    assert set(read_header(path).traits()) == set(TRAITS)


def test_coding_huffman_and_restarts(tmp_path, photo):
    plain = fl.encode_jpeg(photo, tmp_path / "plain.jpg", quality=80)
    assert read_header(plain).coding == "baseline, standard Huffman"
    progressive = fl.encode_jpeg(photo, tmp_path / "progressive.jpg", quality=80, progressive=True)
    assert read_header(progressive).coding == "progressive"
    Image.fromarray(photo).save(tmp_path / "optimised.jpg", quality=80, optimize=True)
    assert read_header(tmp_path / "optimised.jpg").coding == "baseline, optimised Huffman"
    restarts = fl.encode_jpeg(photo, tmp_path / "restarts.jpg", quality=80, restart_interval=4)
    assert read_header(restarts).restart_interval == 4 and read_header(restarts).traits()["restart"] == "yes"
    assert read_header(plain).traits()["restart"] == "no"
    with pytest.raises(ValueError, match="restart_interval an integer in 0..65535"):
        fl.encode_jpeg(photo, tmp_path / "bad.jpg", quality=80, restart_interval=-1)


def test_segments_are_named_by_their_identifiers(tmp_path, photo):
    path = fl.encode_jpeg(photo, tmp_path / "plain.jpg", quality=80)
    data = rewrite_segments(path.read_bytes(), ("exif", "jfif", "icc", "iptc", "xmp"), model="sim-camera-07")
    (tmp_path / "all.jpg").write_bytes(data)
    header = read_header(tmp_path / "all.jpg")
    assert header.segments == ("exif", "jfif", "icc", "iptc", "xmp")
    traits = header.traits()
    assert all(traits[name] == "yes" for name in header.segments) and traits["adobe"] == "no"
    with Image.open(tmp_path / "all.jpg") as image:  # Pillow reads the blocks and decodes the image
        image.load()
        assert image.getexif()[0x0110] == "sim-camera-07" and image.info["icc_profile"][36:40] == b"acsp"
    np.testing.assert_array_equal(fl.read_dct(tmp_path / "all.jpg").coefficients, fl.read_dct(path).coefficients)
    bare = rewrite_segments(path.read_bytes(), ())
    (tmp_path / "bare.jpg").write_bytes(bare)
    assert read_header(tmp_path / "bare.jpg").segments == ()
    with pytest.raises(ValueError, match="Expected a segment among"):
        segment_bytes("gps")
    with pytest.raises(ValueError, match="bytes of a JPEG"):
        rewrite_segments(b"GIF89a", ())


def test_not_a_jpeg_is_refused_with_its_bytes(tmp_path):
    (tmp_path / "note.txt").write_text("hello")
    with pytest.raises(ValueError, match="Expected a JPEG file. Received: .*note.txt"):
        read_header(tmp_path / "note.txt")
    with pytest.raises(FileNotFoundError):
        read_header(tmp_path / "missing.jpg")


def test_simulated_cameras_write_a_real_cameras_header(tmp_path, photo):
    from forensiclib.data.synth.camera_tables import CAMERA_HEADERS

    for model in camera_models("B")[:4]:
        path = capture_jpeg(photo, camera_devices(model)[0], tmp_path / f"{model.name}.jpg", random_state=0)
        header = read_header(path)
        assert header.coding == "baseline, standard Huffman" and "exif" in header.segments
        assert (header.segments, header.restart_interval) in set(CAMERA_HEADERS.values())


def test_simulated_platforms_write_their_measured_segments(tmp_path, photo):
    source = capture_jpeg(photo, camera_devices(camera_models("B")[0])[0], tmp_path / "camera.jpg", random_state=0)
    expected = {"facebook": {("jfif", "iptc")}, "instagram": {("jfif", "iptc")}, "telegram": {("jfif", "icc")},
                "twitter": {("jfif", "icc"), ("jfif",)}, "whatsapp": {("jfif",), ("jfif", "icc")}}  # fmt: skip
    for name, layouts in expected.items():
        for seed in range(3):
            header = read_header(share(source, name, tmp_path / f"{name}{seed}.jpg", random_state=seed))
            assert header.segments in layouts and "exif" not in header.segments, name
    whatsapp_ijg = fl.PLATFORMS["whatsapp"].behaviours[1][1]
    header = read_header(share(source, whatsapp_ijg, tmp_path / "wa_ijg.jpg"))
    assert header.coding == "baseline, optimised Huffman" and header.segments == ("jfif", "icc")
