"""Revenue answers: `/finance mrr` per currency, App Home's MRR lines, a customer card's MRR, a digest's revenue."""

from __future__ import annotations

import json
from datetime import tzinfo
from fractions import Fraction

from handlers.blocks.common import (
    Block,
    Message,
    actions,
    button,
    clip,
    context,
    day,
    escape,
    escape_fallback,
    fields,
    format_money,
    header,
    line_sections,
    message,
    plural,
    section,
)
from handlers.blocks.limits import BUTTON_VALUE, MESSAGE_BLOCKS
from storage.models import MrrMovement
from storage.revenue import GAINS, LOSSES, MovementRow, Revenue

MRR_SHARE = "mrr_share"
MRR_EXPORT = "mrr_export"
DASH = "–"  # noqa: RUF001  # a figure that divides by zero (an en dash, as finance tools show it)
ORG_SHOWN = 60
PER_CURRENCY = 5  # blocks: figures, movements, rates, largest, divider
# Header, window line, buttons, definitions and a "more currencies" line leave room for this many currencies.
CURRENCIES_SHOWN = (MESSAGE_BLOCKS - 5) // PER_CURRENCY
KIND_LABELS = {"new": "New", "expansion": "Expansion", "reactivation": "Reactivation", "contraction": "Contraction",
               "churn": "Churn"}
DEFINITIONS = ("MRR: monthly recurring revenue of paying customers, per currency (never converted). Net new = new + "
               "expansion + reactivation - contraction - churn. Logo churn = churned / (paying at start + new); "
               "gross MRR churn = (churn + contraction) / MRR at start; net MRR churn also subtracts expansion and "
               "reactivation; NRR = 1 - net MRR churn; quick ratio = gains / losses. A dash: division by zero.")

Tops = dict[tuple[str, str], list[MovementRow]]


def percent(rate: Fraction | None) -> str:
    """A rate as `12.3%`, or a dash when it divides by zero."""
    return DASH if rate is None else f"{float(rate) * 100:.1f}%"


def ratio(value: Fraction | None) -> str:
    """A ratio as `2.50`, or a dash when it divides by zero."""
    return DASH if value is None else f"{float(value):.2f}"


def signed_money(amount: int, currency: str) -> str:
    """`+$12.00`, `-$3.00`, `$0.00`."""
    return ("+" if amount > 0 else "") + format_money(amount, currency)


def mrr_value(window: str) -> str | None:
    """What the Share and Export buttons carry: the window as typed (None when too long for a button)."""
    value = json.dumps({"mrr": window}, separators=(",", ":"))
    return value if len(value) <= BUTTON_VALUE else None


def read_mrr_value(value: object) -> str | None:
    """The window a Share or Export button carries, or None when the value is not one of ours."""
    if not isinstance(value, str) or len(value) > BUTTON_VALUE:
        return None
    try:
        raw = json.loads(value)
    except ValueError:
        return None
    window = raw.get("mrr") if isinstance(raw, dict) else None
    return window if isinstance(window, str) else None


def mrr_message(
    figures: list[Revenue], tops: Tops, *, window: str, span: str, can_export: bool,
    shared_by: str | None = None,
) -> Message:
    """Per currency: MRR, ARR, paying, ARPA, net new with each kind, the rates, the largest expansions and churns."""
    blocks: list[Block | None] = [header(f"MRR · {span}")]
    blocks.append(context(f"Shared by <@{shared_by}>" if shared_by else "Per currency, never converted",
                          "Movements in the window; MRR at its end"))
    if not figures:
        blocks.append(section("No recurring revenue yet: no customer has a stated MRR in this window."))
    for f in figures[:CURRENCIES_SHOWN]:
        blocks += _currency(f, tops)
    if len(figures) > CURRENCIES_SHOWN:
        more = figures[CURRENCIES_SHOWN:]
        blocks.append(context(f"And {plural(len(more), 'more currency', 'more currencies')}: "
                              + ", ".join(f.currency for f in more)))
    value = mrr_value(window)
    if shared_by is None and value is not None:
        blocks.append(actions(button("Share in channel", MRR_SHARE, value=value),
                              button("Export CSV", MRR_EXPORT, value=value) if can_export else None))
    blocks.append(context(DEFINITIONS))
    summary = "; ".join(f"{f.currency} {format_money(f.mrr, f.currency)} (net new "
                        f"{signed_money(f.net_new, f.currency)})" for f in figures)
    return message(escape_fallback(f"MRR · {span}: {summary or 'no recurring revenue yet'}"), blocks)


