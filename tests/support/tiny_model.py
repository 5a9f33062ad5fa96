"""A tiny, deterministic, offline embedding model for the test suite.

`build_tiny_model(folder)` writes a complete fastembed-loadable model directory: a one-node ONNX
graph (`last_hidden_state = Gather(embedding_table, input_ids)`) plus a BERT-style WordPiece
tokenizer and the config files that `fastembed.common.preprocessor_utils.load_tokenizer` reads.
memcli loads it through fastembed's real custom-model path::

    TextEmbedding.add_custom_model(model=TINY_MODEL_NAME, pooling=PoolingType.MEAN,
        normalization=True, sources=ModelSource(hf=TINY_MODEL_NAME), dim=TINY_DIM,
        model_file="model.onnx")
    TextEmbedding(TINY_MODEL_NAME, specific_model_path=str(folder))

(`register_tiny_model()` does the registration and tolerates an earlier one.)

Semantics, so tests can reason about recall:

* every vocabulary row is an independent standard normal vector (seed 0), so unrelated words
  are nearly orthogonal;
* the words of each group in `SYNONYM_GROUPS` share one base row (plus 2% noise), so
  paraphrases such as "my car broke down" / "my automobile broke down" get close mean-pooled
  vectors with no lexical overlap on the swapped word;
* `STOPWORDS` rows are scaled by 0.2 (a crude IDF), so function words don't dominate;
* `[PAD]`, `[CLS]`, `[SEP]`, `[MASK]` and punctuation rows are scaled by 0.01, so the special
  tokens fastembed includes in the mean don't pull every sentence together;
* any ASCII word tokenizes without `[UNK]`: single letters/digits and their `##` continuation
  pieces are in the vocabulary (unknown words thus embed like a bag of letters). Non-ASCII
  characters that survive accent stripping (e.g. CJK, emoji) become `[UNK]`.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

TINY_MODEL_NAME = "memcli-test/tiny-bow"
TINY_DIM = 32
MAX_LENGTH = 512
SEED = 0

SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD_ID = 0

SYNONYM_GROUPS: list[tuple[str, ...]] = [
    ("car", "automobile", "vehicle"),
    ("doctor", "physician"),
    ("dog", "puppy"),
    ("cat", "kitten"),
    ("plane", "flight", "airport"),
    ("medicine", "pill"),
    ("dentist", "teeth"),
    ("birthday", "anniversary"),
    ("password", "passphrase", "credentials"),
    ("wifi", "router"),
]

# Function words: kept in the vocabulary but with rows scaled down (see module docstring).
_STOPWORDS_TEXT = """
a an the and or but if of to in on at by for with from into onto about as is are was were
be been being am do does did has have had i me my mine we us our you your he him his she
her it its they them their this that these those there here not no so than then too very
can will would should could may might must shall just also up down out off over under again
what which who whom whose when where why how all any each some
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORDS_TEXT.split())

_CONTENT_WORDS = """
server database port password passphrase credentials staging production dentist teeth
appointment birthday anniversary mother father sister brother son daughter wife husband family
friend car automobile vehicle doctor physician nurse hospital clinic meeting flight airport
plane hotel wifi router phone number address street city key keys backup disk deploy release
bug error ssl dog puppy cat kitten coffee tea restaurant dinner lunch breakfast medicine pill
allergy peanut
note notes remember reminder todo task project work office home house apartment rent bill
bills bank account card credit money pay paid price cost budget tax taxes insurance
email mail message call text chat slack team manager boss colleague client customer
monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday tonight
morning afternoon evening night week weekend month year day time date hour minute
january february march april may june july august september october november december
school university class exam homework book books read library movie music song concert
game party gift present wedding holiday vacation trip travel train bus taxi ticket
passport visa luggage station gate seat
food pizza pasta bread milk cheese egg eggs fruit apple banana water wine beer juice
grocery groceries shop shopping store market buy bought sell kitchen recipe cook
gym run running walk walking bike exercise health sick cold fever headache pain sleep
prescription pharmacy vitamin blood pressure test results
computer laptop screen keyboard mouse printer network internet connection cable
linux windows mac ubuntu docker kubernetes cluster container image build config file
folder directory path log logs code repo branch commit merge review test tests api
token secret user username login admin root ssh certificate domain dns host hostname
ip url link website web cloud aws storage memory cpu cache queue job cron script
python java javascript rust go sql postgres mysql redis nginx apache version update
upgrade install fix fixed crash broke broken down slow fast timeout latency outage
incident alert monitor dashboard metric
red blue green black white yellow big small new old good bad best first last next
open close closed start stop begin end lost found need want like love hate
buy get got make made take took give gave go went come came see saw know think
remember forget forgot ask asked tell told say said use used try tried keep
name birthday gift garden plant plants tree flower flowers window door lock garage
parking park
neighbor neighbour baby kid kids child children teacher school
weather rain snow sun hot warm
"""

