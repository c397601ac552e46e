"""Managers run their authority: people, invitations, children, placements, allocations.

Managers never see what is inside a child's box."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from memorybox import clock, i18n, pagination
from memorybox.accounts import second_factor
from memorybox.accounts import services as accounts
from memorybox.accounts.models import Authority, Invitation, Role, User
from memorybox.audit import service as audit
from memorybox.children import relationships
from memorybox.children import services as children
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db
from memorybox.notifications import help as helping
from memorybox.policy import Action
from memorybox.story import services as story
from memorybox.story.models import StoryPrompt
from memorybox.web import attention, lists
from memorybox.web.access import load, require, signed_in_actor, signed_in_only
from memorybox.web.forms import (
    AuthoritySettingsForm,
    ChildForm,
    ConfirmForm,
    InviteForm,
    RelationshipForm,
)
from memorybox.web.story import PromptForm
from memorybox.words import words_of

bp = Blueprint("manage", __name__, url_prefix="/manage")


signed_in_only(bp)


def _authority() -> Authority:
    user = signed_in_actor()
    require(Action.AUTHORITY_MANAGE, user.authority)
    return user.authority


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@bp.get("")
def overview() -> str:
    authority = _authority()
    kids = children.children_of(authority)
    return render_template(
        "manage/overview.html",
        authority=authority,
        people=accounts.people(authority),
        children=kids,
        invitations=[i for i in accounts.pending_invitations(authority) if i.is_usable],
        open_help=len(helping.open_requests([c.id for c in kids])),
    )


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> ResponseReturnValue:
    authority = _authority()
    form = AuthoritySettingsForm(obj=authority)
    if form.validate_on_submit():
        authority.self_sharing_age = form.self_sharing_age.data or 12
        authority.moderation_required = bool(form.moderation_required.data)
        authority.carer_second_factor = bool(form.carer_second_factor.data)
        if form.help_escalation_hours.data is not None:
            authority.help_escalation_hours = form.help_escalation_hours.data
        authority.duty_email = (form.duty_email.data or "").strip().lower()
        if form.retention_years.data is not None:
            authority.retention_years = form.retention_years.data
        db.session.commit()
        flash(_("Settings saved."))
        return redirect(url_for("manage.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("manage/settings.html", form=form), status


@bp.get("/people")
def people() -> str:
    authority = _authority()
    return render_template(
        "manage/people.html",
        authority=authority,
        people=lists.page(lambda after: accounts.people_page(authority, after)),
        invitations=accounts.pending_invitations(authority),
        invitations_shown=accounts.INVITATIONS_SHOWN,
    )


@bp.route("/people/invite", methods=["GET", "POST"])
def invite() -> ResponseReturnValue:
    authority = _authority()
    form = InviteForm()
    form.child_id.choices = [SelectChoice("", _("Not a young person"))] + [
        SelectChoice(str(c.id), c.display_name) for c in children.children_without_login(authority)
    ]
    if form.validate_on_submit():
        child = None
        child_id = _int_or_none(form.child_id.data)
        if child_id is not None:
            child = db.session.get(Child, child_id)
            if child is None or child.authority_id != authority.id:
                child = None
                form.child_id.errors = [_("Please choose a child from your authority.")]
                return render_template("manage/invite.html", form=form), 400
        try:
            issued = accounts.invite(
                authority=authority,
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                role=Role(form.role.data),
                invited_by=signed_in_actor(),
                days_valid=current_app.config["INVITATION_DAYS"],
                child=child,
            )
        except accounts.InvitationError as exc:
            form.email.errors = [i18n.problem_words(words_of(exc))]
            return render_template("manage/invite.html", form=form), 400
        link = invitation_link(issued.token)
        return render_template(
            "manage/invite_created.html", invitation=issued.invitation, link=link
        ), 201
    status = 400 if request.method == "POST" else 200
    return render_template("manage/invite.html", form=form), status


def invitation_link(token: str) -> str:
    """The token rides in the fragment, which browsers never send to the server."""
    return f"{current_app.config['BASE_URL']}{url_for('auth.accept_invitation')}#{token}"


@bp.post("/invitations/<int:invitation_id>/revoke")
def revoke_invitation(invitation_id: int) -> Response:
    invitation = load(Invitation, invitation_id, Action.INVITATION_REVOKE)
    accounts.revoke_invitation(invitation)
    flash(_("The invitation for %(name)s has been cancelled.", name=invitation.display_name))
    return redirect(url_for("manage.people"))


@bp.get("/people/<int:user_id>")
def person(user_id: int) -> str:
    user = load(User, user_id, Action.ACCOUNT_MANAGE)
    managers = (
        children.people_with_role(user.authority, Role.MANAGER)
        if user.role is Role.SOCIAL_WORKER
        else []
    )
    return render_template("manage/person.html", person=user, managers=managers)


@bp.post("/people/<int:user_id>/team-manager")
def team_manager(user_id: int) -> Response:
    """Who is told when help sent to this social worker is not acknowledged in time."""
    user = load(User, user_id, Action.ACCOUNT_MANAGE)
    chosen = _int_or_none(request.form.get("team_manager_id"))
    manager = db.session.get(User, chosen) if chosen is not None else None
    if user.role is not Role.SOCIAL_WORKER:
        flash(_("Only social workers have a team manager."))
    elif chosen is not None and (
        manager is None
        or manager.role is not Role.MANAGER
        or manager.authority_id != user.authority_id
    ):
        flash(_("Please choose a manager from your authority."))
    else:
        user.team_manager_id = manager.id if manager is not None else None
        db.session.commit()
        flash(
            _(
                "Saved. %(manager)s is %(name)s's team manager.",
                manager=manager.display_name,
                name=user.display_name,
            )
            if manager is not None
            else _(
                "Saved. Help %(name)s does not answer in time goes to every manager.",
                name=user.display_name,
            )
        )
    return redirect(url_for("manage.person", user_id=user.id))


@bp.get("/caseloads")
def caseloads() -> str:
    """For each social worker, how much needs them, never what: so help nobody has
    acknowledged cannot sit unseen while a worker is away. Worked out as each worker would
    see it, for all of them at once."""
    authority = _authority()
    workers = children.people_with_role(authority, Role.SOCIAL_WORKER)
    relationships.prime_people(w.id for w in workers)
    today = clock.today()
    allocated = {w.id: relationships.children_allocated_ids(w.id, today) for w in workers}
    kids = {c.id: c for c in children.children_by_id(set().union(*allocated.values()))}
    pairs = [(w, kids[c]) for w in workers for c in sorted(allocated[w.id]) if c in kids]
    found = attention.gather(pairs)
    rows = []
    for worker in workers:
        counts: Counter[str] = Counter()
        for child_id in allocated[worker.id]:
            if (worker.id, child_id) in found:
                counts.update(found[(worker.id, child_id)].counts)
        rows.append((worker, len(allocated[worker.id]), counts))
    rows.sort(key=lambda row: (-row[2]["help"], -sum(row[2].values()), row[0].display_name))
    return render_template(
        "manage/caseloads.html",
        rows=lists.page(lambda after: pagination.slice_of(rows, after)),
        kinds=attention.HEADINGS,
        unallocated_help=helping.open_without_worker(authority),
    )


@bp.post("/people/<int:user_id>/disable")
def disable(user_id: int) -> Response:
    user = load(User, user_id, Action.ACCOUNT_DISABLE)
    accounts.disable(user)
    flash(
        _(
            "%(name)s's account is switched off. They have been signed out everywhere.",
            name=user.display_name,
        )
    )
    return redirect(url_for("manage.person", user_id=user.id))


@bp.post("/people/<int:user_id>/enable")
def enable(user_id: int) -> Response:
    user = load(User, user_id, Action.ACCOUNT_DISABLE)
    accounts.enable(user)
    flash(_("%(name)s's account is switched on again.", name=user.display_name))
    return redirect(url_for("manage.person", user_id=user.id))


@bp.route("/people/<int:user_id>/second-factor/reset", methods=["GET", "POST"])
def reset_second_factor(user_id: int) -> ResponseReturnValue:
    """When someone has lost their phone and recovery codes: after a confirmation page,
    their second factor is forgotten, every session and remembered device of theirs ends,
    and they set a new one up when they next sign in. Never your own (another manager
    does that)."""
    user = load(User, user_id, Action.SECOND_FACTOR_RESET)
    if request.method == "GET":
        return render_template("manage/reset_second_factor.html", person=user)
    second_factor.reset(user)
    audit.record(signed_in_actor(), Action.SECOND_FACTOR_RESET, user)
    db.session.commit()
    flash(
        _(
            "%(name)s's second step is reset. They have been signed out everywhere and will "
            "set up a new one when they next sign in.",
            name=user.display_name,
        )
    )
    return redirect(url_for("manage.person", user_id=user.id))


@bp.get("/children")
def child_list() -> str:
    authority = _authority()
    return render_template(
        "manage/children.html",
        children=lists.page(lambda after: children.children_page(authority, after)),
    )


@bp.route("/children/new", methods=["GET", "POST"])
def new_child() -> ResponseReturnValue:
    authority = _authority()
    form = ChildForm()
    if form.validate_on_submit():
        child = children.add_child(authority, form.display_name.data or "", form.date_of_birth.data)
        flash(_("%(name)s has been added.", name=child.display_name))
        return redirect(url_for("manage.child", child_id=child.id))
    status = 400 if request.method == "POST" else 200
    return render_template("manage/child_new.html", form=form), status


def _relationship_forms(child: Child) -> tuple[RelationshipForm, RelationshipForm]:
    placement_form = RelationshipForm(prefix="placement")
    placement_form.person_id.label.text = _("Foster carer")
    placement_form.person_id.choices = [
        SelectChoice(str(u.id), u.display_name)
        for u in children.people_with_role(child.authority, Role.CARER)
    ]
    allocation_form = RelationshipForm(prefix="allocation")
    allocation_form.person_id.label.text = _("Social worker")
    allocation_form.person_id.choices = [
        SelectChoice(str(u.id), u.display_name)
        for u in children.people_with_role(child.authority, Role.SOCIAL_WORKER)
    ]
    return placement_form, allocation_form


def _render_child(child: Child, status: int = 200) -> ResponseReturnValue:
    placement_form, allocation_form = _relationship_forms(child)
    return _render_child_with(child, placement_form, allocation_form, status)


def _render_child_with(
    child: Child,
    placement_form: RelationshipForm,
    allocation_form: RelationshipForm,
    status: int = 200,
) -> ResponseReturnValue:
    return render_template(
        "manage/child.html",
        child=child,
        placements=children.placements_of(child),
        allocations=children.allocations_of(child),
        placement_form=placement_form,
        allocation_form=allocation_form,
    ), status


@bp.get("/children/<int:child_id>")
def child(child_id: int) -> ResponseReturnValue:
    return _render_child(load(Child, child_id, Action.CHILD_MANAGE))


def _record(child_id: int, kind: str) -> ResponseReturnValue:
    child = load(Child, child_id, Action.CHILD_MANAGE)
    placement_form, allocation_form = _relationship_forms(child)
    form = placement_form if kind == "placement" else allocation_form
    if not form.validate_on_submit():
        return _render_child_with(child, placement_form, allocation_form, 400)
    person = db.session.get(User, _int_or_none(form.person_id.data) or 0)
    record = children.place if kind == "placement" else children.allocate
    try:
        record(child, person, form.start_date.data, form.end_date.data, signed_in_actor())
    except children.RelationshipError as exc:
        form.person_id.errors = [i18n.problem_words(words_of(exc))]
        return _render_child_with(child, placement_form, allocation_form, 400)
    flash(_("Saved."))
    return redirect(url_for("manage.child", child_id=child.id))


@bp.post("/children/<int:child_id>/placements")
def add_placement(child_id: int) -> ResponseReturnValue:
    return _record(child_id, "placement")


@bp.post("/children/<int:child_id>/allocations")
def add_allocation(child_id: int) -> ResponseReturnValue:
    return _record(child_id, "allocation")


@bp.post("/placements/<int:placement_id>/end")
def end_placement(placement_id: int) -> Response:
    placement = load(Placement, placement_id, Action.RELATIONSHIP_END)
    children.end_now(placement)
    flash(_("The placement with %(name)s has ended today.", name=placement.carer.display_name))
    return redirect(url_for("manage.child", child_id=placement.child_id))


@bp.post("/allocations/<int:allocation_id>/end")
def end_allocation(allocation_id: int) -> Response:
    allocation = load(Allocation, allocation_id, Action.RELATIONSHIP_END)
    children.end_now(allocation)
    flash(_("%(name)s's allocation has ended today.", name=allocation.social_worker.display_name))
    return redirect(url_for("manage.child", child_id=allocation.child_id))


# --- My Story prompts -----------------------------------------------------------------------


def _render_prompts(
    authority: Authority, add_form: PromptForm, failed: tuple[int, PromptForm] | None = None
) -> ResponseReturnValue:
    prompts = story.prompts_of(authority)
    forms = {}
    for prompt in prompts:
        if failed is not None and failed[0] == prompt.id:
            forms[prompt.id] = failed[1]
        else:
            forms[prompt.id] = PromptForm(formdata=None, obj=prompt, prefix=f"p{prompt.id}")
    status = 400 if failed is not None or add_form.errors or add_form.is_submitted() else 200
    return render_template(
        "story/prompts.html", prompts=prompts, forms=forms, add_form=add_form
    ), status


@bp.route("/story-prompts", methods=["GET", "POST"])
def story_prompts() -> ResponseReturnValue:
    """Add a prompt (POST) or see them all, in the order children see them."""
    authority = _authority()
    if request.method == "GET":
        return _render_prompts(authority, PromptForm(formdata=None))
    form = PromptForm()
    if form.validate_on_submit():
        try:
            prompt = story.add_prompt(authority, form.title.data or "", form.hint.data or "")
        except story.StoryError as exc:
            form.title.errors = [i18n.problem_words(words_of(exc))]
        else:
            flash(
                _(
                    "Added “%(title)s”. Children see it at the end of their story.",
                    title=prompt.title,
                )
            )
            return redirect(url_for("manage.story_prompts"))
    return _render_prompts(authority, form)


@bp.post("/story-prompts/<int:prompt_id>/rename")
def rename_story_prompt(prompt_id: int) -> ResponseReturnValue:
    prompt = load(StoryPrompt, prompt_id, Action.STORY_PROMPT_MANAGE)
    form = PromptForm(prefix=f"p{prompt.id}")
    if form.validate_on_submit():
        try:
            story.rename_prompt(prompt, form.title.data or "", form.hint.data or "")
        except story.StoryError as exc:
            form.title.errors = [i18n.problem_words(words_of(exc))]
        else:
            flash(_("Saved “%(title)s”.", title=prompt.title))
            return redirect(url_for("manage.story_prompts"))
    return _render_prompts(prompt.authority, PromptForm(formdata=None), (prompt.id, form))


@bp.post("/story-prompts/<int:prompt_id>/move")
def move_story_prompt(prompt_id: int) -> Response:
    prompt = load(StoryPrompt, prompt_id, Action.STORY_PROMPT_MANAGE)
    if ConfirmForm().validate_on_submit():
        story.move_prompt(prompt, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("manage.story_prompts"))


@bp.post("/story-prompts/<int:prompt_id>/hide")
def hide_story_prompt(prompt_id: int) -> Response:
    prompt = load(StoryPrompt, prompt_id, Action.STORY_PROMPT_MANAGE)
    if ConfirmForm().validate_on_submit():
        hide = not prompt.is_hidden
        story.set_prompt_hidden(prompt, hide)
        flash(
            _(
                "“%(title)s” is hidden. Children who already wrote in it keep their words.",
                title=prompt.title,
            )
            if hide
            else _("“%(title)s” is showing again.", title=prompt.title)
        )
    return redirect(url_for("manage.story_prompts"))