def _currency(f: Revenue, tops: Tops) -> list[Block | None]:
    """One currency's four sections and a divider."""
    def money(amount: int) -> str:
        return format_money(amount, f.currency)

    kinds = [f"*{KIND_LABELS[k]}*\n{'+' if k in GAINS else '-'}{money(f.moved(k))} · {f.counted(k):,}"
             for k in (*GAINS, *LOSSES)]
    return [
        fields(f"*MRR*\n{money(f.mrr)}", f"*ARR*\n{money(f.arr)}", f"*Paying customers*\n{f.paying:,}",
               f"*ARPA*\n{DASH if f.arpa is None else money(f.arpa)}",
               f"*Net new MRR*\n{signed_money(f.net_new, f.currency)}", f"*MRR at start*\n{money(f.mrr_start)}",
               text=f"*{escape(clip(f.currency, 10))}*"),
        fields(*kinds),
        fields(f"*Logo churn*\n{percent(f.logo_churn_rate)}", f"*Gross MRR churn*\n{percent(f.gross_mrr_churn_rate)}",
               f"*Net MRR churn*\n{percent(f.net_mrr_churn_rate)}", f"*NRR*\n{percent(f.nrr)}",
               f"*Quick ratio*\n{ratio(f.quick_ratio)}"),
        fields(_top("Largest expansions", tops.get((f.currency, "expansion"), [])),
               _top("Largest churns", tops.get((f.currency, "churn"), []))),
        {"type": "divider"},
    ]


def _top(title: str, rows: list[MovementRow]) -> str:
    """A numbered list of organizations and the MRR each moved (no email: shared copies are seen by a channel)."""
    lines = [f"{i}. {escape(clip(r.organization, ORG_SHOWN))} "
             f"{signed_money(r.movement.delta, r.movement.currency)}" for i, r in enumerate(rows, 1)]
    return f"*{title}*\n" + ("\n".join(lines) if lines else "none")


def home_revenue_blocks(figures: list[Revenue], *, limit: int = 10) -> list[Block]:
    """App Home (finance users): per currency, MRR and paying customers now and the last 30 days' movements."""
    blocks: list[Block] = [header("Revenue · last 30 days")]
    if not figures:
        return [*blocks, section("No recurring revenue yet.")]
    lines = []
    for f in figures[:limit]:
        moved = " · ".join(f"{KIND_LABELS[k].lower()} {'+' if k in GAINS else '-'}"
                           f"{format_money(f.moved(k), f.currency)}" for k in (*GAINS, *LOSSES) if f.counted(k))
        lines.append(f"*{escape(f.currency)}* MRR {format_money(f.mrr, f.currency)} · "
                     f"{plural(f.paying, 'paying customer')} · net new {signed_money(f.net_new, f.currency)}"
                     + (f"\n{moved}" if moved else ""))
    if len(figures) > limit:
        lines.append(f"and {plural(len(figures) - limit, 'more currency', 'more currencies')}; "
                     "`/finance mrr` shows them all")
    return blocks + line_sections(lines) + [context("`/finance mrr 90d` for rates and the largest movements.")]


def customer_revenue_lines(*, mrr: int, currency: str | None, movements: list[MrrMovement], tz: tzinfo) -> list[str]:
    """A customer card's MRR and its last movements (finance users)."""
    if currency is None and not movements:
        return ["*MRR* not known"]
    lines = [f"*MRR* {format_money(mrr, currency or '')}" + (f" (ARR {format_money(12 * mrr, currency or '')})"
                                                             if mrr else "")]
    for m in movements:
        lines.append(f"{day(m.at, tz)} · {m.kind} {signed_money(m.delta, m.currency)} → "
                     f"{format_money(m.new_mrr, m.currency)}")
    return lines


def digest_revenue_lines(figures: list[Revenue]) -> list[str]:
    """A digest's revenue lines: net new MRR and the MRR lost to churn, per currency."""
    return [f"*{escape(f.currency)}* net new MRR {signed_money(f.net_new, f.currency)} · lost to churn "
            f"{format_money(f.moved('churn'), f.currency)} ({plural(f.counted('churn'), 'customer')})"
            for f in figures if f.movements]


DIGEST_CURRENCIES = 20  # currencies a digest lists before pointing to /finance mrr (one section stays short)


def with_digest_revenue(msg: Message, figures: list[Revenue]) -> Message:
    """A digest (revenue:show) with the day's net new MRR and churned MRR per currency, above its buttons."""
    lines = digest_revenue_lines(figures)
    shown = lines[:DIGEST_CURRENCIES] or ["no MRR movements"]
    if len(lines) > DIGEST_CURRENCIES:
        shown.append(f"and {plural(len(lines) - DIGEST_CURRENCIES, 'more currency', 'more currencies')}; "
                     "`/finance mrr 1d` shows them all")
    added = line_sections(shown, title="*Revenue, last 24 hours*")
    blocks = list(msg["blocks"])
    at = len(blocks) - 1 if blocks and blocks[-1].get("type") == "actions" else len(blocks)
    return {**msg, "blocks": [*blocks[:at], *added, *blocks[at:]]}