PUNCTUATION: tuple[str, ...] = tuple(string.punctuation)
LETTERS: tuple[str, ...] = tuple(string.ascii_lowercase)
DIGITS: tuple[str, ...] = tuple(string.digits)

_SYNONYM_NOISE = 0.02
_STOPWORD_SCALE = 0.2
_SPECIAL_SCALE = 0.01


def _dedupe(tokens: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for token in tokens:
        if token not in seen:
            seen.add(token)
            out.append(token)
    return out


def _build_vocab() -> list[str]:
    words = list(_CONTENT_WORDS.split())
    words += sorted(STOPWORDS)
    words += [word for group in SYNONYM_GROUPS for word in group]
    pieces = [*LETTERS, *DIGITS, *(f"##{c}" for c in (*LETTERS, *DIGITS)), *PUNCTUATION]
    return _dedupe([*SPECIAL_TOKENS, *words, *pieces])


VOCAB: list[str] = _build_vocab()


def _embedding_table(vocab: list[str]) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    table = rng.standard_normal((len(vocab), TINY_DIM))
    index = {token: i for i, token in enumerate(vocab)}
    for group in SYNONYM_GROUPS:
        base = rng.standard_normal(TINY_DIM)
        for word in group:
            table[index[word]] = base + _SYNONYM_NOISE * rng.standard_normal(TINY_DIM)
    for word in STOPWORDS:
        table[index[word]] *= _STOPWORD_SCALE
    for token in (*SPECIAL_TOKENS, *PUNCTUATION):
        if token != "[UNK]":
            table[index[token]] *= _SPECIAL_SCALE
    return table.astype(np.float32)


def _onnx_model(table: np.ndarray) -> onnx.ModelProto:
    axes = ["batch", "seq"]
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, axes)
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    # attention_mask and token_type_ids are unused: onnxruntime keeps unused graph inputs and
    # fastembed feeds them whenever the session lists them, as for a real BERT export.
    output = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, [*axes, TINY_DIM]
    )
    gather = helper.make_node(
        "Gather", ["embedding_table", "input_ids"], ["last_hidden_state"], axis=0
    )
    graph = helper.make_graph(
        [gather],
        "tiny_bow",
        inputs,
        [output],
        initializer=[numpy_helper.from_array(table, "embedding_table")],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17)],
        ir_version=8,
        producer_name="memcli-tests",
    )
    onnx.checker.check_model(model)
    return model


def _tokenizer(vocab: list[str]) -> Tokenizer:
    tokenizer = Tokenizer(
        WordPiece(
            {token: i for i, token in enumerate(vocab)},
            unk_token="[UNK]",
            max_input_chars_per_word=100,
        )
    )
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = vocab.index("[CLS]"), vocab.index("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
    tokenizer.enable_padding(pad_id=PAD_ID, pad_token="[PAD]")
    return tokenizer


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build_tiny_model(folder: Path) -> Path:
    """Write the tiny model's files into `folder` (created if needed) and return `folder`.

    Files: model.onnx, tokenizer.json, config.json, tokenizer_config.json,
    special_tokens_map.json, vocab.txt. Output is byte-identical on every call.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = VOCAB

    model = _onnx_model(_embedding_table(vocab))
    (folder / "model.onnx").write_bytes(model.SerializeToString(deterministic=True))

    # Re-dumped through json so the file layout does not depend on the tokenizers version's
    # pretty-printer; the key order is the one tokenizers emits (vocab ordered by id).
    tokenizer_json = json.loads(_tokenizer(vocab).to_str())
    _write_json(folder / "tokenizer.json", tokenizer_json)

    (folder / "vocab.txt").write_text("".join(f"{t}\n" for t in vocab), encoding="utf-8")
    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": TINY_DIM,
            "num_hidden_layers": 0,
            "num_attention_heads": 1,
            "intermediate_size": TINY_DIM,
            "max_position_embeddings": MAX_LENGTH,
            "type_vocab_size": 2,
            "vocab_size": len(vocab),
            "pad_token_id": PAD_ID,
        },
    )
    special_tokens_map = {
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "BertTokenizer",
            "do_lower_case": True,
            "strip_accents": None,
            "tokenize_chinese_chars": True,
            "model_max_length": MAX_LENGTH,
            "padding_side": "right",
            "truncation_side": "right",
            **special_tokens_map,
        },
    )
    _write_json(folder / "special_tokens_map.json", special_tokens_map)
    return folder


def register_tiny_model() -> None:
    """Register `TINY_MODEL_NAME` as a fastembed custom model, once per process.

    Mirrors how memcli registers it; an existing registration (by memcli or an earlier
    call) is left as it is.
    """
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    registered = {m["model"].lower() for m in TextEmbedding.list_supported_models()}
    if TINY_MODEL_NAME.lower() in registered:
        return
    TextEmbedding.add_custom_model(
        model=TINY_MODEL_NAME,
        pooling=PoolingType.MEAN,
        normalization=True,
        sources=ModelSource(hf=TINY_MODEL_NAME),
        dim=TINY_DIM,
        model_file="model.onnx",
    )
