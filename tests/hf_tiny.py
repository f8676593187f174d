"""Tiny random-weight Hugging Face models, built from their configs in a folder.

No weights can be downloaded here, so the hf/ backend's tests build their own:
a tokenizer trained on the spot with ``tokenizers``, default image processors at
a 32-56 px scale, 1-2 layers of width 32-64. The answers are noise, but every
tensor path (chat template, processor, vision tower, generate) is the real one.
Each builder writes a folder that ``from_pretrained`` loads like a hub model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hf_torchvision_shim  # noqa: F401 -- before transformers: see its docstring

CORPUS = [
    "What colour is the rectangle in the picture?", "The rectangle is red.", "A video of a moving square.",
    "Answer with one word.", "Which way does the ball move? Left, right, up or down.", "The answer is 42.",
    "Describe the image in one sentence.", "Count the objects and say the number.", "yes no maybe",
]

def chat_template(turn: str, end: str, generation: str, image: str = "", video: str = "") -> str:
    """A chat template for content given as a string or a list of {"type": "text"|"image"|"video"}
    parts. ``turn`` is a Jinja expression opening a turn (it may use ``m['role']``); ``end``,
    ``generation`` and the media placeholders are literal text, as each family writes them."""
    def lit(s: str) -> str:
        return "{{ " + repr(s) + " }}"

    return (
        "{%- for m in messages -%}{{ " + turn + " }}"
        "{%- if m['content'] is string -%}{{ m['content'] }}{%- else -%}{%- for p in m['content'] -%}"
        "{%- if p['type'] == 'image' -%}" + lit(image) + "{%- elif p['type'] == 'video' -%}" + lit(video) +
        "{%- else -%}{{ p['text'] }}{%- endif -%}{%- endfor -%}{%- endif -%}" + lit(end) +
        "{%- endfor -%}{%- if add_generation_prompt -%}" + lit(generation) + "{%- endif -%}"
    )


CHATML = chat_template("'<|im_start|>' + m['role'] + '\\n'", "<|im_end|>\n", "<|im_start|>assistant\n")


def tokenizer(special: list[str], template: str, eos: str) -> Any:
    """A byte-level BPE trained on ``CORPUS`` with ``special`` tokens, as a
    ``PreTrainedTokenizerFast`` (what ``AutoTokenizer`` reloads)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", *special],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos, pad_token="<pad>", bos_token=None)
    fast.chat_template = template
    return fast


def _text_config(tok: Any, **kw: Any) -> dict[str, Any]:
    return {"vocab_size": len(tok), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 2048,
            "eos_token_id": tok.eos_token_id, "pad_token_id": tok.pad_token_id, "bos_token_id": None,
            "tie_word_embeddings": False, **kw}


def _seeded() -> None:
    import torch

    torch.manual_seed(0)


def build_llama(out: Path) -> Path:
    """A text-only Llama with a ChatML-like template."""
    from transformers import LlamaConfig, LlamaForCausalLM

    _seeded()
    tok = tokenizer(["<|im_start|>", "<|im_end|>"], CHATML, "<|im_end|>")
    model = LlamaForCausalLM(LlamaConfig(**_text_config(tok)))
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def build_llava(out: Path) -> Path:
    """LLaVA-1.5 in miniature: a CLIP vision tower (32 px, 8 px patches: 16 image tokens) and a Llama."""
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    _seeded()
    tmpl = chat_template("m['role'].upper() + ': '", "\n", "ASSISTANT:", image="<image>\n")
    tok = tokenizer(["<image>", "</s>"], tmpl, "</s>")
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=32)
    cfg = LlavaConfig(vision_config=vision, text_config=LlamaConfig(**_text_config(tok)),
                      image_token_id=tok.convert_tokens_to_ids("<image>"), vision_feature_layer=-1,
                      vision_feature_select_strategy="default")
    model = LlavaForConditionalGeneration(cfg)
    model.generation_config.pad_token_id = tok.pad_token_id
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    proc = LlavaProcessor(image_processor=images, tokenizer=tok, patch_size=8, num_additional_image_tokens=1,
                          vision_feature_select_strategy="default", chat_template=tmpl)
    model.save_pretrained(out)
    proc.save_pretrained(out)
    return out


def build_qwen2_vl(out: Path) -> Path:
    """Qwen2-VL in miniature: native video through its video processor (56 px frames, 14 px
    patches merged 2x2: 4 tokens per image, 4 per pair of frames)."""
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    _seeded()
    tmpl = chat_template("'<|im_start|>' + m['role'] + '\\n'", "<|im_end|>\n", "<|im_start|>assistant\n",
                         image="<|vision_start|><|image_pad|><|vision_end|>",
                         video="<|vision_start|><|video_pad|><|vision_end|>")
    tok = tokenizer(["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                     "<|video_pad|>"], tmpl, "<|im_end|>")
    text = _text_config(tok, rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3],
                                              "rope_theta": 10000.0})
    vision = {"depth": 1, "embed_dim": 32, "hidden_size": 64, "num_heads": 4, "patch_size": 14,
              "spatial_merge_size": 2, "temporal_patch_size": 2}
    ids = {k: tok.convert_tokens_to_ids(t) for k, t in [("image_token_id", "<|image_pad|>"),
           ("video_token_id", "<|video_pad|>"), ("vision_start_token_id", "<|vision_start|>"),
           ("vision_end_token_id", "<|vision_end|>")]}
    model = Qwen2VLForConditionalGeneration(Qwen2VLConfig(text_config=text, vision_config=vision, **ids))
    model.generation_config.pad_token_id = tok.pad_token_id
    size = {"shortest_edge": 56 * 56, "longest_edge": 56 * 56}
    proc = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(size=size),
                            video_processor=Qwen2VLVideoProcessor(size=size), tokenizer=tok, chat_template=tmpl)
    model.save_pretrained(out)
    proc.save_pretrained(out)
    return out


def build_idefics3(out: Path) -> Path:
    """Idefics3 (SmolVLM's family) in miniature: 32 px images, no splitting, 4 tokens per image."""
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3ImageProcessor, Idefics3Processor

    _seeded()
    tmpl = chat_template("m['role'] | capitalize + ':'", "<end_of_utterance>\n", "Assistant:", image="<image>")
    tok = tokenizer(["<image>", "<fake_token_around_image>", "<global-img>", "<end_of_utterance>"], tmpl,
                    "<end_of_utterance>")
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
              "image_size": 32, "patch_size": 8}
    cfg = Idefics3Config(vision_config=vision, text_config=_text_config(tok), scale_factor=2,
                         image_token_id=tok.convert_tokens_to_ids("<image>"), pad_token_id=tok.pad_token_id)
    model = Idefics3ForConditionalGeneration(cfg)
    model.generation_config.pad_token_id = tok.pad_token_id
    images = Idefics3ImageProcessor(do_image_splitting=False, size={"longest_edge": 32},
                                    max_image_size={"longest_edge": 32})
    proc = Idefics3Processor(image_processor=images, tokenizer=tok, image_seq_len=4, chat_template=tmpl)
    model.save_pretrained(out)
    proc.save_pretrained(out)
    return out


def build_lora(base: Path, out: Path) -> Path:
    """A LoRA over the tiny Llama's attention, its B matrices perturbed: LoRA starts
    with B at zero (an adapter that changes nothing), which would hide a backend that
    ignores the adapter."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    _seeded()
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.5)
    model.save_pretrained(out)
    return out
