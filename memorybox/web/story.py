"""My Story: the child writes, saves versions, restores and shares sections; the people they
share with read them ("Before you ask me again") and the child sees who read what."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from memorybox import i18n, pagination, policy
from memorybox.audit import service as audit
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.jobs.tasks import process_item, transcribe_voice_note
from memorybox.memories import services as memories
from memorybox.memories.models import MemoryItem
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.story import services as story
from memorybox.story import transcribe, voice
from memorybox.story.models import (
    BODY_MAX,
    HINT_MAX,
    TITLE_MAX,
    StorySection,
    Transcript,
    TranscriptState,
)
from memorybox.web import alerts, lists
from memorybox.web.access import can, load, signed_in_actor, signed_in_only
from memorybox.web.box import AddRefused, store_upload
from memorybox.web.errors import wants_json
from memorybox.web.forms import AddItemForm
from memorybox.web.people import describe
from memorybox.web.sharing import describe_audience, handle_share
from memorybox.words import words_of

bp = Blueprint("story", __name__)


# --- forms --------------------------------------------------------------------------------


def _fits(_form: FlaskForm, field: TextAreaField) -> None:
    """Count letters as the child sees them (browsers send a new line as two characters)."""
    if len((field.data or "").replace("\r\n", "\n")) > BODY_MAX:
        raise ValidationError(
            _(
                "This part can have up to %(num)s letters. Your words are still here: "
                "you could make it shorter, or start a new part for the rest.",
                num=i18n.number(BODY_MAX),
            )
        )


class SectionForm(FlaskForm):
    body = TextAreaField(_l("Your words"), validators=[_fits])
    items = SelectMultipleField(
        _l("Things from your box to go with it (you can leave this empty)"),
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class WordsForm(FlaskForm):
    words = TextAreaField(
        _l("The words we heard"),
        validators=[
            DataRequired(_l("There are no words to add. You could type some, or go back.")),
            _fits,
        ],
    )


class NewSectionForm(FlaskForm):
    title = StringField(
        _l("Give your new part a title"),
        validators=[
            DataRequired(_l("Please give your new part a title.")),
            Length(max=TITLE_MAX, message=i18n.up_to_letters(TITLE_MAX)),
        ],
    )


class PromptForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Please give the prompt a title.")),
            Length(max=TITLE_MAX, message=i18n.up_to_letters(TITLE_MAX)),
        ],
    )
    hint = StringField(
        _l("The question under it (you can leave this empty)"),
        validators=[Length(max=HINT_MAX, message=i18n.keep_under(HINT_MAX))],
    )


signed_in_only(bp)


# --- the child's own story ----------------------------------------------------------------


def _home(child: Child, new_form: NewSectionForm, status: int = 200) -> ResponseReturnValue:
    sections = story.sections_of(child)
    sharing.prime_section_consents([child.id], [s.id for s in sections])
    shared_with = {
        s.id: sharing.active_consents_for_section(s) for s in sections if s.latest is not None
    }
    receipts = story.receipts_for_child(child)
    return render_template(
        "story/home.html",
        child=child,
        sections=sections,
        shared_with=shared_with,
        receipts=receipts,
        new_form=new_form,
        describe=describe,
        describe_audience=describe_audience,
        read_on=i18n.read_on,
        decides_for_self=sharing.decides_for_self(child),
    ), status


@bp.get("/children/<int:child_id>/story")
def home(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.STORY_VIEW_OWN)
    return _home(child, NewSectionForm(formdata=None))


@bp.post("/children/<int:child_id>/story/sections")
def add_section(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.STORY_WRITE)
    form = NewSectionForm()
    if not form.validate_on_submit():
        return _home(child, form, 400)
    section = story.add_own_section(child, form.title.data or "")
    flash(_("Your new part “%(title)s” is ready for your words.", title=section.title))
    return redirect(url_for("story.edit", section_id=section.id))


def _render_edit(
    section: StorySection, form: SectionForm, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "story/edit.html",
        child=section.child,
        section=section,
        form=form,
        draft=story.unsaved_draft(section),
        voice_notes=voice.voice_notes(section),
        transcripts=voice.transcripts_of(section),
        can_transcribe=transcribe.available(),
    ), status


@bp.route("/story/<int:section_id>", methods=["GET", "POST"])
def edit(section_id: int) -> ResponseReturnValue:
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    box = story.attachable_items(section.child)
    form = SectionForm()
    form.items.choices = [(str(i.id), i.title) for i in box]
    if request.method == "GET":
        if (section.hide_until_ready or section.with_someone) and not request.args.get("open"):
            child = section.child
            return render_template(
                "story/gentle.html",
                section=section,
                child=child,
                trusted=describe(child.trusted_person, child) if child.trusted_person else None,
                active="story",
            )
        draft = story.unsaved_draft(section)
        latest = section.latest
        form.body.data = draft.body if draft else (latest.body if latest else "")
        form.items.data = [str(i.id) for i in latest.items] if latest else []
        return _render_edit(section, form)
    if not form.validate_on_submit():
        return _render_edit(section, form, 400)
    by_id = {str(i.id): i for i in box}
    chosen_ids = form.items.data or []
    if any(raw not in by_id for raw in chosen_ids):
        form.items.errors = [_("Please choose things from your box.")]
        return _render_edit(section, form, 400)
    try:
        version = story.save_version(
            section, form.body.data or "", [by_id[r] for r in chosen_ids], signed_in_actor()
        )
    except story.StoryError as exc:
        form.body.errors = [i18n.problem_words(words_of(exc))]
        return _render_edit(section, form, 400)
    alerts.section_changed(section, version)
    if version is None:
        flash(_("Nothing had changed, so there was nothing new to save."))
    else:
        flash(
            _(
                "Saved “%(title)s”. You can always go back to an earlier version.",
                title=section.title,
            )
        )
    return redirect(url_for("story.home", child_id=section.child_id))


@bp.post("/story/<int:section_id>/gentle")
def gentle(section_id: int) -> ResponseReturnValue:
    """The child's gentle choices about a part of their story; each can be undone."""
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    choice = request.form.get("choice", "")
    changes = {
        "hide": ("hide_until_ready", True, _("It is hidden until you're ready.")),
        "show": ("hide_until_ready", False, _("It is not hidden any more.")),
        "someone": ("with_someone", True, _("We'll ask you first, and remind you who you chose.")),
        "alone": ("with_someone", False, _("You can open it on your own now.")),
    }
    if choice not in changes:
        flash(_("Please choose one of the buttons."))
        return _home(section.child, NewSectionForm(formdata=None), 400)
    field, value, words = changes[choice]
    story.set_gentle(section, field, value)
    flash(words)
    return redirect(
        url_for("story.home", child_id=section.child_id, _anchor=f"section-{section.id}")
    )


