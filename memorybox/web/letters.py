"""Later-life letters: the child's letters (each one there from the day it is given, with who
wrote it and when it opens; its words only once it is open), and the social worker's pages
for writing them, giving them, and agreeing when the child asks."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from memorybox import clock, i18n
from memorybox.audit import service as audit
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.jobs.tasks import process_item
from memorybox.letters import services as letters
from memorybox.letters.models import (
    BODY_MAX,
    NOTE_MAX,
    PRIVATE_NOTE_MAX,
    TITLE_MAX,
    Letter,
    ReleaseRule,
)
from memorybox.memories.models import MemoryItem
from memorybox.policy import Action
from memorybox.storage import StorageError
from memorybox.web import alerts
from memorybox.web.access import actor, can, load, signed_in_actor, signed_in_only, storage
from memorybox.web.box import AddRefused, store_upload
from memorybox.web.errors import wants_json
from memorybox.web.forms import AddItemForm
from memorybox.web.people import describe

bp = Blueprint("letters", __name__)

signed_in_only(bp)


# --- forms -------------------------------------------------------------------------------


class LetterForm(FlaskForm):
    title = StringField(
        _l("A title, for your list"),
        validators=[
            DataRequired(_l("Please give the letter a title.")),
            Length(max=TITLE_MAX, message=i18n.keep_under(TITLE_MAX)),
        ],
    )
    body = TextAreaField(
        _l("The letter"),
        validators=[
            DataRequired(_l("Please write the letter.")),
            Length(max=BODY_MAX, message=i18n.keep_under(BODY_MAX)),
        ],
    )
    content_note = TextAreaField(
        _l("Is there something hard in this letter? (optional)"),
        validators=[Optional(), Length(max=NOTE_MAX, message=i18n.keep_under(NOTE_MAX))],
    )
    rule = RadioField(
        _l("When does it open?"),
        choices=[
            SelectChoice(ReleaseRule.DATE.value, _l("On a day you choose")),
            SelectChoice(ReleaseRule.AGE.value, _l("On a birthday")),
            SelectChoice(ReleaseRule.ASKED.value, _l("When the young person asks and you agree")),
        ],
        validators=[DataRequired(_l("Please choose when the letter opens."))],
    )
    opens_on = DateField(_l("The day it opens"), validators=[Optional()])
    opens_at_age = IntegerField(_l("The birthday it opens on (their age)"), validators=[Optional()])

    def __init__(self, child: Child, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.child = child

    def validate(self, extra_validators: Any = None) -> bool:
        """The day or the age is needed only for its own rule (their fields are optional,
        which would stop their own checks when left empty)."""
        valid = super().validate(extra_validators)
        checks = {
            ReleaseRule.DATE.value: (self.opens_on, self._check_opens_on),
            ReleaseRule.AGE.value: (self.opens_at_age, self._check_opens_at_age),
        }
        chosen = checks.get(self.rule.data or "")
        if chosen is None or chosen[0].errors:
            return valid
        field, check = chosen
        try:
            check(field)
        except ValidationError as error:
            field.errors = [*field.errors, str(error)]
            return False
        return valid

    def _check_opens_on(self, field: DateField) -> None:
        if field.data is None:
            raise ValidationError(_("Please give the day it opens, for example 27 3 2031."))
        if field.data <= clock.today():
            raise ValidationError(_("Please choose a day after today."))

    def _check_opens_at_age(self, field: IntegerField) -> None:
        if self.child.date_of_birth is None:
            raise ValidationError(
                _(
                    "We don't know %(name)s's date of birth, so a birthday can't be used. "
                    "Ask a manager to add it, or choose a day.",
                    name=self.child.display_name,
                )
            )
        if field.data is None:
            raise ValidationError(_("Please give an age, for example 18."))
        if not 1 <= field.data <= letters.OLDEST_AGE:
            raise ValidationError(_("Please give an age from 1 to 99."))
        day = letters.birthday(self.child, field.data)
        if day is None or day <= clock.today():
            raise ValidationError(
                _("That birthday has already come. Please choose a birthday still to come.")
            )

    def chosen_rule(self) -> letters.Rule:
        rule = ReleaseRule(self.rule.data)
        return letters.Rule(
            rule,
            opens_on=self.opens_on.data if rule is ReleaseRule.DATE else None,
            opens_at_age=self.opens_at_age.data if rule is ReleaseRule.AGE else None,
        )


class AttachmentForm(AddItemForm):
    """The same form (and the same checks) as every upload, sent whole: a photo, a
    document, a sound or a video for a letter, with a title and a few words under it."""

    def validate_file(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Please choose a photo or document to add."))


class TalkAboutLetterForm(FlaskForm):
    words = TextAreaField(
        _l("Do you want to say anything? (you don't have to)"),
        validators=[Optional(), Length(max=500, message=i18n.keep_under(500))],
    )


class PrivateNoteForm(FlaskForm):
    body = TextAreaField(
        _l("Write something back, just for you"),
        validators=[
            Optional(),
            Length(max=PRIVATE_NOTE_MAX, message=i18n.keep_under(PRIVATE_NOTE_MAX)),
        ],
    )


# --- words about when a letter opens ------------------------------------------------------


def opens_words(letter: Letter, for_child: bool) -> str:
    """When it opens, in a sentence: for the child ("you") or for their social worker."""
    day = letters.opens_on(letter)
    name = letter.child.display_name
    if letter.rule is ReleaseRule.AGE and day is not None:
        if for_child:
            return _(
                "It opens when you turn %(age)s, on %(day)s.",
                age=letter.opens_at_age,
                day=i18n.day(day),
            )
        return _(
            "It opens when %(name)s turns %(age)s, on %(day)s.",
            name=name,
            age=letter.opens_at_age,
            day=i18n.day(day),
        )
    if letter.rule is ReleaseRule.DATE and day is not None:
        return _("It opens on %(day)s.", day=i18n.day(day))
    if letter.rule is ReleaseRule.AGE:
        return _("It opens on a birthday, but the date of birth is not known yet.")
    if for_child:
        if letter.asked_at is not None:
            return _(
                "You asked to open it on %(day)s. Your social worker will talk with you.",
                day=i18n.day(letter.asked_at),
            )
        return _("It opens when you ask, and your social worker says yes.")
    if letter.asked_at is not None:
        return _("%(name)s asked to open it on %(day)s.", name=name, day=i18n.day(letter.asked_at))
    return _("It opens when %(name)s asks and you agree.", name=name)


def state_words(letter: Letter) -> str:
    """Where a letter is, for its social worker."""
    state = letters.state(letter)
    if state == "draft":
        return _("Draft: %(name)s can't see it yet.", name=letter.child.display_name)
    if state == "read":
        return _(
            "Opened by %(name)s on %(day)s.",
            name=letter.child.display_name,
            day=i18n.day(letter.opened_at),
        )
    if state == "open":
        day = letters.opens_on(letter)
        return _("Open since %(day)s, not read yet.", day=i18n.day(day))
    return opens_words(letter, for_child=False)


# --- the child's pages ------------------------------------------------------------------


@bp.get("/children/<int:child_id>/letters")
def index(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.LETTERS_OWN)
    letters.announce_due(child, alerts.sender())
    given = letters.letters_of(child, given_only=True)
    return render_template(
        "letters/index.html",
        child=child,
        letters=[(letter, letters.is_open(letter)) for letter in given],
        opens_words=opens_words,
        active="letters",
    )


def _waits(letter: Letter) -> bool:
    return bool(letter.content_note and letter.note_read_at is None) or letter.with_someone


@bp.get("/letters/<int:letter_id>")
def read(letter_id: int) -> ResponseReturnValue:
    letter = load(Letter, letter_id, Action.LETTER_SEE)
    child = letter.child
    if not can(Action.LETTER_OPEN, letter):
        return render_template(
            "letters/waiting.html",
            letter=letter,
            child=child,
            opens=opens_words(letter, for_child=True),
            active="letters",
        )
    letters.announce(letter, alerts.sender())
    if _waits(letter) and not request.args.get("open"):
        return _gentle_page(letter)
    return _letter_page(letter, PrivateNoteForm())


def _gentle_page(letter: Letter, status: int = 200) -> ResponseReturnValue:
    child = letter.child
    return render_template(
        "letters/gentle.html",
        letter=letter,
        child=child,
        writer=describe(letter.written_by, child),
        trusted=describe(child.trusted_person, child) if child.trusted_person else None,
        active="letters",
    ), status


def _letter_page(letter: Letter, form: PrivateNoteForm, status: int = 200) -> ResponseReturnValue:
    letters.mark_opened(letter)
    child = letter.child
    kept = letters.private_note(letter)
    if request.method == "GET" and kept is not None:
        form.body.data = kept.body
    version = letter.latest
    return render_template(
        "letters/letter.html",
        letter=letter,
        child=child,
        writer=describe(letter.written_by, child),
        paragraphs=[p for p in (version.body if version else "").split("\n") if p.strip()],
        form=form,
        kept=kept,
        opened_on=letters.opens_on(letter),
        active="letters",
    ), status


#: the child's choices on a letter's gentle page
GENTLE_CHOICES = ("open", "later_with_someone", "alone")


@bp.post("/letters/<int:letter_id>/gentle")
def gentle(letter_id: int) -> ResponseReturnValue:
    letter = load(Letter, letter_id, Action.LETTER_OPEN)
    choice = request.form.get("choice", "")
    if choice not in GENTLE_CHOICES:
        flash(_("Please choose one of the buttons."))
        return _gentle_page(letter, 400)
    if choice == "later_with_someone":
        letters.with_someone(letter, True)
        flash(
            _(
                "That's fine. We'll ask you first next time, and remind you who you wanted "
                "to be with."
            )
        )
        return redirect(url_for("letters.index", child_id=letter.child_id))
    if choice == "alone":
        letters.with_someone(letter, False)
        flash(_("You can open it on your own now."))
    letters.read_note(letter)
    return redirect(url_for("letters.read", letter_id=letter.id, open=1))


@bp.post("/letters/<int:letter_id>/note")
def keep_note(letter_id: int) -> ResponseReturnValue:
    letter = load(Letter, letter_id, Action.LETTER_OPEN)
    form = PrivateNoteForm()
    if not form.validate_on_submit():
        return _letter_page(letter, form, 400)
    letters.keep_private_note(letter, form.body.data or "")
    flash(_("Saved. Only you can read this."))
    return redirect(url_for("letters.read", letter_id=letter.id, open=1, _anchor="your-words"))


@bp.post("/letters/<int:letter_id>/ask")
def ask(letter_id: int) -> ResponseReturnValue:
    letter = load(Letter, letter_id, Action.LETTER_ASK)
    told = letters.ask(letter, alerts.sender())
    if letters.is_open(letter):
        flash(_("Your letter is open now."))
    elif told:
        flash(
            _(
                "We have told %(names)s that you'd like to open it.",
                names=i18n.and_list(p.display_name for p in told),
            )
        )
    else:
        flash(
            _(
                "You don't have a social worker in Memory Box right now. We will tell your "
                "next social worker that you asked."
            )
        )
    return redirect(url_for("letters.read", letter_id=letter.id))


@bp.route("/letters/<int:letter_id>/talk", methods=["GET", "POST"])
def talk(letter_id: int) -> ResponseReturnValue:
    letter = load(Letter, letter_id, Action.LETTER_TALK)
    workers = letters.workers_of(letter.child)
    form = TalkAboutLetterForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template(
            "letters/talk.html",
            letter=letter,
            child=letter.child,
            form=form,
            workers=workers,
            active="letters",
        ), status
    asked, told = letters.talk(letter, signed_in_actor(), form.words.data or "", alerts.sender())
    if told:
        flash(
            _(
                "We have told %(names)s that you'd like to talk.",
                names=i18n.and_list(p.display_name for p in told),
            )
        )
    else:
        flash(_("We will tell your next social worker that you'd like to talk."))
    return redirect(url_for("help.talk_request", request_id=asked.id))


# --- the social worker's pages ------------------------------------------------------------


@bp.get("/children/<int:child_id>/letters/written")
def written(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.LETTERS_WRITE)
    audit.record(actor(), "letters:list", child)
    db.session.commit()
    every = letters.letters_of(child, given_only=False)
    return render_template(
        "letters/written.html",
        child=child,
        letters=[(letter, state_words(letter)) for letter in every],
    )


def _rule_hint(child: Child) -> str:
    if child.date_of_birth is None:
        return _("We don't know %(name)s's date of birth.", name=child.display_name)
    return _(
        "%(name)s was born on %(day)s.",
        name=child.display_name,
        day=i18n.day(child.date_of_birth),
    )


def _form_page(
    child: Child, form: LetterForm, letter: Letter | None, status: int
) -> ResponseReturnValue:
    return render_template(
        "letters/edit.html",
        child=child,
        form=form,
        letter=letter,
        born=_rule_hint(child),
    ), status


@bp.route("/children/<int:child_id>/letters/new", methods=["GET", "POST"])
def new(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.LETTERS_WRITE)
    form = LetterForm(child)
    if request.method == "GET":
        form.rule.data = ReleaseRule.AGE.value if child.date_of_birth else ReleaseRule.DATE.value
        form.opens_at_age.data = 18 if child.date_of_birth else None
    if request.method == "GET" or not form.validate_on_submit():
        return _form_page(child, form, None, 400 if request.method == "POST" else 200)
    letter = letters.start(
        child,
        signed_in_actor(),
        form.title.data or "",
        form.body.data or "",
        form.content_note.data or "",
        form.chosen_rule(),
    )
    flash(_("Saved as a draft. %(name)s can't see it until you give it.", name=child.display_name))
    return redirect(url_for("letters.manage", letter_id=letter.id))


@bp.route("/letters/<int:letter_id>/edit", methods=["GET", "POST"])
def edit(letter_id: int) -> ResponseReturnValue:
    letter = load(Letter, letter_id, Action.LETTER_EDIT)
    child = letter.child
    form = LetterForm(child)
    if request.method == "GET":
        form.title.data = letter.title
        form.body.data = letter.latest.body if letter.latest else ""
        form.content_note.data = letter.content_note
        form.rule.data = letter.rule.value
        form.opens_on.data = letter.opens_on
        form.opens_at_age.data = letter.opens_at_age
    if request.method == "GET" or not form.validate_on_submit():
        return _form_page(child, form, letter, 400 if request.method == "POST" else 200)
    letters.save(
        letter,
        signed_in_actor(),
        form.title.data or "",
        form.body.data or "",
        form.content_note.data or "",
        form.chosen_rule(),
    )
    flash(_("Saved."))
    return redirect(url_for("letters.manage", letter_id=letter.id))


@bp.get("/letters/<int:letter_id>/written")
def manage(letter_id: int) -> ResponseReturnValue:
    letter = load(Letter, letter_id, Action.LETTER_READ)
    audit.record(actor(), Action.LETTER_READ.value, letter)
    db.session.commit()
    child = letter.child
    return render_template(
        "letters/manage.html",
        letter=letter,
        child=child,
        state=state_words(letter),
        opens=opens_words(letter, for_child=False),
        is_open=letters.is_open(letter),
        talks=letters.talk_requests(letter),
        today=clock.today(),
    )


@bp.post("/letters/<int:letter_id>/give")
def give(letter_id: int) -> ResponseReturnValue:
    letter = load(Letter, letter_id, Action.LETTER_GIVE)
    letters.give(letter, signed_in_actor())
    letters.announce(letter, alerts.sender())
    flash(
        _(
            "%(name)s can see now that this letter is waiting for them, and when it opens.",
            name=letter.child.display_name,
        )
    )
    return redirect(url_for("letters.manage", letter_id=letter.id))


@bp.route("/letters/<int:letter_id>/delete", methods=["GET", "POST"])
def delete(letter_id: int) -> ResponseReturnValue:
    """Throw away a draft: asked first, on a page of its own."""
    letter = load(Letter, letter_id, Action.LETTER_DELETE)
    child = letter.child
    if request.method == "GET":
        return render_template("letters/delete.html", letter=letter, child=child)
    title = letter.title
    audit.record(actor(), Action.LETTER_DELETE.value, letter)
    letters.delete_draft(letter, storage())
    flash(_("The draft “%(title)s” has been deleted.", title=title))
    return redirect(url_for("letters.written", child_id=child.id))


@bp.post("/letters/<int:letter_id>/agree")
def agree(letter_id: int) -> ResponseReturnValue:
    letter = load(Letter, letter_id, Action.LETTER_AGREE)
    letters.agree(letter, signed_in_actor(), alerts.sender())
    flash(_("The letter is open now. %(name)s has been told.", name=letter.child.display_name))
    return redirect(url_for("letters.manage", letter_id=letter.id))


# --- a letter's photos and documents ------------------------------------------------------


def _attach_page(letter: Letter, form: AttachmentForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "letters/attach.html",
        letter=letter,
        child=letter.child,
        form=form,
        full=len(letter.attachments) >= letters.ATTACHMENTS_MAX,
        most=letters.ATTACHMENTS_MAX,
    ), status


def _attach_refused(letter: Letter, form: AttachmentForm, message: str, status: int) -> Any:
    if wants_json():
        return jsonify(error=message), status
    form.file.errors = [message]
    return _attach_page(letter, form, status)


@bp.route("/letters/<int:letter_id>/attach", methods=["GET", "POST"])
def attach(letter_id: int) -> ResponseReturnValue:
    """Add a photo or document to a letter that has not opened, through the same upload
    pipeline as everything else (checked, location removed, web copies made)."""
    letter = load(Letter, letter_id, Action.LETTER_ATTACH)
    form = AttachmentForm()
    if request.method == "GET":
        return _attach_page(letter, form)
    if len(letter.attachments) >= letters.ATTACHMENTS_MAX:
        message = _(
            "A letter can carry up to %(num)s photos and documents. Please take one off first.",
            num=letters.ATTACHMENTS_MAX,
        )
        return _attach_refused(letter, form, message, 400)
    if not form.validate():
        if wants_json():
            return jsonify(error=" ".join(str(e) for field in form for e in field.errors)), 400
        return _attach_page(letter, form, 400)
    try:
        item = store_upload(form, letter.child, signed_in_actor(), letter_id=letter.id)
    except AddRefused as exc:
        return _attach_refused(letter, form, exc.message, exc.status)
    process_item(item.id)  # location removed and web copies made, as for every upload
    audit.record(actor(), Action.LETTER_ATTACH.value, letter)
    db.session.commit()
    flash(_("“%(title)s” is in the letter now.", title=item.title))
    target = url_for("letters.manage", letter_id=letter.id, _anchor="attachments")
    if wants_json():
        return jsonify(redirect=target), 201
    return redirect(target)


@bp.post("/attachments/<int:item_id>/keep")
def keep_attachment(item_id: int) -> ResponseReturnValue:
    """The child keeps a copy of an open letter's photo in their box (the letter keeps its
    own)."""
    item = load(MemoryItem, item_id, Action.ATTACHMENT_KEEP)
    letter = item.letter
    assert letter is not None  # policy allows only a letter's own
    try:
        kept, made = letters.keep_copy(item, storage())
    except StorageError:
        flash(_("We couldn't save that just now. Please try again in a minute."))
        return redirect(url_for("letters.read", letter_id=letter.id, open=1))
    if made:
        flash(_("“%(title)s” is in your box now, too.", title=kept.title))
    else:
        flash(_("“%(title)s” is in your box already.", title=kept.title))
    return redirect(url_for("items.show", item_id=kept.id))


@bp.post("/attachments/<int:item_id>/remove")
def remove_attachment(item_id: int) -> ResponseReturnValue:
    """Take a photo or document off a letter that has not opened: deleted, files and all."""
    item = load(MemoryItem, item_id, Action.ATTACHMENT_REMOVE)
    letter = item.letter
    assert letter is not None  # policy allows only a letter's own
    title = item.title
    audit.record(actor(), Action.ATTACHMENT_REMOVE.value, letter)
    letters.remove_attachment(item, storage())
    flash(_("“%(title)s” has been taken off the letter and deleted.", title=title))
    return redirect(url_for("letters.manage", letter_id=letter.id, _anchor="attachments"))
