"""The one place that decides who may do what. Deny by default.

Views ask :func:`can` (or :func:`require`, which answers "not found" when the answer is no),
templates ask ``can(...)``; nothing else in the code checks a role or an owner.
Each rule reads live facts (placements, allocations, account state) on every call, so ending
a relationship or disabling an account takes effect on the very next request.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from memorybox import clock
from memorybox.accounts.models import Authority, Invitation, Role, User
from memorybox.children import relationships
from memorybox.children.models import Allocation, Child, Placement
from memorybox.memories.models import BIN_DAYS, ItemStatus, MemoryItem


class Action(enum.StrEnum):
    # A child's box (target: Child)
    BOX_VIEW = "box:view"  # gallery, timeline, suggested list, bin
    ITEM_ADD = "item:add"  # add a new item to this child's box
    CHILD_SEE = "child:see"  # see the child's name in a list (carer, social worker, manager)
    # One item (target: MemoryItem)
    ITEM_VIEW = "item:view"  # its page and its file, inline or downloaded
    ITEM_EDIT = "item:edit"  # title, caption, memory date
    ITEM_DECIDE = "item:decide"  # keep or decline a suggestion
    ITEM_DELETE = "item:delete"  # move to the bin
    ITEM_RESTORE = "item:restore"  # take back out of the bin
    ITEM_PURGE = "item:purge"  # delete for ever, from the bin
    # Running the authority (target: Authority, User, Child, Placement, Allocation, Invitation)
    AUTHORITY_MANAGE = "authority:manage"
    ACCOUNT_MANAGE = "account:manage"
    ACCOUNT_DISABLE = "account:disable"
    CHILD_MANAGE = "child:manage"
    RELATIONSHIP_END = "relationship:end"
    INVITATION_REVOKE = "invitation:revoke"
    # Own pages (target: the actor)
    CARER_HOME = "carer:home"
    CASELOAD_VIEW = "caseload:view"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


DENY = Decision(False, "not allowed")


def _allow(reason: str) -> Decision:
    return Decision(True, reason)


def _deny(reason: str) -> Decision:
    return Decision(False, reason)


def _is_the_child(actor: User, child: Child) -> bool:
    return child.user_id is not None and child.user_id == actor.id


def _manager_of(actor: User, authority_id: int) -> bool:
    return actor.role is Role.MANAGER and actor.authority_id == authority_id


# --- rules about a child's box ----------------------------------------------------------


def _box_view(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("this is your own box")
    return _deny("only the child sees their whole box")


def _item_add(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("this is your own box")
    if actor.role is Role.CARER and relationships.has_active_placement(actor.id, child.id):
        return _allow("carer with an active placement")
    return _deny("no active placement")


def _child_see(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("yourself")
    if actor.authority_id != child.authority_id:
        return _deny("another authority")
    if actor.role is Role.MANAGER:
        return _allow("manager of the child's authority")
    if actor.role is Role.CARER and relationships.has_active_placement(actor.id, child.id):
        return _allow("carer with an active placement")
    if actor.role is Role.SOCIAL_WORKER and relationships.has_active_allocation(actor.id, child.id):
        return _allow("allocated social worker")
    return _deny("no active relationship")


# --- rules about one item ---------------------------------------------------------------


def _item_view(actor: User, item: MemoryItem) -> Decision:
    child = item.child
    if _is_the_child(actor, child):
        return _allow("this is your own box")
    if (
        actor.role is Role.CARER
        and item.added_by_id == actor.id
        and not item.in_bin
        and relationships.has_active_placement(actor.id, child.id)
    ):
        return _allow("you added this during an active placement")
    return _deny("private to the child")


def _owner_only(check: Callable[[MemoryItem], Decision]) -> Callable[[User, MemoryItem], Decision]:
    def rule(actor: User, item: MemoryItem) -> Decision:
        if not _is_the_child(actor, item.child):
            return _deny("only the child changes their box")
        return check(item)

    return rule


def _editable(item: MemoryItem) -> Decision:
    if item.in_bin:
        return _deny("restore it from the bin first")
    return _allow("your item")


def _decidable(item: MemoryItem) -> Decision:
    if item.in_bin or item.status is not ItemStatus.SUGGESTED:
        return _deny("nothing to decide")
    return _allow("a suggestion for you")


def _restorable(item: MemoryItem) -> Decision:
    if item.deleted_at is None:
        return _deny("not in the bin")
    if clock.now() - item.deleted_at > timedelta(days=BIN_DAYS):
        return _deny("the bin keeps things for 30 days")
    return _allow("in your bin")


def _purgeable(item: MemoryItem) -> Decision:
    if item.deleted_at is None:
        return _deny("move it to the bin first")
    return _allow("in your bin")


# --- rules about running an authority --------------------------------------------------


def _authority_manage(actor: User, authority: Authority) -> Decision:
    if _manager_of(actor, authority.id):
        return _allow("manager of this authority")
    return _deny("not a manager here")


def _account_manage(actor: User, user: User) -> Decision:
    if _manager_of(actor, user.authority_id):
        return _allow("manager of this authority")
    return _deny("not a manager here")


def _account_disable(actor: User, user: User) -> Decision:
    if user.id == actor.id:
        return _deny("you cannot switch off your own account")
    return _account_manage(actor, user)


def _child_manage(actor: User, child: Child) -> Decision:
    if _manager_of(actor, child.authority_id):
        return _allow("manager of this authority")
    return _deny("not a manager here")


def _relationship_end(actor: User, rel: Placement | Allocation) -> Decision:
    if not _manager_of(actor, rel.child.authority_id):
        return _deny("not a manager here")
    if rel.state == "ended":
        return _deny("already ended")
    return _allow("manager of this authority")


def _invitation_revoke(actor: User, invitation: Invitation) -> Decision:
    if not _manager_of(actor, invitation.authority_id):
        return _deny("not a manager here")
    if not invitation.is_usable:
        return _deny("no longer waiting")
    return _allow("manager of this authority")


def _carer_home(actor: User, target: User) -> Decision:
    if actor.role is Role.CARER and target.id == actor.id:
        return _allow("your own page")
    return _deny("carers only")


def _caseload_view(actor: User, target: User) -> Decision:
    if actor.role is Role.SOCIAL_WORKER and target.id == actor.id:
        return _allow("your own caseload")
    return _deny("social workers only")


RULES: dict[tuple[Action, type], Callable[[User, Any], Decision]] = {
    (Action.BOX_VIEW, Child): _box_view,
    (Action.ITEM_ADD, Child): _item_add,
    (Action.CHILD_SEE, Child): _child_see,
    (Action.ITEM_VIEW, MemoryItem): _item_view,
    (Action.ITEM_EDIT, MemoryItem): _owner_only(_editable),
    (Action.ITEM_DECIDE, MemoryItem): _owner_only(_decidable),
    (Action.ITEM_DELETE, MemoryItem): _owner_only(_editable),
    (Action.ITEM_RESTORE, MemoryItem): _owner_only(_restorable),
    (Action.ITEM_PURGE, MemoryItem): _owner_only(_purgeable),
    (Action.AUTHORITY_MANAGE, Authority): _authority_manage,
    (Action.ACCOUNT_MANAGE, User): _account_manage,
    (Action.ACCOUNT_DISABLE, User): _account_disable,
    (Action.CHILD_MANAGE, Child): _child_manage,
    (Action.RELATIONSHIP_END, Placement): _relationship_end,
    (Action.RELATIONSHIP_END, Allocation): _relationship_end,
    (Action.INVITATION_REVOKE, Invitation): _invitation_revoke,
    (Action.CARER_HOME, User): _carer_home,
    (Action.CASELOAD_VIEW, User): _caseload_view,
}


def can(actor: Any, action: Action | str, target: Any) -> Decision:
    """May ``actor`` do ``action`` to ``target``? Anything without a rule is denied."""
    if actor is None or not isinstance(actor, User) or not actor.is_active:
        return _deny("not signed in")
    if target is None:
        return DENY
    try:
        action = Action(action)
    except ValueError:
        return _deny("unknown action")
    rule = RULES.get((action, type(target)))
    if rule is None:
        return _deny("no rule for this")
    return rule(actor, target)
