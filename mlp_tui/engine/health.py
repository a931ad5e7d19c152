"""Health detectors: what a run's curve says, apart from its lifecycle.

Pure functions judge a window of recent epochs; `HealthTracker` runs them every CHECK_EVERY epochs
(at epochs CHECK_EVERY, 2 * CHECK_EVERY, ...) on the windows ending there, so a run's health never
depends on how its epochs were batched. Non-finite losses are skipped: divergence to NaN or inf is
the lifecycle's business (`Status.DIVERGED`), not health. Each rule is written once, over rows of
windows (numpy, imported lazily), so a tracker judges a whole batch's checks in a few array calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlp_tui.core.schema import HEALTH_CODE, Health

if TYPE_CHECKING:
    import numpy as np

CHECK_EVERY = 10  # epochs between checks: health is a trend, and checks stay off the hot loop

STALL_WINDOW = 50  # epochs the loss must stay flat: longer than any pause of a learning run
STALL_TOLERANCE = 1e-4  # max - min of the loss over the window: a learning run moves more
STALL_FLOOR_SHARE = 0.5  # plateaus below this share of ln(classes) are convergence, not stalls

DIVERGE_WINDOW = 20  # epochs the loss must stay far above its start: early spikes last under 10
DIVERGE_FACTOR = 10.0  # "far above": a healthy run's loss falls below its start within a few epochs

CHANCE_WINDOW = 50  # epochs at chance: healthy recordings leave chance within 6 epochs
CHANCE_ACC_MARGIN = 0.05  # accuracy within 5% of the way from the majority rate to 1 is chance
PRIOR_LOSS_TOLERANCE = 0.01  # loss within 1% of the class-prior entropy: a constant predictor

MIN_FINITE_SHARE = 0.5  # a window with fewer finite epochs than this share says nothing

KEEP = max(STALL_WINDOW, DIVERGE_WINDOW, CHANCE_WINDOW)  # epochs a tracker remembers


def prior_loss(class_counts: Sequence[int]) -> float:
    """Entropy of the class prior: the cross-entropy of the best constant predictor."""
    n = sum(class_counts)
    return -sum(c / n * math.log(c / n) for c in class_counts if c > 0)


def chance_accuracy(class_counts: Sequence[int]) -> float:
    """The majority-class rate: the accuracy of always predicting the most common class."""
    return max(class_counts) / sum(class_counts)


def stall_floor(n_classes: int) -> float:
    """Below this loss a plateau is convergence: a share of ln(classes), the loss of a model that
    predicts the uniform prior (where a model whose ReLUs all died sits for good)."""
    return STALL_FLOOR_SHARE * math.log(max(n_classes, 2))


@dataclass(frozen=True)
class Baseline:
    """What a task's constant predictor scores, the level a healthy run must leave: built by
    the task (`engine/tasks/`) from the training targets."""

    prior_loss: float  # the loss of the best constant predictor
    chance_score: float  # its score (the majority-class rate; R² 0)
    margin: float  # a score within this share of the way from chance to 1 is still chance
    floor: float  # a plateau below this loss is convergence, not a stall
    health: Health  # what a run at this level is called (chance; mean)

    @classmethod
    def of_classes(cls, class_counts: Sequence[int]) -> Baseline:
        if len(class_counts) < 1 or min(class_counts) < 0 or sum(class_counts) <= 0:
            raise ValueError(f"class counts need a positive sum, none negative: {class_counts}")
        return cls(prior_loss(class_counts), chance_accuracy(class_counts), CHANCE_ACC_MARGIN,
                   stall_floor(len(class_counts)), Health.CHANCE)


def _bounds(rows: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the min and max of the values where `mask` holds (inf and -inf where none)."""
    import numpy as np

    if mask.all():  # the common case: skip the masking copies
        return rows.min(axis=1), rows.max(axis=1)
    return np.where(mask, rows, np.inf).min(axis=1), np.where(mask, rows, -np.inf).max(axis=1)


