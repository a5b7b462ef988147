"""Sample-quality metrics for generated audio, following the WaveGAN paper's protocol.

Inception score and FID use a digit classifier trained on real data (ganaudio.models.classifier:
softmax outputs and penultimate features); NDB/k (Richardson & Weiss 2018) and nearest-neighbour
distances work in whatever feature space the caller passes (classifier features or flattened
spectrograms). All inputs are numpy arrays; nothing here knows about torch.
"""

from __future__ import annotations

import numpy as np
from scipy.special import rel_entr
from scipy.stats import norm


def _array2d(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"metrics.audio: {name} has shape {x.shape}; pass a 2-D array (samples, dims)")
    if not np.isfinite(x).all():
        raise ValueError(f"metrics.audio: {name} holds NaN or inf; check the model outputs")
    return x


def inception_score(probs, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) per split of the samples; (mean, std) over splits.

    High when each sample is confidently one class (quality) and the classes are used evenly
    (diversity); it ranges from 1 to the number of classes. Rows are shuffled (seeded) before
    splitting: a set stored in class order, like a test split sorted by file name, would
    otherwise give one class per split and a score near 1.
    """
    probs = _array2d(probs, "probs")
    if (probs < 0).any() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("metrics.audio: probs rows must be probabilities summing to 1; "
                         "pass softmax(logits), not logits")
    if not 1 <= splits <= len(probs):
        raise ValueError(f"metrics.audio: {splits} splits for {len(probs)} samples; use 1..{len(probs)}")
    probs = probs[np.random.default_rng(seed).permutation(len(probs))]
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)  # (1, C)
        kl = rel_entr(part, marginal).sum(axis=1)  # (n,); 0 log 0 = 0
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def gaussian_stats(feats) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of features, for caching the real set's side of FID."""
    feats = _array2d(feats, "feats")
    if len(feats) < 2:
        raise ValueError("metrics.audio: FID needs at least 2 samples per set")
    return feats.mean(axis=0), np.cov(feats, rowvar=False).reshape(feats.shape[1], feats.shape[1])


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2) -> float:
    """|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)): the Fréchet distance of two Gaussians.

    tr((S1 S2)^(1/2)) is computed as the sum of the square roots of the eigenvalues of the
    symmetric S1^(1/2) S2 S1^(1/2), which has the same spectrum. Unlike scipy's general `sqrtm`
    of S1 S2, this stays exact and real when the covariances are singular or nearly so (fewer
    samples than dimensions, dead features): no LinAlgWarning and no eps fudge needed.
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"metrics.audio: feature sizes differ ({mu1.shape} vs {mu2.shape}); "
                         "use the same feature extractor for both sets")
    diff = mu1 - mu2
    root1 = _psd_sqrt(sigma1)
    inner = root1 @ sigma2 @ root1
    eig = np.linalg.eigvalsh((inner + inner.T) / 2)  # symmetrised against rounding
    trace_covmean = np.sqrt(np.clip(eig, 0.0, None)).sum()
    return float(max(0.0, diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_covmean))


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """The symmetric square root of a covariance; eigenvalues below 0 (rounding) count as 0."""
    w, v = np.linalg.eigh((sigma + sigma.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(feats_a, feats_b) -> float:
    """FID-style distance between two feature sets (N, D) and (M, D), each fitted by a Gaussian."""
    return frechet_distance_from_stats(*gaussian_stats(feats_a), *gaussian_stats(feats_b))


def ndb_k(train_feats, eval_feats, k: int, seed: int = 0, alpha: float = 0.05) -> tuple[int, float]:
    """Number of statistically different bins (Richardson & Weiss 2018): (NDB, NDB/k).

    Bins are k-means cells of the training samples. For each bin, a two-proportion z-test
    compares the share of training samples in it with the share of evaluated samples; a bin
    whose shares differ at level alpha counts. A generator that drops modes or piles into a few
    leaves many bins different; a held-out real set leaves about alpha * k by chance.
    """
    from sklearn.cluster import KMeans  # sklearn import is slow; only the eval stage pays it

    train = _array2d(train_feats, "train_feats")
    evaluated = _array2d(eval_feats, "eval_feats")
    if train.shape[1] != evaluated.shape[1]:
        raise ValueError(f"metrics.audio: feature sizes differ ({train.shape[1]} vs "
                         f"{evaluated.shape[1]}); use the same features for both sets")
    if not 2 <= k <= len(train):
        raise ValueError(f"metrics.audio: ndb k={k} for {len(train)} training samples; use 2..{len(train)}")
    kmeans = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(train)
    p = np.bincount(kmeans.labels_, minlength=k) / len(train)  # (k,)
    q = np.bincount(kmeans.predict(evaluated), minlength=k) / len(evaluated)
    n1, n2 = len(train), len(evaluated)
    pooled = (p * n1 + q * n2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (p - q) / se, 0.0)
    different = int((np.abs(z) > norm.ppf(1 - alpha / 2)).sum())
    return different, different / k


def nn_distances(generated, train) -> dict[str, float]:
    """Mean Euclidean distance from each generated sample to its nearest neighbour.

    `d_self`: to the nearest *other* generated sample (low: the generator repeats itself).
    `d_train`: to the nearest training sample (low relative to real-vs-train: memorisation).
    """
    from sklearn.neighbors import NearestNeighbors

    gen = _array2d(generated, "generated")
    ref = _array2d(train, "train")
    if gen.shape[1] != ref.shape[1]:
        raise ValueError(f"metrics.audio: feature sizes differ ({gen.shape[1]} vs {ref.shape[1]})")
    if len(gen) < 2:
        raise ValueError("metrics.audio: nn_distances needs at least 2 generated samples")
    # kneighbors() without X leaves each point out of its own query: the nearest *other* one.
    d_self = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(gen).kneighbors()[0]
    d_train = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(ref).kneighbors(gen)[0]
    return {"d_self": float(d_self.mean()), "d_train": float(d_train.mean())}


def digit_confusion(requested, heard, n_classes: int = 10) -> dict:
    """How often a conditional generator asked for digit d is heard as d.

    `requested` and `heard` are (N,) integer labels: the digit each clip was generated for and
    the classifier's reading of it. Returns the (n_classes, n_classes) count matrix (rows:
    requested, columns: heard), the per-digit accuracy (diagonal / row sum; None for a digit
    never requested) and their mean over requested digits.
    """
    requested, heard = np.asarray(requested, np.int64), np.asarray(heard, np.int64)
    if requested.shape != heard.shape or requested.ndim != 1 or len(requested) == 0:
        raise ValueError(f"metrics.audio: requested {requested.shape} and heard {heard.shape} must be "
                         "equal-length 1-D label arrays")
    if min(requested.min(), heard.min()) < 0 or max(requested.max(), heard.max()) >= n_classes:
        raise ValueError(f"metrics.audio: labels must lie in 0..{n_classes - 1}")
    matrix = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(matrix, (requested, heard), 1)
    rows = matrix.sum(1)
    per_digit = [float(matrix[d, d] / rows[d]) if rows[d] else None for d in range(n_classes)]
    asked = [a for a in per_digit if a is not None]
    return {"confusion": matrix.tolist(), "per_digit": per_digit, "mean": float(np.mean(asked))}
