"""``llamacpp/PATH.gguf#mmproj=PATH[#handler=NAME]``: vision GGUFs in process.

No vision GGUF can be downloaded here, so what is tested is the wiring up to the
weights: the spec and its options, the handler chosen by name or guessed from
the file names, the messages in the form llama-cpp-python's own handlers read
(their real templates and image lookup, rendered here), the identity, and, with
the real llama.cpp and the embedded text model, that a projector that is no
projector stops the model with one clear error. A real image through a real
projector is not run (see the closing note of issue 10)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from conftest import missing_part
from fourfold.models import BackendSpec, BackendUnusable, ChatMessage, ChatPart, GenerationSettings, ModelSpecError
from fourfold.models.base import PermanentError
from fourfold.models.llamacpp import LlamaCppBackend
from fourfold.models.llamacpp_vision import HANDLERS, LlamaCppVisionBackend, guess_handler, to_handler_messages


@pytest.fixture(autouse=True)
def _own_hash_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _files(tmp_path: Path, model: str, mmproj: str) -> tuple[Path, Path]:
    m, p = tmp_path / model, tmp_path / mmproj
    m.write_bytes(b"GGUF model bytes " + model.encode())
    p.write_bytes(b"GGUF projector bytes " + mmproj.encode())
    return m, p


def _backend(text: str) -> LlamaCppBackend:
    return LlamaCppBackend.from_spec(BackendSpec.parse(text))


def test_mmproj_makes_a_vision_backend_with_the_family_guessed(tmp_path: Path) -> None:
    m, p = _files(tmp_path, "Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf", "mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf")
    b = _backend(f"llamacpp/{m}#mmproj={p}")
    assert isinstance(b, LlamaCppVisionBackend) and b.handler == "qwen2.5-vl" and b.mmproj == p
    # Qwen2.5-VL reads several images a prompt: video goes as frames
    assert b.capabilities.multi_image and b.capabilities.video_mode() == "frames"
    assert b.max_concurrency == 1  # the in-process rule holds for vision too

    m, p = _files(tmp_path, "llava-v1.5-7b-Q4_K.gguf", "llava-v1.5-7b-mmproj-f16.gguf")
    llava = _backend(f"llamacpp/{m}#mmproj={p}")
    assert llava.handler == "llava-1-5"
    # one image a prompt: video as one grid, two-image cases not evaluated
    assert llava.capabilities.video_mode() == "grid" and llava.capabilities.missing({"multi_image"}) == ["multi_image"]


@pytest.mark.parametrize(("model", "mmproj", "handler"), [
    ("llava-v1.6-mistral-7b.Q4_K_M.gguf", "mmproj-model-f16.gguf", "llava-1-6"),
    ("ggml-model-Q4_K_M.gguf", "mmproj-MiniCPM-V-2_6-f16.gguf", "minicpm-v-2.6"),  # only the projector names it
    ("moondream2-text-model-f16.gguf", "moondream2-mmproj-f16.gguf", "moondream"),
    ("nanoLLaVA-1.5-q4.gguf", "nanollava-mmproj-f16.gguf", "nanollava"),
    ("gemma-4-e2b-it-Q4_K_M.gguf", "mmproj-gemma-4-e2b-it-f16.gguf", "gemma4"),
    ("SmolVLM-256M-Instruct-Q8_0.gguf", "mmproj-SmolVLM-256M-Instruct-Q8_0.gguf", "mtmd"),  # the model's own template
])
def test_handler_guessed_from_file_names(model: str, mmproj: str, handler: str) -> None:
    assert guess_handler(Path(model), Path(mmproj)) == handler


def test_handler_by_name_and_did_you_mean(tmp_path: Path) -> None:
    m, p = _files(tmp_path, "llava-v1.5-7b-Q4_K.gguf", "mmproj.gguf")
    assert _backend(f"llamacpp/{m}#mmproj={p}#handler=minicpm-v-2.6").handler == "minicpm-v-2.6"
    with pytest.raises(ModelSpecError, match=r"unknown handler 'qwen25-vl'.*did you mean 'qwen2.5-vl'\?"):
        _backend(f"llamacpp/{m}#mmproj={p}#handler=qwen25-vl")
    with pytest.raises(ModelSpecError, match=r"unknown option #mmprj .*did you mean 'mmproj'\?"):
        _backend(f"llamacpp/{m}#mmprj={p}")
    with pytest.raises(ModelSpecError, match=r"#handler= is for vision models and needs #mmproj=PATH"):
        _backend(f"llamacpp/{m}#handler=llava-1-5")
    with pytest.raises(ModelSpecError, match=r"#mmproj needs a value"):
        _backend(f"llamacpp/{m}#mmproj=")
    assert _backend(f"llamacpp/{m}#mmproj={p}#n_ctx=8192").n_ctx == 8192
    with pytest.raises(ModelSpecError, match=r"#n_ctx must be a whole number"):
        _backend(f"llamacpp/{m}#n_ctx=lots")


def test_missing_projector_is_one_clear_error(tmp_path: Path) -> None:
    m, _ = _files(tmp_path, "llava-v1.5-7b-Q4_K.gguf", "x.gguf")
    with pytest.raises(PermanentError) as e:
        _backend(f"llamacpp/{m}#mmproj={tmp_path / 'no-such-mmproj.gguf'}")
    assert str(e.value) == (f"mmproj file not found: {tmp_path / 'no-such-mmproj.gguf'} "
                            "(the projector GGUF published with the model)")


def test_identity_pins_the_projector_and_the_handler(tmp_path: Path) -> None:
    m, p = _files(tmp_path, "llava-v1.5-7b-Q4_K.gguf", "mmproj-a.gguf")
    text_only = asyncio.run(_backend(f"llamacpp/{m}").identity())
    vision = asyncio.run(_backend(f"llamacpp/{m}#mmproj={p}").identity())
    assert vision["sha256"] == text_only["sha256"] == hashlib.sha256(m.read_bytes()).hexdigest()
    assert vision["mmproj"] == {"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
    assert vision["handler"] == "llava-1-5" and vision != text_only
    other = asyncio.run(_backend(f"llamacpp/{m}#mmproj={p}#handler=obsidian").identity())
    assert other != vision
    q = tmp_path / "mmproj-b.gguf"
    q.write_bytes(b"another projector")
    assert asyncio.run(_backend(f"llamacpp/{m}#mmproj={q}").identity())["mmproj"]["sha256"] != \
        vision["mmproj"]["sha256"]


def _picture(path: Path, fmt: str, colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(buf, format=fmt, lossless=True)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _decoded(url: str) -> bytes:
    head, _, data = url.partition(",")
    assert head.endswith(";base64")
    return base64.b64decode(data)


def _messages(tmp_path: Path) -> tuple[list[ChatMessage], bytes]:
    png = _picture(tmp_path / "a.png", "PNG", (255, 0, 0))
    _picture(tmp_path / "b.webp", "WEBP", (0, 0, 255))
    return [ChatMessage("system", (ChatPart("text", text="Answer briefly."),)),
            ChatMessage("user", (ChatPart("text", text="Which picture is red?"), ChatPart("image", path=tmp_path / "a.png"),
                                 ChatPart("image", path=tmp_path / "b.webp")))], png


def test_messages_as_the_handlers_read_them(tmp_path: Path) -> None:
    msgs, png = _messages(tmp_path)
    wire = to_handler_messages(msgs)
    assert wire[0] == {"role": "system", "content": "Answer briefly."}
    parts = wire[1]["content"]
    assert parts[0] == {"type": "text", "text": "Which picture is red?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,") and _decoded(parts[1]["image_url"]["url"]) == png
    # WebP is no type llama.cpp decodes: it goes as PNG, the same picture
    webp = parts[2]["image_url"]["url"]
    assert webp.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(_decoded(webp))) as im:
        assert im.format == "PNG" and im.size == (8, 6) and im.convert("RGB").getpixel((3, 3)) == (0, 0, 255)
    with pytest.raises(PermanentError, match="cannot send video parts"):
        to_handler_messages([ChatMessage("user", (ChatPart("video", path=tmp_path / "a.png"),))])


def _chat_format() -> object:
    try:
        from llama_cpp import llama_chat_format
    except ImportError:
        missing_part("llama-cpp-python is not installed", "make setup")
    return llama_chat_format


def test_every_handler_exists_and_reads_our_messages(tmp_path: Path) -> None:
    """Each named handler is a class of the installed llama-cpp-python; each
    finds our images (its own ``get_image_urls``) and, where it writes the
    prompt itself, puts them and the question in it (its own template)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    chat_format = _chat_format()
    msgs, _ = _messages(tmp_path)
    wire = to_handler_messages(msgs)
    urls = [p["image_url"]["url"] for p in wire[1]["content"][1:]]
    for name, handler in HANDLERS.items():
        cls = getattr(chat_format, handler.cls, None)
        assert cls is not None, f"{name}: llama_cpp.llama_chat_format has no {handler.cls}"
        assert cls.get_image_urls(wire) == urls, name
        template = getattr(cls, "CHAT_FORMAT", None)
        if template is None:  # mtmd, gemma4: the model's own template, read from the GGUF
            continue
        prompt = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(template).render(
            messages=wire, add_generation_prompt=True, eos_token="</s>", bos_token="<s>")
        assert "Which picture is red?" in prompt and all(u in prompt for u in urls), name


@pytest.mark.slow
def test_a_file_that_is_no_projector_stops_the_model(tmp_path: Path) -> None:
    """The real llama.cpp, the embedded model as the language model, and a
    projector file that is not one: the model stops with one error naming the
    file, before any case is answered."""
    _chat_format()
    from fourfold.models import embedded_model_path

    bad = tmp_path / "mmproj-broken.gguf"
    bad.write_bytes(b"GGUF" + bytes(60))
    b = _backend(f"llamacpp/{embedded_model_path()}#mmproj={bad}#handler=llava-1-5")
    msgs, _ = _messages(tmp_path)

    async def go() -> None:
        try:
            await b.generate(msgs, GenerationSettings(max_tokens=4))
        finally:
            await b.aclose()

    with pytest.raises(BackendUnusable) as e:
        asyncio.run(go())
    assert str(e.value).startswith(f"cannot load the projector {bad} for {embedded_model_path().name} (")
    assert "use the mmproj file published with this very model" in str(e.value)
