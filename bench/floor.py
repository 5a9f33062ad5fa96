"""The floor of a cold command: start Python, import fastembed and duckdb, load the model,
embed one text, open the store. A cold `memcli recall` or `memcli add` cannot be faster.
With --embed-file it embeds every text of a JSON Lines file instead and opens no store: the
raw fastembed throughput that `memcli import` is compared with.

    python bench/floor.py MODEL_DIR DIM POOLING STORE TEXT
    python bench/floor.py MODEL_DIR DIM POOLING --embed-file FILE.jsonl
"""

from __future__ import annotations

import json
import sys

import duckdb
from fastembed import TextEmbedding
from fastembed.common.model_description import ModelSource, PoolingType

folder, dim, pooling, *rest = sys.argv[1:]
NAME = "bench-floor/model"
TextEmbedding.add_custom_model(
    model=NAME,
    pooling=PoolingType.MEAN if pooling == "mean" else PoolingType.CLS,
    normalization=True,
    sources=ModelSource(hf=NAME),
    dim=int(dim),
    model_file="model.onnx",
)
model = TextEmbedding(NAME, specific_model_path=folder)
if rest[0] == "--embed-file":
    with open(rest[1], encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    print(sum(1 for _ in model.embed(texts)))
else:
    vector = next(iter(model.embed([rest[1]])))
    con = duckdb.connect(rest[0], read_only=True)
    con.close()
    print(float(vector[0]))
