"""The torch side of hf/: load, turn chat messages into model inputs, generate.

Imported only from the backend's worker thread, the first time a model is
resolved: this is the one module of fourfold that imports torch and
transformers at its top.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
    GenerationConfig,
    StoppingCriteria,
    StoppingCriteriaList,
)
from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES
from transformers.utils import logging as hf_logging

from ..base import BackendUnusable, ChatMessage, Generation, GenerationSettings, PermanentError
from .families import VideoMode, video_mode

# "Loading weights" bars and advice meant for library users would tear through fourfold's own
# progress display; what goes wrong reaches the user as an exception, recorded per case.
hf_logging.disable_progress_bar()
hf_logging.set_verbosity_error()


@dataclass
class Request:
    """One generate call waiting for its batch; ``cancel`` is set when its caller gives up."""

    messages: list[ChatMessage]
    settings: GenerationSettings
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass
class Prepared:
    """What is known before the weights are loaded: the processor or tokenizer, and how video goes in."""

    source: str
    revision: str | None
    model_type: str
    vision: bool
    video: VideoMode
    processor: Any  # a ProcessorMixin for vision models, else the tokenizer
    tokenizer: Any


def prepare(source: str, revision: str | None, video_override: str | None) -> Prepared:
    """Config and processor (small files): enough to say what the model accepts."""
    try:
        config = AutoConfig.from_pretrained(source, revision=revision)
    except (OSError, ValueError) as e:
        raise BackendUnusable(f"cannot read the model config of {source}: {_first_line(e)}") from None
    vision = hasattr(config, "vision_config") and config.model_type in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES
    try:
        processor = (AutoProcessor if vision else AutoTokenizer).from_pretrained(source, revision=revision)
    except (OSError, ValueError, TypeError) as e:
        raise BackendUnusable(f"cannot load the processor of {source}: {_first_line(e)}") from None
    tokenizer = getattr(processor, "tokenizer", processor)
    tokenizer.padding_side = "left"  # batched generation continues every row from its right end
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None) and not getattr(processor, "chat_template", None):
        raise BackendUnusable(f"{source} has no chat template: fourfold asks chat models in their own template")
    mode = video_mode(config.model_type, getattr(processor, "video_processor", None) is not None, video_override)
    return Prepared(source, revision, config.model_type, vision, mode, processor, tokenizer)


def load(p: Prepared, *, dtype: str, device_map: str | None, attn: str | None, adapter: Path | None) -> Any:
    """The model, in eval mode, with the adapter applied; running out of memory is
    one line naming the fixes (the runner stops the model: nothing is recorded)."""
    auto = AutoModelForImageTextToText if p.vision else AutoModelForCausalLM
    kw: dict[str, Any] = {"revision": p.revision, "dtype": dtype if dtype == "auto" else getattr(torch, dtype)}
    if device_map is not None:
        kw["device_map"] = device_map
    elif torch.cuda.is_available():
        kw["device_map"] = "auto"
    if attn is not None:
        kw["attn_implementation"] = attn
    try:
        model = auto.from_pretrained(p.source, **kw)
        if adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter))
    except (torch.OutOfMemoryError, MemoryError):
        raise BackendUnusable(
            f"{p.source} does not fit in memory: try #dtype=bfloat16 (or float16), #device_map=auto to spread it "
            "over GPUs and CPU, or a smaller or quantised model") from None
    except (OSError, ValueError, ImportError, KeyError) as e:
        raise BackendUnusable(f"cannot load {p.source}{' with ' + str(adapter) if adapter else ''}: "
                              f"{_first_line(e)}") from None
    model.eval()
    # The checkpoint's own sampler defaults (a repetition penalty, top-k 20, ...) must not
    # decide answers unseen: keep its token ids, state every decoding parameter per call.
    gc = model.generation_config
    model.generation_config = GenerationConfig(
        eos_token_id=gc.eos_token_id, bos_token_id=gc.bos_token_id,
        pad_token_id=gc.pad_token_id if gc.pad_token_id is not None else p.tokenizer.pad_token_id)
    return model


def generation_config(model: Any, s: GenerationSettings) -> GenerationConfig:
    """Every decoding parameter, stated. Temperature 0 is plain greedy decoding
    (``do_sample`` off: transformers then builds no sampling step at all, so the
    sampler fields are left out rather than set to values it would warn about);
    the steps that apply to greedy decoding too are always set to off or to the settings."""
    if getattr(s, "presence_penalty", 0.0) or getattr(s, "frequency_penalty", 0.0):
        raise PermanentError("hf/ has no presence or frequency penalty: use repeat_penalty, or leave them at 0")
    base = model.generation_config
    always = {"num_beams": 1, "max_new_tokens": s.max_tokens, "min_new_tokens": 0, "no_repeat_ngram_size": 0,
              "repetition_penalty": getattr(s, "repeat_penalty", 1.0), "eos_token_id": base.eos_token_id,
              "bos_token_id": base.bos_token_id, "pad_token_id": base.pad_token_id}
    if s.temperature == 0:
        return GenerationConfig(do_sample=False, **always)
    return GenerationConfig(do_sample=True, temperature=s.temperature, top_p=s.top_p, top_k=getattr(s, "top_k", 0),
                            min_p=getattr(s, "min_p", 0.0) or None, typical_p=getattr(s, "typical_p", 1.0), **always)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return (text.splitlines() or [type(e).__name__])[0][:300]


class _StopCancelled(StoppingCriteria):
    """Ends each row whose caller gave up (a timeout): checked between tokens."""

    def __init__(self, batch: list[Request]):
        self.batch = batch

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kw: Any) -> torch.BoolTensor:
        return torch.tensor([r.cancel.is_set() for r in self.batch], device=input_ids.device)


def generate(p: Prepared, model: Any, batch: list[Request]) -> list[Generation]:
    """One ``generate`` over ``batch`` (requests with equal settings and media layout), left-padded."""
    from .inputs import model_inputs

    inputs = model_inputs(p, batch).to(model.device)
    if p.vision:  # pixels in the weights' dtype (bfloat16 on a GPU): not every model casts them itself
        inputs = inputs.to(model.dtype)
    config = generation_config(model, batch[0].settings)
    torch.manual_seed(batch[0].settings.seed)
    with torch.inference_mode():
        out = model.generate(**inputs, generation_config=config,
                             stopping_criteria=StoppingCriteriaList([_StopCancelled(batch)]))
    width = inputs["input_ids"].shape[1]
    prompt_tokens = inputs["attention_mask"].sum(dim=1).tolist()
    eos = _ids(config.eos_token_id)
    served = Path(p.source).name if Path(p.source).is_dir() else p.source
    results = []
    for row, req in enumerate(batch):
        new = out[row, width:].tolist()
        n, finish = len(new), "length"
        for i, t in enumerate(new):
            if t in eos:
                n, finish = i + 1, "stop"
                break
            if t == config.pad_token_id:  # a row stopped early (cancelled) is padded to the batch's end
                n = i
                break
        if req.cancel.is_set():
            finish = "cancelled"
        text = p.tokenizer.decode(new[:n], skip_special_tokens=True)
        results.append(Generation(text=text, served_model=served, prompt_tokens=int(prompt_tokens[row]),
                                  completion_tokens=n, finish_reason=finish))
    return results


def _ids(value: int | list[int] | None) -> set[int]:
    if value is None:
        return set()
    return {value} if isinstance(value, int) else set(value)


__all__ = ["Prepared", "Request", "generate", "generation_config", "load", "prepare"]
