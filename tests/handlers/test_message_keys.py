"""Reading what a message names: addresses (Slack's mailto markup too), domains and organization names."""

from __future__ import annotations

from handlers.message_keys import MAX_KEYS, message_keys


def test_addresses_domains_and_names_come_out_of_slack_markup() -> None:
    keys = message_keys("Hi team, <mailto:ops@quokka.example|ops@quokka.example> from Quokka Robotics asked about "
                        "seats. See <https://www.acme.example/pricing|pricing> and globex.io. Thanks!")
    assert keys.emails == ["ops@quokka.example"]
    assert keys.domains == ["acme.example", "globex.io"]
    assert keys.names == ["Quokka Robotics"]


def test_quoted_names_forwarded_addresses_and_repeats() -> None:
    keys = message_keys('Fwd: "initech labs" wants an invoice; contact Jane.Doe@Initech.example '
                        "(jane.doe@initech.example) &amp; <mailto:billing@initech.example?subject=x|billing>")
    assert keys.emails == ["Jane.Doe@Initech.example", "billing@initech.example"]
    assert keys.domains == []  # the addresses' own domains are looked up through the addresses
    assert keys.names == ["initech labs"]


def test_mentions_files_numbers_and_common_words_name_nobody() -> None:
    keys = message_keys("Hi <@U123> <#C1|general> <!here>, see report.pdf from 10.0.0.1. Thanks, The Team")
    assert keys.empty
    assert message_keys("").empty


def test_a_pasted_list_is_capped() -> None:
    text = " ".join(f"user{i}@host{i}.example site{i}.example" for i in range(50))
    keys = message_keys(text)
    assert len(keys.emails) == MAX_KEYS
    assert len(keys.domains) == MAX_KEYS


def test_what_was_looked_for_reads_as_a_sentence() -> None:
    assert message_keys("Quokka Robotics").described() == "“Quokka Robotics”"
    keys = message_keys("a@b.example, c.example, Wonka Industries")
    assert keys.described() == "a@b.example, the domain c.example or “Wonka Industries”"
