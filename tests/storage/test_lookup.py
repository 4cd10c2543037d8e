"""Find-as-you-type and message look-ups on both engines: best matches first, bounded however many match."""

from __future__ import annotations

from sqlmodel import Session

from storage.lookup import customers_at_domain, customers_by_email, customers_named, suggest_customers
from tests.factories import add_customer


def _fill(session: Session) -> None:
    add_customer(session, "Quokka Robotics", email="ops@quokka.example", seats=12)
    add_customer(session, "Big Quokka Farms", email="farm@bigq.example")
    add_customer(session, "Quokkaville Bakery", email="hello@bakery.example")
    add_customer(session, "Acme", email="quokka-fan@acme.example")
    add_customer(session, "Straße Café", email="info@strasse.example")
    add_customer(session, "Initech Labs", email="lumbergh@eu.initech.example", external_id="cus_42")
    for i in range(150):
        add_customer(session, f"Labs {i:03d}", email=f"owner{i}@labs{i}.example")


def _orgs(found: list) -> list[str]:  # type: ignore[type-arg]
    return [f.organization for f in found]


def test_typed_letters_find_names_starting_with_them_first(session: Session) -> None:
    _fill(session)
    assert _orgs(suggest_customers(session=session, typed="quokk")) == [
        "Quokka Robotics", "Quokkaville Bakery", "Big Quokka Farms", "Acme"]
    assert _orgs(suggest_customers(session=session, typed="  QUOKKA   robotics ")) == ["Quokka Robotics"]
    assert _orgs(suggest_customers(session=session, typed="straße")) == ["Straße Café"]
    assert suggest_customers(session=session, typed="zz-nothing") == []


def test_whole_addresses_ids_and_short_names_are_found_exactly(session: Session) -> None:
    _fill(session)
    [found] = suggest_customers(session=session, typed="OPS@quokka.example")
    assert (found.organization, found.email, found.seats, found.status) == ("Quokka Robotics", "ops@quokka.example",
                                                                             12, "active")
    assert _orgs(suggest_customers(session=session, typed="cus_42")) == ["Initech Labs"]
    assert _orgs(suggest_customers(session=session, typed="acme")) == ["Acme"]
    assert suggest_customers(session=session, typed="qu") == []  # two letters: no trigram, no exact name


def test_suggestions_stop_at_the_limit_however_many_match(session: Session) -> None:
    _fill(session)
    assert len(suggest_customers(session=session, typed="labs")) == 100
    assert len(suggest_customers(session=session, typed="labs", limit=5)) == 5


def test_message_keys_find_customers_by_address_domain_and_name(session: Session) -> None:
    _fill(session)
    by_email = customers_by_email(session=session, emails=["OPS@Quokka.example", "nobody@x.example"])
    assert _orgs(list(by_email.values())) == ["Quokka Robotics"]
    assert _orgs(customers_at_domain(session=session, domain="initech.example", limit=5)) == ["Initech Labs"]
    assert _orgs(customers_at_domain(session=session, domain="www.acme.example", limit=5)) == ["Acme"]
    assert customers_at_domain(session=session, domain="quokka", limit=5) == []
    assert _orgs(customers_named(session=session, name="quokka", limit=5)) == ["Quokka Robotics"]
    assert _orgs(customers_named(session=session, name="Initech Labs", limit=5)) == ["Initech Labs"]
    assert customers_named(session=session, name="Robotics", limit=5) == []
