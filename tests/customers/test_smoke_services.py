from guanxi.customers.models import Customer


def test_customer_create_stores_normalised_phone_and_pinyin_keys(customer):
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.primary_phone == "+8613812345678"
    assert (stored.name_pinyin, stored.name_initials) == ("zhangsan", "zs")
    assert stored.phones.get().last4 == "5678"
