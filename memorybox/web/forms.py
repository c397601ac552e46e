"""Forms (Flask-WTF: every one carries a CSRF token). Role, owner and child fields are never
taken on trust: views check every choice against policy and the authority."""

from __future__ import annotations

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
        "Email address",
        validators=[DataRequired("Please type your email address."), Length(max=254)],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Please type your password."), Length(max=MAX_LENGTH)]
    )


class AcceptInvitationForm(FlaskForm):
    token = StringField(
        "Your invite code",
        validators=[DataRequired("Please paste the invite code from your link."), Length(max=200)],
    )
    password = PasswordField(
        "Choose a password", validators=[DataRequired("Please choose a password."), _good_password]
    )
    confirm = PasswordField(
        "Type it again",
        validators=[
            DataRequired("Please type your password again."),
            EqualTo("password", "The two passwords are different. Please try again."),
        ],
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Your password now", validators=[DataRequired("Please type your password now.")]
    )
    password = PasswordField(
        "New password", validators=[DataRequired("Please choose a new password."), _good_password]
    )
    confirm = PasswordField(
        "Type the new password again",
        validators=[
            DataRequired("Please type it again."),
            EqualTo("password", "The two passwords are different. Please try again."),
        ],
    )


class ItemDetailsForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            DataRequired("Please give it a title."),
            Length(max=TITLE_MAX, message=f"Titles can have up to {TITLE_MAX} letters."),
        ],
    )
    caption = TextAreaField(
        "What is this memory about? (you can leave this empty)",
        validators=[
            Optional(),
            Length(max=CAPTION_MAX, message=f"Please keep this under {CAPTION_MAX} letters."),
        ],
    )
    memory_date = DateField(
        "When is this memory from? (you can leave this empty)",
        validators=[Optional()],
    )


class AddItemForm(ItemDetailsForm):
    file = FileField("Choose a file")
    content_note = TextAreaField(
        "Is there something hard about this? (you don't have to say)",
        validators=[Optional(), Length(max=300, message="Please keep this under 300 letters.")],
    )
    # Set by the page's script when the file went up in resumable parts instead.
    upload = HiddenField(validators=[Optional(), Length(max=32)])

    def validate_file(self, field: FileField) -> None:
        if not field.data and not self.upload.data:
            raise ValidationError("Please choose a file to add.")


class InviteForm(FlaskForm):
    display_name = StringField(
        "Their name", validators=[DataRequired("Please type their name."), Length(max=80)]
    )
    email = EmailField(
        "Their email address",
        validators=[
            DataRequired("Please type their email address."),
            Email("That doesn't look like an email address.", check_deliverability=False),
            Length(max=254),
        ],
    )
    role = SelectField(
        "What they do",
        choices=[SelectChoice(r.value, r.label) for r in Role],
        validators=[DataRequired()],
    )
    child_id = SelectField(
        "For a young person: which child is this login for?", choices=[], validate_choice=False
    )


class ChildForm(FlaskForm):
    display_name = StringField(
        "Name the child likes to be called",
        validators=[DataRequired("Please type a name."), Length(max=80)],
    )
    date_of_birth = DateField("Date of birth (optional)", validators=[Optional()])


class RelationshipForm(FlaskForm):
    person_id = SelectField(
        "Who",
        choices=[],
        validate_choice=False,
        validators=[DataRequired("Please choose someone.")],
    )
    start_date = DateField("Start date", validators=[DataRequired("Please give a start date.")])
    end_date = DateField("End date (optional)", validators=[Optional()])


class ShareForm(FlaskForm):
    audience = RadioField(
        "Who can see it?",
        choices=[
            SelectChoice("carers", "My foster carers (whoever looks after me now)"),
            SelectChoice("social_worker", "My social worker (whoever it is now)"),
            SelectChoice("person", "One person I choose"),
        ],
        validators=[DataRequired("Please choose who can see it.")],
    )
    person_id = SelectField("Which person?", choices=[], validate_choice=False)
    ends_on = DateField(
        "Stop sharing on this date (you can leave this empty)", validators=[Optional()]
    )
    childs_wishes = TextAreaField(
        "What does the child want? Write it in their words.",
        validators=[Optional(), Length(max=2000, message="Please keep this under 2000 letters.")],
    )


class AlbumForm(FlaskForm):
    name = StringField(
        "Name your album",
        validators=[
            DataRequired("Please give your album a name."),
            Length(max=80, message="Album names can have up to 80 letters."),
        ],
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        "Write a comment",
        validators=[
            DataRequired("Please write something first."),
            Length(max=1000, message="Please keep comments under 1000 letters."),
        ],
    )


class TalkForm(FlaskForm):
    words = TextAreaField(
        "Do you want to say anything? (you don't have to)",
        validators=[Optional(), Length(max=500, message="Please keep this under 500 letters.")],
    )
    show_item = RadioField(
        "Can your social worker see this, so you can talk about it?",
        choices=[
            SelectChoice("yes", "Yes, they can see it"),
            SelectChoice("no", "No, just tell them I'd like to talk"),
        ],
        validators=[DataRequired("Please choose yes or no.")],
    )


class AuthoritySettingsForm(FlaskForm):
    self_sharing_age = IntegerField(
        "Age from which young people decide about sharing themselves",
        validators=[
            DataRequired("Please give an age."),
            NumberRange(min=8, max=25, message="Please choose an age from 8 to 25."),
        ],
    )
    moderation_required = BooleanField("Items from adults wait for the social worker's approval")
    help_escalation_hours = IntegerField(
        "Working hours before an “I need help” nobody has seen goes to the duty team and "
        "team managers",
        validators=[
            Optional(),
            NumberRange(min=0, max=40, message="Please choose from 0 to 40 hours."),
        ],
    )
    duty_email = EmailField(
        "Duty team email (for “I need help” when a child has no social worker)",
        validators=[
            Optional(),
            Email("That doesn't look like an email address.", check_deliverability=False),
            Length(max=254),
        ],
    )