def _enough(mask: np.ndarray) -> np.ndarray:
    """Rows with enough finite epochs to be judged."""
    return mask.sum(axis=1) >= MIN_FINITE_SHARE * mask.shape[1]


def stalled_rows(losses: np.ndarray, n_classes: int, floor: float | None = None) -> np.ndarray:
    """`is_stalled` for each row of an array of STALL_WINDOW-epoch windows (`floor`: the
    task's, else the classes' `stall_floor`)."""
    import numpy as np

    finite = np.isfinite(losses)
    lo, hi = _bounds(losses, finite)
    floor = stall_floor(n_classes) if floor is None else floor
    return _enough(finite) & (hi - lo < STALL_TOLERANCE) & (lo > floor)


def diverging_rows(losses: np.ndarray, start_loss: float) -> np.ndarray:
    """`is_diverging` for each row of an array of DIVERGE_WINDOW-epoch windows."""
    import numpy as np

    finite = np.isfinite(losses)
    lo, _ = _bounds(losses, finite)
    return _enough(finite) & math.isfinite(start_loss) & (lo > DIVERGE_FACTOR * start_loss)


def chance_rows(
    losses: np.ndarray, accs: np.ndarray, prior: float, chance_acc: float,
    margin: float = CHANCE_ACC_MARGIN,
) -> np.ndarray:
    """`is_at_chance` for each row of arrays of CHANCE_WINDOW-epoch windows."""
    import numpy as np

    finite = np.isfinite(losses) & np.isfinite(accs)
    _, acc_hi = _bounds(accs, finite)
    lo, hi = _bounds(losses, finite)
    band = PRIOR_LOSS_TOLERANCE * prior
    at_chance = acc_hi <= chance_acc + margin * (1.0 - chance_acc)
    at_prior = (prior - band <= lo) & (hi <= prior + band)
    return _enough(finite) & (at_chance | at_prior)


def _last(values: Sequence[float], window: int) -> np.ndarray:
    """The last `window` values as one row."""
    import numpy as np

    return np.asarray(values[-window:], dtype=np.float64).reshape(1, window)


def is_stalled(losses: Sequence[float], n_classes: int) -> bool:
    """The last STALL_WINDOW finite losses are flat (max - min under STALL_TOLERANCE) and all
    above the stall floor: the run stopped learning far from a solution."""
    if len(losses) < STALL_WINDOW:
        return False
    return bool(stalled_rows(_last(losses, STALL_WINDOW), n_classes)[0])


def is_diverging(losses: Sequence[float], start_loss: float) -> bool:
    """Every one of the last DIVERGE_WINDOW finite losses is over DIVERGE_FACTOR times the start."""
    if len(losses) < DIVERGE_WINDOW:
        return False
    return bool(diverging_rows(_last(losses, DIVERGE_WINDOW), start_loss)[0])


def is_at_chance(
    losses: Sequence[float], accs: Sequence[float], prior_loss: float, chance_acc: float
) -> bool:
    """Over the last CHANCE_WINDOW epochs (those with a finite loss and accuracy), accuracy never
    beat chance by CHANCE_ACC_MARGIN, or the loss stayed within PRIOR_LOSS_TOLERANCE of the
    class-prior entropy: the model is no better than a constant predictor."""
    w = CHANCE_WINDOW
    if len(losses) < w or len(accs) < w:
        return False
    return bool(chance_rows(_last(losses, w), _last(accs, w), prior_loss, chance_acc)[0])


def assess(
    losses: Sequence[float],
    accs: Sequence[float],
    *,
    start_loss: float,
    n_classes: int,
    prior: float,
    chance_acc: float,
) -> Health:
    """The health the recent epochs show. Diverging comes first (the most urgent), then chance
    (a plateau at the constant predictor), then stalled (any other plateau far from a solution)."""
    if is_diverging(losses, start_loss):
        return Health.DIVERGING
    if is_at_chance(losses, accs, prior, chance_acc):
        return Health.CHANCE
    if is_stalled(losses, n_classes):
        return Health.STALLED
    return Health.OK