@bp.post("/story/<int:section_id>/draft")
def draft(section_id: int) -> ResponseReturnValue:
    """Autosave: the page's script sends the words every few seconds (CSRF in a header)."""
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    body = request.form.get("body")
    if body is None:
        return jsonify(saved=False, message=_("Nothing to save.")), 400
    if len(body.replace("\r\n", "\n")) > BODY_MAX:
        return jsonify(
            saved=False,
            message=_(
                "This part can have up to %(num)s letters, so we couldn't keep a draft.",
                num=i18n.number(BODY_MAX),
            ),
        ), 400
    try:
        saved = story.save_draft(section, body)
    except story.StoryError as exc:
        return jsonify(saved=False, message=i18n.problem_words(words_of(exc))), 400
    return jsonify(
        saved=True, message=_("Draft saved at %(time)s.", time=i18n.time_of_day(saved.updated_at))
    )


@bp.get("/story/<int:section_id>/versions")
def versions(section_id: int) -> ResponseReturnValue:
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    return render_template(
        "story/versions.html",
        child=section.child,
        section=section,
        versions=lists.page(lambda after: story.versions_page(section, after)),
        latest=section.latest,
    )


@bp.post("/story/<int:section_id>/versions/<int:version_id>/restore")
def restore(section_id: int, version_id: int) -> ResponseReturnValue:
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    version = story.version_of(section, version_id)
    if version is None:
        abort(404)
    alerts.section_changed(section, story.restore(section, version, signed_in_actor()))
    flash(
        _(
            "Done. “%(title)s” has the words from version %(num)s again. "
            "Nothing was lost: the newer words are still in your earlier versions.",
            title=section.title,
            num=i18n.number(version.number),
        )
    )
    return redirect(url_for("story.versions", section_id=section.id))


