"""Forms (Flask-WTF: every one carries a CSRF token). Role, owner and child fields are never
taken on trust: views check every choice against policy and the authority."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from memorybox import i18n
from memorybox.accounts.models import Role
from memorybox.accounts.passwords import MAX_LENGTH, password_problem
from memorybox.memories.services import CAPTION_MAX, TITLE_MAX


def _good_password(_form: FlaskForm, field: PasswordField) -> None:
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token is needed."""


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Please type your email address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please type your password.")), Length(max=MAX_LENGTH)],
    )


class AcceptInvitationForm(FlaskForm):
    token = StringField(
        _l("Your invite code"),
        validators=[
            DataRequired(_l("Please paste the invite code from your link.")),
            Length(max=200),
        ],
    )
    password = PasswordField(
        _l("Choose a password"),
        validators=[DataRequired(_l("Please choose a password.")), _good_password],
    )
    confirm = PasswordField(
        _l("Type it again"),
        validators=[
            DataRequired(_l("Please type your password again.")),
            EqualTo("password", _l("The two passwords are different. Please try again.")),
        ],
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        _l("Your password now"), validators=[DataRequired(_l("Please type your password now."))]
    )
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Please choose a new password.")), _good_password],
    )
    confirm = PasswordField(
        _l("Type the new password again"),
        validators=[
            DataRequired(_l("Please type it again.")),
            EqualTo("password", _l("The two passwords are different. Please try again.")),
        ],
    )


class ItemDetailsForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Please give it a title.")),
            Length(max=TITLE_MAX, message=i18n.up_to_letters(TITLE_MAX)),
        ],
    )
    caption = TextAreaField(
        _l("What is this memory about? (you can leave this empty)"),
        validators=[
            Optional(),
            Length(max=CAPTION_MAX, message=i18n.keep_under(CAPTION_MAX)),
        ],
    )
    memory_date = DateField(
        _l("When is this memory from? (you can leave this empty)"),
        validators=[Optional()],
    )


class AddItemForm(ItemDetailsForm):
    file = FileField(_l("Choose a file"))
    content_note = TextAreaField(
        _l("Is there something hard about this? (you don't have to say)"),
        validators=[Optional(), Length(max=300, message=i18n.keep_under(300))],
    )
    # Set by the page's script when the file went up in resumable parts instead.
    upload = HiddenField(validators=[Optional(), Length(max=32)])

    def validate_file(self, field: FileField) -> None:
        if not field.data and not self.upload.data:
            raise ValidationError(_l("Please choose a file to add."))


class InviteForm(FlaskForm):
    display_name = StringField(
        _l("Their name"), validators=[DataRequired(_l("Please type their name.")), Length(max=80)]
    )
    email = EmailField(
        _l("Their email address"),
        validators=[
            DataRequired(_l("Please type their email address.")),
            Email(_l("That doesn't look like an email address."), check_deliverability=False),
            Length(max=254),
        ],
    )
    role = SelectField(
        _l("What they do"),
        choices=[
            SelectChoice(r.value, LazyString(lambda r=r: r.label))
            for r in Role
            if r is not Role.CONTRIBUTOR  # invited by the social worker, for one child
        ],
        validators=[DataRequired()],
    )
    child_id = SelectField(
        _l("For a young person: which child is this login for?"), choices=[], validate_choice=False
    )


class ChildForm(FlaskForm):
    display_name = StringField(
        _l("Name the child likes to be called"),
        validators=[DataRequired(_l("Please type a name.")), Length(max=80)],
    )
    date_of_birth = DateField(_l("Date of birth (optional)"), validators=[Optional()])


class RelationshipForm(FlaskForm):
    person_id = SelectField(
        _l("Who"),
        choices=[],
        validate_choice=False,
        validators=[DataRequired(_l("Please choose someone."))],
    )
    start_date = DateField(
        _l("Start date"), validators=[DataRequired(_l("Please give a start date."))]
    )
    end_date = DateField(_l("End date (optional)"), validators=[Optional()])


class ShareForm(FlaskForm):
    audience = RadioField(
        _l("Who can see it?"),
        choices=[
            SelectChoice("carers", _l("My foster carers (whoever looks after me now)")),
            SelectChoice("social_worker", _l("My social worker (whoever it is now)")),
            SelectChoice("person", _l("One person I choose")),
        ],
        validators=[DataRequired(_l("Please choose who can see it."))],
    )
    person_id = SelectField(_l("Which person?"), choices=[], validate_choice=False)
    ends_on = DateField(
        _l("Stop sharing on this date (you can leave this empty)"), validators=[Optional()]
    )
    childs_wishes = TextAreaField(
        _l("What does the child want? Write it in their words."),
        validators=[Optional(), Length(max=2000, message=i18n.keep_under(2000))],
    )


class AlbumForm(FlaskForm):
    name = StringField(
        _l("Name your album"),
        validators=[
            DataRequired(_l("Please give your album a name.")),
            Length(max=80, message=_l("Album names can have up to 80 letters.")),
        ],
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Write a comment"),
        validators=[
            DataRequired(_l("Please write something first.")),
            Length(max=1000, message=_l("Please keep comments under 1000 letters.")),
        ],
    )


class TalkForm(FlaskForm):
    words = TextAreaField(
        _l("Do you want to say anything? (you don't have to)"),
        validators=[Optional(), Length(max=500, message=i18n.keep_under(500))],
    )
    show_item = RadioField(
        _l("Can your social worker see this, so you can talk about it?"),
        choices=[
            SelectChoice("yes", _l("Yes, they can see it")),
            SelectChoice("no", _l("No, just tell them I'd like to talk")),
        ],
        validators=[DataRequired(_l("Please choose yes or no."))],
    )


class AuthoritySettingsForm(FlaskForm):
    self_sharing_age = IntegerField(
        _l("Age from which young people decide about sharing themselves"),
        validators=[
            DataRequired(_l("Please give an age.")),
            NumberRange(min=8, max=25, message=_l("Please choose an age from 8 to 25.")),
        ],
    )
    moderation_required = BooleanField(
        _l("Items from adults wait for the social worker's approval")
    )
    carer_second_factor = BooleanField(
        _l("Foster carers sign in with a code from their phone too, as staff do")
    )
    help_escalation_hours = IntegerField(
        _l(
            "Working hours before an “I need help” nobody has seen goes to the duty team and "
            "team managers"
        ),
        validators=[
            Optional(),
            NumberRange(min=0, max=40, message=_l("Please choose from 0 to 40 hours.")),
        ],
    )
    duty_email = EmailField(
        _l("Duty team email (for “I need help” when a child has no social worker)"),
        validators=[
            Optional(),
            Email(_l("That doesn't look like an email address."), check_deliverability=False),
            Length(max=254),
        ],
    )
    retention_years = IntegerField(
        _l("Years to keep the record of a deleted account"),
        validators=[
            Optional(),
            NumberRange(min=1, max=25, message=_l("Please choose from 1 to 25 years.")),
        ],
    )
