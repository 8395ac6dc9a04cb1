"""Reads moescope's store exports with the Python tools researchers use, and reports what they saw.

Run by PythonReadersTest (activation-store) with an interpreter that has `datasets` and `pyarrow`:
    read_exports.py HF_TOKENS_DIR HF_SEQUENCES_DIR PARQUET_DIR NPY_DIR HOOK
Prints one JSON object; the Java test compares it with the store's own values. Nothing here checks values
itself: the point is that independent readers open the files and return the numbers the store holds.
"""
import json
import sys

import datasets
import numpy as np
import pyarrow
import pyarrow.parquet as pq


def hf_tokens(path, hook):
    ds = datasets.load_from_disk(path)
    features = {name: repr(f) for name, f in ds.features.items()}
    first = ds[0]
    # the format SAE pipelines use: torch or numpy tensors straight from the Arrow buffers
    block = ds.with_format("numpy")[0:5][hook]
    return {
        "rows": ds.num_rows,
        "columns": ds.column_names,
        "features": features,
        "first": {k: first[k] for k in ("doc_id", "domain", "token_id", "position")},
        "first_hook": [float(v) for v in first[hook]],
        "hook_block_shape": list(block.shape),
        "hook_block_sum": float(np.asarray(block, dtype=np.float64).sum()),
        "domains": sorted(set(ds["domain"])),
    }


def hf_sequences(path, hook):
    ds = datasets.load_from_disk(path)
    feature = ds.features[hook]
    window = ds.with_format("numpy")[0][hook]
    return {
        "rows": ds.num_rows,
        "feature_type": type(feature).__name__,
        "feature_shape": list(feature.shape),
        "feature_dtype": feature.dtype,
        "window_shape": list(window.shape),
        "window_first_row": [float(v) for v in window[0]],
        "token_ids_first": int(ds[0]["token_ids"][0]),
    }


def parquet(path, hook):
    table = pq.read_table(path)
    column = table.column(hook).combine_chunks()
    first = column[0].as_py()
    return {"rows": table.num_rows, "columns": table.column_names, "first_hook": first}


def npy(path, hook):
    a = np.load(f"{path}/{hook}.npy", mmap_mode="r")
    return {"shape": list(a.shape), "dtype": str(a.dtype), "first_hook": [float(v) for v in a[0]]}


def main():
    tokens_dir, seq_dir, parquet_dir, npy_dir, hook = sys.argv[1:6]
    out = {
        "versions": {"datasets": datasets.__version__, "pyarrow": pyarrow.__version__, "numpy": np.__version__},
        "hf_tokens": hf_tokens(tokens_dir, hook),
        "hf_sequences": hf_sequences(seq_dir, hook),
        "parquet": parquet(parquet_dir, hook),
        "npy": npy(npy_dir, hook),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
