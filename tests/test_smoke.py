from tests.factories import login_as


def test_young_person_lands_on_their_own_box(client, world):
    login_as(client, world.young_person)
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == f"/children/{world.child.id}/box"
    assert b"My box" in response.data


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