@bp.route("/story/<int:section_id>/share", methods=["GET", "POST"])
def share(section_id: int) -> ResponseReturnValue:
    section = load(StorySection, section_id, Action.SECTION_SHARE)
    child = section.child
    on_behalf = not can(Action.STORY_VIEW_OWN, child)
    back = (
        url_for("story.shared_story", child_id=child.id)
        if on_behalf
        else url_for("story.home", child_id=child.id)
    )
    return handle_share(
        child,
        on_behalf=on_behalf,
        title=section.title,
        subject={"story_section": section},
        template="story/share.html",
        context={"section": section, "back": back},
        done=back,
    )


# --- voice notes, and turning them into words ---------------------------------------------


def _render_voice(
    section: StorySection, form: AddItemForm, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "story/voice.html", child=section.child, section=section, form=form
    ), status


@bp.route("/story/<int:section_id>/voice", methods=["GET", "POST"])
def voice_note(section_id: int) -> ResponseReturnValue:
    """Record (or choose) a voice note for this part: it goes in the child's box and is
    attached to the part by a new version."""
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    form = AddItemForm()
    if request.method == "GET":
        form.title.data = _("Voice note: %(title)s", title=section.title)[: memories.TITLE_MAX]
        return _render_voice(section, form)
    if not form.validate():
        if wants_json():
            return jsonify(error=" ".join(e for f in form for e in f.errors)), 400
        return _render_voice(section, form, 400)
    user = signed_in_actor()
    try:
        item = store_upload(form, section.child, user)
    except AddRefused as exc:
        if wants_json():
            return jsonify(error=exc.message), exc.status
        form.file.errors = [exc.message]
        return _render_voice(section, form, exc.status)
    process_item(item.id)
    voice.attach(section, item, user)
    flash(
        _(
            "Your voice note is part of “%(title)s” now. Only you can hear it until you share it.",
            title=section.title,
        )
    )
    target = url_for("story.edit", section_id=section.id, _anchor="voice-notes")
    if wants_json():
        return jsonify(redirect=target), 201
    return redirect(target)


def _transcribing() -> None:
    """Without the "transcribe" extra these pages are not there at all."""
    if not transcribe.available():
        abort(404)


def _transcript(section: StorySection, transcript_id: int) -> Transcript:
    found = db.session.get(Transcript, transcript_id)
    if found is None or found.section_id != section.id or found.used_in_version_id is not None:
        abort(404)
    return found


@bp.post("/story/<int:section_id>/voice/<int:item_id>/words")
def ask_words(section_id: int, item_id: int) -> ResponseReturnValue:
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    _transcribing()
    item = db.session.get(MemoryItem, item_id)
    if item is None or item not in voice.voice_notes(section):
        abort(404)
    transcript, queue = voice.request(section, item, signed_in_actor())
    if queue:
        transcribe_voice_note(transcript.id)  # after the commit, like every job
    return redirect(url_for("story.words", section_id=section.id, transcript_id=transcript.id))


def _words_message(transcript: Transcript) -> str:
    if transcript.state is TranscriptState.FAILED:
        return i18n.problem_words(transcript.reason or transcribe.COULD_NOT)
    if transcript.state is TranscriptState.READY:
        return ""
    return _("Listening to your voice note and writing down the words…")


def _render_words(
    section: StorySection, transcript: Transcript, form: WordsForm, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "story/words.html",
        child=section.child,
        section=section,
        transcript=transcript,
        form=form,
        message=_words_message(transcript),
    ), status