_HEALTH_OF = {code: h for h, code in HEALTH_CODE.items()}


class HealthTracker:
    """A run's health, fed its epochs in batches of any size. The same curve gives the same codes
    whatever the batching: checks fall on fixed epochs and judge the windows ending there."""

    def __init__(self, baseline: Baseline | Sequence[int]) -> None:
        """`baseline`: the task's; a sequence is a classification's class counts."""
        if not isinstance(baseline, Baseline):
            baseline = Baseline.of_classes(baseline)
        self.baseline = baseline
        self.prior_loss = baseline.prior_loss
        self.chance_acc = baseline.chance_score
        self.epochs = 0  # epochs seen so far
        self.start_loss = math.nan  # the first finite loss: where the run started
        self._code = HEALTH_CODE[Health.OK]
        self._losses: Sequence[float] = ()  # the last KEEP epochs
        self._accs: Sequence[float] = ()

    @property
    def health(self) -> Health:
        """The health as of the last epoch seen."""
        return _HEALTH_OF[self._code]

    def update(self, losses: Sequence[float], accs: Sequence[float]) -> list[int]:
        """Take the next epochs (train loss and score of each: accuracy, R²); returns one
        HEALTH_CODE per epoch, the health as of that epoch."""
        import numpy as np

        n = len(losses)
        if len(accs) != n:
            raise ValueError(f"{n} losses but {len(accs)} accuracies")
        if math.isnan(self.start_loss):
            self.start_loss = next((float(v) for v in losses if math.isfinite(v)), math.nan)
        buf_l = np.concatenate((self._losses, np.asarray(losses, dtype=np.float64)))
        buf_a = np.concatenate((self._accs, np.asarray(accs, dtype=np.float64)))
        offset = self.epochs - len(self._losses)  # epochs before the buffer's first
        first_check = -(-(self.epochs + 1) // CHECK_EVERY) * CHECK_EVERY
        checks = np.arange(first_check, self.epochs + n + 1, CHECK_EVERY)
        if checks.size:
            check_codes = self._judge(buf_l, buf_a, checks, offset)
            # Each epoch takes the code of the last check at or before it (or the held one).
            epochs = np.arange(self.epochs + 1, self.epochs + n + 1)
            which = np.searchsorted(checks, epochs, side="right")
            codes = np.concatenate(([self._code], check_codes))[which].tolist()
            self._code = int(check_codes[-1])
        else:
            codes = [self._code] * n
        self.epochs += n
        self._losses, self._accs = buf_l[-KEEP:], buf_a[-KEEP:]
        return codes

    def _judge(
        self, buf_l: np.ndarray, buf_a: np.ndarray, checks: np.ndarray, offset: int
    ) -> np.ndarray:
        """The health code at each check epoch, from the windows ending there; a rule judges only
        the checks with at least its window of epochs seen."""
        import numpy as np

        def rows(buf: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
            return buf[(checks[at] - offset)[:, None] + np.arange(-width, 0)]

        codes = np.full(checks.size, HEALTH_CODE[Health.OK])
        # Later rules overwrite earlier ones: diverging over chance over stalled.
        at = np.flatnonzero(checks >= STALL_WINDOW)
        b = self.baseline
        hit = stalled_rows(rows(buf_l, at, STALL_WINDOW), 0, b.floor)
        codes[at[hit]] = HEALTH_CODE[Health.STALLED]
        at = np.flatnonzero(checks >= CHANCE_WINDOW)
        hit = chance_rows(
            rows(buf_l, at, CHANCE_WINDOW),
            rows(buf_a, at, CHANCE_WINDOW),
            b.prior_loss,
            b.chance_score,
            b.margin,
        )
        codes[at[hit]] = HEALTH_CODE[b.health]
        at = np.flatnonzero(checks >= DIVERGE_WINDOW)
        hit = diverging_rows(rows(buf_l, at, DIVERGE_WINDOW), self.start_loss)
        codes[at[hit]] = HEALTH_CODE[Health.DIVERGING]
        return codes
