"""Train one of the kit's networks on Fashion-MNIST (or MNIST) and report test accuracy.

    python -m minigrad.examples.train --model mlp --epochs 5
    python -m minigrad.examples.train --model convnet --kernels exercises --epochs 12

Every epoch shows a tqdm progress bar and prints the test accuracy; the run
directory gets the final weights (``weights.npz``, no pickle), a learning curve
(``history.csv``, and ``history.png`` when matplotlib is installed), ``result.json`` and, for
convolutional networks, the first layer's learned filters (``filters.png``) and the feature maps of one
test image (``feature_maps.png``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import minigrad
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset, load_fashion_mnist, load_mnist

DATASETS = {"fashion-mnist": load_fashion_mnist, "mnist": load_mnist}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from minigrad.models import MODELS

    p = argparse.ArgumentParser(prog="python -m minigrad.examples.train", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="mlp", choices=sorted(MODELS), help="network to train (default: mlp)")
    p.add_argument("--dataset", default="fashion-mnist", choices=sorted(DATASETS))
    p.add_argument("--data", default=None, help="directory holding the *-idx?-ubyte.gz files")
    p.add_argument("--kernels", default=None,
                   help="kernel source: solutions or exercises (default: $MINIGRAD_KERNELS, else solutions)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--optimizer", default="adam", choices=["adam", "adamw", "sgd"])
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: 1e-3 Adam, 0.05 SGD)")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--schedule", default="cosine", choices=["none", "cosine", "step", "plateau"])
    p.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    p.add_argument("--device", default=None, help="cpu or cuda (default: minigrad's default device)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/latest", help="directory for weights and the learning curve")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.limit is not None and args.limit < 1:
        p.error("--limit must be a positive integer")
    return args


def make_optimizer(args: argparse.Namespace, params: list[Any]) -> optim.Optimizer:
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr or 0.05, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    cls = optim.AdamW if args.optimizer == "adamw" else optim.Adam
    return cls(params, lr=args.lr or 1e-3, weight_decay=args.weight_decay)


def make_scheduler(args: argparse.Namespace, opt: optim.Optimizer) -> Any:
    if args.schedule == "cosine":
        return optim.CosineAnnealingLR(opt, T_max=args.epochs)
    if args.schedule == "step":
        return optim.StepLR(opt, step_size=max(1, args.epochs // 3))
    if args.schedule == "plateau":
        return optim.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=2)
    return None


@minigrad.no_grad()
def evaluate(model: nn.Module, loader: DataLoader) -> float:
    """Fraction of correctly classified images."""
    model.eval()
    correct = total = 0
    for x, y in loader:
        predicted = model(x).argmax(axis=1)
        correct += int((predicted == y).data.sum())
        total += y.shape[0]
    model.train()
    return correct / total


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole training; returns the summary written to ``result.json``."""
    from minigrad.models import get_model

    if args.kernels:
        minigrad.use_kernels(args.kernels)
    if args.device:
        minigrad.set_default_device(args.device)
    minigrad.manual_seed(args.seed)
    load = DATASETS[args.dataset]
    x_train, y_train = load(args.data, "train", progress=not args.no_progress)
    x_test, y_test = load(args.data, "test", progress=not args.no_progress)
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    train_loader = DataLoader(TensorDataset(x_train, y_train), args.batch_size, shuffle=True, seed=args.seed)
    test_loader = DataLoader(TensorDataset(x_test, y_test), 500)

    model = get_model(args.model)
    loss_fn = nn.CrossEntropyLoss()
    opt = make_optimizer(args, list(model.parameters()))
    scheduler = make_scheduler(args, opt)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"{args.model}: {model.num_parameters():,} parameters, kernels from '{minigrad.active_kernels()}', "
          f"{len(x_train):,} training images", flush=True)

    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        running, seen = 0.0, 0
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{args.epochs}", leave=False, disable=args.no_progress,
                   file=sys.stdout)
        for x, y in bar:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            running += loss.item() * y.shape[0]
            seen += y.shape[0]
            bar.set_postfix(loss=f"{running / seen:.4f}")
        epoch_time = time.perf_counter() - start
        accuracy = evaluate(model, test_loader)
        lr = opt.param_groups[0]["lr"]
        if isinstance(scheduler, optim.ReduceLROnPlateau):
            scheduler.step(accuracy)
        elif scheduler is not None:
            scheduler.step()
        history.append({"epoch": epoch, "train_loss": running / seen, "test_accuracy": accuracy,
                        "lr": lr, "epoch_seconds": epoch_time})
        print(f"epoch {epoch:3d}  loss {running / seen:.4f}  test accuracy {accuracy:.4f}  "
              f"({epoch_time:.1f} s)", flush=True)

    minigrad.serialization.save(model, out / "weights.npz")
    write_history(history, out)
    write_figures(model, x_test[0], out)
    result = {"model": args.model, "dataset": args.dataset, "kernels": minigrad.active_kernels(),
              "epochs": args.epochs, "final_test_accuracy": history[-1]["test_accuracy"],
              "best_test_accuracy": max(h["test_accuracy"] for h in history),
              "mean_epoch_seconds": float(np.mean([h["epoch_seconds"] for h in history])),
              "parameters": model.num_parameters(), "history": history}
    (out / "result.json").write_text(json.dumps(result, indent=2))
    return result


def write_history(history: list[dict[str, Any]], out: Path) -> None:
    """history.csv always; history.png when matplotlib is installed."""
    with open(out / "history.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ax[0].plot(epochs, [h["train_loss"] for h in history], marker="o")
    ax[0].set(xlabel="epoch", ylabel="training loss")
    ax[1].plot(epochs, [h["test_accuracy"] for h in history], marker="o")
    ax[1].set(xlabel="epoch", ylabel="test accuracy")
    fig.tight_layout()
    fig.savefig(out / "history.png", dpi=100)
    plt.close(fig)


def write_figures(model: nn.Module, image: np.ndarray, out: Path) -> None:
    """For a network with convolutions: the first layer's learned filters and one image's feature maps."""
    from minigrad.filters import feature_maps_png, filters_png

    first_conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if first_conv is None:
        return
    filters_png(first_conv.weight.numpy(), out / "filters.png")
    feature_maps_png(model, image, out / "feature_maps.png")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = train(args)
    except (minigrad.data.DatasetError, minigrad.kernels.KernelError, minigrad.DeviceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except NotImplementedError as err:
        print(f"error: a kernel of '{minigrad.active_kernels()}' is not implemented yet ({err}); "
              "finish it, or train with --kernels solutions", file=sys.stderr)
        return 2
    print(f"final test accuracy {result['final_test_accuracy']:.4f} "
          f"(best {result['best_test_accuracy']:.4f}); weights and curve in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
