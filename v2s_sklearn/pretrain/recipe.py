"""The ``v2s pretrain`` recipe: corpus (synthesized or real GSC) -> trained checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..acoustic.architectures import ARCHITECTURES
from .corpus import Corpus, load_gsc_folder
from .train import TrainConfig, model_config_of, train_acoustic_model


def _positive_int(text: str) -> int:
    values = _int_list(text)
    if len(values) != 1:
        raise argparse.ArgumentTypeError(f"expected one positive integer, got {text!r}")
    return values[0]


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", default="artifacts/pretrain/v2sa_synth.pt",
                        help="where to write the checkpoint (default: %(default)s)")
    parser.add_argument("--corpus-dir", default="corpus/synth",
                        help="synthesized corpus cache; reused when it exists")
    parser.add_argument("--gsc-dir", default=None,
                        help="train on a real Speech Commands v2 folder instead "
                             "(WORD/SPEAKER_nohash_N.wav; nothing is downloaded)")
    parser.add_argument("--espeak-clips", type=int, default=1,
                        help="clips per espeak-ng voice (accent x variant) and word, for "
                             "training speakers; held-out speakers get a fixed count "
                             "(synthesize.HELD_OUT_CLIPS)")
    parser.add_argument("--flite-clips", type=int, default=40,
                        help="clips per flite voice and word, for training speakers")
    parser.add_argument("--festival-clips", type=int, default=25,
                        help="clips per festival voice and word, for training speakers")
    parser.add_argument("--pico-clips", type=int, default=40,
                        help="clips per SVOX Pico voice and word (engine 'pico', "
                             "pip install ttspico), for training speakers")
    parser.add_argument("--words", default=None,
                        help="comma-separated subset of the 35 words (for smoke tests)")
    parser.add_argument("--max-espeak-variants", type=int, default=None,
                        help="use only the first N espeak-ng variants (smoke tests)")
    parser.add_argument("--engines", default="espeak-ng,flite,festival",
                        help="comma-separated: espeak-ng, flite, festival, pico")
    parser.add_argument("--architecture", default=TrainConfig.architecture,
                        choices=sorted(ARCHITECTURES),
                        help="network to train (v2s_sklearn.acoustic.architectures."
                             "ARCHITECTURES; default %(default)s, the V2Sa attention-RNN)")
    parser.add_argument("--n-mels", type=_positive_int, default=None,
                        help="mel bands of the front end (default: the architecture's, 80)")
    parser.add_argument("--channels", type=_int_list, default=None,
                        help="comma-separated channels of a TC-ResNet: the stem's, then one "
                             "per residual block, so 4 values for tcresnet8 and 7 for tcresnet "
                             "(default: width 1.5, 24,36,48,72 for tcresnet8)")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    parser.add_argument("--learning-rate", type=float, default=TrainConfig.learning_rate)
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--real-clips", default=None,
                        help="folder with val_audios.npy/val_cmds.npy to report accuracy on")
    parser.add_argument("--metrics", default=None, help="write metrics JSON here")


def build_corpus(args: argparse.Namespace) -> Corpus:
    if args.gsc_dir:
        return load_gsc_folder(Path(args.gsc_dir))
    folder = Path(args.corpus_dir)
    if (folder / "audio.npy").exists():
        print(f"reusing the corpus in {folder}")
        return Corpus.load(folder)
    from tqdm.auto import tqdm

    from .corpus import WORDS
    from .synthesize import espeak_variants, plan_jobs, synthesize_corpus

    engines = args.engines.split(",")
    variants = None
    if "espeak-ng" in engines:
        variants = espeak_variants()[: args.max_espeak_variants]
    jobs, split_of = plan_jobs(
        clips_per_espeak_voice=args.espeak_clips,
        clips_per_flite_voice=args.flite_clips,
        clips_per_festival_voice=args.festival_clips,
        clips_per_pico_voice=args.pico_clips,
        engines=engines, variants=variants,
        words=args.words.split(",") if args.words else WORDS, seed=args.seed)
    corpus = synthesize_corpus(jobs, split_of, progress=lambda it, total: tqdm(
        it, total=total, desc="synthesizing", mininterval=10))
    corpus.save(folder)
    return corpus


def run(args: argparse.Namespace) -> dict:
    config = TrainConfig(architecture=args.architecture, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.learning_rate, augment=not args.no_augment,
                         seed=args.seed, threads=args.threads, n_mels=args.n_mels,
                         channels=args.channels)
    model_config_of(config)  # refuse a size the network lacks before building the corpus
    corpus = build_corpus(args)
    metrics = train_acoustic_model(corpus, args.output, config, real_clips=args.real_clips)
    if args.metrics:
        Path(args.metrics).parent.mkdir(parents=True, exist_ok=True)
        Path(args.metrics).write_text(json.dumps(metrics, indent=2))
    return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="v2s pretrain", description=__doc__)
    add_arguments(parser)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
