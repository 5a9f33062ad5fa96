"""The floor of a cold recall: start Python, import fastembed and duckdb, load the model,
embed one query, open the store. memcli cannot be faster than this.

    python bench/floor.py STORE QUERY      (model folder from MEMCLI_MODEL_PATH)
"""

from __future__ import annotations

import os
import sys

import duckdb
from fastembed import TextEmbedding
from fastembed.common.model_description import ModelSource, PoolingType

NAME = "bench-floor/all-MiniLM-L6-v2"
TextEmbedding.add_custom_model(
    model=NAME,
    pooling=PoolingType.MEAN,
    normalization=True,
    sources=ModelSource(hf=NAME),
    dim=384,
    model_file="model.onnx",
)
model = TextEmbedding(NAME, specific_model_path=os.environ["MEMCLI_MODEL_PATH"])
vector = next(iter(model.embed([sys.argv[2]])))
con = duckdb.connect(sys.argv[1], read_only=True)
con.close()
print(float(vector[0]))
