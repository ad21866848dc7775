"""The list's rows are written in Python (customers/list_cells.py): what a customer typed
into their record is shown as text, never as markup, and the header menu reused across
requests still marks the page the user is on."""

from tests.conftest import new_customer

LIST = "/customers/"


def test_markup_in_a_customers_fields_is_shown_as_text_on_the_list(client, owner):
    new_customer(owner, "<b>王</b>", ("13900000001",), company='<img src=x onerror="a">&')
    client.force_login(owner)
    html = client.get(LIST, {"q": "王"}).content.decode()
    assert "<b>王</b>" not in html and "<img src=x" not in html
    assert "&lt;b&gt;<mark>王</mark>&lt;/b&gt;" in html  # escaped, the match highlighted
    assert "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;" in html


def test_an_editable_cell_carries_its_editor_and_a_masked_phone_is_masked(client, owner):
    c = new_customer(owner, "李四", ("13900000002",), company="华强电子")
    client.force_login(owner)
    html = client.get(LIST).content.decode()
    assert f'hx-get="/customers/{c.pk}/cell/company/"' in html
    assert f'<td id="cell-{c.pk}-phone" data-column="phone" class="masked text-nowrap">' in html


def test_the_reused_menu_marks_the_page_the_user_is_on(client, owner, customer):
    client.force_login(owner)
    client.get("/")  # the home page's menu rendered (and kept) first
    html = client.get(LIST).content.decode()
    assert 'class="nav-link active" aria-current="page" href="/customers/"' in html
    home = client.get("/").content.decode()
    assert 'class="nav-link active" aria-current="page" href="/"' in home
