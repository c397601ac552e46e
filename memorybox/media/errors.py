"""The one exception media processing raises, and the words it says to people.

Every message here is written for a nine-year-old: plain words, no file-format jargon, no
blame, and something they can do next. No message ever contains anything read from the
file or printed by a decoder, so nothing hidden in a file (a path, a secret, a coordinate)
can reach a page or a log through an error.
"""

from __future__ import annotations

from memorybox.words import N_


class MediaError(ValueError):
    """Processing a file failed. ``str(error)`` is a message that can be shown to people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


FRIENDLY_TYPES = (
    "a photo (JPEG, PNG, WebP, GIF or HEIC), a PDF, a sound clip (MP3, M4A, WAV, OGG or "
    "WebM) or a video (MP4, MOV, WebM or 3GP)"
)
NOT_ALLOWED = N_(
    "We can't keep that kind of file. You can add a photo (JPEG, PNG, WebP, GIF or HEIC), "
    "a PDF, a sound clip (MP3, M4A, WAV, OGG or WebM) or a video (MP4, MOV, WebM or 3GP)."
)
EMPTY = N_("That file is empty. Please choose another one.")
NAME_DISAGREES = N_(
    "We can't keep that file because its name says it is one kind of file, "
    "but inside it is another kind. Please try another file."
)
DAMAGED_PHOTO = N_("That photo seems to be damaged, so we can't keep it. Please try another copy.")
TOO_BIG_PHOTO = N_("That photo is too big for us to show. Please try a smaller one.")
DAMAGED_DOCUMENT = N_(
    "That document seems to be damaged, so we can't keep it. Please try another copy."
)
LOCKED_DOCUMENT = N_(
    "That document is locked with a password, so we can't open it. "
    "Please save a copy without a password and try again."
)
DAMAGED_SOUND = N_(
    "That sound clip seems to be damaged, so we can't keep it. Please try another copy."
)
DAMAGED_VIDEO = N_("That video seems to be damaged, so we can't keep it. Please try another copy.")
TOO_LONG = "That {what} is too long for us to keep. Please try a shorter one."
TOO_SLOW = "That {what} took too long for us to get ready. Please try a smaller one."
NOT_READY = N_("We couldn't get that file ready right now. Please try again later.")

WHAT = {"photo": "photo", "document": "document", "audio": "sound clip", "video": "video"}


def damaged(kind: str) -> str:
    return {
        "photo": DAMAGED_PHOTO,
        "document": DAMAGED_DOCUMENT,
        "audio": DAMAGED_SOUND,
        "video": DAMAGED_VIDEO,
    }.get(kind, DAMAGED_PHOTO)


def known_messages() -> frozenset[str]:
    """Every message this module can produce (a child process may only send one of these)."""
    fixed = [
        NOT_ALLOWED,
        EMPTY,
        NAME_DISAGREES,
        DAMAGED_PHOTO,
        TOO_BIG_PHOTO,
        DAMAGED_DOCUMENT,
        LOCKED_DOCUMENT,
        DAMAGED_SOUND,
        DAMAGED_VIDEO,
        NOT_READY,
    ]
    for what in WHAT.values():
        fixed += [TOO_LONG.format(what=what), TOO_SLOW.format(what=what)]
    return frozenset(fixed)


#: TOO_LONG and TOO_SLOW as they are said, each a whole sentence for the catalogues (a
#: translator needs the whole sentence; ``known_messages`` checks they are all here)
WHOLE_SENTENCES = (
    N_("That photo is too long for us to keep. Please try a shorter one."),
    N_("That document is too long for us to keep. Please try a shorter one."),
    N_("That sound clip is too long for us to keep. Please try a shorter one."),
    N_("That video is too long for us to keep. Please try a shorter one."),
    N_("That file is too long for us to keep. Please try a shorter one."),
    N_("That photo took too long for us to get ready. Please try a smaller one."),
    N_("That document took too long for us to get ready. Please try a smaller one."),
    N_("That sound clip took too long for us to get ready. Please try a smaller one."),
    N_("That video took too long for us to get ready. Please try a smaller one."),
    N_("That file took too long for us to get ready. Please try a smaller one."),
)