@bp.route("/story/<int:section_id>/words/<int:transcript_id>", methods=["GET", "POST"])
def words(section_id: int, transcript_id: int) -> ResponseReturnValue:
    """The child checks (and changes) the words before they are added to the part."""
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    _transcribing()
    transcript = _transcript(section, transcript_id)
    form = WordsForm()
    if request.method == "GET":
        form.words.data = transcript.text
        return _render_words(section, transcript, form)
    if transcript.state is not TranscriptState.READY:
        flash(_("The words aren't ready yet. Please wait a moment."))
        return redirect(url_for("story.words", section_id=section.id, transcript_id=transcript.id))
    if not form.validate_on_submit():
        return _render_words(section, transcript, form, 400)
    try:
        made = voice.use(transcript, form.words.data or "", signed_in_actor())
    except story.StoryError as exc:
        form.words.errors = [i18n.problem_words(words_of(exc))]
        return _render_words(section, transcript, form, 400)
    alerts.section_changed(section, made)
    flash(_("Your words are part of “%(title)s” now.", title=section.title))
    return redirect(url_for("story.edit", section_id=section.id))


@bp.get("/story/<int:section_id>/words/<int:transcript_id>/status")
def words_status(section_id: int, transcript_id: int) -> ResponseReturnValue:
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    _transcribing()
    transcript = _transcript(section, transcript_id)
    done = transcript.state in (TranscriptState.READY, TranscriptState.FAILED)
    return jsonify(state=transcript.state.value, ready=done, message=_words_message(transcript))


@bp.post("/story/<int:section_id>/words/<int:transcript_id>/discard")
def discard_words(section_id: int, transcript_id: int) -> ResponseReturnValue:
    section = load(StorySection, section_id, Action.SECTION_EDIT)
    _transcribing()
    voice.discard(_transcript(section, transcript_id))
    flash(_("Those words were not added. Your voice note is still here."))
    return redirect(url_for("story.edit", section_id=section.id, _anchor="voice-notes"))


# --- "Before you ask me again": for the people a child shares with -----------------------


@bp.get("/shared/<int:child_id>/story")
def shared_story(child_id: int) -> ResponseReturnValue:
    kid = load(Child, child_id, Action.SHARED_VIEW)
    viewer = signed_in_actor()
    sections = story.sections_of(kid)
    sharing.prime_section_consents([kid.id], [s.id for s in sections])
    readable_sections = [s for s in sections if policy.can(viewer, Action.SECTION_READ, s)]
    changes = story.changes_for(viewer, readable_sections)
    readable = lists.page(
        lambda after: pagination.slice_of([(s, *changes[s.id]) for s in readable_sections], after)
    )
    shareable = [s for s in sections if policy.can(viewer, Action.SECTION_SHARE, s)]
    return render_template(
        "story/shared.html",
        child=kid,
        readable=readable,
        shareable=shareable,
        read_on=i18n.read_on,
    )


@bp.get("/shared/story/<int:section_id>")
def read(section_id: int) -> ResponseReturnValue:
    section = load(StorySection, section_id, Action.SECTION_READ)
    viewer = signed_in_actor()
    if can(Action.STORY_VIEW_OWN, section.child):
        return redirect(url_for("story.edit", section_id=section.id))
    latest = section.latest
    if latest is None:
        abort(404)
    previous = story.last_read(section, viewer)
    diff = None
    if previous is not None and previous.version_id != latest.id:
        diff = story.changes(previous.version.body, latest.body)
    items: list[MemoryItem] = [i for i in latest.items if policy.can(viewer, Action.ITEM_VIEW, i)]
    first_time = previous is None
    story.record_read(section, latest, viewer)
    # The receipt is what the child sees; the audit trail keeps the read too.
    audit.record(viewer, Action.SECTION_READ, section)
    db.session.commit()
    if first_time:
        alerts.first_read(section, viewer)
    return render_template(
        "story/read.html",
        child=section.child,
        section=section,
        version=latest,
        previous=previous,
        diff=diff,
        items=items,
        read_on=i18n.read_on,
    )
