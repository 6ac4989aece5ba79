#!/usr/bin/python3
"""Train a small CNN on sklearn's 8x8 digits and export it to ONNX (opset 17).

Reproducible: fixed seeds, deterministic algorithms, CPU, single thread.
Run from the repo root:  /usr/bin/python3 Samples/DigitRecognizer/model/train_digits.py
Outputs are written next to this script.
"""
import inspect
import json
import os
import random

import numpy as np
import onnx
import sklearn
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
EPOCHS = 60
BATCH = 64
LR = 1e-3
N_CALIB = 200
OUT_DIR = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- determinism
os.environ.setdefault("PYTHONHASHSEED", str(SEED))
random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),                                   # 8x8 -> 4x4
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),                           # -> GlobalAveragePool
            nn.Flatten(),                                      # 32
            nn.Linear(32, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run_onnx_numpy(model, x):
    """Tiny NumPy interpreter for the ops this exporter emits (onnx 1.12 has
    no onnx.reference and onnxruntime is not installed). Used only to verify
    that the exported graph reproduces the torch logits."""
    from onnx import numpy_helper
    env = {t.name: numpy_helper.to_array(t).astype(np.float64)
           for t in model.graph.initializer}
    env[model.graph.input[0].name] = x.astype(np.float64)
    for n in model.graph.node:
        a, i = _attrs(n), [env[k] for k in n.input if k]
        if n.op_type == "Conv":
            xx, w = i[0], i[1]
            pads = a.get("pads", [0, 0, 0, 0])
            assert a.get("group", 1) == 1 and list(a.get("strides", [1, 1])) == [1, 1]
            xp = np.pad(xx, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
            kh, kw = w.shape[2:]
            oh, ow = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
            y = np.zeros((xx.shape[0], w.shape[0], oh, ow))
            for dy in range(kh):
                for dx in range(kw):
                    y += np.einsum("nchw,oc->nohw",
                                   xp[:, :, dy:dy + oh, dx:dx + ow], w[:, :, dy, dx])
            if len(i) > 2:
                y += i[2].reshape(1, -1, 1, 1)
        elif n.op_type == "BatchNormalization":
            xx, sc, b, mu, var = i
            r = lambda v: v.reshape(1, -1, 1, 1)
            y = (xx - r(mu)) / np.sqrt(r(var) + a.get("epsilon", 1e-5)) * r(sc) + r(b)
        elif n.op_type == "Relu":
            y = np.maximum(i[0], 0)
        elif n.op_type == "MaxPool":
            k, st = a["kernel_shape"], a.get("strides", a["kernel_shape"])
            assert k == st == [2, 2] and not any(a.get("pads", [0]))
            nn_, c, h, w = i[0].shape
            y = i[0].reshape(nn_, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        elif n.op_type == "GlobalAveragePool":
            y = i[0].mean(axis=(2, 3), keepdims=True)
        elif n.op_type == "Flatten":
            y = i[0].reshape(i[0].shape[0], -1)
        elif n.op_type == "Gemm":
            A, B = i[0], i[1]
            if a.get("transA", 0): A = A.T
            if a.get("transB", 0): B = B.T
            y = a.get("alpha", 1.0) * A @ B
            if len(i) > 2:
                y = y + a.get("beta", 1.0) * i[2]
        else:
            raise NotImplementedError(n.op_type)
        env[n.output[0]] = y
    return env[model.graph.output[0].name]


def save_npy(name, arr):
    # np.save writes format 1.0 for these small arrays; force LE + C order.
    arr = np.ascontiguousarray(arr)
    arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    with open(os.path.join(OUT_DIR, name), "wb") as f:
        np.lib.format.write_array(f, arr, version=(1, 0), allow_pickle=False)


def main():
    # ------------------------------------------------------------------- data
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=0.25, random_state=SEED, stratify=y)
    rng = np.random.RandomState(SEED)
    calib_idx = np.sort(rng.choice(len(x_tr), N_CALIB, replace=False))
    x_calib = x_tr[calib_idx]

    # ------------------------------------------------------------------ train
    model = DigitNet()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        if epoch % 5 == 4 or epoch == EPOCHS - 1:
            print(f"epoch {epoch + 1:2d}  loss {total / len(xt):.4f}")

    # --------------------------------------------------------------- evaluate
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x_te)).argmax(1).numpy()
    acc = float((pred == y_te).mean())
    n_params = sum(p.numel() for p in model.parameters())
    print(f"test accuracy {acc:.4f} on {len(y_te)} samples, {n_params} params")

    # ----------------------------------------------------------------- export
    onnx_path = os.path.join(OUT_DIR, "digits.onnx")
    kwargs = dict(opset_version=17, input_names=["image"],
                  output_names=["logits"], do_constant_folding=False,
                  # PRESERVE + model.eval(): exports inference-mode graph but
                  # skips the eval peephole pass that would fuse BN into Conv.
                  # We want BatchNormalization nodes kept (compiler folds them).
                  # (Nothing to constant-fold here; False avoids a spurious
                  # warning that torch emits for PRESERVE.)
                  training=torch.onnx.TrainingMode.PRESERVE)
    model.eval()
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False          # classic TorchScript exporter
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), onnx_path, **kwargs)

    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    ops = sorted({n.op_type for n in m.graph.node})
    print("onnx ops:", ", ".join(ops))

    def dims(vi):
        return [d.dim_value for d in vi.type.tensor_type.shape.dim]
    assert [i.name for i in m.graph.input] == ["image"], m.graph.input
    assert [o.name for o in m.graph.output] == ["logits"], m.graph.output
    assert dims(m.graph.input[0]) == [1, 1, 8, 8]
    assert dims(m.graph.output[0]) == [1, 10]
    assert "BatchNormalization" in ops, "BN was fused by the exporter"

    # Verify exported graph against torch (batch-1 model, run per sample).
    with torch.no_grad():
        ref = model(torch.from_numpy(x_te)).numpy()
    onnx_logits = np.concatenate(
        [run_onnx_numpy(m, x_te[k:k + 1]) for k in range(len(x_te))])
    max_diff = float(np.abs(onnx_logits - ref).max())
    onnx_acc = float((onnx_logits.argmax(1) == y_te).mean())
    print(f"onnx (numpy ref) accuracy {onnx_acc:.4f}, max |diff| vs torch {max_diff:.2e}")
    assert max_diff < 1e-3 and onnx_acc == acc

    # ------------------------------------------------------------ test data
    save_npy("digits_test_x.npy", x_te.astype(np.float32))
    save_npy("digits_test_y.npy", y_te.astype(np.int64))
    save_npy("digits_calib_x.npy", x_calib.astype(np.float32))

    metrics = {
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "opset": 17,
        "float_test_accuracy": round(acc, 6),
        "num_test_samples": int(len(y_te)),
        "num_train_samples": int(len(y_tr)),
        "num_calib_samples": int(len(x_calib)),
        "param_count": int(n_params),
        "onnx_op_types": ops,
        "onnx_numpy_ref_test_accuracy": round(onnx_acc, 6),
        "onnx_vs_torch_max_abs_diff": float(f"{max_diff:.3e}"),
        "seed": SEED,
        "epochs": EPOCHS,
    }
    with open(os.path.join(OUT_DIR, "digits_metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(metrics, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
