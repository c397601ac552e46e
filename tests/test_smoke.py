from memorybox.memories.models import ItemStatus
from tests.factories import login_as


def test_young_person_lands_on_their_own_home_page(app, client, world):
    from datetime import timedelta

    from memorybox import clock
    from tests import factories

    today = clock.today()
    a_year_ago = today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29) else None
    factories.item(app, world.child, world.young_person, title="Newest bike")
    if a_year_ago is not None:
        factories.item(
            app, world.child, world.young_person, title="Birthday cake", memory_date=a_year_ago
        )
    factories.item(
        app,
        world.child,
        world.young_person,
        title="Another day",
        memory_date=today - timedelta(days=400),
    )
    factories.item(app, world.child, world.carer, title="From Jo", status=ItemStatus.SUGGESTED)
    login_as(client, world.young_person)
    response = client.get("/")
    assert response.status_code == 200
    page = response.data.decode()
    assert "Hello, Alex" in page
    assert "1 new thing for you to look at" in page
    newest = page[page.index("New in your box") :]
    assert "Newest bike" in newest
    if a_year_ago is not None:
        on_this_day = page[page.index("On this day") : page.index("New in your box")]
        assert "Birthday cake" in on_this_day and "Another day" not in on_this_day
    assert "From Jo" not in newest, "a suggestion is not in the box until it is kept"


def test_a_young_person_without_a_box_yet_is_told_what_to_do(app, client, world):
    from memorybox.accounts.models import Role
    from tests import factories

    orphan = factories.user(app, world.authority, Role.YOUNG_PERSON, "Jamie")
    login_as(client, orphan)
    response = client.get("/")
    assert response.status_code == 200
    assert b"nearly ready" in response.data


def test_signed_in_people_skip_the_login_page(client, world):
    login_as(client, world.carer)
    response = client.get("/login")
    assert response.status_code == 302 and response.location == "/"
