"""The errors a user can cause in review (复核), appeals (申诉), coaching (培训辅导) and calibration rounds
(质检校准), and the check of
the free text people give (comments, reasons), which raises them.

Each class has a stable ``code`` and a ``kind`` (``inspector.errors.ErrorKind``): what the request names
does not exist (not found), it does not fit the current state (conflict: already done, duplicate, not
analyzed yet), or its input is invalid. The API answers each with one status from ``kind``.
"""

from __future__ import annotations

from inspector.errors import ErrorKind, InspectorError

MAX_TEXT = 2000  # characters of a comment, reason or description


# --- review and appeals --------------------------------------------------------------------------


class ReviewError(InspectorError):
    """Base of the review/appeal errors a user can cause."""

    code = "review_error"


class ReviewNotFound(ReviewError):
    code = "review_not_found"
    kind = ErrorKind.NOT_FOUND


class AppealNotFound(ReviewError):
    code = "appeal_not_found"
    kind = ErrorKind.NOT_FOUND


class HitNotFound(ReviewError):
    code = "hit_not_found"
    kind = ErrorKind.NOT_FOUND


class NotAnalyzed(ReviewError):
    """The call has no current analysis yet (not done)."""

    code = "not_analyzed"
    kind = ErrorKind.CONFLICT


class InvalidReviewInput(ReviewError):
    code = "invalid_review_input"
    kind = ErrorKind.INVALID


class AppealNotAllowed(ReviewError):
    """Not the agent's call, not a deduction, or the deduction was already withdrawn."""

    code = "appeal_not_allowed"
    kind = ErrorKind.INVALID


class DuplicateAppeal(ReviewError):
    code = "appeal_exists"
    kind = ErrorKind.CONFLICT


class AppealResolved(ReviewError):
    code = "appeal_resolved"
    kind = ErrorKind.CONFLICT


class ReviewDone(ReviewError):
    code = "review_done"
    kind = ErrorKind.CONFLICT


def checked_text(value: str | None, field: str, required: bool = False) -> str | None:
    """``value`` stripped (None when empty); ``InvalidReviewInput`` when required and empty, or too long."""
    text = (value or "").strip()
    if required and not text:
        raise InvalidReviewInput(f"{field}不能为空")
    if len(text) > MAX_TEXT:
        raise InvalidReviewInput(f"{field}不能超过 {MAX_TEXT} 个字")
    return text or None


# --- coaching and assessment ---------------------------------------------------------------------


class TrainingError(InspectorError):
    """A coaching request that cannot be carried out; ``field`` names the input at fault."""

    code = "invalid_coaching"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TrainingNotFound(TrainingError):
    """An agent or assignment that does not exist (``code`` says which)."""

    kind = ErrorKind.NOT_FOUND

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class InvalidMonth(TrainingError):
    code = "invalid_month"
    kind = ErrorKind.INVALID


class CoachingStateError(TrainingError):
    """An assignment that is no longer open (done or cancelled)."""

    code = "coaching_closed"
    kind = ErrorKind.CONFLICT


# --- calibration (质检校准) ------------------------------------------------------------------------


class CalibrationError(ReviewError):
    code = "calibration_error"


class CalibrationNotFound(CalibrationError):
    code = "calibration_not_found"
    kind = ErrorKind.NOT_FOUND


class InvalidCalibration(CalibrationError):
    """Bad input; ``field`` names the field at fault."""

    code = "invalid_calibration"
    kind = ErrorKind.INVALID

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAssigned(CalibrationError):
    """The asking user is not a reviewer of the round."""

    code = "calibration_not_assigned"
    kind = ErrorKind.CONFLICT


class CalibrationClosed(CalibrationError):
    code = "calibration_closed"
    kind = ErrorKind.CONFLICT


class CalibrationOpen(CalibrationError):
    """The figures are asked for before the round is closed."""

    code = "calibration_open"
    kind = ErrorKind.CONFLICT
