from tests.factories import login_as


def test_young_person_lands_on_their_own_box(client, world):
    login_as(client, world.young_person)
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == f"/children/{world.child.id}/box"
    assert b"My box" in response.data
