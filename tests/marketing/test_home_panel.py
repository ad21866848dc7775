"""The marketer's home page (issue 18): segments, campaigns and consent counts; nobody
outside marketing gets the panel."""


def test_a_marketer_lands_on_segments_campaigns_and_consent(client, marketer, owner):
    client.force_login(marketer)
    html = client.get("/").content.decode()
    assert 'data-panel="marketing.today"' in html
    assert 'data-figure="segments">0<' in html
    client.force_login(owner)
    assert 'data-panel="marketing.today"' not in client.get("/").content.decode()
